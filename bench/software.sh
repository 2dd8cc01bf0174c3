#!/usr/bin/env bash
# The software pages at scale (issue 15: the fleet's software page, the dictionary and the
# categories at 100,000 computers).
#
#   bench/software.sh [--help]      (COMPUTERS=5000: a quick check)
#
# Builds the release ocs-server, lets it create its schema in a fresh SQLite data directory
# (`ocs-server token create`, which also gives the API token), then fills the database with
# one sqlite3 script (recursive CTEs, no row leaves SQLite):
#   computers  COMPUTERS computers, a third Debian and the rest Windows
#   software   PER_COMPUTER installed software each: the first COMMON on every computer, the
#              others spread over NAMES names (each with one of PUBLISHERS publishers), each
#              name in VERSIONS_PER_NAME versions
#   categories CATEGORIES categories of the administrator's, one rule each; a third of the
#              installed (name, publisher, version) triples linked to one of them and one in
#              fifty to IGNORED, a tenth of the links made by hand
# then starts the server, signs in to the console as admin, times the first count of the
# fleet's software (started by the first view) and requests every software page RUNS times
# after one untimed request: median and p95 of curl's time_total. A page that does not
# answer 200 is reported with its status and not timed. Prints the table and writes it,
# with the load time, to bench/software-results.txt (RESULTS=path to change, '-' for none).
#
# Environment (defaults in brackets): COMPUTERS [100000], PER_COMPUTER [50], COMMON [20],
# NAMES [20000], PUBLISHERS [400], VERSIONS_PER_NAME [4], CATEGORIES [12], RUNS [10],
# TARGET_MS [300], SERVER_BIN [empty: build target/release/ocs-server], KEEP [0: 1 keeps
# the work directory], WORK_DIR [a new /tmp/ocs-software.XXXXXX].
set -euo pipefail
cd "$(dirname "$0")/.."

for a in "$@"; do
    case "$a" in
        -h|--help) sed -n 2,26p "$0"; exit 0 ;;
        *) echo "unknown argument: $a (try --help)" >&2; exit 2 ;;
    esac
done

COMPUTERS=${COMPUTERS:-100000}
PER_COMPUTER=${PER_COMPUTER:-50}
COMMON=${COMMON:-20}
NAMES=${NAMES:-20000}
PUBLISHERS=${PUBLISHERS:-400}
VERSIONS_PER_NAME=${VERSIONS_PER_NAME:-4}
CATEGORIES=${CATEGORIES:-12}
RUNS=${RUNS:-10}
TARGET_MS=${TARGET_MS:-300}
RESULTS=${RESULTS:-bench/software-results.txt}

if [ "$COMPUTERS" -lt 1 ] || [ "$COMMON" -ge "$PER_COMPUTER" ] || [ "$NAMES" -le "$PER_COMPUTER" ] \
    || [ "$PUBLISHERS" -lt 1 ] || [ "$VERSIONS_PER_NAME" -lt 1 ] || [ "$CATEGORIES" -lt 1 ]; then
    echo "need COMPUTERS >= 1, COMMON < PER_COMPUTER < NAMES, PUBLISHERS, VERSIONS_PER_NAME and CATEGORIES >= 1" >&2
    exit 2
fi
for tool in sqlite3 curl python3; do
    command -v "$tool" >/dev/null || { echo "bench/software.sh needs $tool" >&2; exit 2; }
done

# shellcheck source=bench/console-lib.sh
. bench/console-lib.sh
bench_server
bench_workdir ocs-software
data=$WORK/data
db=$data/ocs.db

log "schema and API token ($data)"
TOKEN=$("$SERVER" --data-dir "$data" token create --name bench --scope read 2>/dev/null)
[ -f "$db" ] || { echo "no database at $db after the server created its schema" >&2; exit 1; }

