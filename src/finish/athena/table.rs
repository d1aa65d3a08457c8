//! The Athena table over flow logs in S3, as DDL text: where AWS writes them (`s3_layout`: the
//! account's region folder is the table's location), the columns of their format, and
//! partition projection over the date folders below it (by day, or by hour with per-hour
//! partitions; `yyyy/MM/dd/` or hive-compatible `year=/month=/day=/`), so Athena lists only the
//! days (or hours) a query asks for instead of the whole prefix, and no partition is ever added
//! by hand. The table is named after what it reads plus a digest of its DDL: a different format
//! or location is a different table, never a stale one that `IF NOT EXISTS` would keep.

use chrono::{DateTime, Datelike, DurationRound, NaiveDate, TimeDelta, Utc};
use nat_flowrec_parsers::LogFormat;

use super::sql::{columns, literal};
use crate::s3_layout::{S3Delivery, S3FileFormat};

/// Days a recording's query reads at most (a recording lasts at most a day).
const MAX_DAYS: i64 = 3;

/// One account's flow logs of one region under a destination, and how they are laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowLogLocation {
    pub delivery: S3Delivery,
    pub account: String,
    pub region: String,
}

/// What the table's location needs and may not find.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocationError {
    #[error(
        "`{0}` is not an S3 prefix: give s3://bucket/prefix/ (the flow logs' destination) or the \
         AWSLogs/{{account}}/vpcflowlogs/{{region}}/ folder below it"
    )]
    NotS3(String),
    #[error(
        "no account folder under {0}: no flow-log file was delivered there yet (check the \
         destination, and that the flow logs' delivery status is not FAILED)"
    )]
    NoAccount(String),
    #[error(
        "several accounts deliver flow logs under {root} ({}): give the prefix down to one \
         account's region folder, e.g. {root}{}/vpcflowlogs/<region>/",
        accounts.join(", "),
        accounts.first().map_or("<account>", String::as_str)
    )]
    SeveralAccounts { root: String, accounts: Vec<String> },
    #[error(
        "the region of the flow logs under `{0}` is unknown: give the prefix down to \
         AWSLogs/{{account}}/vpcflowlogs/{{region}}/, or set `region` (or --region)"
    )]
    NoRegion(String),
}

/// The one account whose folder is among `folders` (the folders directly below the
/// destination's `AWSLogs/`, as listed).
pub fn account_in(delivery: &S3Delivery, folders: &[String]) -> Result<String, LocationError> {
    let mut accounts: Vec<String> = folders
        .iter()
        .filter_map(|f| delivery.account_of(f))
        .collect();
    accounts.sort();
    accounts.dedup();
    let root = format!("s3://{}/{}", delivery.bucket, delivery.logs_root());
    match accounts.as_slice() {
        [] => Err(LocationError::NoAccount(root)),
        [one] => Ok(one.clone()),
        _ => Err(LocationError::SeveralAccounts { root, accounts }),
    }
}

/// How the date folders below the location are projected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Partitions {
    /// `yyyy/MM/dd/`: one date column, `day`.
    Day,
    /// `yyyy/MM/dd/HH/`: one date column, `hour`.
    Hour,
    /// `year=yyyy/month=MM/day=dd/`.
    HiveDay,
    /// `year=yyyy/month=MM/day=dd/hour=HH/`.
    HiveHour,
}

impl FlowLogLocation {
    /// `s3://bucket/<prefix>/AWSLogs/<account>/vpcflowlogs/<region>/` (or its hive-compatible
    /// form), with the trailing slash.
    pub fn base(&self) -> String {
        format!(
            "s3://{}/{}",
            self.delivery.bucket,
            self.delivery.region_root(&self.account, &self.region)
        )
    }

    fn partitions(&self) -> Partitions {
        match (
            self.delivery.hive_compatible_partitions,
            self.delivery.per_hour_partition,
        ) {
            (false, false) => Partitions::Day,
            (false, true) => Partitions::Hour,
            (true, false) => Partitions::HiveDay,
            (true, true) => Partitions::HiveHour,
        }
    }
}

