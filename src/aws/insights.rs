//! The `LogQueries` port on `aws_sdk_cloudwatchlogs::Client`: one Logs Insights query, started
//! and then polled until it is done (Insights runs queries asynchronously). The row limit is the
//! API's 10,000; the caller splits its window when a query hits it.

use std::time::{Duration, Instant};

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::types::QueryStatus;

use super::error::from_sdk_typed;
use crate::ports::{AwsError, AwsErrorKind, InsightsQuery, InsightsRow, LogQueries};

const OP_START_QUERY: &str = "logs:StartQuery";
const OP_GET_QUERY_RESULTS: &str = "logs:GetQueryResults";

/// Rows one query may return (the API's maximum).
pub const MAX_INSIGHTS_ROWS: i32 = 10_000;
/// Between two GetQueryResults calls.
const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// A query still running after this is given up (Insights itself stops at 60 minutes).
const MAX_QUERY_WAIT: Duration = Duration::from_secs(15 * 60);

fn kind_of_start(
    e: &aws_sdk_cloudwatchlogs::operation::start_query::StartQueryError,
) -> Option<AwsErrorKind> {
    if e.is_resource_not_found_exception() {
        Some(AwsErrorKind::NotFound)
    } else if e.is_malformed_query_exception() || e.is_invalid_parameter_exception() {
        Some(AwsErrorKind::InvalidInput)
    } else if e.is_limit_exceeded_exception() {
        Some(AwsErrorKind::Throttled)
    } else if e.is_service_unavailable_exception() {
        Some(AwsErrorKind::Service)
    } else {
        None
    }
}

impl LogQueries for Client {
    async fn insights(&self, q: &InsightsQuery) -> Result<Vec<InsightsRow>, AwsError> {
        let started = self
            .start_query()
            .log_group_name(&q.log_group)
            .start_time(q.start.timestamp())
            .end_time(q.end.timestamp())
            .query_string(&q.query)
            .limit(MAX_INSIGHTS_ROWS)
            .send()
            .await
            .map_err(|e| from_sdk_typed(OP_START_QUERY, e, kind_of_start))?;
        let Some(id) = started.query_id().map(str::to_owned) else {
            return Err(AwsError::new(
                OP_START_QUERY,
                "InvalidResponse",
                "StartQuery answered without a query id",
                AwsErrorKind::Service,
            ));
        };
        let since = Instant::now();
        loop {
            let out = self
                .get_query_results()
                .query_id(&id)
                .send()
                .await
                .map_err(|e| {
                    from_sdk_typed(OP_GET_QUERY_RESULTS, e, |e| {
                        e.is_resource_not_found_exception()
                            .then_some(AwsErrorKind::NotFound)
                    })
                })?;
            match out.status() {
                Some(QueryStatus::Complete) => {
                    return Ok(out
                        .results()
                        .iter()
                        .map(|row| {
                            row.iter()
                                .filter_map(|f| {
                                    Some((
                                        f.field()?.to_owned(),
                                        f.value().unwrap_or("").to_owned(),
                                    ))
                                })
                                .collect()
                        })
                        .collect());
                }
                Some(
                    status @ (QueryStatus::Failed | QueryStatus::Cancelled | QueryStatus::Timeout),
                ) => {
                    return Err(AwsError::new(
                        OP_GET_QUERY_RESULTS,
                        status.as_str(),
                        format!(
                            "Logs Insights query {id} on {} ended {}; try a shorter window or check the query in the console",
                            q.log_group,
                            status.as_str()
                        ),
                        AwsErrorKind::Service,
                    ));
                }
                _ => {}
            }
            if since.elapsed() > MAX_QUERY_WAIT {
                // Best effort: the query would otherwise run on (and be billed) for nothing.
                let _ = self.stop_query().query_id(&id).send().await;
                return Err(AwsError::new(
                    OP_GET_QUERY_RESULTS,
                    "Timeout",
                    format!(
                        "Logs Insights query {id} on {} still running after {} minutes; stopped it",
                        q.log_group,
                        MAX_QUERY_WAIT.as_secs() / 60
                    ),
                    AwsErrorKind::Timeout,
                ));
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }
}
