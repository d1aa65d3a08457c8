//! The sections that say what the traffic costs beyond NAT processing and what to change: the
//! cross-AZ traffic to the NAT, and per AWS service the endpoint command with its saving.
//! Shared by the terminal and Markdown renderers, which only lay them out differently.

use crate::model::CrossAz;
use crate::model::Remediation;
use crate::model::Report;
use crate::prices::EndpointKind;
use crate::render::text_table::{Align, TextTable};
use crate::units::{human_bytes, service_name, usd};

/// Title of the cross-AZ section.
pub(crate) fn cross_az_title(x: &CrossAz) -> String {
    format!("Cross-AZ traffic to {} ({})", x.nat_gateway_id, x.nat_az)
}

/// The sentences above the cross-AZ table.
pub(crate) fn cross_az_lines(x: &CrossAz) -> Vec<String> {
    let mut lines = vec![if x.hosts.is_empty() {
        format!(
            "No host with a known AZ reached the NAT from another AZ than {}.",
            x.nat_az
        )
    } else {
        format!(
            "{} host(s) in other AZs than the NAT's moved {} through it: {} of cross-AZ data transfer at ${}/GB in each direction, on top of NAT processing.",
            x.hosts.len(),
            human_bytes(x.bytes_total),
            usd(x.cost_usd),
            x.price_per_gb
        )
    }];
    if x.bytes_unknown_az > 0 {
        lines.push(format!(
            "{} came from hosts whose AZ is unknown (no network interface found): they may cross AZs too.",
            human_bytes(x.bytes_unknown_az)
        ));
    }
    lines
}

pub(crate) fn cross_az_table(x: &CrossAz) -> TextTable {
    let mut t = TextTable::new(&[
        ("Internal host", Align::Left),
        ("Owner", Align::Left),
        ("AZ", Align::Left),
        ("Out", Align::Right),
        ("In", Align::Right),
        ("Total", Align::Right),
        ("Cross-AZ cost", Align::Right),
    ]);
    for h in &x.hosts {
        t.row(vec![
            h.internal_addr.clone(),
            h.owner.clone().unwrap_or_else(|| "-".to_string()),
            h.az.clone(),
            human_bytes(h.bytes_out),
            human_bytes(h.bytes_in),
            human_bytes(h.bytes_total),
            usd(h.cost_usd),
        ]);
    }
    t
}

pub(crate) const REMEDIATION_TITLE: &str =
    "What to fix: VPC endpoints for the AWS services seen through the NAT";
/// Title of the endpoints that would cost more than they save (and of services no endpoint
/// serves): shown, but not as fixes.
pub(crate) const NOT_FIXES_TITLE: &str = "Not worth an endpoint at this rate, or no endpoint";

/// The titled groups of actions a report shows: the fixes, then the rest; empty groups left out.
pub(crate) fn action_groups(report: &Report) -> Vec<(&'static str, Vec<&Remediation>)> {
    let (worth, rest) = split_actions(report);
    [(REMEDIATION_TITLE, worth), (NOT_FIXES_TITLE, rest)]
        .into_iter()
        .filter(|(_, actions)| !actions.is_empty())
        .collect()
}

/// The report's actions as (fixes, the rest): an endpoint that would cost more a month than it
/// saves, and a service no endpoint serves, are not fixes.
pub(crate) fn split_actions(report: &Report) -> (Vec<&Remediation>, Vec<&Remediation>) {
    report
        .remediation
        .actions
        .iter()
        .partition(|a| a.command.is_some() && !is_net_loss(a))
}

/// An endpoint whose hours would cost more a month than it saves: at the NAT's 30-day volume
/// when measured, else at the recorded rate.
pub fn is_net_loss(a: &Remediation) -> bool {
    a.monthly_net_30d_usd
        .or(a.monthly_net_usd)
        .is_some_and(|net| net < 0.0)
}

/// One action as a heading line (service, endpoint, VPC, what it saves a month, with the
/// interface endpoint's hours netted out where its AZs are known).
pub fn action_heading(a: &Remediation) -> String {
    let vpc = a
        .vpc_id
        .as_deref()
        .map(|v| format!(" in {v}"))
        .unwrap_or_default();
    let kind = match a.endpoint {
        EndpointKind::None => {
            return format!(
                "{}: no endpoint ({} through the NAT)",
                service_name(&a.service),
                human_bytes(a.bytes_total)
            );
        }
        kind => kind,
    };
    let mut line = format!(
        "{}: {} endpoint{vpc} saves",
        service_name(&a.service),
        kind.as_str()
    );
    match (a.monthly_saving_30d_usd, a.monthly_saving_usd) {
        (Some(month), spike) => {
            line.push_str(&format!(
                " about {}/month at the NAT's last-30-days volume",
                usd(month)
            ));
            line.push_str(&hours_clause(
                a,
                kind,
                a.monthly_net_30d_usd,
                "at that volume",
            ));
            if let Some(spike) = spike {
                line.push_str(&format!(
                    "; {}/month if the recorded spike rate lasted a month",
                    usd(spike)
                ));
            }
        }
        (None, Some(spike)) => {
            line.push_str(&format!(
                " {} over the window, about {}/month at this rate",
                usd(a.saving_usd),
                usd(spike)
            ));
            line.push_str(&hours_clause(a, kind, a.monthly_net_usd, "at this rate"));
        }
        (None, None) => line.push_str(&format!(" {} over the window", usd(a.saving_usd))),
    }
    line
}

