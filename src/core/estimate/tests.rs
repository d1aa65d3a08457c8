//! The estimate's arithmetic: record length per format, records per connection, the cap's
//! shortening and the calibration from past recordings.

use super::*;
use crate::core::event::{Event, EventEnvelope, StopReason, decode_line};
use crate::core::testkit::{NAT, Tweak, at, started, stopped};

#[test]
fn a_record_is_as_long_as_its_formats_fields_on_average() {
    // action 6, flow-direction 7, traffic-path 1, srcaddr 12, srcport 4, dstaddr 12, dstport 4,
    // protocol 1, bytes 4, type 4, pkt-srcaddr 12, pkt-src-aws-service 2, pkt-dstaddr 12,
    // pkt-dst-aws-service 2: 83 characters and 13 spaces.
    assert_eq!(bytes_per_record(nat_flowrec_parsers::DEFAULT_FORMAT), 96.0);
    assert_eq!(bytes_per_record("${srcaddr} ${dstaddr}"), 25.0);
    // AWS's example record of its default format (version 2) is 97 characters long.
    let example = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK";
    let estimated = bytes_per_record(nat_flowrec_parsers::AWS_DEFAULT_V2_FORMAT);
    assert!(
        (estimated - example.len() as f64).abs() <= 10.0,
        "{estimated} vs {}",
        example.len()
    );
}

#[test]
fn each_connection_is_four_records_per_interval() {
    let c = Connections {
        active: 100.0,
        established_per_minute: 50.0,
    };
    // One-minute intervals: 150 connections a minute, 2 legs x 2 directions.
    assert_eq!(records_per_minute(c, 60), 600.0);
    // Ten-minute intervals: 100 open + 500 opened, 2,400 records every 10 minutes.
    assert_eq!(records_per_minute(c, 600), 240.0);
}

fn busy() -> Option<Connections> {
    // 350,000 x 4 records of 100 bytes a minute: 0.14 GB, $0.07 at $0.50 per GB.
    Some(Connections {
        active: 350_000.0,
        established_per_minute: 0.0,
    })
}

const BASIS: EstimateBasis = EstimateBasis {
    bytes_per_record: 100.0,
    max_aggregation_interval: 60,
};

#[test]
fn a_start_over_the_cap_is_shortened_to_fit_and_says_so() {
    let (seconds, estimate) = plan_length(900, busy(), &BASIS, 0.5, 0.5, 1.0);
    assert_eq!(seconds, 420);
    let estimate = estimate.unwrap();
    assert!((estimate.usd - 0.49).abs() < 1e-9, "{estimate:?}");
    assert_eq!(
        estimate.to_string(),
        "estimated $0.490 for 7 min ($0.070/min); shortened to 7 min to stay under max_cost_usd = $0.50"
    );

    // Within the cap, or without one: as asked.
    let (seconds, estimate) = plan_length(900, busy(), &BASIS, 0.5, 2.0, 1.0);
    assert_eq!(seconds, 900);
    assert_eq!(estimate.unwrap().shortened, None);
    assert_eq!(plan_length(900, busy(), &BASIS, 0.5, 0.0, 1.0).0, 900);
    // Not even a minute fits: one minute, and the measured cap stops it if need be.
    assert_eq!(plan_length(900, busy(), &BASIS, 0.5, 0.01, 1.0).0, 60);
    // No connection metrics: no estimate.
    assert_eq!(plan_length(900, None, &BASIS, 0.5, 0.5, 1.0), (900, None));
    // A calibration of 2 doubles the rate: 3 minutes fit.
    let (seconds, estimate) = plan_length(900, busy(), &BASIS, 0.5, 0.5, 2.0);
    assert_eq!(seconds, 180);
    assert!(
        estimate
            .unwrap()
            .to_string()
            .contains("x2.00 from past recordings")
    );
}

fn measured(id: &str, cost_usd: f64) -> Event {
    Event::IngestionMeasured {
        recording_id: id.into(),
        nat_gateway_id: NAT.into(),
        bytes: 0,
        cost_usd,
    }
}

/// Recordings of ten minutes each, one an hour from 01:00, estimated at $0.01 a minute and
/// measured at `costs`; their log.
fn recorded(costs: &[f64]) -> Vec<EventEnvelope> {
    let mut log = Vec::new();
    for (i, cost) in costs.iter().enumerate() {
        let id = format!("r{i}");
        let start = at(&format!("{:02}:00", i + 1));
        let stop = start + TimeDelta::minutes(10);
        for (t, e) in [
            (start, started(&id).estimated(0.01)),
            (stop, measured(&id, *cost)),
            (stop, stopped(&id, StopReason::TriggerOk)),
        ] {
            log.push(EventEnvelope::new(log.len() as u64 + 1, t, e));
        }
    }
    log
}

