"""Runs `report --engine athena`'s aggregation in DuckDB, for the test that proves the SQL's leg
rule against the Rust report (tests/integration/athena.rs).

Reads a JSON request on stdin: `input` (a flow-log text file, space-separated, no header),
`columns` ([name, DuckDB type] in the format's order), `parquet` (where to write the Parquet
copy) and `sql` (the aggregation, reading `read_parquet('<parquet>')`). Converts the text file to
Parquet with DuckDB itself (`-` as NULL, as Athena reads an unparsable number), runs the SQL and
prints `{"columns": [...], "rows": [[text or null, ...], ...]}`: the shape of Athena's answer.
"""

import json
import sys

import duckdb


def main() -> None:
    request = json.load(sys.stdin)
    columns = "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in request["columns"]) + "}"
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * FROM read_csv(?, delim = ' ', header = false, nullstr = '-', "
        f"columns = {columns})) TO '{request['parquet']}' (FORMAT parquet)",
        [request["input"]],
    )
    result = con.execute(request["sql"])
    names = [d[0] for d in result.description]
    rows = [[None if v is None else str(v) for v in row] for row in result.fetchall()]
    json.dump({"columns": names, "rows": rows}, sys.stdout)


if __name__ == "__main__":
    main()
