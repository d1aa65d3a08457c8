//! Attribution against moto, with the real binary: a recording's hosts are named after their
//! instance and its `Name` tag (and the names survive offline through the recording's cache),
//! the endpoint commands name the NAT's VPC and route tables, and `doctor` finds a missing S3
//! gateway endpoint in a seeded VPC and stays quiet once one is created and associated.

use std::path::{Path, PathBuf};

use aws_sdk_ec2::types::VpcEndpointType;
use nat_flowrec_parsers::{ExportMeta, ExportWriter, LogFormat};

use crate::support::moto::{SeededNat, moto, seed_nat};
use crate::support::run::{nat_flowrec, text};
use crate::support::vpc::{instance, private_subnet};

/// `<dir>/<recording>/`: one export file with both legs of a host pulling from S3 through the
/// NAT, as the export step writes it.
fn recording_folder(dir: &Path, nat: &SeededNat, host: &str) -> PathBuf {
    let folder = dir.join("rec-attribution");
    std::fs::create_dir_all(&folder).unwrap();
    let meta = ExportMeta {
        format: LogFormat::default(),
        recording_id: Some("rec-attribution".into()),
        nat_gateway_id: Some(nat.nat_gateway_id.clone()),
        region: None,
        interface_id: Some(nat.eni.clone()),
        nat_ips: vec![nat.private_ip],
        window_start: Some(1_767_225_600),
        window_end: Some(1_767_226_200),
    };
    let n = nat.private_ip;
    let lines = [
        format!("ACCEPT ingress - {host} 41000 {n} 443 6 4000 IPv4 {host} - 52.216.8.1 S3"),
        format!("ACCEPT egress 8 {n} 61000 52.216.8.1 443 6 4000 IPv4 {n} - 52.216.8.1 S3"),
        format!("ACCEPT ingress - 52.216.8.1 443 {n} 61000 6 900000000 IPv4 52.216.8.1 S3 {n} -"),
        format!("ACCEPT egress 1 {n} 443 {host} 41000 6 900000000 IPv4 52.216.8.1 S3 {host} -"),
    ];
    let mut w = ExportWriter::create(folder.join(format!("{}.log.gz", nat.eni)), &meta).unwrap();
    for (i, line) in lines.iter().enumerate() {
        w.write_event(1_767_225_600_000 + i as i64 * 1000, line)
            .unwrap();
    }
    w.finish().unwrap();
    folder
}

#[tokio::test(flavor = "multi_thread")]
async fn report_names_a_recordings_instance_by_its_name_tag_and_keeps_it_offline() {
    let moto = moto();
    let sdk = moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let nat = seed_nat(&ec2, 81).await;
    let private = private_subnet(&ec2, &nat, 81).await;
    let host = "10.81.1.25";
    let instance_id = instance(&ec2, &private.subnet_id, host, "orders-worker").await;

    let dir = tempfile::tempdir().unwrap();
    let folder = recording_folder(dir.path(), &nat, host);
    let folder_arg = folder.to_string_lossy().into_owned();

    let o = nat_flowrec(dir.path())
        .args(["report", "--json", &folder_arg, "--region", "us-east-1"])
        .args(["--endpoint-url", &moto.endpoint])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let owner = format!("{instance_id} (orders-worker)");
    assert_eq!(v["talkers"][0]["internal_addr"], host, "{}", text(&o));
    assert_eq!(v["talkers"][0]["owner"], owner.as_str(), "{}", text(&o));
    assert_eq!(v["talkers"][0]["az"], private.az.as_str());
    assert_eq!(v["sources"][0]["owner"], owner.as_str());
    // The endpoint command names the NAT's VPC and the route table that routes to it.
    let s3 = v["remediation"]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["service"] == "S3")
        .unwrap()
        .clone();
    assert_eq!(
        s3["command"],
        format!(
            "aws ec2 create-vpc-endpoint --region us-east-1 --vpc-id {} --vpc-endpoint-type Gateway --service-name com.amazonaws.us-east-1.s3 --route-table-ids {}",
            nat.vpc_id, private.route_table_id
        )
        .as_str()
    );
    assert!(folder.join(".owners.json").is_file());

    // Offline (nothing listens on port 9): the cache answers, the report is the same.
    let o = nat_flowrec(dir.path())
        .args(["report", "--csv", &folder_arg, "--region", "us-east-1"])
        .args(["--endpoint-url", "http://127.0.0.1:9"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let csv = String::from_utf8_lossy(&o.stdout);
    let row = csv.lines().nth(1).unwrap_or_default();
    assert!(
        row.starts_with(&format!("1,{host},52.216.8.1,S3,")),
        "{csv}"
    );
    // owner and az, then an empty remote_name (no DNS logs).
    assert!(row.ends_with(&format!(",{owner},{},", private.az)), "{csv}");

    // --no-enrich: addresses only, and AWS is not asked.
    let o = nat_flowrec(dir.path())
        .args(["report", "--csv", "--no-enrich", &folder_arg])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .nth(1)
            .unwrap_or_default()
            .ends_with(",,")
    );

    // --enrich: AWS is asked again (its set-up checked first), with the same answer.
    let o = nat_flowrec(dir.path())
        .args([
            "report",
            "--json",
            "--enrich",
            &folder_arg,
            "--region",
            "us-east-1",
        ])
        .args(["--endpoint-url", &moto.endpoint])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["talkers"][0]["owner"], owner.as_str(), "{}", text(&o));
}

