//! The event log in S3 (`state = "s3://bucket/key"`) and the Lambda handler, against moto:
//! moto answers 412 to a stale `If-Match` and to `If-None-Match: *` on an existing key, as S3
//! does, so the lease and the conditional appends are exercised for real; concurrent `check`
//! runs create exactly one set of flow logs; the plain handler function runs a `check`.

use std::collections::BTreeMap;
use std::process::Output;
use std::time::Duration;

use aws_sdk_ec2::types::Filter;
use chrono::Utc;
use nat_flowrec::core::event::Event;
use nat_flowrec::lambda::{ConfigSource, LambdaEnv, LambdaError, handle};
use nat_flowrec::ports::TAG_RECORDING;
use nat_flowrec::store::s3::{META_LEASE_HOLDER, Precondition, Written};
use nat_flowrec::store::{ObjectStore, S3Log, S3Object, StoreError};
use serde_json::{Value, json};

use crate::support::moto::{Moto, SeededNat, moto};
use crate::support::moto::{sdk_in, spiking_nat};
use crate::support::run::{nat_flowrec, text};

const ROLE: &str = "arn:aws:iam::123456789012:role/nat-flowrec-delivery";

async fn s3(moto: &Moto) -> aws_sdk_s3::Client {
    nat_flowrec::aws::s3_client_from(&moto.sdk_config().await, true)
}

async fn bucket(client: &aws_sdk_s3::Client, name: &str) {
    client
        .create_bucket()
        .bucket(name)
        .send()
        .await
        .expect("moto CreateBucket");
}

fn location(bucket: &str) -> S3Object {
    S3Object::new(bucket, "nat-flowrec/events.jsonl")
}

fn reset(nat: &str) -> Event {
    Event::BudgetReset {
        nat_gateway_id: nat.into(),
    }
}

async fn our_flow_logs(ec2: &aws_sdk_ec2::Client, eni: &str) -> usize {
    ec2.describe_flow_logs()
        .filter(Filter::builder().name("resource-id").values(eni).build())
        .send()
        .await
        .expect("moto DescribeFlowLogs")
        .flow_logs()
        .iter()
        .filter(|f| f.tags().iter().any(|t| t.key() == Some(TAG_RECORDING)))
        .count()
}

