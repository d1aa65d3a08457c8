//! `nat-flowrec trigger suggest`: reads each NAT gateway's recent trigger metrics with
//! GetMetricData and prints what its rule, and the thresholds `core::suggest` proposes, would
//! have done over them. `doctor` reads the same history for its one line.

use std::process::ExitCode;

use chrono::{DateTime, TimeDelta, Utc};
use nat_flowrec_reports::{grouped, human_bytes, usd};
use serde::Serialize;

use super::out::outln;
use super::wiring;
use crate::app::Settings;
use crate::cli::SuggestArgs;
use crate::config::Config;
use crate::core::suggest::{CostAssumption, Suggestion, suggest};
use crate::core::trigger::amount_in_words;
use crate::core::{LogGroupClass, TriggerRule};
use crate::ports::{AwsError, MetricQuery, Metrics};

/// The flow logs a recorded minute is assumed to ingest when nobody says otherwise.
pub const DEFAULT_INGESTION_PER_MINUTE: u64 = 10_000_000;

#[derive(Serialize)]
struct Suggestions<'a> {
    days: u32,
    nats: &'a [Suggestion],
}

pub fn run(global: &Settings, args: &SuggestArgs) -> anyhow::Result<ExitCode> {
    let cfg = wiring::config(global)?;
    let nats: Vec<String> = if args.nats.is_empty() {
        cfg.nat_gateway_ids
            .iter()
            .map(ToString::to_string)
            .collect()
    } else {
        args.nats.iter().map(ToString::to_string).collect()
    };
    let now = wiring::clock(global);
    let rt = wiring::runtime()?;
    let suggestions = rt.block_on(async {
        let cloud = wiring::cloud(global, &cfg).await?;
        let read = history(
            &cloud.cloudwatch,
            &cfg,
            &nats,
            args.days,
            args.ingestion_per_minute,
            now,
        );
        anyhow::Ok(read.await?)
    })?;
    if args.output.format().is_json() {
        let doc = Suggestions {
            days: args.days,
            nats: &suggestions,
        };
        outln!("{}", super::json::pretty(&doc)?)?;
    } else {
        for s in &suggestions {
            outln!("{}", text(s, &cfg.rule_for(&s.nat_gateway_id)))?;
        }
        if let Some(s) = suggestions.first() {
            outln!("{}", assumption_in_words(&s.assumption, &cfg))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Each NAT gateway's last `days` of its trigger's metrics, through its rule: one GetMetricData
/// read per NAT gateway (the adapter slices long windows under CloudWatch's datapoint limit).
pub async fn history<M: Metrics>(
    metrics: &M,
    cfg: &Config,
    nats: &[String],
    days: u32,
    ingested_bytes_per_minute: u64,
    now: DateTime<Utc>,
) -> Result<Vec<Suggestion>, AwsError> {
    let region = cfg.region.as_ref().map(ToString::to_string);
    let policy = cfg.recording.policy(region.as_deref());
    let assumption = CostAssumption {
        ingested_bytes_per_minute,
        price_per_gb: policy.delivery_price_per_gb,
        recording_seconds: policy.recording_seconds,
        max_recording_seconds: policy.max_recording_seconds,
    };
    let mut out = Vec::with_capacity(nats.len());
    for nat in nats {
        let rule = cfg.rule_for(nat);
        let window = history_window(&rule, days, now);
        let query = MetricQuery {
            nat_gateway_ids: vec![nat.clone()],
            metrics: rule
                .metrics
                .iter()
                .map(|m| m.as_str().to_string())
                .collect(),
            statistic: "Sum".to_string(),
            period_seconds: i32::try_from(rule.period_seconds).unwrap_or(i32::MAX),
            start: window.0,
            end: window.1,
            log_groups: Vec::new(),
            nat_metrics: Default::default(),
            statistics: Default::default(),
        };
        let series = metrics.metric_data(&query).await?;
        out.push(suggest(&series, nat, &rule, window, assumption));
    }
    Ok(out)
}

/// `days` whole days ending where the still-filling period begins.
fn history_window(
    rule: &TriggerRule,
    days: u32,
    now: DateTime<Utc>,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let period = i64::from(rule.period_seconds.max(60));
    let end =
        DateTime::from_timestamp(now.timestamp().div_euclid(period) * period, 0).unwrap_or(now);
    (end - TimeDelta::days(i64::from(days)), end)
}

/// One NAT gateway's table.
fn text(s: &Suggestion, rule: &TriggerRule) -> String {
    let amount = |v: f64| amount_in_words(rule, v);
    let mut out = format!(
        "{}: {} days, {} periods of {} s with data",
        s.nat_gateway_id,
        s.days,
        grouped(s.periods as u64),
        s.period_seconds
    );
    match (s.peak, s.p95, s.p99) {
        (Some((at, peak)), Some(p95), Some(p99)) => out.push_str(&format!(
            "\n  peak {} at {}, p95 {}, p99 {}\n",
            amount(peak),
            at.format("%Y-%m-%d %H:%MZ"),
            amount(p95),
            amount(p99)
        )),
        _ => {
            out.push_str("\n  no datapoints: CloudWatch has none for this NAT gateway's trigger metrics in that window\n");
        }
    }
    out.push_str(&format!(
        "  {:<14} {:>14} {:>7} {:>10} {:>10}",
        "threshold", "bytes", "fired", "minutes", "est. cost"
    ));
    for c in &s.candidates {
        out.push_str(&format!(
            "\n  {:<14} {:>14} {:>7} {:>10} {:>10}",
            c.label,
            amount(c.threshold_bytes as f64),
            c.fired,
            grouped(c.recorded_minutes),
            usd(c.cost_usd)
        ));
    }
    out.push('\n');
    out
}

/// The cost estimate's assumptions, said once below the tables.
fn assumption_in_words(a: &CostAssumption, cfg: &Config) -> String {
    let class = match cfg.recording.log_group_class {
        LogGroupClass::Standard => "STANDARD",
        LogGroupClass::InfrequentAccess => "INFREQUENT_ACCESS",
    };
    let length = if a.recording_seconds > 0 {
        format!("each firing records {} s", a.recording_seconds)
    } else {
        format!(
            "each firing records while the trigger breaches, at most {} s",
            a.max_recording_seconds
        )
    };
    format!(
        "Estimated cost: {length} and ingests {} of flow logs a minute (--ingestion-per-minute) at ${}/GB ({class} log group); budgets and cost caps are not applied.",
        human_bytes(a.ingested_bytes_per_minute),
        a.price_per_gb
    )
}
