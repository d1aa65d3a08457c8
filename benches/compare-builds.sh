#!/usr/bin/env bash
# Two (or more) builds of nat-flowrec timed on the same input, runs interleaved (A B A B ...), so
# that a slow spell of this noisy machine hits every build alike; prints each build's fastest and
# median wall time and, against the first build, the ratio of the medians. Use it for before/after
# figures in one session: keep the old binary (cp target/release/nat-flowrec /tmp/nf-before),
# build the change, compare.
#
# Usage: benches/compare-builds.sh [-n RUNS] [-f FILE] BIN_A BIN_B [BIN...]
#        (defaults: 8 runs each; the 10M-line file of benches/run-report-bench.sh)
# Env:   COMPARE_ARGS  what to run instead of `report FILE --csv` (FILE is appended last)
set -euo pipefail
cd "$(dirname "$0")/.."

runs=8
file=${NAT_FLOWREC_BENCH_DIR:-target/bench}/flowlogs-10m.log
while getopts "n:f:" opt; do
  case $opt in
    n) runs=$OPTARG ;;
    f) file=$OPTARG ;;
    *) echo "usage: $0 [-n RUNS] [-f FILE] BIN_A BIN_B [BIN...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] || { echo "usage: $0 [-n RUNS] [-f FILE] BIN_A BIN_B [BIN...]" >&2; exit 2; }
[ -f "$file" ] || { echo "no input $file: run benches/run-report-bench.sh once to make it" >&2; exit 1; }
for bin in "$@"; do
  [ -x "$bin" ] || { echo "not an executable: $bin" >&2; exit 1; }
done
read -r -a args <<< "${COMPARE_ARGS:-report --csv}"

cat "$file" > /dev/null   # warm the page cache
log=$(mktemp)
trap 'rm -f "$log"' EXIT
declare -A walls
for _ in $(seq "$runs"); do
  for bin in "$@"; do
    /usr/bin/time -o "$log" -f "%e" "$bin" "${args[@]}" "$file" > /dev/null 2>&1
    walls[$bin]="${walls[$bin]:-} $(tail -n 1 "$log")"
  done
done

echo "input: $file; $runs runs each, interleaved"
base=""
for bin in "$@"; do
  # shellcheck disable=SC2086
  stats=$(printf '%s\n' ${walls[$bin]} | sort -n |
    awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.3f %.3f", a[1], m }')
  best=${stats% *}
  median=${stats#* }
  [ -n "$base" ] || base=$median
  awk -v b="$bin" -v f="$best" -v m="$median" -v base="$base" \
    'BEGIN { printf "%-40s fastest %6.2f s  median %6.2f s  median vs first: %.2fx faster\n", b, f, m, base / m }'
done
