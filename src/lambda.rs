//! The job as an AWS Lambda function: EventBridge Scheduler invokes it with a payload naming the
//! command (`{"command":"check"}`), and it runs the same code as the CLI. This module is the
//! handler as a plain async function, free of `lambda_runtime` types, so tests call it directly;
//! `src/bin/bootstrap.rs` (feature `lambda`) only wires it to the runtime.
//!
//! A function has no disk that outlives an invocation: the event log must be in S3
//! (`state = "s3://..."`), the configuration comes from an S3 object
//! (`NAT_FLOWREC_CONFIG_S3=s3://bucket/key`) or from the environment
//! (`NAT_FLOWREC_CONFIG_TOML`, the file's text), and relative folders (exports, reports) are
//! put under `/tmp`.
//!
//! Every environment variable the function reads (README.md, "Run it on AWS Lambda", lists
//! them for users):
//! * `NAT_FLOWREC_CONFIG_TOML`: the configuration's text (the template sets it);
//!   `NAT_FLOWREC_CONFIG_S3` names an `s3://bucket/key` object instead, and wins.
//! * `NAT_FLOWREC_ENDPOINT_URL`: one endpoint for every AWS service (an emulator such as moto).
//! * `NAT_FLOWREC_SCRATCH`: where relative folders go (default `/tmp`).
//! * `NAT_FLOWREC_AWS_ATTEMPT_TIMEOUT_SECS`: one AWS call attempt's timeout (default 30 s).
//! * `NAT_FLOWREC_RECORD_OPERATIONS`: a file to append every AWS operation called to (tests).
//! * `RUST_LOG`: the log filter (default `warn`); log lines are JSON whatever it says.
//! * Set by Lambda: `AWS_REGION` (or `AWS_DEFAULT_REGION`; the configuration's `region` wins),
//!   the role's credentials (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`),
//!   `AWS_LAMBDA_LOG_STREAM_NAME` (names this run in the event log's lease), and what the
//!   runtime loop needs (`AWS_LAMBDA_RUNTIME_API`, `AWS_LAMBDA_FUNCTION_NAME`,
//!   `AWS_LAMBDA_FUNCTION_VERSION`, `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`).

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::{Action, LogFormat, Logging, Settings};
use crate::commands::job;
use crate::commands::{status, wiring};
use crate::config::{Config, ConfigError};
use crate::names::{Region, S3Object};
use crate::ports::AwsError;
use crate::store::{ObjectStore, StateLocation, StoreError};

/// The configuration object (`s3://bucket/key` of a TOML file).
pub const ENV_CONFIG_S3: &str = "NAT_FLOWREC_CONFIG_S3";
/// The configuration itself (TOML text), when there is no object.
pub const ENV_CONFIG_TOML: &str = "NAT_FLOWREC_CONFIG_TOML";
/// One endpoint for every AWS service (emulators, tests).
pub const ENV_ENDPOINT_URL: &str = "NAT_FLOWREC_ENDPOINT_URL";
/// Where relative folders go (default `/tmp`, the only writable place in Lambda).
pub const ENV_SCRATCH: &str = "NAT_FLOWREC_SCRATCH";

/// What an invocation asks for.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    /// One tick (what the schedule sends).
    Check {
        #[serde(default)]
        dry_run: bool,
    },
    Reconcile {
        #[serde(default)]
        dry_run: bool,
    },
    /// The state the log adds up to.
    Status,
    /// Stop one NAT gateway's recording (`nat`) or every one (`all: true`).
    Stop {
        #[serde(default)]
        nat: Option<String>,
        #[serde(default)]
        all: bool,
        #[serde(default)]
        dry_run: bool,
    },
    BudgetReset {
        nat: String,
    },
}

/// Where the function's configuration comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    S3(S3Object),
    Toml(String),
}

/// The function's environment, read once per cold start (`from_env`) or given by a test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LambdaEnv {
    pub config: ConfigSource,
    /// `None`: the SDK's chain (Lambda sets `AWS_REGION`); the configuration's `region` wins.
    pub region: Option<Region>,
    pub endpoint_url: Option<String>,
    pub scratch: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum LambdaError {
    #[error(
        "the payload {payload} is not a command ({problem}); send e.g. {{\"command\":\"check\"}} (commands: check, reconcile, status, stop, budget_reset)"
    )]
    BadRequest { payload: String, problem: String },
    #[error(
        "no configuration: set {ENV_CONFIG_S3}=s3://bucket/key (a TOML object) or {ENV_CONFIG_TOML} (the TOML text) in the function's environment"
    )]
    NoConfig,
    #[error("{ENV_CONFIG_S3}={value} is not valid: {expected}")]
    BadConfigLocation { value: String, expected: String },
    #[error("AWS_REGION={value} is not valid: {expected}")]
    BadRegion { value: String, expected: String },
    #[error("cannot read the configuration object {uri}: {source}")]
    ConfigObject {
        uri: String,
        #[source]
        source: AwsError,
    },
    #[error(
        "there is no configuration object at {uri} ({ENV_CONFIG_S3}); upload the TOML file there"
    )]
    MissingConfigObject { uri: String },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(
        "state = \"{state}\" is a local file, but a Lambda function's disk is gone after each invocation; keep the event log in S3: state = \"s3://bucket/nat-flowrec/events.jsonl\""
    )]
    FileState { state: String },
    /// The run itself failed (AWS, the event log).
    #[error("{0:#}")]
    Run(anyhow::Error),
    /// The run went through, but decisions failed (listed); the invocation fails so that the
    /// function's Errors metric (and any alarm on it) sees it.
    #[error("{command}: {} decision(s) failed: {}", failures.len(), failures.join("; "))]
    Failed {
        command: &'static str,
        failures: Vec<String>,
    },
}

