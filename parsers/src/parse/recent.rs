//! The addresses a parser read lately, by their text. A flow log repeats a few addresses
//! over and over: the NAT gateway's own is on every record, and `pkt-srcaddr`/`pkt-dstaddr`
//! mostly repeat `srcaddr`/`dstaddr` of the same line. Comparing an address's bytes with a
//! remembered one is two word compares, where reading it anew takes four octets' worth of
//! digit arithmetic. Equal bytes read as the equal address, so the cache changes no result.

use std::cell::Cell;
use std::net::Ipv6Addr;

use super::swar::{self, Padded, Window};

/// Remembered addresses, direct-mapped by the top bits of a hash of the text: 256 slots (6 KiB,
/// within the first-level cache) miss fewer of a busy NAT's remotes than 64 did, and the parser
/// of the 10M-line benchmark file took 2 % less time (0.881 -> 0.863 s, medians of three);
/// 1,024 and 4,096 slots were no faster.
const SLOT_BITS: u32 = 8;
const SLOTS: usize = 1 << SLOT_BITS;

/// One remembered address: its text packed into two words (NUL past its length), and its
/// length and octets packed into a third (`len | octets << 8`). Length 0 is an empty slot (no
/// address is that short). Three word cells, each read and written whole: a slot written as
/// a struct of mixed widths and read back as one soon after (the next address is often the
/// same) made the read wait for the writes to land (`perf`: a sixth of the parse).
#[derive(Debug, Default)]
struct Slot {
    first: Cell<u64>,
    second: Cell<u64>,
    tail: Cell<u64>,
}

impl Clone for Slot {
    fn clone(&self) -> Slot {
        Slot {
            first: Cell::new(self.first.get()),
            second: Cell::new(self.second.get()),
            tail: Cell::new(self.tail.get()),
        }
    }
}

/// IPv6 addresses remembered; IPv6 records are rarer, but `std`'s parser is slow.
const SLOTS6: usize = 32;
/// The longest IPv6 text remembered (eight groups of four hex digits and seven colons: 39).
const TEXT6: usize = 40;

/// One remembered IPv6 address: its text packed into five words, its length (0: empty slot).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot6 {
    words: [u64; TEXT6 / 8],
    len: u8,
    addr: Ipv6Addr,
}

impl Default for Slot6 {
    fn default() -> Slot6 {
        Slot6 {
            words: [0; TEXT6 / 8],
            len: 0,
            addr: Ipv6Addr::UNSPECIFIED,
        }
    }
}

/// The cache itself; one per parser, used by one thread (hence `Cell`s, no locks).
#[derive(Debug, Clone)]
pub(super) struct RecentAddresses {
    slots: [Slot; SLOTS],
    slots6: [Cell<Slot6>; SLOTS6],
}

impl Default for RecentAddresses {
    fn default() -> RecentAddresses {
        RecentAddresses {
            slots: std::array::from_fn(|_| Slot::default()),
            slots6: std::array::from_fn(|_| Cell::new(Slot6::default())),
        }
    }
}

