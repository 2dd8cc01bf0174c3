#!/usr/bin/env bash
# PROLOG cost with group settings (issue 11: within 1.2x of groups disabled).
#
#   bench/groups-prolog.sh
#
# Builds ocs-server and ocs-loadgen in release mode, starts our server on SQLite in a
# temporary directory on a free 127.0.0.1 port, inventories DEVICES devices once (PROLOG +
# INVENTORY, 5-20 software each), sets FREQUENCY to 30 so that every later PROLOG answers STOP
# (a PROLOG-only workload), then writes GROUP_COUNT groups with 6 settings each (FREQUENCY >= 60 so
# that the decision stays STOP, PROLOG_FREQ, DOWNLOAD_SWITCH, a latency, a timeout,
# SNMP_SWITCH) and makes each device a member of MEMBERSHIPS of them (computed and forced
# memberships). It then measures ROUNDS rounds of PROLOGs of every device with ENABLE_GROUPS=0
# and with ENABLE_GROUPS=1, alternating (and which goes first), REPEAT times, and prints the medians of the server's
# CPU per PROLOG, PROLOGs per second and PROLOG p50, the ratios (groups on / off), and the
# median of the ratios of adjacent runs.
#
# Environment (defaults in brackets): DEVICES [3000], CONCURRENCY [16], GROUP_COUNT [200],
# MEMBERSHIPS [5], ROUNDS [2], REPEAT [6], SEED [1], KEEP [0: 1 keeps the work directory].
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
    -h|--help) sed -n 2,17p "$0"; exit 0 ;;
    "") ;;
    *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
esac

DEVICES=${DEVICES:-3000}
CONCURRENCY=${CONCURRENCY:-16}
GROUP_COUNT=${GROUP_COUNT:-200}
MEMBERSHIPS=${MEMBERSHIPS:-5}
ROUNDS=${ROUNDS:-2}
REPEAT=${REPEAT:-6}
SEED=${SEED:-1}

log() { printf '\n== %s\n' "$*" >&2; }

log "building ocs-server and ocs-loadgen (release)"
cargo build --release -p ocs-server -p ocs-loadgen >&2
SERVER=$PWD/target/release/ocs-server
LOADGEN=$PWD/target/release/ocs-loadgen

work=$(mktemp -d /tmp/ocs-bench-groups.XXXXXX)
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    if [ "${KEEP:-0}" = 1 ]; then echo "results kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
OCS_LOG__LEVEL=warn "$SERVER" --data-dir "$work" serve --listen "127.0.0.1:$port" --tls-listen 127.0.0.1:0 >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
url=http://127.0.0.1:$port/ocsinventory
option() { OCS_LOG__LEVEL=warn "$SERVER" --data-dir "$work" options set "$1" "$2" >/dev/null; }
fleet=(--url "$url" --agents "$DEVICES" --concurrency "$CONCURRENCY" --seed "$SEED"
       --software-min 5 --software-max 20 --server-pid "$server_pid" --json)

log "inventorying $DEVICES devices"
"$LOADGEN" "${fleet[@]}" >"$work/load.json"
option FREQUENCY 30

log "writing $GROUP_COUNT groups, each device in $MEMBERSHIPS of them"
sqlite3 -cmd ".timeout 10000" "$work/ocs.db" <<SQL
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $GROUP_COUNT)
INSERT INTO groups (name, description, kind, created_at) SELECT 'bench-' || i, '', 'static', 0 FROM n;
INSERT INTO group_settings (group_id, name, ivalue)
    SELECT id, 'FREQUENCY', 60 + id % 30 FROM groups
    UNION ALL SELECT id, 'PROLOG_FREQ', 6 + id % 24 FROM groups
    UNION ALL SELECT id, 'DOWNLOAD_SWITCH', 1 FROM groups
    UNION ALL SELECT id, 'DOWNLOAD_FRAG_LATENCY', id % 60 FROM groups
    UNION ALL SELECT id, 'DOWNLOAD_TIMEOUT', 7 + id % 30 FROM groups
    UNION ALL SELECT id, 'SNMP_SWITCH', 1 FROM groups;
WITH RECURSIVE k(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM k WHERE k < $MEMBERSHIPS - 1)
INSERT INTO group_members (group_id, hardware_id, static)
    SELECT (SELECT MIN(id) FROM groups) + (h.id + k.k * 37) % $GROUP_COUNT, h.id, k.k % 2
    FROM hardware h, k;
COMMIT;
SELECT 'groups ' || (SELECT COUNT(*) FROM groups) || ', settings ' || (SELECT COUNT(*) FROM group_settings)
    || ', memberships ' || (SELECT COUNT(*) FROM group_members);
SQL

for r in $(seq "$REPEAT"); do
    # Alternate which mode goes first, so that a drift of the machine's load favours neither.
    if [ $((r % 2)) = 1 ]; then modes="0 1"; else modes="1 0"; fi
    for mode in $modes; do
        log "repeat $r/$REPEAT, ENABLE_GROUPS=$mode: $ROUNDS rounds of $DEVICES PROLOGs"
        option ENABLE_GROUPS "$mode"
        "$LOADGEN" "${fleet[@]}" --reinventory-only --rounds "$ROUNDS" --changed-share 0 \
            >"$work/groups$mode-$r.json"
    done
done

python3 - "$work" "$REPEAT" <<'PY'
import json, statistics, sys
work, repeat = sys.argv[1], int(sys.argv[2])
def runs(mode):
    out = []
    for r in range(1, repeat + 1):
        phases = json.load(open(f"{work}/groups{mode}-{r}.json"))["phases"]
        prologs = sum(p["prolog"]["count"] for p in phases)
        stop = sum(p["told_stop"] for p in phases)
        assert stop == prologs, f"ENABLE_GROUPS={mode}: {stop} STOP of {prologs}: not a PROLOG-only run"
        cpu = sum(p["server"]["cpu_seconds"] for p in phases)
        elapsed = sum(p["elapsed_s"] for p in phases)
        p50 = statistics.median(p["prolog"]["p50_ms"] for p in phases)
        out.append((cpu / prologs * 1e6, prologs / elapsed, p50))
    return out
off, on = runs(0), runs(1)
med = lambda rows, i: statistics.median(r[i] for r in rows)
print(f"{'':<22}{'groups off':>12}{'groups on':>12}{'on/off':>8}")
for i, name in enumerate(["server CPU us/PROLOG", "PROLOGs/s", "PROLOG p50 ms"]):
    a, b = med(off, i), med(on, i)
    print(f"{name:<22}{a:>12.1f}{b:>12.1f}{b / a:>8.2f}")
# Adjacent runs share the machine's load of the moment: the median of their ratios resists
# the load of other processes better than the ratio of the medians.
pairs = [b[0] / a[0] for a, b in zip(off, on)]
print(f"server CPU per PROLOG, median of the {len(pairs)} paired ratios (on/off): "
      f"{statistics.median(pairs):.2f} ({', '.join(f'{p:.2f}' for p in pairs)})")
print("runs (cpu us/PROLOG, PROLOGs/s, p50 ms):")
for mode, rows in (("off", off), ("on", on)):
    print(f"  {mode}: " + "; ".join(f"{c:.1f}, {t:.0f}, {p:.2f}" for c, t, p in rows))
PY
