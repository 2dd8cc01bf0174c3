#!/usr/bin/env bash
# A million-device fleet on one box: load, database size, a simulated day, console pages.
#
#   bench/fleet-1m.sh [--help]     (DEVICES=6000 DAY_DEVICES=1000 bench/fleet-1m.sh: a 15-minute check)
#
# Builds ocs-server, ocs-loadgen and the console benchmark in release mode, then for each
# backend of BACKENDS, on a fresh database in a temporary work directory:
#   load     DEVICES simulated devices sent through the agent protocol (ocs-loadgen
#            --skip-prolog: INVENTORY only, as `ocsinventory-agent -f`), the simulator's three
#            agent shapes, 5-2,000 software entries each drawn from IMAGES base images per
#            catalogue (--images: a Zipf-like share of the fleet per image, half of the
#            devices with a few packages of their own), generated and sent BATCH at a time,
#            LOAD_CONCURRENCY in flight; load time and rate, server CPU per device
#   size     the database per device: SQLite's file plus its WAL after a checkpoint,
#            PostgreSQL's pg_database_size
#   day      DAY_DEVICES of them re-inventoried once (PROLOG + INVENTORY, 10 % changed:
#            ocs-loadgen --reinventory-only), arrivals spread at DAY_RATE per second (12/s is
#            what a daily inventory of 1,000,000 devices needs); the server's CPU share (CPU
#            seconds / wall seconds, 100 % = one core; PostgreSQL's own processes reported
#            apart) and the PROLOG and INVENTORY latency percentiles
#   console  the console benchmark's pages (crates/ocs-server/benches/console.rs --url:
#            All computers, page 200, sorted by TAG, TAG repartition, search for two
#            software names and an OS) timed CONSOLE_RUNS times against the loaded server,
#            median and p90 against the 300 ms budget; the two names are the Windows
#            packages found on the most devices (ocs-loadgen --common-software)
# and prints one summary table (bench/fleet_table.py) on stdout; progress goes to stderr.
# PostgreSQL runs in a throwaway cluster (scripts/pg-cluster.sh) on a free port in the work
# directory. A smaller DAY_DEVICES is a sample of the day and is reported as such. At the
# defaults the day alone lasts 23 hours per backend and the databases need a large disk.
#
# Environment (defaults in brackets): DEVICES [1000000], BACKENDS [sqlite,postgres],
# LOAD_CONCURRENCY [8], DAY_RATE [12], DAY_DEVICES [DEVICES], DAY_CONCURRENCY [16],
# IMAGES [200], SEED [1], BATCH [10000], CONSOLE_RUNS [15],
# WORK_DIR [a new /tmp/ocs-fleet.XXXXXX; it holds the databases],
# KEEP [0: 1 keeps the work directory with the JSON results and logs].
set -euo pipefail
cd "$(dirname "$0")/.."

for a in "$@"; do
    case "$a" in
        -h|--help) sed -n 2,39p "$0"; exit 0 ;;
        *) echo "unknown argument: $a (try --help)" >&2; exit 2 ;;
    esac
done

DEVICES=${DEVICES:-1000000}
BACKENDS=${BACKENDS:-sqlite,postgres}
LOAD_CONCURRENCY=${LOAD_CONCURRENCY:-8}
DAY_RATE=${DAY_RATE:-12}
DAY_DEVICES=${DAY_DEVICES:-$DEVICES}
DAY_CONCURRENCY=${DAY_CONCURRENCY:-16}
IMAGES=${IMAGES:-200}
SEED=${SEED:-1}
BATCH=${BATCH:-10000}
CONSOLE_RUNS=${CONSOLE_RUNS:-15}

if [ "$DAY_DEVICES" -gt "$DEVICES" ]; then
    echo "DAY_DEVICES ($DAY_DEVICES) cannot exceed DEVICES ($DEVICES)" >&2
    exit 2
fi
for b in ${BACKENDS//,/ }; do
    case "$b" in sqlite|postgres) ;; *) echo "unknown backend $b (sqlite, postgres)" >&2; exit 2 ;; esac
done

