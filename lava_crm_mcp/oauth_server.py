"""The deployer's authorization server as this resource server sees it: its metadata, its signing keys, token
introspection, and whether it answers.

- The metadata comes from the issuer URL (RFC 8414, then OpenID Connect Discovery), read once, by one task under a
  lock; it names the JWKS (unless `LAVA_MCP_OAUTH_JWKS_URL` is set) and the introspection endpoint (RFC 7662).
- An unknown `kid` rereads the JWKS (key rotation), at most once per `REFETCH_SECONDS`: a flood of made-up kids
  never hammers the authorization server.
- A server that cannot be asked (down, 5xx, an unreadable answer) makes a check `Unavailable`, not a refusal: the
  token may well be good. It is then left alone for `REFETCH_SECONDS`.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Literal, cast
from urllib.parse import urlsplit

import anyio
import httpx

from lava_crm_mcp.settings import Settings

__all__ = [
    "REFETCH_SECONDS",
    "AuthServer",
    "AuthServerState",
    "Claims",
    "OAuthConfig",
    "Refused",
    "Unavailable",
    "discovery_urls",
    "shown",
]

logger = logging.getLogger("lava_crm_mcp.oauth")
REFETCH_SECONDS = 10.0
TIMEOUT = httpx.Timeout(5.0)
AuthServerState = Literal["unchecked", "ok", "unavailable"]
Claims = dict[str, Any]


class Refused(Exception):
    """A token that is not good; the reason goes to the log (never the token)."""


class Unavailable(Exception):
    """The authorization server could not be asked about a token; ask again in `retry_after` seconds."""

    def __init__(self, reason: str, retry_after: float) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


@dataclass(frozen=True)
class OAuthConfig:
    issuer: str
    resource: str
    algorithms: tuple[str, ...]
    skew: float
    jwks_url: str | None = None
    introspection_url: str | None = None
    client: tuple[str, str] | None = None  # (id, secret) for introspection

    @classmethod
    def of(cls, settings: Settings) -> OAuthConfig:
        secret = settings.oauth_client_secret
        client = (settings.oauth_client_id, secret.get_secret_value()) if settings.oauth_client_id and secret else None
        return cls(
            issuer=settings.oauth_issuer or "",
            resource=settings.resource_url or "",
            algorithms=settings.oauth_algorithms,
            skew=settings.oauth_clock_skew,
            jwks_url=settings.oauth_jwks_url,
            introspection_url=settings.oauth_introspection_url,
            client=client,
        )


def discovery_urls(issuer: str) -> list[str]:
    """Where an issuer's metadata lives: RFC 8414 (path after the well-known segment), then OpenID Connect."""
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")
    origin = f"{parts.scheme}://{parts.netloc}"
    return [
        f"{origin}/.well-known/oauth-authorization-server{path}",
        f"{issuer.rstrip('/')}/.well-known/openid-configuration",
    ]


class Outage:
    """Whether the authorization server answered when last asked; after a failure it is left alone for a while."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        self.state: AuthServerState = "unchecked"
        self.until = -math.inf
        self.reason = ""

    def hold_off(self) -> None:
        """`Unavailable` while a recent failure's window lasts."""
        left = self.until - time.monotonic()
        if left > 0:
            raise Unavailable(self.reason, left)

    def failed(self, reason: str) -> Unavailable:
        if self.state != "unavailable":
            logger.warning("Authorization server %s: %s; tokens that need it get 503 for now", self.issuer, reason)
        self.state, self.reason, self.until = "unavailable", reason, time.monotonic() + REFETCH_SECONDS
        return Unavailable(reason, REFETCH_SECONDS)

    def answered(self) -> None:
        if self.state == "unavailable":
            logger.warning("Authorization server %s answers again", self.issuer)
        self.state = "ok"


