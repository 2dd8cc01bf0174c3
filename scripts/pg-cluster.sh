#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and benchmarks, on 127.0.0.1 only.
#
#   pg-cluster.sh start DIR PORT   create the cluster in DIR if needed, start it, print its URL
#   pg-cluster.sh stop DIR         stop it (fast shutdown)
#
# Uses Debian's postgresql binaries; as root, runs them as the 'postgres' user (initdb refuses
# root). Durability settings are relaxed unless PG_DURABLE=1: the data is disposable.
set -euo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    echo "pg-cluster: PostgreSQL server binaries not found (apt-get install postgresql)" >&2
    exit 1
fi

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2; }

case "$cmd" in
start)
    port=${3:?port}
    if [ ! -f "$dir/PG_VERSION" ]; then
        mkdir -p "$dir"
        # The postgres user must be able to reach the directory.
        [ "$(id -u)" -eq 0 ] && chmod o+x "$(dirname "$dir")"
        chmod 700 "$dir"
        [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
        as_owner "$bindir/initdb" -D "$dir" -U postgres -A trust -E UTF8 --no-locale >"$dir.initdb.log" 2>&1 \
            || { cat "$dir.initdb.log" >&2; exit 1; }
    fi
    opts="-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=400"
    if [ "${PG_DURABLE:-0}" != 1 ]; then
        opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    fi
    as_owner "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -o "$opts" -w -t 60 start >/dev/null \
        || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
stop)
    as_owner "$bindir/pg_ctl" -D "$dir" -m fast -w -t 60 stop >/dev/null
    ;;
*)
    echo "usage: $0 start DIR PORT | stop DIR" >&2
    exit 2
    ;;
esac
