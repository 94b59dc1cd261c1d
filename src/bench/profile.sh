#!/usr/bin/env bash
# Records a JFR profile of one Meterline server under the load ab.sh sends.
#
# usage: src/bench/profile.sh SERIES N RUNS server.jar out.jfr
#   One server (-Xmx768m, -XX:+DebugNonSafepoints so that samples fall on the line that ran, JFR's "profile"
#   settings), N points over 4 loopback TCP connections sent RUNS times by ../shared/bench/ours.sh; the recording is
#   dumped to out.jfr before the server stops. Read it with e.g.
#   jfr print --json --events jdk.ExecutionSample --stack-depth 40 out.jfr
#   env: BENCH=dir of ours.sh; JVM_FLAGS replaces -Xmx768m; METERLINE_ARGS go to the server.
set -uo pipefail
SERIES="${1:?usage: profile.sh SERIES N RUNS server.jar out.jfr}"; N="${2:?N}"; RUNS="${3:?RUNS}"
JAR="${4:?server.jar}"; OUT="${5:?out.jfr}"
. "$(dirname "$0")/lib.sh"
bench_setup "$SERIES"
OUT=$(realpath -m "$OUT"); rm -f "$OUT"
tcp=$(free_port); http=$(free_port); data=$(mktemp -d /tmp/meterline-profile-XXXX)
# shellcheck disable=SC2086
java ${JVM_FLAGS:--Xmx768m} -XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints \
  -XX:StartFlightRecording=filename="$OUT",settings=profile -jar "$JAR" --bind 127.0.0.1 --tcp-port "$tcp" \
  --http-port "$http" --data-dir "$data" --max-series 2000000 ${METERLINE_ARGS:-} > "$data/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 150); do curl -fs "http://127.0.0.1:$http/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
OURS_COUNT_PATH=/api/v1/stats OURS_COUNT_REGEX='"accepted"\s*:\s*([0-9]+)' OURS_PID=$pid \
  "$BENCH/ours.sh" 127.0.0.1 "$tcp" "$http" "$N" "$RUNS" 2>&1 | grep '^SUMMARY' | tail -1
jcmd "$pid" JFR.dump filename="$OUT" >/dev/null
kill -TERM "$pid"; wait "$pid" 2>/dev/null; rm -rf "$data"
