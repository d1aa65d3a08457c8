//! Reads the trigger of every configured NAT gateway: one GetMetricData call for all of them
//! (metrics mode) or one DescribeAlarms call (alarm mode), then the pure evaluation. The same
//! GetMetricData call reads what the active recordings' log groups took in (in alarm mode, a
//! GetMetricData call of its own, only while something records).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::JobError;
use crate::config::{Config, TriggerMode};
use crate::core::ingestion::{ingested_bytes, with_ingestion};
use crate::core::{self, Observation, State, TriggerState};
use crate::ports::{Cloud, NatGateway};

/// The NAT state we report for a configured id that DescribeNatGateways did not return.
const MISSING: &str = "not found";

/// The observations, and per breaching NAT (metrics mode) the glance at its evaluated periods.
pub async fn observe<C: Cloud>(
    cloud: &C,
    cfg: &Config,
    state: &State,
    nats: &BTreeMap<String, NatGateway>,
    now: DateTime<Utc>,
) -> Result<(Vec<Observation>, BTreeMap<String, String>), JobError> {
    let ids: Vec<String> = cfg
        .nat_gateway_ids
        .iter()
        .map(ToString::to_string)
        .collect();
    let group = cfg.recording.log_group.as_str();
    let mut ingestion = None;
    let mut glances = BTreeMap::new();
    let verdicts = match cfg.trigger.mode {
        TriggerMode::Metrics => {
            let rules: Vec<_> = ids.iter().map(|id| cfg.rule_for(id)).collect();
            let by_nat: Vec<(&str, &core::TriggerRule)> =
                ids.iter().map(String::as_str).zip(&rules).collect();
            let query = with_ingestion(core::metric_query(&by_nat, now), state, group, now);
            let series = cloud.metric_data(&query).await?;
            let verdicts = by_nat
                .iter()
                .map(|(id, rule)| {
                    let previous = state.nat(id).map_or(TriggerState::default(), |n| n.trigger);
                    let verdict = core::evaluate(&series, id, rule, previous, now);
                    if verdict.state == TriggerState::Breaching {
                        let line = super::glance::glance(&series, id, rule, now);
                        if !line.is_empty() {
                            glances.insert(id.to_string(), line);
                        }
                    }
                    verdict
                })
                .collect::<Vec<_>>();
            ingestion = Some((series, query.period_seconds));
            verdicts
        }
        TriggerMode::Alarm => {
            let names: Vec<String> = ids
                .iter()
                .filter_map(|id| cfg.alarm_name_for(id))
                .map(str::to_string)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let states: BTreeMap<String, _> =
                cloud.alarm_states(&names).await?.into_iter().collect();
            if state.active_recordings().next().is_some() {
                let query = with_ingestion(core::metric_query(&[], now), state, group, now);
                let series = cloud.metric_data(&query).await?;
                ingestion = Some((series, query.period_seconds));
            }
            ids.iter()
                .map(|id| {
                    let name = cfg.alarm_name_for(id).unwrap_or("(no alarm configured)");
                    core::from_alarm(name, states.get(name).copied())
                })
                .collect()
        }
    };
    let observations = ids
        .iter()
        .zip(verdicts)
        .map(|(id, verdict)| Observation {
            nat_gateway_id: id.clone(),
            verdict,
            nat_state: nats
                .get(id)
                .map_or(MISSING.to_string(), |n| n.state.clone()),
            ingested_bytes: ingestion
                .as_ref()
                .and_then(|(series, period)| ingested_bytes(series, state, group, id, *period)),
        })
        .collect();
    Ok((observations, glances))
}
