"""Common mistakes end in one line on stderr saying what is wrong and what to do, and exit code 2: no traceback."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

Cli = Callable[..., subprocess.CompletedProcess[str]]
SECRET = "sk_live_do_not_print_me_0123456789"


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("lava-crm-mcp")
    return lines[0]


def test_a_file_that_is_not_a_database(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database, just notes\n" * 50)
    line = one_line(cli("call", "search_contacts", "--sandbox", str(path)))
    assert f"The sandbox path {path} cannot be used as a database" in line
    assert "give a new file path" in line
    assert path.read_text().startswith("not a database")  # left as it was


def test_a_directory_as_the_sandbox_path(cli: Cli, tmp_path: Path) -> None:
    line = one_line(cli("stdio", "--sandbox", str(tmp_path)))
    suggested = tmp_path / "sandbox.sqlite3"
    assert f"The sandbox path {tmp_path} is a directory: give a file, e.g. --sandbox {suggested}" in line


@pytest.mark.parametrize("port", ["99999", "0", "http", "-1"])
def test_a_port_out_of_range(cli: Cli, port: str) -> None:
    line = one_line(cli("http", "--port", port, "--sandbox"))
    assert f"'{port}' is not a port: use a number from 1 to 65535" in line


def test_a_port_in_use_fails_before_announcing_anything(cli: Cli, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_line(cli("http", "--port", str(port), "--sandbox", str(tmp_path / "s.sqlite3")))
    assert f"Port {port} on 127.0.0.1 is already in use" in line
    assert "choose another --port" in line


def test_a_host_that_is_not_this_machine(cli: Cli, tmp_path: Path) -> None:
    env = {"LAVA_MCP_AUTH_TOKENS": "a-long-enough-static-token-1234"}
    line = one_line(cli("http", "--host", "192.0.2.1", "--port", "8123", "--sandbox", str(tmp_path / "s"), env=env))
    assert "--host 192.0.2.1 is not an address of this machine" in line


def test_bad_environment_values_are_named_in_one_line_without_their_values(cli: Cli) -> None:
    env = {"LAVA_CRM_MODE": "rw", "LAVA_CRM_TIMEOUT": "soon", "LAVA_SECRET_KEY": SECRET, "LAVA_MCP_AUTH": SECRET}
    line = one_line(cli("tools", env=env))
    assert line.startswith("lava-crm-mcp: invalid configuration: ")
    assert "LAVA_CRM_MODE: Input should be 'read-only', 'no-delete' or 'full'" in line
    assert "LAVA_CRM_TIMEOUT: Input should be a valid number" in line
    assert "LAVA_MCP_AUTH: " in line
    assert SECRET not in line
    assert "errors.pydantic.dev" not in line


def test_an_unknown_option(cli: Cli) -> None:
    line = one_line(cli("http", "--prot", "8000"))
    assert "unrecognized arguments: --prot 8000" in line
    assert "--help" in line


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({}, "LAVA_MCP_AUTH=oauth needs LAVA_MCP_OAUTH_ISSUER"),
        ({"LAVA_MCP_OAUTH_ISSUER": "https://auth.example.com"}, "LAVA_MCP_AUTH=oauth needs LAVA_MCP_RESOURCE_URL"),
        (
            {
                "LAVA_MCP_OAUTH_ISSUER": "http://auth.example.com",
                "LAVA_MCP_RESOURCE_URL": "https://mcp.example.com/mcp",
            },
            "LAVA_MCP_OAUTH_ISSUER must be an https URL (http only on loopback)",
        ),
        (
            {"LAVA_MCP_OAUTH_ISSUER": "https://auth.example.com", "LAVA_MCP_OAUTH_ALGORITHMS": "RS256,HS256"},
            "LAVA_MCP_OAUTH_ALGORITHMS: HS256 not accepted (public-key algorithms only)",
        ),
    ],
)
def test_an_incomplete_oauth_setup(cli: Cli, tmp_path: Path, env: dict[str, str], says: str) -> None:
    line = one_line(cli("http", "--sandbox", str(tmp_path / "s"), env={"LAVA_MCP_AUTH": "oauth", **env}))
    assert says in line


@pytest.mark.parametrize("port", ["99999", "0", "http"])
def test_the_sandbox_command_refuses_a_port_out_of_range(cli: Cli, port: str) -> None:
    line = one_line(cli("sandbox", "--port", port))
    assert f"'{port}' is not a port: use a number from 1 to 65535" in line


def test_the_sandbox_command_on_a_port_in_use_says_so_before_anything_else(cli: Cli, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_line(cli("sandbox", "--port", str(port), "--db", str(tmp_path / "s.sqlite3")))
    assert f"Port {port} on 127.0.0.1 is already in use" in line


def test_the_sandbox_command_on_a_file_that_is_not_a_database(cli: Cli, tmp_path: Path, port: int) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database, just notes\n" * 50)
    line = one_line(cli("sandbox", "--port", str(port), "--db", str(path)))
    assert f"The sandbox path {path} cannot be used as a database" in line
    assert path.read_text().startswith("not a database")


def test_the_sandbox_command_on_a_directory(cli: Cli, tmp_path: Path, port: int) -> None:
    line = one_line(cli("sandbox", "--port", str(port), "--db", str(tmp_path)))
    assert f"The sandbox path {tmp_path} is a directory" in line


def test_an_unknown_mode_flag_lists_the_modes(cli: Cli) -> None:
    line = one_line(cli("stdio", "--mode", "rw"))
    assert "argument --mode: invalid choice: 'rw' (choose from 'read-only', 'no-delete', 'full')" in line