spread=$((NAMES - COMMON))
log "loading $COMPUTERS computers with $PER_COMPUTER software each over $NAMES names"
t0=$(now)
sqlite3 "$db" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -524288;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $COMPUTERS)
INSERT INTO hardware (id, deviceid, name, osname, lastdate, lastcome, useragent)
SELECT i, printf('pc%06d-2026-01-01-00-00-00', i), printf('PC%06d', i),
       CASE i % 3 WHEN 0 THEN 'Debian GNU/Linux 12' ELSE 'Microsoft Windows 11 Pro' END,
       unixepoch() - (i % 7) * 86400, unixepoch() - (i % 5) * 3600,
       CASE i % 3 WHEN 0 THEN 'OCS-NG_unified_unix_agent_v2.10.0' ELSE 'OCS-NG_WINDOWS_AGENT_v2.10.1.0' END
FROM n;
-- Name k (0-based) is row k + 2: row 1 is the dictionaries' 'Unavailable'.
WITH RECURSIVE n(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM n WHERE k + 1 < $NAMES)
INSERT INTO software_name (id, name) SELECT k + 2, printf('Software %05d', k) FROM n;
WITH RECURSIVE n(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM n WHERE k + 1 < $PUBLISHERS)
INSERT INTO software_publisher (id, publisher) SELECT k + 2, printf('Publisher %03d', k) FROM n;
WITH RECURSIVE n(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM n WHERE k + 1 < 100)
INSERT INTO software_version (id, version, prettyversion, major, minor, patch)
SELECT k + 2, printf('%d.%d.%d', k / 10, k % 10, k % 3), printf('%d.%d.%d', k / 10, k % 10, k % 3),
       k / 10, k % 10, k % 3 FROM n;
-- Slot j of computer c: the COMMON first names everywhere, then names spread over the rest;
-- a name's publisher and versions follow from its number.
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $COMPUTERS),
     j(s) AS (SELECT 0 UNION ALL SELECT s + 1 FROM j WHERE s + 1 < $PER_COMPUTER),
     slot(hw, s, k) AS (
         SELECT c.i, j.s, CASE WHEN j.s < $COMMON THEN j.s
                               ELSE $COMMON + (c.i * 7919 + j.s * 104729) % $spread END
         FROM c, j)
INSERT INTO software (hardware_id, name_id, publisher_id, version_id, folder, filesize)
SELECT hw, k + 2, k % $PUBLISHERS + 2, (k * 7 + (hw + s) % $VERSIONS_PER_NAME) % 100 + 2,
       printf('C:\\Program Files\\Software %05d', k), 1000 + k
FROM slot;

WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < $CATEGORIES)
INSERT INTO software_categories (name, os, builtin)
SELECT printf('Category %02d', k), CASE k % 4 WHEN 0 THEN 'WINDOWS' WHEN 1 THEN 'UNIX' ELSE 'ALL' END, 0 FROM n;
INSERT INTO software_category_rules (category_id, position, pattern, sign_version, version, publisher)
SELECT id, id, printf('Software %d*', id % 10), CASE WHEN id % 2 = 0 THEN 'MORE' END,
       CASE WHEN id % 2 = 0 THEN '3.0' END, NULL
FROM software_categories WHERE builtin = 0;
INSERT INTO software_category_links (name_id, publisher_id, version_id, category_id, manual)
SELECT t.name_id, t.publisher_id, t.version_id,
       CASE WHEN t.name_id % 50 = 7 THEN 2
            ELSE (SELECT MIN(id) FROM software_categories WHERE builtin = 0) + t.name_id % $CATEGORIES END,
       CASE WHEN t.name_id % 10 = 1 THEN 1 ELSE 0 END
