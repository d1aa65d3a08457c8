//! What to create so the AWS-service traffic seen through the NAT stops paying NAT processing: per
//! service (and per VPC, when the binary found the NAT's VPC), the AWS CLI command that creates
//! the VPC endpoint, with what it would save at the recorded rate over a month.
//!
//! Two monthly figures: the spike extrapolation (the report's window stretched linearly to 730
//! hours: what a month *at the recorded rate* would cost, which overstates a normal month since
//! recordings are made during spikes), and, when the NAT's last 30 days were measured
//! (`NatMonth`), the service's share of the recording applied to the NAT's own 30-day volume:
//! the figure to defend, shown first. Without an [`Attribution`] (no AWS at report time) the
//! commands carry placeholders (`<vpc-id>`, ...) for the user to fill in.

use std::collections::BTreeMap;

use crate::model::{NatMonth, NatSite, Remediation, RemediationPlan, Report};
use crate::prices::{EndpointKind, HOURS_PER_MONTH, round_money};

/// The last record of a window covers its own aggregation interval (60 s for nat-flowrec's
/// recordings), which `window.end` (the last record's start) leaves out.
const LAST_INTERVAL_SECONDS: i64 = 60;

impl Report {
    /// Adds the NAT's last 30 days: its monthly NAT cost, and per endpoint the saving at that
    /// volume (the service's share of this report applied to it) beside the spike extrapolation.
    pub fn set_month(&mut self, mut month: NatMonth) {
        month.monthly_bytes = month.monthly_bytes();
        month.monthly_nat_cost_usd = round_money(self.summary.prices.nat_cost(month.monthly_bytes));
        self.month = Some(month);
        self.remediation = plan(self);
    }

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
                Some(round_money(sum))
            })
            .filter(|v| *v > 0.0)
    }

    /// What the endpoints worth creating would save a month at the NAT's 30-day volume.
    pub fn monthly_saving_30d(&self) -> Option<f64> {
        self.month.as_ref()?;
        Some(round_money(
            self.remediation
                .actions
                .iter()
                .filter_map(|a| a.monthly_net_30d_usd.or(a.monthly_saving_30d_usd))
                .filter(|v| *v > 0.0)
                .sum(),
        ))
    }
}

/// The VPC an endpoint goes into, with its route tables and one subnet per AZ.
#[derive(Debug, Default)]
struct Target {
    vpc_id: Option<String>,
    route_table_ids: Vec<String>,
    subnet_ids: Vec<String>,
}

/// The endpoint commands for `report`'s services; its attribution (when AWS was asked)
/// supplies the region, VPCs, route tables and subnets, else the commands carry placeholders.
pub(crate) fn plan(report: &Report) -> RemediationPlan {
    let s = &report.summary;
    let attribution = report.attribution.as_ref();
    let region = attribution
        .and_then(|a| a.region.clone())
        .unwrap_or_else(|| s.prices.region.clone());
    let month_factor = report.month.as_ref().and_then(|m| m.factor(s.bytes_total));
    let window_seconds = s.window.as_ref().map_or(0, |w| {
        (w.end_unix - w.start_unix).max(0) + LAST_INTERVAL_SECONDS
    });
    let months_factor = if window_seconds > 0 {
        HOURS_PER_MONTH * 3600.0 / window_seconds as f64
    } else {
        0.0
    };
    let extrapolation = if window_seconds > 0 {
        format!(
            "monthly figures are extrapolated from the {} recording window to {HOURS_PER_MONTH} hours at the recorded rate (x{:.1}); a recording made during a spike overstates a normal month",
            duration(window_seconds),
            months_factor
        )
    } else {
        "the input has no timestamps, so no monthly figures".to_string()
    };
    let targets = targets(attribution.map(|a| a.nats.as_slice()).unwrap_or(&[]));
    let mut actions = Vec::new();
    for svc in &report.services {
        for target in &targets {
            actions.push(action(
                svc.service.as_str(),
                svc.endpoint,
                svc.bytes_total,
                svc.saving_usd,
                target,
                &region,
                report,
                window_seconds > 0,
                months_factor,
                month_factor,
            ));
        }
    }
    RemediationPlan {
        window_seconds: u64::try_from(window_seconds).unwrap_or(0),
        months_factor: (months_factor * 1000.0).round() / 1000.0,
        extrapolation,
        month_factor: month_factor.map(|f| (f * 1000.0).round() / 1000.0),
        actions,
    }
}

