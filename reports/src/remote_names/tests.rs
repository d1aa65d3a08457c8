use std::path::PathBuf;

use nat_flowrec_parsers::QueryLogRecord;
use nat_flowrec_parsers::query_log::Answer;

use super::*;
use crate::{AwsRanges, ReportOptions, build_report};

const MAX_AGE: u32 = DEFAULT_DNS_MAX_AGE_SECONDS;
/// 2024-05-01T10:00:00Z.
const T0: i64 = 1_714_557_600;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn iso(unix: i64) -> String {
    crate::time::iso_utc(unix)
}

/// A query as Resolver logs it: `answers` are (type, rdata) in order.
fn query(at: i64, client: &str, name: &str, answers: &[(&str, &str)]) -> QueryLogRecord {
    QueryLogRecord {
        version: "1.100000".to_string(),
        vpc_id: "vpc-7example".to_string(),
        query_timestamp: iso(at),
        query_name: format!("{name}."),
        query_type: "A".to_string(),
        query_class: "IN".to_string(),
        rcode: "NOERROR".to_string(),
        answers: answers
            .iter()
            .map(|(rtype, rdata)| Answer {
                rdata: rdata.to_string(),
                rtype: rtype.to_string(),
                class: "IN".to_string(),
            })
            .collect(),
        srcaddr: client.to_string(),
        ..QueryLogRecord::default()
    }
}

fn answers(records: &[QueryLogRecord]) -> DnsAnswers {
    let mut dns = DnsAnswers::default();
    for r in records {
        dns.add(r);
    }
    dns
}

/// The name of `remote` for `internal`'s traffic during the minute from `T0`.
fn name_at(dns: &DnsAnswers, internal: &str, remote: &str) -> Option<String> {
    dns.name(Some(ip(internal)), ip(remote), (T0, T0 + 60), MAX_AGE)
        .map(str::to_string)
}

#[test]
fn a_cname_chain_names_the_address_with_the_name_the_client_asked_for() {
    let dns = answers(&[query(
        T0 - 5,
        "10.0.1.5",
        "registry-1.docker.io",
        &[
            ("CNAME", "registry-1.docker.io.cdn.example.net."),
            ("CNAME", "edge.cdn.example.net."),
            ("A", "203.0.113.5"),
        ],
    )]);
    assert_eq!(
        name_at(&dns, "10.0.1.5", "203.0.113.5").as_deref(),
        Some("registry-1.docker.io")
    );
    // A CNAME's target is a name, never an address to join on.
    assert_eq!(dns.queries, 1);
    assert_eq!(name_at(&dns, "10.0.1.5", "203.0.113.6"), None);
}

#[test]
fn the_latest_answer_wins_when_several_names_share_an_address() {
    let shared = [("A", "198.51.100.7")];
    let dns = answers(&[
        query(T0 - 600, "10.0.1.5", "a.example.com", &shared),
        query(T0 + 30, "10.0.1.5", "c.example.com", &shared),
        query(T0 - 60, "10.0.1.5", "b.example.com", &shared),
        // After the traffic: it cannot have named it.
        query(T0 + 61, "10.0.1.5", "d.example.com", &shared),
    ]);
    assert_eq!(
        name_at(&dns, "10.0.1.5", "198.51.100.7").as_deref(),
        Some("c.example.com")
    );
    // Ties in time go to the name that sorts first, whatever the order read.
    let tied = answers(&[
        query(T0, "10.0.1.5", "z.example.com", &shared),
        query(T0, "10.0.1.5", "y.example.com", &shared),
    ]);
    assert_eq!(
        name_at(&tied, "10.0.1.5", "198.51.100.7").as_deref(),
        Some("y.example.com")
    );
}

#[test]
fn answers_older_than_the_maximum_age_name_nothing() {
    let a = [("A", "198.51.100.7")];
    let dns = answers(&[query(
        T0 - i64::from(MAX_AGE) - 1,
        "10.0.1.5",
        "old.example.com",
        &a,
    )]);
    assert_eq!(name_at(&dns, "10.0.1.5", "198.51.100.7"), None);
    let dns = answers(&[query(
        T0 - i64::from(MAX_AGE),
        "10.0.1.5",
        "edge.example.com",
        &a,
    )]);
    assert_eq!(
        name_at(&dns, "10.0.1.5", "198.51.100.7").as_deref(),
        Some("edge.example.com")
    );
}

#[test]
fn aaaa_answers_name_ipv6_remotes() {
    let dns = answers(&[query(
        T0,
        "2600:1f18:1234:2::5",
        "api.example.net",
        &[("AAAA", "2001:db8:85a3::8a2e:370:7334")],
    )]);
    assert_eq!(
        name_at(&dns, "2600:1f18:1234:2::5", "2001:db8:85a3::8a2e:370:7334").as_deref(),
        Some("api.example.net")
    );
}

