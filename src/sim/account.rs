//! The simulated account's state and what each AWS intent does to it: flow logs with their tags
//! and ClientToken idempotency, log groups, alarms, and metrics computed from the traffic model
//! with CloudWatch's delay. AWS's answers are imitated where the controller depends on them
//! (error codes, `Unsuccessful` partial failures, already-deleted ids, unknown ids).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::IpAddr;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use nat_flowrec_parsers::LogFormat;

use super::traffic::{Conversation, SimNat, Spike, metric_value, minute_traffic};
use super::{SimCall, SimFlowLog, SimLogGroup, SimOperation};
use crate::ports::{
    AlarmState, AwsError, AwsErrorKind, FlowLogRequest, FlowLogResource, LogGroupSpec, MetricQuery,
    MetricSeries, NatGateway, Notification, TAG_DEADLINE, TAG_NAT_GATEWAY, TAG_RECORDING,
    TaggedFlowLog,
};

/// CloudWatch Logs' accepted retention periods (PutRetentionPolicy).
const RETENTION_DAYS: &[i32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];
const LOG_GROUP_CLASSES: &[&str] = &["STANDARD", "INFREQUENT_ACCESS", "DELIVERY"];
const MAX_RESOURCES_PER_CREATE: usize = 300;

#[derive(Debug)]
pub(crate) struct Account {
    pub now: DateTime<Utc>,
    pub metric_delay: TimeDelta,
    pub nats: Vec<SimNat>,
    pub spikes: Vec<Spike>,
    /// ENIs that are not a NAT's but exist (someone else's flow logs sit on them).
    pub other_enis: HashSet<String>,
    pub flow_logs: Vec<SimFlowLog>,
    pub deleted_flow_logs: Vec<SimFlowLog>,
    /// ClientToken -> the request and the answer it got.
    tokens: HashMap<String, (FlowLogRequest, Result<Vec<String>, AwsError>)>,
    pub log_groups: BTreeMap<String, SimLogGroup>,
    pub alarms: BTreeMap<String, AlarmState>,
    /// Set: new flow logs report FAILED delivery with this message (a role without rights).
    pub delivery_error: Option<String>,
    pub injected: HashMap<SimOperation, VecDeque<AwsErrorKind>>,
    pub calls: Vec<SimCall>,
    /// How long after a record's interval starts it shows up in CloudWatch Logs.
    pub delivery_delay: TimeDelta,
    /// Events per page of a log-events read.
    pub log_page_size: usize,
    /// Events seeded by tests: (log group, stream) -> events.
    pub seeded_events: BTreeMap<(String, String), Vec<(i64, String)>>,
    /// SNS messages published, oldest first, with their message ids.
    pub published: Vec<(String, Notification)>,
    /// S3 objects: (bucket, key) -> (body, content type).
    pub objects: BTreeMap<(String, String), (Vec<u8>, String)>,
    /// Route 53 Resolver query-logging configurations.
    pub query_logs: super::query_logs::QueryLogState,
    next_id: u64,
}

impl Account {
    pub fn new(now: DateTime<Utc>) -> Account {
        Account {
            now,
            metric_delay: TimeDelta::minutes(2),
            nats: Vec::new(),
            spikes: Vec::new(),
            other_enis: HashSet::new(),
            flow_logs: Vec::new(),
            deleted_flow_logs: Vec::new(),
            tokens: HashMap::new(),
            log_groups: BTreeMap::new(),
            alarms: BTreeMap::new(),
            delivery_error: None,
            injected: HashMap::new(),
            calls: Vec::new(),
            delivery_delay: TimeDelta::zero(),
            log_page_size: 1_000,
            seeded_events: BTreeMap::new(),
            published: Vec::new(),
            objects: BTreeMap::new(),
            query_logs: Default::default(),
            next_id: 0x0a5e_ed00_0000_0001,
        }
    }

    /// The next injected failure of `op`, if a test queued one.
    pub fn take_injected(&mut self, op: SimOperation) -> Result<(), AwsError> {
        match self.injected.get_mut(&op).and_then(VecDeque::pop_front) {
            None => Ok(()),
            Some(kind) => Err(AwsError::new(
                op.name(),
                injected_code(kind),
                "failure injected by the simulator",
                kind,
            )),
        }
    }

    fn nat(&self, id: &str) -> Option<&SimNat> {
        self.nats.iter().find(|n| n.id == id)
    }

