//! The estimate before a start, against moto: the NAT's connection metrics (seeded with
//! PutMetricData) give flow-log records a minute, the format their length, the log group's
//! class their price; `check --dry-run` and `start --dry-run` show it, a start it would take
//! over `max_cost_usd` is shortened to fit, the start event keeps it, and `history` compares
//! it with what the recording measured.

use chrono::TimeDelta;

use crate::support::moto::{
    moto, put_log_group_incoming_bytes, put_nat_metric, put_spike, seed_nat,
};
use crate::support::run::{Setup, config, minute_now, stdout, text};

/// Concurrent connections seeded: 4 records each a minute (two legs, two directions), 96 bytes
/// a record of the default format, $0.50 per GB (STANDARD, us-east-1).
const ACTIVE: f64 = 700_000.0;

#[tokio::test(flavor = "multi_thread")]
async fn a_start_is_estimated_shortened_to_its_cap_and_checked_against_what_it_measured() {
    let moto = moto();
    let sdk = moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let nat = seed_nat(&ec2, 96).await;
    let nat_id = &nat.nat_gateway_id;
    let group = format!("/nat-flowrec/estimate-{nat_id}");
    let setup = Setup::with_config(
        moto,
        &config(
            nat_id,
            &group,
            "log_group_class = \"STANDARD\"\nmax_cost_usd = 0.5",
        ),
    );
    let t = minute_now();
    put_spike(&cw, nat_id, "BytesInFromSource", t - TimeDelta::minutes(1)).await;
    put_nat_metric(
        &cw,
        nat_id,
        "ActiveConnectionCount",
        &[
            (t - TimeDelta::minutes(3), ACTIVE / 2.0),
            (t - TimeDelta::minutes(2), ACTIVE),
        ],
    )
    .await;
    let per_minute = ACTIVE * 4.0 * 96.0 / 1e9 * 0.5;
    let minutes = (0.5 / per_minute).floor() as i64;
    assert_eq!(minutes, 3);
    let shortened = "shortened to 3 min to stay under max_cost_usd = $0.50";

    let dry = setup.run(&["check", "--dry-run"], t);
    assert!(dry.status.success(), "{}", text(&dry));
    let out = stdout(&dry);
    assert!(
        out.contains(&format!(
            "estimated $0.403 for 3 min (${per_minute:.3}/min)"
        )),
        "{out}"
    );
    assert!(out.contains(shortened), "{out}");

    let by_hand = setup.run(
        &["start", "--nat", nat_id, "--seconds", "900", "--dry-run"],
        t,
    );
    assert!(by_hand.status.success(), "{}", text(&by_hand));
    assert!(stdout(&by_hand).contains(shortened), "{}", text(&by_hand));

    let o = setup.run(&["check"], t);
    assert!(o.status.success(), "{}", text(&o));
    let events = setup.events();
    let started = events
        .iter()
        .find(|e| e["type"] == "RecordingStarted")
        .expect("a start");
    let deadline =
        (t + TimeDelta::minutes(minutes)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(started["deadline"], deadline.as_str(), "{started}");
    assert_eq!(started["estimate"]["seconds"], 180);
    assert_eq!(started["estimate"]["calibration"], 1.0);
    assert_eq!(started["estimate"]["shortened"]["from_seconds"], 21_600);

    // It measured $0.25 (500 MB) while it ran; it was estimated at $0.403 for its 3 minutes:
    // +61%. (At its deadline the next tick's reconcile stops it.)
    put_log_group_incoming_bytes(&cw, &group, &[(t, 5e8)]).await;
    for m in [2, minutes] {
        let o = setup.run(&["check"], t + TimeDelta::minutes(m));
        assert!(o.status.success(), "{}", text(&o));
    }
    let history = setup.run(&["history"], t + TimeDelta::minutes(minutes));
    let out = stdout(&history);
    let error = (per_minute * 3.0 - 0.25) / 0.25 * 100.0;
    assert!(
        out.contains(&format!(
            "estimated $0.403 for its 3 min, measured $0.250: +{error:.0}%"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "mean absolute error {error:.0}% over 1 recording(s)"
        )),
        "{out}"
    );
}
