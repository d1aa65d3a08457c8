//! The record parser: one line in a [`LogFormat`] to a [`Record`], every field typed. It finds
//! spaces eight bytes at a time, parses values in place without allocating (nom's digit parsers
//! for numbers, a word-at-a-time IPv4 path, `std` for IPv6), and only builds strings when a line
//! is malformed. It is also the reference: the report's faster parser of the same lines
//! (`flow_parser`, on `blocks`, `classes` and `swar`) hands every line it does not take whole to this one.

use std::net::{IpAddr, Ipv4Addr};

use nom::{IResult, character::complete as num};

use crate::error::RecordError;
use crate::field::Field;
use crate::format::LogFormat;
use crate::record::{MILLIS_THRESHOLD, Record};
use crate::values::{Action, AwsService, FlowDirection, IpType, LogStatus, TrafficPath};

mod blocks;
#[cfg(test)]
pub(crate) use blocks::Blocks;
mod classes;
mod flow_parser;
mod ipv6;
mod recent;
mod swar;

pub use flow_parser::FlowParser;

/// Space-separated values of a line; runs of spaces count as one separator.
///
/// Finding the spaces is the larger half of parsing a record, so this looks at 8 bytes at a
/// time (SWAR: a word's space bytes become a bit mask) instead of branching on every byte.
struct Tokens<'a> {
    line: &'a str,
    /// Start of the next token (or of the spaces before it).
    pos: usize,
    /// Offset of the word `mask` describes.
    word: usize,
    /// Spaces of the current word not yet consumed: bit 8*i+7 for byte `word + i`.
    mask: u64,
}

const LO7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const SPACES: u64 = 0x2020_2020_2020_2020;

/// The space bytes of the 8 bytes at `at` (fewer at the end of the line) as bit 8*i+7.
#[inline]
fn space_mask(bytes: &[u8], at: usize) -> u64 {
    let word = match bytes.get(at..at + 8) {
        Some(eight) => {
            let mut buf = [0u8; 8];
            buf.copy_from_slice(eight);
            u64::from_le_bytes(buf)
        }
        None => {
            // Pad the tail with NULs, which are not spaces.
            let mut buf = [0u8; 8];
            let tail = bytes.get(at..).unwrap_or_default();
            if let Some(dst) = buf.get_mut(..tail.len()) {
                dst.copy_from_slice(tail);
            }
            u64::from_le_bytes(buf)
        }
    };
    // Exact zero-byte test on word ^ spaces (no false positives from borrows).
    let t = word ^ SPACES;
    !(((t & LO7).wrapping_add(LO7)) | t | LO7)
}

impl<'a> Tokens<'a> {
    fn new(line: &'a str) -> Tokens<'a> {
        Tokens {
            line,
            pos: 0,
            word: 0,
            mask: space_mask(line.as_bytes(), 0),
        }
    }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = &'a str;

    #[inline]
    fn next(&mut self) -> Option<&'a str> {
        let len = self.line.len();
        loop {
            if self.pos >= len {
                return None;
            }
            // The next space at or after `pos`, or the end of the line.
            let end = loop {
                if self.mask != 0 {
                    let space = self.word + (self.mask.trailing_zeros() / 8) as usize;
                    self.mask &= self.mask - 1;
                    break space;
                }
                self.word += 8;
                if self.word >= len {
                    break len;
                }
                self.mask = space_mask(self.line.as_bytes(), self.word);
            };
            let start = self.pos;
            self.pos = end + 1;
            if end > start {
                // Splitting at an ASCII space always lands on a character boundary.
                return self.line.get(start..end);
            }
        }
    }
}

/// A whole token as one number (nom's digit parser; `()` errors cost nothing).
#[inline]
fn whole<'a, T>(
    parser: impl FnOnce(&'a [u8]) -> IResult<&'a [u8], T, ()>,
    token: &'a str,
) -> Option<T> {
    // Bytes, not chars: the digits are ASCII and skipping UTF-8 decoding is measurably faster.
    match parser(token.as_bytes()) {
        Ok(([], value)) => Some(value),
        _ => None,
    }
}

#[inline]
fn parse_u8(token: &str) -> Option<u8> {
    whole(num::u8, token)
}

#[inline]
fn parse_u16(token: &str) -> Option<u16> {
    whole(num::u16, token)
}

#[inline]
fn parse_u64(token: &str) -> Option<u64> {
    whole(num::u64, token)
}

