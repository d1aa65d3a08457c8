//! The VPC's DNS queries recorded with the flow logs (`recording.dns_query_logs`), against moto
//! started through `tests/moto_launcher.py`: a spike creates a Route 53 Resolver query-logging
//! configuration tagged like the flow logs and associates it with the NAT's VPC; an orphan of ours
//! past its deadline goes at the next `check`; the stop disassociates and deletes ours; someone
//! else's configuration on another VPC is never touched; and the job's report names the top
//! talker's remote from the query-log records (moto writes none: they are seeded as Resolver
//! writes them to CloudWatch Logs, in AWS's documented shape).

use std::collections::BTreeSet;

use chrono::{DateTime, TimeDelta, Utc};
use nat_flowrec::aws::RECORD_OPERATIONS_ENV;
use nat_flowrec::iam_policy::{AUTHORIZATION_ONLY, granted_actions};
use nat_flowrec::ports::{TAG_DEADLINE, TAG_NAT_GATEWAY, TAG_RECORDING};

use crate::support::moto::{
    moto, put_calm_metrics, put_log_events, put_spike, query_log_associations, query_log_configs,
    resolver, seed_nat, seed_query_log_config,
};
use crate::support::records::four_legs;
use crate::support::run::{Setup, assert_started, config, minute_now, nat_flowrec, text};
use crate::support::subscribers::rec_dir;

/// The top talker: 10.81.0.50 pulls images from Docker Hub, per minute.
const DOCKER_OUT: u64 = 2_000_000;
const DOCKER_IN: u64 = 40_000_000;
const DOCKER_REMOTE: &str = "203.0.113.80";
/// A smaller talker whose remote only another VPC's query names: it stays an address.
const OTHER_OUT: u64 = 100_000;
const OTHER_IN: u64 = 300_000;
const OTHER_REMOTE: &str = "198.51.100.7";

/// One query-log record as Route 53 Resolver writes it to CloudWatch Logs (the Developer
/// Guide's "Resolver query log example" fields).
fn query_record(
    vpc: &str,
    at: DateTime<Utc>,
    client: &str,
    name: &str,
    answers: &[(&str, &str)],
) -> String {
    let answers: Vec<serde_json::Value> = answers
        .iter()
        .map(|(rtype, rdata)| serde_json::json!({"Rdata": rdata, "Type": rtype, "Class": "IN"}))
        .collect();
    serde_json::json!({
        "version": "1.100000",
        "account_id": "123456789012",
        "region": "us-east-1",
        "vpc_id": vpc,
        "query_timestamp": at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "query_name": name,
        "query_type": "A",
        "query_class": "IN",
        "rcode": "NOERROR",
        "answers": answers,
        "srcaddr": client,
        "srcport": "53211",
        "transport": "UDP",
        "srcids": {"instance": "i-0123456789abcdef0"}
    })
    .to_string()
}

fn tag_of<'a>(tags: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    tags["Tags"]
        .as_array()?
        .iter()
        .find(|t| t["Key"] == key)
        .and_then(|t| t["Value"].as_str())
}

/// A spike in the minute two before `t`, then `check` at `t` (with `env`): it starts recording.
async fn spike_then_check(
    setup: &Setup,
    cw: &aws_sdk_cloudwatch::Client,
    nat: &str,
    t: DateTime<Utc>,
    env: &[(&str, &str)],
) -> std::process::Output {
    put_spike(cw, nat, "BytesInFromSource", t - TimeDelta::minutes(2)).await;
    let o = setup.run_with_env(&["check"], t, env);
    assert_started(&o);
    o
}

