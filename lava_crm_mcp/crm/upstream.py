"""Where requests go: Lava's gateway (forward URL) or the CRM directly, and with which credential."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import quote, urlencode

from pydantic import SecretStr

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_GATEWAY_URL", "Upstream"]

DEFAULT_BASE_URL = "https://lava-crm-api.fly.dev"
DEFAULT_GATEWAY_URL = "https://api.lava.so/v1/forward"

Params = Mapping[str, str | int | None]


@dataclass(frozen=True)
class Upstream:
    """A CRM base URL, a credential, and (for the gateway route) the forward URL in front of it."""

    base_url: str
    credential: SecretStr
    gateway_url: str | None = None

    @property
    def route(self) -> str:
        return "gateway" if self.gateway_url else "direct"

    def url(self, path: str, params: Params | None = None) -> str:
        """The URL to call for `/api/<path>`; on the gateway the whole target travels in `?u=`."""
        query = urlencode({key: value for key, value in (params or {}).items() if value is not None}, quote_via=quote)
        target = f"{self.base_url.rstrip('/')}/api/{path}" + (f"?{query}" if query else "")
        if self.gateway_url is None:
            return target
        return f"{self.gateway_url}?u={quote(target, safe='')}"

    def authorization(self) -> str:
        return f"Bearer {self.credential.get_secret_value()}"

    def with_credential(self, credential: SecretStr) -> Upstream:
        """The same route with another caller's credential (per-request passthrough)."""
        return replace(self, credential=credential)

    def __repr__(self) -> str:
        return f"Upstream(route={self.route!r}, base_url={self.base_url!r}, credential=SecretStr('**********'))"
