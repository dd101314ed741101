use std::{future::Ready, rc::Rc};

use actix_web::{
    body::{EitherBody, MessageBody},
    dev::{Service, ServiceRequest, ServiceResponse, Transform},
    Error,
};
use sse_core::SseConfig;

use super::{ResponseBody, SseService, SseStats};

/// Middleware for Server-Sent Events responses, the actix-web twin of sse-tower's
/// `SseLayer`: SSE headers, no compression, heartbeats at event boundaries, a stream limit
/// and stream counters. See the [module docs](super) for what it does and where to
/// register it.
///
/// The middleware is an [`SseConfig`], the configuration every framework's SSE middleware
/// shares: build one with its setters, then `App::wrap(SseMiddleware::from(config))`. The
/// configuration lives in an `Rc`, as actix-web's own middleware keep theirs: each worker
/// builds its own app. Clones of one `SseConfig` share one [`SseStats`] handle, so a config
/// built outside `HttpServer::new` counts (and limits) the streams of the whole server.
///
/// ```
/// use std::time::Duration;
/// use actix_web::{middleware::Compress, App};
/// use sse_actix::{middleware::SseMiddleware, Heartbeat, SseConfig};
///
/// let config = SseConfig::new().heartbeat(Heartbeat::every(Duration::from_secs(20)));
/// let app = App::new()
///     // Registered last, so Compress runs first and sees the final headers.
///     .wrap(SseMiddleware::from(config))
///     .wrap(Compress::default());
/// # drop(app);
/// ```
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct SseMiddleware {
    config: Rc<SseConfig>,
}

impl SseMiddleware {
    /// The defaults of [`SseConfig::new`]: heartbeats after 15 s idle, no stream limit,
    /// `Content-Encoding: identity` on SSE responses, `Accept-Encoding` removed from SSE
    /// requests, and a fresh [`SseStats`].
    pub fn new() -> Self {
        Self::default()
    }

    /// The configuration this middleware applies.
    pub fn config(&self) -> &SseConfig {
        &self.config
    }

    /// A handle on the stream counters this middleware counts into.
    #[must_use]
    pub fn stats(&self) -> SseStats {
        self.config.stats()
    }
}

impl From<SseConfig> for SseMiddleware {
    fn from(config: SseConfig) -> Self {
        Self {
            config: Rc::new(config),
        }
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
        std::future::ready(Ok(SseService::new(service, Rc::clone(&self.config))))
    }
}