/// The recording the first event of `kind` names.
fn recording_of(setup: &Setup, kind: &str) -> String {
    setup
        .events()
        .iter()
        .find(|e| e["type"] == kind)
        .and_then(|e| e["recording_id"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("no {kind} event"))
}

fn event_kinds(setup: &Setup) -> Vec<String> {
    setup
        .events()
        .iter()
        .filter_map(|e| e["type"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_spike_records_the_vpcs_dns_queries_and_the_report_names_the_top_talkers_remote() {
    let moto = moto();
    let sdk = moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    let nat = seed_nat(&ec2, 81).await;
    let other_vpc = seed_nat(&ec2, 82).await.vpc_id;
    let group = format!("/nat-flowrec/dnsrec-{}", nat.nat_gateway_id);
    let dns_group = format!("/nat-flowrec/dns-{}", nat.nat_gateway_id);
    let setup = Setup::with_config(
        moto,
        &config(
            &nat.nat_gateway_id,
            &group,
            &format!(
                "settle_seconds = 300\ndns_query_logs = true\ndns_log_group = \"{dns_group}\"\n\n[report]\nout_dir = \"reports\""
            ),
        ),
    );
    // Every AWS operation the runs make, for the least-privilege check at the end.
    let ops_file = setup.dir.path().join("operations.txt");
    let ops = ops_file.to_string_lossy().to_string();
    let env = [(RECORD_OPERATIONS_ENV, ops.as_str())];
    // Someone else logs another VPC's queries: it must survive everything below.
    let foreign = seed_query_log_config(
        moto,
        &format!("/audit/dns-{other_vpc}"),
        serde_json::json!([{"Key": "Name", "Value": "audit"}]),
        Some(&other_vpc),
    );

    // Given a spike, check starts a recording and logs the NAT's VPC's queries, tagged as ours.
    let t = minute_now() - TimeDelta::minutes(30);
    let o = spike_then_check(&setup, &cw, &nat.nat_gateway_id, t, &env).await;
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&format!(
            "logging the DNS queries of {} to {dns_group}",
            nat.vpc_id
        )),
        "{}",
        text(&o)
    );
    let recording_id = recording_of(&setup, "RecordingStarted");
    let ours: Vec<serde_json::Value> = query_log_configs(moto)
        .into_iter()
        .filter(|c| c["CreatorRequestId"] == recording_id.as_str())
        .collect();
    assert_eq!(ours.len(), 1, "one configuration of ours: {ours:?}");
    let ours_id = ours[0]["Id"].as_str().expect("Id").to_owned();
    assert!(
        ours[0]["DestinationArn"]
            .as_str()
            .is_some_and(|arn| arn.ends_with(&format!(":log-group:{dns_group}"))),
        "{ours:?}"
    );
    let (_, tags) = resolver(
        moto,
        "ListTagsForResource",
        serde_json::json!({"ResourceArn": ours[0]["Arn"]}),
    );
    assert_eq!(tag_of(&tags, TAG_RECORDING), Some(recording_id.as_str()));
    assert_eq!(
        tag_of(&tags, TAG_NAT_GATEWAY),
        Some(nat.nat_gateway_id.as_str())
    );
    assert!(tag_of(&tags, TAG_DEADLINE).is_some(), "{tags}");
    assert!(
        query_log_associations(moto).contains(&(ours_id.clone(), nat.vpc_id.clone())),
        "ours is associated with the NAT's VPC"
    );
    assert!(event_kinds(&setup).contains(&"QueryLoggingStarted".to_owned()));

    // An orphan of ours (a crash before its recording was written down), past its deadline: the
    // next check disassociates and deletes it, and keeps the running recording's.
    let orphan = seed_query_log_config(
        moto,
        &format!("{dns_group}-orphan"),
        serde_json::json!([
            {"Key": TAG_RECORDING, "Value": format!("{recording_id}-orphan")},
            {"Key": TAG_NAT_GATEWAY, "Value": nat.nat_gateway_id},
            {"Key": TAG_DEADLINE, "Value": (t - TimeDelta::hours(1)).to_rfc3339()},
        ]),
        Some(&nat.vpc_id),
    );
    let o = setup.run_with_env(&["check"], t + TimeDelta::minutes(1), &env);
    assert!(o.status.success(), "{}", text(&o));
    let ids: Vec<String> = query_log_configs(moto)
        .iter()
        .filter_map(|c| c["Id"].as_str().map(str::to_owned))
        .collect();
    assert!(
        !ids.contains(&orphan),
        "the orphan outlived its deadline plus one tick"
    );
    assert!(
        ids.contains(&ours_id),
        "the running recording's configuration stays"
    );
    assert!(event_kinds(&setup).contains(&"StrayQueryLoggingDeleted".to_owned()));

    // What the flow log and the resolver deliver: the top talker's remote is named through a
    // CNAME chain; the smaller one's remote is named only by another VPC's query.
    let nat_ip = nat.private_ip.to_string();
    let (docker_host, other_host) = ("10.81.0.50", "10.81.0.51");
    let mut flows: Vec<(i64, String)> = Vec::new();
    for m in 0..6 {
        let ts = (t + TimeDelta::minutes(m)).timestamp_millis();
        for line in four_legs(
            &nat_ip,
            docker_host,
            DOCKER_REMOTE,
            "-",
            DOCKER_OUT,
            DOCKER_IN,
        ) {
            flows.push((ts, line));
        }
        for line in four_legs(&nat_ip, other_host, OTHER_REMOTE, "-", OTHER_OUT, OTHER_IN) {
            flows.push((ts + 1, line));
        }
    }
    put_log_events(&logs, &group, &format!("{}-all", nat.eni), &flows).await;
    let asked = t + TimeDelta::seconds(5);
    let queries = vec![
        (
            asked.timestamp_millis(),
            query_record(
                &nat.vpc_id,
                asked,
                docker_host,
                "registry-1.docker.io.",
                &[
                    ("CNAME", "registry-1.docker.io.cdn.example.net."),
                    ("CNAME", "prod-registry.edge.example.net."),
                    ("A", DOCKER_REMOTE),
                ],
            ),
        ),
        (
            asked.timestamp_millis(),
            query_record(
                &other_vpc,
                asked,
                "10.82.0.9",
                "elsewhere.example.org.",
                &[("A", OTHER_REMOTE)],
            ),
        ),
    ];
    put_log_events(
        &logs,
        &dns_group,
        &format!("{}_{ours_id}", nat.vpc_id),
        &queries,
    )
    .await;
    put_calm_metrics(
        &cw,
        &nat.nat_gateway_id,
        t,
        0..6,
        (DOCKER_OUT + OTHER_OUT) as f64,
        (DOCKER_IN + OTHER_IN) as f64,
    )
    .await;

    // When the trigger is OK, the stop disassociates and deletes ours; the foreign one stays.
    let o = setup.run_with_env(&["check"], t + TimeDelta::minutes(6), &env);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("stopped recording"),
        "{}",
        text(&o)
    );
    let ids: Vec<String> = query_log_configs(moto)
        .iter()
        .filter_map(|c| c["Id"].as_str().map(str::to_owned))
        .collect();
    assert!(!ids.contains(&ours_id), "ours outlived the stop: {ids:?}");
    assert!(ids.contains(&foreign), "the foreign configuration is gone");
    let associations = query_log_associations(moto);
    assert!(
        !associations.iter().any(|(id, _)| *id == ours_id),
        "{associations:?}"
    );
    assert!(
        associations.contains(&(foreign.clone(), other_vpc.clone())),
        "the foreign association is gone: {associations:?}"
    );
    assert!(event_kinds(&setup).contains(&"QueryLoggingStopped".to_owned()));

    // Settled: the export writes the VPC's queries beside the flow logs, and the report names
    // the top talker's remote, with the bytes named stated.
    let o = setup.run_with_env(&["check"], t + TimeDelta::minutes(12), &env);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&format!(
            "and 1 DNS queries of {} from {dns_group}",
            nat.vpc_id
        )),
        "{}",
        text(&o)
    );
    let dir = rec_dir(&setup);
    assert!(dir.join(nat_flowrec_parsers::DNS_EXPORT_FILE).is_file());
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report/report.json")).unwrap())
            .unwrap();
    let top = &report["talkers"][0];
    assert_eq!(top["internal_addr"], docker_host);
    assert_eq!(top["remote_addr"], DOCKER_REMOTE);
    assert_eq!(top["remote_name"], "registry-1.docker.io", "{top}");
    let other = report["talkers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["remote_addr"] == OTHER_REMOTE)
        .expect("the smaller talker");
    assert!(
        other["remote_name"].is_null(),
        "another VPC's answer named it: {other}"
    );
    let names = &report["remote_names"];
    assert_eq!(names["bytes_named_dns"], 6 * (DOCKER_OUT + DOCKER_IN));
    assert_eq!(
        names["bytes_total"],
        6 * (DOCKER_OUT + DOCKER_IN + OTHER_OUT + OTHER_IN)
    );
    let email = std::fs::read_to_string(dir.join("report/email.txt")).unwrap();
    assert!(
        email.contains("Remote names: 252.00 MB of 254.40 MB went to named remotes")
            && email.contains(&format!(
                "DNS names from the VPC's queries logged to {dns_group}"
            )),
        "{email}"
    );

    // Offline, `report` on the recording's folder reads the recorded queries too.
    let offline = setup.dir.path().join("offline");
    let o = setup.run_with_env(
        &[
            "report",
            &dir.to_string_lossy(),
            "--out",
            &offline.to_string_lossy(),
        ],
        t + TimeDelta::minutes(13),
        &env,
    );
    assert!(o.status.success(), "{}", text(&o));
    let again: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(offline.join("report.json")).unwrap())
            .unwrap();
    assert_eq!(again["talkers"][0]["remote_name"], "registry-1.docker.io");

    // Least privilege: `iam-policy` grants every operation called, and of Route 53 Resolver
    // nothing but what was called or what IAM checks inside another call.
    let called: BTreeSet<String> = std::fs::read_to_string(&ops_file)
        .expect("the interceptor wrote the operations file")
        .lines()
        .map(str::to_owned)
        .collect();
    for op in [
        "route53resolver:CreateResolverQueryLogConfig",
        "route53resolver:DeleteResolverQueryLogConfig",
    ] {
        assert!(called.contains(op), "{op} not recorded: {called:?}");
    }
    let o = nat_flowrec(setup.dir.path())
        .args(["iam-policy", "--part", "job"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let granted = granted_actions(&serde_json::from_slice(&o.stdout).unwrap());
    let missing: Vec<&String> = called.difference(&granted).collect();
    assert!(missing.is_empty(), "called but not granted: {missing:?}");
    let implied: Vec<&str> = AUTHORIZATION_ONLY.iter().map(|(a, _)| *a).collect();
    let unused: Vec<&String> = granted
        .iter()
        .filter(|a| a.starts_with("route53resolver:"))
        .filter(|a| !called.contains(*a) && !implied.contains(&a.as_str()))
        .collect();
    assert!(unused.is_empty(), "granted but never called: {unused:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_vpc_that_already_logs_its_queries_is_read_from_and_nothing_is_created() {
    let moto = moto();
    let sdk = moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let nat = seed_nat(&ec2, 83).await;
    let audit = format!("/audit/dns-{}", nat.vpc_id);
    let theirs = seed_query_log_config(
        moto,
        &audit,
        serde_json::json!([{"Key": "Name", "Value": "audit"}]),
        Some(&nat.vpc_id),
    );
    let setup = Setup::with_config(
        moto,
        &config(
            &nat.nat_gateway_id,
            &format!("/nat-flowrec/reuse-{}", nat.nat_gateway_id),
            "dns_query_logs = true",
        ),
    );
    let t = minute_now() - TimeDelta::minutes(30);
    let o = spike_then_check(&setup, &cw, &nat.nat_gateway_id, t, &[]).await;
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&format!(
            "DNS names from the VPC's existing query logging to {audit} (nothing created)"
        )),
        "{}",
        text(&o)
    );
    let recording_id = recording_of(&setup, "QueryLoggingReused");
    assert!(
        !query_log_configs(moto)
            .iter()
            .any(|c| c["CreatorRequestId"] == recording_id.as_str()),
        "a configuration was created although the VPC already logs its queries"
    );
    // The stop leaves theirs as it was.
    put_calm_metrics(&cw, &nat.nat_gateway_id, t, 0..6, 1_000.0, 1_000.0).await;
    let o = setup.run(&["check"], t + TimeDelta::minutes(6));
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        query_log_associations(moto).contains(&(theirs, nat.vpc_id.clone())),
        "the VPC's own query logging was touched"
    );
}
