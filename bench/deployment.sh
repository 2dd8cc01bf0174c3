#!/usr/bin/env bash
# Deployment benchmark: build a 1 GiB package, then 50 clients fetch all its fragments at once.
#
#   bench/deployment.sh [--size-mib N] [--fragments K] [--clients C] [--debug]
#
# Defaults: a 1024 MiB archive (gzip magic + random bytes) cut into 100 fragments, 50 clients,
# each fetching every fragment once with curl over loopback HTTP. Prints the build time (wall,
# `package build` from the file on disk: copy + MD5 + cut + fsync), the fragment throughput
# (bytes received by all clients / wall time) and the server's peak RSS (VmHWM) while it
# served them. The package is activated with its info file on the server's own HTTPS.
# Release build unless --debug.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MIB=1024
FRAGMENTS=100
CLIENTS=50
PROFILE=release
while [ $# -gt 0 ]; do
  case "$1" in
    --size-mib) SIZE_MIB=$2; shift 2 ;;
    --fragments) FRAGMENTS=$2; shift 2 ;;
    --clients) CLIENTS=$2; shift 2 ;;
    --debug) PROFILE=debug; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

if [ "$PROFILE" = release ]; then
  nice cargo build --release -p ocs-server >&2
else
  cargo build -p ocs-server >&2
fi
BIN="$PWD/target/$PROFILE/ocs-server"

WORK=$(mktemp -d /tmp/ocs-bench-deploy.XXXXXX)
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
DATA="$WORK/data"
mkdir -p "$DATA"

echo "archive: ${SIZE_MIB} MiB, ${FRAGMENTS} fragments, ${CLIENTS} clients, ${PROFILE} build" >&2
{ printf '\x1f\x8b\x08\x00'; head -c $((SIZE_MIB * 1024 * 1024 - 4)) /dev/urandom; } > "$WORK/pkg.tar.gz"

OCS_LOG__LEVEL=info "$BIN" --data-dir "$DATA" serve --listen 127.0.0.1:0 --tls-listen 127.0.0.1:0 > "$DATA/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do
  ADDR=$(grep -o 'listening on http://[0-9.:]*' "$DATA/server.log" | head -1 | sed 's/listening on http:\/\///') || true
  [ -n "${ADDR:-}" ] && break
  sleep 0.1
done
[ -n "${ADDR:-}" ] || { echo "server did not start" >&2; cat "$DATA/server.log" >&2; exit 1; }
TLS_ADDR=$(grep -o 'listening on https://[0-9.:]*' "$DATA/server.log" | head -1 | sed 's/listening on https:\/\///')

cli() { OCS_LOG__LEVEL=warn "$BIN" --data-dir "$DATA" "$@"; }

T0=$(date +%s.%N)
FILEID=$(cli package build --name bench --os linux --action execute --command true \
  --file "$WORK/pkg.tar.gz" --fragments "$FRAGMENTS")
T1=$(date +%s.%N)
BUILD_S=$(echo "$T1 - $T0" | bc -l)
rm -f "$WORK/pkg.tar.gz"

# The info file over the server's own HTTPS (the activation check trusts its generated CA).
cli package activate "$FILEID" --info-url "https://$TLS_ADDR/download" --fragments-url "http://$ADDR/download" > /dev/null

BEFORE_HWM=$(awk '/VmHWM/ {print $2}' /proc/$SERVER_PID/status)
client() {
  local total=0 n size
  for n in $(seq "$FRAGMENTS"); do
    size=$(curl -s -o /dev/null -w '%{size_download}' "http://$ADDR/download/$FILEID/$FILEID-$n")
    total=$((total + size))
  done
  echo "$total"
}
T0=$(date +%s.%N)
PIDS=()
for c in $(seq "$CLIENTS"); do client > "$WORK/client-$c" & PIDS+=($!); done
wait "${PIDS[@]}"
T1=$(date +%s.%N)
BYTES=$(cat "$WORK"/client-* | paste -sd+ | bc)
FETCH_S=$(echo "$T1 - $T0" | bc -l)
HWM=$(awk '/VmHWM/ {print $2}' /proc/$SERVER_PID/status)
EXPECTED=$((SIZE_MIB * 1024 * 1024 * CLIENTS))

printf 'build: %.2f s for %d MiB (%.0f MB/s)\n' "$BUILD_S" "$SIZE_MIB" "$(echo "$SIZE_MIB * 1.048576 / $BUILD_S" | bc -l)"
printf 'fetch: %d clients x %d fragments, %d bytes (expected %d) in %.2f s: %.0f MB/s\n' \
  "$CLIENTS" "$FRAGMENTS" "$BYTES" "$EXPECTED" "$FETCH_S" "$(echo "$BYTES / 1000000 / $FETCH_S" | bc -l)"
printf 'server peak RSS: %d MiB before the clients, %d MiB after\n' "$((BEFORE_HWM / 1024))" "$((HWM / 1024))"
