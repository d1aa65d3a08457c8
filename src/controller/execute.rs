//! Carries out one decision: the AWS call, then (only if it succeeded) the event it earned,
//! appended and fsynced before the next decision. A failed AWS call is listed in the outcome and
//! appends nothing (except `RecordingFailed`, which is history, not state), so the next run
//! decides again; a failed append stops the run, because the log must never lag what AWS holds
//! by more than one decision.

use std::collections::BTreeMap;

use super::{Job, JobError, Outcome};
use crate::core::Decision;
use crate::core::event::rfc3339;
use crate::ports::{Cloud, LogGroupSpec, NatGateway};

impl<C: Cloud> Job<'_, C> {
    /// After a `BudgetExhausted` event (appended once per spike), its notification, unless
    /// `notify.on_budget_exhausted = false` or no topic is set. Sent after the event is in the
    /// log, so a failed or lost Publish is never repeated: at most one message per spike.
    async fn tell_budget_exhausted(
        &self,
        event: &crate::core::Event,
        outcome: &mut Outcome,
    ) -> Option<String> {
        let topic = &self.cfg.notify.sns_topic_arn;
        if topic.is_empty() || !self.cfg.notify.on_budget_exhausted {
            return None;
        }
        let nat = event.nat_gateway_id()?;
        let evidence = self
            .state()
            .nat(nat)
            .and_then(|n| n.trigger_evidence.clone());
        let message = crate::pipeline::notify::budget_exhausted(topic, event, evidence.as_deref())?;
        match self.cloud.publish(&message).await {
            Ok(id) => Some(format!(" (notified: SNS message {id})")),
            Err(err) => {
                outcome.failures.push(format!(
                    "{nat}: the budget-exhausted notification could not be sent (it is not retried): {err}"
                ));
                None
            }
        }
    }

    /// Returns a short line for the NAT's summary.
    pub(super) async fn carry_out(
        &mut self,
        decision: &Decision,
        nats: &BTreeMap<String, NatGateway>,
        outcome: &mut Outcome,
    ) -> Result<Option<String>, JobError> {
        match decision {
            Decision::Start(plan) => {
                let Some(nat) = nats.get(&plan.nat_gateway_id) else {
                    outcome.failures.push(format!(
                        "{}: DescribeNatGateways did not return it; not recording",
                        plan.nat_gateway_id
                    ));
                    return Ok(Some("start failed: NAT gateway not found".into()));
                };
                if nat.enis.is_empty() {
                    outcome.failures.push(format!(
                        "{}: has no network interfaces to record",
                        plan.nat_gateway_id
                    ));
                    return Ok(Some("start failed: no network interfaces".into()));
                }
                let line = format!(
                    "start recording {} on {} ENI(s) until {}",
                    plan.recording_id,
                    nat.enis.len(),
                    rfc3339(&plan.deadline)
                );
                if self.dry_run {
                    return Ok(Some(line));
                }
                let rec = &self.cfg.recording;
                let group = LogGroupSpec {
                    name: rec.log_group.clone(),
                    class: rec.log_group_class.as_str().to_string(),
                    retention_days: i32::try_from(rec.retention_days).unwrap_or(i32::MAX),
                };
                let created = match self.cloud.ensure_log_group(&group).await {
                    Ok(()) => {
                        self.cloud
                            .create_flow_logs(&plan.flow_log_request(nat, rec))
                            .await
                    }
                    Err(err) => Err(err),
                };
                match created {
                    Ok(ids) => {
                        let event = plan.started_event(nat, ids, rec);
                        self.log.append(vec![event], self.now).await?;
                        Ok(Some(line.replacen(
                            "start recording",
                            "started recording",
                            1,
                        )))
                    }
                    Err(err) => {
                        // Whatever a partial failure created goes again: a recording runs on
                        // every ENI or not at all. If this delete fails too, the flow logs still
                        // carry our tags and the next run's reconcile deletes or adopts them.
                        if !err.created_ids.is_empty()
                            && let Err(del) = self.cloud.delete_flow_logs(&err.created_ids).await
                        {
                            outcome.failures.push(format!(
                                "{}: could not delete the partly created flow logs {:?}: {del}",
                                plan.nat_gateway_id, err.created_ids
                            ));
                        }
                        self.log
                            .append(vec![plan.failed_event(&err)], self.now)
                            .await?;
                        outcome
                            .failures
                            .push(format!("{}: {err}", plan.nat_gateway_id));
                        Ok(Some(format!("start failed: {err}")))
                    }
                }
            }
            Decision::Stop(plan) => {
                let line = format!("stop recording {} ({})", plan.recording_id, plan.reason);
                if self.dry_run {
                    return Ok(Some(line));
                }
                if !plan.flow_log_ids.is_empty()
                    && let Err(err) = self.cloud.delete_flow_logs(&plan.flow_log_ids).await
                {
                    outcome.failures.push(format!(
                        "{}: recording {} could not be stopped: {err}",
                        plan.nat_gateway_id, plan.recording_id
                    ));
                    return Ok(Some(format!("stop failed: {err}")));
                }
                self.log
                    .append(vec![plan.stopped_event()], self.now)
                    .await?;
                Ok(Some(line.replacen(
                    "stop recording",
                    "stopped recording",
                    1,
                )))
            }
            Decision::DeleteStray(plan) => {
                let line = format!(
                    "delete stray flow logs {:?} of {} ({})",
                    plan.flow_log_ids, plan.recording_id, plan.why
                );
                if self.dry_run {
                    return Ok(Some(line));
                }
                if let Err(err) = self.cloud.delete_flow_logs(&plan.flow_log_ids).await {
                    outcome.failures.push(format!(
                        "stray flow logs of {} could not be deleted: {err}",
                        plan.recording_id
                    ));
                    return Ok(Some(format!("delete failed: {err}")));
                }
                self.log
                    .append(vec![plan.deleted_event()], self.now)
                    .await?;
                Ok(Some(line.replacen("delete stray", "deleted stray", 1)))
            }
            Decision::Record(event) => {
                let mut line = format!("note {}", event.kind());
                if !self.dry_run {
                    self.log.append(vec![event.clone()], self.now).await?;
                    if let Some(sent) = self.tell_budget_exhausted(event, outcome).await {
                        line.push_str(&sent);
                    }
                }
                Ok(Some(line))
            }
        }
    }
}
