//! Eight bytes at a time (SWAR: SIMD within a register) for the values that fill a flow-log line:
//! decimal numbers, the octets of dotted quads, and short words. Counting a run of digits and
//! converting it is a handful of arithmetic instructions on one 64-bit word, where a byte loop
//! takes a branch per digit and mispredicts at every value's variable end.
//!
//! Words are little-endian: byte `i` of the input is bits `8*i..8*i+8` of the word.

const LO7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const HIGH: u64 = 0x8080_8080_8080_8080;
const NIBBLES_LO: u64 = 0x0f0f_0f0f_0f0f_0f0f;
const NIBBLES_HI: u64 = 0xf0f0_f0f0_f0f0_f0f0;

/// The 8 bytes at `at` as a word; bytes past the end of `bytes` read as NUL (never a digit, a
/// letter or a space, so a value cannot run past the end).
#[inline(always)]
pub(super) fn load(bytes: &[u8], at: usize) -> u64 {
    if let Some(eight) = at.checked_add(8).and_then(|end| bytes.get(at..end)) {
        return u64::from_le_bytes(eight.try_into().unwrap_or([0; 8]));
    }
    let len = bytes.len();
    if at >= len {
        return 0;
    }
    // Near the end: the last eight bytes, shifted so that byte `at` comes first.
    if let Some(last) = len.checked_sub(8).and_then(|from| bytes.get(from..)) {
        let word = u64::from_le_bytes(last.try_into().unwrap_or([0; 8]));
        return word >> (8 * (at + 8 - len));
    }
    // Less than eight bytes in all.
    let mut word = 0u64;
    for (i, b) in bytes.iter().skip(at).enumerate() {
        word |= u64::from(*b) << (8 * i);
    }
    word
}

/// Where the routines below read their words from: a line as it is (`[u8]`: every load checked
/// against its end, NUL past it) or a short line copied into a zero-padded buffer ([`Padded`]:
/// every load one unchecked-free instruction). The second is the report's hot path; the first
/// serves lines of any length.
pub(super) trait Window {
    /// The 8 bytes at `at` as a word, NUL past the end of the line.
    fn load(&self, at: usize) -> u64;

    /// The dotted-quad IPv4 address that is exactly the bytes `start..end` ([`ipv4_token`]).
    #[inline(always)]
    fn ipv4(&self, start: usize, end: usize) -> Option<[u8; 4]> {
        ipv4_token(self, start, end)
    }

    /// The IPv6 address that is exactly `text`, the bytes from `start` on, as `std` reads it.
    #[inline(always)]
    fn ipv6(&self, text: &str, start: usize) -> Option<std::net::Ipv6Addr> {
        let _ = start;
        super::ipv6::parse(text)
    }
}

impl Window for [u8] {
    #[inline(always)]
    fn load(&self, at: usize) -> u64 {
        load(self, at)
    }
}

// Tests read arrays and vectors as they are.
#[cfg(test)]
impl<const N: usize> Window for [u8; N] {
    fn load(&self, at: usize) -> u64 {
        load(self, at)
    }
}

#[cfg(test)]
impl Window for Vec<u8> {
    fn load(&self, at: usize) -> u64 {
        load(self, at)
    }
}

/// The longest line [`Padded`] holds.
pub(super) const PADDED_LINE: usize = 192;
/// How far past a line's last byte the parser reads: the spaces of a line are found 64 bytes
/// at a time (up to 63 bytes past it), a value's words 16 bytes at a time, an IPv6 text's up
/// to 40. These bytes are NUL after every line.
const SLACK: usize = 80;
/// Loads wrap at this many bytes, which is more than a line and its slack: a load never
/// reaches the wrap, and every byte past the line that the parser reads is NUL.
const WRAP: usize = 512;

/// A buffer that holds one line of at most [`PADDED_LINE`] bytes at a time, followed by NULs:
/// every word of the line (and past it) can be read without a bounds check or a short-line
/// path. The parser keeps one and copies each line in, so that only the line and its slack
/// are written per line.
#[derive(Clone)]
pub(super) struct Padded {
    buf: [u8; WRAP + 8],
}

impl Default for Padded {
    fn default() -> Padded {
        Padded { buf: [0; WRAP + 8] }
    }
}

impl std::fmt::Debug for Padded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Padded")
    }
}

