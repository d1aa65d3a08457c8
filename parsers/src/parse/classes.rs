//! Which bytes of a line are spaces, dots or digits, as bit masks (bit `i` for byte `i`): 16
//! bytes per instruction with SSE2 on x86_64, eight at a time (SWAR) elsewhere. Finding the
//! values of a line is most of parsing it; one compare and one mask extraction per 16 bytes
//! is several times less work than any byte loop or word trick.
//!
//! SSE2 is part of the x86_64 baseline: every x86_64 processor has it and the compiler enables
//! it for every x86_64 target. Rust still asks for `unsafe` to call a function compiled for a
//! target feature, even one the target always has; that one call, `sse2::classes`, touches no
//! memory (the bytes arrive as two `u64`). The crate's only other `unsafe` is in `blocks`.

use super::swar::{self, Window};

/// The dots, digits and spaces among 16 bytes (bit `i` for byte `i`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Classes16 {
    pub dots: u32,
    pub digits: u32,
    pub spaces: u32,
}

/// The classes of the 16 bytes at `at`; bytes past the end of `bytes` are in no class.
#[inline(always)]
pub(super) fn classes16<W: Window + ?Sized>(bytes: &W, at: usize) -> Classes16 {
    let lo = bytes.load(at);
    let hi = bytes.load(at + 8);
    #[cfg(target_arch = "x86_64")]
    #[allow(unsafe_code)]
    {
        // SAFETY: calling a `#[target_feature]` function is undefined behaviour only on a
        // processor without that feature. `sse2::classes` enables SSE2 alone, which is part of
        // the x86_64 baseline: every x86_64 processor has it and every x86_64 target compiles
        // with it (see the module comment). The function dereferences no pointer and reads
        // nothing but its two `u64` arguments, so no memory can be misread.
        unsafe { sse2::classes(lo, hi) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        classes_swar(lo, hi)
    }
}

/// Bit `i` set for every space among the 64 bytes at `at`.
#[inline(always)]
pub(super) fn spaces64<W: Window + ?Sized>(bytes: &W, at: usize) -> u64 {
    let mut spaces = 0u64;
    for k in 0..4 {
        spaces |= u64::from(classes16(bytes, at + 16 * k).spaces) << (16 * k);
    }
    spaces
}

/// The same classes computed eight bytes at a time: the portable path, and the reference the
/// SSE2 path is tested against.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn classes_swar(lo: u64, hi: u64) -> Classes16 {
    let both = |mask: fn(u64) -> u64| (mask(lo) | mask(hi) << 8) as u32;
    Classes16 {
        dots: both(|w| swar::bytes_equal(w, b'.')),
        digits: both(swar::digit_bytes),
        spaces: both(|w| swar::bytes_equal(w, b' ')),
    }
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_min_epu8, _mm_movemask_epi8, _mm_set_epi64x, _mm_set1_epi8,
        _mm_sub_epi8,
    };

    use super::Classes16;

    /// The classes of the 16 bytes `lo` (first eight) and `hi` (next eight).
    #[inline]
    #[target_feature(enable = "sse2")]
    pub(super) fn classes(lo: u64, hi: u64) -> Classes16 {
        let v = _mm_set_epi64x(hi as i64, lo as i64);
        let equal = |byte: u8| {
            let mask = _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(byte as i8)));
            mask as u32
        };
        // A digit is a byte whose distance above '0' is at most 9 (unsigned).
        let above_zero = _mm_sub_epi8(v, _mm_set1_epi8(b'0' as i8));
        let digit = _mm_cmpeq_epi8(_mm_min_epu8(above_zero, _mm_set1_epi8(9)), above_zero);
        Classes16 {
            dots: equal(b'.'),
            digits: _mm_movemask_epi8(digit) as u32,
            spaces: equal(b' '),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_loop(bytes: &[u8], at: usize) -> Classes16 {
        let mut c = Classes16 {
            dots: 0,
            digits: 0,
            spaces: 0,
        };
        for i in 0..16 {
            let Some(b) = bytes.get(at + i) else { break };
            c.dots |= u32::from(*b == b'.') << i;
            c.digits |= u32::from(b.is_ascii_digit()) << i;
            c.spaces |= u32::from(*b == b' ') << i;
        }
        c
    }

    #[test]
    fn every_byte_value_is_classified() {
        let all: Vec<u8> = (0..=255).collect();
        for at in (0..256).step_by(16) {
            let lo = swar::load(&all, at);
            let hi = swar::load(&all, at + 8);
            assert_eq!(classes16(&all, at), by_loop(&all, at), "bytes {at}..");
            assert_eq!(classes_swar(lo, hi), by_loop(&all, at), "bytes {at}..");
        }
    }

    proptest::proptest! {
        #[test]
        fn classes_agree_with_a_byte_loop(text in "[ .0-9a/:\u{e9}]{0,80}", at in 0usize..90) {
            let bytes = text.as_bytes();
            proptest::prop_assert_eq!(classes16(bytes, at), by_loop(bytes, at));
            let lo = swar::load(bytes, at);
            let hi = swar::load(bytes, at + 8);
            proptest::prop_assert_eq!(classes_swar(lo, hi), by_loop(bytes, at));
            let spaces = spaces64(bytes, at);
            for i in 0..64 {
                let want = bytes.get(at + i) == Some(&b' ');
                proptest::prop_assert_eq!(spaces >> i & 1 == 1, want);
            }
        }
    }
}
