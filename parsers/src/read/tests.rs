//! Reader tests: every committed fixture under `fixtures/flowlogs/`, chunk boundaries, bounded
//! memory, export-file round trips, and the file-level errors.

use std::io::{self, Read};
use std::net::IpAddr;
use std::path::PathBuf;

use super::*;
use crate::error::RecordErrorKind;
use crate::export::ExportWriter;
use crate::field::Field;
use crate::values::{Action, AwsService, FlowDirection, IpType, LogStatus};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/flowlogs")
        .join(name)
}

fn ip(text: &str) -> IpAddr {
    text.parse().expect("test address")
}

/// The parts of a record the tests look at, owned (records borrow their chunk).
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    line: String,
    srcaddr: Option<IpAddr>,
    dstaddr: Option<IpAddr>,
    pkt_srcaddr: Option<IpAddr>,
    pkt_dstaddr: Option<IpAddr>,
    bytes: Option<u64>,
    action: Option<Action>,
    log_status: Option<LogStatus>,
    direction: Option<FlowDirection>,
    src_service: Option<String>,
    dst_service: Option<String>,
    timestamp_ms: Option<i64>,
}

struct Read_ {
    kind: SourceKind,
    format: LogFormat,
    meta: Option<ExportMeta>,
    records: Vec<Seen>,
    errors: Vec<RecordError>,
}

fn read_file(mut file: FlowLogFile) -> Result<Read_, ReadError> {
    let (kind, format, meta) = (file.kind(), file.format().clone(), file.meta().cloned());
    let mut records = Vec::new();
    let mut errors = Vec::new();
    file.for_each_record(|res| match res {
        Ok(rec) => records.push(Seen {
            line: rec.render(&format),
            srcaddr: rec.srcaddr,
            dstaddr: rec.dstaddr,
            pkt_srcaddr: rec.pkt_srcaddr,
            pkt_dstaddr: rec.pkt_dstaddr,
            bytes: rec.bytes,
            action: rec.action,
            log_status: rec.log_status,
            direction: rec.flow_direction,
            src_service: rec.pkt_src_aws_service.map(|s| s.to_string()),
            dst_service: rec.pkt_dst_aws_service.map(|s| s.to_string()),
            timestamp_ms: rec.timestamp_ms,
        }),
        Err(err) => errors.push(err),
    })?;
    Ok(Read_ {
        kind,
        format,
        meta,
        records,
        errors,
    })
}

fn read_fixture(name: &str, default: &LogFormat) -> Read_ {
    let file = FlowLogFile::open(&fixture(name), default).expect("fixture opens");
    read_file(file).expect("fixture reads")
}

fn read_text(text: &[u8], default: &LogFormat) -> Result<Read_, ReadError> {
    read_file(FlowLogFile::from_reader(
        "test".into(),
        io::Cursor::new(text.to_vec()),
        default,
    )?)
}

/// A record is on the VPC side of a NAT when translation is visible (docs/DESIGN.md, "The leg
/// rule").
fn vpc_side(seen: &Seen) -> bool {
    seen.srcaddr != seen.pkt_srcaddr || seen.dstaddr != seen.pkt_dstaddr
}

#[test]
fn aws_documented_default_records() {
    let read = read_fixture("aws-default-v2.log", &LogFormat::aws_default_v2());
    assert_eq!(read.kind, SourceKind::Plain);
    assert!(read.errors.is_empty(), "{:?}", read.errors);
    assert_eq!(read.records.len(), 7);
    let statuses: Vec<_> = read.records.iter().map(|r| r.log_status).collect();
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == Some(LogStatus::NoData))
            .count(),
        1
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == Some(LogStatus::SkipData))
            .count(),
        1
    );
    let rejects = read
        .records
        .iter()
        .filter(|r| r.action == Some(Action::Reject))
        .count();
    assert_eq!(rejects, 2);
    let ssh = &read.records[0];
    assert_eq!(ssh.srcaddr, Some(ip("172.31.16.139")));
    assert_eq!(ssh.bytes, Some(4249));
    let nodata = &read.records[2];
    assert_eq!(
        (nodata.srcaddr, nodata.bytes, nodata.action),
        (None, None, None)
    );
    let v6 = &read.records[6];
    assert_eq!(
        v6.srcaddr,
        Some(ip("2001:db8:1234:a100:8d6e:3477:df66:f105"))
    );
    // Each documented line renders back exactly as AWS wrote it.
    let text = std::fs::read_to_string(fixture("aws-default-v2.log")).expect("fixture");
    let rendered: Vec<_> = read.records.iter().map(|r| r.line.as_str()).collect();
    assert_eq!(rendered, text.lines().collect::<Vec<_>>());
}

