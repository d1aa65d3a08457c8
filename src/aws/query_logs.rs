//! Route 53 Resolver query logging on the Route 53 Resolver API: a configuration created tagged
//! for one recording and associated with the NAT's VPC, listed back by its tags, and
//! disassociated and deleted only when it carries them.

use std::collections::BTreeMap;

use aws_sdk_route53resolver::Client;
use aws_sdk_route53resolver::types::{
    Filter, ResolverQueryLogConfig, ResolverQueryLogConfigAssociation,
    ResolverQueryLogConfigAssociationStatus, ResolverQueryLogConfigStatus, Tag,
};
use chrono::{DateTime, SecondsFormat, Utc};

use super::error::{from_sdk, from_sdk_typed};
use crate::ports::{
    AwsError, AwsErrorKind, QueryLogRequest, QueryLogs, TAG_DEADLINE, TAG_NAT_GATEWAY,
    TAG_RECORDING, TaggedQueryLogConfig, VpcQueryLogging,
};

const OP_CREATE: &str = "route53resolver:CreateResolverQueryLogConfig";
const OP_ASSOCIATE: &str = "route53resolver:AssociateResolverQueryLogConfig";
const OP_DISASSOCIATE: &str = "route53resolver:DisassociateResolverQueryLogConfig";
const OP_DELETE: &str = "route53resolver:DeleteResolverQueryLogConfig";
const OP_GET: &str = "route53resolver:GetResolverQueryLogConfig";
const OP_LIST: &str = "route53resolver:ListResolverQueryLogConfigs";
const OP_LIST_ASSOCIATIONS: &str = "route53resolver:ListResolverQueryLogConfigAssociations";
const OP_LIST_TAGS: &str = "route53resolver:ListTagsForResource";

/// The configuration's name: the console's list shows whose it is. (Name: at most 64 of
/// letters, digits, `-`, `_` and spaces; a recording id is far shorter and uses only those.)
pub(crate) fn config_name(req: &QueryLogRequest) -> String {
    format!("nat-flowrec {}", req.recording_id)
}

/// The tags of a recording's configuration: what `tagged_query_log_configs` reads back.
pub(crate) fn config_tags(req: &QueryLogRequest) -> Vec<(String, String)> {
    vec![
        (TAG_RECORDING.to_owned(), req.recording_id.clone()),
        (TAG_NAT_GATEWAY.to_owned(), req.nat_gateway_id.clone()),
        (
            TAG_DEADLINE.to_owned(),
            req.deadline.to_rfc3339_opts(SecondsFormat::Secs, true),
        ),
    ]
}

fn sdk_tags(tags: Vec<(String, String)>) -> Result<Vec<Tag>, AwsError> {
    tags.into_iter()
        .map(|(key, value)| {
            Tag::builder().key(key).value(value).build().map_err(|e| {
                AwsError::new(OP_CREATE, "InvalidTag", e.to_string(), AwsErrorKind::Other)
            })
        })
        .collect()
}

fn missing(operation: &'static str, what: &str) -> AwsError {
    AwsError::new(
        operation,
        "IncompleteAnswer",
        format!("the answer names no {what}"),
        AwsErrorKind::Other,
    )
}

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

impl QueryLogs for Client {
    async fn create_query_log_config(&self, req: &QueryLogRequest) -> Result<String, AwsError> {
        let sent = self
            .create_resolver_query_log_config()
            .name(config_name(req))
            .destination_arn(&req.destination_arn)
            // A retried call (timeout after AWS acted) cannot create a second configuration.
            .creator_request_id(&req.recording_id)
            .set_tags(Some(sdk_tags(config_tags(req))?))
            .send()
            .await;
        let err = match sent {
            Ok(out) => {
                return out
                    .resolver_query_log_config()
                    .and_then(|c| c.id())
                    .map(str::to_owned)
                    .ok_or_else(|| missing(OP_CREATE, "configuration id"));
            }
            Err(e) => from_sdk_typed(OP_CREATE, e, |e| {
                e.is_resource_exists_exception()
                    .then_some(AwsErrorKind::AlreadyExists)
            }),
        };
        if err.kind != AwsErrorKind::AlreadyExists {
            return Err(err);
        }
        // An earlier attempt of this call that succeeded: adopt it when it is this recording's.
        let earlier = list_configs(self, Some(filter("CreatorRequestId", &req.recording_id)))
            .await?
            .into_iter()
            .filter_map(|c| Some((c.id()?.to_owned(), c.arn()?.to_owned())));
        for (id, arn) in earlier {
            let tags = tags_of(self, &arn).await?;
            if tags.get(TAG_RECORDING) == Some(&req.recording_id) {
                return Ok(id);
            }
        }
        Err(err)
    }

