"""The OAuth flow end to end: a real authorization server (tests/oauth/provider.mjs) and `lava-crm-mcp http` with
`LAVA_MCP_AUTH=oauth`, both on loopback; run by .ci/oauth.sh with the project venv's Python.

    python tests/oauth/flow.py --issuer URL --resource URL [--token-only]

(defaults: $LAVA_MCP_OAUTH_ISSUER, $LAVA_MCP_RESOURCE_URL). A client is registered by dynamic client registration
(RFC 7591) and gets its access tokens by the client credentials grant with `resource=` (RFC 8707) and `scope=`;
another registers as a public client the way Claude does (its redirect URI, no secret) and runs the authorization
code flow with PKCE (S256), driving the provider's login and consent prompts over plain HTTP as a user's browser
would (the redirect to the client is read, never followed). Checks, one PASS/FAIL line each; the exit status is 1 if
any failed:

  token  the provider's access token is a JWT signed RS256 by a key of its JWKS, with iss, aud and scope as asked
  (a)    read+write token: the SDK client sees the read and write tools and no delete_*; search_contacts finds Ada
  (b)    read-only token: only the read tools; create_task is a 403 whose challenge names the write scope
  (c)    no token: 401 with a Bearer challenge whose resource_metadata is this server's PRM URL, scope the read one
  (d)    the Protected Resource Metadata (RFC 9728) names this resource, the issuer and the three scopes
  (e)    a token issued for another resource: 401
  (f)    read+write+delete token: every tool, the delete_* ones too
  (g)    write-only token (no read scope): 403 insufficient_scope naming the read scope
  (h)    authorization code + PKCE as a host does it: from the 401 to the PRM to the provider's metadata; a public
         client asks for the challenge's scope only (read), the user signs in and consents, and the token (a JWT for
         this resource with just that scope) lists the read tools and finds Ada with search_contacts
  (i)    step-up: that token's create_task is a 403 naming read and write (never delete); a second authorization
         for those scopes gives a token with which create_task runs
  (j)    PKCE is enforced: a code redeemed with another code_verifier is refused (invalid_grant)
  (k)    a user who declines consent sends the client back with error=access_denied, and no code

--token-only runs the token check alone (the provider without the MCP server). Which tier each tool is in comes from
the catalog the package ships (lava_crm_mcp/catalog.json: read, write, destructive).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import re
import secrets
import sys
import traceback
from collections.abc import Callable
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import anyio
import httpx
import httpx2
import jwt
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

READ, WRITE, DELETE = "lava-crm:read", "lava-crm:write", "lava-crm:delete"
TIMEOUT = 10.0  # seconds, each HTTP request
MCP_TIMEOUT = 30.0  # seconds, each SDK client session
MCP_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
TOOLS_LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
REDIRECT_URI = "https://claude.ai/api/mcp/auth_callback"  # Claude's; the redirect is read, never followed
MAX_REDIRECTS = 12  # the authorization endpoint's walk: login, consent and the redirects between


class Provider:
    """The authorization server as a client sees it: discovery, dynamic registration, the token endpoint."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        self.metadata = self._discover()
        self.client_id, self.client_secret = self._register()

    def _discover(self) -> dict[str, Any]:
        origin, path = issuer_parts(self.issuer)
        for url in (
            f"{origin}/.well-known/oauth-authorization-server{path}",
            f"{self.issuer.rstrip('/')}/.well-known/openid-configuration",
        ):
            response = httpx.get(url, timeout=TIMEOUT)
            if response.status_code == 200:
                return response.json()
        raise AssertionError(f"no authorization server metadata for {self.issuer}")

    def _register(self) -> tuple[str, str]:
        endpoint = self.metadata.get("registration_endpoint")
        assert endpoint, "the provider's metadata has no registration_endpoint"
        response = httpx.post(
            endpoint,
            json={
                "client_name": "lava-crm-mcp CI (tests/oauth/flow.py)",
                "grant_types": ["client_credentials"],
                "response_types": [],
                "token_endpoint_auth_method": "client_secret_basic",
            },
            timeout=TIMEOUT,
        )
        assert response.status_code == 201, f"registration: {response.status_code} {response.text[:300]}"
        client = response.json()
        return client["client_id"], client["client_secret"]

    def token(self, resource: str, *scopes: str) -> str:
        """An access token by the client credentials grant for `resource` with `scopes`."""
        response = httpx.post(
            self.metadata["token_endpoint"],
            auth=(self.client_id, self.client_secret),
            data={"grant_type": "client_credentials", "resource": resource, "scope": " ".join(scopes)},
            timeout=TIMEOUT,
        )
        assert response.status_code == 200, f"token ({' '.join(scopes)}): {response.status_code} {response.text[:300]}"
        return response.json()["access_token"]


