//! The imperative shell of the scheduled job. It reads what the pure core needs from AWS (through
//! the `ports` traits), asks the core what to do, carries each decision out and appends the event
//! the decision earned right after its side effect, so a crash leaves a trace the next run
//! reconciles. Generic over `Cloud`: real AWS, moto and the simulator run this same code.

mod execute;
mod finish;
mod glance;
mod observe;
mod query_logging;

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::Config;
use crate::core::{
    self, Decision, Observation, Policy, Refusal, State, TriggerState, decide_budget_reset,
    decide_manual_start, decide_manual_stop,
};
use crate::names::NatGatewayId;
use crate::ports::{AwsError, Cloud, NatGateway, TaggedFlowLog};
use crate::store::{EventStore, StoreError};

/// Why a run could not do its work. Decisions that failed one by one are not errors of the run:
/// they are listed in its `Outcome` (and make the exit code non-zero).
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Refused(#[from] Refusal),
    #[error(
        "NAT gateway {0} is not in nat_gateway_ids of the configuration; add it there first (the job only touches the NAT gateways it is configured for)"
    )]
    UnknownNat(String),
    #[error("NAT gateway {nat_gateway_id} is `{state}`, not `available`: nothing to record")]
    NatNotAvailable {
        nat_gateway_id: String,
        state: String,
    },
    /// `export` and `notify` by hand: the step could not be done.
    #[error(transparent)]
    Pipeline(#[from] crate::finish::PipelineError),
}

/// What one run did (or, in a dry run, would do).
#[derive(Debug, Default, Serialize)]
pub struct Outcome {
    pub dry_run: bool,
    /// One line per configured NAT gateway: its trigger and what happened to it.
    pub nats: Vec<NatLine>,
    /// Every decision, in the order it was carried out.
    pub decisions: Vec<Decision>,
    /// Decisions whose AWS call failed: nothing was appended for them; the next run decides again.
    pub failures: Vec<String>,
    /// Everything done (or, in a dry run, that would be done), in order and in words: the text
    /// output. The JSON carries them per NAT gateway in `nats[].actions`.
    #[serde(skip)]
    pub actions: Vec<ActionLine>,
}

#[derive(Debug, Serialize)]
pub struct NatLine {
    pub nat_gateway_id: String,
    /// `breaching`, `ok` or `insufficient_data` in JSON.
    #[serde(serialize_with = "snake_case_state")]
    pub trigger: TriggerState,
    pub evidence: String,
    /// A breaching NAT's evaluated periods as a sparkline against the threshold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub glance: Option<String>,
    pub actions: Vec<String>,
}

fn snake_case_state<S: serde::Serializer>(state: &TriggerState, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(state.as_snake_case())
}

/// One thing a run did, in words, and the NAT gateway it was about (none for stray flow logs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionLine {
    pub nat_gateway_id: Option<String>,
    pub text: String,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        self.failures.is_empty()
    }

    /// Notes what was done about `nat_gateway_id` (or about no NAT gateway).
    fn act(&mut self, nat_gateway_id: Option<&str>, text: String) {
        self.actions.push(ActionLine {
            nat_gateway_id: nat_gateway_id.filter(|n| !n.is_empty()).map(str::to_owned),
            text,
        });
    }

    fn actions_of<'a>(&'a self, nat_gateway_id: &'a str) -> impl Iterator<Item = &'a ActionLine> {
        self.actions
            .iter()
            .filter(move |a| a.nat_gateway_id.as_deref() == Some(nat_gateway_id))
    }
}

/// One line per thing done, each starting with the NAT gateway it was about: the trigger, then
/// every action (a reconcile's and a finished recording's too), or `nothing to do`.
impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for nat in &self.nats {
            let id = &nat.nat_gateway_id;
            match &nat.glance {
                Some(glance) => writeln!(
                    f,
                    "{id}: trigger {}: {}; bytes a period: {glance}",
                    nat.trigger, nat.evidence
                )?,
                None => writeln!(f, "{id}: trigger {}: {}", nat.trigger, nat.evidence)?,
            }

            let mut any = false;
            for action in self.actions_of(id) {
                any = true;
                writeln!(f, "{id}: {}", action.text)?;
            }
            if !any {
                writeln!(f, "{id}: nothing to do")?;
            }
        }
        let others = self.actions.iter().filter(|a| {
            a.nat_gateway_id
                .as_deref()
                .is_none_or(|id| !self.nats.iter().any(|n| n.nat_gateway_id == id))
        });
        let mut any = !self.nats.is_empty();
        for action in others {
            any = true;
            match &action.nat_gateway_id {
                Some(id) => writeln!(f, "{id}: {}", action.text)?,
                None => writeln!(f, "{}", action.text)?,
            }
        }
        for failure in &self.failures {
            any = true;
            writeln!(f, "failed: {failure}")?;
        }
        if !any {
            writeln!(f, "nothing to do")?;
        }
        Ok(())
    }
}

