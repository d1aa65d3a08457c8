//! Flow logs on the EC2 API: create them tagged on a NAT's ENIs, list ours, delete only ours.
//! The tags are the whole of "ours": a flow log without `TAG_RECORDING` is never deleted, even
//! when the caller asks.

use std::collections::HashMap;

use aws_sdk_ec2::Client;
use aws_sdk_ec2::operation::create_flow_logs::builders::CreateFlowLogsFluentBuilder;
use aws_sdk_ec2::types::{
    DestinationFileFormat, DestinationOptionsRequest, Filter, FlowLog, FlowLogsResourceType,
    LogDestinationType, ResourceType, Tag, TagSpecification, TrafficType, UnsuccessfulItem,
};
use chrono::{DateTime, SecondsFormat, Utc};

use super::ec2::dedup;
use super::error::from_sdk;
use crate::ports::{
    AwsError, AwsErrorKind, FlowLogRequest, FlowLogResource, TAG_DEADLINE, TAG_NAT_GATEWAY,
    TAG_RECORDING, TaggedFlowLog,
};

const OP_CREATE: &str = "ec2:CreateFlowLogs";
const OP_DESCRIBE: &str = "ec2:DescribeFlowLogs";
const OP_DELETE: &str = "ec2:DeleteFlowLogs";

/// `ResourceIds` per CreateFlowLogs call (documented for non-transit-gateway resources). A NAT
/// has far fewer ENIs; one call per recording keeps the ClientToken meaningful.
pub const MAX_RESOURCES_PER_CREATE_FLOW_LOGS: usize = 300;
/// `FlowLogIds` per DeleteFlowLogs call (documented).
pub const MAX_FLOW_LOG_IDS_PER_DELETE: usize = 1000;
/// Values per DescribeFlowLogs filter: not documented for this call; 200 is what other EC2
/// Describe calls allow.
const MAX_FILTER_VALUES: usize = 200;

const ALREADY_EXISTS: &str = "FlowLogAlreadyExists";
const ALREADY_GONE: &str = "InvalidFlowLogId.NotFound";

/// The tags of a recording's flow logs: what `tagged_flow_logs` reads back, plus a `Name` for
/// the console.
pub(crate) fn flow_log_tags(req: &FlowLogRequest) -> Vec<Tag> {
    let tag = |k: &str, v: String| Tag::builder().key(k).value(v).build();
    vec![
        tag(TAG_RECORDING, req.recording_id.clone()),
        tag(TAG_NAT_GATEWAY, req.nat_gateway_id.clone()),
        tag(
            TAG_DEADLINE,
            req.deadline.to_rfc3339_opts(SecondsFormat::Secs, true),
        ),
        tag(
            "Name",
            format!("nat-flowrec {} {}", req.nat_gateway_id, req.recording_id),
        ),
    ]
}

/// The CreateFlowLogs request of a recording (a separate function so its shape is unit-tested).
/// To S3: the bucket's ARN and prefix, the destination options, and no role (the log delivery
/// service writes under the bucket's policy).
pub(crate) fn create_request(client: &Client, req: &FlowLogRequest) -> CreateFlowLogsFluentBuilder {
    let builder = client.create_flow_logs();
    let builder = match &req.s3 {
        None => builder
            .log_destination_type(LogDestinationType::CloudWatchLogs)
            .log_group_name(&req.log_group)
            .deliver_logs_permission_arn(&req.deliver_logs_role_arn),
        Some(s3) => builder
            .log_destination_type(LogDestinationType::S3)
            .log_destination(s3.log_destination(&partition_of(client)))
            .destination_options(
                DestinationOptionsRequest::builder()
                    .file_format(DestinationFileFormat::from(s3.file_format.as_str()))
                    .hive_compatible_partitions(s3.hive_compatible_partitions)
                    .per_hour_partition(s3.per_hour_partition)
                    .build(),
            ),
    };
    builder
        .resource_type(match req.resource {
            FlowLogResource::NetworkInterfaces => FlowLogsResourceType::NetworkInterface,
            FlowLogResource::RegionalNatGateway => FlowLogsResourceType::RegionalNatGateway,
        })
        .set_resource_ids(Some(req.enis.clone()))
        .traffic_type(TrafficType::All)
        .max_aggregation_interval(req.max_aggregation_interval)
        .log_format(&req.log_format)
        // A retried call (timeout after AWS acted) returns the same flow logs, not new ones.
        .client_token(&req.recording_id)
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::VpcFlowLog)
                .set_tags(Some(flow_log_tags(req)))
                .build(),
        )
}

