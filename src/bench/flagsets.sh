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
    tcp=$(free_port); http=$(free_port); data=$(mktemp -d /tmp/meterline-flags-XXXX)
    # shellcheck disable=SC2086
    java $flags -jar "$JAR" --bind 127.0.0.1 --tcp-port "$tcp" --http-port "$http" --data-dir "$data" \
      --max-series 2000000 ${METERLINE_ARGS:-} > "$data/server.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 150); do curl -fs "http://127.0.0.1:$http/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
    out=$(OURS_COUNT_PATH=/api/v1/stats OURS_COUNT_REGEX='"accepted"\s*:\s*([0-9]+)' OURS_PID=$pid \
      "$BENCH/ours.sh" 127.0.0.1 "$tcp" "$http" "$N" "$RUNS" 2>&1)
    echo "round=$round series=$SERIES set=$label load=$(cut -d' ' -f1 /proc/loadavg) $(date +%H:%M:%S)" \
      "$(grep '^SUMMARY' <<<"$out" | tail -1)"
    grep -o 'rate_pps=[0-9]*\|pps_per_cpu_s=[0-9]*' <<<"$out" | paste -sd' ' | sed 's/^/  runs: /'
    by_thread "$pid"
    kill -TERM "$pid"; wait "$pid" 2>/dev/null; rm -rf "$data"
  done < "$SETS"
done
