//! `report --engine athena`: the report of flow logs delivered to S3, aggregated by Amazon Athena
//! where one machine is not enough. Three statements: the database and the table over the
//! flow logs' S3 location (both `IF NOT EXISTS`, the table with partition projection, see
//! `table`), then the leg-rule aggregation (`sql`), whose rows the reports crate turns into the
//! report every other path builds (same tables, same renderers).
//!
//! A recording's flow logs are read where it delivered them: its own S3 destination as its
//! start event keeps it (bucket, prefix, file format, hive-compatible and per-hour folders), so
//! a later change of the configuration does not lose them. The account folders below
//! `AWSLogs/` are listed once (a delivery to S3 has no role whose ARN would name the account).
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
use crate::ports::{AwsError, DeliveryBucket, SqlQueries, SqlQuery};
use crate::s3_layout::{
    DELIVERY_LAG, FILE_SPAN, LOGS_ROOT, S3Delivery, parse_object_name, parse_region_root,
};
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
        "recording {recording} delivered its flow logs to the CloudWatch Logs group {group}, not \
         to S3: Athena reads only S3; report it with `--engine insights --recording \
         {recording}`, or from its exported files (`nat-flowrec report <its export folder>`)"
    )]
    DeliveredToLogs { recording: String, group: String },
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
    /// A recording's flow logs, in its S3 destination: its days and its flow logs' objects.
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

/// Where a subject's flow logs are delivered, and their account when the subject names it
/// (else it is the one account folder below the destination's `AWSLogs/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub delivery: S3Delivery,
    pub account: Option<String>,
    pub region: String,
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

/// Where `subject`'s flow logs are: a recording's own S3 destination (flow logs adopted after a
/// crash: the configured one, as their export does), or the prefix with the layout of
/// `[athena]`, unless it reaches into `AWSLogs/` down to an account's region folder and so
/// says its account, region and layout itself.
pub fn target(
    subject: Subject<'_>,
    cfg: &Config,
    athena: &AthenaConfig,
) -> Result<Target, AthenaError> {
    let region = cfg.region.as_ref().map(ToString::to_string);
    match subject {
        Subject::Recording(rec) => {
            let Some(delivery) = rec.s3_delivery(cfg.recording.s3_delivery()) else {
                return Err(AthenaError::DeliveredToLogs {
                    recording: rec.recording_id.clone(),
                    group: rec
                        .log_group
                        .clone()
                        .unwrap_or_else(|| cfg.recording.log_group.clone()),
                });
            };
            let region = region.ok_or_else(|| LocationError::NoRegion(delivery.uri()))?;
            Ok(Target {
                delivery,
                account: None,
                region,
            })
        }
        Subject::Prefix { uri, .. } => {
            let (bucket, key) = uri
                .strip_prefix("s3://")
                .and_then(|rest| rest.split_once('/').or(Some((rest, ""))))
                .filter(|(bucket, _)| !bucket.is_empty())
                .ok_or_else(|| LocationError::NotS3(uri.to_owned()))?;
            // A prefix that stops inside `AWSLogs/` (above a region folder) is its destination.
            let destination = key
                .split('/')
                .take_while(|p| *p != LOGS_ROOT)
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join("/");
            let mut delivery = S3Delivery {
                bucket: bucket.to_owned(),
                prefix: destination,
                file_format: athena.file_format,
                hive_compatible_partitions: athena.hive_partitions,
                per_hour_partition: athena.per_hour_partitions,
            };
            if let Some(root) = parse_region_root(key) {
                delivery.prefix = root.prefix;
                delivery.hive_compatible_partitions = root.hive_compatible_partitions;
                return Ok(Target {
                    delivery,
                    account: Some(root.account),
                    region: root.region,
                });
            }
            let region = region.ok_or_else(|| LocationError::NoRegion(uri.to_owned()))?;
            Ok(Target {
                delivery,
                account: None,
                region,
            })
        }
    }
}

