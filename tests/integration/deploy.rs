//! The ways users run the job: the README's cron and systemd snippets are the files
//! under deploy/, parse, and their exact command lines run against moto (only the install paths
//! are swapped for temporary ones); `watch` as the service runs it stops on SIGTERM with exit 0
//! and a complete event log; the CloudFormation template passes cfn-lint and grants every AWS
//! operation the code calls.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nat_flowrec::store::EventLog;
use serde_json::Value;

use crate::support::moto::{Moto, moto, spiking_nat};
use crate::support::run::{assert_started, text};

const ROLE: &str = "arn:aws:iam::123456789012:role/nat-flowrec-delivery";
/// The deploy files the README names; a block that shows one (it starts with a comment naming its
/// file) shows it verbatim.
const DEPLOY_FILES: &[&str] = &[
    "deploy/cron/nat-flowrec",
    "deploy/systemd/nat-flowrec-check.service",
    "deploy/systemd/nat-flowrec-check.timer",
    "deploy/systemd/nat-flowrec-watch.service",
];
/// Bounds on waiting for a process (a cold moto, a slow machine); never asserted on.
const PROCESS_LIMIT: Duration = Duration::from_secs(180);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The README's fenced code blocks: (info string, content).
fn fenced_blocks(markdown: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, String)> = None;
    for line in markdown.lines() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(info)) => open = Some((info.trim().to_string(), String::new())),
            (Some(_), Some(_)) => blocks.push(open.take().unwrap()),
            (Some((_, body)), None) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "an unclosed code block in README.md");
    blocks
}

#[test]
fn the_readme_names_the_deploy_files_and_shows_them_verbatim() {
    let readme = read("README.md");
    let blocks = fenced_blocks(&readme);
    for file in DEPLOY_FILES {
        assert!(readme.contains(file), "README.md does not name {file}");
        let content = read(file);
        for (_, shown) in blocks
            .iter()
            .filter(|(_, body)| body.starts_with(&format!("# {file}")))
        {
            assert_eq!(
                shown, &content,
                "README.md's copy of {file} differs from the file"
            );
        }
    }
    for heading in [
        "### Run from cron",
        "### Run as a systemd service",
        "## Three ways to run it",
    ] {
        assert!(
            readme.lines().any(|l| l == heading),
            "README.md lacks `{heading}`"
        );
    }
}

/// A systemd unit: section -> (key, value) in file order. Fails on anything that is not a
/// comment, a section header or `Key=Value`, and on keys this project does not use (a typo
/// such as `Typ=oneshot` is ignored by systemd with a mere warning).
fn parse_unit(name: &str, text: &str) -> BTreeMap<String, Vec<(String, String)>> {
    const KNOWN: &[(&str, &[&str])] = &[
        ("Unit", &["Description", "Documentation", "Wants", "After"]),
        (
            "Service",
            &[
                "Type",
                "User",
                "Group",
                "StateDirectory",
                "WorkingDirectory",
                "Environment",
                "ExecStart",
                "SuccessExitStatus",
                "TimeoutStartSec",
                "TimeoutStopSec",
                "KillSignal",
                "KillMode",
                "Restart",
                "RestartSec",
                "NoNewPrivileges",
                "ProtectSystem",
                "ProtectHome",
                "PrivateTmp",
                "PrivateDevices",
                "ProtectKernelTunables",
                "ProtectKernelModules",
                "ProtectControlGroups",
                "RestrictAddressFamilies",
                "RestrictNamespaces",
                "LockPersonality",
                "MemoryDenyWriteExecute",
                "SystemCallArchitectures",
            ],
        ),
        ("Timer", &["OnCalendar", "AccuracySec", "Unit"]),
        ("Install", &["WantedBy"]),
    ];
    let mut unit: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut section: Option<String> = None;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = Some(name.to_string());
            unit.entry(name.to_string()).or_default();
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("{name}:{}: not Key=Value: {line}", i + 1));
        let section = section
            .as_ref()
            .unwrap_or_else(|| panic!("{name}:{}: outside a section", i + 1));
        let known = KNOWN
            .iter()
            .find(|(s, _)| s == section)
            .unwrap_or_else(|| panic!("{name}: unknown section [{section}]"));
        assert!(
            known.1.contains(&key),
            "{name}:{}: unknown key {key} in [{section}]",
            i + 1
        );
        unit.get_mut(section)
            .unwrap()
            .push((key.to_string(), value.to_string()));
    }
    unit
}

