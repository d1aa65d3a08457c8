//! The simulator's own contract: it must answer like AWS where the controller depends on it,
//! or the controller's tests prove nothing.

use chrono::{TimeDelta, TimeZone, Utc};

use super::*;
use crate::ports::{AwsErrorKind, CODE_NOT_OURS, Ec2, Logs, Metrics, QueryLogRequest, QueryLogs};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap()
}

const NAT: &str = "nat-0demo0000000000001";

fn request(sim: &SimCloud, recording_id: &str) -> FlowLogRequest {
    let nat = sim.lock().nats[0].clone();
    FlowLogRequest {
        recording_id: recording_id.into(),
        nat_gateway_id: nat.id.clone(),
        enis: nat.enis.clone(),
        resource: crate::ports::FlowLogResource::NetworkInterfaces,
        log_group: "/nat-flowrec/flowlogs".into(),
        deliver_logs_role_arn: "arn:aws:iam::123456789012:role/delivery".into(),
        s3: None,
        log_format: DEFAULT_FORMAT.into(),
        max_aggregation_interval: 60,
        deadline: sim.now() + TimeDelta::minutes(15),
    }
}

fn query(start: DateTime<Utc>, end: DateTime<Utc>) -> MetricQuery {
    MetricQuery {
        nat_gateway_ids: vec![NAT.into()],
        metrics: vec!["BytesInFromSource".into(), "BytesInFromDestination".into()],
        statistic: "Sum".into(),
        period_seconds: 60,
        start,
        end,
        log_groups: Vec::new(),
        nat_metrics: Default::default(),
        statistics: Default::default(),
    }
}

#[tokio::test]
async fn nat_gateways_show_both_enis_and_name_an_unknown_nat() {
    let sim = SimCloud::example(t0());
    let nats = sim.nat_gateways(&[NAT.into()]).await.unwrap();
    assert_eq!(nats.len(), 1);
    assert_eq!(nats[0].enis.len(), 2);
    assert_eq!(nats[0].private_ips.len(), 2);
    assert_eq!(nats[0].state, "available");
    let err = sim.nat_gateways(&["nat-0nope".into()]).await.unwrap_err();
    assert_eq!(err.kind, AwsErrorKind::NotFound);
    assert!(err.message.contains("nat-0nope"));
}

#[tokio::test]
async fn a_retried_create_with_the_same_token_creates_nothing_new() {
    let sim = SimCloud::example(t0());
    let req = request(&sim, "rec-1");
    let first = sim.create_flow_logs(&req).await.unwrap();
    let second = sim.create_flow_logs(&req).await.unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!(first, second);
    assert_eq!(sim.flow_logs().len(), 2);

    let mut changed = req.clone();
    changed.max_aggregation_interval = 600;
    let err = sim.create_flow_logs(&changed).await.unwrap_err();
    assert_eq!(err.code, "IdempotentParameterMismatch");
    assert_eq!(sim.flow_logs().len(), 2);
}

#[tokio::test]
async fn created_flow_logs_carry_our_tags_and_read_back_as_tagged() {
    let sim = SimCloud::example(t0());
    let req = request(&sim, "rec-1");
    let ids = sim.create_flow_logs(&req).await.unwrap();
    let foreign = sim.add_foreign_flow_log("eni-0someoneelse", "/audit");
    let tagged = sim.tagged_flow_logs().await.unwrap();
    let mut tagged_ids: Vec<String> = tagged.iter().map(|t| t.flow_log_id.clone()).collect();
    tagged_ids.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(tagged_ids, expected);
    assert!(!tagged_ids.contains(&foreign));
    let t = &tagged[0];
    assert_eq!(t.recording_id, "rec-1");
    assert_eq!(t.nat_gateway_id.as_deref(), Some(NAT));
    assert_eq!(t.deadline, Some(req.deadline));
    assert_eq!(t.log_format.as_deref(), Some(DEFAULT_FORMAT));
    assert_eq!(t.deliver_logs_status.as_deref(), Some("SUCCESS"));
}

