//! The `SqlQueries` port on `aws_sdk_athena::Client`: one statement, started, then polled with
//! backoff until Athena says it is done (queries run asynchronously, from seconds to many
//! minutes over a large prefix), then its result read page by page.

use std::time::{Duration, Instant};

use aws_sdk_athena::Client;
use aws_sdk_athena::types::{QueryExecutionState, ResultConfiguration};

use super::error::from_sdk_typed;
use crate::ports::{AwsError, AwsErrorKind, SqlQueries, SqlQuery, SqlRows};

const OP_START: &str = "athena:StartQueryExecution";
const OP_GET_EXECUTION: &str = "athena:GetQueryExecution";
const OP_GET_RESULTS: &str = "athena:GetQueryResults";

/// The first wait between two GetQueryExecution calls; doubled up to `MAX_POLL_INTERVAL`. A DDL
/// statement is done in about a second, an aggregation over gigabytes in tens of seconds.
const FIRST_POLL_INTERVAL: Duration = Duration::from_millis(250);
const MAX_POLL_INTERVAL: Duration = Duration::from_secs(5);
/// A statement still running after this is stopped (Athena's own DML timeout is 30 minutes by
/// default).
const MAX_QUERY_WAIT: Duration = Duration::from_secs(30 * 60);
/// Rows per GetQueryResults page (the API's maximum).
const PAGE_ROWS: i32 = 1000;

macro_rules! kind_of {
    ($e:expr) => {{
        let e = $e;
        if e.is_invalid_request_exception() {
            Some(AwsErrorKind::InvalidInput)
        } else if e.is_too_many_requests_exception() {
            Some(AwsErrorKind::Throttled)
        } else if e.is_internal_server_exception() {
            Some(AwsErrorKind::Service)
        } else {
            None
        }
    }};
}

fn invalid_response(operation: &'static str, message: String) -> AwsError {
    AwsError::new(operation, "InvalidResponse", message, AwsErrorKind::Service)
}

impl SqlQueries for Client {
    async fn athena(&self, q: &SqlQuery) -> Result<SqlRows, AwsError> {
        let started = self
            .start_query_execution()
            .query_string(&q.sql)
            .work_group(&q.workgroup)
            .result_configuration(
                ResultConfiguration::builder()
                    .output_location(&q.output_location)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| from_sdk_typed(OP_START, e, |e| kind_of!(e)))?;
        let Some(id) = started.query_execution_id().map(str::to_owned) else {
            return Err(invalid_response(
                OP_START,
                "StartQueryExecution answered without a query execution id".to_owned(),
            ));
        };
        wait_until_done(self, &id, &q.workgroup).await?;
        every_row(self, &id).await
    }
}

/// Polls until the statement succeeded; its failure or cancellation is the error.
async fn wait_until_done(client: &Client, id: &str, workgroup: &str) -> Result<(), AwsError> {
    let since = Instant::now();
    let mut interval = FIRST_POLL_INTERVAL;
    loop {
        let out = client
            .get_query_execution()
            .query_execution_id(id)
            .send()
            .await
            .map_err(|e| {
                from_sdk_typed(OP_GET_EXECUTION, e, |e| {
                    if e.is_invalid_request_exception() {
                        Some(AwsErrorKind::InvalidInput)
                    } else if e.is_internal_server_exception() {
                        Some(AwsErrorKind::Service)
                    } else {
                        None
                    }
                })
            })?;
        let status = out.query_execution().and_then(|x| x.status());
        match status.and_then(|s| s.state()) {
            Some(QueryExecutionState::Succeeded) => return Ok(()),
            Some(state @ (QueryExecutionState::Failed | QueryExecutionState::Cancelled)) => {
                let reason = status
                    .and_then(|s| {
                        s.athena_error()
                            .and_then(|e| e.error_message())
                            .or(s.state_change_reason())
                    })
                    .unwrap_or("no reason given");
                return Err(AwsError::new(
                    OP_GET_EXECUTION,
                    state.as_str(),
                    format!(
                        "Athena query {id} (workgroup {workgroup}) ended {}: {reason}",
                        state.as_str()
                    ),
                    AwsErrorKind::Service,
                ));
            }
            _ => {}
        }
        if since.elapsed() > MAX_QUERY_WAIT {
            // Best effort: the query would otherwise run on (and be billed) for nothing.
            let _ = client
                .stop_query_execution()
                .query_execution_id(id)
                .send()
                .await;
            return Err(AwsError::new(
                OP_GET_EXECUTION,
                "Timeout",
                format!(
                    "Athena query {id} still running after {} minutes; stopped it",
                    MAX_QUERY_WAIT.as_secs() / 60
                ),
                AwsErrorKind::Timeout,
            ));
        }
        tokio::time::sleep(interval).await;
        interval = (interval * 2).min(MAX_POLL_INTERVAL);
    }
}

/// Every page of the result. A SELECT's first row holds the column names: left out.
async fn every_row(client: &Client, id: &str) -> Result<SqlRows, AwsError> {
    let mut result = SqlRows::default();
    let mut token: Option<String> = None;
    let mut first_page = true;
    loop {
        let out = client
            .get_query_results()
            .query_execution_id(id)
            .max_results(PAGE_ROWS)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| from_sdk_typed(OP_GET_RESULTS, e, |e| kind_of!(e)))?;
        let set = out.result_set();
        if first_page {
            result.columns = set
                .and_then(|s| s.result_set_metadata())
                .map(|m| {
                    m.column_info()
                        .iter()
                        .map(|c| c.name().to_owned())
                        .collect()
                })
                .unwrap_or_default();
        }
        let mut rows = set.map(|s| s.rows()).unwrap_or_default().iter().map(|r| {
            r.data()
                .iter()
                .map(|d| d.var_char_value().map(str::to_owned))
                .collect::<Vec<_>>()
        });
        if first_page {
            let mut peek = rows.by_ref().peekable();
            let header = peek
                .peek()
                .is_some_and(|row| is_header(row, &result.columns));
            if header {
                peek.next();
            }
            result.rows.extend(peek);
        } else {
            result.rows.extend(rows);
        }
        first_page = false;
        match out.next_token() {
            Some(next) if token.as_deref() != Some(next) => token = Some(next.to_owned()),
            Some(next) => {
                return Err(invalid_response(
                    OP_GET_RESULTS,
                    format!("GetQueryResults of {id} answered the same NextToken twice ({next})"),
                ));
            }
            None => return Ok(result),
        }
    }
}

/// Whether a row repeats the column names (as a SELECT's first row does).
fn is_header(row: &[Option<String>], columns: &[String]) -> bool {
    !columns.is_empty()
        && row.len() == columns.len()
        && row
            .iter()
            .zip(columns)
            .all(|(value, name)| value.as_deref() == Some(name.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_row_is_the_one_that_repeats_the_column_names() {
        let columns = vec!["leg".to_owned(), "bytes".to_owned()];
        let header = vec![Some("leg".to_owned()), Some("bytes".to_owned())];
        let data = vec![Some("internet".to_owned()), Some("12".to_owned())];
        assert!(is_header(&header, &columns));
        assert!(!is_header(&data, &columns));
        assert!(!is_header(&header, &[]));
    }
}
