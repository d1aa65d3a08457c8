//! `diagnose` on the simulator: given a VPC as the user has it, when doctor runs, then these
//! findings; a failed read is a finding and the other checks still run.

use std::collections::BTreeSet;

use chrono::{TimeZone, Utc};

use super::*;
use crate::ports::{
    AwsErrorKind, LogGroupSpec, Logs, RolePolicies, Route, RouteTable, Subnet, TopicInfo,
    TopicSubscription, VpcEndpoint,
};
use crate::sim::{SimCloud, SimNat};

const ROLE: &str = "arn:aws:iam::123456789012:role/nat-flowrec-delivery";
const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:nat-flowrec";

fn topic() -> TopicArn {
    TOPIC.parse().unwrap()
}

fn recording() -> RecordingConfig {
    RecordingConfig {
        log_group: "/nat-flowrec/flowlogs".into(),
        deliver_logs_role_arn: ROLE.parse().unwrap(),
        retention_days: 7,
        ..RecordingConfig::default()
    }
}

/// A NAT routed from two private subnets, the delivery role, the log group and a confirmed
/// topic: everything but the endpoints is in order.
async fn account() -> SimCloud {
    let mut nat = SimNat::new("nat-0doc", 0);
    nat.vpc_id = "vpc-doc".into();
    let sim = SimCloud::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()).with_nat(nat);
    for (id, subnet, az) in [
        ("rtb-a", "subnet-a", "us-east-1a"),
        ("rtb-b", "subnet-b", "us-east-1b"),
    ] {
        sim.add_subnet(Subnet {
            id: subnet.into(),
            vpc_id: Some("vpc-doc".into()),
            availability_zone: Some(az.into()),
        });
        sim.add_route_table(RouteTable {
            id: id.into(),
            vpc_id: Some("vpc-doc".into()),
            main: false,
            subnet_ids: vec![subnet.into()],
            routes: vec![Route {
                destination: "0.0.0.0/0".into(),
                nat_gateway_id: Some("nat-0doc".into()),
                ..Route::default()
            }],
        });
    }
    sim.add_role(RolePolicies {
        name: "nat-flowrec-delivery".into(),
        arn: ROLE.into(),
        trust_policy: TRUST_POLICY.into(),
        policies: vec![("delivery".into(), DELIVERY_POLICY.into())],
    });
    sim.ensure_log_group(&LogGroupSpec {
        name: "/nat-flowrec/flowlogs".into(),
        class: "INFREQUENT_ACCESS".into(),
        retention_days: 7,
    })
    .await
    .unwrap();
    sim.add_topic(TopicInfo {
        arn: TOPIC.into(),
        subscriptions: vec![TopicSubscription {
            protocol: "email".into(),
            endpoint: "ops@example.com".into(),
            confirmed: true,
        }],
    });
    sim
}

fn gateway(id: &str, service: &str) -> VpcEndpoint {
    VpcEndpoint {
        id: id.into(),
        vpc_id: Some("vpc-doc".into()),
        service_name: format!("com.amazonaws.us-east-1.{service}"),
        endpoint_type: "Gateway".into(),
        state: Some("available".into()),
        route_table_ids: vec!["rtb-a".into(), "rtb-b".into()],
        subnet_ids: vec![],
    }
}

async fn run(sim: &SimCloud, seen: &[&str]) -> Diagnosis {
    run_in(sim, seen, "us-east-1").await
}

async fn run_in(sim: &SimCloud, seen: &[&str], region: &str) -> Diagnosis {
    let rec = recording();
    let nats = vec!["nat-0doc".to_owned()];
    let input = DoctorInput {
        nat_gateway_ids: &nats,
        region,
        recording: &rec,
        sns_topic_arn: Some(&topic()),
        services_seen: seen.iter().map(|s| s.to_string()).collect(),
        watch_cost: Some(crate::core::watch_cost::watch_cost(
            &[("nat-0doc", &crate::core::TriggerRule::default())],
            crate::core::MetricsApi::Auto,
            0.5,
        )),
        trigger_history: None,
    };
    diagnose(sim, &input).await
}

fn problems(d: &Diagnosis) -> Vec<(&'static str, Severity)> {
    d.findings
        .iter()
        .filter(|f| f.severity >= Severity::Warning)
        .map(|f| (f.check, f.severity))
        .collect()
}

