//! The AWS adapters (`nat_flowrec::aws`) against moto: each test seeds its own resources in the
//! shared moto server and checks what a user relies on, reading back with plain SDK calls.
//! Run with `cargo test -p nat-flowrec --test integration aws_adapters`.

use aws_sdk_ec2::types::Filter;
use chrono::{DateTime, Duration, TimeZone, Utc};
use nat_flowrec::ports::{
    AlarmState, AwsErrorKind, CODE_NOT_OURS, Ec2, FlowLogRequest, LogGroupSpec, Logs, MetricQuery,
    Metrics, TAG_DEADLINE, TAG_NAT_GATEWAY, TAG_RECORDING,
};

use crate::support::moto::{moto, put_nat_metric, seed_foreign_flow_log, seed_nat};

const DEFAULT_FORMAT: &str = "${action} ${flow-direction} ${traffic-path} ${srcaddr} ${srcport} ${dstaddr} ${dstport} ${protocol} ${bytes} ${type} ${pkt-srcaddr} ${pkt-src-aws-service} ${pkt-dstaddr} ${pkt-dst-aws-service}";

fn deadline() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2031, 5, 6, 7, 8, 9).unwrap()
}

fn request(recording_id: &str, nat: &str, enis: &[&str], log_group: &str) -> FlowLogRequest {
    FlowLogRequest {
        recording_id: recording_id.into(),
        nat_gateway_id: nat.into(),
        enis: enis.iter().map(|e| e.to_string()).collect(),
        resource: nat_flowrec::ports::FlowLogResource::NetworkInterfaces,
        log_group: log_group.into(),
        deliver_logs_role_arn: "arn:aws:iam::123456789012:role/nat-flowrec-delivery".into(),
        s3: None,
        log_format: DEFAULT_FORMAT.into(),
        max_aggregation_interval: 60,
        deadline: deadline(),
    }
}

async fn flow_logs_by_id(
    ec2: &aws_sdk_ec2::Client,
    ids: &[String],
) -> Vec<aws_sdk_ec2::types::FlowLog> {
    ec2.describe_flow_logs()
        .filter(
            Filter::builder()
                .name("flow-log-id")
                .set_values(Some(ids.to_vec()))
                .build(),
        )
        .send()
        .await
        .expect("moto DescribeFlowLogs")
        .flow_logs()
        .to_vec()
}

async fn flow_logs_on(ec2: &aws_sdk_ec2::Client, eni: &str) -> Vec<aws_sdk_ec2::types::FlowLog> {
    ec2.describe_flow_logs()
        .filter(Filter::builder().name("resource-id").values(eni).build())
        .send()
        .await
        .expect("moto DescribeFlowLogs")
        .flow_logs()
        .to_vec()
}

fn tag<'a>(fl: &'a aws_sdk_ec2::types::FlowLog, key: &str) -> Option<&'a str> {
    fl.tags()
        .iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
}

/// A second ENI in the NAT's subnet: moto gives a NAT one, AWS can give several.
async fn extra_eni(ec2: &aws_sdk_ec2::Client, subnet_id: &str) -> String {
    ec2.create_network_interface()
        .subnet_id(subnet_id)
        .send()
        .await
        .expect("moto CreateNetworkInterface")
        .network_interface()
        .and_then(|n| n.network_interface_id())
        .expect("eni id")
        .to_owned()
}

#[tokio::test]
async fn nat_gateways_returns_every_eni_and_address_in_the_order_asked() {
    let moto = moto();
    let cloud = moto.cloud().await;
    let first = seed_nat(&cloud.ec2, 11).await;
    let second = seed_nat(&cloud.ec2, 12).await;

    let ids = [
        second.nat_gateway_id.clone(),
        first.nat_gateway_id.clone(),
        second.nat_gateway_id.clone(),
    ];
    let nats = cloud.nat_gateways(&ids).await.unwrap();

    assert_eq!(nats.len(), 2, "{nats:?}");
    assert_eq!(nats[0].id, second.nat_gateway_id);
    assert_eq!(nats[1].id, first.nat_gateway_id);
    let nat = &nats[1];
    assert_eq!(nat.state, "available");
    assert_eq!(nat.vpc_id.as_deref(), Some(first.vpc_id.as_str()));
    assert_eq!(nat.subnet_id.as_deref(), Some(first.subnet_id.as_str()));
    assert_eq!(nat.enis, std::slice::from_ref(&first.eni));
    assert_eq!(nat.private_ips, [first.private_ip]);
    assert_eq!(nat.public_ips, [first.public_ip]);
}

