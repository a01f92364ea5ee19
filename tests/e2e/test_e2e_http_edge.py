"""The edge of `lava-crm-mcp http`: no credential in a URL or a log line, and 405 where stateless /mcp has no stream."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

if TYPE_CHECKING:
    from conftest import HttpServer

SECRET = "SECRET-in-the-url-5f1c9a"
POST_LINE = '"POST /mcp HTTP/1.1"'


@pytest.mark.parametrize("name", ["access_token", "token", "api_key", "key", "apiKey", "X-Api-Key", "auth"])
def test_a_credential_in_the_query_string_is_refused_with_400_and_written_to_no_log(
    token_http: HttpServer, name: str
) -> None:
    before = token_http.stderr().count(f"{POST_LINE} 400")
    url = f"{token_http.url}?{name}={SECRET}"
    anonymous = httpx.post(url, json={}, headers={"Content-Type": "application/json"}, timeout=10)
    with_token = httpx.post(url, json={}, headers={"Authorization": "Bearer tok-a"}, timeout=10)

    for response in (anonymous, with_token):
        assert response.status_code == 400
        assert "'Authorization: Bearer <token>'" in response.json()["detail"]
    log = token_http.wait_for_log(f"{POST_LINE} 400", count=before + 2)
    assert SECRET not in log
    assert SECRET not in token_http.stdout()


def test_the_access_log_has_the_path_the_status_and_a_duration_but_never_the_query_string(
    sandbox_http: HttpServer,
) -> None:
    line = '"GET /readyz HTTP/1.1" 200'
    before = sandbox_http.stderr().count(line)
    assert httpx.get(f"{sandbox_http.base_url}/readyz?probe=query-marker-7d2e", timeout=10).status_code == 200
    log = sandbox_http.wait_for_log(line, count=before + 1)
    assert "query-marker-7d2e" not in log
    assert [entry for entry in log.splitlines() if line in entry][-1].endswith(" ms")


def test_an_innocent_query_parameter_is_not_refused(sandbox_http: HttpServer) -> None:
    assert httpx.get(f"{sandbox_http.base_url}/healthz?verbose=1", timeout=10).status_code == 200


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_body_over_the_limit_gets_413_whether_declared_or_streamed(sandbox_http: HttpServer, declared: bool) -> None:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    body = b" " * (1_048_576 + 1)
    content = body if declared else iter([body[:65_536]] * 17)  # no Content-Length: sent chunked
    response = httpx.post(sandbox_http.url, content=content, headers=headers, timeout=10)
    assert response.status_code == 413
    assert response.json()["error"] == "request body too large"


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_stateless_mcp_answers_get_and_delete_with_405_allow_post(sandbox_http: HttpServer, method: str) -> None:
    response = httpx.request(method, sandbox_http.url, headers={"Accept": "text/event-stream"}, timeout=10)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert "POST" in response.json()["detail"]


def test_a_get_with_a_token_also_gets_405_and_one_without_gets_401(token_http: HttpServer) -> None:
    headers = {"Accept": "text/event-stream"}
    assert httpx.get(token_http.url, headers=headers, timeout=10).status_code == 401
    authorized = httpx.get(token_http.url, headers={**headers, "Authorization": "Bearer tok-b"}, timeout=10)
    assert (authorized.status_code, authorized.headers["allow"]) == (405, "POST")
