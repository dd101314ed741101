//! [`LineBreaks`]: the search for CR and LF that the encoder and the decoder run once per line,
//! and [`block_breaks`], which finds every break of 64 bytes at once.

use std::sync::OnceLock;

use wide::u8x16;

/// Finds the next CR or LF.
///
/// `memchr::memchr2` picks its AVX2, SSE2 or portable code on every call, through a function
/// pointer. A text of many short lines calls it once per line, so that choice showed as a
/// tenth of the time of encoding 4 KiB of 64-byte lines. This makes the choice once per
/// process; the searches themselves are memchr's.
pub(crate) struct LineBreaks {
    #[cfg(target_arch = "x86_64")]
    avx2: Option<memchr::arch::x86_64::avx2::memchr::Two>,
}

impl LineBreaks {
    /// The fastest search this CPU supports, chosen on first use.
    #[inline]
    pub(crate) fn get() -> &'static Self {
        static SEARCH: OnceLock<LineBreaks> = OnceLock::new();
        SEARCH.get_or_init(|| Self {
            #[cfg(target_arch = "x86_64")]
            avx2: memchr::arch::x86_64::avx2::memchr::Two::new(b'\r', b'\n'),
        })
    }

    /// The search a CPU without AVX2 runs, so that tests cover it on any machine.
    #[cfg(test)]
    pub(crate) const PORTABLE: Self = Self {
        #[cfg(target_arch = "x86_64")]
        avx2: None,
    };

    /// The offset of the first CR or LF in `text`.
    #[inline]
    pub(crate) fn find(&self, text: &[u8]) -> Option<usize> {
        #[cfg(target_arch = "x86_64")]
        if let Some(avx2) = &self.avx2 {
            return avx2.find(text);
        }
        memchr::memchr2(b'\r', b'\n', text)
    }
}

/// The bytes [`block_breaks`] looks at in one go.
pub(crate) const BLOCK: usize = 64;

/// Every CR and LF of a 64-byte block, as a mask: bit `i` is set when `block[i]` is one.
///
/// A text of short lines costs memchr's set-up once per line (about as much as the search
/// itself, on lines of 64 bytes); this finds the breaks of the next 64 bytes in four 16-byte
/// compares (SSE2 on x86_64, NEON on aarch64, plain code elsewhere), whatever their number.
#[inline(always)]
pub(crate) fn block_breaks(block: &[u8; BLOCK]) -> u64 {
    let (lf, cr) = (u8x16::splat(b'\n'), u8x16::splat(b'\r'));
    let mut breaks = 0;
    for (n, part) in block.as_chunks::<16>().0.iter().enumerate() {
        let part = u8x16::new(*part);
        let found = part.simd_eq(lf) | part.simd_eq(cr);
        breaks |= u64::from(found.to_bitmask()) << (16 * n);
    }
    breaks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_searches_find_the_first_break() {
        let long = format!("{}\r\n", "x".repeat(100));
        for text in ["", "abc", "\n", "a\rb\nc", "ab\n\r", long.as_str()] {
            let expected = text.bytes().position(|b| b == b'\r' || b == b'\n');
            assert_eq!(
                LineBreaks::get().find(text.as_bytes()),
                expected,
                "{text:?}"
            );
            assert_eq!(
                LineBreaks::PORTABLE.find(text.as_bytes()),
                expected,
                "{text:?}"
            );
        }
    }

    #[test]
    fn a_block_mask_has_a_bit_for_each_break() {
        let mut block = [b'x'; 64];
        assert_eq!(block_breaks(&block), 0);
        // Both ends, both bytes, across the 16-byte parts' edges.
        for (at, byte) in [
            (0, b'\r'),
            (15, b'\n'),
            (16, b'\r'),
            (17, b'\n'),
            (63, b'\n'),
        ] {
            block[at] = byte;
        }
        let expected = 1 | 1 << 15 | 1 << 16 | 1 << 17 | 1 << 63;
        assert_eq!(block_breaks(&block), expected);
        // Bytes that differ from CR or LF in one bit are not breaks.
        let near = [b'\r' ^ 1, b'\n' ^ 1, b'\r' | 0x80, b'\n' | 0x80, 0];
        let block: [u8; 64] = std::array::from_fn(|i| near[i % near.len()]);
        assert_eq!(block_breaks(&block), 0);
    }
}