/// The statements for `subject` over the flow logs at `location`.
pub fn plan(
    subject: Subject<'_>,
    location: FlowLogLocation,
    athena: &AthenaConfig,
    now: DateTime<Utc>,
) -> Result<Plan, AthenaError> {
    let (format, what, since, until) = match subject {
        Subject::Recording(rec) => {
            let format = rec
                .log_format
                .as_deref()
                .and_then(|f| LogFormat::parse(f).ok())
                .unwrap_or_default();
            let (start, end) = recording_window(rec, now);
            (
                format,
                rec.recording_id.clone(),
                start.date_naive(),
                end.date_naive(),
            )
        }
        Subject::Prefix { uri, format } => {
            let (y, m, d) = FIRST_FLOW_LOG_DAY;
            let since = NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
            (format.clone(), uri.to_owned(), since, now.date_naive())
        }
    };
    if !sql::has_required_fields(&format) {
        return Err(AthenaError::Format(format.to_string()));
    }
    let base = location.base();
    let spec = TableSpec {
        database: athena.database.clone(),
        location,
        format: format.clone(),
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
        location: base,
        query,
        format,
    })
}

/// The recording's start to its stop (or `now`) plus the aggregation interval, widened as its
/// export lists (a file's span before, the delivery lag after): the objects AWS delivers for
/// it land in the folders of these days (or hours).
fn recording_window(rec: &Recording, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let stop = rec.stopped.as_ref().map_or(now, |s| s.at);
    let end = stop + TimeDelta::seconds(i64::from(rec.max_aggregation_interval.unwrap_or(600)));
    (rec.started_at - FILE_SPAN, end + DELIVERY_LAG)
}

/// The account whose flow logs are read below `delivery`: the one account folder below its
/// `AWSLogs/`, listed once as the export does (a delivery to S3 has no role whose ARN would
/// name it). With several (a bucket an organisation's accounts share), a recording's is the one
/// whose folders of its window hold a file of one of its flow logs.
async fn account_of<B: DeliveryBucket>(
    bucket: &B,
    delivery: &S3Delivery,
    region: &str,
    subject: Subject<'_>,
    now: DateTime<Utc>,
) -> Result<String, AthenaError> {
    let folders = bucket
        .folders(&delivery.bucket, &delivery.logs_root())
        .await?;
    let several = match table::account_in(delivery, &folders) {
        Err(several @ LocationError::SeveralAccounts { .. }) => several,
        other => return Ok(other?),
    };
    let (Subject::Recording(rec), LocationError::SeveralAccounts { accounts, .. }) =
        (subject, &several)
    else {
        return Err(several.into());
    };
    let (start, end) = recording_window(rec, now);
    for account in accounts {
        for folder in delivery.folders(account, region, start, end) {
            let objects = bucket.objects(&delivery.bucket, &folder).await?;
            let its_own = objects
                .iter()
                .filter_map(|o| parse_object_name(&o.key))
                .any(|name| rec.flow_log_ids.contains(&name.flow_log_id));
            if its_own {
                return Ok(account.clone());
            }
        }
    }
    Err(several.into())
}

