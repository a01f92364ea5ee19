#!/usr/bin/env bash
# Tests again on the newest release of one dependency that PyPI serves within our range, so a release that breaks
# us is seen here before a user's `pip install` picks it. When that release is the one .ci/constraints.txt pins,
# the main run already tested it and this says so and stops.
#   bash .ci/newest.sh PACKAGE RANGE free|pinned [pytest arguments]
# free: the package's newest with whatever it pulls in; pinned: the rest of the stack as .ci/constraints.txt has it.
set -euo pipefail
cd "$(dirname "$0")/.."

package="$1" range="$2" rest="$3"
shift 3
pinned="$(sed -n "s/^${package}==//p" .ci/constraints.txt)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --no-deps --dest "$work" "$range"
newest="$(basename "$(ls "$work"/"$package"-*.whl)" | sed -E "s/^${package}-([^-]+)-.*/\\1/")"
echo "newest $package on PyPI within $range: $newest (pinned for CI: $pinned)"
if [[ "$newest" == "$pinned" ]]; then
  echo "the main run already tested $package $newest"
  exit 0
fi
python3 -m venv ".venv-newest-$package"
# shellcheck disable=SC1091
. ".venv-newest-$package/bin/activate"
python -m pip install --quiet --upgrade pip
constraints=()
if [[ "$rest" == pinned ]]; then
  grep -v "^${package}==" .ci/constraints.txt >"$work/constraints.txt"
  constraints=(-c "$work/constraints.txt")
fi
python -m pip install --quiet -e ".[test]" "${constraints[@]}" "$package==$newest"
python -m pytest -p no:cacheprovider "$@"
