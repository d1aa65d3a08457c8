//! The moto server (the AWS emulator, docs/DESIGN.md "Testing") that adapter and end-to-end tests
//! run against: started once per test binary on a free 127.0.0.1 port by `tests/moto_launcher.py`
//! under `.venv/bin/python` (scripts/test creates the venv), and dying with the test binary. The
//! launcher adds the Route 53 Resolver query-logging operations the pinned moto lacks. Tests share it, so each test
//! creates its own resources (VPC, NAT, log group) and asserts on those, instead of resetting.
//!
//! Also the seeding moto needs because it never generates anything itself: NAT gateways with
//! their ENI, `AWS/NATGateway` datapoints (PutMetricData), flow-log records (PutLogEvents).

#![allow(dead_code)] // shared by several test modules, each using a part

use std::io::{Read, Write};
use std::net::{IpAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use aws_sdk_ec2::types::{DomainType, Tag, TagSpecification};
use chrono::{DateTime, TimeDelta, Utc};
use nat_flowrec::aws::{AwsCloud, AwsSettings, config_loader};

/// The version tests/requirements.txt pins; the adapters' moto facts (docs/DESIGN.md, "Testing")
/// are about it.
pub const MOTO_REQUIREMENT: &str = "moto[server]==5.2.5";
/// How long a cold moto may take to import and bind (a slow CI machine, a cold disk).
const STARTUP_LIMIT: Duration = Duration::from_secs(90);

/// A running moto server.
pub struct Moto {
    /// `http://127.0.0.1:<port>`: what `--endpoint-url` and `AwsSettings::endpoint_url` take.
    pub endpoint: String,
    port: u16,
    /// The guard shell: it kills moto when its stdin (held here) closes, which the OS does
    /// when this process exits, however it exits (statics are never dropped).
    _guard: Mutex<Child>,
}

static MOTO: OnceLock<Moto> = OnceLock::new();

/// The moto server of this test binary, started on first use.
pub fn moto() -> &'static Moto {
    MOTO.get_or_init(start)
}

/// The Python of the venv that holds moto (`NAT_FLOWREC_MOTO_PYTHON`, else `.venv/bin/python`).
pub fn python_path() -> PathBuf {
    match std::env::var_os("NAT_FLOWREC_MOTO_PYTHON") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"),
    }
}

/// The launcher that starts moto's server with the operations it lacks added.
pub fn launcher_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/moto_launcher.py")
}

