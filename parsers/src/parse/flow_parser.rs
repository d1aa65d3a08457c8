//! The report's parser: one line straight into a [`Flow`]. The format is first compiled into a
//! plan (what to do with each value: parse an address, a port, a word; check it; skip it). Then
//! each line is split at its spaces, found 16 bytes at a time (`classes`), and each value is
//! read from its known span with the word-at-a-time routines of `swar`: no byte loops, few
//! branches (a value's validity is a flag folded into one verdict per line), no
//! [`crate::Record`]. The values do not depend on one another, so the processor reads several
//! at once.
//!
//! It is a fast path, not a second grammar: a line it does not take whole (a malformed value, a
//! missing or extra value, anything unusual) goes to [`LogFormat::parse_record`], which either
//! reports the precise error or accepts the line; the values are then copied from its record.
//! So every line is accepted or rejected exactly as `parse_record` decides, and property tests
//! check that the fast path's values are the record's.

use std::cell::RefCell;
use std::net::{IpAddr, Ipv4Addr};

use super::blocks::{self, Blocks};
use super::recent::{CachedLine, RecentAddresses};
use super::swar::{Padded, Window};
use super::{classes, swar};
use crate::error::RecordError;
use crate::field::Field;
use crate::flow::Flow;
use crate::format::LogFormat;
use crate::record::MILLIS_THRESHOLD;
use crate::values::{Action, AwsService, FlowDirection, IpType, LogStatus, TrafficPath};

/// Formats with more fields than this are read by the record parser alone (AWS documents 40).
const MAX_FIELDS: usize = 64;

/// What the fast path does with one value of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Srcaddr,
    Dstaddr,
    PktSrcaddr,
    PktDstaddr,
    Srcport,
    Dstport,
    Protocol,
    Bytes,
    Start,
    End,
    Action,
    LogStatus,
    FlowDirection,
    PktSrcAwsService,
    PktDstAwsService,
    /// Checked, not kept: the line is only valid if these are.
    Version,
    Packets,
    TcpFlags,
    IpType,
    TrafficPath,
    /// Any text is valid.
    Text,
}

impl Kind {
    fn of(field: &Field) -> Kind {
        match field {
            Field::Srcaddr => Kind::Srcaddr,
            Field::Dstaddr => Kind::Dstaddr,
            Field::PktSrcaddr => Kind::PktSrcaddr,
            Field::PktDstaddr => Kind::PktDstaddr,
            Field::Srcport => Kind::Srcport,
            Field::Dstport => Kind::Dstport,
            Field::Protocol => Kind::Protocol,
            Field::Bytes => Kind::Bytes,
            Field::Start => Kind::Start,
            Field::End => Kind::End,
            Field::Action => Kind::Action,
            Field::LogStatus => Kind::LogStatus,
            Field::FlowDirection => Kind::FlowDirection,
            Field::PktSrcAwsService => Kind::PktSrcAwsService,
            Field::PktDstAwsService => Kind::PktDstAwsService,
            Field::Version => Kind::Version,
            Field::Packets => Kind::Packets,
            Field::TcpFlags => Kind::TcpFlags,
            Field::Type => Kind::IpType,
            Field::TrafficPath => Kind::TrafficPath,
            Field::AccountId
            | Field::InterfaceId
            | Field::VpcId
            | Field::SubnetId
            | Field::InstanceId
            | Field::Region
            | Field::AzId
            | Field::SublocationType
            | Field::SublocationId
            | Field::EcsClusterArn
            | Field::EcsClusterName
            | Field::EcsContainerInstanceArn
            | Field::EcsContainerInstanceId
            | Field::EcsContainerId
            | Field::EcsSecondContainerId
            | Field::EcsServiceName
            | Field::EcsTaskDefinitionArn
            | Field::EcsTaskArn
            | Field::EcsTaskId
            | Field::RejectReason
            | Field::Unknown(_) => Kind::Text,
        }
    }
}

/// Calls `$then!` with the plan of the default format (`DEFAULT_FORMAT`), the format of
/// nat-flowrec's own recordings: one list for the plan and for its spelled-out reading.
macro_rules! default_plan {
    ($then:ident) => {
        $then!(
            Action,
            FlowDirection,
            TrafficPath,
            Srcaddr,
            Srcport,
            Dstaddr,
            Dstport,
            Protocol,
            Bytes,
            IpType,
            PktSrcaddr,
            PktSrcAwsService,
            PktDstaddr,
            PktDstAwsService
        )
    };
}

