"""Guards that nothing else keeps right: paging that repeats rows, and caches shared across callers.

- A CRM that ignores `offset` but still advances its `next` link answers the same rows on every page: only the
  id-based repeat check stops the walk (the link moves on, so "the slice does not move" never fires).
- In passthrough mode one client serves many orgs (a view per caller's key, sharing the pool and caches): every
  cache must be keyed by the credential, or one org sees another's pipeline stages, record names or deal seats.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr

from lava_crm_mcp.crm import CrmClient, Upstream
from lava_crm_mcp.sandbox import SANDBOX_TOKEN, create_app

pytestmark = pytest.mark.anyio

BASE = "https://lava-crm-api.fly.dev"
ORG_A = "tok_org_a_0123456789abcdef"
ORG_B = "tok_org_b_0123456789abcdef"


def contact(number: int) -> dict[str, Any]:
    return {"id": f"c-{number}", "first_name": "Ada", "last_name": f"No{number}"}


def same_rows_advancing_link(request: httpx.Request) -> httpx.Response:
    """Every page is the first 20 rows (offset ignored), but `next` points further on each time, up to a count of 45."""
    offset = int(request.url.params.get("offset") or 0)
    following = f"{BASE}/api/contacts/?limit=20&offset={offset + 20}" if offset + 20 < 45 else None
    rows = [contact(number) for number in range(20)]
    return httpx.Response(200, json={"count": 45, "next": following, "previous": None, "results": rows})


async def test_a_crm_that_ignores_offset_but_advances_next_never_makes_a_search_repeat_rows(
    direct: CrmClient, crm_api: respx.MockRouter
) -> None:
    listed = crm_api.get(f"{BASE}/api/contacts/").mock(side_effect=same_rows_advancing_link)

    found = await direct.search("contacts", limit=50)

    ids = [row.id for row in found.items]
    assert len(ids) == len(set(ids)) == 20
    assert found.repeated
    assert found.total is None  # never the CRM's 45, which these 20 rows cannot back
    assert listed.call_count == 2  # the second page repeated the first: reading stopped there


@pytest.fixture
async def two_orgs() -> AsyncIterator[tuple[CrmClient, CrmClient]]:
    """Org A's client, and org B's view of it (as passthrough makes one per caller): one pool, one set of caches."""
    app = create_app(tokens={ORG_A: "org-a", ORG_B: "org-b"}, seed="demo")
    async with CrmClient(Upstream(BASE, SecretStr(ORG_A)), transport=httpx.ASGITransport(app=app)) as org_a:
        yield org_a, org_a.with_credential(SecretStr(ORG_B))
    app.state.sandbox.close()


async def test_one_org_never_sees_another_orgs_stages_from_the_pipeline_catalog_cache(
    two_orgs: tuple[CrmClient, CrmClient],
) -> None:
    org_a, org_b = two_orgs
    default_b = next(pipeline for pipeline in await org_b.pipelines.list() if pipeline.is_default)
    await org_b.pipelines.add_stage(default_b.id, "Org B private stage")

    seen_by_b = {stage.name for pipeline in await org_b.pipelines.catalog() for stage in pipeline.stages}
    seen_by_a = {stage.name for pipeline in await org_a.pipelines.catalog() for stage in pipeline.stages}

    assert "Org B private stage" in seen_by_b
    assert "Org B private stage" not in seen_by_a


async def test_one_org_never_reads_another_orgs_record_names_from_the_name_cache(
    two_orgs: tuple[CrmClient, CrmClient],
) -> None:
    org_a, org_b = two_orgs
    ada = (await org_a.search("contacts", text="Ada Lovelace")).items[0]
    ref = ("contacts", ada.id)

    assert await org_a.names([ref]) == {ref: "Ada Lovelace"}
    assert await org_b.names([ref]) == {ref: None}  # org B has no such record: never org A's cached name


@pytest.fixture
async def two_lax_orgs() -> AsyncIterator[tuple[CrmClient, CrmClient]]:
    """As `two_orgs`, on a lax sandbox: deals say nothing of where they sit, so both orgs place them from boards."""
    app = create_app(tokens={ORG_A: "org-a", ORG_B: "org-b"}, seed="demo", lax=True, dialect="django-crm")
    async with CrmClient(Upstream(BASE, SecretStr(ORG_A)), transport=httpx.ASGITransport(app=app)) as org_a:
        yield org_a, org_a.with_credential(SecretStr(ORG_B))
    app.state.sandbox.close()


async def test_one_org_never_places_its_deals_from_another_orgs_boards(
    two_lax_orgs: tuple[CrmClient, CrmClient],
) -> None:
    org_a, org_b = two_lax_orgs

    deals_a = (await org_a.search("opportunities", limit=50)).items
    deals_b = (await org_b.search("opportunities", limit=50)).items  # within the seats' lifetime of org A's read

    assert len(deals_a) == len(deals_b) == 14
    assert not {deal.id for deal in deals_a} & {deal.id for deal in deals_b}
    assert all(deal.pipeline_stage for deal in [*deals_a, *deals_b])


async def test_one_org_never_writes_under_the_names_another_orgs_crm_needed() -> None:
    """Org A's CRM (lax) stores a contact's email only as `email`; org B's (drf) only as `primary_email`. One pool,
    one set of caches: what A's client learned must not change the names B's writes go out under."""
    lax, drf = create_app(dialect="django-crm", lax=True), create_app(tokens={ORG_B: "org-b"})
    sent_to_b: list[bytes] = []

    class Watched(httpx.ASGITransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            sent_to_b.append(request.content)
            return await super().handle_async_request(request)

    ada = {"first_name": "Ada", "last_name": "Lovelace", "primary_email": "ada@example.com"}
    async with (
        CrmClient(Upstream(BASE, SecretStr(SANDBOX_TOKEN)), transport=httpx.ASGITransport(app=lax)) as org_a,
        CrmClient(Upstream(BASE, SecretStr(ORG_B)), transport=Watched(app=drf), shared=org_a.shared) as org_b,
    ):
        learned = (await org_a.records("contacts").create(ada)).record
        made = (await org_b.records("contacts").create(ada)).record

    assert learned is not None
    assert made is not None
    assert (learned.primary_email, made.primary_email, made.dropped) == ("ada@example.com", "ada@example.com", [])
    assert [b'"primary_email"' in body for body in sent_to_b] == [True]  # one write, under B's own name
    lax.state.sandbox.close()
    drf.state.sandbox.close()