impl Partitions {
    /// The partition columns, in path order.
    fn columns(self) -> &'static [&'static str] {
        match self {
            Partitions::Day => &["day"],
            Partitions::Hour => &["hour"],
            Partitions::HiveDay => &["year", "month", "day"],
            Partitions::HiveHour => &["year", "month", "day", "hour"],
        }
    }

    fn step(self) -> TimeDelta {
        match self {
            Partitions::Day | Partitions::HiveDay => TimeDelta::days(1),
            Partitions::Hour | Partitions::HiveHour => TimeDelta::hours(1),
        }
    }

    /// The rows of the folder of `at`, as a predicate on the partition columns.
    fn predicate(self, at: DateTime<Utc>) -> String {
        let eq = |column: &str, value: String| format!("\"{column}\" = {}", literal(&value));
        let hive = |with_hour: bool| {
            let mut terms = vec![
                eq("year", at.format("%Y").to_string()),
                eq("month", at.format("%m").to_string()),
                eq("day", at.format("%d").to_string()),
            ];
            if with_hour {
                terms.push(eq("hour", at.format("%H").to_string()));
            }
            format!("({})", terms.join(" AND "))
        };
        match self {
            Partitions::Day => literal(&at.format("%Y/%m/%d").to_string()),
            Partitions::Hour => literal(&at.format("%Y/%m/%d/%H").to_string()),
            Partitions::HiveDay => hive(false),
            Partitions::HiveHour => hive(true),
        }
    }
}

/// One table: its name and everything its DDL says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSpec {
    pub database: String,
    pub location: FlowLogLocation,
    pub format: LogFormat,
    /// The first day partition projection offers (no flow log of ours is older).
    pub since: NaiveDate,
    /// The last day the hive layout's `year` projection must reach (the day layout projects up
    /// to `NOW`, whatever the day).
    pub until: NaiveDate,
}

/// 64-bit FNV-1a: a stable digest for names (not security).
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Lowercase letters and digits, runs of anything else one `_`, at most 64 characters; an
/// `s3://` scheme left out.
fn identifier(text: &str) -> String {
    let text = text.strip_prefix("s3://").unwrap_or(text);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let mut out = out.trim_end_matches('_').to_owned();
    out.truncate(64);
    out
}

impl TableSpec {
    /// `CREATE DATABASE IF NOT EXISTS`.
    pub fn database_ddl(&self) -> String {
        format!("CREATE DATABASE IF NOT EXISTS `{}`", self.database)
    }

    /// `flowlogs_<what>_<digest>`: `what` names the recording (or the location), the digest
    /// the DDL's body.
    pub fn name(&self, what: &str) -> String {
        format!(
            "flowlogs_{}_{:08x}",
            identifier(what),
            fnv1a(&self.body()) & 0xffff_ffff
        )
    }

    /// `"database"."table"`, as a query names it.
    pub fn qualified(&self, what: &str) -> String {
        format!("\"{}\".\"{}\"", self.database, self.name(what))
    }

    /// `CREATE EXTERNAL TABLE IF NOT EXISTS` with partition projection.
    pub fn table_ddl(&self, what: &str) -> String {
        format!(
            "CREATE EXTERNAL TABLE IF NOT EXISTS `{}`.`{}` (\n{}",
            self.database,
            self.name(what),
            self.body()
        )
    }

