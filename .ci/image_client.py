"""Talk MCP to the image the way its users do. Used by .ci/image.sh.

snippet FILE IMAGE -- RUN...
    start the Claude Desktop snippet FILE (manifests/claude-desktop/docker*.json) as written, with its `docker run`
    replaced by RUN (podman and this machine's flags) and its image by IMAGE, and its env as given (a key's
    placeholder is a key to the server: tools are listed without calling the CRM); list the tools, and on the
    sandbox (`stdio --sandbox`) search the demo CRM.
http URL
    a server at URL (behind LAVA_MCP_AUTH_TOKENS, from this environment): /healthz and /readyz answer without a
    token, /mcp answers 401 without one, and with it the tools are listed and search_contacts finds Ada.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import anyio
import httpx
import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

TOOLS = len(json.loads((Path(__file__).parents[1] / "lava_crm_mcp" / "catalog.json").read_text())["tools"])
TOOLS_LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
MCP_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


def snippet_params(path: str, image: str, run: list[str]) -> StdioServerParameters:
    (config,) = json.loads(Path(path).read_text())["mcpServers"].values()
    args: list[str] = config["args"]
    assert [config["command"], args[0]] == ["docker", "run"], f"{path}: not a `docker run` snippet"
    refs = [i for i, arg in enumerate(args) if arg.startswith("ghcr.io/")]
    assert len(refs) == 1, f"{path}: no single image reference in {args}"
    args = [*run, *args[1 : refs[0]], image, *args[refs[0] + 1 :]]
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), **config.get("env", {})}
    print(f"$ {' '.join(args)}  (env: {', '.join(sorted(env))})")
    return StdioServerParameters(command=args[0], args=args[1:], env=env)


async def search(client: Client) -> None:
    names = {tool.name for tool in (await client.list_tools()).tools}
    assert len(names) == TOOLS, sorted(names)
    found = await client.call_tool("search_contacts", {"query": "ada"})
    assert not found.is_error, found.content
    assert found.structured_content is not None, found.content
    assert [item["first_name"] for item in found.structured_content["items"]] == ["Ada"], found.structured_content


async def check_snippet(params: StdioServerParameters, sandbox: bool) -> None:
    start = time.monotonic()
    with anyio.fail_after(180):
        async with Client(params, read_timeout_seconds=60) as client:
            ready = time.monotonic() - start
            if sandbox:
                await search(client)
            else:
                assert len((await client.list_tools()).tools) == TOOLS
    what = "tools/list and search_contacts" if sandbox else "tools/list"
    print(f"ok: initialized in {ready:.1f} s (container start included); {what} answered")


def check_probes_and_auth(url: str) -> None:
    deadline = time.monotonic() + 60
    with httpx.Client(timeout=5, trust_env=False) as http:
        while True:
            try:
                health = http.get(f"{url}/healthz")
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, f"no answer from {url}/healthz within 60 s"
                time.sleep(0.25)
        assert health.status_code == 200, health.text
        assert health.json() == {"status": "ok"}, health.text
        ready = http.get(f"{url}/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["status"] == "ready", ready.text
        for authorization in ({}, {"Authorization": "Bearer wrong"}):
            refused = http.post(f"{url}/mcp", json=TOOLS_LIST, headers={**MCP_HEADERS, **authorization})
            assert refused.status_code == 401, refused.text
            assert refused.headers["WWW-Authenticate"].startswith("Bearer"), refused.headers


async def check_with_token(url: str) -> None:
    token = os.environ["LAVA_MCP_AUTH_TOKENS"]
    with anyio.fail_after(60):
        async with (
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30, trust_env=False) as http,
            Client(streamable_http_client(f"{url}/mcp", http_client=http)) as client,
        ):
            await search(client)


def main(argv: list[str]) -> None:
    if argv[0] == "snippet":
        params = snippet_params(argv[1], argv[2], argv[argv.index("--") + 1 :])
        anyio.run(check_snippet, params, "--sandbox" in params.args)
    elif argv[0] == "http":
        check_probes_and_auth(argv[1])
        anyio.run(check_with_token, argv[1])
        print("ok: /healthz 200, /readyz ready; /mcp 401 without the token and with a wrong one; a search with it")
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
