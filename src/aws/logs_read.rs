//! The `LogReader` port on `aws_sdk_cloudwatchlogs::Client`: the log streams a recording's flow
//! logs delivered to (found by ENI prefix, never guessed) and their events, one page per call.
//!
//! Both reads may answer a page without events but with a token (they searched part of the
//! stream and found nothing yet): the caller pages on until the token is gone or repeats
//! (GetLogEvents answers its own token at the stream's end). The client these calls go through
//! retries throttling adaptively (see `aws/mod.rs`); the export paces them (`finish/pace.rs`).

use std::future::Future;

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::operation::describe_log_streams::DescribeLogStreamsError;
use aws_sdk_cloudwatchlogs::operation::filter_log_events::FilterLogEventsError;
use aws_sdk_cloudwatchlogs::operation::get_log_events::GetLogEventsError;

use super::error::from_sdk_typed;
use crate::ports::{
    AwsError, AwsErrorKind, LogEvent, LogEventsPage, LogEventsQuery, LogReadApi, LogReader,
    LogStream,
};

const OP_DESCRIBE_LOG_STREAMS: &str = "logs:DescribeLogStreams";
const OP_GET_LOG_EVENTS: &str = "logs:GetLogEvents";
const OP_FILTER_LOG_EVENTS: &str = "logs:FilterLogEvents";

/// Events per page of either read (the documented maximum; a page also ends at 1 MB).
pub const MAX_EVENTS_PER_PAGE: i32 = 10_000;
/// Streams per DescribeLogStreams page (the documented maximum).
pub const MAX_STREAMS_PER_DESCRIBE: i32 = 50;

impl LogReader for Client {
    async fn log_streams(&self, log_group: &str, prefix: &str) -> Result<Vec<LogStream>, AwsError> {
        let mut streams = Vec::new();
        drain_pages(
            |token| async move {
                let page = self
                    .describe_log_streams()
                    .log_group_name(log_group)
                    // Empty: every stream (AWS refuses an empty prefix).
                    .set_log_stream_name_prefix((!prefix.is_empty()).then(|| prefix.to_owned()))
                    .limit(MAX_STREAMS_PER_DESCRIBE)
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(|e| from_sdk_typed(OP_DESCRIBE_LOG_STREAMS, e, read_error_kind))?;
                let found: Vec<LogStream> = page
                    .log_streams()
                    .iter()
                    .filter_map(|s| {
                        Some(LogStream {
                            name: s.log_stream_name()?.to_owned(),
                            first_event_ms: s.first_event_timestamp(),
                            last_event_ms: s.last_event_timestamp(),
                        })
                    })
                    .collect();
                Ok((found, page.next_token().map(str::to_owned)))
            },
            |page| {
                streams.extend(page);
                true
            },
        )
        .await?;
        Ok(streams)
    }

    async fn log_events_page(
        &self,
        query: &LogEventsQuery,
        token: Option<String>,
    ) -> Result<LogEventsPage, AwsError> {
        let op = match query.api {
            LogReadApi::GetLogEvents => OP_GET_LOG_EVENTS,
            LogReadApi::FilterLogEvents => OP_FILTER_LOG_EVENTS,
        };
        let (events, next_token) = match query.api {
            LogReadApi::GetLogEvents => {
                let page = self
                    .get_log_events()
                    .log_group_name(&query.log_group)
                    .log_stream_name(&query.log_stream)
                    .start_time(query.start_ms)
                    .end_time(query.end_ms)
                    .start_from_head(true)
                    .limit(MAX_EVENTS_PER_PAGE)
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(|e| from_sdk_typed(op, e, read_error_kind))?;
                let events = page
                    .events()
                    .iter()
                    .filter_map(|e| event(e.timestamp(), e.message()))
                    .collect();
                (events, page.next_forward_token().map(str::to_owned))
            }
            LogReadApi::FilterLogEvents => {
                let page = self
                    .filter_log_events()
                    .log_group_name(&query.log_group)
                    .log_stream_names(&query.log_stream)
                    .start_time(query.start_ms)
                    .end_time(query.end_ms)
                    .limit(MAX_EVENTS_PER_PAGE)
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(|e| from_sdk_typed(op, e, read_error_kind))?;
                let events = page
                    .events()
                    .iter()
                    .filter_map(|e| event(e.timestamp(), e.message()))
                    .collect();
                (events, page.next_token().map(str::to_owned))
            }
        };
        Ok(LogEventsPage { events, next_token })
    }
}

fn event(timestamp: Option<i64>, message: Option<&str>) -> Option<LogEvent> {
    Some(LogEvent {
        timestamp_ms: timestamp?,
        message: message?.trim_end_matches(['\n', '\r']).to_owned(),
    })
}

/// The errors both reads name, by kind. The SDK gives every operation an error type of its own
/// with the same `is_*` methods; this trait lets one function classify both.
trait ReadError {
    fn not_found(&self) -> bool;
    fn invalid_parameter(&self) -> bool;
    fn unavailable(&self) -> bool;
}