/// A moto server of its own (the shared one is `moto()`), for a test that changes server-wide
/// settings such as IAM enforcement; it dies when the returned value is dropped.
pub fn start() -> Moto {
    let python = python_path();
    let moto_installed = python
        .parent()
        .is_some_and(|bin| bin.join("moto_server").is_file());
    if !moto_installed {
        panic!(
            "moto is not installed beside {}. Run scripts/test, which creates .venv from \
             tests/requirements.txt ({MOTO_REQUIREMENT}); or by hand: python3 -m venv .venv \
             && .venv/bin/pip install '{MOTO_REQUIREMENT}'. NAT_FLOWREC_MOTO_PYTHON may name \
             the Python of another venv holding moto.",
            python.display()
        );
    }
    let server = launcher_path();
    let port = free_port();
    let log = std::env::temp_dir().join(format!("nat-flowrec-moto-{port}.log"));
    // `read` returns when our end of the pipe closes (this process exited): then moto dies.
    let script = r#""$1" "$2" -H 127.0.0.1 -p "$3" >"$4" 2>&1 & pid=$!; read _; kill "$pid" 2>/dev/null; wait "$pid""#;
    let guard = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("nat-flowrec-moto-guard")
        .arg(&python)
        .arg(&server)
        .arg(port.to_string())
        .arg(&log)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start sh to run {}: {e}", server.display()));
    let moto = Moto {
        endpoint: format!("http://127.0.0.1:{port}"),
        port,
        _guard: Mutex::new(guard),
    };
    let started = Instant::now();
    while moto.http("GET", "/moto-api/data.json").is_none() {
        if started.elapsed() > STARTUP_LIMIT {
            let output = std::fs::read_to_string(&log).unwrap_or_default();
            panic!(
                "moto ({}) did not answer on {} within {STARTUP_LIMIT:?}; its output:\n{output}",
                server.display(),
                moto.endpoint
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    moto
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port on 127.0.0.1");
    listener.local_addr().expect("local address").port()
}

impl Moto {
    /// One plain HTTP/1.0 request to moto's own API; `None` until the server answers.
    fn http(&self, method: &str, path: &str) -> Option<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .ok()?;
        write!(
            stream,
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"
        )
        .ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        response.starts_with("HTTP/1").then_some(response)
    }

    /// `POST /moto-api/reset`: forgets every resource. Tests share one moto, so only a test that
    /// owns the whole server (none yet) may call this.
    pub fn reset(&self) {
        let response = self
            .http("POST", "/moto-api/reset")
            .expect("moto answers POST /moto-api/reset");
        assert!(
            response.starts_with("HTTP/1.0 200") || response.starts_with("HTTP/1.1 200"),
            "moto reset failed: {response}"
        );
    }

    pub fn settings(&self) -> AwsSettings {
        self.settings_in("us-east-1")
    }

    /// The settings for a resource in `region` (moto keeps each region's resources apart).
    pub fn settings_in(&self, region: &str) -> AwsSettings {
        AwsSettings {
            region: Some(region.into()),
            profile: None,
            endpoint_url: Some(self.endpoint.clone()),
        }
    }

    /// Our SDK set-up (retries, timeouts) with dummy credentials and no host environment.
    pub async fn sdk_config(&self) -> SdkConfig {
        self.sdk_config_in("us-east-1").await
    }

    /// `sdk_config` for `region`.
    pub async fn sdk_config_in(&self, region: &str) -> SdkConfig {
        config_loader(&self.settings_in(region))
            .empty_test_environment()
            .test_credentials()
            .load()
            .await
    }

    /// The adapters under test. Clients belong to the tokio runtime of the test that makes them.
    pub async fn cloud(&self) -> AwsCloud {
        AwsCloud::new(&self.sdk_config().await)
    }
}

/// A NAT gateway seeded in moto, with what DescribeNatGateways should show for it.
#[derive(Debug, Clone)]
pub struct SeededNat {
    pub nat_gateway_id: String,
    pub vpc_id: String,
    pub subnet_id: String,
    pub eni: String,
    pub private_ip: IpAddr,
    pub public_ip: IpAddr,
}

/// VPC + subnet + Elastic IP + NAT gateway. moto gives the NAT one address with its own ENI.
/// `second_octet` keeps VPCs of parallel tests apart (any value works; it only reads better).
pub async fn seed_nat(ec2: &aws_sdk_ec2::Client, second_octet: u8) -> SeededNat {
    let vpc = ec2
        .create_vpc()
        .cidr_block(format!("10.{second_octet}.0.0/16"))
        .send()
        .await
        .expect("moto CreateVpc");
    let vpc_id = vpc
        .vpc()
        .and_then(|v| v.vpc_id())
        .expect("vpc id")
        .to_owned();
    let subnet = ec2
        .create_subnet()
        .vpc_id(&vpc_id)
        .cidr_block(format!("10.{second_octet}.0.0/24"))
        .send()
        .await
        .expect("moto CreateSubnet");
    let subnet_id = subnet
        .subnet()
        .and_then(|s| s.subnet_id())
        .expect("subnet id")
        .to_owned();
    let eip = ec2
        .allocate_address()
        .domain(DomainType::Vpc)
        .send()
        .await
        .expect("moto AllocateAddress");
    let nat = ec2
        .create_nat_gateway()
        .subnet_id(&subnet_id)
        .allocation_id(eip.allocation_id().expect("allocation id"))
        .send()
        .await
        .expect("moto CreateNatGateway");
    let nat = nat.nat_gateway().expect("nat gateway");
    let address = nat
        .nat_gateway_addresses()
        .first()
        .expect("moto NAT address");
    SeededNat {
        nat_gateway_id: nat.nat_gateway_id().expect("nat id").to_owned(),
        vpc_id,
        subnet_id,
        eni: address.network_interface_id().expect("eni").to_owned(),
        private_ip: address
            .private_ip()
            .expect("private ip")
            .parse()
            .expect("ip"),
        public_ip: address.public_ip().expect("public ip").parse().expect("ip"),
    }
}

/// A flow log someone else made on the ENI: no nat-flowrec tags (only a Name, like a console
/// user would give it).
pub async fn seed_foreign_flow_log(
    ec2: &aws_sdk_ec2::Client,
    eni: &str,
    log_group: &str,
) -> String {
    let out = ec2
        .create_flow_logs()
        .resource_type(aws_sdk_ec2::types::FlowLogsResourceType::NetworkInterface)
        .resource_ids(eni)
        .traffic_type(aws_sdk_ec2::types::TrafficType::All)
        .log_destination_type(aws_sdk_ec2::types::LogDestinationType::CloudWatchLogs)
        .log_group_name(log_group)
        .deliver_logs_permission_arn("arn:aws:iam::123456789012:role/someone-else")
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(aws_sdk_ec2::types::ResourceType::VpcFlowLog)
                .tags(Tag::builder().key("Name").value("audit").build())
                .build(),
        )
        .send()
        .await
        .expect("moto CreateFlowLogs (foreign)");
    out.flow_log_ids().first().expect("a flow log id").clone()
}

/// `AWS/NATGateway` datapoints for one NAT and metric (moto stores them; AWS would refuse the
/// `AWS/` namespace, but only moto is ever seeded).
pub async fn put_nat_metric(
    cw: &aws_sdk_cloudwatch::Client,
    nat_gateway_id: &str,
    metric: &str,
    points: &[(DateTime<Utc>, f64)],
) {
    let dimension = ("NatGatewayId", nat_gateway_id);
    put_metric(cw, "AWS/NATGateway", dimension, metric, points).await;
}

/// `AWS/Logs` `IncomingBytes` of a log group: what CloudWatch Logs ingested per minute.
pub async fn put_log_group_incoming_bytes(
    cw: &aws_sdk_cloudwatch::Client,
    log_group: &str,
    points: &[(DateTime<Utc>, f64)],
) {
    let dimension = ("LogGroupName", log_group);
    put_metric(cw, "AWS/Logs", dimension, "IncomingBytes", points).await;
}

async fn put_metric(
    cw: &aws_sdk_cloudwatch::Client,
    namespace: &str,
    (name, value): (&str, &str),
    metric: &str,
    points: &[(DateTime<Utc>, f64)],
) {
    let data: Vec<MetricDatum> = points
        .iter()
        .map(|(t, v)| {
            MetricDatum::builder()
                .metric_name(metric)
                .dimensions(Dimension::builder().name(name).value(value).build())
                .timestamp(aws_sdk_cloudwatch::primitives::DateTime::from_millis(
                    t.timestamp_millis(),
                ))
                .value(*v)
                .build()
        })
        .collect();
    // PutMetricData takes at most 1000 datums per call.
    for batch in data.chunks(1000) {
        cw.put_metric_data()
            .namespace(namespace)
            .set_metric_data(Some(batch.to_vec()))
            .send()
            .await
            .expect("moto PutMetricData");
    }
}

/// Bytes in one minute far above any configured trigger threshold.
pub const SPIKE: f64 = 500_000_000.0;

/// A spike of `metric` (`BytesInFromSource`, ...) for one NAT in the minute starting at `minute`.
pub async fn put_spike(
    cw: &aws_sdk_cloudwatch::Client,
    nat_gateway_id: &str,
    metric: &str,
    minute: DateTime<Utc>,
) {
    put_nat_metric(cw, nat_gateway_id, metric, &[(minute, SPIKE)]).await;
}
/// Flow-log records as CloudWatch Logs events (timestamp = the record's start, in ms), into a
/// stream created for them, as the flow-logs service would deliver them.
pub async fn put_log_events(
    logs: &aws_sdk_cloudwatchlogs::Client,
    log_group: &str,
    log_stream: &str,
    events: &[(i64, String)],
) {
    match logs
        .create_log_group()
        .log_group_name(log_group)
        .send()
        .await
    {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_already_exists_exception()) => {}
        Err(e) => panic!("moto CreateLogGroup {log_group}: {e:?}"),
    }
    logs.create_log_stream()
        .log_group_name(log_group)
        .log_stream_name(log_stream)
        .send()
        .await
        .expect("moto CreateLogStream");
    let events: Vec<InputLogEvent> = events
        .iter()
        .map(|(ts, line)| {
            InputLogEvent::builder()
                .timestamp(*ts)
                .message(line)
                .build()
                .expect("timestamp and message are set")
        })
        .collect();
    // PutLogEvents takes at most 10,000 events per call.
    for batch in events.chunks(10_000) {
        logs.put_log_events()
            .log_group_name(log_group)
            .log_stream_name(log_stream)
            .set_log_events(Some(batch.to_vec()))
            .send()
            .await
            .expect("moto PutLogEvents");
    }
}