macro_rules! plan_of {
    ($($kind:ident),*) => { [$(Kind::$kind),*] };
}

/// The plan of the default format.
const DEFAULT_PLAN: [Kind; 14] = default_plan!(plan_of);

/// The values of a single-spaced line, read one after the other.
struct Values<'a, 'f, 'w> {
    line: &'a str,
    /// The line's bytes, padded (every load unchecked), with the parser's recent addresses.
    window: &'w CachedLine<'w>,
    /// The spaces not passed yet, bytes 0-63, 64-127 and 128-191 (bit i for byte i).
    spaces: [u64; 3],
    /// Where the next value starts.
    start: usize,
    flow: &'f mut Flow<'a>,
    /// Every value read so far was valid.
    ok: bool,
}

impl Values<'_, '_, '_> {
    /// Reads the value that starts at `start` and ends at the next space (or the line's end).
    #[inline(always)]
    fn read_next(&mut self, kind: Kind) {
        let [lo, mid, hi] = &mut self.spaces;
        let end = if *lo != 0 {
            let end = lo.trailing_zeros() as usize;
            *lo &= *lo - 1;
            end
        } else if *mid != 0 {
            let end = 64 + mid.trailing_zeros() as usize;
            *mid &= *mid - 1;
            end
        } else if *hi != 0 {
            let end = 128 + hi.trailing_zeros() as usize;
            *hi &= *hi - 1;
            end
        } else {
            self.line.len()
        };
        self.ok &= read(self.flow, kind, self.line, self.window, self.start, end);
        self.start = end + 1;
    }
}

/// A [`LogFormat`] compiled for [`FlowParser::parse`]: build it once (per file or chunk) and
/// parse many lines with it. See [`LogFormat::parse_flow`] for what it accepts.
#[derive(Debug, Clone)]
pub struct FlowParser<'f> {
    format: &'f LogFormat,
    kinds: [Kind; MAX_FIELDS],
    /// Values per line; 0 when the fast path is off for this format (too many fields).
    len: usize,
    /// The plan is [`DEFAULT_PLAN`].
    default: bool,
    /// Addresses read lately, for the lines to come.
    recent: RecentAddresses,
    /// The line being read, padded.
    scratch: RefCell<Padded>,
    /// How a line's spaces are found (the fastest way the processor has).
    blocks: Blocks,
}

impl LogFormat {
    /// The parser of [`LogFormat::parse_flow`], compiled once for many lines.
    pub fn flow_parser(&self) -> FlowParser<'_> {
        let mut kinds = [Kind::Text; MAX_FIELDS];
        let len = if self.len() <= MAX_FIELDS {
            for (kind, field) in kinds.iter_mut().zip(self.fields()) {
                *kind = Kind::of(field);
            }
            self.len()
        } else {
            0
        };
        let default = kinds.get(..len) == Some(&DEFAULT_PLAN[..]);
        FlowParser {
            format: self,
            kinds,
            len,
            default,
            recent: RecentAddresses::default(),
            scratch: RefCell::new(Padded::default()),
            blocks: Blocks::detect(),
        }
    }

    /// Parses one line of this format into the fields a report aggregates. A line is valid or
    /// malformed exactly as for [`LogFormat::parse_record`] (the same [`RecordError`] when it is
    /// malformed), and the values are those `parse_record` would give; this is just faster, as
    /// it builds no [`crate::Record`]. Never panics, whatever the input. To parse many lines,
    /// compile the format once with [`LogFormat::flow_parser`].
    pub fn parse_flow<'a>(&self, line: &'a str, line_no: u64) -> Result<Flow<'a>, RecordError> {
        self.flow_parser().parse(line, line_no)
    }
}