log() { printf '\n== %s\n' "$*" >&2; }
now() { date +%s.%N; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# CPU seconds (user + system, waited-for children included) of a process tree.
tree_cpu() { python3 bench/proctree_cpu.py "$1"; }

log "building ocs-server, ocs-loadgen and the console benchmark (release)"
cargo build --release --locked -p ocs-server -p ocs-loadgen >&2
cargo bench --locked -p ocs-server --bench console --no-run >&2
SERVER=$PWD/target/release/ocs-server
LOADGEN=$PWD/target/release/ocs-loadgen

if [ -n "${WORK_DIR:-}" ]; then
    mkdir -p "$WORK_DIR"
    work=$(mktemp -d "$WORK_DIR/ocs-fleet.XXXXXX")
else
    work=$(mktemp -d /tmp/ocs-fleet.XXXXXX)
fi
pids=()
pg_dirs=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    for d in "${pg_dirs[@]}"; do ./scripts/pg-cluster.sh stop "$d" >/dev/null 2>&1 || true; done
    if [ "${KEEP:-0}" = 1 ]; then echo "results kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
log "work directory $work ($(df -h --output=avail "$work" | tail -n 1 | tr -d ' ') free)"

FLEET=(--seed "$SEED" --images "$IMAGES" --software-min 5 --software-max 2000 --batch "$BATCH")

log "search terms: the two Windows packages on the most devices"
"$LOADGEN" --agents "$DEVICES" "${FLEET[@]}" --common-software 200 >"$work/common.tsv"
mapfile -t SEARCH < <(awk -F'\t' '$2 == "windows" { print $3 }' "$work/common.tsv" | head -n 2)
if [ "${#SEARCH[@]}" -lt 2 ]; then
    echo "no two Windows packages found for the search (see $work/common.tsv)" >&2
    exit 1
fi
echo "  ${SEARCH[0]} / ${SEARCH[1]}" >&2

# Starts ocs-server for backend $1 in $work/$1; sets SERVER_PID, BASE, DB_PID, DB_URL.
start_server() {
    local backend=$1 dir=$work/$1 port db_args=()
    mkdir -p "$dir"
    DB_PID=""
    DB_URL=""
    if [ "$backend" = postgres ]; then
        local pg_port admin
        pg_port=$(free_port)
        # As root the cluster runs as 'postgres', which must be able to reach it.
        [ "$(id -u)" -eq 0 ] && chmod o+x "$work" "$dir"
        admin=$(./scripts/pg-cluster.sh start "$dir/pg" "$pg_port")
        pg_dirs+=("$dir/pg")
        psql "$admin" -qAt -c "CREATE DATABASE fleet" >/dev/null
        DB_URL=${admin%/*}/fleet
        DB_PID=$(head -n 1 "$dir/pg/postmaster.pid")
        db_args=(--database "$DB_URL")
    fi
    port=$(free_port)
    OCS_LOG__LEVEL=warn "$SERVER" --data-dir "$dir" "${db_args[@]}" serve --listen "127.0.0.1:$port" --tls-listen 127.0.0.1:0 \
        >"$dir/server.log" 2>&1 &
    SERVER_PID=$!
    pids+=("$SERVER_PID")
    BASE=http://127.0.0.1:$port
    for _ in $(seq 300); do
        curl -fsS "$BASE/healthz" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "ocs-server did not start: $(cat "$dir/server.log")" >&2
    exit 1
}

stop_server() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    if [ -n "$DB_PID" ]; then ./scripts/pg-cluster.sh stop "$work/$1/pg" >/dev/null; fi
}

# Bytes the backend's database takes; for SQLite after a checkpoint, WAL included.
db_bytes() {
    if [ "$1" = sqlite ]; then
        python3 - "$work/sqlite/ocs.db" <<'EOF'
import os, sqlite3, sys
db = sys.argv[1]
c = sqlite3.connect(db, timeout=60)
c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
c.close()
print(sum(os.path.getsize(p) for p in (db, db + "-wal") if os.path.exists(p)))
EOF
    else
        psql "$DB_URL" -qAt -c "SELECT pg_database_size(current_database())"
    fi
}

day_period=$(python3 -c "print(round($DAY_DEVICES / $DAY_RATE, 3))")
for backend in ${BACKENDS//,/ }; do
    start_server "$backend"
    out=$work/$backend
    log "$backend: ocs-server pid $SERVER_PID on $BASE${DB_PID:+, PostgreSQL pid $DB_PID}"

    log "$backend: loading $DEVICES devices (INVENTORY only, concurrency $LOAD_CONCURRENCY, $IMAGES images, batches of $BATCH)"
    db0=$([ -n "$DB_PID" ] && tree_cpu "$DB_PID" || echo 0)
    t0=$(now)
    "$LOADGEN" --url "$BASE/ocsinventory" --agents "$DEVICES" "${FLEET[@]}" --skip-prolog \
        --concurrency "$LOAD_CONCURRENCY" --server-pid "$SERVER_PID" --json >"$out/load.json"
    t1=$(now)
    db1=$([ -n "$DB_PID" ] && tree_cpu "$DB_PID" || echo 0)
    bytes=$(db_bytes "$backend")
    echo "{\"wall_s\": $(python3 -c "print($t1 - $t0)"), \"db_bytes\": $bytes, \"db_cpu_s\": $(python3 -c "print($db1 - $db0)")}" \
        >"$out/load-extra.json"

    log "$backend: the day: $DAY_DEVICES devices re-inventoried (10 % changed) at $DAY_RATE/s over $day_period s"
    db0=$([ -n "$DB_PID" ] && tree_cpu "$DB_PID" || echo 0)
    "$LOADGEN" --url "$BASE/ocsinventory" --agents "$DAY_DEVICES" "${FLEET[@]}" --reinventory-only \
        --changed-share 0.1 --start-period "$day_period" --concurrency "$DAY_CONCURRENCY" \
        --server-pid "$SERVER_PID" --json >"$out/day.json"
    db1=$([ -n "$DB_PID" ] && tree_cpu "$DB_PID" || echo 0)
    echo "{\"db_cpu_s\": $(python3 -c "print($db1 - $db0)")}" >"$out/day-extra.json"

    log "$backend: console pages ($CONSOLE_RUNS runs each)"
    cargo bench --locked -p ocs-server --bench console -- --url "$BASE" --runs "$CONSOLE_RUNS" \
        --software-a "${SEARCH[0]}" --software-b "${SEARCH[1]}" --json >"$out/console.json" \
        2>"$out/console.log" || { cat "$out/console.log" >&2; exit 1; }

    stop_server "$backend"
done

python3 bench/fleet_table.py "$work" <<EOF
{"devices": $DEVICES, "backends": "$BACKENDS", "load_concurrency": $LOAD_CONCURRENCY,
 "day_rate": $DAY_RATE, "day_devices": $DAY_DEVICES, "day_concurrency": $DAY_CONCURRENCY,
 "images": $IMAGES, "seed": $SEED, "batch": $BATCH, "console_runs": $CONSOLE_RUNS,
 "search": $(python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "${SEARCH[@]}")}
EOF
