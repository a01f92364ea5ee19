"""Command line: `python -m lava_crm_mcp.sandbox --port 8765 --db PATH [--open] [--token T ...]`."""

import argparse
import logging
import os
import socket
import sys
from collections.abc import Mapping, Sequence
from typing import Literal, cast

from .app import Dialect, create_app
from .auth import DEFAULT_ORG, SANDBOX_TOKEN

logger = logging.getLogger("lava_crm_mcp.sandbox")
DEFAULT_DB = "lava-crm-sandbox.sqlite3"


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """The sandbox's arguments, added to `parser` (e.g. a subcommand's) or to a new parser."""
    parser = parser or argparse.ArgumentParser(prog="python -m lava_crm_mcp.sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=port_number, default=8765, help="port to listen on (default: 8765)")
    parser.add_argument("--db", default=DEFAULT_DB, help=f"sqlite file, or :memory: (default: {DEFAULT_DB})")
    parser.add_argument("--open", action="store_true", dest="open_mode", help="every bearer token is its own org")
    parser.add_argument(
        "--token", action="append", metavar="TOKEN[=ORG]", help="accept this token, for ORG (default: its own org)"
    )
    parser.add_argument("--dialect", choices=["drf", "django-crm"], default="drf", help="wire dialect (default: drf)")
    parser.add_argument("--seed", choices=["demo"], default=None, help="provision every org with the demo data")
    parser.add_argument(
        "--lax",
        action="store_true",
        help="answer as the laxest server of the family: filters and search ignored, deals without their board "
        "placement, HTML error pages, the newer era's write names only",
    )
    return parser


def port_number(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: use a number from 1 to 65535")
    return int(text)


def _describe_tokens(tokens: Mapping[str, str] | None, open_mode: bool) -> str:
    if open_mode:
        return "open mode: any bearer token works, each distinct token is its own org"
    if tokens is None:
        return f'use "Authorization: Bearer {SANDBOX_TOKEN}" (the default token "{SANDBOX_TOKEN}", org "{DEFAULT_ORG}")'
    return f"{len(tokens)} fixed token(s) given with --token work"


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    db: str | os.PathLike[str] = DEFAULT_DB,
    tokens: Mapping[str, str] | None = None,
    open_mode: bool = False,
    dialect: Dialect = "drf",
    seed: Literal["demo"] | None = None,
    sock: socket.socket | None = None,
    lax: bool = False,
) -> None:
    """Run the sandbox with uvicorn until interrupted (blocking), on `sock` when one is already bound (the caller
    then reports a port in use before anything is said), else on host:port. The database opens first: a file that
    is not one fails (sqlite3.DatabaseError) before the banner."""
    import uvicorn

    _log_to_stderr()
    app = create_app(db, tokens=tokens, open_mode=open_mode, dialect=dialect, seed=seed, lax=lax)
    shown = f"{dialect} dialect{', lax' if lax else ''}"
    logger.info("Lava CRM sandbox (%s, db %s) on http://%s:%d/api/", shown, db, host, port)
    logger.info("Auth: %s", _describe_tokens(tokens, open_mode))
    logger.info("OpenAPI document: http://%s:%d/api/openapi.json", host, port)
    if sock is None:
        uvicorn.run(app, host=host, port=port, log_config=None)  # uvicorn's records go to our stderr handler
        return
    uvicorn.Server(uvicorn.Config(app, log_config=None)).run(sockets=[sock])


def _token_org(spec: str, index: int) -> tuple[str, str]:
    token, _, org = spec.partition("=")
    return token, org or f"org-{index}"


def run(args: argparse.Namespace, sock: socket.socket | None = None) -> int:
    """Serve with parsed arguments (shared with the `lava-crm-mcp sandbox` subcommand, which binds `sock`)."""
    given = cast("list[str] | None", args.token)
    tokens = dict(_token_org(spec, index) for index, spec in enumerate(given, 1)) if given else None
    serve(
        host=args.host,
        port=args.port,
        db=args.db,
        tokens=tokens,
        open_mode=args.open_mode,
        dialect=args.dialect,
        seed=args.seed,
        sock=sock,
        lax=args.lax,
    )
    return 0


def _log_to_stderr() -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")


def main(argv: Sequence[str] | None = None) -> int:
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