/// A new SNS topic on moto; its ARN.
pub async fn create_topic(sns: &aws_sdk_sns::Client, name: &str) -> String {
    sns.create_topic()
        .name(name)
        .send()
        .await
        .expect("moto CreateTopic")
        .topic_arn()
        .expect("topic arn")
        .to_owned()
}

/// One call of an AWS API the tree has no SDK for (SQS, CloudFormation, Lambda) on moto: moto
/// checks no signature and routes by the service in the credential scope (or the path). The
/// HTTP status and the body.
pub fn raw_call(
    moto: &Moto,
    service: &str,
    region: &str,
    request: (&str, &str),
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    use std::io::{Read, Write};
    let (method, path) = request;
    let host = moto.endpoint.strip_prefix("http://").unwrap();
    let mut stream = std::net::TcpStream::connect(host).expect("connect to moto");
    let mut head = format!(
        "{method} {path} HTTP/1.0\r\nHost: {host}\r\nAuthorization: AWS4-HMAC-SHA256 Credential=testing/20260101/{region}/{service}/aws4_request, SignedHeaders=host, Signature=0\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    write!(stream, "{head}\r\n{body}").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("an HTTP status line: {head}"));
    (status, body.to_string())
}

/// One call of SQS's JSON protocol on moto.
pub fn sqs(moto: &Moto, action: &str, body: serde_json::Value) -> serde_json::Value {
    let target = format!("AmazonSQS.{action}");
    let (_, json) = raw_call(
        moto,
        "sqs",
        "us-east-1",
        ("POST", "/"),
        &[
            ("X-Amz-Target", &target),
            ("Content-Type", "application/x-amz-json-1.0"),
        ],
        &body.to_string(),
    );
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("SQS {action}: {e}: {json}"))
}

