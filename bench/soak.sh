#!/usr/bin/env bash
# bench/soak.sh: a long run of mixed load at half capacity, watching memory, latency and the WAL.
#
#   bench/soak.sh [--minutes 30] [--sample 30] [--warmup 5] [--rate R] [--connections 32] [--threads N]
#                 [--build-dir build] [--redress BINARY]
#
#   1. starts `redress serve` (durability full, the system clock, --log-level warn, no --smtp:
#      mail waits in the outbox) on a fresh data directory with 1,000 cases made through the API;
#   2. unless --rate is given, measures the capacity of the mix: wrk at full speed, 64
#      connections, 20 s (bench/wrk/mixed.lua: 15% creations, 10% messages on cases made during
#      the run, 45% case reads, 10% list queries, 10% client-link reads, 10% histories);
#   3. runs the same mix at half that rate for --minutes, as back-to-back wrk runs of --sample
#      seconds each (each connection pauses between requests; the pause is corrected after each
#      window so that the rate stays on target), and after each window samples the server's RSS
#      (VmRSS, /proc/PID/status), the WAL and database sizes;
#   4. prints a row per window (rate, p50, p99, non-2xx answers, RSS and its anonymous part, WAL,
#      DB) and the verdict:
#      memory growth <= 10%, both of VmRSS (all the process's resident memory) and of its
#      anonymous part RssAnon (heap and stacks: what a leak grows), from the first warmed-up window
#      (the first after --warmup minutes, while SQLite's page caches, bounded at 64 MiB for the
#      writer and 32 MiB per reader, and the writer's case snapshots fill) to the last; p99 steady: the median p99 of the last third of the warmed-up windows is at most 1.5x
#      that of the first third; WAL bounded: never above 64 MiB
#      (journal_size_limit; the writer checkpoints from 32 MiB); no answer other than 2xx.
# Exit status 0 when every target is met, 1 otherwise. On 2 cores the load generator and the
# server share the CPUs (and so does anything else running): the figures are of that machine.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

minutes=30 sample=30 warmup=5 rate= connections=32 threads=0 build=build redress_override=
while [[ $# -gt 0 ]]; do
  case "$1" in
    --minutes) minutes=$2; shift 2 ;;
    --sample) sample=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --build-dir) build=$2; shift 2 ;;
    --redress) redress_override=$2; shift 2 ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) echo "bench/soak.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ $threads -gt 0 ]] || threads=$(nproc)
command -v wrk >/dev/null || { echo "bench/soak.sh: wrk is not installed (scripts/install-deps --test)" >&2; exit 1; }
if [[ -z $redress_override && ( ! -x $build/redress || -n ${BENCH_REBUILD:-} ) ]]; then
  echo "building into $build ..." >&2
  scripts/build "$build" >/dev/null
fi
redress=${redress_override:-$root/$build/redress}

work=$(mktemp -d /tmp/redress-soak.XXXXXX)
server_pid=
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

data=$work/data
export REDRESS_DATA_DIR=$data REDRESS_LOG_LEVEL=warn REDRESS_DURABILITY=full
"$redress" migrate >/dev/null
"$redress" staff add --name Soak --email soak@example.org --role admin >/dev/null
token=$("$redress" staff token --email soak@example.org 2>/dev/null)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# wrk's connections all come from 127.0.0.1: no per-address cap (docs/security.md, item 17).
"$redress" serve --listen "127.0.0.1:$port" --threads "$threads" --max-connections-per-address 0 >"$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
url=http://127.0.0.1:$port

# 1,000 cases to read, each with its client link.
python3 - "$url" "$token" >"$work/refs" <<'EOF'
import http.client, json, sys
host, port = sys.argv[1].split("//")[1].split(":")
c = http.client.HTTPConnection(host, int(port))
for i in range(1000):
    body = {"client": {"name": "Ana Ruiz", "email": "ana%d@example.org" % i}, "channel": "web", "category": "billing",
            "subject": "Seed %d" % i, "description": "Charged twice.", "workflow": "retail"}
    c.request("POST", "/v1/cases", json.dumps(body), {"Authorization": "Bearer " + sys.argv[2], "Content-Type": "application/json"})
    r = c.getresponse(); data = json.loads(r.read())
    assert r.status == 201, data
    print(data["reference"], data["client_url"].rsplit("/", 1)[1])
EOF
export REDRESS_TOKEN=$token REDRESS_REFS=$work/refs

