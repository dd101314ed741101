//! The framework-free part of the SSE middleware (sse-tower's `SseLayer`, sse-actix's
//! `SseMiddleware`): its configuration [`SseConfig`], the [`OverLimit`] policy and its
//! answers, and the media-type checks that pick out SSE requests and responses.
//!
//! Each adapter keeps its own builder, whose setters forward to [`SseConfig`]'s, and applies
//! the configuration to its framework's request, response and body types.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use sse_core::middleware::{accepts_event_stream, is_event_stream, OverLimit, SseConfig};
//!
//! let config = SseConfig::new().max_streams(1).over_limit(OverLimit::RetryLater);
//! let _permit = config.open_stream().expect("under the limit");
//! assert!(config.open_stream().is_none());
//! assert!(config.retry_later_body().starts_with(b"retry: "));
//! assert_eq!(SseConfig::new().retry_after(Duration::from_millis(1500)).retry_after_secs(), 2);
//!
//! assert!(is_event_stream("Text/Event-Stream; charset=utf-8"));
//! assert!(accepts_event_stream(["text/html, text/event-stream;q=0.9"]));
//! ```

use std::time::Duration;

use bytes::Bytes;

use crate::{
    heartbeat, Event,
    stats::{SseStats, StreamGuard},
};

/// The default idle time before a heartbeat: 15 seconds.
const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(15);
/// The default retry delay offered to clients turned away by the stream limit.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);

/// The `Cache-Control` the middleware gives an SSE response that has none.
pub const CACHE_CONTROL: &str = "no-cache, no-transform";

/// What to answer when the stream limit is reached.
///
/// See the stream-limit section of the adapters' middleware docs for when to pick which.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OverLimit {
    /// `503 Service Unavailable` with `Retry-After`. Right for API clients, load balancers
    /// and proxies that honour it. A browser's `EventSource` treats it as final and does not
    /// reconnect.
    #[default]
    ServiceUnavailable,
    /// `200 OK`, `text/event-stream`, a body holding only a `retry:` field (the retry delay
    /// plus up to 50 % random jitter, in milliseconds), then the end of the stream. A
    /// browser's `EventSource` takes the stream as ended normally and reconnects after that
    /// delay, so the load spreads out instead of every client giving up.
    RetryLater,
}

/// The SSE middleware's configuration: heartbeats, the stream limit and its answer, and
/// what it does about compression. See the [module docs](crate::middleware).
///
/// Clones share one [`SseStats`] handle, and with it the stream limit's count.
#[derive(Clone, Debug)]
#[must_use]
pub struct SseConfig {
    heartbeat: Option<Duration>,
    heartbeat_comment: Bytes,
    max_streams: Option<usize>,
    over_limit: OverLimit,
    retry_after: Duration,
    identity_encoding: bool,
    strip_accept_encoding: bool,
    stats: SseStats,
}

impl Default for SseConfig {
    fn default() -> Self {
        Self {
            heartbeat: Some(DEFAULT_HEARTBEAT),
            heartbeat_comment: Bytes::from_static(heartbeat::DEFAULT_COMMENT),
            max_streams: None,
            over_limit: OverLimit::ServiceUnavailable,
            retry_after: DEFAULT_RETRY_AFTER,
            identity_encoding: true,
            strip_accept_encoding: true,
            stats: SseStats::default(),
        }
    }
}

impl SseConfig {
    /// The defaults: heartbeats after 15 s idle, no stream limit, `Content-Encoding:
    /// identity` on SSE responses, `Accept-Encoding` removed from SSE requests, and a fresh
    /// [`SseStats`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Sends a heartbeat comment after `interval` without a write (default 15 s).
    ///
    /// # Panics
    ///
    /// If `interval` is zero.
    pub fn heartbeat_interval(mut self, interval: Duration) -> Self {
        assert!(!interval.is_zero(), "heartbeat interval must not be zero");
        self.heartbeat = Some(interval);
        self
    }

    /// Sends no heartbeats.
    pub fn no_heartbeat(mut self) -> Self {
        self.heartbeat = None;
        self
    }

    /// The heartbeat's text, sent as `: text` (one comment line per line of `text`). The
    /// default, and an empty text, send `:\n`.
    pub fn heartbeat_text(mut self, text: &str) -> Self {
        self.heartbeat_comment = heartbeat::comment(text);
        self
    }

    /// Allows at most `max` SSE streams at once (default: no limit). A stream counts while
    /// its response body is alive; beyond the limit the [`OverLimit`] policy answers.
    pub fn max_streams(mut self, max: usize) -> Self {
        self.max_streams = Some(max);
        self
    }

    /// Removes the stream limit.
    pub fn no_max_streams(mut self) -> Self {
        self.max_streams = None;
        self
    }

    /// How to answer beyond the stream limit (default [`OverLimit::ServiceUnavailable`]).
    pub fn over_limit(mut self, policy: OverLimit) -> Self {
        self.over_limit = policy;
        self
    }

    /// The delay offered to clients turned away by the stream limit (default 5 s): in
    /// `Retry-After` (whole seconds, rounded up) or as the base of the `retry:` field.
    pub fn retry_after(mut self, delay: Duration) -> Self {
        self.retry_after = delay;
        self
    }

