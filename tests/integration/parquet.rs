//! Flow logs in Parquet, as AWS delivers them to S3 (a column per field, `_` for `-`, AWS's
//! types, Gzip), made by DuckDB from the same records as a text file: `report` reads both alike,
//! and a damaged file, one compressed otherwise or with a column of another type fails by name.

use std::path::Path;
use std::process::Command;

use nat_flowrec::finish::athena::sql;
use nat_flowrec_parsers::LogFormat;
use serde_json::Value;

use crate::support::moto::python_path;
use crate::support::run::{nat_flowrec, text};

/// Runs one DuckDB statement with the test venv's Python.
pub fn duckdb(statement: &str) {
    let o = Command::new(python_path())
        .args([
            "-c",
            "import duckdb, sys; duckdb.connect().execute(sys.argv[1])",
            statement,
        ])
        .output()
        .expect("run the venv's Python (scripts/test installs duckdb from tests/requirements.txt)");
    assert!(o.status.success(), "{}", text(&o));
}

/// `SELECT` of the text file `log` (default format, `-` as NULL) with AWS's Parquet column
/// names and types.
pub fn select_as_aws(log: &Path) -> String {
    let columns: Vec<String> = sql::columns(&LogFormat::default())
        .into_iter()
        .map(|(name, kind)| format!("'{name}': '{}'", kind.duckdb()))
        .collect();
    format!(
        "SELECT * FROM read_csv({}, delim = ' ', header = false, nullstr = '-', \
         columns = {{{}}})",
        sql::literal(&log.display().to_string()),
        columns.join(", ")
    )
}

/// `nat-flowrec generate`'s records (the default format) in `dir/flows.log`.
fn generated(dir: &Path, lines: u32) -> std::path::PathBuf {
    let log = dir.join("flows.log");
    let o = nat_flowrec(dir)
        .args(["generate", "--lines", &lines.to_string(), "--out"])
        .arg(&log)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    log
}

fn report_json(dir: &Path, file: &Path) -> Value {
    let o = nat_flowrec(dir)
        .args(["report", "--output", "json", "--top", "20"])
        .arg(file)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    serde_json::from_slice(&o.stdout).expect("report --output json")
}

#[test]
fn a_parquet_file_reports_the_same_as_its_records_in_text() {
    let dir = tempfile::tempdir().unwrap();
    let log = generated(dir.path(), 20000);
    // AWS's name, but `report` goes by the magic bytes: the same without the extension.
    let parquet = dir.path().join("flows.log.parquet");
    duckdb(&format!(
        "COPY ({}) TO {} (FORMAT parquet, COMPRESSION gzip)",
        select_as_aws(&log),
        sql::literal(&parquet.display().to_string())
    ));
    let renamed = dir.path().join("flows.bin");
    std::fs::copy(&parquet, &renamed).unwrap();

    let from_text = report_json(dir.path(), &log);
    for file in [&parquet, &renamed] {
        let from_parquet = report_json(dir.path(), file);
        assert_eq!(from_text["summary"]["records_read"], 20000, "{from_text}");
        for key in ["talkers", "sources", "destinations", "services", "timeline"] {
            assert_eq!(from_parquet[key], from_text[key], "{key}");
        }
        for key in [
            "records_read",
            "malformed_lines",
            "reject_records",
            "bytes_total",
            "bytes_all_records",
            "records_by_leg",
            "conversations",
            "leg_rule",
        ] {
            assert_eq!(
                from_parquet["summary"][key], from_text["summary"][key],
                "summary.{key}"
            );
        }
    }
}

#[test]
fn a_damaged_parquet_file_or_a_column_of_another_type_fails_naming_the_file_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let log = generated(dir.path(), 500);
    let at = |name: &str| dir.path().join(name);
    let path = |name: &str| sql::literal(&at(name).display().to_string());
    let select = select_as_aws(&log);
    duckdb(&format!(
        "COPY ({select}) TO {} (FORMAT parquet, COMPRESSION gzip)",
        path("good.parquet")
    ));
    duckdb(&format!(
        "COPY (SELECT * REPLACE (CAST(bytes AS VARCHAR) AS bytes) FROM ({select})) TO {} \
         (FORMAT parquet, COMPRESSION gzip)",
        path("text-bytes.parquet")
    ));
    duckdb(&format!(
        "COPY ({select}) TO {} (FORMAT parquet, COMPRESSION snappy)",
        path("snappy.parquet")
    ));
    let good = std::fs::read(at("good.parquet")).unwrap();
    std::fs::write(at("truncated.parquet"), &good[..good.len() / 2]).unwrap();

    for (name, expected) in [
        (
            "text-bytes.parquet",
            "column `bytes`: holds BYTE_ARRAY values, expected integers",
        ),
        ("snappy.parquet", "is compressed with SNAPPY"),
        ("truncated.parquet", "the file is corrupt or truncated"),
    ] {
        let o = nat_flowrec(dir.path())
            .args(["report", "--output", "json"])
            .arg(at(name))
            .output()
            .unwrap();
        let all = text(&o);
        assert!(
            all.contains(&at(name).display().to_string()) && all.contains(expected),
            "{name}: `{expected}` in:\n{all}"
        );
        assert!(
            all.contains("is a Parquet file that cannot be read on"),
            "{all}"
        );
    }
}
