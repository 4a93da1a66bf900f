#!/usr/bin/env bash
# bench/http.sh: HTTP throughput of `redress serve` against a minimal Beast server, with wrk.
#
#   bench/http.sh [--runs R] [--duration SECONDS] [--connections C] [--wrk-threads T]
#                 [--threads N] [--durability full|normal] [--build-dir DIR] [--redress BINARY]
#                 [--database postgresql://… [--nodes K]]
#
# Builds (scripts/build build-bench-http) if needed, then:
#   1. starts bench/baseline_server (same threading model: N threads, a strand per connection)
#      answering a fixed JSON body;
#   2. starts `redress serve` on a fresh data directory (migrate, one admin, a token, 200 cases
#      created through the API for the reads) with --log-level warn;
#   3. R times, in turn: wrk against the baseline (GET), POST /v1/cases (a new case each request,
#      no Idempotency-Key; bench/wrk/create.lua) and GET /v1/cases/{ref} (the 200 references;
#      bench/wrk/read.lua); C keep-alive connections, T wrk threads, --latency;
#   4. prints each run, then the median rate of each, its ratio to the baseline median, the median
#      of the p99 latencies, and the targets (issue 3: creations >= 0.4x with p99 <= 20 ms,
#      reads >= 0.7x), and the fsync latency of the data directory's file system (one 4 KiB append
#      and fdatasync, as a WAL commit does), which bounds durable creations: at most
#      C / fsync time per second, whatever the server does;
#   5. prints where the server's writes spent their time over all the runs (its /metrics:
#      redress_store_*): the mean write, its wait in the queue, its group's time, the rest (the
#      commit's wait for the sync to disk and the answer), and the mean sync.
# --redress runs another build of `redress` (to compare two versions on the same machine).
# --database runs the server on that PostgreSQL database (give it one of its own: 200 cases are
# added), and --nodes K starts K `redress serve` nodes on it (sharing one server key); each wrk
# run is then K wrk processes at once, C/K connections to each node: the rates are summed, the p99
# is the worst node's (docs/scaling.md).
# The load generator shares the machine with the server: on 2 cores every figure is a share of
# the same CPUs. Defaults: R=3, 10 s, 64 connections, 2 wrk threads; about 2 minutes in all.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

redress_override= runs=3 duration=10 connections=64 wrk_threads=2 threads=0 durability=full build=build-bench-http
database= nodes=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --wrk-threads) wrk_threads=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --durability) durability=$2; shift 2 ;;
    --build-dir) build=$2; shift 2 ;;
    --redress) redress_override=$2; shift 2 ;;
    --database) database=$2; shift 2 ;;
    --nodes) nodes=$2; shift 2 ;;
    -h|--help) sed -n '2,31p' "$0"; exit 0 ;;
    *) echo "bench/http.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ $threads -gt 0 ]] || threads=$(nproc)
