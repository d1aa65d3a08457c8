//! The Lambda function's entry point (runtime `provided.al2023` runs a binary named
//! `bootstrap`). All it does is hand each invocation's payload (`{"command":"check"}`) to
//! `nat_flowrec::lambda::handle`, the plain function the tests call; the environment is read
//! once per cold start.
//!
//! Failures reach the caller through the Runtime API with an `errorType` naming the kind of
//! failure (`InvalidPayload`, `ConfigError`, `AwsError`, ...; see `LambdaError::error_type`).
//! An environment without a configuration is an init error (`/runtime/init/error`): Lambda
//! shows it on every invocation until the function's environment is fixed.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use lambda_runtime_api_client::body::Body;
use lambda_runtime_api_client::{PooledClient, build_request};
use nat_flowrec::lambda::{LambdaEnv, LambdaError, handle};
use serde_json::Value;

/// Lambda sets it; without it the binary was started by hand.
const RUNTIME_API_ENV: &str = "AWS_LAMBDA_RUNTIME_API";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match std::env::args().nth(1).as_deref() {
        None => {}
        Some("--version" | "-V") => {
            println!(
                "nat-flowrec {} (AWS Lambda bootstrap)",
                env!("CARGO_PKG_VERSION")
            );
            return ExitCode::SUCCESS;
        }
        Some(other) => {
            eprintln!(
                "bootstrap takes no arguments (`{other}` given) but --version: AWS Lambda runs it; the command line is `nat-flowrec`"
            );
            return ExitCode::from(2);
        }
    }
    if std::env::var_os(RUNTIME_API_ENV).is_none() {
        eprintln!(
            "{RUNTIME_API_ENV} is not set: this is the AWS Lambda entry point, run by Lambda (or a Runtime API emulator); the command line is `nat-flowrec`"
        );
        return ExitCode::from(2);
    }
    let env = match LambdaEnv::from_env() {
        Ok(env) => env,
        Err(err) => {
            eprintln!("{err}");
            report_init_error(&err).await;
            return ExitCode::FAILURE;
        }
    };
    let env = &env;
    let served = lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handle(event.payload, env)
            .await
            .map_err(|err| diagnostic(&err))
    }))
    .await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("the Lambda runtime loop stopped: {err}");
            ExitCode::FAILURE
        }
    }
}

fn diagnostic(err: &LambdaError) -> Diagnostic {
    Diagnostic {
        error_type: err.error_type().into(),
        error_message: err.to_string(),
    }
}

/// Tells Lambda why the function cannot start; it answers every waiting invocation with it.
/// A failure to report is only printed: the exit that follows fails the start anyway.
async fn report_init_error(err: &LambdaError) {
    let body = match serde_json::to_vec(&diagnostic(err)) {
        Ok(body) => body,
        Err(e) => return eprintln!("cannot encode the init error: {e}"),
    };
    let request = build_request()
        .method("POST")
        .uri("/2018-06-01/runtime/init/error")
        .header(
            "Lambda-Runtime-Function-Error-Type",
            format!("Runtime.{}", err.error_type()),
        )
        .body(Body::from(body));
    let request = match request {
        Ok(request) => request,
        Err(e) => return eprintln!("cannot report the init error: {e}"),
    };
    if let Err(e) = PooledClient::builder().build().call(request).await {
        eprintln!("cannot report the init error to the Runtime API: {e}");
    }
}