/// The ARN partition of the client's region (`aws`, `aws-cn`, `aws-us-gov`).
fn partition_of(client: &Client) -> String {
    let region = client
        .config()
        .region()
        .map(|r| r.to_string())
        .unwrap_or_default();
    if region.starts_with("cn-") {
        "aws-cn".to_owned()
    } else if region.starts_with("us-gov-") {
        "aws-us-gov".to_owned()
    } else {
        "aws".to_owned()
    }
}

/// One ENI CreateFlowLogs did not record, and why.
struct Failure {
    eni: String,
    code: String,
    message: String,
}

pub(crate) async fn create(client: &Client, req: &FlowLogRequest) -> Result<Vec<String>, AwsError> {
    if req.enis.is_empty() || req.enis.len() > MAX_RESOURCES_PER_CREATE_FLOW_LOGS {
        return Err(AwsError::new(
            OP_CREATE,
            "InvalidParameterValue",
            format!(
                "recording {} of {} names {} ENIs; between 1 and {MAX_RESOURCES_PER_CREATE_FLOW_LOGS} \
                 are valid",
                req.recording_id,
                req.nat_gateway_id,
                req.enis.len()
            ),
            AwsErrorKind::InvalidInput,
        ));
    }
    let (mut created, mut failures) = match create_request(client, req).send().await {
        Ok(out) => (
            out.flow_log_ids().to_vec(),
            out.unsuccessful().iter().map(failure).collect::<Vec<_>>(),
        ),
        // moto (and AWS for some conflicts) fails the whole call instead of listing the ENI.
        Err(e) => {
            let err = from_sdk(OP_CREATE, e);
            if err.code != ALREADY_EXISTS {
                return Err(err);
            }
            let failures = req
                .enis
                .iter()
                .map(|eni| Failure {
                    eni: eni.clone(),
                    code: err.code.clone(),
                    message: err.message.clone(),
                })
                .collect();
            (Vec::new(), failures)
        }
    };
    // "Already exists" on an ENI that already records into the same group under this very
    // recording is an earlier attempt of this call that succeeded: adopt it, do not fail.
    if failures.iter().any(|f| f.code == ALREADY_EXISTS) {
        let earlier = flow_logs_of_recording(client, req).await?;
        failures.retain(|f| {
            if f.code != ALREADY_EXISTS {
                return true;
            }
            match earlier.get(&f.eni) {
                Some(id) => {
                    if !created.contains(id) {
                        created.push(id.clone());
                    }
                    false
                }
                None => true,
            }
        });
    }
    if failures.is_empty() {
        return Ok(created);
    }
    let described: Vec<String> = failures
        .iter()
        .map(|f| format!("{}: {}: {}", f.eni, f.code, f.message))
        .collect();
    Err(AwsError {
        operation: OP_CREATE,
        code: failures.first().map(|f| f.code.clone()).unwrap_or_default(),
        message: format!(
            "recording {} of {}: {} of {} ENIs failed ({}); created: [{}]",
            req.recording_id,
            req.nat_gateway_id,
            failures.len(),
            req.enis.len(),
            described.join("; "),
            created.join(", ")
        ),
        kind: AwsErrorKind::PartialFailure,
        created_ids: created,
    })
}

fn failure(item: &UnsuccessfulItem) -> Failure {
    Failure {
        eni: item.resource_id().unwrap_or("?").to_owned(),
        code: item
            .error()
            .and_then(|e| e.code())
            .unwrap_or("Unknown")
            .to_owned(),
        message: item
            .error()
            .and_then(|e| e.message())
            .unwrap_or_default()
            .to_owned(),
    }
}