    /// Everything after the table's name.
    fn body(&self) -> String {
        let cols: Vec<String> = columns(&self.format)
            .into_iter()
            .map(|(name, kind)| format!("  `{name}` {}", kind.athena()))
            .collect();
        let layout = self.location.partitions();
        let partitions: Vec<String> = layout
            .columns()
            .iter()
            .map(|p| format!("`{p}` string"))
            .collect();
        let file_format = self.location.delivery.file_format;
        let storage = match file_format {
            S3FileFormat::PlainText => "ROW FORMAT DELIMITED FIELDS TERMINATED BY ' '\nSTORED AS TEXTFILE".to_owned(),
            S3FileFormat::Parquet => "ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'\nSTORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat'\nOUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat'".to_owned(),
        };
        let mut props: Vec<(String, String)> = Vec::new();
        if file_format == S3FileFormat::PlainText {
            // Every object AWS writes starts with the format's header line.
            props.push(("skip.header.line.count".into(), "1".into()));
        }
        props.push(("projection.enabled".into(), "true".into()));
        let base = self.location.base();
        let template = match layout {
            Partitions::Day | Partitions::Hour => {
                let (column, format, first, unit) = if layout == Partitions::Day {
                    ("day", "yyyy/MM/dd", self.since.format("%Y/%m/%d"), "DAYS")
                } else {
                    (
                        "hour",
                        "yyyy/MM/dd/HH",
                        self.since.format("%Y/%m/%d/00"),
                        "HOURS",
                    )
                };
                props.push((format!("projection.{column}.type"), "date".into()));
                props.push((format!("projection.{column}.format"), format.into()));
                props.push((format!("projection.{column}.range"), format!("{first},NOW")));
                props.push((format!("projection.{column}.interval"), "1".into()));
                props.push((format!("projection.{column}.interval.unit"), unit.into()));
                format!("{base}${{{column}}}/")
            }
            Partitions::HiveDay | Partitions::HiveHour => {
                let years = format!("{},{}", self.since.year(), self.until.year());
                let ranges = [
                    ("year", years),
                    ("month", "1,12".to_owned()),
                    ("day", "1,31".to_owned()),
                    ("hour", "0,23".to_owned()),
                ];
                let mut template = base.clone();
                for (name, range) in ranges.into_iter().take(layout.columns().len()) {
                    props.push((format!("projection.{name}.type"), "integer".into()));
                    props.push((format!("projection.{name}.range"), range));
                    if name != "year" {
                        props.push((format!("projection.{name}.digits"), "2".into()));
                    }
                    template.push_str(&format!("{name}=${{{name}}}/"));
                }
                template
            }
        };
        props.push(("storage.location.template".into(), template));
        let props: Vec<String> = props
            .iter()
            .map(|(k, v)| format!("  {} = {}", literal(k), literal(v)))
            .collect();
        format!(
            "{}\n)\nPARTITIONED BY ({})\n{storage}\nLOCATION {}\nTBLPROPERTIES (\n{}\n)",
            cols.join(",\n"),
            partitions.join(", "),
            literal(&base),
            props.join(",\n")
        )
    }