impl FlowParser<'_> {
    /// The same parser, finding spaces the way `blocks` says (tests force each way).
    #[cfg(test)]
    pub(crate) fn with_blocks(self, blocks: Blocks) -> Self {
        FlowParser { blocks, ..self }
    }

    /// See [`LogFormat::parse_flow`].
    #[inline]
    pub fn parse<'a>(&self, line: &'a str, line_no: u64) -> Result<Flow<'a>, RecordError> {
        let mut flow = Flow::default();
        self.parse_into(line, line_no, &mut flow).map(|()| flow)
    }

    /// Like [`FlowParser::parse`], into `flow` (overwritten whole; meaningless after an `Err`):
    /// a reader that parses millions of lines keeps one `Flow` instead of moving one per line.
    #[inline]
    pub fn parse_into<'a>(
        &self,
        line: &'a str,
        line_no: u64,
        flow: &mut Flow<'a>,
    ) -> Result<(), RecordError> {
        self.parse_followed(line, line.as_bytes(), line_no, flow)
    }

    /// Like [`FlowParser::parse_into`], for the line at `range` of `text` (a chunk of lines):
    /// the same verdict and values as for that line alone. The parser may read on past the
    /// line's end into the text that follows it, never as part of a value (a value's length
    /// comes from the spaces found in the line). A range that is not a piece of `text` (past
    /// its end, inside a character) reads as an empty line.
    #[inline]
    pub fn parse_line_of<'a>(
        &self,
        text: &'a str,
        range: std::ops::Range<usize>,
        line_no: u64,
        flow: &mut Flow<'a>,
    ) -> Result<(), RecordError> {
        let from = range.start;
        let (line, window) = match (text.get(range), text.as_bytes().get(from..)) {
            (Some(line), Some(window)) => (line, window),
            _ => ("", &[][..]),
        };
        self.parse_followed(line, window, line_no, flow)
    }

    /// [`FlowParser::parse_line_of`] of a line already cut from its text: `window` holds the
    /// text from the line's start on (it must begin with the line's bytes). The reader's loop
    /// has both at hand, so the line is not cut from the text twice.
    #[inline]
    pub(crate) fn parse_followed<'a>(
        &self,
        line: &'a str,
        window: &[u8],
        line_no: u64,
        flow: &mut Flow<'a>,
    ) -> Result<(), RecordError> {
        // Trailing spaces too: a value the line ends in must not keep a `\r` that the same line
        // without its trailing space would lose (a record must render to a line that parses back).
        let line = line.trim_end_matches(['\n', '\r', ' ']);
        *flow = Flow::default();
        if self.blocks.compiled_for(
            #[inline(always)]
            || self.fast(line, window, flow),
        ) {
            return Ok(());
        }
        // The record parser gives the precise error, or accepts what the fast path left.
        let rec = self.format.parse_record(line, line_no)?;
        *flow = Flow::from(&rec);
        Ok(())
    }

    /// The fast path, into a default `flow`; false when it does not take the line. `window`
    /// holds the bytes from the line's start on (the line, and what follows it in its text).
    #[inline(always)]
    fn fast<'a>(&self, line: &'a str, window: &[u8], flow: &mut Flow<'a>) -> bool {
        let Some(kinds) = self.kinds.get(..self.len).filter(|k| !k.is_empty()) else {
            return false;
        };
        let bytes = line.as_bytes();
        let Ok(mut scratch) = self.scratch.try_borrow_mut() else {
            return self.spaced_any_way(kinds, line, flow);
        };
        if bytes.is_empty() || !scratch.set(window, bytes.len()) {
            return self.spaced_any_way(kinds, line, flow);
        }
        let window = CachedLine {
            line: &scratch,
            recent: &self.recent,
        };
        // Lines of IPv4 records fit 128 bytes, of IPv6 ones 192 (the padded copy's limit, so
        // the masks cover the whole line). The spaces are found in the line itself, not in the
        // copy just written: vector loads of bytes still in flight from the copy's stores wait
        // for them (no store forwarding across stores), which cost a sixth of the parse
        // (measured with `perf record`, 117 -> 90 ns a line).
        debug_assert!(bytes.len() <= blocks::LINE);
        let [lo, mid, hi] = self.blocks.spaces(bytes);
        // The common shape: values separated by single spaces, none before the first or after
        // the last. Then the n-th space ends the n-th value.
        let single = (lo.count_ones() + mid.count_ones() + hi.count_ones()) as usize + 1
            == kinds.len()
            && lo & (lo >> 1 | mid << 63) == 0
            && mid & (mid >> 1 | hi << 63) == 0
            && hi & (hi >> 1) == 0
            && lo & 1 == 0
            && bytes.last() != Some(&b' ');
        if !single {
            return self.spaced_any_way(kinds, line, flow);
        }
        let mut values = Values {
            line,
            window: &window,
            spaces: [lo, mid, hi],
            start: 0,
            flow,
            ok: true,
        };
        if self.default {
            // The default format, every step spelled out: each value's kind is known where it
            // is read, so there is no dispatch, and the compiler interleaves the values' work.
            macro_rules! read_each {
                ($($kind:ident),*) => { $( values.read_next(Kind::$kind); )* };
            }
            default_plan!(read_each);
        } else {
            for kind in kinds {
                values.read_next(*kind);
            }
        }
        values.ok
    }

    /// Any shape: runs of spaces, lines of any length (values found 64 bytes at a time).
    fn spaced_any_way<'a>(&self, kinds: &[Kind], line: &'a str, flow: &mut Flow<'a>) -> bool {
        let bytes = line.as_bytes();
        let mut kinds = kinds.iter();
        let mut ok = true;
        // Inside a value at the end of the previous block, and where that value started.
        let mut inside = false;
        let mut start = 0;
        let mut block = 0;
        while block < bytes.len() {
            let rest = bytes.len() - block;
            let in_line = if rest < 64 { (1u64 << rest) - 1 } else { !0 };
            let values = !classes::spaces64(bytes, block) & in_line;
            let before = values << 1 | u64::from(inside);
            let mut starts = values & !before;
            let mut ends = !values & before;
            // Starts and ends alternate; a value may run on into the next block.
            loop {
                if inside {
                    if ends == 0 {
                        break;
                    }
                    let end = block + ends.trailing_zeros() as usize;
                    ends &= ends - 1;
                    let Some(kind) = kinds.next() else {
                        return false;
                    };
                    ok &= read(flow, *kind, line, bytes, start, end);
                    inside = false;
                } else {
                    if starts == 0 {
                        break;
                    }
                    start = block + starts.trailing_zeros() as usize;
                    starts &= starts - 1;
                    inside = true;
                }
            }
            inside = values >> 63 == 1;
            block += 64;
        }
        if inside {
            let Some(kind) = kinds.next() else {
                return false;
            };
            ok &= read(flow, *kind, line, bytes, start, bytes.len());
        }
        ok && kinds.next().is_none()
    }
}

