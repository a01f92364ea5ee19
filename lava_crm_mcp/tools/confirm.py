"""Confirm tokens: what lets the second call of a two-phase tool (a delete, a merge, a sync) do what the first call
previewed — only that, only for the caller who saw it, only while it is still what was shown, and only briefly.

A token is `2.<tool>.<expiry>.<record>.<caller>.<shown>.<mac>`: the tool in clear, then short keyed fingerprints of
the record (or plan) it confirms, of the caller, and of a digest of what the preview showed, and an HMAC over all of
it. The key is LAVA_MCP_CONFIRM_SECRET when set; otherwise it is derived from the CRM credential the call uses
(every process and replica of one deployment shares it, and a passthrough caller's own key binds their tokens to
them); with only a short demo credential (the sandbox), from a random key kept in a file readable by this user
alone. So a preview in one process is confirmed in the next, and a refused token says exactly why.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

__all__ = ["TOKEN_SECONDS", "Confirmations", "Refusal"]

logger = logging.getLogger("lava_crm_mcp.tools")
TOKEN_SECONDS = 300
VERSION = "2"
MIN_CREDENTIAL = 16  # shorter credentials (the sandbox's "sandbox") are public: never a key
FINGERPRINT = 10


class Refusal(Enum):
    """Why a confirm token does not confirm this call."""

    MALFORMED = "is not a confirm token this server issues"
    FOREIGN = "was not issued by this deployment, or was altered"
    TOOL = "was issued for another tool"
    RECORD = "was issued for another record"
    CALLER = "was issued to another caller: only whoever saw the preview can confirm it"
    EXPIRED = "has expired (tokens last 5 minutes)"
    CHANGED = "confirms a preview that is no longer true: the records changed since"


@dataclass(frozen=True)
class _Parsed:
    tool: str
    expires: int
    record: str
    caller: str
    shown: str
    mac: str


def _parse(token: str) -> _Parsed | None:
    parts = token.strip().split(".")
    if len(parts) != 7 or parts[0] != VERSION or not parts[2].isdigit():
        return None
    return _Parsed(parts[1], int(parts[2]), *parts[3:])


def key_from_file(path: Path) -> bytes | None:
    """A random key kept in `path` (made once, readable by this user only); None if it cannot be kept."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    except OSError as exc:
        logger.warning("confirm tokens: cannot keep a key in %s (%s); set LAVA_MCP_CONFIRM_SECRET", path, exc.strerror)
        return None
    else:
        with os.fdopen(descriptor, "w") as made:
            made.write(secrets.token_hex(32))
    try:
        text = path.read_text(encoding="ascii").strip()
    except OSError:
        return None
    return bytes.fromhex(text) if len(text) == 64 else None


@dataclass
class Confirmations:
    """Issues and checks confirm tokens (see the module's text for where the key comes from)."""

    secret: bytes | None = None
    key_file: Path | None = None
    seconds: int = TOKEN_SECONDS
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        self._process_key = secrets.token_bytes(32)
        self._file_key: bytes | None = None

    def _key(self, credential: str) -> bytes:
        if self.secret is not None:
            return self.secret
        if len(credential) >= MIN_CREDENTIAL:
            return hmac.new(b"lava-crm-mcp confirm tokens v2", credential.encode(), hashlib.sha256).digest()
        if self._file_key is None and self.key_file is not None:
            self._file_key = key_from_file(self.key_file)
        return self._file_key or self._process_key

    @staticmethod
    def _tag(key: bytes, kind: str, value: str) -> str:
        return hmac.new(key, f"{kind}\n{value}".encode(), hashlib.sha256).hexdigest()[:FINGERPRINT]

    def _mac(self, key: bytes, parsed: _Parsed) -> str:
        message = "\n".join((parsed.tool, str(parsed.expires), parsed.record, parsed.caller, parsed.shown))
        return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self, credential: str, tool: str, record: str, caller: str, shown: str) -> tuple[str, int]:
        """A token confirming `tool` on `record` (a record id, or a plan's digest) for `caller`, while what the
        preview showed digests to `shown`; and its expiry (epoch seconds)."""
        key = self._key(credential)
        expires = int(self.clock()) + self.seconds
        bound = (("record", record), ("caller", caller), ("shown", shown))
        tags = [self._tag(key, kind, value) for kind, value in bound]
        parsed = _Parsed(tool, expires, *tags, mac="")
        return ".".join((VERSION, tool, str(expires), *tags, self._mac(key, parsed))), expires

    def refusal(
        self, token: str, credential: str, tool: str, caller: str, *, record: str | None = None, shown: str = ""
    ) -> Refusal | None:
        """Why `token` does not confirm this call, checked in this order; None when it does. Without `record`, only
        what needs no reading of the CRM (the token itself, the tool, the caller, the clock)."""
        parsed = _parse(token)
        if parsed is None:
            return Refusal.MALFORMED
        key = self._key(credential)
        if not hmac.compare_digest(parsed.mac, self._mac(key, parsed)):
            return Refusal.FOREIGN
        checks = [
            (Refusal.TOOL, parsed.tool == tool),
            (Refusal.CALLER, parsed.caller == self._tag(key, "caller", caller)),
            (Refusal.EXPIRED, self.clock() <= parsed.expires),
        ]
        if record is not None:
            checks.append((Refusal.RECORD, parsed.record == self._tag(key, "record", record)))
            checks.append((Refusal.CHANGED, parsed.shown == self._tag(key, "shown", shown)))
        return next((refusal for refusal, fine in checks if not fine), None)