#[tokio::test]
async fn an_eni_already_recorded_into_the_group_is_a_partial_failure_with_the_created_ids() {
    let sim = SimCloud::example(t0());
    let req = request(&sim, "rec-1");
    sim.add_foreign_flow_log(&req.enis[1], &req.log_group);
    let err = sim.create_flow_logs(&req).await.unwrap_err();
    assert_eq!(err.kind, AwsErrorKind::PartialFailure);
    assert_eq!(err.code, "FlowLogAlreadyExists");
    assert_eq!(err.created_ids.len(), 1);
    let created = sim
        .flow_logs()
        .into_iter()
        .find(|fl| fl.flow_log_id == err.created_ids[0])
        .unwrap();
    assert_eq!(created.eni, req.enis[0]);
}

#[tokio::test]
async fn delete_is_scoped_to_our_tags_and_tolerates_ids_already_gone() {
    let sim = SimCloud::example(t0());
    let ours = sim.create_flow_logs(&request(&sim, "rec-1")).await.unwrap();
    let foreign = sim.add_foreign_flow_log("eni-0someoneelse", "/audit");

    let mut mixed = ours.clone();
    mixed.push(foreign.clone());
    let err = sim.delete_flow_logs(&mixed).await.unwrap_err();
    assert_eq!(err.code, CODE_NOT_OURS);
    assert!(err.message.contains(&foreign));
    assert_eq!(sim.flow_logs().len(), 3, "nothing deleted");

    sim.advance(TimeDelta::minutes(5));
    sim.delete_flow_logs(&ours).await.unwrap();
    let left: Vec<String> = sim.flow_logs().into_iter().map(|f| f.flow_log_id).collect();
    assert_eq!(left, [foreign]);
    let deleted = sim.deleted_flow_logs();
    assert_eq!(deleted.len(), 2);
    assert!(deleted.iter().all(|f| f.deleted_at == Some(sim.now())));

    let mut again = ours.clone();
    again.push("fl-0000000000000000".into());
    sim.delete_flow_logs(&again).await.unwrap();
}

#[tokio::test]
async fn metrics_rise_with_the_spike_and_lag_by_the_metric_delay() {
    let sim = SimCloud::example(t0()); // spike from +10 to +25 min, metrics 2 min late
    sim.set_now(t0() + TimeDelta::minutes(20));
    let series = sim
        .metric_data(&query(t0(), t0() + TimeDelta::minutes(20)))
        .await
        .unwrap();
    let from_destination = &series[1];
    assert_eq!(from_destination.metric, "BytesInFromDestination");
    // minutes 0..=17 are published (minute 17 ends at +18, plus 2 min delay = now)
    let minutes: Vec<i64> = from_destination
        .points
        .iter()
        .map(|(t, _)| (*t - t0()).num_minutes())
        .collect();
    assert_eq!(minutes, (0..=17).collect::<Vec<_>>());
    for (t, v) in &from_destination.points {
        let m = (*t - t0()).num_minutes();
        if m < 10 {
            assert!(*v < 1.0e8, "minute {m} before the spike: {v}");
        } else {
            assert!(*v > 1.0e8, "minute {m} in the spike: {v}");
        }
    }
    // 5-minute periods sum the minutes
    let mut five = query(t0(), t0() + TimeDelta::minutes(10));
    five.period_seconds = 300;
    let summed = sim.metric_data(&five).await.unwrap();
    let per_minute: f64 = series[0].points[..5].iter().map(|(_, v)| v).sum();
    assert_eq!(summed[0].points[0], (t0(), per_minute));
}

#[tokio::test]
async fn metric_query_mistakes_are_invalid_input() {
    let sim = SimCloud::example(t0());
    let mut q = query(t0(), t0() + TimeDelta::minutes(5));
    q.period_seconds = 30;
    let err = sim.metric_data(&q).await.unwrap_err();
    assert_eq!(err.kind, AwsErrorKind::InvalidInput);
    let mut q = query(t0(), t0() + TimeDelta::minutes(5));
    q.statistic = "p99".into();
    assert_eq!(
        sim.metric_data(&q).await.unwrap_err().kind,
        AwsErrorKind::InvalidInput
    );
}

