#!/usr/bin/env bash
# The transport tests again on the newest uvicorn PyPI serves (we allow uvicorn>=0.35,<1), the rest of the stack as
# CI pins it: the HTTP request deadline leans on uvicorn's protocol internals (serving.py checks them at start).
exec bash "$(dirname "$0")/newest.sh" uvicorn "uvicorn>=0.35,<1" pinned tests/e2e
