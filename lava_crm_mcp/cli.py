"""The `lava-crm-mcp` command: stdio or HTTP server, the sandbox, the tool table, one-off tool calls."""

from __future__ import annotations

import argparse
import json
import logging
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, cast

import anyio
import httpx
from pydantic import SecretStr, ValidationError

from lava_crm_mcp import __version__
from lava_crm_mcp.audit import AuditSinkError, configure_audit
from lava_crm_mcp.crm.upstream import Upstream
from lava_crm_mcp.listen import CannotServe, listen, port_number
from lava_crm_mcp.settings import MODES, MissingCredentials, Settings, config_problems
from lava_crm_mcp.workers import run_workers, workers_problem

if TYPE_CHECKING:
    from lava_crm_mcp.crm import CrmClient

__all__ = ["main"]

logger = logging.getLogger("lava_crm_mcp")
SUBCOMMANDS = ("stdio", "http", "sandbox", "tools", "call", "health")
SANDBOX_URL = "http://sandbox.local"


class UsageError(Exception):
    """A configuration the command refuses to run with; exit code 2."""


def default_sandbox_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("lava-crm-mcp", appauthor=False)) / "sandbox.sqlite3"


def usable_db(path: str, option: str) -> Path:
    """The sandbox file at `path`, its folder made; UsageError when it is a directory or cannot be created."""
    db = Path(path).expanduser()
    if db.is_dir():
        raise UsageError(f"The sandbox path {db} is a directory: give a file, e.g. {option} {db / 'sandbox.sqlite3'}.")
    try:
        db.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"Cannot create the sandbox at {db}: {exc.strerror}. Give a path you can write.") from None
    return db


def not_a_database(db: Path, exc: Exception, option: str) -> UsageError:
    return UsageError(
        f"The sandbox path {db} cannot be used as a database ({exc}): give a new file path, e.g. "
        f"{option} {db.with_name('sandbox.sqlite3')}."
    )


def sandbox_crm(path: str, *, open_mode: bool, settings: Settings) -> tuple[CrmClient, str]:
    """A CrmClient wired in-process to the embedded sandbox (SQLite at `path`, demo data on first use), and what
    the startup line says of it."""
    import sqlite3

    from lava_crm_mcp.sandbox import SANDBOX_TOKEN, create_app

    db = usable_db(path, "--sandbox")
    fresh = not db.exists()
    try:
        app = create_app(db, open_mode=open_mode, seed="demo")
    except sqlite3.DatabaseError as exc:
        raise not_a_database(db, exc, "--sandbox") from None
    upstream = Upstream(SANDBOX_URL, SecretStr(SANDBOX_TOKEN))
    state = "new, seeded with demo data" if fresh else "existing data; delete the file to reset it"
    return settings.crm_client(upstream, httpx.ASGITransport(app=app)), f"sandbox {db} ({state})"


def _crm(args: argparse.Namespace, settings: Settings) -> tuple[CrmClient | None, str]:
    """The sandbox client with --sandbox or LAVA_CRM_SANDBOX; otherwise None (the server makes its own), after
    checking credentials. Also the CRM's description for the startup line."""
    path = args.sandbox or (settings.sandbox if settings.sandbox != "" else str(default_sandbox_path()))
    if path:
        return sandbox_crm(path, open_mode=settings.auth_mode == "passthrough", settings=settings)
    if not settings.has_credentials() and settings.auth_mode != "passthrough":
        raise UsageError(str(MissingCredentials()))
    return None, settings.route()


def _local(settings: Settings) -> Settings:
    """Settings for a local process (stdio, call): HTTP auth modes do not apply, so callers bring no keys."""
    return settings.model_copy(update={"auth": "none", "auth_tokens": ()})


def _banner(transport: str, settings: Settings, crm: str) -> str:
    from lava_crm_mcp.catalog import catalog
    from lava_crm_mcp.server import refusals

    enabled = len(catalog().tools) - len(refusals(settings))
    return f"lava-crm-mcp {__version__}: MCP over {transport}; CRM: {crm}; mode {settings.mode}, {enabled} tools"


def run_stdio(args: argparse.Namespace, settings: Settings) -> int:
    from lava_crm_mcp.server import build_server, serve_stdio

    settings = _local(settings)
    crm, described = _crm(args, settings)
    logger.info("%s", _banner("stdio", settings, described))
    anyio.run(serve_stdio, build_server(settings, crm=crm))
    return 0