#[test]
fn nat_legs_in_default_format() {
    let read = read_fixture("nat-legs-default.log", &LogFormat::default());
    assert_eq!(read.kind, SourceKind::Plain);
    assert!(read.errors.is_empty(), "{:?}", read.errors);
    let sides: Vec<_> = read.records.iter().map(vpc_side).collect();
    assert_eq!(sides, [true, false, false, true]);
    let first = &read.records[0];
    assert_eq!(first.srcaddr, Some(ip("10.0.1.5")));
    assert_eq!(first.pkt_dstaddr, Some(ip("203.0.113.5")));
    assert_eq!(first.direction, Some(FlowDirection::Ingress));
    assert_eq!(read.records[3].bytes, Some(120_000));
}

#[test]
fn aws_nat_gateway_example_with_header() {
    let read = read_fixture("nat-gateway-aws-example.log", &LogFormat::default());
    assert_eq!(read.kind, SourceKind::S3);
    assert_eq!(
        read.format.fields(),
        &[
            Field::InstanceId,
            Field::InterfaceId,
            Field::Srcaddr,
            Field::Dstaddr,
            Field::PktSrcaddr,
            Field::PktDstaddr
        ]
    );
    assert!(read.errors.is_empty(), "{:?}", read.errors);
    let sides: Vec<_> = read.records.iter().map(vpc_side).collect();
    assert_eq!(sides, [true, false, false, true]);
}

#[test]
fn v5_records_name_aws_services() {
    let read = read_fixture("v5-services.log", &LogFormat::default());
    assert_eq!(read.kind, SourceKind::S3);
    assert!(read.errors.is_empty(), "{:?}", read.errors);
    let services: Vec<_> = read
        .records
        .iter()
        .map(|r| (r.src_service.as_deref(), r.dst_service.as_deref()))
        .collect();
    assert_eq!(
        services,
        [
            (Some("S3"), None),
            (None, Some("S3")),
            (None, Some("DYNAMODB")),
            (Some("DYNAMODB"), None),
            (None, Some("AMAZON")),
            (None, None),
        ]
    );
    assert_eq!(read.records[1].direction, Some(FlowDirection::Egress));
}

#[test]
fn ipv6_records_in_default_format() {
    let file =
        FlowLogFile::open(&fixture("ipv6-default.log"), &LogFormat::default()).expect("open");
    let format = file.format().clone();
    let mut types = Vec::new();
    let mut protocols = Vec::new();
    let mut services = Vec::new();
    for chunk in file.chunks().numbered() {
        let chunk = chunk.expect("chunk");
        for rec in chunk.records(&format) {
            let rec = rec.expect("record");
            assert!(rec.srcaddr.is_some_and(|a| a.is_ipv6()));
            types.push(rec.ip_type);
            protocols.push(rec.protocol);
            services.push(rec.pkt_dst_aws_service.map(|s| s == AwsService::S3));
        }
    }
    assert_eq!(types, [Some(IpType::V6); 3]);
    assert_eq!(protocols, [Some(6), Some(6), Some(58)]);
    assert_eq!(services, [None, Some(true), None]);
}

#[test]
fn s3_delivered_gzip_with_header() {
    let name =
        "123456789010_vpcflowlogs_us-east-1_fl-0123456789abcdef0_20240501T1000Z_a1b2c3d4.log.gz";
    let read = read_fixture(name, &LogFormat::default());
    assert_eq!(read.kind, SourceKind::S3);
    assert_eq!(read.format, LogFormat::aws_default_v2());
    assert!(read.errors.is_empty(), "{:?}", read.errors);
    assert_eq!(read.records.len(), 5);
    assert_eq!(read.records[4].log_status, Some(LogStatus::NoData));
}

#[test]
fn gzip_is_recognised_by_magic_not_name() {
    // Named `.log`, holds two gzip members back to back.
    let read = read_fixture("gzip-named-log.log", &LogFormat::default());
    assert_eq!(read.kind, SourceKind::Plain);
    assert!(read.errors.is_empty(), "{:?}", read.errors);
    assert_eq!(read.records.len(), 2);
    assert_eq!(read.records[1].bytes, Some(120_000));
}

#[test]
fn cloudwatch_export_with_rfc3339_timestamps() {
    let read = read_fixture("cloudwatch-export.log", &LogFormat::default());
    assert_eq!(read.kind, SourceKind::CloudWatchExport);
    assert!(read.errors.is_empty(), "{:?}", read.errors);
    let stamps: Vec<_> = read.records.iter().map(|r| r.timestamp_ms).collect();
    assert_eq!(
        stamps,
        [
            Some(1_714_557_605_000),
            Some(1_714_557_605_000),
            Some(1_714_557_667_250),
            Some(1_714_557_667_250)
        ]
    );
    assert_eq!(read.records[2].src_service.as_deref(), Some("S3"));
}

