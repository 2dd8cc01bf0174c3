# Shared by the console page benchmarks (bench/networks.sh, bench/software.sh); sourced, not
# run. Each function reports on stderr and exits on a failure, so a benchmark script reads
# as: build or pick the server, make a work directory, load data, start, sign in, time pages.

log() { printf '== %s\n' "$*" >&2; }
now() { date +%s.%N; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Sets SERVER: SERVER_BIN, or the release build made here.
bench_server() {
    if [ -n "${SERVER_BIN:-}" ]; then
        SERVER=$SERVER_BIN
        BUILD="binary $SERVER_BIN"
    else
        log "building ocs-server (release)"
        cargo build --release --locked -p ocs-server >&2
        SERVER=$PWD/target/release/ocs-server
        BUILD="release build"
    fi
}

# Sets WORK to a new directory named after $1 (under WORK_DIR when set) and removes it, and
# stops the server, on exit unless KEEP=1.
bench_workdir() {
    if [ -n "${WORK_DIR:-}" ]; then
        mkdir -p "$WORK_DIR"
        WORK=$(mktemp -d "$WORK_DIR/$1.XXXXXX")
    else
        WORK=$(mktemp -d "/tmp/$1.XXXXXX")
    fi
    SERVER_PID=""
    trap bench_cleanup EXIT
}

bench_cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    if [ "${KEEP:-0}" = 1 ]; then echo "work directory kept: $WORK" >&2; else rm -rf "$WORK"; fi
}

# Starts the server on data directory $1 and a free port; sets BASE and SERVER_PID.
bench_start() {
    local port
    port=$(free_port)
    BASE=http://127.0.0.1:$port
    OCS_LOG__LEVEL=warn "$SERVER" --data-dir "$1" serve --listen "127.0.0.1:$port" --tls-listen off \
        >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 300); do
        curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break
        sleep 0.1
    done
    curl -fsS "$BASE/healthz" >/dev/null || { echo "ocs-server did not start: $(cat "$WORK/server.log")" >&2; exit 1; }
}

# Signs in as admin (changing the first-sign-in password as the console requires); sets JAR.
# $1: a console page that must then answer 200.
bench_sign_in() {
    log "signing in to the console"
    JAR=$WORK/cookies
    local login_csrf csrf status home
    csrf_of() { sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -n 1; }
    curl -fsS -c "$JAR" -b "$JAR" -o /dev/null "$BASE/login"
    login_csrf=$(awk '$6 == "ocs_login_csrf" { print $7 }' "$JAR")
    status=$(curl -sS -c "$JAR" -b "$JAR" -o /dev/null -w '%{http_code}' -H "Origin: $BASE" \
        --data-urlencode "csrf=$login_csrf" --data-urlencode login=admin --data-urlencode password=admin "$BASE/login")
    [ "$status" = 303 ] || { echo "sign-in refused ($status)" >&2; exit 1; }
    csrf=$(curl -fsS -c "$JAR" -b "$JAR" "$BASE/account/password" | csrf_of)
    status=$(curl -sS -c "$JAR" -b "$JAR" -o /dev/null -w '%{http_code}' -H "Origin: $BASE" \
        --data-urlencode "csrf=$csrf" --data-urlencode current=admin \
        --data-urlencode new=bench-password-1 --data-urlencode confirm=bench-password-1 "$BASE/account/password")
    [ "$status" = 303 ] || { echo "first-sign-in password change refused ($status)" >&2; exit 1; }
    home=$(curl -sS -b "$JAR" -o /dev/null -w '%{http_code}' "$BASE$1")
    [ "$home" = 200 ] || { echo "console session not usable ($1 answered $home)" >&2; exit 1; }
}

# One request: "<status> <seconds> <bytes>". API paths are sent with TOKEN, others with the
# console session.
bench_fetch() {
    local auth=(-b "$JAR")
    case "$1" in /api/*) auth=(-H "Authorization: Bearer $TOKEN") ;; esac
    curl -sS -o /dev/null -w '%{http_code} %{time_total} %{size_download}\n' "${auth[@]}" "$BASE$1" \
        || echo "000 0 0"
}

# Times each (label, path) pair of the PAGES array RUNS times after one untimed request and
# prints a line per page: median and p95 of curl's time_total against TARGET_MS. A page
# that does not answer 200 is reported with its status and not timed.
bench_time_pages() {
    local i r label path status secs bytes bad why times
    printf '%-52s %9s %9s %9s %s\n' page median p95 bytes verdict
    for ((i = 0; i < ${#PAGES[@]}; i += 2)); do
        label=${PAGES[i]} path=${PAGES[i + 1]}
        read -r status _ bytes < <(bench_fetch "$path")
        if [ "$status" != 200 ]; then
            case "$status" in
                404) why="404: no such page (not merged yet?)" ;;
                303|302) why="$status: redirected (not signed in?)" ;;
                000) why="no answer" ;;
                *) why="$status: not timed" ;;
            esac
            printf '%-52s %9s %9s %9s %s\n' "$label" - - - "$why"
            continue
        fi
        times=()
        bad=""
        for ((r = 0; r < RUNS; r++)); do
            read -r status secs _ < <(bench_fetch "$path")
            [ "$status" = 200 ] || { bad=$status; break; }
            times+=("$secs")
        done
        if [ -n "$bad" ]; then
            printf '%-52s %9s %9s %9s %s\n' "$label" - - "$bytes" "answered $bad during the runs"
            continue
        fi
        python3 - "$label" "$bytes" "$TARGET_MS" "${times[@]}" <<'PY'
import sys
label, size, target = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
t = sorted(float(x) * 1000 for x in sys.argv[4:])
def q(p):
    return t[min(len(t) - 1, round((len(t) - 1) * p))]
med, p95 = q(0.5), q(0.95)
verdict = "ok" if p95 < target else f"SLOW (>= {target:.0f} ms)"
print(f"{label:<52} {med:7.1f}ms {p95:7.1f}ms {size:9d} {verdict}")
PY
    done
}
