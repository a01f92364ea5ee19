"""What can go wrong talking to the CRM, as one small tree of exceptions.

    CrmError                  any failure; `str()` says what happened and what to do next
    ├── CrmAuthError          401/403: the credential is missing, wrong or not allowed
    ├── CrmForbidden          403 (or a refusal) saying this user lacks a permission: the credential itself works
    ├── CrmNotFound           404: no such record in this org (or a page past the end)
    │   ├── UnknownStage      a stage name that is not in the deal's pipeline
    │   └── UnknownPipeline   a pipeline id or name the org does not have
    ├── CrmInvalid            400/422: the CRM (or our own check) rejected the input
    │   └── StageChangeRefused  a `stage` write on a deal; use move_deal instead
    ├── CrmConflict           409: the write conflicts with the record's current state
    ├── CrmRateLimited        429: too many requests; `retry_after` seconds when known
    ├── CrmPaymentRequired    402 from Lava's gateway: the Lava balance is insufficient
    ├── CrmUnavailable        5xx, timeouts, connection failures
    │   └── CrmOutcomeUnknown   a write that may have reached the CRM, with no readable answer: check, never repeat
    └── CrmProtocolError      a response we cannot parse (HTML, empty, wrong shape)

Messages never contain credentials: the adapter builds them from status codes, field
names and short response excerpts only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = [
    "CrmAuthError",
    "CrmConflict",
    "CrmError",
    "CrmForbidden",
    "CrmInvalid",
    "CrmNotFound",
    "CrmOutcomeUnknown",
    "CrmPaymentRequired",
    "CrmProtocolError",
    "CrmRateLimited",
    "CrmUnavailable",
    "StageChangeRefused",
    "UnknownName",
    "UnknownPipeline",
    "UnknownStage",
    "not_taken",
]


class CrmError(Exception):
    """Base class: a CRM call failed; the message is written for the caller to act on."""

    status: int | None = None

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class CrmAuthError(CrmError):
    """The CRM refused the credential (401/403)."""


class CrmForbidden(CrmError):
    """The CRM knows the caller but refuses this action to them (a role or permission): not a credential problem."""


class CrmNotFound(CrmError):
    """The record does not exist in this org (404)."""


class UnknownStage(CrmNotFound):
    """A stage name or id that is not on the deal's pipeline board."""

    def __init__(self, message: str, *, valid: Sequence[str], suggestion: str | None) -> None:
        super().__init__(message)
        self.valid = list(valid)
        self.suggestion = suggestion


class UnknownPipeline(CrmNotFound):
    """A pipeline id or name that is not among the org's pipelines."""

    def __init__(self, message: str, *, valid: Sequence[str]) -> None:
        super().__init__(message)
        self.valid = list(valid)


class UnknownName(CrmNotFound):
    """No record has this id or name; the message names the search that finds it."""


class CrmInvalid(CrmError):
    """The input was rejected (400/422); `fields` maps a field to its messages."""

    def __init__(
        self, message: str, *, fields: Mapping[str, Sequence[str]] | None = None, status: int | None = None
    ) -> None:
        super().__init__(message, status=status)
        self.fields = {name: list(msgs) for name, msgs in (fields or {}).items()}


class StageChangeRefused(CrmInvalid):
    """A deal's stage may only change through the pipeline move endpoint."""


class CrmConflict(CrmError):
    """The write conflicts with the current state of the record (409)."""


class CrmRateLimited(CrmError):
    """The CRM is rate limiting us (429); `retry_after` is in seconds when known."""

    def __init__(self, message: str, *, retry_after: float | None) -> None:
        super().__init__(message, status=429)
        self.retry_after = retry_after


class CrmPaymentRequired(CrmError):
    """Lava's gateway refused the call for lack of balance (402); nothing reached the CRM."""


class CrmUnavailable(CrmError):
    """The CRM could not be reached or failed on its side (5xx, timeout, connection)."""


class CrmOutcomeUnknown(CrmUnavailable):
    """A write that may have been applied, with no answer that says so: check before anything else, never repeat it
    blindly (a repeated create makes a duplicate)."""


class CrmProtocolError(CrmError):
    """The CRM answered with something we cannot read."""


def not_taken(exc: CrmError) -> bool:
    """The CRM could not take the call then (busy, unreachable, out of balance) and surely did not apply it: the same
    call may succeed later. False for a refusal (a resend would be refused again) and for an unknown outcome."""
    return isinstance(exc, CrmRateLimited | CrmPaymentRequired | CrmUnavailable) and not isinstance(
        exc, CrmOutcomeUnknown
    )
