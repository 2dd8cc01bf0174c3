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

# shellcheck source=bench/console-lib.sh
. bench/console-lib.sh
bench_server
bench_workdir ocs-networks
work=$WORK
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

bench_start "$data"
bench_sign_in /networks/subnets

# label, then path; API paths are sent with the token instead of the session.
PAGES=(
    "Networks list, first page" "/networks"
)
for key in $SORTS; do
    PAGES+=("Networks sorted by $key" "/networks?sort=$key")
    PAGES+=("Networks sorted by $key, descending" "/networks?sort=$key&dir=desc")
done
PAGES+=(
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

build=$BUILD
table=$work/table.txt
{
    echo "# bench/networks.sh (SQLite, $build, $(nproc) cores; $(date -u +%Y-%m-%d))"
    echo "# $n_nets networks ($n_named named), $n_netmap netmap rows, $n_hw computers, $n_scanners scanners, $n_identified identified devices; largest network $big"
    echo "# loaded in ${load_s} s (one sqlite3 script; database ${db_mb} MiB); $RUNS runs per page after one untimed; target: p95 < $TARGET_MS ms"
    bench_time_pages
} | tee "$table"
if [ "$RESULTS" != - ]; then
    cp "$table" "$RESULTS"
    log "written to $RESULTS"
fi
