//! Where VPC Flow Logs put their files in S3, as AWS documents it ("Flow log files" in the VPC
//! User Guide), so a recording's files can be listed by the hour and told apart by name without
//! reading them. Pure: no AWS call here; the export lists with these prefixes, and any other
//! reader of S3-delivered flow logs (a query engine's table location) can use them too.
//!
//! Folders, under the bucket and optional prefix, by the file's date (and hour with per-hour
//! partitions):
//!
//! ```text
//! <prefix>/AWSLogs/<account>/vpcflowlogs/<region>/<yyyy>/<mm>/<dd>/[<HH>/]
//! <prefix>/AWSLogs/aws-account-id=<account>/aws-service=vpcflowlogs/aws-region=<region>/year=<yyyy>/month=<mm>/day=<dd>/[hour=<HH>/]
//! ```
//!
//! (the second with hive-compatible partitions). A file is named
//! `<account>_vpcflowlogs_<region>_<flow-log-id>_<YYYYMMDDTHHmmZ>_<hash>.log.gz` (`.log.parquet`
//! for Parquet): the flow-log id says whose records it holds, the time which five minutes. A
//! plain-text file is gzip with a first line naming the format's fields.

use chrono::{DateTime, Datelike, DurationRound, NaiveDateTime, TimeDelta, Timelike, Utc};
use serde::{Deserialize, Serialize};

/// The first folder under the bucket's prefix of every AWS log delivery.
pub const LOGS_ROOT: &str = "AWSLogs";
/// The service's folder (and hive `aws-service=` value) of VPC Flow Logs.
pub const SERVICE: &str = "vpcflowlogs";

/// A file's name carries the start of the five minutes it covers, and the file lands minutes
/// later: a reader of a window's files looks a file's span before it and this lag past its end.
pub const FILE_SPAN: TimeDelta = TimeDelta::minutes(5);
pub const DELIVERY_LAG: TimeDelta = TimeDelta::minutes(15);

/// CreateFlowLogs' `DestinationOptions.FileFormat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum S3FileFormat {
    /// Gzip text, a header line, one record a line.
    #[default]
    PlainText,
    /// Apache Parquet, Gzip-compressed columns.
    Parquet,
}

impl S3FileFormat {
    /// The value CreateFlowLogs takes.
    pub fn as_str(self) -> &'static str {
        match self {
            S3FileFormat::PlainText => "plain-text",
            S3FileFormat::Parquet => "parquet",
        }
    }
}

/// Where and how flow logs deliver to S3: the bucket, the prefix (no leading or trailing `/`,
/// empty for the bucket's root) and CreateFlowLogs' `DestinationOptions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3Delivery {
    pub bucket: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub prefix: String,
    #[serde(default)]
    pub file_format: S3FileFormat,
    #[serde(default)]
    pub hive_compatible_partitions: bool,
    #[serde(default)]
    pub per_hour_partition: bool,
}

impl S3Delivery {
    /// CreateFlowLogs' `LogDestination`: the bucket's ARN and the prefix as a subfolder.
    pub fn log_destination(&self, partition: &str) -> String {
        if self.prefix.is_empty() {
            format!("arn:{partition}:s3:::{}", self.bucket)
        } else {
            format!("arn:{partition}:s3:::{}/{}", self.bucket, self.prefix)
        }
    }

    /// `s3://bucket/prefix`, as the configuration writes it.
    pub fn uri(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }

    /// `<prefix>/AWSLogs/`: every account's folder is directly below it.
    pub fn logs_root(&self) -> String {
        if self.prefix.is_empty() {
            format!("{LOGS_ROOT}/")
        } else {
            format!("{}/{LOGS_ROOT}/", self.prefix)
        }
    }

