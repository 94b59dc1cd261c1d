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
