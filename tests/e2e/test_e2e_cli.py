"""The `lava-crm-mcp` command line, run as a subprocess in a clean environment."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from lava_crm_mcp import __version__
from lava_crm_mcp.catalog import catalog

Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_prints_the_package_version(cli: Cli, flag: str) -> None:
    done = cli(flag)
    assert done.returncode == 0
    assert done.stdout.strip() == f"lava-crm-mcp {__version__}"


@pytest.mark.parametrize("command", ["stdio", "http", "call"])
def test_help_shows_how_to_start_read_only(cli: Cli, command: str) -> None:
    done = cli(command, "--help")
    assert done.returncode == 0
    assert "--mode {read-only,no-delete,full}" in done.stdout


def test_the_mode_flag_wins_over_the_environment(cli: Cli, tmp_path: Path) -> None:
    call = ("call", "create_contact", '{"first_name": "Zq", "last_name": "Flag"}', "--sandbox", str(tmp_path / "s"))

    refused = cli(*call, "--mode", "read-only", env={"LAVA_CRM_MODE": "full"})
    created = cli(*call, "--mode", "full", env={"LAVA_CRM_MODE": "read-only"})

    assert refused.returncode == 1
    assert "create_contact is disabled: this server runs in read-only mode" in refused.stderr
    assert created.returncode == 0, created.stderr


def test_without_a_credential_or_sandbox_the_stdio_server_exits_2_naming_every_way_out(cli: Cli) -> None:
    for argv in ((), ("stdio",)):
        done = cli(*argv)
        assert done.returncode == 2, done.stderr
        assert done.stdout == ""
        for hint in ("LAVA_SECRET_KEY", "LAVA_CRM_TOKEN", "--sandbox"):
            assert hint in done.stderr


def test_without_a_credential_or_sandbox_the_http_server_exits_2_too(cli: Cli, port: int) -> None:
    done = cli("http", "--port", str(port), timeout=30)  # refused before binding anything
    assert done.returncode == 2
    assert "LAVA_SECRET_KEY" in done.stderr
    assert "--sandbox" in done.stderr


def test_a_blank_credential_counts_as_none(cli: Cli) -> None:
    done = cli(env={"LAVA_SECRET_KEY": " ", "LAVA_CRM_TOKEN": ""})
    assert done.returncode == 2
    assert "LAVA_SECRET_KEY" in done.stderr


def test_serving_http_beyond_loopback_without_auth_is_refused_with_exit_2(cli: Cli, tmp_path: Path, port: int) -> None:
    everywhere = "0.0.0.0"  # noqa: S104 - never bound: the command must refuse first
    done = cli("http", "--host", everywhere, "--port", str(port), "--sandbox", str(tmp_path / "s.sqlite3"), timeout=30)
    assert done.returncode == 2
    assert "Refusing to serve on 0.0.0.0 without auth" in done.stderr
    assert "LAVA_MCP_AUTH_TOKENS" in done.stderr
    assert not (tmp_path / "s.sqlite3").exists()  # refused before touching anything


def test_token_auth_without_tokens_is_refused_with_exit_2(cli: Cli, tmp_path: Path, port: int) -> None:
    done = cli("http", "--port", str(port), "--sandbox", str(tmp_path / "s.sqlite3"), env={"LAVA_MCP_AUTH": "tokens"})
    assert done.returncode == 2
    assert "LAVA_MCP_AUTH_TOKENS" in done.stderr


def test_tools_prints_the_catalog_as_a_table(cli: Cli) -> None:
    done = cli("tools")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:5] == ["name", "tier", "toolset", "enabled", "description"]
    assert len(lines) == 1 + len(catalog().tools)
    assert any(line.startswith("search_contacts ") for line in lines)
    assert any(line.startswith("move_deal_to_stage ") for line in lines)


def test_tools_marks_disabled_tools_under_a_restricted_mode(cli: Cli) -> None:
    rows = {
        line.split()[0]: line.split()[3]
        for line in cli("tools", env={"LAVA_CRM_MODE": "read-only"}).stdout.splitlines()[1:]
    }
    assert rows["search_contacts"] == "yes"
    assert rows["create_contact"] == "no"
    assert rows["delete_deal"] == "no"


def test_call_prints_a_tool_result_as_text(cli: Cli, tmp_path: Path) -> None:
    done = cli("call", "search_contacts", '{"query":"ada"}', "--sandbox", str(tmp_path / "s.sqlite3"))
    assert done.returncode == 0, done.stderr
    assert "Ada" in done.stdout
    assert "Lovelace" in done.stdout
    assert "Traceback" not in done.stderr


def test_call_of_a_failing_tool_exits_1_and_explains_on_stderr(cli: Cli, tmp_path: Path) -> None:
    done = cli("call", "update_deal", '{"deal_id":"x","stage":"Won"}', "--sandbox", str(tmp_path / "s.sqlite3"))
    assert done.returncode == 1
    assert "move_deal_to_stage" in done.stderr
    assert done.stdout == ""


def test_call_with_arguments_that_are_not_a_json_object_exits_2(cli: Cli, tmp_path: Path) -> None:
    for arguments in ("{bad", "[1, 2]"):
        done = cli("call", "search_contacts", arguments, "--sandbox", str(tmp_path / "s.sqlite3"))
        assert done.returncode == 2, arguments
        assert "must be a JSON object" in done.stderr


def test_an_http_auth_mode_does_not_apply_to_a_local_call(cli: Cli, tmp_path: Path) -> None:
    sandbox = str(tmp_path / "s.sqlite3")
    done = cli(
        "call", "search_contacts", '{"query": "ada"}', "--sandbox", sandbox, env={"LAVA_MCP_AUTH": "passthrough"}
    )
    assert done.returncode == 0, done.stderr
    assert "Lovelace" in done.stdout


def test_lava_crm_sandbox_in_the_environment_means_the_sandbox_no_credential_needed(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "from-env.sqlite3"
    done = cli("call", "search_contacts", '{"query": "ada"}', env={"LAVA_CRM_SANDBOX": str(path)})
    assert done.returncode == 0, done.stderr
    assert "Ada Lovelace" in done.stdout
    assert path.exists()
    done = cli("call", "search_contacts", env={"LAVA_CRM_SANDBOX": "false"})
    assert done.returncode == 2
    assert "LAVA_CRM_SANDBOX=true" in done.stderr


def test_a_delete_previewed_by_one_process_is_confirmed_by_the_next_with_no_secret_configured(
    cli: Cli, tmp_path: Path
) -> None:
    """Each `call` is its own process (as with clients that start a server per call): the token still holds."""
    where = ("--sandbox", str(tmp_path / "s.sqlite3"))
    made = cli("call", "create_contact", '{"first_name": "Zq", "last_name": "Twice"}', *where)
    contact = re.search(r"Created contact ([0-9a-f-]{36})", made.stdout)
    assert contact is not None, made.stdout + made.stderr

    preview = cli("call", "delete_contact", json.dumps({"contact_id": contact[1]}), *where)
    token = re.search(r"confirm='([^']+)'", preview.stdout)
    assert token is not None, preview.stdout + preview.stderr
    done = cli("call", "delete_contact", json.dumps({"contact_id": contact[1], "confirm": token[1]}), *where)

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Deleted contact Zq Twice ({contact[1]})")
