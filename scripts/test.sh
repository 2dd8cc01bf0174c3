#!/usr/bin/env bash
# Runs every test of the project on a fresh machine: installs what the tests need (the real
# OCS and FusionInventory agents from Debian), checks formatting and lints, then runs the
# whole test suite. Under CI=true a missing dependency fails the run instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*"; }

need_packages=()
command -v ocsinventory-agent >/dev/null || need_packages+=(ocsinventory-agent)
command -v fusioninventory-agent >/dev/null || need_packages+=(fusioninventory-agent)
if ((${#need_packages[@]})); then
    log "installing ${need_packages[*]}"
    if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    # The agent package asks how to reach a server; the tests pass --server themselves.
    $SUDO apt-get install -y -qq --no-install-recommends "${need_packages[@]}" >/dev/null
fi

if [ ! -d ../shared/fixtures/real-agent ] && [ -z "${OCS_FIXTURES_DIR:-}" ]; then
    echo "error: the real-agent captures are expected in ../shared/fixtures/real-agent (or set OCS_FIXTURES_DIR)" >&2
    exit 1
fi

log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

log "cargo test"
cargo test --workspace --locked
