"""Failures a handler raises; each dialect turns them into a JSON response in one place.

ApiError
 ├── Invalid          400, field errors
 ├── BadRequest       400, one message (body not JSON, non-field rule)
 ├── Unauthorized     401, missing or unknown token
 ├── NotFound         404, unknown id, other org, unknown route, invalid page
 ├── NotAllowed       405
 └── TooLarge         413
"""

from collections.abc import Mapping, Sequence


class ApiError(Exception):
    """Base: an HTTP status and a human-readable detail."""

    status = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class Invalid(ApiError):
    """Validation failed: field -> messages."""

    def __init__(self, errors: Mapping[str, Sequence[str]]) -> None:
        super().__init__("Invalid input.")
        self.errors = {name: list(messages) for name, messages in errors.items()}


class BadRequest(ApiError):
    """A request-level failure with one message."""


class Unauthorized(ApiError):
    """No token, or a token the sandbox does not know."""

    status = 401


class NotFound(ApiError):
    """Nothing here for this org; `noun` names what was looked for."""

    status = 404

    def __init__(self, noun: str | None = None, detail: str = "Not found.") -> None:
        super().__init__(detail)
        self.noun = noun


class NotAllowed(ApiError):
    """The route exists but not with this method."""

    status = 405

    def __init__(self, method: str) -> None:
        super().__init__(f'Method "{method}" not allowed.')


class TooLarge(ApiError):
    """The body is over the 1 MiB limit."""

    status = 413
