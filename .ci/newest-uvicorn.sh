#!/usr/bin/env bash
# The transport tests again on the newest uvicorn PyPI serves (we allow uvicorn>=0.35,<1): the HTTP request deadline
# leans on uvicorn's protocol internals (serving.py checks them at start), so a release that changes them is seen
# here first. When the newest is the one .ci/constraints.txt pins, the main run already tested it.
set -euo pipefail
cd "$(dirname "$0")/.."

pinned="$(sed -n 's/^uvicorn==//p' .ci/constraints.txt)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --no-deps --dest "$work" "uvicorn>=0.35,<1"
newest="$(basename "$(ls "$work"/uvicorn-*.whl)" | sed -E 's/^uvicorn-([^-]+)-.*/\1/')"
echo "newest uvicorn on PyPI: $newest (pinned for CI: $pinned)"
if [[ "$newest" == "$pinned" ]]; then
  echo "the main run already tested uvicorn $newest"
  exit 0
fi
python3 -m venv .venv-newest-uvicorn
# shellcheck disable=SC1091
. .venv-newest-uvicorn/bin/activate
python -m pip install --quiet --upgrade pip
grep -v '^uvicorn==' .ci/constraints.txt >"$work/constraints.txt"  # the rest of the stack as CI tests it
python -m pip install --quiet -e ".[test]" -c "$work/constraints.txt" "uvicorn==$newest"
python -m pytest -p no:cacheprovider tests/e2e
