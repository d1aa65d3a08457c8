//! IPv6 addresses as flow logs write them: hex groups separated by colons, one `::` at most.
//! `std`'s parser reads every form (an embedded IPv4 address too) through a generic
//! backtracking reader that takes hundreds of instructions an address; on the lines of IPv6
//! traffic it was a tenth of the report parser's time (`perf annotate`). The common form is
//! read here in one pass; anything else (a `.`, a zone, too many groups, an invalid text) goes
//! to `std`, so every text reads exactly as `std` reads it.

use std::net::Ipv6Addr;

/// The address `text` denotes, as `std`'s `Ipv6Addr::from_str` reads it.
#[inline]
pub(super) fn parse(text: &str) -> Option<Ipv6Addr> {
    match plain(text.as_bytes()) {
        Some(addr) => Some(addr),
        None => text.parse().ok(),
    }
}

/// `text` read in the common form, or `None` when it is not in that form (it may still be an
/// address; `std` decides). Only accepts what `std` accepts, with the same value: groups of one
/// to four hex digits (either case, leading zeros allowed); eight of them without `::`, at most
/// seven around a `::` (which stands for at least one zero group).
fn plain(text: &[u8]) -> Option<Ipv6Addr> {
    let n = text.len();
    if !(2..=39).contains(&n) {
        return None;
    }
    let mut groups = [0u16; 8];
    // Groups before the `::` (or all of them), then groups after it.
    let mut head = 0;
    let mut tail = [0u16; 8];
    let mut tails = 0;
    let mut gap = false;
    let mut i = 0;
    if text.first() == Some(&b':') {
        if text.get(1) != Some(&b':') {
            return None;
        }
        gap = true;
        i = 2;
        if i == n {
            return Some(Ipv6Addr::UNSPECIFIED);
        }
    }
    loop {
        let start = i;
        let mut value = 0u16;
        while let Some(digit) = text.get(i).and_then(|b| hex(*b)) {
            if i - start == 4 {
                return None;
            }
            value = value << 4 | digit;
            i += 1;
        }
        if i == start || head + tails == 8 {
            return None;
        }
        if gap {
            *tail.get_mut(tails)? = value;
            tails += 1;
        } else {
            *groups.get_mut(head)? = value;
            head += 1;
        }
        if i == n {
            break;
        }
        if text.get(i) != Some(&b':') {
            return None;
        }
        i += 1;
        if text.get(i) == Some(&b':') {
            if gap {
                return None;
            }
            gap = true;
            i += 1;
            if i == n {
                break;
            }
        }
    }
    let written = head + tails;
    if (gap && written > 7) || (!gap && written != 8) {
        return None;
    }
    // The tail groups end the address; the `::` is the zeros between.
    let at = 8 - tails;
    groups.get_mut(at..)?.copy_from_slice(tail.get(..tails)?);
    Some(Ipv6Addr::from(groups))
}

#[inline]
fn hex(b: u8) -> Option<u16> {
    match b {
        b'0'..=b'9' => Some(u16::from(b - b'0')),
        b'a'..=b'f' => Some(u16::from(b - b'a' + 10)),
        b'A'..=b'F' => Some(u16::from(b - b'A' + 10)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn std_reads(text: &str) -> Option<Ipv6Addr> {
        text.parse().ok()
    }

    #[test]
    fn common_forms_read_here_as_std_reads_them() {
        for text in [
            "::",
            "::1",
            "1::",
            "2001:db8::1",
            "2001:db8:1234:a100::15",
            "2001:DB8:ffff:9750::D8",
            "fe80:0000:0000:0000:0204:61ff:fe9d:f156",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7::",
            "::2:3:4:5:6:7:8",
            "0:0:0:0:0:0:0:0",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        ] {
            assert!(plain(text.as_bytes()).is_some(), "{text} is read here");
            assert_eq!(plain(text.as_bytes()), std_reads(text), "{text}");
            assert_eq!(parse(text), std_reads(text), "{text}");
        }
    }

    #[test]
    fn other_texts_are_left_to_std() {
        for text in [
            "",
            ":",
            ":1",
            "1:",
            ":::",
            "1:::2",
            "1::2::3",
            "12345::",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7:8::",
            "::1:2:3:4:5:6:7:8",
            "1::2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7",
            "::ffff:10.0.0.1",
            "fe80::1%eth0",
            "2001:db8::g",
            "2001:db8::1 ",
            "ü::1",
        ] {
            assert_eq!(plain(text.as_bytes()), None, "{text}");
            assert_eq!(parse(text), std_reads(text), "{text}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

        /// Texts near the grammar: hex digits, colons, a dot now and then.
        #[test]
        fn any_text_reads_as_std_reads_it(text in "[0-9a-fA-F:.]{0,41}") {
            if let Some(addr) = plain(text.as_bytes()) {
                prop_assert_eq!(Some(addr), std_reads(&text));
            }
            prop_assert_eq!(parse(&text), std_reads(&text));
        }

        /// Real addresses in every form `std` writes and some it does not (leading zeros).
        #[test]
        fn every_address_reads_back(groups in proptest::array::uniform8(any::<u16>()), zeros in 0usize..8, long in any::<bool>()) {
            let mut groups = groups;
            for g in groups.iter_mut().take(zeros) {
                *g = 0;
            }
            let addr = Ipv6Addr::from(groups);
            let shortest = addr.to_string();
            prop_assert_eq!(parse(&shortest), Some(addr));
            let full = if long {
                groups.iter().map(|g| format!("{g:04x}")).collect::<Vec<_>>().join(":")
            } else {
                groups.iter().map(|g| format!("{g:X}")).collect::<Vec<_>>().join(":")
            };
            prop_assert_eq!(plain(full.as_bytes()), Some(addr));
        }
    }
}
