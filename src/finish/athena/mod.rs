//! `report --engine athena`: the report of flow logs delivered to S3, aggregated by Amazon Athena
//! where one machine is not enough. Three statements: the database and the table over the
//! flow logs' S3 location (both `IF NOT EXISTS`, the table with partition projection, see
//! `table`), then the leg-rule aggregation (`sql`), whose rows the reports crate turns into the
//! report every other path builds (same tables, same renderers).
//!
//! What Athena cannot give is said in the report: no per-minute timeline and no file count
//! (the rows are per conversation direction), no coverage against the NAT's metrics.

mod rows;
pub mod sql;
pub mod table;

pub use rows::aggregate_rows;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use nat_flowrec_parsers::{Field, LogFormat};
use nat_flowrec_reports::{Report, ReportError, ReportOptions, build_report_from_rows};

use crate::config::{AthenaConfig, Config};
use crate::core::Recording;
use crate::ports::{AwsError, SqlQueries, SqlQuery};
use table::{FlowLogLocation, LocationError, TableSpec};

/// The first day a table over an S3 prefix projects: AWS delivers flow logs to S3 since 2018.
const FIRST_FLOW_LOG_DAY: (i32, u32, u32) = (2018, 1, 1);

#[derive(Debug, thiserror::Error)]
pub enum AthenaError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error(transparent)]
    Location(#[from] LocationError),
    #[error(
        "recording {0} has no S3 location to read: set athena.flow_logs to the S3 prefix its \
         flow logs are delivered to (s3://bucket/prefix/)"
    )]
    NoFlowLogs(String),
    #[error(
        "the log format `{0}` lacks srcaddr, dstaddr, pkt-srcaddr, pkt-dstaddr or bytes, which \
         the leg rule needs to count each NAT connection once; report the files instead"
    )]
    Format(String),
    #[error(
        "Athena answered the aggregation with columns {0:?}, not the query's ({expected}): its \
         rows cannot be read",
        expected = sql::RESULT_COLUMNS.join(", ")
    )]
    Columns(Vec<String>),
    #[error(transparent)]
    Report(#[from] ReportError),
}

/// What the report reads.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// A recording's flow logs, under `athena.flow_logs`: its days and its flow logs' objects.
    Recording(&'a Recording),
    /// Every flow log under an S3 prefix, in `format`.
    Prefix { uri: &'a str, format: &'a LogFormat },
}

/// Rows per table of the report, and the clock (for a recording still running).
#[derive(Debug, Clone, Copy)]
pub struct Asked {
    pub top: usize,
    pub now: DateTime<Utc>,
}

/// The statements of one report, in order, and what its rows need: pure, so the DDL and the
/// query are checked as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub database_ddl: String,
    pub table_ddl: String,
    pub query: String,
    /// `"database"."table"`.
    pub table: String,
    /// The table's S3 location.
    pub location: String,
    pub format: LogFormat,
}

/// The statements for `subject` under `cfg`.
pub fn plan(
    subject: Subject<'_>,
    cfg: &Config,
    athena: &AthenaConfig,
    now: DateTime<Utc>,
) -> Result<Plan, AthenaError> {
    let account = cfg.recording.deliver_logs_role_arn.account().to_string();
    let region = cfg.region.as_ref().map(ToString::to_string);
    let (uri, format, what, since, until) = match subject {
        Subject::Recording(rec) => {
            let uri = athena
                .flow_logs
                .as_ref()
                .ok_or_else(|| AthenaError::NoFlowLogs(rec.recording_id.clone()))?;
            let format = rec
                .log_format
                .as_deref()
                .and_then(|f| LogFormat::parse(f).ok())
                .unwrap_or_default();
            let (start, end) = recording_window(rec, now);
            (
                uri.to_string(),
                format,
                rec.recording_id.clone(),
                start.date_naive(),
                end.date_naive(),
            )
        }
        Subject::Prefix { uri, format } => {
            let (y, m, d) = FIRST_FLOW_LOG_DAY;
            let since = NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
            let what = uri.to_owned();
            (
                uri.to_owned(),
                format.clone(),
                what,
                since,
                now.date_naive(),
            )
        }
    };
    if !sql::has_required_fields(&format) {
        return Err(AthenaError::Format(format.to_string()));
    }
    let location = FlowLogLocation::new(
        &uri,
        Some(&account),
        region.as_deref(),
        athena.hive_partitions,
    )?;
    let spec = TableSpec {
        database: athena.database.clone(),
        location: location.clone(),
        format: format.clone(),
        file_format: athena.file_format,
        since,
        until,
    };
    let source = match subject {
        Subject::Recording(rec) => {
            let (start, end) = recording_window(rec, now);
            spec.recording_source(&what, start, end, &rec.flow_log_ids)
        }
        Subject::Prefix { .. } => spec.qualified(&what),
    };
    let query = sql::aggregation(&format, &source)
        .ok_or_else(|| AthenaError::Format(format.to_string()))?;
    Ok(Plan {
        database_ddl: spec.database_ddl(),
        table_ddl: spec.table_ddl(&what),
        table: spec.qualified(&what),
        location: location.base,
        query,
        format,
    })
}

/// The recording's start to its stop (or `now`) plus the aggregation interval: the objects AWS
/// delivers for it land in these days.
fn recording_window(rec: &Recording, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let stop = rec.stopped.as_ref().map_or(now, |s| s.at);
    let end = stop + TimeDelta::seconds(i64::from(rec.max_aggregation_interval.unwrap_or(600)));
    (rec.started_at, end)
}

