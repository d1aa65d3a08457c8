//! The report as data: what every renderer shows and what `--json` serializes (snake_case keys,
//! byte counts as integers, addresses as text). Field order here is the JSON key order.

use serde::Serialize;

use crate::attribution::{AttributionSummary, CrossAz};
pub use crate::coverage::Coverage;
use crate::legs::LegRule;
pub use crate::nat_metrics::NatMetrics;
use crate::prices::{EndpointKind, Prices};
use crate::remediation::RemediationPlan;
use crate::remote_names::RemoteNames;
pub use crate::tally::MalformedLine;

/// Bumped when a key is renamed or removed (adding keys does not bump it).
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub summary: Summary,
    pub talkers: Vec<Talker>,
    pub sources: Vec<Source>,
    pub destinations: Vec<Destination>,
    pub services: Vec<ServiceUse>,
    pub timeline: Vec<Minute>,
    /// Flow-log bytes against the NAT's CloudWatch metrics, when the caller measured them
    /// (a recording's report does; a report of files does not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage: Option<Coverage>,
    /// Set when the hosts were looked up in AWS (`Report::attribute`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribution: Option<AttributionSummary>,
    /// Traffic that crossed an AZ to reach a zonal NAT; needs attribution.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cross_az: Option<CrossAz>,
    /// The NAT's own last 30 days, when measured (`Report::set_month`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub month: Option<NatMonth>,
    /// How many bytes went to named remotes, by the names' domains (`Report::name_remotes`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_names: Option<RemoteNames>,
    /// Per AWS service seen through the NAT: the endpoint command and the saving.
    pub remediation: RemediationPlan,
    /// What the recording cost in flow-log ingestion, when the caller measured it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording_cost: Option<RecordingCost>,
    /// The NAT's CloudWatch bytes per minute around the recording (its `metrics.json`), when
    /// known: the HTML report's spike chart.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nat_metrics: Option<NatMetrics>,
}

/// What recording the report's flow logs cost: the log group's ingestion at the region's
/// vended-log price.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordingCost {
    pub ingested_bytes: u64,
    pub cost_usd: f64,
}

impl Report {
    /// Whether a file could not be read (the command exits non-zero).
    pub fn has_failures(&self) -> bool {
        !self.summary.files_failed.is_empty()
    }

    /// Adds the NAT's last 30 days: its monthly NAT cost, and per endpoint the saving at that
    /// volume (the service's share of this report applied to it) beside the spike extrapolation.
    pub fn set_month(&mut self, mut month: NatMonth) {
        month.monthly_bytes = month.monthly_bytes();
        month.monthly_nat_cost_usd =
            crate::tables::round_money(self.summary.prices.nat_cost(month.monthly_bytes));
        self.month = Some(month);
        self.remediation = crate::remediation::plan(self);
    }

    /// What the endpoints worth creating would save a month at the NAT's 30-day volume.
    /// What the endpoints found save a month: at the NAT's last 30 days when measured, else
    /// extrapolated from the spike; `None` when nothing saves.
    pub fn monthly_saving(&self) -> Option<f64> {
        self.monthly_saving_30d()
            .or_else(|| {
                let sum: f64 = self
                    .remediation
                    .actions
                    .iter()
                    .filter_map(|a| a.monthly_net_usd.or(a.monthly_saving_usd))
                    .filter(|v| *v > 0.0)
                    .sum();
                Some(crate::tables::round_money(sum))
            })
            .filter(|v| *v > 0.0)
    }

    pub fn monthly_saving_30d(&self) -> Option<f64> {
        self.month.as_ref()?;
        Some(crate::tables::round_money(
            self.remediation
                .actions
                .iter()
                .filter_map(|a| a.monthly_net_30d_usd.or(a.monthly_saving_30d_usd))
                .filter(|v| *v > 0.0)
                .sum(),
        ))
    }
}

/// The NAT's own traffic over its last 30 days: CloudWatch's daily sums of
/// `BytesInFromSource` + `BytesInFromDestination` (every byte it processed, once), the base of
/// the monthly figures a person can defend.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct NatMonth {
    pub nat_gateway_id: String,
    /// First and last day (UTC, `YYYY-MM-DD`) of the measured days.
    pub start: String,
    pub end: String,
    /// Days with a datapoint.
    pub days: u32,
    /// Bytes over those days.
    pub bytes: u64,
    /// `bytes` scaled to a 730-hour month (set by `Report::set_month`).
    #[serde(default)]
    pub monthly_bytes: u64,
    /// NAT processing of `monthly_bytes` (set by `Report::set_month`).
    #[serde(default)]
    pub monthly_nat_cost_usd: f64,
}

