use std::rc::Rc;

use actix_web::{
    body::{EitherBody, MessageBody},
    dev::{Service, ServiceRequest, ServiceResponse},
    http::header,
    Error,
};
use sse_core::SseConfig;

use super::{ResponseBody, ResponseFuture};

/// The service [`SseMiddleware`](super::SseMiddleware) wraps around the app's services; see
/// the [module docs](super).
pub struct SseService<S> {
    service: S,
    inner: Rc<SseConfig>,
}

impl<S> SseService<S> {
    pub(crate) fn new(service: S, inner: Rc<SseConfig>) -> Self {
        Self { service, inner }
    }
}

impl<S> std::fmt::Debug for SseService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SseService")
            .field("service", &std::any::type_name::<S>())
            .field("config", &self.inner)
            .finish()
    }
}

impl<S, B> Service<ServiceRequest> for SseService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    type Response = ServiceResponse<EitherBody<ResponseBody<B>>>;
    type Error = Error;
    type Future = ResponseFuture<S::Future, B>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, mut req: ServiceRequest) -> Self::Future {
        let accept = req.headers().get_all(header::ACCEPT);
        if (self.inner).strips_accept_encoding(accept.filter_map(|v| v.to_str().ok())) {
            req.headers_mut().remove(header::ACCEPT_ENCODING);
        }
        ResponseFuture::new(self.service.call(req), Rc::clone(&self.inner))
    }
}