#[test]
fn cloudwatch_export_with_epoch_millis() {
    let read = read_fixture("cloudwatch-export-epoch.log", &LogFormat::default());
    assert_eq!(read.kind, SourceKind::CloudWatchExport);
    assert!(read.errors.is_empty(), "{:?}", read.errors);
    let stamps: Vec<_> = read.records.iter().map(|r| r.timestamp_ms).collect();
    assert_eq!(stamps, [Some(1_714_557_605_000), Some(1_714_557_667_250)]);
}

#[test]
fn export_file_fixture_carries_its_meta() {
    // The default passed here is deliberately wrong: the file names its own format.
    let read = read_fixture("export-v1.log.gz", &LogFormat::aws_default_v2());
    assert_eq!(read.kind, SourceKind::Export);
    assert_eq!(read.format, LogFormat::default());
    let meta = read.meta.expect("export meta");
    assert_eq!(
        meta.recording_id.as_deref(),
        Some("rec-20240501T100000Z-nat-0a1b2c3d4e5f67890")
    );
    assert_eq!(
        meta.nat_gateway_id.as_deref(),
        Some("nat-0a1b2c3d4e5f67890")
    );
    assert_eq!(meta.interface_id.as_deref(), Some("eni-0a1b2c3d4e5f67890"));
    assert_eq!(meta.nat_ips, [ip("10.0.0.220")]);
    assert_eq!(
        (meta.window_start, meta.window_end),
        (Some(1714557600), Some(1714558200))
    );
    assert!(read.errors.is_empty(), "{:?}", read.errors);
    assert_eq!(read.records.len(), 4);
    assert!(
        read.records
            .iter()
            .all(|r| r.timestamp_ms == Some(1_714_557_605_000))
    );
}

#[test]
fn all_fields_and_an_unknown_one() {
    let file = FlowLogFile::open(&fixture("all-fields.log"), &LogFormat::default()).expect("open");
    assert_eq!(file.kind(), SourceKind::S3);
    let format = file.format().clone();
    assert_eq!(format.len(), 41);
    assert_eq!(
        format.fields().last(),
        Some(&Field::Unknown("some-future-field".into()))
    );
    let text = std::fs::read_to_string(fixture("all-fields.log")).expect("fixture");
    let mut lines = text.lines().skip(1);
    let mut seen = 0;
    for chunk in file.chunks().numbered() {
        for rec in chunk.expect("chunk").records(&format) {
            let rec = rec.expect("record");
            let line = lines.next().expect("line");
            seen += 1;
            if seen == 1 {
                assert_eq!(rec.version, Some(8));
                assert_eq!(rec.end, Some(1714557660), "milliseconds become seconds");
                assert_eq!(rec.tcp_flags, Some(19));
                assert_eq!(rec.sublocation_type, Some("outpost"));
                assert_eq!(rec.pkt_src_aws_service, None);
                assert_eq!(rec.pkt_dst_aws_service, Some(AwsService::S3));
                assert_eq!(rec.traffic_path.map(|p| p.get()), Some(8));
                assert_eq!(rec.ecs_cluster_name, Some("web"));
                assert_eq!(rec.ecs_second_container_id, None);
                assert_eq!(rec.ecs_task_id, Some("0f1e"));
                assert_eq!(
                    rec.unknown_value(&format, "some-future-field"),
                    Some("future-value")
                );
                // Renders back exactly except the millisecond end, which is kept in seconds.
                assert_eq!(
                    rec.render(&format),
                    line.replace("1714557660123", "1714557660")
                );
            } else {
                assert_eq!(rec.action, Some(Action::Reject));
                assert_eq!(rec.reject_reason, Some("BPA"));
                assert!(rec.unknown.is_empty());
                assert_eq!(rec.render(&format), line);
            }
        }
    }
    assert_eq!(seen, 2);
}

#[test]
fn malformed_field_counts_are_counted_not_fatal() {
    let read = read_fixture("err-field-count.log", &LogFormat::default());
    assert_eq!(read.records.len(), 2);
    let errs: Vec<_> = read.errors.iter().map(|e| (e.line, e.kind)).collect();
    assert_eq!(
        errs,
        [
            (
                2,
                RecordErrorKind::FieldCount {
                    expected: 14,
                    found: 12
                }
            ),
            (
                3,
                RecordErrorKind::FieldCount {
                    expected: 14,
                    found: 15
                }
            ),
        ]
    );
    assert_eq!(
        read.errors[0].to_string(),
        "line 2: expected 14 fields (the log format), found 12"
    );
}

