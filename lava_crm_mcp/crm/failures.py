"""What a failed answer says, as one error of the tree in `errors.py`, with a message that says what to do next.

Who answered decides what the failure means. On the gateway route the statuses Lava's gateway owns (401: the Lava
key; 402: the Lava balance; its 400 for a target URL it does not forward) are reported as the gateway's, whatever the
body's shape (`{"error": …}`, `{"message": …}`, `{"detail": …}`, plain text or HTML); anything else is the CRM's,
passed through. A 403, or a refusal, whose words speak of permission or admins is about what this user may do, not
about the credential or the input.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, cast

from lava_crm_mcp.crm.envelopes import excerpt
from lava_crm_mcp.crm.errors import (
    CrmAuthError,
    CrmConflict,
    CrmError,
    CrmForbidden,
    CrmInvalid,
    CrmNotFound,
    CrmOutcomeUnknown,
    CrmPaymentRequired,
    CrmRateLimited,
    CrmUnavailable,
)

__all__ = ["UNSURE", "error_for"]

UNSURE = "Whether it was applied is unknown: check before anything else, and do not repeat it blindly."

_NOT_FIELDS = frozenset({"detail", "error", "errors", "message", "status", "code", "non_field_errors"})
_PERMISSION = re.compile(
    r"permission|privilege|not allowed to|only (?:an? )?(?:admin|owner|manager)|admins? only|administrator|"
    r"not authori[sz]ed to",
    re.IGNORECASE,
)
_NOT_FORWARDED = re.compile(
    r"provider (?:url|host)|(?:provider|url|host|target)\b.*\bnot (?:supported|allowed)|unsupported (?:provider|url)",
    re.IGNORECASE,
)


def _messages(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(item) for item in cast(list[Any], value)]
    return [str(value)]


def _flatten(errors: Mapping[str, Any], prefix: str = "") -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for key, value in errors.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            fields |= _flatten(cast(dict[str, Any], value), f"{name}.")
        else:
            fields[name] = _messages(value)
    return fields


def _said(value: Any) -> str | None:
    """`error` / `detail` as a sentence: a string, or an object's `message` (never a bare `true`)."""
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, dict):
        return _said(cast(dict[str, Any], value).get("message") or cast(dict[str, Any], value).get("detail"))
    return None


def _explain(body: Any) -> tuple[str | None, dict[str, list[str]]]:
    """The error's own words: (a detail sentence, field -> messages)."""
    if not isinstance(body, dict):
        return (excerpt(body) or None) if isinstance(body, str) else None, {}
    data = cast(dict[str, Any], body)
    errors = data.get("errors")
    if isinstance(errors, dict):
        return None, _flatten(cast(dict[str, Any], errors))
    detail = errors if isinstance(errors, str) else _said(data.get("detail")) or _said(data.get("error"))
    detail = detail or _said(data.get("message"))
    if "non_field_errors" in data:
        detail = "; ".join(_messages(data["non_field_errors"]))
    fields = _flatten({key: value for key, value in data.items() if key not in _NOT_FIELDS})
    return (str(detail) if detail else None), fields


def _describe(detail: str | None, fields: Mapping[str, list[str]]) -> str:
    parts = [detail] if detail else []
    parts += [f"{name}: {' '.join(msgs)}" for name, msgs in fields.items()]
    return "; ".join(parts) or "no details given"


def _gateway_shaped(body: Any) -> bool:
    """Lava's gateway's own body: `{"error": …}` (a string or `{message}`), never DRF's shapes."""
    if not isinstance(body, dict):
        return False
    data = cast(dict[str, Any], body)
    return _said(data.get("error")) is not None and not {"detail", "errors"} & set(data)


def _owned_by_gateway(status: int, detail: str | None) -> bool:
    """The statuses Lava's gateway answers itself: 401 and 402 always, 400 when it will not forward the target."""
    return status in (401, 402) or (status == 400 and bool(detail) and bool(_NOT_FORWARDED.search(detail or "")))


def _forbidden(status: int, detail: str | None) -> bool:
    """A refusal (403, or a 400 / `{"error": true}`) whose own sentence speaks of permission, roles or admins."""
    return status in (400, 403) and detail is not None and bool(_PERMISSION.search(detail))