fn one<'a>(unit: &'a BTreeMap<String, Vec<(String, String)>>, section: &str, key: &str) -> &'a str {
    let values: Vec<&str> = unit
        .get(section)
        .into_iter()
        .flatten()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(values.len(), 1, "[{section}] {key}: {values:?}");
    values[0]
}

/// The install paths of the snippets and what the test puts in their place. Everything else in
/// a command line stays as written.
struct Host {
    root: tempfile::TempDir,
}

impl Host {
    fn new(nat: &str, region: &str) -> Host {
        let root = tempfile::tempdir().unwrap();
        for dir in ["etc", "var-lib", "var-log"] {
            std::fs::create_dir_all(root.path().join(dir)).unwrap();
        }
        let config = format!(
            "region = \"{region}\"\nnat_gateway_ids = [\"{nat}\"]\n\
             state = \"nat-flowrec-state/events.jsonl\"\n\n[recording]\n\
             log_group = \"/nat-flowrec/deploy-{nat}\"\ndeliver_logs_role_arn = \"{ROLE}\"\n"
        );
        std::fs::write(root.path().join("etc/nat-flowrec.toml"), config).unwrap();
        Host { root }
    }

    fn substitutions(&self) -> Vec<(String, String)> {
        let bin = PathBuf::from(env!("CARGO_BIN_EXE_nat-flowrec"));
        let bin_dir = bin.parent().unwrap().display().to_string();
        let root = self.root.path().display().to_string();
        vec![
            (
                "/usr/local/bin/nat-flowrec".into(),
                bin.display().to_string(),
            ),
            ("/usr/local/bin:".into(), format!("{bin_dir}:")),
            (
                "/etc/nat-flowrec/nat-flowrec.toml".into(),
                format!("{root}/etc/nat-flowrec.toml"),
            ),
            ("/var/lib/nat-flowrec".into(), format!("{root}/var-lib")),
            (
                "/var/log/nat-flowrec/check.log".into(),
                format!("{root}/var-log/check.log"),
            ),
        ]
    }

    /// `text` with the install paths swapped; panics if another absolute path is left that is
    /// neither a system one (`/bin`, `/usr/bin`) nor inside the temporary root.
    fn localize(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (from, to) in self.substitutions() {
            out = out.replace(&from, &to);
        }
        let root = self.root.path().display().to_string();
        let bin = env!("CARGO_BIN_EXE_nat-flowrec");
        let bin_dir = Path::new(bin).parent().unwrap().display().to_string();
        for word in out.split(|c: char| c.is_whitespace() || c == '=' || c == ':' || c == '>') {
            if word.starts_with('/') {
                assert!(
                    word.starts_with(&root)
                        || word.starts_with(&bin_dir)
                        || ["/bin", "/usr/bin", "/bin/sh"].contains(&word),
                    "an install path the test does not know: {word} (in {text})"
                );
            }
        }
        out
    }

    fn state(&self) -> PathBuf {
        self.root
            .path()
            .join("var-lib/nat-flowrec-state/events.jsonl")
    }

