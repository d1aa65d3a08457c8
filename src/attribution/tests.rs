//! Attribution at report time on the simulator: a recording folder is attributed and cached, a
//! re-run uses the cache without asking AWS, `--enrich` asks again, a failed lookup is a warning,
//! and plain files stay offline unless asked.

use std::cell::Cell;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};
use nat_flowrec_parsers::{ExportMeta, ExportWriter, LogFormat};
use nat_flowrec_reports::{Report, ReportOptions, build_report};

use super::*;
use crate::ports::{AwsErrorKind, NetworkInterface};
use crate::sim::{SimCloud, SimNat};

/// AWS's example conversation: 10.0.1.5 to 203.0.113.5 through the NAT at 10.0.0.220.
fn four_legs() -> [String; 4] {
    nat_flowrec_parsers::synth::four_legs("10.0.0.220", "10.0.1.5", "203.0.113.5", "-", 1200, 56000)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// `<dir>/rec-1/eni-a.log.gz`: one export file of NAT nat-0sim.
fn recording(dir: &Path) -> PathBuf {
    let folder = dir.join("rec-1");
    std::fs::create_dir_all(&folder).unwrap();
    let meta = ExportMeta {
        format: LogFormat::default(),
        recording_id: Some("rec-1".into()),
        nat_gateway_id: Some("nat-0sim".into()),
        region: None,
        interface_id: Some("eni-a".into()),
        nat_ips: vec![ip("10.0.0.220")],
        window_start: Some(1_714_557_600),
        window_end: Some(1_714_557_660),
    };
    let mut w = ExportWriter::create(folder.join("eni-a.log.gz"), &meta).unwrap();
    for (i, line) in four_legs().iter().enumerate() {
        w.write_event(1_714_557_600_000 + i as i64 * 1000, line)
            .unwrap();
    }
    w.finish().unwrap();
    folder
}

fn account() -> SimCloud {
    let mut nat = SimNat::new("nat-0sim", 0);
    nat.vpc_id = "vpc-sim".into();
    let sim = SimCloud::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()).with_nat(nat);
    sim.add_interface(NetworkInterface {
        id: "eni-web".into(),
        instance_id: Some("i-0web".into()),
        availability_zone: Some("us-east-1a".into()),
        addresses: vec![ip("10.0.1.5")],
        ..NetworkInterface::default()
    });
    sim.add_instance("i-0web", Some("web-1"));
    sim
}

fn report_of(paths: &[PathBuf]) -> Report {
    let opts = ReportOptions {
        top: 0,
        ..ReportOptions::default()
    };
    build_report(paths, &opts).unwrap()
}

async fn run(plan: &Plan, paths: &[PathBuf], sim: &SimCloud, connected: &Cell<u32>) -> Report {
    let mut report = report_of(paths);
    let now = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
    enrich(plan, &mut report, 20, now, async || {
        connected.set(connected.get() + 1);
        (sim, Some("us-east-1".to_owned()))
    })
    .await;
    report
}

#[tokio::test]
async fn a_recording_folder_is_attributed_once_then_from_its_cache_offline() {
    let dir = tempfile::tempdir().unwrap();
    let folder = recording(dir.path());
    let paths = vec![folder.clone()];
    let plan = Plan::new(EnrichMode::Auto, &paths, &LogFormat::default(), &[]);
    assert!(plan.active());
    assert_eq!(plan.folders[0].nat_gateway_ids, ["nat-0sim"]);

    let sim = account();
    let connected = Cell::new(0);
    let first = run(&plan, &paths, &sim, &connected).await;
    assert_eq!(connected.get(), 1);
    assert_eq!(first.talkers[0].owner.as_deref(), Some("i-0web (web-1)"));
    assert_eq!(first.talkers[0].az.as_deref(), Some("us-east-1a"));
    assert!(folder.join(cache::CACHE_FILE).is_file());
    // The cache is hidden, so a second report does not read it as a flow-log file.
    assert_eq!(first.summary.files_read, 1);

    // Offline: every call would fail, and none is made.
    let offline = account();
    offline.fail_next_inventory(AwsErrorKind::Timeout);
    let again = run(&plan, &paths, &offline, &connected).await;
    assert_eq!(
        connected.get(),
        1,
        "the cache covers every host: AWS is not asked"
    );
    assert!(offline.inventory_calls().is_empty());
    assert_eq!(again.talkers[0].owner, first.talkers[0].owner);
    assert!(
        again
            .summary
            .notes
            .iter()
            .any(|n| n.contains(".owners.json")),
        "{:?}",
        again.summary.notes
    );
    assert!(again.summary.files_failed.is_empty());
}

