//! A plain-text summary for a notification e-mail (SNS): the totals, the top talkers, the AWS
//! services that went through the NAT with what an endpoint would save, and what was skipped.
//! Short by construction (at most 40 lines, under 8 KB) so it fits any mail client and sits
//! far below SNS's message limit.

use crate::model::Report;
use crate::units::{grouped, human_bytes, usd};

/// Most lines the summary has.
pub const EMAIL_MAX_LINES: usize = 40;
/// The summary stays below this many bytes.
pub const EMAIL_MAX_BYTES: usize = 8 * 1024;
/// Longest line (characters); longer lines are cut with an ellipsis.
const MAX_LINE_CHARS: usize = 160;
const TOP_TALKERS: usize = 8;
const TOP_SERVICES: usize = 6;
const MAX_WARNINGS: usize = 4;

/// The e-mail body.
pub fn email_summary(report: &Report) -> String {
    let s = &report.summary;
    let mut lines: Vec<String> = Vec::new();
    lines.push(format!(
        "Through the NAT: {} (out {}, in {}); NAT processing {} at ${}/GB ({}).",
        human_bytes(s.bytes_total),
        human_bytes(s.bytes_out),
        human_bytes(s.bytes_in),
        usd(s.nat_cost_usd),
        s.prices.nat_per_gb,
        s.prices.region
    ));
    if let Some(w) = &s.window {
        lines.push(format!("Window: {} to {} (UTC).", w.start, w.end));
    }
    lines.push(format!(
        "Records: {} read, {} malformed, {} NODATA, {} SKIPDATA, {} REJECT; files: {} read, {} failed.",
        grouped(s.records_read),
        grouped(s.malformed_lines),
        grouped(s.log_status.nodata),
        grouped(s.log_status.skipdata),
        grouped(s.reject_records),
        grouped(s.files_read),
        grouped(s.files_failed.len() as u64)
    ));
    lines.push(format!("Leg rule: {}.", s.leg_rule.as_str()));
    if let Some(coverage) = &report.coverage {
        lines.extend(coverage.lines());
    }

    lines.push(String::new());
    lines.push("Top talkers (internal -> remote):".to_string());
    if report.talkers.is_empty() {
        lines.push("  none".to_string());
    }
    for t in report.talkers.iter().take(TOP_TALKERS) {
        let service = t
            .remote_aws_service
            .as_ref()
            .map(|s| format!(" [{s}]"))
            .unwrap_or_default();
        // The owner, when attributed, is what the reader recognises.
        let owner = t
            .owner
            .as_ref()
            .map(|o| format!(" ({o})"))
            .unwrap_or_default();
        lines.push(format!(
            "  {}. {}{} -> {}{}: out {}, in {} ({:.2}%)",
            t.rank,
            t.internal_addr,
            owner,
            t.remote_addr.as_deref().unwrap_or("(unknown)"),
            service,
            human_bytes(t.bytes_out),
            human_bytes(t.bytes_in),
            t.share_pct
        ));
    }

    if let Some(x) = report.cross_az.as_ref().filter(|x| x.bytes_total > 0) {
        lines.push(format!(
            "Cross-AZ: {} from {} host(s) outside {} (the NAT's AZ) cost {} of data transfer on top.",
            human_bytes(x.bytes_total),
            x.hosts.len(),
            x.nat_az,
            usd(x.cost_usd)
        ));
    }

    lines.push(String::new());
    lines.push("AWS services via the NAT:".to_string());
    if report.services.is_empty() {
        lines.push("  none seen".to_string());
    }
    for svc in report.services.iter().take(TOP_SERVICES) {
        let advice = match svc.endpoint {
            crate::prices::EndpointKind::None => "too broad for one endpoint".to_string(),
            crate::prices::EndpointKind::Gateway => {
                format!("a gateway endpoint saves {}", usd(svc.saving_usd))
            }
            crate::prices::EndpointKind::Interface => {
                format!("an interface endpoint saves {}", usd(svc.saving_usd))
            }
        };
        lines.push(format!(
            "  {}: {}, NAT {}; {}",
            svc.service,
            human_bytes(svc.bytes_total),
            usd(svc.nat_cost_usd),
            advice
        ));
    }
    if report.services.len() > TOP_SERVICES {
        lines.push(format!(
            "  ... and {} more",
            report.services.len() - TOP_SERVICES
        ));
    }

    if !s.warnings.is_empty() {
        lines.push(String::new());
        lines.push("Warnings:".to_string());
        for w in s.warnings.iter().take(MAX_WARNINGS) {
            lines.push(format!("  - {w}"));
        }
        if s.warnings.len() > MAX_WARNINGS {
            lines.push(format!(
                "  ... and {} more",
                s.warnings.len() - MAX_WARNINGS
            ));
        }
    }
    lines.push(String::new());
    lines.push(
        "1 GB = 10^9 bytes. Interface-endpoint savings exclude the endpoint's hourly charge."
            .to_string(),
    );
    fit(lines)
}

/// Cuts long lines, keeps at most `EMAIL_MAX_LINES` lines and stays under `EMAIL_MAX_BYTES`.
fn fit(lines: Vec<String>) -> String {
    let mut out = String::new();
    for line in lines.into_iter().take(EMAIL_MAX_LINES) {
        let line = if line.chars().count() > MAX_LINE_CHARS {
            let mut cut: String = line.chars().take(MAX_LINE_CHARS - 3).collect();
            cut.push_str("...");
            cut
        } else {
            line
        };
        if out.len() + line.len() + 1 >= EMAIL_MAX_BYTES {
            break;
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_cuts_lines_count_and_width() {
        let lines: Vec<String> = (0..100)
            .map(|i| format!("{i} {}", "é".repeat(500)))
            .collect();
        let text = fit(lines);
        assert!(text.lines().count() <= EMAIL_MAX_LINES);
        assert!(text.len() < EMAIL_MAX_BYTES);
        assert!(text.lines().all(|l| l.chars().count() <= MAX_LINE_CHARS));
    }
}
