//! Reads the trigger of every configured NAT gateway: one GetMetricData call for all of them or
//! one GetMetricStatistics call per NAT and metric (metrics mode, `trigger.metrics_api`), or one
//! DescribeAlarms call (alarm mode), then the pure evaluation. The same GetMetricData call reads
//! what the active recordings' log groups took in; with GetMetricStatistics or alarms, a
//! GetMetricData call of its own does, only while something records.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::JobError;
use crate::config::{Config, TriggerMode};
use crate::core::baseline::{self, Baseline};
use crate::core::estimate::{self, Connections};
use crate::core::ingestion::{ingested_bytes, with_ingestion};
use crate::core::watch_cost::{MetricsCall, TICKS_PER_MONTH, choose_api, metrics_requested};
use crate::core::{self, Observation, State, TriggerState};
use crate::ports::{Cloud, MetricSeries, Metrics, NatGateway};

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
    let ingestion;
    let mut fresh_baselines = BTreeMap::new();
    let mut glances = BTreeMap::new();
    let verdicts = match cfg.trigger.mode {
        TriggerMode::Metrics | TriggerMode::Baseline => {
            let rules: Vec<_> = ids.iter().map(|id| cfg.rule_for(id)).collect();
            let by_nat: Vec<(&str, &core::TriggerRule)> =
                ids.iter().map(String::as_str).zip(&rules).collect();
            fresh_baselines = read_baselines(cloud, state, &by_nat, now).await?;
            let query = core::metric_query(&by_nat, now);
            let api = choose_api(
                cfg.trigger.metrics_api,
                metrics_requested(&query),
                TICKS_PER_MONTH,
                cfg.trigger.free_tier_share,
            );
            let (series, ingestion_period) = match api {
                MetricsCall::GetMetricData => {
                    let query = with_ingestion(query, state, group, now);
                    (cloud.metric_data(&query).await?, Some(query.period_seconds))
                }
                MetricsCall::GetMetricStatistics => {
                    let mut series = cloud.metric_statistics(&query).await?;
                    let logs = read_ingestion(cloud, state, group, now).await?;
                    let period = logs.map(|(logs, period)| {
                        series.extend(logs);
                        period
                    });
                    (series, period)
                }
            };
            let verdicts = by_nat
                .iter()
                .map(|(id, rule)| {
                    let previous = state.nat(id).map_or(TriggerState::default(), |n| n.trigger);
                    let baseline = fresh_baselines
                        .get(*id)
                        .or_else(|| state.nat(id).and_then(|n| n.baseline.as_ref()));
                    let verdict = core::evaluate_with(&series, id, rule, baseline, previous, now);
                    if verdict.state == TriggerState::Breaching {
                        let line = super::glance::glance(&series, id, rule, now);
                        if !line.is_empty() {
                            glances.insert(id.to_string(), line);
                        }
                    }
                    verdict
                })
                .collect::<Vec<_>>();
            ingestion = ingestion_period.map(|period| (series, period));
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
            ingestion = read_ingestion(cloud, state, group, now).await?;
            ids.iter()
                .map(|id| {
                    let name = cfg.alarm_name_for(id).unwrap_or("(no alarm configured)");
                    core::from_alarm(name, states.get(name).copied())
                })
                .collect()
        }
    };
    let may_start: Vec<String> = ids
        .iter()
        .zip(&verdicts)
        .filter(|(id, verdict)| {
            core::start_possible(state, id, verdict)
                && nats.get(*id).is_some_and(|n| n.state == core::AVAILABLE)
        })
        .map(|(id, _)| id.clone())
        .collect();
    let mut connections = read_connections(cloud, &may_start, now).await;
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
            baseline_read: fresh_baselines.remove(id),
            connections: connections.remove(id),
        })
        .collect();
    Ok((observations, glances))
}

/// What the active recordings' log groups took in, in a GetMetricData call of its own (the NAT
/// metrics were read otherwise); `None` when nothing records.
async fn read_ingestion<C: Cloud>(
    cloud: &C,
    state: &State,
    group: &str,
    now: DateTime<Utc>,
) -> Result<Option<(Vec<MetricSeries>, i32)>, JobError> {
    if state.active_recordings().next().is_none() {
        return Ok(None);
    }
    let query = with_ingestion(core::metric_query(&[], now), state, group, now);
    let series = cloud.metric_data(&query).await?;
    Ok(Some((series, query.period_seconds)))
}

/// Baseline mode: the baselines due this tick (`baseline::refresh_due`), from one GetMetricData
/// of hourly Sums for every NAT gateway due; none read on most ticks.
async fn read_baselines<C: Cloud>(
    cloud: &C,
    state: &State,
    rules: &[(&str, &core::TriggerRule)],
    now: DateTime<Utc>,
) -> Result<BTreeMap<String, Baseline>, JobError> {
    let due: Vec<(&str, &core::TriggerRule)> = rules
        .iter()
        .filter(|(id, rule)| {
            rule.baseline.is_some()
                && baseline::refresh_due(state.nat(id).and_then(|n| n.baseline.as_ref()), now)
        })
        .copied()
        .collect();
    if due.is_empty() {
        return Ok(BTreeMap::new());
    }
    let series = cloud
        .metric_data(&baseline::baseline_query(&due, now))
        .await?;
    Ok(due
        .iter()
        .filter_map(|(id, rule)| {
            let days = rule.baseline?.days;
            let read = baseline::baseline_from(&series, id, rule, days, now);
            Some((id.to_string(), read))
        })
        .collect())
}

/// The connection metrics of the NAT gateways that may start a recording on this tick, which
/// the start's cost estimate reads: one GetMetricData call, only on such ticks (starts are
/// rare). A failed read leaves the start without an estimate rather than holding it back.
pub async fn read_connections<M: Metrics>(
    cloud: &M,
    nats: &[String],
    now: DateTime<Utc>,
) -> BTreeMap<String, Connections> {
    if nats.is_empty() {
        return BTreeMap::new();
    }
    match cloud
        .metric_data(&estimate::connection_query(nats, now))
        .await
    {
        Ok(series) => nats
            .iter()
            .filter_map(|n| Some((n.clone(), estimate::connections_of(&series, n)?)))
            .collect(),
        Err(e) => {
            tracing::warn!("no cost estimate for the start: {e}");
            BTreeMap::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeDelta, TimeZone};

    use super::*;
    use crate::ports::AwsErrorKind;
    use crate::sim::{SimCloud, SimOperation};

    const NAT: &str = "nat-0demo0000000000001";

    #[tokio::test]
    async fn connections_are_read_in_one_call_and_a_failed_read_only_loses_the_estimate() {
        let t0 = Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap();
        let sim = SimCloud::example(t0);
        // In the example's spike (from +10 minutes), with its minutes published.
        let now = t0 + TimeDelta::minutes(20);
        sim.set_now(now);
        let nats = [NAT.to_string()];
        let read = read_connections(&sim, &nats, now).await;
        let c = read.get(NAT).expect("the NAT's connections");
        assert!(c.active > 0.0 && c.established_per_minute > 0.0, "{c:?}");
        assert_eq!(sim.take_calls().len(), 1, "one GetMetricData");

        sim.fail_next(SimOperation::GetMetricData, AwsErrorKind::Throttled);
        assert!(read_connections(&sim, &nats, now).await.is_empty());
        // Nobody may start: nothing read.
        sim.take_calls();
        assert!(read_connections(&sim, &[], now).await.is_empty());
        assert!(sim.take_calls().is_empty());
    }
}
