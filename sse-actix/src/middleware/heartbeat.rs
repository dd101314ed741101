//! [`HeartbeatBody`]: heartbeat comments injected into any SSE body, at event boundaries only.

use std::{
    fmt,
    future::Future,
    pin::Pin,
    task::{ready, Context, Poll},
    time::Duration,
};

use actix_web::body::{BodySize, MessageBody};
use bytes::Bytes;
use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};

/// The default heartbeat comment, an empty comment line.
pub(crate) const DEFAULT_COMMENT: &[u8] = b":\n";

pin_project! {
    /// A [`MessageBody`] that injects a heartbeat comment into an event stream after it has
    /// been idle for an interval, but only at an event boundary.
    ///
    /// It wraps any body that carries `text/event-stream`: this crate's
    /// [`Sse`](crate::Sse), actix-web-lab's `Sse`, or a hand-written body that sends one
    /// event in several chunks. It never copies event bytes: it remembers only whether the
    /// bytes written so far end at an event boundary (after a blank line, or after a comment
    /// line that itself started at a boundary), which the last bytes of each chunk tell, and
    /// the instant of the last write. While an event is half written no heartbeat is sent,
    /// however long the body stalls.
    ///
    /// Every chunk counts as activity, including the body's own comments, so a body that
    /// already sends keep-alives more often than the interval gets none injected. The timer
    /// is armed once; a chunk only records the time of the write, and when the timer fires
    /// early it is re-armed to the last write plus the interval.
    ///
    /// After the inner body ends (or fails) this body returns `None` forever and never sends
    /// a heartbeat again. Its size is always [`BodySize::Stream`]: heartbeats add bytes.
    ///
    /// The timer is tokio's, which actix-web's runtime provides.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// use actix_web::body::{self, BodySize, MessageBody};
    /// use sse_actix::middleware::HeartbeatBody;
    ///
    /// # #[actix_web::main] async fn main() {
    /// let body = HeartbeatBody::new("data: hello\n\n", Duration::from_secs(15)).text("ping");
    /// assert_eq!(body.size(), BodySize::Stream);
    /// assert_eq!(body::to_bytes(body).await.unwrap(), "data: hello\n\n");
    /// # }
    /// ```
    pub struct HeartbeatBody<B> {
        #[pin]
        inner: B,
        #[pin]
        sleep: Option<Sleep>,
        interval: Option<Duration>,
        comment: Bytes,
        last_write: Instant,
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

impl<B> MessageBody for HeartbeatBody<B>
where
    B: MessageBody,
{
    type Error = B::Error;

    fn size(&self) -> BodySize {
        match self.interval {
            Some(_) if !self.ended => BodySize::Stream,
            _ => self.inner.size(),
        }
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let mut this = self.project();
        if *this.ended {
            return Poll::Ready(None);
        }
        match this.inner.poll_next(cx) {
            Poll::Ready(Some(Ok(data))) => {
                if this.interval.is_some() && !data.is_empty() {
                    *this.cursor = this.cursor.advance(&data);
                    *this.last_write = Instant::now();
                }
                return Poll::Ready(Some(Ok(data)));
            }
            Poll::Ready(Some(Err(err))) => {
                *this.ended = true;
                this.sleep.set(None);
                return Poll::Ready(Some(Err(err)));
            }
            Poll::Ready(None) => {
                *this.ended = true;
                this.sleep.set(None);
                return Poll::Ready(None);
            }
            Poll::Pending => {}
        }

        // The inner body is idle. A heartbeat may only go out at an event boundary; while an
        // event is half written the timer is not even polled: the next write wakes us.
        let Some(interval) = *this.interval else {
            return Poll::Pending;
        };
        if !this.cursor.at_boundary() {
            return Poll::Pending;
        }
        if this.sleep.is_none() {
            this.sleep
                .set(Some(tokio::time::sleep_until(*this.last_write + interval)));
        }
        let mut sleep = this.sleep.as_pin_mut().expect("the timer was armed above");
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
            return Poll::Ready(Some(Ok(this.comment.clone())));
        }
    }
}

/// Where the bytes written so far end, as far as event boundaries go.
///
/// A blank line ends an event; a comment line that starts at a boundary leaves the stream at a
/// boundary. `after_cr` remembers a trailing CR, whose following LF belongs to it (CRLF).
/// (The same state machine as sse-tower's, which this crate does not depend on.)
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
    /// When `data` ends with a blank line (the common case: a chunk holds whole events), its
    /// last two or three bytes decide, whatever came before. Otherwise (an event split across
    /// chunks, a lone comment line) the chunk's bytes are stepped through; they are only
    /// read, never copied.
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
        data.iter().fold(self, |cursor, &byte| cursor.step(byte))
    }

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
        b"data: a\n: inside\n",
        b"event: x\ndata: a\r\ndata: b\r\n\r\n:\n",
        b"data: a\r\n\r",
        b"data: half",
        b"::\n\n\n",
        b"id: 1\rdata: x\r\r: c\r",
    ];

    #[test]
    fn fast_path_agrees_with_stepping_for_every_split() {
        for stream in STREAMS {
            for i in 0..=stream.len() {
                for j in i..=stream.len() {
                    let mut fast = Cursor::START;
                    let mut slow = Cursor::START;
                    for chunk in [&stream[..i], &stream[i..j], &stream[j..]] {
                        fast = fast.advance(chunk);
                        slow = stepped(slow, chunk);
                        assert_eq!(fast, slow, "{stream:?} split at {i}/{j}");
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
        assert!(!at(b"data: a\n"));
        assert!(!at(b"data: a"));
        assert!(!at(b": unterminated comment"));
        assert!(!at(b"data: a\n: inside\n"));
        let after_cr = Cursor::START.advance(b"data: a\r");
        assert!(!after_cr.advance(b"\n").at_boundary());
        assert!(after_cr.advance(b"\n").advance(b"\n").at_boundary());
    }

    #[test]
    fn comment_text_is_encoded_as_comment_lines() {
        assert_eq!(comment_bytes(""), ":\n");
        let bytes = comment_bytes("ping");
        assert_eq!(bytes, ": ping\n");
        assert!(Cursor::START.advance(&bytes).at_boundary());
    }
}
