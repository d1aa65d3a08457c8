//! The Athena table over flow logs in S3, as DDL text: where AWS writes them, the columns of
//! their format, and partition projection, so Athena lists only the days (or hours) a query
//! asks for instead of the whole prefix, and no partition is ever added by hand.
//!
//! AWS writes flow logs under the destination's prefix as
//! `AWSLogs/{account}/vpcflowlogs/{region}/{yyyy}/{mm}/{dd}/`, or with hive-compatible prefixes
//! `AWSLogs/aws-account-id={account}/aws-service=vpcflowlogs/aws-region={region}/year={yyyy}/month={mm}/day={dd}/hour={hh}/`.
//! The table is named after what it reads plus a digest of its DDL: a different format or
//! location is a different table, never a stale one that `IF NOT EXISTS` would keep.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use nat_flowrec_parsers::LogFormat;

use super::sql::{columns, literal};
use crate::config::FlowLogFileFormat;

/// Days a recording's query reads at most (a recording lasts at most a day).
const MAX_DAYS: usize = 3;

/// Where one account's flow logs of one region are, and how they are laid out below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowLogLocation {
    /// `s3://bucket/.../AWSLogs/{account}/vpcflowlogs/{region}/` (or its hive-compatible form),
    /// with the trailing slash.
    pub base: String,
    pub hive: bool,
}

/// What `FlowLogLocation::new` needs and may not find.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocationError {
    #[error(
        "`{0}` is not an S3 prefix: give s3://bucket/prefix/ (the flow logs' destination) or the \
         AWSLogs/{{account}}/vpcflowlogs/{{region}}/ folder below it"
    )]
    NotS3(String),
    #[error(
        "the account of the flow logs under `{0}` is unknown: give the prefix down to \
         AWSLogs/{{account}}/vpcflowlogs/{{region}}/, or name the account in \
         recording.deliver_logs_role_arn"
    )]
    NoAccount(String),
    #[error(
        "the region of the flow logs under `{0}` is unknown: give the prefix down to \
         AWSLogs/{{account}}/vpcflowlogs/{{region}}/, or set `region` (or --region)"
    )]
    NoRegion(String),
}

impl FlowLogLocation {
    /// The location of `uri`: a destination prefix (AWS's folders added below it for
    /// `account` and `region`), or a prefix that already reaches into `AWSLogs/`, whose account
    /// and region (and layout) are then its own.
    pub fn new(
        uri: &str,
        account: Option<&str>,
        region: Option<&str>,
        hive: bool,
    ) -> Result<FlowLogLocation, LocationError> {
        let rest = uri
            .strip_prefix("s3://")
            .filter(|r| !r.is_empty() && !r.starts_with('/'))
            .ok_or_else(|| LocationError::NotS3(uri.to_owned()))?;
        let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
        if let Some(at) = parts.iter().position(|p| *p == "AWSLogs") {
            let below = &parts[at + 1..];
            let head = parts[..=at].join("/");
            match below {
                [acct, "vpcflowlogs", region, ..] => {
                    return Ok(FlowLogLocation {
                        base: format!("s3://{head}/{acct}/vpcflowlogs/{region}/"),
                        hive: false,
                    });
                }
                [acct, "aws-service=vpcflowlogs", region, ..]
                    if acct.starts_with("aws-account-id=") && region.starts_with("aws-region=") =>
                {
                    return Ok(FlowLogLocation {
                        base: format!("s3://{head}/{acct}/aws-service=vpcflowlogs/{region}/"),
                        hive: true,
                    });
                }
                _ => {}
            }
        }
        let account = account.ok_or_else(|| LocationError::NoAccount(uri.to_owned()))?;
        let region = region.ok_or_else(|| LocationError::NoRegion(uri.to_owned()))?;
        let prefix = parts.join("/");
        let base = if hive {
            format!(
                "s3://{prefix}/AWSLogs/aws-account-id={account}/aws-service=vpcflowlogs/aws-region={region}/"
            )
        } else {
            format!("s3://{prefix}/AWSLogs/{account}/vpcflowlogs/{region}/")
        };
        Ok(FlowLogLocation { base, hive })
    }

    /// The partition columns, in path order.
    fn partitions(&self) -> &'static [&'static str] {
        if self.hive {
            &["year", "month", "day", "hour"]
        } else {
            &["day"]
        }
    }
}

