//! The `Metrics` port on `aws_sdk_cloudwatch::Client` (pinned to 1.99.0, the last version that
//! speaks awsQuery, which moto routes; see Cargo.toml): NAT metrics for many NATs and metrics in
//! as few GetMetricData calls as the API allows, or one GetMetricStatistics call per NAT and
//! metric (free within CloudWatch's free tier), and alarm states for alarm mode.

use std::collections::HashMap;

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::primitives::DateTime as AwsDateTime;
use aws_sdk_cloudwatch::types::{
    AlarmType, Datapoint, Dimension, Metric, MetricDataQuery, MetricDataResult, MetricStat, ScanBy,
    StateValue, Statistic, StatusCode,
};
use chrono::{DateTime, Utc};

use super::error::from_sdk_typed;
use crate::ports::{AlarmState, AwsError, AwsErrorKind, MetricQuery, MetricSeries, Metrics};

const OP_GET_METRIC_DATA: &str = "cloudwatch:GetMetricData";
const OP_GET_METRIC_STATISTICS: &str = "cloudwatch:GetMetricStatistics";
const OP_DESCRIBE_ALARMS: &str = "cloudwatch:DescribeAlarms";

/// `MetricDataQueries` per GetMetricData call (documented limit).
pub const MAX_QUERIES_PER_GET_METRIC_DATA: usize = 500;
/// Datapoints one GetMetricData call returns at most (documented limit): a long window is read
/// in slices of time so that no call asks for more.
pub const MAX_DATAPOINTS_PER_GET_METRIC_DATA: i64 = 100_800;
/// Datapoints one GetMetricStatistics call returns at most (documented limit); a tick's window
/// (at most a day of minutes) is one call.
pub const MAX_DATAPOINTS_PER_GET_METRIC_STATISTICS: i64 = 1_440;
/// `AlarmNames` per DescribeAlarms call (documented limit).
pub const MAX_ALARM_NAMES_PER_DESCRIBE: usize = 100;
/// Where AWS publishes NAT gateway metrics, and the dimension naming the NAT.
pub const NAT_NAMESPACE: &str = "AWS/NATGateway";
pub const NAT_DIMENSION: &str = "NatGatewayId";
/// What a log group took in: where recordings' cost is read.
pub const LOGS_NAMESPACE: &str = "AWS/Logs";
pub const LOGS_DIMENSION: &str = "LogGroupName";
pub const INCOMING_BYTES: &str = "IncomingBytes";

/// The query id of (NAT i, metric j): ids must start with a lowercase letter and be unique in
/// a call; the indices map results back without parsing labels.
fn query_id(nat: usize, metric: usize) -> String {
    format!("m{nat}_{metric}")
}

/// The query id of log group k's `IncomingBytes`.
fn log_query_id(group: usize) -> String {
    format!("l{group}")
}

/// One MetricStat query per (NAT, metric), NATs outer, metrics inner, then one per log group:
/// the order of the series.
pub(crate) fn metric_queries(q: &MetricQuery) -> Vec<MetricDataQuery> {
    let mut queries =
        Vec::with_capacity(q.nat_gateway_ids.len() * q.metrics.len() + q.log_groups.len());
    let query = |id: String, namespace: &str, metric: &str, dimension: (&str, &str)| {
        let stat = MetricStat::builder()
            .metric(
                Metric::builder()
                    .namespace(namespace)
                    .metric_name(metric)
                    .dimensions(
                        Dimension::builder()
                            .name(dimension.0)
                            .value(dimension.1)
                            .build(),
                    )
                    .build(),
            )
            .period(q.period_seconds)
            .stat(q.statistic_of(metric))
            .build();
        MetricDataQuery::builder()
            .id(id)
            .metric_stat(stat)
            .return_data(true)
            .build()
    };
    for (i, nat) in q.nat_gateway_ids.iter().enumerate() {
        for (j, metric) in q.metrics.iter().enumerate() {
            if !q.asks(nat, metric) {
                continue;
            }
            queries.push(query(
                query_id(i, j),
                NAT_NAMESPACE,
                metric,
                (NAT_DIMENSION, nat),
            ));
        }
    }
    for (k, group) in q.log_groups.iter().enumerate() {
        queries.push(query(
            log_query_id(k),
            LOGS_NAMESPACE,
            INCOMING_BYTES,
            (LOGS_DIMENSION, group),
        ));
    }
    queries
}

