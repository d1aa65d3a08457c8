//! `nat-flowrec doctor`: a read-only check of the configured NAT gateways' VPCs and of what the
//! job uses in AWS. Each finding has a severity and, where something is to be done, the exact
//! AWS CLI command that does it. The checks are pure (`network`, `setup`, `policy`) over what the
//! `Inventory` port returned; this file gathers the data and keeps going when a read fails (the
//! failed read is itself a finding).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::config::RecordingConfig;
use crate::core::suggest::Suggestion;
use crate::core::watch_cost::WatchCost;
use crate::names::TopicArn;
use crate::ports::{AwsError, AwsErrorKind, Inventory, NatPlacement, QueryLogs};
use crate::s3_layout::S3Delivery;

mod dns;
pub mod finding;
mod job_resources;
mod network;
mod policy;

pub use finding::{Counts, Diagnosis, Finding, Severity};
pub use policy::{DELIVERY_ACTIONS, DELIVERY_POLICY, FLOW_LOGS_PRINCIPAL, TRUST_POLICY};

/// What to check.
#[derive(Debug, Clone)]
pub struct DoctorInput<'a> {
    pub nat_gateway_ids: &'a [String],
    /// The region the commands name and the endpoint service names are in.
    pub region: &'a str,
    pub recording: &'a RecordingConfig,
    pub sns_topic_arn: Option<&'a TopicArn>,
    /// AWS services with an interface endpoint that past reports saw going through the NAT.
    pub services_seen: BTreeSet<String>,
    /// What the trigger costs to watch; `None` in alarm mode (the alarms are the user's).
    pub watch_cost: Option<WatchCost>,
    /// What each NAT gateway's trigger would have done over its recent history; `None` in
    /// alarm mode.
    pub trigger_history: Option<Result<Vec<Suggestion>, AwsError>>,
}

/// Runs every check; never fails (a failed read is an `error` finding and the rest goes on).
pub async fn diagnose<I: Inventory + QueryLogs>(inv: &I, input: &DoctorInput<'_>) -> Diagnosis {
    let mut findings = Vec::new();
    let region = input.region;

    let placements = match inv.nat_placements(input.nat_gateway_ids).await {
        Ok(p) => p,
        Err(e) => {
            findings.push(failed(&e));
            Vec::new()
        }
    };
    let mut by_vpc: BTreeMap<String, Vec<&NatPlacement>> = BTreeMap::new();
    for id in input.nat_gateway_ids {
        match placements.iter().find(|p| &p.id == id) {
            Some(p) => match &p.vpc_id {
                Some(vpc) => by_vpc.entry(vpc.clone()).or_default().push(p),
                None => findings.push(Finding::new(
                    Severity::Error,
                    "nat-gateway",
                    id,
                    "DescribeNatGateways shows no VPC for it",
                )),
            },
            None if !findings.iter().any(|f| f.check == "check-failed") => findings.push(
                Finding::new(
                    Severity::Error,
                    "nat-gateway",
                    id,
                    "no NAT gateway of this id in this account and region: check `nat_gateway_ids` and the region",
                )
                .with_fix(format!(
                    "aws ec2 describe-nat-gateways --region {region} --query 'NatGateways[].[NatGatewayId,VpcId,State]' --output table"
                )),
            ),
            None => {}
        }
    }

    for (vpc, nats) in &by_vpc {
        findings.extend(vpc_findings(inv, vpc, nats, input).await);
    }
    if input.recording.dns_query_logs {
        for vpc in by_vpc.keys() {
            findings.push(match inv.vpc_query_logging(vpc).await {
                Ok(logging) => dns::query_logging_finding(vpc, &logging, input.recording),
                Err(e) => dns::unreadable_finding(vpc, &e),
            });
        }
    }

    if let Some(s3) = input.recording.s3_delivery() {
        findings.extend(bucket_findings(inv, &s3, region).await);
    } else {
        findings.extend(role_and_log_group_findings(inv, input).await);
    }

    match input.sns_topic_arn {
        None => findings.extend(job_resources::topic_findings(None, None, region)),
        Some(topic_arn) => match inv.topic(topic_arn.as_str()).await {
            Ok(topic) => findings.extend(job_resources::topic_findings(
                Some(topic_arn),
                topic.as_ref(),
                region,
            )),
            Err(e) => findings.push(failed(&e)),
        },
    }
    if let Some(cost) = &input.watch_cost {
        findings.push(watch_cost_finding(cost, input.nat_gateway_ids.len()));
    }
    match &input.trigger_history {
        None => {}
        Some(Err(e)) => findings.push(failed(e)),
        Some(Ok(history)) => findings.extend(history.iter().map(|s| {
            Finding::new(
                Severity::Info,
                "trigger-history",
                &s.nat_gateway_id,
                s.one_line(),
            )
        })),
    }
    let prices = nat_flowrec_reports::LogIngestionPrices::for_region(Some(region));
    if prices.fallback {
        findings.push(Finding::new(
            Severity::Info,
            "log-ingestion-price",
            region,
            format!(
                "no built-in vended-log ingestion price for {region}: recording costs, their estimates and the max_cost_usd caps use us-east-1's (${}/GB STANDARD, ${}/GB INFREQUENT_ACCESS, ${}/GB delivered to S3); check aws.amazon.com/cloudwatch/pricing",
                prices.standard_per_gb, prices.infrequent_access_per_gb, prices.s3_per_gb
            ),
        ));
    }
    Diagnosis { findings }
}