/// One run of the job against one account: the cloud, the configuration, the locked event log
/// and the run's clock.
pub struct Job<'a, C: Cloud> {
    pub cloud: &'a C,
    pub cfg: &'a Config,
    /// A local file or an S3 object (`store::Store`); the simulator's runs use a file.
    pub log: &'a mut dyn EventStore,
    pub now: DateTime<Utc>,
    pub dry_run: bool,
}

impl<C: Cloud> Job<'_, C> {
    fn state(&self) -> State {
        State::fold(self.log.events())
    }

    fn policy(&self) -> Policy {
        self.cfg.recording.policy(self.cfg.region.as_deref())
    }

    /// The NAT gateways' region: the one the clients call (the config's `region`, `--region`,
    /// else the SDK's chain), else the configuration's, else us-east-1.
    pub fn region(&self) -> String {
        self.cloud
            .region()
            .or_else(|| self.cfg.region.as_ref().map(ToString::to_string))
            .unwrap_or_else(|| nat_flowrec_reports::DEFAULT_REGION.to_owned())
    }

    /// `check`: one tick of the scheduled job.
    pub async fn check(&mut self) -> Result<Outcome, JobError> {
        let mut outcome = Outcome {
            dry_run: self.dry_run,
            ..Outcome::default()
        };
        self.reconcile_into(&mut outcome).await?;
        let nats = self.nat_gateways().await?;
        let state = self.state();
        let (observations, mut glances) =
            observe::observe(self.cloud, self.cfg, &state, &nats, self.now).await?;
        let decisions = core::decide(&state, &observations, &self.policy(), self.now);
        for decision in decisions {
            // A dry run changed nothing, so the tick decides again what its reconcile already
            // decided (a recording past its deadline): listed once.
            if self.dry_run && outcome.decisions.iter().any(|d| d.same_action(&decision)) {
                continue;
            }
            self.carry_out(&decision, &nats, &mut outcome).await?;
            outcome.decisions.push(decision);
        }
        self.follow_query_logging(&nats, &mut outcome).await?;
        self.finish_due(&mut outcome).await?;
        outcome.nats = observations
            .iter()
            .map(|obs: &Observation| NatLine {
                nat_gateway_id: obs.nat_gateway_id.clone(),
                trigger: obs.verdict.state,
                evidence: obs.verdict.evidence.clone(),
                glance: glances.remove(&obs.nat_gateway_id),
                actions: outcome
                    .actions_of(&obs.nat_gateway_id)
                    .map(|a| a.text.clone())
                    .collect(),
            })
            .collect();
        Ok(outcome)
    }

    /// `reconcile`: make the log and AWS's tagged flow logs agree.
    pub async fn reconcile(&mut self) -> Result<Outcome, JobError> {
        let mut outcome = Outcome {
            dry_run: self.dry_run,
            ..Outcome::default()
        };
        self.reconcile_into(&mut outcome).await?;
        Ok(outcome)
    }

    async fn reconcile_into(&mut self, outcome: &mut Outcome) -> Result<(), JobError> {
        let tagged = self.cloud.tagged_flow_logs().await?;
        let tagged = ours(tagged, &self.state(), &self.cfg.nat_gateway_ids);
        let decisions = core::reconcile(&self.state(), &tagged, self.now);
        let no_nats = BTreeMap::new();
        for decision in decisions {
            self.carry_out(&decision, &no_nats, outcome).await?;
            outcome.decisions.push(decision);
        }
        // While the flow logs exist, a FAILED delivery can be seen; noted for the report.
        for event in core::finish::delivery_failures(&self.state(), &tagged) {
            let decision = Decision::Record(event);
            self.carry_out(&decision, &no_nats, outcome).await?;
            outcome.decisions.push(decision);
        }
        // The recordings reconcile stopped stop logging DNS queries; then what AWS has of ours
        // that the log does not account for.
        self.follow_query_logging(&no_nats, outcome).await?;
        self.reconcile_query_logging(outcome).await
    }

    /// `start --nat ID`: a manual recording, within the budget unless forced.
    pub async fn start(
        &mut self,
        nat_gateway_id: &str,
        seconds: Option<u64>,
        force: bool,
    ) -> Result<Outcome, JobError> {
        if !self
            .cfg
            .nat_gateway_ids
            .iter()
            .any(|id| id == nat_gateway_id)
        {
            return Err(JobError::UnknownNat(nat_gateway_id.to_string()));
        }
        let mut outcome = Outcome {
            dry_run: self.dry_run,
            ..Outcome::default()
        };
        self.reconcile_into(&mut outcome).await?;
        let nats = self.nat_gateways_of(&[nat_gateway_id.to_string()]).await?;
        if let Some(nat) = nats.get(nat_gateway_id)
            && nat.state != core::AVAILABLE
        {
            return Err(JobError::NatNotAvailable {
                nat_gateway_id: nat.id.clone(),
                state: nat.state.clone(),
            });
        }
        let state = self.state();
        let connections = match state.nat(nat_gateway_id).and_then(|n| n.active.as_ref()) {
            // Refused below: no estimate to read for.
            Some(_) => None,
            None => {
                let nat = [nat_gateway_id.to_string()];
                observe::read_connections(self.cloud, &nat, self.now)
                    .await
                    .remove(nat_gateway_id)
            }
        };
        let plan = decide_manual_start(
            &state,
            nat_gateway_id,
            seconds,
            force,
            connections,
            &self.policy(),
            self.now,
        )?;
        let decision = Decision::Start(plan);
        self.carry_out(&decision, &nats, &mut outcome).await?;
        outcome.decisions.push(decision);
        self.follow_query_logging(&nats, &mut outcome).await?;
        Ok(outcome)
    }

    /// `stop --nat ID | --all`.
    pub async fn stop(&mut self, nat_gateway_id: Option<&str>) -> Result<Outcome, JobError> {
        let mut outcome = Outcome {
            dry_run: self.dry_run,
            ..Outcome::default()
        };
        if let Some(nat) = nat_gateway_id
            && !self.cfg.nat_gateway_ids.iter().any(|id| id == nat)
            && self.state().nat(nat).is_none_or(|n| n.active.is_none())
        {
            return Err(JobError::UnknownNat(nat.to_string()));
        }
        self.reconcile_into(&mut outcome).await?;
        let plans = decide_manual_stop(&self.state(), nat_gateway_id)?;
        let no_nats = BTreeMap::new();
        for plan in plans {
            let decision = Decision::Stop(plan);
            self.carry_out(&decision, &no_nats, &mut outcome).await?;
            outcome.decisions.push(decision);
        }
        self.follow_query_logging(&no_nats, &mut outcome).await?;
        Ok(outcome)
    }

    /// `budget reset --nat ID`: an event only.
    pub async fn budget_reset(&mut self, nat_gateway_id: &str) -> Result<Outcome, JobError> {
        if !self
            .cfg
            .nat_gateway_ids
            .iter()
            .any(|id| id == nat_gateway_id)
        {
            return Err(JobError::UnknownNat(nat_gateway_id.to_string()));
        }
        let decision = Decision::Record(decide_budget_reset(nat_gateway_id));
        let mut outcome = Outcome {
            dry_run: self.dry_run,
            ..Outcome::default()
        };
        self.carry_out(&decision, &BTreeMap::new(), &mut outcome)
            .await?;
        outcome.decisions.push(decision);
        Ok(outcome)
    }

    async fn nat_gateways(&self) -> Result<BTreeMap<String, NatGateway>, JobError> {
        self.nat_gateways_of(&self.cfg.nat_gateway_ids).await
    }

    async fn nat_gateways_of(
        &self,
        ids: &[impl AsRef<str>],
    ) -> Result<BTreeMap<String, NatGateway>, JobError> {
        let ids: Vec<String> = ids.iter().map(|id| id.as_ref().to_owned()).collect();
        let nats = self.cloud.nat_gateways(&ids).await?;
        Ok(nats.into_iter().map(|n| (n.id.clone(), n)).collect())
    }
}

