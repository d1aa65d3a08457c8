//! The scheduled job's pure core: the events it writes, the state they fold to, the trigger, the
//! recording guards, the decision and the reconciliation with AWS. No I/O and no AWS calls: the
//! controller feeds it what it read and executes the decisions it returns, with the clock
//! injected, so every rule is tested here as given events / when an observation / then decisions.

pub mod baseline;
pub mod decide;
pub mod estimate;
pub mod event;
pub mod finish;
pub mod ingestion;
pub mod plan;
pub mod policy;
pub mod query_logging;
pub mod reconcile;
pub mod rule;
pub mod settings;
pub mod state;
pub mod suggest;
#[cfg(test)]
pub(crate) mod testkit;
pub mod trigger;
pub mod watch_cost;

pub use baseline::{Baseline, BaselineRule};
pub use decide::{
    AVAILABLE, Observation, Refusal, decide, decide_budget_reset, decide_manual_start,
    decide_manual_stop, start_possible,
};
pub use event::{DecodeError, EVENT_VERSION, Event, EventEnvelope, StartCause, StopReason};
pub use finish::{PipelinePolicy, Step};
pub use plan::{
    Decision, QueryLoggingPlan, QueryLoggingStopPlan, StartPlan, StopPlan, StrayPlan,
    StrayQueryLoggingPlan,
};
pub use policy::{Budget, Policy, recording_id};
pub use reconcile::reconcile;
pub use rule::{Combine, MetricsApi, NatMetric, TreatMissingData, TriggerRule};
pub use settings::{LogGroupClass, RecordingSettings};
pub use state::{ActiveRecording, NatState, QueryLogging, Recording, State};
pub use trigger::{
    TriggerState, TriggerVerdict, evaluate, evaluate_with, from_alarm, metric_query, query_window,
};
