#!/usr/bin/env bash
# Whole-process benchmark of `nat-flowrec report FILE --csv` (benches/README.md), side by side with
# the baseline a user would reach for first: polars' lazy CSV reader (benches/polars_baseline.py),
# and with the floor of any reader: `cat FILE > /dev/null` (and `gzip -dc` for the gzip file).
#
# It regenerates the seeded 10,000,000-line input if missing (`nat-flowrec generate`, the default
# 14-field format, seed 42: the same bytes on every machine), warms the page cache, and times each
# command with /usr/bin/time -v (wall clock, peak RSS), best of RUNS.
#
# Usage: benches/run-report-bench.sh            (needs target/release/nat-flowrec)
# Env:   NAT_FLOWREC_BENCH_DIR  where the inputs live (default target/bench)
#        POLARS_PYTHON          a python with polars (default /tmp/venv-polars/bin/python; make it
#                               with: python3 -m venv /tmp/venv-polars &&
#                                     /tmp/venv-polars/bin/pip install polars)
#        RUNS                   runs per command, best kept (default 3)
#        WIDE=1                 also time a 30,000,000-line file with about 10x the distinct
#                               (internal, remote) pairs (25,000 hosts x 200,000 remotes): memory
#                               must grow with distinct keys only
set -euo pipefail
cd "$(dirname "$0")/.."

bin=target/release/nat-flowrec
declare -A walls
dir=${NAT_FLOWREC_BENCH_DIR:-target/bench}
python=${POLARS_PYTHON:-/tmp/venv-polars/bin/python}
runs=${RUNS:-3}
lines=10000000
seed=42

[ -x "$bin" ] || { echo "build it first: cargo build --release --bin nat-flowrec" >&2; exit 1; }
command -v /usr/bin/time > /dev/null || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
mkdir -p "$dir"
plain="$dir/flowlogs-10m.log"
gz="$plain.gz"
if [ ! -f "$plain" ]; then
  echo "== generating $plain ($lines lines, seed $seed)" >&2
  "$bin" generate --lines "$lines" --seed "$seed" --out "$plain"
fi
if [ ! -f "$gz" ]; then
  echo "== compressing $gz" >&2
  gzip -c -6 "$plain" > "$gz.tmp" && mv "$gz.tmp" "$gz"
fi
wide="$dir/flowlogs-wide-30m.log"
if [ "${WIDE:-0}" = 1 ] && [ ! -f "$wide" ]; then
  echo "== generating $wide (30,000,000 lines, 25,000 hosts x 200,000 remotes)" >&2
  "$bin" generate --lines 30000000 --seed "$seed" --hosts 25000 --remotes 200000 --out "$wide"
fi

size=$(stat -L -c %s "$plain")
cat "$plain" "$gz" > /dev/null   # warm the page cache

# Runs "$@" RUNS times under /usr/bin/time -v; prints "wall_seconds max_rss_kib" of the fastest.
measure() {
  local best="" log
  log=$(mktemp)
  for _ in $(seq "$runs"); do
    /usr/bin/time -v -o "$log" "$@" > /dev/null 2>&1
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" |
      awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
    if [ -z "$best" ] || awk -v a="$wall" -v b="${best%% *}" 'BEGIN { exit !(a < b) }'; then
      best="$wall $rss"
    fi
  done
  rm -f "$log"
  echo "$best"
}

row() {  # name, input bytes, command...
  local name=$1 bytes=$2
  shift 2
  local m wall rss
  m=$(measure "$@")
  walls[$name]=${m%% *}
  wall=${m%% *}
  rss=${m##* }
  awk -v n="$name" -v w="$wall" -v r="$rss" -v b="$bytes" \
    'BEGIN { printf "| %-44s | %7.2f s | %8.0f MB/s | %8.0f MiB |\n", n, w, b / w / 1e6, r / 1024 }'
}

echo "input: $plain ($size bytes, $lines lines); gzip: $(stat -L -c %s "$gz") bytes; best of $runs"
echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
echo
echo "| command                                      |      wall |   throughput |     peak RSS |"
echo "|----------------------------------------------|-----------|--------------|--------------|"
row "cat FILE > /dev/null" "$size" cat "$plain"
row "nat-flowrec report FILE --csv (2 threads)" "$size" "$bin" report "$plain" --csv
row "nat-flowrec report FILE --csv (1 thread)" "$size" env RAYON_NUM_THREADS=1 "$bin" report "$plain" --csv
if "$python" -c 'import polars' 2> /dev/null; then
  row "polars lazy scan_csv (2 threads)" "$size" env POLARS_MAX_THREADS=2 "$python" benches/polars_baseline.py "$plain"
  row "polars lazy, VPC side only (2 threads)" "$size" env POLARS_MAX_THREADS=2 "$python" benches/polars_baseline.py "$plain" --nat-aware
else
  echo "| polars: not installed at $python (see the header of this script) | | | |"
fi
row "gzip -dc FILE.gz > /dev/null" "$size" gzip -dc "$gz"
row "nat-flowrec report FILE.gz --csv (2 threads)" "$size" "$bin" report "$gz" --csv
if [ "${WIDE:-0}" = 1 ]; then
  wsize=$(stat -L -c %s "$wide")
  cat "$wide" > /dev/null
  row "report, wide 30M-line file (2 threads)" "$wsize" "$bin" report "$wide" --csv
  echo "wide file: $("$bin" report "$wide" --json 2> /dev/null |
    python3 -c 'import json, sys; s = json.load(sys.stdin)["summary"]; print(s["conversations"], "conversations,", s["records_read"], "records")')"
fi
echo
echo "(throughput = uncompressed input bytes / wall time; RSS from /usr/bin/time -v)"
ours=${walls["nat-flowrec report FILE --csv (2 threads)"]}
theirs=${walls["polars lazy scan_csv (2 threads)"]:-}
if [ -n "$theirs" ]; then
  awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "report vs polars lazy, 2 threads: %.2fx faster (target 4x)\n", b / a }'
fi
floor=${walls["cat FILE > /dev/null"]}
awk -v a="$ours" -v b="$floor" 'BEGIN { printf "report vs cat FILE > /dev/null: %.2fx the time (target 3x)\n", a / b }'
gz_ours=${walls["nat-flowrec report FILE.gz --csv (2 threads)"]}
gz_floor=${walls["gzip -dc FILE.gz > /dev/null"]}
awk -v a="$gz_ours" -v b="$gz_floor" 'BEGIN { printf "report of the gzip file vs gzip -dc alone: %.2fx the time\n", a / b }'
