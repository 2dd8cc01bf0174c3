#!/usr/bin/env bash
# Deleting many computers at once (issue 11: a mass deletion of 10,000 computers in under 10 s).
#
#   bench/deletion.sh [--help]
#
# Runs crates/ocs-server/benches/deletion.rs in release mode: a synthetic fleet of COMPUTERS
# computers with SOFTWARE software entries each written straight into a fresh SQLite database
# (and, with PG=1, a database of a throwaway PostgreSQL cluster on a free port), then
# `ocs-server computers delete` with DELETE of their IDs, RUNS times; prints the median and
# maximum of the deletion time the command reports and of the command's wall time.
#
# Environment (defaults in brackets): COMPUTERS [20000], DELETE [10000], SOFTWARE [100],
# RUNS [3], PG [0].
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
    -h|--help) sed -n 2,13p "$0"; exit 0 ;;
    "") ;;
    *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
esac
COMPUTERS=${COMPUTERS:-20000}
DELETE=${DELETE:-10000}
SOFTWARE=${SOFTWARE:-100}
RUNS=${RUNS:-3}
PG=${PG:-0}
ARGS=(--computers "$COMPUTERS" --delete "$DELETE" --software "$SOFTWARE" --runs "$RUNS")

cargo bench -p ocs-server --bench deletion -- "${ARGS[@]}"
if [ "$PG" = 1 ]; then
    work=$(mktemp -d)
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    url=$(./scripts/pg-cluster.sh start "$work/pg" "$port")
    trap './scripts/pg-cluster.sh stop "$work/pg" >/dev/null 2>&1; rm -rf "$work"' EXIT
    cargo bench -p ocs-server --bench deletion -- "${ARGS[@]}" --database "$url"
fi
