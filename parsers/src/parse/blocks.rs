//! The spaces of a whole line as bit masks, found 32 bytes per step: finding where each value
//! starts and ends is most of what the report's parser does per line, and one 32-byte compare
//! and mask extraction per step (AVX2) or two 16-byte ones (SSE2) replaces a word-by-word scan.
//!
//! Three ways, with the same results: AVX2 where the processor has it (checked at run time, once
//! per parser), SSE2 on every other x86_64 processor (part of that target's baseline), and eight
//! bytes at a time in plain integer arithmetic (`swar`) elsewhere. Tests force each of them.
//!
//! The only `unsafe` here is the smallest possible: the vector loads of a 32-byte array (they
//! read through a pointer) and the call into the AVX2 code, which needs the processor to have
//! AVX2; [`Blocks`] can only be made to choose AVX2 after the processor was checked for it.

use super::swar;

/// The longest line whose spaces [`Blocks::spaces`] finds (three 64-bit masks): the longest
/// line the parser copies for its fast path.
pub(super) const LINE: usize = swar::PADDED_LINE;

/// How a line's spaces are found; the choice is made once, when a parser is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Blocks(Way);

/// The ways [`Blocks`] can take; [`Way::Avx2`] only after the processor was checked for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Way {
    Avx2,
    Sse2,
    /// Off x86_64, and in tests as the reference the vector ways must match.
    #[cfg_attr(all(target_arch = "x86_64", not(test)), allow(dead_code))]
    Portable,
}

impl Blocks {
    /// The fastest way this processor has.
    pub(super) fn detect() -> Blocks {
        #[cfg(target_arch = "x86_64")]
        {
            if avx2::detected() {
                return Blocks(Way::Avx2);
            }
            Blocks(Way::Sse2)
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            Blocks(Way::Portable)
        }
    }

    /// `way`, if this processor can take it (tests run every way the machine has).
    #[cfg(test)]
    fn forced(way: Way) -> Option<Blocks> {
        match way {
            Way::Portable => Some(Blocks(Way::Portable)),
            #[cfg(target_arch = "x86_64")]
            Way::Sse2 => Some(Blocks(Way::Sse2)),
            #[cfg(target_arch = "x86_64")]
            Way::Avx2 => avx2::detected().then_some(Blocks(Way::Avx2)),
            #[cfg(not(target_arch = "x86_64"))]
            _ => None,
        }
    }

    /// Every way this processor can take.
    #[cfg(test)]
    pub(crate) fn every_way() -> Vec<Blocks> {
        [Way::Avx2, Way::Sse2, Way::Portable]
            .into_iter()
            .filter_map(Blocks::forced)
            .collect()
    }

    /// `f()`, compiled for this processor: with AVX2, BMI1, BMI2, LZCNT and POPCNT when it has
    /// them (x86-64-v3: the word routines' shifts and bit counts take fewer instructions), for
    /// the target's baseline otherwise. `f` (inlined) is compiled once per way.
    #[inline(always)]
    pub(super) fn compiled_for<R>(self, f: impl FnOnce() -> R) -> R {
        match self.0 {
            #[cfg(target_arch = "x86_64")]
            Way::Avx2 => avx2::compiled_for(f),
            _ => f(),
        }
    }

    /// Bit `i` of mask `k` set for every space at byte `64 * k + i` of `line`'s first
    /// [`LINE`] bytes (bytes past them are not looked at).
    #[inline(always)]
    pub(super) fn spaces(self, line: &[u8]) -> [u64; 3] {
        match self.0 {
            #[cfg(target_arch = "x86_64")]
            Way::Avx2 => avx2::spaces(line),
            #[cfg(target_arch = "x86_64")]
            Way::Sse2 => sse2::spaces(line),
            _ => each_block(line, portable_spaces32),
        }
    }
}

/// The masks of `line`'s first [`LINE`] bytes, 32 bytes per `block` call.
///
/// Written so that the masks stay in registers: each of the six blocks at a constant place
/// (the loop unrolls), no mask array indexed at run time. Built in memory, by stores at a
/// computed index, the masks were read back as one vector before those stores had landed (a
/// failed store forward): a tenth of the parser's time (`perf annotate`).
#[inline(always)]
fn each_block(line: &[u8], block: impl Fn(&[u8; 32]) -> u32) -> [u64; 3] {
    let line = line.get(..LINE).unwrap_or(line);
    let len = line.len();
    let whole = len / 32;
    let rest = len % 32;
    // The last partial block: the line's last 32 bytes, of which the top `rest` are new (no
    // copy), or a NUL-padded copy when the whole line is shorter than a block.
    let partial = || {
        let last = len
            .checked_sub(32)
            .and_then(|from| line.get(from..))
            .and_then(|last| <&[u8; 32]>::try_from(last).ok());
        match last {
            Some(last) => block(last) >> (32 - rest),
            None => {
                let mut padded = [0u8; 32];
                if let Some(head) = padded.get_mut(..rest) {
                    head.copy_from_slice(line);
                }
                block(&padded)
            }
        }
    };
    let mut halves = [0u32; LINE / 32];
    for (k, half) in halves.iter_mut().enumerate() {
        *half = if k < whole {
            line.get(32 * k..32 * k + 32)
                .and_then(|b| <&[u8; 32]>::try_from(b).ok())
                .map_or(0, &block)
        } else if k == whole && rest != 0 {
            partial()
        } else {
            0
        };
    }
    let [a, b, c, d, e, f] = halves;
    [
        u64::from(a) | u64::from(b) << 32,
        u64::from(c) | u64::from(d) << 32,
        u64::from(e) | u64::from(f) << 32,
    ]
}