/// Runs the plan's statements and builds the report from the aggregation's rows.
pub async fn report<Q: SqlQueries>(
    queries: &Q,
    subject: Subject<'_>,
    cfg: &Config,
    athena: &AthenaConfig,
    asked: Asked,
) -> Result<Report, AthenaError> {
    let plan = plan(subject, cfg, athena, asked.now)?;
    let statement = |sql: &str| SqlQuery {
        sql: sql.to_owned(),
        workgroup: athena.workgroup.clone(),
        output_location: athena.output_location.to_string(),
    };
    queries.athena(&statement(&plan.database_ddl)).await?;
    queries.athena(&statement(&plan.table_ddl)).await?;
    let result = queries.athena(&statement(&plan.query)).await?;
    let (rows, unusable) = aggregate_rows(&result)?;
    let nat_ips = match subject {
        Subject::Recording(rec) => rec.nat_ips.clone(),
        Subject::Prefix { .. } => Vec::new(),
    };
    let opts = ReportOptions {
        default_format: plan.format.clone(),
        nat_ips,
        top: asked.top,
        strict: false,
        prices: cfg.report.prices(cfg.region.as_deref()).unwrap_or_default(),
    };
    let has_status = plan.format.contains(&Field::LogStatus);
    let mut report = build_report_from_rows(&rows, &opts, has_status)?;
    let notes = &mut report.summary.notes;
    notes.push(format!(
        "aggregated by Amazon Athena over {} ({} row(s), one per leg class and conversation direction): files are not counted, and no per-minute timeline is available",
        plan.table,
        rows.len()
    ));
    notes.push(
        "coverage against the NAT gateway's CloudWatch metrics is not measured by the Athena engine"
            .to_owned(),
    );
    if rows.is_empty() {
        report.summary.warnings.push(format!(
            "Athena found no flow-log records in {}{}: check that the flow logs are delivered there (athena.flow_logs, the account and region of the prefix) in the format `{}`",
            plan.location,
            match subject {
                Subject::Recording(rec) => format!(" for recording {}'s flow logs", rec.recording_id),
                Subject::Prefix { .. } => String::new(),
            },
            plan.format
        ));
    }
    if unusable > 0 {
        report.summary.warnings.push(format!(
            "{unusable} Athena row(s) could not be read (an unknown leg, an address or a number that does not parse) and were left out"
        ));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::testkit::{at, fold, started, stopped};
    use crate::core::{Recording, StopReason};

    fn config(athena: &str) -> (Config, AthenaConfig) {
        let text = format!(
            "region = \"eu-west-1\"\nnat_gateway_ids = [\"nat-0123456789abcdef0\"]\n\
             [recording]\ndeliver_logs_role_arn = \"arn:aws:iam::123456789012:role/d\"\n\
             [athena]\noutput_location = \"s3://results/\"\n{athena}"
        );
        let cfg = Config::from_toml_str(&text, "test.toml").unwrap_or_else(|e| panic!("{e}"));
        let athena = cfg.athena.clone().unwrap();
        (cfg, athena)
    }

    /// Recording `r1` (flow log `fl-r1`), 10:00 to 10:30 of the tests' day, in `format`.
    fn recording(format: &str) -> Recording {
        let state = fold(vec![
            ("10:00", started("r1")),
            ("10:30", stopped("r1", StopReason::Manual)),
        ]);
        let mut rec = state.recording("r1").unwrap().clone();
        rec.log_format = Some(format.to_owned());
        rec
    }

    #[test]
    fn a_recordings_plan_reads_its_flow_logs_objects_on_its_days_under_the_s3_destination() {
        let (cfg, athena) = config("flow_logs = \"s3://flow-logs/nat/\"\n");
        let rec = recording(nat_flowrec_parsers::DEFAULT_FORMAT);
        let plan = plan(Subject::Recording(&rec), &cfg, &athena, at("11:00")).unwrap();
        assert_eq!(
            plan.database_ddl,
            "CREATE DATABASE IF NOT EXISTS `nat_flowrec`"
        );
        assert_eq!(
            plan.location,
            "s3://flow-logs/nat/AWSLogs/123456789012/vpcflowlogs/eu-west-1/"
        );
        assert!(
            plan.table.starts_with("\"nat_flowrec\".\"flowlogs_r1_"),
            "{}",
            plan.table
        );
        assert!(
            plan.table_ddl
                .contains("'projection.day.range' = '2025/01/01,NOW'")
        );
        assert!(
            plan.query.contains(&format!(
                "FROM (SELECT * FROM {} WHERE \"day\" IN ('2025/01/01') AND (\"$path\" LIKE '%fl-r1%')) AS flow_logs",
                plan.table
            )),
            "{}",
            plan.query
        );
    }

    #[test]
    fn what_the_plan_cannot_do_without_is_named() {
        let (cfg, athena) = config("");
        let rec = recording(nat_flowrec_parsers::DEFAULT_FORMAT);
        let err = plan(Subject::Recording(&rec), &cfg, &athena, at("11:00")).unwrap_err();
        assert!(err.to_string().contains("athena.flow_logs"), "{err}");
        let (cfg, athena) = config("flow_logs = \"s3://flow-logs/\"\n");
        let rec = recording("${srcaddr} ${dstaddr} ${bytes}");
        let err = plan(Subject::Recording(&rec), &cfg, &athena, at("11:00")).unwrap_err();
        assert!(err.to_string().contains("pkt-srcaddr"), "{err}");
        let format = LogFormat::default();
        let prefix = Subject::Prefix {
            uri: "/local/folder",
            format: &format,
        };
        let err = plan(prefix, &cfg, &athena, at("11:00")).unwrap_err();
        assert!(err.to_string().contains("s3://bucket/prefix/"), "{err}");
    }
}