/// Unix seconds, also when AWS wrote milliseconds.
#[inline]
fn parse_seconds(token: &str) -> Option<u64> {
    parse_u64(token).map(|v| if v > MILLIS_THRESHOLD { v / 1000 } else { v })
}

/// Dotted-quad IPv4 without going through `std`'s generic parser (the common case by far), with
/// `std`'s rules: it refuses leading zeros (`010.0.0.1`), which some tools read as octal.
#[inline]
fn parse_ipv4(token: &[u8]) -> Option<Ipv4Addr> {
    swar::ipv4_token(token, 0, token.len()).map(Ipv4Addr::from)
}

#[inline]
fn parse_ip(token: &str) -> Option<IpAddr> {
    match parse_ipv4(token.as_bytes()) {
        Some(v4) => Some(IpAddr::V4(v4)),
        None => ipv6::parse(token).map(IpAddr::V6),
    }
}

const EXPECT_U8: &str = "an integer 0-255";
const EXPECT_PORT: &str = "an integer 0-65535";
const EXPECT_COUNT: &str = "a non-negative integer";
const EXPECT_TIME: &str = "Unix seconds (a non-negative integer)";
const EXPECT_IP: &str = "an IPv4 or IPv6 address";
const EXPECT_ACTION: &str = "ACCEPT or REJECT";
const EXPECT_STATUS: &str = "OK, NODATA or SKIPDATA";
const EXPECT_DIRECTION: &str = "ingress or egress";
const EXPECT_TYPE: &str = "IPv4, IPv6 or EFA";
const EXPECT_PATH: &str = "a traffic path 1-8";

/// Stores one present (non-`-`) value; `Err` carries what would have been valid.
#[inline]
fn set_field<'a>(
    rec: &mut Record<'a>,
    pos: usize,
    field: &Field,
    t: &'a str,
) -> Result<(), &'static str> {
    fn need<T>(value: Option<T>, expected: &'static str) -> Result<Option<T>, &'static str> {
        value.map(Some).ok_or(expected)
    }
    match field {
        Field::Version => rec.version = need(parse_u8(t), EXPECT_U8)?,
        Field::AccountId => rec.account_id = Some(t),
        Field::InterfaceId => rec.interface_id = Some(t),
        Field::Srcaddr => rec.srcaddr = need(parse_ip(t), EXPECT_IP)?,
        Field::Dstaddr => rec.dstaddr = need(parse_ip(t), EXPECT_IP)?,
        Field::Srcport => rec.srcport = need(parse_u16(t), EXPECT_PORT)?,
        Field::Dstport => rec.dstport = need(parse_u16(t), EXPECT_PORT)?,
        Field::Protocol => rec.protocol = need(parse_u8(t), EXPECT_U8)?,
        Field::Packets => rec.packets = need(parse_u64(t), EXPECT_COUNT)?,
        Field::Bytes => rec.bytes = need(parse_u64(t), EXPECT_COUNT)?,
        Field::Start => rec.start = need(parse_seconds(t), EXPECT_TIME)?,
        Field::End => rec.end = need(parse_seconds(t), EXPECT_TIME)?,
        Field::Action => rec.action = need(Action::from_text(t), EXPECT_ACTION)?,
        Field::LogStatus => rec.log_status = need(LogStatus::from_text(t), EXPECT_STATUS)?,
        Field::VpcId => rec.vpc_id = Some(t),
        Field::SubnetId => rec.subnet_id = Some(t),
        Field::InstanceId => rec.instance_id = Some(t),
        Field::TcpFlags => rec.tcp_flags = need(parse_u16(t), EXPECT_PORT)?,
        Field::Type => rec.ip_type = need(IpType::from_text(t), EXPECT_TYPE)?,
        Field::PktSrcaddr => rec.pkt_srcaddr = need(parse_ip(t), EXPECT_IP)?,
        Field::PktDstaddr => rec.pkt_dstaddr = need(parse_ip(t), EXPECT_IP)?,
        Field::Region => rec.region = Some(t),
        Field::AzId => rec.az_id = Some(t),
        Field::SublocationType => rec.sublocation_type = Some(t),
        Field::SublocationId => rec.sublocation_id = Some(t),
        Field::PktSrcAwsService => rec.pkt_src_aws_service = Some(AwsService::from_text(t)),
        Field::PktDstAwsService => rec.pkt_dst_aws_service = Some(AwsService::from_text(t)),
        Field::FlowDirection => {
            rec.flow_direction = need(FlowDirection::from_text(t), EXPECT_DIRECTION)?
        }
        Field::TrafficPath => {
            rec.traffic_path = need(parse_u8(t).and_then(TrafficPath::new), EXPECT_PATH)?
        }
        Field::EcsClusterArn => rec.ecs_cluster_arn = Some(t),
        Field::EcsClusterName => rec.ecs_cluster_name = Some(t),
        Field::EcsContainerInstanceArn => rec.ecs_container_instance_arn = Some(t),
        Field::EcsContainerInstanceId => rec.ecs_container_instance_id = Some(t),
        Field::EcsContainerId => rec.ecs_container_id = Some(t),
        Field::EcsSecondContainerId => rec.ecs_second_container_id = Some(t),
        Field::EcsServiceName => rec.ecs_service_name = Some(t),
        Field::EcsTaskDefinitionArn => rec.ecs_task_definition_arn = Some(t),
        Field::EcsTaskArn => rec.ecs_task_arn = Some(t),
        Field::EcsTaskId => rec.ecs_task_id = Some(t),
        Field::RejectReason => rec.reject_reason = Some(t),
        Field::Unknown(_) => rec.unknown.push((pos, t)),
    }
    Ok(())
}

