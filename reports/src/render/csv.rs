//! CSV renderings: the talkers table for `--csv` (a contract: header and order are fixed), and
//! every other table for `--out DIR`. Values are exact (integers in bytes, shares with two
//! decimals, money in USD); an absent value is an empty cell.

use std::io::Write;

use crate::error::ReportError;
use crate::model::Report;

/// The `--csv` header, exactly. `owner`, `az` and `remote_name` are appended after the first
/// eight so a consumer that reads those by position keeps working; they are empty when the
/// report was not attributed, or its remotes not named.
pub const TALKERS_HEADER: [&str; 11] = [
    "rank",
    "internal_addr",
    "remote_addr",
    "remote_aws_service",
    "bytes_out",
    "bytes_in",
    "bytes_total",
    "share_pct",
    "owner",
    "az",
    "remote_name",
];

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(T::to_string).unwrap_or_default()
}

fn share(v: f64) -> String {
    format!("{v:.2}")
}

/// The talkers table, as `--csv` prints it.
pub fn talkers_csv(report: &Report, w: impl Write) -> Result<(), ReportError> {
    write_table(
        w,
        TALKERS_HEADER,
        report.talkers.iter().map(|r| {
            [
                r.rank.to_string(),
                r.internal_addr.clone(),
                opt(&r.remote_addr),
                opt(&r.remote_aws_service),
                r.bytes_out.to_string(),
                r.bytes_in.to_string(),
                r.bytes_total.to_string(),
                share(r.share_pct),
                opt(&r.owner),
                opt(&r.az),
                opt(&r.remote_name),
            ]
        }),
    )
}

pub fn sources_csv(report: &Report, w: impl Write) -> Result<(), ReportError> {
    write_table(
        w,
        [
            "rank",
            "internal_addr",
            "bytes_out",
            "bytes_in",
            "bytes_total",
            "conversations",
            "share_pct",
            "owner",
            "az",
        ],
        report.sources.iter().map(|r| {
            [
                r.rank.to_string(),
                r.internal_addr.clone(),
                r.bytes_out.to_string(),
                r.bytes_in.to_string(),
                r.bytes_total.to_string(),
                r.conversations.to_string(),
                share(r.share_pct),
                opt(&r.owner),
                opt(&r.az),
            ]
        }),
    )
}

pub fn destinations_csv(report: &Report, w: impl Write) -> Result<(), ReportError> {
    write_table(
        w,
        [
            "rank",
            "remote_addr",
            "port",
            "protocol",
            "bytes_out",
            "bytes_in",
            "bytes_total",
            "share_pct",
            "remote_name",
        ],
        report.destinations.iter().map(|r| {
            [
                r.rank.to_string(),
                r.remote_addr.clone(),
                opt(&r.port),
                opt(&r.protocol),
                r.bytes_out.to_string(),
                r.bytes_in.to_string(),
                r.bytes_total.to_string(),
                share(r.share_pct),
                opt(&r.remote_name),
            ]
        }),
    )
}

pub fn services_csv(report: &Report, w: impl Write) -> Result<(), ReportError> {
    write_table(
        w,
        [
            "service",
            "bytes_out",
            "bytes_in",
            "bytes_total",
            "endpoint",
            "nat_cost_usd",
            "endpoint_cost_usd",
            "saving_usd",
        ],
        report.services.iter().map(|r| {
            [
                r.service.clone(),
                r.bytes_out.to_string(),
                r.bytes_in.to_string(),
                r.bytes_total.to_string(),
                r.endpoint.as_str().to_string(),
                r.nat_cost_usd.to_string(),
                opt(&r.endpoint_cost_usd),
                r.saving_usd.to_string(),
            ]
        }),
    )
}

pub fn timeline_csv(report: &Report, w: impl Write) -> Result<(), ReportError> {
    write_table(
        w,
        [
            "minute",
            "minute_unix",
            "bytes_out",
            "bytes_in",
            "bytes_total",
        ],
        report.timeline.iter().map(|r| {
            [
                r.minute.clone(),
                r.minute_unix.to_string(),
                r.bytes_out.to_string(),
                r.bytes_in.to_string(),
                r.bytes_total.to_string(),
            ]
        }),
    )
}