/// One target per VPC the NATs sit in (route tables and subnets of its NATs together), or one
/// placeholder target when no VPC is known.
fn targets(nats: &[NatSite]) -> Vec<Target> {
    let mut by_vpc: BTreeMap<Option<String>, Target> = BTreeMap::new();
    for nat in nats {
        let t = by_vpc.entry(nat.vpc_id.clone()).or_default();
        t.vpc_id = nat.vpc_id.clone();
        for rtb in &nat.route_table_ids {
            if !t.route_table_ids.contains(rtb) {
                t.route_table_ids.push(rtb.clone());
            }
        }
        for subnet in &nat.endpoint_subnet_ids {
            if !t.subnet_ids.contains(subnet) {
                t.subnet_ids.push(subnet.clone());
            }
        }
    }
    if by_vpc.is_empty() {
        return vec![Target::default()];
    }
    by_vpc.into_values().collect()
}

#[allow(clippy::too_many_arguments)]
fn action(
    service: &str,
    endpoint: EndpointKind,
    bytes_total: u64,
    saving_usd: f64,
    target: &Target,
    region: &str,
    report: &Report,
    has_window: bool,
    months_factor: f64,
    month_factor: Option<f64>,
) -> Remediation {
    let p = &report.summary.prices;
    let name =
        endpoint_service_suffix(service).map(|suffix| format!("com.amazonaws.{region}.{suffix}"));
    let vpc = target.vpc_id.as_deref().unwrap_or("<vpc-id>");
    let (command, advice, hours) = match (endpoint, &name) {
        (EndpointKind::None, _) => (None, no_endpoint_advice(service), None),
        (EndpointKind::Gateway, Some(name)) => {
            let tables = if target.route_table_ids.is_empty() {
                "<route-table-id> ...".to_string()
            } else {
                target.route_table_ids.join(" ")
            };
            let what = if service == "S3" { "buckets" } else { "tables" };
            (
                Some(format!(
                    "aws ec2 create-vpc-endpoint --region {region} --vpc-id {vpc} --vpc-endpoint-type Gateway --service-name {name} --route-table-ids {tables}"
                )),
                format!(
                    "a gateway endpoint is free and carries traffic to {what} in {region} only (other regions still go through the NAT); associate it with every route table that sends 0.0.0.0/0 to the NAT"
                ),
                Some(0.0),
            )
        }
        (EndpointKind::Interface, Some(name)) => {
            let subnets = if target.subnet_ids.is_empty() {
                "<subnet-id-per-az> ...".to_string()
            } else {
                target.subnet_ids.join(" ")
            };
            let hours = (!target.subnet_ids.is_empty()).then_some(
                target.subnet_ids.len() as f64 * p.interface_endpoint_per_az_hour * HOURS_PER_MONTH,
            );
            (
                Some(format!(
                    "aws ec2 create-vpc-endpoint --region {region} --vpc-id {vpc} --vpc-endpoint-type Interface --service-name {name} --subnet-ids {subnets} --private-dns-enabled"
                )),
                format!(
                    "an interface endpoint costs ${}/GB plus ${} per AZ-hour; one subnet per AZ whose hosts use {service}; private DNS makes the usual {service} hostnames resolve to it",
                    p.interface_endpoint_per_gb, p.interface_endpoint_per_az_hour
                ),
                hours,
            )
        }
        (_, None) => (
            None,
            format!(
                "nat-flowrec does not know the endpoint service name of {service}: find it with `aws ec2 describe-vpc-endpoint-services --region {region} --query ServiceNames`"
            ),
            None,
        ),
    };
    let monthly =
        (has_window && command.is_some()).then(|| round_money(saving_usd * months_factor));
    let net = match (monthly, hours) {
        (Some(m), Some(h)) => Some(round_money(m - h)),
        _ => None,
    };
    let monthly_30d = month_factor
        .filter(|_| command.is_some())
        .map(|f| round_money(saving_usd * f));
    let net_30d = match (monthly_30d, hours) {
        (Some(m), Some(h)) => Some(round_money(m - h)),
        _ => None,
    };
    Remediation {
        service: service.to_string(),
        endpoint,
        endpoint_service_name: if endpoint == EndpointKind::None {
            None
        } else {
            name
        },
        vpc_id: target.vpc_id.clone(),
        command,
        bytes_total,
        saving_usd,
        monthly_saving_usd: monthly,
        monthly_endpoint_hours_usd: hours.map(round_money),
        monthly_net_usd: net,
        monthly_saving_30d_usd: monthly_30d,
        monthly_net_30d_usd: net_30d,
        advice,
    }
}

