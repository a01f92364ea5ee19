"""Every failure maps to one error class with a message that says what to do next."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
import respx

from lava_crm_mcp.crm import (
    CrmAuthError,
    CrmClient,
    CrmConflict,
    CrmError,
    CrmInvalid,
    CrmNotFound,
    CrmOutcomeUnknown,
    CrmProtocolError,
    CrmRateLimited,
    CrmUnavailable,
    RetryPolicy,
    StageChangeRefused,
    UnknownStage,
)

ONCE = RetryPolicy(max_attempts=1)


@pytest.mark.parametrize(
    ("status", "error", "advice"),
    [
        (400, CrmInvalid, "Fix these and call again"),
        (401, CrmAuthError, "Check the configured Lava key or CRM token; retrying will not help"),
        (403, CrmAuthError, "Check the configured Lava key or CRM token; retrying will not help"),
        (404, CrmNotFound, "Check the id; list or search to find valid ids"),
        (409, CrmConflict, "Re-read it, then retry"),
        (422, CrmInvalid, "Fix these and call again"),
        (429, CrmRateLimited, "wait a little before retrying"),
        (500, CrmUnavailable, "try again shortly"),
        (502, CrmUnavailable, "try again shortly"),
        (503, CrmUnavailable, "try again shortly"),
        (504, CrmUnavailable, "try again shortly"),
    ],
)
@pytest.mark.anyio
async def test_status_maps_to_its_error_class_with_advice(
    route: str,
    make_client: Callable[..., CrmClient],
    crm_api: respx.MockRouter,
    status: int,
    error: type[CrmError],
    advice: str,
) -> None:
    crm_api.route().respond(status, json={"detail": "Upstream says no."})

    with pytest.raises(error) as caught:
        await make_client(ONCE).records("contacts").get("c-1")

    if route == "gateway" and status == 401:  # a status the gateway owns, whatever its body: the Lava key
        advice = "Check LAVA_SECRET_KEY (Lava connects the CRM for that key); retrying will not help"
    assert type(caught.value) is error
    assert caught.value.status == status
    assert advice in str(caught.value)
    assert str(caught.value) == caught.value.message
    if status != 429:
        assert "Upstream says no." in str(caught.value)
        assert f"HTTP {status}" in str(caught.value) or status in (400, 422)


@pytest.mark.parametrize("status", [405, 418, 451])
@pytest.mark.anyio
async def test_other_statuses_are_plain_crm_errors_naming_the_status(
    make_client: Callable[..., CrmClient], crm_api: respx.MockRouter, status: int
) -> None:
    crm_api.route().respond(status, json={"detail": "Nope."})

    with pytest.raises(CrmError) as caught:
        await make_client(ONCE).records("contacts").create({"first_name": "Ada", "last_name": "King"})

    assert type(caught.value) is CrmError
    assert caught.value.status == status
    assert f"HTTP {status}" in str(caught.value)
    assert "Nope." in str(caught.value)


@pytest.mark.anyio
async def test_rate_limit_carries_retry_after_seconds(
    make_client: Callable[..., CrmClient], crm_api: respx.MockRouter
) -> None:
    crm_api.route().respond(429, headers={"Retry-After": "7"})

    with pytest.raises(CrmRateLimited, match="retry in 7 s") as caught:
        await make_client(ONCE).records("contacts").list()

    assert caught.value.retry_after == 7.0


@pytest.mark.anyio
async def test_rate_limit_with_an_http_date_retry_after_has_no_seconds(
    make_client: Callable[..., CrmClient], crm_api: respx.MockRouter
) -> None:
    crm_api.route().respond(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})

    with pytest.raises(CrmRateLimited, match="wait a little") as caught:
        await make_client(ONCE).records("contacts").list()

    assert caught.value.retry_after is None


@pytest.mark.anyio
async def test_server_error_on_a_write_warns_it_may_have_been_applied(
    client: CrmClient, crm_api: respx.MockRouter
) -> None:
    crm_api.route().respond(500, json={"detail": "boom"})

    with pytest.raises(CrmOutcomeUnknown, match="Whether it was applied is unknown: check before anything else"):
        await client.records("contacts").create({"first_name": "Ada", "last_name": "King"})


@pytest.mark.anyio
async def test_server_error_on_a_read_does_not_mention_writes(
    make_client: Callable[..., CrmClient], crm_api: respx.MockRouter
) -> None:
    crm_api.route().respond(500, json={"detail": "boom"})

    with pytest.raises(CrmUnavailable) as caught:
        await make_client(ONCE).records("contacts").list()

    assert "applied" not in str(caught.value)


@pytest.mark.anyio
async def test_connection_failure_says_nothing_was_sent_and_names_the_route(
    make_client: Callable[..., CrmClient], crm_api: respx.MockRouter, route: str
) -> None:
    crm_api.route().mock(side_effect=httpx.ConnectError("connection refused"))

    with pytest.raises(CrmUnavailable) as caught:
        await make_client(ONCE).records("contacts").create({"first_name": "Ada", "last_name": "King"})

    message = str(caught.value)
    assert f"({route} route)" in message
    assert "ConnectError" in message
    assert "Nothing was sent" in message
    assert caught.value.status is None


@pytest.mark.anyio
async def test_read_timeout_on_a_write_says_it_may_have_been_applied(
    client: CrmClient, crm_api: respx.MockRouter
) -> None:
    crm_api.route().mock(side_effect=httpx.ReadTimeout("timed out"))

    with pytest.raises(CrmOutcomeUnknown, match=r"ReadTimeout\. Whether it was applied is unknown"):
        await client.records("opportunities").update("o-1", {"amount": "10"})


@pytest.mark.anyio
async def test_read_timeout_on_a_read_says_try_again(
    make_client: Callable[..., CrmClient], crm_api: respx.MockRouter
) -> None:
    crm_api.route().mock(side_effect=httpx.ReadTimeout("timed out"))

    with pytest.raises(CrmUnavailable, match=r"ReadTimeout\. Nothing was changed; try again shortly") as caught:
        await make_client(ONCE).records("contacts").get("c-1")

    assert "applied" not in str(caught.value)


@pytest.mark.anyio
async def test_error_answer_inside_a_200_is_a_rejection(client: CrmClient, crm_api: respx.MockRouter) -> None:
    crm_api.route().respond(200, json={"error": True, "errors": "Stage is locked."})

    with pytest.raises(CrmInvalid, match=r"Stage is locked\."):
        await client.pipelines.delete_stage("s-1")


@pytest.mark.anyio
async def test_protocol_error_has_its_own_class(client: CrmClient, crm_api: respx.MockRouter) -> None:
    crm_api.route().respond(200, text="OK")

    with pytest.raises(CrmProtocolError, match="non-JSON body"):
        await client.records("contacts").get("c-1")


def test_error_tree_lets_callers_catch_broadly() -> None:
    assert issubclass(UnknownStage, CrmNotFound)
    assert issubclass(StageChangeRefused, CrmInvalid)
    for error in (CrmAuthError, CrmNotFound, CrmInvalid, CrmConflict, CrmRateLimited, CrmUnavailable, CrmProtocolError):
        assert issubclass(error, CrmError)


@pytest.mark.anyio
async def test_a_too_large_body_is_invalid_input_with_advice(
    make_client: Callable[..., CrmClient], crm_api: respx.MockRouter
) -> None:
    crm_api.route().respond(413, json={"detail": "Request body too large."})

    with pytest.raises(CrmInvalid) as caught:
        await make_client(ONCE).records("contacts").create({"first_name": "Ada", "last_name": "King"})

    assert caught.value.status == 413
    assert "Send less" in str(caught.value)