/// Writes `header`, then one record per row.
fn write_table<const N: usize>(
    w: impl Write,
    header: [&str; N],
    rows: impl Iterator<Item = [String; N]>,
) -> Result<(), ReportError> {
    let mut csv = csv::Writer::from_writer(w);
    csv.write_record(header)?;
    for row in rows {
        csv.write_record(row)?;
    }
    csv.flush().map_err(csv::Error::from)?;
    Ok(())
}

/// The summary as `key,value` rows; lists (warnings, failures, examples) repeat their key.
pub fn summary_csv(report: &Report, w: impl Write) -> Result<(), ReportError> {
    let s = &report.summary;
    let mut csv = csv::Writer::from_writer(w);
    csv.write_record(["key", "value"])?;
    let mut put = |k: &str, v: String| csv.write_record([k, v.as_str()]);
    put("schema_version", report.schema_version.to_string())?;
    put("files_read", s.files_read.to_string())?;
    put("files_failed", s.files_failed.len().to_string())?;
    put("records_read", s.records_read.to_string())?;
    put("log_status_ok", s.log_status.ok.to_string())?;
    put("log_status_nodata", s.log_status.nodata.to_string())?;
    put("log_status_skipdata", s.log_status.skipdata.to_string())?;
    put(
        "log_status_not_in_format",
        s.log_status.not_in_format.to_string(),
    )?;
    put("malformed_lines", s.malformed_lines.to_string())?;
    put("reject_records", s.reject_records.to_string())?;
    put("reject_bytes", s.reject_bytes.to_string())?;
    let l = &s.records_by_leg;
    put("records_vpc_outbound", l.vpc_outbound.to_string())?;
    put("records_vpc_reply", l.vpc_reply.to_string())?;
    put("records_internet", l.internet.to_string())?;
    put("records_direct", l.direct.to_string())?;
    put("records_unattributed", l.unattributed.to_string())?;
    put(
        "window_start",
        s.window
            .as_ref()
            .map(|w| w.start.clone())
            .unwrap_or_default(),
    )?;
    put(
        "window_end",
        s.window.as_ref().map(|w| w.end.clone()).unwrap_or_default(),
    )?;
    put("bytes_out", s.bytes_out.to_string())?;
    put("bytes_in", s.bytes_in.to_string())?;
    put("bytes_total", s.bytes_total.to_string())?;
    put("bytes_all_records", s.bytes_all_records.to_string())?;
    put("conversations", s.conversations.to_string())?;
    put("nat_cost_usd", s.nat_cost_usd.to_string())?;
    put("endpoint_saving_usd", s.endpoint_saving_usd.to_string())?;
    put("leg_rule", s.leg_rule.as_str().to_string())?;
    put("gb", s.gb.clone())?;
    put("price_region", s.prices.region.clone())?;
    put("nat_price_per_gb", s.prices.nat_per_gb.to_string())?;
    put(
        "interface_endpoint_price_per_gb",
        s.prices.interface_endpoint_per_gb.to_string(),
    )?;
    put(
        "interface_endpoint_price_per_az_hour",
        s.prices.interface_endpoint_per_az_hour.to_string(),
    )?;
    if let Some(names) = &report.remote_names {
        put("remote_bytes_named", names.bytes_named.to_string())?;
        put("remote_named_pct", share(names.named_pct))?;
        for d in &names.domains {
            put("remote_domain", format!("{}: {}", d.label, d.bytes_total))?;
        }
    }
    for f in &s.files_failed {
        put("file_failed", format!("{}: {}", f.file, f.error))?;
    }
    for m in &s.malformed_examples {
        put("malformed_example", format!("{}: {}", m.file, m.error))?;
    }
    for w in &s.warnings {
        put("warning", w.clone())?;
    }
    for n in &s.notes {
        put("note", n.clone())?;
    }
    csv.flush().map_err(csv::Error::from)?;
    Ok(())
}