[[ $nodes -eq 1 || -n $database ]] || { echo "bench/http.sh: --nodes needs --database (nodes share PostgreSQL)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "bench/http.sh: wrk is not installed (apt-get install wrk)" >&2; exit 1; }

if [[ ! -x $build/redress || ! -x $build/bench/baseline_server || -n ${BENCH_REBUILD:-} ]]; then
  echo "building into $build ..." >&2
  scripts/build "$build" >/dev/null
fi
redress=${redress_override:-$root/$build/redress}
baseline=$root/$build/bench/baseline_server

work=$(mktemp -d /tmp/redress-bench-http.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {  # wait until something answers on 127.0.0.1:$1
  for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$1/healthz" && return 0
    sleep 0.1
  done
  echo "bench/http.sh: nothing listens on port $1" >&2; exit 1
}

# ---- the baseline -------------------------------------------------------------------------------
base_port=$(free_port)
"$baseline" --port "$base_port" --threads "$threads" >"$work/baseline.log" 2>&1 &
pids+=($!)

# ---- redress serve on a fresh data directory (or K nodes on one PostgreSQL database) ------------
data=$work/data
export REDRESS_DATA_DIR=$data REDRESS_LOG_LEVEL=warn REDRESS_DURABILITY=$durability
[[ -z $database ]] || export REDRESS_DATABASE_URL=$database
"$redress" migrate >/dev/null
"$redress" staff add --name Bench --email bench@example.org --role admin >/dev/null
token=$("$redress" staff token --email bench@example.org 2>/dev/null)
ports=()
for n in $(seq 0 $((nodes - 1))); do
  node_data=$data
  if [[ $n -gt 0 ]]; then
    node_data=$work/data-$n
    mkdir -p "$node_data"
    install -m 600 "$data/server.key" "$node_data/server.key"  # one key for every node
  fi
  node_port=$(free_port)
  # wrk's connections all come from 127.0.0.1: no per-address cap (docs/security.md, item 17).
  "$redress" serve --data-dir "$node_data" --listen "127.0.0.1:$node_port" --threads "$threads" --log-level warn \
    --durability "$durability" --max-connections-per-address 0 >"$work/serve-$n.log" 2>&1 &
  pids+=($!)
  wait_port "$node_port"
  ports+=("$node_port")
done
port=${ports[0]}
wait_port "$base_port"

body='{"client":{"name":"Ana Ruiz","email":"ana@example.org"},"channel":"web","category":"billing","touchpoint":"billing","subject":"Seeded","description":"I was charged twice for one order.","workflow":"retail"}'
: >"$work/refs"
for i in $(seq 200); do
  curl -sf -X POST "http://127.0.0.1:$port/v1/cases" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d "$body" | jq -r .reference >>"$work/refs"
done
[[ $(grep -c '^CMP-' "$work/refs") -eq 200 ]] || { echo "bench/http.sh: seeding failed" >&2; cat "$work/serve-0.log" >&2; exit 1; }
export REDRESS_TOKEN=$token REDRESS_REFS=$work/refs

# ---- measuring ----------------------------------------------------------------------------------
# One wrk run; prints "RATE P99_MS ERRORS" (errors: non-2xx/3xx answers plus socket errors).
measure() {  # measure PORT PATH [LUA]
  local out
  out=$(wrk -t"$wrk_threads" -c"$connections" -d"${duration}s" --latency ${3:+-s "$3"} "http://127.0.0.1:$1$2")
  echo "$out" >>"$work/wrk.log"
  awk '
    /Requests\/sec:/ { rate = $2 }
    /^ +99%/ { v = $2; unit = v; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v);
               p99 = (unit == "us") ? v / 1000 : (unit == "s") ? v * 1000 : (unit == "m") ? v * 60000 : v }
    /Non-2xx or 3xx responses:/ { errors += $5 }
    /Socket errors:/ { gsub(/,/, ""); errors += $4 + $6 + $8 + $10 }
    END { printf "%.0f %.2f %d\n", rate, p99, errors }' <<<"$out"
}

# The same on every node at once, C/K connections each: "RATE P99_MS ERRORS" summed (p99: the worst).
measure_nodes() {  # measure_nodes PATH [LUA]
  if [[ $nodes -eq 1 ]]; then measure "$port" "$@"; return; fi
  local n files=()
  for n in "${!ports[@]}"; do
    (connections=$((connections / nodes)); measure "${ports[$n]}" "$@" >"$work/measure-$n") &
    files+=("$work/measure-$n")
  done
  wait  # measure_nodes runs in a subshell of its own (< <(…)): its jobs are only the wrk runs
  cat "${files[@]}" | awk '{ r += $1; if ($2 > p) p = $2; e += $3 } END { printf "%.0f %.2f %d\n", r, p, e }'
}

declare -a base_rates base_p99 create_rates create_p99 read_rates read_p99
printf 'redress bench/http.sh: %d runs of %ss, %d connections, wrk -t%d, %d server threads, durability %s, %d cores%s\n' \
  "$runs" "$duration" "$connections" "$wrk_threads" "$threads" "$durability" "$(nproc)" \
  "${database:+, $nodes node(s) on PostgreSQL}"
for r in $(seq "$runs"); do
  read -r rate p99 errors < <(measure "$base_port" /)
  base_rates+=("$rate"); base_p99+=("$p99")
  printf 'run %d  baseline  %8s req/s  p99 %7s ms  errors %s\n' "$r" "$rate" "$p99" "$errors"
  read -r rate p99 errors < <(measure_nodes /v1/cases "$root/bench/wrk/create.lua")
  create_rates+=("$rate"); create_p99+=("$p99")
  printf 'run %d  create    %8s req/s  p99 %7s ms  errors %s\n' "$r" "$rate" "$p99" "$errors"
  read -r rate p99 errors < <(measure_nodes /v1/cases/x "$root/bench/wrk/read.lua")
  read_rates+=("$rate"); read_p99+=("$p99")
  printf 'run %d  read      %8s req/s  p99 %7s ms  errors %s\n' "$r" "$rate" "$p99" "$errors"
done

# The file system's commit latency: 200 appends of 4 KiB, each followed by fdatasync.
fsync_ms=$(python3 - "$data" <<'PY'
import os, sys, time
path = os.path.join(sys.argv[1], "fsync-probe")
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
times = []
for _ in range(200):
    os.write(fd, b"x" * 4096)
    t = time.perf_counter(); os.fdatasync(fd); times.append(time.perf_counter() - t)
os.close(fd); os.unlink(path)
times.sort()
print("%.2f %.2f" % (times[len(times) // 2] * 1000, times[int(len(times) * 0.99)] * 1000))
PY
)
read -r fsync_median fsync_p99 <<<"$fsync_ms"

# The server's own account of its writes (seeding included: 200 of many thousands).
store_line=$(curl -sf "http://127.0.0.1:$port/metrics" | awk '
  /^redress_store_(queue_wait|group|sync|write)_seconds_(sum|count) / { v[$1] = $2 }
  END {
    w = v["redress_store_write_seconds_count"]; g = v["redress_store_group_seconds_count"]; s = v["redress_store_sync_seconds_count"]
    if (w == 0 || g == 0) exit
    q = v["redress_store_queue_wait_seconds_sum"] / w * 1000
    grp = v["redress_store_group_seconds_sum"] / g * 1000
    all = v["redress_store_write_seconds_sum"] / w * 1000
    printf "the server'"'"'s writes (/metrics): %d in %d groups (%.1f a group); a write took %.2f ms on average: %.2f in the queue, %.2f a group, %.2f the rest (mostly the wait for the sync)", w, g, w / g, all, q, grp, all - q - grp
    if (s > 0) printf "; %d syncs, %.2f ms each on average", s, v["redress_store_sync_seconds_sum"] / s * 1000
    printf "\n" }')

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
base=$(median "${base_rates[@]}")
verdict() {  # verdict RATE P99 MIN_RATIO MAX_P99(or -)
  awk -v r="$1" -v p="$2" -v b="$base" -v want="$3" -v maxp="$4" 'BEGIN {
    ok = (r / b >= want) && (maxp == "-" || p <= maxp)
    printf "%s", ok ? "met" : "NOT met" }'
}
row() {  # row NAME RATE P99 TARGET
  awk -v n="$1" -v r="$2" -v p="$3" -v b="$base" -v t="$4" 'BEGIN { printf "%-20s %10.0f %8.2f %9.2f  %s\n", n, r, r / b, p, t }'
}
c=$(median "${create_rates[@]}"); cp=$(median "${create_p99[@]}")
g=$(median "${read_rates[@]}"); gp=$(median "${read_p99[@]}")
echo
echo "medians of $runs runs (durability $durability; the load generator shares the $(nproc) cores):"
printf '%-20s %10s %8s %9s  %s\n' "" "req/s" "ratio" "p99 ms" "target"
row "baseline GET" "$base" "$(median "${base_p99[@]}")" ""
row "POST /v1/cases" "$c" "$cp" ">= 0.4x, p99 <= 20 ms: $(verdict "$c" "$cp" 0.4 20)"
row "GET /v1/cases/{ref}" "$g" "$gp" ">= 0.7x: $(verdict "$g" "$gp" 0.7 -)"
awk -v m="$fsync_median" -v p="$fsync_p99" -v c="$connections" -v d="$durability" 'BEGIN {
  printf "fdatasync of a 4 KiB append here: median %.2f ms, p99 %.2f ms", m, p
  if (d == "full") printf "; with %d connections durable creations cannot exceed %d/s (one commit in flight)", c, c / (m / 1000)
  printf "\n" }'
if [[ -n $store_line ]]; then echo "$store_line"; fi
