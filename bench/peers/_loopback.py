"""The command line both peers share: a transport, a loopback host and port, and the sandbox they call."""

from __future__ import annotations

import argparse
import os


def peer_args(doc: str, transports: list[str], port: int) -> tuple[argparse.Namespace, str, str]:
    """(arguments, sandbox base URL, token); only loopback addresses are accepted."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("transport", choices=transports)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=port)
    args = parser.parse_args()
    base_url = os.environ["LAVA_CRM_BASE_URL"]
    assert base_url.startswith("http://127.0.0.1:"), "loopback only"
    assert args.host == "127.0.0.1", "loopback only"
    return args, base_url, os.environ["LAVA_CRM_TOKEN"]
