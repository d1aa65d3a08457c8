//! Route 53 Resolver query logging in the simulated account: configurations (ours, tagged, or
//! someone else's) and their VPC associations, with AWS's rules: a CreatorRequestId creates
//! once, a configuration is deleted only once no VPC is associated, and only ours may be
//! disassociated or deleted by nat-flowrec.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};

use super::SimOperation;
use crate::ports::{
    AwsError, AwsErrorKind, QueryLogRequest, TAG_DEADLINE, TAG_NAT_GATEWAY, TAG_RECORDING,
    TaggedQueryLogConfig, VpcQueryLogging,
};

/// A query-logging configuration in the simulated account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimQueryLogConfig {
    pub config_id: String,
    pub creator_request_id: String,
    pub destination_arn: String,
    pub tags: BTreeMap<String, String>,
    /// The VPCs associated with it.
    pub vpc_ids: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

impl SimQueryLogConfig {
    fn ours(&self) -> bool {
        self.tags.contains_key(TAG_RECORDING)
    }
}

/// The account's configurations, and those deleted (kept for tests to read).
#[derive(Debug, Default)]
pub(crate) struct QueryLogState {
    pub configs: Vec<SimQueryLogConfig>,
    pub deleted: Vec<SimQueryLogConfig>,
    next_id: u64,
}

fn not_found(op: SimOperation, message: String) -> AwsError {
    AwsError::new(
        op.name(),
        "ResourceNotFoundException",
        message,
        AwsErrorKind::NotFound,
    )
}

impl QueryLogState {
    fn new_id(&mut self) -> String {
        self.next_id += 1;
        format!("rslvr-qlc-{:017x}", self.next_id)
    }

    fn find(&self, config_id: &str) -> Option<usize> {
        self.configs.iter().position(|c| c.config_id == config_id)
    }

    /// A configuration someone else made (no nat-flowrec tags), associated with `vpc_ids`.
    pub fn add_foreign(&mut self, destination_arn: &str, vpc_ids: &[String], now: DateTime<Utc>) {
        let config_id = self.new_id();
        self.configs.push(SimQueryLogConfig {
            creator_request_id: format!("console-{config_id}"),
            config_id,
            destination_arn: destination_arn.to_owned(),
            tags: BTreeMap::from([("Name".to_owned(), "audit".to_owned())]),
            vpc_ids: vpc_ids.to_vec(),
            created_at: now,
            deleted_at: None,
        });
    }

    /// The same CreatorRequestId answers with the configuration it created (a retry).
    pub fn create(&mut self, req: &QueryLogRequest, now: DateTime<Utc>) -> String {
        if let Some(earlier) = self
            .configs
            .iter()
            .find(|c| c.creator_request_id == req.recording_id)
        {
            return earlier.config_id.clone();
        }
        let config_id = self.new_id();
        self.configs.push(SimQueryLogConfig {
            config_id: config_id.clone(),
            creator_request_id: req.recording_id.clone(),
            destination_arn: req.destination_arn.clone(),
            tags: BTreeMap::from([
                (TAG_RECORDING.to_owned(), req.recording_id.clone()),
                (TAG_NAT_GATEWAY.to_owned(), req.nat_gateway_id.clone()),
                (
                    TAG_DEADLINE.to_owned(),
                    req.deadline.to_rfc3339_opts(SecondsFormat::Secs, true),
                ),
            ]),
            vpc_ids: Vec::new(),
            created_at: now,
            deleted_at: None,
        });
        config_id
    }

    pub fn associate(&mut self, config_id: &str, vpc_id: &str) -> Result<(), AwsError> {
        let op = SimOperation::AssociateResolverQueryLogConfig;
        let i = self.find(config_id).ok_or_else(|| {
            not_found(
                op,
                format!("query-logging configuration {config_id} does not exist"),
            )
        })?;
        let vpcs = &mut self.configs[i].vpc_ids;
        if !vpcs.iter().any(|v| v == vpc_id) {
            vpcs.push(vpc_id.to_owned());
        }
        Ok(())
    }

    pub fn disassociate(&mut self, config_id: &str, vpc_id: &str) -> Result<(), AwsError> {
        let op = SimOperation::DisassociateResolverQueryLogConfig;
        let Some(i) = self.find(config_id) else {
            return Ok(());
        };
        if !self.configs[i].ours() {
            return Err(AwsError::not_ours_to(
                op.name(),
                "disassociate",
                &[config_id.to_owned()],
            ));
        }
        self.configs[i].vpc_ids.retain(|v| v != vpc_id);
        Ok(())
    }

    pub fn delete(&mut self, config_id: &str, now: DateTime<Utc>) -> Result<(), AwsError> {
        let op = SimOperation::DeleteResolverQueryLogConfig;
        let Some(i) = self.find(config_id) else {
            return Ok(());
        };
        let config = &self.configs[i];
        if !config.ours() {
            return Err(AwsError::not_ours_to(
                op.name(),
                "delete",
                &[config_id.to_owned()],
            ));
        }
        if !config.vpc_ids.is_empty() {
            return Err(AwsError::new(
                op.name(),
                "InvalidRequestException",
                format!(
                    "{config_id} is still associated with {}: disassociate all VPCs first",
                    config.vpc_ids.join(", ")
                ),
                AwsErrorKind::InvalidInput,
            ));
        }
        let mut gone = self.configs.remove(i);
        gone.deleted_at = Some(now);
        self.deleted.push(gone);
        Ok(())
    }

    pub fn tagged(&self) -> Vec<TaggedQueryLogConfig> {
        self.configs
            .iter()
            .filter_map(|c| {
                Some(TaggedQueryLogConfig {
                    config_id: c.config_id.clone(),
                    recording_id: c.tags.get(TAG_RECORDING)?.clone(),
                    nat_gateway_id: c.tags.get(TAG_NAT_GATEWAY).cloned(),
                    deadline: c
                        .tags
                        .get(TAG_DEADLINE)
                        .and_then(|v| DateTime::parse_from_rfc3339(v).ok())
                        .map(|t| t.with_timezone(&Utc)),
                    destination_arn: c.destination_arn.clone(),
                    vpc_ids: c.vpc_ids.clone(),
                })
            })
            .collect()
    }

    pub fn of_vpc(&self, vpc_id: &str) -> Vec<VpcQueryLogging> {
        self.configs
            .iter()
            .filter(|c| c.vpc_ids.iter().any(|v| v == vpc_id))
            .map(|c| VpcQueryLogging {
                config_id: c.config_id.clone(),
                destination_arn: c.destination_arn.clone(),
                ours: c.ours(),
            })
            .collect()
    }
}
