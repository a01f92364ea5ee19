"""Tool tiers: what a tool may do to the CRM. Modes (policy.py) and the hints clients see follow from them."""

from __future__ import annotations

from typing import Literal

__all__ = ["DESTRUCTIVE", "READ", "WRITE", "Tier"]

Tier = Literal["read", "write", "destructive"]
READ: Tier = "read"
WRITE: Tier = "write"
DESTRUCTIVE: Tier = "destructive"
