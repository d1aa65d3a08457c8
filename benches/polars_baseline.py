#!/usr/bin/env python3
"""The baseline `nat-flowrec report` is measured against (benches/README.md): polars' lazy CSV
reader over the same flow-log file, computing what a user with polars at hand would ask for first:

* bytes per (srcaddr, dstaddr) pair, top 20;
* bytes per pkt-dst-aws-service.

That is the naive query (it sums every record, so both legs of each NAT connection count); the
report does more (legs counted once, talkers, sources, destinations, services, timeline), so the
comparison flatters polars, not us. `--nat-aware` adds the VPC-side filter the report applies.

Usage (run by benches/run-report-bench.sh, in a throwaway venv outside the repository):
    POLARS_MAX_THREADS=2 /tmp/venv-polars/bin/python benches/polars_baseline.py FILE [--nat-aware]
It prints both tables as CSV to stdout (redirect it to /dev/null when timing).
"""

import sys

import polars as pl

# The default 14-field format (`nat_flowrec_parsers::DEFAULT_FORMAT`); `-` is an absent value.
COLUMNS = [
    "action",
    "flow-direction",
    "traffic-path",
    "srcaddr",
    "srcport",
    "dstaddr",
    "dstport",
    "protocol",
    "bytes",
    "type",
    "pkt-srcaddr",
    "pkt-src-aws-service",
    "pkt-dstaddr",
    "pkt-dst-aws-service",
]


def main(argv):
    if len(argv) < 2 or argv[1].startswith("-"):
        sys.exit("usage: polars_baseline.py FILE [--nat-aware]")
    path = argv[1]
    nat_aware = "--nat-aware" in argv[2:]
    records = pl.scan_csv(
        path,
        separator=" ",
        has_header=False,
        new_columns=COLUMNS,
        null_values="-",
        schema_overrides={"bytes": pl.UInt64, "srcport": pl.UInt16, "dstport": pl.UInt16},
    )
    if nat_aware:
        # VPC-side records only: a translation is visible (docs/DESIGN.md, "The leg rule").
        records = records.filter(
            (pl.col("srcaddr") != pl.col("pkt-srcaddr"))
            | (pl.col("dstaddr") != pl.col("pkt-dstaddr"))
        )
    pairs = (
        records.group_by(["srcaddr", "dstaddr"])
        .agg(pl.col("bytes").sum())
        .sort(["bytes", "srcaddr", "dstaddr"], descending=[True, False, False])
        .head(20)
    )
    services = (
        records.group_by("pkt-dst-aws-service")
        .agg(pl.col("bytes").sum())
        .sort("bytes", descending=True)
    )
    pairs, services = pl.collect_all([pairs, services])
    sys.stdout.write(pairs.write_csv())
    sys.stdout.write(services.write_csv())


if __name__ == "__main__":
    main(sys.argv)
