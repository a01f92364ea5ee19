"""Errors named by who answered: on the gateway route the statuses Lava's gateway owns (401, 402, its 400 for a target
it does not forward) are the gateway's whatever the body's shape; a refusal that speaks of permission is about what
this user may do, never a bad key or bad input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import respx

from lava_crm_mcp.crm import (
    CrmAuthError,
    CrmClient,
    CrmError,
    CrmForbidden,
    CrmInvalid,
    CrmPaymentRequired,
    RetryPolicy,
)

pytestmark = pytest.mark.anyio

ONCE = RetryPolicy(max_attempts=1)
SHAPES: list[dict[str, Any]] = [
    {"json": {"error": "Insufficient balance"}},
    {"json": {"message": "Insufficient balance"}},
    {"json": {"detail": "Insufficient balance"}},
    {"text": "Insufficient balance"},
    {"html": "<html><body><h1>402 Payment Required</h1><p>Insufficient balance</p></body></html>"},
]


@pytest.mark.parametrize("body", SHAPES, ids=["error", "message", "detail", "text", "html"])
async def test_the_gateways_402_in_any_body_says_top_up_and_not_to_retry(
    make_client: Callable[..., CrmClient], crm_api: respx.MockRouter, route: str, body: dict[str, Any]
) -> None:
    routed = crm_api.route().respond(402, **body)

    with pytest.raises(CrmError) as caught:
        await make_client().records("contacts").create({"first_name": "Ada", "last_name": "King"})

    message = str(caught.value)
    assert routed.call_count == 1  # never sent again: every retry would fail the same way
    if route == "direct":  # the CRM itself never charges: a 402 there is only what it says
        assert type(caught.value) is CrmError
        assert message.startswith("The CRM answered HTTP 402")
        return
    assert isinstance(caught.value, CrmPaymentRequired)
    assert "Lava balance is insufficient" in message
    assert "Insufficient balance" in message
    assert "Nothing was sent to the CRM or changed. Top up the Lava balance first; do not retry" in message


@pytest.mark.parametrize(
    "body",
    [
        {"json": {"error": "Provider URL not supported"}},
        {"json": {"message": "provider url not supported"}},
        {"text": "Provider URL not supported"},
    ],
)
async def test_the_gateways_400_for_a_target_it_does_not_forward_is_a_setup_error(
    gateway: CrmClient, crm_api: respx.MockRouter, body: dict[str, Any]
) -> None:
    crm_api.route().respond(400, **body)

    with pytest.raises(CrmError) as caught:
        await gateway.records("contacts").list()

    assert type(caught.value) is CrmError
    assert str(caught.value).startswith("Lava's gateway would not forward the contacts list")
    assert "Check LAVA_CRM_BASE_URL" in str(caught.value)
    assert "Fix these" not in str(caught.value)


async def test_a_crm_400_on_the_gateway_route_is_still_the_crms(gateway: CrmClient, crm_api: respx.MockRouter) -> None:
    crm_api.route().respond(400, json={"first_name": ["This field may not be blank."]})

    with pytest.raises(CrmInvalid, match="Fix these and call again"):
        await gateway.records("contacts").create({"first_name": "Ada", "last_name": "King"})


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (403, {"json": {"detail": "Only admins can change deal pipelines."}}),
        (403, {"json": {"detail": "You do not have permission to perform this action."}}),
        (200, {"json": {"error": True, "errors": "You do not have Permission to delete this deal"}}),
        (400, {"json": {"error": True, "errors": "Only an admin can do that"}}),
        (403, {"text": "<html><body>Administrator privileges required</body></html>"}),
    ],
)
async def test_a_refusal_that_speaks_of_permission_says_this_user_may_not(
    make_client: Callable[..., CrmClient], crm_api: respx.MockRouter, status: int, body: dict[str, Any]
) -> None:
    crm_api.route().respond(status, **body)

    with pytest.raises(CrmForbidden) as caught:
        await make_client(ONCE).pipelines.create("Renewals")

    message = str(caught.value)
    assert "because this user may not do it" in message
    assert "ask an admin of the CRM org" in message
    assert "LAVA_SECRET_KEY" not in message
    assert "Fix these" not in message
    assert not isinstance(caught.value, CrmAuthError | CrmInvalid)


async def test_a_403_that_does_not_speak_of_permission_is_still_about_the_credential(
    direct: CrmClient, crm_api: respx.MockRouter
) -> None:
    crm_api.route().respond(403, json={"detail": "Authentication credentials were not provided."})

    with pytest.raises(CrmAuthError, match="refused the credential"):
        await direct.records("contacts").list()