/// Reads the value `line[start..end]` (never empty, no spaces) as `kind` says into `flow`;
/// false when it is not valid for its field. `-` is an absent value for every field; no field
/// reads `-` as a value of its own, so the check for it waits until a value fails to read.
#[inline(always)]
fn read<'a, W: Window + ?Sized>(
    flow: &mut Flow<'a>,
    kind: Kind,
    line: &'a str,
    bytes: &W,
    start: usize,
    end: usize,
) -> bool {
    let len = end.saturating_sub(start);
    let dash = || len == 1 && bytes.load(start) & 0xff == u64::from(b'-');
    // A value, or `-` (absent, still valid), or neither.
    macro_rules! value_or_dash {
        ($slot:expr, $value:expr) => {{
            let (value, ok) = $value;
            if ok {
                $slot = value;
                true
            } else {
                dash()
            }
        }};
    }
    match kind {
        Kind::Srcaddr => value_or_dash!(flow.srcaddr, address(line, bytes, start, end)),
        Kind::Dstaddr => value_or_dash!(flow.dstaddr, address(line, bytes, start, end)),
        Kind::PktSrcaddr => value_or_dash!(flow.pkt_srcaddr, address(line, bytes, start, end)),
        Kind::PktDstaddr => value_or_dash!(flow.pkt_dstaddr, address(line, bytes, start, end)),
        Kind::Srcport => value_or_dash!(flow.srcport, int::<u16>(bytes, start, len)),
        Kind::Dstport => value_or_dash!(flow.dstport, int::<u16>(bytes, start, len)),
        Kind::Protocol => value_or_dash!(flow.protocol, int::<u8>(bytes, start, len)),
        Kind::Bytes => value_or_dash!(flow.bytes, int::<u64>(bytes, start, len)),
        Kind::Start => {
            value_or_dash!(flow.start, {
                let (value, ok) = int::<u64>(bytes, start, len);
                (value.map(seconds), ok)
            })
        }
        Kind::End => {
            value_or_dash!(flow.end, {
                let (value, ok) = int::<u64>(bytes, start, len);
                (value.map(seconds), ok)
            })
        }
        Kind::Action => value_or_dash!(
            flow.action,
            found(word(bytes, start, len, Action::from_word))
        ),
        Kind::LogStatus => {
            value_or_dash!(
                flow.log_status,
                found(word(bytes, start, len, LogStatus::from_word))
            )
        }
        Kind::FlowDirection => value_or_dash!(
            flow.flow_direction,
            found(word(bytes, start, len, FlowDirection::from_word))
        ),
        Kind::PktSrcAwsService => {
            if !dash() {
                service(&mut flow.pkt_src_aws_service, line, bytes, start, end);
            }
            true
        }
        Kind::PktDstAwsService => {
            if !dash() {
                service(&mut flow.pkt_dst_aws_service, line, bytes, start, end);
            }
            true
        }
        Kind::Version => int::<u8>(bytes, start, len).1 || dash(),
        Kind::Packets => int::<u64>(bytes, start, len).1 || dash(),
        Kind::TcpFlags => int::<u16>(bytes, start, len).1 || dash(),
        Kind::IpType => word(bytes, start, len, IpType::from_word).is_some() || dash(),
        Kind::TrafficPath => {
            let (value, ok) = int::<u8>(bytes, start, len);
            (ok && value.and_then(TrafficPath::new).is_some()) || dash()
        }
        Kind::Text => true,
    }
}