/// Runs the plan's statements and builds the report from the aggregation's rows.
pub async fn report<C: SqlQueries + DeliveryBucket>(
    cloud: &C,
    subject: Subject<'_>,
    cfg: &Config,
    athena: &AthenaConfig,
    asked: Asked,
) -> Result<Report, AthenaError> {
    let Target {
        delivery,
        account,
        region,
    } = target(subject, cfg, athena)?;
    let account = match account {
        Some(account) => account,
        None => account_of(cloud, &delivery, &region, subject, asked.now).await?,
    };
    let location = FlowLogLocation {
        delivery,
        account,
        region,
    };
    let plan = plan(subject, location, athena, asked.now)?;
    let statement = |sql: &str| SqlQuery {
        sql: sql.to_owned(),
        workgroup: athena.workgroup.clone(),
        output_location: athena.output_location.to_string(),
    };
    cloud.athena(&statement(&plan.database_ddl)).await?;
    cloud.athena(&statement(&plan.table_ddl)).await?;
    let result = cloud.athena(&statement(&plan.query)).await?;
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
            "Athena found no flow-log records in {}{}: check that the flow logs are delivered there (the destination, its account and region) in the format `{}`",
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
    use crate::s3_layout::S3FileFormat;

    fn config(athena: &str) -> (Config, AthenaConfig) {
        let text = format!(
            "region = \"eu-west-1\"\nnat_gateway_ids = [\"nat-0123456789abcdef0\"]\n\
             [recording]\ndestination = \"s3\"\ns3_destination = \"s3://configured/nat\"\n\
             [athena]\noutput_location = \"s3://results/\"\n{athena}"
        );
        let cfg = Config::from_toml_str(&text, "test.toml").unwrap_or_else(|e| panic!("{e}"));
        let athena = cfg.athena.clone().unwrap();
        (cfg, athena)
    }

    fn delivery(bucket: &str, prefix: &str, hive: bool, hourly: bool) -> S3Delivery {
        S3Delivery {
            bucket: bucket.into(),
            prefix: prefix.into(),
            file_format: S3FileFormat::PlainText,
            hive_compatible_partitions: hive,
            per_hour_partition: hourly,
        }
    }

    /// Recording `r1` (flow log `fl-r1`), 10:00 to 10:30 of the tests' day, in `format`,
    /// delivered to `s3` (none: to the log group `/g`).
    fn recording(format: &str, s3: Option<S3Delivery>) -> Recording {
        let state = fold(vec![
            ("10:00", started("r1")),
            ("10:30", stopped("r1", StopReason::Manual)),
        ]);
        let mut rec = state.recording("r1").unwrap().clone();
        rec.log_format = Some(format.to_owned());
        if s3.is_some() {
            rec.log_group = None;
        }
        rec.s3 = s3;
        rec
    }

    fn located(target: Target) -> FlowLogLocation {
        FlowLogLocation {
            delivery: target.delivery,
            account: target.account.unwrap_or_else(|| "123456789012".into()),
            region: target.region,
        }
    }

    /// The plan of `rec` at 11:00, in account 123456789012.
    fn plan_of(rec: &Recording) -> Result<Plan, AthenaError> {
        let (cfg, athena) = config("");
        let target = target(Subject::Recording(rec), &cfg, &athena)?;
        plan(
            Subject::Recording(rec),
            located(target),
            &athena,
            at("11:00"),
        )
    }

    #[test]
    fn a_recordings_plan_reads_its_flow_logs_objects_on_its_days_in_its_own_destination() {
        let (cfg, athena) = config("");
        let rec = recording(
            nat_flowrec_parsers::DEFAULT_FORMAT,
            Some(delivery("flow-logs", "nat", false, false)),
        );
        let target = target(Subject::Recording(&rec), &cfg, &athena).unwrap();
        assert_eq!(target.delivery, delivery("flow-logs", "nat", false, false));
        assert_eq!(
            (target.account.as_deref(), target.region.as_str()),
            (None, "eu-west-1")
        );
        let plan = plan_of(&rec).unwrap();
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
    fn a_recordings_hive_and_hourly_options_shape_its_table() {
        let rec = recording(
            nat_flowrec_parsers::DEFAULT_FORMAT,
            Some(delivery("flow-logs", "", true, true)),
        );
        let plan = plan_of(&rec).unwrap();
        assert_eq!(
            plan.location,
            "s3://flow-logs/AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-west-1/"
        );
        assert!(
            plan.table_ddl.contains(
                "PARTITIONED BY (`year` string, `month` string, `day` string, `hour` string)"
            ),
            "{}",
            plan.table_ddl
        );
        // 09:55 (a file's span before the start) to 10:46 (the stop, the interval and the
        // delivery lag): the hours 09 and 10.
        assert!(
            plan.query.contains("AND \"hour\" = '09') OR (")
                && plan.query.contains("AND \"hour\" = '10'))"),
            "{}",
            plan.query
        );
    }

    #[test]
    fn adopted_flow_logs_are_read_in_the_configured_destination() {
        let (cfg, athena) = config("");
        let mut rec = recording(nat_flowrec_parsers::DEFAULT_FORMAT, None);
        rec.log_group = None;
        let target = target(Subject::Recording(&rec), &cfg, &athena).unwrap();
        assert_eq!(target.delivery, delivery("configured", "nat", false, false));
    }

    #[test]
    fn a_recording_delivered_to_a_log_group_is_sent_to_insights() {
        let (cfg, athena) = config("");
        let rec = recording(nat_flowrec_parsers::DEFAULT_FORMAT, None);
        let err = target(Subject::Recording(&rec), &cfg, &athena)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("CloudWatch Logs group /g")
                && err.contains("--engine insights --recording r1"),
            "{err}"
        );
    }

    #[test]
    fn a_prefix_takes_the_athena_layout_unless_it_names_its_own_folder() {
        let (cfg, athena) = config("per_hour_partitions = true\nfile_format = \"parquet\"\n");
        let format = LogFormat::default();
        let prefix = |uri| Subject::Prefix {
            uri,
            format: &format,
        };
        let t = target(prefix("s3://flow-logs/nat/"), &cfg, &athena).unwrap();
        let mut expected = delivery("flow-logs", "nat", false, true);
        expected.file_format = S3FileFormat::Parquet;
        assert_eq!(t.delivery, expected);
        assert_eq!(t.account, None);
        let above = target(prefix("s3://flow-logs/nat/AWSLogs/"), &cfg, &athena).unwrap();
        assert_eq!(above.delivery, expected);
        let own = target(
            prefix("s3://flow-logs/nat/AWSLogs/aws-account-id=210987654321/aws-service=vpcflowlogs/aws-region=us-east-2/year=2026/"),
            &cfg,
            &athena,
        )
        .unwrap();
        assert_eq!(own.account.as_deref(), Some("210987654321"));
        assert_eq!(own.region, "us-east-2");
        assert_eq!(own.delivery.prefix, "nat");
        assert!(own.delivery.hive_compatible_partitions);
        let err = target(prefix("/local/folder"), &cfg, &athena).unwrap_err();
        assert!(err.to_string().contains("s3://bucket/prefix/"), "{err}");
    }

    /// A bucket holding `keys`, listed as S3 lists.
    struct Keys(Vec<String>);

    impl DeliveryBucket for Keys {
        async fn folders(&self, _bucket: &str, prefix: &str) -> Result<Vec<String>, AwsError> {
            let mut out: Vec<String> = self
                .0
                .iter()
                .filter_map(|k| {
                    let below = k.strip_prefix(prefix)?;
                    let (folder, _) = below.split_once('/')?;
                    Some(format!("{prefix}{folder}/"))
                })
                .collect();
            out.dedup();
            Ok(out)
        }

        async fn objects(
            &self,
            _bucket: &str,
            prefix: &str,
        ) -> Result<Vec<crate::ports::ObjectEntry>, AwsError> {
            Ok(self
                .0
                .iter()
                .filter(|k| k.starts_with(prefix))
                .map(|k| crate::ports::ObjectEntry {
                    key: k.clone(),
                    size: 1,
                })
                .collect())
        }

        async fn object(&self, _bucket: &str, _key: &str) -> Result<Vec<u8>, AwsError> {
            Ok(Vec::new())
        }
    }

    #[tokio::test]
    async fn with_several_accounts_a_recordings_is_the_one_holding_its_files() {
        let d = delivery("flow-logs", "nat", false, false);
        let rec = recording(nat_flowrec_parsers::DEFAULT_FORMAT, Some(d.clone()));
        let file = |account: &str, flow_log: &str| {
            let t = rec.started_at;
            format!(
                "{}{}",
                d.folder(account, "eu-west-1", t),
                crate::s3_layout::object_name(
                    account,
                    "eu-west-1",
                    flow_log,
                    t,
                    "h",
                    S3FileFormat::PlainText
                )
            )
        };
        let now = at("11:00");
        let shared = Keys(vec![
            file("111111111111", "fl-other"),
            file("222222222222", "fl-r1"),
        ]);
        let found = account_of(&shared, &d, "eu-west-1", Subject::Recording(&rec), now).await;
        assert_eq!(found.unwrap(), "222222222222");
        // A prefix cannot tell, nor a recording whose files are in none of them.
        let format = LogFormat::default();
        let prefix = Subject::Prefix {
            uri: "s3://flow-logs/nat/",
            format: &format,
        };
        let err = account_of(&shared, &d, "eu-west-1", prefix, now)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("several accounts"), "{err}");
        let elsewhere = Keys(vec![
            file("111111111111", "fl-other"),
            file("222222222222", "fl-other"),
        ]);
        let err = account_of(&elsewhere, &d, "eu-west-1", Subject::Recording(&rec), now)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("several accounts"), "{err}");
        // One account: no file needs to be looked at.
        let one = Keys(vec![file("111111111111", "fl-other")]);
        let found = account_of(&one, &d, "eu-west-1", Subject::Recording(&rec), now).await;
        assert_eq!(found.unwrap(), "111111111111");
    }

    #[test]
    fn a_format_without_the_leg_fields_is_refused() {
        let rec = recording(
            "${srcaddr} ${dstaddr} ${bytes}",
            Some(delivery("flow-logs", "", false, false)),
        );
        let err = plan_of(&rec).unwrap_err();
        assert!(err.to_string().contains("pkt-srcaddr"), "{err}");
    }
}
