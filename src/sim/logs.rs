//! What the simulated flow logs delivered to CloudWatch Logs: each flow log writes the records
//! of its ENI, from its creation to its deletion, into the stream `<eni>-all` of its log group
//! (AWS's naming), `delivery_delay` after each record's interval starts. A flow log whose
//! delivery FAILED (a role without rights) delivers nothing. Tests may seed streams of their own.
//!
//! Both reads answer pages of `log_page_size`, with an empty page (and a token) between two
//! full ones, as AWS does while it scans: readers that stop on an empty page lose the rest, and
//! the simulator catches them. At the end GetLogEvents answers the token it was given, and
//! FilterLogEvents none, as AWS does.

use chrono::{DateTime, Utc};
use nat_flowrec_parsers::LogFormat;

use super::SimOperation;
use super::account::Account;
use crate::ports::{
    AwsError, AwsErrorKind, LogEvent, LogEventsPage, LogEventsQuery, LogReadApi, LogStream,
};

/// The stream a flow log on `eni` delivers to.
pub fn stream_name(eni: &str) -> String {
    format!("{eni}-all")
}

impl Account {
    /// Every event of (`group`, `stream`) delivered by now, oldest first.
    fn stream_events(&self, group: &str, stream: &str) -> Vec<(i64, String)> {
        let delivered_until = (self.now - self.delivery_delay).timestamp_millis();
        let mut events = Vec::new();
        let flow_logs = self.flow_logs.iter().chain(&self.deleted_flow_logs);
        for fl in flow_logs.filter(|fl| {
            fl.log_group == group
                && stream_name(&fl.eni) == stream
                && fl.deliver_logs_error.is_none()
        }) {
            let Ok(format) = LogFormat::parse(&fl.log_format) else {
                continue;
            };
            let end: DateTime<Utc> = fl.deleted_at.unwrap_or(self.now);
            events.extend(
                self.records(&format, fl.created_at, end, std::slice::from_ref(&fl.eni))
                    .into_iter()
                    .filter(|(ts, _)| *ts < delivered_until),
            );
        }
        if let Some(seeded) = self
            .seeded_events
            .get(&(group.to_owned(), stream.to_owned()))
        {
            events.extend(seeded.iter().cloned());
        }
        events.sort_by_key(|(ts, _)| *ts);
        events
    }

    /// CloudWatch's `IncomingBytes` of `group`: the delivered events' bytes per period from
    /// `first` to `end` (seconds), at each period's start; periods without events are absent.
    pub(super) fn incoming_bytes(
        &self,
        group: &str,
        first: i64,
        end: i64,
        period: i64,
    ) -> Vec<(DateTime<Utc>, f64)> {
        let streams = self.stream_names(group);
        let mut sums = std::collections::BTreeMap::<i64, f64>::new();
        for stream in &streams {
            for (ms, message) in self.stream_events(group, stream) {
                let t = ms.div_euclid(1000);
                if t >= first && t < end {
                    let start = first + (t - first).div_euclid(period) * period;
                    *sums.entry(start).or_insert(0.0) += message.len() as f64;
                }
            }
        }
        sums.into_iter()
            .filter_map(|(t, bytes)| Some((DateTime::from_timestamp(t, 0)?, bytes)))
            .collect()
    }

    /// Every stream of `group` a flow log or a test wrote to, sorted, once each.
    fn stream_names(&self, group: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .flow_logs
            .iter()
            .chain(&self.deleted_flow_logs)
            .filter(|fl| fl.log_group == group)
            .map(|fl| stream_name(&fl.eni))
            .chain(
                self.seeded_events
                    .keys()
                    .filter(|(g, _)| g == group)
                    .map(|(_, s)| s.clone()),
            )
            .collect();
        names.sort();
        names.dedup();
        names
    }

    fn group_exists(&self, group: &str) -> bool {
        self.log_groups.contains_key(group) || self.seeded_events.keys().any(|(g, _)| g == group)
    }

    pub fn log_streams(&self, group: &str, prefix: &str) -> Result<Vec<LogStream>, AwsError> {
        if !self.group_exists(group) {
            return Err(AwsError::new(
                SimOperation::DescribeLogStreams.name(),
                "ResourceNotFoundException",
                format!("the specified log group does not exist: {group}"),
                AwsErrorKind::NotFound,
            ));
        }
        let mut names = self.stream_names(group);
        names.retain(|name| name.starts_with(prefix));
        // A stream exists once something was delivered to it.
        Ok(names
            .into_iter()
            .filter_map(|name| {
                let events = self.stream_events(group, &name);
                let first = events.first()?.0;
                let last = events.last().map(|(ts, _)| *ts);
                Some(LogStream {
                    name,
                    first_event_ms: Some(first),
                    last_event_ms: last,
                })
            })
            .collect())
    }

    /// The page of `query` that `token` names (`None`: the first). Tokens are `p<index>` into
    /// the pages `log_event_pages` lists; an unknown token is refused as AWS refuses one.
    pub fn log_events_page(
        &self,
        query: &LogEventsQuery,
        token: Option<&str>,
    ) -> Result<LogEventsPage, AwsError> {
        let pages = self.log_event_pages(query)?;
        let index = match token {
            None => 0,
            Some(t) => t
                .strip_prefix('p')
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|n| *n <= pages.len())
                .ok_or_else(|| {
                    AwsError::new(
                        query.api.action(),
                        "InvalidParameterException",
                        format!("the specified nextToken is invalid: {t}"),
                        AwsErrorKind::InvalidInput,
                    )
                })?,
        };
        let Some(events) = pages.get(index) else {
            // Past the last page: GetLogEvents repeats the token, FilterLogEvents has none.
            return Ok(LogEventsPage {
                events: Vec::new(),
                next_token: match query.api {
                    LogReadApi::GetLogEvents => token.map(str::to_owned),
                    LogReadApi::FilterLogEvents => None,
                },
            });
        };
        let last = index + 1 == pages.len();
        let next_token = match (query.api, last) {
            (LogReadApi::FilterLogEvents, true) => None,
            // GetLogEvents always hands out a forward token; reading it again gives nothing new.
            _ => Some(format!("p{}", index + 1)),
        };
        Ok(LogEventsPage {
            events: events.clone(),
            next_token,
        })
    }

    /// The pages either read returns for `query`.
    fn log_event_pages(&self, query: &LogEventsQuery) -> Result<Vec<Vec<LogEvent>>, AwsError> {
        if !self.group_exists(&query.log_group) {
            return Err(AwsError::new(
                query.api.action(),
                "ResourceNotFoundException",
                format!(
                    "the specified log group does not exist: {}",
                    query.log_group
                ),
                AwsErrorKind::NotFound,
            ));
        }
        let events: Vec<LogEvent> = self
            .stream_events(&query.log_group, &query.log_stream)
            .into_iter()
            .filter(|(ts, _)| (query.start_ms..=query.end_ms).contains(ts))
            .map(|(timestamp_ms, message)| LogEvent {
                timestamp_ms,
                message,
            })
            .collect();
        let mut pages = Vec::new();
        let mut chunks = events.chunks(self.log_page_size.max(1)).peekable();
        while let Some(chunk) = chunks.next() {
            pages.push(chunk.to_vec());
            if chunks.peek().is_some() {
                pages.push(Vec::new());
            }
        }
        if pages.is_empty() {
            pages.push(Vec::new());
        }
        Ok(pages)
    }
}