def run_http(args: argparse.Namespace, settings: Settings) -> int:
    from lava_crm_mcp.http_app import MCP_PATH, create_http_app, is_loopback
    from lava_crm_mcp.serving import serve, uvicorn_problem

    if problem := uvicorn_problem():
        raise UsageError(problem)

    if not is_loopback(args.host) and settings.auth_mode == "none":
        raise UsageError(
            f"Refusing to serve on {args.host} without auth: set LAVA_MCP_AUTH_TOKENS (static bearer tokens) or "
            "LAVA_MCP_AUTH=passthrough (each caller sends its own Lava key), or bind to 127.0.0.1."
        )
    if settings.auth_mode == "tokens" and not settings.auth_tokens:
        raise UsageError("LAVA_MCP_AUTH=tokens needs LAVA_MCP_AUTH_TOKENS (comma-separated bearer tokens).")
    if settings.auth_mode == "oauth" and (problem := settings.oauth_problem()):
        raise UsageError(problem)
    if problem := workers_problem(args.workers, stateful=args.stateful, sandbox=bool(args.sandbox)):
        raise UsageError(problem)
    crm, described = _crm(args, settings)
    sock = listen(args.host, args.port, reuse_port=args.workers > 1)  # a port in use fails here, in one line
    where = f"HTTP at http://{args.host}:{args.port}{MCP_PATH} (auth: {settings.auth_mode})"
    logger.info("%s", _banner(where, settings, described))

    def one(sock: socket.socket) -> int:  # each worker builds its own app, CRM client and caches
        made = crm or settings.crm_client(settings.upstream(anonymous=settings.auth_mode == "passthrough"))
        return serve(create_http_app(settings, made, stateful=args.stateful), settings, sock)

    return run_workers(args.workers, one, settings, sock) if args.workers > 1 else one(sock)


def run_sandbox(args: argparse.Namespace, settings: Settings) -> int:
    """The sandbox API alone: its file checked and the port bound first, so a mistake is one line, never a banner
    followed by an error."""
    import sqlite3

    from lava_crm_mcp.sandbox.__main__ import run

    db = usable_db(args.db, "--db") if args.db != ":memory:" else None
    sock = listen(args.host, args.port)
    try:
        return run(args, sock=sock)
    except sqlite3.DatabaseError as exc:
        raise not_a_database(db or Path(args.db), exc, "--db") from None
    finally:
        sock.close()


def run_tools(args: argparse.Namespace, settings: Settings) -> int:
    from lava_crm_mcp.policy import refusal
    from lava_crm_mcp.tools import TOOLS

    rows = [("name", "tier", "toolset", "enabled", "description")]
    for tool in TOOLS:
        enabled = "no" if refusal(tool, settings.mode, settings.toolsets) else "yes"
        rows.append((tool.name, tool.tier, tool.toolset, enabled, tool.description))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        sys.stdout.write("  ".join([*cells, row[4]]) + "\n")
    return 0


async def _call(settings: Settings, crm: CrmClient | None, tool: str, arguments: dict[str, Any]) -> int:
    from mcp import Client

    from lava_crm_mcp.server import build_server

    async with Client(build_server(settings, crm=crm)) as client:
        result = await client.call_tool(tool, arguments)
    text = "\n".join(getattr(block, "text", "") for block in result.content)
    (sys.stderr if result.is_error else sys.stdout).write(text + "\n")
    return 1 if result.is_error else 0


def run_call(args: argparse.Namespace, settings: Settings) -> int:
    try:
        arguments = json.loads(args.arguments)
    except ValueError as exc:
        raise UsageError(f'The arguments must be a JSON object, e.g. \'{{"query": "ada"}}\' ({exc}).') from None
    if not isinstance(arguments, dict):
        raise UsageError('The arguments must be a JSON object, e.g. \'{"query": "ada"}\'.')
    settings = _local(settings)
    return anyio.run(_call, settings, _crm(args, settings)[0], args.tool, cast(dict[str, Any], arguments))


def run_health(args: argparse.Namespace, settings: Settings) -> int:
    from lava_crm_mcp.health import probe

    return probe(args.port)


def _with_mode(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--mode",
        choices=MODES,
        help="which tools are on: full, no-delete (no deletes) or read-only (reads only); overrides LAVA_CRM_MODE "
        "(default: full)",
    )