/// A word's value as (the value, whether there was one), the shape `value_or_dash!` takes.
#[inline(always)]
fn found<T>(value: Option<T>) -> (Option<T>, bool) {
    let ok = value.is_some();
    (value, ok)
}

/// An IPv4 address read in place, or an IPv6 one through `std`, and whether it is one.
#[inline(always)]
fn address<W: Window + ?Sized>(
    line: &str,
    bytes: &W,
    start: usize,
    end: usize,
) -> (Option<IpAddr>, bool) {
    // No address is shorter than `::`; `-` is the common such value.
    if end < start + 2 {
        return (None, false);
    }
    match bytes.ipv4(start, end) {
        Some(octets) => (Some(IpAddr::V4(Ipv4Addr::from(octets))), true),
        None => ipv6(line, bytes, start, end),
    }
}

/// Kept out of line: IPv6 is the rare case, and `std`'s parser is large.
#[inline(never)]
fn ipv6<W: Window + ?Sized>(
    line: &str,
    bytes: &W,
    start: usize,
    end: usize,
) -> (Option<IpAddr>, bool) {
    match line
        .get(start..end)
        .and_then(|text| bytes.ipv6(text, start))
    {
        Some(v6) => (Some(IpAddr::V6(v6)), true),
        None => (None, false),
    }
}

/// An unsigned decimal integer that fits `T` (nom's digit rule: digits only, no sign), and
/// whether it is one; the value is meaningless when it is not.
#[inline(always)]
fn int<T: TryFrom<u64>>(
    bytes: &(impl Window + ?Sized),
    start: usize,
    len: usize,
) -> (Option<T>, bool) {
    let (value, ok) = swar::number(bytes, start, len);
    let value = T::try_from(value).ok();
    let ok = ok && value.is_some();
    (value, ok)
}

/// A word of a closed vocabulary (`ACCEPT`, `egress`, `IPv4`, ...), compared as one packed word;
/// the names are at most 8 bytes, so a longer value is none of them.
#[inline(always)]
fn word<T, W: Window + ?Sized>(
    bytes: &W,
    start: usize,
    len: usize,
    from_word: fn(usize, u64) -> Option<T>,
) -> Option<T> {
    from_word(len, swar::word_at(bytes, start, len))
}

/// A `pkt-*-aws-service` value into `slot`: a known name (those of up to 16 bytes compared as
/// two packed words) or any other text, kept as [`AwsService::Other`]. Each case stores into
/// the slot itself: a value built first and then copied went through the stack, and the copy's
/// 16-byte load of the two 8-byte stores just made waited for them (`perf annotate`).
#[inline(always)]
fn service<'a, W: Window + ?Sized>(
    slot: &mut Option<AwsService<'a>>,
    line: &'a str,
    bytes: &W,
    start: usize,
    end: usize,
) {
    let Some(text) = line.get(start..end) else {
        return;
    };
    let len = text.len();
    if len > 16 {
        *slot = Some(AwsService::from_text(text));
        return;
    }
    let first = swar::word_at(bytes, start, len);
    let second = swar::word_at(bytes, start + 8, len.saturating_sub(8));
    match AwsService::from_words(len, first, second) {
        Some(known) => *slot = Some(known),
        None => *slot = Some(AwsService::Other(text)),
    }
}