#[test]
fn an_address_asked_by_another_host_of_the_vpc_names_it_when_the_host_did_not_ask() {
    let a = [("A", "198.51.100.7")];
    let dns = answers(&[
        query(T0 - 10, "10.0.2.9", "other-host.example.com", &a),
        query(T0 - 20, "10.0.1.5", "own.example.com", &a),
    ]);
    // The host's own answer wins over a later one to another host.
    assert_eq!(
        name_at(&dns, "10.0.1.5", "198.51.100.7").as_deref(),
        Some("own.example.com")
    );
    assert_eq!(
        name_at(&dns, "10.0.3.3", "198.51.100.7").as_deref(),
        Some("other-host.example.com")
    );
}

#[test]
fn queries_not_answered_with_noerror_are_ignored() {
    let a = [("A", "198.51.100.7")];
    let mut servfail = query(T0, "10.0.1.5", "broken.example.com", &a);
    servfail.rcode = "SERVFAIL".to_string();
    let mut nxdomain = query(T0, "10.0.1.5", "missing.example.com", &[]);
    nxdomain.rcode = "NXDOMAIN".to_string();
    let dns = answers(&[servfail, nxdomain]);
    assert_eq!(name_at(&dns, "10.0.1.5", "198.51.100.7"), None);
    assert_eq!((dns.queries, dns.ignored), (0, 2));
    assert!(dns.is_empty());
}

fn dns_only(dns: &DnsAnswers) -> NameSources<'_> {
    NameSources {
        dns: Some(dns),
        ranges: None,
        max_age_seconds: MAX_AGE,
    }
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from("../fixtures").join(name)
}

fn fixture_answers(name: &str) -> DnsAnswers {
    DnsAnswers::read(&[fixture(name)], None).unwrap()
}

#[test]
fn a_folder_of_query_logs_is_read_whole_and_filtered_by_vpc() {
    let all = DnsAnswers::read(&[fixture("dns")], None).unwrap();
    // aws-example.json (1 PTR) + the JSON Lines file and its gzip copy (5 answered each, 2 not).
    assert_eq!((all.queries, all.ignored, all.malformed), (8, 5, 0));
    let other = DnsAnswers::read(&[fixture("dns")], Some("vpc-0other")).unwrap();
    assert!(other.is_empty());
}

#[test]
fn lines_of_the_query_logs_that_are_no_records_are_a_warning() {
    let mut report = build_report(
        &[fixture("reports/nat-four-legs.log")],
        &ReportOptions::default(),
    )
    .unwrap();
    let dns = DnsAnswers {
        malformed: 2,
        ..DnsAnswers::default()
    };
    report.name_remotes(&dns_only(&dns));
    assert!(
        report.summary.warnings.contains(
            &"2 line(s) of the DNS query logs held no query-log record and were skipped"
                .to_string()
        ),
        "{:?}",
        report.summary.warnings
    );
}

#[test]
fn the_documented_example_is_read_and_its_ptr_answer_names_nothing() {
    let dns = fixture_answers("dns/aws-example.json");
    assert_eq!((dns.queries, dns.ignored), (0, 1));
}

#[test]
fn a_report_names_its_remotes_and_states_the_bytes_named() {
    let opts = ReportOptions {
        top: 0,
        ..ReportOptions::default()
    };
    let mut report = build_report(&[fixture("reports/nat-cloudwatch.log")], &opts).unwrap();
    let dns = fixture_answers("dns/nat-cloudwatch.queries.jsonl.gz");
    report.name_remotes(&dns_only(&dns));
    // Behind a CNAME chain; destinations have no internal host, so any host's answer names them.
    let docker = report
        .destinations
        .iter()
        .find(|d| d.remote_addr == "203.0.113.5");
    assert_eq!(
        docker.and_then(|d| d.remote_name.as_deref()),
        Some("registry-1.docker.io")
    );
    report.cut_to_top(3);

    let named: Vec<(&str, Option<&str>)> = report
        .talkers
        .iter()
        .map(|t| (t.remote_addr.as_deref().unwrap(), t.remote_name.as_deref()))
        .collect();
    assert_eq!(
        named,
        [
            ("52.216.8.1", Some("my-bucket.s3.us-east-1.amazonaws.com")),
            ("54.239.1.1", None),
            // Asked by 10.0.1.9, not by the talker 10.0.2.7: any host of the VPC names it.
            ("52.94.24.10", Some("dynamodb.us-east-1.amazonaws.com")),
        ]
    );
    let names = report.remote_names.as_ref().unwrap();
    let labels: Vec<(&str, u64)> = names
        .domains
        .iter()
        .map(|d| (d.label.as_str(), d.bytes_total))
        .collect();
    assert_eq!(
        labels,
        [
            ("amazonaws.com (S3, us-east-1)", 3_012_000),
            ("amazonaws.com (DynamoDB, us-east-1)", 940_000),
            ("docker.io", 57_200),
        ]
    );
    // The EC2 remote's only answer was SERVFAIL; the DNS server's remote was never asked.
    assert_eq!(names.bytes_named, 3_012_000 + 940_000 + 57_200);
    assert_eq!(names.bytes_total, 6_036_800);
    assert!(
        report
            .summary
            .notes
            .iter()
            .any(|n| n == "remote names: 4.01 MB named of 6.04 MB (66.41%)"),
        "{:?}",
        report.summary.notes
    );
    assert!(
        report
            .summary
            .notes
            .iter()
            .any(|n| n.starts_with("4.01 MB of it named from 4 answered DNS queries")),
        "{:?}",
        report.summary.notes
    );
}

