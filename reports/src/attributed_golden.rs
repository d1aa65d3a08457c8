//! Golden tests of what attribution adds to a report: owner and AZ columns, the cross-AZ section,
//! and the endpoint commands of the remediation section, with the VPC known (as after
//! `report --enrich`) and unknown (placeholders). Regenerate after an intended change with
//! `UPDATE_GOLDEN=1 cargo test -p nat-flowrec-reports golden` and review the diff.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::attribution::{Attribution, Owner};
use crate::golden::{fixture, golden};
use crate::model::NatSite;
use crate::model::Report;
use crate::options::ReportOptions;
use crate::prices::EndpointKind;
use crate::{build_report, render};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn owner(name: &str, kind: &str, subnet: &str, az: &str) -> Owner {
    Owner {
        name: name.into(),
        kind: kind.into(),
        interface_id: Some(format!("eni-{subnet}")),
        subnet_id: Some(format!("subnet-{subnet}")),
        vpc_id: Some("vpc-0a1b2c3d".into()),
        az: Some(az.into()),
    }
}

/// nat-cloudwatch.log's hosts: a web server, a worker in another AZ, a Lambda; 10.0.1.9 and
/// 10.0.1.10 have no interface any more.
fn attribution() -> Attribution {
    Attribution {
        region: Some("us-east-1".into()),
        looked_up: ["10.0.1.5", "10.0.1.9", "10.0.1.10", "10.0.2.7"]
            .map(ip)
            .into(),
        owners: BTreeMap::from([
            (
                ip("10.0.1.5"),
                owner("i-0web (web-1)", "instance", "a", "us-east-1a"),
            ),
            (
                ip("10.0.2.7"),
                owner("Lambda sync-orders", "lambda", "b", "us-east-1b"),
            ),
        ]),
        nats: vec![NatSite {
            nat_gateway_id: "nat-0123456789abcdef0".into(),
            vpc_id: Some("vpc-0a1b2c3d".into()),
            regional: false,
            azs: vec!["us-east-1a".into()],
            route_table_ids: vec!["rtb-0private-a".into(), "rtb-0private-b".into()],
            endpoint_subnet_ids: vec!["subnet-a".into(), "subnet-b".into()],
        }],
    }
}

fn cloudwatch(top: usize) -> Report {
    let opts = ReportOptions {
        top,
        ..ReportOptions::default()
    };
    build_report(&[fixture("nat-cloudwatch.log")], &opts).unwrap()
}

fn attributed() -> Report {
    let mut r = cloudwatch(0);
    r.attribute(&attribution());
    r.cut_to_top(20);
    r
}

fn commands(r: &Report) -> String {
    let mut out = String::new();
    for a in &r.remediation.actions {
        out.push_str(&format!("# {} ({})\n", a.service, a.endpoint.as_str()));
        match &a.command {
            Some(c) => out.push_str(&format!("{c}\n")),
            None => out.push_str(&format!("# nothing to create: {}\n", a.advice)),
        }
    }
    out
}

#[test]
fn golden_attributed_report() {
    let r = attributed();
    golden(
        "nat-cloudwatch.attributed.terminal.golden",
        &render::terminal(&r),
    );
    golden("nat-cloudwatch.attributed.md.golden", &render::markdown(&r));
    let mut csv = Vec::new();
    render::csv::talkers_csv(&r, &mut csv).unwrap();
    golden(
        "nat-cloudwatch.attributed.csv.golden",
        &String::from_utf8(csv).unwrap(),
    );
}

#[test]
fn the_email_names_the_owners_and_the_cross_az_cost() {
    let text = render::email_summary(&attributed());
    assert!(
        text.contains("  1. 10.0.1.5 (i-0web (web-1)) -> 52.216.8.1 [S3]"),
        "{text}"
    );
    assert!(
        text.contains("Cross-AZ: 965.00 KB from 1 host(s) outside us-east-1a (the NAT's AZ)"),
        "{text}"
    );
}

#[test]
fn golden_remediation_commands_with_and_without_the_vpc() {
    golden("remediation.commands.golden", &commands(&attributed()));
    golden(
        "remediation.placeholders.golden",
        &commands(&cloudwatch(20)),
    );
}

#[test]
fn every_service_seen_gets_one_action_and_the_gateway_ones_name_the_route_tables() {
    let r = attributed();
    let services: Vec<&str> = r.services.iter().map(|s| s.service.as_str()).collect();
    let acted: Vec<&str> = r
        .remediation
        .actions
        .iter()
        .map(|a| a.service.as_str())
        .collect();
    assert_eq!(services, acted);
    for a in &r.remediation.actions {
        match a.endpoint {
            EndpointKind::Gateway => {
                let c = a.command.as_deref().unwrap();
                assert!(c.contains("--vpc-endpoint-type Gateway"), "{c}");
                assert!(
                    c.ends_with("--route-table-ids rtb-0private-a rtb-0private-b"),
                    "{c}"
                );
                assert_eq!(a.monthly_endpoint_hours_usd, Some(0.0));
            }
            EndpointKind::Interface => {
                let c = a.command.as_deref().unwrap();
                assert!(c.contains("--subnet-ids subnet-a subnet-b"), "{c}");
                // Two AZs at $0.01 per AZ-hour for 730 hours.
                assert_eq!(a.monthly_endpoint_hours_usd, Some(14.6));
            }
            EndpointKind::None => assert_eq!(a.command, None),
        }
    }
}

#[test]
fn the_monthly_saving_extrapolates_the_window_and_says_so() {
    let r = attributed();
    let plan = &r.remediation;
    // nat-cloudwatch.log: records start 10:00:05 .. 10:03:42 (the 10:04:00 line is malformed),
    // plus the last record's minute.
    assert_eq!(plan.window_seconds, 217 + 60);
    let s3 = plan.actions.iter().find(|a| a.service == "S3").unwrap();
    let expected = s3.saving_usd * 730.0 * 3600.0 / 277.0;
    assert!((s3.monthly_saving_usd.unwrap() - expected).abs() < 1e-6);
    assert!(
        plan.extrapolation.contains("5-minute recording window"),
        "{}",
        plan.extrapolation
    );
    assert!(
        render::terminal(&r).contains("a recording made during a spike overstates a normal month")
    );
}