/// ENI -> flow-log id of the flow logs tagged with this recording that deliver to its group
/// (or its S3 destination).
async fn flow_logs_of_recording(
    client: &Client,
    req: &FlowLogRequest,
) -> Result<HashMap<String, String>, AwsError> {
    let filters = vec![
        filter("resource-id", &req.enis),
        filter(
            &format!("tag:{TAG_RECORDING}"),
            std::slice::from_ref(&req.recording_id),
        ),
    ];
    Ok(describe(client, filters)
        .await?
        .iter()
        .filter(|fl| match &req.s3 {
            None => fl.log_group_name() == Some(req.log_group.as_str()),
            Some(s3) => {
                fl.log_destination() == Some(s3.log_destination(&partition_of(client)).as_str())
            }
        })
        .filter_map(|fl| Some((fl.resource_id()?.to_owned(), fl.flow_log_id()?.to_owned())))
        .collect())
}

pub(crate) async fn tagged(client: &Client) -> Result<Vec<TaggedFlowLog>, AwsError> {
    let filters = vec![filter("tag-key", &[TAG_RECORDING.to_owned()])];
    Ok(describe(client, filters)
        .await?
        .iter()
        .filter_map(tagged_flow_log)
        .collect())
}

pub(crate) async fn delete(client: &Client, ids: &[String]) -> Result<(), AwsError> {
    let ids = dedup(ids);
    let mut ours = Vec::new();
    let mut foreign = Vec::new();
    for batch in ids.chunks(MAX_FILTER_VALUES) {
        for fl in describe(client, vec![filter("flow-log-id", batch)]).await? {
            let Some(id) = fl.flow_log_id() else { continue };
            if tag(&fl, TAG_RECORDING).is_some() {
                ours.push(id.to_owned());
            } else {
                foreign.push(id.to_owned());
            }
        }
    }
    if !foreign.is_empty() {
        // Nothing is deleted: a caller that mixes in a foreign id has a bug worth seeing.
        return Err(AwsError::not_ours(OP_DELETE, &foreign));
    }
    // Ids DescribeFlowLogs does not know are already gone, which is what the caller wants.
    for batch in ours.chunks(MAX_FLOW_LOG_IDS_PER_DELETE) {
        let out = match client
            .delete_flow_logs()
            .set_flow_log_ids(Some(batch.to_vec()))
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                let err = from_sdk(OP_DELETE, e);
                // moto fails the whole call when one id is gone (after deleting the others);
                // AWS lists it in `Unsuccessful`. Either way another run deleted it meanwhile.
                if err.code == ALREADY_GONE {
                    continue;
                }
                return Err(err);
            }
        };
        let failures: Vec<Failure> = out
            .unsuccessful()
            .iter()
            .map(failure)
            .filter(|f| f.code != ALREADY_GONE)
            .collect();
        if let Some(first) = failures.first() {
            let described: Vec<String> = failures
                .iter()
                .map(|f| format!("{}: {}: {}", f.eni, f.code, f.message))
                .collect();
            return Err(AwsError::new(
                OP_DELETE,
                first.code.clone(),
                format!(
                    "{} of {} flow logs were not deleted ({})",
                    failures.len(),
                    batch.len(),
                    described.join("; ")
                ),
                super::error::kind_from_code(&first.code, None),
            ));
        }
    }
    Ok(())
}

fn filter(name: &str, values: &[String]) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.to_vec()))
        .build()
}

/// Every flow log matching the filters, all pages.
async fn describe(client: &Client, filters: Vec<Filter>) -> Result<Vec<FlowLog>, AwsError> {
    let mut pages = client
        .describe_flow_logs()
        .set_filter(Some(filters))
        .into_paginator()
        .send();
    let mut flow_logs = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| from_sdk(OP_DESCRIBE, e))?;
        flow_logs.extend(page.flow_logs().iter().cloned());
    }
    Ok(flow_logs)
}

fn tag<'a>(fl: &'a FlowLog, key: &str) -> Option<&'a str> {
    fl.tags()
        .iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
}

