//! [`HeartbeatBody`]: heartbeat comments injected into any SSE body, at event boundaries only.

use std::{
    fmt,
    future::Future,
    pin::Pin,
    task::{ready, Context, Poll},
    time::Duration,
};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};

/// The default heartbeat comment, an empty comment line.
pub(crate) const DEFAULT_COMMENT: &[u8] = b":\n";

pin_project! {
    /// A body that injects a heartbeat comment into an event stream after it has been idle
    /// for an interval, but only at an event boundary.
    ///
    /// It wraps any body whose data is [`Bytes`] and that carries `text/event-stream`: the
    /// stream built by [`SseBody`](crate::SseBody), axum's own `Sse`, or a hand-written body
    /// that sends one event in several chunks. It never copies event bytes: it remembers
    /// only whether the bytes written so far end at an event boundary (after a blank line,
    /// or after a comment line that itself started at a boundary), which the last bytes of
    /// each data frame tell, and the instant of the last write. While an event is half
    /// written, no heartbeat is sent, however long the body stalls.
    ///
    /// Every data frame counts as activity, including the body's own comments, so a body
    /// that already sends heartbeats more often than the interval gets none injected. The
    /// timer is armed once. A data frame only sets a flag; when the inner body next returns
    /// `Pending` (the end of a burst, which is when the frame was written) the time is read
    /// once and recorded as the last write. When the timer fires early it is re-armed to the
    /// last write plus the interval.
    ///
    /// After the inner body ends (or fails) this body returns `None` forever and never sends
    /// a heartbeat again. Since heartbeats add bytes, the size hint loses its upper bound
    /// (and an SSE response never gets a `Content-Length`).
    ///
    /// The timer needs a tokio runtime with the time driver. It is allocated the first time
    /// the stream goes idle at a boundary, and freed when the inner body ends.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// use bytes::Bytes;
    /// use http_body_util::{BodyExt, Full};
    /// use sse_tower::HeartbeatBody;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let body = Full::new(Bytes::from_static(b"data: hello\n\n"));
    /// let mut body = HeartbeatBody::new(body, Duration::from_secs(15)).text("ping");
    /// let frame = body.frame().await.unwrap().unwrap();
    /// assert_eq!(frame.into_data().unwrap(), "data: hello\n\n");
    /// assert!(body.frame().await.is_none());
    /// # }
    /// ```
    pub struct HeartbeatBody<B> {
        #[pin]
        inner: B,
        sleep: Option<Pin<Box<Sleep>>>,
        interval: Option<Duration>,
        comment: Bytes,
        last_write: Instant,
        written: bool,
        cursor: Cursor,
        ended: bool,
    }
}

impl<B> HeartbeatBody<B> {
    /// Wraps `body`, sending the comment `:\n` after `interval` without a write.
    ///
    /// # Panics
    ///
    /// If `interval` is zero.
    pub fn new(body: B, interval: Duration) -> Self {
        assert!(!interval.is_zero(), "heartbeat interval must not be zero");
        Self::with_parts(body, Some(interval), Bytes::from_static(DEFAULT_COMMENT))
    }

    /// Sets the heartbeat's text: it is sent as the comment `: text`, one comment line per
    /// line of `text`; an empty text sends `:\n`.
    #[must_use]
    pub fn text(mut self, text: &str) -> Self {
        self.comment = comment_bytes(text);
        self
    }

    pub(crate) fn with_parts(body: B, interval: Option<Duration>, comment: Bytes) -> Self {
        Self {
            inner: body,
            sleep: None,
            interval,
            comment,
            last_write: Instant::now(),
            written: false,
            cursor: Cursor::START,
            ended: false,
        }
    }

    /// Gets a reference to the inner body.
    pub fn get_ref(&self) -> &B {
        &self.inner
    }

    /// Gets a mutable reference to the inner body.
    pub fn get_mut(&mut self) -> &mut B {
        &mut self.inner
    }

    /// Gets a pinned mutable reference to the inner body.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut B> {
        self.project().inner
    }

    /// Consumes `self`, returning the inner body.
    pub fn into_inner(self) -> B {
        self.inner
    }
}

/// Encodes a heartbeat text as comment lines.
pub(crate) fn comment_bytes(text: &str) -> Bytes {
    if text.is_empty() {
        Bytes::from_static(DEFAULT_COMMENT)
    } else {
        sse_core::Event::comment(text).into_bytes()
    }
}