/// The tagged flow logs this deployment answers for: those of its configured NAT gateways and
/// those of recordings its log knows. Another nat-flowrec deployment in the same account (other
/// NATs, another event log) tags its flow logs the same way; they are not ours to adopt or delete.
fn ours(
    tagged: Vec<TaggedFlowLog>,
    state: &State,
    nat_gateway_ids: &[NatGatewayId],
) -> Vec<TaggedFlowLog> {
    tagged
        .into_iter()
        .filter(|fl| {
            fl.nat_gateway_id
                .as_ref()
                .is_some_and(|nat| nat_gateway_ids.iter().any(|id| id == nat))
                || state.recording(&fl.recording_id).is_some()
        })
        .collect()
}

#[cfg(test)]
mod scope_tests {
    use super::*;

    fn tagged(recording_id: &str, nat: Option<&str>) -> TaggedFlowLog {
        TaggedFlowLog {
            flow_log_id: format!("fl-{recording_id}"),
            resource_id: "eni-1".into(),
            recording_id: recording_id.into(),
            nat_gateway_id: nat.map(str::to_string),
            deadline: None,
            log_group: None,
            log_destination: None,
            log_format: None,
            deliver_logs_status: None,
            deliver_logs_error: None,
        }
    }

    #[test]
    fn another_deployments_flow_logs_are_not_ours_to_reconcile() {
        let configured = vec!["nat-0aaaaaaaaaaaaaaaa".parse().unwrap()];
        let kept = ours(
            vec![
                tagged("rec-mine", Some("nat-0aaaaaaaaaaaaaaaa")),
                tagged("rec-theirs", Some("nat-0bbbbbbbbbbbbbbbb")),
                tagged("rec-untagged-nat", None),
            ],
            &State::default(),
            &configured,
        );
        let ids: Vec<&str> = kept.iter().map(|f| f.recording_id.as_str()).collect();
        assert_eq!(ids, ["rec-mine"]);
    }
}