#[test]
fn malformed_values_name_line_field_and_text() {
    let read = read_fixture("err-bad-values.log", &LogFormat::default());
    assert_eq!(read.records.len(), 1);
    let errs: Vec<_> = read
        .errors
        .iter()
        .map(|e| (e.line, e.field.clone().unwrap_or_default(), e.found.clone()))
        .collect();
    let expect = [
        (1, "dstport", "http"),
        (2, "srcaddr", "10.0.1.500"),
        (3, "action", "ALLOW"),
        (4, "traffic-path", "9"),
        (5, "bytes", "-5"),
        (6, "flow-direction", "inbound"),
        (7, "type", "IPv5"),
        (8, "protocol", "tcp"),
    ];
    let expect: Vec<_> = expect
        .iter()
        .map(|(l, f, v)| (*l, f.to_string(), v.to_string()))
        .collect();
    assert_eq!(errs, expect);
    assert_eq!(
        read.errors[0].to_string(),
        "line 1, field `dstport`: expected an integer 0-65535, found `http`"
    );
}

#[test]
fn invalid_utf8_is_one_malformed_line() {
    let read = read_fixture("err-invalid-utf8.log", &LogFormat::default());
    assert_eq!(read.records.len(), 2);
    assert_eq!(read.errors.len(), 1);
    assert_eq!(
        (read.errors[0].line, read.errors[0].kind),
        (2, RecordErrorKind::InvalidUtf8)
    );
}

#[test]
fn bad_event_timestamps_are_malformed_lines() {
    let read = read_fixture("err-bad-timestamp.log", &LogFormat::default());
    assert_eq!(read.kind, SourceKind::CloudWatchExport);
    assert_eq!(read.records.len(), 2);
    let errs: Vec<_> = read.errors.iter().map(|e| (e.line, e.kind)).collect();
    assert_eq!(
        errs,
        [
            (2, RecordErrorKind::BadTimestamp),
            (3, RecordErrorKind::BadTimestamp)
        ]
    );
}

#[test]
fn truncated_gzip_is_a_read_error_naming_the_file() {
    let path = fixture("err-truncated.log.gz");
    let result = FlowLogFile::open(&path, &LogFormat::default()).and_then(read_file);
    match result {
        Err(err @ ReadError::Gzip { .. }) => {
            assert!(err.path().ends_with("err-truncated.log.gz"), "{err}");
            assert!(err.to_string().contains("corrupt or truncated"), "{err}");
        }
        Err(other) => panic!("expected a gzip error, got {other}"),
        Ok(_) => panic!("a truncated gzip file read without error"),
    }
}

#[test]
fn binary_files_are_not_flow_logs() {
    let err = FlowLogFile::open(&fixture("err-not-a-flow-log.log"), &LogFormat::default())
        .expect_err("binary");
    assert!(matches!(err, ReadError::NotFlowLog { .. }), "{err}");
    assert!(err.to_string().contains("err-not-a-flow-log.log"), "{err}");
}

#[test]
fn missing_files_name_the_path() {
    let err = FlowLogFile::open(&fixture("no-such-file.log"), &LogFormat::default())
        .expect_err("missing");
    assert!(matches!(err, ReadError::Io { .. }));
    assert!(err.to_string().contains("no-such-file.log"), "{err}");
}

/// Hands out at most a few bytes per `read`, to split lines across reads.
struct Trickle {
    data: Vec<u8>,
    pos: usize,
    step: usize,
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.step = self.step % 7 + 1;
        let n = self.step.min(buf.len()).min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

fn sample_lines(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "ACCEPT ingress - 10.0.{}.{} {} 10.0.0.220 443 6 {} IPv4 10.0.1.5 - 203.0.113.5 S3\n",
                i % 200,
                i % 250,
                1024 + i % 60000,
                i * 7
            )
        })
        .collect()
}

#[test]
fn lines_split_across_reads_and_chunks_are_whole() {
    let text = sample_lines(500);
    for chunk_size in [1, 17, 64, 333, 4096] {
        let file = FlowLogFile::from_reader(
            "trickle".into(),
            Trickle {
                data: text.clone().into_bytes(),
                pos: 0,
                step: 0,
            },
            &LogFormat::default(),
        )
        .expect("open")
        .with_chunk_size(chunk_size);
        let read = read_file(file).expect("read");
        assert!(
            read.errors.is_empty(),
            "chunk {chunk_size}: {:?}",
            read.errors.first()
        );
        let lines: Vec<_> = read.records.iter().map(|r| r.line.clone() + "\n").collect();
        assert_eq!(lines.concat(), text, "chunk size {chunk_size}");
    }
}

