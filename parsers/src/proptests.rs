//! Property tests: a rendered record parses back to itself (default format and a format with
//! every field plus an unknown one), and nothing any input can hold makes the parser or the
//! readers panic.

use std::io::Cursor;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;

use crate::field::{Field, KNOWN_FIELDS};
use crate::flow::Flow;
use crate::format::LogFormat;
use crate::parse::Blocks;
use crate::read::FlowLogFile;
use crate::record::Record;
use crate::values::{Action, AwsService, FlowDirection, IpType, LogStatus, TrafficPath};

fn all_fields_format() -> LogFormat {
    let mut fields = KNOWN_FIELDS.to_vec();
    fields.insert(7, Field::Unknown("future-a".into()));
    fields.push(Field::Unknown("future-b".into()));
    LogFormat::from_fields(fields).expect("no duplicates")
}

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        3 => any::<[u8; 4]>().prop_map(|o| IpAddr::V4(Ipv4Addr::from(o))),
        1 => any::<[u16; 8]>().prop_map(|s| IpAddr::V6(Ipv6Addr::from(s))),
    ]
}

/// A word as ids and ARNs look; never `-` alone (that is "absent").
fn word() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9:/._-]{0,24}"
}

/// Owned text values of one record (a `Record` borrows them inside the test).
#[derive(Debug, Clone)]
struct Texts {
    words: Vec<Option<String>>,
    src_other: Option<String>,
    dst_other: Option<String>,
    unknown: [Option<String>; 2],
}

fn texts() -> impl Strategy<Value = Texts> {
    let other = prop::option::of("X_[A-Z0-9_]{1,12}");
    (
        prop::collection::vec(prop::option::of(word()), 18),
        other.clone(),
        other,
        [prop::option::of(word()), prop::option::of(word())],
    )
        .prop_map(|(words, src_other, dst_other, unknown)| Texts {
            words,
            src_other,
            dst_other,
            unknown,
        })
}

fn service<'a>(pick: Option<usize>, other: &'a Option<String>) -> Option<AwsService<'a>> {
    match (pick, other) {
        (_, Some(name)) => Some(AwsService::Other(name)),
        (Some(i), None) => AwsService::KNOWN.get(i % AwsService::KNOWN.len()).copied(),
        (None, None) => None,
    }
}

#[derive(Debug, Clone)]
struct Typed {
    version: Option<u8>,
    addrs: [Option<IpAddr>; 4],
    ports: [Option<u16>; 2],
    protocol: Option<u8>,
    counts: [Option<u64>; 2],
    times: [Option<u64>; 2],
    action: Option<Action>,
    status: Option<LogStatus>,
    tcp_flags: Option<u16>,
    ip_type: Option<IpType>,
    services: [Option<usize>; 2],
    direction: Option<FlowDirection>,
    path: Option<u8>,
}

fn typed() -> impl Strategy<Value = Typed> {
    let time = prop::option::of(0u64..100_000_000_000);
    (
        (
            any::<Option<u8>>(),
            [
                prop::option::of(ip()),
                prop::option::of(ip()),
                prop::option::of(ip()),
                prop::option::of(ip()),
            ],
            any::<[Option<u16>; 2]>(),
            any::<Option<u8>>(),
            any::<[Option<u64>; 2]>(),
            [time.clone(), time],
        ),
        (
            prop::option::of(prop::sample::select(Action::ALL)),
            prop::option::of(prop::sample::select(LogStatus::ALL)),
            any::<Option<u16>>(),
            prop::option::of(prop::sample::select(IpType::ALL)),
            any::<[Option<usize>; 2]>(),
            prop::option::of(prop::sample::select(FlowDirection::ALL)),
            prop::option::of(1u8..=8),
        ),
    )
        .prop_map(
            |(
                (version, addrs, ports, protocol, counts, times),
                (action, status, tcp_flags, ip_type, services, direction, path),
            )| Typed {
                version,
                addrs,
                ports,
                protocol,
                counts,
                times,
                action,
                status,
                tcp_flags,
                ip_type,
                services,
                direction,
                path,
            },
        )
}

