"""The OAuth resource server's token check: what it accepts, what it refuses, and how it reads the issuer's keys.

The authorization server is an httpx.MockTransport serving RFC 8414 metadata and a JWKS (counting its fetches);
tokens are signed here with PyJWT and keys from `cryptography`.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from lava_crm_mcp.oauth import OAuthConfig, TokenCheck, discovery_urls

pytestmark = pytest.mark.anyio

ISSUER = "https://auth.example.com"
RESOURCE = "https://crm-mcp.example.com/mcp"
ALGORITHMS = ("RS256", "ES256")


class AuthServer:
    """Metadata, JWKS and introspection of a fake authorization server; counts JWKS fetches."""

    def __init__(self) -> None:
        self.keys: dict[str, rsa.RSAPrivateKey] = {"k1": rsa.generate_private_key(public_exponent=65537, key_size=2048)}
        self.jwks_fetches = 0
        self.metadata: dict[str, Any] = {"issuer": ISSUER, "jwks_uri": f"{ISSUER}/jwks"}
        self.introspection: dict[str, Any] = {"active": False}

    def jwks(self) -> dict[str, Any]:
        found: list[dict[str, Any]] = []
        for kid, key in self.keys.items():
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
            found.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
        return {"keys": found}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/.well-known/oauth-authorization-server":
            return httpx.Response(200, json=self.metadata)
        if path == "/jwks":
            self.jwks_fetches += 1
            return httpx.Response(200, json=self.jwks())
        if path == "/introspect":
            return httpx.Response(200, json=self.introspection)
        return httpx.Response(404)

    def token(self, kid: str = "k1", **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": ISSUER, "aud": RESOURCE, "sub": "user-1", "client_id": "app", "iat": now, "exp": now + 300}
        body |= {"scope": "lava-crm:read lava-crm:write"} | claims
        return jwt.encode({k: v for k, v in body.items() if v is not None}, self.keys[kid], "RS256", {"kid": kid})


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def server() -> AuthServer:
    return AuthServer()


@pytest.fixture
def check(server: AuthServer) -> TokenCheck:
    config = OAuthConfig(ISSUER, RESOURCE, ALGORITHMS, skew=30, client=("rs", "rs-secret"))
    return TokenCheck(config, httpx.AsyncClient(transport=httpx.MockTransport(server)))


async def test_a_good_token_gives_its_scopes_subject_and_client(check: TokenCheck, server: AuthServer) -> None:
    found = await check.verify_token(server.token())
    assert found is not None
    assert found.scopes == ["lava-crm:read", "lava-crm:write"]
    assert (found.subject, found.client_id, found.resource) == ("user-1", "app", RESOURCE)


async def test_scopes_may_come_as_an_scp_list(check: TokenCheck, server: AuthServer) -> None:
    found = await check.verify_token(server.token(scope=None, scp=["lava-crm:read"]))
    assert found is not None
    assert found.scopes == ["lava-crm:read"]


def later(seconds: int) -> int:
    return int(time.time()) + seconds


class Seconds(int):
    """A time claim given as seconds from the moment the test runs (never from when pytest collected it)."""


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": Seconds(-120)},  # expired beyond the 30 s skew
        {"nbf": Seconds(120)},  # not yet valid
        {"iss": "https://evil.example.com"},
        {"aud": "https://other-mcp.example.com/mcp"},
        {"exp": None},  # no expiry at all
        {"aud": None},
    ],
    ids=["expired", "not-yet-valid", "wrong-issuer", "wrong-audience", "no-exp", "no-aud"],
)
async def test_a_token_with_a_bad_claim_is_refused(check: TokenCheck, server: AuthServer, claims: Any) -> None:
    timed = {name: later(value) if isinstance(value, Seconds) else value for name, value in claims.items()}
    assert await check.verify_token(server.token(**timed)) is None


async def test_expiry_within_the_clock_skew_is_accepted(check: TokenCheck, server: AuthServer) -> None:
    assert await check.verify_token(server.token(exp=later(-10))) is not None


async def test_a_bad_signature_is_refused(check: TokenCheck, server: AuthServer) -> None:
    header, body, signature = server.token().split(".")
    tampered = f"{header}.{body}.{signature[::-1]}"
    assert await check.verify_token(tampered) is None
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode({"iss": ISSUER, "aud": RESOURCE, "exp": later(300)}, other, "RS256", {"kid": "k1"})
    assert await check.verify_token(forged) is None


async def test_alg_none_is_refused(check: TokenCheck, server: AuthServer) -> None:
    unsigned = jwt.encode({"iss": ISSUER, "aud": RESOURCE, "exp": later(300)}, None, "none", {"kid": "k1"})
    assert await check.verify_token(unsigned) is None


async def test_hmac_signed_with_the_public_key_is_refused(check: TokenCheck, server: AuthServer) -> None:
    public = (
        server.keys["k1"]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    claims = {"iss": ISSUER, "aud": RESOURCE, "exp": later(300)}
    header = {"alg": "HS256", "kid": "k1", "typ": "JWT"}
    signer = jwt.algorithms.HMACAlgorithm(jwt.algorithms.HMACAlgorithm.SHA256)
    segments = [jwt.utils.base64url_encode(json.dumps(part).encode()) for part in (header, claims)]
    signature = jwt.utils.base64url_encode(signer.sign(b".".join(segments), public))
    assert await check.verify_token(b".".join([*segments, signature]).decode()) is None


async def test_a_rotated_key_is_fetched_once_and_then_known(check: TokenCheck, server: AuthServer) -> None:
    assert await check.verify_token(server.token()) is not None
    assert server.jwks_fetches == 1
    server.keys["k2"] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    check._fetched_at -= 60  # pyright: ignore[reportPrivateUsage]  # the refetch window has passed
    assert await check.verify_token(server.token(kid="k2")) is not None
    assert await check.verify_token(server.token(kid="k2")) is not None
    assert server.jwks_fetches == 2


async def test_a_flood_of_unknown_kids_does_not_hammer_the_jwks_url(check: TokenCheck, server: AuthServer) -> None:
    assert await check.verify_token(server.token()) is not None
    for n in range(200):
        server.keys[f"made-up-{n}"] = server.keys["k1"]
        token = server.token(kid=f"made-up-{n}")
        del server.keys[f"made-up-{n}"]
        assert await check.verify_token(token) is None
    assert server.jwks_fetches == 1  # within the refetch window: no fetch at all


async def test_a_token_without_a_kid_is_refused(check: TokenCheck, server: AuthServer) -> None:
    token = jwt.encode({"iss": ISSUER, "aud": RESOURCE, "exp": later(300)}, server.keys["k1"], "RS256")
    assert await check.verify_token(token) is None


async def test_metadata_naming_another_issuer_is_refused(check: TokenCheck, server: AuthServer) -> None:
    server.metadata["issuer"] = "https://evil.example.com"
    assert await check.verify_token(server.token()) is None


async def test_unreadable_metadata_is_not_asked_for_again_by_every_token(server: AuthServer) -> None:
    asked: list[str] = []

    def down(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        return httpx.Response(503)

    config = OAuthConfig(ISSUER, RESOURCE, ALGORITHMS, skew=30, client=("rs", "rs-secret"))
    check = TokenCheck(config, httpx.AsyncClient(transport=httpx.MockTransport(down)))
    for _ in range(50):
        assert await check.verify_token("opaque-token") is None
    assert len(asked) == 2  # one read of each discovery URL, then nothing for the refetch window


async def test_an_opaque_token_is_introspected(check: TokenCheck, server: AuthServer) -> None:
    server.metadata["introspection_endpoint"] = f"{ISSUER}/introspect"
    assert await check.verify_token("opaque-token-1") is None  # inactive
    server.introspection = {"active": True, "aud": RESOURCE, "scope": "lava-crm:read", "sub": "u", "client_id": "c"}
    found = await check.verify_token("opaque-token-1")
    assert found is not None
    assert found.scopes == ["lava-crm:read"]
    server.introspection["aud"] = "https://other.example.com"
    assert await check.verify_token("opaque-token-1") is None


async def test_an_opaque_token_without_introspection_is_refused(server: AuthServer) -> None:
    config = OAuthConfig(ISSUER, RESOURCE, ALGORITHMS, skew=30)
    check = TokenCheck(config, httpx.AsyncClient(transport=httpx.MockTransport(server)))
    assert await check.verify_token("opaque-token-1") is None


def test_discovery_tries_rfc8414_then_openid_for_issuers_with_paths() -> None:
    assert discovery_urls("https://kc.example.com/realms/sales") == [
        "https://kc.example.com/.well-known/oauth-authorization-server/realms/sales",
        "https://kc.example.com/realms/sales/.well-known/openid-configuration",
    ]