/// `start`/`end` in seconds, also when AWS wrote milliseconds (as the record parser does).
#[inline(always)]
fn seconds(value: u64) -> u64 {
    if value > MILLIS_THRESHOLD {
        value / 1000
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::RecordErrorKind;
    use crate::field::KNOWN_FIELDS;
    use crate::format::{AWS_DEFAULT_V2_FORMAT, DEFAULT_FORMAT};

    /// Whether the fast path takes `line` whole.
    fn fast_path(format: &LogFormat, line: &str) -> bool {
        format
            .flow_parser()
            .fast(line, line.as_bytes(), &mut Flow::default())
    }

    /// What `parse_flow` must give: `parse_record`'s verdict, reduced to a flow.
    fn reference<'a>(format: &LogFormat, line: &'a str) -> Result<Flow<'a>, RecordError> {
        format.parse_record(line, 3).map(|rec| Flow::from(&rec))
    }

    fn assert_same(format: &LogFormat, line: &str) {
        assert_eq!(
            format.parse_flow(line, 3),
            reference(format, line),
            "{line:?}"
        );
    }

    #[test]
    fn the_fast_path_takes_every_valid_line_of_the_default_format() {
        let format = LogFormat::default();
        for line in [
            "ACCEPT ingress - 10.0.1.5 41000 10.0.0.220 443 6 5000 IPv4 10.0.1.5 - 203.0.113.5 S3",
            "ACCEPT egress 1 10.0.0.220 443 10.0.1.5 41000 6 56000 IPv4 203.0.113.5 S3 10.0.1.5 -",
            "REJECT ingress - 45.1.2.3 5000 10.0.0.220 22 6 40 IPv4 45.1.2.3 - 10.0.0.220 -",
            "ACCEPT egress 2 2001:db8:1234:a100::1 40000 2600:1f18:4a3:6900::7 443 6 900 IPv6 2001:db8:1234:a100::1 - 2600:1f18:4a3:6900::7 S3",
            "- - - - - - - - - - - - - -",
            "ACCEPT  ingress - 10.0.1.5 41000 10.0.0.220 443 6 5000 IPv4 10.0.1.5 - 203.0.113.5 NEW_SVC \r",
        ] {
            let fast = fast_path(&format, line.trim_end_matches(['\n', '\r']));
            assert!(fast, "fast path refused {line:?}");
            assert_same(&format, line);
        }
    }

    #[test]
    fn line_ends_are_trimmed_as_the_record_parser_trims_them() {
        let format = LogFormat::default();
        let base =
            "ACCEPT ingress - 10.0.1.5 41000 10.0.0.220 443 6 5000 IPv4 10.0.1.5 - 203.0.113.5 S3";
        for end in ["\r", "\r ", " \r", "\r\n", " \r \n", "  "] {
            let line = format!("{base}{end}");
            assert_same(&format, &line);
            let flow = format.parse_flow(&line, 3).expect("valid");
            assert_eq!(flow.pkt_dst_aws_service, Some(AwsService::S3), "{line:?}");
        }
    }

    #[test]
    fn malformed_lines_get_the_record_parsers_error() {
        let format = LogFormat::default();
        let line = "ACCEPT ingress - 10.0.0.1 443 10.0.0.2 http 6 100 IPv4 10.0.0.1 - 10.0.0.2 -";
        let err = format.parse_flow(line, 42).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 42, field `dstport`: expected an integer 0-65535, found `http`"
        );
        let short = "ACCEPT ingress - 10.0.0.1 443 10.0.0.2 55000 6 100 IPv4 10.0.0.1 -";
        assert_eq!(
            format.parse_flow(short, 7).unwrap_err().kind,
            RecordErrorKind::FieldCount {
                expected: 14,
                found: 12
            }
        );
        for line in [
            "",
            "ACCEPT ingress - 10.0.0.1 443 10.0.0.2 55000 6 100 IPv4 10.0.0.1 - 10.0.0.2 - extra",
            "ACCEPT ingress 9 10.0.0.1 443 10.0.0.2 55000 6 100 IPv4 10.0.0.1 - 10.0.0.2 -",
            "ACCEPT ingress - 10.0.0.01 443 10.0.0.2 55000 6 100 IPv4 10.0.0.1 - 10.0.0.2 -",
            "ACCEPT ingress - 10.0.0.1 65536 10.0.0.2 55000 6 100 IPv4 10.0.0.1 - 10.0.0.2 -",
            "ACCEPT ingress - 10.0.0.1 443 10.0.0.2 55000 6 18446744073709551616 IPv4 10.0.0.1 - 10.0.0.2 -",
            "ACCEPT ingress - 10.0.0.1 443 10.0.0.2 55000 6 100 IPv5 10.0.0.1 - 10.0.0.2 -",
            "accept ingress - 10.0.0.1 443 10.0.0.2 55000 6 100 IPv4 10.0.0.1 - 10.0.0.2 -",
            "ACCEPT ingress - 10.0.0.1a 443 10.0.0.2 55000 6 100 IPv4 10.0.0.1 - 10.0.0.2 -",
            "ACCEPT ingress - 10.0.0.1 +443 10.0.0.2 55000 6 100 IPv4 10.0.0.1 - 10.0.0.2 -",
            "ACCEPT ingress - 10.0.0.1 443 10.0.0.2 55000 6 -- IPv4 10.0.0.1 - 10.0.0.2 -",
        ] {
            assert!(format.parse_flow(line, 3).is_err(), "{line:?}");
            assert_same(&format, line);
        }
    }

    #[test]
    fn every_field_kind_agrees_with_the_record_parser() {
        let all = KNOWN_FIELDS
            .iter()
            .map(|f| format!("${{{}}}", f.name()))
            .chain(std::iter::once("${future-field}".to_owned()))
            .collect::<Vec<_>>()
            .join(" ");
        let format = LogFormat::parse(&all).expect("format");
        let values = [
            "5",
            "123456789010",
            "eni-1",
            "10.0.1.5",
            "fd00::1",
            "41000",
            "443",
            "6",
            "20",
            "4249",
            "1418530010123",
            "1418530070",
            "REJECT",
            "SKIPDATA",
            "vpc-a",
            "subnet-b",
            "i-c",
            "19",
            "IPv6",
            "10.0.1.5",
            "203.0.113.5",
            "us-east-1",
            "use1-az1",
            "wavelength",
            "wl-1",
            "S3",
            "BEDROCK",
            "egress",
            "8",
            "arn:c",
            "name",
            "arn:ci",
            "ci",
            "c1",
            "c2",
            "svc",
            "arn:td",
            "arn:t",
            "t",
            "BPA",
            "é-unknown",
        ];
        assert_eq!(values.len(), format.len());
        let line = values.join(" ");
        assert!(fast_path(&format, &line), "fast path refused {line}");
        assert_same(&format, &line);
        let flow = format.parse_flow(&line, 1).expect("flow");
        assert_eq!(flow.start, Some(1_418_530_010));
        assert_eq!(flow.pkt_dst_aws_service, Some(AwsService::Other("BEDROCK")));
        assert_same(&LogFormat::parse(AWS_DEFAULT_V2_FORMAT).expect("v2"), &line);
        assert_same(&LogFormat::parse(DEFAULT_FORMAT).expect("default"), &line);
    }

    /// The benchmark input: every generated line is taken by the fast path, with the record's
    /// values.
    #[cfg(feature = "synth")]
    #[test]
    fn the_fast_path_takes_every_generated_line() {
        use crate::synth::{Generator, Options};
        let mut text = Vec::new();
        Generator::new(9, Options::default())
            .write_lines(&mut text, 20_000)
            .expect("generate into memory");
        let text = String::from_utf8(text).expect("the generator writes UTF-8");
        let format = LogFormat::default();
        // One parser for every line too, as readers use it: what it keeps from line to line
        // (the padded copy, the recent addresses) changes no result.
        let parser = format.flow_parser();
        for line in text.lines() {
            assert!(fast_path(&format, line), "fast path refused {line:?}");
            assert_same(&format, line);
            assert_eq!(parser.parse(line, 3), reference(&format, line), "{line:?}");
        }
    }

    /// Lines whose values straddle the 32-byte blocks the spaces are found in (each value
    /// grows by one byte in turn, so every value boundary passes every block boundary), lines
    /// shorter than a block, lines of exactly one, two and six blocks, and the line ends a
    /// reader may leave on a line: every way of finding spaces reads them as the record parser
    /// does.
    #[test]
    fn values_across_block_edges_agree_in_every_way() {
        let format = LogFormat::default();
        let base = [
            "ACCEPT",
            "ingress",
            "-",
            "10.0.1.5",
            "41000",
            "10.0.0.220",
            "443",
            "6",
            "5000",
            "IPv4",
            "10.0.1.5",
            "-",
            "203.0.113.5",
            "S3",
        ];
        let mut lines = vec![
            "- - - - - - - - - - - - - -".to_owned(),
            "- - - - - - - - - - - - -".to_owned(),
            "-".to_owned(),
            " ".repeat(32),
            "1 ".repeat(16),
            "x".repeat(64),
            // 13 absent values and a service name: 192 bytes (the longest line the fast path
            // takes), then 193.
            format!("{} {}", "- ".repeat(13).trim_end(), "a".repeat(192 - 26)),
            format!("{} {}", "- ".repeat(13).trim_end(), "a".repeat(192 - 25)),
        ];
        for grown in 0..base.len() {
            for extra in 0..40 {
                let mut values = base.map(str::to_owned);
                match grown {
                    // Numbers grow by leading digits (still valid while they fit), words by
                    // letters (invalid where the field is a closed vocabulary), addresses by an
                    // IPv6 tail.
                    4 | 6 | 7 | 8 => {
                        values[grown] = format!("{}{}", "1".repeat(extra), base[grown])
                    }
                    3 | 5 | 10 | 12 => {
                        values[grown] = format!("2001:db8:{}::1", "a".repeat(extra.min(4)))
                            + &":1".repeat(extra / 8)
                    }
                    _ => values[grown].push_str(&"S".repeat(extra)),
                }
                lines.push(values.join(" "));
            }
        }
        for line in &lines {
            for end in ["", "\n", "\r\n", " \r\n"] {
                let line = format!("{line}{end}");
                let want = reference(&format, &line);
                for blocks in Blocks::every_way() {
                    let parser = format.flow_parser().with_blocks(blocks);
                    assert_eq!(parser.parse(&line, 3), want, "{blocks:?} {line:?}");
                }
            }
        }
        // Valid lines up to the longest are taken by the fast path, not handed on.
        for valid in [base.join(" "), lines[6].clone()] {
            assert_eq!(valid.len().max(192), 192);
            for blocks in Blocks::every_way() {
                let parser = format.flow_parser().with_blocks(blocks);
                assert!(
                    parser.fast(&valid, valid.as_bytes(), &mut Flow::default()),
                    "{blocks:?} {valid:?}"
                );
            }
        }
    }

    proptest::proptest! {
        /// Lines built from plausible and broken values alike: the fast path may refuse a line,
        /// but never disagrees with the record parser on it.
        #[test]
        fn parse_flow_agrees_with_parse_record(
            values in proptest::collection::vec(
                proptest::prop_oneof![
                    "-",
                    "ACCEPT|REJECT|OK|NODATA|ingress|egress|IPv4|IPv6|S3|AMAZON|[A-Z_]{1,8}",
                    "[0-9]{1,21}",
                    "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,4}[a.]?",
                    "[0-9a-f:]{2,12}",
                    "[ -~]{0,6}",
                    "\u{e9}[a-z]{0,3}",
                ],
                0..17,
            ),
            spaces in proptest::collection::vec(" {1,2}", 17),
            format_pick in 0usize..3,
            after in "[ -~\r\n\u{e9}]{0,250}",
        ) {
            let format = match format_pick {
                0 => LogFormat::default(),
                1 => LogFormat::parse(AWS_DEFAULT_V2_FORMAT).expect("v2"),
                _ => LogFormat::parse("${srcaddr} ${bytes} ${start} ${type} ${traffic-path} ${future}").expect("format"),
            };
            let mut line = String::new();
            for (value, space) in values.iter().zip(&spaces) {
                line.push_str(value);
                line.push_str(space);
            }
            let want = reference(&format, &line);
            // The same line inside a text that goes on after it (as in a reader's chunk): what
            // follows is read, never taken into a value.
            let text = format!("{line}{after}");
            for blocks in Blocks::every_way() {
                let parser = format.flow_parser().with_blocks(blocks);
                proptest::prop_assert_eq!(parser.parse(&line, 3), want.clone());
                let mut flow = Flow::default();
                let within = parser
                    .parse_line_of(&text, 0..line.len(), 3, &mut flow)
                    .map(|()| flow);
                proptest::prop_assert_eq!(within, want.clone());
            }
        }

        /// One parser over many lines whose addresses come from a small pool, valid and broken,
        /// IPv4 and IPv6, so that the parser's cache of recent addresses answers most of them:
        /// every line still parses as the record parser reads it.
        #[test]
        fn remembered_addresses_agree_with_parse_record(
            picks in proptest::collection::vec((0usize..12, 0usize..12, 0usize..12, 0usize..12), 1..60),
        ) {
            const POOL: [&str; 12] = [
                "10.0.0.220", "10.0.0.22", "10.0.0.2", "10.0.0.2200", "01.0.0.1", "1.2.3.4",
                "255.255.255.256", "2001:db8:1234:a100::15", "2001:db8:1234:a100::1",
                "2001:db8::1::2", "fe80::1%eth0", "-",
            ];
            let format = LogFormat::default();
            let parser = format.flow_parser();
            for (a, b, c, d) in picks {
                let line = format!(
                    "ACCEPT egress 2 {} 40000 {} 443 6 900 IPv4 {} - {} S3",
                    POOL[a], POOL[b], POOL[c], POOL[d]
                );
                proptest::prop_assert_eq!(parser.parse(&line, 3), reference(&format, &line));
            }
        }
    }
}
