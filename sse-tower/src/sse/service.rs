use std::task::{Context, Poll};

use http::{header, Request, Response};
use sse_core::{LastEventId, SseConfig};
use tower_service::Service;

use super::{ResponseBody, ResponseFuture, SseLayer, SseStats};

/// Middleware for Server-Sent Events responses: see the [module docs](super).
///
/// Usually built by [`SseLayer`].
#[derive(Clone, Debug)]
pub struct SseService<S> {
    inner: S,
    config: SseConfig,
}

impl<S> SseService<S> {
    /// Wraps `inner` with `config` (see [`SseConfig`]).
    pub fn new(inner: S, config: SseConfig) -> Self {
        Self { inner, config }
    }

    /// Returns a new [`SseLayer`] with the defaults.
    pub fn layer() -> SseLayer {
        SseLayer::new()
    }

    /// A handle on the stream counters, see [`SseLayer::stats`].
    #[must_use]
    pub fn stats(&self) -> SseStats {
        self.config.stats()
    }

    /// Gets a reference to the inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Gets a mutable reference to the inner service.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Consumes `self`, returning the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<ReqBody, ResBody, S> Service<Request<ReqBody>> for SseService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let accept = req.headers().get_all(header::ACCEPT).iter();
        if self
            .config
            .strips_accept_encoding(accept.filter_map(|v| v.to_str().ok()))
        {
            req.headers_mut().remove(header::ACCEPT_ENCODING);
        }
        match LastEventId::from_request(req.headers(), req.uri().query()) {
            Ok(Some(id)) => {
                req.extensions_mut().insert(id);
            }
            Ok(None) => {}
            Err(err) => {
                tracing::debug!(error = %err, "malformed Last-Event-ID");
                req.extensions_mut().insert(err);
            }
        }
        let version = req.version();
        ResponseFuture::new(self.inner.call(req), version, self.config.clone())
    }
}
