"""Configuration from the environment: the only module that reads it."""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import httpx
from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from lava_crm_mcp.crm.retry import RetryPolicy
from lava_crm_mcp.crm.upstream import DEFAULT_BASE_URL, DEFAULT_GATEWAY_URL, Upstream

if TYPE_CHECKING:
    from lava_crm_mcp.crm import CrmClient

__all__ = ["MODES", "MissingCredentials", "Mode", "Settings", "config_problems"]

Mode = Literal["read-only", "no-delete", "full"]
MODES: tuple[Mode, ...] = get_args(Mode)
AuthMode = Literal["none", "tokens", "passthrough", "oauth"]
CommaList = Annotated[tuple[str, ...], NoDecode]
TOKEN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9._@-]{0,63}")  # `name:token` in LAVA_MCP_AUTH_TOKENS
# Signature algorithms a token may use: public-key only (never "none", never HMAC, whose key a verifier would share).
ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
SCOPE = re.compile(r"[!#-\[\]-~]+")  # one OAuth scope token (RFC 6749 3.3): printable ASCII but space, `"` and `\`


class MissingCredentials(ValueError):
    """No way to reach a CRM was configured."""

    def __init__(self) -> None:
        super().__init__(
            "No Lava CRM credential is configured. Set LAVA_SECRET_KEY (your Lava secret key; calls go through "
            "Lava's gateway) or LAVA_CRM_TOKEN (a CRM token; calls go straight to LAVA_CRM_BASE_URL), "
            "or run with --sandbox (or LAVA_CRM_SANDBOX=true) to try it on a local demo CRM with no credential."
        )


def _loopback(url: httpx.URL) -> bool:
    return url.host in ("127.0.0.1", "localhost", "::1")


def config_problems(exc: ValidationError) -> str:
    """Settings errors in one line: each variable and what it should be (never the value: it may be a secret)."""
    problems: list[str] = []
    for error in exc.errors():
        name = ".".join(map(str, error["loc"])) or "settings"
        problems.append(f"{name}: {error['msg'].removeprefix('Value error, ')}")
    return "; ".join(problems) + " (README, Configuration, lists every variable)."


def _zone(name: str) -> dt.tzinfo:
    """The time zone `name`; UTC needs no time-zone database (Windows and slim images have none: `tzdata` does)."""
    return dt.UTC if name in ("UTC", "Etc/UTC") else ZoneInfo(name)


def _split(value: object) -> object:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