#[test]
fn chunk_line_numbers_continue_across_chunks() {
    let text = sample_lines(300);
    let file = FlowLogFile::from_reader("t".into(), io::Cursor::new(text), &LogFormat::default())
        .expect("open")
        .with_chunk_size(1000);
    let mut expected_no = 1;
    let mut chunks = 0;
    for chunk in file.chunks().numbered() {
        let chunk = chunk.expect("chunk");
        assert_eq!(chunk.first_line(), Some(expected_no));
        chunks += 1;
        for line in chunk.lines() {
            assert_eq!(line.expect("line").no, expected_no);
            expected_no += 1;
        }
    }
    assert_eq!(expected_no, 301);
    assert!(chunks > 10, "{chunks} chunks");
}

/// The parallel readers' way: chunks of bare records come uncounted, are parsed in any order,
/// and the line counts `for_each_flow` returns place the errors' lines where the sequential
/// reader numbers them.
#[test]
fn line_numbers_placed_after_the_fact_are_the_files() {
    let mut text = String::new();
    for i in 0..400 {
        if i == 250 {
            // Longer than the reader keeps: cut, and one malformed line all the same.
            text.push_str(&"9".repeat(source::MAX_LINE + 10));
            text.push('\n');
        } else if i % 37 == 5 {
            text.push_str("not a flow record\n");
        } else if i % 53 == 0 {
            text.push('\n');
        } else {
            text.push_str(&sample_lines(1));
        }
    }
    let open = || {
        FlowLogFile::from_reader(
            "t".into(),
            io::Cursor::new(text.clone()),
            &LogFormat::default(),
        )
        .expect("open")
        .with_chunk_size(700)
    };
    let format = LogFormat::default();
    let mut want = Vec::new();
    for chunk in open().chunks().numbered() {
        chunk.expect("chunk").for_each_flow(&format, |flow| {
            if let Err(e) = flow {
                want.push(e.line);
            }
        });
    }
    assert_eq!(want.len(), 12, "{want:?}");
    assert_eq!(want[0], 6);
    assert!(want.contains(&251), "the cut line: {want:?}");

    let chunks: Vec<Chunk> = open().chunks().collect::<Result<_, _>>().expect("chunks");
    assert!(chunks.len() > 20);
    // The blank first line is passed over while the reader looks for a header: counted.
    assert_eq!(chunks[0].first_line(), Some(2));
    assert!(chunks[1..].iter().all(|c| c.first_line().is_none()));
    // Two workers, each taking every other chunk, last first.
    let mut workers = [LineNumbers::default(), LineNumbers::default()];
    let mut errors = Vec::new();
    for chunk in chunks.iter().rev() {
        let lines = chunk.for_each_flow(&format, |flow| {
            if let Err(e) = flow {
                errors.push((chunk.seq(), e.line));
            }
        });
        assert_eq!(lines, chunk.line_count());
        workers[chunk.seq() as usize % 2].count(chunk, lines);
    }
    let [mut numbers, other] = workers;
    numbers.merge(other);
    let mut got: Vec<u64> = errors
        .into_iter()
        .map(|(seq, line)| numbers.file_line(seq, line))
        .collect();
    got.sort_unstable();
    assert_eq!(got, want);
}

/// Produces `lines` generated lines without holding them all in memory.
struct Endless {
    left: usize,
    pending: Vec<u8>,
    pos: usize,
}

