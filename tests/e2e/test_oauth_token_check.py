"""The OAuth resource server's token check: what it accepts, what it refuses, and how it reads the issuer's keys.

The authorization server is an httpx.MockTransport serving RFC 8414 metadata and a JWKS (counting its fetches);
tokens are signed here with PyJWT and keys from `cryptography`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import anyio
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from lava_crm_mcp import oauth
from lava_crm_mcp.oauth import OAuthConfig, Refused, TokenCheck, Unavailable, discovery_urls

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
    check.server.fetched_at -= 60  # the refetch window has passed
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
    found = await check.verify_token("opaque-token-2")
    assert found is not None
    assert found.scopes == ["lava-crm:read"]
    server.introspection["aud"] = "https://other.example.com"
    assert await check.verify_token("opaque-token-3") is None


async def test_an_opaque_token_without_introspection_is_refused(server: AuthServer) -> None:
    config = OAuthConfig(ISSUER, RESOURCE, ALGORITHMS, skew=30)
    check = TokenCheck(config, httpx.AsyncClient(transport=httpx.MockTransport(server)))
    assert await check.verify_token("opaque-token-1") is None


def test_discovery_tries_rfc8414_then_openid_for_issuers_with_paths() -> None:
    assert discovery_urls("https://kc.example.com/realms/sales") == [
        "https://kc.example.com/.well-known/oauth-authorization-server/realms/sales",
        "https://kc.example.com/realms/sales/.well-known/openid-configuration",
    ]


def es256_token(kid: str = "k1") -> str:
    """A token whose header says ES256 and names the issuer's RSA key: signed with an EC key of its own."""
    key = ec.generate_private_key(ec.SECP256R1())
    claims = {"iss": ISSUER, "aud": RESOURCE, "exp": later(300), "scope": "lava-crm:read"}
    return jwt.encode(claims, key, "ES256", {"kid": kid})


def segments(header: object, claims: object) -> str:
    parts = [jwt.utils.base64url_encode(json.dumps(part).encode()).decode() for part in (header, claims)]
    return ".".join([*parts, "c2lnbmF0dXJl"])


@pytest.mark.parametrize(
    "token",
    [
        lambda: es256_token(),
        lambda: segments({"alg": ["RS256"], "kid": "k1"}, {"iss": ISSUER}),
        lambda: segments({"alg": "RS256", "kid": {"k": 1}}, {"iss": ISSUER}),
        lambda: segments({"alg": "RS256", "kid": "k1"}, ["not", "an", "object"]),
        lambda: segments({"alg": "none", "kid": "k1"}, {"iss": ISSUER}),
        lambda: segments({"alg": "RS256", "kid": "k1", "crit": ["b64"]}, {"iss": ISSUER}),
        lambda: "e30." + "x" * 5000,
    ],
    ids=["es256-with-the-rsa-key", "alg-a-list", "kid-an-object", "claims-a-list", "alg-none", "crit", "junk-body"],
)
async def test_a_malformed_or_mismatched_token_is_refused_with_one_log_line(
    check: TokenCheck, server: AuthServer, caplog: pytest.LogCaptureFixture, token: Callable[[], str]
) -> None:
    assert await check.verify_token(server.token()) is not None  # the keys are known
    sent = token()
    caplog.clear()
    with caplog.at_level("DEBUG", logger="lava_crm_mcp"), pytest.raises(Refused):
        await check.check(sent)
    lines = [record for record in caplog.records if record.name.startswith("lava_crm_mcp")]
    assert [(record.levelname, record.getMessage().startswith("Refused a bearer token: ")) for record in lines] == [
        ("INFO", True)
    ]
    assert not any(record.exc_info for record in caplog.records)
    assert sent not in caplog.text


async def test_a_library_failure_on_a_key_is_a_refusal_not_a_crash(
    check: TokenCheck, server: AuthServer, caplog: pytest.LogCaptureFixture
) -> None:
    broken = server.jwks()
    broken["keys"][0]["n"] = "%%%"  # not base64url: the key cannot be built
    server.jwks = lambda: broken  # type: ignore[method-assign]
    with caplog.at_level("INFO", logger="lava_crm_mcp.oauth"):
        assert await check.verify_token(server.token()) is None
    assert "Refused a bearer token" in caplog.text


async def test_the_skew_applies_to_exp_where_the_sdk_reads_it(server: AuthServer) -> None:
    config = OAuthConfig(ISSUER, RESOURCE, ALGORITHMS, skew=60)
    check = TokenCheck(config, httpx.AsyncClient(transport=httpx.MockTransport(server)))
    found = await check.verify_token(server.token(exp=later(-30)))
    assert found is not None
    assert found.expires_at is not None
    assert found.expires_at >= time.time()  # the SDK's middleware refuses a token whose expires_at has passed
    assert await check.verify_token(server.token(exp=later(-90))) is None


class Introspection:
    """An authorization server whose introspection endpoint answers after `delay` seconds; counts every request."""

    def __init__(self, answer: dict[str, Any] | None = None, status: int = 200, delay: float = 0.0) -> None:
        self.answer = answer or {
            "active": True,
            "aud": RESOURCE,
            "scope": "lava-crm:read",
            "sub": "u",
            "client_id": "c",
        }
        self.status = status
        self.delay = delay
        self.requests: list[str] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request.url.path)
        await anyio.sleep(self.delay)
        if self.status != 200:
            return httpx.Response(self.status)
        if request.url.path == "/.well-known/oauth-authorization-server":
            return httpx.Response(200, json={"issuer": ISSUER, "introspection_endpoint": f"{ISSUER}/introspect"})
        if request.url.path == "/introspect":
            return httpx.Response(200, json=self.answer)
        return httpx.Response(404)

    def check(self) -> TokenCheck:
        config = OAuthConfig(ISSUER, RESOURCE, ALGORITHMS, skew=0, client=("rs", "rs-secret"))
        return TokenCheck(config, httpx.AsyncClient(transport=httpx.MockTransport(self)))

    def introspections(self) -> int:
        return self.requests.count("/introspect")