    fn eni_exists(&self, eni: &str) -> bool {
        self.other_enis.contains(eni) || self.nats.iter().any(|n| n.enis.iter().any(|e| e == eni))
    }

    pub fn new_flow_log_id(&mut self) -> String {
        let id = format!("fl-{:017x}", self.next_id);
        self.next_id += 1;
        id
    }

    pub fn nat_gateways(&self, ids: &[String]) -> Result<Vec<NatGateway>, AwsError> {
        let mut out = Vec::new();
        let mut missing = Vec::new();
        for id in dedup(ids) {
            match self.nat(&id) {
                Some(nat) => out.push(NatGateway {
                    id: nat.id.clone(),
                    state: nat.state.clone(),
                    vpc_id: Some(nat.vpc_id.clone()),
                    subnet_id: Some(nat.subnet_id.clone()),
                    enis: nat.enis.clone(),
                    private_ips: nat.private_ips.iter().map(|ip| IpAddr::V4(*ip)).collect(),
                    public_ips: nat.public_ips.iter().map(|ip| IpAddr::V4(*ip)).collect(),
                    // The simulator's NATs are zonal.
                    regional: false,
                }),
                None => missing.push(id),
            }
        }
        if !missing.is_empty() {
            return Err(AwsError::new(
                SimOperation::DescribeNatGateways.name(),
                "NatGatewayNotFound",
                format!(
                    "no NAT gateway {} in this account and region; check `nat_gateway_ids` and \
                     the region",
                    missing.join(", ")
                ),
                AwsErrorKind::NotFound,
            ));
        }
        Ok(out)
    }

    /// AWS's ClientToken rule: the same token with the same request gets the first answer and
    /// creates nothing; with a different request it is refused.
    pub fn create_flow_logs(&mut self, req: &FlowLogRequest) -> Result<Vec<String>, AwsError> {
        if let Some((earlier, answer)) = self.tokens.get(&req.recording_id) {
            if earlier == req {
                return answer.clone();
            }
            return Err(invalid(
                SimOperation::CreateFlowLogs,
                "IdempotentParameterMismatch",
                format!(
                    "client token {} was used before with different parameters",
                    req.recording_id
                ),
            ));
        }
        validate_request(req)?;
        let answer = self.create_new(req);
        self.tokens
            .insert(req.recording_id.clone(), (req.clone(), answer.clone()));
        answer
    }

    fn create_new(&mut self, req: &FlowLogRequest) -> Result<Vec<String>, AwsError> {
        let mut created = Vec::new();
        let mut failures = Vec::new();
        for eni in dedup(&req.enis) {
            let regional_nat =
                req.resource == FlowLogResource::RegionalNatGateway && self.nat(&eni).is_some();
            if !self.eni_exists(&eni) && !regional_nat {
                failures.push((
                    eni,
                    "InvalidNetworkInterfaceID.NotFound",
                    "the ENI does not exist",
                ));
                continue;
            }
            let taken = self
                .flow_logs
                .iter()
                .any(|fl| fl.eni == eni && fl.log_group == req.log_group);
            if taken {
                failures.push((
                    eni,
                    "FlowLogAlreadyExists",
                    "there is an existing flow log with the same configuration and log \
                     destination",
                ));
                continue;
            }
            let id = self.new_flow_log_id();
            let tags = BTreeMap::from([
                (TAG_RECORDING.to_owned(), req.recording_id.clone()),
                (TAG_NAT_GATEWAY.to_owned(), req.nat_gateway_id.clone()),
                (
                    TAG_DEADLINE.to_owned(),
                    req.deadline.to_rfc3339_opts(SecondsFormat::Secs, true),
                ),
                (
                    "Name".to_owned(),
                    format!("nat-flowrec {} {}", req.nat_gateway_id, req.recording_id),
                ),
            ]);
            self.flow_logs.push(SimFlowLog {
                flow_log_id: id.clone(),
                eni,
                log_group: req.log_group.clone(),
                log_format: req.log_format.clone(),
                max_aggregation_interval: req.max_aggregation_interval,
                deliver_logs_role_arn: req.deliver_logs_role_arn.clone(),
                deliver_logs_error: self.delivery_error.clone(),
                tags,
                created_at: self.now,
                deleted_at: None,
            });
            created.push(id);
        }
        if failures.is_empty() {
            return Ok(created);
        }
        let code = failures.first().map(|f| f.1).unwrap_or("Unknown");
        let described: Vec<String> = failures
            .iter()
            .map(|(eni, code, message)| format!("{eni}: {code}: {message}"))
            .collect();
        Err(AwsError {
            operation: SimOperation::CreateFlowLogs.name(),
            code: code.to_owned(),
            message: format!(
                "recording {} of {}: {} of {} ENIs failed ({}); created: [{}]",
                req.recording_id,
                req.nat_gateway_id,
                failures.len(),
                req.enis.len(),
                described.join("; "),
                created.join(", ")
            ),
            kind: AwsErrorKind::PartialFailure,
            created_ids: created,
        })
    }

