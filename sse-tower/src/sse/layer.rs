use std::time::Duration;

use bytes::Bytes;
use tower_layer::Layer;

use super::{
    heartbeat::{comment_bytes, DEFAULT_COMMENT},
    SseService, SseStats,
};

/// The default idle time before a heartbeat: 15 seconds.
const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(15);
/// The default retry delay offered to clients turned away by the stream limit.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);

/// What to answer when the stream limit is reached.
///
/// See [the module docs](super#stream-limit) for when to pick which.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OverLimit {
    /// `503 Service Unavailable` with `Retry-After`. Right for API clients, load balancers and
    /// proxies that honour it. A browser's `EventSource` treats it as final and does not
    /// reconnect.
    #[default]
    ServiceUnavailable,
    /// `200 OK`, `text/event-stream`, a body holding only a `retry:` field (the retry delay
    /// plus up to 50 % random jitter, in milliseconds), then the end of the stream. A
    /// browser's `EventSource` takes the stream as ended normally and reconnects after that
    /// delay, so the load spreads out instead of every client giving up.
    RetryLater,
}

/// [`Layer`] that applies [`SseService`]: SSE headers, no compression, heartbeats at event
/// boundaries, a stream limit and `Last-Event-ID` parsing.
///
/// The layer is its configuration. Clones share one [`SseStats`] handle, and with it the
/// stream limit's count; [`SseLayer::new`] starts a fresh count.
///
/// See the [module docs](super) for what it does and where to place it.
#[derive(Clone, Debug)]
#[must_use]
pub struct SseLayer {
    pub(crate) heartbeat: Option<Duration>,
    pub(crate) heartbeat_comment: Bytes,
    pub(crate) max_streams: Option<usize>,
    pub(crate) over_limit: OverLimit,
    pub(crate) retry_after: Duration,
    pub(crate) identity_encoding: bool,
    pub(crate) strip_accept_encoding: bool,
    pub(crate) stats: SseStats,
}

impl Default for SseLayer {
    fn default() -> Self {
        Self {
            heartbeat: Some(DEFAULT_HEARTBEAT),
            heartbeat_comment: Bytes::from_static(DEFAULT_COMMENT),
            max_streams: None,
            over_limit: OverLimit::ServiceUnavailable,
            retry_after: DEFAULT_RETRY_AFTER,
            identity_encoding: true,
            strip_accept_encoding: true,
            stats: SseStats::default(),
        }
    }
}

impl SseLayer {
    /// The defaults: heartbeats after 15 s idle, no stream limit, `Content-Encoding: identity`
    /// on SSE responses and `Accept-Encoding` removed from SSE requests.
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
        self.heartbeat_comment = comment_bytes(text);
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
    /// `Content-Encoding` (default `true`). An outer compression middleware (tower-http's,
    /// actix's) never compresses a response that already has one, whatever its predicate.
    pub fn identity_encoding(mut self, enabled: bool) -> Self {
        self.identity_encoding = enabled;
        self
    }

    /// Whether to remove `Accept-Encoding` from requests that accept `text/event-stream`
    /// (default `true`), so that a compression middleware placed inside this layer chooses
    /// no encoding for them.
    pub fn strip_accept_encoding(mut self, enabled: bool) -> Self {
        self.strip_accept_encoding = enabled;
        self
    }

    /// A handle on the stream counters, shared by every clone of this layer.
    #[must_use]
    pub fn stats(&self) -> SseStats {
        self.stats.clone()
    }
}

impl<S> Layer<S> for SseLayer {
    type Service = SseService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SseService::from_layer(inner, self.clone())
    }
}