async def test_one_introspection_serves_a_hundred_uses_of_one_token() -> None:
    server = Introspection()
    check = server.check()
    for _ in range(100):
        assert await check.verify_token("opaque-token") is not None
    assert server.introspections() == 1


async def test_a_hundred_concurrent_uses_of_a_new_token_make_one_introspection() -> None:
    server = Introspection(delay=0.05)
    check = server.check()
    found: list[object] = []

    async def use() -> None:
        found.append(await check.verify_token("opaque-token"))

    async with anyio.create_task_group() as uses:
        for _ in range(100):
            uses.start_soon(use)
    assert all(item is not None for item in found)
    assert len(found) == 100
    assert server.introspections() == 1


async def test_an_introspected_token_is_asked_about_again_once_it_expires() -> None:
    expires = later(1)
    server = Introspection({"active": True, "aud": RESOURCE, "scope": "lava-crm:read", "exp": expires})
    check = server.check()
    assert await check.verify_token("opaque-token") is not None
    assert await check.verify_token("opaque-token") is not None
    assert server.introspections() == 1
    deadline = time.monotonic() + 10
    while time.time() <= expires + 0.2:
        assert time.monotonic() < deadline
        await anyio.sleep(0.05)
    assert await check.verify_token("opaque-token") is None  # read again: now expired
    assert server.introspections() == 2


async def test_an_introspected_token_is_asked_about_again_within_minutes_whatever_its_exp(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(oauth, "INTROSPECTED_SECONDS", 0.3)  # 300 s in production: a revocation shows within it
    server = Introspection({"active": True, "aud": RESOURCE, "scope": "lava-crm:read", "exp": later(3600)})
    check = server.check()
    assert await check.verify_token("opaque-token") is not None
    started = time.monotonic()
    server.answer = {"active": False}  # revoked
    while await check.verify_token("opaque-token") is not None:
        assert time.monotonic() - started < 10, "never asked again"
        await anyio.sleep(0.05)
    assert time.monotonic() - started >= 0.3
    assert server.introspections() == 2


async def test_a_refused_token_is_not_introspected_again_by_every_use() -> None:
    server = Introspection({"active": False})
    check = server.check()
    for _ in range(100):
        assert await check.verify_token("revoked-token") is None
    assert server.introspections() == 1


async def test_the_cache_holds_a_hash_of_the_token_never_the_token() -> None:
    check = Introspection().check()
    assert await check.verify_token("opaque-token-secret") is not None
    cached = [*check._good.keys(), *check._refused.keys()]  # pyright: ignore[reportPrivateUsage]
    assert cached
    assert all(isinstance(key, bytes) and b"opaque-token-secret" not in key for key in cached)
    assert "opaque-token-secret" not in repr(list(check._good.values()))  # pyright: ignore[reportPrivateUsage]


async def test_two_opaque_tokens_checked_together_at_cold_start_are_both_accepted() -> None:
    # The race: the first check set the failure time before reading the metadata, outside the lock, so the second
    # (arriving during that read) was refused as "could not be read a moment ago".
    server = Introspection(delay=0.1)
    check = server.check()
    found: dict[str, object] = {}

    async def use(token: str) -> None:
        found[token] = await check.verify_token(token)

    async with anyio.create_task_group() as uses:
        uses.start_soon(use, "opaque-token-a")
        uses.start_soon(use, "opaque-token-b")
    assert found["opaque-token-a"] is not None
    assert found["opaque-token-b"] is not None
    assert server.requests.count("/.well-known/oauth-authorization-server") == 1


async def test_an_authorization_server_outage_is_unavailable_not_a_refusal(caplog: pytest.LogCaptureFixture) -> None:
    server = Introspection(status=503)
    check = server.check()
    with caplog.at_level("WARNING", logger="lava_crm_mcp.oauth"):
        with pytest.raises(Unavailable) as raised:
            await check.check("opaque-token")
        for _ in range(50):  # the failure is remembered: nobody asks again within the window
            with pytest.raises(Unavailable):
                await check.check("opaque-token")
    assert 0 < raised.value.retry_after <= 10
    assert len(server.requests) == 2  # one read of each discovery URL
    assert check.state == "unavailable"
    assert len([line for line in caplog.records if line.levelname == "WARNING"]) == 1
    server.status = 200
    check.server.outage.until -= 60  # the window has passed
    assert await check.verify_token("opaque-token") is not None
    assert check.state == "ok"


async def test_a_jwks_outage_is_unavailable_but_known_keys_still_check(server: AuthServer) -> None:
    up = True

    def flaky(request: httpx.Request) -> httpx.Response:
        return server(request) if up else httpx.Response(502)

    check = TokenCheck(
        OAuthConfig(ISSUER, RESOURCE, ALGORITHMS, skew=30), httpx.AsyncClient(transport=httpx.MockTransport(flaky))
    )
    assert await check.verify_token(server.token()) is not None
    up = False
    assert await check.verify_token(server.token(sub="user-2")) is not None  # k1 is known: no need to ask
    server.keys["k2"] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    check.server.fetched_at -= 60  # a rotation may be read now
    with pytest.raises(Unavailable):
        await check.check(server.token(kid="k2"))
    assert check.state == "unavailable"