fn build<'a>(t: &Typed, x: &'a Texts, format: &LogFormat) -> Record<'a> {
    let w = |i: usize| x.words.get(i).and_then(|w| w.as_deref());
    let mut unknown = Vec::new();
    for (n, field) in format.fields().iter().enumerate() {
        let value = match field {
            Field::Unknown(name) if name == "future-a" => x.unknown[0].as_deref(),
            Field::Unknown(_) => x.unknown[1].as_deref(),
            _ => continue,
        };
        if let Some(value) = value {
            unknown.push((n, value));
        }
    }
    Record {
        version: t.version,
        account_id: w(0),
        interface_id: w(1),
        srcaddr: t.addrs[0],
        dstaddr: t.addrs[1],
        srcport: t.ports[0],
        dstport: t.ports[1],
        protocol: t.protocol,
        packets: t.counts[0],
        bytes: t.counts[1],
        start: t.times[0],
        end: t.times[1],
        action: t.action,
        log_status: t.status,
        vpc_id: w(2),
        subnet_id: w(3),
        instance_id: w(4),
        tcp_flags: t.tcp_flags,
        ip_type: t.ip_type,
        pkt_srcaddr: t.addrs[2],
        pkt_dstaddr: t.addrs[3],
        region: w(5),
        az_id: w(6),
        sublocation_type: w(7),
        sublocation_id: w(8),
        pkt_src_aws_service: service(t.services[0], &x.src_other),
        pkt_dst_aws_service: service(t.services[1], &x.dst_other),
        flow_direction: t.direction,
        traffic_path: t.path.and_then(TrafficPath::new),
        ecs_cluster_arn: w(9),
        ecs_cluster_name: w(10),
        ecs_container_instance_arn: w(11),
        ecs_container_instance_id: w(12),
        ecs_container_id: w(13),
        ecs_second_container_id: w(14),
        ecs_service_name: w(15),
        ecs_task_definition_arn: w(16),
        ecs_task_arn: w(17),
        reject_reason: x.words.first().and_then(|w| w.as_deref()),
        ecs_task_id: x.words.get(5).and_then(|w| w.as_deref()),
        unknown,
        timestamp_ms: None,
    }
}

/// The record as the 14-field default format carries it (every other field absent).
fn default_fields_of<'a>(rec: &Record<'a>) -> Record<'a> {
    Record {
        action: rec.action,
        flow_direction: rec.flow_direction,
        traffic_path: rec.traffic_path,
        srcaddr: rec.srcaddr,
        srcport: rec.srcport,
        dstaddr: rec.dstaddr,
        dstport: rec.dstport,
        protocol: rec.protocol,
        bytes: rec.bytes,
        ip_type: rec.ip_type,
        pkt_srcaddr: rec.pkt_srcaddr,
        pkt_src_aws_service: rec.pkt_src_aws_service,
        pkt_dstaddr: rec.pkt_dstaddr,
        pkt_dst_aws_service: rec.pkt_dst_aws_service,
        ..Record::default()
    }
}