    /// The account of a folder directly below `logs_root` (`<root>123456789012/` or
    /// `<root>aws-account-id=123456789012/`); `None` for anything else.
    pub fn account_of(&self, folder: &str) -> Option<String> {
        let name = folder
            .strip_prefix(&self.logs_root())?
            .trim_end_matches('/');
        let account = name.strip_prefix("aws-account-id=").unwrap_or(name);
        (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
            .then(|| account.to_owned())
    }

    /// The folder (key prefix, ending in `/`) of the files of `account` and `region`, above
    /// the date folders: what a table over them is located at.
    pub fn region_root(&self, account: &str, region: &str) -> String {
        let root = self.logs_root();
        if self.hive_compatible_partitions {
            format!("{root}aws-account-id={account}/aws-service={SERVICE}/aws-region={region}/")
        } else {
            format!("{root}{account}/{SERVICE}/{region}/")
        }
    }

    /// The folder (key prefix, ending in `/`) of the files of `account` and `region` dated
    /// within `at`'s day (or hour, with per-hour partitions).
    pub fn folder(&self, account: &str, region: &str, at: DateTime<Utc>) -> String {
        let mut out = self.region_root(account, region);
        let (y, m, d, h) = (at.year(), at.month(), at.day(), at.hour());
        if self.hive_compatible_partitions {
            out.push_str(&format!("year={y:04}/month={m:02}/day={d:02}/"));
        } else {
            out.push_str(&format!("{y:04}/{m:02}/{d:02}/"));
        }
        if self.per_hour_partition {
            if self.hive_compatible_partitions {
                out.push_str(&format!("hour={h:02}/"));
            } else {
                out.push_str(&format!("{h:02}/"));
            }
        }
        out
    }

    /// Every folder whose files may be dated from `start` to `end` (both included), oldest
    /// first: one a day, or one an hour with per-hour partitions.
    pub fn folders(
        &self,
        account: &str,
        region: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Vec<String> {
        let step = if self.per_hour_partition {
            TimeDelta::hours(1)
        } else {
            TimeDelta::days(1)
        };
        let mut at = start.duration_trunc(step).unwrap_or(start);
        let mut out = Vec::new();
        while at <= end {
            out.push(self.folder(account, region, at));
            at += step;
        }
        out
    }
}

/// A key prefix that reaches down into an account's region folder, read back (`parse_region_root`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionRoot {
    /// The destination's prefix above `AWSLogs/` (no leading or trailing `/`).
    pub prefix: String,
    pub account: String,
    pub region: String,
    pub hive_compatible_partitions: bool,
}

/// Reads a key prefix such as `nat/AWSLogs/123456789012/vpcflowlogs/eu-west-1/2025/03/` (or its
/// hive-compatible form) down to its region folder; `None` when it does not reach that deep.
/// Whatever lies below the region folder (date folders, a file) is left out.
pub fn parse_region_root(key: &str) -> Option<RegionRoot> {
    let parts: Vec<&str> = key.split('/').filter(|p| !p.is_empty()).collect();
    let at = parts.iter().position(|p| *p == LOGS_ROOT)?;
    let prefix = parts[..at].join("/");
    let (account, service, region) = match parts.get(at + 1..at + 4)? {
        [a, s, r] => (*a, *s, *r),
        _ => return None,
    };
    let hive_service = format!("aws-service={SERVICE}");
    let (account, region, hive) = if service == SERVICE {
        (account, region, false)
    } else if service == hive_service {
        (
            account.strip_prefix("aws-account-id=")?,
            region.strip_prefix("aws-region=")?,
            true,
        )
    } else {
        return None;
    };
    (!account.is_empty() && !region.is_empty()).then(|| RegionRoot {
        prefix,
        account: account.to_owned(),
        region: region.to_owned(),
        hive_compatible_partitions: hive,
    })
}

/// What a delivered file's name says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectName {
    pub account: String,
    pub region: String,
    pub flow_log_id: String,
    /// The start of the five minutes the file covers (minute precision).
    pub time: DateTime<Utc>,
    pub file_format: S3FileFormat,
}

/// Reads the name of a delivered file (the key's last segment); `None` when it is not one.
pub fn parse_object_name(key: &str) -> Option<ObjectName> {
    let name = key.rsplit('/').next()?;
    let (stem, file_format) = if let Some(stem) = name.strip_suffix(".log.gz") {
        (stem, S3FileFormat::PlainText)
    } else {
        (name.strip_suffix(".log.parquet")?, S3FileFormat::Parquet)
    };
    let mut parts = stem.split('_');
    let account = parts.next()?;
    if parts.next()? != SERVICE {
        return None;
    }
    let region = parts.next()?;
    let flow_log_id = parts.next()?;
    let time = parts.next()?;
    let _hash = parts.next()?;
    if parts.next().is_some() || !flow_log_id.starts_with("fl-") {
        return None;
    }
    let time = NaiveDateTime::parse_from_str(time, "%Y%m%dT%H%MZ")
        .ok()?
        .and_utc();
    Some(ObjectName {
        account: account.to_owned(),
        region: region.to_owned(),
        flow_log_id: flow_log_id.to_owned(),
        time,
        file_format,
    })
}

