//! `trigger suggest` against moto: fourteen days of hourly NAT metrics (a trigger of one-hour
//! periods; moto aggregates fourteen days of minutes too slowly) seeded with PutMetricData, read
//! back with GetMetricData, and the printed firings checked against counts this test makes from
//! the seeded data by itself.

use chrono::{DateTime, TimeDelta, Utc};

use crate::support::moto::{moto, put_nat_metric};
use crate::support::run::{Setup, config, minute_now, stdout, text};

const NAT: &str = "nat-0feedfacecafe1234";
const DAYS: i64 = 14;

/// A routine hour: between 10 and 60 MB, spread without a pattern.
fn routine(hour: i64) -> f64 {
    let spread = (hour * 7919 + 13).rem_euclid(101) as f64 / 100.0;
    10e6 + 50e6 * spread
}

/// Spikes (hour, bytes), some close enough to merge under 1 of 3 hours.
fn spikes() -> Vec<(i64, f64)> {
    vec![
        (10, 150e6),
        (11, 400e6),
        (40, 120e6),
        (43, 90e6),
        (150, 2e9),
        (250, 250e6),
        (252, 110e6),
        (330, 180e6),
    ]
}

/// How many times "above `threshold` in 1 of the last 3 hours" turns to breaching, ticking
/// each hour from the first full window to the end, and the minutes recorded: while it
/// breaches, at most `MAX_RECORDING_MINUTES` a firing.
fn firings(hours: &[f64], threshold: f64) -> (usize, usize) {
    spells(hours.len(), |h, _| hours[h] > threshold)
}

/// "1 of the last 3 hours" ticked each hour over `len` hours, where `breaches(h, tick)` says
/// whether hour `h` breaches as seen at `tick`: the firings and the minutes recorded.
fn spells(len: usize, breaches: impl Fn(usize, usize) -> bool) -> (usize, usize) {
    let mut spells: Vec<usize> = Vec::new();
    let mut was = false;
    for tick in 3..=len {
        let now = (tick - 3..tick).any(|h| breaches(h, tick));
        if now && !was {
            spells.push(0);
        }
        if let (true, Some(n)) = (now, spells.last_mut()) {
            *n += 1;
        }
        was = now;
    }
    let minutes = spells
        .iter()
        .map(|n| (n * 60).min(MAX_RECORDING_MINUTES))
        .sum();
    (spells.len(), minutes)
}

const MAX_RECORDING_MINUTES: usize = 120;

/// Baseline mode at factor 3 over `hours` (hour 0 at `start`), ticked like `firings`: an hour
/// breaches above 3 x the p95 of the same hour of the week on the history's other days (the
/// days other than the one of the tick's last hour), and above `floor`.
fn baseline_firings(hours: &[f64], start: DateTime<Utc>, floor: f64) -> (usize, usize) {
    use chrono::{Datelike, Timelike};
    let slot = |h: usize| {
        let t = start + TimeDelta::hours(h as i64);
        t.weekday().num_days_from_monday() * 24 + t.hour()
    };
    let breaches = |h: usize, tick: usize| {
        let day = (tick - 1) / 24;
        let mut same: Vec<f64> = (0..hours.len())
            .filter(|j| slot(*j) == slot(h) && j / 24 != day)
            .map(|j| hours[j])
            .collect();
        same.sort_by(f64::total_cmp);
        // Nearest-rank p95.
        let rank = (95 * same.len()).div_ceil(100).max(1);
        let limit = same
            .get(rank - 1)
            .map_or(floor, |p95| (3.0 * p95.round()).max(floor));
        hours[h] > limit
    };
    spells(hours.len(), breaches)
}

