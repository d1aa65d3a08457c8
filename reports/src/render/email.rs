//! A plain-text summary for a notification e-mail (SNS): the totals, a sparkline of the NAT's
//! bytes a minute around the recording, the top talkers with their
//! owners, the AWS services that went through the NAT, and what to fix: per endpoint its saving
//! and the whole `aws ec2 create-vpc-endpoint` command. Lines are never cut (a command cut
//! mid-word cannot be pasted) nor wrapped; the tables are short by construction, and the whole
//! summary stays under 32 KB, far below SNS's message limit.

use crate::model::Report;
use crate::render::charts::hh_mm;
use crate::render::fixes;
use crate::render::sparkline::sparkline;
use crate::units::{grouped, human_bytes, service_name, usd};

/// The summary stays below this many bytes.
pub const EMAIL_MAX_BYTES: usize = 32 * 1024;
/// Room kept for the line that says what was left out.
const OMITTED_NOTE_BYTES: usize = 128;
const TOP_TALKERS: usize = 8;
const TOP_SERVICES: usize = 6;
const TOP_DOMAINS: usize = 5;
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
    if let Some(month) = fixes::month_headline(report) {
        lines.push(format!("{month}."));
    }
    if let Some(cost) = fixes::cost_versus_savings(report) {
        lines.push(format!("{}{}.", cost[..1].to_uppercase(), &cost[1..]));
    }
    if let Some(w) = &s.window {
        lines.push(format!("Window: {} to {} (UTC).", w.start, w.end));
    }
    if let Some(m) = &report.nat_metrics {
        let glance = sparkline(&m.compared(), m.threshold.map(|t| t.bytes_per_minute));
        if !glance.is_empty() {
            lines.push(format!(
                "NAT bytes a minute, {} to {} UTC: {glance}",
                hh_mm(m.start_unix),
                hh_mm(m.end_unix)
            ));
        }
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
            .map(|s| format!(" [{}]", service_name(s)))
            .unwrap_or_default();
        // The owner, when attributed, is what the reader recognises.
        let owner = t
            .owner
            .as_ref()
            .map(|o| format!(" ({o})"))
            .unwrap_or_default();
        // The remote's name, when known, is what the reader recognises; the address follows.
        let address = t.remote_addr.as_deref().unwrap_or("(unknown)");
        let remote = match &t.remote_name {
            Some(name) => format!("{name} ({address})"),
            None => address.to_string(),
        };
        lines.push(format!(
            "  {}. {}{} -> {}{}: out {}, in {} ({:.2}%)",
            t.rank,
            t.internal_addr,
            owner,
            remote,
            service,
            human_bytes(t.bytes_out),
            human_bytes(t.bytes_in),
            t.share_pct
        ));
    }

    if let Some(names) = &report.remote_names {
        lines.push(String::new());
        lines.push(format!(
            "Remote names: {} of {} went to named remotes ({:.2}%), by domain:",
            human_bytes(names.bytes_named),
            human_bytes(names.bytes_total),
            names.named_pct
        ));
        if let Some(source) = &names.dns_source {
            lines.push(format!("  ({source})"));
        }
        for d in names.domains.iter().take(TOP_DOMAINS) {
            lines.push(format!(
                "  {}: {} ({:.2}%)",
                d.label,
                human_bytes(d.bytes_total),
                d.share_pct
            ));
        }
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
        lines.push(format!(
            "  {}: {}, NAT processing {}",
            service_name(&svc.service),
            human_bytes(svc.bytes_total),
            usd(svc.nat_cost_usd)
        ));
    }
    if report.services.len() > TOP_SERVICES {
        lines.push(format!(
            "  ... and {} more (see services.csv)",
            report.services.len() - TOP_SERVICES
        ));
    }
    lines.extend(fix_lines(report));

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
    lines.push(format!("{}.", crate::units::UNITS_NOTE));
    fit(lines)
}

