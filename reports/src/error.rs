//! The one error type of the reports crate. Each variant names the file or the setting at fault
//! and what would be valid, so the CLI can print it as is.

use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ReportError {
    /// `--strict`: the first malformed line stops the report.
    #[error("{file}: {message} (run without --strict to count malformed lines and continue)")]
    Malformed {
        file: String,
        line: u64,
        message: String,
    },

    /// No path to read was given.
    #[error("no input: give one or more flow-log files or folders")]
    NoInput,

    /// A price given on the command line or in config is negative or not a number.
    #[error("price `{name}` must be a finite number >= 0, found {value}")]
    BadPrice { name: &'static str, value: f64 },

    /// Building a table failed inside polars (a bug, not bad input: report it).
    #[error("building the {table} table: {source}")]
    Table {
        table: &'static str,
        #[source]
        source: polars::error::PolarsError,
    },

    /// Writing an output file under `--out`.
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Rendering CSV (only I/O can fail underneath).
    #[error("writing CSV: {0}")]
    Csv(#[from] csv::Error),

    /// Drawing a chart of `report.html` (a bug, not bad input: report it).
    #[error("drawing the {chart} chart: {message}")]
    Chart {
        chart: &'static str,
        message: String,
    },

    /// Rendering `report.html` from its template (a bug, not bad input: report it).
    #[error("rendering report.html: {0}")]
    Html(String),

    /// Rendering JSON.
    #[error("writing JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl ReportError {
    /// Whether this is the reader of the output going away (`report ... | head`): not a failure
    /// of the report, so the CLI exits quietly.
    pub fn is_broken_pipe(&self) -> bool {
        match self {
            ReportError::Csv(e) => {
                matches!(e.kind(), csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe)
            }
            ReportError::Write { source, .. } => source.kind() == std::io::ErrorKind::BrokenPipe,
            _ => false,
        }
    }
}