fn to_aws(t: DateTime<Utc>) -> AwsDateTime {
    AwsDateTime::from_millis(t.timestamp_millis())
}

fn from_aws(t: &AwsDateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

/// Datapoints per query id, from every page and batch (a query's points can span pages).
#[derive(Default)]
struct Collected(HashMap<String, Vec<(DateTime<Utc>, f64)>>);

impl Collected {
    fn add(&mut self, result: &MetricDataResult) -> Result<(), AwsError> {
        let id = result.id().unwrap_or_default();
        match result.status_code() {
            Some(StatusCode::Forbidden) | Some(StatusCode::InternalError) => {
                let messages: Vec<&str> =
                    result.messages().iter().filter_map(|m| m.value()).collect();
                let forbidden = result.status_code() == Some(&StatusCode::Forbidden);
                return Err(AwsError::new(
                    OP_GET_METRIC_DATA,
                    result.status_code().map(|s| s.as_str()).unwrap_or_default(),
                    format!(
                        "query {id} ({}): {}",
                        result.label().unwrap_or("?"),
                        messages.join("; ")
                    ),
                    if forbidden {
                        AwsErrorKind::AccessDenied
                    } else {
                        AwsErrorKind::Service
                    },
                ));
            }
            _ => {}
        }
        let points = self.0.entry(id.to_owned()).or_default();
        for (t, v) in result.timestamps().iter().zip(result.values()) {
            if let Some(t) = from_aws(t) {
                points.push((t, *v));
            }
        }
        Ok(())
    }

    /// One series per (NAT, metric), then per log group, in query order, oldest first, one
    /// point per timestamp.
    fn into_series(mut self, q: &MetricQuery) -> Vec<MetricSeries> {
        let mut series = Vec::with_capacity(q.nat_gateway_ids.len() * q.metrics.len());
        let mut points_of = |id: String| {
            let mut points = self.0.remove(&id).unwrap_or_default();
            points.sort_by_key(|(t, _)| *t);
            points.dedup_by_key(|(t, _)| *t);
            points
        };
        for (i, nat) in q.nat_gateway_ids.iter().enumerate() {
            for (j, metric) in q.metrics.iter().enumerate() {
                if !q.asks(nat, metric) {
                    continue;
                }
                series.push(MetricSeries {
                    nat_gateway_id: nat.clone(),
                    log_group: None,
                    metric: metric.clone(),
                    points: points_of(query_id(i, j)),
                });
            }
        }
        for (k, group) in q.log_groups.iter().enumerate() {
            series.push(MetricSeries {
                nat_gateway_id: String::new(),
                log_group: Some(group.clone()),
                metric: INCOMING_BYTES.to_string(),
                points: points_of(log_query_id(k)),
            });
        }
        series
    }
}

/// `[q.start, q.end)` cut into aligned slices of whole periods, each asking at most
/// `MAX_DATAPOINTS_PER_GET_METRIC_DATA` of `queries` queries; one slice for a tick's window.
pub(crate) fn time_slices(q: &MetricQuery, queries: usize) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    slices_of(
        q,
        MAX_DATAPOINTS_PER_GET_METRIC_DATA / (queries.max(1) as i64),
    )
}

/// `[q.start, q.end)` cut into aligned slices of at most `points` periods each.
fn slices_of(q: &MetricQuery, points: i64) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let period = i64::from(q.period_seconds.max(1));
    let per_query = points.max(1);
    let step = chrono::TimeDelta::seconds(per_query * period);
    let mut slices = Vec::new();
    let mut start = q.start;
    while start < q.end {
        let end = (start + step).min(q.end);
        slices.push((start, end));
        start = end;
    }
    slices
}

/// One GetMetricData call (all its pages) for `batch` over `window`.
async fn read_slice(
    client: &Client,
    batch: &[MetricDataQuery],
    window: (DateTime<Utc>, DateTime<Utc>),
    collected: &mut Collected,
) -> Result<(), AwsError> {
    let mut pages = client
        .get_metric_data()
        .set_metric_data_queries(Some(batch.to_vec()))
        .start_time(to_aws(window.0))
        .end_time(to_aws(window.1))
        .scan_by(ScanBy::TimestampAscending)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            from_sdk_typed(OP_GET_METRIC_DATA, e, |e| {
                e.is_invalid_next_token()
                    .then_some(AwsErrorKind::InvalidInput)
            })
        })?;
        for result in page.metric_data_results() {
            collected.add(result)?;
        }
    }
    Ok(())
}

