"""Start-up where the system has no time-zone database (Windows, slim images): UTC needs none, other zones use tzdata.

The servers run with PYTHONTZPATH naming an empty folder, so zoneinfo finds no system file and falls back to the
`tzdata` package; the in-process test takes that away too.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import zoneinfo
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest
from mcp import Client, StdioServerParameters
from pydantic import ValidationError

from lava_crm_mcp.settings import Settings, config_problems

Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def no_system_zones(tmp_path: Path) -> dict[str, str]:
    """The environment of a server on a system without /usr/share/zoneinfo."""
    empty = tmp_path / "no-zoneinfo"
    empty.mkdir()
    return {"PYTHONTZPATH": str(empty)}


@pytest.fixture
def no_tz_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """In this process, zoneinfo finds nothing at all: no search path and no tzdata package."""
    for name in [name for name in sys.modules if name == "tzdata" or name.startswith("tzdata.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "tzdata", None)
    monkeypatch.delenv("LAVA_CRM_TIMEZONE", raising=False)
    zoneinfo.reset_tzpath([])
    ZoneInfo.clear_cache()
    yield
    zoneinfo.reset_tzpath()
    ZoneInfo.clear_cache()


def far_from_utc() -> str:
    """A zone whose date is not UTC's now: UTC+14 from 10:00 UTC to midnight, UTC-11 from midnight to 11:00 UTC."""
    return "Pacific/Kiritimati" if dt.datetime.now(dt.UTC).hour >= 10 else "Pacific/Pago_Pago"


@pytest.mark.anyio
@pytest.mark.parametrize("timezone", [None, "Europe/Paris"])
async def test_with_no_system_time_zones_the_stdio_server_starts_and_answers(
    timezone: str | None, no_system_zones: dict[str, str], stdio_params: Callable[..., StdioServerParameters]
) -> None:
    env = no_system_zones | ({"LAVA_CRM_TIMEZONE": timezone} if timezone else {})
    async with Client(stdio_params(env=env), read_timeout_seconds=30) as client:
        assert "search_contacts" in {tool.name for tool in (await client.list_tools()).tools}
        found = await client.call_tool("search_contacts", {"query": "ada"})
        assert not found.is_error, found.content
        assert found.structured_content is not None
        assert [item["first_name"] for item in found.structured_content["items"]] == ["Ada"]

        zone = ZoneInfo(timezone) if timezone else dt.UTC
        before = dt.datetime.now(zone).date()
        tasks = await client.call_tool("search_tasks", {})
        after = dt.datetime.now(zone).date()
    assert not tasks.is_error, tasks.content
    assert tasks.structured_content is not None
    assert dt.date.fromisoformat(tasks.structured_content["today"]) in {before, after}


def test_a_named_zone_is_read_from_tzdata_and_its_rules_apply(
    cli: Cli, tmp_path: Path, no_system_zones: dict[str, str]
) -> None:
    name = far_from_utc()
    env = no_system_zones | {"LAVA_CRM_TIMEZONE": name}
    zone = ZoneInfo(name)
    utc_before, zone_before = dt.datetime.now(dt.UTC).date(), dt.datetime.now(zone).date()
    out = cli("call", "search_tasks", "{}", "--sandbox", str(tmp_path / "s.sqlite3"), env=env)
    utc_dates = {utc_before, dt.datetime.now(dt.UTC).date()}
    zone_dates = {zone_before, dt.datetime.now(zone).date()}
    assert out.returncode == 0, out.stderr
    stated = re.search(r"today is (\d{4}-\d{2}-\d{2})", out.stdout)
    assert stated is not None, out.stdout
    day = dt.date.fromisoformat(stated[1])
    assert day in zone_dates
    assert day not in utc_dates or len(utc_dates) == 2  # UTC's midnight passed during the call: both are possible


def test_an_unknown_zone_is_one_line_and_exit_2(cli: Cli, tmp_path: Path, no_system_zones: dict[str, str]) -> None:
    done = cli(
        "stdio", "--sandbox", str(tmp_path / "s.sqlite3"), env=no_system_zones | {"LAVA_CRM_TIMEZONE": "Mars/Olympus"}
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "lava-crm-mcp: invalid configuration: LAVA_CRM_TIMEZONE: unknown time zone 'Mars/Olympus'; use an IANA name "
        "such as UTC or Europe/Paris (README, Configuration, lists every variable)."
    ]


@pytest.mark.usefixtures("no_tz_database")
def test_utc_needs_no_time_zone_database_at_all() -> None:
    with pytest.raises(ZoneInfoNotFoundError):
        ZoneInfo("UTC")  # the premise: zoneinfo itself finds nothing

    for settings in (Settings(), Settings(timezone="Etc/UTC")):
        before = dt.datetime.now(dt.UTC).date()
        today = settings.today()
        assert today in {before, dt.datetime.now(dt.UTC).date()}

    with pytest.raises(ValidationError) as refused:
        Settings(timezone="Europe/Paris")
    assert "unknown time zone 'Europe/Paris' (no time-zone database found: install the tzdata package)" in (
        config_problems(refused.value)
    )