FROM (SELECT DISTINCT name_id, publisher_id, version_id FROM software) t
WHERE t.name_id % 3 = 0 OR t.name_id % 50 = 7;
COMMIT;
ANALYZE;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
t1=$(now)
load_s=$(python3 -c "print(f'{$t1 - $t0:.1f}')")
counts=$(sqlite3 "$db" "SELECT (SELECT COUNT(*) FROM hardware), (SELECT COUNT(*) FROM software), \
    (SELECT COUNT(*) FROM software_name), (SELECT COUNT(*) FROM software_category_links), \
    (SELECT COUNT(*) FROM software_category_links WHERE category_id = 2)")
IFS='|' read -r n_hw n_sw n_names n_links n_ignored <<<"$counts"
db_mb=$(python3 -c "import os; print(round(os.path.getsize('$db') / 1048576))")
log "loaded in ${load_s} s: $n_hw computers, $n_sw software rows, $n_names names, $n_links links ($n_ignored IGNORED) (${db_mb} MiB)"

# The most installed software, one on few computers, a category with software.
top=$(sqlite3 "$db" "SELECT id FROM software_name WHERE name = 'Software 00000'")
rare=$(sqlite3 "$db" "SELECT name_id FROM software GROUP BY name_id ORDER BY COUNT(*) LIMIT 1")
category=$(sqlite3 "$db" "SELECT MIN(id) FROM software_categories WHERE builtin = 0")

bench_start "$data"
bench_sign_in /software/categories
# The first view starts the first count of the fleet's software (in the background above
# 10,000 computers); timed until the API says when it counted.
c0=$(now)
read -r status _ _ < <(bench_fetch /software)
[ "$status" = 200 ] || { echo "the first software view answered $status" >&2; exit 1; }
for _ in $(seq 1200); do
    curl -fsS -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/software?per_page=1" | grep -q '"counted_at":"' && break
    sleep 0.5
done
curl -fsS -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/software?per_page=1" | grep -q '"counted_at":"' \
    || { echo "the first count did not finish in 10 minutes" >&2; exit 1; }
c1=$(now)
count_s=$(python3 -c "print(f'{$c1 - $c0:.1f}')")
log "first count done in ${count_s} s"

PAGES=("Software list, first page" "/software")
for key in name publisher versions computers category; do
    PAGES+=("Software sorted by $key" "/software?sort=$key")
    PAGES+=("Software sorted by $key, descending" "/software?sort=$key&dir=desc")
done
PAGES+=(
    "Software filtered (name=Software 01)" "/software?name=Software+01"
    "Software of category $category" "/software?category=$category"
    "Software in IGNORED" "/software?category=2"
    "Software CSV" "/software.csv"
    "Versions of the most installed" "/software/$top"
    "Computers with the most installed" "/software/$top/computers"
    "Versions of a rare one" "/software/$rare"
    "Computers with a rare one" "/software/$rare/computers"
    "Dictionary, first page" "/software/dictionary"
    "Dictionary search (q=software 1234)" "/software/dictionary?q=software+1234"
    "Dictionary of category $category" "/software/dictionary?category=$category"
    "Categories and rules" "/software/categories"
    "A computer's page (IGNORED hidden)" "/computers/1"
    "API: software" "/api/v1/software"
    "API: software sorted by computers" "/api/v1/software?sort=computers&dir=desc"
    "API: the most installed" "/api/v1/software/$top"
)

table=$WORK/table.txt
{
    echo "# bench/software.sh (SQLite, $BUILD, $(nproc) cores; $(date -u +%Y-%m-%d))"
    echo "# $n_hw computers, $n_sw installed software, $n_names names, $n_links category links ($n_ignored IGNORED)"
    echo "# loaded in ${load_s} s (one sqlite3 script; database ${db_mb} MiB); $RUNS runs per page after one untimed; target: p95 < $TARGET_MS ms"
    echo "# first count of the fleet's software (from the first view to the API showing it): ${count_s} s"
    bench_time_pages
} | tee "$table"
if [ "$RESULTS" != - ]; then
    cp "$table" "$RESULTS"
    log "written to $RESULTS"
fi
