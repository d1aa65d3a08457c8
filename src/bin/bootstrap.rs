//! The Lambda function's entry point (runtime `provided.al2023` runs a binary named
//! `bootstrap`). All it does is hand each invocation's payload (`{"command":"check"}`) to
//! `nat_flowrec::lambda::handle`, the plain function the tests call; the environment is read
//! once per cold start.

#![forbid(unsafe_code)]

use lambda_runtime::{Error, LambdaEvent, service_fn};
use nat_flowrec::lambda::{LambdaEnv, handle};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let env = LambdaEnv::from_env()?;
    let env = &env;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handle(event.payload, env).await.map_err(Error::from)
    }))
    .await
}