/// A folder with a configuration for one NAT, its delivery role, log group and topic.
struct DoctorSetup {
    dir: tempfile::TempDir,
}

impl DoctorSetup {
    async fn new(sdk: &aws_config::SdkConfig, nat: &SeededNat) -> DoctorSetup {
        let iam = aws_sdk_iam::Client::new(sdk);
        let logs = aws_sdk_cloudwatchlogs::Client::new(sdk);
        let sns = aws_sdk_sns::Client::new(sdk);
        let role = format!("delivery-{}", nat.nat_gateway_id);
        let created = iam
            .create_role()
            .role_name(&role)
            .assume_role_policy_document(nat_flowrec::doctor::TRUST_POLICY)
            .send()
            .await
            .expect("moto CreateRole");
        let role_arn = created
            .role()
            .map(|r| r.arn().to_owned())
            .expect("role arn");
        iam.put_role_policy()
            .role_name(&role)
            .policy_name("delivery")
            .policy_document(nat_flowrec::doctor::DELIVERY_POLICY)
            .send()
            .await
            .expect("moto PutRolePolicy");
        let group = format!("/nat-flowrec/doctor-{}", nat.nat_gateway_id);
        logs.create_log_group()
            .log_group_name(&group)
            .send()
            .await
            .expect("moto CreateLogGroup");
        logs.put_retention_policy()
            .log_group_name(&group)
            .retention_in_days(7)
            .send()
            .await
            .expect("moto PutRetentionPolicy");
        let topic = sns
            .create_topic()
            .name(format!("doctor-{}", nat.nat_gateway_id))
            .send()
            .await
            .expect("moto CreateTopic");
        let topic_arn = topic.topic_arn().expect("topic arn").to_owned();
        sns.subscribe()
            .topic_arn(&topic_arn)
            .protocol("email")
            .endpoint("ops@example.com")
            .send()
            .await
            .expect("moto Subscribe");

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("nat-flowrec.toml"),
            format!(
                r#"region = "us-east-1"
nat_gateway_ids = ["{nat}"]
state = "events.jsonl"

[recording]
log_group = "{group}"
deliver_logs_role_arn = "{role_arn}"
retention_days = 7

[notify]
sns_topic_arn = "{topic_arn}"
"#,
                nat = nat.nat_gateway_id
            ),
        )
        .unwrap();
        DoctorSetup { dir }
    }

    /// `doctor --output json`: the exit code and the findings.
    fn doctor(&self, endpoint: &str) -> (Option<i32>, Vec<serde_json::Value>) {
        self.doctor_with(endpoint, &[])
    }

    fn doctor_with(&self, endpoint: &str, extra: &[&str]) -> (Option<i32>, Vec<serde_json::Value>) {
        let o = nat_flowrec(self.dir.path())
            .args(["doctor", "--output", "json", "--endpoint-url", endpoint])
            .args(extra)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("doctor printed no JSON ({e}): {}", text(&o)));
        let findings = v["findings"].as_array().cloned().unwrap_or_default();
        (o.status.code(), findings)
    }
}