/// The spaces of one block, eight bytes at a time: the portable way, and the reference the
/// vector ways are tested against.
#[inline(always)]
fn portable_spaces32(block: &[u8; 32]) -> u32 {
    let mut mask = 0u32;
    for (k, word) in block.chunks_exact(8).enumerate() {
        let word = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
        mask |= (swar::bytes_equal(word, b' ') as u32) << (8 * k);
    }
    mask
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod sse2 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };

    /// [`super::Blocks::spaces`] with SSE2.
    #[inline(always)]
    pub(super) fn spaces(line: &[u8]) -> [u64; 3] {
        super::each_block(line, |block| {
            // SAFETY: calling a `#[target_feature]` function is undefined behaviour only on a
            // processor without the feature; SSE2 is part of the x86_64 baseline, which every
            // x86_64 processor has and every x86_64 target is compiled for.
            unsafe { spaces32(block) }
        })
    }

    /// The 16 bytes of `half`.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn load(half: &[u8; 16]) -> __m128i {
        // SAFETY: `half` borrows 16 bytes, exactly what the unaligned load reads (`loadu`
        // needs no alignment).
        unsafe { _mm_loadu_si128(half.as_ptr().cast()) }
    }

    /// The spaces of one block: two 16-byte compares.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn spaces32(block: &[u8; 32]) -> u32 {
        let space = _mm_set1_epi8(b' ' as i8);
        let (halves, _) = block.as_chunks::<16>();
        let mut mask = 0u32;
        for (k, half) in halves.iter().enumerate() {
            mask |= (_mm_movemask_epi8(_mm_cmpeq_epi8(load(half), space)) as u32) << (16 * k);
        }
        mask
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod avx2 {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_set1_epi8,
    };

    /// Whether this processor has every feature the functions below are compiled for.
    pub(super) fn detected() -> bool {
        std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("bmi1")
            && std::arch::is_x86_feature_detected!("bmi2")
            && std::arch::is_x86_feature_detected!("lzcnt")
            && std::arch::is_x86_feature_detected!("popcnt")
    }

    /// [`super::Blocks::spaces`] with AVX2. Only a `Blocks` of [`super::Way::Avx2`] calls it
    /// (and `compiled_for`), and one is only made after [`detected`]. The blocks are walked
    /// here, inlined into the caller; only the one-block compare is an AVX2 function (a whole
    /// AVX2 function for the line was not always inlined into the parser: a call per line).
    #[inline(always)]
    pub(super) fn spaces(line: &[u8]) -> [u64; 3] {
        super::each_block(line, |block| {
            // SAFETY: calling a `#[target_feature]` function is undefined behaviour only on a
            // processor without the features; the only callers hold a `Blocks` of
            // `Way::Avx2`, which `Blocks::detect` and `Blocks::forced` make only after
            // `detected()`.
            unsafe { spaces32(block) }
        })
    }

    /// [`super::Blocks::compiled_for`] with x86-64-v3's features.
    #[inline(always)]
    pub(super) fn compiled_for<R>(f: impl FnOnce() -> R) -> R {
        // SAFETY: as for `spaces`: only a `Blocks` of `Way::Avx2` calls it, made only after
        // `detected()`.
        unsafe { with_v3(f) }
    }

    #[inline]
    #[target_feature(enable = "avx2,bmi1,bmi2,lzcnt,popcnt")]
    fn with_v3<R>(f: impl FnOnce() -> R) -> R {
        f()
    }

    /// The 32 bytes of `block`.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn load(block: &[u8; 32]) -> __m256i {
        // SAFETY: `block` borrows 32 bytes, exactly what the unaligned load reads (`loadu`
        // needs no alignment).
        unsafe { _mm256_loadu_si256(block.as_ptr().cast()) }
    }

    /// The spaces of one block: one 32-byte compare.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn spaces32(block: &[u8; 32]) -> u32 {
        let equal = _mm256_cmpeq_epi8(load(block), _mm256_set1_epi8(b' ' as i8));
        _mm256_movemask_epi8(equal) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_loop(line: &[u8]) -> [u64; 3] {
        let mut masks = [0u64; 3];
        for (i, b) in line.iter().take(LINE).enumerate() {
            masks[i / 64] |= u64::from(*b == b' ') << (i % 64);
        }
        masks
    }

    #[test]
    fn every_length_and_every_byte_value() {
        let all: Vec<u8> = (0..=255u8).chain(0..=255).collect();
        for len in 0..=all.len() {
            for blocks in Blocks::every_way() {
                let line = &all[all.len() - len..];
                assert_eq!(blocks.spaces(line), by_loop(line), "{blocks:?} {len}");
                let spaces = vec![b' '; len];
                assert_eq!(blocks.spaces(&spaces), by_loop(&spaces), "{blocks:?} {len}");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn every_way_agrees_with_a_byte_loop(text in "[ .0-9a:\u{e9}]{0,230}") {
            for blocks in Blocks::every_way() {
                proptest::prop_assert_eq!(blocks.spaces(text.as_bytes()), by_loop(text.as_bytes()));
            }
        }
    }
}