class AuthServer:
    """Metadata, JWKS and introspection of the configured issuer, each read through one `httpx.AsyncClient`."""

    def __init__(self, config: OAuthConfig, http: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self.http = http or httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False)
        self.outage = Outage(config.issuer)
        self._metadata: Claims | None = None
        self._metadata_lock = anyio.Lock()
        self.keys: dict[str, Claims] = {}  # kid -> JWK
        self.fetched_at = -math.inf  # the last JWKS read that succeeded
        self._keys_lock = anyio.Lock()

    async def key(self, kid: object) -> Claims:
        """The JWK named `kid`, reading the JWKS again (rate-limited) when it is not known."""
        if not isinstance(kid, str) or not kid:
            raise Refused("the token names no signing key (kid)")
        if kid not in self.keys:
            async with self._keys_lock:
                if kid not in self.keys and time.monotonic() - self.fetched_at >= REFETCH_SECONDS:
                    await self._fetch_keys()
        found = self.keys.get(kid)
        if found is None:
            raise Refused(f"no key {shown(kid)} in the authorization server's JWKS")
        return found

    async def probe(self) -> None:
        """For /readyz: read the metadata and keys if not yet done, or again after a failure (rate-limited)."""
        try:
            if not (self.config.jwks_url and (self.config.introspection_url or self.config.client is None)):
                await self.metadata()
            if self.outage.state != "ok" or not self.keys:
                async with self._keys_lock:
                    await self._fetch_keys()
        except (Refused, Unavailable):
            pass

    async def _fetch_keys(self) -> None:
        """Read the JWKS (the caller holds `_keys_lock`)."""
        url = self.config.jwks_url or str((await self.metadata()).get("jwks_uri") or "")
        if not url:
            raise Refused("the authorization server's metadata names no jwks_uri")
        self.outage.hold_off()
        try:
            response = await self.http.get(url)
            response.raise_for_status()
            keys = [cast(Claims, key) for key in cast(list[Any], response.json()["keys"]) if isinstance(key, dict)]
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise self.outage.failed(f"its JWKS at {url} could not be read ({_failure(exc)})") from None
        self.keys = {key["kid"]: key for key in keys if isinstance(key.get("kid"), str) and _for_signing(key)}
        self.fetched_at = time.monotonic()
        self.outage.answered()

    async def metadata(self) -> Claims:
        """The metadata, read once by one task; its `issuer` must be the configured one (RFC 8414). After a failed
        read, the checks that need it are `Unavailable` for `REFETCH_SECONDS`."""
        if self._metadata is not None:
            return self._metadata
        async with self._metadata_lock:
            if self._metadata is None:
                self.outage.hold_off()
                self._metadata = await self._read_metadata()
                self.outage.answered()
        return self._metadata

    async def _read_metadata(self) -> Claims:
        issuer = self.config.issuer
        problems: list[str] = []
        for url in discovery_urls(issuer):
            try:
                response = await self.http.get(url)
                response.raise_for_status()
                found: object = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                problems.append(f"{url}: {_failure(exc)}")
                continue
            if not isinstance(found, dict) or cast(Claims, found).get("issuer") != issuer:
                raise self.outage.failed(f"{url} does not name the issuer {issuer!r} (check LAVA_MCP_OAUTH_ISSUER)")
            return cast(Claims, found)
        hint = " (check LAVA_MCP_OAUTH_ISSUER)" if all(problem.endswith("HTTP 404") for problem in problems) else ""
        raise self.outage.failed(f"its metadata could not be read ({'; '.join(problems)}){hint}")

    async def introspect(self, token: str) -> Claims:
        """What introspection says of an active token issued for this resource; `Refused` for any other."""
        config = self.config
        url = config.introspection_url or (str((await self.metadata()).get("introspection_endpoint") or ""))
        if config.client is None or not url:
            raise Refused("not a JWT, and no token introspection is configured")
        self.outage.hold_off()
        try:
            response = await self.http.post(url, data={"token": token}, auth=config.client)
            response.raise_for_status()
            found = cast(Claims, response.json())
            active = found.get("active")
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            raise self.outage.failed(f"token introspection at {url} failed ({_failure(exc)})") from None
        self.outage.answered()
        if active is not True:
            raise Refused("introspection says the token is not active")
        audience: object = found.get("aud")
        audiences = cast(list[object], audience) if isinstance(audience, list) else [audience]
        if config.resource not in audiences:
            raise Refused(f"the token is for {shown(found.get('aud'))}, not {config.resource!r}")
        if found.get("iss", config.issuer) != config.issuer:
            raise Refused(f"the token was issued by {shown(found.get('iss'))}")
        if isinstance(found.get("exp"), int | float) and found["exp"] + config.skew < time.time():
            raise Refused("the token has expired")
        return found


def _for_signing(jwk: Claims) -> bool:
    return jwk.get("use") in (None, "sig")


def shown(value: object) -> str:
    """A value from a token, fit for a log line: its repr, cut short."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _failure(exc: Exception) -> str:
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    return type(exc).__name__
