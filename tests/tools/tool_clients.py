"""CRM clients for the tool tests: the sandbox's demo token, no retries, over any transport."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from mcp import Client
from pydantic import SecretStr

from lava_crm_mcp.crm import CrmClient, RetryPolicy, Upstream
from lava_crm_mcp.sandbox import SANDBOX_TOKEN

BASE_URL = "http://sandbox.test"
NO_RETRY = RetryPolicy(max_attempts=1)
Connect = Callable[..., Client]


def crm_client(transport: httpx.AsyncBaseTransport) -> CrmClient:
    return CrmClient(Upstream(BASE_URL, SecretStr(SANDBOX_TOKEN)), transport=transport, retry=NO_RETRY)