/// Bytes of the records on the VPC side going out (instance -> NAT): field 9 is `bytes`,
/// field 4 `srcaddr`, field 11 `pkt-srcaddr` in the default format.
fn outbound_vpc_side_bytes(events: &[(i64, String)]) -> u64 {
    events
        .iter()
        .map(|(_, line)| line.split(' ').collect::<Vec<_>>())
        .filter(|f| f[1] == "ingress" && f[3] == f[10] && f[3].starts_with("10."))
        .map(|f| f[8].parse::<u64>().unwrap())
        .sum()
}

#[tokio::test]
async fn captured_records_carry_both_legs_and_agree_with_the_metrics() {
    let sim = SimCloud::example(t0());
    sim.set_now(t0() + TimeDelta::minutes(30));
    let minute = t0() + TimeDelta::minutes(12); // inside the spike
    let enis = sim.nat_gateways(&[NAT.into()]).await.unwrap()[0]
        .enis
        .clone();
    let events = sim.captured_events(minute, minute + TimeDelta::minutes(1), &enis);

    let conversations = sim.traffic(NAT, minute.timestamp());
    assert_eq!(events.len(), conversations.len() * 4, "four legs each");
    assert!(
        events
            .iter()
            .all(|(ts, _)| *ts / 1000 == minute.timestamp())
    );
    let format = LogFormat::parse(DEFAULT_FORMAT).unwrap();
    assert!(
        events
            .iter()
            .all(|(_, l)| l.split(' ').count() == format.len())
    );
    assert!(events.iter().any(|(_, l)| l.ends_with(" S3")));
    assert!(events.iter().any(|(_, l)| l.ends_with(" DYNAMODB")));

    let metrics = sim
        .metric_data(&query(minute, minute + TimeDelta::minutes(1)))
        .await
        .unwrap();
    assert_eq!(
        outbound_vpc_side_bytes(&events) as f64,
        metrics[0].points[0].1,
        "VPC-side outbound bytes = BytesInFromSource"
    );

    // recording one ENI captures only the conversations it carries
    let one = sim.captured_events(minute, minute + TimeDelta::minutes(1), &enis[..1]);
    assert!(!one.is_empty() && one.len() < events.len());
}

#[tokio::test]
async fn a_recording_captures_from_creation_to_deletion_in_its_format() {
    let sim = SimCloud::example(t0());
    let mut req = request(&sim, "rec-1");
    req.log_format = "${interface-id} ${start} ${srcaddr} ${dstaddr} ${bytes}".into();
    let ids = sim.create_flow_logs(&req).await.unwrap();
    sim.advance(TimeDelta::minutes(3));
    sim.delete_flow_logs(&ids).await.unwrap();
    sim.advance(TimeDelta::minutes(10));

    let events = sim.captured_by_recording("rec-1").unwrap();
    let starts: std::collections::BTreeSet<i64> = events.iter().map(|(ts, _)| ts / 1000).collect();
    let expected: std::collections::BTreeSet<i64> =
        (0..3).map(|m| t0().timestamp() + m * 60).collect();
    assert_eq!(starts, expected);
    assert!(events.iter().all(|(_, l)| l.split(' ').count() == 5));
    assert!(
        events
            .iter()
            .all(|(_, l)| req.enis.iter().any(|e| l.starts_with(e.as_str())))
    );
    assert!(sim.captured_by_recording("rec-unknown").unwrap().is_empty());
}

#[tokio::test]
async fn calls_are_recorded_and_an_injected_failure_hits_the_next_call_only() {
    let sim = SimCloud::example(t0());
    sim.fail_next(SimOperation::CreateFlowLogs, AwsErrorKind::Throttled);
    let req = request(&sim, "rec-1");
    let err = sim.create_flow_logs(&req).await.unwrap_err();
    assert_eq!(err.kind, AwsErrorKind::Throttled);
    assert_eq!(err.operation, "ec2:CreateFlowLogs");
    assert!(sim.flow_logs().is_empty());
    sim.create_flow_logs(&req).await.unwrap();
    sim.tagged_flow_logs().await.unwrap();
    assert_eq!(
        sim.take_calls(),
        [
            SimCall::CreateFlowLogs(req.clone()),
            SimCall::CreateFlowLogs(req),
            SimCall::TaggedFlowLogs,
        ]
    );
    assert!(sim.calls().is_empty());
}

