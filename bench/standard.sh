#!/usr/bin/env bash
# Standard ingestion scenarios for our server, optionally side by side with the original.
#
#   bench/standard.sh [--with-original]
#
# Builds ocs-server and ocs-loadgen in release mode, starts our server on SQLite in a
# temporary directory on a free 127.0.0.1 port, and runs with ocs-loadgen (seeded, so every
# run sends the same bytes):
#   S1  DEVICES new devices (PROLOG + INVENTORY) at concurrency CONCURRENCY
#   S2  the same devices re-inventoried, unchanged
#   S3  the same devices re-inventoried, 10 % of them changed (software, disk or IP)
#   S4  a population of S4_POPULATION devices loaded first (fast path: ocs-loadgen with
#       INVENTORY only, S4_SOFTWARE_MAX software entries each, concurrency S4_CONCURRENCY),
#       then DEVICES new devices measured again on top of it
# S1-S3 run REPEAT times on disjoint devices; the table shows medians over the repeats.
# The server's CPU seconds per inventory and peak RSS come from /proc (--server-pid).
#
# --with-original also runs the scenarios against the original server (Debian's 2.8.1, set
# up by ../shared/tools/real-ocs/setup.sh --reset-db on 127.0.0.1:8090, its Apache and
# MariaDB measured together), at ORIGINAL_DEVICES devices, concurrency ORIGINAL_CONCURRENCY
# and a population of ORIGINAL_S4_POPULATION, alternating phase by phase with a second,
# fresh instance of ours given the very same workload, and prints the ratios. The original
# loses new devices under concurrency (see its README), so the script also counts what its
# database really holds.
#
# Environment (defaults in brackets): DEVICES [1000], CONCURRENCY [16], REPEAT [3],
# S4_POPULATION [100000], S4_CONCURRENCY [32], S4_SOFTWARE_MAX [20], SEED [1],
# ORIGINAL_DEVICES [100], ORIGINAL_CONCURRENCY [1], ORIGINAL_S4_POPULATION [1000],
# KEEP [0: 1 keeps the work directory with the JSON results and logs].
set -euo pipefail
cd "$(dirname "$0")/.."

WITH_ORIGINAL=0
for a in "$@"; do
    case "$a" in
        --with-original) WITH_ORIGINAL=1 ;;
        -h|--help) sed -n 2,29p "$0"; exit 0 ;;
        *) echo "unknown argument: $a (try --help)" >&2; exit 2 ;;
    esac
done

DEVICES=${DEVICES:-1000}
CONCURRENCY=${CONCURRENCY:-16}
REPEAT=${REPEAT:-3}
S4_POPULATION=${S4_POPULATION:-100000}
S4_CONCURRENCY=${S4_CONCURRENCY:-32}
S4_SOFTWARE_MAX=${S4_SOFTWARE_MAX:-20}
SEED=${SEED:-1}
ORIGINAL_DEVICES=${ORIGINAL_DEVICES:-100}
ORIGINAL_CONCURRENCY=${ORIGINAL_CONCURRENCY:-1}
ORIGINAL_S4_POPULATION=${ORIGINAL_S4_POPULATION:-1000}
ORIGINAL_URL=http://127.0.0.1:8090/ocsinventory

log() { printf '\n== %s\n' "$*" >&2; }

log "building ocs-server and ocs-loadgen (release)"
cargo build --release --locked -p ocs-server -p ocs-loadgen >&2
SERVER=$PWD/target/release/ocs-server
LOADGEN=$PWD/target/release/ocs-loadgen

