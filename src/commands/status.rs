//! `nat-flowrec status`: the state the event log adds up to, per configured NAT gateway (trigger,
//! active recording, budget, its last reported spike as a sparkline from that recording's
//! `metrics.json`) and the recent recordings. Reads the log and those files only: no lock, no AWS.

use std::collections::BTreeMap;
use std::process::ExitCode;

use nat_flowrec_reports::usd;
use serde::Serialize;

use super::wiring;
use chrono::{DateTime, Utc};

use super::out::{out, outln};
use crate::app::Settings;
use crate::cli::StatusArgs;
use crate::config::Config;
use crate::core::event::{EventEnvelope, plural, rfc3339};
use crate::core::state::month_of;
use crate::core::{ActiveRecording, Budget, NatState, Recording, State};

/// How many recordings the text form lists (JSON lists them all).
const RECENT: usize = 10;

#[derive(Serialize)]
struct Status<'a> {
    state_file: String,
    events: usize,
    nats: Vec<NatStatus<'a>>,
    recordings: &'a [Recording],
    /// Recordings whose notification may or may not have gone out (SNS never answered), by
    /// when it was attempted: `check` does not send them again.
    notify_unconfirmed: &'a BTreeMap<String, DateTime<Utc>>,
    /// What this calendar month's recordings cost in CloudWatch Logs ingestion, as last measured.
    month_cost_usd: f64,
    /// `recording.max_cost_usd_per_month`; 0 = no cap.
    max_cost_usd_per_month: f64,
}

/// What a user can read about one NAT gateway (not the fold's bookkeeping).
#[derive(Serialize)]
struct NatStatus<'a> {
    nat_gateway_id: &'a str,
    trigger: &'static str,
    trigger_since: Option<DateTime<Utc>>,
    trigger_evidence: Option<String>,
    active: Option<ActiveRecording>,
    budget: Budget,
    budget_reset_at: Option<DateTime<Utc>>,
    /// The NAT's bytes a minute around its last reported recording, against the threshold.
    #[serde(skip_serializing_if = "Option::is_none")]
    last_spike: Option<String>,
    #[serde(skip)]
    state: NatState,
}

/// `▁▁█▇▁ (threshold ▂) around rec-...`: the sparkline of the NAT's last reported recording,
/// from the `metrics.json` beside its export files; `None` when there is none.
fn last_spike(state: &State, nat_gateway_id: &str) -> Option<String> {
    let rec = state
        .recordings
        .iter()
        .rev()
        .find(|r| r.nat_gateway_id == nat_gateway_id && r.reported.is_some())?;
    let report_dir = std::path::PathBuf::from(&rec.reported.as_ref()?.dir);
    let metrics = crate::finish::report::load_metrics(report_dir.parent()?)?;
    let line = nat_flowrec_reports::render::sparkline(
        &metrics.compared(),
        metrics.threshold.map(|t| t.bytes_per_minute),
    );
    (!line.is_empty()).then(|| format!("{line} around {}", rec.recording_id))
}

