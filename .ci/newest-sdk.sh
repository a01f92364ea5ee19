#!/usr/bin/env bash
# The suite again on the newest mcp 2.x that PyPI serves (our pin is mcp>=2.3,<3), so a 2.x release that breaks
# us is seen here before a user's `pip install` picks it. When that release is the one .ci/constraints.txt pins,
# the main run already tested it and this step says so and stops.
set -euo pipefail
cd "$(dirname "$0")/.."

pinned="$(sed -n 's/^mcp==//p' .ci/constraints.txt)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --no-deps --dest "$work" "mcp>=2.3,<3"
newest="$(basename "$(ls "$work"/mcp-*.whl)" | sed -E 's/^mcp-([^-]+)-.*/\1/')"
echo "newest mcp 2.x on PyPI: $newest (pinned for CI: $pinned)"
if [[ "$newest" == "$pinned" ]]; then
  echo "the main run already tested mcp $newest"
  exit 0
fi
python3 -m venv .venv-newest-sdk
# shellcheck disable=SC1091
. .venv-newest-sdk/bin/activate
python -m pip install --quiet --upgrade pip
python -m pip install --quiet -e ".[test]" "mcp==$newest"
python -m pytest -p no:cacheprovider