    async fn associate_query_log_config(
        &self,
        config_id: &str,
        vpc_id: &str,
    ) -> Result<(), AwsError> {
        match self
            .associate_resolver_query_log_config()
            .resolver_query_log_config_id(config_id)
            .resource_id(vpc_id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => {
                let err = from_sdk_typed(OP_ASSOCIATE, e, |e| {
                    e.is_resource_exists_exception()
                        .then_some(AwsErrorKind::AlreadyExists)
                });
                // Already associated: an earlier attempt of this call succeeded.
                match err.kind {
                    AwsErrorKind::AlreadyExists => Ok(()),
                    _ => Err(err),
                }
            }
        }
    }

    async fn disassociate_query_log_config(
        &self,
        config_id: &str,
        vpc_id: &str,
    ) -> Result<(), AwsError> {
        if !is_ours(self, OP_DISASSOCIATE, "disassociate", config_id).await? {
            return Ok(());
        }
        match self
            .disassociate_resolver_query_log_config()
            .resolver_query_log_config_id(config_id)
            .resource_id(vpc_id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => gone_is_done(from_sdk(OP_DISASSOCIATE, e)),
        }
    }

    async fn delete_query_log_config(&self, config_id: &str) -> Result<(), AwsError> {
        if !is_ours(self, OP_DELETE, "delete", config_id).await? {
            return Ok(());
        }
        match self
            .delete_resolver_query_log_config()
            .resolver_query_log_config_id(config_id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => gone_is_done(from_sdk(OP_DELETE, e)),
        }
    }

    async fn tagged_query_log_configs(&self) -> Result<Vec<TaggedQueryLogConfig>, AwsError> {
        let mut vpcs: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for association in list_associations(self, None).await? {
            if let (Some(config), Some(vpc)) = (
                association.resolver_query_log_config_id(),
                association.resource_id(),
            ) {
                vpcs.entry(config.to_owned())
                    .or_default()
                    .push(vpc.to_owned());
            }
        }
        let mut ours = Vec::new();
        for config in list_configs(self, None).await? {
            // One being deleted is on its way out; deleting it again would be refused.
            if config.status() == Some(&ResolverQueryLogConfigStatus::Deleting) {
                continue;
            }
            let (Some(id), Some(arn)) = (config.id(), config.arn()) else {
                continue;
            };
            let Some(tags) = tags_if_there(self, arn).await? else {
                continue;
            };
            let Some(recording_id) = tags.get(TAG_RECORDING) else {
                continue;
            };
            ours.push(TaggedQueryLogConfig {
                config_id: id.to_owned(),
                recording_id: recording_id.clone(),
                nat_gateway_id: tags.get(TAG_NAT_GATEWAY).cloned(),
                deadline: tags.get(TAG_DEADLINE).and_then(|v| deadline(id, v)),
                destination_arn: config.destination_arn().unwrap_or_default().to_owned(),
                vpc_ids: vpcs.remove(id).unwrap_or_default(),
            });
        }
        Ok(ours)
    }

    async fn vpc_query_logging(&self, vpc_id: &str) -> Result<Vec<VpcQueryLogging>, AwsError> {
        let mut logging = Vec::new();
        for association in list_associations(self, Some(filter("ResourceId", vpc_id))).await? {
            let Some(config_id) = association.resolver_query_log_config_id() else {
                continue;
            };
            let config = match get_config(self, config_id).await? {
                Some(config) => config,
                None => continue,
            };
            let ours = match config.arn() {
                Some(arn) => match tags_if_there(self, arn).await? {
                    Some(tags) => tags.contains_key(TAG_RECORDING),
                    None => continue,
                },
                None => false,
            };
            logging.push(VpcQueryLogging {
                config_id: config_id.to_owned(),
                destination_arn: config.destination_arn().unwrap_or_default().to_owned(),
                ours,
            });
        }
        Ok(logging)
    }
}

/// The deadline tag, or `None` (with a warning) when someone edited it into something else.
fn deadline(config_id: &str, value: &str) -> Option<DateTime<Utc>> {
    match DateTime::parse_from_rfc3339(value) {
        Ok(t) => Some(t.with_timezone(&Utc)),
        Err(e) => {
            tracing::warn!(
                query_log_config = config_id,
                tag = TAG_DEADLINE,
                value,
                "tag is not an RFC 3339 time ({e}); ignoring it"
            );
            None
        }
    }
}

/// A resource AWS no longer knows is what a disassociate or delete wanted.
fn gone_is_done(err: AwsError) -> Result<(), AwsError> {
    match err.kind {
        AwsErrorKind::NotFound => Ok(()),
        _ => Err(err),
    }
}

