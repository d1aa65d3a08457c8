//! The `Inventory` port on `AwsCloud`: the EC2 reads live in `network.rs`, the IAM ones in
//! `iam.rs`; the log group (DescribeLogGroups), the SNS topic (GetTopicAttributes,
//! ListSubscriptionsByTopic) and the flow logs' S3 bucket (GetBucketLocation, GetBucketPolicy)
//! are read here. All read-only.

use std::net::IpAddr;

use super::error::{from_sdk, from_sdk_typed};
use super::{AwsCloud, iam, network};
use crate::ports::{
    AwsError, AwsErrorKind, InstanceName, Inventory, LogGroupInfo, NatPlacement, NetworkInterface,
    RolePolicies, RouteTable, Subnet, TopicInfo, TopicSubscription, VpcEndpoint,
};

const OP_DESCRIBE_LOG_GROUPS: &str = "logs:DescribeLogGroups";
const OP_GET_TOPIC_ATTRIBUTES: &str = "sns:GetTopicAttributes";
const OP_LIST_SUBSCRIPTIONS_BY_TOPIC: &str = "sns:ListSubscriptionsByTopic";
const OP_GET_BUCKET_LOCATION: &str = "s3:GetBucketLocation";
const OP_GET_BUCKET_POLICY: &str = "s3:GetBucketPolicy";

/// What SNS shows instead of an ARN for a subscription nobody confirmed yet.
const PENDING_CONFIRMATION: &str = "PendingConfirmation";

impl Inventory for AwsCloud {
    async fn bucket_region(&self, bucket: &str) -> Result<Option<String>, AwsError> {
        match self.s3.get_bucket_location().bucket(bucket).send().await {
            // AWS answers an empty constraint for us-east-1.
            Ok(out) => Ok(Some(
                out.location_constraint()
                    .map(|c| c.as_str().to_owned())
                    .filter(|c| !c.is_empty())
                    .unwrap_or_else(|| "us-east-1".to_owned()),
            )),
            Err(e) => {
                let err = from_sdk(OP_GET_BUCKET_LOCATION, e);
                if err.code == "NoSuchBucket" {
                    Ok(None)
                } else {
                    Err(err)
                }
            }
        }
    }

    async fn bucket_policy(&self, bucket: &str) -> Result<Option<String>, AwsError> {
        match self.s3.get_bucket_policy().bucket(bucket).send().await {
            Ok(out) => Ok(out.policy().map(str::to_owned)),
            Err(e) => {
                let err = from_sdk(OP_GET_BUCKET_POLICY, e);
                if err.code == "NoSuchBucketPolicy" {
                    Ok(None)
                } else {
                    Err(err)
                }
            }
        }
    }

    async fn interfaces_by_address(
        &self,
        addresses: &[IpAddr],
    ) -> Result<Vec<NetworkInterface>, AwsError> {
        network::interfaces_by_address(&self.ec2, addresses).await
    }

    async fn instance_names(&self, instance_ids: &[String]) -> Result<Vec<InstanceName>, AwsError> {
        network::instance_names(&self.ec2, instance_ids).await
    }

    async fn subnets(&self, subnet_ids: &[String]) -> Result<Vec<Subnet>, AwsError> {
        network::subnets(&self.ec2, subnet_ids).await
    }

    async fn nat_placements(
        &self,
        nat_gateway_ids: &[String],
    ) -> Result<Vec<NatPlacement>, AwsError> {
        network::nat_placements(&self.ec2, nat_gateway_ids).await
    }

    async fn route_tables(&self, vpc_id: &str) -> Result<Vec<RouteTable>, AwsError> {
        network::route_tables(&self.ec2, vpc_id).await
    }

    async fn vpc_endpoints(&self, vpc_id: &str) -> Result<Vec<VpcEndpoint>, AwsError> {
        network::vpc_endpoints(&self.ec2, vpc_id).await
    }

    async fn role_policies(&self, role_name: &str) -> Result<Option<RolePolicies>, AwsError> {
        iam::role_policies(&self.iam, role_name).await
    }

    async fn log_group(&self, name: &str) -> Result<Option<LogGroupInfo>, AwsError> {
        // The prefix matches every group whose name starts with ours: page until the exact one.
        let mut pages = self
            .logs
            .describe_log_groups()
            .log_group_name_prefix(name)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| from_sdk(OP_DESCRIBE_LOG_GROUPS, e))?;
            if let Some(group) = page
                .log_groups()
                .iter()
                .find(|g| g.log_group_name() == Some(name))
            {
                return Ok(Some(LogGroupInfo {
                    name: name.to_owned(),
                    class: group
                        .log_group_class()
                        .map(|c| c.as_str().to_owned())
                        .filter(|c| !c.is_empty()),
                    retention_days: group.retention_in_days(),
                }));
            }
        }
        Ok(None)
    }

    async fn topic(&self, topic_arn: &str) -> Result<Option<TopicInfo>, AwsError> {
        let exists = self
            .sns
            .get_topic_attributes()
            .topic_arn(topic_arn)
            .send()
            .await
            .map_err(|e| {
                from_sdk_typed(OP_GET_TOPIC_ATTRIBUTES, e, |e| {
                    if e.is_not_found_exception() {
                        Some(AwsErrorKind::NotFound)
                    } else if e.is_authorization_error_exception() {
                        Some(AwsErrorKind::AccessDenied)
                    } else {
                        None
                    }
                })
            });
        match exists {
            Err(e) if e.kind == AwsErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
            Ok(_) => {}
        }
        let mut subscriptions = Vec::new();
        let mut pages = self
            .sns
            .list_subscriptions_by_topic()
            .topic_arn(topic_arn)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| from_sdk(OP_LIST_SUBSCRIPTIONS_BY_TOPIC, e))?;
            for s in page.subscriptions() {
                let arn = s.subscription_arn().unwrap_or_default();
                subscriptions.push(TopicSubscription {
                    protocol: s.protocol().unwrap_or_default().to_owned(),
                    endpoint: s.endpoint().unwrap_or_default().to_owned(),
                    confirmed: arn != PENDING_CONFIRMATION
                        && crate::names::ArnParts::split(arn).is_some(),
                });
            }
        }
        Ok(Some(TopicInfo {
            arn: topic_arn.to_owned(),
            subscriptions,
        }))
    }
}