def error_for(
    status: int,
    body: Any,
    *,
    what: str,
    write: bool,
    retry_after: float | None = None,
    gateway: bool = False,
    location: str | None = None,
) -> CrmError:
    """Translate a failed response into the error tree, with a message that says what to do next."""
    detail, fields = _explain(body)
    said = _describe(detail, fields)
    if 300 <= status < 400:
        where = f" to {location}" if location else ""
        return CrmError(
            f"The CRM answered {what} with a redirect (HTTP {status}){where}. lava-crm-mcp follows only same-host "
            "redirects of reads, so this is a setup problem: check LAVA_CRM_BASE_URL and LAVA_GATEWAY_URL (scheme, "
            "host). Nothing was changed.",
            status=status,
        )
    if gateway and _owned_by_gateway(status, detail):
        return _gateway_refusal(status, said, what, _gateway_shaped(body))
    if _forbidden(status, detail):
        return CrmForbidden(
            f"The CRM refused {what} because this user may not do it (HTTP {status}: {said.rstrip('.')}). Nothing was "
            "changed. The credential works; ask an admin of the CRM org to do it or to grant the permission.",
            status=status,
        )
    if status in (401, 403):
        return CrmAuthError(
            f"The CRM refused the credential for {what} (HTTP {status}: {said}). "
            "Check the configured Lava key or CRM token; retrying will not help.",
            status=status,
        )
    if status == 404:
        return CrmNotFound(
            f"{what} was not found in this org (HTTP 404: {said}). Check the id; list or search to find valid ids.",
            status=404,
        )
    if status == 413:
        return CrmInvalid(
            f"The CRM refused {what} as too large (HTTP 413). Send less text, or split the change.", status=413
        )
    if status in (400, 422):
        if not detail and not fields:
            unexplained = f"The CRM rejected {what} (HTTP {status}) without saying why; nothing was changed."
            return CrmInvalid(f"{unexplained} Check the values against the tool's arguments.", status=status)
        rejected = f"The CRM rejected {what}: {said.rstrip('.')}. Fix these and call again."
        return CrmInvalid(rejected, fields=fields, status=status)
    if status == 409:
        return CrmConflict(
            f"{what} conflicts with the current data (HTTP 409: {said}). Re-read it, then retry.", status=409
        )
    if status == 429:
        wait = f"retry in {retry_after:g} s" if retry_after is not None else "wait a little before retrying"
        return CrmRateLimited(f"The CRM is rate limiting requests ({what}); {wait}.", retry_after=retry_after)
    if status >= 500:
        failed = f"The CRM failed on its side for {what} (HTTP {status}: {said})."
        if write:
            return CrmOutcomeUnknown(f"{failed} {UNSURE}", status=status)
        return CrmUnavailable(f"{failed} It is usually temporary; try again shortly.", status=status)
    return CrmError(f"The CRM answered HTTP {status} for {what}: {said}.", status=status)


def _gateway_refusal(status: int, said: str, what: str, own_shape: bool) -> CrmError:
    if status == 402:
        return CrmPaymentRequired(
            f"Lava's gateway refused {what}: the Lava balance is insufficient (HTTP 402: {said}). Nothing was sent to "
            "the CRM or changed. Top up the Lava balance first; do not retry before that, every call fails the same "
            "way until then.",
            status=402,
        )
    if status == 400:
        return CrmError(
            f"Lava's gateway would not forward {what}: it does not support the target URL (HTTP 400: {said}). Nothing "
            "was sent to the CRM. Check LAVA_CRM_BASE_URL: through the gateway it must be the Lava CRM's own address "
            "(https://lava-crm-api.fly.dev); retrying will not help.",
            status=400,
        )
    whose = "Lava's gateway refused the Lava key" if own_shape else "The gateway route refused the credential"
    return CrmAuthError(
        f"{whose} for {what} (HTTP 401: {said}). Check LAVA_SECRET_KEY (Lava connects the CRM for that key); retrying "
        "will not help.",
        status=401,
    )