/// One GetMetricStatistics call's datapoints of one NAT gateway's metric over `window`, with
/// the query's statistic (`Sum`, or any CloudWatch statistic by name).
async fn read_statistics(
    client: &Client,
    q: &MetricQuery,
    nat: &str,
    metric: &str,
    window: (DateTime<Utc>, DateTime<Utc>),
) -> Result<Vec<(DateTime<Utc>, f64)>, AwsError> {
    let statistic = Statistic::from(q.statistic_of(metric));
    let out = client
        .get_metric_statistics()
        .namespace(NAT_NAMESPACE)
        .metric_name(metric)
        .dimensions(Dimension::builder().name(NAT_DIMENSION).value(nat).build())
        .start_time(to_aws(window.0))
        .end_time(to_aws(window.1))
        .period(q.period_seconds)
        .statistics(statistic.clone())
        .send()
        .await
        .map_err(|e| from_sdk_typed(OP_GET_METRIC_STATISTICS, e, |_| None))?;
    Ok(out
        .datapoints()
        .iter()
        .filter_map(|d| Some((from_aws(d.timestamp()?)?, statistic_value(d, &statistic)?)))
        .collect())
}

/// The value of `statistic` in a GetMetricStatistics datapoint.
fn statistic_value(d: &Datapoint, statistic: &Statistic) -> Option<f64> {
    match statistic {
        Statistic::Sum => d.sum(),
        Statistic::Maximum => d.maximum(),
        Statistic::Minimum => d.minimum(),
        Statistic::Average => d.average(),
        Statistic::SampleCount => d.sample_count(),
        _ => None,
    }
}

/// A window that is empty or a period that is not positive: refused before any call.
fn check_window(operation: &'static str, q: &MetricQuery) -> Result<(), AwsError> {
    if q.start >= q.end || q.period_seconds <= 0 {
        return Err(AwsError::new(
            operation,
            "InvalidParameterValue",
            format!(
                "metric window {} .. {} with period {} s: the start must be before the end \
                 and the period positive",
                q.start, q.end, q.period_seconds
            ),
            AwsErrorKind::InvalidInput,
        ));
    }
    Ok(())
}

impl Metrics for Client {
    async fn metric_statistics(&self, q: &MetricQuery) -> Result<Vec<MetricSeries>, AwsError> {
        check_window(OP_GET_METRIC_STATISTICS, q)?;
        let mut series = Vec::new();
        for nat in &q.nat_gateway_ids {
            for metric in q.metrics.iter().filter(|m| q.asks(nat, m)) {
                let mut points = Vec::new();
                for window in slices_of(q, MAX_DATAPOINTS_PER_GET_METRIC_STATISTICS) {
                    points.extend(read_statistics(self, q, nat, metric, window).await?);
                }
                // GetMetricStatistics returns its datapoints in no particular order.
                points.sort_by_key(|(t, _)| *t);
                points.dedup_by_key(|(t, _)| *t);
                series.push(MetricSeries {
                    nat_gateway_id: nat.clone(),
                    log_group: None,
                    metric: metric.clone(),
                    points,
                });
            }
        }
        Ok(series)
    }

    async fn metric_data(&self, q: &MetricQuery) -> Result<Vec<MetricSeries>, AwsError> {
        check_window(OP_GET_METRIC_DATA, q)?;
        let mut collected = Collected::default();
        for batch in metric_queries(q).chunks(MAX_QUERIES_PER_GET_METRIC_DATA) {
            for (start, end) in time_slices(q, batch.len()) {
                read_slice(self, batch, (start, end), &mut collected).await?;
            }
        }
        Ok(collected.into_series(q))
    }

