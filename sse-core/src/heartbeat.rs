//! Heartbeats injected into an event stream at event boundaries only: the comment they
//! send, and (with the `tokio` feature) [`HeartbeatTimer`], the framework-free state machine
//! behind the adapters' `HeartbeatBody`.
//!
//! # Example
//!
//! ```
//! use sse_core::heartbeat;
//!
//! assert_eq!(heartbeat::comment(""), ":\n");
//! assert_eq!(heartbeat::comment("ping"), ": ping\n");
//! ```

use bytes::Bytes;

/// The default heartbeat comment, an empty comment line.
pub const DEFAULT_COMMENT: &[u8] = b":\n";

/// Encodes a heartbeat text as comment lines, `: text` (one comment line per line of
/// `text`); an empty text is [`DEFAULT_COMMENT`].
#[must_use]
pub fn comment(text: &str) -> Bytes {
    if text.is_empty() {
        Bytes::from_static(DEFAULT_COMMENT)
    } else {
        crate::Event::comment(text).into_bytes()
    }
}

#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use self::timer::HeartbeatTimer;

#[cfg(feature = "tokio")]
mod timer {
    use std::{
        fmt,
        future::Future,
        pin::Pin,
        task::{ready, Context, Poll},
        time::Duration,
    };

    use bytes::Bytes;
    use tokio::time::{Instant, Sleep};

    use crate::boundary::EventBoundary;

    /// When to inject a heartbeat comment into a body: after it has been idle for an
    /// interval, and only at an event boundary.
    ///
    /// A body wrapper tells it about every data chunk ([`on_data`](Self::on_data)) and the
    /// end of the body ([`on_end`](Self::on_end)), and when the inner body returns `Pending`
    /// asks it for a heartbeat ([`poll_heartbeat`](Self::poll_heartbeat)). It never copies
    /// event bytes: it remembers only the [`EventBoundary`] and the instant of the last
    /// write. While an event is half written the timer is not even polled; the next write
    /// wakes the body.
    ///
    /// Every chunk counts as activity, including the body's own comments. The timer is armed
    /// once. A chunk only sets a flag; when the inner body next returns `Pending` (the end of
    /// a burst, which is when the chunk was written) the time is read once and recorded as the
    /// last write. When the timer fires early it is re-armed to the last write plus the
    /// interval. It is allocated the first time the stream goes idle at a boundary, and freed
    /// at the end.
    ///
    /// It needs a tokio runtime with the time driver.
    ///
    /// # Example
    ///
    /// ```
    /// use std::{task::{Context, Poll}, time::Duration};
    /// use bytes::Bytes;
    /// use sse_core::heartbeat::{self, HeartbeatTimer};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let mut timer = HeartbeatTimer::new(Some(Duration::from_secs(15)), heartbeat::comment("ping"));
    /// timer.on_data(b"data: half");
    /// // In the middle of an event: no heartbeat, however long the body stalls.
    /// let beat = std::future::poll_fn(|cx| Poll::Ready(timer.poll_heartbeat(cx))).await;
    /// assert!(beat.is_pending());
    /// timer.on_data(b"\n\n");
    /// let beat = std::future::poll_fn(|cx: &mut Context<'_>| timer.poll_heartbeat(cx)).await;
    /// assert_eq!(beat, ": ping\n");
    /// # }
    /// ```
    pub struct HeartbeatTimer {
        interval: Option<Duration>,
        comment: Bytes,
        sleep: Option<Pin<Box<Sleep>>>,
        last_write: Instant,
        written: bool,
        boundary: EventBoundary,
        ended: bool,
    }

    impl HeartbeatTimer {
        /// A timer that sends `comment` after `interval` without a write; `None` sends no
        /// heartbeats (the wrapper then only passes the body through).
        pub fn new(interval: Option<Duration>, comment: Bytes) -> Self {
            Self {
                interval,
                comment,
                sleep: None,
                last_write: Instant::now(),
                written: false,
                boundary: EventBoundary::START,
                ended: false,
            }
        }

        /// A timer that sends [`DEFAULT_COMMENT`](super::DEFAULT_COMMENT) after `interval`
        /// without a write.
        ///
        /// # Panics
        ///
        /// If `interval` is zero.
        pub fn every(interval: Duration) -> Self {
            assert!(!interval.is_zero(), "heartbeat interval must not be zero");
            Self::new(Some(interval), Bytes::from_static(super::DEFAULT_COMMENT))
        }

        /// Replaces the comment sent as a heartbeat (see [`comment`](super::comment)).
        pub fn set_comment(&mut self, comment: Bytes) {
            self.comment = comment;
        }

        /// The idle time before a heartbeat, `None` if heartbeats are off.
        #[must_use]
        pub fn interval(&self) -> Option<Duration> {
            self.interval
        }

