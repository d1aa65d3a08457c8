//! `nat-flowrec report` driven as a user runs it: the real binary, in a fresh temporary folder
//! holding copies of the report fixtures, checking stdout, stderr, written files and exit codes.

use crate::support::run::stdout;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A temporary folder with the report fixtures copied in (so paths in output are relative).
struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    fn new() -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/reports");
        for name in [
            "nat-cloudwatch.log",
            "nat-four-legs.log",
            "v2-status.log",
            "ipv6-legs.log",
            "s3-eu-west-1-legs.log",
        ] {
            std::fs::copy(fixtures.join(name), dir.path().join(name)).unwrap();
        }
        let dns = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/dns");
        for name in [
            "aws-example.json",
            "nat-cloudwatch.queries.jsonl",
            "nat-cloudwatch.queries.jsonl.gz",
        ] {
            std::fs::copy(dns.join(name), dir.path().join(name)).unwrap();
        }
        Workspace { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_nat-flowrec"))
            .arg("report")
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("NAT_FLOWREC_CONFIG")
            .output()
            .unwrap()
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn report_default_output_is_a_readable_terminal_report() {
    let ws = Workspace::new();
    let o = ws.run(&["nat-cloudwatch.log"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("NAT flow-log report\n"), "{out}");
    assert!(out.contains("Leg rule            pkt-fields"), "{out}");
    assert!(
        out.contains(
            "  1  10.0.1.5   52.216.8.1     S3         3.00 MB   12.00 KB    3.01 MB  49.89%"
        ),
        "{out}"
    );
    assert!(out.contains("units: 1 KB = 10^3 B"), "{out}");
}

#[test]
fn report_csv_prints_the_talkers_table_with_the_contract_header() {
    let ws = Workspace::new();
    let o = ws.run(&["--csv", "--top", "3", "nat-cloudwatch.log"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "rank,internal_addr,remote_addr,remote_aws_service,bytes_out,bytes_in,bytes_total,share_pct,owner,az,remote_name",
            "1,10.0.1.5,52.216.8.1,S3,3000000,12000,3012000,49.89,,,",
            "2,10.0.1.9,54.239.1.1,AMAZON,800,2000000,2000800,33.14,,,",
            "3,10.0.2.7,52.94.24.10,DYNAMODB,40000,900000,940000,15.57,,,",
        ]
    );
    // The caveats a CSV cannot carry go to stderr.
    assert!(
        stderr(&o).contains("malformed line(s) skipped"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn report_csv_top_0_lists_every_conversation() {
    let ws = Workspace::new();
    let o = ws.run(&["--csv", "--top", "0", "nat-cloudwatch.log"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 1 + 7);
}

#[test]
fn report_json_is_one_object_with_every_section() {
    let ws = Workspace::new();
    let o = ws.run(&["--json", "nat-four-legs.log", "ipv6-legs.log"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for key in [
        "schema_version",
        "summary",
        "talkers",
        "sources",
        "destinations",
        "services",
        "timeline",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["summary"]["files_read"], 2);
    assert_eq!(v["summary"]["bytes_total"].as_u64(), Some(57_200 + 9_700));
    assert_eq!(v["talkers"][0]["internal_addr"], "10.0.1.5");
    assert_eq!(v["talkers"][1]["internal_addr"], "2600:1f18:1234:2::5");
}

#[test]
fn report_markdown_has_the_same_sections_as_tables() {
    let ws = Workspace::new();
    let o = ws.run(&["--markdown", "nat-cloudwatch.log"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("# NAT flow-log report\n"), "{out}");
    for section in [
        "## Summary",
        "## Top talkers",
        "## Internal sources",
        "## Remote destinations",
        "## AWS services reached through the NAT",
        "## Timeline (bytes per minute)",
    ] {
        assert!(out.contains(section), "missing {section}");
    }
    assert!(
        out.contains("| S3 | 3.00 MB | 12.00 KB | 3.01 MB | gateway |"),
        "{out}"
    );
}

#[test]
fn report_out_dir_writes_every_file_and_leaves_no_temporary_file() {
    let ws = Workspace::new();
    let o = ws.run(&["--out", "reports/run-1", "--csv", "nat-cloudwatch.log"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let dir = ws.path("reports/run-1");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "destinations.csv",
            "report.html",
            "report.json",
            "report.md",
            "services.csv",
            "sources.csv",
            "summary.csv",
            "talkers.csv",
            "timeline.csv",
        ]
    );
    // The file is the same table --csv printed.
    assert_eq!(
        std::fs::read_to_string(dir.join("talkers.csv")).unwrap(),
        stdout(&o)
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["summary"]["bytes_total"].as_u64(), Some(6_036_800));
}

#[test]
fn report_bad_path_exits_non_zero_naming_the_path() {
    let ws = Workspace::new();
    let o = ws.run(&["no-such-dir/flows.log"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("no-such-dir/flows.log"),
        "{}",
        stderr(&o)
    );
    assert!(
        stdout(&o).is_empty(),
        "nothing readable, no report: {}",
        stdout(&o)
    );
}

#[test]
fn report_bad_path_beside_good_ones_still_reports_the_rest_and_exits_1() {
    let ws = Workspace::new();
    let o = ws.run(&["--json", "missing.log", "nat-four-legs.log"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("missing.log"), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["summary"]["files_read"], 1);
    assert_eq!(v["summary"]["files_failed"][0]["file"], "missing.log");
    assert_eq!(v["talkers"][0]["bytes_in"], 56_000);
}

#[test]
fn report_strict_makes_a_malformed_line_an_error_naming_file_and_line() {
    let ws = Workspace::new();
    let o = ws.run(&["--strict", "v2-status.log"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("v2-status.log") && err.contains("line 9"),
        "{err}"
    );
    // Without --strict the same file is reported, malformed lines counted.
    let o = ws.run(&["--json", "v2-status.log"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["summary"]["malformed_lines"], 2);
}

#[test]
fn report_nat_ip_finds_the_vpc_side_of_a_format_without_pkt_fields() {
    let ws = Workspace::new();
    let o = ws.run(&["--json", "--nat-ip", "10.0.0.220", "v2-status.log"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["summary"]["leg_rule"], "nat-ips");
    assert_eq!(v["talkers"][0]["internal_addr"], "10.0.1.5");
    assert!(v["talkers"][0]["remote_addr"].is_null());
}

#[test]
fn report_folder_is_recursed() {
    let ws = Workspace::new();
    std::fs::create_dir_all(ws.path("flows/2024/05")).unwrap();
    std::fs::copy(ws.path("nat-four-legs.log"), ws.path("flows/2024/05/a.log")).unwrap();
    std::fs::copy(ws.path("ipv6-legs.log"), ws.path("flows/b.log")).unwrap();
    let o = ws.run(&["--json", "flows"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["summary"]["files_read"], 2);
}

#[test]
fn report_bad_format_and_prices_are_rejected_with_a_clear_message() {
    let ws = Workspace::new();
    let o = ws.run(&["--format", "${srcaddr} dstaddr", "nat-four-legs.log"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--format"), "{}", stderr(&o));
    // A region without built-in prices is priced as us-east-1, and the report says so.
    let o = ws.run(&["--price-region", "xx-nowhere-1", "nat-four-legs.log"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(
            "prices for xx-nowhere-1 unknown: using us-east-1's; set report.nat_price_per_gb"
        ),
        "{out}"
    );
    let o = ws.run(&["--nat-price-per-gb=-1", "nat-four-legs.log"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("price"), "{}", stderr(&o));
    let o = ws.run(&["--json", "--nat-price-per-gb", "0.09", "nat-four-legs.log"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["summary"]["prices"]["nat_per_gb"], 0.09);
}

#[test]
fn the_configs_region_and_price_keys_price_the_report_and_a_region_without_prices_warns() {
    let ws = Workspace::new();
    std::fs::write(
        ws.path("nat-flowrec.toml"),
        "region = \"ap-east-1\"\nnat_gateway_ids = [\"nat-0123456789abcdef0\"]\n[report]\nnat_price_per_gb = 0.07\ncross_az_price_per_gb = 0.02\n",
    )
    .unwrap();
    let o = ws.run(&["--json", "nat-four-legs.log"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let prices = &v["summary"]["prices"];
    assert_eq!(prices["region"], "ap-east-1");
    assert_eq!(prices["nat_per_gb"], 0.07);
    assert_eq!(prices["cross_az_per_gb"], 0.02);
    let warnings = v["summary"]["warnings"].to_string();
    assert!(
        warnings.contains(
            "some prices for ap-east-1 unknown: using us-east-1's for report.nat_price_per_hour"
        ),
        "{warnings}"
    );
    // Without the NAT price, the warning names the key to set first.
    std::fs::write(
        ws.path("nat-flowrec.toml"),
        "region = \"ap-east-1\"\nnat_gateway_ids = [\"nat-0123456789abcdef0\"]\n",
    )
    .unwrap();
    let o = ws.run(&["nat-four-legs.log"]);
    let out = stdout(&o);
    assert!(
        out.contains(
            "prices for ap-east-1 unknown: using us-east-1's; set report.nat_price_per_gb"
        ),
        "{out}"
    );
}

/// `report --json` of one file under `fixtures/flowlogs/`, run from that folder.
fn report_flowlog_fixture(name: &str) -> serde_json::Value {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/flowlogs");
    let o = Command::new(env!("CARGO_BIN_EXE_nat-flowrec"))
        .args(["report", "--json", "--top", "0", name])
        .current_dir(&dir)
        .env_remove("NAT_FLOWREC_CONFIG")
        .output()
        .unwrap();
    assert!(o.status.success(), "{name}: {}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// The files people collect hold the same records as `nat-talkers.log` in other wrappings; each
/// gives the same talkers, every record read and none malformed.
#[test]
fn report_reads_collected_files_as_their_plain_records() {
    let plain = report_flowlog_fixture("nat-talkers.log");
    assert_eq!(plain["summary"]["records_read"], 29);
    assert_eq!(plain["summary"]["malformed_lines"], 0);
    assert_eq!(plain["talkers"][0]["internal_addr"], "10.0.1.5");
    assert_eq!(plain["talkers"][0]["remote_aws_service"], "S3");
    for name in [
        "nat-talkers-concatenated.log.gz",
        "nat-talkers-subscription.json",
        "nat-talkers-subscription-firehose.gz",
        "nat-talkers-messages.jsonl",
    ] {
        let v = report_flowlog_fixture(name);
        assert_eq!(v["summary"]["records_read"], 29, "{name}");
        assert_eq!(v["summary"]["malformed_lines"], 0, "{name}");
        assert_eq!(
            v["summary"]["files_failed"],
            serde_json::json!([]),
            "{name}"
        );
        assert_eq!(v["talkers"], plain["talkers"], "{name}");
        assert_eq!(v["services"], plain["services"], "{name}");
    }
}

#[test]
fn report_dns_names_the_remotes_from_query_log_files_gzip_or_plain() {
    let ws = Workspace::new();
    for queries in [
        "nat-cloudwatch.queries.jsonl",
        "nat-cloudwatch.queries.jsonl.gz",
    ] {
        let o = ws.run(&[
            "--csv",
            "--top",
            "4",
            "nat-cloudwatch.log",
            "--dns",
            "aws-example.json",
            queries,
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let out = stdout(&o);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines,
            [
                "rank,internal_addr,remote_addr,remote_aws_service,bytes_out,bytes_in,bytes_total,share_pct,owner,az,remote_name",
                "1,10.0.1.5,52.216.8.1,S3,3000000,12000,3012000,49.89,,,my-bucket.s3.us-east-1.amazonaws.com",
                "2,10.0.1.9,54.239.1.1,AMAZON,800,2000000,2000800,33.14,,,",
                "3,10.0.2.7,52.94.24.10,DYNAMODB,40000,900000,940000,15.57,,,dynamodb.us-east-1.amazonaws.com",
                "4,10.0.1.5,203.0.113.5,,1200,56000,57200,0.95,,,registry-1.docker.io",
            ],
            "{queries}"
        );
    }

    let o = ws.run(&[
        "--json",
        "nat-cloudwatch.log",
        "--dns",
        "nat-cloudwatch.queries.jsonl",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(json["remote_names"]["bytes_named"], 4_009_200);
    assert_eq!(json["remote_names"]["named_pct"], 66.41);
    assert_eq!(json["remote_names"]["domains"][2]["domain"], "docker.io");
    assert_eq!(
        json["destinations"][3]["remote_name"],
        "registry-1.docker.io"
    );

    let o = ws.run(&[
        "nat-cloudwatch.log",
        "--dns",
        "nat-cloudwatch.queries.jsonl",
    ]);
    let out = stdout(&o);
    assert!(
        out.contains("Remote names        4.01 MB of 6.04 MB went to named remotes (66.41%)"),
        "{out}"
    );
    assert!(
        out.contains("Top remote names by domain, 4.01 MB of 6.04 MB named"),
        "{out}"
    );
}

#[test]
fn report_dns_with_a_missing_file_fails_before_any_output_and_names_it() {
    let ws = Workspace::new();
    let o = ws.run(&["nat-cloudwatch.log", "--dns", "no-such-queries.jsonl"]);
    assert!(!o.status.success());
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(err.contains("reading the DNS query logs (--dns)"), "{err}");
    assert!(err.contains("no-such-queries.jsonl"), "{err}");
}

/// An ip-ranges.json as AWS publishes it, of `date`, with one S3 prefix in eu-west-1.
fn ip_ranges_json(date: &str, prefix: &str) -> String {
    format!(
        r#"{{"syncToken": "1790000000", "createDate": "{date}", "prefixes": [
  {{"ip_prefix": "{prefix}", "region": "eu-west-1", "service": "AMAZON", "network_border_group": "eu-west-1"}},
  {{"ip_prefix": "{prefix}", "region": "eu-west-1", "service": "S3", "network_border_group": "eu-west-1"}}
], "ipv6_prefixes": []}}"#
    )
}

#[test]
fn without_dns_logs_aws_remotes_are_labelled_from_the_bundled_or_updated_ip_ranges() {
    let ws = Workspace::new();
    std::fs::create_dir(ws.path("cfg")).unwrap();
    let config = ws.path("cfg/nat-flowrec.toml");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_nat-flowrec"))
            .arg("--config")
            .arg(&config)
            .args(args)
            .current_dir(ws.dir.path())
            .env_remove("NAT_FLOWREC_CONFIG")
            .output()
            .unwrap()
    };
    let csv_row = |o: &Output| stdout(o).lines().nth(1).unwrap_or_default().to_string();

    // The bundled copy: AWS's S3 range in eu-west-1.
    let o = run(&["report", "--csv", "s3-eu-west-1-legs.log"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        csv_row(&o),
        "1,10.0.1.5,52.218.0.5,,1200,56000,57200,100.00,,,S3 eu-west-1"
    );
    let o = run(&["report", "nat-four-legs.log"]);
    assert!(!stdout(&o).contains("Top remote names"), "{}", stdout(&o));

    // A newer download is stored beside the configuration and labels from then on.
    std::fs::write(
        ws.path("ip-ranges.json"),
        ip_ranges_json("2099-01-01-00-00-00", "203.0.113.0/24"),
    )
    .unwrap();
    let o = run(&["update-ip-ranges", "ip-ranges.json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("stored AWS's ip ranges of 2099-01-01-00-00-00 (1 prefixes)"),
        "{}",
        stderr(&o)
    );
    assert!(ws.path("cfg/ip-ranges.txt.gz").is_file());
    let o = run(&["report", "nat-four-legs.log"]);
    let out = stdout(&o);
    assert!(
        out.contains("Remote names        57.20 KB of 57.20 KB went to named remotes (100.00%)"),
        "{out}"
    );
    assert!(
        out.contains("labelled from AWS's ip-ranges.json of 2099-01-01-00-00-00"),
        "{out}"
    );

    // An older file than the copy in use is refused, and changes nothing.
    std::fs::write(
        ws.path("old.json"),
        ip_ranges_json("2020-01-01-00-00-00", "198.51.100.0/24"),
    )
    .unwrap();
    let o = run(&["update-ip-ranges", "old.json"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("is of 2020-01-01-00-00-00, older than the copy in use (2099-01-01-00-00-00); nothing changed"),
        "{}",
        stderr(&o)
    );
    // Not AWS's file: the reason, and where to get the right one.
    std::fs::write(ws.path("junk.json"), "{}").unwrap();
    let o = run(&["update-ip-ranges", "junk.json"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("not AWS's ip-ranges.json"),
        "{}",
        stderr(&o)
    );
}