    /// What every scheduler gives a job: a clean environment. Only the account differs: dummy
    /// credentials and moto's endpoint instead of a real AWS.
    fn clean_env(&self, cmd: &mut Command, moto: &Moto) {
        let root = self.root.path();
        cmd.env_clear()
            .env("HOME", root)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_SESSION_TOKEN", "testing")
            .env("AWS_CONFIG_FILE", root.join("no-aws-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                root.join("no-aws-credentials"),
            )
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("NAT_FLOWREC_ENDPOINT_URL", &moto.endpoint);
    }

    fn events(&self) -> Vec<String> {
        let log = EventLog::read(&self.state()).unwrap();
        assert!(log.warnings().is_empty(), "{:?}", log.warnings());
        log.events()
            .iter()
            .map(|e| e.event.kind().to_string())
            .collect()
    }
}

/// A cron field: `*`, `*/n`, `a`, `a-b`, lists of those, within `min..=max`.
fn valid_cron_field(field: &str, min: u32, max: u32) -> bool {
    field.split(',').all(|part| {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().ok().filter(|s| *s > 0).map(|_| ())),
            None => (part, Some(())),
        };
        let in_range = |n: &str| n.parse::<u32>().is_ok_and(|n| (min..=max).contains(&n));
        step.is_some()
            && (range == "*"
                || in_range(range)
                || range
                    .split_once('-')
                    .is_some_and(|(a, b)| in_range(a) && in_range(b)))
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cron_line_runs_a_tick_against_moto() {
    let moto = moto();
    let nat = spiking_nat(moto, "eu-west-2", 72).await.nat_gateway_id;
    let host = Host::new(&nat, "eu-west-2");
    let crontab = read("deploy/cron/nat-flowrec");

    let mut env = Vec::new();
    let mut jobs = Vec::new();
    for line in crontab
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let fields: Vec<&str> = line.splitn(7, char::is_whitespace).collect();
        match line.split_once('=') {
            Some((name, value)) if !name.contains(' ') => {
                env.push((name.to_string(), value.to_string()))
            }
            _ => {
                // /etc/cron.d: minute hour day-of-month month day-of-week user command
                assert_eq!(fields.len(), 7, "not a cron.d job line: {line}");
                let ranges = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)];
                for (field, (min, max)) in fields.iter().zip(ranges) {
                    assert!(
                        valid_cron_field(field, min, max),
                        "bad cron field `{field}` in {line}"
                    );
                }
                assert_eq!(
                    fields[5], "nat-flowrec",
                    "runs as the user the README creates"
                );
                jobs.push(fields[6].to_string());
            }
        }
    }
    assert_eq!(jobs.len(), 1, "{crontab}");
    let names: Vec<&str> = env.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["SHELL", "PATH", "NAT_FLOWREC_CONFIG"]);

    // cron runs the command with SHELL, in the user's home, with only the file's variables.
    let shell = &env[0].1;
    let mut cmd = Command::new(shell);
    host.clean_env(&mut cmd, moto);
    for (name, value) in &env {
        cmd.env(name, host.localize(value));
    }
    let o = cmd
        .arg("-c")
        .arg(host.localize(&jobs[0]))
        .current_dir(host.root.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        o.stdout.is_empty() && o.stderr.is_empty(),
        "everything goes to the log: {}",
        text(&o)
    );

    let log = std::fs::read_to_string(host.root.path().join("var-log/check.log")).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("check.log is JSON Lines ({e}): {l}"))
        })
        .collect();
    let outcome = lines
        .iter()
        .find(|l| l.get("decisions").is_some())
        .expect("the tick's outcome");
    assert!(
        outcome["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["action"] == "start"),
        "{outcome}"
    );
    assert!(host.events().contains(&"RecordingStarted".to_string()));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_systemd_timer_and_check_unit_run_a_tick_against_moto() {
    let timer = parse_unit(
        "nat-flowrec-check.timer",
        &read("deploy/systemd/nat-flowrec-check.timer"),
    );
    let service_name = one(&timer, "Timer", "Unit");
    assert!(
        repo().join("deploy/systemd").join(service_name).is_file(),
        "{service_name}"
    );
    assert_eq!(one(&timer, "Install", "WantedBy"), "timers.target");
    assert!(!one(&timer, "Timer", "OnCalendar").is_empty());

    let unit = parse_unit(
        service_name,
        &read(&format!("deploy/systemd/{service_name}")),
    );
    assert_eq!(one(&unit, "Service", "Type"), "oneshot");
    assert!(
        unit.get("Service")
            .is_some_and(|keys| keys.iter().all(|(key, _)| key != "SuccessExitStatus")),
        "a tick that finds the lock held exits 0: no exit code to excuse"
    );
    let state_dir = one(&unit, "Service", "StateDirectory");
    assert_eq!(
        one(&unit, "Service", "WorkingDirectory"),
        format!("/var/lib/{state_dir}")
    );

    let moto = moto();
    let nat = spiking_nat(moto, "eu-west-3", 73).await.nat_gateway_id;
    let host = Host::new(&nat, "eu-west-3");
    let o = systemd_command(&host, &unit, moto).output().unwrap();
    assert_started(&o);
    assert!(host.events().contains(&"RecordingStarted".to_string()));

    // A second tick at once: already recording, nothing new.
    let o = systemd_command(&host, &unit, moto).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        host.events()
            .iter()
            .filter(|k| *k == "RecordingStarted")
            .count(),
        1
    );
}

