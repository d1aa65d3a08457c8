//! An AWS account in process: `SimCloud` implements the same ports as the AWS adapters
//! (`Ec2`, `Metrics`, `Logs`), driven by a fake clock and a traffic model (NATs with baseline
//! traffic and scheduled spikes). The controller's tests and `nat-flowrec demo` run the whole
//! loop on it without credentials: metrics rise with a spike (a couple of minutes late, as
//! CloudWatch's do), flow logs are created and deleted with their tags, and the records a
//! recording would have captured can be synthesized, both NAT legs of every connection.
//!
//! Flow logs deliver their records into log streams (`logs.rs`) that the export reads, and SNS
//! messages are kept (`published()`) for tests and the demo to read back.
//!
//! It records every call (`calls()`) and can fail the next call of an operation
//! (`fail_next`), so tests assert what the controller asked for and how it handles refusals.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, TimeDelta, Utc};
use nat_flowrec_parsers::{DEFAULT_FORMAT, FormatError, LogFormat};

use crate::ports::{
    AlarmState, AwsErrorKind, FlowLogRequest, LogEventsQuery, LogGroupSpec, MetricQuery,
    Notification, QueryLogRequest,
};

mod account;
mod cloud;
mod inventory;
mod logs;
mod query_logs;
mod records;
mod traffic;

use account::Account;
pub use logs::stream_name;
pub use query_logs::SimQueryLogConfig;
pub use records::{SIM_ACCOUNT_ID, SIM_REGION};
pub use traffic::{Conversation, SimNat, Spike, metric_value, minute_traffic};

/// The AWS operation behind each port method, named as the adapters name it in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SimOperation {
    /// `Ec2::nat_gateways`
    DescribeNatGateways,
    /// `Ec2::create_flow_logs`
    CreateFlowLogs,
    /// `Ec2::tagged_flow_logs`
    DescribeFlowLogs,
    /// `Ec2::delete_flow_logs`
    DeleteFlowLogs,
    /// `Metrics::metric_data`
    GetMetricData,
    /// `Metrics::metric_statistics`
    GetMetricStatistics,
    /// `Metrics::alarm_states`
    DescribeAlarms,
    /// `Logs::ensure_log_group`
    CreateLogGroup,
    /// `LogReader::log_streams`
    DescribeLogStreams,
    /// `LogReader::log_events_page`
    ReadLogEvents,
    /// `Notifier::publish`
    Publish,
    /// `ReportStore::put_report_file`
    PutObject,
    /// `QueryLogs::create_query_log_config`
    CreateResolverQueryLogConfig,
    /// `QueryLogs::associate_query_log_config`
    AssociateResolverQueryLogConfig,
    /// `QueryLogs::disassociate_query_log_config`
    DisassociateResolverQueryLogConfig,
    /// `QueryLogs::delete_query_log_config`
    DeleteResolverQueryLogConfig,
    /// `QueryLogs::tagged_query_log_configs`
    ListResolverQueryLogConfigs,
    /// `QueryLogs::vpc_query_logging`
    ListResolverQueryLogConfigAssociations,
}

impl SimOperation {
    pub fn name(self) -> &'static str {
        match self {
            SimOperation::DescribeNatGateways => "ec2:DescribeNatGateways",
            SimOperation::CreateFlowLogs => "ec2:CreateFlowLogs",
            SimOperation::DescribeFlowLogs => "ec2:DescribeFlowLogs",
            SimOperation::DeleteFlowLogs => "ec2:DeleteFlowLogs",
            SimOperation::GetMetricData => "cloudwatch:GetMetricData",
            SimOperation::GetMetricStatistics => "cloudwatch:GetMetricStatistics",
            SimOperation::DescribeAlarms => "cloudwatch:DescribeAlarms",
            SimOperation::CreateLogGroup => "logs:CreateLogGroup",
            SimOperation::DescribeLogStreams => "logs:DescribeLogStreams",
            SimOperation::ReadLogEvents => "logs:GetLogEvents",
            SimOperation::Publish => "sns:Publish",
            SimOperation::PutObject => "s3:PutObject",
            SimOperation::CreateResolverQueryLogConfig => {
                "route53resolver:CreateResolverQueryLogConfig"
            }
            SimOperation::AssociateResolverQueryLogConfig => {
                "route53resolver:AssociateResolverQueryLogConfig"
            }
            SimOperation::DisassociateResolverQueryLogConfig => {
                "route53resolver:DisassociateResolverQueryLogConfig"
            }
            SimOperation::DeleteResolverQueryLogConfig => {
                "route53resolver:DeleteResolverQueryLogConfig"
            }
            SimOperation::ListResolverQueryLogConfigs => {
                "route53resolver:ListResolverQueryLogConfigs"
            }
            SimOperation::ListResolverQueryLogConfigAssociations => {
                "route53resolver:ListResolverQueryLogConfigAssociations"
            }
        }
    }
}