#[tokio::test(flavor = "multi_thread")]
async fn trigger_suggest_counts_what_the_seeded_history_would_have_fired() {
    let moto = moto();
    let cw = aws_sdk_cloudwatch::Client::new(&moto.sdk_config().await);
    let end = minute_now();
    let start = end - TimeDelta::days(DAYS);
    let count = (DAYS * 24) as usize;
    let at = |h: i64| -> DateTime<Utc> { start + TimeDelta::hours(h) };

    // BytesInFromSource every minute; BytesInFromDestination only for the spikes, so the rule's
    // "any metric" matters: the spikes are on the second metric.
    let source: Vec<(DateTime<Utc>, f64)> =
        (0..count as i64).map(|m| (at(m), routine(m))).collect();
    let destination: Vec<(DateTime<Utc>, f64)> =
        spikes().iter().map(|(m, v)| (at(*m), *v)).collect();
    put_nat_metric(&cw, NAT, "BytesInFromSource", &source).await;
    put_nat_metric(&cw, NAT, "BytesInFromDestination", &destination).await;
    let mut hours: Vec<f64> = source.iter().map(|(_, v)| *v).collect();
    for (m, v) in spikes() {
        hours[m as usize] = hours[m as usize].max(v);
    }

    let setup = Setup::with_config(
        moto,
        &config(
            NAT,
            "/nat-flowrec/suggest",
            "log_group_class = \"STANDARD\"\nmax_recording_seconds = 7200\n\n[trigger]\nperiod_seconds = 3600",
        ),
    );
    let now = end + TimeDelta::seconds(30);
    let o = setup.run(
        &["trigger", "suggest", "--days", "14", "--output", "json"],
        now,
    );
    assert!(o.status.success(), "{}", text(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    let nat = &doc["nats"][0];
    assert_eq!(nat["nat_gateway_id"], NAT);
    assert_eq!(nat["periods"], count);
    assert_eq!(nat["peak"][1], 2e9);

    let candidates = nat["candidates"].as_array().expect("candidates");
    let labels: Vec<&str> = candidates
        .iter()
        .map(|c| c["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        ["current", "p99", "2 x p99", "half the peak", "3 x baseline"]
    );
    assert_eq!(candidates[0]["threshold_bytes"], 100_000_000);
    // 1 of 3 hours above 100 MB: 10-11, 40 (43 is below), 150, 250-252 and 330: five firings
    // breaching 4, 3, 3, 5 and 3 hours, each recorded for at most 2 hours.
    assert_eq!(firings(&hours, 100e6), (5, 120 + 120 + 120 + 120 + 120));
    // Every spike above 100 MB is also over 3 x the routine hour a week away, so baseline mode
    // fires on the same five as the 100 MB threshold here.
    assert_eq!(baseline_firings(&hours, start, 100e6), (5, 5 * 120));
    for c in candidates {
        let threshold = c["threshold_bytes"].as_u64().unwrap() as f64;
        let (fired, breaching) = if c["label"] == "3 x baseline" {
            baseline_firings(&hours, start, threshold)
        } else {
            firings(&hours, threshold)
        };
        assert_eq!(c["fired"].as_u64().unwrap() as usize, fired, "{c}");
        // recording_seconds = 0: a recording lasts while the trigger breaches, at most
        // max_recording_seconds, each minute ingesting the assumed 10 MB at $0.50/GB.
        assert_eq!(
            c["recorded_minutes"].as_u64().unwrap() as usize,
            breaching,
            "{c}"
        );
        let cost = breaching as f64 * 10e6 / 1e9 * 0.5;
        assert!((c["cost_usd"].as_f64().unwrap() - cost).abs() < 1e-9, "{c}");
    }

    let o = setup.run(&["trigger", "suggest"], now);
    assert!(o.status.success(), "{}", text(&o));
    let out = stdout(&o);
    assert!(
        out.contains(&format!("{NAT}: 14 days, 336 periods of 3600 s with data")),
        "{out}"
    );
    assert!(out.contains("peak 2 GB at"), "{out}");
    assert!(out.contains("10.00 MB of flow logs a minute"), "{out}");
}
