"""`LAVA_MCP_AUTH=oauth`: an OAuth 2.1 resource server. Access tokens are issued by the deployer's authorization
server (Keycloak, Auth0, Okta, Entra, ...) and checked here; this server never issues one.

- The authorization server's metadata comes from its issuer URL (RFC 8414, then OpenID Connect Discovery); it names
  the JWKS (unless `LAVA_MCP_OAUTH_JWKS_URL` is set) and the introspection endpoint.
- A JWT is checked by PyJWT: its signature against the JWKS key its `kid` names, with a public-key algorithm from
  the allow-list (never `none`, never HMAC), then `iss`, `aud` (this server's resource URL, RFC 8707) and
  `exp`/`nbf` with the configured clock skew.
- An unknown `kid` refetches the JWKS (key rotation), at most once per `REFETCH_SECONDS`: a flood of made-up kids
  never hammers the authorization server.
- A token that is not a JWT goes to token introspection (RFC 7662) when a client id and secret are configured, and
  is refused otherwise.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

import anyio
import httpx
import jwt
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from lava_crm_mcp.settings import Settings

__all__ = ["OAuthConfig", "ResourceMetadata", "TokenCheck", "auth_settings", "discovery_urls"]

logger = logging.getLogger("lava_crm_mcp.oauth")
REFETCH_SECONDS = 10.0
TIMEOUT = httpx.Timeout(5.0)
METADATA_PATH = "/.well-known/oauth-protected-resource"


class Refused(Exception):
    """A token that is not good; the reason goes to the log (never the token)."""


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


class TokenCheck:
    """The SDK's `TokenVerifier`: an `AccessToken` for a good token, None for any other."""

    def __init__(self, config: OAuthConfig, http: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self._http = http or httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False)
        self._metadata: dict[str, Any] | None = None
        self._metadata_failed_at = float("-inf")
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._lock = anyio.Lock()

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            claims = await self._claims(token)
        except (Refused, jwt.PyJWTError) as exc:
            logger.info("Refused a bearer token: %s", exc)
            return None
        except (httpx.HTTPError, ValueError) as exc:
            logger.warning("Could not check a bearer token with %s: %s", self.config.issuer, type(exc).__name__)
            return None
        return _access_token(token, claims, self.config.resource)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _claims(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError:
            return await self._introspect(token)
        key = await self._key(header.get("kid"))
        return jwt.decode(
            token,
            key.key,
            algorithms=list(self.config.algorithms),
            audience=self.config.resource,
            issuer=self.config.issuer,
            leeway=self.config.skew,
            options={"require": ["exp", "iss", "aud"]},
        )

    async def _key(self, kid: object) -> jwt.PyJWK:
        if not isinstance(kid, str) or not kid:
            raise Refused("the token names no signing key (kid)")
        if kid not in self._keys:
            async with self._lock:
                if kid not in self._keys and time.monotonic() - self._fetched_at >= REFETCH_SECONDS:
                    await self._fetch_keys()
        found = self._keys.get(kid)
        if found is None:
            raise Refused(f"no key {kid!r} in the authorization server's JWKS")
        return found

    async def _fetch_keys(self) -> None:
        self._fetched_at = time.monotonic()
        url = self.config.jwks_url or str((await self.metadata()).get("jwks_uri") or "")
        if not url:
            raise Refused("the authorization server's metadata names no jwks_uri")
        response = await self._http.get(url)
        response.raise_for_status()
        keys = jwt.PyJWKSet.from_dict(response.json()).keys
        self._keys = {key.key_id: key for key in keys if key.key_id and key.public_key_use in (None, "sig")}

    async def metadata(self) -> dict[str, Any]:
        """The authorization server's metadata, read once; its `issuer` must be the configured one (RFC 8414). After
        a failed read, tokens that need it are refused for `REFETCH_SECONDS` without asking again."""
        if self._metadata is not None:
            return self._metadata
        if time.monotonic() - self._metadata_failed_at < REFETCH_SECONDS:
            raise Refused("the authorization server's metadata could not be read a moment ago")
        self._metadata_failed_at = time.monotonic()
        for url in discovery_urls(self.config.issuer):
            response = await self._http.get(url)
            if response.status_code == 200:
                found = cast(dict[str, Any], response.json())
                if found.get("issuer") != self.config.issuer:
                    raise Refused(f"{url} names issuer {found.get('issuer')!r}, not {self.config.issuer!r}")
                self._metadata = found
                return found
        raise Refused(f"no authorization server metadata at {' or '.join(discovery_urls(self.config.issuer))}")

    async def _introspect(self, token: str) -> dict[str, Any]:
        config = self.config
        url = config.introspection_url or (str((await self.metadata()).get("introspection_endpoint") or ""))
        if config.client is None or not url:
            raise Refused("not a JWT, and no token introspection is configured")
        response = await self._http.post(url, data={"token": token}, auth=config.client)
        response.raise_for_status()
        found = cast(dict[str, Any], response.json())
        if found.get("active") is not True:
            raise Refused("introspection says the token is not active")
        audience = found.get("aud")
        audiences = cast(list[Any], audience) if isinstance(audience, list) else [audience]
        if config.resource not in audiences:
            raise Refused(f"the token is for {audience!r}, not {config.resource!r}")
        if found.get("iss", config.issuer) != config.issuer:
            raise Refused(f"the token was issued by {found.get('iss')!r}")
        if isinstance(found.get("exp"), int) and found["exp"] + config.skew < time.time():
            raise Refused("the token has expired")
        return found


def _scopes(claims: dict[str, Any]) -> list[str]:
    scope = claims.get("scope")
    if isinstance(scope, str):
        return scope.split()
    listed = claims.get("scp")
    return [str(item) for item in cast(list[Any], listed)] if isinstance(listed, list) else []


def _access_token(token: str, claims: dict[str, Any], resource: str) -> AccessToken:
    client = claims.get("client_id") or claims.get("azp") or claims.get("cid") or ""
    expires = claims.get("exp")
    return AccessToken(
        token=token,
        client_id=str(client),
        scopes=_scopes(claims),
        expires_at=int(expires) if isinstance(expires, int | float) else None,
        resource=resource,  # the audience was checked against it
        subject=str(claims["sub"]) if claims.get("sub") is not None else None,
        claims={"iss": claims.get("iss")},
    )


def auth_settings(settings: Settings) -> AuthSettings:
    """The SDK's resource-server settings: every token must carry the read scope (403 naming it otherwise), and be
    issued for this server's resource URL."""
    return AuthSettings.model_validate(
        {
            "issuer_url": settings.oauth_issuer,
            "resource_server_url": settings.resource_url,
            "required_scopes": [settings.scope_read],
            "validate_token_resource": True,
        }
    )


class ResourceMetadata:
    """RFC 9728 Protected Resource Metadata naming every scope this server knows (the SDK's document lists only the
    required one), at the well-known path of the resource URL and at the bare well-known path."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        resource = settings.resource_url or ""
        self.paths = {METADATA_PATH + urlsplit(resource).path.rstrip("/"), METADATA_PATH}
        document = {
            "resource": resource,
            "authorization_servers": [settings.oauth_issuer],
            "scopes_supported": [settings.scope_read, settings.scope_write, settings.scope_delete],
            "bearer_methods_supported": ["header"],
            "resource_name": "Lava CRM (lava-crm-mcp)",
        }
        self.body = json.dumps(document).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in self.paths and scope["method"] in ("GET", "HEAD"):
            headers = {"Cache-Control": "public, max-age=3600"}
            await Response(self.body, media_type="application/json", headers=headers)(scope, receive, send)
            return
        await self.app(scope, receive, send)
