//! The sections that say what the traffic costs beyond NAT processing and what to change: the
//! cross-AZ traffic to the NAT, and per AWS service the endpoint command with its saving.
//! Shared by the terminal and Markdown renderers, which only lay them out differently.

use crate::attribution::CrossAz;
use crate::model::Report;
use crate::prices::EndpointKind;
use crate::remediation::Remediation;
use crate::render::text_table::{Align, TextTable};
use crate::units::{human_bytes, usd};

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

/// One action as a heading line (service, endpoint, VPC, what it saves).
pub(crate) fn action_heading(a: &Remediation) -> String {
    let vpc = a
        .vpc_id
        .as_deref()
        .map(|v| format!(" in {v}"))
        .unwrap_or_default();
    match a.endpoint {
        EndpointKind::None => format!(
            "{}: no endpoint ({} through the NAT)",
            a.service,
            human_bytes(a.bytes_total)
        ),
        kind => {
            let mut line = format!(
                "{}: {} endpoint{vpc} saves {} over the window",
                a.service,
                kind.as_str(),
                usd(a.saving_usd)
            );
            if let Some(monthly) = a.monthly_saving_usd {
                line.push_str(&format!(", about {}/month at this rate", usd(monthly)));
                match (a.monthly_endpoint_hours_usd, a.monthly_net_usd) {
                    (Some(hours), Some(net)) if hours > 0.0 && net >= 0.0 => {
                        line.push_str(&format!(
                            " (minus {}/month of endpoint hours: {} net)",
                            usd(hours),
                            usd(net)
                        ))
                    }
                    (Some(hours), Some(net)) if hours > 0.0 => line.push_str(&format!(
                        " (but its hours cost {}/month: a net loss of {}/month at this rate)",
                        usd(hours),
                        usd(-net)
                    )),
                    (None, _) if kind == EndpointKind::Interface => {
                        line.push_str(" (before the endpoint's hourly charge)")
                    }
                    _ => {}
                }
            }
            line
        }
    }
}

/// The closing line: how the monthly figures were made.
pub(crate) fn extrapolation_line(report: &Report) -> String {
    let r = &report.remediation;
    let mut line = format!("Note: {}.", r.extrapolation);
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
