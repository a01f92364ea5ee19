"""The listening socket of `lava-crm-mcp http`, opened before anything says "serving": a port in use, a port
below 1024 or a host that is not this machine's is one clear line, not a traceback after a startup banner."""

from __future__ import annotations

import argparse
import errno
import socket

__all__ = ["CannotServe", "listen", "port_number"]


def port_number(text: str) -> int:
    """A --port value: a number from 1 to 65535."""
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: use a number from 1 to 65535")
    return int(text)


class CannotServe(Exception):
    """The HTTP server cannot listen where it was asked to; the message says what to change."""


def _address(host: str, port: int) -> tuple[socket.AddressFamily, tuple[str, int]]:
    try:
        found = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        raise CannotServe(f"--host {host} is not a name or address this machine knows: {USE_HOST}") from None
    family, _, _, _, address = next((item for item in found if item[0] == socket.AF_INET), found[0])
    return family, (str(address[0]), int(address[1]))


USE_HOST = "use 127.0.0.1 (this machine only), 0.0.0.0 (every interface) or one of this machine's addresses."


def listen(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """A socket bound to host:port, ready for uvicorn, or CannotServe saying what to change. With `reuse_port` (where
    the platform has SO_REUSEPORT) more sockets may bind the same address: the workers' (`workers.py`)."""
    family, address = _address(host, port)
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port and hasattr(socket, "SO_REUSEPORT"):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise CannotServe(_why(exc, host, port)) from None
    return sock


def _why(exc: OSError, host: str, port: int) -> str:
    if exc.errno == errno.EADDRINUSE:
        return f"Port {port} on {host} is already in use: stop what is listening there, or choose another --port."
    if exc.errno == errno.EACCES:
        return f"Not allowed to listen on port {port}: ports below 1024 need privileges; choose --port 1024 or above."
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"--host {host} is not an address of this machine: {USE_HOST}"
    return f"Cannot listen on {host}:{port}: {exc.strerror or exc}."
