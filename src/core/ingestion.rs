//! What the active recordings cost while they run: the tick's one GetMetricData call also reads
//! `AWS/Logs` `IncomingBytes` of their log groups, over a window that reaches back to the
//! earliest start, and each recording is charged what its group took in since it started. Pure:
//! the query in, the query out; the series in, bytes out.

use chrono::{DateTime, Utc};

use super::state::{Recording, State};
use crate::ports::{MetricQuery, MetricSeries};

/// The log groups each active recording delivers to, with its recording's start: its flow logs'
/// (none when they go to S3, which has no `IncomingBytes` to read) and, when it created its VPC's
/// query logging, the DNS queries' (a VPC's own query logging that it only reads costs nothing
/// more).
fn recording_groups<'a>(
    state: &'a State,
    default_group: &'a str,
) -> impl Iterator<Item = (&'a str, &'a str, DateTime<Utc>)> + 'a {
    state.active_recordings().flat_map(move |(nat, active)| {
        let rec = state.recording(&active.recording_id);
        rec.map_or(vec![default_group], |r| groups_of(r, default_group))
            .into_iter()
            .map(move |group| (nat, group, active.started_at))
    })
}

/// The log groups whose ingestion a recording caused.
fn groups_of<'a>(rec: &'a Recording, default_group: &'a str) -> Vec<&'a str> {
    let mut groups = Vec::new();
    if rec.s3.is_none() {
        groups.push(rec.log_group.as_deref().unwrap_or(default_group));
    }
    if let Some(q) = rec.query_logging.as_ref().filter(|q| !q.reused) {
        groups.push(&q.log_group);
    }
    groups
}

/// `query` that also reads the active recordings' log groups, its window widened to the
/// earliest recording start (GetMetricData has one window per call; it bills per metric, not per
/// datapoint). Unchanged when nothing records. A query for no NAT gateway (alarm mode) ends at
/// the last complete minute.
pub fn with_ingestion(
    mut query: MetricQuery,
    state: &State,
    default_group: &str,
    now: DateTime<Utc>,
) -> MetricQuery {
    let period = i64::from(query.period_seconds.max(60));
    for (_, group, started_at) in recording_groups(state, default_group) {
        if !query.log_groups.iter().any(|g| g == group) {
            query.log_groups.push(group.to_string());
        }
        let aligned = started_at.timestamp().div_euclid(period) * period;
        if let Some(start) = DateTime::from_timestamp(aligned, 0) {
            query.start = query.start.min(start);
        }
    }
    if query.nat_gateway_ids.is_empty()
        && let Some(end) = DateTime::from_timestamp(now.timestamp().div_euclid(60) * 60, 0)
    {
        query.end = end.max(query.start + chrono::TimeDelta::seconds(period));
    }
    query
}

/// What NAT gateway `nat_gateway_id`'s active recording cost so far, in bytes its log group took
/// in since the period of its start; `None` when it is not recording or its group was not read.
pub fn ingested_bytes(
    series: &[MetricSeries],
    state: &State,
    default_group: &str,
    nat_gateway_id: &str,
    period_seconds: i32,
) -> Option<u64> {
    let groups =
        recording_groups(state, default_group).filter(|(nat, _, _)| *nat == nat_gateway_id);
    let mut total: Option<u64> = None;
    for (_, group, started_at) in groups {
        if let Some(bytes) = ingested_since(series, group, started_at, period_seconds) {
            total = Some(total.unwrap_or(0).saturating_add(bytes));
        }
    }
    total
}

/// What `group` took in from the period holding `since` on; `None` when it was not read.
fn ingested_since(
    series: &[MetricSeries],
    group: &str,
    since: DateTime<Utc>,
    period_seconds: i32,
) -> Option<u64> {
    let s = series
        .iter()
        .find(|s| s.log_group.as_deref() == Some(group))?;
    let period = i64::from(period_seconds.max(60));
    let from = since.timestamp().div_euclid(period) * period;
    let bytes: f64 = s
        .points
        .iter()
        .filter(|(t, v)| t.timestamp() >= from && v.is_finite() && *v > 0.0)
        .map(|(_, v)| v)
        .sum();
    Some(bytes.round() as u64)
}

/// The GetMetricData request for a stopped recording's whole ingestion, flow logs delivered late
/// included: its log group from its start to the last complete minute. `None` while it runs or
/// when that window is empty.
pub fn final_query(
    rec: &Recording,
    default_group: &str,
    now: DateTime<Utc>,
) -> Option<MetricQuery> {
    rec.stopped.as_ref()?;
    if rec.s3.is_some() {
        return None;
    }
    let start = DateTime::from_timestamp(rec.started_at.timestamp().div_euclid(60) * 60, 0)?;
    let end = DateTime::from_timestamp(now.timestamp().div_euclid(60) * 60, 0)?;
    (start < end).then(|| MetricQuery {
        nat_gateway_ids: Vec::new(),
        metrics: Vec::new(),
        statistic: "Sum".to_string(),
        period_seconds: 60,
        start,
        end,
        log_groups: groups_of(rec, default_group)
            .into_iter()
            .map(str::to_owned)
            .collect(),
        nat_metrics: Default::default(),
        statistics: Default::default(),
    })
}

