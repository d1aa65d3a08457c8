//! The Lambda function as Lambda runs it: the `bootstrap` binary polling the Runtime API
//! emulator (runtime_api.rs) with the environment Lambda gives a `provided.al2023` function and
//! the variables the CloudFormation template sets, read back from moto's Lambda after deploying
//! the template there (stack.rs). Only the AWS endpoint differs: moto, in a region of the test's
//! own; the event log is in the stack's S3 bucket.
//!
//! `NAT_FLOWREC_BOOTSTRAP` names another build of `bootstrap` (the release zip's) to run the
//! same tests on; each prints the cold start (process start to the first invocation's answer)
//! and the peak memory of a `check` (VmHWM), the figures the template's `MemorySize` rests on.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nat_flowrec::store::{S3Log, S3Object};
use serde_json::Value;

use crate::support::moto::moto;
use crate::support::moto::{sdk_in, spiking_nat};
use crate::support::proxy::{Fault, Proxy};
use crate::support::runtime_api::{Outcome, RuntimeApi};
use crate::support::stack::{Stack, deploy, template_memory_mb};

/// Bounds on waiting for the function (a cold moto, a slow machine); never asserted on.
const LIMIT: Duration = Duration::from_secs(180);

fn bootstrap_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("NAT_FLOWREC_BOOTSTRAP") {
        return PathBuf::from(path);
    }
    match option_env!("CARGO_BIN_EXE_bootstrap") {
        Some(path) => PathBuf::from(path),
        None => panic!(
            "the bootstrap binary is built only with the `lambda` feature: run scripts/test, or \
             cargo test --features nat-flowrec/lambda"
        ),
    }
}

/// One function instance: a `bootstrap` process and the Runtime API it polls.
struct Function {
    child: Child,
    api: RuntimeApi,
    stderr: PathBuf,
}

impl Function {
    /// Starts `bootstrap` as Lambda would for function `name`, with `vars` (the template's) on
    /// top and AWS at `endpoint`.
    fn start(
        name: &str,
        region: &str,
        vars: &BTreeMap<String, String>,
        endpoint: &str,
        scratch: &Path,
    ) -> Function {
        let api = RuntimeApi::start(name, region);
        let stderr = scratch.join(format!("{name}.stderr"));
        let child = Command::new(bootstrap_binary())
            .env_clear()
            // What Lambda sets in a provided.al2023 execution environment.
            .env("AWS_LAMBDA_RUNTIME_API", &api.address)
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env(
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                template_memory_mb().to_string(),
            )
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env(
                "AWS_LAMBDA_LOG_STREAM_NAME",
                format!("2026/01/01/[$LATEST]{name}"),
            )
            .env("AWS_REGION", region)
            .env("AWS_DEFAULT_REGION", region)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_SESSION_TOKEN", "testing")
            .env("_HANDLER", "bootstrap")
            .env("LAMBDA_TASK_ROOT", "/var/task")
            .env("TZ", ":UTC")
            .env("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin")
            // No host configuration leaks in.
            .env("AWS_CONFIG_FILE", scratch.join("no-aws-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                scratch.join("no-credentials"),
            )
            .env("AWS_EC2_METADATA_DISABLED", "true")
            // The test's differences: moto, and a scratch folder of its own instead of /tmp.
            .env("NAT_FLOWREC_ENDPOINT_URL", endpoint)
            .env("NAT_FLOWREC_SCRATCH", scratch)
            .envs(vars)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bootstrap_binary().display()));
        Function { child, api, stderr }
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn invoke(&mut self, payload: &str) -> Outcome {
        let api = self.api.clone();
        let id = api.queue(payload);
        self.outcome(&id)
    }

    fn outcome(&mut self, id: &str) -> Outcome {
        let api = self.api.clone();
        let outcome = api.outcome(id, LIMIT, || self.alive());
        if let Outcome::Error(e) = &outcome {
            eprintln!("{id}: {e:?}\n{}", self.stderr());
        }
        outcome
    }