impl Padded {
    /// Holds the line `window[..len]` from now on; false (and nothing held) when it is longer
    /// than [`PADDED_LINE`]. `window` is the line and what follows it in its text: when that
    /// is at least [`PADDED_LINE`] bytes, a fixed block is copied (a few vector moves, no call;
    /// the bytes past the line are the next lines', which no value reads, as a value's length
    /// comes from the spaces found in the line); else the line alone, NULs after it.
    #[inline(always)]
    pub(super) fn set(&mut self, window: &[u8], len: usize) -> bool {
        if len > PADDED_LINE {
            return false;
        }
        if let (Some(dst), Some(src)) = (
            self.buf.first_chunk_mut::<PADDED_LINE>(),
            window.first_chunk::<PADDED_LINE>(),
        ) {
            *dst = *src;
            return true;
        }
        let Some(line) = window.get(..len) else {
            return false;
        };
        // Both ranges are within the buffer: `len` is at most PADDED_LINE.
        if let Some(dst) = self.buf.get_mut(..len) {
            dst.copy_from_slice(line);
        }
        if let Some(slack) = self.buf.get_mut(len..len + SLACK) {
            slack.fill(0);
        }
        true
    }
}

impl Window for Padded {
    #[inline(always)]
    fn load(&self, at: usize) -> u64 {
        // The mask proves `at + 8` in bounds to the compiler: no check, no branch.
        let at = at % WRAP;
        let mut word = [0u8; 8];
        word.copy_from_slice(&self.buf[at..at + 8]);
        u64::from_le_bytes(word)
    }
}

/// Bit `8*i+7` set for every byte `i` of `x` that is not zero (exact: no carries between bytes).
#[inline(always)]
fn nonzero_bytes(x: u64) -> u64 {
    (((x & LO7).wrapping_add(LO7)) | x) & HIGH
}

/// Bit `8*i+7` set for every byte `i` of the word that is not an ASCII digit.
#[inline(always)]
fn non_digits(word: u64) -> u64 {
    // A digit is 0x30..=0x39: high nibble 3, and low nibble + 6 stays below 0x10.
    let high = (word & NIBBLES_HI) ^ 0x3030_3030_3030_3030;
    let low = ((word & NIBBLES_LO).wrapping_add(0x0606_0606_0606_0606)) & NIBBLES_HI;
    nonzero_bytes(high | low)
}

/// How many of the word's bytes, from the first, are ASCII digits (0 to 8).
#[inline(always)]
pub(super) fn digit_run(word: u64) -> usize {
    (non_digits(word).trailing_zeros() / 8) as usize
}

/// Bit `i` set for every byte `i` of the word that equals `byte` (8 bits).
#[inline(always)]
pub(super) fn bytes_equal(word: u64, byte: u8) -> u64 {
    let zero = !nonzero_bytes(word ^ (u64::from(byte) * 0x0101_0101_0101_0101)) & HIGH;
    movemask(zero)
}

/// Bit `i` set for every byte `i` of the word that is an ASCII digit (8 bits).
#[inline(always)]
pub(super) fn digit_bytes(word: u64) -> u64 {
    movemask(!non_digits(word) & HIGH)
}

