use std::{future::Ready, rc::Rc, time::Duration};

use actix_web::{
    body::{EitherBody, MessageBody},
    dev::{Service, ServiceRequest, ServiceResponse, Transform},
    Error,
};
use bytes::Bytes;

use super::{
    heartbeat::{comment_bytes, DEFAULT_COMMENT},
    ResponseBody, SseService, SseStats,
};

/// The default idle time before a heartbeat: 15 seconds.
const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(15);
/// The default retry delay offered to clients turned away by the stream limit.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);

/// What to answer when the stream limit is reached.
///
/// See [the module docs](super#stream-limit) for when to pick which.
///
/// ```
/// use sse_actix::middleware::{OverLimit, SseMiddleware};
///
/// let for_browsers = SseMiddleware::new().max_streams(5_000).over_limit(OverLimit::RetryLater);
/// # drop(for_browsers);
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

/// The middleware's configuration, shared by the services of one worker.
#[derive(Clone, Debug)]
pub(crate) struct Inner {
    pub(crate) heartbeat: Option<Duration>,
    pub(crate) heartbeat_comment: Bytes,
    pub(crate) max_streams: Option<usize>,
    pub(crate) over_limit: OverLimit,
    pub(crate) retry_after: Duration,
    pub(crate) identity_encoding: bool,
    pub(crate) strip_accept_encoding: bool,
    pub(crate) stats: SseStats,
}

/// Middleware for Server-Sent Events responses, the actix-web twin of sse-tower's
/// `SseLayer`: SSE headers, no compression, heartbeats at event boundaries, a stream limit
/// and stream counters. See the [module docs](super) for what it does and where to
/// register it.
///
/// Configure it with the builder methods, then `App::wrap` it. The configuration lives in an
/// `Rc`, as actix-web's own middleware keep theirs: each worker builds its own app.
///
/// ```
/// use std::time::Duration;
/// use actix_web::{middleware::Compress, App};
/// use sse_actix::middleware::SseMiddleware;
///
/// let app = App::new()
///     // Registered last, so Compress runs first and sees the final headers.
///     .wrap(SseMiddleware::new().heartbeat_interval(Duration::from_secs(20)))
///     .wrap(Compress::default());
/// # drop(app);
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct SseMiddleware {
    inner: Rc<Inner>,
}

impl Default for SseMiddleware {
    fn default() -> Self {
        Self {
            inner: Rc::new(Inner {
                heartbeat: Some(DEFAULT_HEARTBEAT),
                heartbeat_comment: Bytes::from_static(DEFAULT_COMMENT),
                max_streams: None,
                over_limit: OverLimit::ServiceUnavailable,
                retry_after: DEFAULT_RETRY_AFTER,
                identity_encoding: true,
                strip_accept_encoding: true,
                stats: SseStats::default(),
            }),
        }
    }
}

impl SseMiddleware {
    /// The defaults: heartbeats after 15 s idle, no stream limit, `Content-Encoding:
    /// identity` on SSE responses, `Accept-Encoding` removed from SSE requests, and a fresh
    /// [`SseStats`].
    pub fn new() -> Self {
        Self::default()
    }

    fn set(mut self, f: impl FnOnce(&mut Inner)) -> Self {
        f(Rc::make_mut(&mut self.inner));
        self
    }

    /// Sends a heartbeat comment after `interval` without a write (default 15 s).
    ///
    /// # Panics
    ///
    /// If `interval` is zero.
    pub fn heartbeat_interval(self, interval: Duration) -> Self {
        assert!(!interval.is_zero(), "heartbeat interval must not be zero");
        self.set(|inner| inner.heartbeat = Some(interval))
    }

    /// Sends no heartbeats.
    pub fn no_heartbeat(self) -> Self {
        self.set(|inner| inner.heartbeat = None)
    }

    /// The heartbeat's text, sent as `: text` (one comment line per line of `text`). The
    /// default, and an empty text, send `:\n`.
    pub fn heartbeat_text(self, text: &str) -> Self {
        let comment = comment_bytes(text);
        self.set(|inner| inner.heartbeat_comment = comment)
    }

    /// Allows at most `max` SSE streams at once (default: no limit). A stream counts while
    /// its response body is alive; beyond the limit the [`OverLimit`] policy answers. The
    /// count is the [`SseStats`] handle's, so share one handle across workers
    /// ([`stats_handle`](Self::stats_handle)) for a server-wide limit.
    pub fn max_streams(self, max: usize) -> Self {
        self.set(|inner| inner.max_streams = Some(max))
    }

    /// Removes the stream limit.
    pub fn no_max_streams(self) -> Self {
        self.set(|inner| inner.max_streams = None)
    }

    /// How to answer beyond the stream limit (default [`OverLimit::ServiceUnavailable`]).
    pub fn over_limit(self, policy: OverLimit) -> Self {
        self.set(|inner| inner.over_limit = policy)
    }

    /// The delay offered to clients turned away by the stream limit (default 5 s): in
    /// `Retry-After` (whole seconds, rounded up) or as the base of the `retry:` field.
    pub fn retry_after(self, delay: Duration) -> Self {
        self.set(|inner| inner.retry_after = delay)
    }

    /// Whether to mark SSE responses `Content-Encoding: identity` when they carry no
    /// `Content-Encoding` (default `true`), so that an outer `Compress` leaves them alone.
    pub fn identity_encoding(self, enabled: bool) -> Self {
        self.set(|inner| inner.identity_encoding = enabled)
    }

    /// Whether to remove `Accept-Encoding` from requests that accept `text/event-stream`
    /// (default `true`), so that a `Compress` registered before this middleware (inside it)
    /// chooses no encoding for them.
    pub fn strip_accept_encoding(self, enabled: bool) -> Self {
        self.set(|inner| inner.strip_accept_encoding = enabled)
    }

    /// Counts into `stats` instead of this middleware's own counters: give every worker's
    /// middleware a clone of one handle, created outside `HttpServer::new`, to read the
    /// counts of the whole server and to make [`max_streams`](Self::max_streams) a
    /// server-wide limit.
    pub fn stats_handle(self, stats: SseStats) -> Self {
        self.set(|inner| inner.stats = stats)
    }

    /// A handle on the stream counters this middleware counts into.
    #[must_use]
    pub fn stats(&self) -> SseStats {
        self.inner.stats.clone()
    }
}

impl<S, B> Transform<S, ServiceRequest> for SseMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    type Response = ServiceResponse<EitherBody<ResponseBody<B>>>;
    type Error = Error;
    type Transform = SseService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        std::future::ready(Ok(SseService::new(service, Rc::clone(&self.inner))))
    }
}
