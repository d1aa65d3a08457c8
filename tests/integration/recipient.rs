//! What the recipient gets, against moto with the real binary: a NAT in eu-west-1 whose region
//! comes only from `AWS_REGION` (as `init` advises), Name-tagged instances behind it, a route
//! table sending 0.0.0.0/0 to it, and an SNS topic read back through an HTTP endpoint (the
//! e-mail text) and an SQS queue. The job's own report and e-mail carry eu-west-1's prices and
//! commands, the owners' names, the real VPC and route-table ids, whole commands and the
//! 30-day monthly figure; `report` on the recording's folder gives the same tables. With
//! `notify.chat`, the queue reads the chat custom-notification format; a spike the budget kept
//! from being recorded is told once, and not at all once switched off.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

use crate::support::eu::*;
use crate::support::moto::{Moto, moto, put_nat_metric, put_spike};
use crate::support::run::{Setup, minute_now, text};
use crate::support::subscribers::{Subscribers, rec_dir};
use crate::support::vpc::{instance, private_subnet};

/// Whether `text` shows a number in exponent notation (`2.5e8`, `1e9`) as a word of its own.
fn has_exponent_number(text: &str) -> bool {
    text.split_whitespace()
        .map(|w| w.trim_matches(|c: char| ",;:()[]$".contains(c)))
        .any(|w| w.contains(['e', 'E']) && w.parse::<f64>().is_ok_and(f64::is_finite))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_jobs_report_and_email_are_right_for_a_nat_in_eu_west_1() {
    let moto: &Moto = moto();
    let eu = eu_nat(moto, 83, "eu").await;
    let (ec2, cw, nat, subscribers) = (&eu.ec2, &eu.cw, &eu.nat, &eu.subscribers);
    let private = private_subnet(ec2, nat, 83).await;
    let web = "10.83.1.10";
    let batch = "10.83.1.11";
    instance(ec2, &private.subnet_id, web, "web-1").await;
    instance(ec2, &private.subnet_id, batch, "batch-2").await;
    let setup = eu.setup(moto, "");

    let t = minute_now() - TimeDelta::minutes(30);
    // The NAT's 30 whole days before the day the recording stops: 100 GB a day.
    let stop_day = (t + TimeDelta::minutes(6))
        .duration_trunc(TimeDelta::days(1))
        .unwrap();
    let days = |v: f64| -> Vec<(DateTime<Utc>, f64)> {
        (1..=30)
            .map(|d| (stop_day - TimeDelta::days(d) + TimeDelta::hours(12), v))
            .collect()
    };
    put_nat_metric(
        cw,
        &nat.nat_gateway_id,
        "BytesInFromSource",
        &days(DAILY_IN_FROM_SOURCE),
    )
    .await;
    put_nat_metric(
        cw,
        &nat.nat_gateway_id,
        "BytesInFromDestination",
        &days(DAILY_IN_FROM_DESTINATION),
    )
    .await;

    eu.record(&setup, (web, batch), t).await;

    // The job's own report: eu-west-1's prices, the owners, the 30 days.
    let dir = rec_dir(&setup);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report/report.json")).unwrap())
            .unwrap();
    let prices = &report["summary"]["prices"];
    assert_eq!(prices["region"], REGION, "{prices}");
    assert_eq!(prices["nat_per_gb"], 0.048, "{prices}");
    assert_eq!(report["summary"]["malformed_lines"], 0);
    let owners: Vec<&str> = report["talkers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["owner"].as_str())
        .collect();
    assert!(owners.iter().any(|o| o.contains("web-1")), "{owners:?}");
    assert!(owners.iter().any(|o| o.contains("batch-2")), "{owners:?}");
    let month = &report["month"];
    assert_eq!(month["days"], 30, "{month}");
    let bytes = month["bytes"].as_u64().unwrap();
    assert!(
        (2_999_000_000_000..3_002_000_000_000).contains(&bytes),
        "{month}"
    );

    // The e-mail as a recipient reads it.
    let messages = subscribers.http.notifications();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let email = &messages[0].1;
    let s3_command = format!(
        "aws ec2 create-vpc-endpoint --region eu-west-1 --vpc-id {} --vpc-endpoint-type Gateway --service-name com.amazonaws.eu-west-1.s3 --route-table-ids {}",
        nat.vpc_id, private.route_table_id
    );
    assert!(
        email.lines().any(|l| l.trim() == s3_command),
        "no whole S3 command in:\n{email}"
    );
    assert!(
        email.contains("com.amazonaws.eu-west-1.dynamodb"),
        "{email}"
    );
    assert!(email.contains("at $0.048/GB (eu-west-1)"), "{email}");
    assert!(
        email.contains("web-1") && email.contains("batch-2"),
        "{email}"
    );
    assert!(
        email.contains("Last 30 days: 3.00 TB through the NAT"),
        "{email}"
    );
    assert!(
        email.contains("/month at the NAT's last-30-days volume"),
        "{email}"
    );
    assert!(email.contains("notify.report_s3_uri"), "{email}");
    for absent in ["us-east-1", "<vpc-id>", "<route-table-id>"] {
        assert!(!email.contains(absent), "`{absent}` in:\n{email}");
    }
    assert!(!email.lines().any(|l| l.ends_with("...")), "{email}");
    // The report's part of the message (after the recording's header lines).
    let (_, summary) = email.split_once("\n\n").unwrap();
    assert!(!has_exponent_number(summary), "{summary}");

    // `report` on the recording's folder, offline from its caches, with a leftover temporary
    // file and the report folder beside the flow logs: the same tables, nothing malformed.
    std::fs::write(dir.join("eni-0dead.log.gz.tmp"), b"half an export").unwrap();
    let o = setup.run(
        &["report", dir.to_str().unwrap(), "--json", "--no-enrich"],
        t + TimeDelta::minutes(13),
    );
    assert!(o.status.success(), "{}", text(&o));
    let offline: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(offline["summary"]["malformed_lines"], 0);
    assert_eq!(offline["summary"]["files_read"], 1);
    assert_eq!(offline["summary"]["prices"]["region"], REGION);
    assert_eq!(
        offline["summary"]["bytes_total"],
        report["summary"]["bytes_total"]
    );
    let rows = |r: &serde_json::Value| -> Vec<(String, u64)> {
        r["talkers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["internal_addr"].as_str().unwrap().to_owned(),
                    t["bytes_total"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(rows(&offline), rows(&report));
    assert_eq!(offline["month"]["bytes"], month["bytes"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn chat_gets_the_custom_notification_format_and_a_spent_budget_is_told_once() {
    let moto: &Moto = moto();
    let eu = eu_nat(moto, 84, "chat").await;
    let (cw, nat, subscribers) = (&eu.cw, &eu.nat, &eu.subscribers);
    let config = |budget_notice: bool| {
        eu.config(&format!(
            "chat = true\non_budget_exhausted = {budget_notice}"
        ))
        .replacen(
            "settle_seconds = 300",
            "settle_seconds = 300\nmax_recordings = 1",
            1,
        )
    };
    let setup = Setup::with_config(moto, &config(true));
    let t = minute_now() - TimeDelta::minutes(60);

    eu.record(&setup, ("10.84.0.10", "10.84.0.11"), t).await;

    // The queue reads the chat format, with the schema's required fields.
    let queued = subscribers.queued(moto);
    assert_eq!(queued.len(), 1, "{queued:?}");
    let chat: serde_json::Value =
        serde_json::from_str(queued[0]["Message"].as_str().unwrap()).expect("chat JSON");
    assert_eq!(chat["version"], "1.0", "{chat}");
    assert_eq!(chat["source"], "custom", "{chat}");
    assert_eq!(chat["content"]["textType"], "client-markdown", "{chat}");
    let title = chat["content"]["title"].as_str().unwrap();
    assert!(title.contains(&nat.nat_gateway_id), "{chat}");
    let description = chat["content"]["description"].as_str().unwrap();
    assert!(description.contains("*Top talkers*"), "{description}");
    assert!(description.contains("`10.84.0.10`"), "{description}");
    assert!(
        description.contains("*Top fix*: S3: gateway endpoint"),
        "{description}"
    );
    assert!(
        description.contains("notify.report_s3_uri"),
        "{description}"
    );
    // An HTTP(S) endpoint, as Amazon Q Developer subscribes, reads the same; e-mail keeps its
    // text (the `email` variant, also in the report folder).
    let http = &subscribers.http.notifications()[0].1;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(http).unwrap(),
        chat
    );
    let email = std::fs::read_to_string(rec_dir(&setup).join("report/email.txt")).unwrap();
    assert!(email.starts_with("Through the NAT: "), "{email}");

    // Calm minutes `from..spike` (a check sees the trigger OK again), then a spike at `spike`.
    let calm_then_spike = async |setup: &Setup, from: i64, spike: i64| {
        let calm: Vec<(DateTime<Utc>, f64)> = (from..spike)
            .map(|m| (t + TimeDelta::minutes(m), 1_000.0))
            .collect();
        put_nat_metric(cw, &nat.nat_gateway_id, "BytesInFromSource", &calm).await;
        run(setup, &["check"], t + TimeDelta::minutes(spike - 1));
        let minute = t + TimeDelta::minutes(spike);
        put_spike(cw, &nat.nat_gateway_id, "BytesInFromSource", minute).await;
    };

    // A second spike: the budget (1) is spent; told once for the spike, however many checks.
    calm_then_spike(&setup, 6, 20).await;
    for m in [21, 22] {
        let o = run(&setup, &["check"], t + TimeDelta::minutes(m));
        assert!(o.status.success(), "{}", text(&o));
    }
    // Every delivery so far, to the HTTP endpoint (what an e-mail subscriber gets).
    let told = |subscribers: &Subscribers| -> usize {
        subscribers
            .http
            .notifications()
            .iter()
            .filter(|(subject, _)| subject.contains("NOT recorded: budget spent"))
            .count()
    };
    assert_eq!(told(subscribers), 1);
    let kinds = |setup: &Setup| {
        setup
            .events()
            .iter()
            .filter(|e| e["type"] == "BudgetExhausted")
            .count()
    };
    assert_eq!(kinds(&setup), 1);

    // Switched off: the next spike is noted in the log but not told.
    std::fs::write(setup.dir.path().join("nat-flowrec.toml"), config(false)).unwrap();
    calm_then_spike(&setup, 21, 35).await;
    let o = run(&setup, &["check"], t + TimeDelta::minutes(36));
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(kinds(&setup), 2);
    assert_eq!(told(subscribers), 1);
}