/// A flow log as the port shows it; `None` for one without `TAG_RECORDING` or an id.
pub(crate) fn tagged_flow_log(fl: &FlowLog) -> Option<TaggedFlowLog> {
    let deadline = tag(fl, TAG_DEADLINE).and_then(|value| {
        match DateTime::parse_from_rfc3339(value) {
            Ok(t) => Some(t.with_timezone(&Utc)),
            Err(e) => {
                // Someone edited the tag: the controller treats the flow log as deadline-less.
                tracing::warn!(
                    flow_log = fl.flow_log_id().unwrap_or("?"),
                    tag = TAG_DEADLINE,
                    value,
                    "tag is not an RFC 3339 time ({e}); ignoring it"
                );
                None
            }
        }
    });
    Some(TaggedFlowLog {
        flow_log_id: fl.flow_log_id()?.to_owned(),
        resource_id: fl.resource_id().unwrap_or_default().to_owned(),
        recording_id: tag(fl, TAG_RECORDING)?.to_owned(),
        nat_gateway_id: tag(fl, TAG_NAT_GATEWAY).map(str::to_owned),
        deadline,
        log_group: fl.log_group_name().map(str::to_owned),
        log_destination: match fl.log_destination_type() {
            Some(LogDestinationType::S3) => fl.log_destination().map(str::to_owned),
            _ => None,
        },
        log_format: fl.log_format().map(str::to_owned),
        deliver_logs_status: fl.deliver_logs_status().map(str::to_owned),
        deliver_logs_error: fl.deliver_logs_error_message().map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::config::{BehaviorVersion, Region};
    use chrono::TimeZone;

    use super::*;
    use crate::s3_layout::{S3Delivery, S3FileFormat};

    fn offline_client() -> Client {
        // Never sends: the tests only inspect the request it would build.
        let config = aws_sdk_ec2::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .build();
        Client::from_conf(config)
    }

    fn request() -> FlowLogRequest {
        FlowLogRequest {
            recording_id: "rec-20250301T120000Z-nat-0abc".into(),
            nat_gateway_id: "nat-0abc".into(),
            enis: vec!["eni-a".into(), "eni-b".into()],
            resource: FlowLogResource::NetworkInterfaces,
            log_group: "/nat-flowrec/flowlogs".into(),
            deliver_logs_role_arn: "arn:aws:iam::123456789012:role/delivery".into(),
            s3: None,
            log_format: "${srcaddr} ${dstaddr} ${bytes}".into(),
            max_aggregation_interval: 60,
            deadline: Utc.with_ymd_and_hms(2025, 3, 1, 12, 15, 0).unwrap(),
        }
    }

    #[test]
    fn a_regional_nat_is_recorded_with_its_own_resource_type() {
        let client = offline_client();
        let req = FlowLogRequest {
            enis: vec!["nat-0abc".into()],
            resource: FlowLogResource::RegionalNatGateway,
            ..request()
        };
        let builder = create_request(&client, &req);
        let input = builder.as_input();
        assert_eq!(
            input.get_resource_type(),
            &Some(FlowLogsResourceType::RegionalNatGateway)
        );
        assert_eq!(
            input.get_resource_ids().as_deref(),
            Some(&["nat-0abc".to_owned()][..])
        );
    }

    #[test]
    fn create_request_has_the_recording_shape() {
        let client = offline_client();
        let builder = create_request(&client, &request());
        let input = builder.as_input();
        assert_eq!(
            input.get_resource_type(),
            &Some(FlowLogsResourceType::NetworkInterface)
        );
        assert_eq!(
            input.get_resource_ids().as_deref(),
            Some(&["eni-a".to_owned(), "eni-b".to_owned()][..])
        );
        assert_eq!(input.get_traffic_type(), &Some(TrafficType::All));
        assert_eq!(
            input.get_log_destination_type(),
            &Some(LogDestinationType::CloudWatchLogs)
        );
        assert_eq!(
            input.get_log_group_name().as_deref(),
            Some("/nat-flowrec/flowlogs")
        );
        assert_eq!(
            input.get_deliver_logs_permission_arn().as_deref(),
            Some("arn:aws:iam::123456789012:role/delivery")
        );
        assert_eq!(input.get_max_aggregation_interval(), &Some(60));
        assert_eq!(
            input.get_log_format().as_deref(),
            Some("${srcaddr} ${dstaddr} ${bytes}")
        );
        assert_eq!(
            input.get_client_token().as_deref(),
            Some("rec-20250301T120000Z-nat-0abc")
        );
        let specs = input.get_tag_specifications().clone().unwrap_or_default();
        assert_eq!(specs.len(), 1);
        assert_eq!(specs[0].resource_type(), Some(&ResourceType::VpcFlowLog));
        let tags: Vec<(&str, &str)> = specs[0]
            .tags()
            .iter()
            .map(|t| (t.key().unwrap_or(""), t.value().unwrap_or("")))
            .collect();
        assert_eq!(
            tags,
            [
                (TAG_RECORDING, "rec-20250301T120000Z-nat-0abc"),
                (TAG_NAT_GATEWAY, "nat-0abc"),
                (TAG_DEADLINE, "2025-03-01T12:15:00Z"),
                ("Name", "nat-flowrec nat-0abc rec-20250301T120000Z-nat-0abc"),
            ]
        );
    }

    #[test]
    fn a_request_to_s3_names_the_bucket_and_options_and_no_role() {
        let client = offline_client();
        let req = FlowLogRequest {
            s3: Some(S3Delivery {
                bucket: "flows".into(),
                prefix: "nat".into(),
                file_format: S3FileFormat::PlainText,
                hive_compatible_partitions: true,
                per_hour_partition: true,
            }),
            ..request()
        };
        let builder = create_request(&client, &req);
        let input = builder.as_input();
        assert_eq!(
            input.get_log_destination_type(),
            &Some(LogDestinationType::S3)
        );
        assert_eq!(
            input.get_log_destination().as_deref(),
            Some("arn:aws:s3:::flows/nat")
        );
        assert_eq!(input.get_log_group_name(), &None);
        assert_eq!(input.get_deliver_logs_permission_arn(), &None);
        let options = input.get_destination_options().clone().unwrap();
        assert_eq!(
            options.file_format(),
            Some(&DestinationFileFormat::PlainText)
        );
        assert_eq!(options.hive_compatible_partitions(), Some(true));
        assert_eq!(options.per_hour_partition(), Some(true));
        // The same tags, format, token and interval as a delivery to CloudWatch Logs.
        assert_eq!(
            input.get_client_token().as_deref(),
            Some("rec-20250301T120000Z-nat-0abc")
        );
        assert_eq!(
            input.get_log_format().as_deref(),
            Some("${srcaddr} ${dstaddr} ${bytes}")
        );
        assert_eq!(
            input.get_tag_specifications().as_ref().map(Vec::len),
            Some(1)
        );
    }

    fn flow_log(tags: &[(&str, &str)]) -> FlowLog {
        let mut b = FlowLog::builder()
            .flow_log_id("fl-1")
            .resource_id("eni-a")
            .log_group_name("/g")
            .log_format("${srcaddr}")
            .deliver_logs_status("FAILED")
            .deliver_logs_error_message("Access error");
        for (k, v) in tags {
            b = b.tags(Tag::builder().key(*k).value(*v).build());
        }
        b.build()
    }

    #[test]
    fn a_tagged_flow_log_reads_back_its_tags_and_delivery_status() {
        let fl = flow_log(&[
            (TAG_RECORDING, "rec-1"),
            (TAG_NAT_GATEWAY, "nat-0abc"),
            (TAG_DEADLINE, "2025-03-01T12:15:00Z"),
        ]);
        let t = tagged_flow_log(&fl).unwrap();
        assert_eq!(t.flow_log_id, "fl-1");
        assert_eq!(t.resource_id, "eni-a");
        assert_eq!(t.recording_id, "rec-1");
        assert_eq!(t.nat_gateway_id.as_deref(), Some("nat-0abc"));
        assert_eq!(
            t.deadline,
            Some(Utc.with_ymd_and_hms(2025, 3, 1, 12, 15, 0).unwrap())
        );
        assert_eq!(t.log_group.as_deref(), Some("/g"));
        assert_eq!(t.deliver_logs_status.as_deref(), Some("FAILED"));
        assert_eq!(t.deliver_logs_error.as_deref(), Some("Access error"));
    }

    #[test]
    fn an_edited_deadline_tag_is_ignored_and_an_untagged_flow_log_is_not_ours() {
        let fl = flow_log(&[(TAG_RECORDING, "rec-1"), (TAG_DEADLINE, "tomorrow")]);
        assert_eq!(tagged_flow_log(&fl).unwrap().deadline, None);
        assert_eq!(tagged_flow_log(&flow_log(&[("Name", "theirs")])), None);
    }
}
