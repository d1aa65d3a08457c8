//! The job's own API bill: what one `check` tick asks of AWS, counted by the proxy in front of
//! moto. CloudWatch charges GetMetricData per metric requested and every call costs a little
//! quota, so the tick must batch: all NAT gateways and metrics in one GetMetricData, one
//! DescribeNatGateways, one DescribeFlowLogs (README "What the job itself costs"). A NAT gateway
//! with a trigger of its own, and a recording's log-group ingestion, ride in the same call.

use chrono::{DurationRound, TimeDelta, Utc};

use crate::support::moto::{SeededNat, moto, put_nat_metric, seed_nat};
use crate::support::proxy::Proxy;
use crate::support::run::{nat_flowrec, run_in, text};

const NATS: usize = 50;

/// The GetMetricData calls the proxy saw: (those reading the trigger's metrics, those reading
/// connection metrics for a start's estimate).
fn metric_reads(proxy: &Proxy) -> (usize, usize) {
    let bodies = proxy.query_bodies("GetMetricData");
    let connections = bodies
        .iter()
        .filter(|b| b.contains("ActiveConnectionCount"))
        .count();
    (bodies.len() - connections, connections)
}

/// `NATS` NAT gateways in VPCs `10.<first_octet>.0.0/16` and on.
async fn seed_nats(ec2: &aws_sdk_ec2::Client, first_octet: u8) -> Vec<SeededNat> {
    let mut nats = Vec::new();
    for i in 0..NATS {
        nats.push(seed_nat(ec2, first_octet + i as u8).await);
    }
    nats
}