    pub fn tagged_flow_logs(&self) -> Vec<TaggedFlowLog> {
        self.flow_logs
            .iter()
            .filter_map(|fl| {
                Some(TaggedFlowLog {
                    flow_log_id: fl.flow_log_id.clone(),
                    resource_id: fl.eni.clone(),
                    recording_id: fl.tags.get(TAG_RECORDING)?.clone(),
                    nat_gateway_id: fl.tags.get(TAG_NAT_GATEWAY).cloned(),
                    deadline: fl
                        .tags
                        .get(TAG_DEADLINE)
                        .and_then(|d| DateTime::parse_from_rfc3339(d).ok())
                        .map(|d| d.with_timezone(&Utc)),
                    log_group: Some(fl.log_group.clone()),
                    log_destination: None,
                    log_format: Some(fl.log_format.clone()),
                    deliver_logs_status: Some(
                        if fl.deliver_logs_error.is_some() {
                            "FAILED"
                        } else {
                            "SUCCESS"
                        }
                        .to_owned(),
                    ),
                    deliver_logs_error: fl.deliver_logs_error.clone(),
                })
            })
            .collect()
    }

    /// Only flow logs carrying our tag; ids that are gone are fine; one foreign id refuses all.
    pub fn delete_flow_logs(&mut self, ids: &[String]) -> Result<(), AwsError> {
        let ids = dedup(ids);
        let foreign: Vec<String> = self
            .flow_logs
            .iter()
            .filter(|fl| ids.contains(&fl.flow_log_id) && !fl.tags.contains_key(TAG_RECORDING))
            .map(|fl| fl.flow_log_id.clone())
            .collect();
        if !foreign.is_empty() {
            return Err(AwsError::not_ours(
                SimOperation::DeleteFlowLogs.name(),
                &foreign,
            ));
        }
        let now = self.now;
        let (gone, kept): (Vec<SimFlowLog>, Vec<SimFlowLog>) = std::mem::take(&mut self.flow_logs)
            .into_iter()
            .partition(|fl| ids.contains(&fl.flow_log_id));
        self.flow_logs = kept;
        self.deleted_flow_logs
            .extend(gone.into_iter().map(|fl| SimFlowLog {
                deleted_at: Some(now),
                ..fl
            }));
        Ok(())
    }

    pub fn ensure_log_group(&mut self, spec: &LogGroupSpec) -> Result<(), AwsError> {
        if !LOG_GROUP_CLASSES.contains(&spec.class.as_str()) {
            return Err(invalid(
                SimOperation::CreateLogGroup,
                "InvalidParameterException",
                format!(
                    "log group class `{}`; valid: {}",
                    spec.class,
                    LOG_GROUP_CLASSES.join(", ")
                ),
            ));
        }
        if !RETENTION_DAYS.contains(&spec.retention_days) {
            return Err(invalid(
                SimOperation::CreateLogGroup,
                "InvalidParameterException",
                format!(
                    "retention of {} days; valid: {RETENTION_DAYS:?}",
                    spec.retention_days
                ),
            ));
        }
        self.log_groups
            .entry(spec.name.clone())
            .and_modify(|g| g.retention_days = spec.retention_days)
            .or_insert_with(|| SimLogGroup {
                class: spec.class.clone(),
                retention_days: spec.retention_days,
                tags: crate::aws::LOG_GROUP_TAGS
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            });
        Ok(())
    }