#[tokio::test]
async fn missing_gateway_endpoints_are_found_and_doctor_is_quiet_once_they_exist() {
    let sim = account().await;
    let d = run(&sim, &[]).await;
    assert_eq!(
        problems(&d),
        [
            ("s3-gateway-endpoint", Severity::Warning),
            ("dynamodb-gateway-endpoint", Severity::Warning)
        ],
        "{d}"
    );
    assert!(d.to_string().contains(
        "$ aws ec2 create-vpc-endpoint --region us-east-1 --vpc-id vpc-doc --vpc-endpoint-type Gateway --service-name com.amazonaws.us-east-1.s3 --route-table-ids rtb-a rtb-b"
    ));

    sim.add_vpc_endpoint(gateway("vpce-s3", "s3"));
    sim.add_vpc_endpoint(gateway("vpce-ddb", "dynamodb"));
    let d = run(&sim, &[]).await;
    assert!(!d.needs_fixing(), "{d}");
    assert_eq!(d.counts().error + d.counts().warning, 0);
}

#[tokio::test]
async fn a_service_seen_in_reports_asks_for_its_interface_endpoint_in_one_subnet_per_az() {
    let sim = account().await;
    sim.add_vpc_endpoint(gateway("vpce-s3", "s3"));
    sim.add_vpc_endpoint(gateway("vpce-ddb", "dynamodb"));
    let d = run(&sim, &["EC2"]).await;
    let f = d
        .findings
        .iter()
        .find(|f| f.check == "interface-endpoint")
        .unwrap();
    assert_eq!(f.severity, Severity::Warning);
    assert!(
        f.fix.as_deref().unwrap().ends_with("--service-name com.amazonaws.us-east-1.ec2 --subnet-ids subnet-a subnet-b --private-dns-enabled"),
        "{:?}",
        f.fix
    );
}

#[tokio::test]
async fn doctor_states_what_watching_costs_beside_the_alarms() {
    let sim = account().await;
    let d = run(&sim, &[]).await;
    let f = d
        .findings
        .iter()
        .find(|f| f.check == "watch-cost")
        .expect("a watch-cost line");
    assert_eq!(f.severity, Severity::Info);
    assert_eq!(
        f.message,
        "at one-minute ticks (the job does not know its schedule; less often costs less), watching 1 NAT gateway(s) reads 86,400 metrics a month: $0.86/month with GetMetricData ($0.01 per 1,000 metrics, never free), $0.00/month with GetMetricStatistics (one request per NAT gateway and metric; free within CloudWatch's million requests a month, then $0.01 per 1,000); this configuration reads with GetMetricStatistics ($0.00/month); CloudWatch alarms on the same 2 metric(s) would cost $0.20/month"
    );
    // us-east-1 has its own vended-log price: no stand-in to mention.
    assert!(!d.findings.iter().any(|f| f.check == "log-ingestion-price"));
    let far = run_in(&sim, &[], "ap-southeast-4").await;
    let price = far
        .findings
        .iter()
        .find(|f| f.check == "log-ingestion-price")
        .expect("the stand-in price is said");
    assert!(
        price.message.contains("use us-east-1's ($0.5/GB STANDARD")
            && price.message.contains("$0.25/GB delivered to S3"),
        "{}",
        price.message
    );
}

#[tokio::test]
async fn an_unknown_nat_and_a_refused_read_are_errors_and_the_other_checks_still_run() {
    let sim = account().await;
    let rec = recording();
    let nats = vec!["nat-0doc".to_owned(), "nat-0gone".to_owned()];
    let input = DoctorInput {
        nat_gateway_ids: &nats,
        region: "us-east-1",
        recording: &rec,
        sns_topic_arn: Some(&topic()),
        services_seen: BTreeSet::new(),
        watch_cost: None,
        trigger_history: None,
    };
    let d = diagnose(&sim, &input).await;
    let gone = d
        .findings
        .iter()
        .find(|f| f.subject == "nat-0gone")
        .unwrap();
    assert_eq!(gone.severity, Severity::Error);

    // The first read (DescribeNatGateways) is refused: that is one finding, and the role, log
    // group and topic are still checked.
    sim.fail_next_inventory(AwsErrorKind::AccessDenied);
    let d = diagnose(&sim, &input).await;
    let failed = d
        .findings
        .iter()
        .find(|f| f.check == "check-failed")
        .unwrap();
    assert!(
        failed.message.contains("allow `ec2:DescribeNatGateways`"),
        "{}",
        failed.message
    );
    assert!(
        d.findings
            .iter()
            .any(|f| f.check == "delivery-role-trust" && f.severity == Severity::Ok)
    );
    assert!(d.findings.iter().any(|f| f.check == "sns-subscription"));
    assert!(
        !d.findings.iter().any(|f| f.subject == "nat-0gone"),
        "a refused read says nothing about the NATs"
    );
}

