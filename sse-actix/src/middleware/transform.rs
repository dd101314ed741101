use std::{future::Ready, rc::Rc, time::Duration};

use actix_web::{
    body::{EitherBody, MessageBody},
    dev::{Service, ServiceRequest, ServiceResponse, Transform},
    Error,
};
use sse_core::middleware::SseConfig;

use super::{OverLimit, ResponseBody, SseService, SseStats};

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
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct SseMiddleware {
    inner: Rc<SseConfig>,
}

impl SseMiddleware {
    /// The defaults: heartbeats after 15 s idle, no stream limit, `Content-Encoding:
    /// identity` on SSE responses, `Accept-Encoding` removed from SSE requests, and a fresh
    /// [`SseStats`].
    pub fn new() -> Self {
        Self::default()
    }

    fn set(mut self, f: impl FnOnce(SseConfig) -> SseConfig) -> Self {
        let config = Rc::make_mut(&mut self.inner);
        *config = f(std::mem::take(config));
        self
    }

    /// Sends a heartbeat comment after `interval` without a write (default 15 s).
    ///
    /// # Panics
    ///
    /// If `interval` is zero.
    pub fn heartbeat_interval(self, interval: Duration) -> Self {
        self.set(|config| config.heartbeat_interval(interval))
    }

    /// Sends no heartbeats.
    pub fn no_heartbeat(self) -> Self {
        self.set(SseConfig::no_heartbeat)
    }

    /// The heartbeat's text, sent as `: text` (one comment line per line of `text`). The
    /// default, and an empty text, send `:\n`.
    pub fn heartbeat_text(self, text: &str) -> Self {
        self.set(|config| config.heartbeat_text(text))
    }

    /// Allows at most `max` SSE streams at once (default: no limit). A stream counts while
    /// its response body is alive; beyond the limit the [`OverLimit`] policy answers. The
    /// count is the [`SseStats`] handle's, so share one handle across workers
    /// ([`stats_handle`](Self::stats_handle)) for a server-wide limit.
    pub fn max_streams(self, max: usize) -> Self {
        self.set(|config| config.max_streams(max))
    }

    /// Removes the stream limit.
    pub fn no_max_streams(self) -> Self {
        self.set(SseConfig::no_max_streams)
    }

    /// How to answer beyond the stream limit (default [`OverLimit::ServiceUnavailable`]).
    pub fn over_limit(self, policy: OverLimit) -> Self {
        self.set(|config| config.over_limit(policy))
    }

    /// The delay offered to clients turned away by the stream limit (default 5 s): in
    /// `Retry-After` (whole seconds, rounded up) or as the base of the `retry:` field.
    pub fn retry_after(self, delay: Duration) -> Self {
        self.set(|config| config.retry_after(delay))
    }

    /// Whether to mark SSE responses `Content-Encoding: identity` when they carry no
    /// `Content-Encoding` (default `true`), so that an outer `Compress` leaves them alone.
    pub fn identity_encoding(self, enabled: bool) -> Self {
        self.set(|config| config.identity_encoding(enabled))
    }

    /// Whether to remove `Accept-Encoding` from requests that accept `text/event-stream`
    /// (default `true`), so that a `Compress` registered before this middleware (inside it)
    /// chooses no encoding for them.
    pub fn strip_accept_encoding(self, enabled: bool) -> Self {
        self.set(|config| config.strip_accept_encoding(enabled))
    }

    /// Counts into `stats` instead of this middleware's own counters: give every worker's
    /// middleware a clone of one handle, created outside `HttpServer::new`, to read the
    /// counts of the whole server and to make [`max_streams`](Self::max_streams) a
    /// server-wide limit.
    pub fn stats_handle(self, stats: SseStats) -> Self {
        self.set(|config| config.stats_handle(stats))
    }

    /// A handle on the stream counters this middleware counts into.
    #[must_use]
    pub fn stats(&self) -> SseStats {
        self.inner.stats()
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