/// The last part of the endpoint service name of a `pkt-*-aws-service` value
/// (`com.amazonaws.<region>.<this>`), for the services PrivateLink or a gateway endpoint serves.
pub fn endpoint_service_suffix(service: &str) -> Option<&'static str> {
    Some(match service {
        "S3" => "s3",
        "DYNAMODB" => "dynamodb",
        "EC2" => "ec2",
        "API_GATEWAY" => "execute-api",
        "CODEBUILD" => "codebuild",
        "EBS" => "ebs",
        "KINESIS_VIDEO_STREAMS" => "kinesisvideo",
        "AMAZON_APPFLOW" => "appflow",
        _ => return None,
    })
}

fn no_endpoint_advice(service: &str) -> String {
    if service == "AMAZON" {
        "AMAZON is every AWS address range at once, too broad for one endpoint: look at the destinations table for which addresses (and ports) it was".to_string()
    } else {
        format!("{service} is reached over the internet by design: no VPC endpoint can carry it")
    }
}

/// `45 minutes`, `2.5 hours`, `3.0 days`.
fn duration(seconds: i64) -> String {
    let minutes = seconds as f64 / 60.0;
    if minutes < 120.0 {
        format!("{minutes:.0}-minute")
    } else if minutes < 48.0 * 60.0 {
        format!("{:.1}-hour", minutes / 60.0)
    } else {
        format!("{:.1}-day", minutes / 1440.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_gateway_and_interface_service_has_an_endpoint_name() {
        for service in ["S3", "DYNAMODB", "EC2", "API_GATEWAY", "CODEBUILD"] {
            assert!(endpoint_service_suffix(service).is_some(), "{service}");
        }
        assert_eq!(endpoint_service_suffix("API_GATEWAY"), Some("execute-api"));
        assert_eq!(endpoint_service_suffix("AMAZON"), None);
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(45 * 60), "45-minute");
        assert_eq!(duration(5 * 3600), "5.0-hour");
        assert_eq!(duration(3 * 86400), "3.0-day");
    }

    #[test]
    fn nats_of_one_vpc_make_one_target_with_all_their_tables_and_subnets() {
        let nat = |id: &str, vpc: &str, rtb: &str, subnet: &str| NatSite {
            nat_gateway_id: id.into(),
            vpc_id: Some(vpc.into()),
            regional: false,
            azs: vec![],
            route_table_ids: vec![rtb.into()],
            endpoint_subnet_ids: vec![subnet.into()],
        };
        let t = targets(&[
            nat("nat-a", "vpc-1", "rtb-a", "subnet-a"),
            nat("nat-b", "vpc-1", "rtb-b", "subnet-b"),
            nat("nat-c", "vpc-2", "rtb-c", "subnet-c"),
        ]);
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].route_table_ids, ["rtb-a", "rtb-b"]);
        assert_eq!(t[0].subnet_ids, ["subnet-a", "subnet-b"]);
        assert_eq!(t[1].vpc_id.as_deref(), Some("vpc-2"));
        assert_eq!(targets(&[]).len(), 1);
    }
}
