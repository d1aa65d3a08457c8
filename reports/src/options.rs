//! What a report is asked for: the settings the CLI (or a later Lambda handler) resolved from
//! the user's flags and config.

use std::net::IpAddr;

use nat_flowrec_parsers::LogFormat;

use crate::prices::Prices;

/// The rows a table shows by default.
pub const DEFAULT_TOP: usize = 20;

#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Format of files that do not name their own (a header line or an export file's format wins).
    pub default_format: LogFormat,
    /// The NAT gateway's private addresses, to find the VPC side where the format has no
    /// `pkt-*` fields (an export file's own `#nat-ip` lines add to these for that file).
    pub nat_ips: Vec<IpAddr>,
    /// Rows of the talkers, sources and destinations tables; 0 = all.
    pub top: usize,
    /// The first malformed line is an error instead of being counted.
    pub strict: bool,
    pub prices: Prices,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            default_format: LogFormat::default(),
            nat_ips: Vec::new(),
            top: DEFAULT_TOP,
            strict: false,
            prices: Prices::default(),
        }
    }
}