/// Tokens that records are made of, plus near misses, for structured fuzzing.
fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("-".to_owned()),
        Just("ACCEPT".to_owned()),
        Just("NODATA".to_owned()),
        Just("ingress".to_owned()),
        Just("IPv6".to_owned()),
        Just("S3".to_owned()),
        Just("8".to_owned()),
        Just("99999999999999999999999".to_owned()),
        Just("10.0.0.256".to_owned()),
        Just("::1".to_owned()),
        Just("1:2:3:4:5:6:7:8:9".to_owned()),
        Just("é".to_owned()),
        any::<u64>().prop_map(|n| n.to_string()),
        ip().prop_map(|a| a.to_string()),
        "\\PC{0,8}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn default_format_records_round_trip(t in typed(), x in texts()) {
        let format = LogFormat::default();
        let rec = build(&t, &x, &format);
        let line = rec.render(&format);
        let parsed = format.parse_record(&line, 1).map_err(|e| TestCaseError::fail(e.to_string()))?;
        // The parsed record carries exactly the format's fields of the original.
        prop_assert_eq!(parsed.render(&format), line.clone());
        prop_assert_eq!(parsed, default_fields_of(&rec));
    }

    #[test]
    fn every_field_round_trips(t in typed(), x in texts()) {
        let format = all_fields_format();
        let rec = build(&t, &x, &format);
        let line = rec.render(&format);
        let parsed = format.parse_record(&line, 1).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(parsed, rec);
    }

    #[test]
    fn parser_never_panics_on_arbitrary_text(line in "\\PC{0,300}") {
        let _ = LogFormat::default().parse_record(&line, 1);
        let _ = all_fields_format().parse_record(&line, 1);
    }

    #[test]
    fn parser_never_panics_on_record_like_text(tokens in prop::collection::vec(token(), 0..45)) {
        let line = tokens.join(" ");
        for format in [LogFormat::default(), all_fields_format(), LogFormat::aws_default_v2()] {
            if let Ok(rec) = format.parse_record(&line, 7) {
                // Whatever parses renders to a line that parses to the same record.
                let again = rec.render(&format);
                prop_assert_eq!(format.parse_record(&again, 7), Ok(rec));
            }
        }
    }

    /// The report's parser against the record parser, on record-like lines valid and malformed
    /// (with the line ends a reader may leave on them), with each way of finding spaces that this
    /// processor has (AVX2, SSE2, portable): the same verdict, the same values.
    #[test]
    fn flow_parser_agrees_with_parse_record_in_every_way(
        tokens in prop::collection::vec(token(), 0..45),
        end in prop_oneof![Just(""), Just("\n"), Just("\r\n"), Just(" ")],
    ) {
        let line = tokens.join(" ") + end;
        for format in [LogFormat::default(), all_fields_format(), LogFormat::aws_default_v2()] {
            let want = format.parse_record(&line, 7).map(|rec| Flow::from(&rec));
            for blocks in Blocks::every_way() {
                let parser = format.flow_parser().with_blocks(blocks);
                prop_assert_eq!(parser.parse(&line, 7), want.clone(), "{:?}", blocks);
            }
        }
    }

    /// Rendered records (every value valid, of every length) read the same in every way.
    #[test]
    fn rendered_records_read_the_same_in_every_way(t in typed(), x in texts()) {
        for format in [LogFormat::default(), all_fields_format()] {
            let line = build(&t, &x, &format).render(&format);
            let want = format.parse_record(&line, 1).map(|rec| Flow::from(&rec));
            prop_assert!(want.is_ok(), "{}", line);
            for blocks in Blocks::every_way() {
                let parser = format.flow_parser().with_blocks(blocks);
                prop_assert_eq!(parser.parse(&line, 1), want.clone(), "{:?}", blocks);
            }
        }
    }

    #[test]
    fn format_parser_never_panics(text in "\\PC{0,120}") {
        if let Ok(format) = LogFormat::parse(&text) {
            prop_assert_eq!(LogFormat::parse(&format.to_string()), Ok(format.clone()));
        }
        let _ = LogFormat::from_header(&text);
    }

    #[test]
    fn readers_never_panic_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2000), chunk in 1usize..300) {
        read_everything(bytes, chunk);
    }

    #[test]
    fn readers_never_panic_on_gzip_like_bytes(mut bytes in prop::collection::vec(any::<u8>(), 0..500)) {
        bytes.splice(0..0, [0x1f, 0x8b, 8, 0]);
        read_everything(bytes, 64);
    }

    #[test]
    fn readers_never_panic_on_export_like_text(lines in prop::collection::vec(
        prop_oneof![
            Just("#nat-flowrec-export v1".to_owned()),
            Just("#format ${srcaddr} ${bytes}".to_owned()),
            "#[a-z-]{1,12} \\PC{0,20}",
            "[0-9]{1,14} \\PC{0,30}",
            "2024-0[1-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9](\\.[0-9]{1,10})?Z? \\PC{0,20}",
            "\\PC{0,40}",
        ], 0..12)) {
        read_everything(lines.join("\n").into_bytes(), 32);
    }
}

fn read_everything(bytes: Vec<u8>, chunk: usize) {
    for default in [LogFormat::default(), LogFormat::aws_default_v2()] {
        if let Ok(file) =
            FlowLogFile::from_reader("fuzz".into(), Cursor::new(bytes.clone()), &default)
        {
            let format = file.format().clone();
            for c in file.with_chunk_size(chunk).chunks() {
                let Ok(c) = c else { break };
                for rec in c.records(&format) {
                    let _ = rec.map(|r| r.render(&format));
                }
            }
        }
    }
}