impl LambdaError {
    /// The invocation error's `errorType`: what `aws lambda invoke` shows and what a metric
    /// filter or a caller matches on.
    pub fn error_type(&self) -> &'static str {
        match self {
            LambdaError::BadRequest { .. } => "InvalidPayload",
            LambdaError::NoConfig
            | LambdaError::BadConfigLocation { .. }
            | LambdaError::BadRegion { .. }
            | LambdaError::MissingConfigObject { .. }
            | LambdaError::Config(_)
            | LambdaError::FileState { .. } => "ConfigError",
            LambdaError::ConfigObject { .. } => "AwsError",
            LambdaError::Run(err) => run_error_type(err),
            LambdaError::Failed { .. } => "DecisionsFailed",
        }
    }
}

/// A failed run by its first known cause: an AWS call, the event log held or taken over by
/// another run, the event log itself (damaged, rewritten), or the configuration.
fn run_error_type(err: &anyhow::Error) -> &'static str {
    for cause in err.chain() {
        if let Some(store) = cause.downcast_ref::<StoreError>() {
            return match store {
                StoreError::S3 { .. } => "AwsError",
                StoreError::BadLocation { .. } => "ConfigError",
                StoreError::LeaseLost { .. } => "Locked",
                _ if store.is_locked() => "Locked",
                _ => "EventLogError",
            };
        }
        if cause.is::<AwsError>() {
            return "AwsError";
        }
        if cause.is::<ConfigError>() {
            return "ConfigError";
        }
    }
    "RunError"
}

