#!/usr/bin/env bash
# Groups at fleet scale: a dynamic group "OS and two software" evaluated, and its page.
#
#   bench/groups.sh [COMPUTERS [SOFTWARE_PER_COMPUTER]]
#
# Runs `cargo bench -p ocs-server --bench groups` (release build): the server on SQLite in a
# temporary directory, COMPUTERS [100000] synthetic computers with SOFTWARE_PER_COMPUTER [20]
# software entries each (ocs_storage::synthetic), a dynamic group of Windows 10 computers having
# the two most common software, then the median, p90 and maximum of RUNS [11] evaluations
# (API refresh) and group pages. The budget (issue 11) is 300 ms for each.
# PG_URL=postgres://… runs it on a fresh database of that PostgreSQL cluster instead.
set -euo pipefail
cd "$(dirname "$0")/.."
COMPUTERS="${1:-100000}"
SOFTWARE="${2:-20}"
ARGS=(--computers "$COMPUTERS" --software "$SOFTWARE" --runs "${RUNS:-11}")
if [ -n "${PG_URL:-}" ]; then
    ARGS+=(--database "$PG_URL")
fi
exec cargo bench -p ocs-server --bench groups -- "${ARGS[@]}"
