# Shell functions shared by the benchmark drivers in this directory (sourced, not run).

# CPU seconds of PID's threads, grouped by name without its trailing number, largest first; groups with none left out.
by_thread() {
  local t name rest hz; hz=$(getconf CLK_TCK)
  for t in /proc/"$1"/task/*; do
    name=$(cat "$t/comm" 2>/dev/null) && rest=$(cat "$t/stat" 2>/dev/null) || continue
    rest=${rest##*) }; set -- $rest
    printf '%s\t%s\n' "$(sed -E 's/[-#]?[0-9]+$//' <<<"$name")" "$(( ${12} + ${13} ))"
  done | awk -F'\t' -v hz="$hz" '{ c[$1] += $2; all += $2 }
    END { for (k in c) if (c[k] > 0) printf "  %7.1f s  %s\n", c[k] / hz, k | "sort -rn"; close("sort -rn"); printf "  %7.1f s  all\n", all / hz }'
}

# A free TCP port on loopback.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Finds ours.sh (in $BENCH, else ../shared/bench beside the repository) and sets the load for $1 series: 100 metrics
# times $1/100 hosts. Exits when ours.sh is not found.
bench_setup() {
  BENCH="${BENCH:-$(cd "$(dirname "$0")/../../../shared/bench" 2>/dev/null && pwd)}"
  [ -x "$BENCH/ours.sh" ] || { echo "ours.sh not found; set BENCH to the directory that holds it" >&2; exit 2; }
  export GEN_ARGS="--metrics 100 --hosts $(($1 / 100))"
  export BENCH_RESULTS="${BENCH_RESULTS:-/tmp/bench-results}"; mkdir -p "$BENCH_RESULTS"
}

# Starts the server JAR (JVM flags first, then the jar) on free loopback ports with a data directory of its own and
# waits until it is ready; sets pid, tcp, http and data. METERLINE_ARGS go to the server.
start_server() {
  local jar=$1; shift
  tcp=$(free_port); http=$(free_port); data=$(mktemp -d /tmp/meterline-bench-XXXX)
  # shellcheck disable=SC2086
  java "$@" -jar "$jar" --bind 127.0.0.1 --tcp-port "$tcp" --http-port "$http" --data-dir "$data" \
    --max-series 2000000 ${METERLINE_ARGS:-} > "$data/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 150); do curl -fs "http://127.0.0.1:$http/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
}

# Sends $1 points, $2 times, to the server start_server started, through ours.sh; prints ours.sh's whole output.
send_load() {
  OURS_COUNT_PATH=/api/v1/stats OURS_COUNT_REGEX='"accepted"\s*:\s*([0-9]+)' OURS_PID=$pid \
    "$BENCH/ours.sh" 127.0.0.1 "$tcp" "$http" "$1" "$2" 2>&1
}

# Stops the server start_server started (SIGTERM, as Kubernetes does) and removes its data directory.
stop_server() {
  kill -TERM "$pid"; wait "$pid" 2>/dev/null; rm -rf "$data"
}
