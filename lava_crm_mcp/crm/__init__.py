"""The CRM adapter: the one place that talks HTTP to Lava CRM. It never imports mcp."""

from lava_crm_mcp.crm.client import CrmClient
from lava_crm_mcp.crm.errors import (
    CrmAuthError,
    CrmConflict,
    CrmError,
    CrmInvalid,
    CrmNotFound,
    CrmOutcomeUnknown,
    CrmPaymentRequired,
    CrmProtocolError,
    CrmRateLimited,
    CrmUnavailable,
    StageChangeRefused,
    UnknownPipeline,
    UnknownStage,
)
from lava_crm_mcp.crm.models import Board, Created, Opportunity, Page, Pipeline, Stage, StageMove
from lava_crm_mcp.crm.resources import RESOURCES, ResourceSpec
from lava_crm_mcp.crm.retry import RetryPolicy
from lava_crm_mcp.crm.upstream import DEFAULT_BASE_URL, DEFAULT_GATEWAY_URL, Upstream

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
    "UnknownPipeline",
    "UnknownStage",
    "Upstream",
]
