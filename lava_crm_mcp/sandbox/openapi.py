"""The OpenAPI 3.1 document of the drf dialect, generated from the route table and the pydantic models."""

import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from .filters import Param, Sort
from .handlers import ROUTES
from .resources import BY_NAME, RESOURCES, Resource
from .shapes import Board, Detail, FieldErrors, MoveBody, NameBody, Page, Pipeline, Stage

REF = "#/components/schemas/{model}"
Schema = dict[str, Any]
Body = Literal["full", "patch"]


@dataclass(frozen=True)
class Operation:
    """What the document says about one route: summary, body, success status and model, query parameters."""

    summary: str
    status: int
    response: type[BaseModel] | None
    body: type[BaseModel] | None = None
    patch: bool = False
    query: tuple[Schema, ...] = ()
    """Query parameter objects."""


def _query(name: str, schema: Schema, description: str) -> Schema:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


PAGE = _query("page", {"type": "integer", "minimum": 1, "default": 1}, "1-based page number, 20 results a page.")
PIPELINE_ID = _query("pipeline_id", {"type": "string", "format": "uuid"}, "Omit for the default pipeline.")


def _filter(param: Param) -> Schema:
    return _query(param.name, param.value.schema, param.doc)


def _ordering(sorts: tuple[Sort, ...]) -> tuple[Schema, ...]:
    keys = [key for sort in sorts for key in (sort.name, f"-{sort.name}")]
    doc = "Sort by this key (`-key`: descending), records without it last, ties newest first."
    return (_query("ordering", {"type": "string", "enum": keys}, doc),) if keys else ()


def list_query(res: Resource) -> tuple[Schema, ...]:
    """The list route's query parameters, from the resource's filter table (all combine with AND)."""
    return (PAGE, *map(_filter, res.params), *_ordering(res.sorts))


PIPELINE_OPS = {
    ("/api/deal-pipelines/", "GET"): Operation("List deal pipelines", 200, Page[Pipeline], query=(PAGE,)),
    ("/api/deal-pipelines/", "POST"): Operation(
        "Create a pipeline (four open stages, Won, Lost)", 201, Pipeline, NameBody
    ),
    ("/api/deal-pipelines/board/", "GET"): Operation(
        "Board: each stage with its deals", 200, Board, query=(PIPELINE_ID,)
    ),
    ("/api/deal-pipelines/{pipeline_id}/stages/", "POST"): Operation(
        "Add an open stage before Won/Lost", 201, Stage, NameBody
    ),
    ("/api/deal-pipelines/stages/{stage_id}/", "PUT"): Operation("Rename a stage", 200, Stage, NameBody),
    ("/api/deal-pipelines/stages/{stage_id}/", "DELETE"): Operation("Delete an empty open stage", 204, None),
    ("/api/deal-pipelines/deals/{deal_id}/move/", "PATCH"): Operation(
        "Move a deal to a stage", 200, BY_NAME["opportunities"].record, MoveBody
    ),
}


def _resource_op(res: Resource, detail: bool, method: str) -> Operation:
    noun = res.noun.lower()
    return {
        (False, "GET"): Operation(
            f"List {res.name}, filtered, newest first", 200, Page[res.record], query=list_query(res)
        ),
        (False, "POST"): Operation(f"Create a {noun}", 201, res.record, res.model),
        (True, "GET"): Operation(f"Get a {noun}", 200, res.record),
        (True, "PATCH"): Operation(f"Update some fields of a {noun}", 200, res.record, res.model, patch=True),
        (True, "PUT"): Operation(f"Replace a {noun} (required fields required)", 200, res.record, res.model),
        (True, "DELETE"): Operation(f"Delete a {noun}", 204, None),
    }[(detail, method)]


def operation(path: str, method: str) -> Operation:
    parts = path.strip("/").split("/")
    if parts[1] in BY_NAME:
        return _resource_op(BY_NAME[parts[1]], len(parts) == 3, method)
    return PIPELINE_OPS[(path, method)]


def _models() -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [(Detail, "serialization"), (FieldErrors, "serialization")]
    for path, method, _handler in ROUTES:
        op = operation(path, method)
        if op.body:
            models.append((op.body, "validation"))
        if op.response:
            models.append((op.response, "serialization"))
    return list(dict.fromkeys(models))


def _json(content: Schema) -> Schema:
    return {"content": {"application/json": {"schema": content}}}


def _responses(op: Operation, refs: dict[tuple[type[BaseModel], JsonSchemaMode], Schema]) -> Schema:
    success = _json(refs[(op.response, "serialization")]) if op.response else {}
    detail, fields = refs[(Detail, "serialization")], refs[(FieldErrors, "serialization")]
    return {
        str(op.status): {"description": "Success", **success},
        "400": {"description": "Validation failed", **_json({"anyOf": [fields, detail]})},
        "401": {"description": "Missing or unknown bearer token", **_json(detail)},
        "404": {"description": "Not found (or another org's id)", **_json(detail)},
    }


def _patch_ref(ref: Schema, schemas: dict[str, Schema]) -> Schema:
    name = ref["$ref"].rsplit("/", 1)[1]
    schemas[f"{name}Patch"] = {key: value for key, value in schemas[name].items() if key != "required"}
    return {"$ref": REF.format(model=f"{name}Patch")}


def _operation(path: str, method: str, refs: Any, schemas: dict[str, Schema]) -> Schema:
    op = operation(path, method)
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{(\w+)}", path)
    ]
    params += op.query
    spec: Schema = {"summary": op.summary, "parameters": params, "responses": _responses(op, refs)}
    if op.body:
        body = refs[(op.body, "validation")]
        spec["requestBody"] = {"required": True, **_json(_patch_ref(body, schemas) if op.patch else body)}
    return spec


def document() -> Schema:
    """The whole document; every schema comes from the models the sandbox validates and answers with."""
    refs, defs = models_json_schema(_models(), ref_template=REF)
    schemas: dict[str, Schema] = defs.get("$defs", {})
    paths: dict[str, Schema] = {}
    for path, method, _handler in ROUTES:
        paths.setdefault(path, {})[method.lower()] = _operation(path, method, refs, schemas)
    paths["/api/openapi.json"] = {
        "get": {
            "summary": "This document",
            "security": [],
            "responses": {"200": {"description": "OpenAPI 3.1 document", **_json({"type": "object"})}},
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Lava CRM sandbox API (drf dialect)",
            "version": "1.0.0",
            "description": f"{len(RESOURCES)} CRM resources and deal pipelines, scoped to the token's org.",
        },
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearerAuth": []}],
    }
