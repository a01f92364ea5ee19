"""One attempt at a CRM request, bounded in time and size, and what its answer means.

An attempt sends the request, follows redirects of a read that stay on the same host, and reads the body up to a
cap, all within one time limit (httpx's own timeouts are per read, so a server that drips a byte a second would
otherwise hold a call for minutes). Its result is the decoded body, or a `Failure` that says whether the request may
be sent again. A write whose answer cannot be read, or never came, may still have been applied: it is reported as
`CrmOutcomeUnknown`, never as something to try again.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, cast

import anyio
import httpx

from lava_crm_mcp.crm.envelopes import decode, excerpt
from lava_crm_mcp.crm.errors import CrmError, CrmInvalid, CrmOutcomeUnknown, CrmProtocolError, CrmUnavailable
from lava_crm_mcp.crm.failures import UNSURE, error_for
from lava_crm_mcp.crm.observer import RequestEvent, Watch
from lava_crm_mcp.crm.retry import NEVER_SENT, RetryPolicy, parse_retry_after
from lava_crm_mcp.crm.text import clean_body, clean_text
from lava_crm_mcp.crm.upstream import Upstream

__all__ = ["DEFAULT_MAX_BYTES", "Exchange", "Failure"]

logger = logging.getLogger("lava_crm_mcp.crm")
DEFAULT_MAX_BYTES = 8 * 1024 * 1024
MAX_REDIRECTS = 3
MIN_REDACTED = 16  # shorter credentials (a demo token such as "sandbox") are not keys: blanking them garbles text


@dataclass(frozen=True)
class Failure:
    """A failed attempt: the error to raise if it is the last, and whether sending it again is safe."""

    error: CrmError
    retry_after: float | None
    retriable: bool


@dataclass(frozen=True)
class _Answer:
    response: httpx.Response
    text: str
    complete: bool


class Exchange:
    """Sends attempts for one client: its connection pool, route and credential, retry rules and size cap."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        upstream: Upstream,
        retry: RetryPolicy,
        max_bytes: int,
        watch: Watch | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http, self.upstream, self._retry, self.max_bytes = http, upstream, retry, max_bytes
        self.watch = watch if watch is not None else Watch()  # the client's own, though empty yet
        self._transport = transport

    async def attempt(self, method: str, url: str, json: Any, what: str, seconds: float) -> Any:
        """The decoded body of one attempt, or a Failure."""
        started = time.time()
        try:
            with anyio.fail_after(seconds):
                answer = await self._send(method, url, json)
        except TimeoutError:
            self._seen(method, started, error="timeout")
            return self._timed_out(method, what, seconds)
        except httpx.TransportError as exc:
            self._seen(method, started, error=type(exc).__name__)
            return Failure(self._transport_error(exc, what, method), None, self._retry.may_retry_error(method, exc))
        except httpx.InvalidURL:
            return Failure(self._too_long(url, what), None, retriable=False)
        self._seen(method, started, status=answer.response.status_code)
        logger.debug("%s %s -> %d", method, what, answer.response.status_code)
        if answer.response.is_success:
            return self._success(answer, method, what)
        return self._refusal(answer, method, what)

    def _seen(self, method: str, started: float, *, status: int | None = None, error: str | None = None) -> None:
        if self.watch:
            seconds = time.time() - started
            self.watch.emit(RequestEvent("attempt", method, self.upstream.route, status, error, started, seconds))

    async def _send(self, method: str, url: str, json: Any) -> _Answer:
        headers = {"Authorization": self.upstream.authorization()}
        answer = await self._read(self._http.build_request(method, url, json=json, headers=headers))
        for _ in range(MAX_REDIRECTS):
            target = _same_host_target(answer.response) if method == "GET" else None
            if target is None:
                break
            answer = await self._read(self._http.build_request(method, target, headers=headers))
        return answer

    async def _read(self, request: httpx.Request) -> _Answer:
        """The response and its body as text, read up to the cap (`complete` says whether it all fitted).

        The request goes straight to the client's transport when it is known: redirects are followed here (above),
        the credential is a header and the CRM sets no cookies, so the client's send() would only add per-request
        work (its cookie jar, its redirect and auth machinery: about 0.15 ms of CPU per read)."""
        if self._transport is not None:
            response = await self._transport.handle_async_request(request)
            response.request = request
        else:
            response = await self._http.send(request, stream=True)
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in response.aiter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size > self.max_bytes:
                    break
        finally:
            await response.aclose()
        raw = b"".join(chunks)[: self.max_bytes]
        text = self._redacted(raw.decode(response.encoding or "utf-8", errors="replace"))
        return _Answer(response, text, size <= self.max_bytes)

    def _redacted(self, text: str) -> str:
        """A body with our own credential blanked out, in case the server echoes it back."""
        secret = self.upstream.credential.get_secret_value()
        return text.replace(secret, "**********") if len(secret) >= MIN_REDACTED else text

    def _success(self, answer: _Answer, method: str, what: str) -> Any:
        status, write = answer.response.status_code, method != "GET"
        if not answer.complete:
            error = self._unreadable_write(status, what, "(too large)") if write else self._too_large(what)
            return Failure(error, None, retriable=False)
        try:
            body = clean_body(answer.text, decode(answer.text, status))
        except CrmProtocolError as exc:
            return Failure(self._unreadable_write(status, what, answer.text) if write else exc, None, retriable=False)
        if isinstance(body, dict) and cast(dict[str, Any], body).get("error") is True:  # django-crm: a refusal
            return Failure(error_for(400, body, what=what, write=write), None, retriable=False)
        return cast(Any, body)

    def _refusal(self, answer: _Answer, method: str, what: str) -> Failure:
        response = answer.response
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        error = error_for(
            response.status_code,
            _lenient(answer.text, response.status_code),
            what=what,
            write=method != "GET",
            retry_after=retry_after,
            gateway=self.upstream.gateway_url is not None,
            location=response.headers.get("location") if response.is_redirect else None,
        )
        return Failure(error, retry_after, self._retry.may_retry_status(method, response.status_code))

    def _timed_out(self, method: str, what: str, seconds: float) -> Failure:
        said = f"The CRM ({self.upstream.route} route) did not finish answering {what} within {seconds:.1f} s."
        if method != "GET":
            return Failure(CrmOutcomeUnknown(f"{said} {UNSURE}"), None, retriable=False)
        return Failure(CrmUnavailable(f"{said} Nothing was changed; try again shortly."), None, retriable=True)

    def _transport_error(self, exc: httpx.TransportError, what: str, method: str) -> CrmError:
        route, name = self.upstream.route, type(exc).__name__
        if isinstance(exc, NEVER_SENT):
            return CrmUnavailable(
                f"Could not reach the CRM ({route} route) for {what}: {name}. Nothing was sent; try again shortly."
            )
        said = f"The CRM ({route} route) did not answer properly for {what}: {name}."
        if method != "GET":
            return CrmOutcomeUnknown(f"{said} {UNSURE}")
        return CrmUnavailable(f"{said} Nothing was changed; try again shortly.")

    def _unreadable_write(self, status: int, what: str, text: str) -> CrmOutcomeUnknown:
        return CrmOutcomeUnknown(
            f"The CRM accepted {what} (HTTP {status}) but its answer could not be read ({excerpt(text, 80)!r}), "
            "so it was most likely applied. Check before anything else, and do not repeat it.",
            status=status,
        )

    def _too_large(self, what: str) -> CrmProtocolError:
        return CrmProtocolError(
            f"The CRM's answer to {what} is larger than {self.max_bytes:,} bytes, so it was not read. Ask for less "
            "(a filter, a smaller limit), or raise LAVA_CRM_MAX_RESPONSE_BYTES."
        )

    def _too_long(self, url: str, what: str) -> CrmInvalid:
        return CrmInvalid(
            f"The request for {what} is too long to send ({len(url):,} characters of URL). Nothing was sent: shorten "
            "the query or the filters."
        )


def _same_host_target(response: httpx.Response) -> httpx.URL | None:
    """Where a redirect points, when it may be followed: the same host, never from https to http."""
    if not response.is_redirect:
        return None
    target = response.url.join(response.headers.get("location", ""))
    if target.host != response.url.host or (response.url.scheme, target.scheme) == ("https", "http"):
        return None  # another host (or a downgrade): never send our credential there; reported as a setup error
    return target


def _lenient(text: str, status: int) -> Any:
    """An error body as JSON when it is JSON, else its text (HTML pages, plain text, nothing); made safe either way."""
    try:
        return clean_body(text, decode(text, status))
    except CrmError:
        return clean_text(text)