# One wrk run: "rate p50_ms p99_ms non2xx" on stdout.
run_wrk() {  # $1 seconds, $2 connections, $3 delay in ms
  REDRESS_DELAY_MS=$3 wrk -t 2 -c "$2" -d "${1}s" --latency -s bench/wrk/mixed.lua "$url" >"$work/wrk.out" 2>&1 || true
  python3 - "$work/wrk.out" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
def ms(v, unit):
    return float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
lat = {p: ms(v, u) for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)}
bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
n = (int(bad.group(1)) if bad else 0) + (sum(map(int, errors.groups())) if errors else 0)
print("%.0f %.2f %.2f %d" % (rate, lat["50"], lat["99"], n))
EOF
}

if [[ -z $rate ]]; then
  read -r capacity _ _ _ < <(run_wrk 20 64 0)
  rate=$((capacity / 2))
  echo "capacity of the mix: $capacity requests/s (64 connections, 20 s); soaking at $rate/s" >&2
fi
delay=$(python3 -c "print(max(0, round($connections / $rate * 1000 - 1)))")

windows=$((minutes * 60 / sample))
printf '%-6s %8s %8s %8s %7s %9s %9s %9s %9s\n' window "req/s" "p50 ms" "p99 ms" non2xx "RSS MiB" "anon MiB" "WAL MiB" "DB MiB" | tee "$work/table"
for ((w = 1; w <= windows; w++)); do
  read -r got p50 p99 bad < <(run_wrk "$sample" "$connections" "$delay")
  rss=$(awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$server_pid/status")
  anon=$(awk '/^RssAnon:/ {printf "%.1f", $2 / 1024}' "/proc/$server_pid/status")
  wal=$(stat -c %s "$data/redress.db-wal" 2>/dev/null || echo 0)
  db=$(stat -c %s "$data/redress.db")
  printf '%-6s %8s %8s %8s %7s %9s %9s %9s %9s\n' "$w" "$got" "$p50" "$p99" "$bad" "$rss" "$anon" \
    "$(awk -v b="$wal" 'BEGIN { printf "%.1f", b / 1048576 }')" "$(awk -v b="$db" 'BEGIN { printf "%.1f", b / 1048576 }')" |
    tee -a "$work/table"
  # Keep the rate on target: the pause is what is left of each connection's cycle after the answer,
  # moved half way there each window (a full step chases the last window's noise).
  delay=$(python3 -c "
c, target, got, d = $connections, $rate, max($got, 1), $delay
answer = max(0.0, c / got * 1000 - d)
print(max(0, round((d + c / target * 1000 - answer) / 2)))")
done

python3 - "$work/table" "$rate" "$((warmup * 60 / sample))" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]).read().splitlines()[1:]]
rate = float(sys.argv[2]); skip = int(sys.argv[3])
rss = [float(r[5]) for r in rows]; p99 = [float(r[3]) for r in rows]; anon = [float(r[6]) for r in rows]
wal = [float(r[7]) for r in rows]; bad = sum(int(r[4]) for r in rows)
got = statistics.median(float(r[1]) for r in rows)
warm = rows[skip:] if len(rows) > skip + 1 else rows[-2:]
third = max(1, len(warm) // 3)
first = statistics.median(float(r[3]) for r in warm[:third]); last = statistics.median(float(r[3]) for r in warm[-third:])
growth = (rss[-1] - float(warm[0][5])) / float(warm[0][5]) * 100
anon_growth = (anon[-1] - float(warm[0][6])) / float(warm[0][6]) * 100
checks = [
    # All resident memory (VmRSS), and its anonymous part (heap, stacks), which is what a leak grows.
    # SQLite reads through bounded page caches, not a memory map, so neither grows with the database.
    ("memory (VmRSS) growth from window %s to the end <= 10%%" % warm[0][0], growth <= 10,
     "%+.1f%% (%.1f -> %.1f MiB)" % (growth, float(warm[0][5]), rss[-1])),
    ("memory (RssAnon) growth from window %s to the end <= 10%%" % warm[0][0], anon_growth <= 10,
     "%+.1f%% (%.1f -> %.1f MiB)" % (anon_growth, float(warm[0][6]), anon[-1])),
    ("p99 steady: median of the last third <= 1.5x the first", last <= 1.5 * first, "%.2f ms -> %.2f ms (%.2fx)" % (first, last, last / first)),
    ("WAL bounded: <= 64 MiB in every sample", max(wal) <= 64, "largest %.1f MiB" % max(wal)),
    ("every answer 2xx", bad == 0, "%d others" % bad),
]
print("\n%d windows at a target of %.0f/s (median %.0f/s), p99 median %.2f ms" % (len(rows), rate, got, statistics.median(p99)))
for name, ok, detail in checks:
    print("  %-58s %-4s %s" % (name, "" if name.startswith("  ") else "ok" if ok else "MISS", detail))
print("verdict: %s" % ("PASS" if all(ok for _, ok, _ in checks) else "FAIL"))
sys.exit(0 if all(ok for _, ok, _ in checks) else 1)
EOF
