use std::{
    task::{Context, Poll},
    time::Duration,
};

use http::{header, Request, Response};
use sse_core::LastEventId;
use tower_service::Service;

use super::{OverLimit, ResponseBody, ResponseFuture, SseLayer, SseStats};

/// Middleware for Server-Sent Events responses: see the [module docs](super).
///
/// Usually built by [`SseLayer`]; the setters here are the layer's.
#[derive(Clone, Debug)]
pub struct SseService<S> {
    inner: S,
    config: SseLayer,
}

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty)?);)*) => {
        $(
            $(#[$doc])*
            #[must_use]
            pub fn $name(mut self $(, $arg: $ty)?) -> Self {
                self.config = self.config.$name($($arg)?);
                self
            }
        )*
    };
}

impl<S> SseService<S> {
    /// Wraps `inner` with the default configuration ([`SseLayer::new`]).
    pub fn new(inner: S) -> Self {
        Self::from_layer(inner, SseLayer::new())
    }

    pub(crate) fn from_layer(inner: S, config: SseLayer) -> Self {
        Self { inner, config }
    }

    /// Returns a new [`SseLayer`] with the defaults.
    pub fn layer() -> SseLayer {
        SseLayer::new()
    }

    setters! {
        /// See [`SseLayer::heartbeat_interval`].
        ///
        /// # Panics
        ///
        /// If `interval` is zero.
        heartbeat_interval(interval: Duration);
        /// See [`SseLayer::no_heartbeat`].
        no_heartbeat();
        /// See [`SseLayer::heartbeat_text`].
        heartbeat_text(text: &str);
        /// See [`SseLayer::max_streams`].
        max_streams(max: usize);
        /// See [`SseLayer::no_max_streams`].
        no_max_streams();
        /// See [`SseLayer::over_limit`].
        over_limit(policy: OverLimit);
        /// See [`SseLayer::retry_after`].
        retry_after(delay: Duration);
        /// See [`SseLayer::identity_encoding`].
        identity_encoding(enabled: bool);
        /// See [`SseLayer::strip_accept_encoding`].
        strip_accept_encoding(enabled: bool);
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
        if (self.config.config).strips_accept_encoding(accept.filter_map(|v| v.to_str().ok())) {
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
