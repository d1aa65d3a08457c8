//! `[athena]`: where `report --engine athena` runs its SQL. Present only when the engine is
//! used; the IAM policies grant Athena, Glue and the S3 locations only then.

use serde::{Deserialize, Serialize};

use super::{Invalid, check, quoted};
use crate::names::S3Uri;

/// The workgroup every account has.
pub const DEFAULT_WORKGROUP: &str = "primary";
/// The Glue database the tables are created in.
pub const DEFAULT_DATABASE: &str = "nat_flowrec";

/// How flow logs are stored in S3 (CreateFlowLogs' `DestinationOptions.FileFormat`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FlowLogFileFormat {
    /// Gzip text, one header line per object.
    #[default]
    PlainText,
    Parquet,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AthenaConfig {
    #[serde(default = "default_workgroup")]
    pub workgroup: String,
    /// Where Athena writes query results (required: a workgroup without one of its own fails
    /// every query).
    pub output_location: S3Uri,
    #[serde(default = "default_database")]
    pub database: String,
    /// The S3 destination recordings' flow logs are delivered to (the bucket and prefix
    /// CreateFlowLogs was given): the location `report --engine athena --recording` reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow_logs: Option<S3Uri>,
    #[serde(default)]
    pub file_format: FlowLogFileFormat,
    /// Flow logs delivered with hive-compatible prefixes (`aws-account-id=.../year=.../hour=...`).
    #[serde(default)]
    pub hive_partitions: bool,
}

fn default_workgroup() -> String {
    DEFAULT_WORKGROUP.to_owned()
}

fn default_database() -> String {
    DEFAULT_DATABASE.to_owned()
}

impl AthenaConfig {
    pub(super) fn validate(&self) -> Result<(), Invalid> {
        check(
            (1..=128).contains(&self.workgroup.len())
                && self
                    .workgroup
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)),
            "athena.workgroup",
            quoted(&self.workgroup),
            "an Athena workgroup name: 1 to 128 letters, digits, `.`, `_` or `-`, e.g. \"primary\"",
        )?;
        check(
            (1..=255).contains(&self.database.len())
                && self
                    .database
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "athena.database",
            quoted(&self.database),
            "a Glue database name: lowercase letters, digits and `_`, e.g. \"nat_flowrec\"",
        )
    }
}
