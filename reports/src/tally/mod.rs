//! Per-worker running totals: every record read folds into a `Tally`, tallies of different
//! workers and files merge. Keys are small `Copy` values (addresses, ports, minutes, interned
//! service ids), so memory grows with the number of distinct keys, never with the input, and
//! the per-record path allocates nothing (a new key allocates a map slot, a new service name
//! its one string).

use std::net::IpAddr;

use hashbrown::HashMap;
use nat_flowrec_parsers::{Action, AwsService, Flow, LineNumbers, LogStatus, RecordError};
// The tests build full records by hand; `add_record` takes them as well as flows.
#[cfg(test)]
use nat_flowrec_parsers::Record;

use crate::legs::{FileRule, Leg, Side, classify, untranslated_side};

mod batch;
mod packed;
mod sharded;

use batch::Update;
use packed::Packed;

/// How many malformed lines are kept as examples.
pub const MALFORMED_EXAMPLES: usize = 5;

/// An interned `pkt-*-aws-service` name, local to one `Tally`.
pub(crate) type ServiceId = u32;

/// Bytes in each direction, from the internal host's view.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct InOut {
    pub out: u64,
    pub inn: u64,
}

impl InOut {
    fn add(&mut self, outbound: bool, bytes: u64) {
        if outbound {
            self.out = self.out.saturating_add(bytes);
        } else {
            self.inn = self.inn.saturating_add(bytes);
        }
    }

    fn merge(&mut self, other: InOut) {
        self.out = self.out.saturating_add(other.out);
        self.inn = self.inn.saturating_add(other.inn);
    }

    pub fn total(self) -> u64 {
        self.out.saturating_add(self.inn)
    }
}

/// One conversation: internal host <-> remote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Conversation {
    pub bytes: InOut,
    /// The remote's AWS service (first one seen); the remote's address decides it, so every
    /// record of a conversation names the same one, or `-`.
    pub service: Option<ServiceId>,
}

/// (internal, remote); the remote is `None` under the nat-ips rule.
pub(crate) type ConversationKey = (IpAddr, Option<IpAddr>);
/// (remote, remote port, protocol).
pub(crate) type DestinationKey = (IpAddr, Option<u16>, Option<u8>);

/// The counted traffic of one leg class.
///
/// Keys of the common shape live packed (see `packed`), the others in the maps below; read
/// them all through `each_conversation` / `each_destination`, which unpack on the fly, so a
/// report of millions of conversations never holds them twice. `settle` moves the packed keys
/// into the maps (a `Tally` does so after each `add_record`, for tests that look keys up).
#[derive(Debug, Clone, Default)]
pub(crate) struct Flows {
    pub conversations: HashMap<ConversationKey, Conversation>,
    pub destinations: HashMap<DestinationKey, InOut>,
    /// Minute start (Unix seconds) -> bytes.
    pub timeline: HashMap<i64, InOut>,
    packed: Packed,
}

impl Conversation {
    /// Adds `other`, whose service id is mapped through `ids`; the first service seen stays.
    fn merge(&mut self, other: Conversation, ids: &[ServiceId]) {
        self.bytes.merge(other.bytes);
        if self.service.is_none() {
            self.service = other.service.and_then(|id| ids.get(id as usize).copied());
        }
    }

    /// Adds `other`, counted with the same service ids.
    #[cfg(test)]
    fn merge_same(&mut self, other: Conversation) {
        self.bytes.merge(other.bytes);
        if self.service.is_none() {
            self.service = other.service;
        }
    }
}

impl Flows {
    /// Counts one record's bytes for its conversation, destination and minute. The remote's
    /// service is looked up (and interned) only while the conversation has none yet.
    #[inline]
    fn add(&mut self, side: Side, rec: &Flow<'_>, services: &mut Services, minute: Option<i64>) {
        let bytes = rec.bytes.unwrap_or(0);
        let destination = side
            .remote
            .map(|remote| (remote, side.remote_port, rec.protocol));
        let packed_destination = destination
            .and_then(|(remote, port, protocol)| packed::destination(remote, port, protocol));
        match packed::conversation(side.internal, side.remote) {
            Some(conversation) => self.packed.add(Update {
                conversation,
                destination: packed_destination.unwrap_or(0),
                bytes,
                service: services.of_remote(rec, side),
                outbound: side.outbound,
                has_destination: packed_destination.is_some(),
            }),
            None => {
                let conv = self
                    .conversations
                    .entry((side.internal, side.remote))
                    .or_default();
                conv.bytes.add(side.outbound, bytes);
                if conv.service.is_none() {
                    conv.service = services.of_remote(rec, side);
                }
            }
        }
        if let Some(key) = destination.filter(|_| packed_destination.is_none()) {
            self.destinations
                .entry(key)
                .or_default()
                .add(side.outbound, bytes);
        }
        if let Some(minute) = minute {
            self.timeline
                .entry(minute)
                .or_default()
                .add(side.outbound, bytes);
        }
    }

