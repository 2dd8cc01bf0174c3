#!/bin/sh
# Inventories this machine with the original Unix agent (ocsinventory-agent, Debian package)
# and with ours, then prints the section-by-section comparison table (examples/compare.rs).
# Run as root so that both agents see the same things. Exits 1 if ours has fewer entries or
# filled fields than the original in any section.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/../../target}"

command -v ocsinventory-agent >/dev/null || { echo "ocsinventory-agent is not installed (apt-get install ocsinventory-agent)" >&2; exit 2; }
mkdir -p "$work/orig"
ocsinventory-agent --local="$work/orig" >/dev/null 2>&1
theirs=$(ls "$work"/orig/*.ocs)

cargo build -q --release -p ocs-agent --bin ocs-agent --example compare
"$CARGO_TARGET_DIR/release/ocs-agent" --stdout --state-dir "$work/state" > "$work/ours.xml"

"$CARGO_TARGET_DIR/release/examples/compare" "$work/ours.xml" "$theirs"