work=$(mktemp -d /tmp/ocs-bench.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    if [ "${KEEP:-0}" = 1 ]; then echo "results kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Starts our server on SQLite in $work/$1; sets SERVER_PID and SERVER_URL.
start_ours() {
    local dir=$work/$1 port
    port=$(free_port)
    mkdir -p "$dir"
    OCS_LOG__LEVEL=warn "$SERVER" --data-dir "$dir" serve --listen "127.0.0.1:$port" --tls-listen 127.0.0.1:0 >"$dir/server.log" 2>&1 &
    SERVER_PID=$!
    pids+=("$SERVER_PID")
    SERVER_URL=http://127.0.0.1:$port/ocsinventory
    for _ in $(seq 100); do
        curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "our server did not start: $(cat "$dir/server.log")" >&2
    exit 1
}

now() { date +%s.%N; }

# ---------------------------------------------------------------- our server
start_ours ours
log "our server: pid $SERVER_PID, $SERVER_URL (SQLite in $work/ours)"
for r in $(seq "$REPEAT"); do
    log "S1-S3, repeat $r/$REPEAT: $DEVICES devices, concurrency $CONCURRENCY"
    "$LOADGEN" --url "$SERVER_URL" --agents "$DEVICES" --concurrency "$CONCURRENCY" --seed "$SEED" \
        --device-offset $((r * 10000000)) --rounds 3 --changed-share 0,0.1 \
        --server-pid "$SERVER_PID" --json >"$work/s123-$r.json"
done
log "S4: loading a population of $S4_POPULATION devices (INVENTORY only, up to $S4_SOFTWARE_MAX software, concurrency $S4_CONCURRENCY)"
t0=$(now)
"$LOADGEN" --url "$SERVER_URL" --agents "$S4_POPULATION" --concurrency "$S4_CONCURRENCY" --seed "$SEED" \
    --device-offset 100000000 --skip-prolog --software-min 5 --software-max "$S4_SOFTWARE_MAX" \
    --server-pid "$SERVER_PID" --json >"$work/s4-load.json"
t1=$(now)
echo "{\"seconds\": $(python3 -c "print($t1 - $t0)")}" >"$work/s4-load-time.json"
log "S4: $DEVICES new devices on top of the population"
"$LOADGEN" --url "$SERVER_URL" --agents "$DEVICES" --concurrency "$CONCURRENCY" --seed "$SEED" \
    --device-offset 200000000 --server-pid "$SERVER_PID" --json >"$work/s4.json"

# ---------------------------------------------------------------- the original
original_note=""
if [ "$WITH_ORIGINAL" = 1 ]; then
    log "original server: setup.sh --reset-db --no-smoke"
    bash ../shared/tools/real-ocs/setup.sh --reset-db --no-smoke >&2
    frequency=$(mysql -N ocsweb -e "select IVALUE from config where NAME='FREQUENCY'")
    if [ "$frequency" != 0 ]; then
        mysql ocsweb -e "update config set IVALUE=0 where NAME='FREQUENCY'"
        original_note="FREQUENCY was $frequency, set to 0 (SEND at every PROLOG)"
    else
        original_note="FREQUENCY is 0 after setup (SEND at every PROLOG); nothing changed"
    fi
    apache_pid=$(cat /var/run/apache2/apache2.pid)
    mariadb_pid=$(cat /run/mysqld/mysqld.pid)
    start_ours ours-vs
    log "side by side: A = ours (pid $SERVER_PID), B = original (Apache $apache_pid + MariaDB $mariadb_pid)"
    "$LOADGEN" --url "$SERVER_URL" --vs "$ORIGINAL_URL" --agents "$ORIGINAL_DEVICES" \
        --concurrency "$ORIGINAL_CONCURRENCY" --seed "$SEED" --device-offset 300000000 \
        --rounds 3 --changed-share 0,0.1 --server-pid "$SERVER_PID" \
        --vs-server-pid "$apache_pid" --vs-server-pid "$mariadb_pid" --json >"$work/vs-s123.json"
    mysql -N ocsweb -e "select count(*) from hardware" >"$work/vs-s123-stored.txt"
    log "S4 side by side: population of $ORIGINAL_S4_POPULATION each"
    "$LOADGEN" --url "$SERVER_URL" --vs "$ORIGINAL_URL" --agents "$ORIGINAL_S4_POPULATION" \
        --concurrency "$ORIGINAL_CONCURRENCY" --seed "$SEED" --device-offset 400000000 --skip-prolog \
        --software-min 5 --software-max "$S4_SOFTWARE_MAX" --json >"$work/vs-s4-load.json"
    "$LOADGEN" --url "$SERVER_URL" --vs "$ORIGINAL_URL" --agents "$ORIGINAL_DEVICES" \
        --concurrency "$ORIGINAL_CONCURRENCY" --seed "$SEED" --device-offset 500000000 \
        --server-pid "$SERVER_PID" --vs-server-pid "$apache_pid" --vs-server-pid "$mariadb_pid" \
        --json >"$work/vs-s4.json"
    mysql -N ocsweb -e "select count(*) from hardware" >"$work/vs-all-stored.txt"
fi

# ---------------------------------------------------------------- the table
python3 bench/table.py "$work" "$WITH_ORIGINAL" "$original_note" <<EOF
{"devices": $DEVICES, "concurrency": $CONCURRENCY, "repeat": $REPEAT, "s4_population": $S4_POPULATION,
 "s4_concurrency": $S4_CONCURRENCY, "s4_software_max": $S4_SOFTWARE_MAX, "seed": $SEED,
 "original_devices": $ORIGINAL_DEVICES, "original_concurrency": $ORIGINAL_CONCURRENCY,
 "original_s4_population": $ORIGINAL_S4_POPULATION}
EOF