/// One Route 53 Resolver call (JSON 1.1 protocol) on moto: the HTTP status and the JSON body
/// (`{}` for an empty one, as moto answers TagResource).
pub fn resolver(moto: &Moto, action: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
    let target = format!("Route53Resolver.{action}");
    let (status, text) = raw_call(
        moto,
        "route53resolver",
        "us-east-1",
        ("POST", "/"),
        &[
            ("X-Amz-Target", &target),
            ("Content-Type", "application/x-amz-json-1.1"),
        ],
        &body.to_string(),
    );
    if text.trim().is_empty() {
        return (status, serde_json::json!({}));
    }
    let json = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("Route53Resolver {action} answered no JSON ({e}): {text}"));
    (status, json)
}

/// A query-logging configuration made on moto as a console user or another tool would, to the
/// log group `name`, with `tags`, associated with `vpc_id` when given; its id.
pub fn seed_query_log_config(
    moto: &Moto,
    name: &str,
    tags: serde_json::Value,
    vpc_id: Option<&str>,
) -> String {
    let (status, created) = resolver(
        moto,
        "CreateResolverQueryLogConfig",
        serde_json::json!({
            "Name": name.trim_start_matches('/').replace('/', "-"),
            "DestinationArn": format!("arn:aws:logs:us-east-1:123456789012:log-group:{name}"),
            "CreatorRequestId": name,
            "Tags": tags,
        }),
    );
    assert_eq!(status, 200, "{created}");
    let id = created["ResolverQueryLogConfig"]["Id"]
        .as_str()
        .expect("Id")
        .to_owned();
    if let Some(vpc_id) = vpc_id {
        let (status, associated) = resolver(
            moto,
            "AssociateResolverQueryLogConfig",
            serde_json::json!({"ResolverQueryLogConfigId": id, "ResourceId": vpc_id}),
        );
        assert_eq!(status, 200, "{associated}");
    }
    id
}