        /// Whether the body has ended (or failed): no heartbeat is ever sent again.
        #[must_use]
        pub fn is_ended(&self) -> bool {
            self.ended
        }

        /// Records a data chunk the inner body yielded.
        #[inline]
        pub fn on_data(&mut self, data: &[u8]) {
            if self.interval.is_some() && !data.is_empty() {
                self.boundary = self.boundary.advance(data);
                self.written = true;
            }
        }

        /// Records the end (or failure) of the inner body, and frees the timer.
        pub fn on_end(&mut self) {
            self.ended = true;
            self.sleep = None;
        }

        /// Called when the inner body returns `Pending`: the heartbeat to send now, if the
        /// stream is at a boundary and has been idle for the interval; else `Pending`, with a
        /// wake-up registered when a heartbeat may become due.
        pub fn poll_heartbeat(&mut self, cx: &mut Context<'_>) -> Poll<Bytes> {
            let Some(interval) = self.interval.filter(|_| !self.ended) else {
                return Poll::Pending;
            };
            if std::mem::take(&mut self.written) {
                // The chunks since the last idle poll went out just now: a burst costs one
                // clock read, when it ends, not one per chunk.
                self.last_write = Instant::now();
            }
            if !self.boundary.at_boundary() {
                return Poll::Pending;
            }
            let last_write = self.last_write;
            let sleep = self
                .sleep
                .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(last_write + interval)));
            loop {
                ready!(sleep.as_mut().poll(cx));
                let due = self.last_write + interval;
                if due > sleep.deadline() {
                    // Written to since the timer was armed: wait for the rest of the interval.
                    sleep.as_mut().reset(due);
                    continue;
                }
                let now = Instant::now();
                self.last_write = now;
                sleep.as_mut().reset(now + interval);
                self.boundary = self.boundary.advance(&self.comment);
                return Poll::Ready(self.comment.clone());
            }
        }
    }

    impl fmt::Debug for HeartbeatTimer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("HeartbeatTimer")
                .field("interval", &self.interval)
                .field("comment", &self.comment)
                .field("at_boundary", &self.boundary.at_boundary())
                .field("ended", &self.ended)
                .finish()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boundary::EventBoundary;

    #[test]
    fn comment_text_is_encoded_as_comment_lines() {
        assert_eq!(comment(""), ":\n");
        let bytes = comment("ping");
        assert_eq!(bytes, ": ping\n");
        assert!(EventBoundary::START.advance(&bytes).at_boundary());
    }

    #[cfg(feature = "tokio")]
    mod timer {
        use std::{future::poll_fn, task::Poll, time::Duration};

        use tokio::time::{advance, Instant};

        use super::super::*;

        const INTERVAL: Duration = Duration::from_secs(10);

        /// Polls once: the heartbeat if one is due now.
        async fn poll_once(timer: &mut HeartbeatTimer) -> Option<Bytes> {
            match poll_fn(|cx| Poll::Ready(timer.poll_heartbeat(cx))).await {
                Poll::Ready(beat) => Some(beat),
                Poll::Pending => None,
            }
        }

        #[tokio::test(start_paused = true)]
        async fn a_write_pushes_the_heartbeat_back_by_a_whole_interval() {
            let mut timer = HeartbeatTimer::every(INTERVAL);
            let start = Instant::now();
            assert_eq!(poll_once(&mut timer).await, None);
            advance(Duration::from_secs(6)).await;
            timer.on_data(b"data: a\n\n");
            assert_eq!(poll_once(&mut timer).await, None);
            let beat = poll_fn(|cx| timer.poll_heartbeat(cx)).await;
            assert_eq!(beat, DEFAULT_COMMENT);
            assert_eq!(start.elapsed(), Duration::from_secs(16));
            // The heartbeat counts as a write: the next one is a whole interval later.
            poll_fn(|cx| timer.poll_heartbeat(cx)).await;
            assert_eq!(start.elapsed(), Duration::from_secs(26));
        }

        #[tokio::test(start_paused = true)]
        async fn no_heartbeat_inside_an_event_when_off_or_after_the_end() {
            let mut timer = HeartbeatTimer::every(INTERVAL);
            timer.on_data(b"data: half");
            advance(INTERVAL * 3).await;
            assert_eq!(poll_once(&mut timer).await, None);
            timer.on_data(b"\n\n");
            // The body's next idle poll, right after the write, records its time.
            assert_eq!(poll_once(&mut timer).await, None);
            advance(INTERVAL).await;
            assert_eq!(
                poll_once(&mut timer).await.as_deref(),
                Some(DEFAULT_COMMENT)
            );
            timer.on_end();
            assert!(timer.is_ended());
            advance(INTERVAL * 2).await;
            assert_eq!(poll_once(&mut timer).await, None);

            let mut off = HeartbeatTimer::new(None, comment("x"));
            advance(INTERVAL * 2).await;
            assert_eq!(poll_once(&mut off).await, None);
        }
    }
}