    pub fn alarm_states(&self, names: &[String]) -> Result<Vec<(String, AlarmState)>, AwsError> {
        let names = dedup(names);
        let missing: Vec<&str> = names
            .iter()
            .filter(|n| !self.alarms.contains_key(*n))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(AwsError::new(
                SimOperation::DescribeAlarms.name(),
                "ResourceNotFound",
                format!(
                    "no CloudWatch alarm named {} in this account and region; check \
                     `trigger.alarm_names` and the region",
                    missing.join(", ")
                ),
                AwsErrorKind::NotFound,
            ));
        }
        Ok(names
            .into_iter()
            .filter_map(|n| self.alarms.get(&n).map(|s| (n.clone(), *s)))
            .collect())
    }

    /// SNS Publish with `MessageStructure=json`, refused as SNS refuses it: a subject over 100
    /// characters or with line breaks or non-ASCII, a message that is not a JSON object with a
    /// `default` text, a message over 256 KB.
    pub fn publish(&mut self, n: &Notification) -> Result<String, AwsError> {
        let op = SimOperation::Publish;
        if n.topic_arn.parse::<crate::names::TopicArn>().is_err() {
            return Err(AwsError::new(
                op.name(),
                "NotFound",
                format!("topic {} does not exist", n.topic_arn),
                AwsErrorKind::NotFound,
            ));
        }
        let subject_ok = !n.subject.is_empty()
            && n.subject.chars().count() <= 100
            && n.subject
                .chars()
                .all(|c| c.is_ascii() && !c.is_ascii_control());
        if !subject_ok {
            return Err(invalid(
                op,
                "InvalidParameter",
                format!(
                    "Subject `{}`: 1 to 100 printable ASCII characters",
                    n.subject
                ),
            ));
        }
        if n.message.len() > 262_144 {
            return Err(invalid(
                op,
                "InvalidParameter",
                format!(
                    "Message too long: {} bytes, at most 262144",
                    n.message.len()
                ),
            ));
        }
        let has_default = serde_json::from_str::<serde_json::Value>(&n.message)
            .ok()
            .is_some_and(|v| v.get("default").is_some_and(serde_json::Value::is_string));
        if !has_default {
            return Err(invalid(
                op,
                "InvalidParameter",
                "Message Structure - JSON message body failed to parse or has no `default` key"
                    .to_owned(),
            ));
        }
        let id = format!("sim-msg-{:016x}", self.next_id);
        self.next_id += 1;
        self.published.push((id.clone(), n.clone()));
        Ok(id)
    }

    /// The traffic of one NAT in one minute; nothing while the NAT is not available.
    pub fn traffic(&self, nat: &SimNat, minute: i64) -> Vec<Conversation> {
        if nat.state != "available" {
            return Vec::new();
        }
        minute_traffic(nat, &self.spikes, minute)
    }

    /// CloudWatch's view: one datapoint per period (aligned to the period) for which at least
    /// one minute is published, a minute being published `metric_delay` after it ends.
    pub fn metric_data(&self, q: &MetricQuery) -> Result<Vec<MetricSeries>, AwsError> {
        let op = SimOperation::GetMetricData;
        if q.start >= q.end {
            return Err(invalid(
                op,
                "InvalidParameterValue",
                format!("StartTime {} must be before EndTime {}", q.start, q.end),
            ));
        }
        if q.period_seconds <= 0 || q.period_seconds % 60 != 0 {
            return Err(invalid(
                op,
                "InvalidParameterValue",
                format!(
                    "period {} s: NAT gateway metrics have 1-minute resolution, use a positive \
                     multiple of 60",
                    q.period_seconds
                ),
            ));
        }
        let aggregate = aggregator(&q.statistic).ok_or_else(|| {
            invalid(
                op,
                "InvalidParameterValue",
                format!(
                    "statistic `{}`; valid: Sum, Average, Maximum, Minimum, SampleCount",
                    q.statistic
                ),
            )
        })?;
        let period = i64::from(q.period_seconds);
        let published_until = (self.now - self.metric_delay).timestamp();
        let first = q.start.timestamp().div_euclid(period) * period;
        let end = q.end.timestamp();
        let mut out = Vec::new();
        for nat_id in &q.nat_gateway_ids {
            for metric in q.metrics.iter().filter(|m| q.asks(nat_id, m)) {
                let mut points = Vec::new();
                if let Some(nat) = self.nat(nat_id) {
                    let mut start = first;
                    while start < end {
                        let aggregate = aggregator(q.statistic_of(metric)).unwrap_or(aggregate);
                        let values: Vec<f64> = (0..period / 60)
                            .map(|i| start + i * 60)
                            .filter(|m| m + 60 <= published_until)
                            .filter_map(|m| metric_value(&self.traffic(nat, m), metric))
                            .collect();
                        if !values.is_empty()
                            && let Some(t) = DateTime::from_timestamp(start, 0)
                        {
                            points.push((t, aggregate(&values)));
                        }
                        start += period;
                    }
                }
                out.push(MetricSeries {
                    nat_gateway_id: nat_id.clone(),
                    log_group: None,
                    metric: metric.clone(),
                    points,
                });
            }
        }
        for group in &q.log_groups {
            out.push(MetricSeries {
                nat_gateway_id: String::new(),
                log_group: Some(group.clone()),
                metric: "IncomingBytes".to_string(),
                points: self.incoming_bytes(group, first, end, period),
            });
        }
        Ok(out)
    }

    /// The records flow logs on `enis` would have delivered for `[start, end)`, in `format`.
    pub fn records(
        &self,
        format: &LogFormat,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        enis: &[String],
    ) -> Vec<(i64, String)> {
        let mut events = Vec::new();
        let mut minute = start.timestamp().div_euclid(60) * 60;
        while minute < end.timestamp() {
            for nat in &self.nats {
                for (i, conv) in self.traffic(nat, minute).iter().enumerate() {
                    let on = nat.enis.get(conv.eni_index);
                    if !on.is_some_and(|eni| enis.contains(eni)) {
                        continue;
                    }
                    // the event timestamp is the record's start; `i` keeps a stable order
                    let ts = minute * 1000 + i as i64;
                    for line in super::records::records(format, nat, conv, minute) {
                        events.push((ts, line));
                    }
                }
            }
            minute += 60;
        }
        events.sort_by_key(|(ts, _)| *ts);
        events
    }
}