/// ExecStart as systemd runs it: split on blanks (the units quote nothing), in
/// WorkingDirectory, with Environment= and nothing else.
fn systemd_command(
    host: &Host,
    unit: &BTreeMap<String, Vec<(String, String)>>,
    moto: &Moto,
) -> Command {
    let exec = host.localize(one(unit, "Service", "ExecStart"));
    let mut words = exec.split_whitespace();
    let program = words.next().expect("ExecStart names a program");
    assert!(Path::new(program).is_absolute(), "{program}");
    let mut cmd = Command::new(program);
    cmd.args(words);
    host.clean_env(&mut cmd, moto);
    for (key, value) in unit.get("Service").into_iter().flatten() {
        if key == "Environment" {
            let (name, value) = value.split_once('=').expect("Environment=NAME=value");
            cmd.env(name, host.localize(value));
        }
    }
    cmd.current_dir(host.localize(one(unit, "Service", "WorkingDirectory")));
    cmd
}

#[tokio::test(flavor = "multi_thread")]
async fn the_watch_service_stops_on_sigterm_with_exit_0_and_a_complete_event_log() {
    let unit = parse_unit(
        "nat-flowrec-watch.service",
        &read("deploy/systemd/nat-flowrec-watch.service"),
    );
    assert_eq!(one(&unit, "Service", "KillSignal"), "SIGTERM");
    assert!(one(&unit, "Service", "ExecStart").contains(" watch"));

    let moto = moto();
    let nat = spiking_nat(moto, "eu-central-1", 74).await.nat_gateway_id;
    let host = Host::new(&nat, "eu-central-1");
    let stderr_path = host.root.path().join("watch.stderr");
    let mut child = systemd_command(&host, &unit, moto)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // The first tick starts a recording; then watch sleeps for its interval.
    let started = Instant::now();
    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|l: &String| l.contains("started recording"))
    {
        match rx.recv_timeout(Duration::from_secs(1)) {
            Ok(line) => seen.push(line),
            Err(mpsc::RecvTimeoutError::Timeout) if started.elapsed() < PROCESS_LIMIT => {}
            Err(e) => {
                let _ = child.kill();
                panic!(
                    "watch printed no tick ({e}): {seen:?}\n{}",
                    std::fs::read_to_string(&stderr_path).unwrap_or_default()
                );
            }
        }
    }

    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > PROCESS_LIMIT * 2 {
            let _ = child.kill();
            panic!("watch did not stop after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stderr = std::fs::read_to_string(&stderr_path).unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("stopping (signal received)"), "{stderr}");

    let raw = std::fs::read_to_string(host.state()).unwrap();
    assert!(raw.ends_with('\n'), "no half-written line: {raw}");
    let events = host.events();
    assert_eq!(
        events.iter().filter(|k| *k == "RecordingStarted").count(),
        1,
        "{events:?}"
    );
}

fn cfn_lint() -> PathBuf {
    let path = match std::env::var_os("NAT_FLOWREC_CFN_LINT") {
        Some(path) => PathBuf::from(path),
        None => repo().join(".venv/bin/cfn-lint"),
    };
    assert!(
        path.is_file(),
        "cfn-lint is not installed: {} does not exist. Run scripts/test, which installs \
         tests/requirements.txt into .venv; NAT_FLOWREC_CFN_LINT may name another cfn-lint.",
        path.display()
    );
    path
}

#[test]
fn the_cloudformation_template_passes_cfn_lint() {
    let o = Command::new(cfn_lint())
        .arg(repo().join("deploy/nat-flowrec.yaml"))
        .output()
        .unwrap();
    assert!(
        o.status.success() && o.stdout.is_empty(),
        "cfn-lint reports problems in deploy/nat-flowrec.yaml:\n{}",
        text(&o)
    );

    // The lint is real: the same template with a runtime that does not exist fails.
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.yaml");
    let template = read("deploy/nat-flowrec.yaml");
    assert!(template.contains("Runtime: provided.al2023"));
    std::fs::write(
        &broken,
        template.replace("Runtime: provided.al2023", "Runtime: provided.al1999"),
    )
    .unwrap();
    let o = Command::new(cfn_lint()).arg(&broken).output().unwrap();
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("E3030"),
        "{}",
        text(&o)
    );
}