fn problems(findings: &[serde_json::Value]) -> Vec<String> {
    findings
        .iter()
        .filter(|f| f["severity"] == "warning" || f["severity"] == "error")
        .map(|f| format!("{} {}: {}", f["severity"], f["check"], f["message"]))
        .collect()
}

fn finding<'a>(findings: &'a [serde_json::Value], check: &str) -> &'a serde_json::Value {
    findings
        .iter()
        // JSON names the checks in snake_case.
        .find(|f| f["check"] == check.replace('-', "_").as_str())
        .unwrap_or_else(|| panic!("no {check} finding in {findings:?}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_finds_the_missing_s3_gateway_endpoint_and_is_quiet_once_it_is_associated() {
    let moto = moto();
    let sdk = moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let nat = seed_nat(&ec2, 82).await;
    let private = private_subnet(&ec2, &nat, 82).await;
    let setup = DoctorSetup::new(&sdk, &nat).await;

    let (code, findings) = setup.doctor(&moto.endpoint);
    let s3 = finding(&findings, "s3-gateway-endpoint");
    assert_eq!(s3["severity"], "warning", "{findings:?}");
    assert_eq!(
        s3["fix"],
        serde_json::json!([format!(
            "aws ec2 create-vpc-endpoint --region us-east-1 --vpc-id {} --vpc-endpoint-type Gateway --service-name com.amazonaws.us-east-1.s3 --route-table-ids {}",
            nat.vpc_id, private.route_table_id
        )])
    );
    assert_eq!(code, Some(0), "warnings alone exit 0: {findings:?}");
    let (code, _) = setup.doctor_with(&moto.endpoint, &["--strict"]);
    assert_eq!(code, Some(1), "--strict: a warning exits 1");
    // The rest of the set-up is in order.
    assert_eq!(finding(&findings, "nat-route")["severity"], "ok");
    assert_eq!(
        finding(&findings, "delivery-role-trust")["severity"],
        "ok",
        "{findings:?}"
    );
    assert_eq!(
        finding(&findings, "delivery-role-permissions")["severity"],
        "ok",
        "{findings:?}"
    );
    assert_eq!(finding(&findings, "log-group-retention")["severity"], "ok");
    assert_eq!(finding(&findings, "sns-subscription")["severity"], "ok");

    // Created without the NAT's route table: still a warning, now to associate it.
    let created = ec2
        .create_vpc_endpoint()
        .vpc_id(&nat.vpc_id)
        .vpc_endpoint_type(VpcEndpointType::Gateway)
        .service_name("com.amazonaws.us-east-1.s3")
        .send()
        .await
        .expect("moto CreateVpcEndpoint");
    let endpoint_id = created
        .vpc_endpoint()
        .and_then(|e| e.vpc_endpoint_id())
        .expect("endpoint id")
        .to_owned();
    let (_, findings) = setup.doctor(&moto.endpoint);
    let s3 = finding(&findings, "s3-gateway-endpoint");
    assert_eq!(s3["severity"], "warning", "{findings:?}");
    assert_eq!(
        s3["fix"],
        serde_json::json!([format!(
            "aws ec2 modify-vpc-endpoint --region us-east-1 --vpc-endpoint-id {endpoint_id} --add-route-table-ids {}",
            private.route_table_id
        )])
    );

    // Associated (and DynamoDB's created the same way): nothing left to fix.
    ec2.modify_vpc_endpoint()
        .vpc_endpoint_id(&endpoint_id)
        .add_route_table_ids(&private.route_table_id)
        .send()
        .await
        .expect("moto ModifyVpcEndpoint");
    ec2.create_vpc_endpoint()
        .vpc_id(&nat.vpc_id)
        .vpc_endpoint_type(VpcEndpointType::Gateway)
        .service_name("com.amazonaws.us-east-1.dynamodb")
        .route_table_ids(&private.route_table_id)
        .send()
        .await
        .expect("moto CreateVpcEndpoint");
    let (code, findings) = setup.doctor(&moto.endpoint);
    assert_eq!(finding(&findings, "s3-gateway-endpoint")["severity"], "ok");
    assert_eq!(problems(&findings), Vec::<String>::new());
    assert_eq!(code, Some(0));
}