#[test]
fn golden_named_report() {
    let opts = ReportOptions {
        top: 0,
        ..ReportOptions::default()
    };
    let mut report = build_report(&[fixture("reports/nat-cloudwatch.log")], &opts).unwrap();
    let dns = fixture_answers("dns/nat-cloudwatch.queries.jsonl");
    let ranges = AwsRanges::bundled();
    // The fixture's records name a service for every AWS remote: the ranges label nothing.
    report.name_remotes(&NameSources {
        ranges: Some(&ranges),
        ..dns_only(&dns)
    });
    report.cut_to_top(crate::DEFAULT_TOP);
    let golden = crate::golden::golden;
    golden(
        "nat-cloudwatch.named.terminal.golden",
        &crate::render::terminal(&report),
    );
    golden(
        "nat-cloudwatch.named.email.golden",
        &crate::render::email_summary(&report),
    );
    let json: serde_json::Value =
        serde_json::from_str(&crate::render::json(&report).unwrap()).unwrap();
    assert_eq!(
        json["talkers"][0]["remote_name"],
        "my-bucket.s3.us-east-1.amazonaws.com"
    );
    assert_eq!(json["remote_names"]["bytes_named"], 4_009_200);
    assert_eq!(json["remote_names"]["domains"][2]["domain"], "docker.io");
}

#[test]
fn without_dns_a_remote_in_aws_ranges_is_labelled_with_its_service_and_region() {
    let ranges = AwsRanges::bundled();
    let sources = NameSources {
        dns: None,
        ranges: Some(&ranges),
        max_age_seconds: MAX_AGE,
    };
    let flows = fixture("reports/s3-eu-west-1-legs.log");
    let mut report = build_report(&[flows], &ReportOptions::default()).unwrap();
    report.name_remotes(&sources);
    assert_eq!(
        report.talkers[0].remote_name.as_deref(),
        Some("S3 eu-west-1")
    );
    assert_eq!(
        report.destinations[0].remote_name.as_deref(),
        Some("S3 eu-west-1")
    );
    let names = report.remote_names.as_ref().unwrap();
    assert_eq!((names.bytes_named, names.bytes_named_dns), (57_200, 0));
    assert_eq!(names.ip_ranges_date.as_deref(), Some("2026-08-22-21-17-05"));
    assert_eq!(names.domains[0].label, "amazonaws.com (S3, eu-west-1)");

    // Outside AWS, and without query logs: the report is left as it was.
    let flows = fixture("reports/nat-four-legs.log");
    let mut report = build_report(&[flows], &ReportOptions::default()).unwrap();
    report.name_remotes(&sources);
    assert_eq!(report.talkers[0].remote_name, None);
    assert!(report.remote_names.is_none());
}

#[test]
fn a_dns_name_wins_over_the_aws_ranges_label() {
    let ranges = AwsRanges::bundled();
    let dns = answers(&[query(
        1_714_557_600,
        "10.0.1.5",
        "my-bucket.s3.eu-west-1.amazonaws.com",
        &[("A", "52.218.0.5")],
    )]);
    let flows = fixture("reports/s3-eu-west-1-legs.log");
    let mut report = build_report(&[flows], &ReportOptions::default()).unwrap();
    report.name_remotes(&NameSources {
        dns: Some(&dns),
        ranges: Some(&ranges),
        max_age_seconds: MAX_AGE,
    });
    assert_eq!(
        report.talkers[0].remote_name.as_deref(),
        Some("my-bucket.s3.eu-west-1.amazonaws.com")
    );
    let names = report.remote_names.as_ref().unwrap();
    assert_eq!(names.bytes_named_dns, 57_200);
    assert_eq!(names.ip_ranges_date, None);
}