/// One port call, with its arguments, in call order (failed calls included).
#[derive(Debug, Clone, PartialEq)]
pub enum SimCall {
    NatGateways(Vec<String>),
    CreateFlowLogs(FlowLogRequest),
    TaggedFlowLogs,
    DeleteFlowLogs(Vec<String>),
    MetricData(MetricQuery),
    MetricStatistics(MetricQuery),
    AlarmStates(Vec<String>),
    EnsureLogGroup(LogGroupSpec),
    LogStreams { log_group: String, prefix: String },
    LogEvents(LogEventsQuery),
    Publish(Notification),
    PutObject { bucket: String, key: String },
    CreateQueryLogConfig(QueryLogRequest),
    AssociateQueryLogConfig { config_id: String, vpc_id: String },
    DisassociateQueryLogConfig { config_id: String, vpc_id: String },
    DeleteQueryLogConfig(String),
    TaggedQueryLogConfigs,
    VpcQueryLogging(String),
}

/// A flow log in the simulated account (ours or someone else's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimFlowLog {
    pub flow_log_id: String,
    pub eni: String,
    pub log_group: String,
    pub log_format: String,
    pub max_aggregation_interval: i32,
    pub deliver_logs_role_arn: String,
    /// `Some`: delivery FAILED with this message.
    pub deliver_logs_error: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub created_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// A log group in the simulated account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimLogGroup {
    pub class: String,
    pub retention_days: i32,
    pub tags: BTreeMap<String, String>,
}

/// The simulated account. Share it by reference (or in an `Arc`): every method takes `&self`.
#[derive(Debug)]
pub struct SimCloud {
    account: Mutex<Account>,
    /// What attribution and `doctor` read (`inventory.rs`).
    inventory: Mutex<inventory::SimInventory>,
}

impl crate::ports::Located for SimCloud {
    /// The simulated account has no region: the configuration's applies.
    fn region(&self) -> Option<String> {
        None
    }
}

impl SimCloud {
    /// An empty account whose clock reads `now`; NAT metrics lag 2 minutes.
    pub fn new(now: DateTime<Utc>) -> SimCloud {
        SimCloud {
            account: Mutex::new(Account::new(now)),
            inventory: Mutex::new(inventory::SimInventory::default()),
        }
    }

    /// What `nat-flowrec demo` runs on: one NAT (`nat-0demo0000000000001`, two ENIs, 20 MB a
    /// minute) that spikes to about 600 MB a minute, mostly from S3, from `now + 10 min` for
    /// 15 minutes.
    pub fn example(now: DateTime<Utc>) -> SimCloud {
        let nat = SimNat::new("nat-0demo0000000000001", 0);
        let spike = Spike {
            nat_gateway_id: nat.id.clone(),
            start: now + TimeDelta::minutes(10),
            end: now + TimeDelta::minutes(25),
            bytes_per_minute: 600_000_000,
        };
        SimCloud::new(now).with_nat(nat).with_spike(spike)
    }

    pub fn with_nat(self, nat: SimNat) -> SimCloud {
        self.add_nat(nat);
        self
    }

    pub fn with_spike(self, spike: Spike) -> SimCloud {
        self.add_spike(spike);
        self
    }

