//! What the core's tests share: the clock of a case written the way a person reads it, the NAT
//! gateways the cases happen on, and the events a log holds, built with the defaults a case does
//! not care about so that each case spells out only what it is about.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

use crate::core::event::{Event, EventEnvelope, StartCause, StopReason};
use crate::core::state::State;
use crate::core::trigger::TriggerState;

/// The day every case happens on unless it says otherwise.
const DAY: (i32, u32, u32) = (2025, 1, 1);

/// The NAT gateway a case happens on unless it names another.
pub(crate) const NAT: &str = "nat-01234567";
/// A second NAT gateway, for cases about NAT gateways being decided independently.
pub(crate) const NAT2: &str = "nat-89abcdef";

/// `at("10:41")` or `at("10:41:30")`: that time of the tests' day (2025-01-01, UTC); a full
/// RFC 3339 time (`"2026-03-01T12:00:00Z"`) is taken as written.
pub(crate) fn at(time: &str) -> DateTime<Utc> {
    if let Ok(full) = DateTime::parse_from_rfc3339(time) {
        return full.with_timezone(&Utc);
    }
    let clock = NaiveTime::parse_from_str(time, "%H:%M:%S")
        .or_else(|_| NaiveTime::parse_from_str(time, "%H:%M"))
        .unwrap_or_else(|e| panic!("`{time}` is not HH:MM[:SS] or RFC 3339: {e}"));
    let (y, m, d) = DAY;
    let day = NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
    day.and_time(clock).and_utc()
}

/// The log of `(time, event)` pairs, numbered from 1 in the order given.
pub(crate) fn log(given: Vec<(&str, Event)>) -> Vec<EventEnvelope> {
    given
        .into_iter()
        .enumerate()
        .map(|(i, (time, event))| EventEnvelope::new(i as u64 + 1, at(time), event))
        .collect()
}

/// The state the log of `(time, event)` pairs folds to.
pub(crate) fn fold(given: Vec<(&str, Event)>) -> State {
    State::fold(&log(given))
}

/// The trigger of [`NAT`] went from `from` to `to`, with no evidence.
pub(crate) fn changed(from: TriggerState, to: TriggerState) -> Event {
    Event::TriggerChanged {
        nat_gateway_id: NAT.into(),
        from,
        to,
        evidence: String::new(),
    }
}

/// Recording `id` started on [`NAT`] because of the trigger: one network interface (`eni-1`),
/// one flow log (`fl-{id}`), until 11:00.
pub(crate) fn started(id: &str) -> Event {
    Event::RecordingStarted {
        recording_id: id.into(),
        nat_gateway_id: NAT.into(),
        enis: vec!["eni-1".into()],
        flow_log_ids: vec![format!("fl-{id}")],
        nat_ips: vec![],
        log_group: "/g".into(),
        log_format: "${srcaddr}".into(),
        max_aggregation_interval: 60,
        deadline: at("11:00"),
        cause: by_trigger(),
        s3_destination: None,
        estimate: None,
    }
}

/// Started because the trigger breached, with no evidence.
pub(crate) fn by_trigger() -> StartCause {
    StartCause::Trigger {
        evidence: String::new(),
    }
}

/// Started by hand, without `--force`.
pub(crate) fn by_hand() -> StartCause {
    StartCause::Manual { forced: false }
}

/// Recording `id` on [`NAT`] stopped for `reason`, having deleted no flow log.
pub(crate) fn stopped(id: &str, reason: StopReason) -> Event {
    Event::RecordingStopped {
        recording_id: id.into(),
        nat_gateway_id: NAT.into(),
        reason,
        deleted_flow_log_ids: vec![],
    }
}

/// Recording `id` on [`NAT`] failed to start with `error`, having created no flow log.
pub(crate) fn failed(id: &str, error: &str) -> Event {
    Event::RecordingFailed {
        recording_id: id.into(),
        nat_gateway_id: NAT.into(),
        error: error.into(),
        created_flow_log_ids: vec![],
    }
}

/// [`NAT`] used `used` of its `max` recordings, counted since the last reset.
pub(crate) fn budget_exhausted(used: u32, max: u32) -> Event {
    Event::BudgetExhausted {
        nat_gateway_id: NAT.into(),
        used,
        max,
        window_seconds: 0,
    }
}

/// The budget of [`NAT`] was reset.
pub(crate) fn budget_reset() -> Event {
    Event::BudgetReset {
        nat_gateway_id: NAT.into(),
    }
}

