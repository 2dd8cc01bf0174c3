#!/usr/bin/env bash
# Network discovery pages at scale (issue 13: every network page under 300 ms with 500,000
# netmap rows over 10,000 subnets).
#
#   bench/networks.sh [--help]      (NETMAP=50000 SUBNETS=1000 COMPUTERS=2000: a quick check)
#
# Builds the release ocs-server, lets it create its schema in a fresh SQLite data directory
# (`ocs-server token create`, which also gives the API token), then fills the database with
# one sqlite3 script (recursive CTEs, no row leaves SQLite):
#   networks   SUBNETS networks: one /16 (172.16.0.0, the largest: BIG_NETMAP devices,
#              BIG_COMPUTERS of them inventoried) and SUBNETS-1 /24s in 10.0.0.0/8 sharing
#              the rest of the NETMAP rows; NAMED_PERCENT of them named (subnets)
#   netmap     NETMAP devices (MACs under three vendors' OUIs, first and last seen spread
#              over a year), each reported by a scanner of its network
#   computers  COMPUTERS computers, one interface each on one of those networks (so their
#              MACs are in the netmap too, as scans see inventoried computers); the first
#              of each /24 its elected scanner (devices IPDISCOVER, IVALUE 1), the largest
#              network's first two forced (IVALUE 2)
#   identified IDENTIFIED_PERCENT of the non-inventoried devices registered as known, over
#              five device types
# then starts the server, signs in to the console as admin (changing the first-sign-in
# password as the console requires) and requests every network page RUNS times after one
# untimed request: median and p95 of curl's time_total. A page that does not answer 200 (or
# redirects to the sign-in) is reported with its status and not timed. Prints the table and
# writes it, with the load time, to bench/networks-results.txt (RESULTS=path to change, '-'
# for none).
#
# Environment (defaults in brackets): SUBNETS [10000], NETMAP [500000], COMPUTERS [20000],
# BIG_NETMAP [20000], BIG_COMPUTERS [2000], NAMED_PERCENT [60],
# IDENTIFIED_PERCENT [5], RUNS [20], TARGET_MS [300], SORTS [name netid inventoried
# uninventoried agents identified] (the /networks sort keys tried, ?sort=KEY and
# ?sort=KEY&dir=desc), FILTER [q=10.1.] (the filtered list's query), SERVER_BIN [empty:
# build target/release/ocs-server], KEEP [0: 1 keeps the work directory],
# WORK_DIR [a new /tmp/ocs-networks.XXXXXX].
set -euo pipefail
cd "$(dirname "$0")/.."

for a in "$@"; do
    case "$a" in
        -h|--help) sed -n 2,34p "$0"; exit 0 ;;
        *) echo "unknown argument: $a (try --help)" >&2; exit 2 ;;
    esac
done

SUBNETS=${SUBNETS:-10000}
NETMAP=${NETMAP:-500000}
COMPUTERS=${COMPUTERS:-20000}
BIG_NETMAP=${BIG_NETMAP:-20000}
BIG_COMPUTERS=${BIG_COMPUTERS:-2000}
NAMED_PERCENT=${NAMED_PERCENT:-60}
IDENTIFIED_PERCENT=${IDENTIFIED_PERCENT:-5}
RUNS=${RUNS:-20}
TARGET_MS=${TARGET_MS:-300}
SORTS=${SORTS:-name netid inventoried uninventoried agents identified}
FILTER=${FILTER:-q=10.1.}
RESULTS=${RESULTS:-bench/networks-results.txt}

small=$((SUBNETS - 1))
rest=$((NETMAP - BIG_NETMAP))
small_computers=$((COMPUTERS - BIG_COMPUTERS))
if [ "$small" -lt 1 ] || [ "$small" -gt 65535 ] || [ "$rest" -lt 0 ] || [ "$small_computers" -lt 0 ] \
    || [ "$BIG_NETMAP" -gt 65000 ] || [ "$BIG_COMPUTERS" -gt "$BIG_NETMAP" ]; then
    echo "need 2 <= SUBNETS <= 65536, BIG_COMPUTERS <= BIG_NETMAP <= 65000 <= NETMAP, BIG_COMPUTERS <= COMPUTERS" >&2
    exit 2