#[test]
fn services_seen_come_from_past_reports_interface_endpoints_only() {
    let dir = tempfile::tempdir().unwrap();
    let report_dir = dir.path().join("rec-1/report");
    std::fs::create_dir_all(&report_dir).unwrap();
    std::fs::write(
        report_dir.join("report.json"),
        r#"{"services":[
            {"service":"S3","endpoint":"gateway","bytes_total":10},
            {"service":"EC2","endpoint":"interface","bytes_total":10},
            {"service":"CODEBUILD","endpoint":"interface","bytes_total":0},
            {"service":"AMAZON","endpoint":"none","bytes_total":10}]}"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("rec-2-report.json"), "not json").unwrap();
    let seen = services_seen(dir.path());
    assert_eq!(seen, BTreeSet::from(["EC2".to_owned()]));
    assert!(services_seen(&dir.path().join("missing")).is_empty());
}

#[tokio::test]
async fn the_trigger_history_is_one_line_per_nat_gateway() {
    use crate::core::suggest::{CostAssumption, suggest};
    let sim = account().await;
    let rec = recording();
    let nats = vec!["nat-0doc".to_owned()];
    let start = crate::core::testkit::at("2025-01-01T00:00:00Z");
    let spike = crate::ports::MetricSeries {
        nat_gateway_id: "nat-0doc".to_owned(),
        log_group: None,
        metric: "BytesInFromSource".to_owned(),
        points: vec![(start + chrono::TimeDelta::hours(5), 5e8)],
    };
    let history = suggest(
        &[spike],
        "nat-0doc",
        &crate::core::TriggerRule::default(),
        (start, start + chrono::TimeDelta::days(14)),
        CostAssumption {
            ingested_bytes_per_minute: 10_000_000,
            price_per_gb: 0.5,
            recording_seconds: 600,
            max_recording_seconds: 3600,
        },
    );
    let input = DoctorInput {
        nat_gateway_ids: &nats,
        region: "us-east-1",
        recording: &rec,
        sns_topic_arn: Some(&topic()),
        services_seen: BTreeSet::new(),
        watch_cost: None,
        trigger_history: Some(Ok(vec![history])),
    };
    let d = diagnose(&sim, &input).await;
    let line = d
        .findings
        .iter()
        .find(|f| f.check == "trigger-history")
        .map(|f| (f.subject.as_str(), f.message.as_str(), f.severity));
    let Some((subject, message, severity)) = line else {
        panic!("no trigger-history finding in {:?}", d.findings);
    };
    assert_eq!((subject, severity), ("nat-0doc", Severity::Info));
    assert!(
        message.starts_with("your threshold would have fired 1 time in 14 days"),
        "{message}"
    );
}

#[tokio::test]
async fn with_dns_query_logs_doctor_reads_the_vpcs_query_logging_and_says_what_recordings_do() {
    let sim = account().await;
    let rec = RecordingConfig {
        dns_query_logs: true,
        ..recording()
    };
    let nats = vec!["nat-0doc".to_owned()];
    let input = DoctorInput {
        nat_gateway_ids: &nats,
        region: "us-east-1",
        recording: &rec,
        sns_topic_arn: Some(&topic()),
        services_seen: BTreeSet::new(),
        watch_cost: None,
        trigger_history: None,
    };
    let dns = |d: &Diagnosis| {
        d.findings
            .iter()
            .find(|f| f.check == "dns-query-logs")
            .map(|f| (f.subject.clone(), f.severity, f.message.clone()))
            .unwrap_or_else(|| panic!("no dns-query-logs finding in {:?}", d.findings))
    };

    // Nothing logs the VPC yet: recordings create their own, and the finding names the grants.
    let (subject, severity, message) = dns(&diagnose(&sim, &input).await);
    assert_eq!((subject.as_str(), severity), ("vpc-doc", Severity::Info));
    assert!(
        message.contains("to /nat-flowrec/dns-queries while they run")
            && message.contains("logs:CreateLogDelivery"),
        "{message}"
    );

    // Reading the VPC's query logging is refused: an error, with the policy to grant.
    sim.fail_next(
        crate::sim::SimOperation::ListResolverQueryLogConfigAssociations,
        AwsErrorKind::AccessDenied,
    );
    let (_, severity, message) = dns(&diagnose(&sim, &input).await);
    assert_eq!(severity, Severity::Error, "{message}");
    assert!(
        message.contains("route53resolver:ListResolverQueryLogConfigAssociations"),
        "{message}"
    );

    // The VPC already logs to a log group: recordings read it.
    sim.add_foreign_query_log_config(
        "arn:aws:logs:us-east-1:123456789012:log-group:/audit/dns",
        &["vpc-doc".to_owned()],
    );
    let (_, severity, message) = dns(&diagnose(&sim, &input).await);
    assert_eq!(severity, Severity::Ok);
    assert!(
        message.contains("already logs its DNS queries to /audit/dns"),
        "{message}"
    );

    // The key off: no such check.
    let rec_off = recording();
    let off = DoctorInput {
        recording: &rec_off,
        ..input
    };
    let d = diagnose(&sim, &off).await;
    assert!(d.findings.iter().all(|f| f.check != "dns-query-logs"));
}
