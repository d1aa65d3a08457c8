//! Carries out one decision: the AWS call, then (only if it succeeded) the event it earned,
//! appended and fsynced before the next decision. A failed AWS call is listed in the outcome and
//! appends nothing (except `RecordingFailed`, which is history, not state), so the next run
//! decides again; a failed append stops the run, because the log must never lag what AWS holds
//! by more than one decision.

use std::collections::BTreeMap;

use super::{Job, JobError, Outcome};
use crate::core::event::{plural, rfc3339};
use crate::core::{Decision, Event, StartCause};
use crate::ports::{Cloud, LogGroupSpec, NatGateway};

impl<C: Cloud> Job<'_, C> {
    /// After a `BudgetExhausted` event (appended once per spike) or a `MonthlyCostCapReached`
    /// (once per month), its notification, unless `notify.on_budget_exhausted = false` or no
    /// topic is set. Sent after the event is in the log, so a failed or lost Publish is never
    /// repeated: at most one message per event.
    async fn tell_budget_exhausted(
        &self,
        event: &crate::core::Event,
        outcome: &mut Outcome,
    ) -> Option<String> {
        let topic = self.cfg.notify.sns_topic_arn.as_ref()?;
        if !self.cfg.notify.on_budget_exhausted {
            return None;
        }
        let nat = event.nat_gateway_id()?;
        let evidence = self
            .state()
            .nat(nat)
            .and_then(|n| n.trigger_evidence.clone());
        let topic = topic.as_str();
        let message = crate::finish::notify::budget_exhausted(topic, event, evidence.as_deref())
            .or_else(|| {
                crate::finish::notify::monthly_cost_cap_reached(topic, event, evidence.as_deref())
            })?;
        match self.cloud.publish(&message).await {
            Ok(id) => Some(format!(" (notified: SNS message {id})")),
            Err(err) => {
                outcome.failures.push(format!(
                    "{nat}: the notification that the spike is not recorded could not be sent (it is not retried): {err}"
                ));
                None
            }
        }
    }

    /// Carries the decision out and notes what was done, in words, in the outcome.
    pub(super) async fn carry_out(
        &mut self,
        decision: &Decision,
        nats: &BTreeMap<String, NatGateway>,
        outcome: &mut Outcome,
    ) -> Result<(), JobError> {
        let line = self.carry_out_one(decision, nats, outcome).await?;
        outcome.act(decision.nat_gateway_id(), line);
        Ok(())
    }

    /// The AWS call and the event of one decision; returns what was done, in words.
    async fn carry_out_one(
        &mut self,
        decision: &Decision,
        nats: &BTreeMap<String, NatGateway>,
        outcome: &mut Outcome,
    ) -> Result<String, JobError> {
        match decision {
            Decision::Start(plan) => {
                let Some(nat) = nats.get(&plan.nat_gateway_id) else {
                    outcome.failures.push(format!(
                        "{}: DescribeNatGateways did not return it; not recording",
                        plan.nat_gateway_id
                    ));
                    return Ok("could not start recording: DescribeNatGateways did not return the NAT gateway".into());
                };
                if nat.enis.is_empty() {
                    outcome.failures.push(format!(
                        "{}: has no network interfaces to record",
                        plan.nat_gateway_id
                    ));
                    return Ok(
                        "could not start recording: the NAT gateway has no network interfaces"
                            .into(),
                    );
                }
                let what = format!(
                    "recording {} on {} until {}{}{}",
                    plan.recording_id,
                    plural(nat.enis.len(), "network interface", "network interfaces"),
                    rfc3339(&plan.deadline),
                    match &plan.cause {
                        StartCause::Trigger { .. } => String::new(),
                        StartCause::Manual { forced: false } => " (by hand)".to_owned(),
                        StartCause::Manual { forced: true } => {
                            " (by hand, over the budget)".to_owned()
                        }
                    },
                    plan.estimate
                        .as_ref()
                        .map_or(String::new(), |e| format!("; {e}"))
                );
                if self.dry_run {
                    return Ok(format!("would start {what}"));
                }
                let rec = &self.cfg.recording.settings();
                let group = LogGroupSpec {
                    name: rec.log_group.clone(),
                    class: rec.log_group_class.as_str().to_string(),
                    retention_days: i32::try_from(rec.retention_days).unwrap_or(i32::MAX),
                };
                // Delivery to S3 needs no log group: the bucket exists or CreateFlowLogs says so.
                let ensured = match rec.s3 {
                    Some(_) => Ok(()),
                    None => self.cloud.ensure_log_group(&group).await,
                };
                let created = match ensured {
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
                        Ok(format!("started {what}"))
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
                        Ok(format!("could not start recording: {err}"))
                    }
                }
            }
            Decision::Stop(plan) => {
                let flow_logs = plural(plan.flow_log_ids.len(), "flow log", "flow logs");
                if self.dry_run {
                    return Ok(format!(
                        "would stop recording {}: {} (would delete {flow_logs})",
                        plan.recording_id, plan.reason
                    ));
                }
                if !plan.flow_log_ids.is_empty()
                    && let Err(err) = self.cloud.delete_flow_logs(&plan.flow_log_ids).await
                {
                    outcome.failures.push(format!(
                        "{}: recording {} could not be stopped: {err}",
                        plan.nat_gateway_id, plan.recording_id
                    ));
                    return Ok(format!(
                        "could not stop recording {}: {err}",
                        plan.recording_id
                    ));
                }
                self.log
                    .append(vec![plan.stopped_event()], self.now)
                    .await?;
                Ok(format!(
                    "stopped recording {}: {} (deleted {flow_logs})",
                    plan.recording_id, plan.reason
                ))
            }
            Decision::DeleteStray(plan) => {
                let what = format!(
                    "stray flow logs {} of recording {}: {}",
                    plan.flow_log_ids.join(", "),
                    plan.recording_id,
                    plan.why
                );
                if self.dry_run {
                    return Ok(format!("would delete {what}"));
                }
                if let Err(err) = self.cloud.delete_flow_logs(&plan.flow_log_ids).await {
                    outcome.failures.push(format!(
                        "stray flow logs of {} could not be deleted: {err}",
                        plan.recording_id
                    ));
                    return Ok(format!("could not delete {what}: {err}"));
                }
                self.log
                    .append(vec![plan.deleted_event()], self.now)
                    .await?;
                Ok(format!("deleted {what}"))
            }
            Decision::StartQueryLogging(plan) => {
                self.start_query_logging(plan, nats, outcome).await
            }
            Decision::StopQueryLogging(plan) => self.stop_query_logging(plan, outcome).await,
            Decision::DeleteStrayQueryLogging(plan) => {
                self.delete_stray_query_logging(plan, outcome).await
            }
            Decision::Record(event) => {
                let mut line = match event {
                    // The trigger's evidence is on the NAT gateway's own line.
                    Event::TriggerChanged { from, to, .. } => {
                        format!("trigger changed from {from} to {to}")
                    }
                    _ => event.sentence(),
                };
                if !self.dry_run {
                    self.log.append(vec![event.clone()], self.now).await?;
                    if let Some(sent) = self.tell_budget_exhausted(event, outcome).await {
                        line.push_str(&sent);
                    }
                }
                Ok(line)
            }
        }
    }
}
