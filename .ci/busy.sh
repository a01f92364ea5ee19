#!/usr/bin/env bash
# Run a command while every CPU is kept busy by a spinning process (as on a slow, shared CI machine), and print its
# wall time. The suite must pass like this: a test that depends on timing it does not control fails here first.
#   bash .ci/busy.sh python -m pytest
set -euo pipefail

spinners=()
stop() { for pid in "${spinners[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap stop EXIT
for _ in $(seq "$(nproc)"); do
  ( while :; do :; done ) &
  spinners+=("$!")
done
echo "busy: ${#spinners[@]} spinning processes on $(nproc) CPUs"
started=$SECONDS
"$@"
echo "busy: '$*' passed in $((SECONDS - started)) s with every CPU saturated"
