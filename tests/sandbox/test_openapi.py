"""The OpenAPI 3.1 document: every drf route, bearer security, and only resolvable schema references."""

from typing import Any, cast

import pytest

from lava_crm_mcp.sandbox.handlers import ROUTES
from lava_crm_mcp.sandbox.openapi import document


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return document()


def _refs(node: Any) -> list[str]:
    own: list[str] = []
    children: list[Any] = []
    if isinstance(node, dict):
        mapping = cast("dict[str, Any]", node)
        children = list(mapping.values())
        own = [mapping["$ref"]] if isinstance(mapping.get("$ref"), str) else []
    elif isinstance(node, list):
        children = cast("list[Any]", node)
    return own + [ref for child in children for ref in _refs(child)]


def test_the_document_is_openapi_3_1_with_bearer_security(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.1.")
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    assert spec["security"] == [{"bearerAuth": []}]
    assert spec["paths"]["/api/openapi.json"]["get"]["security"] == []


def test_every_route_of_the_drf_dialect_is_documented(spec: dict[str, Any]) -> None:
    documented = {(path, method.upper()) for path, item in spec["paths"].items() for method in item}
    assert {(path, method) for path, method, _ in ROUTES} <= documented
    assert len(ROUTES) == 7 * 6 + 7


def test_every_schema_reference_resolves(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    refs = _refs(spec)
    assert refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/")
        assert ref.removeprefix("#/components/schemas/") in schemas


def test_list_routes_document_page_search_and_filters_and_the_board_its_pipeline(spec: dict[str, Any]) -> None:
    names = [p["name"] for p in spec["paths"]["/api/contacts/"]["get"]["parameters"]]
    assert names == ["page", "search", "account", "email"]
    board = spec["paths"]["/api/deal-pipelines/board/"]["get"]["parameters"]
    assert [p["name"] for p in board] == ["pipeline_id"]
    detail = spec["paths"]["/api/contacts/{id}/"]["get"]["parameters"]
    assert detail[0] == {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}


def test_each_list_route_documents_its_filter_table_and_ordering_keys(spec: dict[str, Any]) -> None:
    def params(path: str) -> dict[str, Any]:
        return {p["name"]: p for p in spec["paths"][path]["get"]["parameters"]}

    deals = params("/api/opportunities/")
    assert list(deals) == [
        "page",
        "search",
        "account",
        "contacts",
        "pipeline",
        "pipeline_stage",
        "open",
        "stage_type",
        "amount__gte",
        "amount__lte",
        "currency",
        "closed_on__gte",
        "closed_on__lte",
        "updated_at__lt",
        "ordering",
    ]
    keys = ["amount", "-amount", "closed_on", "-closed_on", "updated_at", "-updated_at", "created_at", "-created_at"]
    assert deals["ordering"]["schema"]["enum"] == keys
    assert deals["open"]["schema"] == {"type": "boolean"}
    assert deals["closed_on__gte"]["schema"] == {"type": "string", "format": "date"}
    assert all(p["in"] == "query" and p["description"] for p in deals.values())
    tasks = params("/api/tasks/")
    assert {"status__in", "lead", "case", "due_date__gte", "due_date__lte"} <= set(tasks)
    assert {"due_date_gte", "due_date_lte", "contact"} <= set(params("/api/invoices/"))
    assert "ordering" not in params("/api/contacts/")


def test_bodies_come_from_the_validation_models(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    post = spec["paths"]["/api/contacts/"]["post"]
    body_ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    contact = schemas[body_ref.rsplit("/", 1)[1]]
    assert contact["required"] == ["first_name", "last_name"]
    patch = spec["paths"]["/api/contacts/{id}/"]["patch"]["requestBody"]["content"]["application/json"]["schema"]
    assert "required" not in schemas[patch["$ref"].rsplit("/", 1)[1]]
    stage = schemas["Opportunity"]["properties"]["stage"]
    assert stage["enum"] == ["PROSPECTING", "QUALIFICATION", "PROPOSAL", "NEGOTIATION", "CLOSED_WON", "CLOSED_LOST"]
    assert set(post["responses"]) >= {"201", "400", "401"}
    assert "204" in spec["paths"]["/api/contacts/{id}/"]["delete"]["responses"]
