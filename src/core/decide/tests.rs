//! The decision tables: given the log's events, when an observation arrives at a time, then the
//! decisions; and the manual start, stop and budget reset with the refusals a user reads.

use super::*;
use crate::core::estimate::{Connections, EstimateBasis};
use crate::core::event::EventEnvelope;
use crate::core::testkit::{
    NAT, NAT2, Tweak, at as t, budget_exhausted, budget_reset, by_hand, changed, fold, started,
    stopped, unavailable,
};
use TriggerState::{Breaching as B, InsufficientData as I, Ok as K};

// ---- given: events, written the way the log holds them ----

fn adopted(id: &str, deadline: &str) -> Event {
    Event::FlowLogsAdopted {
        recording_id: id.into(),
        nat_gateway_id: NAT.into(),
        flow_log_ids: vec!["fl-orphan".into()],
        enis: vec!["eni-1".into()],
        deadline: t(deadline),
        log_group: None,
        log_format: None,
    }
}

/// A spike since 10:41, recorded since then until 10:56.
fn recording() -> Vec<(&'static str, Event)> {
    vec![
        ("10:41:00", changed(I, B)),
        ("10:41:00", started("r1").until("10:56:00")),
    ]
}

/// An earlier spike recorded and over, then `more`.
fn spent_earlier(more: Vec<(&'static str, Event)>) -> Vec<(&'static str, Event)> {
    let mut given = vec![
        ("08:00:00", changed(I, B)),
        ("08:00:00", started("r1").until("08:15:00")),
        ("08:10:00", changed(B, K)),
        ("08:10:00", stopped("r1", StopReason::TriggerOk)),
    ];
    given.extend(more);
    given
}

// ---- when: an observation ----

fn obs(trigger: TriggerState, nat_state: &str) -> Observation {
    obs_on(NAT, trigger, nat_state)
}

fn obs_on(nat: &str, trigger: TriggerState, nat_state: &str) -> Observation {
    Observation {
        nat_gateway_id: nat.into(),
        verdict: TriggerVerdict {
            state: trigger,
            evidence: format!("evidence {trigger}"),
        },
        nat_state: nat_state.into(),
        ingested_bytes: None,
        baseline_read: None,
        connections: None,
    }
}

// ---- then: decisions, in a shape a table can hold ----

#[derive(Debug, PartialEq)]
enum Then {
    /// Start with this deadline (hh:mm:ss), caused by the trigger.
    Start(&'static str),
    Stop(StopReason),
    Changed(TriggerState, TriggerState),
    BudgetExhausted(u32, u32),
    Unavailable(&'static str),
    /// `IngestionMeasured` with these bytes.
    Measured(u64),
    /// `MonthlyCostCapReached` for this month.
    MonthlyCap(&'static str),
}

fn then_of(decisions: &[Decision]) -> Vec<String> {
    decisions
        .iter()
        .map(|d| match d {
            Decision::Start(p) => {
                format!("Start({:?})", p.deadline.format("%H:%M:%S").to_string())
            }
            Decision::Stop(p) => format!("Stop({:?})", p.reason),
            Decision::Record(Event::TriggerChanged { from, to, .. }) => {
                format!("Changed({from:?}, {to:?})")
            }
            Decision::Record(Event::BudgetExhausted { used, max, .. }) => {
                format!("BudgetExhausted({used}, {max})")
            }
            Decision::Record(Event::NatUnavailable { state, .. }) => {
                format!("Unavailable({state:?})")
            }
            Decision::Record(Event::IngestionMeasured { bytes, .. }) => {
                format!("Measured({bytes})")
            }
            Decision::Record(Event::MonthlyCostCapReached { month, .. }) => {
                format!("MonthlyCap({month:?})")
            }
            other => format!("{other:?}"),
        })
        .collect()
}

fn then_strings(then: &[Then]) -> Vec<String> {
    then.iter()
        .map(|t| match t {
            Then::Changed(a, b) => format!("Changed({a:?}, {b:?})"),
            other => format!("{other:?}"),
        })
        .collect()
}

fn policy() -> Policy {
    Policy {
        recording_seconds: 900,
        max_recording_seconds: 3_600,
        max_recordings: 0,
        window_seconds: 0,
        max_cost_usd: 0.0,
        max_cost_usd_per_month: 0.0,
        // $0.50 per GB: 2 GB cost $1.
        ingestion_price_per_gb: 0.5,
        delivery_price_per_gb: 0.5,
        estimate: EstimateBasis::default(),
    }
}

struct Case {
    name: &'static str,
    given: Vec<(&'static str, Event)>,
    policy: Policy,
    when: Observation,
    at: &'static str,
    then: Vec<Then>,
}

fn case(
    name: &'static str,
    given: Vec<(&'static str, Event)>,
    when: Observation,
    at: &'static str,
    then: Vec<Then>,
) -> Case {
    Case {
        name,
        given,
        policy: policy(),
        when,
        at,
        then,
    }
}

/// Given each case's events, when its observation arrives at its time, then its decisions.
fn check(cases: Vec<Case>) {
    for c in cases {
        let state = fold(c.given);
        let got = decide(&state, std::slice::from_ref(&c.when), &c.policy, t(c.at));
        assert_eq!(then_of(&got), then_strings(&c.then), "{}", c.name);
    }
}

fn with_policy(mut c: Case, policy: Policy) -> Case {
    c.policy = policy;
    c
}

fn budget(max: u32, window_seconds: u64) -> Policy {
    Policy {
        max_recordings: max,
        window_seconds,
        ..policy()
    }
}

use StopReason::{Deadline, HardCap, TriggerOk};
use Then::{BudgetExhausted, Changed, Start, Stop, Unavailable};

#[test]
fn every_transition() {
    let cases = vec![
        // -- the trigger alone --
        case(
            "first run, OK: the change is noted",
            vec![],
            obs(K, "available"),
            "10:41:00",
            vec![Changed(I, K)],
        ),
        case(
            "OK and still OK: nothing",
            vec![("10:40:00", changed(I, K))],
            obs(K, "available"),
            "10:41:00",
            vec![],
        ),
        case(
            "first run, insufficient data: nothing to note",
            vec![],
            obs(I, "available"),
            "10:41:00",
            vec![],
        ),
        // -- starting on the spike's edge --
        case(
            "first run, breaching: record",
            vec![],
            obs(B, "available"),
            "10:41:00",
            vec![Changed(I, B), Start("10:56:00")],
        ),
        case(
            "OK -> breaching: record",
            vec![("10:40:00", changed(I, K))],
            obs(B, "available"),
            "10:41:00",
            vec![Changed(K, B), Start("10:56:00")],
        ),
        case(
            "breaching, idle, spike never recorded (a start failed): record",
            vec![
                ("10:40:00", changed(I, B)),
                (
                    "10:40:00",
                    Event::RecordingFailed {
                        recording_id: "rec-01234567-20250101T104000Z".into(),
                        nat_gateway_id: NAT.into(),
                        error: "throttled".into(),
                        created_flow_log_ids: vec![],
                    },
                ),
            ],
            obs(B, "available"),
            "10:41:00",
            vec![Start("10:56:00")],
        ),
        // -- while recording --
        case(
            "recording, still breaching: nothing",
            recording(),
            obs(B, "available"),
            "10:50:00",
            vec![],
        ),
        case(
            "recording, trigger OK: stop",
            recording(),
            obs(K, "available"),
            "10:50:00",
            vec![Changed(B, K), Stop(TriggerOk)],
        ),
        case(
            "recording, insufficient data: keep recording",
            recording(),
            obs(I, "available"),
            "10:50:00",
            vec![Changed(B, I)],
        ),
        case(
            "recording, deadline reached while breaching: stop",
            recording(),
            obs(B, "available"),
            "10:56:00",
            vec![Stop(Deadline)],
        ),
        case(
            "recording, deadline passed with insufficient data: stop",
            recording(),
            obs(I, "available"),
            "11:30:00",
            vec![Changed(B, I), Stop(Deadline)],
        ),
        case(
            "recording, deadline and OK together: the deadline is the reason",
            recording(),
            obs(K, "available"),
            "10:57:00",
            vec![Changed(B, K), Stop(Deadline)],
        ),
        case(
            "recording, NAT no longer available: keep recording until OK or deadline",
            recording(),
            obs(B, "deleting"),
            "10:50:00",
            vec![],
        ),
        case(
            "adopted recording, trigger OK: stop",
            vec![
                ("10:41:00", changed(I, B)),
                ("10:42:00", adopted("orphan", "10:56:00")),
            ],
            obs(K, "available"),
            "10:50:00",
            vec![Changed(B, K), Stop(TriggerOk)],
        ),
        case(
            "adopted recording with a deadline past the hard cap: the cap stops it",
            vec![
                ("10:41:00", changed(I, B)),
                ("10:42:00", adopted("orphan", "23:00:00")),
            ],
            obs(B, "available"),
            "11:42:00",
            vec![Stop(HardCap)],
        ),
        case(
            "hard cap lowered below a running recording's deadline",
            vec![
                ("10:41:00", changed(I, B)),
                ("10:41:00", started("r1").until("16:41:00")),
            ],
            obs(B, "available"),
            "11:41:00",
            vec![Stop(HardCap)],
        ),
        // -- manual recordings ignore the trigger --
        case(
            "manual recording, trigger OK: keep recording",
            vec![
                ("10:40:00", changed(I, K)),
                ("10:41:00", started("m1").until("10:51:00").cause(by_hand())),
            ],
            obs(K, "available"),
            "10:45:00",
            vec![],
        ),
        case(
            "manual recording, spike starts: no second recording",
            vec![
                ("10:40:00", changed(I, K)),
                ("10:41:00", started("m1").until("10:51:00").cause(by_hand())),
            ],
            obs(B, "available"),
            "10:45:00",
            vec![Changed(K, B)],
        ),
        case(
            "manual recording, deadline: stop",
            vec![
                ("10:40:00", changed(I, K)),
                ("10:41:00", started("m1").until("10:51:00").cause(by_hand())),
            ],
            obs(K, "available"),
            "10:51:00",
            vec![Stop(Deadline)],
        ),
        // -- no restart within the same spike --
        case(
            "stopped at its deadline, still breaching: no restart",
            vec![
                ("10:41:00", changed(I, B)),
                ("10:41:00", started("r1").until("10:56:00")),
                ("10:56:00", stopped("r1", Deadline)),
            ],
            obs(B, "available"),
            "10:57:00",
            vec![],
        ),
        case(
            "stopped at its deadline, insufficient data then breaching: still the same spike",
            vec![
                ("10:41:00", changed(I, B)),
                ("10:41:00", started("r1").until("10:56:00")),
                ("10:56:00", stopped("r1", Deadline)),
                ("10:57:00", changed(B, I)),
            ],
            obs(B, "available"),
            "10:58:00",
            vec![Changed(I, B)],
        ),
        case(
            "stopped by hand, still breaching: no restart",
            vec![
                ("10:41:00", changed(I, B)),
                ("10:41:00", started("r1").until("10:56:00")),
                ("10:45:00", stopped("r1", StopReason::Manual)),
            ],
            obs(B, "available"),
            "10:46:00",
            vec![],
        ),
        case(
            "stopped at its deadline, OK, then breaching again: a new spike, record",
            vec![
                ("10:41:00", changed(I, B)),
                ("10:41:00", started("r1").until("10:56:00")),
                ("10:56:00", stopped("r1", Deadline)),
                ("11:00:00", changed(B, K)),
            ],
            obs(B, "available"),
            "11:10:00",
            vec![Changed(K, B), Start("11:25:00")],
        ),
        // -- the budget --
        with_policy(
            case(
                "budget spent: say so once",
                spent_earlier(vec![]),
                obs(B, "available"),
                "10:41:00",
                vec![Changed(K, B), BudgetExhausted(1, 1)],
            ),
            budget(1, 0),
        ),
        with_policy(
            case(
                "budget spent and already said for this spike: nothing",
                spent_earlier(vec![
                    ("10:41:00", changed(K, B)),
                    ("10:41:00", budget_exhausted(1, 1)),
                ]),
                obs(B, "available"),
                "10:42:00",
                vec![],
            ),
            budget(1, 0),
        ),
        with_policy(
            case(
                "budget spent, next spike: say so again",
                spent_earlier(vec![
                    ("10:41:00", changed(K, B)),
                    ("10:41:00", budget_exhausted(1, 1)),
                    ("10:50:00", changed(B, K)),
                ]),
                obs(B, "available"),
                "11:00:00",
                vec![Changed(K, B), BudgetExhausted(1, 1)],
            ),
            budget(1, 0),
        ),
        with_policy(
            case(
                "budget reset during a blocked spike: record it",
                spent_earlier(vec![
                    ("10:41:00", changed(K, B)),
                    ("10:41:00", budget_exhausted(1, 1)),
                    ("10:45:00", budget_reset()),
                ]),
                obs(B, "available"),
                "10:46:00",
                vec![Start("11:01:00")],
            ),
            budget(1, 0),
        ),
        with_policy(
            case(
                "rolling window: an old recording no longer counts",
                vec![
                    ("08:00:00", started("r1").until("08:15:00")),
                    ("08:10:00", stopped("r1", TriggerOk)),
                    ("08:10:00", changed(I, K)),
                ],
                obs(B, "available"),
                "10:41:00",
                vec![Changed(K, B), Start("10:56:00")],
            ),
            budget(1, 3_600),
        ),
        with_policy(
            case(
                "rolling window: a recent recording counts",
                vec![
                    ("10:00:00", started("r1").until("10:15:00")),
                    ("10:10:00", stopped("r1", TriggerOk)),
                    ("10:10:00", changed(I, K)),
                ],
                obs(B, "available"),
                "10:41:00",
                vec![Changed(K, B), BudgetExhausted(1, 1)],
            ),
            budget(1, 3_600),
        ),
        with_policy(
            case(
                "rolling window frees up during a blocked spike: record it",
                vec![
                    ("10:00:00", started("r1").until("10:15:00")),
                    ("10:10:00", stopped("r1", TriggerOk)),
                    ("10:10:00", changed(I, K)),
                    ("10:41:00", changed(K, B)),
                    ("10:41:00", budget_exhausted(1, 1)),
                ],
                obs(B, "available"),
                "11:00:01",
                vec![Start("11:15:01")],
            ),
            budget(1, 3_600),
        ),
        with_policy(
            case(
                "a budget of 2 with one used: record",
                vec![
                    ("08:00:00", started("r1").until("08:15:00")),
                    ("08:10:00", stopped("r1", TriggerOk)),
                    ("08:10:00", changed(I, K)),
                ],
                obs(B, "available"),
                "10:41:00",
                vec![Changed(K, B), Start("10:56:00")],
            ),
            budget(2, 0),
        ),
        with_policy(
            case(
                "forced manual recordings count too",
                vec![
                    (
                        "08:00:00",
                        started("m1")
                            .until("08:15:00")
                            .cause(StartCause::Manual { forced: true }),
                    ),
                    ("08:15:00", stopped("m1", Deadline)),
                    ("08:15:00", changed(I, K)),
                ],
                obs(B, "available"),
                "10:41:00",
                vec![Changed(K, B), BudgetExhausted(1, 1)],
            ),
            budget(1, 0),
        ),
        with_policy(
            case(
                "failed starts do not count",
                vec![
                    (
                        "08:00:00",
                        Event::RecordingFailed {
                            recording_id: "x".into(),
                            nat_gateway_id: NAT.into(),
                            error: "e".into(),
                            created_flow_log_ids: vec![],
                        },
                    ),
                    ("08:15:00", changed(I, K)),
                ],
                obs(B, "available"),
                "10:41:00",
                vec![Changed(K, B), Start("10:56:00")],
            ),
            budget(1, 0),
        ),
        // -- NAT gateways that cannot be recorded --
        case(
            "breaching but the NAT is pending: say so once",
            vec![("10:40:00", changed(I, K))],
            obs(B, "pending"),
            "10:41:00",
            vec![Changed(K, B), Unavailable("pending")],
        ),
        case(
            "still pending: nothing",
            vec![
                ("10:41:00", changed(I, B)),
                ("10:41:00", unavailable("pending")),
            ],
            obs(B, "pending"),
            "10:42:00",
            vec![],
        ),
        case(
            "pending became failed: say so",
            vec![
                ("10:41:00", changed(I, B)),
                ("10:41:00", unavailable("pending")),
            ],
            obs(B, "failed"),
            "10:42:00",
            vec![Unavailable("failed")],
        ),
        case(
            "available again during the spike: record",
            vec![
                ("10:41:00", changed(I, B)),
                ("10:41:00", unavailable("pending")),
            ],
            obs(B, "available"),
            "10:43:00",
            vec![Start("10:58:00")],
        ),
        case(
            "not available and not breaching: nothing to say",
            vec![("10:40:00", changed(I, K))],
            obs(K, "deleted"),
            "10:41:00",
            vec![],
        ),
        with_policy(
            case(
                "unavailable is said before the budget",
                vec![
                    ("08:00:00", started("r1").until("08:15:00")),
                    ("08:10:00", stopped("r1", TriggerOk)),
                    ("08:10:00", changed(I, K)),
                ],
                obs(B, "pending"),
                "10:41:00",
                vec![Changed(K, B), Unavailable("pending")],
            ),
            budget(1, 0),
        ),
        // -- recording time --
        with_policy(
            case(
                "recording_seconds = 0: until OK, at most the hard cap",
                vec![("10:40:00", changed(I, K))],
                obs(B, "available"),
                "10:41:00",
                vec![Changed(K, B), Start("11:41:00")],
            ),
            Policy {
                recording_seconds: 0,
                ..policy()
            },
        ),
    ];
    check(cases);
}

fn measuring(mut o: Observation, bytes: u64) -> Observation {
    o.ingested_bytes = Some(bytes);
    o
}

fn measured(id: &str, cost_usd: f64) -> Event {
    Event::IngestionMeasured {
        recording_id: id.into(),
        nat_gateway_id: NAT.into(),
        bytes: (cost_usd * 2e9) as u64,
        cost_usd,
    }
}

/// `active` concurrent connections and none new: at 100 bytes a record, 4 records a connection
/// and $0.50 per GB, 350,000 of them cost $0.07 a minute, $1.05 for the 15 minutes.
fn connected(mut o: Observation, active: f64) -> Observation {
    o.connections = Some(Connections {
        active,
        established_per_minute: 0.0,
    });
    o
}

/// A recording cap of `max_cost_usd` and records of 100 bytes.
fn estimating(max_cost_usd: f64) -> Policy {
    Policy {
        max_cost_usd,
        estimate: EstimateBasis {
            bytes_per_record: 100.0,
            max_aggregation_interval: 60,
        },
        ..policy()
    }
}

fn caps(per_recording: f64, per_month: f64) -> Policy {
    Policy {
        max_cost_usd: per_recording,
        max_cost_usd_per_month: per_month,
        ..policy()
    }
}

#[test]
fn cost_caps() {
    use Then::{Measured, MonthlyCap};
    let cases = vec![
        with_policy(
            case(
                "cost cap reached mid-recording: measured, then stopped for it",
                recording(),
                measuring(obs(B, "available"), 2_000_000_000),
                "10:50:00",
                vec![Measured(2_000_000_000), Stop(StopReason::CostCap)],
            ),
            caps(1.0, 0.0),
        ),
        with_policy(
            case(
                "under the cost cap: recording goes on, its first cost noted",
                recording(),
                measuring(obs(B, "available"), 1_999_999_999),
                "10:50:00",
                vec![Measured(1_999_999_999)],
            ),
            caps(1.0, 0.0),
        ),
        with_policy(
            case(
                "estimate over the cap: the start is shortened to fit",
                vec![("10:40:00", changed(I, K))],
                connected(obs(B, "available"), 350_000.0),
                "10:41:00",
                vec![Changed(K, B), Start("10:48:00")],
            ),
            estimating(0.5),
        ),
        with_policy(
            case(
                "estimate under the cap: the start keeps recording_seconds",
                vec![("10:40:00", changed(I, K))],
                connected(obs(B, "available"), 350_000.0),
                "10:41:00",
                vec![Changed(K, B), Start("10:56:00")],
            ),
            estimating(2.0),
        ),
        with_policy(
            case(
                "no connection metrics: no estimate, nothing shortened",
                vec![("10:40:00", changed(I, K))],
                obs(B, "available"),
                "10:41:00",
                vec![Changed(K, B), Start("10:56:00")],
            ),
            estimating(0.5),
        ),
        case(
            "running cost noted 4 minutes ago: not again yet",
            {
                let mut given = recording();
                given.push(("10:46:00", measured("r1", 0.10)));
                given
            },
            measuring(obs(B, "available"), 900_000_000),
            "10:50:00",
            vec![],
        ),
        case(
            "running cost noted 5 minutes ago and grown: noted again",
            {
                let mut given = recording();
                given.push(("10:45:00", measured("r1", 0.10)));
                given
            },
            measuring(obs(B, "available"), 900_000_000),
            "10:50:00",
            vec![Measured(900_000_000)],
        ),
        case(
            "running cost noted long ago but not grown by a cent: not again",
            {
                let mut given = recording();
                given.push(("10:42:00", measured("r1", 0.45)));
                given
            },
            measuring(obs(B, "available"), 905_000_000),
            "10:50:00",
            vec![],
        ),
        with_policy(
            case(
                "the deadline comes first: stopped for it, with the cost it reached",
                recording(),
                measuring(obs(B, "available"), 5_000_000_000),
                "10:56:00",
                vec![Measured(5_000_000_000), Stop(Deadline)],
            ),
            caps(1.0, 0.0),
        ),
        case(
            "no cap: a stop still keeps what the recording cost",
            recording(),
            measuring(obs(K, "available"), 3_000_000),
            "10:50:00",
            vec![Changed(B, K), Measured(3_000_000), Stop(TriggerOk)],
        ),
        case(
            "not measured this run: the stop has no figure",
            recording(),
            obs(K, "available"),
            "10:50:00",
            vec![Changed(B, K), Stop(TriggerOk)],
        ),
        with_policy(
            case(
                "monthly cap reached: the spike is not recorded, and said",
                spent_earlier(vec![("08:10:00", measured("r1", 5.0))]),
                obs(B, "available"),
                "10:41:00",
                vec![Changed(K, B), MonthlyCap("2025-01")],
            ),
            caps(0.0, 5.0),
        ),
        with_policy(
            case(
                "monthly cap already said this month: not recorded, not said again",
                spent_earlier(vec![
                    ("08:10:00", measured("r1", 5.0)),
                    (
                        "09:00:00",
                        Event::MonthlyCostCapReached {
                            nat_gateway_id: NAT2.into(),
                            month: "2025-01".into(),
                            spent_usd: 5.0,
                            max_usd: 5.0,
                        },
                    ),
                ]),
                obs(B, "available"),
                "10:41:00",
                vec![Changed(K, B)],
            ),
            caps(0.0, 5.0),
        ),
        with_policy(
            case(
                "under the monthly cap: record",
                spent_earlier(vec![("08:10:00", measured("r1", 4.99))]),
                obs(B, "available"),
                "10:41:00",
                vec![Changed(K, B), Start("10:56:00")],
            ),
            caps(0.0, 5.0),
        ),
        with_policy(
            case(
                "last month's spending does not count",
                vec![
                    (
                        "08:00:00",
                        Event::MonthlyCostCapReached {
                            nat_gateway_id: NAT.into(),
                            month: "2024-12".into(),
                            spent_usd: 9.0,
                            max_usd: 5.0,
                        },
                    ),
                    ("08:10:00", changed(I, K)),
                ],
                obs(B, "available"),
                "10:41:00",
                vec![Changed(K, B), Start("10:56:00")],
            ),
            caps(0.0, 5.0),
        ),
    ];
    check(cases);
}

/// A recording still running on another NAT gateway counts at what this run measured, so
/// two spikes at once cannot both spend the month's cap.
#[test]
fn the_monthly_cap_counts_what_active_recordings_cost_now() {
    let state = fold(vec![
        ("10:30:00", changed(I, B).on(NAT2)),
        ("10:30:00", started("r2").on(NAT2).until("11:30:00")),
        ("10:30:00", changed(I, K)),
    ]);
    let observations = [
        measuring(obs_on(NAT2, B, "available"), 8_000_000_000),
        obs(B, "available"),
    ];
    let got = decide(&state, &observations, &caps(0.0, 4.0), t("10:41:00"));
    assert_eq!(
        then_of(&got),
        vec![
            "Measured(8000000000)",
            "Changed(Ok, Breaching)",
            "MonthlyCap(\"2025-01\")"
        ]
    );
    match &got[2] {
        Decision::Record(Event::MonthlyCostCapReached { spent_usd, .. }) => {
            assert_eq!(*spent_usd, 4.0)
        }
        other => panic!("{other:?}"),
    }
    // Replayed: the log with these events decides the same, and says nothing twice.
    let mut log: Vec<(&str, Event)> = vec![
        ("10:30:00", changed(I, B).on(NAT2)),
        ("10:30:00", started("r2").on(NAT2).until("11:30:00")),
        ("10:30:00", changed(I, K)),
    ];
    for d in &got {
        if let Decision::Record(e) = d {
            log.push(("10:41:00", e.clone()));
        }
    }
    let again = decide(&fold(log), &observations, &caps(0.0, 4.0), t("10:42:00"));
    assert!(again.is_empty(), "{:?}", then_of(&again));
}

#[test]
fn a_start_names_the_recording_and_carries_the_evidence() {
    let got = decide(
        &State::default(),
        &[obs(B, "available")],
        &policy(),
        t("10:41:07"),
    );
    assert_eq!(
        got[1],
        Decision::Start(StartPlan {
            nat_gateway_id: NAT.into(),
            recording_id: "rec-01234567-20250101T104107Z".into(),
            deadline: t("10:56:07"),
            cause: StartCause::Trigger {
                evidence: "evidence breaching".into()
            },
            estimate: None,
        })
    );
    match &got[0] {
        Decision::Record(Event::TriggerChanged { evidence, .. }) => {
            assert_eq!(evidence, "evidence breaching")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_stop_deletes_the_recordings_flow_logs() {
    let state = fold(vec![("10:41:00", started("r1").until("10:56:00"))]);
    let got = decide(&state, &[obs(K, "available")], &policy(), t("10:45:00"));
    assert_eq!(
        got.last(),
        Some(&Decision::Stop(StopPlan {
            recording_id: "r1".into(),
            nat_gateway_id: NAT.into(),
            reason: TriggerOk,
            flow_log_ids: vec!["fl-r1".into()],
        }))
    );
}

#[test]
fn nats_without_an_observation_still_stop_at_their_deadline() {
    let state = fold(vec![
        ("10:41:00", started("r1").until("10:56:00")),
        ("10:41:00", started("r2").on(NAT2).until("11:30:00")),
    ]);
    assert!(decide(&state, &[], &policy(), t("10:55:59")).is_empty());
    let got = decide(&state, &[], &policy(), t("10:56:00"));
    assert_eq!(then_of(&got), then_strings(&[Stop(Deadline)]));
    // An observed NAT is decided once, not twice.
    let got = decide(&state, &[obs(B, "available")], &policy(), t("10:56:00"));
    assert_eq!(
        then_of(&got),
        then_strings(&[Changed(I, B), Stop(Deadline)])
    );
}

#[test]
fn nats_are_decided_independently_in_observation_order() {
    let state = fold(vec![
        ("10:40:00", changed(I, K)),
        ("10:40:00", changed(I, K).on(NAT2)),
        ("10:41:00", started("r2").on(NAT2).until("10:56:00")),
    ]);
    let got = decide(
        &state,
        &[obs_on(NAT2, K, "available"), obs_on(NAT, B, "available")],
        &policy(),
        t("10:45:00"),
    );
    let nats: Vec<_> = got.iter().filter_map(|d| d.nat_gateway_id()).collect();
    assert_eq!(nats, vec![NAT2, NAT, NAT]);
    assert_eq!(
        then_of(&got),
        then_strings(&[Stop(TriggerOk), Changed(K, B), Start("11:00:00")])
    );
}

/// The controller's loop in miniature: decide, append the decisions' events, fold, repeat.
/// A spike that outlives its recording is recorded once; the next spike again.
#[test]
fn a_spike_is_recorded_once_until_the_trigger_was_ok() {
    let timeline = [
        ("10:40:00", K, vec!["TriggerChanged"]),
        ("10:41:00", B, vec!["TriggerChanged", "RecordingStarted"]),
        ("10:50:00", B, vec![]),
        ("10:56:00", B, vec!["RecordingStopped"]),
        ("11:05:00", B, vec![]),
        ("11:06:00", I, vec!["TriggerChanged"]),
        ("11:07:00", B, vec!["TriggerChanged"]),
        ("11:08:00", K, vec!["TriggerChanged"]),
        ("11:09:00", B, vec!["TriggerChanged", "RecordingStarted"]),
        ("11:12:00", K, vec!["TriggerChanged", "RecordingStopped"]),
    ];
    let mut log: Vec<EventEnvelope> = Vec::new();
    for (at, trigger, want) in timeline {
        let state = State::fold(&log);
        let decisions = decide(&state, &[obs(trigger, "available")], &policy(), t(at));
        let mut appended = Vec::new();
        for d in decisions {
            let event = match &d {
                Decision::Start(plan) => started(&plan.recording_id)
                    .until(&plan.deadline.format("%H:%M:%S").to_string())
                    .cause(plan.cause.clone()),
                other => other.completed_event().unwrap(),
            };
            appended.push(event.kind());
            log.push(EventEnvelope::new(log.len() as u64 + 1, t(at), event));
        }
        assert_eq!(appended, want, "at {at}");
    }
    let state = State::fold(&log);
    assert_eq!(state.recordings.len(), 2);
    assert!(state.nat(NAT).unwrap().active.is_none());
}

#[test]
fn manual_start() {
    struct Case {
        name: &'static str,
        given: Vec<(&'static str, Event)>,
        policy: Policy,
        seconds: Option<u64>,
        force: bool,
        then: Result<(&'static str, bool), &'static str>,
    }
    let spent = vec![
        ("08:00:00", started("r1").until("08:15:00")),
        ("08:15:00", stopped("r1", Deadline)),
    ];
    let cases = [
        Case {
            name: "default duration",
            given: vec![],
            policy: policy(),
            seconds: None,
            force: false,
            then: Ok(("10:56:00", false)),
        },
        Case {
            name: "asked duration",
            given: vec![],
            policy: policy(),
            seconds: Some(120),
            force: false,
            then: Ok(("10:43:00", false)),
        },
        Case {
            name: "the hard cap exactly",
            given: vec![],
            policy: policy(),
            seconds: Some(3_600),
            force: false,
            then: Ok(("11:41:00", false)),
        },
        Case {
            name: "until OK means the hard cap by hand",
            given: vec![],
            policy: Policy {
                recording_seconds: 0,
                ..policy()
            },
            seconds: None,
            force: false,
            then: Ok(("11:41:00", false)),
        },
        Case {
            name: "longer than the hard cap",
            given: vec![],
            policy: policy(),
            seconds: Some(3_601),
            force: true,
            then: Err("TooLong"),
        },
        Case {
            name: "zero seconds",
            given: vec![],
            policy: policy(),
            seconds: Some(0),
            force: false,
            then: Err("NoDuration"),
        },
        Case {
            name: "already recording",
            given: vec![("10:30:00", started("r1").until("10:45:00"))],
            policy: policy(),
            seconds: None,
            force: true,
            then: Err("AlreadyRecording"),
        },
        Case {
            name: "budget spent",
            given: spent.clone(),
            policy: budget(1, 0),
            seconds: None,
            force: false,
            then: Err("BudgetSpent"),
        },
        Case {
            name: "budget spent, forced",
            given: spent.clone(),
            policy: budget(1, 0),
            seconds: None,
            force: true,
            then: Ok(("10:56:00", true)),
        },
        Case {
            name: "force with budget left is not forced",
            given: vec![],
            policy: budget(1, 0),
            seconds: None,
            force: true,
            then: Ok(("10:56:00", false)),
        },
        Case {
            name: "budget reset",
            given: {
                let mut g = spent.clone();
                g.push(("09:00:00", budget_reset()));
                g
            },
            policy: budget(1, 0),
            seconds: None,
            force: false,
            then: Ok(("10:56:00", false)),
        },
    ];
    for c in cases {
        let state = fold(c.given);
        let got = decide_manual_start(
            &state,
            NAT,
            c.seconds,
            c.force,
            None,
            &c.policy,
            t("10:41:00"),
        );
        match (got, c.then) {
            (Ok(plan), Ok((deadline, forced))) => {
                assert_eq!(plan.deadline, t(deadline), "{}", c.name);
                assert_eq!(plan.cause, StartCause::Manual { forced }, "{}", c.name);
                assert_eq!(
                    plan.recording_id, "rec-01234567-20250101T104100Z",
                    "{}",
                    c.name
                );
            }
            (Err(refusal), Err(kind)) => {
                assert!(
                    format!("{refusal:?}").starts_with(kind),
                    "{}: {refusal:?}",
                    c.name
                )
            }
            (got, want) => panic!("{}: got {got:?}, want {want:?}", c.name),
        }
    }
}

#[test]
fn refusals_tell_the_user_what_to_do() {
    let state = fold(vec![
        ("08:00:00", started("r1").until("08:15:00")),
        ("08:15:00", stopped("r1", Deadline)),
    ]);
    let spent = decide_manual_start(&state, NAT, None, false, None, &budget(1, 0), t("10:41:00"))
        .unwrap_err()
        .to_string();
    assert_eq!(
        spent,
        "nat-01234567: the recording budget is spent (1 of 1 recordings since the last budget reset); \
         pass --force to record anyway, or run `nat-flowrec budget reset --nat nat-01234567`"
    );
    let busy = fold(vec![("10:30:00", started("r1").until("10:45:00"))]);
    let msg = decide_manual_start(&busy, NAT, None, false, None, &policy(), t("10:41:00"))
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("r1")
            && msg.contains("2025-01-01T10:45:00Z")
            && msg.contains("nat-flowrec stop --nat"),
        "{msg}"
    );
    let long = decide_manual_start(
        &State::default(),
        NAT,
        Some(7_200),
        false,
        None,
        &policy(),
        t("10:41:00"),
    )
    .unwrap_err()
    .to_string();
    assert!(long.contains("7200") && long.contains("3600"), "{long}");
}

#[test]
fn a_manual_start_then_the_spike_does_not_stop_it() {
    // Started by hand while OK: the trigger staying OK must not stop it before its time.
    let state = fold(vec![("10:40:00", changed(I, K))]);
    let plan = decide_manual_start(
        &state,
        NAT,
        Some(600),
        false,
        None,
        &policy(),
        t("10:41:00"),
    )
    .unwrap();
    let state = fold(vec![
        ("10:40:00", changed(I, K)),
        (
            "10:41:00",
            started(&plan.recording_id)
                .until("10:51:00")
                .cause(plan.cause.clone()),
        ),
    ]);
    assert!(decide(&state, &[obs(K, "available")], &policy(), t("10:50:59")).is_empty());
    let got = decide(&state, &[obs(K, "available")], &policy(), t("10:51:00"));
    assert_eq!(then_of(&got), then_strings(&[Stop(Deadline)]));
}

#[test]
fn manual_stop() {
    let state = fold(vec![
        ("10:41:00", started("r1").until("10:56:00")),
        (
            "10:41:00",
            started("r2").on(NAT2).until("10:56:00").cause(by_hand()),
        ),
    ]);
    let one = decide_manual_stop(&state, Some(NAT)).unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].recording_id, "r1");
    assert_eq!(one[0].reason, StopReason::Manual);
    assert_eq!(one[0].flow_log_ids, vec!["fl-r1"]);
    let all = decide_manual_stop(&state, None).unwrap();
    let ids: Vec<_> = all.iter().map(|p| p.recording_id.as_str()).collect();
    assert_eq!(ids, vec!["r1", "r2"]);
    assert_eq!(
        decide_manual_stop(&state, Some("nat-ffffffff")),
        Err(Refusal::NotRecording {
            nat_gateway_id: "nat-ffffffff".into()
        })
    );
    assert_eq!(decide_manual_stop(&State::default(), None), Ok(vec![]));
}

#[test]
fn budget_reset_is_an_event() {
    assert_eq!(
        decide_budget_reset(NAT),
        Event::BudgetReset {
            nat_gateway_id: NAT.into()
        }
    );
}

#[test]
fn two_starts_in_the_same_second_get_different_ids() {
    // stop by hand and start by hand within one second: the ClientToken must differ.
    let now = t("10:41:00");
    let state = fold(vec![
        (
            "10:41:00",
            started("rec-01234567-20250101T104100Z")
                .until("10:56:00")
                .cause(by_hand()),
        ),
        (
            "10:41:00",
            stopped("rec-01234567-20250101T104100Z", StopReason::Manual),
        ),
    ]);
    let plan = decide_manual_start(&state, NAT, None, false, None, &policy(), now).unwrap();
    assert_eq!(plan.recording_id, "rec-01234567-20250101T104100Z-2");
}
