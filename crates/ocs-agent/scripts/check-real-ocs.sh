#!/bin/sh
# Compatibility with the ORIGINAL OCS server: installs and starts the Debian package of the
# Perl server (shared/tools/real-ocs/setup.sh, 127.0.0.1:8090, MariaDB), inventories this
# machine into it with ocs-agent twice, and shows from MariaDB that the computer, its
# software and its other sections are stored. Exits non-zero if anything is missing.
# Stop the server afterwards with shared/tools/real-ocs/stop.sh.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
shared=${OCS_SHARED_DIR:-$here/../../../shared}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/../../target}"
url=${REAL_OCS_URL:-http://127.0.0.1:8090/ocsinventory}
sql() { mysql -uocs -pocs ocsweb --batch -e "$1"; }

bash "$shared/tools/real-ocs/setup.sh" --no-smoke
cargo build -q --release -p ocs-agent
agent="$CARGO_TARGET_DIR/release/ocs-agent"
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT

echo "== first run (new device)"
"$agent" --server "$url" --state-dir "$state" --info 2>/dev/null
deviceid=$(sed -n 's/^deviceid = "\(.*\)"$/\1/p' "$state/state.toml")
sent_software=$("$agent" --stdout --state-dir "$state" | grep -c '<SOFTWARES>')
echo "== second run (known device: CHECKSUM of what changed, ACCOUNT_UPDATE kept)"
"$agent" --server "$url" --state-dir "$state" --info --force 2>/dev/null
grep -A1 'key = "TAG"' "$state/state.toml"

echo "== MariaDB"
sql "select ID,DEVICEID,NAME,OSNAME,IPADDR,USERAGENT,CHECKSUM from hardware where DEVICEID='$deviceid'"
id=$(sql "select ID from hardware where DEVICEID='$deviceid'" | tail -n 1)
[ -n "$id" ] || { echo "FAIL: $deviceid is not in hardware" >&2; exit 1; }
stored=$(sql "select count(*) from software where HARDWARE_ID=$id" | tail -n 1)
echo "software rows: $stored (sent: $sent_software)"
for t in accountinfo bios cpus drives networks storages controllers repository ports; do
  printf '%s: %s\n' "$t" "$(sql "select count(*) from $t where HARDWARE_ID=$id" | tail -n 1)"
done
[ "$stored" -eq "$sent_software" ] || { echo "FAIL: $sent_software software sent, $stored stored" >&2; exit 1; }
echo "OK: $deviceid and its $stored software entries are in the original server's database"
