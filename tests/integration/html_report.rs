//! `report.html` in a real browser: the demo's page opened by headless Chromium from the file,
//! offline (a proxy the test owns must see no connection), screenshot with its charts drawn,
//! its text holding the top talker and the coverage. And a recording whose flow logs delivered
//! late (no record in its first minutes) against moto: the metrics around it are kept in the
//! recording folder, the chart shows the minutes the flow logs missed, and the coverage is
//! below 100 %, offline too.
//!
//! Chromium: `scripts/test` installs Debian's `chromium` when it is missing and names it in
//! `NAT_FLOWREC_CHROMIUM`; without it these tests fail saying so (they never skip).

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::TimeDelta;

use crate::support::moto::{moto, put_calm_metrics, put_log_events, put_spike, seed_nat};
use crate::support::records::four_legs;
use crate::support::run::{Setup, assert_started, config, minute_now, nat_flowrec, text};
use crate::support::subscribers::rec_dir;

/// The browser the tests drive.
fn chromium() -> PathBuf {
    let path = std::env::var_os("NAT_FLOWREC_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.is_file(),
        "{} not found: install Debian's `chromium` (scripts/test does: apt-get install chromium) or set NAT_FLOWREC_CHROMIUM to a Chromium binary",
        path.display()
    );
    path
}

/// Hosts Chromium itself calls at start whatever the page (its component updater, network
/// time and account services), which no flag turns off in every version: not the page's.
const CHROMIUMS_OWN: [&str; 3] = [
    "update.googleapis.com",
    "accounts.google.com",
    "clients2.google.com",
];

/// A TCP listener standing in for a proxy: every request the browser makes lands here, and
/// the host it was for is kept.
struct Trap {
    port: u16,
    hosts: Arc<Mutex<Vec<String>>>,
}

impl Trap {
    fn start() -> Trap {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hosts = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&hosts);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let mut first = String::new();
                let _ = BufReader::new(&stream).read_line(&mut first);
                seen.lock().unwrap().push(proxied_host(&first));
            }
        });
        Trap { port, hosts }
    }

    /// The hosts requested, Chromium's own left out.
    fn page_requests(&self) -> Vec<String> {
        let hosts = self.hosts.lock().unwrap();
        hosts
            .iter()
            .filter(|h| !CHROMIUMS_OWN.contains(&h.as_str()))
            .cloned()
            .collect()
    }
}

/// `CONNECT host:443 HTTP/1.1` or `GET http://host/path HTTP/1.1` -> `host`; the line as is
/// when it is neither.
fn proxied_host(request_line: &str) -> String {
    let target = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or(request_line);
    let authority = target
        .strip_prefix("http://")
        .or_else(|| target.strip_prefix("https://"))
        .map_or(target, |rest| rest.split('/').next().unwrap_or(rest));
    authority
        .rsplit_once(':')
        .map_or(authority, |(host, _)| host)
        .to_owned()
}

/// Headless Chromium on `page` (a file) with a fresh profile and every request sent to the
/// trap, loopback included; `what` is `--screenshot=...` or `--dump-dom`.
fn open(page: &Path, trap: &Trap, window: (u32, u32), what: &str) -> Output {
    let profile = tempfile::tempdir().unwrap();
    let o = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--proxy-server=127.0.0.1:{}", trap.port))
        .arg("--proxy-bypass-list=<-loopback>")
        .arg(format!("--window-size={},{}", window.0, window.1))
        .arg(what)
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(o.status.success(), "chromium: {}", text(&o));
    o
}

/// The distinct colours of the screenshot's pixels in rows `rows`.
fn colours(png_file: &Path, rows: std::ops::Range<u32>) -> usize {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(png_file).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let line = info.line_size;
    let mut seen = std::collections::BTreeSet::new();
    for y in rows.filter(|y| *y < info.height) {
        let row = &buf[y as usize * line..(y as usize + 1) * line];
        for pixel in row.chunks(channels) {
            seen.insert(pixel[..3.min(channels)].to_vec());
        }
    }
    seen.len()
}

/// Whether the page names anything to fetch: a `src` or `href` with a URL, a stylesheet link,
/// a script, an `@import` or a CSS `url(...)`.
fn fetches(page: &str) -> Vec<&'static str> {
    [
        "src=\"http",
        "src='http",
        "href=\"http",
        "href='http",
        "<script",
        "<link",
        "@import",
        "url(",
        "<img",
    ]
    .into_iter()
    .filter(|needle| page.contains(needle))
    .collect()
}

#[test]
fn the_proxys_request_lines_name_their_hosts() {
    assert_eq!(
        proxied_host("CONNECT fonts.example.com:443 HTTP/1.1\r\n"),
        "fonts.example.com"
    );
    assert_eq!(
        proxied_host("GET http://cdn.example.com/x.css HTTP/1.1"),
        "cdn.example.com"
    );
}

