"""Write names verified by read-back: a field sent but missing from the CRM's answer is sent once more under the
family's other name for it, the name that works is remembered for the credential, and what neither name stores is
named on the record (`record.dropped`)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr

from lava_crm_mcp.crm import CrmClient, Upstream
from lava_crm_mcp.sandbox import SANDBOX_TOKEN, create_app

pytestmark = pytest.mark.anyio

ADA = {"first_name": "Ada", "last_name": "Lovelace", "primary_email": "ada@example.com", "mobile_number": "+44 1"}


class Recording(httpx.AsyncBaseTransport):
    """A sandbox app behind a transport that keeps every request (method, path, JSON body)."""

    def __init__(self, app: Any) -> None:
        self.inner, self.sent = httpx.ASGITransport(app=app), list[tuple[str, str, Any]]()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.sent.append((request.method, request.url.path, body))
        return await self.inner.handle_async_request(request)

    def writes(self) -> list[tuple[str, Any]]:
        return [(method, body) for method, _, body in self.sent if method != "GET"]


@pytest.fixture
async def lax() -> AsyncIterator[tuple[CrmClient, Recording]]:
    app = create_app(dialect="django-crm", lax=True, seed="demo")
    wire = Recording(app)
    async with CrmClient(Upstream("http://sandbox.test", SecretStr(SANDBOX_TOKEN)), transport=wire) as crm:
        yield crm, wire
    app.state.sandbox.close()


async def test_a_contact_whose_email_and_phone_the_crm_ignored_is_completed_under_their_other_names(
    lax: tuple[CrmClient, Recording],
) -> None:
    crm, wire = lax

    first = (await crm.records("contacts").create(ADA)).record
    second = (await crm.records("contacts").create({**ADA, "primary_email": "grace@example.com"})).record

    assert first is not None
    assert second is not None
    assert (first.primary_email, first.mobile_number, first.dropped) == ("ada@example.com", "+44 1", [])
    assert (second.primary_email, second.mobile_number, second.dropped) == ("grace@example.com", "+44 1", [])
    (post, patch, again) = wire.writes()
    assert post[1]["primary_email"] == "ada@example.com"
    assert patch == ("PATCH", {"email": "ada@example.com", "phone": "+44 1"})
    assert again[1] == {"first_name": "Ada", "last_name": "Lovelace", "email": "grace@example.com", "phone": "+44 1"}


async def test_an_update_the_crm_ignored_is_sent_again_under_the_other_name(lax: tuple[CrmClient, Recording]) -> None:
    crm, wire = lax
    contact = (await crm.search("contacts", limit=1)).items[0]

    updated = await crm.records("contacts").update(contact.id, {"mobile_number": "+1 555 0100"})

    assert (updated.mobile_number, updated.dropped) == ("+1 555 0100", [])
    assert wire.writes() == [("PATCH", {"mobile_number": "+1 555 0100"}), ("PATCH", {"phone": "+1 555 0100"})]


async def test_an_invoice_is_created_under_the_newer_names_and_its_amount_kept(
    lax: tuple[CrmClient, Recording],
) -> None:
    crm, wire = lax
    contact = next(row for row in (await crm.search("contacts", limit=50)).items if row.account)
    body = {"invoice_title": "Q3 support", "account": contact.account, "contact": contact.id, "amount": "1200.00"}

    made = (await crm.records("invoices").create(body)).record
    again = (await crm.records("invoices").create({**body, "invoice_title": "Q4 support"})).record

    assert made is not None
    assert again is not None
    assert (made.account, made.contact, made.amount, made.dropped) == (contact.account, contact.id, "1200.00", [])
    assert again.amount == "1200.00"
    sent = [body for _, body in wire.writes()]
    assert [sorted(body) for body in sent] == [
        ["account", "amount", "contact", "invoice_title"],  # refused: the newer era wants account_id, contact_id
        ["account_id", "amount", "contact_id", "invoice_title"],  # created, without its amount
        ["total_amount"],  # the amount under its newer name
        ["account_id", "contact_id", "invoice_title", "total_amount"],  # remembered: right the first time
    ]


async def test_a_field_neither_name_stores_is_named_on_the_record(direct: CrmClient, crm_api: respx.MockRouter) -> None:
    stored = {"id": "c-1", "first_name": "Ada", "last_name": "Lovelace", "primary_email": "ada@example.com"}
    posted = crm_api.post(url__regex=r"/api/contacts/$").respond(201, json=stored)
    patched = crm_api.patch(url__regex=r"/api/contacts/c-1/$").respond(200, json=stored)

    created = (await direct.records("contacts").create(ADA)).record

    assert created is not None
    assert created.dropped == ["mobile_number"]
    assert json.loads(patched.calls.last.request.content) == {"phone": "+44 1"}
    assert (posted.call_count, patched.call_count) == (1, 1)


async def test_fields_the_crm_stored_cost_no_second_request(direct: CrmClient, crm_api: respx.MockRouter) -> None:
    route = crm_api.post(url__regex=r"/api/contacts/$").respond(201, json={"id": "c-1", **ADA})

    created = (await direct.records("contacts").create(ADA)).record

    assert created is not None
    assert (created.dropped, route.call_count, len(crm_api.calls)) == ([], 1, 1)


async def test_a_field_without_another_name_is_named_without_a_second_request(
    direct: CrmClient, crm_api: respx.MockRouter
) -> None:
    crm_api.post(url__regex=r"/api/accounts/$").respond(201, json={"id": "a-1", "name": "Acme"})

    created = (await direct.records("accounts").create({"name": "Acme", "website": "acme.example"})).record

    assert created is not None
    assert (created.dropped, len(crm_api.calls)) == (["website"], 1)


@pytest.mark.parametrize("cleared", [None, ""])
async def test_a_field_cleared_on_purpose_is_not_reported_as_dropped(
    direct: CrmClient, crm_api: respx.MockRouter, cleared: Any
) -> None:
    crm_api.patch(url__regex=r"/api/contacts/c-1/$").respond(200, json={"id": "c-1", "first_name": "Ada"})

    updated = await direct.records("contacts").update("c-1", {"mobile_number": cleared} if cleared is None else {})

    assert (updated.dropped, len(crm_api.calls)) == ([], 1)


def test_the_other_name_is_the_one_not_sent_last_time() -> None:
    from lava_crm_mcp.crm.writes import WriteNames

    names, aliases = WriteNames({}, "scope"), {"primary_email": "email"}
    before = (names.name("contacts", "primary_email"), names.other("contacts", "primary_email", aliases))
    names.learn("contacts", {"primary_email": "email"})
    after = (names.name("contacts", "primary_email"), names.other("contacts", "primary_email", aliases))

    assert (before, after) == (("primary_email", "email"), ("email", "primary_email"))
    assert names.other("contacts", "title", aliases) is None


Make = Callable[..., CrmClient]