    async fn alarm_states(&self, names: &[String]) -> Result<Vec<(String, AlarmState)>, AwsError> {
        let names = super::ec2::dedup(names);
        let mut states: HashMap<String, Option<StateValue>> = HashMap::new();
        for batch in names.chunks(MAX_ALARM_NAMES_PER_DESCRIBE) {
            let mut pages = self
                .describe_alarms()
                .set_alarm_names(Some(batch.to_vec()))
                // Without AlarmTypes, DescribeAlarms returns metric alarms only.
                .alarm_types(AlarmType::MetricAlarm)
                .alarm_types(AlarmType::CompositeAlarm)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| {
                    from_sdk_typed(OP_DESCRIBE_ALARMS, e, |e| {
                        e.is_invalid_next_token()
                            .then_some(AwsErrorKind::InvalidInput)
                    })
                })?;
                for alarm in page.metric_alarms() {
                    if let Some(name) = alarm.alarm_name() {
                        states.insert(name.to_owned(), alarm.state_value().cloned());
                    }
                }
                for alarm in page.composite_alarms() {
                    if let Some(name) = alarm.alarm_name() {
                        states.insert(name.to_owned(), alarm.state_value().cloned());
                    }
                }
            }
        }
        let mut out = Vec::with_capacity(names.len());
        let mut missing = Vec::new();
        for name in names {
            match states.get(&name) {
                None => missing.push(name),
                Some(state) => {
                    let state = alarm_state(&name, state.as_ref())?;
                    out.push((name, state));
                }
            }
        }
        if !missing.is_empty() {
            return Err(AwsError::new(
                OP_DESCRIBE_ALARMS,
                "ResourceNotFound",
                format!(
                    "no CloudWatch alarm named {} in this account and region; check \
                     `trigger.alarm_names` and the region",
                    missing.join(", ")
                ),
                AwsErrorKind::NotFound,
            ));
        }
        Ok(out)
    }
}