/// What the endpoint's own hours do to a monthly saving.
fn hours_clause(a: &Remediation, kind: EndpointKind, net: Option<f64>, basis: &str) -> String {
    match (a.monthly_endpoint_hours_usd, net) {
        (Some(hours), Some(net)) if hours > 0.0 && net >= 0.0 => format!(
            " (minus {}/month of endpoint hours: {} net)",
            usd(hours),
            usd(net)
        ),
        (Some(hours), Some(net)) if hours > 0.0 => format!(
            " (but its hours cost {}/month: a net loss of {}/month {basis})",
            usd(hours),
            usd(-net)
        ),
        (None, _) if kind == EndpointKind::Interface => {
            " (before the endpoint's hourly charge)".to_string()
        }
        _ => String::new(),
    }
}

/// The headline a month can be defended by: the NAT's last 30 days, its monthly NAT cost, and
/// what the endpoints worth creating would save of it; `None` when unmeasured.
pub fn month_headline(report: &Report) -> Option<String> {
    let m = report.month.as_ref()?;
    let mut line = format!(
        "Last 30 days: {} through the NAT ({} to {}), NAT processing about {}/month",
        human_bytes(m.bytes),
        m.start,
        m.end,
        usd(m.monthly_nat_cost_usd)
    );
    if let Some(saving) = report.monthly_saving_30d().filter(|s| *s > 0.0) {
        line.push_str(&format!(
            "; the endpoints below would save about {}/month of it",
            usd(saving)
        ));
    }
    Some(line)
}

/// `this recording cost $0.41 in CloudWatch Logs ingestion (820.00 MB); the fixes it found save
/// $1,180.00/month`: what finding out cost beside what it found. `None` when not measured.
pub fn cost_versus_savings(report: &Report) -> Option<String> {
    let cost = report.recording_cost.as_ref()?;
    let mut line = format!(
        "this recording cost {} in CloudWatch Logs ingestion ({})",
        usd(cost.cost_usd),
        human_bytes(cost.ingested_bytes)
    );
    match report.monthly_saving() {
        Some(saving) => line.push_str(&format!("; the fixes it found save {}/month", usd(saving))),
        None => line.push_str("; it found no fix that saves money"),
    }
    Some(line)
}

/// The closing line: how the monthly figures were made.
pub(crate) fn extrapolation_line(report: &Report) -> String {
    let r = &report.remediation;
    let mut line = match &report.month {
        Some(m) => format!(
            "Note: the 30-day figures apply each service's share of this recording to the {} the NAT processed from {} to {} (CloudWatch daily sums, scaled to 730 hours); the spike figures: {}.",
            human_bytes(m.bytes),
            m.start,
            m.end,
            r.extrapolation
        ),
        None => format!("Note: {}.", r.extrapolation),
    };
    if r.actions
        .iter()
        .any(|a| a.vpc_id.is_none() && a.command.is_some())
    {
        line.push_str(" Replace the <...> placeholders (nat-flowrec fills them in when it can ask AWS: `report --enrich`).");
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action(endpoint: EndpointKind, monthly: Option<f64>, hours: Option<f64>) -> Remediation {
        Remediation {
            service: "EC2".into(),
            endpoint,
            endpoint_service_name: Some("com.amazonaws.us-east-1.ec2".into()),
            vpc_id: Some("vpc-1".into()),
            command: Some("aws ec2 create-vpc-endpoint".into()),
            bytes_total: 2_000_000_000,
            saving_usd: 0.07,
            monthly_saving_usd: monthly,
            monthly_endpoint_hours_usd: hours,
            monthly_net_usd: match (monthly, hours) {
                (Some(m), Some(h)) => Some(m - h),
                _ => None,
            },
            monthly_saving_30d_usd: None,
            monthly_net_30d_usd: None,
            advice: String::new(),
        }
    }

    #[test]
    fn an_interface_endpoint_heading_nets_out_its_hours_when_known() {
        let known = action_heading(&action(EndpointKind::Interface, Some(100.0), Some(14.6)));
        assert!(known.contains("about $100.00/month"), "{known}");
        assert!(
            known.contains("minus $14.60/month of endpoint hours: $85.40 net"),
            "{known}"
        );
        let loss = action_heading(&action(EndpointKind::Interface, Some(1.0), Some(14.6)));
        assert!(
            loss.ends_with("a net loss of $13.60/month at this rate)"),
            "{loss}"
        );
        let unknown = action_heading(&action(EndpointKind::Interface, Some(100.0), None));
        assert!(
            unknown.ends_with("(before the endpoint's hourly charge)"),
            "{unknown}"
        );
        let none = action_heading(&action(EndpointKind::None, None, None));
        assert!(none.starts_with("EC2: no endpoint"), "{none}");
    }
}
