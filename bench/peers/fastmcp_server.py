"""An OpenAPI peer for bench/compare.py: `FastMCP.from_openapi` (fastmcp 4.2) over the sandbox's OpenAPI document.

    python bench/peers/fastmcp_server.py stdio
    python bench/peers/fastmcp_server.py http --host 127.0.0.1 --port 8002   (stateless JSON at /mcp)
    python bench/peers/fastmcp_server.py tools                               (print the generated tool names)

Reads LAVA_CRM_BASE_URL (a loopback sandbox) and LAVA_CRM_TOKEN, fetches `/api/openapi.json` once at start, and
lets fastmcp generate one tool per operation with its defaults. fastmcp 4.2 takes an httpx2 client (the HTTP
library of mcp 2.3). Loopback only.
"""

from __future__ import annotations

import sys

import httpx2
from _loopback import peer_args
from fastmcp import FastMCP


def build_server(base_url: str, token: str) -> FastMCP:
    spec = httpx2.get(f"{base_url}/api/openapi.json", timeout=10).raise_for_status().json()
    client = httpx2.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    return FastMCP.from_openapi(spec, client=client, name="lava-crm-openapi")


async def tool_names(mcp: FastMCP) -> list[str]:
    return [tool.name for tool in await mcp.list_tools()]


def main() -> None:
    args, base_url, token = peer_args(__doc__ or "", ["stdio", "http", "tools"], 8002)
    mcp = build_server(base_url, token)
    if args.transport == "tools":
        import anyio

        sys.stdout.write("\n".join(anyio.run(tool_names, mcp)) + "\n")
    elif args.transport == "stdio":
        mcp.run("stdio", show_banner=False, log_level="WARNING")
    else:
        mcp.run(
            "http",
            show_banner=False,
            log_level="WARNING",
            host=args.host,
            port=args.port,
            stateless_http=True,
            json_response=True,
        )


if __name__ == "__main__":
    main()
