//! Golden tests over the committed inputs in `fixtures/reports/`: the NAT legs counted once,
//! services and their endpoints, status and malformed lines, and every output format compared
//! with its `.golden` file. Regenerate the golden files after an intended change with
//! `UPDATE_GOLDEN=1 cargo test -p nat-flowrec-reports golden` and review the diff.

use std::collections::HashMap;
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use nat_flowrec_parsers::LogFormat;

use crate::legs::LegRule;
use crate::model::Report;
use crate::options::ReportOptions;
use crate::prices::EndpointKind;
use crate::render;
use crate::{ReportError, build_report};

/// Relative to the crate, where `cargo test` runs, so paths in goldens are machine-independent.
const FIXTURES: &str = "../fixtures/reports";

pub(crate) fn fixture(name: &str) -> PathBuf {
    Path::new(FIXTURES).join(name)
}

fn report(names: &[&str], opts: &ReportOptions) -> Report {
    let paths: Vec<PathBuf> = names.iter().map(|n| fixture(n)).collect();
    build_report(&paths, opts).unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Compares `actual` with `fixtures/reports/<name>`, or rewrites it under `UPDATE_GOLDEN=1`.
pub(crate) fn golden(name: &str, actual: &str) {
    let path = fixture(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (create it with UPDATE_GOLDEN=1)", path.display()));
    assert!(
        expected == actual,
        "{} differs from the output (UPDATE_GOLDEN=1 rewrites it after an intended change)\n--- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}

#[test]
fn aws_four_nat_legs_are_one_conversation_with_the_right_bytes_each_way() {
    let r = report(&["nat-four-legs.log"], &ReportOptions::default());
    assert_eq!(r.summary.leg_rule, LegRule::PktFields);
    assert_eq!(r.talkers.len(), 1);
    let t = &r.talkers[0];
    assert_eq!(t.internal_addr, "10.0.1.5");
    assert_eq!(t.remote_addr.as_deref(), Some("203.0.113.5"));
    assert_eq!(
        (t.bytes_out, t.bytes_in, t.bytes_total),
        (1200, 56000, 57200)
    );
    assert_eq!(t.share_pct, 100.0);
    let legs = r.summary.records_by_leg;
    assert_eq!(
        (legs.vpc_outbound, legs.vpc_reply, legs.internet),
        (1, 1, 2)
    );
    // A naive sum over all records doubles the traffic; the report does not.
    assert_eq!(r.summary.bytes_all_records, 2 * 57200);
    assert_eq!(r.summary.bytes_total, 57200);
    assert_eq!(r.destinations[0].port, Some(443));
    assert_eq!(r.destinations[0].protocol.as_deref(), Some("TCP"));
}

#[test]
fn ipv6_legs_are_counted_once_too() {
    let r = report(&["ipv6-legs.log"], &ReportOptions::default());
    assert_eq!(r.talkers.len(), 1);
    let t = &r.talkers[0];
    assert_eq!(t.internal_addr, "2600:1f18:1234:2::5");
    assert_eq!(
        t.remote_addr.as_deref(),
        Some("2001:db8:85a3::8a2e:370:7334")
    );
    assert_eq!((t.bytes_out, t.bytes_in), (700, 9000));
}

#[test]
fn s3_and_dynamodb_get_a_gateway_endpoint_that_saves_the_whole_nat_cost() {
    let r = report(&["nat-cloudwatch.log"], &ReportOptions::default());
    let by_name: HashMap<&str, _> = r.services.iter().map(|s| (s.service.as_str(), s)).collect();
    let s3 = by_name["S3"];
    assert_eq!(s3.endpoint, EndpointKind::Gateway);
    assert_eq!((s3.bytes_out, s3.bytes_in), (3_000_000, 12_000));
    // 3,012,000 bytes at $0.045 per 10^9 bytes.
    assert!(
        (s3.nat_cost_usd - 0.00013554).abs() < 1e-9,
        "{}",
        s3.nat_cost_usd
    );
    assert_eq!(s3.endpoint_cost_usd, Some(0.0));
    assert_eq!(s3.saving_usd, s3.nat_cost_usd);
    assert_eq!(by_name["DYNAMODB"].endpoint, EndpointKind::Gateway);
    let ec2 = by_name["EC2"];
    assert_eq!(ec2.endpoint, EndpointKind::Interface);
    assert!(ec2.saving_usd > 0.0 && ec2.saving_usd < ec2.nat_cost_usd);
    let amazon = by_name["AMAZON"];
    assert_eq!(amazon.endpoint, EndpointKind::None);
    assert_eq!((amazon.endpoint_cost_usd, amazon.saving_usd), (None, 0.0));
    // Services are sorted by bytes, largest first.
    let names: Vec<&str> = r.services.iter().map(|s| s.service.as_str()).collect();
    assert_eq!(names, ["S3", "AMAZON", "DYNAMODB", "EC2"]);
}

#[test]
fn cloudwatch_export_gives_window_timeline_rejects_and_malformed_lines() {
    let r = report(&["nat-cloudwatch.log"], &ReportOptions::default());
    let s = &r.summary;
    assert_eq!(s.bytes_total, 6_036_800);
    assert_eq!(s.conversations, 7);
    assert_eq!(s.reject_records, 1);
    assert_eq!(s.malformed_lines, 2);
    let lines: Vec<u64> = s.malformed_examples.iter().map(|m| m.line).collect();
    assert_eq!(lines, [30, 31]);
    assert!(
        s.malformed_examples[0].error.contains("dstport"),
        "{:?}",
        s.malformed_examples
    );
    let w = s.window.as_ref().unwrap();
    assert_eq!(
        (w.start.as_str(), w.end.as_str()),
        ("2024-05-01T10:00:05Z", "2024-05-01T10:03:42Z")
    );
    let minutes: Vec<(&str, u64)> = r
        .timeline
        .iter()
        .map(|m| (m.minute.as_str(), m.bytes_total))
        .collect();
    assert_eq!(
        minutes,
        [
            ("2024-05-01T10:00:00Z", 57_200),
            ("2024-05-01T10:01:00Z", 3_952_000),
            ("2024-05-01T10:02:00Z", 25_000),
            ("2024-05-01T10:03:00Z", 2_002_600),
        ]
    );
    // Equal totals tie-break on the internal address as text: "10.0.1.10" < "10.0.1.5".
    let last: Vec<&str> = r.talkers[5..]
        .iter()
        .map(|t| t.internal_addr.as_str())
        .collect();
    assert_eq!(last, ["10.0.1.10", "10.0.1.5"]);
}

#[test]
fn status_records_and_malformed_lines_are_counted_not_fatal() {
    let r = report(&["v2-status.log"], &ReportOptions::default());
    let s = &r.summary;
    assert_eq!(s.records_read, 7);
    assert_eq!(
        (s.log_status.ok, s.log_status.nodata, s.log_status.skipdata),
        (5, 1, 1)
    );
    assert_eq!(s.reject_records, 1);
    assert_eq!(s.malformed_lines, 2);
    let lines: Vec<u64> = s.malformed_examples.iter().map(|m| m.line).collect();
    assert_eq!(lines, [9, 10]);
    assert!(
        s.warnings
            .iter()
            .any(|w| w.contains("SKIPDATA") && w.contains("lower bound"))
    );
    // No pkt-* fields and no NAT IP: every record counts, and the report says so.
    assert_eq!(s.leg_rule, LegRule::AllRecords);
    assert!(s.warnings.iter().any(|w| w.contains("both legs")));
    assert_eq!(s.bytes_total, 2 * 57_200);
}

#[test]
fn nat_ips_find_the_vpc_side_without_pkt_fields() {
    let opts = ReportOptions {
        nat_ips: vec![ip("10.0.0.220")],
        ..ReportOptions::default()
    };
    let r = report(&["v2-status.log"], &opts);
    assert_eq!(r.summary.leg_rule, LegRule::NatIps);
    assert_eq!(r.talkers.len(), 1);
    let t = &r.talkers[0];
    assert_eq!(t.internal_addr, "10.0.1.5");
    assert_eq!(t.remote_addr, None);
    assert_eq!((t.bytes_out, t.bytes_in), (1200, 56000));
    assert!(r.destinations.is_empty());
    assert_eq!(r.summary.records_by_leg.internet, 2);
}

#[test]
fn strict_makes_the_first_malformed_line_an_error_naming_file_and_line() {
    let opts = ReportOptions {
        strict: true,
        ..ReportOptions::default()
    };
    let err = build_report(&[fixture("v2-status.log")], &opts).unwrap_err();
    let ReportError::Malformed { ref file, line, .. } = err else {
        panic!("{err}")
    };
    assert_eq!(line, 9);
    assert!(file.ends_with("v2-status.log"));
    let msg = err.to_string();
    assert!(
        msg.contains("v2-status.log") && msg.contains("line 9"),
        "{msg}"
    );
}

/// A file of several chunks, read by two workers: the malformed lines deep in it are listed
/// with the file's line numbers, in the message too, though the reader never counted the lines
/// of the chunks before them (they are placed after the fact).
#[test]
fn malformed_lines_far_into_a_large_file_keep_the_files_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("large.log");
    let good =
        "ACCEPT ingress - 10.0.1.5 41000 10.0.0.220 443 6 5000 IPv4 10.0.1.5 - 203.0.113.5 S3\n";
    let bad = [7_001u64, 15_000, 29_998];
    let mut text = String::new();
    for line in 1..=30_000u64 {
        if bad.contains(&line) {
            text.push_str("ACCEPT ingress - 10.0.1.5 41000 10.0.0.220 https 6 5000 IPv4 10.0.1.5 - 203.0.113.5 S3\n");
        } else if line % 1_000 == 0 {
            text.push('\n');
        } else {
            text.push_str(good);
        }
    }
    assert!(text.len() > 4 * 512 * 1024, "several chunks");
    std::fs::write(&path, &text).unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let r = pool.install(|| build_report(std::slice::from_ref(&path), &ReportOptions::default()));
    let r = r.unwrap();
    let s = &r.summary;
    assert_eq!(s.malformed_lines, 3);
    let lines: Vec<u64> = s.malformed_examples.iter().map(|m| m.line).collect();
    assert_eq!(lines, bad);
    for m in &s.malformed_examples {
        assert!(
            m.error
                .starts_with(&format!("line {}, field `dstport`", m.line)),
            "{m:?}"
        );
    }
    let strict = ReportOptions {
        strict: true,
        ..ReportOptions::default()
    };
    let err = pool
        .install(|| build_report(std::slice::from_ref(&path), &strict))
        .unwrap_err();
    assert!(err.to_string().contains("line 7001"), "{err}");
}

#[test]
fn a_missing_file_is_reported_and_the_others_still_read() {
    let paths = [fixture("no-such-file.log"), fixture("nat-four-legs.log")];
    let r = build_report(&paths, &ReportOptions::default()).unwrap();
    assert!(r.has_failures());
    let f = &r.summary.files_failed[0];
    assert!(f.file.ends_with("no-such-file.log"));
    assert!(f.error.contains("no-such-file.log"), "{}", f.error);
    assert_eq!(r.summary.files_read, 1);
    assert_eq!(r.talkers.len(), 1);
}

#[test]
fn files_with_different_formats_combine() {
    let r = report(
        &["nat-four-legs.log", "ipv6-legs.log", "nat-cloudwatch.log"],
        &ReportOptions::default(),
    );
    assert_eq!(r.summary.files_read, 3);
    assert_eq!(r.summary.leg_rule, LegRule::PktFields);
    assert_eq!(r.summary.bytes_total, 57_200 + 9_700 + 6_036_800);
    // The four-legs connection appears in two files: one conversation, bytes added.
    let t = r
        .talkers
        .iter()
        .find(|t| t.internal_addr == "10.0.1.5" && t.remote_addr.as_deref() == Some("203.0.113.5"))
        .unwrap();
    assert_eq!((t.bytes_out, t.bytes_in), (2400, 112_000));
}

#[test]
fn top_n_cuts_the_tables_not_the_totals_or_shares() {
    let opts = ReportOptions {
        top: 2,
        ..ReportOptions::default()
    };
    let r = report(&["nat-cloudwatch.log"], &opts);
    assert_eq!(r.talkers.len(), 2);
    assert_eq!(r.sources.len(), 2);
    assert_eq!(r.destinations.len(), 2);
    assert_eq!(r.services.len(), 4, "services are never cut");
    assert_eq!(r.summary.bytes_total, 6_036_800);
    assert_eq!(r.talkers[0].share_pct, 49.89); // 3,012,000 / 6,036,800
}

/// A deterministic generator (splitmix64) for the many-connections test.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn both_legs_of_many_connections_total_the_nat_side_truth_not_double() {
    let mut rng = Rng(7);
    let nat = "10.0.0.220";
    let internal: Vec<String> = (0..40)
        .map(|i| format!("10.0.{}.{}", 1 + i / 20, 5 + i))
        .collect();
    let remote: Vec<String> = (0..150)
        .map(|i| {
            if i % 5 == 0 {
                format!("2001:db8::{:x}", i + 1)
            } else {
                format!("198.51.{}.{}", i / 100, 1 + i % 100)
            }
        })
        .collect();
    let mut truth: HashMap<(String, String), (u64, u64)> = HashMap::new();
    let mut lines = Vec::new();
    for c in 0..20_000u64 {
        let i = &internal[rng.below(internal.len() as u64) as usize];
        let r = &remote[rng.below(remote.len() as u64) as usize];
        let (out, inn) = (rng.below(1_000_000), rng.below(5_000_000));
        let (ip_, np) = (10_000 + c % 50_000, 1024 + c % 60_000);
        let e = truth.entry((i.clone(), r.clone())).or_default();
        e.0 += out;
        e.1 += inn;
        lines.push(format!(
            "ACCEPT ingress - {i} {ip_} {nat} 443 6 {out} IPv4 {i} - {r} -"
        ));
        lines.push(format!(
            "ACCEPT egress 8 {nat} {np} {r} 443 6 {out} IPv4 {nat} - {r} -"
        ));
        lines.push(format!(
            "ACCEPT ingress - {r} 443 {nat} {np} 6 {inn} IPv4 {r} - {nat} -"
        ));
        lines.push(format!(
            "ACCEPT egress 1 {nat} 443 {i} {ip_} 6 {inn} IPv4 {r} - {i} -"
        ));
    }
    // Shuffle, so legs of one connection land in different chunks and workers.
    for k in (1..lines.len()).rev() {
        lines.swap(k, rng.below(k as u64 + 1) as usize);
    }
    let mut file = tempfile::NamedTempFile::new().unwrap();
    for line in &lines {
        writeln!(file, "{line}").unwrap();
    }
    file.flush().unwrap();
    let opts = ReportOptions {
        top: 0,
        ..ReportOptions::default()
    };
    let r = build_report(&[file.path().to_path_buf()], &opts).unwrap();

    let (out, inn) = truth.values().fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    assert_eq!((r.summary.bytes_out, r.summary.bytes_in), (out, inn));
    assert_eq!(r.summary.bytes_all_records, 2 * (out + inn));
    assert_eq!(r.talkers.len(), truth.len());
    for t in &r.talkers {
        let key = (t.internal_addr.clone(), t.remote_addr.clone().unwrap());
        assert_eq!(truth.get(&key), Some(&(t.bytes_out, t.bytes_in)), "{key:?}");
    }
    // Sorted by total, descending.
    assert!(
        r.talkers
            .windows(2)
            .all(|w| w[0].bytes_total >= w[1].bytes_total)
    );
    assert_eq!(r.summary.records_by_leg.internet, 40_000);
}

#[test]
fn golden_outputs() {
    let r = report(&["nat-cloudwatch.log"], &ReportOptions::default());
    golden("nat-cloudwatch.terminal.golden", &render::terminal(&r));
    golden("nat-cloudwatch.md.golden", &render::markdown(&r));
    golden("nat-cloudwatch.json.golden", &render::json(&r).unwrap());
    golden("nat-cloudwatch.email.golden", &render::email_summary(&r));
    let mut csv = Vec::new();
    render::csv::talkers_csv(&r, &mut csv).unwrap();
    golden(
        "nat-cloudwatch.csv.golden",
        &String::from_utf8(csv).unwrap(),
    );
    let r = report(&["v2-status.log"], &ReportOptions::default());
    golden("v2-status.terminal.golden", &render::terminal(&r));
}

#[test]
fn talkers_csv_reads_back_with_the_contract_header_and_order() {
    let r = report(&["nat-cloudwatch.log"], &ReportOptions::default());
    let mut buf = Vec::new();
    render::csv::talkers_csv(&r, &mut buf).unwrap();
    let mut reader = csv::Reader::from_reader(buf.as_slice());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    // The first eight columns are the original contract; owner, az and remote_name follow.
    assert_eq!(
        header.join(","),
        "rank,internal_addr,remote_addr,remote_aws_service,bytes_out,bytes_in,bytes_total,share_pct,owner,az,remote_name"
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), r.talkers.len());
    let mut previous: Option<(u64, String, String)> = None;
    for (row, t) in rows.iter().zip(&r.talkers) {
        assert_eq!(row[0].parse::<u64>().unwrap(), t.rank);
        assert_eq!(&row[1], t.internal_addr);
        assert_eq!(&row[2], t.remote_addr.as_deref().unwrap_or(""));
        assert_eq!(&row[3], t.remote_aws_service.as_deref().unwrap_or(""));
        let (out, inn, total) = (
            row[4].parse::<u64>().unwrap(),
            row[5].parse::<u64>().unwrap(),
            row[6].parse::<u64>().unwrap(),
        );
        assert_eq!((out, inn, total), (t.bytes_out, t.bytes_in, out + inn));
        assert!((row[7].parse::<f64>().unwrap() - t.share_pct).abs() < 0.005);
        // bytes_total desc, then internal_addr, remote_addr ascending as text.
        let key = (total, row[1].to_string(), row[2].to_string());
        if let Some(p) = &previous {
            assert!(
                p.0 > key.0 || (p.0 == key.0 && (&p.1, &p.2) < (&key.1, &key.2)),
                "{p:?} then {key:?}"
            );
        }
        previous = Some(key);
    }
    // No service is an empty cell, not "-".
    assert!(rows.iter().any(|row| row[3].is_empty()));
    assert!(rows.iter().all(|row| &row[3] != "-"));
}

#[test]
fn json_reads_back_with_every_section_and_integer_bytes() {
    let r = report(&["nat-cloudwatch.log"], &ReportOptions::default());
    let v: serde_json::Value = serde_json::from_str(&render::json(&r).unwrap()).unwrap();
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
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["summary"]["bytes_total"].as_u64(), Some(6_036_800));
    assert_eq!(v["summary"]["leg_rule"], "pkt-fields");
    assert_eq!(v["talkers"][0]["internal_addr"], "10.0.1.5");
    assert_eq!(v["talkers"][0]["remote_aws_service"], "S3");
    assert_eq!(v["talkers"][0]["bytes_out"].as_u64(), Some(3_000_000));
    assert_eq!(v["services"][0]["endpoint"], "gateway");
    assert_eq!(v["timeline"][0]["minute"], "2024-05-01T10:00:00Z");
    assert_eq!(
        v["summary"]["malformed_examples"][0]["line"].as_u64(),
        Some(30)
    );
    let talkers = v["talkers"].as_array().unwrap();
    assert_eq!(talkers.len(), r.talkers.len());
    assert!(talkers.iter().all(|t| t["bytes_total"].is_u64()));
}