class Settings(BaseSettings):
    """Everything configurable, with the environment variable that sets it."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True, frozen=True)

    secret_key: SecretStr | None = Field(default=None, validation_alias="LAVA_SECRET_KEY")
    gateway_url: str = Field(default=DEFAULT_GATEWAY_URL, validation_alias="LAVA_GATEWAY_URL")
    crm_token: SecretStr | None = Field(default=None, validation_alias="LAVA_CRM_TOKEN")
    base_url: str = Field(default=DEFAULT_BASE_URL, validation_alias="LAVA_CRM_BASE_URL")
    timeout: float = Field(default=10.0, gt=0, le=120, validation_alias="LAVA_CRM_TIMEOUT")
    call_deadline: float = Field(
        default=20.0, gt=0, le=120, validation_alias=AliasChoices("LAVA_CRM_CALL_DEADLINE", "LAVA_CRM_RETRY_DEADLINE")
    )
    max_attempts: int = Field(default=4, ge=1, le=10, validation_alias="LAVA_CRM_MAX_ATTEMPTS")
    max_response_bytes: int = Field(default=8 * 1024 * 1024, ge=65_536, validation_alias="LAVA_CRM_MAX_RESPONSE_BYTES")
    mode: Mode = Field(default="full", validation_alias="LAVA_CRM_MODE")
    toolsets: CommaList = Field(default=(), validation_alias="LAVA_CRM_TOOLSETS")
    """The toolsets enabled; empty: all of them."""
    auth: AuthMode | None = Field(default=None, validation_alias="LAVA_MCP_AUTH")
    auth_tokens: Annotated[tuple[SecretStr, ...], NoDecode] = Field(default=(), validation_alias="LAVA_MCP_AUTH_TOKENS")
    allowed_hosts: CommaList = Field(default=(), validation_alias="LAVA_MCP_ALLOWED_HOSTS")
    allowed_origins: CommaList = Field(default=(), validation_alias="LAVA_MCP_ALLOWED_ORIGINS")
    max_body_bytes: int = Field(default=1_048_576, ge=1024, validation_alias="LAVA_MCP_MAX_BODY_BYTES")
    idle_timeout: int = Field(default=5, ge=1, le=300, validation_alias="LAVA_MCP_IDLE_TIMEOUT")
    request_timeout: float = Field(default=10.0, gt=0, le=300, validation_alias="LAVA_MCP_REQUEST_TIMEOUT")
    shutdown_delay: float = Field(default=0.0, ge=0, le=120, validation_alias="LAVA_MCP_SHUTDOWN_DELAY")
    max_sessions: int = Field(default=500, ge=1, le=100_000, validation_alias="LAVA_MCP_MAX_SESSIONS")
    sse_idle_timeout: float = Field(default=300.0, gt=0, le=86_400, validation_alias="LAVA_MCP_SSE_IDLE_TIMEOUT")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", validation_alias="LAVA_CRM_LOG_LEVEL"
    )
    timezone: str = Field(default="UTC", validation_alias="LAVA_CRM_TIMEZONE")
    audit_log: str | None = Field(default=None, validation_alias="LAVA_MCP_AUDIT_LOG")
    """A file the audit lines are appended to; unset: stderr."""
    metrics: bool = Field(default=False, validation_alias="LAVA_MCP_METRICS")
    metrics_port: int | None = Field(default=None, ge=1, le=65535, validation_alias="LAVA_MCP_METRICS_PORT")
    metrics_host: str = Field(default="127.0.0.1", min_length=1, validation_alias="LAVA_MCP_METRICS_HOST")
    otel: bool = Field(default=False, validation_alias="LAVA_MCP_OTEL")
    confirm_deletes: bool = Field(default=True, validation_alias="LAVA_CRM_CONFIRM_DELETES")
    confirm_secret: SecretStr | None = Field(default=None, validation_alias="LAVA_MCP_CONFIRM_SECRET")
    local_user: str | None = Field(default=None, max_length=64, validation_alias="LAVA_CRM_USER")
    confirm_key_file: str | None = Field(default=None, validation_alias="LAVA_MCP_CONFIRM_KEY_FILE")
    sandbox: str | None = Field(default=None, validation_alias="LAVA_CRM_SANDBOX")
    oauth_issuer: str | None = Field(default=None, validation_alias="LAVA_MCP_OAUTH_ISSUER")
    resource_url: str | None = Field(default=None, validation_alias="LAVA_MCP_RESOURCE_URL")
    oauth_jwks_url: str | None = Field(default=None, validation_alias="LAVA_MCP_OAUTH_JWKS_URL")
    oauth_introspection_url: str | None = Field(default=None, validation_alias="LAVA_MCP_OAUTH_INTROSPECTION_URL")
    oauth_client_id: str | None = Field(default=None, validation_alias="LAVA_MCP_OAUTH_CLIENT_ID")
    oauth_client_secret: SecretStr | None = Field(default=None, validation_alias="LAVA_MCP_OAUTH_CLIENT_SECRET")
    oauth_clock_skew: float = Field(default=60.0, ge=0, le=600, validation_alias="LAVA_MCP_OAUTH_CLOCK_SKEW")
    oauth_algorithms: CommaList = Field(default=ASYMMETRIC, validation_alias="LAVA_MCP_OAUTH_ALGORITHMS")
    scope_read: str = Field(default="lava-crm:read", min_length=1, validation_alias="LAVA_MCP_SCOPE_READ")
    scope_write: str = Field(default="lava-crm:write", min_length=1, validation_alias="LAVA_MCP_SCOPE_WRITE")
    scope_delete: str = Field(default="lava-crm:delete", min_length=1, validation_alias="LAVA_MCP_SCOPE_DELETE")

    @field_validator("secret_key", "crm_token", "confirm_secret", "oauth_client_secret")
    @classmethod
    def _blank_is_unset(cls, value: SecretStr | None) -> SecretStr | None:
        """An empty variable (`LAVA_SECRET_KEY=`) is no credential, not an empty one."""
        return value if value is not None and value.get_secret_value().strip() else None

    @field_validator("mode", mode="before")
    @classmethod
    def _mode_spelling(cls, value: object) -> object:
        """`Read only`, `read_only`, `readonly` mean read-only (likewise no-delete); empty means the default."""
        if not isinstance(value, str):
            return value
        spelled = "-".join(value.strip().lower().replace("_", " ").replace("-", " ").split())
        return {"": "full", "readonly": "read-only", "nodelete": "no-delete"}.get(spelled, spelled)

    @field_validator("audit_log", "metrics_port", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("sandbox")
    @classmethod
    def _sandbox_switch(cls, value: str | None) -> str | None:
        """`true`/`1`/`yes`: the sandbox at its default path; `false`/`0`/`no`/empty: off; anything else: a path."""
        flag = (value or "").strip()
        if flag.lower() in ("", "false", "0", "no", "off"):
            return None
        return "" if flag.lower() in ("true", "1", "yes", "on") else flag

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            _zone(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder such as "Europe"
            hint = "" if available_timezones() else " (no time-zone database found: install the tzdata package)"
            raise ValueError(
                f"unknown time zone {value!r}{hint}; use an IANA name such as UTC or Europe/Paris"
            ) from None
        return value

    @field_validator("scope_read", "scope_write", "scope_delete")
    @classmethod
    def _one_scope(cls, value: str) -> str:
        if not SCOPE.fullmatch(value):
            raise ValueError("a scope is one word of printable ASCII, without spaces, quotes or backslashes")
        return value

    @field_validator("oauth_algorithms")
    @classmethod
    def _public_key_algorithms(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        refused = sorted(set(value) - set(ASYMMETRIC))
        if refused:
            raise ValueError(f"{', '.join(refused)} not accepted (public-key algorithms only): {', '.join(ASYMMETRIC)}")
        return value or ASYMMETRIC

    @field_validator("toolsets", "allowed_hosts", "allowed_origins", "oauth_algorithms", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        return _split(value)

    @field_validator("auth_tokens", mode="before")
    @classmethod
    def _token_list(cls, value: object) -> object:
        return _split(value.get_secret_value() if isinstance(value, SecretStr) else value)

    @field_validator("toolsets")
    @classmethod
    def _known_toolsets(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from lava_crm_mcp.catalog import catalog

        known = catalog().toolsets
        unknown = sorted(set(value) - set(known))
        if unknown:
            raise ValueError(f"unknown toolset(s) {', '.join(unknown)}; valid: {', '.join(known)}")
        return value

    @property
    def auth_mode(self) -> AuthMode:
        """The HTTP endpoint's auth: explicit, else static tokens when some are set, else none."""
        return self.auth or ("tokens" if self.auth_tokens else "none")

    def today(self) -> dt.date:
        """Today's date in the configured time zone."""
        return dt.datetime.now(_zone(self.timezone)).date()

    @property
    def retry(self) -> RetryPolicy:
        return RetryPolicy(deadline=self.call_deadline, max_attempts=self.max_attempts)

    def crm_client(self, upstream: Upstream, transport: httpx.AsyncBaseTransport | None = None) -> CrmClient:
        """A CRM client with this configuration's timeouts, retries, size cap and clock."""
        from lava_crm_mcp.crm.client import CrmClient

        return CrmClient(
            upstream,
            transport=transport,
            timeout=self.timeout,
            retry=self.retry,
            clock=self.today,
            max_bytes=self.max_response_bytes,
        )

    def upstream(self, *, anonymous: bool = False) -> Upstream:
        """The CRM route: the gateway when LAVA_SECRET_KEY is set, else direct with LAVA_CRM_TOKEN.

        `anonymous` (passthrough auth) allows no server credential: each caller's key is used instead,
        through the gateway unless only LAVA_CRM_TOKEN selects the direct route.
        """
        if self.secret_key is not None:
            return Upstream(self.base_url, self.secret_key, gateway_url=self.gateway_url)
        if self.crm_token is not None:
            return Upstream(self.base_url, self.crm_token)
        if anonymous:
            return Upstream(self.base_url, SecretStr(""), gateway_url=self.gateway_url)
        raise MissingCredentials

    def route(self) -> str:
        """Where CRM calls go, for the startup line (never a credential)."""
        if self.secret_key is not None:
            return f"Lava gateway {self.gateway_url}"
        if self.crm_token is not None:
            return f"direct {self.base_url}"
        return f"each caller's own Lava key, through {self.gateway_url}"

    def oauth_problem(self) -> str | None:
        """What LAVA_MCP_AUTH=oauth lacks or gets wrong, in one sentence; None when it is ready."""
        required = {"LAVA_MCP_OAUTH_ISSUER": self.oauth_issuer, "LAVA_MCP_RESOURCE_URL": self.resource_url}
        missing = [name for name, url in required.items() if url is None]
        if missing:
            return f"LAVA_MCP_AUTH=oauth needs {missing[0]} (see the README, Remote connector)."
        optional = {"LAVA_MCP_OAUTH_JWKS_URL": self.oauth_jwks_url}
        optional |= {"LAVA_MCP_OAUTH_INTROSPECTION_URL": self.oauth_introspection_url}
        for name, url in (required | optional).items():
            parts = httpx.URL(url) if url is not None else None
            if parts is not None and parts.scheme != "https" and not (parts.scheme == "http" and _loopback(parts)):
                return f"{name} must be an https URL (http only on loopback), not {url!r}."
        return None

    def named_tokens(self) -> tuple[tuple[str, str], ...]:
        """(token, name) of each LAVA_MCP_AUTH_TOKENS entry: `name:token` names it; a bare token is named by a short
        fingerprint (`token-3f2a1b`), never by any part of itself."""
        named: list[tuple[str, str]] = []
        for entry in self.auth_tokens:
            text = entry.get_secret_value()
            name, _, token = text.partition(":")
            if not (token and TOKEN_NAME.fullmatch(name)):
                name, token = f"token-{hashlib.sha256(text.encode()).hexdigest()[:6]}", text
            named.append((token, name))
        return tuple(named)

    def confirm_key_path(self) -> Path:
        """Where the confirm-token key is kept when neither a secret nor a long CRM credential provides one."""
        if self.confirm_key_file:
            return Path(self.confirm_key_file).expanduser()
        from platformdirs import user_data_dir

        return Path(user_data_dir("lava-crm-mcp", appauthor=False)) / "confirm.key"

    def local_name(self) -> str:
        """Who a local process (stdio, `call`) acts for: LAVA_CRM_USER, else the login name."""
        if self.local_user and self.local_user.strip():
            return self.local_user.strip()
        try:
            return getpass.getuser()
        except (OSError, KeyError):  # no login name (some containers): say so rather than guess
            return "local user"

    def has_credentials(self) -> bool:
        return self.secret_key is not None or self.crm_token is not None