    /// Whether to mark SSE responses `Content-Encoding: identity` when they carry no
    /// `Content-Encoding` (default `true`), so that an outer compression middleware leaves
    /// them alone.
    pub fn identity_encoding(mut self, enabled: bool) -> Self {
        self.identity_encoding = enabled;
        self
    }

    /// Whether to remove `Accept-Encoding` from requests that accept `text/event-stream`
    /// (default `true`), so that a compression middleware inside this one chooses no
    /// encoding for them.
    pub fn strip_accept_encoding(mut self, enabled: bool) -> Self {
        self.strip_accept_encoding = enabled;
        self
    }

    /// Counts into `stats` instead of this configuration's own counters.
    pub fn stats_handle(mut self, stats: SseStats) -> Self {
        self.stats = stats;
        self
    }

    /// A handle on the stream counters, shared by every clone of this configuration.
    pub fn stats(&self) -> SseStats {
        self.stats.clone()
    }

    /// The heartbeat timer for one SSE response body: none if the body is `compressed` (a
    /// comment can't be injected into it), else the configured interval and comment.
    #[cfg(feature = "tokio")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    #[must_use]
    pub fn heartbeat_timer(&self, compressed: bool) -> heartbeat::HeartbeatTimer {
        let interval = self.heartbeat.filter(|_| !compressed);
        heartbeat::HeartbeatTimer::new(interval, self.heartbeat_comment.clone())
    }

    /// The answer beyond the stream limit.
    #[must_use]
    pub fn get_over_limit(&self) -> OverLimit {
        self.over_limit
    }

    /// Whether SSE responses get `Content-Encoding: identity`.
    #[must_use]
    pub fn get_identity_encoding(&self) -> bool {
        self.identity_encoding
    }

    /// Whether to remove `Accept-Encoding` from a request whose `Accept` header values are
    /// `accept`: the option is on and they list `text/event-stream`.
    #[must_use]
    pub fn strips_accept_encoding<'a>(&self, accept: impl IntoIterator<Item = &'a str>) -> bool {
        self.strip_accept_encoding && accepts_event_stream(accept)
    }

    /// Takes a stream permit for an SSE response, unless the stream limit is reached.
    #[must_use]
    pub fn open_stream(&self) -> Option<StreamGuard> {
        self.stats.try_open(self.max_streams)
    }

    /// The `Retry-After` value of [`OverLimit::ServiceUnavailable`]: the retry delay in
    /// whole seconds, rounded up.
    #[must_use]
    pub fn retry_after_secs(&self) -> u64 {
        let delay = self.retry_after;
        delay.as_secs() + u64::from(delay.subsec_nanos() > 0)
    }

    /// The body of [`OverLimit::RetryLater`]: a `retry:` field of the retry delay plus up to
    /// 50 % random jitter, in milliseconds.
    #[must_use]
    pub fn retry_later_body(&self) -> Bytes {
        Event::retry_jittered(self.retry_after, self.retry_after / 2).into_bytes()
    }
}

/// Whether a `Content-Encoding` value means the body is compressed (anything but
/// `identity`).
#[must_use]
pub fn is_compressed(content_encoding: Option<&[u8]>) -> bool {
    content_encoding.is_some_and(|value| !value.eq_ignore_ascii_case(b"identity"))
}

/// Whether one media type (`text/event-stream`, maybe with parameters, any case) is an event
/// stream.
#[must_use]
pub fn is_event_stream(media_type: &str) -> bool {
    let essence = media_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case(crate::CONTENT_TYPE)
}

/// Whether any of the `Accept` header values `accept` lists `text/event-stream`
/// (case-insensitive, parameters allowed).
#[must_use]
pub fn accepts_event_stream<'a>(accept: impl IntoIterator<Item = &'a str>) -> bool {
    accept
        .into_iter()
        .flat_map(|value| value.split(','))
        .any(is_event_stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_stream_media_types() {
        assert!(is_event_stream("text/event-stream"));
        assert!(is_event_stream("Text/Event-Stream; charset=utf-8"));
        assert!(is_event_stream(" text/event-stream ;charset=UTF-8"));
        assert!(!is_event_stream("text/event-streams"));
        assert!(!is_event_stream("application/json"));
    }

    #[test]
    fn accept_lists_are_searched() {
        assert!(!accepts_event_stream([]));
        assert!(!accepts_event_stream(["application/json"]));
        assert!(accepts_event_stream([
            "application/json",
            "text/html, Text/Event-Stream;q=0.9"
        ]));
    }

    #[test]
    fn over_limit_answers() {
        let config = SseConfig::new().retry_after(Duration::from_millis(1000));
        assert_eq!(config.retry_after_secs(), 1);
        for _ in 0..20 {
            let body = config.retry_later_body();
            let ms: u64 = std::str::from_utf8(&body[7..body.len() - 2])
                .unwrap()
                .parse()
                .unwrap();
            assert!((1000..=1500).contains(&ms), "{ms}");
        }
        assert!(!is_compressed(None));
        assert!(!is_compressed(Some(b"Identity")));
        assert!(is_compressed(Some(b"gzip")));
    }
}
