//! `[athena]`: where `report --engine athena` runs its SQL. Present only when the engine is
//! used; the IAM policies grant Athena, Glue, the result location and the recordings' S3
//! destination only then. A recording's flow logs are found from the recording itself (its
//! destination in the event log); the layout keys here are for a prefix given on the command
//! line.

use serde::{Deserialize, Serialize};

use super::{Invalid, check, quoted};
use crate::names::S3Uri;
use crate::s3_layout::S3FileFormat;

/// The workgroup every account has.
pub const DEFAULT_WORKGROUP: &str = "primary";
/// The Glue database the tables are created in.
pub const DEFAULT_DATABASE: &str = "nat_flowrec";

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
    /// How the flow logs under a prefix given on the command line are stored (a recording's
    /// come from its own destination, in the event log).
    #[serde(default)]
    pub file_format: S3FileFormat,
    /// Flow logs under that prefix delivered with hive-compatible prefixes
    /// (`aws-account-id=.../year=.../`); a prefix that reaches into `AWSLogs/` says it itself.
    #[serde(default)]
    pub hive_partitions: bool,
    /// Flow logs under that prefix delivered in per-hour folders.
    #[serde(default)]
    pub per_hour_partitions: bool,
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
