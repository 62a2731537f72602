#!/usr/bin/env bash
# The hub under connection load, with the release programs (docs/BENCHMARKS.md, "Connection
# hardening"): 1,100 half-sent connections under `ulimit -n 1024`, stalled connections and
# --idle-timeout, 48 concurrent maximum-size pages with the hub's peak RSS (VmHWM). Runs
# HubHardeningTests against .build/release and prints the lines they measure.
#
#   scripts/bench-connections.sh
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product hub
swift build -c release --product unit-client
log=$(mktemp "${TMPDIR:-/tmp}/cchc-bench-connections.XXXXXX")
trap 'rm -f "$log"' EXIT
status=0
CCHC_BIN_DIR="$PWD/.build/release" swift test --filter HubHardeningTests >"$log" 2>&1 || status=$?
grep -E '^(halfSent|idleTimeout|concurrentMaximumPages):' "$log" || true
tail -n 3 "$log"
exit "$status"
