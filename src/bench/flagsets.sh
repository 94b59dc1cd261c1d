#!/usr/bin/env bash
# Alternates JVM flag sets on one jar under the same load, so that the collectors' and compilers' figures come from
# one sitting.
#
# usage: src/bench/flagsets.sh SERIES N RUNS JAR SETS_FILE
#   SETS_FILE holds one flag set a line, "label|JVM flags", e.g. "parallel|-Xmx768m -XX:+UseParallelGC".
#   Two rounds; in each, every flag set in turn gets a fresh server (its own data directory) and N points over 4
#   loopback TCP connections, sent RUNS times by ../shared/bench/ours.sh (100 metrics x SERIES/100 hosts). Prints,
#   per server, the summary line (median points/s, points per server CPU-second, peak RSS), each run's rates and
#   the server's CPU seconds by thread group from /proc/PID/task/*/stat, as `ab.sh` with BY_THREAD=1 does.
#   env: BENCH=dir of ours.sh; METERLINE_ARGS go to every server.
set -uo pipefail
SERIES="${1:?usage: flagsets.sh SERIES N RUNS JAR SETS_FILE}"; N="${2:?N}"; RUNS="${3:?RUNS}"; JAR="${4:?JAR}"
SETS="${5:?SETS_FILE}"
. "$(dirname "$0")/lib.sh"
bench_setup "$SERIES"
for round in 1 2; do
  while IFS='|' read -r label flags; do
    [ -z "$label" ] && continue
    # shellcheck disable=SC2086
    start_server "$JAR" $flags
    out=$(send_load "$N" "$RUNS")
    echo "round=$round series=$SERIES set=$label load=$(cut -d' ' -f1 /proc/loadavg) $(date +%H:%M:%S)" \
      "$(grep '^SUMMARY' <<<"$out" | tail -1)"
    grep -o 'rate_pps=[0-9]*\|pps_per_cpu_s=[0-9]*' <<<"$out" | paste -sd' ' | sed 's/^/  runs: /'
    by_thread "$pid"
    stop_server
  done < "$SETS"
done