impl LambdaEnv {
    /// From the process environment.
    pub fn from_env() -> Result<LambdaEnv, LambdaError> {
        LambdaEnv::from_vars(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    /// From any source of variables (tests pass a map).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<LambdaEnv, LambdaError> {
        let config = match (var(ENV_CONFIG_S3), var(ENV_CONFIG_TOML)) {
            (Some(uri), _) => match uri.parse::<S3Object>() {
                Ok(location) => ConfigSource::S3(location),
                Err(e) => {
                    return Err(LambdaError::BadConfigLocation {
                        value: uri,
                        expected: e.expected,
                    });
                }
            },
            (None, Some(text)) => ConfigSource::Toml(text),
            (None, None) => return Err(LambdaError::NoConfig),
        };
        Ok(LambdaEnv {
            config,
            region: var("AWS_REGION")
                .or_else(|| var("AWS_DEFAULT_REGION"))
                .map(|r| r.parse::<Region>())
                .transpose()
                .map_err(|e| LambdaError::BadRegion {
                    value: e.value,
                    expected: e.expected,
                })?,
            endpoint_url: var(ENV_ENDPOINT_URL),
            scratch: var(ENV_SCRATCH).map_or_else(|| PathBuf::from("/tmp"), PathBuf::from),
        })
    }

    /// The run's settings: the region and endpoint of the environment, JSON log lines.
    fn settings(&self) -> Settings {
        Settings {
            config: PathBuf::from(match &self.config {
                ConfigSource::S3(location) => location.to_string(),
                ConfigSource::Toml(_) => format!("${ENV_CONFIG_TOML}"),
            }),
            region: self.region.clone(),
            profile: None,
            endpoint_url: self.endpoint_url.clone(),
            now: None,
            log: Logging {
                format: LogFormat::Json,
                ..Logging::default()
            },
        }
    }
}

/// One invocation on the wall clock.
pub async fn handle(payload: Value, env: &LambdaEnv) -> Result<Value, LambdaError> {
    handle_at(payload, env, Utc::now()).await
}

/// One invocation: reads the configuration afresh (an edited object applies from the next
/// tick), runs the command, returns what the CLI would print with `--output json`. A run that
/// finds another run holding the event log returns `{"locked": true}`: not a failure.
pub async fn handle_at(
    payload: Value,
    env: &LambdaEnv,
    now: DateTime<Utc>,
) -> Result<Value, LambdaError> {
    let global = env.settings();
    wiring::init_logging(&global);
    let request: Request =
        serde_json::from_value(payload.clone()).map_err(|e| LambdaError::BadRequest {
            payload: payload.to_string(),
            problem: e.to_string(),
        })?;
    let cfg = load_config(env, &global).await?;
    tracing::info!(?request, state = %cfg.state.display(), "invocation");

    let (name, dry_run, action) = match &request {
        Request::Status => {
            let log = wiring::read_log(&global, &cfg)
                .await
                .map_err(LambdaError::Run)?;
            let status =
                status::to_json(&cfg, log.events(), now).map_err(|e| LambdaError::Run(e.into()))?;
            return Ok(json!({ "command": "status", "status": status }));
        }
        Request::Check { dry_run } => ("check", *dry_run, Action::Check),
        Request::Reconcile { dry_run } => ("reconcile", *dry_run, Action::Reconcile),
        Request::Stop { nat, all, dry_run } => {
            if nat.is_some() == *all {
                return Err(LambdaError::BadRequest {
                    payload: payload.to_string(),
                    problem: "stop takes either \"nat\": \"nat-...\" or \"all\": true".into(),
                });
            }
            ("stop", *dry_run, Action::Stop { nat: nat.clone() })
        }
        Request::BudgetReset { nat } => (
            "budget_reset",
            false,
            Action::BudgetReset { nat: nat.clone() },
        ),
    };
    match job::run_with(&global, &cfg, &action, dry_run, now)
        .await
        .map_err(LambdaError::Run)?
    {
        None => Ok(json!({ "command": name, "locked": true })),
        Some(outcome) if !outcome.ok() => Err(LambdaError::Failed {
            command: name,
            failures: outcome.failures.clone(),
        }),
        Some(outcome) => {
            // The same JSON as the CLI's `--output json`.
            let mut outcome =
                serde_json::to_value(&outcome).map_err(|e| LambdaError::Run(e.into()))?;
            crate::commands::json::normalize(&mut outcome);
            Ok(json!({ "command": name, "locked": false, "outcome": outcome }))
        }
    }
}

/// The configuration, checked like the CLI's, with the Lambda's rules on top: the event log in
/// S3, relative folders under the scratch folder.
async fn load_config(env: &LambdaEnv, global: &Settings) -> Result<Config, LambdaError> {
    let mut cfg = match &env.config {
        ConfigSource::Toml(text) => Config::from_toml_str(text, &format!("${ENV_CONFIG_TOML}"))?,
        ConfigSource::S3(location) => {
            let uri = location.to_string();
            let settings = crate::aws::AwsSettings {
                region: env.region.as_ref().map(ToString::to_string),
                profile: None,
                endpoint_url: env.endpoint_url.clone(),
            };
            let client = crate::aws::s3_client(&settings).await;
            let object = ObjectStore::read_object(&client, location.bucket(), location.key())
                .await
                .map_err(|source| LambdaError::ConfigObject {
                    uri: uri.clone(),
                    source,
                })?
                .ok_or_else(|| LambdaError::MissingConfigObject { uri: uri.clone() })?;
            let text = String::from_utf8_lossy(&object.body);
            Config::from_toml_str(&text, &uri)?
        }
    };
    if let Some(region) = &global.region
        && cfg.region.is_none()
    {
        cfg.region = Some(region.clone());
    }
    match StateLocation::of(&cfg.state) {
        Ok(StateLocation::S3(_)) => {}
        _ => {
            return Err(LambdaError::FileState {
                state: cfg.state.display().to_string(),
            });
        }
    }
    if cfg.report.out_dir.is_relative() {
        cfg.report.out_dir = env.scratch.join(&cfg.report.out_dir);
    }
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn payloads_name_the_command() {
        let parse = |v: Value| serde_json::from_value::<Request>(v);
        assert_eq!(
            parse(json!({"command": "check"})).unwrap(),
            Request::Check { dry_run: false }
        );
        assert_eq!(
            parse(json!({"command": "reconcile", "dry_run": true})).unwrap(),
            Request::Reconcile { dry_run: true }
        );
        assert_eq!(
            parse(json!({"command": "status"})).unwrap(),
            Request::Status
        );
        assert_eq!(
            parse(json!({"command": "budget_reset", "nat": "nat-01234567"})).unwrap(),
            Request::BudgetReset {
                nat: "nat-01234567".into()
            }
        );
        for bad in [
            json!({}),
            json!({"command": "chek"}),
            json!({"command": "check", "dryrun": true}),
            json!("check"),
        ] {
            assert!(parse(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_environment_names_the_configuration() {
        let env = LambdaEnv::from_vars(vars(&[
            (ENV_CONFIG_S3, "s3://cfg-bucket/nat-flowrec.toml"),
            ("AWS_REGION", "eu-west-1"),
        ]))
        .unwrap();
        assert_eq!(
            env.config,
            ConfigSource::S3(S3Object::new("cfg-bucket", "nat-flowrec.toml"))
        );
        assert_eq!(env.region.as_deref(), Some("eu-west-1"));
        assert_eq!(env.scratch, PathBuf::from("/tmp"));

        let env = LambdaEnv::from_vars(vars(&[
            (ENV_CONFIG_TOML, "nat_gateway_ids = []"),
            (ENV_SCRATCH, "/scratch"),
        ]))
        .unwrap();
        assert_eq!(
            env.config,
            ConfigSource::Toml("nat_gateway_ids = []".into())
        );
        assert_eq!(env.scratch, PathBuf::from("/scratch"));

        let err = LambdaEnv::from_vars(vars(&[])).unwrap_err();
        assert!(err.to_string().contains(ENV_CONFIG_S3), "{err}");
        let err = LambdaEnv::from_vars(vars(&[(ENV_CONFIG_S3, "cfg-bucket/x.toml")])).unwrap_err();
        assert!(
            matches!(err, LambdaError::BadConfigLocation { .. }),
            "{err}"
        );
    }

    fn toml_env(state: &str) -> LambdaEnv {
        LambdaEnv {
            config: ConfigSource::Toml(format!(
                "nat_gateway_ids = [\"nat-0123456789abcdef0\"]\nstate = \"{state}\"\n"
            )),
            region: Some("us-east-1".parse().unwrap()),
            endpoint_url: None,
            scratch: PathBuf::from("/scratch"),
        }
    }

    #[tokio::test]
    async fn the_event_log_must_be_in_s3_and_folders_go_to_scratch() {
        let env = toml_env("state/events.jsonl");
        let err = load_config(&env, &env.settings()).await.unwrap_err();
        assert!(matches!(err, LambdaError::FileState { .. }), "{err}");
        assert!(err.to_string().contains("s3://"), "{err}");

        let env = toml_env("s3://state-bucket/nat-flowrec/events.jsonl");
        let cfg = load_config(&env, &env.settings()).await.unwrap();
        assert_eq!(
            cfg.report.out_dir,
            PathBuf::from("/scratch/nat-flowrec-reports")
        );
        assert_eq!(cfg.region.as_deref(), Some("us-east-1"));
    }

    #[tokio::test]
    async fn a_bad_payload_or_configuration_is_an_error_that_says_what_would_do() {
        let env = toml_env("s3://state-bucket/nat-flowrec/events.jsonl");
        let err = handle(json!({"command": "dance"}), &env).await.unwrap_err();
        assert!(matches!(err, LambdaError::BadRequest { .. }), "{err}");
        assert!(err.to_string().contains("\"command\":\"check\""), "{err}");

        let mut env = toml_env("s3://state-bucket/nat-flowrec/events.jsonl");
        env.config = ConfigSource::Toml("nat_gateway_ids = [\"nat-1\"]\n".into());
        let err = handle(json!({"command": "check"}), &env).await.unwrap_err();
        assert!(matches!(err, LambdaError::Config(_)), "{err}");
        assert_eq!(err.error_type(), "ConfigError");
    }

    #[test]
    fn an_error_type_says_what_kind_of_failure_not_which_rust_type() {
        let bad = LambdaError::BadRequest {
            payload: "{}".into(),
            problem: "missing field `command`".into(),
        };
        assert_eq!(bad.error_type(), "InvalidPayload");
        assert_eq!(LambdaError::NoConfig.error_type(), "ConfigError");

        let denied = AwsError::new(
            "s3:GetObject",
            "AccessDenied",
            "not allowed",
            crate::ports::AwsErrorKind::AccessDenied,
        );
        let in_the_log = StoreError::S3 {
            uri: "s3://b/k".into(),
            source: denied.clone(),
        };
        let run = |e: anyhow::Error| LambdaError::Run(e.context("check")).error_type();
        assert_eq!(run(denied.into()), "AwsError");
        assert_eq!(run(in_the_log.into()), "AwsError");
        let taken = StoreError::LeaseLost {
            uri: "s3://b/k".into(),
            holder: "other".into(),
            pending: 1,
        };
        assert_eq!(run(taken.into()), "Locked");
        let rewritten = StoreError::Rewritten {
            uri: "s3://b/k".into(),
            pending: 1,
        };
        assert_eq!(run(rewritten.into()), "EventLogError");
        assert_eq!(run(anyhow::anyhow!("something else")), "RunError");
        let failed = LambdaError::Failed {
            command: "check",
            failures: vec!["nat-1: ec2:CreateFlowLogs: denied".into()],
        };
        assert_eq!(failed.error_type(), "DecisionsFailed");
    }
}
