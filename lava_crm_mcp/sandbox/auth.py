"""Bearer tokens -> org keys: a fixed table, or open mode where every token is its own org."""

import hashlib
from collections.abc import Mapping

from .errors import Unauthorized

SANDBOX_TOKEN = "sandbox"  # noqa: S105
DEFAULT_ORG = "demo"


class Tokens:
    """Resolves an Authorization header to an org key; raw tokens are never stored."""

    def __init__(self, tokens: Mapping[str, str] | None = None, *, open_mode: bool = False) -> None:
        self.open_mode = open_mode
        table = {SANDBOX_TOKEN: DEFAULT_ORG} if tokens is None and not open_mode else dict(tokens or {})
        self._orgs = {_digest(token): org for token, org in table.items()}

    @property
    def orgs(self) -> list[str]:
        return sorted(set(self._orgs.values()))

    def org(self, authorization: str | None) -> str:
        if not authorization:
            raise Unauthorized("Authentication credentials were not provided.")
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("Invalid token header. No credentials provided.")
        digest = _digest(token)
        if digest in self._orgs:
            return self._orgs[digest]
        if self.open_mode:
            return f"open-{digest[:32]}"
        raise Unauthorized("Invalid token.")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
