//! [`LineBreaks`]: the search for CR and LF that the encoder and the decoder run once per line.

use std::sync::OnceLock;

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
}
