"""The CRM adapter: the one place that talks HTTP to Lava CRM. It never imports mcp.

The light part (errors, retry policy, upstream route) is imported at once; the client, models and noun table are
loaded on first use, so that listing the catalog builds none of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lava_crm_mcp.crm.errors import (
    CrmAuthError,
    CrmConflict,
    CrmError,
    CrmForbidden,
    CrmInvalid,
    CrmNotFound,
    CrmOutcomeUnknown,
    CrmPaymentRequired,
    CrmProtocolError,
    CrmRateLimited,
    CrmUnavailable,
    StageChangeRefused,
    UnknownName,
    UnknownPipeline,
    UnknownStage,
)
from lava_crm_mcp.crm.retry import RetryPolicy
from lava_crm_mcp.crm.upstream import DEFAULT_BASE_URL, DEFAULT_GATEWAY_URL, Upstream
from lava_crm_mcp.lazy import lazy_names

if TYPE_CHECKING:
    from lava_crm_mcp.crm.client import CrmClient
    from lava_crm_mcp.crm.models import Board, Created, Opportunity, Page, Pipeline, Stage, StageMove
    from lava_crm_mcp.crm.resources import RESOURCES, ResourceSpec

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_GATEWAY_URL",
    "RESOURCES",
    "Board",
    "Created",
    "CrmAuthError",
    "CrmClient",
    "CrmConflict",
    "CrmError",
    "CrmForbidden",
    "CrmInvalid",
    "CrmNotFound",
    "CrmOutcomeUnknown",
    "CrmPaymentRequired",
    "CrmProtocolError",
    "CrmRateLimited",
    "CrmUnavailable",
    "Opportunity",
    "Page",
    "Pipeline",
    "ResourceSpec",
    "RetryPolicy",
    "Stage",
    "StageChangeRefused",
    "StageMove",
    "UnknownName",
    "UnknownPipeline",
    "UnknownStage",
    "Upstream",
]

_HOMES = {
    "CrmClient": "client",
    **dict.fromkeys(("Board", "Created", "Opportunity", "Page", "Pipeline", "Stage", "StageMove"), "models"),
    **dict.fromkeys(("RESOURCES", "ResourceSpec"), "resources"),
}

__getattr__ = lazy_names(__name__, _HOMES, globals())
