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
# shellcheck disable=SC2086
start_server "$JAR" ${JVM_FLAGS:--Xmx768m} -XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints \
  -XX:StartFlightRecording=filename="$OUT",settings=profile
send_load "$N" "$RUNS" | grep '^SUMMARY' | tail -1
jcmd "$pid" JFR.dump filename="$OUT" >/dev/null
stop_server