/// The flow-logs delivery role and the log group recordings deliver to.
async fn role_and_log_group_findings<I: Inventory>(
    inv: &I,
    input: &DoctorInput<'_>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let region = input.region;
    let role_arn = &input.recording.deliver_logs_role_arn;
    match inv.role_policies(role_arn.name()).await {
        Ok(role) => findings.extend(job_resources::role_findings(
            role_arn,
            role.as_ref(),
            region,
            &input.recording.log_group,
        )),
        Err(e) => findings.push(failed(&e)),
    }
    let group = &input.recording.log_group;
    match inv.log_group(group).await {
        Ok(info) => findings.extend(job_resources::log_group_findings(
            group,
            info.as_ref(),
            input.recording.log_group_class.as_str(),
            input.recording.retention_days,
            region,
        )),
        Err(e) => findings.push(failed(&e)),
    }
    findings
}

/// The bucket recordings deliver to with `recording.destination = "s3"`.
async fn bucket_findings<I: Inventory>(inv: &I, s3: &S3Delivery, region: &str) -> Vec<Finding> {
    let bucket_region = match inv.bucket_region(&s3.bucket).await {
        Ok(r) => r,
        Err(e) => return vec![failed(&e)],
    };
    let policy = match bucket_region {
        None => None,
        Some(_) => match inv.bucket_policy(&s3.bucket).await {
            Ok(p) => p,
            Err(e) => return vec![failed(&e)],
        },
    };
    job_resources::bucket_findings(s3, bucket_region.as_deref(), policy.as_deref(), region)
}

/// The trigger's own monthly API bill in either mode, which one the configuration reads with,
/// beside the alarms it replaces.
fn watch_cost_finding(cost: &WatchCost, nats: usize) -> Finding {
    let usd = nat_flowrec_reports::usd;
    Finding::new(
        Severity::Info,
        "watch-cost",
        "trigger",
        format!(
            "at one-minute ticks (the job does not know its schedule; less often costs less), watching {nats} NAT gateway(s) reads {} metrics a month: {}/month with GetMetricData ($0.01 per 1,000 metrics, never free), {}/month with GetMetricStatistics (one request per NAT gateway and metric; free within CloudWatch's million requests a month, then $0.01 per 1,000); this configuration reads with {} ({}/month); CloudWatch alarms on the same {} metric(s) would cost {}/month",
            nat_flowrec_reports::grouped(cost.metrics_per_month),
            usd(cost.get_metric_data_usd_per_month),
            usd(cost.get_metric_statistics_usd_per_month),
            cost.api.name(),
            usd(cost.usd_per_month()),
            cost.alarm_metrics,
            usd(cost.alarms_usd_per_month)
        ),
    )
}

async fn vpc_findings<I: Inventory>(
    inv: &I,
    vpc: &str,
    nats: &[&NatPlacement],
    input: &DoctorInput<'_>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let tables = match inv.route_tables(vpc).await {
        Ok(t) => t,
        Err(e) => return vec![failed(&e)],
    };
    let mut nat_tables: BTreeSet<String> = BTreeSet::new();
    for nat in nats {
        out.extend(network::nat_findings(nat, &tables, input.region));
        nat_tables.extend(
            network::routed(&tables, "0.0.0.0/0", &nat.id)
                .into_iter()
                .map(str::to_owned),
        );
    }
    let nat_tables: Vec<String> = nat_tables.into_iter().collect();
    let subnet_ids: Vec<String> = tables
        .iter()
        .filter(|t| nat_tables.contains(&t.id))
        .flat_map(|t| t.subnet_ids.iter().cloned())
        .collect();
    let endpoint_subnets = match crate::attribution::one_subnet_per_az(inv, &subnet_ids).await {
        Ok(s) => s,
        Err(e) => {
            out.push(failed(&e));
            Vec::new()
        }
    };
    let endpoints = match inv.vpc_endpoints(vpc).await {
        Ok(e) => e,
        Err(e) => {
            out.push(failed(&e));
            return out;
        }
    };
    out.extend(network::endpoint_findings(&network::VpcContext {
        vpc_id: vpc,
        region: input.region,
        nat_route_tables: &nat_tables,
        endpoint_subnets: &endpoint_subnets,
        endpoints: &endpoints,
        services_seen: &input.services_seen,
    }));
    out
}

/// A read that failed: what it was, and what to grant when it was refused.
fn failed(e: &AwsError) -> Finding {
    let hint = match e.kind {
        AwsErrorKind::AccessDenied => format!(
            "; doctor needs read access: allow `{}` to the caller",
            e.operation
        ),
        _ => String::new(),
    };
    Finding::new(
        Severity::Error,
        "check-failed",
        e.operation,
        format!("could not check: {e}{hint}"),
    )
}

/// The AWS services with an interface endpoint that reports under `out_dir` saw through the NAT
/// (each recording's `report/report.json`, up to three folders deep). Unreadable reports are
/// skipped: they only make the list shorter.
pub fn services_seen(out_dir: &Path) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    collect(out_dir, 0, &mut seen);
    seen
}

const MAX_DEPTH: usize = 3;

fn collect(dir: &Path, depth: usize, seen: &mut BTreeSet<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            if depth < MAX_DEPTH {
                collect(&path, depth + 1, seen);
            }
        } else if entry.file_name() == "report.json"
            && let Ok(text) = std::fs::read_to_string(&path)
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
            && let Some(services) = v.get("services").and_then(|s| s.as_array())
        {
            for s in services {
                let interface = s.get("endpoint").and_then(|e| e.as_str()) == Some("interface");
                let used = s.get("bytes_total").and_then(|b| b.as_u64()).unwrap_or(0) > 0;
                if interface
                    && used
                    && let Some(name) = s.get("service").and_then(|n| n.as_str())
                {
                    seen.insert(name.to_owned());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