#[test]
fn the_calibration_is_the_median_of_measured_over_estimated_per_minute() {
    assert_eq!(calibration(&State::default()), 1.0);
    // Measured $0.20, $0.10, $0.30 for ten minutes estimated at $0.01: ratios 2, 1, 3.
    let mut log = recorded(&[0.20, 0.10, 0.30]);
    assert!((calibration(&State::fold(&log)) - 2.0).abs() < 1e-9);
    // A recording still running, or one without an estimate, does not count.
    let n = log.len() as u64;
    log.push(EventEnvelope::new(
        n + 1,
        at("11:00"),
        started("r8").estimated(0.01),
    ));
    log.push(EventEnvelope::new(n + 2, at("11:05"), measured("r8", 5.0)));
    log.push(EventEnvelope::new(
        n + 3,
        at("11:30"),
        started("r9").on("nat-89abcdef"),
    ));
    assert!((calibration(&State::fold(&log)) - 2.0).abs() < 1e-9);
}

#[test]
fn a_recording_delivered_to_s3_neither_calibrates_nor_is_checked() {
    // Ratio 2 from the log-group recordings; the S3 one measured only its DNS group.
    let mut log = recorded(&[0.20, 0.20]);
    let n = log.len() as u64;
    let mut to_s3 = started("s3").estimated(0.01);
    if let Event::RecordingStarted {
        s3_destination,
        log_group,
        ..
    } = &mut to_s3
    {
        log_group.clear();
        *s3_destination = Some(crate::s3_layout::S3Delivery {
            bucket: "flows".into(),
            prefix: String::new(),
            file_format: crate::s3_layout::S3FileFormat::PlainText,
            hive_compatible_partitions: false,
            per_hour_partition: false,
        });
    }
    for (i, (t, e)) in [
        (at("11:00"), to_s3),
        (at("11:10"), measured("s3", 0.001)),
        (at("11:10"), stopped("s3", StopReason::TriggerOk)),
    ]
    .into_iter()
    .enumerate()
    {
        log.push(EventEnvelope::new(n + i as u64 + 1, t, e));
    }
    let state = State::fold(&log);
    assert!((calibration(&state) - 2.0).abs() < 1e-9);
    assert!(
        estimate_checks(&state)
            .iter()
            .all(|c| c.recording_id != "s3")
    );
    assert_eq!(estimate_checks(&state).len(), 2);
}

#[test]
fn only_the_last_ten_recordings_calibrate() {
    // Twelve: the first two measured 100 times the estimate, the last ten exactly it.
    let mut costs = vec![10.0, 10.0];
    costs.extend([0.1; 10]);
    assert!((calibration(&State::fold(&recorded(&costs))) - 1.0).abs() < 1e-9);
}

#[test]
fn a_start_event_without_an_estimate_still_replays() {
    let line = r#"{"v":1,"seq":1,"at":"2025-01-01T10:41:00Z","type":"RecordingStarted","recording_id":"r","nat_gateway_id":"nat-01234567","enis":[],"flow_log_ids":[],"log_group":"/g","log_format":"${srcaddr}","max_aggregation_interval":60,"deadline":"2025-01-01T10:56:00Z","cause":{"kind":"Manual","forced":false}}"#;
    let envelope = decode_line(line).unwrap();
    let Event::RecordingStarted { estimate, .. } = &envelope.event else {
        panic!("{envelope:?}")
    };
    assert_eq!(estimate, &None);
    let state = State::fold(&[envelope]);
    assert_eq!(state.recording("r").unwrap().estimate, None);
}

#[test]
fn history_compares_each_estimate_with_what_was_measured() {
    // Estimated $0.01 a minute; measured $0.20 and $0.05 for ten minutes: -50% and +100%.
    let state = State::fold(&recorded(&[0.20, 0.05]));
    let checks = estimate_checks(&state);
    assert_eq!(checks.len(), 2);
    assert!((checks[0].estimated_usd - 0.10).abs() < 1e-9);
    assert!((checks[0].error_pct + 50.0).abs() < 1e-9);
    assert!((checks[1].error_pct - 100.0).abs() < 1e-9);
    assert!((mean_absolute_error_pct(&checks).unwrap() - 75.0).abs() < 1e-9);
    assert_eq!(
        checks[0].to_string(),
        "nat-01234567: recording r0 estimated $0.100 for its 10 min, measured $0.200: -50%"
    );
    assert_eq!(mean_absolute_error_pct(&[]), None);
}