pub fn run(global: &Settings, args: &StatusArgs) -> anyhow::Result<ExitCode> {
    let now = wiring::clock(global);
    let cfg = wiring::config(global)?;
    let log = wiring::runtime()?.block_on(wiring::read_log(global, &cfg))?;
    let state = State::fold(log.events());
    let status = build(&cfg, &state, log.events().len(), now);
    if args.output.format().is_json() {
        outln!("{}", super::json::pretty(&status)?)?;
    } else {
        out!("{}", text(&status, now))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The status as JSON: `--output json`, and the Lambda's `{"command":"status"}`.
pub(crate) fn to_json(
    cfg: &Config,
    events: &[EventEnvelope],
    now: DateTime<Utc>,
) -> serde_json::Result<serde_json::Value> {
    let state = State::fold(events);
    let mut value = serde_json::to_value(build(cfg, &state, events.len(), now))?;
    super::json::normalize(&mut value);
    Ok(value)
}

fn build<'a>(cfg: &'a Config, state: &'a State, events: usize, now: DateTime<Utc>) -> Status<'a> {
    let policy = cfg.recording.policy(cfg.region.as_deref());
    let nats: Vec<NatStatus> = cfg
        .nat_gateway_ids
        .iter()
        .map(|id| {
            let ns = state.nat(id).cloned().unwrap_or_default();
            NatStatus {
                nat_gateway_id: id,
                trigger: ns.trigger.as_snake_case(),
                trigger_since: ns.trigger_since,
                trigger_evidence: ns.trigger_evidence.clone(),
                active: ns.active.clone(),
                budget: policy.budget(&ns, now),
                budget_reset_at: ns.budget_reset_at,
                last_spike: last_spike(state, id),
                state: ns,
            }
        })
        .collect();
    Status {
        state_file: cfg.state.display().to_string(),
        events,
        nats,
        recordings: &state.recordings,
        notify_unconfirmed: &state.notify_unconfirmed,
        month_cost_usd: state.month_cost_usd(&month_of(now), &[]),
        max_cost_usd_per_month: policy.max_cost_usd_per_month,
    }
}

fn text(status: &Status, now: DateTime<Utc>) -> String {
    let mut out = format!(
        "event log: {} ({} events)\n",
        status.state_file, status.events
    );
    if status.month_cost_usd > 0.0 || status.max_cost_usd_per_month > 0.0 {
        let cap = if status.max_cost_usd_per_month > 0.0 {
            format!(
                " of {} (recording.max_cost_usd_per_month)",
                usd(status.max_cost_usd_per_month)
            )
        } else {
            String::new()
        };
        out.push_str(&format!(
            "CloudWatch Logs ingestion this month: {}{cap}\n",
            usd(status.month_cost_usd)
        ));
    }
    for nat in &status.nats {
        let ns = &nat.state;
        let since = ns
            .trigger_since
            .map(|t| format!(" since {} ({})", rfc3339(&t), relative(t, now)))
            .unwrap_or_default();
        out.push_str(&format!(
            "{}: trigger {}{since}\n",
            nat.nat_gateway_id, ns.trigger
        ));
        match &ns.active {
            Some(active) => out.push_str(&format!(
                "  recording {} since {} until {} (ends {}) on {}\n",
                active.recording_id,
                rfc3339(&active.started_at),
                rfc3339(&active.deadline),
                relative(active.deadline, now),
                plural(active.enis.len(), "network interface", "network interfaces")
            )),
            None => out.push_str("  not recording\n"),
        }
        if let Some(cost) = ns
            .active
            .as_ref()
            .and_then(|a| {
                status
                    .recordings
                    .iter()
                    .find(|r| r.recording_id == a.recording_id)
            })
            .and_then(|r| r.ingestion.as_ref())
        {
            out.push_str(&format!(
                "  cost so far: {} in CloudWatch Logs ingestion (measured {})\n",
                usd(cost.cost_usd),
                relative(cost.at, now)
            ));
        }
        out.push_str(&format!("  budget: {}\n", nat.budget));
        if let Some(spike) = &nat.last_spike {
            out.push_str(&format!("  last spike, bytes a minute: {spike}\n"));
        }
    }
    if status.recordings.is_empty() {
        out.push_str("no recordings yet\n");
        return out;
    }
    out.push_str("recent recordings:\n");
    let skip = status.recordings.len().saturating_sub(RECENT);
    for rec in &status.recordings[skip..] {
        let end = match &rec.stopped {
            Some(s) => format!("stopped {} ({})", rfc3339(&s.at), s.reason),
            None => format!("active until {}", rfc3339(&rec.deadline)),
        };
        let mut stages = Vec::new();
        if let Some(cost) = &rec.ingestion {
            stages.push(format!("cost {}", usd(cost.cost_usd)));
        }
        if let Some(e) = &rec.exported {
            stages.push(format!("exported {} records", e.records));
        }
        if let Some(r) = &rec.reported {
            stages.push(format!("report in {}", r.dir));
        }
        if rec.notified.is_some() {
            stages.push("notified".to_string());
        } else if let Some(at) = status.notify_unconfirmed.get(&rec.recording_id) {
            stages.push(format!(
                "notification unconfirmed since {} (not sent again by itself; \
                 `nat-flowrec notify --recording {}` sends it)",
                rfc3339(at),
                rec.recording_id
            ));
        }
        let stages = if stages.is_empty() {
            String::new()
        } else {
            format!("; {}", stages.join(", "))
        };
        out.push_str(&format!(
            "  {} {} started {}, {end}{stages}\n",
            rec.recording_id,
            rec.nat_gateway_id,
            rfc3339(&rec.started_at)
        ));
    }
    out
}

/// `in 7 min`, `3 h 5 min ago`, `now`: how far `t` is from `now`, to the minute.
fn relative(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let minutes = (t - now).num_minutes();
    // Minutes matter within a day; past two days, only days do.
    let span = |m: i64| {
        let (d, h, m) = (m / 1440, m / 60 % 24, m % 60);
        match (d, h, m) {
            (0, 0, m) => format!("{m} min"),
            (0, h, 0) => format!("{h} h"),
            (0, h, m) => format!("{h} h {m} min"),
            (1, h, _) => format!("1 day {h} h"),
            (d, _, _) => format!("{d} days"),
        }
    };
    match minutes {
        0 => "now".to_owned(),
        m if m > 0 => format!("in {}", span(m)),
        m => format!("{} ago", span(-m)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times_read_to_the_minute() {
        let now = DateTime::parse_from_rfc3339("2026-01-15T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let at = |m: i64| now + chrono::TimeDelta::minutes(m);
        assert_eq!(relative(at(7), now), "in 7 min");
        assert_eq!(relative(at(-185), now), "3 h 5 min ago");
        assert_eq!(relative(at(120), now), "in 2 h");
        assert_eq!(relative(now, now), "now");
        assert_eq!(relative(at(-(26 * 60 + 5)), now), "1 day 2 h ago");
        assert_eq!(relative(at(-(7774 * 60)), now), "323 days ago");
    }
}