/// One table: its name and everything its DDL says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSpec {
    pub database: String,
    pub location: FlowLogLocation,
    pub format: LogFormat,
    pub file_format: FlowLogFileFormat,
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
        let partitions: Vec<String> = self
            .location
            .partitions()
            .iter()
            .map(|p| format!("`{p}` string"))
            .collect();
        let storage = match self.file_format {
            FlowLogFileFormat::PlainText => "ROW FORMAT DELIMITED FIELDS TERMINATED BY ' '\nSTORED AS TEXTFILE".to_owned(),
            FlowLogFileFormat::Parquet => "ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'\nSTORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat'\nOUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat'".to_owned(),
        };
        let mut props: Vec<(String, String)> = Vec::new();
        if self.file_format == FlowLogFileFormat::PlainText {
            // Every object AWS writes starts with the format's header line.
            props.push(("skip.header.line.count".into(), "1".into()));
        }
        props.push(("projection.enabled".into(), "true".into()));
        let base = &self.location.base;
        if self.location.hive {
            let years = format!("{},{}", self.since.year(), self.until.year());
            for (name, range) in [
                ("year", years),
                ("month", "1,12".to_owned()),
                ("day", "1,31".to_owned()),
                ("hour", "0,23".to_owned()),
            ] {
                props.push((format!("projection.{name}.type"), "integer".into()));
                props.push((format!("projection.{name}.range"), range));
                if name != "year" {
                    props.push((format!("projection.{name}.digits"), "2".into()));
                }
            }
            props.push((
                "storage.location.template".into(),
                format!("{base}year=${{year}}/month=${{month}}/day=${{day}}/hour=${{hour}}/"),
            ));
        } else {
            props.push(("projection.day.type".into(), "date".into()));
            props.push(("projection.day.format".into(), "yyyy/MM/dd".into()));
            props.push((
                "projection.day.range".into(),
                format!("{},NOW", self.since.format("%Y/%m/%d")),
            ));
            props.push(("projection.day.interval".into(), "1".into()));
            props.push(("projection.day.interval.unit".into(), "DAYS".into()));
            props.push((
                "storage.location.template".into(),
                format!("{base}${{day}}/"),
            ));
        }
        let props: Vec<String> = props
            .iter()
            .map(|(k, v)| format!("  {} = {}", literal(k), literal(v)))
            .collect();
        format!(
            "{}\n)\nPARTITIONED BY ({})\n{storage}\nLOCATION {}\nTBLPROPERTIES (\n{}\n)",
            cols.join(",\n"),
            partitions.join(", "),
            literal(base),
            props.join(",\n")
        )
    }

    /// The rows of a recording: its days' (or hours') partitions only, and of those the objects
    /// of its flow logs (AWS names each object after its flow log). A parenthesised query, for
    /// the aggregation's `source`.
    pub fn recording_source(
        &self,
        what: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        flow_log_ids: &[String],
    ) -> String {
        let mut days = Vec::new();
        let mut day = start.date_naive();
        while day <= end.date_naive() && days.len() < MAX_DAYS {
            days.push(day);
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
        }
        let partition = if self.location.hive {
            let each: Vec<String> = days
                .iter()
                .map(|d| {
                    format!(
                        "(\"year\" = {} AND \"month\" = {} AND \"day\" = {})",
                        literal(&d.format("%Y").to_string()),
                        literal(&d.format("%m").to_string()),
                        literal(&d.format("%d").to_string())
                    )
                })
                .collect();
            format!("({})", each.join(" OR "))
        } else {
            let each: Vec<String> = days
                .iter()
                .map(|d| literal(&d.format("%Y/%m/%d").to_string()))
                .collect();
            format!("\"day\" IN ({})", each.join(", "))
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

    fn spec(location: FlowLogLocation, file_format: FlowLogFileFormat) -> TableSpec {
        TableSpec {
            database: "nat_flowrec".into(),
            location,
            format: LogFormat::parse("${srcaddr} ${dstaddr} ${bytes} ${end}").unwrap(),
            file_format,
            since: NaiveDate::from_ymd_opt(2026, 1, 15).unwrap(),
            until: NaiveDate::from_ymd_opt(2027, 2, 1).unwrap(),
        }
    }

    /// `s3://logs/nat/` of account 123456789012 in eu-west-1, plain layout.
    fn plain_location() -> FlowLogLocation {
        FlowLogLocation::new(
            "s3://logs/nat/",
            Some("123456789012"),
            Some("eu-west-1"),
            false,
        )
        .unwrap()
    }

    #[test]
    fn a_destination_prefix_gets_aws_folders_and_a_deeper_prefix_keeps_its_own() {
        let plain = plain_location();
        assert_eq!(
            plain.base,
            "s3://logs/nat/AWSLogs/123456789012/vpcflowlogs/eu-west-1/"
        );
        let hive = FlowLogLocation::new("s3://logs", Some("123456789012"), Some("eu-west-1"), true)
            .unwrap();
        assert_eq!(
            hive.base,
            "s3://logs/AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-west-1/"
        );
        let own = FlowLogLocation::new(
            "s3://logs/nat/AWSLogs/210987654321/vpcflowlogs/us-east-2/2026/01/15/",
            None,
            None,
            false,
        )
        .unwrap();
        assert_eq!(
            own.base,
            "s3://logs/nat/AWSLogs/210987654321/vpcflowlogs/us-east-2/"
        );
        let own_hive = FlowLogLocation::new(
            "s3://logs/AWSLogs/aws-account-id=210987654321/aws-service=vpcflowlogs/aws-region=us-east-2/year=2026/",
            None,
            None,
            false,
        )
        .unwrap();
        assert!(own_hive.hive);
        assert!(matches!(
            FlowLogLocation::new("/tmp/x", None, None, false),
            Err(LocationError::NotS3(_))
        ));
        assert!(matches!(
            FlowLogLocation::new("s3://logs/nat/", None, Some("eu-west-1"), false),
            Err(LocationError::NoAccount(_))
        ));
    }

    #[test]
    fn the_text_table_projects_days_and_skips_each_objects_header() {
        let t = spec(plain_location(), FlowLogFileFormat::PlainText);
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
    fn the_parquet_hive_table_projects_hours_and_reads_no_header() {
        let location =
            FlowLogLocation::new("s3://logs", Some("123456789012"), Some("eu-west-1"), true)
                .unwrap();
        let ddl = spec(location, FlowLogFileFormat::Parquet).table_ddl("x");
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
    }

    #[test]
    fn a_recordings_rows_are_its_days_and_its_flow_logs_objects() {
        let t = spec(plain_location(), FlowLogFileFormat::PlainText);
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
        let mut hive = t.clone();
        hive.location.hive = true;
        let source = hive.recording_source("r", start, start, &[]);
        assert!(
            source
                .ends_with("WHERE ((\"year\" = '2026' AND \"month\" = '01' AND \"day\" = '15')))"),
            "{source}"
        );
    }
}