fi
per_net=$(( (rest + small - 1) / small ))
if [ "$per_net" -gt 254 ]; then
    echo "NETMAP - BIG_NETMAP ($rest) does not fit in $small /24 networks (254 hosts each)" >&2
    exit 2
fi
if [ "$small_computers" -gt "$rest" ]; then
    echo "more computers ($small_computers) than devices ($rest) on the /24 networks" >&2
    exit 2
fi
for tool in sqlite3 curl python3; do
    command -v "$tool" >/dev/null || { echo "bench/networks.sh needs $tool" >&2; exit 2; }
done

log() { printf '== %s\n' "$*" >&2; }
now() { date +%s.%N; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

if [ -n "${SERVER_BIN:-}" ]; then
    SERVER=$SERVER_BIN
else
    log "building ocs-server (release)"
    cargo build --release --locked -p ocs-server >&2
    SERVER=$PWD/target/release/ocs-server
fi

if [ -n "${WORK_DIR:-}" ]; then
    mkdir -p "$WORK_DIR"
    work=$(mktemp -d "$WORK_DIR/ocs-networks.XXXXXX")
else
    work=$(mktemp -d /tmp/ocs-networks.XXXXXX)
fi
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    if [ "${KEEP:-0}" = 1 ]; then echo "work directory kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
data=$work/data
db=$data/ocs.db

log "schema and API token ($data)"
TOKEN=$("$SERVER" --data-dir "$data" token create --name bench --scope read 2>/dev/null)
[ -f "$db" ] || { echo "no database at $db after the server created its schema" >&2; exit 1; }

log "loading $SUBNETS networks, $NETMAP netmap rows, $COMPUTERS computers"
t0=$(now)
sqlite3 "$db" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -262144;
BEGIN;
-- Every scanned device: g 0..BIG_NETMAP-1 on the /16, the others spread over the /24s
-- (h % small picks the network, h / small + 1 the host), so each /24 holds about $per_net.
-- net: the /24's number (-1: the /16); hostno: the host's number on its network.
CREATE TEMP TABLE host (g INTEGER PRIMARY KEY, net INTEGER, hostno INTEGER, ip TEXT, mac TEXT,
                        netid TEXT, mask TEXT, computer INTEGER);
WITH RECURSIVE n(g) AS (SELECT 0 UNION ALL SELECT g + 1 FROM n WHERE g + 1 < $NETMAP)
INSERT INTO host (g, net, hostno, ip, mac, netid, mask)
SELECT g,
       CASE WHEN g < $BIG_NETMAP THEN -1 ELSE (g - $BIG_NETMAP) % $small END,
       CASE WHEN g < $BIG_NETMAP THEN g + 1 ELSE (g - $BIG_NETMAP) / $small + 1 END,
       CASE WHEN g < $BIG_NETMAP
            THEN printf('172.16.%d.%d', (g + 1) >> 8, (g + 1) & 255)
            ELSE printf('10.%d.%d.%d', ((g - $BIG_NETMAP) % $small) >> 8, ((g - $BIG_NETMAP) % $small) & 255, (g - $BIG_NETMAP) / $small + 1) END,
       printf('%s:%02x:%02x:%02x', CASE g % 3 WHEN 0 THEN '00:0c:29' WHEN 1 THEN '3c:52:82' ELSE '00:1b:21' END,
              (g >> 16) & 255, (g >> 8) & 255, g & 255),
       CASE WHEN g < $BIG_NETMAP THEN '172.16.0.0'
            ELSE printf('10.%d.%d.0', ((g - $BIG_NETMAP) % $small) >> 8, ((g - $BIG_NETMAP) % $small) & 255) END,
       CASE WHEN g < $BIG_NETMAP THEN '255.255.0.0' ELSE '255.255.255.0' END
FROM n;
-- The inventoried ones: the first BIG_COMPUTERS of the /16, then the first hosts of the /24s
-- (g in network order, so the computers spread over every network).
UPDATE host SET computer = g + 1 WHERE g < $BIG_COMPUTERS OR (g >= $BIG_NETMAP AND g < $BIG_NETMAP + $small_computers);
CREATE INDEX temp.host_computer ON host (computer);

INSERT INTO hardware (id, deviceid, name, osname, ipaddr, lastdate, lastcome, quality, fidelity, useragent)
SELECT computer, printf('pc%06d-2026-01-01-00-00-00', computer), printf('PC%06d', computer),
       CASE computer % 3 WHEN 0 THEN 'Debian GNU/Linux 12' ELSE 'Microsoft Windows 11 Pro' END,
       ip, unixepoch() - (computer % 7) * 86400, unixepoch() - (computer % 5) * 3600,
       (computer % 10) / 10.0, 3 + computer % 50, 'OCS-NG_unified_unix_agent_v2.10.0'
FROM host WHERE computer IS NOT NULL;
INSERT INTO networks (hardware_id, description, type, macaddr, status, ipaddress, ipmask, ipsubnet)
SELECT computer, 'eth0', 'Ethernet', mac, 'Up', ip, mask, netid FROM host WHERE computer IS NOT NULL;

-- Scanners: the first computer of each /24, elected; the /16's first two, forced.
INSERT INTO devices (hardware_id, name, ivalue, tvalue, comments)
SELECT computer, 'IPDISCOVER', CASE WHEN net < 0 THEN 2 ELSE 1 END, netid,
       CASE WHEN net < 0 THEN 'forced' ELSE 'elected' END
FROM host WHERE computer IS NOT NULL AND hostno <= CASE WHEN net < 0 THEN 2 ELSE 1 END;
CREATE TEMP TABLE scanner (netid TEXT PRIMARY KEY, hardware_id INTEGER);
INSERT INTO scanner SELECT tvalue, MIN(hardware_id) FROM devices WHERE name = 'IPDISCOVER' GROUP BY tvalue;

INSERT INTO netmap (mac, ip, mask, netid, date, name, tag, hardware_id, first_seen)
SELECT h.mac, h.ip, h.mask, h.netid, unixepoch() - (h.g % 30) * 86400,
       CASE WHEN h.g % 4 = 0 THEN printf('host-%d.example', h.g) ELSE '-' END, NULL, s.hardware_id,
       unixepoch() - (h.g % 30) * 86400 - (h.g % 365) * 86400
FROM host h LEFT JOIN scanner s ON s.netid = h.netid;

-- Named networks: NAMED_PERCENT of the /24s, and the /16.
INSERT INTO subnets (netid, mask, name, network_id)
SELECT netid, mask, CASE WHEN net < 0 THEN 'Campus' ELSE 'LAN ' || netid END,
       CASE WHEN net < 0 THEN 'HQ' ELSE printf('SITE-%02d', net % 40) END
FROM host WHERE hostno = 1 AND (net < 0 OR net % 100 < $NAMED_PERCENT);

INSERT INTO device_types (name) VALUES ('Printer'), ('Switch'), ('Access point'), ('Phone'), ('Camera');
INSERT INTO identified_devices (mac, description, device_type, registered_by, registered_at)
SELECT mac, printf('device %d', g),
       CASE g % 5 WHEN 0 THEN 'Printer' WHEN 1 THEN 'Switch' WHEN 2 THEN 'Access point' WHEN 3 THEN 'Phone' ELSE 'Camera' END,
       'admin', unixepoch() - (g % 100) * 86400
FROM host WHERE computer IS NULL AND g % 100 < $IDENTIFIED_PERCENT;
COMMIT;
ANALYZE;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
t1=$(now)
load_s=$(python3 -c "print(f'{$t1 - $t0:.1f}')")
counts=$(sqlite3 "$db" "SELECT (SELECT COUNT(DISTINCT netid) FROM netmap), (SELECT COUNT(*) FROM netmap), \
    (SELECT COUNT(*) FROM hardware), (SELECT COUNT(*) FROM devices WHERE name = 'IPDISCOVER'), \
    (SELECT COUNT(*) FROM identified_devices), (SELECT COUNT(*) FROM subnets)")
IFS='|' read -r n_nets n_netmap n_hw n_scanners n_identified n_named <<<"$counts"
db_mb=$(python3 -c "import os; print(round(os.path.getsize('$db') / 1048576))")
log "loaded in ${load_s} s: $n_nets networks, $n_netmap netmap rows, $n_hw computers, $n_scanners scanners, $n_identified identified, $n_named named (${db_mb} MiB)"

# The largest network and addresses to look up: an inventoried one, a discovered one, none.
big=$(sqlite3 "$db" "SELECT netid FROM netmap GROUP BY netid ORDER BY COUNT(*) DESC LIMIT 1")
ip_computer=$(sqlite3 "$db" "SELECT ipaddress FROM networks WHERE ipsubnet LIKE '10.%' ORDER BY id DESC LIMIT 1")
ip_device=$(sqlite3 "$db" "SELECT ip FROM netmap WHERE netid LIKE '10.%' AND mac NOT IN (SELECT LOWER(macaddr) FROM networks) ORDER BY mac DESC LIMIT 1")
one_net=$(sqlite3 "$db" "SELECT netid FROM netmap WHERE netid LIKE '10.%' LIMIT 1")

port=$(free_port)
BASE=http://127.0.0.1:$port
OCS_LOG__LEVEL=warn "$SERVER" --data-dir "$data" serve --listen "127.0.0.1:$port" --tls-listen off \
    >"$work/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 300); do
    curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS "$BASE/healthz" >/dev/null || { echo "ocs-server did not start: $(cat "$work/server.log")" >&2; exit 1; }

log "signing in to the console"
jar=$work/cookies
csrf_of() { sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -n 1; }
curl -fsS -c "$jar" -b "$jar" -o /dev/null "$BASE/login"
login_csrf=$(awk '$6 == "ocs_login_csrf" { print $7 }' "$jar")
status=$(curl -sS -c "$jar" -b "$jar" -o /dev/null -w '%{http_code}' -H "Origin: $BASE" \
    --data-urlencode "csrf=$login_csrf" --data-urlencode login=admin --data-urlencode password=admin "$BASE/login")
[ "$status" = 303 ] || { echo "sign-in refused ($status)" >&2; exit 1; }
csrf=$(curl -fsS -c "$jar" -b "$jar" "$BASE/account/password" | csrf_of)
status=$(curl -sS -c "$jar" -b "$jar" -o /dev/null -w '%{http_code}' -H "Origin: $BASE" \
    --data-urlencode "csrf=$csrf" --data-urlencode current=admin \
    --data-urlencode new=bench-password-1 --data-urlencode confirm=bench-password-1 "$BASE/account/password")
[ "$status" = 303 ] || { echo "first-sign-in password change refused ($status)" >&2; exit 1; }
home=$(curl -sS -b "$jar" -o /dev/null -w '%{http_code}' "$BASE/networks/subnets")
[ "$home" = 200 ] || { echo "console session not usable (/networks/subnets answered $home)" >&2; exit 1; }

# label, then path; API paths are sent with the token instead of the session.
pages=(
    "Networks list, first page" "/networks"
)
for key in $SORTS; do
    pages+=("Networks sorted by $key" "/networks?sort=$key")
    pages+=("Networks sorted by $key, descending" "/networks?sort=$key&dir=desc")
done
pages+=(
    "Networks filtered ($FILTER)" "/networks?$FILTER"
    "Networks CSV" "/networks.csv"
    "Inventoried on $big" "/networks/$big/inventoried"
    "Inventoried on $big, CSV" "/networks/$big/inventoried.csv"
    "Non-inventoried on $big" "/networks/$big/uninventoried"
    "Non-inventoried on $big, CSV" "/networks/$big/uninventoried.csv"
    "Identified on $big" "/networks/$big/identified"
    "Identified on $big, CSV" "/networks/$big/identified.csv"
    "Scanning computers" "/networks/agents"
    "Scanning computers of $big" "/networks/agents?netid=$big"
    "IP query: computer $ip_computer" "/networks/lookup?ip=$ip_computer"
    "IP query: device $ip_device" "/networks/lookup?ip=$ip_device"
    "IP query: unknown 203.0.113.9" "/networks/lookup?ip=203.0.113.9"
    "Subnet names" "/networks/subnets"
    "Device types" "/networks/types"
    "API: networks" "/api/v1/networks"
    "API: non-inventoried of $big" "/api/v1/networks/$big/devices?kind=uninventoried"
    "API: inventoried of $one_net" "/api/v1/networks/$one_net/devices?kind=inventoried"
)

# One request: "<status> <seconds> <bytes>".
fetch() {
    local auth=(-b "$jar")
    case "$1" in /api/*) auth=(-H "Authorization: Bearer $TOKEN") ;; esac
    curl -sS -o /dev/null -w '%{http_code} %{time_total} %{size_download}\n' "${auth[@]}" "$BASE$1" \
        || echo "000 0 0"
}

if [ -n "${SERVER_BIN:-}" ]; then build="binary $SERVER_BIN"; else build="release build"; fi
table=$work/table.txt
{
    echo "# bench/networks.sh (SQLite, $build, $(nproc) cores; $(date -u +%Y-%m-%d))"
    echo "# $n_nets networks ($n_named named), $n_netmap netmap rows, $n_hw computers, $n_scanners scanners, $n_identified identified devices; largest network $big"
    echo "# loaded in ${load_s} s (one sqlite3 script; database ${db_mb} MiB); $RUNS runs per page after one untimed; target: p95 < $TARGET_MS ms"
    printf '%-52s %9s %9s %9s %s\n' page median p95 bytes verdict
    for ((i = 0; i < ${#pages[@]}; i += 2)); do
        label=${pages[i]} path=${pages[i + 1]}
        read -r status _ bytes < <(fetch "$path")
        if [ "$status" != 200 ]; then
            case "$status" in
                404) why="404: no such page (not merged yet?)" ;;
                303|302) why="$status: redirected (not signed in?)" ;;
                000) why="no answer" ;;
                *) why="$status: not timed" ;;
            esac
            printf '%-52s %9s %9s %9s %s\n' "$label" - - - "$why"
            continue
        fi
        times=()
        bad=""
        for ((r = 0; r < RUNS; r++)); do
            read -r status secs _ < <(fetch "$path")
            [ "$status" = 200 ] || { bad=$status; break; }
            times+=("$secs")
        done
        if [ -n "$bad" ]; then
            printf '%-52s %9s %9s %9s %s\n' "$label" - - "$bytes" "answered $bad during the runs"
            continue
        fi
        python3 - "$label" "$bytes" "$TARGET_MS" "${times[@]}" <<'EOF'
import sys
label, size, target = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
t = sorted(float(x) * 1000 for x in sys.argv[4:])
def q(p):
    return t[min(len(t) - 1, round((len(t) - 1) * p))]
med, p95 = q(0.5), q(0.95)
verdict = "ok" if p95 < target else f"SLOW (>= {target:.0f} ms)"
print(f"{label:<52} {med:7.1f}ms {p95:7.1f}ms {size:9d} {verdict}")
EOF
    done
} | tee "$table"
if [ "$RESULTS" != - ]; then
    cp "$table" "$RESULTS"
    log "written to $RESULTS"
fi
