//! VPC Flow Logs for nat-flowrec: the log format (`${field} ...`), a zero-copy record parser, and
//! streaming readers for the files a recording leaves behind (plain text, gzip, S3-delivered with a
//! header line or in Parquet, CloudWatch Logs exports and subscription payloads,
//! `{"message": ...}` JSON lines, and nat-flowrec's own export files); and the Route 53 Resolver query logs whose answers name
//! the remote addresses (`query_log`).
//!
//! This crate knows nothing of AWS APIs or reports: it turns bytes into [`Record`]s, and says
//! precisely which line is wrong when one is.
//!
//! ```
//! use nat_flowrec_parsers::{LogFormat, Action};
//! let format = LogFormat::default();
//! let rec = format
//!     .parse_record("ACCEPT ingress - 10.0.1.5 41000 10.0.0.220 443 6 5000 IPv4 10.0.1.5 - 203.0.113.5 S3", 1)
//!     .unwrap();
//! assert_eq!(rec.action, Some(Action::Accept));
//! assert_eq!(rec.bytes, Some(5000));
//! ```

#![deny(unsafe_code)]

mod error;
pub mod export;
mod field;
mod flow;
mod format;
mod parse;
#[cfg(test)]
mod proptests;
pub mod query_log;
mod read;
mod record;
#[cfg(feature = "synth")]
pub mod synth;
mod values;

pub use error::{RecordError, RecordErrorKind};
pub use export::{DNS_EXPORT_FILE, DnsExportMeta, ExportMeta, ExportWriter};
pub use field::{Field, KNOWN_FIELDS};
pub use flow::Flow;
pub use format::{AWS_DEFAULT_V2_FORMAT, DEFAULT_FORMAT, FormatError, LogFormat, TokenProblem};
pub use parse::FlowParser;
pub use query_log::{
    QueryLogError, QueryLogRecord, QueryLogStats, read_query_log_file, read_query_logs,
};
pub use read::parquet::{PARQUET_MAGIC, column_name, is_parquet};
pub use read::{
    Chunk, Chunks, FlowLogFile, Line, LineNumbers, Lines, NumberedChunks, ParquetError,
    ParquetText, ReadError, SourceKind,
};
pub use record::Record;
pub use values::{Action, AwsService, FlowDirection, IpType, LogStatus, TrafficPath};
