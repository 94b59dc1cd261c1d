#!/usr/bin/env bash
# Alternates builds of Meterline on the same load, so that their figures come from one sitting.
#
# usage: src/bench/ab.sh SERIES N RUNS old.jar new.jar [more.jar ...]
#   Two rounds; in each, every jar in turn gets a fresh server (its own data directory) and N points over 4
#   loopback TCP connections, sent RUNS times by ../shared/bench/ours.sh (100 metrics x SERIES/100 hosts).
#   Prints one summary line per jar per round (median points/s, points per server CPU-second, peak RSS).
#   env: JVM_FLAGS (e.g. -Xmx768m) and METERLINE_ARGS go to every server; BENCH=dir of ours.sh;
#   BY_THREAD=1 also prints, per server, its CPU seconds by thread group (event loops, shards, store, GC, JIT, ...)
#   summed from /proc/PID/task/*/stat after the runs: the steadiest comparison on a loaded machine.
set -uo pipefail
SERIES="${1:?usage: ab.sh SERIES N RUNS old.jar new.jar ...}"; N="${2:?N}"; RUNS="${3:?RUNS}"; shift 3
. "$(dirname "$0")/lib.sh"
bench_setup "$SERIES"
for round in 1 2; do
  for jar in "$@"; do
    tcp=$(free_port); http=$(free_port); data=$(mktemp -d /tmp/meterline-ab-XXXX)
    # shellcheck disable=SC2086
    java ${JVM_FLAGS:-} -jar "$jar" --bind 127.0.0.1 --tcp-port "$tcp" --http-port "$http" --data-dir "$data" \
      --max-series 2000000 ${METERLINE_ARGS:-} > "$data/server.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 150); do curl -fs "http://127.0.0.1:$http/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
    summary=$(OURS_COUNT_PATH=/api/v1/stats OURS_COUNT_REGEX='"accepted"\s*:\s*([0-9]+)' OURS_PID=$pid \
      "$BENCH/ours.sh" 127.0.0.1 "$tcp" "$http" "$N" "$RUNS" 2>&1 | grep '^SUMMARY' | tail -1)
    echo "round=$round $(basename "$jar") $summary"
    [ -n "${BY_THREAD:-}" ] && by_thread "$pid"
    kill -TERM "$pid"; wait "$pid" 2>/dev/null; rm -rf "$data"
  done
done