#[tokio::test]
async fn ensure_log_group_creates_once_then_only_updates_retention() {
    let sim = SimCloud::example(t0());
    let mut spec = LogGroupSpec {
        name: "/nat-flowrec/flowlogs".into(),
        class: "INFREQUENT_ACCESS".into(),
        retention_days: 7,
    };
    sim.ensure_log_group(&spec).await.unwrap();
    spec.class = "STANDARD".into();
    spec.retention_days = 30;
    sim.ensure_log_group(&spec).await.unwrap();
    let group = sim.log_group(&spec.name).unwrap();
    assert_eq!(group.class, "INFREQUENT_ACCESS");
    assert_eq!(group.retention_days, 30);
    assert!(!group.tags.is_empty());

    spec.retention_days = 8;
    let err = sim.ensure_log_group(&spec).await.unwrap_err();
    assert_eq!(err.kind, AwsErrorKind::InvalidInput);
}

#[tokio::test]
async fn alarm_states_read_what_was_set_and_name_a_missing_alarm() {
    let sim = SimCloud::example(t0());
    sim.set_alarm("nat-spike", AlarmState::Alarm);
    assert_eq!(
        sim.alarm_states(&["nat-spike".into()]).await.unwrap(),
        [("nat-spike".to_owned(), AlarmState::Alarm)]
    );
    let err = sim.alarm_states(&["nope".into()]).await.unwrap_err();
    assert_eq!(err.kind, AwsErrorKind::NotFound);
}

#[tokio::test]
async fn flow_logs_deliver_into_their_enis_stream_read_in_pages_with_empty_ones_between() {
    use crate::ports::{LogEventsQuery, LogReadApi, LogReader};
    let sim = SimCloud::example(t0()).with_delivery_delay(TimeDelta::minutes(5));
    let req = request(&sim, "rec-1");
    sim.ensure_log_group(&LogGroupSpec {
        name: req.log_group.clone(),
        class: "INFREQUENT_ACCESS".into(),
        retention_days: 7,
    })
    .await
    .unwrap();
    sim.create_flow_logs(&req).await.unwrap();
    // Nothing delivered yet: no stream exists.
    sim.advance(TimeDelta::minutes(3));
    assert!(
        sim.log_streams(&req.log_group, &req.enis[0])
            .await
            .unwrap()
            .is_empty()
    );
    sim.advance(TimeDelta::minutes(10));
    let streams = sim.log_streams(&req.log_group, &req.enis[0]).await.unwrap();
    assert_eq!(streams.len(), 1);
    assert_eq!(streams[0].name, stream_name(&req.enis[0]));
    let missing = sim.log_streams("/nope", "eni").await.unwrap_err();
    assert_eq!(missing.kind, AwsErrorKind::NotFound);

    sim.set_log_page_size(5);
    // Delivered: the minutes that started at least 5 minutes before now.
    let truth = sim
        .captured_events(t0(), sim.now() - TimeDelta::minutes(5), &req.enis[..1])
        .len();
    for api in [LogReadApi::GetLogEvents, LogReadApi::FilterLogEvents] {
        let query = LogEventsQuery {
            log_group: req.log_group.clone(),
            log_stream: streams[0].name.clone(),
            start_ms: t0().timestamp_millis(),
            end_ms: (t0() + TimeDelta::hours(1)).timestamp_millis(),
            api,
        };
        let mut pages = Vec::new();
        let mut token = None;
        loop {
            let page = sim.log_events_page(&query, token.clone()).await.unwrap();
            pages.push(page.events.len());
            match page.next_token {
                Some(next) if Some(&next) != token.as_ref() => token = Some(next),
                _ => break,
            }
            assert!(pages.len() < 1_000, "{api:?} never ends: {pages:?}");
        }
        assert!(
            pages.contains(&0),
            "{api:?}: empty pages between full ones: {pages:?}"
        );
        let read: usize = pages.iter().sum();
        assert_eq!(read, truth, "{api:?}: {pages:?}");
    }
    let bad = LogEventsQuery {
        log_group: req.log_group.clone(),
        log_stream: streams[0].name.clone(),
        start_ms: 0,
        end_ms: 1,
        api: LogReadApi::GetLogEvents,
    };
    let refused = sim
        .log_events_page(&bad, Some("nope".into()))
        .await
        .unwrap_err();
    assert_eq!(refused.kind, AwsErrorKind::InvalidInput);
}