#[tokio::test(flavor = "multi_thread")]
async fn a_check_tick_for_50_nat_gateways_batches_its_aws_calls() {
    let moto = moto();
    let sdk = moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let nats = seed_nats(&ec2, 150).await;
    let t = Utc::now().duration_trunc(TimeDelta::minutes(1)).unwrap();
    // One NAT spikes, so the tick also starts a recording; the others are calm.
    put_nat_metric(
        &cw,
        &nats[0].nat_gateway_id,
        "BytesInFromSource",
        &[(t - TimeDelta::minutes(2), 5e8)],
    )
    .await;
    for nat in &nats[1..] {
        put_nat_metric(
            &cw,
            &nat.nat_gateway_id,
            "BytesInFromSource",
            &[(t - TimeDelta::minutes(2), 1e3)],
        )
        .await;
    }

    let dir = tempfile::tempdir().unwrap();
    let ids: Vec<String> = nats
        .iter()
        .map(|n| format!("\"{}\"", n.nat_gateway_id))
        .collect();
    std::fs::write(
        dir.path().join("nat-flowrec.toml"),
        format!(
            "region = \"us-east-1\"\nnat_gateway_ids = [{}]\nstate = \"events.jsonl\"\n[recording]\nlog_group = \"/nat-flowrec/api-calls\"\ndeliver_logs_role_arn = \"arn:aws:iam::123456789012:role/d\"\nmax_cost_usd = 5.0\n[nats.\"{}\"]\nperiod_seconds = 300\nthreshold_bytes = \"1GB\"\n",
            ids.join(", "),
            nats[1].nat_gateway_id
        ),
    )
    .unwrap();
    let proxy = Proxy::start(&moto.endpoint);
    let o = nat_flowrec(dir.path())
        .args([
            "check",
            "--endpoint-url",
            &proxy.endpoint,
            "--now",
            &t.to_rfc3339(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    // Only this test's NATs: the shared moto also holds other tests' tagged flow logs, which
    // this tick adopts (and notes) under their own NATs' lines.
    let own_trigger = |l: &&str| {
        nats.iter()
            .any(|n| l.starts_with(&format!("{}: trigger ", n.nat_gateway_id)))
            && !l.contains(": trigger changed")
    };
    assert_eq!(
        stdout.lines().filter(own_trigger).count(),
        NATS,
        "one trigger line per NAT: {stdout}"
    );
    assert!(stdout.contains("started recording"), "{stdout}");

    let calls = proxy.calls();
    let count = |action: &str| calls.iter().filter(|c| *c == action).count();
    let (trigger_reads, connection_reads) = metric_reads(&proxy);
    assert_eq!(trigger_reads, 1, "100 queries fit one call: {calls:?}");
    // A tick where a start may happen also reads the starting NAT's connection metrics, for
    // the start's cost estimate: one more call, on such ticks only.
    assert_eq!(connection_reads, 1, "{calls:?}");
    assert_eq!(count("DescribeFlowLogs"), 1, "{calls:?}");
    assert_eq!(count("DescribeNatGateways"), 1, "{calls:?}");
    assert_eq!(
        count("CreateFlowLogs"),
        1,
        "only the spiking NAT records: {calls:?}"
    );
    assert!(
        calls.len() <= 7,
        "a tick is a handful of calls, got {calls:?}"
    );

    // The next tick, while the spiking NAT records: its log group's ingestion is read too,
    // still in the one call.
    let proxy = Proxy::start(&moto.endpoint);
    let next = t + TimeDelta::minutes(1);
    let o = nat_flowrec(dir.path())
        .args([
            "check",
            "--endpoint-url",
            &proxy.endpoint,
            "--now",
            &next.to_rfc3339(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let calls = proxy.calls();
    assert_eq!(
        calls.iter().filter(|c| *c == "GetMetricData").count(),
        1,
        "NAT metrics and the log group's IncomingBytes in one call: {calls:?}"
    );
}

/// One README cost-table row: what `trigger.metrics_api` reads with for so many NAT gateways.
#[derive(Debug)]
struct CostRow {
    nats: usize,
    api: String,
    /// The row `auto` picks for this many NAT gateways.
    auto: bool,
    calls: usize,
    operation: String,
    metrics_a_month: u64,
    usd_a_month: f64,
    alarms_usd_a_month: f64,
}

/// The table under README's "What the job itself costs" whose second column names the API.
fn readme_cost_rows() -> Vec<CostRow> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let section = readme
        .split("### What the job itself costs")
        .nth(1)
        .expect("README has a section \"What the job itself costs\"");
    let section = section.split("\n## ").next().unwrap_or(section);
    let number = |cell: &str| -> f64 {
        let digits: String = cell
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        digits
            .parse()
            .unwrap_or_else(|_| panic!("a number in `{cell}`"))
    };
    section
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line
                .trim()
                .trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect();
            (cells.len() == 6
                && cells[0].parse::<usize>().is_ok()
                && cells[1].contains("get_metric_"))
            .then(|| {
                let (calls, operation) = cells[2].split_once(' ').expect("`N Operation`");
                CostRow {
                    nats: cells[0].parse().unwrap(),
                    api: cells[1].split('`').nth(1).expect("`api`").to_string(),
                    auto: cells[1].contains("`auto`"),
                    calls: calls.parse().expect("a call count"),
                    operation: operation.to_string(),
                    metrics_a_month: number(cells[3]) as u64,
                    usd_a_month: number(cells[4]),
                    alarms_usd_a_month: number(cells[5]),
                }
            })
        })
        .collect()
}

/// What one `check --dry-run` tick asked of CloudWatch: (GetMetricData calls, metrics they
/// requested, GetMetricStatistics calls), and its stdout.
fn metrics_calls_of_a_tick(
    dir: &std::path::Path,
    moto: &crate::support::moto::Moto,
    nats: &[String],
    api: &str,
    now: chrono::DateTime<Utc>,
) -> ((usize, usize, usize), String) {
    let ids: Vec<String> = nats.iter().map(|n| format!("\"{n}\"")).collect();
    std::fs::write(
        dir.join("nat-flowrec.toml"),
        format!(
            "region = \"us-east-1\"\nnat_gateway_ids = [{}]\nstate = \"events.jsonl\"\n[trigger]\nmetrics_api = \"{api}\"\n[recording]\nlog_group = \"/nat-flowrec/api-cost\"\ndeliver_logs_role_arn = \"arn:aws:iam::123456789012:role/d\"\n",
            ids.join(", ")
        ),
    )
    .unwrap();
    let proxy = Proxy::start(&moto.endpoint);
    let o = run_in(dir, &proxy.endpoint, &["check", "--dry-run"], now);
    assert!(o.status.success(), "{}", text(&o));
    let (trigger_reads, connection_reads) = metric_reads(&proxy);
    assert_eq!(connection_reads, 1, "the spiking NAT's start is estimated");
    let requested: usize = proxy
        .query_bodies("GetMetricData")
        .iter()
        .filter(|body| !body.contains("ActiveConnectionCount"))
        .map(|body| {
            body.split('&')
                .filter(|p| p.starts_with("MetricDataQueries.member.") && p.contains(".Id="))
                .count()
        })
        .sum();
    (
        (trigger_reads, requested, proxy.count("GetMetricStatistics")),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_readme_cost_table_is_what_the_counted_calls_cost() {
    use nat_flowrec::core::watch_cost::{
        ALARM_USD_PER_METRIC_MONTH, TICKS_PER_MONTH, get_metric_data_usd, get_metric_statistics_usd,
    };

    let moto = moto();
    let sdk = moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let nats: Vec<String> = seed_nats(&ec2, 200)
        .await
        .into_iter()
        .map(|n| n.nat_gateway_id)
        .collect();
    let t = Utc::now().duration_trunc(TimeDelta::minutes(1)).unwrap();
    // The first NAT spikes: GetMetricStatistics must read the same datapoints GetMetricData does.
    put_nat_metric(
        &cw,
        &nats[0],
        "BytesInFromSource",
        &[(t - TimeDelta::minutes(2), 5e8)],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();

    let rows = readme_cost_rows();
    assert_eq!(
        rows.len(),
        6,
        "two rows for each of 1, 10, 50 NATs: {rows:?}"
    );
    for row in &rows {
        let watched = &nats[..row.nats];
        let ((data_calls, requested, statistics_calls), stdout) =
            metrics_calls_of_a_tick(dir.path(), moto, watched, &row.api, t);
        assert!(
            stdout.contains("would start recording"),
            "{}: the spike is seen: {stdout}",
            row.api
        );
        let (calls, metrics, usd) = match row.api.as_str() {
            "get_metric_data" => {
                assert_eq!(statistics_calls, 0, "{row:?}");
                assert_eq!(requested, 2 * row.nats, "{row:?}");
                let usd = get_metric_data_usd(requested, TICKS_PER_MONTH);
                (data_calls, requested, usd)
            }
            "get_metric_statistics" => {
                assert_eq!(data_calls, 0, "{row:?}");
                assert_eq!(
                    statistics_calls,
                    2 * row.nats,
                    "one call per NAT and metric"
                );
                let usd = get_metric_statistics_usd(statistics_calls, TICKS_PER_MONTH);
                (statistics_calls, statistics_calls, usd)
            }
            other => panic!("README names an unknown metrics_api `{other}`"),
        };
        assert_eq!(row.calls, calls, "{row:?}");
        let operation = if row.api == "get_metric_data" {
            "GetMetricData"
        } else {
            "GetMetricStatistics"
        };
        assert_eq!(row.operation, operation, "{row:?}");
        assert_eq!(
            row.metrics_a_month,
            metrics as u64 * TICKS_PER_MONTH,
            "{row:?}"
        );
        assert!((row.usd_a_month - usd).abs() < 0.005, "{row:?}: {usd}");
        let alarms = metrics as f64 * ALARM_USD_PER_METRIC_MONTH;
        assert!(
            (row.alarms_usd_a_month - alarms).abs() < 0.005,
            "{row:?}: {alarms}"
        );

        // `auto` reads with the API of the row the README marks.
        let ((auto_data, _, auto_statistics), _) =
            metrics_calls_of_a_tick(dir.path(), moto, watched, "auto", t);
        let auto_used = if auto_statistics > 0 {
            "get_metric_statistics"
        } else {
            assert_eq!(auto_data, 1);
            "get_metric_data"
        };
        assert_eq!(
            row.auto,
            auto_used == row.api,
            "{row:?}: auto used {auto_used}"
        );
    }
}