#[tokio::test]
async fn nat_gateways_names_an_unknown_nat() {
    let cloud = moto().cloud().await;
    let known = seed_nat(&cloud.ec2, 13).await;
    let err = cloud
        .nat_gateways(&[known.nat_gateway_id, "nat-0000000000000dead".into()])
        .await
        .unwrap_err();
    assert_eq!(err.kind, AwsErrorKind::NotFound);
    assert!(err.message.contains("nat-0000000000000dead"), "{err}");
    assert!(
        err.to_string().starts_with("ec2:DescribeNatGateways: "),
        "{err}"
    );
}

#[tokio::test]
async fn create_flow_logs_records_every_eni_tagged_with_format_and_interval() {
    let cloud = moto().cloud().await;
    let nat = seed_nat(&cloud.ec2, 21).await;
    let second_eni = extra_eni(&cloud.ec2, &nat.subnet_id).await;
    let group = "/nat-flowrec-test/create";
    cloud
        .ensure_log_group(&LogGroupSpec {
            name: group.into(),
            class: "INFREQUENT_ACCESS".into(),
            retention_days: 7,
        })
        .await
        .unwrap();
    let req = request(
        "rec-create",
        &nat.nat_gateway_id,
        &[&nat.eni, &second_eni],
        group,
    );

    let ids = cloud.create_flow_logs(&req).await.unwrap();

    assert_eq!(ids.len(), 2, "{ids:?}");
    let flow_logs = flow_logs_by_id(&cloud.ec2, &ids).await;
    let mut recorded: Vec<&str> = flow_logs.iter().filter_map(|f| f.resource_id()).collect();
    recorded.sort_unstable();
    let mut expected = vec![nat.eni.as_str(), second_eni.as_str()];
    expected.sort_unstable();
    assert_eq!(recorded, expected);
    for fl in &flow_logs {
        assert_eq!(fl.log_format(), Some(DEFAULT_FORMAT));
        assert_eq!(fl.max_aggregation_interval(), Some(60));
        assert_eq!(fl.log_group_name(), Some(group));
        assert_eq!(fl.traffic_type().map(|t| t.as_str()), Some("ALL"));
        assert_eq!(
            fl.deliver_logs_permission_arn(),
            Some("arn:aws:iam::123456789012:role/nat-flowrec-delivery")
        );
        assert_eq!(tag(fl, TAG_RECORDING), Some("rec-create"));
        assert_eq!(tag(fl, TAG_NAT_GATEWAY), Some(nat.nat_gateway_id.as_str()));
        assert_eq!(tag(fl, TAG_DEADLINE), Some("2031-05-06T07:08:09Z"));
        assert!(tag(fl, "Name").is_some_and(|n| n.contains("rec-create")));
    }
}

/// moto ignores ClientToken: a second identical call answers FlowLogAlreadyExists instead of
/// echoing the first result (AWS's behaviour). The adapter resolves that by adopting the flow
/// logs tagged with this recording, so either way a retry returns the same ids and creates none.
#[tokio::test]
async fn a_retried_create_returns_the_same_flow_logs_and_creates_none() {
    let cloud = moto().cloud().await;
    let nat = seed_nat(&cloud.ec2, 22).await;
    let req = request(
        "rec-retry",
        &nat.nat_gateway_id,
        &[&nat.eni],
        "/nat-flowrec-test/retry",
    );

    let first = cloud.create_flow_logs(&req).await.unwrap();
    let second = cloud.create_flow_logs(&req).await.unwrap();

    assert_eq!(first, second);
    assert_eq!(flow_logs_on(&cloud.ec2, &nat.eni).await.len(), 1);
}

#[tokio::test]
async fn an_eni_someone_else_records_into_the_group_is_a_partial_failure() {
    let cloud = moto().cloud().await;
    let nat = seed_nat(&cloud.ec2, 23).await;
    let group = "/nat-flowrec-test/conflict";
    seed_foreign_flow_log(&cloud.ec2, &nat.eni, group).await;

    let err = cloud
        .create_flow_logs(&request(
            "rec-conflict",
            &nat.nat_gateway_id,
            &[&nat.eni],
            group,
        ))
        .await
        .unwrap_err();

    assert_eq!(err.kind, AwsErrorKind::PartialFailure);
    assert_eq!(err.code, "FlowLogAlreadyExists");
    assert!(err.created_ids.is_empty());
    assert!(err.message.contains(&nat.eni), "{err}");
}

