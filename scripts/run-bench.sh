#!/usr/bin/env bash
# Run every benchmark program in BUILD/bench in turn (each prints its table).
set -euo pipefail
build=${1:-build}
status=0
for b in "$build"/bench/bench_*; do
    [[ -x "$b" ]] || continue
    echo "== $(basename "$b")"
    "$b" || status=1
done
exit $status