/// What `final_query` found: the recording's ingestion in bytes (its flow-log group must have
/// been read; a DNS group not read adds nothing).
pub fn final_bytes(series: &[MetricSeries], query: &MetricQuery) -> Option<u64> {
    let flows = ingested_since(
        series,
        query.log_groups.first()?,
        query.start,
        query.period_seconds,
    )?;
    let dns: u64 = query.log_groups[1..]
        .iter()
        .filter_map(|g| ingested_since(series, g, query.start, query.period_seconds))
        .sum();
    Some(flows.saturating_add(dns))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event::Event;
    use crate::core::event::StopReason::TriggerOk;
    use crate::core::testkit::{NAT, NAT2, Tweak, at as t, fold, started, stopped};

    fn nat_query(now: DateTime<Utc>) -> MetricQuery {
        MetricQuery {
            nat_gateway_ids: vec![NAT.into()],
            metrics: vec!["BytesInFromSource".into()],
            statistic: "Sum".into(),
            period_seconds: 60,
            start: now - chrono::TimeDelta::minutes(3),
            end: now,
            log_groups: Vec::new(),
            nat_metrics: Default::default(),
            statistics: Default::default(),
        }
    }

    #[test]
    fn nothing_recording_leaves_the_query_alone() {
        let q = nat_query(t("10:43:00"));
        assert_eq!(
            with_ingestion(q.clone(), &State::default(), "/g", t("10:43:30")),
            q
        );
    }

    #[test]
    fn a_recording_adds_its_group_and_widens_the_window_to_its_start() {
        let state = fold(vec![("10:20:30", started("r1").log_group("/flows"))]);
        let q = with_ingestion(nat_query(t("10:43:00")), &state, "/g", t("10:43:30"));
        assert_eq!(q.log_groups, vec!["/flows"]);
        assert_eq!(q.start, t("10:20:00"));
        assert_eq!(q.end, t("10:43:00"));

        let series = vec![MetricSeries {
            nat_gateway_id: String::new(),
            log_group: Some("/flows".into()),
            metric: "IncomingBytes".into(),
            // One minute before the recording: another recording's, not charged.
            points: vec![
                (t("10:19:00"), 9e9),
                (t("10:20:00"), 1e6),
                (t("10:30:00"), 2.5e6),
            ],
        }];
        assert_eq!(
            ingested_bytes(&series, &state, "/g", NAT, 60),
            Some(3_500_000)
        );
        assert_eq!(ingested_bytes(&series, &state, "/g", NAT2, 60), None);
    }

    #[test]
    fn the_dns_group_of_query_logging_it_created_counts_and_a_reused_one_does_not() {
        let logged = |reused: bool| {
            let event = Event::QueryLoggingStarted {
                recording_id: "r1".into(),
                nat_gateway_id: NAT.into(),
                vpc_id: "vpc-1".into(),
                config_id: "c1".into(),
                log_group: "/dns".into(),
            };
            let event = if reused {
                Event::QueryLoggingReused {
                    recording_id: "r1".into(),
                    nat_gateway_id: NAT.into(),
                    vpc_id: "vpc-1".into(),
                    config_id: "c1".into(),
                    log_group: "/dns".into(),
                }
            } else {
                event
            };
            fold(vec![
                ("10:20:30", started("r1").log_group("/flows")),
                ("10:20:30", event),
            ])
        };
        let series = |group: &str, bytes: f64| MetricSeries {
            nat_gateway_id: String::new(),
            log_group: Some(group.into()),
            metric: "IncomingBytes".into(),
            points: vec![(t("10:30:00"), bytes)],
        };
        let read = vec![series("/flows", 3e6), series("/dns", 5e5)];

        let ours = logged(false);
        let q = with_ingestion(nat_query(t("10:43:00")), &ours, "/g", t("10:43:30"));
        assert_eq!(q.log_groups, vec!["/flows", "/dns"]);
        assert_eq!(ingested_bytes(&read, &ours, "/g", NAT, 60), Some(3_500_000));

        let reused = logged(true);
        let q = with_ingestion(nat_query(t("10:43:00")), &reused, "/g", t("10:43:30"));
        assert_eq!(q.log_groups, vec!["/flows"]);
        assert_eq!(
            ingested_bytes(&read, &reused, "/g", NAT, 60),
            Some(3_000_000)
        );
    }

    #[test]
    fn a_stopped_recordings_final_query_covers_its_start_to_the_last_minute() {
        let mut given = vec![("10:20:30", started("r1").log_group("/flows"))];
        let running = fold(given.clone());
        assert_eq!(
            final_query(&running.recordings[0], "/g", t("10:50:10")),
            None
        );
        given.push(("10:35:00", stopped("r1", TriggerOk)));
        let settled = fold(given);
        let q = final_query(&settled.recordings[0], "/g", t("10:50:10")).unwrap();
        assert_eq!((q.start, q.end), (t("10:20:00"), t("10:50:00")));
        assert_eq!(q.log_groups, vec!["/flows"]);
        assert!(q.nat_gateway_ids.is_empty());
        let series = vec![MetricSeries {
            nat_gateway_id: String::new(),
            log_group: Some("/flows".into()),
            metric: "IncomingBytes".into(),
            points: vec![(t("10:20:00"), 1e6), (t("10:40:00"), 2e6)],
        }];
        assert_eq!(final_bytes(&series, &q), Some(3_000_000));
    }
}