/// [`NAT`] was seen in `state`, not `available`.
pub(crate) fn unavailable(state: &str) -> Event {
    Event::NatUnavailable {
        nat_gateway_id: NAT.into(),
        state: state.into(),
    }
}

/// Recording `id` exported nothing.
pub(crate) fn exported(id: &str) -> Event {
    Event::Exported {
        recording_id: id.into(),
        files: vec![],
        records: 0,
        bytes: 0,
    }
}

/// Recording `id` reported into directory `d`.
pub(crate) fn reported(id: &str) -> Event {
    Event::Reported {
        recording_id: id.into(),
        dir: "d".into(),
    }
}

/// Recording `id` was notified as message `m`.
pub(crate) fn notified(id: &str) -> Event {
    Event::Notified {
        recording_id: id.into(),
        message_id: "m".into(),
    }
}

/// What a case changes in an event built above, chained: `started("r1").on(NAT2).until("08:15")`.
/// Each panics on an event that has no such field, since that is a mistake in the case.
pub(crate) trait Tweak {
    /// On NAT gateway `nat` instead of [`NAT`].
    fn on(self, nat: &str) -> Self;
    /// Until `time` (see [`at`]).
    fn until(self, time: &str) -> Self;
    /// Started for `cause`.
    fn cause(self, cause: StartCause) -> Self;
    /// With these flow logs.
    fn flow_logs(self, ids: &[&str]) -> Self;
    /// Into log group `group`.
    fn log_group(self, group: &str) -> Self;
    /// Estimated before its start at `raw_usd_per_minute`, uncalibrated, for 15 minutes.
    fn estimated(self, raw_usd_per_minute: f64) -> Self;
}

impl Tweak for Event {
    fn on(mut self, nat: &str) -> Self {
        match &mut self {
            Event::RecordingStarted { nat_gateway_id, .. }
            | Event::RecordingStopped { nat_gateway_id, .. }
            | Event::TriggerChanged { nat_gateway_id, .. } => *nat_gateway_id = nat.into(),
            other => panic!("{other:?} names no NAT gateway to change"),
        }
        self
    }

    fn estimated(mut self, raw_usd_per_minute: f64) -> Self {
        match &mut self {
            Event::RecordingStarted { estimate, .. } => {
                *estimate = Some(crate::core::estimate::StartEstimate {
                    raw_usd_per_minute,
                    calibration: 1.0,
                    seconds: 900,
                    usd: raw_usd_per_minute * 15.0,
                    shortened: None,
                })
            }
            other => panic!("{other:?} has no estimate to change"),
        }
        self
    }

    fn until(mut self, time: &str) -> Self {
        match &mut self {
            Event::RecordingStarted { deadline, .. } => *deadline = at(time),
            other => panic!("{other:?} has no deadline to change"),
        }
        self
    }

    fn cause(mut self, why: StartCause) -> Self {
        match &mut self {
            Event::RecordingStarted { cause, .. } => *cause = why,
            other => panic!("{other:?} has no cause to change"),
        }
        self
    }

    fn flow_logs(mut self, ids: &[&str]) -> Self {
        match &mut self {
            Event::RecordingStarted { flow_log_ids, .. } => {
                *flow_log_ids = ids.iter().map(|id| id.to_string()).collect()
            }
            other => panic!("{other:?} has no flow logs to change"),
        }
        self
    }

    fn log_group(mut self, group: &str) -> Self {
        match &mut self {
            Event::RecordingStarted { log_group, .. } => *log_group = group.into(),
            other => panic!("{other:?} has no log group to change"),
        }
        self
    }
}

#[test]
fn times_of_the_day_and_full_times_parse() {
    assert_eq!(at("10:41"), at("2025-01-01T10:41:00Z"));
    assert_eq!(at("10:41:30").to_rfc3339(), "2025-01-01T10:41:30+00:00");
}

#[test]
fn tweaks_change_only_what_they_name() {
    let event = started("r1").on(NAT2).until("08:15").flow_logs(&["fl-a"]);
    let Event::RecordingStarted {
        nat_gateway_id,
        deadline,
        flow_log_ids,
        enis,
        ..
    } = event
    else {
        panic!("still a start");
    };
    assert_eq!(
        (nat_gateway_id.as_str(), deadline, flow_log_ids, enis),
        (
            NAT2,
            at("08:15"),
            vec!["fl-a".to_string()],
            vec!["eni-1".to_string()]
        )
    );
}
