//! A call that never reached AWS (connection refused, no route, DNS, connect timeout) ends as
//! one line naming the endpoint, how many attempts the SDK made and for how long: the SDK's own
//! error says only "dispatch failure" over hyper's chain, without the address it tried. An SDK
//! hook on every client notes when the call began and where it went, and, once the retries are
//! spent, puts that into the error `error::from_sdk` reads.

use std::time::{Duration, Instant};

use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
    FinalizerInterceptorContextMut,
};
use aws_smithy_runtime_api::client::interceptors::{Intercept, SharedInterceptor};
use aws_smithy_runtime_api::client::orchestrator::OrchestratorError;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

/// The endpoint could not be reached: what the user reads (after the operation's name).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "cannot reach {endpoint}: {cause} ({attempts} {attempt_word} in {seconds:.1} s); check --endpoint-url, the region and the network path to AWS (proxy, security group, VPC endpoint)",
    attempt_word = if *attempts == 1 { "attempt" } else { "attempts" },
    seconds = elapsed.as_secs_f64()
)]
pub struct Unreachable {
    /// `scheme://host[:port]` of the request.
    pub endpoint: String,
    /// The innermost cause, e.g. `Connection refused (os error 111)`.
    pub cause: String,
    pub attempts: u32,
    pub elapsed: Duration,
}

/// The hook to put on every client.
pub(crate) fn interceptor() -> SharedInterceptor {
    SharedInterceptor::new(NoteUnreachable)
}

#[derive(Debug)]
struct CallStarted(Instant);

impl Storable for CallStarted {
    type Storer = StoreReplace<Self>;
}

#[derive(Debug)]
struct CallEndpoint(String);

impl Storable for CallEndpoint {
    type Storer = StoreReplace<Self>;
}

#[derive(Debug)]
struct NoteUnreachable;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl Intercept for NoteUnreachable {
    fn name(&self) -> &'static str {
        "NoteUnreachable"
    }

    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state()
            .store_put(CallStarted(Instant::now()));
        Ok(())
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let endpoint = origin(context.request().uri()).to_owned();
        cfg.interceptor_state().store_put(CallEndpoint(endpoint));
        Ok(())
    }

    fn modify_before_completion(
        &self,
        context: &mut FinalizerInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(Err(error)) = context.output_or_error_mut() else {
            return Ok(());
        };
        let Some(connector) = error.as_connector_error() else {
            return Ok(());
        };
        if !(connector.is_io() || connector.is_timeout()) {
            return Ok(());
        }
        let (Some(CallEndpoint(endpoint)), Some(CallStarted(started))) =
            (cfg.load::<CallEndpoint>(), cfg.load::<CallStarted>())
        else {
            return Ok(());
        };
        let unreachable = Unreachable {
            endpoint: endpoint.clone(),
            cause: innermost(connector),
            attempts: cfg.load::<RequestAttempts>().map_or(1, |a| a.attempts()),
            elapsed: started.elapsed(),
        };
        let replacement = if connector.is_timeout() {
            ConnectorError::timeout(Box::new(unreachable))
        } else {
            ConnectorError::io(Box::new(unreachable))
        };
        *error = OrchestratorError::connector(replacement);
        Ok(())
    }
}

/// `https://ec2.eu-west-1.amazonaws.com/?Action=...` -> `https://ec2.eu-west-1.amazonaws.com`.
fn origin(uri: &str) -> &str {
    let after_scheme = uri.find("://").map_or(0, |i| i + 3);
    match uri[after_scheme..].find(['/', '?']) {
        Some(end) => &uri[..after_scheme + end],
        None => uri,
    }
}

/// The last error of the chain: what the operating system or the resolver said.
pub(crate) fn innermost(err: &(dyn std::error::Error + 'static)) -> String {
    let mut last = err;
    while let Some(source) = last.source() {
        last = source;
    }
    last.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origin_drops_path_and_query() {
        assert_eq!(
            origin("https://ec2.eu-west-1.amazonaws.com/?Action=DescribeNatGateways"),
            "https://ec2.eu-west-1.amazonaws.com"
        );
        assert_eq!(origin("http://127.0.0.1:9"), "http://127.0.0.1:9");
        assert_eq!(
            origin("http://127.0.0.1:9/bucket/key"),
            "http://127.0.0.1:9"
        );
    }

    #[tokio::test]
    async fn a_closed_port_reads_as_one_line_with_endpoint_attempts_and_time() {
        // A port just bound and released: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or(9);
        let endpoint = format!("http://127.0.0.1:{port}");
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(&endpoint)
            .retry_config(
                aws_config::retry::RetryConfig::standard()
                    .with_max_attempts(2)
                    .with_initial_backoff(Duration::from_millis(1)),
            )
            .empty_test_environment()
            .test_credentials()
            .load()
            .await;
        let mut builder = aws_sdk_ec2::config::Builder::from(&config);
        builder.push_interceptor(interceptor());
        let ec2 = aws_sdk_ec2::Client::from_conf(builder.build());
        let Err(err) = ec2.describe_nat_gateways().send().await else {
            panic!("nothing listens on {endpoint}");
        };
        let mapped = super::super::error::from_sdk("ec2:DescribeNatGateways", err);
        let text = mapped.to_string();
        assert!(
            text.starts_with(&format!(
                "ec2:DescribeNatGateways: Unreachable: cannot reach {endpoint}: "
            )),
            "{text}"
        );
        assert!(text.contains("(2 attempts in "), "{text}");
        assert!(!text.contains("DispatchFailure"), "{text}");
        assert!(!text.contains("ConnectorError"), "{text}");
        assert_eq!(text.lines().count(), 1, "{text}");
    }
}
