#!/usr/bin/env bash
# Mass action benchmark: set the TAG, add to a group and delete 10,000 computers through the console's
# /mass/apply, on SQLite (or PostgreSQL with --database ADMIN_URL), median of a few runs.
#
#   bench/mass.sh [--computers N] [--selected S] [--software W] [--runs R] [--database URL]
#
# Defaults: a synthetic fleet of 10,000 computers with 20 software each, 10,000 chosen IDs
# and the whole result, 5 timed runs each after one untimed run. The figures go to stdout;
# the issue's budget is 10 s. See crates/ocs-server/benches/mass.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
exec nice cargo bench -p ocs-server --bench mass -- "$@"
