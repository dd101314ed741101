use std::time::Duration;

use sse_core::middleware::SseConfig;
use tower_layer::Layer;

use super::{OverLimit, SseService, SseStats};

/// [`Layer`] that applies [`SseService`]: SSE headers, no compression, heartbeats at event
/// boundaries, a stream limit and `Last-Event-ID` parsing.
///
/// The layer is its configuration. Clones share one [`SseStats`] handle, and with it the
/// stream limit's count; [`SseLayer::new`] starts a fresh count.
///
/// See the [module docs](super) for what it does and where to place it.
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct SseLayer {
    pub(crate) config: SseConfig,
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
        self.config = self.config.heartbeat_interval(interval);
        self
    }

    /// Sends no heartbeats.
    pub fn no_heartbeat(mut self) -> Self {
        self.config = self.config.no_heartbeat();
        self
    }

    /// The heartbeat's text, sent as `: text` (one comment line per line of `text`). The
    /// default, and an empty text, send `:\n`.
    pub fn heartbeat_text(mut self, text: &str) -> Self {
        self.config = self.config.heartbeat_text(text);
        self
    }

    /// Allows at most `max` SSE streams at once (default: no limit). A stream counts while
    /// its response body is alive; beyond the limit the [`OverLimit`] policy answers.
    pub fn max_streams(mut self, max: usize) -> Self {
        self.config = self.config.max_streams(max);
        self
    }

    /// Removes the stream limit.
    pub fn no_max_streams(mut self) -> Self {
        self.config = self.config.no_max_streams();
        self
    }

    /// How to answer beyond the stream limit (default [`OverLimit::ServiceUnavailable`]).
    pub fn over_limit(mut self, policy: OverLimit) -> Self {
        self.config = self.config.over_limit(policy);
        self
    }

    /// The delay offered to clients turned away by the stream limit (default 5 s): in
    /// `Retry-After` (whole seconds, rounded up) or as the base of the `retry:` field.
    pub fn retry_after(mut self, delay: Duration) -> Self {
        self.config = self.config.retry_after(delay);
        self
    }

    /// Whether to mark SSE responses `Content-Encoding: identity` when they carry no
    /// `Content-Encoding` (default `true`). An outer compression middleware (tower-http's,
    /// actix's) never compresses a response that already has one, whatever its predicate.
    pub fn identity_encoding(mut self, enabled: bool) -> Self {
        self.config = self.config.identity_encoding(enabled);
        self
    }

    /// Whether to remove `Accept-Encoding` from requests that accept `text/event-stream`
    /// (default `true`), so that a compression middleware placed inside this layer chooses
    /// no encoding for them.
    pub fn strip_accept_encoding(mut self, enabled: bool) -> Self {
        self.config = self.config.strip_accept_encoding(enabled);
        self
    }

    /// A handle on the stream counters, shared by every clone of this layer.
    #[must_use]
    pub fn stats(&self) -> SseStats {
        self.config.stats()
    }
}

impl<S> Layer<S> for SseLayer {
    type Service = SseService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SseService::from_layer(inner, self.clone())
    }
}