def challenge_params(header: str) -> dict[str, str]:
    """The auth-params of a `WWW-Authenticate: Bearer ...` challenge (RFC 6750 section 3)."""
    return dict(re.findall(r'(\w+)="([^"]*)"', header))


class PublicClient:
    """A client registered as Claude registers (no secret, its redirect URI), running the authorization code flow
    with PKCE, and a user who signs in as `account` and answers the consent prompt."""

    def __init__(self, provider: Provider, account: str = "ada") -> None:
        self.provider = provider
        self.account = account
        response = httpx.post(
            provider.metadata["registration_endpoint"],
            json={
                "client_name": "lava-crm-mcp CI as a host (tests/oauth/flow.py)",
                "redirect_uris": [REDIRECT_URI],
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "none",
            },
            timeout=TIMEOUT,
        )
        assert response.status_code == 201, f"registration: {response.status_code} {response.text[:300]}"
        self.client_id: str = response.json()["client_id"]

    def authorize(self, resource: str, scope: str, *, consent: bool = True) -> tuple[dict[str, str], str]:
        """The redirect's query (code or error) and the PKCE code_verifier, after the user's prompts."""
        verifier = secrets.token_urlsafe(64)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        state = secrets.token_urlsafe(16)
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": scope,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "resource": resource,
        }
        with httpx.Client(follow_redirects=False, timeout=TIMEOUT) as browser:  # keeps the provider's cookies
            response = browser.get(self.provider.metadata["authorization_endpoint"], params=query)
            for _ in range(MAX_REDIRECTS):
                assert response.status_code in (302, 303), f"{response.status_code} {response.text[:300]}"
                target = urljoin(str(response.url), response.headers["location"])
                if target.startswith(REDIRECT_URI):
                    found = {name: values[0] for name, values in parse_qs(urlsplit(target).query).items()}
                    assert found.get("state") == state, f"state {found.get('state')!r}, sent {state!r}"
                    return found, verifier
                if "/interaction/" not in target:
                    response = browser.get(target)
                    continue
                prompt = browser.get(target).json()["prompt"]
                answer = prompt if prompt == "login" or consent else "abort"
                response = browser.post(f"{target}/{answer}", data={"login": self.account})
        raise AssertionError(f"no redirect to the client within {MAX_REDIRECTS} steps")

    def redeem(self, resource: str, code: str, verifier: str) -> httpx.Response:
        return httpx.post(
            self.provider.metadata["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "client_id": self.client_id,
                "code_verifier": verifier,
                "resource": resource,
            },
            timeout=TIMEOUT,
        )

    def token(self, resource: str, scope: str) -> str:
        redirect, verifier = self.authorize(resource, scope)
        assert "code" in redirect, f"no code: {redirect}"
        response = self.redeem(resource, redirect["code"], verifier)
        assert response.status_code == 200, f"token: {response.status_code} {response.text[:300]}"
        return response.json()["access_token"]


def issuer_parts(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}", parts.path.rstrip("/")


def tiers() -> dict[str, set[str]]:
    """Tool names by tier (read, write, destructive) from the catalog the package ships."""
    catalog = json.loads(resources.files("lava_crm_mcp").joinpath("catalog.json").read_text())
    found: dict[str, set[str]] = {}
    for entry in catalog["tools"]:
        found.setdefault(entry["tier"], set()).add(entry["tool"]["name"])
    return found


def differs(seen: set[str], expected: set[str]) -> str:
    """'' when equal, else what is missing and what is extra."""
    missing, extra = sorted(expected - seen), sorted(seen - expected)
    return f"missing {missing}, unexpected {extra}" if missing or extra else ""


async def session_run(url: str, token: str, mode: str, work: Callable[[Client], Any]) -> Any:
    """`work(client)` in an SDK client session over streamable HTTP with `token` as the bearer, bounded."""
    with anyio.fail_after(MCP_TIMEOUT):
        async with (
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=MCP_TIMEOUT) as http,
            Client(streamable_http_client(url, http_client=http), mode=mode) as client,  # type: ignore[arg-type]
        ):
            return await work(client)