/// Every AWS operation the scheduled job calls: the operation constants (`const OP_...: &str =
/// "service:Operation"`) of the adapters in src/aws/ and of the S3 event log's adapter. Left
/// out: the IAM, log-group and topic reads of `doctor`'s inventory (iam.rs, inventory.rs) and
/// Athena's queries of `report --engine athena` (athena.rs; the operator policy grants them when
/// configured, tests/integration/athena.rs checks it), which an operator runs from a shell with
/// their own rights, never the function.
fn operations_the_job_calls() -> Vec<String> {
    const DOCTOR_ONLY: &[&str] = &["iam.rs", "inventory.rs", "athena.rs"];
    let mut ops = Vec::new();
    for entry in std::fs::read_dir(repo().join("src/aws")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".rs") || DOCTOR_ONLY.contains(&name.as_str()) {
            continue;
        }
        for line in std::fs::read_to_string(&path).unwrap().lines() {
            let line = line.trim_start();
            if (line.starts_with("const OP_")
                || line.starts_with("pub const OP_")
                || line.starts_with("pub(crate) const OP_"))
                && let Some(quoted) = line.split('"').nth(1)
                && let Some(op) = quoted.split_whitespace().next()
            {
                // `s3:GetObject (pre-signed)`: the action a pre-signed link is checked against.
                ops.push(op.to_string());
            }
        }
    }
    ops.sort();
    ops.dedup();
    ops
}

#[test]
fn the_template_grants_what_the_job_calls_and_guards_what_it_creates() {
    let template = read("deploy/nat-flowrec.yaml");
    let ops = operations_the_job_calls();
    for must in [
        "ec2:CreateFlowLogs",
        "ec2:DeleteFlowLogs",
        "cloudwatch:GetMetricData",
        "logs:CreateLogGroup",
        "s3:PutObject",
    ] {
        assert!(
            ops.iter().any(|o| o == must),
            "the scan misses {must}: {ops:?}"
        );
    }
    for op in &ops {
        assert!(
            template.contains(&format!("- {op}\n"))
                || template.contains(&format!("Action: {op}\n")),
            "deploy/nat-flowrec.yaml does not grant {op}, which the code calls"
        );
    }
    for expected in [
        "Runtime: provided.al2023",
        "LogGroupClass: INFREQUENT_ACCESS",
        "Service: vpc-flow-logs.amazonaws.com",
        "aws:SourceAccount: !Ref AWS::AccountId",
        "BlockPublicAcls: true",
        "RestrictPublicBuckets: true",
        "SSEAlgorithm: AES256",
        "Type: AWS::Scheduler::Schedule",
        "Input: '{\"command\":\"check\"}'",
        "Protocol: email",
        "aws:ResourceTag/nat-flowrec:recording",
        "iam:PassedToService: vpc-flow-logs.amazonaws.com",
    ] {
        assert!(
            template.contains(expected),
            "deploy/nat-flowrec.yaml lacks `{expected}`"
        );
    }
}

