//! Heartbeats: what an idle event stream writes so that proxies and clients don't time it
//! out, and (with the `tokio` feature) the timer that decides when, shared by every body
//! that writes them.
//!
//! A heartbeat is only ever written at an event boundary ([`EventBoundary`]), never inside
//! a half-written event, and only after the stream has been idle for the interval.
//! [`HeartbeatTimer`] holds that logic for one stream; the [`ticker`] wakes every stream of a
//! runtime and interval from one task, so there is no timer per stream.

mod boundary;
#[cfg(feature = "tokio")]
mod ticker;
#[cfg(feature = "tokio")]
mod timer;

use std::time::Duration;

use crate::Event;

pub use self::boundary::EventBoundary;
#[cfg(feature = "tokio")]
pub use self::timer::HeartbeatTimer;

/// The default idle time before a heartbeat: 15 seconds, as the HTML standard suggests.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(15);

/// A stream's heartbeat: after `interval` without a write (15 s by default), it writes a
/// comment (`:\n` by default), a comment with a text, or an event for clients that can't see
/// comments.
///
/// The responders' `heartbeat` option and [`SseConfig::heartbeat`](crate::SseConfig::heartbeat)
/// (the middleware's, which injects heartbeats into any SSE body) both take one.
///
/// ```
/// use std::time::Duration;
/// use sse_core::{Event, Heartbeat};
///
/// let heartbeat = Heartbeat::every(Duration::from_secs(5)).text("ping");
/// assert_eq!(heartbeat.get_interval(), Duration::from_secs(5));
/// assert_eq!(heartbeat.as_event().as_bytes().as_ref(), b": ping\n");
///
/// let as_event = Heartbeat::new().event(Event::builder().event("ping").data("").build()?);
/// assert_eq!(as_event.as_event().as_bytes().as_ref(), b"event: ping\ndata:\n\n");
/// # Ok::<(), sse_core::EventError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct Heartbeat {
    interval: Duration,
    event: Event,
}

impl Default for Heartbeat {
    fn default() -> Self {
        Self::new()
    }
}

impl Heartbeat {
    /// A comment `:\n` after 15 s without a write.
    pub fn new() -> Self {
        Self {
            interval: DEFAULT_INTERVAL,
            event: Event::comment(""),
        }
    }

    /// A comment `:\n` after `interval` without a write.
    ///
    /// # Panics
    ///
    /// If `interval` is zero.
    pub fn every(interval: Duration) -> Self {
        Self::new().interval(interval)
    }

    /// Sets how long the stream may stay silent before a heartbeat is written.
    ///
    /// # Panics
    ///
    /// If `interval` is zero.
    pub fn interval(mut self, interval: Duration) -> Self {
        assert!(!interval.is_zero(), "heartbeat interval must not be zero");
        self.interval = interval;
        self
    }

    /// Sends a comment with this text (`: text`, one comment line per line of `text`); an
    /// empty text sends `:\n`.
    pub fn text(mut self, text: &str) -> Self {
        self.event = Event::comment(text);
        self
    }

    /// Sends this event as the heartbeat, for clients that cannot see comments.
    pub fn event(mut self, event: Event) -> Self {
        self.event = event;
        self
    }

    /// The idle time before a heartbeat.
    #[must_use]
    pub fn get_interval(&self) -> Duration {
        self.interval
    }

    /// What a heartbeat writes.
    #[must_use]
    pub fn as_event(&self) -> &Event {
        &self.event
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeat_text_is_encoded_as_comment_lines() {
        let text = |t: &str| Heartbeat::new().text(t).as_event().as_bytes().clone();
        assert_eq!(text(""), ":\n");
        let bytes = text("ping");
        assert_eq!(bytes, ": ping\n");
        assert!(EventBoundary::START.advance(&bytes).at_boundary());
    }
}
