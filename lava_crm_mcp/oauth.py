"""`LAVA_MCP_AUTH=oauth`: an OAuth 2.1 resource server. Access tokens are issued by the deployer's authorization
server (Keycloak, Auth0, Okta, Entra, ...) and checked here; this server never issues one. oauth_server.py reads that
server; oauth_edge.py answers clients.

- A JWT is checked by PyJWT: its signature against the JWKS key its `kid` names, with the algorithm its header names
  if that is on the allow-list (never `none`, never HMAC) and fits the key, then `iss`, `aud` (this server's resource
  URL, RFC 8707) and `exp`/`nbf` with the configured clock skew.
- A token that is not a JWT goes to token introspection (RFC 7662) when a client id and secret are configured, and
  is refused otherwise.
- Results are cached by a hash of the token (never the token): a good one until it expires (an introspected one
  for `INTROSPECTED_SECONDS` at most, so a revocation shows), a refused one for `REFETCH_SECONDS`. Concurrent checks
  of one token make one check.
- Whatever fails while a token is checked (a key of another type, a malformed header, a library error) refuses it
  with one log line; an authorization server that cannot be asked makes the check `Unavailable` instead.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any, cast

import anyio
import httpx
import jwt
from cachetools import TLRUCache
from mcp.server.auth.provider import AccessToken

from lava_crm_mcp.oauth_server import (
    REFETCH_SECONDS,
    AuthServer,
    AuthServerState,
    Claims,
    OAuthConfig,
    Refused,
    Unavailable,
    discovery_urls,
    shown,
)

__all__ = ["OAuthConfig", "Refused", "TokenCheck", "Unavailable", "discovery_urls"]

logger = logging.getLogger("lava_crm_mcp.oauth")
# How long an introspected token is trusted before it is asked about again: until its `exp`, but a revocation must
# show within minutes (and one without `exp` is asked about again sooner).
INTROSPECTED_SECONDS = 300.0
NO_EXPIRY_SECONDS = 60.0
CACHED_TOKENS = 4096


class TokenCheck:
    """The SDK's `TokenVerifier` (`verify_token`: an `AccessToken` for a good token, None for any other), and
    `check`, which tells a refused token (`Refused`) from one that could not be checked (`Unavailable`)."""

    def __init__(self, config: OAuthConfig, http: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self.server = AuthServer(config, http)
        self._good: TLRUCache[bytes, tuple[Claims, float]] = TLRUCache(CACHED_TOKENS, lambda _k, v, now: now + v[1])
        self._refused: TLRUCache[bytes, str] = TLRUCache(CACHED_TOKENS, lambda _k, _v, now: now + REFETCH_SECONDS)
        self._checking: dict[bytes, anyio.Lock] = {}

    @property
    def state(self) -> AuthServerState:
        """Whether the authorization server answered when last asked (for /readyz)."""
        return self.server.outage.state

    async def probe(self) -> None:
        await self.server.probe()

    async def aclose(self) -> None:
        await self.server.http.aclose()

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            return await self.check(token)
        except (Refused, Unavailable):
            return None

    async def check(self, token: str) -> AccessToken:
        """The token's `AccessToken`, or `Refused` (logged, one line) or `Unavailable`."""
        digest = hashlib.sha256(token.encode()).digest()
        good = self._good.get(digest)
        if good is None:
            async with self._one_check_at_a_time(digest):
                good = self._good.get(digest) or await self._checked(token, digest)
        return _access_token(token, good[0], self.config.resource, self.config.skew)

    async def _checked(self, token: str, digest: bytes) -> tuple[Claims, float]:
        reason = self._refused.get(digest)  # refused a moment ago: refused again, without asking anyone
        if reason is None:
            try:
                good = await self._claims(token)
            except Unavailable:
                raise
            except (Refused, jwt.PyJWTError) as exc:
                reason = str(exc)
            except Exception as exc:  # a library failure on a hostile token must be a refusal, never a 500
                reason = f"it could not be checked ({type(exc).__name__})"
            else:
                self._good[digest] = good
                return good
            self._refused[digest] = reason
        logger.info("Refused a bearer token: %s", reason)
        raise Refused(reason)

    @asynccontextmanager
    async def _one_check_at_a_time(self, digest: bytes) -> AsyncGenerator[None]:
        """Concurrent checks of one token wait for the first, then read its result from the cache."""
        lock = self._checking.setdefault(digest, anyio.Lock())
        try:
            async with lock:
                yield
        finally:
            if not lock.locked() and not lock.statistics().tasks_waiting:
                self._checking.pop(digest, None)

    def _trusted_for(self, claims: Claims, most: float) -> float:
        """Seconds from now a good token stays good (`exp` plus the skew), `most` at most."""
        expires = claims.get("exp")
        if not isinstance(expires, int | float):
            return min(NO_EXPIRY_SECONDS, most)
        return min(float(expires) + self.config.skew - time.time(), most)

    async def _claims(self, token: str) -> tuple[Claims, float]:
        """The token's claims, and for how many seconds they may be trusted without a new check."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError:
            claims = await self.server.introspect(token)
            return claims, self._trusted_for(claims, INTROSPECTED_SECONDS)
        algorithm = header.get("alg")
        if algorithm not in self.config.algorithms:
            raise Refused(f"the algorithm {shown(algorithm)} is not accepted")
        jwk = await self.server.key(header.get("kid"))
        if jwk.get("alg") not in (None, algorithm):
            raise Refused(f"the token's algorithm {shown(algorithm)} is not its key's ({shown(jwk.get('alg'))})")
        claims = jwt.decode(
            token,
            jwt.PyJWK(jwk, algorithm=algorithm),  # InvalidKeyError for a key of another type (an RSA key for ES256)
            algorithms=[algorithm],
            audience=self.config.resource,
            issuer=self.config.issuer,
            leeway=self.config.skew,
            options={"require": ["exp", "iss", "aud"]},
        )
        return claims, self._trusted_for(claims, math.inf)


def _scopes(claims: Claims) -> list[str]:
    scope = claims.get("scope")
    if isinstance(scope, str):
        return scope.split()
    listed = claims.get("scp")
    return [str(item) for item in cast(list[Any], listed)] if isinstance(listed, list) else []


def _access_token(token: str, claims: Claims, resource: str, skew: float) -> AccessToken:
    client = claims.get("client_id") or claims.get("azp") or claims.get("cid") or ""
    expires = claims.get("exp")
    return AccessToken(
        token=token,
        client_id=str(client),
        scopes=_scopes(claims),
        # The SDK refuses a token once `expires_at` has passed: the skew applies there too, as it does to `exp`.
        expires_at=int(expires + skew) if isinstance(expires, int | float) else None,
        resource=resource,  # the audience was checked against it
        subject=str(claims["sub"]) if claims.get("sub") is not None else None,
        claims={"iss": claims.get("iss")},
    )