impl NatMonth {
    /// `bytes` over `days`, scaled to 730 hours.
    pub fn monthly_bytes(&self) -> u64 {
        if self.days == 0 {
            return 0;
        }
        let hours = f64::from(self.days) * 24.0;
        (self.bytes as f64 * crate::remediation::HOURS_PER_MONTH / hours).round() as u64
    }

    /// What the report's figures (over `report_bytes`) are multiplied by for a month at this
    /// volume; `None` without days or bytes.
    pub(crate) fn factor(&self, report_bytes: u64) -> Option<f64> {
        (self.days > 0 && report_bytes > 0)
            .then(|| self.monthly_bytes() as f64 / report_bytes as f64)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub files_read: u64,
    pub files_failed: Vec<FileFailure>,
    /// Parsed records, whatever their status or leg.
    pub records_read: u64,
    pub log_status: LogStatusCounts,
    pub malformed_lines: u64,
    /// The first malformed lines by file and line number.
    pub malformed_examples: Vec<MalformedLine>,
    /// Rejected records are not in the tables: the NAT never processed their bytes.
    pub reject_records: u64,
    pub reject_bytes: u64,
    pub records_by_leg: RecordsByLeg,
    pub window: Option<Window>,
    /// Counted bytes, internal -> remote.
    pub bytes_out: u64,
    /// Counted bytes, remote -> internal.
    pub bytes_in: u64,
    pub bytes_total: u64,
    /// The sum of `bytes` over every record, both legs included: what a naive sum reports.
    pub bytes_all_records: u64,
    pub conversations: u64,
    /// NAT data-processing cost of `bytes_total`.
    pub nat_cost_usd: f64,
    /// What endpoints would save, summed over the services table.
    pub endpoint_saving_usd: f64,
    pub leg_rule: LegRule,
    pub leg_rule_explanation: String,
    /// "1 GB = 10^9 bytes".
    pub gb: String,
    pub prices: Prices,
    /// Rows per table (0 = all).
    pub top: usize,
    /// Things the reader should know about how the numbers were made.
    pub notes: Vec<String>,
    /// Things that make the numbers incomplete or uncertain.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileFailure {
    pub file: String,
    pub error: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LogStatusCounts {
    pub ok: u64,
    pub nodata: u64,
    pub skipdata: u64,
    /// Records of a format without `log-status`.
    pub not_in_format: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RecordsByLeg {
    /// VPC side, internal -> NAT (counted).
    pub vpc_outbound: u64,
    /// VPC side, NAT -> internal (counted).
    pub vpc_reply: u64,
    /// Internet side: duplicates of VPC-side records (not counted).
    pub internet: u64,
    /// Counted as seen (plain / all-records rule).
    pub direct: u64,
    /// No addresses, or a shape no rule explains (not counted).
    pub unattributed: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Window {
    pub start: String,
    pub end: String,
    pub start_unix: i64,
    pub end_unix: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Talker {
    pub rank: u64,
    pub internal_addr: String,
    /// `None` when the records do not show it (nat-ips rule).
    pub remote_addr: Option<String>,
    pub remote_aws_service: Option<String>,
    pub bytes_out: u64,
    pub bytes_in: u64,
    pub bytes_total: u64,
    pub share_pct: f64,
    /// What owns `internal_addr` (instance and Name tag, Lambda, ...), when attributed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The Availability Zone of `internal_addr`'s network interface, when attributed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub az: Option<String>,
    /// The name `internal_addr` asked for when its resolver answered `remote_addr`, when named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Source {
    pub rank: u64,
    pub internal_addr: String,
    pub bytes_out: u64,
    pub bytes_in: u64,
    pub bytes_total: u64,
    /// Distinct remotes this host talked to.
    pub conversations: u64,
    pub share_pct: f64,
    /// What owns `internal_addr`, when attributed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The Availability Zone of `internal_addr`'s network interface, when attributed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub az: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Destination {
    pub rank: u64,
    pub remote_addr: String,
    pub port: Option<u16>,
    /// IANA name (TCP, UDP, ICMP, ICMPv6) or the number.
    pub protocol: Option<String>,
    pub bytes_out: u64,
    pub bytes_in: u64,
    pub bytes_total: u64,
    pub share_pct: f64,
    /// The name some host of the VPC asked for when its resolver answered `remote_addr`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceUse {
    pub service: String,
    pub bytes_out: u64,
    pub bytes_in: u64,
    pub bytes_total: u64,
    pub endpoint: EndpointKind,
    pub nat_cost_usd: f64,
    /// Per-GB cost through the endpoint; `None` when no endpoint applies.
    pub endpoint_cost_usd: Option<f64>,
    pub saving_usd: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Minute {
    pub minute: String,
    pub minute_unix: i64,
    pub bytes_out: u64,
    pub bytes_in: u64,
    pub bytes_total: u64,
}