/// `true`: the configuration carries our tag; `false`: it is gone; a configuration that is not
/// ours is refused.
async fn is_ours(
    client: &Client,
    operation: &'static str,
    verb: &str,
    config_id: &str,
) -> Result<bool, AwsError> {
    let Some(config) = get_config(client, config_id).await? else {
        return Ok(false);
    };
    let arn = config.arn().ok_or_else(|| missing(OP_GET, "ARN"))?;
    let Some(tags) = tags_if_there(client, arn).await? else {
        return Ok(false);
    };
    if tags.contains_key(TAG_RECORDING) {
        Ok(true)
    } else {
        Err(AwsError::not_ours_to(
            operation,
            verb,
            &[config_id.to_owned()],
        ))
    }
}

/// GetResolverQueryLogConfig; `None` when AWS does not know the id.
async fn get_config(
    client: &Client,
    config_id: &str,
) -> Result<Option<ResolverQueryLogConfig>, AwsError> {
    match client
        .get_resolver_query_log_config()
        .resolver_query_log_config_id(config_id)
        .send()
        .await
    {
        Ok(out) => Ok(out.resolver_query_log_config().cloned()),
        Err(e) => match from_sdk(OP_GET, e) {
            err if err.kind == AwsErrorKind::NotFound => Ok(None),
            err => Err(err),
        },
    }
}

/// Every configuration (matching `filter`), all pages.
async fn list_configs(
    client: &Client,
    filter: Option<Filter>,
) -> Result<Vec<ResolverQueryLogConfig>, AwsError> {
    let mut pages = client
        .list_resolver_query_log_configs()
        .set_filters(filter.map(|f| vec![f]))
        .into_paginator()
        .send();
    let mut configs = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| from_sdk(OP_LIST, e))?;
        configs.extend(page.resolver_query_log_configs().iter().cloned());
    }
    Ok(configs)
}

/// Every association (matching `filter`) that is not being removed, all pages.
async fn list_associations(
    client: &Client,
    filter: Option<Filter>,
) -> Result<Vec<ResolverQueryLogConfigAssociation>, AwsError> {
    let mut pages = client
        .list_resolver_query_log_config_associations()
        .set_filters(filter.map(|f| vec![f]))
        .into_paginator()
        .send();
    let mut associations = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| from_sdk(OP_LIST_ASSOCIATIONS, e))?;
        associations.extend(
            page.resolver_query_log_config_associations()
                .iter()
                .filter(|a| a.status() != Some(&ResolverQueryLogConfigAssociationStatus::Deleting))
                .cloned(),
        );
    }
    Ok(associations)
}

/// The tags of a configuration seen a moment ago; `None` when it was deleted since (by another
/// run, or by hand between the list and this read).
async fn tags_if_there(
    client: &Client,
    arn: &str,
) -> Result<Option<BTreeMap<String, String>>, AwsError> {
    match tags_of(client, arn).await {
        Ok(tags) => Ok(Some(tags)),
        Err(e) if e.kind == AwsErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// A resource's tags, all pages.
async fn tags_of(client: &Client, arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
    let mut pages = client
        .list_tags_for_resource()
        .resource_arn(arn)
        .into_paginator()
        .send();
    let mut tags = BTreeMap::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| from_sdk(OP_LIST_TAGS, e))?;
        for tag in page.tags() {
            tags.insert(tag.key().to_owned(), tag.value().to_owned());
        }
    }
    Ok(tags)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn request() -> QueryLogRequest {
        QueryLogRequest {
            recording_id: "rec-0abc-20310506T070000Z".into(),
            nat_gateway_id: "nat-0abc".into(),
            destination_arn: "arn:aws:logs:eu-west-1:123456789012:log-group:/nat-flowrec/dns"
                .into(),
            deadline: Utc.with_ymd_and_hms(2031, 5, 6, 7, 8, 9).unwrap(),
        }
    }

    #[test]
    fn a_configuration_is_tagged_like_the_recordings_flow_logs_and_named_for_the_console() {
        let req = request();
        assert_eq!(
            config_tags(&req),
            [
                (TAG_RECORDING.to_owned(), req.recording_id.clone()),
                (TAG_NAT_GATEWAY.to_owned(), "nat-0abc".to_owned()),
                (TAG_DEADLINE.to_owned(), "2031-05-06T07:08:09Z".to_owned()),
            ]
        );
        let name = config_name(&req);
        assert!(name.len() <= 64, "{name}");
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ' ')),
            "{name}"
        );
    }

    #[test]
    fn an_edited_deadline_tag_is_ignored() {
        assert_eq!(deadline("rslvr-qlc-1", "tomorrow"), None);
        assert_eq!(
            deadline("rslvr-qlc-1", "2031-05-06T07:08:09Z"),
            Some(Utc.with_ymd_and_hms(2031, 5, 6, 7, 8, 9).unwrap())
        );
    }
}