fn alarm_state(name: &str, state: Option<&StateValue>) -> Result<AlarmState, AwsError> {
    match state {
        Some(StateValue::Ok) => Ok(AlarmState::Ok),
        Some(StateValue::Alarm) => Ok(AlarmState::Alarm),
        Some(StateValue::InsufficientData) => Ok(AlarmState::InsufficientData),
        other => Err(AwsError::new(
            OP_DESCRIBE_ALARMS,
            "InvalidResponse",
            format!(
                "alarm {name} has state {:?}; OK, ALARM and INSUFFICIENT_DATA are the known ones",
                other.map(|s| s.as_str())
            ),
            AwsErrorKind::Service,
        )),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn query(nats: usize, metrics: usize) -> MetricQuery {
        MetricQuery {
            nat_gateway_ids: (0..nats).map(|i| format!("nat-{i}")).collect(),
            metrics: (0..metrics).map(|j| format!("Metric{j}")).collect(),
            statistic: "Sum".into(),
            period_seconds: 60,
            start: Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap(),
            end: Utc.with_ymd_and_hms(2025, 3, 1, 12, 10, 0).unwrap(),
            log_groups: Vec::new(),
            nat_metrics: Default::default(),
            statistics: Default::default(),
        }
    }

    #[test]
    fn a_tick_window_is_one_slice() {
        let q = query(50, 2);
        assert_eq!(time_slices(&q, 100), vec![(q.start, q.end)]);
    }

    #[test]
    fn fourteen_days_of_minutes_are_sliced_under_the_datapoint_limit() {
        let mut q = query(1, 2);
        q.start = q.end - chrono::TimeDelta::days(14);
        let slices = time_slices(&q, 2);
        // 2 queries x 20,160 minutes = 40,320 datapoints: one call.
        assert_eq!(slices, vec![(q.start, q.end)]);
        let slices = time_slices(&q, 10);
        // 10 x 20,160 = 201,600: two calls of at most 10,080 minutes each, end to end.
        assert_eq!(slices.len(), 2);
        assert_eq!(slices[0].0, q.start);
        assert_eq!(slices[1].1, q.end);
        assert_eq!(slices[0].1, slices[1].0);
        for (start, end) in slices {
            let points = (end - start).num_minutes() * 10;
            assert!(points <= MAX_DATAPOINTS_PER_GET_METRIC_DATA, "{points}");
        }
    }

    #[test]
    fn one_metricstat_query_per_nat_and_metric_on_the_nat_namespace() {
        let queries = metric_queries(&query(2, 2));
        let ids: Vec<&str> = queries.iter().map(|q| q.id().unwrap_or("")).collect();
        assert_eq!(ids, ["m0_0", "m0_1", "m1_0", "m1_1"]);
        let stat = queries[3].metric_stat().unwrap();
        let metric = stat.metric().unwrap();
        assert_eq!(metric.namespace(), Some(NAT_NAMESPACE));
        assert_eq!(metric.metric_name(), Some("Metric1"));
        assert_eq!(metric.dimensions().len(), 1);
        assert_eq!(metric.dimensions()[0].name(), Some(NAT_DIMENSION));
        assert_eq!(metric.dimensions()[0].value(), Some("nat-1"));
        assert_eq!(stat.stat(), Some("Sum"));
        assert_eq!(stat.period(), Some(60));
        assert_eq!(queries[3].return_data(), Some(true));
    }

    #[test]
    fn a_log_groups_incoming_bytes_rides_in_the_same_queries() {
        let mut q = query(2, 1);
        q.log_groups = vec!["/nat-flowrec/flowlogs".into()];
        let queries = metric_queries(&q);
        assert_eq!(queries.len(), 3);
        let last = &queries[2];
        assert_eq!(last.id(), Some("l0"));
        let metric = last.metric_stat().unwrap().metric().unwrap();
        assert_eq!(metric.namespace(), Some(LOGS_NAMESPACE));
        assert_eq!(metric.metric_name(), Some(INCOMING_BYTES));
        assert_eq!(metric.dimensions()[0].name(), Some(LOGS_DIMENSION));
        assert_eq!(
            metric.dimensions()[0].value(),
            Some("/nat-flowrec/flowlogs")
        );

        let mut c = Collected::default();
        c.add(&result("l0", &[(1_740_830_400, 5e6)])).unwrap();
        let series = c.into_series(&q);
        assert_eq!(series.len(), 3);
        assert_eq!(
            series[2].log_group.as_deref(),
            Some("/nat-flowrec/flowlogs")
        );
        assert_eq!(series[2].points.len(), 1);
    }

    #[test]
    fn a_nat_asked_for_its_own_metrics_only_keeps_the_others_ids() {
        let mut q = query(2, 2);
        q.nat_metrics.insert("nat-0".into(), vec!["Metric1".into()]);
        let ids: Vec<String> = metric_queries(&q)
            .iter()
            .map(|m| m.id().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(ids, ["m0_1", "m1_0", "m1_1"]);
        let mut c = Collected::default();
        c.add(&result("m0_1", &[(1_740_830_400, 7.0)])).unwrap();
        let series = c.into_series(&q);
        assert_eq!(series.len(), 3);
        assert_eq!(
            (series[0].nat_gateway_id.as_str(), series[0].metric.as_str()),
            ("nat-0", "Metric1")
        );
        assert_eq!(series[0].points.len(), 1);
    }

    #[test]
    fn many_nats_are_batched_at_the_query_limit() {
        let queries = metric_queries(&query(300, 2));
        let sizes: Vec<usize> = queries
            .chunks(MAX_QUERIES_PER_GET_METRIC_DATA)
            .map(<[_]>::len)
            .collect();
        assert_eq!(sizes, [500, 100]);
    }

    fn result(id: &str, points: &[(i64, f64)]) -> MetricDataResult {
        let mut b = MetricDataResult::builder()
            .id(id)
            .status_code(StatusCode::Complete);
        for (t, v) in points {
            b = b.timestamps(AwsDateTime::from_secs(*t)).values(*v);
        }
        b.build()
    }

    #[test]
    fn pages_merge_into_series_in_query_order_oldest_first() {
        let q = query(1, 2);
        let mut c = Collected::default();
        // second page first, out of order, and a repeated timestamp across pages
        c.add(&result(
            "m0_1",
            &[(1_740_830_520, 3.0), (1_740_830_460, 2.0)],
        ))
        .unwrap();
        c.add(&result(
            "m0_1",
            &[(1_740_830_400, 1.0), (1_740_830_460, 2.0)],
        ))
        .unwrap();
        let series = c.into_series(&q);
        assert_eq!(series.len(), 2);
        assert_eq!(series[0].metric, "Metric0");
        assert!(series[0].points.is_empty());
        assert_eq!(series[1].nat_gateway_id, "nat-0");
        let values: Vec<f64> = series[1].points.iter().map(|(_, v)| *v).collect();
        assert_eq!(values, [1.0, 2.0, 3.0]);
        assert!(series[1].points.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn a_forbidden_query_is_access_denied() {
        let r = MetricDataResult::builder()
            .id("m0_0")
            .status_code(StatusCode::Forbidden)
            .build();
        let err = Collected::default().add(&r).unwrap_err();
        assert_eq!(err.kind, AwsErrorKind::AccessDenied);
    }
}