/// One bit per byte, bit `i` for byte `i`, from a mask with bit `8*i+7` per byte.
#[inline(always)]
fn movemask(high_bits: u64) -> u64 {
    // Every byte's bit lands on its own bit of the top byte: no two products overlap.
    ((high_bits >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56
}

/// The unsigned decimal number that is exactly `bytes[start..end]` (digits only; `None` when
/// anything else is there or it does not fit a `u64`).
#[inline(always)]
pub(super) fn number_token<W: Window + ?Sized>(bytes: &W, start: usize, end: usize) -> Option<u64> {
    let len = end.checked_sub(start)?;
    if (1..=8).contains(&len) {
        let word = bytes.load(start);
        return (digit_run(word) >= len).then(|| digits_value(word, len));
    }
    match number_at(bytes, start) {
        Some((value, after)) if after == end => Some(value),
        _ => None,
    }
}

/// The dotted-quad IPv4 address that is exactly `bytes[start..end]`, by `std`'s rules: four
/// octets of 1 to 3 digits, no leading zero, each at most 255. The dots and digits of the
/// whole address are found at once (16 bytes, see `classes`), then each octet is read in place.
#[inline(always)]
pub(super) fn ipv4_token<W: Window + ?Sized>(
    bytes: &W,
    start: usize,
    end: usize,
) -> Option<[u8; 4]> {
    let len = end.checked_sub(start)?;
    if !(7..=15).contains(&len) {
        return None;
    }
    let classes = super::classes::classes16(bytes, start);
    let valid = (1u32 << len) - 1;
    let dots = classes.dots & valid;
    // Exactly three dots: three set bits, each cleared in turn, and none after.
    let rest = dots & dots.wrapping_sub(1);
    let last = rest & rest.wrapping_sub(1);
    if (dots | classes.digits) & valid != valid || last == 0 || last & (last - 1) != 0 {
        return None;
    }
    let first = dots.trailing_zeros() as usize;
    let second = rest.trailing_zeros() as usize;
    let third = last.trailing_zeros() as usize;
    Some([
        octet(bytes, start, first)?,
        octet(bytes, start + first + 1, second - first - 1)?,
        octet(bytes, start + second + 1, third - second - 1)?,
        octet(bytes, start + third + 1, len - third - 1)?,
    ])
}

/// The octet of the `n` digits at `at` (1 to 3 of them, no leading zero, at most 255).
#[inline(always)]
fn octet<W: Window + ?Sized>(bytes: &W, at: usize, n: usize) -> Option<u8> {
    if !(1..=3).contains(&n) {
        return None;
    }
    let digits = bytes.load(at) & 0x0f_0f0f;
    if n > 1 && digits & 0x0f == 0 {
        return None; // leading zero
    }
    // Right-align the n digits in three bytes: hundreds, tens, ones.
    let x = (digits << (8 * (3 - n))) & 0x0f_0f0f;
    let value = (x & 0xff) * 100 + ((x >> 8) & 0xff) * 10 + (x >> 16);
    u8::try_from(value).ok()
}

/// The value of the word's first `n` bytes, which are digits (`n` in 0..=8; 0 digits are 0).
#[inline(always)]
pub(super) fn digits_value(word: u64, n: usize) -> u64 {
    // Right-align the digits in the word (the bytes before them become leading zeros), then
    // combine neighbours: pairs, then quads, then the eight.
    let shift = 8 * (8 - n.min(8)) as u32;
    let v = (word & NIBBLES_LO).checked_shl(shift).unwrap_or(0);
    let v = (v.wrapping_mul(10 * 0x100 + 1) >> 8) & 0x00ff_00ff_00ff_00ff;
    let v = (v.wrapping_mul(100 * 0x1_0000 + 1) >> 16) & 0x0000_ffff_0000_ffff;
    v.wrapping_mul(10_000 * 0x1_0000_0000 + 1) >> 32
}

/// The unsigned decimal number at `bytes[at]` and the offset past its digits; `None` when no
/// digit is there or the number does not fit a `u64`.
#[inline(always)]
pub(super) fn number_at<W: Window + ?Sized>(bytes: &W, at: usize) -> Option<(u64, usize)> {
    let word = bytes.load(at);
    let n = digit_run(word);
    if n == 0 {
        return None;
    }
    let mut value = digits_value(word, n);
    let mut end = at + n;
    if n < 8 {
        return Some((value, end));
    }
    // Longer than eight digits: eight at a time, checking for overflow.
    loop {
        let word = bytes.load(end);
        let n = digit_run(word);
        if n == 0 {
            return Some((value, end));
        }
        value = value
            .checked_mul(10u64.pow(n as u32))?
            .checked_add(digits_value(word, n))?;
        end += n;
        if n < 8 {
            return Some((value, end));
        }
    }
}

/// The first `len` bytes at `at` (at most 8 of them) as a word, for comparing short words in one
/// instruction.
#[inline(always)]
pub(super) fn word_at<W: Window + ?Sized>(bytes: &W, at: usize, len: usize) -> u64 {
    let keep = 1u64
        .checked_shl(8 * len.min(8) as u32)
        .unwrap_or(0)
        .wrapping_sub(1);
    bytes.load(at) & keep
}

/// The unsigned decimal number that is exactly the `len` bytes at `start`, and whether they are
/// one (digits only, fitting a `u64`). Up to 16 digits take two words and no branch.
#[inline(always)]
pub(super) fn number<W: Window + ?Sized>(bytes: &W, start: usize, len: usize) -> (u64, bool) {
    const POW10: [u64; 9] = [
        1,
        10,
        100,
        1_000,
        10_000,
        100_000,
        1_000_000,
        10_000_000,
        100_000_000,
    ];
    if len > 16 {
        return match number_token(bytes, start, start + len) {
            Some(value) => (value, true),
            None => (0, false),
        };
    }
    if len <= 8 {
        // Ports, protocols and most byte counts: one word.
        let word = bytes.load(start);
        return (digits_value(word, len), len > 0 && digit_run(word) >= len);
    }
    let head = len.min(8);
    let tail = len - head;
    let first = bytes.load(start);
    let second = bytes.load(start + 8);
    let ok = len > 0 && digit_run(first) >= head && digit_run(second) >= tail;
    let value = digits_value(first, head) * POW10[tail] + digits_value(second, tail);
    (value, ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_runs_and_values() {
        for (text, want) in [
            ("0", Some((0, 1))),
            ("7 ", Some((7, 1))),
            ("443 6", Some((443, 3))),
            ("12345678", Some((12_345_678, 8))),
            ("123456789", Some((123_456_789, 9))),
            ("00000000000000000042x", Some((42, 20))),
            ("18446744073709551615", Some((u64::MAX, 20))),
            ("18446744073709551616", None),
            ("99999999999999999999", None),
            ("", None),
            ("-", None),
            ("x1", None),
            ("/", None),
            (":", None),
        ] {
            assert_eq!(number_at(text.as_bytes(), 0), want, "{text:?}");
        }
        // Not from the start, and next to the end of the input.
        assert_eq!(number_at(b"ab 9012", 3), Some((9012, 7)));
        assert_eq!(number_at(b"ab 9012", 7), None);
        assert_eq!(number_at(b"ab 9012", 70), None);
    }

    #[test]
    fn numbers_that_are_the_whole_token() {
        let line = b"6 443 4249 123456789 18446744073709551615 18446744073709551616 12x -";
        let spans = [
            (0, 1),
            (2, 5),
            (6, 10),
            (11, 20),
            (21, 41),
            (42, 62),
            (63, 66),
            (67, 68),
        ];
        let want = [
            Some(6),
            Some(443),
            Some(4249),
            Some(123_456_789),
            Some(u64::MAX),
            None,
            None,
            None,
        ];
        for ((start, end), want) in spans.into_iter().zip(want) {
            assert_eq!(number_token(line, start, end), want, "{start}..{end}");
        }
        assert_eq!(number_token(line, 5, 5), None);
        assert_eq!(number_token(b"12", 1, 0), None);
    }

    proptest::proptest! {
        #[test]
        fn ipv4_tokens_follow_std(text in "[0-9.]{0,17}") {
            let want = text.parse::<std::net::Ipv4Addr>().ok().map(|ip| ip.octets());
            proptest::prop_assert_eq!(ipv4_token(text.as_bytes(), 0, text.len()), want);
        }

        #[test]
        fn numbers_follow_nom(text in "[0-9]{0,22}[ a]?") {
            let digits = text.trim_end_matches([' ', 'a']);
            proptest::prop_assert_eq!(
                number_token(text.as_bytes(), 0, digits.len()),
                digits.parse::<u64>().ok()
            );
            let (value, ok) = number(text.as_bytes(), 0, digits.len());
            proptest::prop_assert_eq!(ok.then_some(value), digits.parse::<u64>().ok());
        }

    }

    #[test]
    fn loads_pad_with_nul_past_the_end() {
        let bytes = b"0123456789ab";
        assert_eq!(load(bytes, 0), u64::from_le_bytes(*b"01234567"));
        assert_eq!(load(bytes, 4), u64::from_le_bytes(*b"456789ab"));
        assert_eq!(load(bytes, 6), u64::from_le_bytes(*b"6789ab\0\0"));
        assert_eq!(load(bytes, 11), u64::from(b'b'));
        assert_eq!(load(bytes, 12), 0);
        assert_eq!(load(bytes, 99), 0);
        assert_eq!(load(b"xyz", 1), u64::from_le_bytes(*b"yz\0\0\0\0\0\0"));
        assert_eq!(load(b"", 0), 0);
    }

    #[test]
    fn every_byte_is_classified() {
        for b in 0..=255u8 {
            let word = u64::from_le_bytes([b, b'5', 0, 0, 0, 0, 0, 0]);
            let want = if b.is_ascii_digit() { 2 } else { 0 };
            assert_eq!(digit_run(word), want, "byte {b:#x}");
        }
    }

    #[test]
    fn words_compare_whole() {
        let line = b"ACCEPT ingress S3";
        assert_eq!(word_at(line, 0, 6), word_at(b"ACCEPT", 0, 6));
        assert_ne!(word_at(line, 0, 6), word_at(b"REJECT", 0, 6));
        assert_eq!(word_at(line, 15, 2), word_at(b"S3", 0, 2));
        assert_eq!(word_at(line, 7, 7), u64::from_le_bytes(*b"ingress\0"));
        assert_eq!(word_at(line, 0, 0), 0);
    }

    #[test]
    fn numbers_of_any_length_in_place() {
        let line = b"0 7 443 12345678 123456789 1234567890123456 12345678901234567 18446744073709551615 18446744073709551616 1a - 00000000000000000000000001";
        let mut at = 0;
        let mut got = Vec::new();
        for token in line.split(|b| *b == b' ') {
            let (value, ok) = number(line, at, token.len());
            got.push(ok.then_some(value));
            at += token.len() + 1;
        }
        assert_eq!(
            got,
            [
                Some(0),
                Some(7),
                Some(443),
                Some(12_345_678),
                Some(123_456_789),
                Some(1_234_567_890_123_456),
                Some(12_345_678_901_234_567),
                Some(u64::MAX),
                None,
                None,
                None,
                Some(1),
            ]
        );
        assert!(!number(line, 0, 0).1);
    }
}
