"""`lava-crm-mcp health`, the image's HEALTHCHECK: the HTTP server's /healthz on loopback, or nothing to check."""

from __future__ import annotations

import sys

import httpx

__all__ = ["probe"]


def probe(port: int) -> int:
    """0 when /healthz on 127.0.0.1:`port` answers 200, or when nothing listens there (a stdio server has nothing to
    check); 1 otherwise. Says which on stdout."""
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        status = httpx.get(url, timeout=3, trust_env=False).status_code  # within HEALTHCHECK --timeout=5s
    except httpx.ConnectError:
        sys.stdout.write(f"no HTTP server on port {port}: nothing to check\n")
        return 0
    except httpx.TransportError as exc:
        status = type(exc).__name__
    sys.stdout.write(f"{url}: {status}\n")
    return 0 if status == 200 else 1