#[tokio::test]
async fn tagged_flow_logs_sees_ours_and_not_an_untagged_one() {
    let cloud = moto().cloud().await;
    let nat = seed_nat(&cloud.ec2, 31).await;
    let other_eni = extra_eni(&cloud.ec2, &nat.subnet_id).await;
    let group = "/nat-flowrec-test/tagged";
    let foreign = seed_foreign_flow_log(&cloud.ec2, &other_eni, group).await;
    let ours = cloud
        .create_flow_logs(&request(
            "rec-tagged",
            &nat.nat_gateway_id,
            &[&nat.eni],
            group,
        ))
        .await
        .unwrap();

    let tagged = cloud.tagged_flow_logs().await.unwrap();

    assert!(
        tagged.iter().all(|t| t.flow_log_id != foreign),
        "{tagged:?}"
    );
    let mine: Vec<_> = tagged
        .iter()
        .filter(|t| t.recording_id == "rec-tagged")
        .collect();
    assert_eq!(mine.len(), 1, "{tagged:?}");
    let t = mine[0];
    assert_eq!(std::slice::from_ref(&t.flow_log_id), ours.as_slice());
    assert_eq!(t.resource_id, nat.eni);
    assert_eq!(
        t.nat_gateway_id.as_deref(),
        Some(nat.nat_gateway_id.as_str())
    );
    assert_eq!(t.deadline, Some(deadline()));
    assert_eq!(t.log_group.as_deref(), Some(group));
    assert_eq!(t.log_format.as_deref(), Some(DEFAULT_FORMAT));
    // moto reports FAILED delivery into a group that does not exist, as AWS does without rights
    assert_eq!(t.deliver_logs_status.as_deref(), Some("FAILED"));
}

#[tokio::test]
async fn delete_flow_logs_refuses_a_flow_log_we_did_not_create_and_deletes_nothing() {
    let cloud = moto().cloud().await;
    let nat = seed_nat(&cloud.ec2, 41).await;
    let other_eni = extra_eni(&cloud.ec2, &nat.subnet_id).await;
    let group = "/nat-flowrec-test/refuse";
    let foreign = seed_foreign_flow_log(&cloud.ec2, &other_eni, group).await;
    let ours = cloud
        .create_flow_logs(&request(
            "rec-refuse",
            &nat.nat_gateway_id,
            &[&nat.eni],
            group,
        ))
        .await
        .unwrap();

    let mut both = ours.clone();
    both.push(foreign.clone());
    let err = cloud.delete_flow_logs(&both).await.unwrap_err();

    assert_eq!(err.code, CODE_NOT_OURS);
    assert!(err.message.contains(&foreign), "{err}");
    assert!(!err.message.contains(&ours[0]), "{err}");
    assert_eq!(flow_logs_by_id(&cloud.ec2, &both).await.len(), 2);
}

#[tokio::test]
async fn delete_flow_logs_deletes_ours_and_tolerates_ids_already_gone() {
    let cloud = moto().cloud().await;
    let nat = seed_nat(&cloud.ec2, 42).await;
    let ours = cloud
        .create_flow_logs(&request(
            "rec-delete",
            &nat.nat_gateway_id,
            &[&nat.eni],
            "/nat-flowrec-test/delete",
        ))
        .await
        .unwrap();

    cloud.delete_flow_logs(&ours).await.unwrap();
    assert!(flow_logs_by_id(&cloud.ec2, &ours).await.is_empty());

    // a second stop (a retried run) and an id that never existed are both fine
    let mut again = ours.clone();
    again.push("fl-0123456789abcdef0".into());
    cloud.delete_flow_logs(&again).await.unwrap();
}

