#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ for SECONDS each (default 60), one after the other,
# and prints executions and crashes per target. Exits non-zero if any target crashed, leaked,
# ran out of memory or timed out; the inputs that did it are in fuzz/artifacts/<target>/.
#
#   ./scripts/fuzz.sh [SECONDS]        FUZZ_TARGETS="xml_parse info_file" ./scripts/fuzz.sh 30
#
# Needs the nightly toolchain (rustup) and python3; installs cargo-fuzz if missing. Corpora are
# generated from the real-agent captures (../shared/fixtures/real-agent or OCS_FIXTURES_DIR)
# into fuzz/corpus/<target>, next to the committed seeds in fuzz/seeds/<target>. Not run by CI.
set -euo pipefail

SECONDS_PER_TARGET=${1:-60}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FUZZ="$ROOT/fuzz"
FIXTURES=${OCS_FIXTURES_DIR:-$ROOT/../shared/fixtures/real-agent}
TARGETS=${FUZZ_TARGETS:-"decode_body xml_parse inventory prolog download reply_reader info_file read_equivalence"}
RSS_LIMIT_MB=${FUZZ_RSS_LIMIT_MB:-1024}
# The targets are safe Rust, so what matters is panics, failed assertions and overflow (debug
# assertions on); AddressSanitizer would only cost a factor of four in executions. Set
# FUZZ_SANITIZER=address to have it anyway.
BUILD_FLAGS=(--sanitizer "${FUZZ_SANITIZER:-none}" --debug-assertions)
# Larger inputs than this are cut by libFuzzer; make-seeds.py keeps its seeds within them.
max_len() { case "$1" in inventory | read_equivalence) echo 16384 ;; *) echo 4096 ;; esac; }

case "$SECONDS_PER_TARGET" in
  '' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac
if ! rustup toolchain list | grep -q '^nightly'; then
  echo "the nightly toolchain is needed: rustup toolchain install nightly" >&2
  exit 2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz
fi

cd "$FUZZ"
cargo +nightly fuzz build "${BUILD_FLAGS[@]}"
if [ -d "$FIXTURES" ]; then
  python3 make-seeds.py --fixtures "$FIXTURES" --out corpus
else
  echo "no fixtures at $FIXTURES: fuzzing from the committed seeds only" >&2
fi

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
failed=0
total=0
printf '%-14s %14s %10s %8s  %s\n' target execs execs/s crashes result
for target in $TARGETS; do
  mkdir -p "corpus/$target" "artifacts/$target"
  before=$(find "artifacts/$target" -type f | wc -l)
  status=0
  # -jobs/-workers stay at 1: the machine is shared, and execs are summed over one process.
  cargo +nightly fuzz run "${BUILD_FLAGS[@]}" "$target" "corpus/$target" "seeds/$target" -- \
    -dict=ocs.dict -max_len="$(max_len "$target")" -max_total_time="$SECONDS_PER_TARGET" \
    -rss_limit_mb="$RSS_LIMIT_MB" -timeout=30 -print_final_stats=1 \
    >"$logs/$target.log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$target.log" | tail -n 1)
  execs=${execs:-0}
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$logs/$target.log" | tail -n 1)
  crashes=$(( $(find "artifacts/$target" -type f | wc -l) - before ))
  result=ok
  if [ "$status" -ne 0 ] || [ "$crashes" -ne 0 ]; then
    result="FAILED (exit $status), log: fuzz/artifacts/$target/fuzz.log"
    cp "$logs/$target.log" "artifacts/$target/fuzz.log"
    failed=1
  fi
  total=$((total + execs))
  printf '%-14s %14s %10s %8s  %s\n' "$target" "$execs" "${rate:-0}" "$crashes" "$result"
done
printf '%-14s %14s\n' total "$total"
exit "$failed"
