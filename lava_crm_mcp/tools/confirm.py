"""Confirmation tokens for deletes: an HMAC over (tool, record, caller, expiry), so any replica that shares the secret
accepts a token another issued (stateless HTTP), and a token confirms exactly one record for a few minutes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from lava_crm_mcp.tools._shared import ToolFailure

__all__ = ["TOKEN_SECONDS", "Confirmations"]

TOKEN_SECONDS = 300


@dataclass(frozen=True)
class Confirmations:
    """Issues and checks delete tokens; without a configured secret, one is made for this process."""

    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    seconds: int = TOKEN_SECONDS
    clock: Callable[[], float] = time.time

    def _mac(self, tool: str, record: str, scope: str, expires: int) -> str:
        message = f"{tool}\n{record}\n{scope}\n{expires}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()[:32]

    def issue(self, tool: str, record: str, scope: str) -> tuple[str, int]:
        """A token for deleting `record` with `tool`, for the caller `scope`, and when it expires (epoch seconds)."""
        expires = int(self.clock()) + self.seconds
        return f"{expires}.{self._mac(tool, record, scope, expires)}", expires

    def check(self, token: str, tool: str, record: str, scope: str) -> None:
        """Raise, saying how to get a good one, unless `token` was issued for this tool, record and caller."""
        again = f"Call {tool} again without confirm for a fresh preview and token."
        expires_text, _, mac = token.strip().partition(".")
        if not expires_text.isdigit() or len(mac) != 32:
            raise ToolFailure(f"The confirm token is not one this server issued. {again}")
        expires = int(expires_text)
        if not hmac.compare_digest(mac, self._mac(tool, record, scope, expires)):
            raise ToolFailure(f"The confirm token was issued for another record or tool. {again}")
        if self.clock() > expires:
            raise ToolFailure(f"The confirm token expired (tokens last {self.seconds // 60} minutes). {again}")
