"""Retries never duplicate a write: counted calls per method and failure, and Retry-After honoured."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from lava_crm_mcp.crm import CrmClient, CrmError, CrmOutcomeUnknown, CrmRateLimited, CrmUnavailable, RetryPolicy

OK = httpx.Response(200, json={"id": "c-1", "first_name": "Ada"})
LIST = httpx.Response(200, json={"count": 0, "next": None, "previous": None, "results": []})
NEW = {"first_name": "Ada", "last_name": "King"}

CALLS: dict[str, Callable[[CrmClient], Any]] = {
    "GET": lambda c: c.records("contacts").get("c-1"),
    "PUT": lambda c: c.records("contacts").replace("c-1", NEW),
    "DELETE": lambda c: c.records("contacts").delete("c-1"),
    "POST": lambda c: c.records("contacts").create(NEW),
    "PATCH": lambda c: c.records("contacts").update("c-1", {"title": "CEO"}),
}


@pytest.mark.anyio
@pytest.mark.parametrize("status", [500, 502, 503, 504])
@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE"])
async def test_write_that_hits_a_server_error_is_sent_exactly_once_and_its_outcome_is_unknown(
    client: CrmClient, crm_api: respx.MockRouter, method: str, status: int
) -> None:
    route = crm_api.route().mock(side_effect=[httpx.Response(status), OK])

    with pytest.raises(CrmOutcomeUnknown, match="Whether it was applied is unknown: check before anything else"):
        await CALLS[method](client)

    assert route.call_count == 1


@pytest.mark.anyio
@pytest.mark.parametrize("status", [429, 502, 503, 504])
@pytest.mark.parametrize("method", ["GET", "PUT"])
async def test_repeatable_request_is_retried_after_a_transient_status(
    client: CrmClient, crm_api: respx.MockRouter, method: str, status: int
) -> None:
    route = crm_api.route().mock(side_effect=[httpx.Response(status), httpx.Response(status), OK])

    await CALLS[method](client)

    assert route.call_count == 3
    assert {call.request.method for call in route.calls} == {method}


@pytest.mark.anyio
@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_write_refused_with_429_is_retried(client: CrmClient, crm_api: respx.MockRouter, method: str) -> None:
    route = crm_api.route().mock(side_effect=[httpx.Response(429), OK])

    await CALLS[method](client)

    assert route.call_count == 2


@pytest.mark.anyio
@pytest.mark.parametrize("method", ["GET", "POST", "PATCH", "PUT", "DELETE"])
@pytest.mark.parametrize("failure", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout])
async def test_request_that_never_left_is_retried_for_every_method(
    client: CrmClient, crm_api: respx.MockRouter, method: str, failure: type[httpx.TransportError]
) -> None:
    route = crm_api.route().mock(side_effect=[failure("not sent"), OK])

    await CALLS[method](client)

    assert route.call_count == 2


@pytest.mark.anyio
@pytest.mark.parametrize("failure", [httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError])
@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE"])
async def test_write_whose_answer_was_lost_is_sent_exactly_once(
    client: CrmClient, crm_api: respx.MockRouter, method: str, failure: type[httpx.TransportError]
) -> None:
    route = crm_api.route().mock(side_effect=[failure("lost"), OK])

    with pytest.raises(CrmOutcomeUnknown, match="Whether it was applied is unknown"):
        await CALLS[method](client)

    assert route.call_count == 1


@pytest.mark.anyio
@pytest.mark.parametrize("failure", [httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError])
async def test_read_whose_answer_was_lost_is_retried(
    client: CrmClient, crm_api: respx.MockRouter, failure: type[httpx.TransportError]
) -> None:
    route = crm_api.route().mock(side_effect=[failure("lost"), OK])

    await client.records("contacts").get("c-1")

    assert route.call_count == 2


@pytest.mark.anyio
@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 500])
async def test_non_transient_status_is_not_retried(client: CrmClient, crm_api: respx.MockRouter, status: int) -> None:
    route = crm_api.route().respond(status, json={"detail": "no"})

    with pytest.raises(CrmError):
        await client.records("contacts").get("c-1")

    assert route.call_count == 1


@pytest.mark.anyio
async def test_a_delete_refused_with_429_is_sent_again_and_a_404_then_means_it_is_gone(
    client: CrmClient, crm_api: respx.MockRouter
) -> None:
    route = crm_api.route().mock(side_effect=[httpx.Response(429), httpx.Response(404, json={"detail": "Not found."})])

    await client.records("contacts").delete("c-1")

    assert route.call_count == 2


@pytest.mark.anyio
async def test_a_first_delete_answered_404_is_not_found(client: CrmClient, crm_api: respx.MockRouter) -> None:
    crm_api.route().respond(404, json={"detail": "Not found."})

    with pytest.raises(CrmError, match="was not found"):
        await client.records("contacts").delete("c-1")


@pytest.mark.anyio
async def test_retries_stop_after_max_attempts(
    make_client: Callable[..., CrmClient], crm_api: respx.MockRouter
) -> None:
    route = crm_api.route().respond(503)

    with pytest.raises(CrmUnavailable, match="HTTP 503"):
        await make_client(RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.001)).records("contacts").list()

    assert route.call_count == 3


@pytest.mark.anyio
async def test_retry_after_beyond_the_deadline_fails_at_once_with_the_wait(
    make_client: Callable[..., CrmClient], crm_api: respx.MockRouter
) -> None:
    route = crm_api.route().respond(429, headers={"Retry-After": "60"})

    with pytest.raises(CrmRateLimited, match="retry in 60 s") as caught:
        await make_client(RetryPolicy(deadline=20.0)).records("contacts").list()

    assert route.call_count == 1
    assert caught.value.retry_after == 60.0


@pytest.mark.anyio
async def test_get_rate_limited_with_retry_after_one_second_succeeds_after_waiting(
    make_client: Callable[..., CrmClient], crm_api: respx.MockRouter
) -> None:
    route = crm_api.route().mock(side_effect=[httpx.Response(429, headers={"Retry-After": "1"}), LIST])
    client = make_client(RetryPolicy())

    started = time.monotonic()
    page = await client.records("contacts").list()
    waited = time.monotonic() - started

    assert page.items == []
    assert route.call_count == 2
    assert waited >= 0.9


def test_policy_waits_retry_after_when_given_else_bounded_backoff() -> None:
    policy = RetryPolicy(deadline=20.0, max_attempts=4, base_delay=0.25, max_delay=4.0)

    assert policy.delay(1, 3.0, elapsed=0.0) == 3.0
    assert all(0 <= (policy.delay(attempt, None, 0.0) or 0) <= 4.0 for attempt in (1, 2, 3) for _ in range(50))
    assert all((policy.delay(1, None, 0.0) or 0) <= 0.25 for _ in range(50))


def test_policy_stops_at_max_attempts_and_at_the_deadline() -> None:
    policy = RetryPolicy(deadline=20.0, max_attempts=4)

    assert policy.delay(4, 0.0, elapsed=0.0) is None
    assert policy.delay(1, 5.0, elapsed=15.5) is None
    assert policy.delay(1, 5.0, elapsed=14.0) == 5.0


@pytest.mark.parametrize(
    ("method", "status", "retried"),
    [
        ("GET", 503, True),
        ("PUT", 502, True),
        ("DELETE", 504, False),
        ("DELETE", 429, True),
        ("GET", 500, False),
        ("POST", 503, False),
        ("PATCH", 502, False),
        ("POST", 429, True),
        ("PATCH", 429, True),
    ],
)
def test_policy_retries_statuses_only_where_no_write_can_repeat(method: str, status: int, retried: bool) -> None:
    assert RetryPolicy().may_retry_status(method, status) is retried
