#!/usr/bin/env bash
# Alternates builds of Meterline on the same load, so that their figures come from one sitting.
#
# usage: src/bench/ab.sh SERIES N RUNS old.jar new.jar [more.jar ...]
#   Two rounds; in each, every jar in turn gets a fresh server (its own data directory) and N points over 4
#   loopback TCP connections, sent RUNS times by ../shared/bench/ours.sh (100 metrics x SERIES/100 hosts).
#   Prints one summary line per jar per round (median points/s, points per server CPU-second, peak RSS, and the
#   load average as the round ended).
#   env: JVM_FLAGS (e.g. -Xmx768m) and METERLINE_ARGS go to every server; BENCH=dir of ours.sh;
#   BY_THREAD=1 also prints, per server, its CPU seconds by thread group (event loops, shards, store, GC, JIT, ...)
#   summed from /proc/PID/task/*/stat after the runs: the steadiest comparison on a loaded machine.
set -uo pipefail
SERIES="${1:?usage: ab.sh SERIES N RUNS old.jar new.jar ...}"; N="${2:?N}"; RUNS="${3:?RUNS}"; shift 3
. "$(dirname "$0")/lib.sh"
bench_setup "$SERIES"
for round in 1 2; do
  for jar in "$@"; do
    # shellcheck disable=SC2086
    start_server "$jar" ${JVM_FLAGS:-}
    summary=$(send_load "$N" "$RUNS" | grep '^SUMMARY' | tail -1)
    echo "round=$round $(basename "$jar") $summary load=$(cut -d" " -f1-3 /proc/loadavg | tr " " /)"
    [ -n "${BY_THREAD:-}" ] && by_thread "$pid"
    stop_server
  done
done
