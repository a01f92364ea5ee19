"""What HTTP clients meet at the edge: access lines naming the MCP method and tool, a 401 that says a token is
missing (and no OAuth to discover), and CORS for browser clients from the allowed origins only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from conftest import HttpServer, StartHttp

APP_ORIGIN = "https://app.example.com"
TOKEN_HEADER = {"Authorization": "Bearer tok-a"}
ARGUMENT = "argument-marker-3b9e"
CALL: dict[str, Any] = {
    "jsonrpc": "2.0",
    "id": 7,
    "method": "tools/call",
    "params": {"name": "search_contacts", "arguments": {}},
}
DISCOVERY = [
    "/.well-known/oauth-protected-resource",
    "/.well-known/oauth-protected-resource/mcp",
    "/.well-known/oauth-authorization-server",
    "/.well-known/oauth-authorization-server/mcp",
    "/.well-known/openid-configuration",
    "/.well-known/openid-configuration/mcp",
    "/mcp/.well-known/openid-configuration",
]
REQUEST_HEADERS = ["authorization", "content-type", "mcp-protocol-version", "mcp-session-id", "last-event-id"]
STATEFUL_INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}


@pytest.fixture(scope="module")
def browser_http(module_http_server: StartHttp) -> HttpServer:
    """Stateless, behind tokens, with one extra allowed origin."""
    return module_http_server(env={"LAVA_MCP_AUTH_TOKENS": "tok-a", "LAVA_MCP_ALLOWED_ORIGINS": APP_ORIGIN})


@pytest.fixture(scope="module")
def stateful_http(module_http_server: StartHttp) -> HttpServer:
    return module_http_server("--stateful", env={"LAVA_MCP_ALLOWED_ORIGINS": APP_ORIGIN})


def access_line(server: HttpServer, text: str, before: int) -> str:
    """The newest access line holding `text`, once there are more than `before` of them."""
    log = server.wait_for_log(text, count=before + 1)
    return [line for line in log.splitlines() if text in line][-1]


def preflight(server: HttpServer, origin: str, method: str = "POST") -> httpx.Response:
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": ", ".join(REQUEST_HEADERS),
    }
    return httpx.options(server.url, headers=headers, timeout=10)


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {name: value for name, value in response.headers.items() if name.startswith("access-control-")}


# --- access log ---------------------------------------------------------------------------------------------------


def test_a_tool_call_s_access_line_names_the_rpc_method_the_tool_the_status_and_the_duration(
    browser_http: HttpServer,
) -> None:
    text = '"POST /mcp HTTP/1.1" 200 rpc=tools/call tool=search_contacts '
    before = browser_http.stderr().count(text)
    call: dict[str, Any] = {**CALL, "params": {"name": "search_contacts", "arguments": {"query": ARGUMENT}}}
    response = httpx.post(
        f"{browser_http.url}?trace=query-marker-51c0",
        json=call,
        headers={"Accept": "application/json, text/event-stream", **TOKEN_HEADER},
        timeout=10,
    )
    assert response.status_code == 200

    line = access_line(browser_http, text, before)
    assert line.split(" ")[-1] == "ms"
    assert float(line.split(" ")[-2]) >= 0
    log = browser_http.stderr()
    for secret in ("query-marker-51c0", "tok-a", ARGUMENT):
        assert secret not in log


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'[{"jsonrpc": "2.0", "id": 1, "method": "tools/list"}]', "application/json"),
        (b"{not json", "application/json"),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "tools/list"}', "text/plain"),
    ],
    ids=["batch", "unparsable", "not-json-content-type"],
)
def test_a_body_that_is_no_single_json_rpc_request_is_logged_as_rpc_dash(
    browser_http: HttpServer, body: bytes, content_type: str
) -> None:
    text = '"POST /mcp HTTP/1.1" 4'
    before = browser_http.stderr().count(text)
    headers = {"Content-Type": content_type, "Accept": "application/json, text/event-stream", **TOKEN_HEADER}
    assert httpx.post(browser_http.url, content=body, headers=headers, timeout=10).status_code >= 400
    assert " rpc=- " in access_line(browser_http, text, before)


def test_a_method_name_that_could_forge_a_log_line_is_logged_as_a_question_mark(browser_http: HttpServer) -> None:
    text = '"POST /mcp HTTP/1.1" 200 rpc=?'
    before = browser_http.stderr().count(text)
    forged: dict[str, Any] = {"jsonrpc": "2.0", "id": 3, "method": 'x" 200 ok\nINFO forged', "params": {}}
    browser_http.post(forged, headers=TOKEN_HEADER)
    assert "forged" not in access_line(browser_http, text, before)


def test_the_body_of_a_refused_request_is_not_read_for_the_log(browser_http: HttpServer) -> None:
    text = '"POST /mcp HTTP/1.1" 401 rpc=- '
    before = browser_http.stderr().count(text)
    assert browser_http.post(CALL).status_code == 401
    access_line(browser_http, text, before)


# --- 401 and no OAuth ---------------------------------------------------------------------------------------------


def test_a_missing_token_gets_a_401_that_says_how_to_send_one_and_points_to_no_oauth(token_http: HttpServer) -> None:
    response = token_http.post()
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer ")
    assert "resource_metadata" not in response.headers["www-authenticate"]
    assert "error=" not in response.headers["www-authenticate"]  # RFC 6750: no error code without credentials
    body = response.json()
    assert body["error"] == "bearer token required"
    for words in ("requires a bearer token", "'Authorization: Bearer <token>'", "operator", "no OAuth"):
        assert words in body["detail"]


@pytest.mark.parametrize("authorization", ["Bearer tok-wrong", "Basic tok-a"])
def test_a_wrong_token_gets_an_invalid_token_401_without_resource_metadata(
    token_http: HttpServer, authorization: str
) -> None:
    response = token_http.post(headers={"Authorization": authorization})
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert 'error="invalid_token"' in challenge
    assert "resource_metadata" not in challenge
    assert response.json()["error"] == "bearer token not accepted"
    assert "tok-wrong" not in response.text


@pytest.mark.parametrize("path", DISCOVERY)
def test_the_oauth_discovery_documents_are_404_json_without_a_token(token_http: HttpServer, path: str) -> None:
    response = httpx.get(f"{token_http.base_url}{path}", timeout=10)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert "'Authorization: Bearer <token>'" in response.json()["detail"]


def test_passthrough_asks_for_the_lava_secret_key_and_has_no_oauth_either(passthrough_http: HttpServer) -> None:
    refused = passthrough_http.post()
    assert refused.status_code == 401
    assert "resource_metadata" not in refused.headers["www-authenticate"]
    assert "<your Lava secret key>" in refused.json()["detail"]
    discovery = httpx.get(f"{passthrough_http.base_url}/.well-known/oauth-protected-resource/mcp", timeout=10)
    assert discovery.status_code == 404
    assert "Lava secret key" in discovery.json()["detail"]


# --- CORS ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("origin", [APP_ORIGIN, "http://localhost:5173", "http://127.0.0.1:3000"])
def test_a_preflight_from_an_allowed_origin_is_answered_without_a_token(browser_http: HttpServer, origin: str) -> None:
    response = preflight(browser_http, origin)
    assert response.status_code in (200, 204)
    assert response.headers["access-control-allow-origin"] == origin
    methods = {m.strip() for m in response.headers["access-control-allow-methods"].split(",")}
    assert {"POST", "OPTIONS"} <= methods
    assert not {"GET", "DELETE"} & methods  # stateless: POST only
    allowed = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
    assert set(REQUEST_HEADERS) <= allowed


@pytest.mark.parametrize("origin", ["https://evil.example", "http://localhost", "null"])
def test_a_preflight_from_another_origin_gets_no_cors_header(browser_http: HttpServer, origin: str) -> None:
    response = preflight(browser_http, origin)
    assert response.status_code >= 400
    assert cors_headers(response) == {}


def test_an_allowed_origin_s_request_can_read_the_answer_and_the_session_header(browser_http: HttpServer) -> None:
    answered = browser_http.post(headers={"Origin": APP_ORIGIN, **TOKEN_HEADER})
    refused = browser_http.post(headers={"Origin": APP_ORIGIN})
    for response in (answered, refused):  # a browser client can read the 401's message too
        assert response.headers["access-control-allow-origin"] == APP_ORIGIN
        assert "Mcp-Session-Id" in response.headers["access-control-expose-headers"]
    assert (answered.status_code, refused.status_code) == (200, 401)


def test_another_origin_s_request_gets_no_cors_header(browser_http: HttpServer) -> None:
    response = browser_http.post(headers={"Origin": "https://evil.example", **TOKEN_HEADER})
    assert response.status_code == 403
    assert cors_headers(response) == {}


def test_stateful_mode_allows_get_and_delete_and_exposes_the_session_id(stateful_http: HttpServer) -> None:
    response = preflight(stateful_http, APP_ORIGIN, method="DELETE")
    assert response.status_code in (200, 204)
    methods = {m.strip() for m in response.headers["access-control-allow-methods"].split(",")}
    assert {"GET", "POST", "DELETE", "OPTIONS"} <= methods

    initialized = stateful_http.post(STATEFUL_INIT, headers={"Origin": APP_ORIGIN})
    assert initialized.status_code == 200
    assert initialized.headers["mcp-session-id"]
    assert initialized.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "Mcp-Session-Id" in initialized.headers["access-control-expose-headers"]


def test_a_credential_in_the_url_is_refused_readably_for_an_allowed_origin(browser_http: HttpServer) -> None:
    response = httpx.post(
        f"{browser_http.url}?access_token=tok-a", json=CALL, headers={"Origin": APP_ORIGIN}, timeout=10
    )
    assert response.status_code == 400
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