    /// Folds the pending updates into the maps: the tables below read the maps only.
    fn flush(&mut self) {
        self.packed.flush();
    }

    /// Merges `other`, whose service ids are mapped through `ids`.
    fn merge(&mut self, mut other: Flows, ids: &[ServiceId]) {
        self.flush();
        other.flush();
        // Shard by shard, the conversations beside the destinations: the merge of two workers'
        // tallies runs after all reading, on one core unless split.
        let theirs = other.packed;
        let mine = &mut self.packed;
        rayon::join(
            || {
                mine.conversations
                    .merge(theirs.conversations, |map, key, conv| {
                        map.entry(key).or_default().merge(conv, ids);
                    });
            },
            || {
                mine.destinations
                    .merge(theirs.destinations, |map, key, bytes| {
                        map.entry(key).or_default().merge(bytes);
                    });
            },
        );
        // The general keys are the rare shapes: few.
        for (key, conv) in other.conversations {
            self.conversations.entry(key).or_default().merge(conv, ids);
        }
        for (key, bytes) in other.destinations {
            self.destinations.entry(key).or_default().merge(bytes);
        }
        for (key, bytes) in other.timeline {
            self.timeline.entry(key).or_default().merge(bytes);
        }
    }

    /// Every conversation, packed or not.
    pub fn each_conversation(&self) -> impl Iterator<Item = (ConversationKey, &Conversation)> {
        debug_assert!(self.packed.is_flushed(), "read before flush");
        let general = self.conversations.iter().map(|(key, conv)| (*key, conv));
        let packed = self
            .packed
            .conversations
            .iter()
            .map(|(key, conv)| (packed::unpack_conversation(*key), conv));
        general.chain(packed)
    }

    /// How many conversations there are.
    pub fn conversation_count(&self) -> usize {
        debug_assert!(self.packed.is_flushed(), "read before flush");
        self.conversations.len() + self.packed.conversations.len()
    }

    /// Every destination, packed or not.
    pub fn each_destination(&self) -> impl Iterator<Item = (DestinationKey, &InOut)> {
        debug_assert!(self.packed.is_flushed(), "read before flush");
        let general = self.destinations.iter().map(|(key, bytes)| (*key, bytes));
        let packed = self
            .packed
            .destinations
            .iter()
            .map(|(key, bytes)| (packed::unpack_destination(*key), bytes));
        general.chain(packed)
    }

    /// Moves the packed keys into the general maps (see the type's comment).
    #[cfg(test)]
    fn settle(&mut self) {
        self.flush();
        if self.packed.is_empty() {
            return;
        }
        let packed = std::mem::take(&mut self.packed);
        self.conversations.reserve(packed.conversations.len());
        for (key, conv) in packed.conversations {
            let key = packed::unpack_conversation(key);
            self.conversations.entry(key).or_default().merge_same(conv);
        }
        self.destinations.reserve(packed.destinations.len());
        for (key, bytes) in packed.destinations {
            let key = packed::unpack_destination(key);
            self.destinations.entry(key).or_default().merge(bytes);
        }
    }

    fn is_empty(&self) -> bool {
        self.conversations.is_empty()
            && self.destinations.is_empty()
            && self.timeline.is_empty()
            && self.packed.is_empty()
    }

    /// Bytes out and in over all conversations.
    pub fn totals(&self) -> InOut {
        debug_assert!(self.packed.is_flushed(), "read before flush");
        let mut t = InOut::default();
        for conv in self
            .conversations
            .values()
            .chain(self.packed.conversations.values())
        {
            t.merge(conv.bytes);
        }
        t
    }
}

/// Service names seen, interned so conversations carry a `u32`, not a string.
#[derive(Debug, Clone, Default)]
pub(crate) struct Services {
    names: Vec<Box<str>>,
    ids: HashMap<Box<str>, ServiceId>,
    /// The ids of named services by [`AwsService::known_index`]: a third of the records
    /// name one, and an array index is cheaper than hashing and comparing the name.
    known: [Option<ServiceId>; KNOWN_SERVICES],
}

/// How many services [`AwsService::KNOWN`] names.
const KNOWN_SERVICES: usize = AwsService::KNOWN.len();