    /// The rows of a recording: its days' (or hours') partitions only, from `start` to `end`
    /// (at most `MAX_DAYS`), and of those the objects of its flow logs (AWS names each object
    /// after its flow log). A parenthesised query, for the aggregation's `source`.
    pub fn recording_source(
        &self,
        what: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        flow_log_ids: &[String],
    ) -> String {
        let layout = self.location.partitions();
        let step = layout.step();
        let last = end.min(start + TimeDelta::days(MAX_DAYS) - step);
        let mut at = start.duration_trunc(step).unwrap_or(start);
        let mut folders = Vec::new();
        while at <= last {
            folders.push(layout.predicate(at));
            at += step;
        }
        let partition = match layout {
            Partitions::Day => format!("\"day\" IN ({})", folders.join(", ")),
            Partitions::Hour => format!("\"hour\" IN ({})", folders.join(", ")),
            Partitions::HiveDay | Partitions::HiveHour => format!("({})", folders.join(" OR ")),
        };
        let mut filter = vec![partition];
        if !flow_log_ids.is_empty() {
            let objects: Vec<String> = flow_log_ids
                .iter()
                .map(|id| format!("\"$path\" LIKE {}", literal(&format!("%{id}%"))))
                .collect();
            filter.push(format!("({})", objects.join(" OR ")));
        }
        format!(
            "(SELECT * FROM {} WHERE {})",
            self.qualified(what),
            filter.join(" AND ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(location: FlowLogLocation) -> TableSpec {
        TableSpec {
            database: "nat_flowrec".into(),
            location,
            format: LogFormat::parse("${srcaddr} ${dstaddr} ${bytes} ${end}").unwrap(),
            since: NaiveDate::from_ymd_opt(2026, 1, 15).unwrap(),
            until: NaiveDate::from_ymd_opt(2027, 2, 1).unwrap(),
        }
    }

    /// Account 123456789012's flow logs of eu-west-1 under `s3://<bucket>/<prefix>`.
    fn location(
        bucket: &str,
        prefix: &str,
        file_format: S3FileFormat,
        hive: bool,
        hourly: bool,
    ) -> FlowLogLocation {
        FlowLogLocation {
            delivery: S3Delivery {
                bucket: bucket.into(),
                prefix: prefix.into(),
                file_format,
                hive_compatible_partitions: hive,
                per_hour_partition: hourly,
            },
            account: "123456789012".into(),
            region: "eu-west-1".into(),
        }
    }

    fn plain_location() -> FlowLogLocation {
        location("logs", "nat", S3FileFormat::PlainText, false, false)
    }

    #[test]
    fn the_location_is_the_accounts_region_folder_in_either_layout() {
        assert_eq!(
            plain_location().base(),
            "s3://logs/nat/AWSLogs/123456789012/vpcflowlogs/eu-west-1/"
        );
        assert_eq!(
            location("logs", "", S3FileFormat::PlainText, true, false).base(),
            "s3://logs/AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-west-1/"
        );
    }

    #[test]
    fn the_account_is_the_one_folder_below_awslogs() {
        let d = plain_location().delivery;
        let listed = |names: &[&str]| -> Vec<String> {
            names.iter().map(|n| format!("nat/AWSLogs/{n}/")).collect()
        };
        assert_eq!(
            account_in(&d, &listed(&["123456789012"])).as_deref(),
            Ok("123456789012")
        );
        assert_eq!(
            account_in(&d, &listed(&["aws-account-id=210987654321"])).as_deref(),
            Ok("210987654321")
        );
        let none = account_in(&d, &listed(&["o-abc"])).unwrap_err();
        assert_eq!(
            none,
            LocationError::NoAccount("s3://logs/nat/AWSLogs/".into())
        );
        let several = account_in(&d, &listed(&["210987654321", "123456789012"]))
            .unwrap_err()
            .to_string();
        assert!(
            several.contains("(123456789012, 210987654321)")
                && several.contains("s3://logs/nat/AWSLogs/123456789012/vpcflowlogs/<region>/"),
            "{several}"
        );
    }

    #[test]
    fn the_text_table_projects_days_and_skips_each_objects_header() {
        let t = spec(plain_location());
        assert!(
            t.name("s3://flow-logs/nat/")
                .starts_with("flowlogs_flow_logs_nat_"),
            "{}",
            t.name("s3://flow-logs/nat/")
        );
        let name = t.name("rec-0abc-20260115T101300Z");
        assert!(
            name.starts_with("flowlogs_rec_0abc_20260115t101300z_"),
            "{name}"
        );
        assert_eq!(
            t.table_ddl("rec-0abc-20260115T101300Z"),
            format!(
                "CREATE EXTERNAL TABLE IF NOT EXISTS `nat_flowrec`.`{name}` (
  `srcaddr` string,
  `dstaddr` string,
  `bytes` bigint,
  `end` bigint
)
PARTITIONED BY (`day` string)
ROW FORMAT DELIMITED FIELDS TERMINATED BY ' '
STORED AS TEXTFILE
LOCATION 's3://logs/nat/AWSLogs/123456789012/vpcflowlogs/eu-west-1/'
TBLPROPERTIES (
  'skip.header.line.count' = '1',
  'projection.enabled' = 'true',
  'projection.day.type' = 'date',
  'projection.day.format' = 'yyyy/MM/dd',
  'projection.day.range' = '2026/01/15,NOW',
  'projection.day.interval' = '1',
  'projection.day.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://logs/nat/AWSLogs/123456789012/vpcflowlogs/eu-west-1/${{day}}/'
)"
            )
        );
        assert_eq!(
            t.database_ddl(),
            "CREATE DATABASE IF NOT EXISTS `nat_flowrec`"
        );
        // Another format is another table.
        let mut other = t.clone();
        other.format = LogFormat::default();
        assert_ne!(other.name("rec-0abc-20260115T101300Z"), name);
    }

    #[test]
    fn per_hour_text_folders_are_projected_by_the_hour() {
        let ddl = spec(location("logs", "", S3FileFormat::PlainText, false, true)).table_ddl("x");
        for expected in [
            "PARTITIONED BY (`hour` string)",
            "'projection.hour.format' = 'yyyy/MM/dd/HH'",
            "'projection.hour.range' = '2026/01/15/00,NOW'",
            "'projection.hour.interval.unit' = 'HOURS'",
            "'storage.location.template' = 's3://logs/AWSLogs/123456789012/vpcflowlogs/eu-west-1/${hour}/'",
        ] {
            assert!(ddl.contains(expected), "{expected} in {ddl}");
        }
    }

    #[test]
    fn the_parquet_hive_table_projects_hours_and_reads_no_header() {
        let ddl = spec(location("logs", "", S3FileFormat::Parquet, true, true)).table_ddl("x");
        assert!(
            ddl.contains(
                "PARTITIONED BY (`year` string, `month` string, `day` string, `hour` string)"
            ),
            "{ddl}"
        );
        assert!(ddl.contains("ParquetHiveSerDe"), "{ddl}");
        assert!(!ddl.contains("skip.header"), "{ddl}");
        assert!(
            ddl.contains("'projection.year.range' = '2026,2027'"),
            "{ddl}"
        );
        assert!(ddl.contains("'projection.hour.digits' = '2'"), "{ddl}");
        assert!(
            ddl.contains(
                "aws-region=eu-west-1/year=${year}/month=${month}/day=${day}/hour=${hour}/'"
            ),
            "{ddl}"
        );
        // Daily hive folders have no hour to project.
        let daily = spec(location("logs", "", S3FileFormat::PlainText, true, false)).table_ddl("x");
        assert!(
            daily.contains("PARTITIONED BY (`year` string, `month` string, `day` string)"),
            "{daily}"
        );
        assert!(!daily.contains("projection.hour"), "{daily}");
        assert!(
            daily.contains("aws-region=eu-west-1/year=${year}/month=${month}/day=${day}/'"),
            "{daily}"
        );
    }

    #[test]
    fn a_recordings_rows_are_its_days_or_hours_and_its_flow_logs_objects() {
        let t = spec(plain_location());
        let start = "2026-01-15T23:50:00Z".parse().unwrap();
        let end = "2026-01-16T00:20:00Z".parse().unwrap();
        let source = t.recording_source("r", start, end, &["fl-0a".into(), "fl-0b".into()]);
        assert_eq!(
            source,
            format!(
                "(SELECT * FROM {} WHERE \"day\" IN ('2026/01/15', '2026/01/16') AND (\"$path\" LIKE '%fl-0a%' OR \"$path\" LIKE '%fl-0b%'))",
                t.qualified("r")
            )
        );
        let hourly = spec(location("logs", "", S3FileFormat::PlainText, false, true));
        let source = hourly.recording_source("r", start, end, &[]);
        assert!(
            source.ends_with("WHERE \"hour\" IN ('2026/01/15/23', '2026/01/16/00'))"),
            "{source}"
        );
        let hive = spec(location("logs", "", S3FileFormat::PlainText, true, false));
        let source = hive.recording_source("r", start, start, &[]);
        assert!(
            source
                .ends_with("WHERE ((\"year\" = '2026' AND \"month\" = '01' AND \"day\" = '15')))"),
            "{source}"
        );
        let hive_hourly = spec(location("logs", "", S3FileFormat::PlainText, true, true));
        let source = hive_hourly.recording_source("r", start, end, &[]);
        assert!(
            source.contains(
                "(\"year\" = '2026' AND \"month\" = '01' AND \"day\" = '16' AND \"hour\" = '00'))"
            ),
            "{source}"
        );
    }
}