/// (configuration id, VPC id) of every query-logging association moto holds in us-east-1.
pub fn query_log_associations(moto: &Moto) -> Vec<(String, String)> {
    let (status, listed) = resolver(
        moto,
        "ListResolverQueryLogConfigAssociations",
        serde_json::json!({"MaxResults": 100}),
    );
    assert_eq!(status, 200, "{listed}");
    listed["ResolverQueryLogConfigAssociations"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            (
                a["ResolverQueryLogConfigId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                a["ResourceId"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// Every query-logging configuration moto holds in us-east-1, as AWS lists them.
pub fn query_log_configs(moto: &Moto) -> Vec<serde_json::Value> {
    let (status, listed) = resolver(
        moto,
        "ListResolverQueryLogConfigs",
        serde_json::json!({"MaxResults": 100}),
    );
    assert_eq!(status, 200, "{listed}");
    listed["ResolverQueryLogConfigs"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// moto keeps EC2, CloudWatch and Logs resources per region. A test that leaves a recording
/// running works in a region of its own, so that no other test's `check` reconciles (adopts,
/// then stops) its flow logs, and it sees no one else's.
pub async fn sdk_in(moto: &Moto, region: &str) -> SdkConfig {
    nat_flowrec::aws::config_loader(&AwsSettings {
        region: Some(region.into()),
        profile: None,
        endpoint_url: Some(moto.endpoint.clone()),
    })
    .empty_test_environment()
    .test_credentials()
    .load()
    .await
}

/// A NAT in moto, in a region of its own, whose traffic spiked in the last two complete minutes.
pub async fn spiking_nat(moto: &Moto, region: &str, second_octet: u8) -> SeededNat {
    let sdk = sdk_in(moto, region).await;
    let nat = seed_nat(&aws_sdk_ec2::Client::new(&sdk), second_octet).await;
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let t = super::run::minute_now();
    for minute in [t - TimeDelta::minutes(2), t - TimeDelta::minutes(1)] {
        put_spike(&cw, &nat.nat_gateway_id, "BytesInFromSource", minute).await;
    }
    nat
}

/// Calm NAT metrics for minutes `from..to` after `t`: what the flow logs saw, divided by
/// `coverage` (so the report's coverage is exactly that share).
pub async fn put_calm_metrics(
    cw: &aws_sdk_cloudwatch::Client,
    nat: &str,
    t: DateTime<Utc>,
    minutes: std::ops::Range<i64>,
    out: f64,
    inn: f64,
) {
    let points = |v: f64| -> Vec<(DateTime<Utc>, f64)> {
        minutes
            .clone()
            .map(|m| (t + TimeDelta::minutes(m), v))
            .collect()
    };
    put_nat_metric(cw, nat, "BytesInFromSource", &points(out)).await;
    put_nat_metric(cw, nat, "BytesInFromDestination", &points(inn)).await;
}