async def tool_names(client: Client) -> set[str]:
    names: set[str] = set()
    cursor: str | None = None
    while True:
        page = await client.list_tools(cursor=cursor)
        names |= {tool.name for tool in page.tools}
        cursor = page.next_cursor
        if not cursor:
            return names


def text_of(result: Any) -> str:
    return " ".join(getattr(block, "text", "") for block in result.content)


class Flow:
    def __init__(self, issuer: str, resource: str) -> None:
        self.issuer, self.resource = issuer, resource
        self.provider = Provider(issuer)
        origin, path = issuer_parts(resource)
        self.origin = origin
        self.prm_url = f"{origin}/.well-known/oauth-protected-resource{path}"
        self.other_resource = f"{origin}/other{path}"
        self.tiers = tiers()
        self.failed: list[str] = []

    def check(self, label: str, run: Callable[[], str]) -> None:
        try:
            detail = run()
        except AssertionError as error:
            self.failed.append(label)
            print(f"FAIL {label}: {error}", flush=True)
        except Exception as error:
            self.failed.append(label)
            print(f"FAIL {label}: {type(error).__name__}: {error}", flush=True)
            traceback.print_exc(limit=-4, file=sys.stderr)  # the last frames: where it broke
        else:
            print(f"PASS {label}{f' ({detail})' if detail else ''}", flush=True)

    def raw_post(self, token: str | None = None) -> httpx.Response:
        headers = {**MCP_HEADERS, **({"Authorization": f"Bearer {token}"} if token else {})}
        return httpx.post(self.resource, json=TOOLS_LIST, headers=headers, timeout=TIMEOUT)

    def token_is_a_jwt_as_asked(self) -> str:
        token = self.provider.token(self.resource, READ, WRITE)
        header = jwt.get_unverified_header(token)
        assert header.get("alg") == "RS256", f"alg {header.get('alg')}"
        key = jwt.PyJWKClient(self.provider.metadata["jwks_uri"], timeout=int(TIMEOUT)).get_signing_key_from_jwt(token)
        claims = jwt.decode(token, key.key, algorithms=["RS256"], audience=self.resource, issuer=self.issuer)
        assert set(claims["scope"].split()) == {READ, WRITE}, f"scope {claims['scope']!r}"
        other = jwt.decode(self.provider.token(self.other_resource, READ), options={"verify_signature": False})
        assert other["aud"] == self.other_resource, f"the other resource's token has aud {other['aud']!r}"
        return f"typ {header.get('typ')}, kid {header.get('kid')}, aud {claims['aud']}, scope {claims['scope']}"

    def read_write(self) -> str:
        token = self.provider.token(self.resource, READ, WRITE)

        async def work(client: Client) -> tuple[set[str], Any]:
            return await tool_names(client), await client.call_tool("search_contacts", {"query": "ada"})

        names, found = asyncio.run(session_run(self.resource, token, "auto", work))
        problem = differs(names, self.tiers["read"] | self.tiers["write"])
        assert not problem, f"tools: {problem}"
        assert not {name for name in names if name.startswith("delete_")}, "a delete_* tool is listed"
        assert not found.is_error, f"search_contacts: {text_of(found)[:300]}"
        people = [f"{c.get('first_name')} {c.get('last_name')}" for c in (found.structured_content or {})["items"]]
        assert "Ada Lovelace" in people, f"search_contacts ada found {people}"
        return f"{len(names)} tools, search_contacts ada → {', '.join(people)}"

    def read_only(self) -> str:
        token = self.provider.token(self.resource, READ)

        async def work(client: Client) -> tuple[set[str], str]:
            names = await tool_names(client)
            try:
                result = await client.call_tool("create_task", {"title": "Call Ada about the engine"})
            except Exception as error:  # the 403 reaches the SDK client as an error
                return names, f"{type(error).__name__}: {error}"
            return names, f"is_error={result.is_error}: {text_of(result)}"

        names, refused = asyncio.run(session_run(self.resource, token, "legacy", work))
        problem = differs(names, self.tiers["read"])
        assert not problem, f"tools: {problem}"
        assert "is_error=False" not in refused, f"create_task ran: {refused[:300]}"
        call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call"}
        call["params"] = {"name": "create_task", "arguments": {"title": "Call Ada about the engine"}}
        headers = {**MCP_HEADERS, "Authorization": f"Bearer {token}"}
        answer = httpx.post(self.resource, json=call, headers=headers, timeout=TIMEOUT)
        challenge = answer.headers.get("www-authenticate", "")
        assert answer.status_code == 403, f"create_task: {answer.status_code} {answer.text[:200]}"
        assert WRITE in challenge_params(challenge).get("scope", ""), f"WWW-Authenticate {challenge!r}"
        return f"{len(names)} tools; create_task → {answer.status_code} {challenge}"

    def no_token(self) -> str:
        response = self.raw_post()
        assert response.status_code == 401, f"status {response.status_code}"
        challenge = response.headers.get("www-authenticate", "")
        assert challenge.lower().startswith("bearer"), f"WWW-Authenticate {challenge!r}"
        assert f'resource_metadata="{self.prm_url}"' in challenge, f"WWW-Authenticate {challenge!r}"
        assert challenge_params(challenge).get("scope") == READ, f"WWW-Authenticate {challenge!r}"
        return f"WWW-Authenticate: {challenge}"

    def protected_resource_metadata(self) -> str:
        response = httpx.get(self.prm_url, timeout=TIMEOUT)
        assert response.status_code == 200, f"GET {self.prm_url}: {response.status_code}"
        prm = response.json()
        assert prm.get("resource") == self.resource, f"resource {prm.get('resource')!r}"
        servers = [server.rstrip("/") for server in prm.get("authorization_servers", [])]
        assert self.issuer.rstrip("/") in servers, f"authorization_servers {prm.get('authorization_servers')}"
        assert {READ, WRITE, DELETE} <= set(prm.get("scopes_supported", [])), f"scopes {prm.get('scopes_supported')}"
        return json.dumps(prm, separators=(",", ":"))

    def other_resource_token(self) -> str:
        response = self.raw_post(self.provider.token(self.other_resource, READ, WRITE, DELETE))
        assert response.status_code == 401, f"status {response.status_code}: {response.text[:200]}"
        return f"aud {self.other_resource} → 401"

    def every_scope(self) -> str:
        token = self.provider.token(self.resource, READ, WRITE, DELETE)
        names = asyncio.run(session_run(self.resource, token, "auto", tool_names))
        problem = differs(names, set().union(*self.tiers.values()))
        assert not problem, f"tools: {problem}"
        return f"{len(names)} tools, {len([n for n in names if n.startswith('delete_')])} delete_*"

    def write_only(self) -> str:
        response = self.raw_post(self.provider.token(self.resource, WRITE))
        challenge = response.headers.get("www-authenticate", "")
        assert response.status_code == 403, f"status {response.status_code}, WWW-Authenticate {challenge!r}"
        assert "insufficient_scope" in challenge, f"WWW-Authenticate {challenge!r}"
        assert challenge_params(challenge).get("scope") == READ, f"WWW-Authenticate {challenge!r}"
        return f"WWW-Authenticate: {challenge}"

    def discovered_scope(self) -> str:
        """What a host asks for: the scope of the 401's challenge, after following resource_metadata to the PRM and
        the PRM to this issuer (whose metadata offers PKCE with S256)."""
        params = challenge_params(self.raw_post().headers.get("www-authenticate", ""))
        prm = httpx.get(params["resource_metadata"], timeout=TIMEOUT).json()
        assert self.issuer in prm["authorization_servers"], f"PRM authorization_servers {prm['authorization_servers']}"
        methods = self.provider.metadata.get("code_challenge_methods_supported", [])
        assert "S256" in methods, f"code_challenge_methods_supported {methods}"
        return params["scope"]

    def authorization_code(self) -> str:
        scope = self.discovered_scope()
        assert scope == READ, f"the challenge asks for {scope!r}"
        token = PublicClient(self.provider).token(self.resource, scope)
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["aud"] == self.resource, f"aud {claims['aud']!r}"
        assert claims["scope"] == READ, f"scope {claims['scope']!r}"

        async def work(client: Client) -> tuple[set[str], Any]:
            return await tool_names(client), await client.call_tool("search_contacts", {"query": "ada"})

        names, found = asyncio.run(session_run(self.resource, token, "auto", work))
        problem = differs(names, self.tiers["read"])
        assert not problem, f"tools: {problem}"
        assert not found.is_error, f"search_contacts: {text_of(found)[:300]}"
        assert "Lovelace" in text_of(found), f"search_contacts ada: {text_of(found)[:300]}"
        return f"scope {scope} from the challenge, sub {claims['sub']}, {len(names)} tools, search_contacts finds Ada"

    def step_up(self) -> str:
        client = PublicClient(self.provider)
        call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call"}
        call["params"] = {"name": "create_task", "arguments": {"title": "Call Ada about the engine"}}
        headers = {**MCP_HEADERS, "Authorization": f"Bearer {client.token(self.resource, READ)}"}
        refused = httpx.post(self.resource, json=call, headers=headers, timeout=TIMEOUT)
        challenge = refused.headers.get("www-authenticate", "")
        assert refused.status_code == 403, f"create_task with the read token: {refused.status_code} {challenge!r}"
        scope = challenge_params(challenge).get("scope", "")
        assert set(scope.split()) == {READ, WRITE}, f"the 403 asks for {scope!r}"
        token = client.token(self.resource, scope)

        async def work(session: Client) -> Any:
            return await session.call_tool("create_task", {"title": "Call Ada about the engine"})

        created = asyncio.run(session_run(self.resource, token, "auto", work))
        assert not created.is_error, f"create_task after the step-up: {text_of(created)[:300]}"
        return f"403 scope={scope!r}; create_task with the new token: {text_of(created)[:80]}"

    def pkce_enforced(self) -> str:
        client = PublicClient(self.provider)
        redirect, _ = client.authorize(self.resource, READ)
        response = client.redeem(self.resource, redirect["code"], secrets.token_urlsafe(64))
        assert response.status_code == 400, f"a wrong code_verifier got {response.status_code}"
        assert response.json().get("error") == "invalid_grant", f"{response.text[:200]}"
        return f"{response.status_code} {response.json().get('error')}"

    def consent_declined(self) -> str:
        redirect, _ = PublicClient(self.provider).authorize(self.resource, READ, consent=False)
        assert redirect.get("error") == "access_denied", f"redirect {redirect}"
        assert "code" not in redirect, "a code despite the refusal"
        return f"error={redirect['error']}"

    def run(self, token_only: bool) -> int:
        self.check("token: a JWT (RS256, JWKS) with iss, aud and scope as asked", self.token_is_a_jwt_as_asked)
        if not token_only:
            self.check("(a) read+write token: read and write tools, no delete_*, search finds Ada", self.read_write)
            self.check("(b) read-only token: read tools, create_task a 403 naming lava-crm:write", self.read_only)
            self.check("(c) no token: 401 with resource_metadata", self.no_token)
            self.check("(d) Protected Resource Metadata: resource, issuer, scopes", self.protected_resource_metadata)
            self.check("(e) a token for another resource: 401", self.other_resource_token)
            self.check("(f) read+write+delete token: every tool", self.every_scope)
            self.check("(g) write-only token: 403 insufficient_scope", self.write_only)
            self.check("(h) authorization code + PKCE from the 401: read tools, finds Ada", self.authorization_code)
            self.check("(i) step-up: 403 naming read+write, then create_task runs", self.step_up)
            self.check("(j) PKCE enforced: another code_verifier is invalid_grant", self.pkce_enforced)
            self.check("(k) declined consent: error=access_denied, no code", self.consent_declined)
        print(f"flow: {'FAILED ' + ', '.join(self.failed) if self.failed else 'all checks passed'}", flush=True)
        return 1 if self.failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--issuer", default=os.environ.get("LAVA_MCP_OAUTH_ISSUER"))
    parser.add_argument("--resource", default=os.environ.get("LAVA_MCP_RESOURCE_URL"))
    parser.add_argument("--token-only", action="store_true", help="only the provider's token check")
    args = parser.parse_args()
    if not args.issuer or not args.resource:
        parser.error("--issuer and --resource (or LAVA_MCP_OAUTH_ISSUER and LAVA_MCP_RESOURCE_URL) are needed")
    try:
        flow = Flow(args.issuer, args.resource)
    except Exception as error:
        print(f"FAIL setup (discovery, client registration): {type(error).__name__}: {error}", flush=True)
        return 1
    return flow.run(args.token_only)


if __name__ == "__main__":
    sys.exit(main())