impl RecentAddresses {
    /// The dotted-quad IPv4 address that is exactly `line[start..end]`, as
    /// [`swar::ipv4_token`] reads it, from the cache when its text was read lately.
    #[inline(always)]
    pub(super) fn ipv4(&self, line: &Padded, start: usize, end: usize) -> Option<[u8; 4]> {
        let len = end.checked_sub(start)?;
        if !(7..=15).contains(&len) {
            return None;
        }
        let first = swar::word_at(line, start, len);
        let second = swar::word_at(line, start + 8, len - 8.min(len));
        let hash = (first ^ second.rotate_left(29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let slot = &self.slots[(hash >> (64 - SLOT_BITS)) as usize % SLOTS];
        let tail = slot.tail.get();
        if slot.first.get() == first && slot.second.get() == second && tail & 0xff == len as u64 {
            return Some(((tail >> 8) as u32).to_le_bytes());
        }
        let octets = swar::ipv4_token(line, start, end)?;
        slot.first.set(first);
        slot.second.set(second);
        slot.tail
            .set(len as u64 | u64::from(u32::from_le_bytes(octets)) << 8);
        Some(octets)
    }
}

impl RecentAddresses {
    /// The IPv6 address that is exactly `text` (the bytes `start..end` of `line`), as `std`
    /// reads it, from the cache when its text was read lately.
    #[inline]
    pub(super) fn ipv6(&self, line: &Padded, text: &str, start: usize) -> Option<Ipv6Addr> {
        let len = text.len();
        if len == 0 || len > TEXT6 {
            return super::ipv6::parse(text);
        }
        let words: [u64; TEXT6 / 8] =
            std::array::from_fn(|k| swar::word_at(line, start + 8 * k, len.saturating_sub(8 * k)));
        let hash = words
            .iter()
            .fold(0u64, |h, w| (h ^ w).rotate_left(23))
            .wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let slot = &self.slots6[(hash >> 59) as usize % SLOTS6];
        let seen = slot.get();
        if seen.words == words && usize::from(seen.len) == len {
            return Some(seen.addr);
        }
        let addr = super::ipv6::parse(text)?;
        slot.set(Slot6 {
            words,
            len: len as u8,
            addr,
        });
        Some(addr)
    }
}

/// A padded line read through the parser's cache of addresses.
pub(super) struct CachedLine<'r> {
    pub line: &'r Padded,
    pub recent: &'r RecentAddresses,
}

impl Window for CachedLine<'_> {
    #[inline(always)]
    fn load(&self, at: usize) -> u64 {
        self.line.load(at)
    }

    #[inline(always)]
    fn ipv4(&self, start: usize, end: usize) -> Option<[u8; 4]> {
        self.recent.ipv4(self.line, start, end)
    }

    #[inline(always)]
    fn ipv6(&self, text: &str, start: usize) -> Option<Ipv6Addr> {
        self.recent.ipv6(self.line, text, start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(recent: &RecentAddresses, text: &str) -> Option<[u8; 4]> {
        let mut line = Padded::default();
        assert!(line.set(text.as_bytes(), text.len()), "short line");
        recent.ipv4(&line, 0, text.len())
    }

    #[test]
    fn remembered_addresses_read_as_std_reads_them() {
        let recent = RecentAddresses::default();
        // Twice each: the second read comes from the cache and must agree with the first.
        for _ in 0..2 {
            for text in [
                "10.0.0.220",
                "10.0.0.22",
                "10.0.0.2",
                "1.2.3.4",
                "255.255.255.255",
                "256.1.1.1",
                "01.2.3.4",
                "1.2.3.4.",
                "1.2.3",
                "10.0.0.2200",
            ] {
                let want = text
                    .parse::<std::net::Ipv4Addr>()
                    .ok()
                    .map(|ip| ip.octets());
                assert_eq!(read(&recent, text), want, "{text}");
            }
        }
    }

    #[test]
    fn remembered_ipv6_addresses_read_as_std_reads_them() {
        let recent = RecentAddresses::default();
        for _ in 0..2 {
            for text in [
                "2001:db8:1234:a100::15",
                "2001:db8:1234:a100::1",
                "2001:db8:1234:a100::15:",
                "::",
                "::ffff:10.0.0.1",
                "fe80:0000:0000:0000:0204:61ff:fe9d:f156",
                "fe80:0000:0000:0000:0204:61ff:fe9d:f156:1",
                "2001:db8::g",
            ] {
                let mut line = Padded::default();
                assert!(line.set(text.as_bytes(), text.len()), "short line");
                let want = text.parse::<Ipv6Addr>().ok();
                assert_eq!(recent.ipv6(&line, text, 0), want, "{text}");
            }
        }
    }

    #[test]
    fn a_text_with_a_nul_is_not_its_prefix() {
        let recent = RecentAddresses::default();
        assert_eq!(read(&recent, "1.2.3.4"), Some([1, 2, 3, 4]));
        assert_eq!(read(&recent, "1.2.3.4\0"), None);
    }
}