fn validate_request(req: &FlowLogRequest) -> Result<(), AwsError> {
    let op = SimOperation::CreateFlowLogs;
    if req.enis.is_empty() || req.enis.len() > MAX_RESOURCES_PER_CREATE {
        return Err(invalid(
            op,
            "InvalidParameterValue",
            format!(
                "{} ENIs; between 1 and {MAX_RESOURCES_PER_CREATE} are valid",
                req.enis.len()
            ),
        ));
    }
    if ![60, 600].contains(&req.max_aggregation_interval) {
        return Err(invalid(
            op,
            "InvalidParameterValue",
            format!(
                "MaxAggregationInterval {}; valid: 60, 600",
                req.max_aggregation_interval
            ),
        ));
    }
    LogFormat::parse(&req.log_format)
        .map(|_| ())
        .map_err(|e| invalid(op, "InvalidParameter", format!("LogFormat: {e}")))
}

fn aggregator(statistic: &str) -> Option<fn(&[f64]) -> f64> {
    Some(match statistic {
        "Sum" => |v: &[f64]| v.iter().sum(),
        "Average" => |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64,
        "Maximum" => |v: &[f64]| v.iter().copied().fold(f64::MIN, f64::max),
        "Minimum" => |v: &[f64]| v.iter().copied().fold(f64::MAX, f64::min),
        "SampleCount" => |v: &[f64]| v.len() as f64,
        _ => return None,
    })
}

fn invalid(op: SimOperation, code: &str, message: String) -> AwsError {
    AwsError::new(op.name(), code, message, AwsErrorKind::InvalidInput)
}

fn injected_code(kind: AwsErrorKind) -> &'static str {
    match kind {
        AwsErrorKind::NotFound => "ResourceNotFound",
        AwsErrorKind::AlreadyExists => "ResourceAlreadyExists",
        AwsErrorKind::Throttled => "Throttling",
        AwsErrorKind::AccessDenied => "AccessDenied",
        AwsErrorKind::InvalidInput => "InvalidParameterValue",
        AwsErrorKind::PartialFailure => "PartialFailure",
        AwsErrorKind::Timeout => "Timeout",
        AwsErrorKind::Service => "InternalError",
        AwsErrorKind::Other => "Unknown",
    }
}

pub(crate) fn dedup(ids: &[String]) -> Vec<String> {
    let mut seen = HashSet::new();
    ids.iter()
        .filter(|id| seen.insert(id.as_str()))
        .cloned()
        .collect()
}