#[test]
fn the_configuration_the_template_gives_the_function_is_valid() {
    let template = read("deploy/nat-flowrec.yaml");
    let start = template
        .find("NAT_FLOWREC_CONFIG_TOML: !Sub")
        .expect("the config variable");
    let rest = &template[start..];
    let body_start = rest.find("- |\n").expect("a literal block") + 4;
    let body_end = rest.find("- Ids:").expect("the Ids binding");
    let block = &rest[body_start..body_end];
    let indent =
        block.lines().next().unwrap().len() - block.lines().next().unwrap().trim_start().len();
    let mut toml: String = block
        .lines()
        .map(|l| l.get(indent..).unwrap_or("").trim_end().to_string() + "\n")
        .collect();
    for (name, value) in [
        ("${Ids}", "nat-0123456789abcdef0\", \"nat-0fedcba9876543210"),
        ("${StateBucket}", "nat-flowrec-state-bucket"),
        ("${ThresholdBytes}", "100000000"),
        ("${FlowLogsGroupName}", "/nat-flowrec/flowlogs"),
        ("${FlowLogsDestination}", "s3"),
        ("${FlowLogsRetentionDays}", "7"),
        ("${FlowLogsDeliveryRole.Arn}", ROLE),
        ("${MaxRecordings}", "3"),
        ("${DnsQueryLogs}", "true"),
        (
            "${NotificationTopic}",
            "arn:aws:sns:us-east-1:123456789012:nat-flowrec",
        ),
    ] {
        assert!(toml.contains(name), "{name} not in {toml}");
        toml = toml.replace(name, value);
    }
    assert!(!toml.contains("${"), "an unbound variable: {toml}");
    let cfg = nat_flowrec::config::Config::from_toml_str(&toml, "deploy/nat-flowrec.yaml")
        .unwrap_or_else(|e| panic!("{e}\n{toml}"));
    assert_eq!(cfg.nat_gateway_ids.len(), 2);
    assert_eq!(
        cfg.state,
        PathBuf::from("s3://nat-flowrec-state-bucket/nat-flowrec/events.jsonl")
    );
    assert_eq!(cfg.recording.max_recordings, 3);
    assert!(
        cfg.recording.dns_query_logs,
        "DnsQueryLogs = true records DNS queries"
    );
    // FlowLogsDestination = s3 delivers under the state bucket, where the bucket policy lets
    // the log delivery service write.
    let s3 = cfg.recording.s3_delivery().expect("delivery to S3");
    assert_eq!(
        s3.uri(),
        "s3://nat-flowrec-state-bucket/nat-flowrec/flowlogs"
    );
    assert!(template.contains(&format!("${{StateBucket.Arn}}/{}*", s3.logs_root())));
}

fn actions(policy: &Value) -> Vec<String> {
    let statements = policy["Statement"].as_array().expect("Statement is a list");
    let mut out = Vec::new();
    for statement in statements {
        assert_eq!(statement["Effect"], "Allow", "{statement}");
        match &statement["Action"] {
            Value::String(one) => out.push(one.clone()),
            Value::Array(many) => out.extend(many.iter().map(|a| a.as_str().unwrap().to_string())),
            other => panic!("Action {other}"),
        }
    }
    out
}

#[test]
fn the_iam_policies_for_hosts_grant_what_the_job_calls_and_trust_only_this_account() {
    let readme = read("README.md");
    let load = |name: &str| -> Value {
        let rel = format!("deploy/iam/{name}");
        assert!(readme.contains(&rel), "README.md uses {rel}");
        serde_json::from_str(&read(&rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    };
    let job = load("job-policy.json");
    let granted = actions(&job);
    let called = operations_the_job_calls();
    for op in &called {
        assert!(
            granted.contains(op),
            "deploy/iam/job-policy.json does not grant {op}"
        );
    }
    // Least privilege: nothing the code never calls, but what AWS checks inside another call.
    let inside_other_calls: Vec<&str> = nat_flowrec::iam_policy::AUTHORIZATION_ONLY
        .iter()
        .map(|(action, _why)| *action)
        .collect();
    for action in &granted {
        assert!(
            called.contains(action) || inside_other_calls.contains(&action.as_str()),
            "deploy/iam/job-policy.json grants {action}, which nat-flowrec never calls"
        );
    }
    let template = read("deploy/nat-flowrec.yaml");
    for action in &granted {
        assert!(
            template.contains(action.as_str()),
            "the template's role lacks {action} of job-policy.json"
        );
    }
    assert!(
        granted.iter().all(|a| !a.ends_with('*')),
        "no wildcard actions: {granted:?}"
    );

    let trust = load("delivery-trust.json");
    let statement = &trust["Statement"][0];
    assert_eq!(
        statement["Principal"]["Service"],
        "vpc-flow-logs.amazonaws.com"
    );
    assert_eq!(
        statement["Condition"]["StringEquals"]["aws:SourceAccount"],
        "ACCOUNT_ID"
    );
    let bucket = load("bucket-policy.json");
    for statement in bucket["Statement"].as_array().unwrap() {
        assert_eq!(
            statement["Principal"]["Service"],
            nat_flowrec::iam_policy::LOG_DELIVERY_SERVICE
        );
        assert_eq!(
            statement["Condition"]["StringEquals"]["aws:SourceAccount"],
            "ACCOUNT_ID"
        );
    }
    let delivery = actions(&load("delivery-policy.json"));
    for needed in ["logs:CreateLogStream", "logs:PutLogEvents"] {
        assert!(delivery.iter().any(|a| a == needed), "{needed}");
    }
}
