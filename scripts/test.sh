#!/usr/bin/env bash
# Runs every test of the project on a fresh machine: installs what the tests need (the real
# OCS and FusionInventory agents, PostgreSQL, from Debian), starts the original OCS server
# (../shared/tools/real-ocs) and a throwaway PostgreSQL cluster on 127.0.0.1, checks
# formatting and lints, then runs the whole test suite twice:
# on SQLite, then on PostgreSQL. Under CI=true a missing dependency fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
need_packages=()
command -v ocsinventory-agent >/dev/null || need_packages+=(ocsinventory-agent)
command -v fusioninventory-agent >/dev/null || need_packages+=(fusioninventory-agent)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_packages+=(postgresql)
command -v psql >/dev/null || need_packages+=(postgresql-client)
command -v openssl >/dev/null || need_packages+=(openssl)
command -v chromium >/dev/null || need_packages+=(chromium) # browser tests (tests/e2e)
command -v sqlite3 >/dev/null || need_packages+=(sqlite3) # a browser test ages computers in the database file
command -v ip >/dev/null || need_packages+=(iproute2) # the network-discovery tests build namespaces
command -v nmap >/dev/null || need_packages+=(nmap) # Analyze, and the Unix agent's scan fallback
command -v nmblookup >/dev/null || need_packages+=(samba-common-bin) # Analyze's NetBIOS names
# The original's injector, run against our server by the injector's tests.
[ -f /usr/share/ocsinventory-server/binutils/ocsinventory-injector.pl ] || need_packages+=(ocsinventory-server)
# The original's REST API (Mojolicious under Plack), which the /ocsapi/v1 tests compare with.
perl -MMojolicious -e1 2>/dev/null || need_packages+=(libmojolicious-perl)
perl -MPlack -e1 2>/dev/null || need_packages+=(libplack-perl)
# The original's SOAP client (soap-client.pl, from ocsinventory-server), run against our SOAP service.
perl -MSOAP::Lite -e1 2>/dev/null || need_packages+=(libsoap-lite-perl)
perl -MHTML::Entities -e1 2>/dev/null || need_packages+=(libhtml-parser-perl)
if ((${#need_packages[@]})); then
    log "installing ${need_packages[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    # Package scripts must not start services of their own (no systemd here; the tests
    # start what they need on 127.0.0.1).
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
        $SUDO chmod +x /usr/sbin/policy-rc.d
        trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    $SUDO apt-get install -y -qq --no-install-recommends "${need_packages[@]}" >/dev/null
    $SUDO rm -f /usr/sbin/policy-rc.d
    trap - EXIT
fi

if [ ! -d ../shared/fixtures/real-agent ] && [ -z "${OCS_FIXTURES_DIR:-}" ]; then
    echo "error: the real-agent captures are expected in ../shared/fixtures/real-agent (or set OCS_FIXTURES_DIR)" >&2
    exit 1
fi

# The original server on 127.0.0.1:8090 (MariaDB and Apache, from Debian), which our
# injector's tests send to; a minute the first time, seconds after.
real_ocs=../shared/tools/real-ocs/setup.sh
if [ -f "$real_ocs" ]; then
    log "starting the original OCS server (real-ocs) on 127.0.0.1:8090"
    bash "$real_ocs" --no-smoke >/tmp/real-ocs-setup.log 2>&1 || {
        tail -20 /tmp/real-ocs-setup.log >&2
        echo "error: the original OCS server did not start (see /tmp/real-ocs-setup.log)" >&2
        exit 1
    }
    # The package enables its REST API with placeholders for its paths; ours fills them in.
    restapi=/usr/share/perl5/Api/Ocsinventory/Restapi
    if [ -d "$restapi" ] && [ ! -e /etc/apache2/conf-enabled/real-ocs-restapi.conf ]; then
        log "enabling the original's REST API at http://127.0.0.1:8090/ocsapi/v1"
        sed -e "s|'REST_API_PATH'|'$restapi'|" -e "s|'REST_API_LOADER_PATH'|'$restapi/Loader.pm'|" \
            /etc/apache2/conf-available/ocsinventory-restapi.conf \
            | $SUDO tee /etc/apache2/conf-available/real-ocs-restapi.conf >/dev/null
        $SUDO a2disconf -q ocsinventory-restapi >/dev/null 2>&1 || true
        $SUDO a2enconf -q real-ocs-restapi >/dev/null
        $SUDO apache2ctl graceful
    fi
elif [ "${CI:-}" = true ]; then
    echo "error: $real_ocs is missing; the injector's tests need the original server" >&2
    exit 1
fi

log "starting a throwaway PostgreSQL cluster"
pg_root=$(mktemp -d /tmp/ocs-test-pg.XXXXXX)
pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() { ./scripts/pg-cluster.sh stop "$pg_root/data" >/dev/null 2>&1 || true; rm -rf "$pg_root"; }
trap cleanup EXIT
OCS_TEST_PG_URL=$(./scripts/pg-cluster.sh start "$pg_root/data" "$pg_port")
export OCS_TEST_PG_URL
echo "PostgreSQL at $OCS_TEST_PG_URL"

log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

log "cargo build (the agent's integration test runs the server binary)"
cargo build -p ocs-server --locked

log "cargo test (SQLite)"
cargo test --workspace --locked

log "cargo test (PostgreSQL)"
OCS_TEST_BACKEND=postgres cargo test --workspace --locked

# --- browser tests (tests/e2e) -------------------------------------------------------------
# End-to-end tests of the console in Debian's headless Chromium, driven by playwright-core
# (no browser download). They start the server binary built above, on throwaway data
# directories. Screenshots land in target/e2e-screenshots/.
log "browser tests (headless Chromium)"
command -v chromium >/dev/null || { echo "error: chromium is needed for the browser tests" >&2; exit 1; }
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "error: node (>= 20) and npm are needed for the browser tests" >&2
    exit 1
fi
(cd tests/e2e && npm ci --no-audit --no-fund && OCS_SERVER_BIN="$PWD/../../target/debug/ocs-server" node --test)
# --- end of browser tests ------------------------------------------------------------------
