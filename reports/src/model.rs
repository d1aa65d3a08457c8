//! The report as data: what every renderer shows and what `--json` serializes (snake_case keys,
//! byte counts as integers, addresses as text). Field order here is the JSON key order.

use serde::{Deserialize, Serialize};

pub use crate::coverage::Coverage;
use crate::legs::LegRule;
pub use crate::nat_metrics::NatMetrics;
use crate::prices::{EndpointKind, Prices};
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
        (self.bytes as f64 * crate::prices::HOURS_PER_MONTH / hours).round() as u64
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

/// A NAT gateway the report's traffic went through, as far as the VPC's routing shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NatSite {
    pub nat_gateway_id: String,
    pub vpc_id: Option<String>,
    /// A regional NAT gateway spans the VPC's AZs and serves each from that AZ.
    pub regional: bool,
    /// The AZ of a zonal NAT (one), or every AZ a regional NAT has addresses in.
    pub azs: Vec<String>,
    /// Route tables that send 0.0.0.0/0 to this NAT: where a gateway endpoint must be associated.
    pub route_table_ids: Vec<String>,
    /// One subnet per AZ among those routed to this NAT: where an interface endpoint goes.
    pub endpoint_subnet_ids: Vec<String>,
}

/// What the report says about its attribution.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttributionSummary {
    pub region: Option<String>,
    /// Internal hosts in the report that were looked up / that have an owner.
    pub hosts_looked_up: u64,
    pub hosts_named: u64,
    pub nats: Vec<NatSite>,
}

/// Traffic between hosts and a NAT gateway in another AZ.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CrossAz {
    /// The NAT's AZ.
    pub nat_az: String,
    pub nat_gateway_id: String,
    /// USD per GB, charged on the bytes in each direction.
    pub price_per_gb: f64,
    pub bytes_out: u64,
    pub bytes_in: u64,
    pub bytes_total: u64,
    pub cost_usd: f64,
    /// Bytes of hosts whose AZ is unknown (no owner found): they may cross too.
    pub bytes_unknown_az: u64,
    /// Every host in another AZ, by bytes_total desc, then address (text).
    pub hosts: Vec<CrossAzHost>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CrossAzHost {
    pub internal_addr: String,
    pub owner: Option<String>,
    pub az: String,
    pub bytes_out: u64,
    pub bytes_in: u64,
    pub bytes_total: u64,
    pub cost_usd: f64,
}

/// The endpoint commands of a report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RemediationPlan {
    /// Seconds of traffic the report covers (first to last record start, plus one minute);
    /// 0 when the input had no timestamps.
    pub window_seconds: u64,
    /// 730 hours divided by the window: what the window's figures are multiplied by.
    pub months_factor: f64,
    /// The sentence that says how the monthly figures were made.
    pub extrapolation: String,
    /// The NAT's 30-day volume (scaled to 730 hours) divided by the report's bytes: what the
    /// window's figures are multiplied by for the 30-day monthly figures; `None` unmeasured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub month_factor: Option<f64>,
    pub actions: Vec<Remediation>,
}

/// One service seen through the NAT, and what to do about it in one VPC.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Remediation {
    /// As `pkt-*-aws-service` names it (`S3`, `DYNAMODB`, `EC2`, ...).
    pub service: String,
    pub endpoint: EndpointKind,
    /// `com.amazonaws.<region>.<name>`; `None` when no endpoint applies or the name is unknown.
    pub endpoint_service_name: Option<String>,
    pub vpc_id: Option<String>,
    /// The AWS CLI command that creates the endpoint; `None` when there is nothing to create.
    pub command: Option<String>,
    pub bytes_total: u64,
    /// What the endpoint would have saved over the report's window.
    pub saving_usd: f64,
    /// `saving_usd` extrapolated to a month at the recorded rate; `None` without a window.
    pub monthly_saving_usd: Option<f64>,
    /// What the endpoint itself costs a month: 0 for a gateway endpoint, its hours in every AZ
    /// for an interface endpoint; `None` when the AZ count is unknown.
    pub monthly_endpoint_hours_usd: Option<f64>,
    /// `monthly_saving_usd - monthly_endpoint_hours_usd`, when both are known.
    pub monthly_net_usd: Option<f64>,
    /// The saving at the NAT's own last-30-days volume (the service's share of the recording
    /// applied to it); `None` when the 30 days were not measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monthly_saving_30d_usd: Option<f64>,
    /// `monthly_saving_30d_usd - monthly_endpoint_hours_usd`, when both are known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monthly_net_30d_usd: Option<f64>,
    /// What the command does and what it does not cover.
    pub advice: String,
}

/// What the report says about its remote names.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RemoteNames {
    /// Whether DNS query logs were read (else only AWS's ranges labelled remotes).
    pub dns_logs: bool,
    /// Answered queries the names came from.
    pub dns_queries: u64,
    /// Where the DNS answers came from, in words, when the caller knows (a recording's own
    /// query logging, or the VPC's existing one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_source: Option<String>,
    /// How old an answer could be, before the window, to name a remote.
    pub max_age_seconds: u32,
    /// `createDate` of the AWS ranges that labelled remotes without a name, when used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_ranges_date: Option<String>,
    /// Counted bytes of conversations whose remote got a name (from DNS or AWS's ranges), of
    /// those named by DNS, and of all conversations.
    pub bytes_named: u64,
    pub bytes_named_dns: u64,
    pub bytes_total: u64,
    pub named_pct: f64,
    /// Named bytes by the names' domain, by bytes_total desc, then domain.
    pub domains: Vec<RemoteDomain>,
    /// Set when only the talkers `--top` kept were named (the report was not built whole):
    /// the figures above cover those rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub among_top: Option<usize>,
}

/// The traffic of every named remote under one domain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RemoteDomain {
    pub rank: u64,
    pub domain: String,
    /// Under `amazonaws.com`: the service and region the names reach.
    pub service: Option<String>,
    pub region: Option<String>,
    /// `domain`, with the service and region when there are.
    pub label: String,
    /// Distinct names and remote addresses seen under it.
    pub names: u64,
    pub remotes: u64,
    pub bytes_out: u64,
    pub bytes_in: u64,
    pub bytes_total: u64,
    pub share_pct: f64,
}
