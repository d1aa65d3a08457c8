//! Reads the trigger of every configured NAT gateway: one GetMetricData call for all of them
//! (metrics mode) or one DescribeAlarms call (alarm mode), then the pure evaluation.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::JobError;
use crate::config::{Config, TriggerMode};
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
    let ids = &cfg.nat_gateway_ids;
    let mut glances = BTreeMap::new();
    let verdicts = match cfg.trigger.mode {
        TriggerMode::Metrics => {
            let query = core::metric_query(&cfg.trigger, ids, now);
            let series = cloud.metric_data(&query).await?;
            ids.iter()
                .map(|id| {
                    let previous = state.nat(id).map_or(TriggerState::default(), |n| n.trigger);
                    let verdict = core::evaluate(&series, id, &cfg.trigger, previous, now);
                    if verdict.state == TriggerState::Breaching {
                        let line = super::glance::glance(&series, id, &cfg.trigger, now);
                        if !line.is_empty() {
                            glances.insert(id.clone(), line);
                        }
                    }
                    verdict
                })
                .collect::<Vec<_>>()
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
        })
        .collect();
    Ok((observations, glances))
}