    /// The process's peak resident memory so far (VmHWM), in KiB.
    fn peak_memory_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no VmHWM in {status}"))
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Waits for the process to end; its exit code.
    fn exit_code(&mut self) -> Option<i32> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(started.elapsed() < LIMIT, "bootstrap did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn event_log(stack: &Stack) -> S3Object {
    S3Object::new(stack.output("StateBucketName"), "nat-flowrec/events.jsonl")
}

async fn recordings_started(stack: &Stack) -> usize {
    let moto = moto();
    let s3 = aws_sdk_s3::Client::new(&sdk_in(moto, &stack.region).await);
    let log = S3Log::read(s3, event_log(stack)).await.unwrap();
    log.events()
        .iter()
        .filter(|e| e.event.kind() == "RecordingStarted")
        .count()
}

/// The template deployed into moto for one spiking NAT (its own flow-log group): the NAT's id,
/// the stack, and the function's environment as the stack set it.
async fn deployed_for_a_spiking_nat(
    region: &str,
    second_octet: u8,
    stack_name: &str,
) -> (String, Stack, BTreeMap<String, String>) {
    let moto = moto();
    let nat = spiking_nat(moto, region, second_octet).await.nat_gateway_id;
    let log_group = format!("/nat-flowrec/lambda-{nat}");
    let stack = deploy(
        moto,
        region,
        stack_name,
        &[("NatGatewayIds", &nat), ("FlowLogsGroupName", &log_group)],
    )
    .await;
    let vars = stack.function_environment(moto);
    (nat, stack, vars)
}

fn decided(response: &Value, action: &str) -> bool {
    response["outcome"]["decisions"]
        .as_array()
        .is_some_and(|d| d.iter().any(|d| d["action"] == action))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_bootstrap_answers_check_status_and_a_bad_payload_through_the_runtime_api() {
    let moto = moto();
    let region = "ca-central-1";
    let (nat, stack, vars) = deployed_for_a_spiking_nat(region, 76, "nat-flowrec-emulated").await;
    let scratch = tempfile::tempdir().unwrap();

    let started = Instant::now();
    let mut function = Function::start(
        "nat-flowrec-emulated-job",
        region,
        &vars,
        &moto.endpoint,
        scratch.path(),
    );
    // What the schedule sends, through a spike: a recording starts, and the S3 log holds it.
    let check = function.invoke(r#"{"command":"check"}"#).response();
    let cold_start = started.elapsed();
    let peak = function.peak_memory_kib();
    assert_eq!(check["command"], "check", "{check}");
    assert_eq!(check["locked"], false, "{check}");
    assert!(decided(&check, "start"), "{check}");
    assert_eq!(recordings_started(&stack).await, 1);

    let status = function.invoke(r#"{"command":"status"}"#).response();
    assert_eq!(status["command"], "status", "{status}");
    let uri = event_log(&stack).to_string();
    assert_eq!(status["status"]["state_file"], uri.as_str(), "{status}");
    assert_eq!(status["status"]["nats"][0]["nat_gateway_id"], nat.as_str());
    assert!(
        status["status"]["nats"][0]["active"].is_object(),
        "{status}"
    );

    // A payload that is not a command: an error naming the problem and what would do, typed
    // so that a caller can tell it from a failed run; the function lives on.
    for (payload, names) in [
        (r#"{"command":"chek"}"#, "chek"),
        (r#"{"comand":"check"}"#, "comand"),
    ] {
        let error = function.invoke(payload).error();
        assert_eq!(error.error_type, "InvalidPayload", "{error:?}");
        assert!(
            error.error_message.contains(names)
                && error.error_message.contains(r#"{"command":"check"}"#),
            "{error:?}"
        );
    }
    assert!(function.alive(), "{}", function.stderr());
    let again = function.invoke(r#"{"command":"check"}"#).response();
    assert!(!decided(&again, "start"), "already recording: {again}");
    assert_eq!(recordings_started(&stack).await, 1);

    // The template's MemorySize rests on this figure, with room for twice as much.
    assert!(
        peak * 2 <= template_memory_mb() * 1024,
        "a check peaked at {peak} KiB: MemorySize {} MB leaves too little headroom",
        template_memory_mb()
    );
    eprintln!(
        "bootstrap {}: cold start to the first check's answer {:.2} s; peak memory after a check {} KiB (VmHWM); MemorySize {} MB",
        bootstrap_binary().display(),
        cold_start.as_secs_f64(),
        peak,
        template_memory_mb()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_instance_on_the_same_s3_log_answers_locked_while_the_first_holds_the_lease() {
    let moto = moto();
    let region = "us-west-2";
    let (_nat, stack, vars) = deployed_for_a_spiking_nat(region, 77, "nat-flowrec-leased").await;
    let scratch = tempfile::tempdir().unwrap();
    // The first instance reaches AWS through a proxy that holds its metric read back: it holds
    // the lease meanwhile.
    let proxy = Proxy::start(&moto.endpoint);
    let mut first = Function::start(
        "nat-flowrec-leased-job",
        region,
        &vars,
        &proxy.endpoint,
        scratch.path(),
    );
    let second_scratch = tempfile::tempdir().unwrap();
    let mut second = Function::start(
        "nat-flowrec-leased-job",
        region,
        &vars,
        &moto.endpoint,
        second_scratch.path(),
    );
    let hold = Duration::from_secs(20);
    proxy.inject("GetMetricData", Fault::Delay(hold), 1);

    let first_check = first.api.queue(r#"{"command":"check"}"#);
    let started = Instant::now();
    while proxy.count("GetMetricData") == 0 {
        assert!(first.alive(), "{}", first.stderr());
        assert!(started.elapsed() < LIMIT, "the first check read no metrics");
        std::thread::sleep(Duration::from_millis(20));
    }
    let locked = second.invoke(r#"{"command":"check"}"#).response();
    assert!(
        started.elapsed() < hold,
        "the second answered after the first let go; the test proves nothing"
    );
    assert_eq!(locked["command"], "check");
    assert_eq!(locked["locked"], true, "{locked}");

    let done = first.outcome(&first_check).response();
    assert_eq!(done["locked"], false, "{done}");
    assert!(decided(&done, "start"), "{done}");
    assert_eq!(recordings_started(&stack).await, 1);

    // The lease was given back: the second instance's next tick runs.
    let next = second.invoke(r#"{"command":"check"}"#).response();
    assert_eq!(next["locked"], false, "{next}");
    assert!(!decided(&next, "start"), "{next}");
}

#[test]
fn a_bootstrap_without_configuration_reports_an_init_error_and_exits() {
    let scratch = tempfile::tempdir().unwrap();
    let mut function = Function::start(
        "nat-flowrec-unconfigured",
        "eu-north-1",
        &BTreeMap::new(),
        "http://127.0.0.1:9",
        scratch.path(),
    );
    assert_eq!(function.exit_code(), Some(1), "{}", function.stderr());
    let error = function
        .api
        .init_error()
        .expect("an init error was reported");
    assert_eq!(error.error_type, "ConfigError", "{error:?}");
    assert_eq!(error.header.as_deref(), Some("Runtime.ConfigError"));
    assert!(
        error.error_message.contains("NAT_FLOWREC_CONFIG_S3")
            && error.error_message.contains("NAT_FLOWREC_CONFIG_TOML"),
        "{error:?}"
    );

    let o = Command::new(bootstrap_binary())
        .arg("--version")
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .starts_with(&format!("nat-flowrec {}", env!("CARGO_PKG_VERSION"))),
        "{o:?}"
    );
}