impl LogFormat {
    /// Parses one line of this format. `-` is an absent value for every field; a NODATA or
    /// SKIPDATA line is a record with its `log_status`. A line that does not match (wrong number
    /// of values, a value invalid for its field) is a [`RecordError`] carrying `line_no`
    /// (1-based); this never panics, whatever the input.
    #[inline]
    pub fn parse_record<'a>(&self, line: &'a str, line_no: u64) -> Result<Record<'a>, RecordError> {
        // Trailing spaces too: a value the line ends in must not keep a `\r` that the same line
        // without its trailing space would lose (a record must render to a line that parses back).
        let line = line.trim_end_matches(['\n', '\r', ' ']);
        let mut tokens = Tokens::new(line);
        let mut rec = Record::default();
        for (pos, field) in self.fields().iter().enumerate() {
            let Some(token) = tokens.next() else {
                return Err(RecordError::field_count(line_no, self.len(), pos));
            };
            if token == "-" {
                continue;
            }
            if let Err(expected) = set_field(&mut rec, pos, field, token) {
                // A value or two missing shifts every later one into the wrong field; the count is
                // then the better diagnosis.
                let found = Tokens::new(line).count();
                if found != self.len() {
                    return Err(RecordError::field_count(line_no, self.len(), found));
                }
                return Err(RecordError::bad_value(line_no, field, token, expected));
            }
        }
        let extra = tokens.count();
        if extra > 0 {
            return Err(RecordError::field_count(
                line_no,
                self.len(),
                self.len() + extra,
            ));
        }
        Ok(rec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::RecordErrorKind;
    use crate::format::{AWS_DEFAULT_V2_FORMAT, DEFAULT_FORMAT};

    fn one(field: &str, value: &str) -> Result<Record<'static>, RecordError> {
        let format = LogFormat::parse(&format!("${{{field}}}")).expect("format");
        let value: &'static str = Box::leak(value.to_owned().into_boxed_str());
        format.parse_record(value, 1)
    }

    fn bad(field: &str, value: &str) -> RecordError {
        match one(field, value) {
            Err(err) => err,
            Ok(rec) => panic!("{field}={value:?} parsed as {rec:?}"),
        }
    }

    fn assert_bad(field: &str, value: &str, expected: &str) {
        let err = bad(field, value);
        assert_eq!(err.kind, RecordErrorKind::BadValue, "{err}");
        assert_eq!(err.field.as_deref(), Some(field));
        assert_eq!(err.found, value);
        assert_eq!(err.expected, expected);
    }

    #[test]
    fn tokens_split_on_space_runs() {
        let toks: Vec<_> = Tokens::new("  a b  c ").collect();
        assert_eq!(toks, ["a", "b", "c"]);
        assert_eq!(Tokens::new("").count(), 0);
        assert_eq!(Tokens::new("   ").count(), 0);
        // Across 8-byte words, with multi-byte characters and tabs (not separators).
        for line in [
            "ACCEPT ingress - 10.0.1.5 41000 10.0.0.220 443 6 5000 IPv4 10.0.1.5 - 203.0.113.5 S3",
            "é ü  \tx        y z",
            "12345678 12345678 1234567 123456789",
            "a",
            "        ",
            " 1234567 ",
        ] {
            let want: Vec<_> = line.split(' ').filter(|t| !t.is_empty()).collect();
            let got: Vec<_> = Tokens::new(line).collect();
            assert_eq!(got, want, "{line:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn tokens_agree_with_split(line in "[ a-z0-9.\u{e9}]{0,80}") {
            let want: Vec<_> = line.split(' ').filter(|t| !t.is_empty()).collect();
            let got: Vec<_> = Tokens::new(&line).collect();
            proptest::prop_assert_eq!(got, want);
        }

        #[test]
        fn fast_ipv4_agrees_with_std_everywhere(text in "[0-9.]{0,16}") {
            proptest::prop_assert_eq!(parse_ipv4(text.as_bytes()), text.parse::<Ipv4Addr>().ok());
        }
    }

    #[test]
    fn integers_have_their_ranges() {
        assert_eq!(one("version", "5").map(|r| r.version), Ok(Some(5)));
        assert_bad("version", "256", EXPECT_U8);
        assert_eq!(one("srcport", "65535").map(|r| r.srcport), Ok(Some(65535)));
        assert_bad("srcport", "65536", EXPECT_PORT);
        assert_bad("dstport", "http", EXPECT_PORT);
        assert_bad("dstport", "-1", EXPECT_PORT);
        assert_bad("dstport", "+1", EXPECT_PORT);
        assert_bad("dstport", "1.0", EXPECT_PORT);
        assert_eq!(one("protocol", "6").map(|r| r.protocol), Ok(Some(6)));
        assert_bad("protocol", "tcp", EXPECT_U8);
        assert_eq!(
            one("bytes", "18446744073709551615").map(|r| r.bytes),
            Ok(Some(u64::MAX))
        );
        assert_bad("bytes", "18446744073709551616", EXPECT_COUNT);
        assert_eq!(one("packets", "0").map(|r| r.packets), Ok(Some(0)));
        assert_bad("packets", "1e3", EXPECT_COUNT);
        assert_eq!(one("tcp-flags", "19").map(|r| r.tcp_flags), Ok(Some(19)));
        assert_bad("tcp-flags", "SYN", EXPECT_PORT);
    }

    #[test]
    fn start_and_end_accept_seconds_and_milliseconds() {
        assert_eq!(
            one("start", "1418530010").map(|r| r.start),
            Ok(Some(1418530010))
        );
        assert_eq!(
            one("start", "1418530010123").map(|r| r.start),
            Ok(Some(1418530010))
        );
        assert_eq!(
            one("end", "1418530070").map(|r| r.end),
            Ok(Some(1418530070))
        );
        assert_eq!(
            one("end", "1418530070999").map(|r| r.end),
            Ok(Some(1418530070))
        );
        assert_bad("end", "yesterday", EXPECT_TIME);
    }

    #[test]
    fn addresses_v4_and_v6() {
        let v4: IpAddr = "10.0.1.5".parse().expect("ip");
        assert_eq!(one("srcaddr", "10.0.1.5").map(|r| r.srcaddr), Ok(Some(v4)));
        let v6: IpAddr = "2001:db8:1234:a102:3304:8879:34cf:4071"
            .parse()
            .expect("ip");
        assert_eq!(
            one("dstaddr", "2001:db8:1234:a102:3304:8879:34cf:4071").map(|r| r.dstaddr),
            Ok(Some(v6))
        );
        assert_eq!(
            one("pkt-srcaddr", "::ffff:10.0.0.1").map(|r| r.pkt_srcaddr.is_some()),
            Ok(true)
        );
        assert_eq!(
            one("pkt-dstaddr", "255.255.255.255").map(|r| r.pkt_dstaddr),
            Ok(Some(IpAddr::V4(Ipv4Addr::BROADCAST)))
        );
        for bad_addr in [
            "10.0.0",
            "10.0.0.1.2",
            "10.0.0.256",
            "10.0.0.01",
            "10..0.1",
            "10.0.0.1a",
            "1000.0.0.1",
            "2001:db8::g",
            "host.example",
            "",
        ] {
            if bad_addr.is_empty() {
                continue; // an empty line is a count error, tested elsewhere
            }
            assert_bad("srcaddr", bad_addr, EXPECT_IP);
        }
        assert_bad("pkt-dstaddr", "10.0.0.x", EXPECT_IP);
    }

    #[test]
    fn fast_ipv4_agrees_with_std() {
        for text in [
            "0.0.0.0",
            "1.2.3.4",
            "10.0.0.220",
            "192.168.100.255",
            "01.2.3.4",
            "1.2.3",
            "a.b.c.d",
        ] {
            assert_eq!(
                parse_ipv4(text.as_bytes()),
                text.parse::<Ipv4Addr>().ok(),
                "{text}"
            );
        }
    }

    #[test]
    fn closed_vocabularies() {
        assert_eq!(
            one("action", "REJECT").map(|r| r.action),
            Ok(Some(Action::Reject))
        );
        assert_bad("action", "DENY", EXPECT_ACTION);
        assert_eq!(
            one("log-status", "SKIPDATA").map(|r| r.log_status),
            Ok(Some(LogStatus::SkipData))
        );
        assert_bad("log-status", "FAILED", EXPECT_STATUS);
        assert_eq!(
            one("flow-direction", "egress").map(|r| r.flow_direction),
            Ok(Some(FlowDirection::Egress))
        );
        assert_bad("flow-direction", "inbound", EXPECT_DIRECTION);
        assert_eq!(one("type", "EFA").map(|r| r.ip_type), Ok(Some(IpType::Efa)));
        assert_bad("type", "IPv5", EXPECT_TYPE);
        assert_eq!(
            one("traffic-path", "8").map(|r| r.traffic_path.map(TrafficPath::get)),
            Ok(Some(8))
        );
        assert_bad("traffic-path", "0", EXPECT_PATH);
        assert_bad("traffic-path", "9", EXPECT_PATH);
        assert_bad("traffic-path", "x", EXPECT_PATH);
        assert_eq!(
            one("pkt-src-aws-service", "S3").map(|r| r.pkt_src_aws_service),
            Ok(Some(AwsService::S3))
        );
        assert_eq!(
            one("pkt-dst-aws-service", "NEW_SERVICE").map(|r| r.pkt_dst_aws_service),
            Ok(Some(AwsService::Other("NEW_SERVICE")))
        );
    }

    #[test]
    fn text_fields_borrow_the_line() {
        let format = LogFormat::parse(
            "${account-id} ${interface-id} ${vpc-id} ${subnet-id} ${instance-id} ${region} ${az-id} ${sublocation-type} ${sublocation-id} ${reject-reason}",
        )
        .expect("format");
        let line = "123456789010 eni-1235b8ca123456789 vpc-abc subnet-def i-0123 us-east-2 use2-az2 wavelength wlid-1 BPA";
        let rec = format.parse_record(line, 1).expect("record");
        assert_eq!(rec.account_id, Some("123456789010"));
        assert_eq!(rec.interface_id, Some("eni-1235b8ca123456789"));
        assert_eq!(rec.vpc_id, Some("vpc-abc"));
        assert_eq!(rec.subnet_id, Some("subnet-def"));
        assert_eq!(rec.instance_id, Some("i-0123"));
        assert_eq!(rec.region, Some("us-east-2"));
        assert_eq!(rec.az_id, Some("use2-az2"));
        assert_eq!(rec.sublocation_type, Some("wavelength"));
        assert_eq!(rec.sublocation_id, Some("wlid-1"));
        assert_eq!(rec.reject_reason, Some("BPA"));
        // Zero-copy: the value points into the line.
        let start = line.as_ptr() as usize;
        let value = rec.vpc_id.map(|v| v.as_ptr() as usize).unwrap_or_default();
        assert!(value >= start && value < start + line.len());
    }

    #[test]
    fn ecs_fields() {
        let format = LogFormat::parse(
            "${ecs-cluster-arn} ${ecs-cluster-name} ${ecs-container-instance-arn} ${ecs-container-instance-id} ${ecs-container-id} ${ecs-second-container-id} ${ecs-service-name} ${ecs-task-definition-arn} ${ecs-task-arn} ${ecs-task-id}",
        )
        .expect("format");
        let rec = format
            .parse_record("arn:c name arn:ci ci-id c1 c2 svc arn:td arn:t t-id", 1)
            .expect("record");
        assert_eq!(rec.ecs_cluster_arn, Some("arn:c"));
        assert_eq!(rec.ecs_cluster_name, Some("name"));
        assert_eq!(rec.ecs_container_instance_arn, Some("arn:ci"));
        assert_eq!(rec.ecs_container_instance_id, Some("ci-id"));
        assert_eq!(rec.ecs_container_id, Some("c1"));
        assert_eq!(rec.ecs_second_container_id, Some("c2"));
        assert_eq!(rec.ecs_service_name, Some("svc"));
        assert_eq!(rec.ecs_task_definition_arn, Some("arn:td"));
        assert_eq!(rec.ecs_task_arn, Some("arn:t"));
        assert_eq!(rec.ecs_task_id, Some("t-id"));
    }

    #[test]
    fn unknown_fields_keep_text_with_their_position() {
        let format =
            LogFormat::parse("${srcaddr} ${future-a} ${bytes} ${future-b}").expect("format");
        let rec = format
            .parse_record("10.0.0.1 hello 5 -", 1)
            .expect("record");
        assert_eq!(rec.unknown, vec![(1, "hello")]);
        assert_eq!(rec.unknown_value(&format, "future-a"), Some("hello"));
        assert_eq!(rec.unknown_value(&format, "future-b"), None);
        assert_eq!(rec.render(&format), "10.0.0.1 hello 5 -");
    }

    #[test]
    fn dash_is_absent_for_every_field() {
        let all = crate::field::KNOWN_FIELDS
            .iter()
            .map(|f| format!("${{{}}}", f.name()))
            .collect::<Vec<_>>()
            .join(" ");
        let format = LogFormat::parse(&all).expect("format");
        let dashes = vec!["-"; format.len()].join(" ");
        let rec = format.parse_record(&dashes, 1).expect("record");
        assert_eq!(rec, Record::default());
        assert_eq!(rec.render(&format), dashes);
    }

    #[test]
    fn aws_default_examples_parse() {
        let format = LogFormat::parse(AWS_DEFAULT_V2_FORMAT).expect("format");
        let rec = format
            .parse_record(
                "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
                1,
            )
            .expect("record");
        assert_eq!(rec.version, Some(2));
        assert_eq!(rec.srcport, Some(20641));
        assert_eq!(rec.dstport, Some(22));
        assert_eq!(rec.bytes, Some(4249));
        assert_eq!(rec.action, Some(Action::Accept));
        assert_eq!(rec.log_status, Some(LogStatus::Ok));
        let nodata = format
            .parse_record(
                "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA",
                2,
            )
            .expect("NODATA is a record");
        assert_eq!(nodata.log_status, Some(LogStatus::NoData));
        assert!(nodata.is_status_only());
        assert_eq!(nodata.srcaddr, None);
    }

    #[test]
    fn field_count_errors() {
        let format = LogFormat::parse(DEFAULT_FORMAT).expect("format");
        let short = "ACCEPT ingress - 10.0.0.1 443 10.0.0.2 55000 6 100 IPv4 10.0.0.1 -";
        let err = format.parse_record(short, 7).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 7: expected 14 fields (the log format), found 12"
        );
        let long =
            "ACCEPT ingress - 10.0.0.1 443 10.0.0.2 55000 6 100 IPv4 10.0.0.1 - 10.0.0.2 - extra";
        let err = format.parse_record(long, 8).unwrap_err();
        assert_eq!(
            err.kind,
            RecordErrorKind::FieldCount {
                expected: 14,
                found: 15
            }
        );
        let err = format.parse_record("", 9).unwrap_err();
        assert_eq!(
            err.kind,
            RecordErrorKind::FieldCount {
                expected: 14,
                found: 0
            }
        );
        // A missing value early shifts the rest: reported as a count, not as a bad `srcport`.
        let shifted = "ACCEPT ingress 10.0.0.1 443 10.0.0.2 55000 6 100 IPv4 10.0.0.1 - 10.0.0.2 -";
        let err = format.parse_record(shifted, 10).unwrap_err();
        assert_eq!(
            err.kind,
            RecordErrorKind::FieldCount {
                expected: 14,
                found: 13
            }
        );
    }

    #[test]
    fn value_error_message_names_line_and_field() {
        let format = LogFormat::parse(DEFAULT_FORMAT).expect("format");
        let line = "ACCEPT ingress - 10.0.0.1 443 10.0.0.2 http 6 100 IPv4 10.0.0.1 - 10.0.0.2 -";
        let err = format.parse_record(line, 42).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 42, field `dstport`: expected an integer 0-65535, found `http`"
        );
    }

    #[test]
    fn crlf_and_extra_spaces_are_tolerated() {
        let format = LogFormat::parse("${srcaddr} ${bytes}").expect("format");
        let rec = format.parse_record("10.0.0.1  5 \r\n", 1).expect("record");
        assert_eq!(rec.bytes, Some(5));
    }
}