impl<B> fmt::Debug for HeartbeatBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeartbeatBody")
            .field("inner", &format_args!("{}", std::any::type_name::<B>()))
            .field("interval", &self.interval)
            .field("comment", &self.comment)
            .field("at_boundary", &self.cursor.at_boundary())
            .field("ended", &self.ended)
            .finish()
    }
}

impl<B> Body for HeartbeatBody<B>
where
    B: Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = self.project();
        if *this.ended {
            return Poll::Ready(None);
        }
        match this.inner.poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if this.interval.is_some() {
                    if let Some(data) = frame.data_ref().filter(|data| !data.is_empty()) {
                        *this.cursor = this.cursor.advance(data);
                        *this.written = true;
                    }
                }
                return Poll::Ready(Some(Ok(frame)));
            }
            Poll::Ready(Some(Err(err))) => {
                *this.ended = true;
                *this.sleep = None;
                return Poll::Ready(Some(Err(err)));
            }
            Poll::Ready(None) => {
                *this.ended = true;
                *this.sleep = None;
                return Poll::Ready(None);
            }
            Poll::Pending => {}
        }

        // The inner body is idle. A heartbeat may only go out at an event boundary; while an
        // event is half written the timer is not even polled: the next write wakes us.
        let Some(interval) = *this.interval else {
            return Poll::Pending;
        };
        if std::mem::take(this.written) {
            // The frames since the last idle poll went out just now: a burst costs one
            // clock read, when it ends, not one per frame.
            *this.last_write = Instant::now();
        }
        if !this.cursor.at_boundary() {
            return Poll::Pending;
        }
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(*this.last_write + interval)));
        loop {
            ready!(sleep.as_mut().poll(cx));
            let due = *this.last_write + interval;
            if due > sleep.deadline() {
                // Written to since the timer was armed: wait for the rest of the interval.
                sleep.as_mut().reset(due);
                continue;
            }
            let now = Instant::now();
            *this.last_write = now;
            sleep.as_mut().reset(now + interval);
            *this.cursor = this.cursor.advance(this.comment);
            return Poll::Ready(Some(Ok(Frame::data(this.comment.clone()))));
        }
    }

    fn is_end_stream(&self) -> bool {
        self.ended || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        if self.ended {
            return SizeHint::with_exact(0);
        }
        let inner = self.inner.size_hint();
        if self.interval.is_none() || self.inner.is_end_stream() {
            return inner;
        }
        let mut hint = SizeHint::new();
        hint.set_lower(inner.lower());
        hint
    }
}

/// Where the bytes written so far end, as far as event boundaries go.
///
/// A blank line ends an event; a comment line that starts at a boundary leaves the stream at a
/// boundary. `after_cr` remembers a trailing CR, whose following LF belongs to it (CRLF).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cursor {
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

impl Cursor {
    pub(crate) const START: Self = Self {
        line: Line::Boundary,
        after_cr: false,
    };

    pub(crate) fn at_boundary(self) -> bool {
        self.line == Line::Boundary
    }

    /// The cursor after `data` is written.
    ///
    /// When `data` ends with a blank line (the common case: a frame holds whole events),
    /// its last two or three bytes decide, whatever came before. Otherwise (an event split
    /// across frames, a lone comment line) the frame's bytes are stepped through; they are
    /// only read, never copied.
    #[inline]
    pub(crate) fn advance(self, data: &[u8]) -> Self {
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

    fn stepped(from: Cursor, data: &[u8]) -> Cursor {
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
                    let mut fast = Cursor::START;
                    let mut slow = Cursor::START;
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
        let at = |data: &[u8]| Cursor::START.advance(data).at_boundary();
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
        // The LF of a CRLF split across frames is not a blank line.
        let after_cr = Cursor::START.advance(b"data: a\r");
        assert!(!after_cr.advance(b"\n").at_boundary());
        assert!(after_cr.advance(b"\n").advance(b"\n").at_boundary());
    }

    #[test]
    fn comment_text_is_encoded_as_comment_lines() {
        assert_eq!(comment_bytes(""), ":\n");
        let bytes = comment_bytes("ping");
        assert!(bytes.starts_with(b":") && bytes.ends_with(b"\n"));
        assert!(Cursor::START.advance(&bytes).at_boundary());
    }
}