#[tokio::test]
async fn publish_refuses_what_sns_refuses() {
    use crate::ports::{Notification, Notifier};
    let sim = SimCloud::example(t0());
    let ok = Notification {
        topic_arn: "arn:aws:sns:us-east-1:123456789012:t".into(),
        subject: "nat-flowrec: ok".into(),
        message: r#"{"default":"text","sqs":"{}"}"#.into(),
    };
    let id = sim.publish(&ok).await.unwrap();
    assert_eq!(sim.published(), [(id, ok.clone())]);
    for bad in [
        Notification {
            subject: "x".repeat(101),
            ..ok.clone()
        },
        Notification {
            subject: "two\nlines".into(),
            ..ok.clone()
        },
        Notification {
            message: r#"{"email":"no default"}"#.into(),
            ..ok.clone()
        },
        Notification {
            message: format!(r#"{{"default":"{}"}}"#, "x".repeat(262_144)),
            ..ok.clone()
        },
    ] {
        let err = sim.publish(&bad).await.unwrap_err();
        assert_eq!(err.kind, AwsErrorKind::InvalidInput, "{err}");
    }
    assert_eq!(sim.published().len(), 1);
}

fn query_log_request(sim: &SimCloud, recording_id: &str) -> QueryLogRequest {
    QueryLogRequest {
        recording_id: recording_id.into(),
        nat_gateway_id: NAT.into(),
        destination_arn: "arn:aws:logs:eu-west-1:123456789012:log-group:/nat-flowrec/dns".into(),
        deadline: sim.now() + TimeDelta::minutes(15),
    }
}

#[tokio::test]
async fn query_log_configs_are_created_once_tagged_and_deleted_only_when_ours_and_unassociated() {
    let sim = SimCloud::new(t0());
    let vpc = "vpc-0sim".to_owned();
    sim.add_foreign_query_log_config(
        "arn:aws:logs:eu-west-1:123456789012:log-group:audit",
        std::slice::from_ref(&vpc),
    );
    let req = query_log_request(&sim, "rec-1");
    let id = sim.create_query_log_config(&req).await.unwrap();
    assert_eq!(
        sim.create_query_log_config(&req).await.unwrap(),
        id,
        "a retry with the same CreatorRequestId creates nothing new"
    );
    sim.associate_query_log_config(&id, &vpc).await.unwrap();
    sim.associate_query_log_config(&id, &vpc).await.unwrap();

    let tagged = sim.tagged_query_log_configs().await.unwrap();
    assert_eq!(tagged.len(), 1, "{tagged:?}");
    assert_eq!(tagged[0].config_id, id);
    assert_eq!(tagged[0].recording_id, "rec-1");
    assert_eq!(tagged[0].nat_gateway_id.as_deref(), Some(NAT));
    assert_eq!(tagged[0].deadline, Some(req.deadline));
    assert_eq!(tagged[0].vpc_ids, std::slice::from_ref(&vpc));
    let logging = sim.vpc_query_logging(&vpc).await.unwrap();
    assert_eq!(
        logging.iter().map(|l| l.ours).collect::<Vec<_>>(),
        [false, true]
    );

    let foreign = logging[0].config_id.clone();
    let err = sim
        .disassociate_query_log_config(&foreign, &vpc)
        .await
        .unwrap_err();
    assert_eq!(err.code, CODE_NOT_OURS);
    let err = sim.delete_query_log_config(&foreign).await.unwrap_err();
    assert_eq!(err.code, CODE_NOT_OURS);

    let err = sim.delete_query_log_config(&id).await.unwrap_err();
    assert_eq!(
        err.kind,
        AwsErrorKind::InvalidInput,
        "still associated: {err}"
    );
    sim.disassociate_query_log_config(&id, &vpc).await.unwrap();
    sim.delete_query_log_config(&id).await.unwrap();
    sim.delete_query_log_config(&id).await.unwrap();
    sim.disassociate_query_log_config(&id, &vpc).await.unwrap();

    let left = sim.query_log_configs();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].config_id, foreign);
    assert_eq!(left[0].vpc_ids, [vpc]);
    assert_eq!(sim.deleted_query_log_configs()[0].deleted_at, Some(t0()));
}
