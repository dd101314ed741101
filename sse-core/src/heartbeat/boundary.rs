//! [`EventBoundary`]: whether the bytes written to an event stream so far end at an event
//! boundary, where a comment (a heartbeat) can be written without splitting an event.
//!
//! # Example
//!
//! ```
//! use sse_core::__private::EventBoundary;
//!
//! let half = EventBoundary::START.advance(b"data: a\n");
//! assert!(!half.at_boundary());
//! assert!(half.advance(b"\n").at_boundary());
//! // A comment line that starts at a boundary leaves the stream at a boundary.
//! assert!(EventBoundary::START.advance(b": ping\n").at_boundary());
//! ```

/// Where the bytes written so far end, as far as event boundaries go.
///
/// A blank line ends an event; a comment line that starts at a boundary leaves the stream at a
/// boundary. A trailing CR is remembered, since the LF that may follow it belongs to it (CRLF).
/// The tracker never copies the bytes it is shown: it is two bytes of state.
///
/// See the module docs of `heartbeat::boundary`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventBoundary {
    line: Line,
    after_cr: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Line {
    /// At an event boundary: nothing of an event is pending.
    Boundary,
    /// After a complete field line: an event is pending until a blank line.
    Pending,
    /// Inside a line. A comment line that began at a boundary returns to the boundary.
    Partial { comment_at_boundary: bool },
}

impl Default for EventBoundary {
    fn default() -> Self {
        Self::START
    }
}

impl EventBoundary {
    /// The start of a stream, which is a boundary.
    pub const START: Self = Self {
        line: Line::Boundary,
        after_cr: false,
    };

    /// Whether the bytes written so far end at an event boundary.
    #[must_use]
    pub fn at_boundary(self) -> bool {
        self.line == Line::Boundary
    }

    /// The tracker after `data` is written.
    ///
    /// When `data` ends with a blank line (the common case: a chunk holds whole events),
    /// its last two or three bytes decide, whatever came before. Otherwise (an event split
    /// across chunks, a lone comment line) the chunk's bytes are stepped through; they are
    /// only read, never copied.
    #[inline]
    #[must_use]
    pub fn advance(self, data: &[u8]) -> Self {
        let n = data.len();
        if n >= 2 {
            let (a, b) = (data[n - 2], data[n - 1]);
            let blank_line = match b {
                b'\n' if a == b'\n' => true,
                b'\r' => a == b'\r' || a == b'\n',
                b'\n' if a == b'\r' => n >= 3 && matches!(data[n - 3], b'\r' | b'\n'),
                _ => false,
            };
            if blank_line {
                return Self {
                    line: Line::Boundary,
                    after_cr: b == b'\r',
                };
            }
        }
        // Only a line's first byte and its terminator change the state: skip the rest.
        let mut cursor = self;
        let mut i = 0;
        while let Some(&byte) = data.get(i) {
            cursor = cursor.step(byte);
            i += 1;
            if let Line::Partial { .. } = cursor.line {
                match memchr::memchr2(b'\n', b'\r', &data[i..]) {
                    Some(len) => i += len,
                    None => break,
                }
            }
        }
        cursor
    }

    #[inline]
    fn step(self, byte: u8) -> Self {
        match byte {
            b'\n' if self.after_cr => Self {
                after_cr: false,
                ..self
            },
            b'\r' | b'\n' => Self {
                line: match self.line {
                    Line::Partial {
                        comment_at_boundary: false,
                    } => Line::Pending,
                    // A blank line (dispatch), or the end of a comment at a boundary.
                    _ => Line::Boundary,
                },
                after_cr: byte == b'\r',
            },
            _ => Self {
                line: match self.line {
                    Line::Boundary => Line::Partial {
                        comment_at_boundary: byte == b':',
                    },
                    Line::Pending => Line::Partial {
                        comment_at_boundary: false,
                    },
                    partial => partial,
                },
                after_cr: false,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stepped(from: EventBoundary, data: &[u8]) -> EventBoundary {
        data.iter().fold(from, |cursor, &byte| cursor.step(byte))
    }

    const STREAMS: &[&[u8]] = &[
        b"data: a\n\n",
        b"data: a\r\n\r\n",
        b"data: a\r\r",
        b"data: a\n\ndata: b\n",
        b": keep-alive\n",
        b": one\n: two\n",
        b"data: a\n: inside\n",
        b"data: a\n: inside\n\n",
        b"event: x\ndata: a\r\ndata: b\r\n\r\n:\n",
        b"data: a\r",
        b"\n",
        b"\r\n",
        b"data: a\r\n\r",
        b"data: a\n\r\n",
        b"data: half",
        b":",
        b"::\n\n\n",
        b"id: 1\rdata: x\r\r: c\r",
    ];

    #[test]
    fn fast_path_agrees_with_stepping_for_every_split() {
        for stream in STREAMS {
            for i in 0..=stream.len() {
                for j in i..=stream.len() {
                    let chunks = [&stream[..i], &stream[i..j], &stream[j..]];
                    let mut fast = EventBoundary::START;
                    let mut slow = EventBoundary::START;
                    for chunk in chunks {
                        fast = fast.advance(chunk);
                        slow = stepped(slow, chunk);
                        assert_eq!(
                            fast,
                            slow,
                            "{:?} split at {i}/{j}",
                            String::from_utf8_lossy(stream)
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn boundaries_are_found_after_blank_lines_and_boundary_comments() {
        let at = |data: &[u8]| EventBoundary::START.advance(data).at_boundary();
        assert!(at(b""));
        assert!(at(b"data: a\n\n"));
        assert!(at(b"data: a\r\n\r\n"));
        assert!(at(b"data: a\r\r"));
        assert!(at(b": keep-alive\n"));
        assert!(at(b"data: a\n\n: c\n"));
        assert!(!at(b"data: a\n"));
        assert!(!at(b"data: a\r\n"));
        assert!(!at(b"data: a"));
        assert!(!at(b": unterminated comment"));
        // A comment inside an event does not end it.
        assert!(!at(b"data: a\n: inside\n"));
        // The LF of a CRLF split across chunks is not a blank line.
        let after_cr = EventBoundary::START.advance(b"data: a\r");
        assert!(!after_cr.advance(b"\n").at_boundary());
        assert!(after_cr.advance(b"\n").advance(b"\n").at_boundary());
    }
}