/// "What to fix": every endpoint that pays for itself, with its saving (the interface
/// endpoint's hours netted out where the AZs are known) and the command that creates it, whole;
/// then the endpoints that would cost more than they save, and the services no endpoint serves.
fn fix_lines(report: &Report) -> Vec<String> {
    let actions = &report.remediation.actions;
    let (worth, rest) = fixes::split_actions(report);
    let (loss, none): (Vec<_>, Vec<_>) = rest.into_iter().partition(|a| a.command.is_some());
    let mut lines = vec![String::new()];
    if worth.is_empty() {
        lines.push("What to fix: no VPC endpoint would pay for itself at this rate.".to_string());
    } else {
        lines.push("What to fix:".to_string());
        for (i, a) in worth.iter().enumerate() {
            lines.push(format!("  {}. {}", i + 1, fixes::action_heading(a)));
            if let Some(command) = &a.command {
                lines.push(format!("     {command}"));
            }
        }
    }
    if !loss.is_empty() {
        lines.push("Not worth an endpoint at this rate:".to_string());
        for a in &loss {
            lines.push(format!("  - {}", fixes::action_heading(a)));
        }
    }
    let none: Vec<&str> = none.iter().map(|a| service_name(&a.service)).collect();
    if !none.is_empty() {
        lines.push(format!(
            "No VPC endpoint carries: {} (see the report's services section).",
            none.join(", ")
        ));
    }
    if !actions.is_empty() {
        lines.push(fixes::extrapolation_line(report));
    }
    lines
}

/// Keeps whole lines (never cut inside one) while the summary stays under `EMAIL_MAX_BYTES`;
/// what does not fit is named, not dropped silently.
fn fit(lines: Vec<String>) -> String {
    let mut out = String::new();
    let total = lines.len();
    for (i, line) in lines.into_iter().enumerate() {
        if out.len() + line.len() + 1 >= EMAIL_MAX_BYTES - OMITTED_NOTE_BYTES {
            out.push_str(&format!(
                "... {} more line(s) left out to keep this message short: the report files have everything.\n",
                total - i
            ));
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
    use crate::{PriceOverrides, Prices, ReportOptions, build_report};

    #[test]
    fn the_nats_minutes_are_a_sparkline_against_the_threshold() {
        let path = std::path::PathBuf::from("../fixtures/reports/nat-four-legs.log");
        let mut report = build_report(&[path], &ReportOptions::default()).unwrap();
        assert!(!email_summary(&report).contains("NAT bytes a minute"));
        report.nat_metrics = Some(crate::nat_metrics::tests::sample());
        let text = email_summary(&report);
        assert!(
            text.contains("NAT bytes a minute, 10:00 to 10:10 UTC: ▁▂▂▃██▄▅▅▆ (threshold ▆)"),
            "{text}"
        );
    }

    #[test]
    fn a_region_without_prices_is_a_warning_in_the_email() {
        let opts = ReportOptions {
            prices: Prices::resolve(Some("ap-east-1"), &PriceOverrides::default()).unwrap(),
            ..ReportOptions::default()
        };
        let path = std::path::PathBuf::from("../fixtures/reports/nat-four-legs.log");
        let report = build_report(&[path], &opts).unwrap();
        let text = email_summary(&report);
        assert!(
            text.contains(
                "prices for ap-east-1 unknown: using us-east-1's; set report.nat_price_per_gb"
            ),
            "{text}"
        );
    }

    #[test]
    fn fit_keeps_whole_lines_and_names_what_it_left_out() {
        let lines: Vec<String> = (0..100)
            .map(|i| format!("{i} {}", "é".repeat(500)))
            .collect();
        let text = fit(lines);
        assert!(text.len() < EMAIL_MAX_BYTES);
        assert!(
            text.lines()
                .take_while(|l| !l.starts_with("..."))
                .all(|l| l.chars().count() > 500)
        );
        assert!(
            text.lines()
                .last()
                .unwrap()
                .contains("more line(s) left out"),
            "{text}"
        );
    }
}