impl Services {
    #[inline]
    fn id(&mut self, service: &AwsService<'_>) -> ServiceId {
        match service.known_index() {
            Some(i) => match self.known.get(i).copied().flatten() {
                Some(id) => id,
                None => {
                    let id = self.intern(service.as_str());
                    if let Some(slot) = self.known.get_mut(i) {
                        *slot = Some(id);
                    }
                    id
                }
            },
            None => self.intern(service.as_str()),
        }
    }

    fn intern(&mut self, name: &str) -> ServiceId {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = ServiceId::try_from(self.names.len()).unwrap_or(ServiceId::MAX);
        self.names.push(name.into());
        self.ids.insert(name.into(), id);
        id
    }

    pub fn name(&self, id: ServiceId) -> Option<&str> {
        self.names.get(id as usize).map(|n| &**n)
    }

    /// The remote's service: it is the destination of an outbound record, the source of a reply.
    fn of_remote(&mut self, rec: &Flow<'_>, side: Side) -> Option<ServiceId> {
        let service = if side.outbound {
            &rec.pkt_dst_aws_service
        } else {
            &rec.pkt_src_aws_service
        };
        service.as_ref().map(|s| self.id(s))
    }
}

/// A malformed line as a worker keeps it: the line number is the chunk's own until
/// [`Tally::place_lines`] makes it the file's (see `LineNumbers`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Example {
    pub file_index: usize,
    /// The chunk of the file the line is in (0, 1, ...).
    pub chunk: u64,
    pub file: String,
    pub error: RecordError,
}

impl Example {
    /// Its place in the input: files in input order, then lines in file order.
    fn key(&self) -> (usize, u64, u64) {
        (self.file_index, self.chunk, self.error.line)
    }

    /// As the report lists it.
    pub fn listed(&self) -> MalformedLine {
        MalformedLine {
            file_index: self.file_index,
            file: self.file.clone(),
            line: self.error.line,
            error: self.error.to_string(),
        }
    }
}

/// A malformed line kept as an example.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MalformedLine {
    #[serde(skip)]
    pub file_index: usize,
    pub file: String,
    pub line: u64,
    pub error: String,
}

/// Records per leg class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct LegCounts {
    pub vpc_outbound: u64,
    pub vpc_reply: u64,
    pub internet: u64,
    pub untranslated: u64,
    pub direct: u64,
    pub unattributed: u64,
}

/// Counts for the summary.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Stats {
    pub records: u64,
    pub malformed: u64,
    pub status_ok: u64,
    pub status_nodata: u64,
    pub status_skipdata: u64,
    pub status_absent: u64,
    pub reject_records: u64,
    pub reject_bytes: u64,
    pub legs: LegCounts,
    /// Sum of `bytes` over every record, both legs included (what naive queries report).
    pub bytes_all_records: u64,
    pub first_time: Option<i64>,
    pub last_time: Option<i64>,
    /// The `MALFORMED_EXAMPLES` first by (file, line).
    pub examples: Vec<Example>,
    /// A VPC-side record was found by its pkt-* translation.
    pub translation_seen: bool,
    /// Files read under each rule.
    pub files_pkt: u64,
    pub files_nat_ips: u64,
    pub files_all_records: u64,
    /// A NAT IP was known for some file.
    pub nat_ip_known: bool,
    pub files_read: u64,
}

/// Everything counted so far by one worker (or merged).
#[derive(Debug, Clone, Default)]
pub(crate) struct Tally {
    pub stats: Stats,
    /// VPC-side and all-records traffic: always counted.
    pub counted: Flows,
    /// Records with no translation visible, kept apart until the whole input shows whether it
    /// is NAT traffic (then these are internet side and dropped) or not (plain conversations).
    pub untranslated: Flows,
    pub services: Services,
}