/// Named for the pin in Cargo.toml: aws-sdk-cloudwatch 1.100+ speaks Smithy RPC v2 CBOR, which
/// moto answers with HTTP 404. If this fails after a bump, the bump broke the moto path.
#[tokio::test]
async fn cloudwatch_sdk_pin_1_99_metric_data_reaches_moto() {
    let cloud = moto().cloud().await;
    let (nat_a, nat_b) = ("nat-0aaaaaaaaaaaa0001", "nat-0bbbbbbbbbbbb0002");
    let t0 = Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap();
    let minute = |i: i64| t0 + Duration::minutes(i);
    put_nat_metric(
        &cloud.cloudwatch,
        nat_a,
        "BytesInFromSource",
        &[(minute(2), 5.0e6), (minute(0), 1.0e6), (minute(1), 2.5e8)],
    )
    .await;
    put_nat_metric(
        &cloud.cloudwatch,
        nat_a,
        "BytesInFromDestination",
        &[(minute(0), 7.0)],
    )
    .await;
    // minute 3 has no datapoint: a missing period stays missing
    put_nat_metric(
        &cloud.cloudwatch,
        nat_b,
        "BytesInFromSource",
        &[(minute(1), 3.0), (minute(4), 4.0)],
    )
    .await;

    let query = MetricQuery {
        nat_gateway_ids: vec![nat_a.into(), nat_b.into()],
        metrics: vec!["BytesInFromSource".into(), "BytesInFromDestination".into()],
        statistic: "Sum".into(),
        period_seconds: 60,
        start: t0,
        end: minute(5),
        log_groups: Vec::new(),
        nat_metrics: Default::default(),
        statistics: Default::default(),
    };
    let series = cloud.metric_data(&query).await.unwrap();

    let shape: Vec<(&str, &str)> = series
        .iter()
        .map(|s| (s.nat_gateway_id.as_str(), s.metric.as_str()))
        .collect();
    assert_eq!(
        shape,
        [
            (nat_a, "BytesInFromSource"),
            (nat_a, "BytesInFromDestination"),
            (nat_b, "BytesInFromSource"),
            (nat_b, "BytesInFromDestination"),
        ]
    );
    assert_eq!(
        series[0].points,
        [(minute(0), 1.0e6), (minute(1), 2.5e8), (minute(2), 5.0e6)]
    );
    assert_eq!(series[1].points, [(minute(0), 7.0)]);
    assert_eq!(series[2].points, [(minute(1), 3.0), (minute(4), 4.0)]);
    assert!(series[3].points.is_empty());
}

#[tokio::test]
async fn alarm_states_reads_the_state_and_names_a_missing_alarm() {
    let cloud = moto().cloud().await;
    for name in ["nat-flowrec-test-alarm-ok", "nat-flowrec-test-alarm-on"] {
        cloud
            .cloudwatch
            .put_metric_alarm()
            .alarm_name(name)
            .namespace("AWS/NATGateway")
            .metric_name("BytesInFromSource")
            .statistic(aws_sdk_cloudwatch::types::Statistic::Sum)
            .period(60)
            .evaluation_periods(3)
            .threshold(1.0e8)
            .comparison_operator(
                aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold,
            )
            .send()
            .await
            .expect("moto PutMetricAlarm");
    }
    for (name, state) in [
        (
            "nat-flowrec-test-alarm-ok",
            aws_sdk_cloudwatch::types::StateValue::Ok,
        ),
        (
            "nat-flowrec-test-alarm-on",
            aws_sdk_cloudwatch::types::StateValue::Alarm,
        ),
    ] {
        cloud
            .cloudwatch
            .set_alarm_state()
            .alarm_name(name)
            .state_value(state)
            .state_reason("test")
            .send()
            .await
            .expect("moto SetAlarmState");
    }

    let states = cloud
        .alarm_states(&[
            "nat-flowrec-test-alarm-on".into(),
            "nat-flowrec-test-alarm-ok".into(),
        ])
        .await
        .unwrap();
    assert_eq!(
        states,
        [
            ("nat-flowrec-test-alarm-on".to_owned(), AlarmState::Alarm),
            ("nat-flowrec-test-alarm-ok".to_owned(), AlarmState::Ok),
        ]
    );

    let err = cloud
        .alarm_states(&["nat-flowrec-test-no-such-alarm".into()])
        .await
        .unwrap_err();
    assert_eq!(err.kind, AwsErrorKind::NotFound);
    assert!(
        err.message.contains("nat-flowrec-test-no-such-alarm"),
        "{err}"
    );
}

#[tokio::test]
async fn ensure_log_group_is_idempotent_tags_the_group_and_keeps_retention_current() {
    let cloud = moto().cloud().await;
    let mut spec = LogGroupSpec {
        name: "/nat-flowrec-test/ensure".into(),
        class: "INFREQUENT_ACCESS".into(),
        retention_days: 7,
    };
    cloud.ensure_log_group(&spec).await.unwrap();
    cloud.ensure_log_group(&spec).await.unwrap();
    spec.retention_days = 14;
    cloud.ensure_log_group(&spec).await.unwrap();

    let groups = cloud
        .logs
        .describe_log_groups()
        .log_group_name_prefix(&spec.name)
        .send()
        .await
        .expect("moto DescribeLogGroups");
    let groups = groups.log_groups();
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert_eq!(groups[0].retention_in_days(), Some(14));
    let arn = groups[0].arn().expect("log group arn");
    // moto's DescribeLogGroups arn ends with `:*`; ListTagsForResource wants it without
    let tags = cloud
        .logs
        .list_tags_for_resource()
        .resource_arn(arn.trim_end_matches(":*"))
        .send()
        .await
        .expect("moto ListTagsForResource");
    for (k, v) in nat_flowrec::aws::LOG_GROUP_TAGS {
        assert_eq!(
            tags.tags().and_then(|t| t.get(*k)).map(String::as_str),
            Some(*v)
        );
    }
}

