"""Drive an unpacked MCP Bundle the way a host does: start its resolved `mcp_config` and talk MCP over stdio.

Used by .ci/bundle.sh. CONFIG is the JSON that mcpb's own `getMcpConfigForManifest` resolved (command, args, env
with `${__dirname}` and `${user_config.*}` substituted). The server gets a host-like environment: the variables
below from this process, PATH as given, and the config's env on top; nothing else (so none of this process's
VIRTUAL_ENV or LAVA_* variables).

  serve CONFIG --search QUERY --expect TEXT [--manifest FILE] [--absent TOOL]...
      list the tools (every tool the manifest advertises must be there, --absent ones must not), then call
      search_contacts(query=QUERY) and expect TEXT in its text result.
  refuse CONFIG --code N --stderr TEXT
      the server must exit with code N before serving, saying TEXT on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters

# The machine's own settings a host process inherits (locale, temp dir, TLS trust, proxies), the data dir the sandbox
# database goes to, and uv's cache locations.
PASSED_THROUGH = (
    "HOME",
    "LANG",
    "TMPDIR",
    "XDG_DATA_HOME",
    "UV_CACHE_DIR",
    "UV_PYTHON_INSTALL_DIR",
    "UV_PYTHON_DOWNLOADS",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
)


def host_env(config: dict[str, Any], path: str) -> dict[str, str]:
    env = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
    env["PATH"] = path
    env.update(config.get("env") or {})
    return env


def load_config(path: str) -> dict[str, Any]:
    config = json.loads(Path(path).read_text())
    unresolved = [
        text for text in [config["command"], *config.get("args", []), *config.get("env", {}).values()] if "${" in text
    ]
    if unresolved:
        raise SystemExit(f"bundle_client: unresolved placeholders in the host config: {unresolved}")
    return config


async def serve(args: argparse.Namespace) -> None:
    config = load_config(args.config)
    params = StdioServerParameters(
        command=config["command"], args=config.get("args", []), env=host_env(config, args.path)
    )
    advertised: set[str] = args.advertised
    started = time.monotonic()
    with anyio.fail_after(args.timeout):
        async with Client(params) as client:
            ready = time.monotonic() - started
            names = {tool.name for tool in (await client.list_tools()).tools}
            result = await client.call_tool("search_contacts", {"query": args.search})
    text = "\n".join(getattr(block, "text", "") for block in result.content)
    if missing := sorted(advertised - names):
        raise SystemExit(f"bundle_client: tools the manifest advertises are not served: {missing}")
    if served := sorted(set(args.absent) & names):
        raise SystemExit(f"bundle_client: tools that this mode must hide are served: {served}")
    if result.is_error or args.expect not in text:
        raise SystemExit(f"bundle_client: search_contacts(query={args.search!r}) gave:\n{text}")
    hidden = f"; hidden as expected: {', '.join(sorted(args.absent))}" if args.absent else ""
    print(
        f"ok: initialized in {ready:.1f} s; {len(names)} tools listed; "
        f"search_contacts(query={args.search!r}) found {args.expect!r}{hidden}"
    )


def refuse(args: argparse.Namespace) -> None:
    config = load_config(args.config)
    try:
        done = subprocess.run(  # noqa: S603 - the command is the bundle's own, resolved as a host would
            [config["command"], *config.get("args", [])],
            env=host_env(config, args.path),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=args.timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SystemExit(f"bundle_client: the server kept running for {args.timeout} s; expected it to exit") from None
    if done.returncode != args.code or args.stderr not in done.stderr:
        raise SystemExit(
            f"bundle_client: expected exit {args.code} saying {args.stderr!r}; got {done.returncode}:\n{done.stderr}"
        )
    said = next(line for line in done.stderr.splitlines() if args.stderr in line)
    print(f"ok: exit {done.returncode}: {said.strip()[:160]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--path", default=os.environ.get("PATH", ""), help="PATH the host gives the server")
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds for the whole exchange")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_args = commands.add_parser("serve")
    serve_args.add_argument("config")
    serve_args.add_argument("--search", required=True)
    serve_args.add_argument("--expect", required=True)
    serve_args.add_argument("--manifest")
    serve_args.add_argument("--absent", action="append", default=[])
    refuse_args = commands.add_parser("refuse")
    refuse_args.add_argument("config")
    refuse_args.add_argument("--code", type=int, required=True)
    refuse_args.add_argument("--stderr", required=True)
    args = parser.parse_args()
    if args.command == "serve":
        manifest = json.loads(Path(args.manifest).read_text()) if args.manifest else {}
        args.advertised = {tool["name"] for tool in manifest.get("tools", [])}
        try:
            anyio.run(serve, args)
        except Exception as exc:  # the server died or never answered: its stderr is above
            leaf = exc
            while isinstance(leaf, BaseExceptionGroup) and leaf.exceptions:
                leaf = leaf.exceptions[0]
            raise SystemExit(
                f"bundle_client: no MCP session with {args.config}: {leaf!r} (the server's stderr is above)"
            ) from None
    else:
        refuse(args)


if __name__ == "__main__":
    sys.exit(main())
