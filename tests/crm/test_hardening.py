"""The adapter under a hostile or broken upstream: one deadline over every byte and retry, a cap on answer size,
honest outcomes for writes whose answer is lost or unreadable, no URL too long to send, redaction that never garbles
text. Servers here are httpx transports; `tests/faults/` repeats the worst of it over real sockets."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import httpx
import pytest
import respx
from pydantic import SecretStr

from lava_crm_mcp.crm import (
    CrmClient,
    CrmInvalid,
    CrmNotFound,
    CrmOutcomeUnknown,
    CrmProtocolError,
    CrmUnavailable,
    RetryPolicy,
    Upstream,
)
from lava_crm_mcp.crm.deadline import call_deadline

pytestmark = pytest.mark.anyio

BASE = "https://crm.example"
BOUND = 10  # seconds: a test that hangs past this fails instead of hanging CI
NEW = {"first_name": "Ada", "last_name": "King"}


class Drip(httpx.AsyncByteStream):
    """A body that arrives one byte every `every` seconds, for as long as anyone reads."""

    def __init__(self, every: float) -> None:
        self.every = every

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'{"id": "c-1", "first_name": "'
        while True:
            await anyio.sleep(self.every)
            yield b"a"


def serving(handler: Callable[[httpx.Request], httpx.Response], **options: Any) -> CrmClient:
    transport = httpx.MockTransport(handler)
    options.setdefault("retry", RetryPolicy(deadline=1.5, max_attempts=3, base_delay=0.01, max_delay=0.02))
    return CrmClient(Upstream(BASE, SecretStr("sk_live_0123456789abcdef")), transport=transport, **options)


def counted(answer: Callable[[], httpx.Response]) -> tuple[Callable[[httpx.Request], httpx.Response], list[str]]:
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.method)
        return answer()

    return handler, sent


async def test_a_slow_drip_read_is_cut_at_the_deadline_and_says_nothing_changed() -> None:
    handler, sent = counted(lambda: httpx.Response(200, stream=Drip(0.05)))

    async with serving(handler, timeout=0.5) as crm:
        with anyio.fail_after(BOUND), pytest.raises(CrmUnavailable) as caught:
            await crm.records("contacts").get("c-1")

    said = re.search(r"did not finish answering contact 'c-1' within ([\d.]+) s", str(caught.value))
    assert said is not None, caught.value
    assert 0 < float(said[1]) <= 0.5  # the attempt's time: its timeout, or less when the deadline left less
    assert "Nothing was changed" in str(caught.value)
    assert 1 < len(sent) <= 3  # a read is tried again while the deadline allows


async def test_a_slow_drip_write_is_sent_once_and_its_outcome_is_unknown() -> None:
    handler, sent = counted(lambda: httpx.Response(201, stream=Drip(0.05)))

    async with serving(handler, timeout=0.5) as crm:
        with anyio.fail_after(BOUND), pytest.raises(CrmOutcomeUnknown) as caught:
            await crm.records("contacts").create(NEW)

    assert sent == ["POST"]
    assert "Whether it was applied is unknown" in str(caught.value)
    assert "try again" not in str(caught.value)


async def test_the_call_deadline_bounds_every_request_of_a_call() -> None:
    handler, sent = counted(lambda: httpx.Response(200, stream=Drip(0.05)))

    async with serving(handler, timeout=5.0, retry=RetryPolicy(deadline=30.0)) as crm:
        with anyio.fail_after(BOUND), call_deadline(0.4), pytest.raises(CrmUnavailable):
            await crm.records("contacts").get("c-1")

    assert len(sent) == 1


async def test_no_request_starts_once_the_call_deadline_has_passed() -> None:
    handler, sent = counted(lambda: httpx.Response(200, json={"id": "c-1"}))

    async with serving(handler) as crm:
        with call_deadline(0.0), pytest.raises(CrmUnavailable, match="No time was left"):
            await crm.records("contacts").get("c-1")

    assert sent == []


@pytest.mark.parametrize(
    "body",
    ["<html><body>Please log in</body></html>", '{"id": "c-1", "first_na', "not json at all"],
    ids=["html", "truncated-json", "text"],
)
async def test_a_write_accepted_with_an_unreadable_answer_is_reported_as_most_likely_applied(body: str) -> None:
    handler, sent = counted(lambda: httpx.Response(201, text=body))

    async with serving(handler) as crm:
        with pytest.raises(CrmOutcomeUnknown) as caught:
            await crm.records("contacts").create(NEW)

    assert sent == ["POST"]
    assert "accepted the new contact (HTTP 201)" in str(caught.value)
    assert "most likely applied" in str(caught.value)
    assert "try again" not in str(caught.value)


async def test_a_read_with_an_unreadable_answer_is_a_protocol_error() -> None:
    handler, _ = counted(lambda: httpx.Response(200, text="<html>Login</html>"))

    async with serving(handler) as crm:
        with pytest.raises(CrmProtocolError, match="non-JSON body"):
            await crm.records("contacts").get("c-1")


async def test_an_answer_over_the_size_cap_is_not_read() -> None:
    huge = {"id": "c-1", "description": "x" * 300_000}
    handler, _ = counted(lambda: httpx.Response(200, json=huge))

    async with serving(handler, max_bytes=100_000) as crm:
        with pytest.raises(CrmProtocolError) as caught:
            await crm.records("contacts").get("c-1")

    assert "larger than 100,000 bytes" in str(caught.value)
    assert "LAVA_CRM_MAX_RESPONSE_BYTES" in str(caught.value)


async def test_a_write_answered_over_the_size_cap_is_most_likely_applied() -> None:
    handler, sent = counted(lambda: httpx.Response(201, json={"id": "c-1", "description": "x" * 300_000}))

    async with serving(handler, max_bytes=100_000) as crm:
        with pytest.raises(CrmOutcomeUnknown, match="most likely applied"):
            await crm.records("contacts").create(NEW)

    assert sent == ["POST"]


async def test_a_url_too_long_to_send_is_refused_before_anything_is_sent() -> None:
    handler, sent = counted(lambda: httpx.Response(200, json={"count": 0, "results": []}))

    async with serving(handler) as crm:
        with pytest.raises(CrmInvalid, match="too long to send"):
            await crm.search("contacts", text="word " * 20_000)

    assert sent == []


async def test_a_short_credential_never_rewrites_ordinary_text(crm_api: respx.MockRouter) -> None:
    crm_api.route().respond(404, json={"detail": "Not found."})
    crm = CrmClient(Upstream(BASE, SecretStr("t")), transport=httpx.MockTransport(crm_api.async_handler))

    async with crm:
        with pytest.raises(CrmNotFound) as caught:
            await crm.records("contacts").get("c-1")

    assert "Not found." in str(caught.value)


async def test_a_key_length_credential_echoed_back_is_blanked_in_errors_and_data() -> None:
    secret = "sk_live_0123456789abcdef"
    refusal = httpx.Response(400, json={"detail": f"bad key {secret}"})
    answers = iter([refusal, httpx.Response(200, json={"id": "c-1", "description": f"note {secret}"})])
    handler, _ = counted(lambda: next(answers))

    async with serving(handler) as crm:
        with pytest.raises(CrmInvalid) as caught:
            await crm.records("contacts").create(NEW)
        record = await crm.records("contacts").get("c-1")

    assert secret not in str(caught.value)
    assert record.model_dump()["description"] == "note **********"
