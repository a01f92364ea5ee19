"""A local, stateful Lava-CRM-compatible REST API (Starlette + sqlite3) for tests and demos."""

from .app import Dialect, create_app
from .auth import SANDBOX_TOKEN

__all__ = ["SANDBOX_TOKEN", "Dialect", "create_app"]