    /// How long after a minute ends its NAT datapoints appear (CloudWatch: a minute or two).
    pub fn with_metric_delay(self, delay: TimeDelta) -> SimCloud {
        self.lock().metric_delay = delay;
        self
    }

    /// How long after a record's interval starts it is readable in CloudWatch Logs (AWS: about
    /// 5 minutes; the simulator's default: at once).
    pub fn with_delivery_delay(self, delay: TimeDelta) -> SimCloud {
        self.lock().delivery_delay = delay;
        self
    }

    /// Events per page of a log-events read (default 1,000).
    pub fn set_log_page_size(&self, events: usize) {
        self.lock().log_page_size = events.max(1);
    }

    /// Events in a stream of a log group, as if something had delivered them (oldest first or
    /// not: they are sorted).
    pub fn seed_log_events(&self, log_group: &str, log_stream: &str, events: &[(i64, String)]) {
        self.lock()
            .seeded_events
            .entry((log_group.to_owned(), log_stream.to_owned()))
            .or_default()
            .extend(events.iter().cloned());
    }

    /// The body of an S3 object, if something put it.
    pub fn object(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        self.lock()
            .objects
            .get(&(bucket.to_owned(), key.to_owned()))
            .map(|(body, _)| body.clone())
    }

    /// Every SNS message published so far, with its message id, oldest first.
    pub fn published(&self) -> Vec<(String, Notification)> {
        self.lock().published.clone()
    }

    fn lock(&self) -> MutexGuard<'_, Account> {
        // A test that panicked while holding the lock left consistent data: keep using it.
        self.account
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn add_nat(&self, nat: SimNat) {
        let mut account = self.lock();
        account.nats.retain(|n| n.id != nat.id);
        account.nats.push(nat);
    }

    pub fn add_spike(&self, spike: Spike) {
        self.lock().spikes.push(spike);
    }

