#!/usr/bin/env bash
# Export time of a recording through a local proxy that enforces CloudWatch Logs' read quotas
# (GetLogEvents 25/s, FilterLogEvents 5/s, DescribeLogStreams 5/s), against moto, for the
# GetLogEvents path and the FilterLogEvents path in the same run, each beside the time the
# quotas allow at best and moto's own floor; then the same records delivered to S3 (a
# recording with recording.destination = "s3", its files seeded in moto S3 in AWS's layout).
# Usage: benches/export-bench.sh [RECORDS...]   (default 200000 1000000)
# Env:   ENIS     network interfaces of the benched NAT gateway, one stream each (default 4)
#        PROFILE  cargo profile of the binary (default release, the figure's; `dev` for a quick look)
# Uses the test suite's venv (scripts/test creates it).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || { echo "no .venv: run scripts/test once (it creates the venv with moto)" >&2; exit 1; }
profile=${PROFILE:-release}
cargo build --quiet --profile "$profile" --bin nat-flowrec
target_dir=$(cargo metadata --format-version 1 --no-deps | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
out=$profile
[ "$profile" = dev ] && out=debug
for records in "${@:-200000 1000000}"; do
  for n in $records; do
    echo "== $n records"
    .venv/bin/python benches/export_bench.py --binary "$target_dir/$out/nat-flowrec" --venv .venv \
      --records "$n" --enis "${ENIS:-4}"
  done
done