#[test]
fn the_demos_report_html_opens_offline_in_chromium_with_its_charts_and_tables() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let o = nat_flowrec(dir.path())
        .args(["demo", "--dir"])
        .arg(&demo)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    let page = PathBuf::from(
        last.strip_prefix("The report with charts, for a browser: ")
            .unwrap_or_else(|| panic!("the demo's last line names report.html: {last}")),
    );
    assert!(page.ends_with("report/report.html"), "{}", page.display());
    let html = std::fs::read_to_string(&page).unwrap();
    assert_eq!(fetches(&html), Vec::<&str>::new(), "self-contained");
    assert_eq!(html.matches("<svg").count(), 3, "spike, talkers, costs");

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(page.with_file_name("report.json")).unwrap())
            .unwrap();
    let top = report["talkers"][0]["internal_addr"].as_str().unwrap();
    let coverage = report["coverage"]["statement"].as_str().unwrap();
    let figure = coverage.split_whitespace().nth(3).unwrap();
    assert!(figure.ends_with('%'), "{coverage}");

    let trap = Trap::start();
    let shot = dir.path().join("desktop.png");
    open(
        &page,
        &trap,
        (1280, 900),
        &format!("--screenshot={}", shot.display()),
    );
    let dom = open(&page, &trap, (1280, 900), "--dump-dom");
    // Give a late request (a prefetch, a font) the time to show.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        trap.page_requests(),
        Vec::<String>::new(),
        "the page made network requests"
    );
    // The spike chart fills the screen below the header: lines, areas and text in many colours.
    assert!(colours(&shot, 400..800) > 8, "the chart area is blank");
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.contains(top), "top talker {top} missing");
    assert!(
        dom.contains(&format!("flow logs saw {figure} of the bytes")),
        "coverage {figure} missing"
    );
    for heading in ["Who talked to what", "What each fix saves", "Top talkers"] {
        assert!(dom.contains(heading), "{heading} missing");
    }

    // The e-mail and `status` glance at the same minutes.
    assert!(
        stdout.contains("NAT bytes a minute, ") && stdout.contains("█"),
        "{stdout}"
    );
    let o = nat_flowrec(dir.path())
        .arg("--config")
        .arg(demo.join("nat-flowrec.toml"))
        .arg("status")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let status = String::from_utf8_lossy(&o.stdout);
    let glance = status
        .lines()
        .find_map(|l| l.trim().strip_prefix("last spike, bytes a minute: "))
        .unwrap_or_else(|| panic!("no sparkline in:\n{status}"));
    assert!(
        glance.contains('█') && glance.contains("(threshold "),
        "{glance}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delivery_gap_at_the_start_shows_in_the_chart_and_lowers_the_coverage() {
    let moto = moto();
    let sdk = moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    let nat = seed_nat(&ec2, 73).await;
    let group = format!("/nat-flowrec/gap-{}", nat.nat_gateway_id);
    let setup = Setup::with_config(
        moto,
        &config(
            &nat.nat_gateway_id,
            &group,
            "settle_seconds = 300\n\n[report]\nout_dir = \"reports\"\nchart_lookback_minutes = 10",
        ),
    );
    let t = minute_now() - TimeDelta::minutes(30);
    put_spike(
        &cw,
        &nat.nat_gateway_id,
        "BytesInFromSource",
        t - TimeDelta::minutes(2),
    )
    .await;
    let o = setup.run(&["check"], t);
    assert_started(&o);
    // `check`'s line for the breaching NAT glances at the periods it evaluated.
    let trigger_line = String::from_utf8_lossy(&o.stdout)
        .lines()
        .find(|l| l.starts_with(&format!("{}: trigger breaching", nat.nat_gateway_id)))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("{}", text(&o)));
    assert!(
        trigger_line.contains("; bytes a period: ") && trigger_line.contains("█"),
        "{trigger_line}"
    );

    // The NAT carried the same traffic for six minutes; the flow logs delivered the last three.
    let (out, inn) = (1_000_000_u64, 20_000_000_u64);
    let nat_ip = nat.private_ip.to_string();
    let mut events = Vec::new();
    for m in 3..6 {
        let ts = (t + TimeDelta::minutes(m)).timestamp_millis();
        for line in four_legs(&nat_ip, "10.73.0.50", "52.216.8.12", "S3", out, inn) {
            events.push((ts, line));
        }
    }
    put_log_events(&logs, &group, &format!("{}-all", nat.eni), &events).await;
    put_calm_metrics(&cw, &nat.nat_gateway_id, t, 0..6, out as f64, inn as f64).await;
    let o = setup.run(&["check"], t + TimeDelta::minutes(6));
    assert!(o.status.success(), "{}", text(&o));
    let o = setup.run(&["check"], t + TimeDelta::minutes(12));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("reported recording"),
        "{}",
        text(&o)
    );

    let folder = rec_dir(&setup);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("report/report.json")).unwrap())
            .unwrap();
    let ratio = report["coverage"]["ratio_pct"].as_f64().unwrap();
    assert!((45.0..55.0).contains(&ratio), "half the minutes: {ratio}");
    // The chart's data: the NAT counted all six minutes (and the spike before them), the flow
    // logs only the last three.
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("metrics.json")).unwrap())
            .unwrap();
    assert_eq!(
        metrics["start_unix"],
        (t - TimeDelta::minutes(10)).timestamp()
    );
    let source = metrics["series"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["metric"] == "BytesInFromSource")
        .unwrap();
    let counted: Vec<i64> = source["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_i64().unwrap() - t.timestamp()) / 60)
        .collect();
    assert_eq!(counted, [-2, 0, 1, 2, 3, 4, 5], "{metrics}");
    let captured: Vec<i64> = report["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["minute_unix"].as_i64().unwrap() - t.timestamp()) / 60)
        .collect();
    assert_eq!(captured, [3, 4, 5]);
    let html = std::fs::read_to_string(folder.join("report/report.html")).unwrap();
    for drawn in [
        "CloudWatch total (both metrics)",
        "captured by the flow logs",
        "breaching minute",
    ] {
        assert!(html.contains(drawn), "{drawn} missing from the chart");
    }

    // Offline, from the folder alone: the same chart.
    let o = nat_flowrec(setup.dir.path())
        .args(["report", "--no-enrich", "--output", "html"])
        .arg(&folder)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let offline = String::from_utf8_lossy(&o.stdout);
    assert!(offline.contains("CloudWatch total (both metrics)"));
    assert!(!offline.contains("metrics.json, so the NAT"));
}
