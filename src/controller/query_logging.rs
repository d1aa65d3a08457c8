//! Carries out the query-logging decisions (`core::query_logging`): the Route 53 Resolver calls,
//! then the event each earned. Like the flow-log decisions, a failed call appends nothing and is
//! listed in the outcome; the start or stop stays due, so the next run tries again.

use std::collections::BTreeMap;

use super::{Job, JobError, Outcome};
use crate::core::query_logging::{self, reusable};
use crate::core::{Decision, Event, QueryLoggingPlan, QueryLoggingStopPlan, StrayQueryLoggingPlan};
use crate::ports::{AwsError, Cloud, LogGroupSpec, NatGateway};

impl<C: Cloud> Job<'_, C> {
    /// The group `recording.dns_log_group` names, when `recording.dns_query_logs` is on.
    fn dns_log_group(&self) -> Option<&str> {
        let rec = &self.cfg.recording;
        rec.dns_query_logs.then_some(rec.dns_log_group.as_str())
    }

    /// Carries out the query-logging starts and stops the state makes due (after a recording
    /// started or stopped, or one that failed on an earlier run).
    pub(super) async fn follow_query_logging(
        &mut self,
        nats: &BTreeMap<String, NatGateway>,
        outcome: &mut Outcome,
    ) -> Result<(), JobError> {
        let due = query_logging::due(&self.state(), self.dns_log_group(), self.now);
        for decision in due {
            // A dry run changed nothing: what reconcile listed is due again here.
            if self.dry_run && outcome.decisions.iter().any(|d| d.same_action(&decision)) {
                continue;
            }
            self.carry_out(&decision, nats, outcome).await?;
            outcome.decisions.push(decision);
        }
        Ok(())
    }

    /// Reconciles the query-logging configurations carrying our tags with the log.
    pub(super) async fn reconcile_query_logging(
        &mut self,
        outcome: &mut Outcome,
    ) -> Result<(), JobError> {
        let state = self.state();
        // Only a deployment that logs DNS queries (or did) needs Route 53 Resolver's permissions.
        if !self.cfg.recording.dns_query_logs
            && state.recordings.iter().all(|r| r.query_logging.is_none())
        {
            return Ok(());
        }
        let tagged: Vec<_> = self
            .cloud
            .tagged_query_log_configs()
            .await?
            .into_iter()
            .filter(|c| {
                c.nat_gateway_id
                    .as_ref()
                    .is_some_and(|nat| self.cfg.nat_gateway_ids.iter().any(|id| id == nat))
                    || state.recording(&c.recording_id).is_some()
            })
            .collect();
        let decisions = query_logging::reconcile_query_logs(&state, &tagged, self.now);
        let no_nats = BTreeMap::new();
        for decision in decisions {
            self.carry_out(&decision, &no_nats, outcome).await?;
            outcome.decisions.push(decision);
        }
        Ok(())
    }

    /// `StartQueryLogging`: the VPC's own query logging to a log group if it has one, else ours,
    /// created and associated.
    pub(super) async fn start_query_logging(
        &mut self,
        plan: &QueryLoggingPlan,
        nats: &BTreeMap<String, NatGateway>,
        outcome: &mut Outcome,
    ) -> Result<String, JobError> {
        if self.dry_run {
            return Ok(format!(
                "would log the VPC's DNS queries for recording {} to {} (or read the VPC's existing query logging)",
                plan.recording_id, plan.log_group
            ));
        }
        let nat = &plan.nat_gateway_id;
        let fail = |outcome: &mut Outcome, err: String| {
            outcome.failures.push(format!(
                "{nat}: the DNS queries of recording {} are not logged: {err}",
                plan.recording_id
            ));
            format!("could not log the VPC's DNS queries: {err}")
        };
        let vpc_id = match self.vpc_of(nat, nats).await {
            Ok(Some(vpc)) => vpc,
            Ok(None) => {
                return Ok(fail(
                    outcome,
                    "DescribeNatGateways names no VPC for it".to_owned(),
                ));
            }
            Err(err) => return Ok(fail(outcome, err.to_string())),
        };
        let existing = match self.cloud.vpc_query_logging(&vpc_id).await {
            Ok(existing) => existing,
            Err(err) => return Ok(fail(outcome, err.to_string())),
        };
        if let Some((config_id, log_group)) = reusable(&existing) {
            let event = Event::QueryLoggingReused {
                recording_id: plan.recording_id.clone(),
                nat_gateway_id: nat.clone(),
                vpc_id: vpc_id.clone(),
                config_id,
                log_group: log_group.clone(),
            };
            self.log.append(vec![event], self.now).await?;
            return Ok(format!(
                "DNS names from the VPC's existing query logging to {log_group} (nothing created)"
            ));
        }
        match self.create_query_logging(plan, &vpc_id).await {
            Ok(config_id) => {
                let event = plan.started_event(&vpc_id, config_id.clone());
                self.log.append(vec![event], self.now).await?;
                Ok(format!(
                    "logging the DNS queries of {vpc_id} to {} ({config_id})",
                    plan.log_group
                ))
            }
            Err(err) => Ok(fail(outcome, err.to_string())),
        }
    }

    async fn vpc_of(
        &self,
        nat: &str,
        nats: &BTreeMap<String, NatGateway>,
    ) -> Result<Option<String>, AwsError> {
        if let Some(known) = nats.get(nat) {
            return Ok(known.vpc_id.clone());
        }
        let found = self.cloud.nat_gateways(&[nat.to_owned()]).await?;
        Ok(found
            .into_iter()
            .find(|n| n.id == nat)
            .and_then(|n| n.vpc_id))
    }

    /// The DNS log group (created like the flow-log group), our configuration to it, and its
    /// association with the VPC. Each call is safe to repeat.
    async fn create_query_logging(
        &self,
        plan: &QueryLoggingPlan,
        vpc_id: &str,
    ) -> Result<String, AwsError> {
        let rec = &self.cfg.recording;
        self.cloud
            .ensure_log_group(&LogGroupSpec {
                name: plan.log_group.clone(),
                class: rec.log_group_class.as_str().to_owned(),
                retention_days: i32::try_from(rec.retention_days).unwrap_or(i32::MAX),
            })
            .await?;
        // The group is the job's own account's: the one the delivery role is in.
        let role = &rec.deliver_logs_role_arn;
        let destination = format!(
            "arn:{}:logs:{}:{}:log-group:{}",
            role.partition(),
            self.region(),
            role.account(),
            plan.log_group
        );
        let config_id = self
            .cloud
            .create_query_log_config(&plan.request(destination))
            .await?;
        self.cloud
            .associate_query_log_config(&config_id, vpc_id)
            .await?;
        Ok(config_id)
    }

    /// `StopQueryLogging`: disassociate and delete the recording's configuration.
    pub(super) async fn stop_query_logging(
        &mut self,
        plan: &QueryLoggingStopPlan,
        outcome: &mut Outcome,
    ) -> Result<String, JobError> {
        let what = format!(
            "the DNS query logging {} of recording {}",
            plan.config_id, plan.recording_id
        );
        if self.dry_run {
            return Ok(format!("would disassociate and delete {what}"));
        }
        let removed = self
            .remove_query_logging(&plan.config_id, std::slice::from_ref(&plan.vpc_id))
            .await;
        if let Err(err) = removed {
            outcome.failures.push(format!(
                "{}: {what} could not be removed: {err}",
                plan.nat_gateway_id
            ));
            return Ok(format!("could not remove {what}: {err}"));
        }
        let decision = Decision::StopQueryLogging(plan.clone());
        self.log
            .append(decision.completed_event().into_iter().collect(), self.now)
            .await?;
        Ok(format!("disassociated and deleted {what}"))
    }

    /// `DeleteStrayQueryLogging`: disassociate from every VPC, then delete.
    pub(super) async fn delete_stray_query_logging(
        &mut self,
        plan: &StrayQueryLoggingPlan,
        outcome: &mut Outcome,
    ) -> Result<String, JobError> {
        let what = format!(
            "stray query logging {} of recording {}: {}",
            plan.config_id, plan.recording_id, plan.why
        );
        if self.dry_run {
            return Ok(format!("would delete {what}"));
        }
        if let Err(err) = self
            .remove_query_logging(&plan.config_id, &plan.vpc_ids)
            .await
        {
            outcome.failures.push(format!(
                "stray query logging of {} could not be removed: {err}",
                plan.recording_id
            ));
            return Ok(format!("could not delete {what}: {err}"));
        }
        let decision = Decision::DeleteStrayQueryLogging(plan.clone());
        self.log
            .append(decision.completed_event().into_iter().collect(), self.now)
            .await?;
        Ok(format!("deleted {what}"))
    }

    /// Our configuration off every VPC, then gone (AWS refuses the delete while a VPC is
    /// associated). The adapter refuses both for a configuration without our tags.
    async fn remove_query_logging(
        &self,
        config_id: &str,
        vpc_ids: &[String],
    ) -> Result<(), AwsError> {
        for vpc_id in vpc_ids {
            self.cloud
                .disassociate_query_log_config(config_id, vpc_id)
                .await?;
        }
        self.cloud.delete_query_log_config(config_id).await
    }
}