/// A query-logging configuration someone else made on moto (no nat-flowrec tags), associated
/// with `vpc_id`; its id.
fn seed_foreign_query_log_config(
    moto: &crate::support::moto::Moto,
    vpc_id: &str,
    name: &str,
) -> String {
    crate::support::moto::seed_query_log_config(
        moto,
        name,
        serde_json::json!([{"Key": "Name", "Value": "audit"}]),
        Some(vpc_id),
    )
}

/// (configuration id, ours) of every configuration logging the VPC's queries, sorted.
async fn vpc_logging(cloud: &nat_flowrec::aws::AwsCloud, vpc: &str) -> Vec<(String, bool)> {
    use nat_flowrec::ports::QueryLogs;
    let mut logging: Vec<(String, bool)> = cloud
        .vpc_query_logging(vpc)
        .await
        .unwrap()
        .into_iter()
        .map(|l| (l.config_id, l.ours))
        .collect();
    logging.sort();
    logging
}

#[tokio::test]
async fn query_log_configs_are_created_tagged_listed_as_ours_and_only_ours_removed() {
    use nat_flowrec::ports::{QueryLogRequest, QueryLogs};

    let moto = moto();
    let cloud = moto.cloud().await;
    let vpc = seed_nat(&cloud.ec2, 172).await.vpc_id;
    let foreign = seed_foreign_query_log_config(moto, &vpc, "adapter-foreign-172");
    let req = QueryLogRequest {
        recording_id: "rec-adapter-172".into(),
        nat_gateway_id: "nat-0adapter172".into(),
        destination_arn: "arn:aws:logs:us-east-1:123456789012:log-group:/nat-flowrec/dns-queries"
            .into(),
        deadline: deadline(),
    };

    let id = cloud.create_query_log_config(&req).await.unwrap();
    assert_eq!(
        cloud.create_query_log_config(&req).await.unwrap(),
        id,
        "a retried create (same CreatorRequestId) adopts the configuration created before"
    );
    cloud.associate_query_log_config(&id, &vpc).await.unwrap();
    cloud.associate_query_log_config(&id, &vpc).await.unwrap();

    let ours: Vec<_> = cloud
        .tagged_query_log_configs()
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.recording_id == req.recording_id)
        .collect();
    assert_eq!(ours.len(), 1, "{ours:?}");
    assert_eq!(ours[0].config_id, id);
    assert_eq!(ours[0].nat_gateway_id.as_deref(), Some("nat-0adapter172"));
    assert_eq!(ours[0].deadline, Some(deadline()));
    assert_eq!(ours[0].destination_arn, req.destination_arn);
    assert_eq!(ours[0].vpc_ids, std::slice::from_ref(&vpc));
    assert!(
        !cloud
            .tagged_query_log_configs()
            .await
            .unwrap()
            .iter()
            .any(|c| c.config_id == foreign),
        "the foreign configuration carries no tag of ours"
    );
    let mut expected = vec![(foreign.clone(), false), (id.clone(), true)];
    expected.sort();
    assert_eq!(vpc_logging(&cloud, &vpc).await, expected);

    // The foreign configuration is refused, and stays associated.
    let err = cloud
        .disassociate_query_log_config(&foreign, &vpc)
        .await
        .unwrap_err();
    assert_eq!(err.code, CODE_NOT_OURS, "{err}");
    let err = cloud.delete_query_log_config(&foreign).await.unwrap_err();
    assert_eq!(err.code, CODE_NOT_OURS, "{err}");

    // Ours: deleting while associated is AWS's refusal; disassociate, delete, and again.
    let err = cloud.delete_query_log_config(&id).await.unwrap_err();
    assert_eq!(err.kind, AwsErrorKind::InvalidInput, "{err}");
    cloud
        .disassociate_query_log_config(&id, &vpc)
        .await
        .unwrap();
    cloud.delete_query_log_config(&id).await.unwrap();
    cloud.delete_query_log_config(&id).await.unwrap();
    cloud
        .disassociate_query_log_config(&id, &vpc)
        .await
        .unwrap();
    assert_eq!(vpc_logging(&cloud, &vpc).await, [(foreign, false)]);
}