macro_rules! read_error {
    ($($error:ty),*) => {$(
        impl ReadError for $error {
            fn not_found(&self) -> bool {
                self.is_resource_not_found_exception()
            }
            fn invalid_parameter(&self) -> bool {
                self.is_invalid_parameter_exception()
            }
            fn unavailable(&self) -> bool {
                self.is_service_unavailable_exception()
            }
        }
    )*};
}

read_error!(
    DescribeLogStreamsError,
    FilterLogEventsError,
    GetLogEventsError
);

fn read_error_kind(e: &impl ReadError) -> Option<AwsErrorKind> {
    if e.not_found() {
        Some(AwsErrorKind::NotFound)
    } else if e.invalid_parameter() {
        Some(AwsErrorKind::InvalidInput)
    } else if e.unavailable() {
        Some(AwsErrorKind::Service)
    } else {
        None
    }
}

/// Calls `fetch` with the previous page's token (first `None`) and hands each page to `on_page`,
/// until the token is gone, repeats, or `on_page` says stop. Empty pages do not end the paging.
/// Returns the pages fetched.
pub(crate) async fn drain_pages<P, F, Fut>(
    mut fetch: F,
    mut on_page: impl FnMut(P) -> bool,
) -> Result<u64, AwsError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(P, Option<String>), AwsError>>,
{
    let mut token: Option<String> = None;
    let mut pages = 0u64;
    loop {
        let (page, next) = fetch(token.clone()).await?;
        pages += 1;
        if !on_page(page) {
            return Ok(pages);
        }
        match next {
            None => return Ok(pages),
            Some(next) if next.is_empty() || token.as_deref() == Some(next.as_str()) => {
                return Ok(pages);
            }
            Some(next) => token = Some(next),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;

    /// Pages as a server would answer them: (events, next token).
    fn server(pages: Vec<(Vec<i64>, Option<&str>)>) -> VecDeque<(Vec<i64>, Option<String>)> {
        pages
            .into_iter()
            .map(|(p, t)| (p, t.map(str::to_owned)))
            .collect()
    }

    #[tokio::test]
    async fn empty_pages_with_a_token_do_not_end_the_stream() {
        let answers = std::cell::RefCell::new(server(vec![
            (vec![1, 2], Some("a")),
            (vec![], Some("b")),
            (vec![], Some("c")),
            (vec![3], Some("d")),
            (vec![4], None),
        ]));
        let asked = std::cell::RefCell::new(Vec::new());
        let mut got = Vec::new();
        let pages = drain_pages(
            |token| {
                asked.borrow_mut().push(token);
                let answer = answers.borrow_mut().pop_front();
                async move {
                    answer.ok_or_else(|| {
                        AwsError::new("t", "x", "asked too often", AwsErrorKind::Other)
                    })
                }
            },
            |page: Vec<i64>| {
                got.extend(page);
                true
            },
        )
        .await
        .unwrap();
        assert_eq!(got, [1, 2, 3, 4]);
        assert_eq!(pages, 5);
        let asked = asked.into_inner();
        assert_eq!(
            asked,
            [
                None,
                Some("a".into()),
                Some("b".into()),
                Some("c".into()),
                Some("d".into())
            ]
        );
    }

    #[tokio::test]
    async fn a_repeated_token_ends_the_stream_and_the_sink_can_stop_it() {
        let answers = std::cell::RefCell::new(server(vec![
            (vec![1], Some("a")),
            (vec![2], Some("a")),
            (vec![9], None),
        ]));
        let mut got = Vec::new();
        drain_pages(
            |_| {
                let answer = answers.borrow_mut().pop_front();
                async move { answer.ok_or_else(|| AwsError::new("t", "x", "y", AwsErrorKind::Other)) }
            },
            |page: Vec<i64>| {
                got.extend(page);
                true
            },
        )
        .await
        .unwrap();
        assert_eq!(got, [1, 2]);

        let answers = std::cell::RefCell::new(server(vec![(vec![1], Some("a")), (vec![2], None)]));
        let pages =
            drain_pages(
                |_| {
                    let answer = answers.borrow_mut().pop_front();
                    async move {
                        answer.ok_or_else(|| AwsError::new("t", "x", "y", AwsErrorKind::Other))
                    }
                },
                |_page: Vec<i64>| false,
            )
            .await
            .unwrap();
        assert_eq!(pages, 1, "a sink that failed stops the paging");
    }

    #[tokio::test]
    async fn an_error_on_a_later_page_is_the_error() {
        let mut calls = 0;
        let err = drain_pages(
            |_| {
                calls += 1;
                let n = calls;
                async move {
                    if n == 1 {
                        Ok((vec![1], Some("a".to_owned())))
                    } else {
                        Err(AwsError::new(
                            OP_DESCRIBE_LOG_STREAMS,
                            "ThrottlingException",
                            "Rate exceeded",
                            AwsErrorKind::Throttled,
                        ))
                    }
                }
            },
            |_page: Vec<i64>| true,
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind, AwsErrorKind::Throttled);
    }
}