#[test]
fn out_dir_gets_every_table_and_no_temporary_files() {
    let r = report(&["nat-cloudwatch.log"], &ReportOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report-out");
    let written = render::write_out_dir(&r, &out).unwrap();
    assert_eq!(written.len(), render::OUT_FILES.len());
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut expected: Vec<String> = render::OUT_FILES.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(names, expected);
    let json = std::fs::read_to_string(out.join("report.json")).unwrap();
    assert_eq!(json, render::json(&r).unwrap());
    let services = std::fs::read_to_string(out.join("services.csv")).unwrap();
    assert!(services.starts_with("service,bytes_out,bytes_in,bytes_total,endpoint,"));
    assert!(services.contains("\nS3,3000000,12000,3012000,gateway,"));
}

#[test]
fn email_summary_stays_short_even_for_a_large_report() {
    let r = report(&["nat-cloudwatch.log"], &ReportOptions::default());
    let mut big = r.clone();
    for _ in 0..200 {
        big.talkers.extend(r.talkers.iter().cloned());
        big.services.extend(r.services.iter().cloned());
        big.summary.warnings.push("x".repeat(5000));
    }
    for report in [&r, &big] {
        let text = render::email_summary(report);
        assert!(text.len() < render::EMAIL_MAX_BYTES);
        // Every fix's command is there whole.
        for a in report.remediation.actions.iter().take(1) {
            let command = a.command.as_deref().unwrap();
            assert!(text.lines().any(|l| l.trim() == command), "{text}");
        }
    }
    let text = render::email_summary(&r);
    assert!(text.contains("10.0.1.5 -> 52.216.8.1 [S3]"), "{text}");
    assert!(
        text.contains("S3: gateway endpoint saves <$0.01 over the window, about $1.29/month at this rate\n     aws ec2 create-vpc-endpoint --region us-east-1 "),
        "{text}"
    );
    assert!(text.contains("No VPC endpoint carries: Amazon"), "{text}");
}

#[test]
fn a_measured_recording_cost_stands_beside_what_its_fixes_save() {
    let mut r = report(&["nat-cloudwatch.log"], &ReportOptions::default());
    assert!(!render::email_summary(&r).contains("Logs ingestion"));
    r.recording_cost = Some(crate::model::RecordingCost {
        ingested_bytes: 820_000_000,
        cost_usd: 0.41,
    });
    let saving = r.monthly_saving().unwrap();
    let line = format!(
        "This recording cost $0.41 in CloudWatch Logs ingestion (820.00 MB); the fixes it found save ${saving:.2}/month."
    );
    assert!(render::email_summary(&r).contains(&line), "{line}");
    assert!(
        render::markdown(&r).contains("this recording cost $0.41 in CloudWatch Logs ingestion"),
        "{}",
        render::markdown(&r)
    );
}

#[test]
fn a_format_without_pkt_fields_via_options_is_used_for_plain_files() {
    // The four-legs file read with a format that drops the pkt-* fields would be malformed;
    // the AWS v2 format names its own fields through the header, so the default is ignored.
    let opts = ReportOptions {
        default_format: LogFormat::aws_default_v2(),
        ..ReportOptions::default()
    };
    let r = report(&["v2-status.log"], &opts);
    assert_eq!(r.summary.records_read, 7);
    let r = report(&["nat-four-legs.log"], &opts);
    assert_eq!(r.summary.records_read, 0);
    assert_eq!(r.summary.malformed_lines, 4);
}

#[test]
fn an_export_files_own_nat_ips_and_format_decide_its_leg_rule() {
    use nat_flowrec_parsers::{ExportMeta, ExportWriter};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rec-1.log.gz");
    let meta = ExportMeta {
        format: LogFormat::parse(
            "${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${bytes}",
        )
        .unwrap(),
        recording_id: Some("rec-1".to_string()),
        nat_gateway_id: Some("nat-0123456789abcdef0".to_string()),
        region: None,
        interface_id: Some("eni-0123456789abcdef0".to_string()),
        nat_ips: vec![ip("10.0.0.220")],
        window_start: Some(1_714_557_600),
        window_end: Some(1_714_557_900),
    };
    let mut w = ExportWriter::create(&path, &meta).unwrap();
    // AWS's four legs without pkt-* fields: only the NAT IP tells the VPC side.
    for (ts, line) in [
        (1_714_557_601_000, "10.0.1.5 10.0.0.220 41000 443 6 1200"),
        (1_714_557_601_000, "10.0.0.220 203.0.113.5 61000 443 6 1200"),
        (
            1_714_557_662_000,
            "203.0.113.5 10.0.0.220 443 61000 6 56000",
        ),
        (1_714_557_662_000, "10.0.0.220 10.0.1.5 443 41000 6 56000"),
    ] {
        w.write_event(ts, line).unwrap();
    }
    w.finish().unwrap();
    let r = build_report(&[dir.path().to_path_buf()], &ReportOptions::default()).unwrap();
    assert_eq!(r.summary.leg_rule, LegRule::NatIps);
    assert_eq!(r.talkers.len(), 1);
    assert_eq!(
        (r.talkers[0].bytes_out, r.talkers[0].bytes_in),
        (1200, 56000)
    );
    // The events' timestamps make the timeline.
    let minutes: Vec<u64> = r.timeline.iter().map(|m| m.bytes_total).collect();
    assert_eq!(minutes, [1200, 56000]);
}

#[test]
fn a_long_timeline_is_bucketed_on_a_terminal_but_complete_in_markdown() {
    let mut r = report(&["nat-four-legs.log"], &ReportOptions::default());
    r.timeline = (0..150)
        .map(|i| crate::model::Minute {
            minute: crate::time::iso_utc(1_714_557_600 + 60 * i),
            minute_unix: 1_714_557_600 + 60 * i,
            bytes_out: 1000,
            bytes_in: 0,
            bytes_total: 1000,
        })
        .collect();
    let text = render::terminal(&r);
    assert!(text.contains("Timeline (bytes per 3 minutes)"), "{text}");
    let rows = text
        .lines()
        .filter(|l| l.trim_start().starts_with("2024-05-01T"))
        .count();
    assert_eq!(rows, 50);
    assert!(text.contains("  2024-05-01T10:03:00Z  3.00 KB"), "{text}");
    let md = render::markdown(&r);
    assert_eq!(
        md.lines()
            .filter(|l| l.starts_with("| 2024-05-01T"))
            .count(),
        150
    );
}

#[test]
fn tables_cut_by_top_end_with_an_others_row_carrying_the_rest() {
    let opts = ReportOptions {
        top: 2,
        ..ReportOptions::default()
    };
    let r = report(&["nat-cloudwatch.log"], &opts);
    let text = render::terminal(&r);
    let shown: u64 = r.talkers.iter().map(|t| t.bytes_total).sum();
    let rest = crate::human_bytes(r.summary.bytes_total - shown);
    let others = text
        .lines()
        .find(|l| l.contains("Others"))
        .unwrap_or_else(|| panic!("no Others row:\n{text}"));
    assert!(others.contains(&rest), "{others} lacks {rest}");
    let all = report(&["nat-cloudwatch.log"], &ReportOptions::default());
    assert!(!render::terminal(&all).contains("Others"));
}