impl Read for Endless {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.pending.len() {
            if self.left == 0 {
                return Ok(0);
            }
            let batch = self.left.min(1000);
            self.left -= batch;
            self.pending = sample_lines(batch).into_bytes();
            self.pos = 0;
        }
        let n = buf.len().min(self.pending.len() - self.pos);
        buf[..n].copy_from_slice(&self.pending[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[test]
fn memory_is_bounded_by_the_chunk_size() {
    // ~20 MB of input in 64 KiB chunks: no chunk grows beyond its size plus one line.
    let lines = 250_000;
    let file = FlowLogFile::from_reader(
        "endless".into(),
        Endless {
            left: lines,
            pending: Vec::new(),
            pos: 0,
        },
        &LogFormat::default(),
    )
    .expect("open")
    .with_chunk_size(64 * 1024);
    let mut total_lines = 0;
    let mut total_bytes = 0;
    for chunk in file.chunks().numbered() {
        let chunk = chunk.expect("chunk");
        assert!(
            chunk.byte_len() <= 64 * 1024,
            "chunk of {} bytes",
            chunk.byte_len()
        );
        total_bytes += chunk.byte_len();
        total_lines += chunk.lines().count();
    }
    assert_eq!(total_lines, lines);
    assert!(total_bytes > 20_000_000);
}

#[test]
fn an_overlong_line_is_cut_and_reported() {
    let mut text = sample_lines(3).into_bytes();
    text.extend(std::iter::repeat_n(b'x', 3 * 1024 * 1024));
    text.push(b'\n');
    text.extend(sample_lines(2).into_bytes());
    let file =
        FlowLogFile::from_reader("long".into(), io::Cursor::new(text), &LogFormat::default())
            .expect("open")
            .with_chunk_size(4096);
    let format = file.format().clone();
    let mut ok = 0;
    let mut errors = Vec::new();
    for chunk in file.chunks().numbered() {
        let chunk = chunk.expect("chunk");
        assert!(chunk.byte_len() <= source::MAX_LINE + 4096);
        for rec in chunk.records(&format) {
            match rec {
                Ok(_) => ok += 1,
                Err(e) => errors.push((e.line, e.kind)),
            }
        }
    }
    assert_eq!(ok, 5);
    assert_eq!(errors, [(4, RecordErrorKind::LineTooLong)]);
}

#[test]
fn blank_lines_crlf_and_leading_blank_lines() {
    let text = b"\r\n\nversion srcaddr bytes\r\n2 10.0.0.1 5\r\n\r\n2 10.0.0.2 -\r\n";
    let read = read_text(text, &LogFormat::default()).expect("read");
    assert_eq!(read.kind, SourceKind::S3);
    assert!(read.errors.is_empty(), "{:?}", read.errors);
    assert_eq!(read.records.len(), 2);
    assert_eq!(read.records[1].bytes, None);
}

#[test]
fn empty_input_has_no_records() {
    let read = read_text(b"", &LogFormat::default()).expect("read");
    assert_eq!(read.kind, SourceKind::Plain);
    assert!(read.records.is_empty() && read.errors.is_empty());
    let read = read_text(b"\n\n", &LogFormat::default()).expect("read");
    assert!(read.records.is_empty() && read.errors.is_empty());
}

#[test]
fn line_numbers_count_the_s3_header() {
    let text = b"srcaddr bytes\n10.0.0.1 x\n";
    let read = read_text(text, &LogFormat::default()).expect("read");
    assert_eq!(read.errors.len(), 1);
    assert_eq!(read.errors[0].line, 2);
}

/// Fails after handing out some data, like a disk or network error mid-file.
struct FailsAfter {
    data: io::Cursor<Vec<u8>>,
}

impl Read for FailsAfter {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.data.read(buf)? {
            0 => Err(io::Error::other("device went away")),
            n => Ok(n),
        }
    }
}

#[test]
fn io_errors_mid_file_end_the_chunks_with_the_file_name() {
    let file = FlowLogFile::from_reader(
        "flaky.log".into(),
        FailsAfter {
            data: io::Cursor::new(sample_lines(2000).into_bytes()),
        },
        &LogFormat::default(),
    )
    .expect("open")
    .with_chunk_size(8192);
    let results: Vec<_> = file.chunks().numbered().collect();
    let (ok, err): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
    assert!(!ok.is_empty());
    assert_eq!(err.len(), 1, "the iterator ends after an error");
    let err = err.into_iter().next().and_then(Result::err).expect("error");
    assert!(matches!(err, ReadError::Io { .. }));
    assert!(err.to_string().contains("flaky.log"), "{err}");
}

#[test]
fn chunks_can_cross_threads() {
    fn assert_send<T: Send + 'static>(_: &T) {}
    let file = FlowLogFile::from_reader(
        "t".into(),
        io::Cursor::new(sample_lines(10)),
        &LogFormat::default(),
    )
    .expect("open");
    let chunks = file.chunks();
    assert_send(&chunks);
    let handle = std::thread::spawn(move || {
        chunks
            .map(|c| c.map(|c| c.lines().count()))
            .sum::<Result<usize, _>>()
    });
    assert_eq!(handle.join().expect("thread").expect("read"), 10);
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nfr-parsers-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn export_files_round_trip() {
    let dir = temp_dir("export-rt");
    let path = dir.join("rec.log.gz");
    let meta = ExportMeta {
        format: LogFormat::parse("${srcaddr} ${dstaddr} ${bytes} ${new-field}").expect("format"),
        recording_id: Some("rec-1".into()),
        nat_gateway_id: Some("nat-1".into()),
        region: None,
        interface_id: None,
        nat_ips: vec![ip("10.0.0.220"), ip("10.0.1.220")],
        window_start: Some(1714557600),
        window_end: None,
    };
    let mut writer = ExportWriter::create(&path, &meta).expect("create");
    let events = [
        (1714557601000i64, "10.0.1.5 10.0.0.220 100 a"),
        (1714557602000, "10.0.0.220 10.0.1.5 200 -"),
        (1714557603000, "garbage"),
    ];
    for (ts, msg) in events {
        writer.write_event(ts, msg).expect("event");
    }
    writer.finish().expect("finish");

    let file = FlowLogFile::open(&path, &LogFormat::default()).expect("open");
    assert_eq!(file.kind(), SourceKind::Export);
    assert_eq!(file.meta(), Some(&meta));
    let read = read_file(file).expect("read");
    assert_eq!(read.records.len(), 2);
    assert_eq!(read.records[0].timestamp_ms, Some(1714557601000));
    assert_eq!(read.records[0].line, "10.0.1.5 10.0.0.220 100 a");
    assert_eq!(read.records[1].bytes, Some(200));
    // Line numbers count the header: 7 header lines, then the events.
    assert_eq!(read.errors.len(), 1);
    assert_eq!(read.errors[0].line, 10);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn export_header_errors_name_file_and_line() {
    let no_format = b"#nat-flowrec-export v1\n#recording r\n1714557601000 a b\n";
    match read_text(no_format, &LogFormat::default()) {
        Err(ReadError::Header { line, message, .. }) => {
            assert_eq!(line, 3);
            assert!(message.contains("#format"), "{message}");
        }
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("an export without #format was accepted"),
    }
    let newer = b"#nat-flowrec-export v2\n#format ${srcaddr}\n";
    let err = read_text(newer, &LogFormat::default())
        .err()
        .expect("v2 refused");
    assert!(
        err.to_string()
            .contains("unsupported export file version `v2`"),
        "{err}"
    );
    let bad_ip = b"#nat-flowrec-export v1\n#format ${srcaddr}\n#nat-ip nat\n";
    let err = read_text(bad_ip, &LogFormat::default())
        .err()
        .expect("bad ip refused");
    assert!(err.to_string().contains("`test`, line 3"), "{err}");
}

/// The records of a fixture, rendered in their format (for comparing two files' contents).
fn rendered(read: &Read_) -> Vec<String> {
    read.records.iter().map(|r| r.line.clone()).collect()
}

#[test]
fn concatenated_s3_objects_repeat_their_header_without_malformed_lines() {
    let plain = read_fixture("nat-talkers.log", &LogFormat::default());
    assert_eq!(plain.records.len(), 29);
    let read = read_fixture(
        "nat-talkers-concatenated.log.gz",
        &LogFormat::aws_default_v2(),
    );
    assert_eq!(read.kind, SourceKind::S3);
    assert_eq!(read.format, LogFormat::default());
    assert!(read.errors.is_empty(), "{:?}", read.errors);
    assert_eq!(rendered(&read), rendered(&plain));
}

#[test]
fn a_repeated_header_is_skipped_in_every_chunk_and_lines_keep_their_numbers() {
    let header = "srcaddr bytes";
    let mut text = String::new();
    for batch in 0..50 {
        text.push_str(header);
        text.push_str("\r\n");
        for i in 0..3 {
            text.push_str(&format!("10.0.{batch}.{i} {i}\n"));
        }
    }
    text.push_str("10.0.0.1 x\n");
    for chunk_size in [7, 64, 1 << 20] {
        let file = FlowLogFile::from_reader(
            "batches.log".into(),
            io::Cursor::new(text.clone().into_bytes()),
            &LogFormat::default(),
        )
        .expect("open")
        .with_chunk_size(chunk_size);
        let read = read_file(file).expect("read");
        assert_eq!(read.records.len(), 150, "chunk size {chunk_size}");
        let lines: Vec<_> = read.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [201], "chunk size {chunk_size}");
    }
}

#[test]
fn a_header_line_in_a_file_that_does_not_start_with_one_is_a_malformed_line() {
    let text = format!(
        "{}\n{}\n{}\n",
        "ACCEPT ingress - 10.0.1.5 41000 10.0.0.220 443 6 5000 IPv4 10.0.1.5 - 203.0.113.5 -",
        LogFormat::default().header_line(),
        "ACCEPT egress 1 10.0.0.220 443 10.0.1.5 41000 6 120000 IPv4 203.0.113.5 - 10.0.1.5 -",
    );
    let read = read_text(text.as_bytes(), &LogFormat::default()).expect("read");
    assert_eq!(read.kind, SourceKind::Plain);
    assert_eq!(read.records.len(), 2);
    assert_eq!(read.errors.len(), 1, "{:?}", read.errors);
}

#[test]
fn a_header_naming_another_format_ends_the_file_at_its_line() {
    let text =
        b"srcaddr bytes\n10.0.0.1 5\n10.0.0.2 6\nsrcaddr dstaddr bytes\n10.0.0.1 10.0.0.2 7\n";
    for chunk_size in [5, 1 << 20] {
        let mut file = FlowLogFile::from_reader(
            "two-formats.log".into(),
            io::Cursor::new(text.to_vec()),
            &LogFormat::default(),
        )
        .expect("open")
        .with_chunk_size(chunk_size);
        let mut bytes = Vec::new();
        let err = file
            .for_each_record(|rec| bytes.push(rec.expect("record").bytes))
            .expect_err("a second format");
        assert_eq!(bytes, [Some(5), Some(6)], "chunk size {chunk_size}");
        let message = err.to_string();
        assert!(
            message.starts_with("`two-formats.log`, line 4: this header line names another log format (`srcaddr dstaddr bytes`) than the file's records before it (`srcaddr bytes`)"),
            "{message}"
        );
        assert!(
            message.contains("`head -n 3` and `tail -n +4`"),
            "{message}"
        );
    }
}

/// The records of `nat-talkers.log` with the event timestamps of its CloudWatch origin.
fn talkers_with_timestamps() -> Vec<(String, Option<i64>)> {
    let read = read_fixture("nat-talkers-messages.jsonl", &LogFormat::default());
    read.records
        .iter()
        .map(|r| (r.line.clone(), r.timestamp_ms))
        .collect()
}

#[test]
fn json_lines_wrapping_records_in_message_are_the_records() {
    let plain = read_fixture("nat-talkers.log", &LogFormat::default());
    let read = read_fixture("nat-talkers-messages.jsonl", &LogFormat::default());
    assert_eq!(read.kind, SourceKind::JsonMessages);
    assert!(read.errors.is_empty(), "{:?}", read.errors);
    assert_eq!(rendered(&read), rendered(&plain));
    assert_eq!(read.records[0].timestamp_ms, Some(1_714_557_605_000));
    assert_eq!(read.records[28].timestamp_ms, Some(1_714_557_822_500));
}

#[test]
fn subscription_payloads_are_their_events_gzip_or_not() {
    let want = talkers_with_timestamps();
    for name in [
        "nat-talkers-subscription.json",
        "nat-talkers-subscription-firehose.gz",
    ] {
        let read = read_fixture(name, &LogFormat::default());
        assert_eq!(read.kind, SourceKind::CloudWatchSubscription, "{name}");
        assert!(read.errors.is_empty(), "{name}: {:?}", read.errors);
        let got: Vec<_> = read
            .records
            .iter()
            .map(|r| (r.line.clone(), r.timestamp_ms))
            .collect();
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn json_values_without_a_record_are_malformed_lines_numbered_by_record() {
    let text = concat!(
        "{\"message\":\"ACCEPT ingress - 10.0.1.5 41000 10.0.0.220 443 6 5000 IPv4 10.0.1.5 - 203.0.113.5 -\"}\n",
        "{\"timestamp\":1714557605000}\n",
        "{\"message\":\"ACCEPT ingress - 10.0.1.5 41000\"}\n",
    );
    let read = read_text(text.as_bytes(), &LogFormat::default()).expect("read");
    assert_eq!(read.kind, SourceKind::JsonMessages);
    assert_eq!(read.records.len(), 1);
    let errors: Vec<_> = read.errors.iter().map(|e| (e.line, e.kind)).collect();
    assert_eq!(
        errors,
        [
            (2, RecordErrorKind::NoMessage),
            (
                3,
                RecordErrorKind::FieldCount {
                    expected: 14,
                    found: 5
                }
            )
        ]
    );
    assert!(
        read.errors[0]
            .to_string()
            .contains("a JSON object with a `message` string"),
        "{}",
        read.errors[0]
    );
}

#[test]
fn broken_json_is_a_read_error_naming_the_file_after_the_records_before_it() {
    let text = b"{\"message\":\"10.0.0.1 5\"}\n{\"message\":\"10.0.0.2";
    let format = LogFormat::parse("${srcaddr} ${bytes}").expect("format");
    let mut file =
        FlowLogFile::from_reader("cut.json".into(), io::Cursor::new(text.to_vec()), &format)
            .expect("open");
    let mut records = 0;
    let err = file
        .for_each_record(|rec| {
            rec.expect("record");
            records += 1;
        })
        .expect_err("cut JSON");
    assert_eq!(records, 1);
    let message = err.to_string();
    assert!(
        message.starts_with("`cut.json` starts like CloudWatch Logs JSON but cannot be read on: EOF while parsing a string at line 2"),
        "{message}"
    );
    let not_json = FlowLogFile::from_reader(
        "braces.txt".into(),
        io::Cursor::new(b"{not json}\n".to_vec()),
        &format,
    )
    .expect_err("not JSON");
    assert!(matches!(not_json, ReadError::Json { .. }), "{not_json}");
}