/// The name AWS gives a file (what tests and benchmarks seed).
pub fn object_name(
    account: &str,
    region: &str,
    flow_log_id: &str,
    time: DateTime<Utc>,
    hash: &str,
    file_format: S3FileFormat,
) -> String {
    let ext = match file_format {
        S3FileFormat::PlainText => "log.gz",
        S3FileFormat::Parquet => "log.parquet",
    };
    format!(
        "{account}_{SERVICE}_{region}_{flow_log_id}_{}_{hash}.{ext}",
        time.format("%Y%m%dT%H%MZ")
    )
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn delivery(prefix: &str, hive: bool, hourly: bool) -> S3Delivery {
        S3Delivery {
            bucket: "flows".into(),
            prefix: prefix.into(),
            file_format: S3FileFormat::PlainText,
            hive_compatible_partitions: hive,
            per_hour_partition: hourly,
        }
    }

    fn at(d: u32, h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, d, h, m, 0).unwrap()
    }

    #[test]
    fn folders_follow_awss_documented_layouts() {
        let t = at(1, 7, 30);
        assert_eq!(
            delivery("", false, false).folder("123456789012", "eu-west-1", t),
            "AWSLogs/123456789012/vpcflowlogs/eu-west-1/2025/03/01/"
        );
        assert_eq!(
            delivery("nat", false, true).folder("123456789012", "eu-west-1", t),
            "nat/AWSLogs/123456789012/vpcflowlogs/eu-west-1/2025/03/01/07/"
        );
        assert_eq!(
            delivery("a/b", true, false).folder("123456789012", "eu-west-1", t),
            "a/b/AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/\
             aws-region=eu-west-1/year=2025/month=03/day=01/"
        );
        assert_eq!(
            delivery("", true, true).folder("123456789012", "eu-west-1", t),
            "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-west-1/\
             year=2025/month=03/day=01/hour=07/"
        );
    }

    #[test]
    fn a_region_folder_is_read_back_from_a_deeper_prefix_in_both_layouts() {
        for d in [delivery("a/b", false, true), delivery("", true, false)] {
            let folder = d.folder("123456789012", "eu-west-1", at(1, 7, 30));
            assert!(
                folder.starts_with(&d.region_root("123456789012", "eu-west-1")),
                "{folder}"
            );
            let back = parse_region_root(&folder).unwrap();
            assert_eq!(back.prefix, d.prefix);
            assert_eq!(back.account, "123456789012");
            assert_eq!(back.region, "eu-west-1");
            assert_eq!(
                back.hive_compatible_partitions,
                d.hive_compatible_partitions
            );
        }
        assert_eq!(
            parse_region_root("logs/AWSLogs/123456789012/vpcflowlogs/us-east-2").map(|r| r.prefix),
            Some("logs".to_owned())
        );
        for short in [
            "logs/nat/",
            "logs/AWSLogs/123456789012/",
            "AWSLogs/123456789012/elasticloadbalancing/us-east-1/",
            "AWSLogs/123456789012/aws-service=vpcflowlogs/eu-west-1/",
        ] {
            assert_eq!(parse_region_root(short), None, "{short}");
        }
    }

    #[test]
    fn a_window_lists_each_day_or_hour_it_touches() {
        let daily =
            delivery("", false, false).folders("123456789012", "r", at(1, 23, 50), at(2, 0, 10));
        assert_eq!(daily.len(), 2);
        assert!(daily[1].ends_with("/2025/03/02/"));
        let hourly =
            delivery("", false, true).folders("123456789012", "r", at(1, 7, 59), at(1, 9, 0));
        assert_eq!(
            hourly.iter().map(|f| &f[f.len() - 3..]).collect::<Vec<_>>(),
            ["07/", "08/", "09/"]
        );
    }

    #[test]
    fn account_folders_are_read_in_both_layouts() {
        let d = delivery("p", false, false);
        assert_eq!(d.logs_root(), "p/AWSLogs/");
        assert_eq!(
            d.account_of("p/AWSLogs/123456789012/").as_deref(),
            Some("123456789012")
        );
        assert_eq!(
            d.account_of("p/AWSLogs/aws-account-id=123456789012/")
                .as_deref(),
            Some("123456789012")
        );
        assert_eq!(d.account_of("p/AWSLogs/o-abc/"), None);
        assert_eq!(d.account_of("q/AWSLogs/123456789012/"), None);
    }

    #[test]
    fn a_file_name_gives_its_flow_log_and_time_back() {
        let name = object_name(
            "123456789012",
            "us-east-1",
            "fl-1234abcd",
            at(1, 16, 20),
            "fe123456",
            S3FileFormat::PlainText,
        );
        assert_eq!(
            name,
            "123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20250301T1620Z_fe123456.log.gz"
        );
        let parsed = parse_object_name(&format!("x/AWSLogs/{name}")).unwrap();
        assert_eq!(parsed.flow_log_id, "fl-1234abcd");
        assert_eq!(parsed.time, at(1, 16, 20));
        assert_eq!(parsed.region, "us-east-1");
        assert_eq!(
            parse_object_name(
                "123456789012_vpcflowlogs_us-east-1_fl-1_20250301T1620Z_h.log.parquet"
            )
            .map(|n| n.file_format),
            Some(S3FileFormat::Parquet)
        );
        for other in [
            "notes.txt",
            "123456789012_elasticloadbalancing_us-east-1_x_20250301T1620Z_h.log.gz",
            "123456789012_vpcflowlogs_us-east-1_fl-1_yesterday_h.log.gz",
        ] {
            assert_eq!(parse_object_name(other), None, "{other}");
        }
    }

    #[test]
    fn the_destination_is_the_buckets_arn_with_the_prefix() {
        assert_eq!(
            delivery("nat/flows", false, false).log_destination("aws"),
            "arn:aws:s3:::flows/nat/flows"
        );
        assert_eq!(
            delivery("", false, false).log_destination("aws-cn"),
            "arn:aws-cn:s3:::flows"
        );
        assert_eq!(delivery("p", false, false).uri(), "s3://flows/p");
    }
}