def _with_sandbox(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sandbox",
        nargs="?",
        const=str(default_sandbox_path()),
        metavar="PATH",
        help="use the embedded sandbox CRM (SQLite; default %(const)s), seeded with demo data; no credential needed",
    )


class Parser(argparse.ArgumentParser):
    """argparse, with a mistake told in one line (what was wrong, and where the options are) and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line; the sandbox's own options are read only for `sandbox` (the rest never imports it)."""
    parser = Parser(prog="lava-crm-mcp", description="An MCP server for the Lava CRM.")
    parser.add_argument("-V", "--version", action="version", version=f"lava-crm-mcp {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    stdio = commands.add_parser("stdio", help="serve MCP over stdio (the default)")
    _with_sandbox(stdio)
    _with_mode(stdio)
    http = commands.add_parser("http", help="serve MCP over streamable HTTP at /mcp")
    http.add_argument("--host", default="127.0.0.1", help="interface to bind (default: %(default)s)")
    http.add_argument("--port", type=port_number, default=8000, help="port (default: %(default)s)")
    http.add_argument("--stateful", action="store_true", help="stateful SSE sessions instead of stateless JSON")
    http.add_argument("--workers", type=int, default=1, help="server processes, stateless only (default: 1)")
    _with_sandbox(http)
    _with_mode(http)
    sandbox = commands.add_parser("sandbox", help="serve the sandbox Lava CRM REST API alone")
    if command == "sandbox":
        from lava_crm_mcp.sandbox.__main__ import build_parser as sandbox_arguments

        sandbox_arguments(sandbox)
    commands.add_parser("tools", help="list the tool catalog")
    call = commands.add_parser("call", help="call one tool and print its text result")
    call.add_argument("tool", help="tool name, e.g. search_contacts")
    call.add_argument("arguments", nargs="?", default="{}", help="JSON object of arguments (default: {})")
    _with_sandbox(call)
    _with_mode(call)
    health = commands.add_parser("health", help="probe /healthz on 127.0.0.1 (no server listening is ok)")
    health.add_argument("--port", type=port_number, default=8000, help="the http server's port (default: %(default)s)")
    health.set_defaults(run=run_health)
    stdio.set_defaults(run=run_stdio)
    http.set_defaults(run=run_http)
    sandbox.set_defaults(run=run_sandbox)
    commands.choices["tools"].set_defaults(run=run_tools)
    call.set_defaults(run=run_call)
    return parser


def _argv(argv: Sequence[str] | None) -> list[str]:
    """`lava-crm-mcp` and `lava-crm-mcp --sandbox` mean the stdio server."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or (args[0] not in SUBCOMMANDS and args[0] not in ("-h", "--help", "-V", "--version")):
        return ["stdio", *args]
    return args


def configure_logging(level: str) -> None:
    """Everything to stderr: stdout belongs to the MCP protocol on stdio."""
    logging.basicConfig(
        stream=sys.stderr, level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    # Lines that say nothing a reader needs: one per upstream request, per stateless HTTP request ("Terminating
    # session: None"), and uvicorn's and the SDK's start/stop chatter (our startup line says what runs, and where).
    quiet = ("httpx", "mcp.server.streamable_http", "mcp.server.streamable_http_manager", "uvicorn.error")
    for name in quiet:
        logging.getLogger(name).setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    argv = _argv(argv)
    args = build_parser(argv[0]).parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        sys.stderr.write(f"lava-crm-mcp: invalid configuration: {config_problems(exc)}\n")
        return 2
    if getattr(args, "mode", None):  # the flag wins over LAVA_CRM_MODE
        settings = settings.model_copy(update={"mode": args.mode})
    configure_logging(settings.log_level)
    try:
        if args.command in ("stdio", "http", "call"):  # the commands that call tools, so may write
            configure_audit(settings.audit_log)
        return int(args.run(args, settings))
    except (UsageError, CannotServe, AuditSinkError) as exc:
        sys.stderr.write(f"lava-crm-mcp: {exc}\n")
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `lava-crm-mcp tools | head`
        sys.stderr.close()
        return 0
    except Exception as exc:
        if settings.log_level == "DEBUG":
            raise
        sys.stderr.write(
            f"lava-crm-mcp: stopped by an unexpected {type(exc).__name__}: {exc} "
            "(LAVA_CRM_LOG_LEVEL=DEBUG shows where)\n"
        )
        return 1