    /// `pending | failed | available | deleting | deleted`; only `available` carries traffic.
    pub fn set_nat_state(&self, nat_gateway_id: &str, state: &str) {
        for nat in self
            .lock()
            .nats
            .iter_mut()
            .filter(|n| n.id == nat_gateway_id)
        {
            nat.state = state.to_owned();
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.lock().now
    }

    pub fn set_now(&self, now: DateTime<Utc>) {
        self.lock().now = now;
    }

    pub fn advance(&self, by: TimeDelta) {
        let mut account = self.lock();
        account.now += by;
    }

    pub fn set_alarm(&self, name: &str, state: AlarmState) {
        self.lock().alarms.insert(name.to_owned(), state);
    }

    /// `Some(message)`: flow logs created from now on report FAILED delivery (a delivery role
    /// without rights); `None`: SUCCESS.
    pub fn set_delivery_error(&self, message: Option<&str>) {
        self.lock().delivery_error = message.map(str::to_owned);
    }

    /// Makes the next call of `operation` fail with an error of `kind` (queued: call it twice
    /// to fail two calls).
    pub fn fail_next(&self, operation: SimOperation, kind: AwsErrorKind) {
        self.lock()
            .injected
            .entry(operation)
            .or_default()
            .push_back(kind);
    }

    /// A flow log someone else created (no nat-flowrec tags) on `eni`, which need not be a
    /// NAT's. Returns its id.
    pub fn add_foreign_flow_log(&self, eni: &str, log_group: &str) -> String {
        let mut account = self.lock();
        account.other_enis.insert(eni.to_owned());
        let id = account.new_flow_log_id();
        let now = account.now;
        account.flow_logs.push(SimFlowLog {
            flow_log_id: id.clone(),
            eni: eni.to_owned(),
            log_group: log_group.to_owned(),
            log_format: nat_flowrec_parsers::AWS_DEFAULT_V2_FORMAT.to_owned(),
            max_aggregation_interval: 600,
            deliver_logs_role_arn: "arn:aws:iam::123456789012:role/someone-else".to_owned(),
            deliver_logs_error: None,
            tags: BTreeMap::from([("Name".to_owned(), "audit".to_owned())]),
            created_at: now,
            deleted_at: None,
        });
        id
    }

    /// A query-logging configuration someone else made (no nat-flowrec tags) that logs the
    /// queries of `vpc_ids` to `destination_arn`.
    pub fn add_foreign_query_log_config(&self, destination_arn: &str, vpc_ids: &[String]) {
        let mut account = self.lock();
        let now = account.now;
        account
            .query_logs
            .add_foreign(destination_arn, vpc_ids, now);
    }

    /// Query-logging configurations that exist now (ours and others').
    pub fn query_log_configs(&self) -> Vec<SimQueryLogConfig> {
        self.lock().query_logs.configs.clone()
    }

    /// Query-logging configurations deleted so far, with `deleted_at` set.
    pub fn deleted_query_log_configs(&self) -> Vec<SimQueryLogConfig> {
        self.lock().query_logs.deleted.clone()
    }

    /// Every port call so far, oldest first.
    pub fn calls(&self) -> Vec<SimCall> {
        self.lock().calls.clone()
    }

    /// The calls so far, forgetting them (for "then it called ..." steps).
    pub fn take_calls(&self) -> Vec<SimCall> {
        std::mem::take(&mut self.lock().calls)
    }

    /// Flow logs that exist now (ours and others').
    pub fn flow_logs(&self) -> Vec<SimFlowLog> {
        self.lock().flow_logs.clone()
    }

    /// Flow logs deleted so far, with `deleted_at` set.
    pub fn deleted_flow_logs(&self) -> Vec<SimFlowLog> {
        self.lock().deleted_flow_logs.clone()
    }

    pub fn log_group(&self, name: &str) -> Option<SimLogGroup> {
        self.lock().log_groups.get(name).cloned()
    }

    /// The traffic of a NAT in the minute starting at `minute` (unix seconds, rounded down to
    /// the minute): what metrics and records of that minute are made of.
    pub fn traffic(&self, nat_gateway_id: &str, minute: i64) -> Vec<Conversation> {
        let account = self.lock();
        let minute = minute.div_euclid(60) * 60;
        match account.nats.iter().find(|n| n.id == nat_gateway_id) {
            Some(nat) => account.traffic(nat, minute),
            None => Vec::new(),
        }
    }

    /// The flow-log records flow logs on `enis` capture in `[start, end)`, in nat-flowrec's
    /// 14-field default format: `(timestamp ms, line)`, oldest first, as CloudWatch Logs events
    /// (the timestamp is the record's start).
    pub fn captured_events(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        enis: &[String],
    ) -> Vec<(i64, String)> {
        match LogFormat::parse(DEFAULT_FORMAT) {
            Ok(format) => self.lock().records(&format, start, end, enis),
            // The parsers crate's own tests pin DEFAULT_FORMAT as valid.
            Err(_) => Vec::new(),
        }
    }

    /// The same in any log format (`${field} ...`, as CreateFlowLogs takes it).
    pub fn captured_events_in(
        &self,
        log_format: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        enis: &[String],
    ) -> Result<Vec<(i64, String)>, FormatError> {
        let format = LogFormat::parse(log_format)?;
        Ok(self.lock().records(&format, start, end, enis))
    }

    /// What the flow logs of one recording captured: each of its flow logs (still active or
    /// deleted) from its creation to its deletion (or now), in the recording's log format.
    pub fn captured_by_recording(
        &self,
        recording_id: &str,
    ) -> Result<Vec<(i64, String)>, FormatError> {
        let account = self.lock();
        let mut events = Vec::new();
        let ours = account
            .flow_logs
            .iter()
            .chain(&account.deleted_flow_logs)
            .filter(|fl| {
                fl.tags.get(crate::ports::TAG_RECORDING).map(String::as_str) == Some(recording_id)
            });
        for fl in ours {
            let format = LogFormat::parse(&fl.log_format)?;
            let end = fl.deleted_at.unwrap_or(account.now);
            events.extend(account.records(
                &format,
                fl.created_at,
                end,
                std::slice::from_ref(&fl.eni),
            ));
        }
        events.sort_by_key(|(ts, _)| *ts);
        Ok(events)
    }
}

#[cfg(test)]
mod tests;
