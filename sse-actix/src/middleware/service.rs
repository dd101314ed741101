use std::rc::Rc;

use actix_web::{
    body::{EitherBody, MessageBody},
    dev::{Service, ServiceRequest, ServiceResponse},
    http::header::{self, HeaderMap},
    Error,
};

use super::{body::is_event_stream_media_type, transform::Inner, ResponseBody, ResponseFuture};

/// The service [`SseMiddleware`](super::SseMiddleware) wraps around the app's services; see
/// the [module docs](super).
pub struct SseService<S> {
    service: S,
    inner: Rc<Inner>,
}

impl<S> SseService<S> {
    pub(crate) fn new(service: S, inner: Rc<Inner>) -> Self {
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
        if self.inner.strip_accept_encoding && accepts_event_stream(req.headers()) {
            req.headers_mut().remove(header::ACCEPT_ENCODING);
        }
        ResponseFuture::new(self.service.call(req), Rc::clone(&self.inner))
    }
}

/// Whether any `Accept` header lists `text/event-stream` (case-insensitive, parameters
/// allowed).
fn accepts_event_stream(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(is_event_stream_media_type)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    #[test]
    fn accept_lists_are_searched() {
        let mut headers = HeaderMap::new();
        assert!(!accepts_event_stream(&headers));
        headers.append(header::ACCEPT, HeaderValue::from_static("application/json"));
        assert!(!accepts_event_stream(&headers));
        headers.append(
            header::ACCEPT,
            HeaderValue::from_static("text/html, Text/Event-Stream;q=0.9"),
        );
        assert!(accepts_event_stream(&headers));
    }
}