impl Tally {
    /// Folds one parsed record (its [`Flow`], or a full `Record`) read from a file classified by
    /// `rule`, and settles the maps so they show it. `timestamp_ms` is the reader's event
    /// timestamp, if any. Readers of whole files call [`Tally::count`] instead; this one-record
    /// form serves the tests, which inspect the maps after each record.
    #[cfg(test)]
    pub fn add_record<'r>(
        &mut self,
        rec: impl Into<Flow<'r>>,
        rule: &FileRule,
        timestamp_ms: Option<i64>,
    ) {
        self.count(&rec.into(), rule, timestamp_ms);
        self.settle();
    }

    /// Like [`Tally::add_record`], without settling: the counting loop of a reader (the tables
    /// read packed keys as they are, see [`Flows`]).
    #[inline]
    pub fn count(&mut self, rec: &Flow<'_>, rule: &FileRule, timestamp_ms: Option<i64>) {
        let s = &mut self.stats;
        s.records += 1;
        let bytes = rec.bytes.unwrap_or(0);
        s.bytes_all_records = s.bytes_all_records.saturating_add(bytes);
        match rec.log_status {
            Some(LogStatus::Ok) => s.status_ok += 1,
            Some(LogStatus::NoData) => s.status_nodata += 1,
            Some(LogStatus::SkipData) => s.status_skipdata += 1,
            None => s.status_absent += 1,
        }
        // The record's own start time is the most precise; the reader's event timestamp is
        // the fallback (CloudWatch stamps events with the record's start).
        let start = rec
            .start
            .and_then(|t| i64::try_from(t).ok())
            .or(timestamp_ms.map(|ms| ms.div_euclid(1000)));
        let end = rec.end.and_then(|t| i64::try_from(t).ok()).or(start);
        if let Some(t) = start {
            s.first_time = Some(s.first_time.map_or(t, |f| f.min(t)));
        }
        if let Some(t) = end {
            s.last_time = Some(s.last_time.map_or(t, |l| l.max(t)));
        }
        if rec.is_status_only() {
            return;
        }
        // Rejected packets never reach the NAT's translation, so they cost no processing.
        if rec.action == Some(Action::Reject) {
            s.reject_records += 1;
            s.reject_bytes = s.reject_bytes.saturating_add(bytes);
            return;
        }
        let minute = start.map(|t| t - t.rem_euclid(60));
        match classify(*rec, rule) {
            Leg::Vpc(side) => {
                if side.outbound {
                    s.legs.vpc_outbound += 1;
                } else {
                    s.legs.vpc_reply += 1;
                }
                if matches!(rule, FileRule::PktFields { .. }) && !s.translation_seen {
                    s.translation_seen = true;
                    // The input is NAT traffic: what was kept apart can only be internet-side
                    // duplicates now (see `resolve_untranslated`), so it need not be kept.
                    self.untranslated = Flows::default();
                }
                self.counted.add(side, rec, &mut self.services, minute);
            }
            Leg::Internet => s.legs.internet += 1,
            Leg::Untranslated => {
                s.legs.untranslated += 1;
                // Once a translation was seen, such a record is an internet-side duplicate
                // whatever else the input holds: counted, not kept.
                if !s.translation_seen
                    && let Some(side) = untranslated_side(rec)
                {
                    self.untranslated.add(side, rec, &mut self.services, minute);
                }
            }
            Leg::Direct(side) => {
                s.legs.direct += 1;
                self.counted.add(side, rec, &mut self.services, minute);
            }
            Leg::Unattributed => s.legs.unattributed += 1,
        }
    }

    /// Counts the bytes of many records of one conversation direction at once, as a query
    /// engine aggregated them (see `aggregated`): into the general maps, as the packed keys
    /// only pay off per record.
    pub(crate) fn count_aggregate(
        &mut self,
        side: Side,
        bytes: u64,
        protocol: Option<u8>,
        service: Option<&str>,
    ) {
        let service = service.map(|name| self.services.intern(name));
        let flows = &mut self.counted;
        let conv = flows
            .conversations
            .entry((side.internal, side.remote))
            .or_default();
        conv.bytes.add(side.outbound, bytes);
        if conv.service.is_none() {
            conv.service = service;
        }
        if let Some(remote) = side.remote {
            flows
                .destinations
                .entry((remote, side.remote_port, protocol))
                .or_default()
                .add(side.outbound, bytes);
        }
    }

    /// Counts a malformed line of chunk `chunk` of a file, keeping it as an example if it is
    /// among the first.
    pub fn add_malformed(&mut self, file_index: usize, file: &str, chunk: u64, error: RecordError) {
        self.stats.malformed += 1;
        let examples = &mut self.stats.examples;
        let key = (file_index, chunk, error.line);
        let full = examples.len() >= MALFORMED_EXAMPLES;
        if full && examples.last().is_some_and(|last| last.key() <= key) {
            return;
        }
        let example = Example {
            file_index,
            chunk,
            file: file.to_string(),
            error,
        };
        insert_example(examples, example);
    }

    /// Gives the examples of file `file_index` the file's line numbers, once every chunk of
    /// the file was counted into `numbers`.
    pub fn place_lines(&mut self, file_index: usize, numbers: &mut LineNumbers) {
        for example in &mut self.stats.examples {
            if example.file_index == file_index {
                example.error.line = numbers.file_line(example.chunk, example.error.line);
            }
        }
    }

    /// Folds every pending update into the maps; a reader calls it after each chunk it counted
    /// (merging does it too), so a tally is never read half folded.
    pub fn flush(&mut self) {
        self.counted.flush();
        self.untranslated.flush();
    }

    /// Merges another tally into this one.
    pub fn merge(&mut self, mut other: Tally) {
        other.flush();
        // Each file's tally lands in an empty one first: take it whole rather than re-insert
        // every key (merging into nothing gives the other tally, unchanged).
        if self.is_empty() {
            *self = other;
            return;
        }
        let ids: Vec<ServiceId> = other
            .services
            .names
            .iter()
            .map(|name| self.services.intern(name))
            .collect();
        self.counted.merge(other.counted, &ids);
        self.untranslated.merge(other.untranslated, &ids);
        let (a, b) = (&mut self.stats, other.stats);
        a.records += b.records;
        a.malformed += b.malformed;
        a.status_ok += b.status_ok;
        a.status_nodata += b.status_nodata;
        a.status_skipdata += b.status_skipdata;
        a.status_absent += b.status_absent;
        a.reject_records += b.reject_records;
        a.reject_bytes = a.reject_bytes.saturating_add(b.reject_bytes);
        a.legs.vpc_outbound += b.legs.vpc_outbound;
        a.legs.vpc_reply += b.legs.vpc_reply;
        a.legs.internet += b.legs.internet;
        a.legs.untranslated += b.legs.untranslated;
        a.legs.direct += b.legs.direct;
        a.legs.unattributed += b.legs.unattributed;
        a.bytes_all_records = a.bytes_all_records.saturating_add(b.bytes_all_records);
        a.first_time = min_opt(a.first_time, b.first_time);
        a.last_time = max_opt(a.last_time, b.last_time);
        for example in b.examples {
            insert_example(&mut a.examples, example);
        }
        a.translation_seen |= b.translation_seen;
        a.files_pkt += b.files_pkt;
        a.files_nat_ips += b.files_nat_ips;
        a.files_all_records += b.files_all_records;
        a.nat_ip_known |= b.nat_ip_known;
        a.files_read += b.files_read;
    }

    /// Moves packed keys into the general maps of both flows.
    #[cfg(test)]
    fn settle(&mut self) {
        self.counted.settle();
        self.untranslated.settle();
    }

    /// Whether nothing was counted yet (a fresh tally).
    fn is_empty(&self) -> bool {
        self.stats == Stats::default()
            && self.services.names.is_empty()
            && self.counted.is_empty()
            && self.untranslated.is_empty()
    }

    /// Ends the read: decides whether the untranslated records were internet-side duplicates
    /// (the input is NAT traffic) or plain conversations, and folds them accordingly. Returns
    /// whether they were counted as plain conversations.
    pub fn resolve_untranslated(&mut self) -> bool {
        let plain = !self.stats.translation_seen && !self.stats.nat_ip_known;
        let untranslated = std::mem::take(&mut self.untranslated);
        let n = std::mem::take(&mut self.stats.legs.untranslated);
        if plain {
            let ids: Vec<ServiceId> = (0..self.services.names.len())
                .map(|i| ServiceId::try_from(i).unwrap_or(ServiceId::MAX))
                .collect();
            self.counted.merge(untranslated, &ids);
            self.stats.legs.direct += n;
        } else {
            self.stats.legs.internet += n;
        }
        plain
    }
}

