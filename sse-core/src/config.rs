//! [`SseConfig`]: one SSE policy (heartbeats, the stream limit and its answer, compression
//! handling, the counters) written once and handed to any framework's middleware:
//! sse-tower's `SseLayer` (axum, warp, any tower stack) and sse-actix's `SseMiddleware`.

use std::time::Duration;

use bytes::Bytes;

use crate::{
    headers,
    stream_stats::{SseStats, StreamGuard},
    Event, Heartbeat,
};

/// The default retry delay offered to clients turned away by the stream limit.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);

/// What to answer when the stream limit is reached.
///
/// See the stream-limit section of the adapters' middleware docs for when to pick which.
///
/// ```
/// use sse_core::{OverLimit, SseConfig};
///
/// let config = SseConfig::new().max_streams(10_000).over_limit(OverLimit::RetryLater);
/// assert_eq!(config.get_over_limit(), OverLimit::RetryLater);
/// ```
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

/// The SSE middleware's configuration: heartbeats, the stream limit and its answer, what it
/// does about compression, and the stream counters.
///
/// A team that standardises SSE across services writes its policy once, as one
/// `SseConfig`, and hands the same value to every framework's middleware: sse-tower's
/// `SseLayer::from(config)` (axum, warp, any tower stack) and sse-actix's
/// `SseMiddleware::from(config)`. The setters and their docs live here only.
///
/// Clones share one [`SseStats`] handle, and with it the stream limit's count.
///
/// ```
/// use std::time::Duration;
/// use sse_core::{Heartbeat, OverLimit, SseConfig};
///
/// let config = SseConfig::new()
///     .heartbeat(Heartbeat::every(Duration::from_secs(20)).text("ping"))
///     .max_streams(10_000)
///     .over_limit(OverLimit::RetryLater)
///     .retry_after(Duration::from_secs(3));
/// let stats = config.stats(); // live / opened / closed / rejected, shared by every clone
/// assert_eq!(stats.live(), 0);
/// assert_eq!(config.get_heartbeat().unwrap().get_interval(), Duration::from_secs(20));
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct SseConfig {
    heartbeat: Option<Heartbeat>,
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
            heartbeat: Some(Heartbeat::new()),
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

    /// Injects `heartbeat` into every SSE response body after it has been idle for the
    /// heartbeat's interval, only at event boundaries (default: the comment `:\n` after
    /// 15 s). Every write counts as activity, so a body that sends its own heartbeats more
    /// often gets none injected.
    pub fn heartbeat(mut self, heartbeat: Heartbeat) -> Self {
        self.heartbeat = Some(heartbeat);
        self
    }

    /// Sends no heartbeats.
    pub fn no_heartbeat(mut self) -> Self {
        self.heartbeat = None;
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
    /// `Content-Encoding` (default `true`), so that a compression middleware outside this one
    /// leaves them alone (see [`headers`](crate::headers) for why).
    pub fn identity_encoding(mut self, enabled: bool) -> Self {
        self.identity_encoding = enabled;
        self
    }

    /// Whether to remove `Accept-Encoding` from requests that accept `text/event-stream`
    /// (default `true`), so that a compression middleware inside this one (applied before it
    /// sees the response) chooses no encoding for them.
    pub fn strip_accept_encoding(mut self, enabled: bool) -> Self {
        self.strip_accept_encoding = enabled;
        self
    }

    /// Counts into `stats` instead of this configuration's own counters: on actix-web, give
    /// every worker's middleware a clone of one handle created outside `HttpServer::new`, to
    /// read the counts of the whole server and to make [`max_streams`](Self::max_streams) a
    /// server-wide limit.
    pub fn stats_handle(mut self, stats: SseStats) -> Self {
        self.stats = stats;
        self
    }

    /// A handle on the stream counters, shared by every clone of this configuration.
    pub fn stats(&self) -> SseStats {
        self.stats.clone()
    }

    /// The heartbeat, `None` if heartbeats are off.
    #[must_use]
    pub fn get_heartbeat(&self) -> Option<&Heartbeat> {
        self.heartbeat.as_ref()
    }

    /// The answer beyond the stream limit.
    #[must_use]
    pub fn get_over_limit(&self) -> OverLimit {
        self.over_limit
    }
}

/// What the adapters' middleware asks of the configuration; not public API.
impl SseConfig {
    /// The heartbeat timer for one SSE response body: none if the body is `compressed` (a
    /// comment can't be injected into it), else the configured heartbeat.
    #[cfg(feature = "tokio")]
    #[doc(hidden)]
    #[must_use]
    pub fn heartbeat_timer(&self, compressed: bool) -> crate::heartbeat::HeartbeatTimer {
        crate::heartbeat::HeartbeatTimer::new(self.heartbeat.as_ref().filter(|_| !compressed))
    }

    /// Whether SSE responses get `Content-Encoding: identity`.
    #[doc(hidden)]
    #[must_use]
    pub fn get_identity_encoding(&self) -> bool {
        self.identity_encoding
    }

    /// Whether to remove `Accept-Encoding` from a request whose `Accept` header values are
    /// `accept`: the option is on and they list `text/event-stream`.
    #[doc(hidden)]
    #[must_use]
    pub fn strips_accept_encoding<'a>(&self, accept: impl IntoIterator<Item = &'a str>) -> bool {
        self.strip_accept_encoding && headers::accepts_event_stream(accept)
    }

    /// Takes a stream permit for an SSE response, unless the stream limit is reached.
    #[doc(hidden)]
    #[must_use]
    pub fn open_stream(&self) -> Option<StreamGuard> {
        self.stats.try_open(self.max_streams)
    }

    /// The `Retry-After` value of [`OverLimit::ServiceUnavailable`]: the retry delay in
    /// whole seconds, rounded up.
    #[doc(hidden)]
    #[must_use]
    pub fn retry_after_secs(&self) -> u64 {
        let delay = self.retry_after;
        delay.as_secs() + u64::from(delay.subsec_nanos() > 0)
    }

    /// The body of [`OverLimit::RetryLater`]: a `retry:` field of the retry delay plus up to
    /// 50 % random jitter, in milliseconds.
    #[doc(hidden)]
    #[must_use]
    pub fn retry_later_body(&self) -> Bytes {
        Event::retry_jittered(self.retry_after, self.retry_after / 2).into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }

    #[test]
    fn permits_follow_the_stream_limit() {
        let config = SseConfig::new().max_streams(1);
        let permit = config.open_stream().expect("under the limit");
        assert!(
            config.clone().open_stream().is_none(),
            "clones share the count"
        );
        drop(permit);
        assert!(config.open_stream().is_some());
        assert_eq!(config.stats().rejected(), 1);
    }
}