fn config(region: &str, nat: &str, state: &str, log_group: &str) -> String {
    format!(
        "region = \"{region}\"\nnat_gateway_ids = [\"{nat}\"]\nstate = \"{state}\"\n\n\
         [recording]\nlog_group = \"{log_group}\"\ndeliver_logs_role_arn = \"{ROLE}\"\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn moto_refuses_stale_conditional_writes_as_s3_does() {
    let client = s3(moto()).await;
    bucket(&client, "nat-flowrec-conditional").await;
    let (b, k) = ("nat-flowrec-conditional", "log");
    let put = |body: &str, pre: Precondition| {
        ObjectStore::write_object(
            &client,
            b,
            k,
            body.as_bytes().to_vec(),
            BTreeMap::new(),
            pre,
        )
    };
    let Written::Done { etag: first } = put("a\n", Precondition::Absent).await.unwrap() else {
        panic!("the first create goes through");
    };
    assert_eq!(
        put("b\n", Precondition::Absent).await.unwrap(),
        Written::Conflict,
        "If-None-Match: *"
    );
    let Written::Done { etag: second } = put("a\nb\n", Precondition::Matches(first.clone()))
        .await
        .unwrap()
    else {
        panic!("If-Match on the current ETag goes through");
    };
    assert_ne!(first, second);
    assert_eq!(
        put("x\n", Precondition::Matches(first)).await.unwrap(),
        Written::Conflict,
        "stale If-Match"
    );
    let object = ObjectStore::read_object(&client, b, k)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(object.body, b"a\nb\n");
    assert_eq!(object.etag, second);
    assert_eq!(
        ObjectStore::read_object(&client, b, "missing")
            .await
            .unwrap(),
        None
    );

    let err = ObjectStore::read_object(&client, "nat-flowrec-no-such-bucket", k)
        .await
        .unwrap_err();
    assert!(
        err.to_string().starts_with("s3:GetObject: NoSuchBucket"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_s3_event_log_is_leased_appended_and_released_in_moto() {
    let client = s3(moto()).await;
    bucket(&client, "nat-flowrec-lease").await;
    let at = location("nat-flowrec-lease");

    let mut first = S3Log::open(client.clone(), at.clone(), Duration::ZERO)
        .await
        .unwrap();
    let written = first
        .append(
            vec![reset("nat-00000001"), reset("nat-00000002")],
            Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(written.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2]);

    let err = S3Log::open(client.clone(), at.clone(), Duration::ZERO)
        .await
        .err()
        .expect("leased");
    assert!(err.is_locked(), "{err}");
    assert!(matches!(err, StoreError::Leased { .. }), "{err}");

    first
        .append(vec![reset("nat-00000003")], Utc::now())
        .await
        .unwrap();
    first.release().await.unwrap();
    let raw = ObjectStore::read_object(&client, at.bucket(), at.key())
        .await
        .unwrap()
        .unwrap();
    assert!(
        !raw.metadata.contains_key(META_LEASE_HOLDER),
        "released: {:?}",
        raw.metadata
    );
    let text = String::from_utf8(raw.body).unwrap();
    assert_eq!(text.lines().count(), 3);
    assert!(text.starts_with("{\"v\":1,\"seq\":1,"), "{text}");

    let mut second = S3Log::open(client.clone(), at.clone(), Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(second.events().len(), 3);
    assert_eq!(
        second
            .append(vec![reset("nat-00000004")], Utc::now())
            .await
            .unwrap()[0]
            .seq,
        4
    );
    second.release().await.unwrap();
    assert_eq!(S3Log::read(client, at).await.unwrap().events().len(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_checks_on_one_s3_log_create_exactly_one_set_of_flow_logs() {
    let moto = moto();
    let client = s3(moto).await;
    bucket(&client, "nat-flowrec-race").await;
    let region = "ap-southeast-1";
    let SeededNat {
        nat_gateway_id: nat,
        eni,
        ..
    } = spiking_nat(moto, region, 81).await;
    let dir = tempfile::tempdir().unwrap();
    let state = location("nat-flowrec-race").to_string();
    std::fs::write(
        dir.path().join("nat-flowrec.toml"),
        config(region, &nat, &state, &format!("/nat-flowrec/race-{nat}")),
    )
    .unwrap();

    // Three ticks at once, as overlapping schedules would start them.
    let now = Utc::now().to_rfc3339();
    let runs: Vec<_> = (0..3)
        .map(|_| {
            nat_flowrec(dir.path())
                .args(["check", "--endpoint-url", &moto.endpoint, "--now", &now])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<Output> = runs
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for o in &outputs {
        assert!(matches!(o.status.code(), Some(0) | Some(3)), "{}", text(o));
    }
    let started = outputs
        .iter()
        .filter(|o| String::from_utf8_lossy(&o.stdout).contains("started recording"))
        .count();
    assert_eq!(
        started,
        1,
        "one run recorded:\n{}",
        outputs.iter().map(text).collect::<Vec<_>>().join("\n")
    );
    assert_eq!(
        our_flow_logs(&aws_sdk_ec2::Client::new(&sdk_in(moto, region).await), &eni).await,
        1
    );

    let log = S3Log::read(client.clone(), location("nat-flowrec-race"))
        .await
        .unwrap();
    let kinds: Vec<&str> = log.events().iter().map(|e| e.event.kind()).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "RecordingStarted").count(),
        1,
        "{kinds:?}"
    );
    let raw = ObjectStore::read_object(&client, "nat-flowrec-race", "nat-flowrec/events.jsonl")
        .await
        .unwrap()
        .unwrap();
    assert!(
        !raw.metadata.contains_key(META_LEASE_HOLDER),
        "every run released its lease"
    );

    // status and history read the S3 log like a file.
    let o = nat_flowrec(dir.path())
        .args([
            "status",
            "--output",
            "json",
            "--endpoint-url",
            &moto.endpoint,
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let status: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(status["state_file"], state.as_str());
    assert!(status["nats"][0]["active"].is_object(), "{status}");
    let o = nat_flowrec(dir.path())
        .args(["history", "--endpoint-url", &moto.endpoint])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("started on 1 network interface "),
        "{}",
        text(&o)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_lambda_handler_runs_a_check_against_moto_with_config_and_state_in_s3() {
    let moto = moto();
    let client = s3(moto).await;
    bucket(&client, "nat-flowrec-lambda").await;
    let region = "ap-southeast-2";
    let SeededNat {
        nat_gateway_id: nat,
        eni,
        ..
    } = spiking_nat(moto, region, 82).await;
    let state = location("nat-flowrec-lambda");
    let toml = config(
        region,
        &nat,
        state.as_str(),
        &format!("/nat-flowrec/lambda-{nat}"),
    );
    client
        .put_object()
        .bucket("nat-flowrec-lambda")
        .key("config/nat-flowrec.toml")
        .body(toml.into_bytes().into())
        .send()
        .await
        .expect("moto PutObject (config)");
    let scratch = tempfile::tempdir().unwrap();
    let env = LambdaEnv {
        config: ConfigSource::S3(S3Object::new(
            "nat-flowrec-lambda",
            "config/nat-flowrec.toml",
        )),
        region: Some(region.parse().unwrap()),
        endpoint_url: Some(moto.endpoint.clone()),
        scratch: scratch.path().to_path_buf(),
    };

    // What the schedule sends.
    let response = handle(json!({"command": "check"}), &env).await.unwrap();
    assert_eq!(response["command"], "check");
    assert_eq!(response["locked"], false);
    let decisions = response["outcome"]["decisions"].as_array().unwrap();
    assert!(
        decisions.iter().any(|d| d["action"] == "start"),
        "{response}"
    );
    let ec2 = aws_sdk_ec2::Client::new(&sdk_in(moto, region).await);
    assert_eq!(our_flow_logs(&ec2, &eni).await, 1);
    let log = S3Log::read(client.clone(), state.clone()).await.unwrap();
    assert!(
        log.events()
            .iter()
            .any(|e| e.event.kind() == "RecordingStarted")
    );

    // The next tick: already recording.
    let response = handle(json!({"command": "check"}), &env).await.unwrap();
    let decisions = response["outcome"]["decisions"].as_array().unwrap();
    assert!(
        decisions.iter().all(|d| d["action"] != "start"),
        "{response}"
    );
    assert_eq!(our_flow_logs(&ec2, &eni).await, 1);

    let response = handle(json!({"command": "status"}), &env).await.unwrap();
    assert_eq!(
        response["status"]["nats"][0]["nat_gateway_id"],
        nat.as_str()
    );
    assert!(
        response["status"]["nats"][0]["active"].is_object(),
        "{response}"
    );

    // While another run holds the log, the invocation says so and changes nothing.
    let held = S3Log::open(client.clone(), state.clone(), Duration::ZERO)
        .await
        .unwrap();
    let response = handle(json!({"command": "stop", "all": true}), &env)
        .await
        .unwrap();
    assert_eq!(response["locked"], true, "{response}");
    assert_eq!(our_flow_logs(&ec2, &eni).await, 1);
    let mut held = held;
    held.release().await.unwrap();

    let response = handle(json!({"command": "stop", "all": true}), &env)
        .await
        .unwrap();
    assert_eq!(
        response["outcome"]["decisions"][0]["action"], "stop",
        "{response}"
    );
    assert_eq!(our_flow_logs(&ec2, &eni).await, 0);

    let err = handle(json!({"command": "stop"}), &env).await.unwrap_err();
    assert!(matches!(err, LambdaError::BadRequest { .. }), "{err}");
}

#[test]
fn the_cli_reports_a_missing_state_bucket_with_the_uri() {
    let dir = tempfile::tempdir().unwrap();
    let moto = moto();
    std::fs::write(
        dir.path().join("nat-flowrec.toml"),
        config(
            "us-east-1",
            "nat-0123456789abcdef0",
            "s3://nat-flowrec-not-there/events.jsonl",
            "/nat-flowrec/x",
        ),
    )
    .unwrap();
    let o: Output = nat_flowrec(dir.path())
        .args([
            "budget",
            "reset",
            "--nat",
            "nat-0123456789abcdef0",
            "--endpoint-url",
            &moto.endpoint,
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("s3://nat-flowrec-not-there/events.jsonl")
            && stderr.contains("NoSuchBucket"),
        "{stderr}"
    );
}
