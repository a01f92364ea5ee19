"""The command line parses its options without side effects."""

import pytest

from lava_crm_mcp.sandbox.__main__ import build_parser, main


def test_the_parser_has_safe_defaults() -> None:
    args = build_parser().parse_args([])
    assert (args.host, args.port, args.open_mode, args.token, args.dialect, args.seed) == (
        "127.0.0.1",
        8765,
        False,
        None,
        "drf",
        None,
    )


def test_the_parser_reads_every_option() -> None:
    argv = [
        "--port",
        "9000",
        "--db",
        ":memory:",
        "--open",
        "--token",
        "a",
        "--token",
        "b",
        "--dialect",
        "django-crm",
        "--seed",
        "demo",
        "--host",
        "::1",
    ]
    args = build_parser().parse_args(argv)
    assert (args.port, args.db, args.open_mode, args.token, args.dialect, args.seed, args.host) == (
        9000,
        ":memory:",
        True,
        ["a", "b"],
        "django-crm",
        "demo",
        "::1",
    )


def test_an_unknown_dialect_is_a_usage_error() -> None:
    with pytest.raises(SystemExit):
        main(["--dialect", "soap"])


def test_tokens_may_name_their_org_or_get_their_own() -> None:
    from lava_crm_mcp.sandbox.__main__ import _token_org  # pyright: ignore[reportPrivateUsage]

    assert [_token_org("abc=acme", 1), _token_org("def", 2)] == [("abc", "acme"), ("def", "org-2")]
