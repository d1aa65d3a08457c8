//! Reports over VPC Flow Log records from NAT gateways: who talked to whom through the NAT
//! (each connection's two legs counted once), which AWS services went through it and what a
//! VPC endpoint would save, and bytes over time; rendered for a terminal, CSV, JSON, Markdown,
//! a self-contained HTML page with charts, a folder of files, or an e-mail.
//!
//! The pipeline: `scan` reads files in parallel chunks and folds each record into a `tally`
//! (bounded by distinct keys, never by input size) after `legs` decided which leg it is;
//! `assemble` turns the merged tally into polars `tables` and the `Report` of `model`;
//! `render` draws it. This crate knows nothing of AWS APIs.
//!
//! ```no_run
//! use nat_flowrec_reports::{ReportOptions, build_report, render};
//! let report = build_report(&["flowlogs/".into()], &ReportOptions::default())?;
//! print!("{}", render::terminal(&report));
//! # Ok::<(), nat_flowrec_reports::ReportError>(())
//! ```

#![forbid(unsafe_code)]

mod aggregated;
mod assemble;
#[cfg(test)]
mod attributed_golden;
mod attribution;
mod aws_ranges;
mod coverage;
mod domain;
mod error;
#[cfg(test)]
mod golden;
mod legs;
mod model;
mod nat_metrics;
mod options;
mod prices;
mod remediation;
mod remote_names;
pub mod render;
mod scan;
mod tables;
mod tally;
mod time;
mod units;

use std::path::PathBuf;

use nat_flowrec_parsers::Field;

pub use aggregated::{AggregateLeg, AggregateRow, build_report_from_rows};
pub use attribution::{Attribution, Owner};
pub use aws_ranges::{AwsLabel, AwsRanges, RangesError};
pub use error::ReportError;
pub use legs::{LegRule, is_private};
pub use model::{
    AttributionSummary, Coverage, CrossAz, CrossAzHost, Destination, FileFailure, LogStatusCounts,
    MalformedLine, Minute, NatMonth, NatSite, RecordingCost, RecordsByLeg, Remediation,
    RemediationPlan, RemoteDomain, RemoteNames, Report, SCHEMA_VERSION, ServiceUse, Source,
    Summary, Talker, Window,
};
pub use nat_metrics::{METRICS_FILE, MetricPoints, NatMetrics, Threshold, ThresholdOf};
pub use options::{DEFAULT_TOP, ReportOptions};
pub use prices::{
    BYTES_PER_GB, DEFAULT_REGION, EndpointKind, HOURS_PER_MONTH, LogIngestionPrices,
    PriceOverrides, Prices,
};
pub use remediation::endpoint_service_suffix;
pub use remote_names::{DEFAULT_DNS_MAX_AGE_SECONDS, DnsAnswers, NameSources};
pub use tables::protocol_name;
pub use units::{UNITS_NOTE, grouped, human_bytes, service_name, usd};

/// Reads every flow-log file under `paths` (files or folders, recursed in sorted order; inside
/// folders, hidden entries, `report/` folders, `*.csv`/`*.json`/`*.md`/`*.txt`/`*.html`/`*.tmp`
/// files and paths already read under another name are skipped) and builds the report.
///
/// A file that cannot be read does not stop the others: it is listed in
/// `summary.files_failed` (check `Report::has_failures`). Malformed lines are counted, with
/// the first examples kept, unless `opts.strict`, where the first one (by file, then line) is
/// the error.
pub fn build_report(paths: &[PathBuf], opts: &ReportOptions) -> Result<Report, ReportError> {
    if paths.is_empty() {
        return Err(ReportError::NoInput);
    }
    let (tally, failures, walk_notes) = scan::read_all(paths, opts);
    if opts.strict
        && let Some(first) = tally.stats.examples.first()
    {
        let first = first.listed();
        return Err(ReportError::Malformed {
            file: first.file,
            line: first.line,
            message: first.error,
        });
    }
    let default_has_pkt = opts.default_format.contains(&Field::PktSrcaddr)
        && opts.default_format.contains(&Field::PktDstaddr);
    let mut report = assemble::assemble(tally, failures, opts, default_has_pkt)?;
    report.summary.notes.extend(walk_notes);
    // Placeholders for the VPC until `Report::attribute` knows it.
    report.remediation = remediation::plan(&report);
    Ok(report)
}