#[tokio::test]
async fn enrich_always_asks_again_and_a_failed_lookup_falls_back_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let folder = recording(dir.path());
    let paths = vec![folder];
    let connected = Cell::new(0);
    let auto = Plan::new(EnrichMode::Auto, &paths, &LogFormat::default(), &[]);
    run(&auto, &paths, &account(), &connected).await;

    // The instance was renamed since: --enrich shows the new name.
    let renamed = account();
    renamed.add_instance("i-0web", Some("web-2"));
    let always = Plan::new(EnrichMode::Always, &paths, &LogFormat::default(), &[]);
    let r = run(&always, &paths, &renamed, &connected).await;
    assert_eq!(r.talkers[0].owner.as_deref(), Some("i-0web (web-2)"));

    // AWS refuses: the cached names stay, and the report says why they were not refreshed.
    let refusing = account();
    refusing.fail_next_inventory(AwsErrorKind::AccessDenied);
    let r = run(&always, &paths, &refusing, &connected).await;
    assert_eq!(r.talkers[0].owner.as_deref(), Some("i-0web (web-2)"));
    assert!(
        r.summary
            .warnings
            .iter()
            .any(|w| w.contains("could not look the hosts up")),
        "{:?}",
        r.summary.warnings
    );
    // One line, naming the call that was denied.
    let denied: Vec<&String> = r
        .summary
        .warnings
        .iter()
        .filter(|w| w.contains("could not look the hosts up"))
        .collect();
    assert_eq!(denied.len(), 1, "{denied:?}");
    assert!(
        denied[0].contains("ec2:Describe") && denied[0].contains("was denied"),
        "{denied:?}"
    );
}

#[tokio::test]
async fn plain_files_stay_offline_unless_asked_and_never_means_never() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/reports/nat-four-legs.log");
    let paths = vec![path];
    let auto = Plan::new(EnrichMode::Auto, &paths, &LogFormat::default(), &[]);
    assert!(!auto.active());
    let never = Plan::new(EnrichMode::Never, &paths, &LogFormat::default(), &[]);
    assert!(!never.active());

    // --enrich on a plain file: no cache to write, owners still found, NAT from --nat-ip.
    let always = Plan::new(
        EnrichMode::Always,
        &paths,
        &LogFormat::default(),
        &[ip("10.0.0.220")],
    );
    assert!(always.active());
    let connected = Cell::new(0);
    let r = run(&always, &paths, &account(), &connected).await;
    assert_eq!(connected.get(), 1);
    assert_eq!(r.sources[0].owner.as_deref(), Some("i-0web (web-1)"));
}

#[tokio::test]
async fn a_lookup_error_without_cache_leaves_an_unattributed_report_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let paths = vec![recording(dir.path())];
    let plan = Plan::new(EnrichMode::Auto, &paths, &LogFormat::default(), &[]);
    let sim = account();
    sim.fail_next_inventory(AwsErrorKind::AccessDenied);
    let r = run(&plan, &paths, &sim, &Cell::new(0)).await;
    assert!(r.attribution.is_none());
    assert_eq!(r.talkers[0].owner, None);
    assert!(
        r.summary
            .warnings
            .iter()
            .any(|w| w.contains("AccessDenied") || w.contains("ec2:DescribeNetworkInterfaces"))
    );
    // Nothing learned, nothing cached.
    assert!(!paths[0].join(cache::CACHE_FILE).exists());
}
