"""The audit trail of the real `lava-crm-mcp` command: bare JSON lines on stderr by default, appended to the file
LAVA_MCP_AUDIT_LOG names (by every process that writes to it, never truncated), naming the caller as timeline
entries do (the local user over stdio and `call`, a static token's name over HTTP), never a value; a file that
cannot be written is one line and exit code 2."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conftest import HttpServer, StartHttp

Cli = Callable[..., Any]
EMAIL = "zq.audited@example.org"
CREATE = json.dumps({"first_name": "Zq", "last_name": "Audited", "primary_email": EMAIL})


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_call_appends_one_line_per_write_to_the_audit_file_and_no_value(cli: Cli, tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    env = {"LAVA_MCP_AUDIT_LOG": str(audit), "LAVA_CRM_USER": "tester"}
    sandbox = str(tmp_path / "crm.sqlite3")
    first = cli("call", "create_contact", CREATE, "--sandbox", sandbox, env=env)
    second = cli("call", "create_account", '{"name": "Zq Audited Ltd"}', "--sandbox", sandbox, env=env)
    read = cli("call", "search_contacts", '{"query": "Zq"}', "--sandbox", sandbox, env=env)

    assert (first.returncode, second.returncode, read.returncode) == (0, 0, 0), first.stderr + second.stderr
    written = lines(audit)
    assert [(line["tool"], line["noun"], line["outcome"], line["actor"]) for line in written] == [
        ("create_contact", "contact", "done", "tester via local"),
        ("create_account", "account", "done", "tester via local"),
    ]
    assert all(line["id"] and line["actor_kind"] == "local" for line in written)
    assert EMAIL not in audit.read_text()
    assert '"tool":' not in first.stderr  # the file has the line; stderr does not


def test_without_a_file_the_lines_go_to_stderr_as_bare_json(cli: Cli, tmp_path: Path) -> None:
    done = cli("call", "create_contact", CREATE, "--sandbox", str(tmp_path / "crm.sqlite3"), env={"LAVA_CRM_USER": "t"})

    assert done.returncode == 0, done.stderr
    (line,) = [json.loads(text) for text in done.stderr.splitlines() if text.startswith("{")]
    assert (line["tool"], line["outcome"], line["actor"]) == ("create_contact", "done", "t via local")
    assert EMAIL not in done.stderr


def test_an_audit_file_that_cannot_be_written_is_one_line_and_exit_2(cli: Cli, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir" / "audit.jsonl"
    sandbox = str(tmp_path / "crm.sqlite3")
    refused = cli("call", "search_contacts", "{}", "--sandbox", sandbox, env={"LAVA_MCP_AUDIT_LOG": str(missing)})

    assert refused.returncode == 2
    assert refused.stderr.startswith("lava-crm-mcp: LAVA_MCP_AUDIT_LOG: cannot append to")
    assert len(refused.stderr.strip().splitlines()) == 1


def test_over_http_a_line_names_the_static_token_s_holder(http_server: StartHttp, tmp_path: Path) -> None:
    audit = tmp_path / "http-audit.jsonl"
    server: HttpServer = http_server(env={"LAVA_MCP_AUTH_TOKENS": "anna:tok-anna", "LAVA_MCP_AUDIT_LOG": str(audit)})
    params = {"name": "create_contact", "arguments": json.loads(CREATE)}
    answer = server.post(
        {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params},
        headers={"Authorization": "Bearer tok-anna"},
    )

    assert answer.status_code == 200
    record = answer.json()["result"]["structuredContent"]["record"]
    (line,) = lines(audit)
    assert (line["actor"], line["actor_kind"], line["id"]) == ("anna via token", "token", record["id"])
    assert "tok-anna" not in audit.read_text()
    assert EMAIL not in audit.read_text() + server.stderr()