fn insert_example(examples: &mut Vec<Example>, example: Example) {
    let key = example.key();
    let at = examples.partition_point(|e| e.key() < key);
    if at < MALFORMED_EXAMPLES {
        examples.insert(at, example);
        examples.truncate(MALFORMED_EXAMPLES);
    }
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

fn max_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nat_flowrec_parsers::AwsService;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// A record with the address fields of AWS's NAT example and a byte count.
    fn leg(src: &str, dst: &str, psrc: &str, pdst: &str, bytes: u64) -> Record<'static> {
        Record {
            srcaddr: Some(ip(src)),
            dstaddr: Some(ip(dst)),
            pkt_srcaddr: Some(ip(psrc)),
            pkt_dstaddr: Some(ip(pdst)),
            srcport: Some(40000),
            dstport: Some(443),
            protocol: Some(6),
            bytes: Some(bytes),
            action: Some(Action::Accept),
            ..Record::default()
        }
    }

    /// The same, travelling back: the remote's port 443 is now the source port.
    fn back(src: &str, dst: &str, psrc: &str, pdst: &str, bytes: u64) -> Record<'static> {
        Record {
            srcport: Some(443),
            dstport: Some(40000),
            ..leg(src, dst, psrc, pdst, bytes)
        }
    }

    /// AWS's four NAT legs of one connection (docs/DESIGN.md, "The leg rule"): 100 bytes out,
    /// 5000 back.
    fn four_legs() -> [Record<'static>; 4] {
        [
            leg("10.0.1.5", "10.0.0.220", "10.0.1.5", "203.0.113.5", 100),
            leg(
                "10.0.0.220",
                "203.0.113.5",
                "10.0.0.220",
                "203.0.113.5",
                100,
            ),
            back(
                "203.0.113.5",
                "10.0.0.220",
                "203.0.113.5",
                "10.0.0.220",
                5000,
            ),
            back("10.0.0.220", "10.0.1.5", "203.0.113.5", "10.0.1.5", 5000),
        ]
    }

    const PKT: FileRule = FileRule::PktFields { nat_known: false };

    #[test]
    fn four_nat_legs_make_one_conversation_counted_once_each_way() {
        let mut t = Tally::default();
        for r in four_legs() {
            t.add_record(&r, &PKT, None);
        }
        assert!(!t.resolve_untranslated(), "translation was seen: not plain");
        assert_eq!(t.counted.conversations.len(), 1);
        let conv = t.counted.conversations[&(ip("10.0.1.5"), Some(ip("203.0.113.5")))];
        assert_eq!(
            conv.bytes,
            InOut {
                out: 100,
                inn: 5000
            }
        );
        assert_eq!(t.stats.legs.vpc_outbound, 1);
        assert_eq!(t.stats.legs.vpc_reply, 1);
        assert_eq!(t.stats.legs.internet, 2);
        assert_eq!(t.stats.bytes_all_records, 10200);
        // The remote's port 443 is the destination key, in both directions.
        assert_eq!(
            t.counted.destinations[&(ip("203.0.113.5"), Some(443), Some(6))],
            InOut {
                out: 100,
                inn: 5000
            }
        );
    }

    #[test]
    fn legs_split_across_workers_merge_to_the_same_result() {
        let legs = four_legs();
        let mut a = Tally::default();
        let mut b = Tally::default();
        // The internet legs land in one worker, the VPC legs in the other.
        a.add_record(&legs[1], &PKT, None);
        a.add_record(&legs[2], &PKT, None);
        b.add_record(&legs[0], &PKT, None);
        b.add_record(&legs[3], &PKT, None);
        a.merge(b);
        assert!(!a.resolve_untranslated());
        assert_eq!(
            a.counted.totals(),
            InOut {
                out: 100,
                inn: 5000
            }
        );
        assert_eq!(a.stats.legs.internet, 2);
    }

    #[test]
    fn batched_counting_equals_counting_one_record_at_a_time() {
        // Far more VPC-side records than one batch holds, over keys that repeat near and far,
        // some naming a service only after their first record, an IPv6 conversation (general
        // key) among them; counted in batches by two workers and merged, against one record
        // at a time.
        let mut records = Vec::new();
        for i in 0..6_000u32 {
            let host = format!("10.0.{}.{}", i % 3, i % 200);
            let remote = format!("203.0.{}.{}", i % 7, i % 150);
            let mut out = leg(&host, "10.0.0.220", &host, &remote, u64::from(i));
            if i % 5 == 0 && i > 1_000 {
                out.pkt_dst_aws_service = Some(AwsService::S3);
            }
            let mut reply = back("10.0.0.220", &host, &remote, &host, u64::from(i) * 3);
            reply.dstport = (i % 11 != 0).then_some(40000);
            reply.srcport = (i % 13 != 0).then_some(443);
            records.push(out);
            records.push(reply);
        }
        records.push(leg("fd00::5", "fd00::1", "fd00::5", "2001:db8::9", 77));

        let mut one_by_one = Tally::default();
        for rec in &records {
            one_by_one.add_record(rec, &PKT, None);
        }
        let (first, second) = records.split_at(records.len() / 3);
        let mut a = Tally::default();
        let mut b = Tally::default();
        for rec in first {
            a.count(&Flow::from(rec), &PKT, None);
        }
        for rec in second {
            b.count(&Flow::from(rec), &PKT, None);
        }
        a.merge(b);
        a.flush();

        let named = |t: &Tally| {
            let mut all: Vec<_> = t
                .counted
                .each_conversation()
                .map(|(key, conv)| {
                    let service = conv.service.and_then(|id| t.services.name(id));
                    (key, conv.bytes, service.map(str::to_string))
                })
                .collect();
            all.sort_by_key(|(key, ..)| *key);
            all
        };
        let destinations = |t: &Tally| {
            let mut all: Vec<_> = t.counted.each_destination().map(|(k, b)| (k, *b)).collect();
            all.sort_by_key(|(key, _)| *key);
            all
        };
        assert_eq!(named(&a), named(&one_by_one));
        assert_eq!(destinations(&a), destinations(&one_by_one));
        assert_eq!(a.counted.totals(), one_by_one.counted.totals());
        assert!(named(&a).iter().any(|(_, _, s)| s.as_deref() == Some("S3")));
    }

    #[test]
    fn without_any_translation_records_are_plain_conversations() {
        let mut t = Tally::default();
        t.add_record(
            &leg("10.0.1.5", "198.51.100.1", "10.0.1.5", "198.51.100.1", 70),
            &PKT,
            None,
        );
        t.add_record(
            &leg("198.51.100.1", "10.0.1.5", "198.51.100.1", "10.0.1.5", 30),
            &PKT,
            None,
        );
        assert!(t.resolve_untranslated());
        assert_eq!(t.counted.conversations.len(), 1);
        assert_eq!(t.counted.totals(), InOut { out: 70, inn: 30 });
        assert_eq!(t.stats.legs.direct, 2);
    }

    #[test]
    fn a_known_nat_ip_makes_untranslated_records_internet_side() {
        let mut t = Tally::default();
        t.stats.nat_ip_known = true;
        t.add_record(
            &leg("10.0.1.5", "198.51.100.1", "10.0.1.5", "198.51.100.1", 70),
            &PKT,
            None,
        );
        assert!(!t.resolve_untranslated());
        assert!(t.counted.conversations.is_empty());
        assert_eq!(t.stats.legs.internet, 1);
    }

    #[test]
    fn service_of_the_remote_follows_the_direction() {
        let mut t = Tally::default();
        let mut out = leg("10.0.1.5", "10.0.0.220", "10.0.1.5", "52.216.1.1", 10);
        out.pkt_dst_aws_service = Some(AwsService::S3);
        let mut reply = back("10.0.0.220", "10.0.1.5", "52.216.1.1", "10.0.1.5", 20);
        reply.pkt_src_aws_service = Some(AwsService::S3);
        t.add_record(&reply, &PKT, None);
        t.add_record(&out, &PKT, None);
        let conv = t.counted.conversations[&(ip("10.0.1.5"), Some(ip("52.216.1.1")))];
        assert_eq!(conv.service.and_then(|id| t.services.name(id)), Some("S3"));
    }

    #[test]
    fn merged_service_ids_are_remapped() {
        let mut a = Tally::default();
        let mut b = Tally::default();
        let mut r1 = leg("10.0.1.5", "10.0.0.220", "10.0.1.5", "52.94.0.1", 10);
        r1.pkt_dst_aws_service = Some(AwsService::Dynamodb);
        let mut r2 = leg("10.0.1.6", "10.0.0.220", "10.0.1.6", "52.216.1.1", 10);
        r2.pkt_dst_aws_service = Some(AwsService::S3);
        a.add_record(&r1, &PKT, None);
        b.add_record(&r2, &PKT, None);
        a.merge(b);
        let name = |k: (&str, &str)| {
            let c = a.counted.conversations[&(ip(k.0), Some(ip(k.1)))];
            c.service
                .and_then(|id| a.services.name(id))
                .map(str::to_string)
        };
        assert_eq!(name(("10.0.1.5", "52.94.0.1")).as_deref(), Some("DYNAMODB"));
        assert_eq!(name(("10.0.1.6", "52.216.1.1")).as_deref(), Some("S3"));
    }

    #[test]
    fn status_only_and_rejected_records_are_counted_not_attributed() {
        let mut t = Tally::default();
        let nodata = Record {
            log_status: Some(LogStatus::NoData),
            start: Some(1_700_000_000),
            end: Some(1_700_000_060),
            ..Record::default()
        };
        let skip = Record {
            log_status: Some(LogStatus::SkipData),
            ..Record::default()
        };
        let mut reject = leg("10.0.1.5", "10.0.0.220", "10.0.1.5", "203.0.113.5", 40);
        reject.action = Some(Action::Reject);
        for r in [&nodata, &skip, &reject] {
            t.add_record(r, &PKT, None);
        }
        assert_eq!(t.stats.records, 3);
        assert_eq!((t.stats.status_nodata, t.stats.status_skipdata), (1, 1));
        assert_eq!((t.stats.reject_records, t.stats.reject_bytes), (1, 40));
        assert!(t.counted.conversations.is_empty());
        assert_eq!(t.stats.first_time, Some(1_700_000_000));
        assert_eq!(t.stats.last_time, Some(1_700_000_060));
    }

    #[test]
    fn timeline_uses_start_else_the_event_timestamp() {
        let mut t = Tally::default();
        let mut r = leg("10.0.1.5", "10.0.0.220", "10.0.1.5", "203.0.113.5", 10);
        r.start = Some(1_700_000_075);
        t.add_record(&r, &PKT, None);
        let r = leg("10.0.1.5", "10.0.0.220", "10.0.1.5", "203.0.113.5", 5);
        t.add_record(&r, &PKT, Some(1_700_000_130_500));
        assert_eq!(t.counted.timeline[&1_700_000_040].out, 10);
        assert_eq!(t.counted.timeline[&1_700_000_100].out, 5);
    }

    fn bad_line(line: u64) -> RecordError {
        RecordError {
            line,
            field: Some("bytes".into()),
            found: "x".into(),
            expected: "an integer",
            kind: nat_flowrec_parsers::RecordErrorKind::BadValue,
        }
    }

    #[test]
    fn malformed_examples_keep_the_first_five_by_file_and_line() {
        let mut a = Tally::default();
        let mut b = Tally::default();
        // File 0's chunk 1 numbers its lines from 1 again: they follow chunk 0's.
        for (chunk, line) in [(0, 9), (1, 1), (0, 3)] {
            a.add_malformed(0, "a.log", chunk, bad_line(line));
        }
        for (chunk, line) in [(0, 20), (0, 2), (2, 1), (0, 11)] {
            b.add_malformed(0, "a.log", chunk, bad_line(line));
        }
        b.add_malformed(1, "b.log", 0, bad_line(1));
        a.merge(b);
        let got: Vec<(u64, u64)> = a
            .stats
            .examples
            .iter()
            .map(|e| (e.chunk, e.error.line))
            .collect();
        assert_eq!(got, vec![(0, 2), (0, 3), (0, 9), (0, 11), (0, 20)]);
        assert_eq!(a.stats.malformed, 8);

        // Placed in the file (chunk 0 holds 25 lines, chunk 1 10), the lines keep their order
        // and the message names the file's line.
        let mut t = Tally::default();
        t.add_malformed(0, "a.log", 1, bad_line(4));
        t.add_malformed(0, "a.log", 0, bad_line(7));
        let mut numbers = LineNumbers::default();
        let chunks = nat_flowrec_parsers::FlowLogFile::from_reader(
            "a.log".into(),
            std::io::Cursor::new("1 2\n".repeat(35)),
            &nat_flowrec_parsers::LogFormat::parse("${srcaddr} ${bytes}").unwrap(),
        )
        .unwrap()
        .with_chunk_size(100)
        .chunks()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
        for chunk in &chunks {
            numbers.count(chunk, chunk.line_count());
        }
        t.place_lines(0, &mut numbers);
        let listed: Vec<MalformedLine> = t.stats.examples.iter().map(Example::listed).collect();
        assert_eq!(listed[0].line, 7);
        let second = chunks[0].line_count() + 4;
        assert_eq!(listed[1].line, second);
        assert!(
            listed[1]
                .error
                .starts_with(&format!("line {second}, field `bytes`"))
        );
    }

    #[test]
    fn untranslated_records_after_a_translation_are_counted_not_kept() {
        let legs = four_legs();
        let mut early = Tally::default();
        let mut late = Tally::default();
        // One worker meets an internet leg before any translation, the other after one.
        early.add_record(&legs[1], &PKT, None);
        early.add_record(&legs[0], &PKT, None);
        late.add_record(&legs[0], &PKT, None);
        late.add_record(&legs[1], &PKT, None);
        for t in [&early, &late] {
            assert!(
                t.untranslated.is_empty(),
                "nothing kept apart once NAT traffic is known"
            );
            assert_eq!(t.stats.legs.untranslated, 1);
        }
        let mut merged = Tally::default();
        merged.merge(early);
        merged.merge(late);
        assert!(!merged.resolve_untranslated());
        assert_eq!(merged.stats.legs.internet, 2);
        assert_eq!(merged.counted.totals(), InOut { out: 200, inn: 0 });
    }

    #[test]
    fn byte_counts_saturate_instead_of_overflowing() {
        let mut t = Tally::default();
        for _ in 0..2 {
            t.add_record(
                &leg(
                    "10.0.1.5",
                    "10.0.0.220",
                    "10.0.1.5",
                    "203.0.113.5",
                    u64::MAX,
                ),
                &PKT,
                None,
            );
        }
        assert_eq!(t.counted.totals().out, u64::MAX);
    }
}
