use std::{
    fmt,
    pin::Pin,
    task::{Context, Poll},
};

use actix_web::{
    body::{BodySize, BoxBody, EitherBody, MessageBody},
    dev::ServiceResponse,
    http::{
        header::{self, HeaderMap, HeaderValue},
        StatusCode,
    },
    HttpResponse,
};
use bytes::Bytes;
use pin_project_lite::pin_project;

use sse_core::__private::{
    apply_middleware_policy, is_compressed, ConnectionHeaders, HeaderMapMut, StreamGuard,
};
use sse_core::{headers, SseConfig};

use super::{HeartbeatBody, OverLimit};

pin_project! {
    /// Response body of [`SseService`](super::SseService) (the left side of its
    /// `EitherBody`; the right side carries the stream limit's answers).
    ///
    /// For an SSE response it is the handler's body with heartbeats (see
    /// [`HeartbeatBody`]), holding the stream's permit until it is dropped; for any other
    /// response it is the handler's body untouched.
    pub struct ResponseBody<B> {
        #[pin]
        inner: Kind<B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<B> {
        Passthrough {
            #[pin]
            body: B,
        },
        Sse {
            #[pin]
            body: HeartbeatBody<B>,
            guard: StreamGuard,
        },
    }
}

impl<B> ResponseBody<B> {
    fn passthrough(body: B) -> Self {
        Self {
            inner: Kind::Passthrough { body },
        }
    }

    fn sse(body: HeartbeatBody<B>, guard: StreamGuard) -> Self {
        Self {
            inner: Kind::Sse { body, guard },
        }
    }
}

impl<B> fmt::Debug for ResponseBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.inner {
            Kind::Passthrough { .. } => "Passthrough",
            Kind::Sse { .. } => "Sse",
        };
        f.debug_struct("ResponseBody")
            .field("kind", &kind)
            .field("inner", &format_args!("{}", std::any::type_name::<B>()))
            .finish()
    }
}

impl<B> MessageBody for ResponseBody<B>
where
    B: MessageBody,
{
    type Error = B::Error;

    fn size(&self) -> BodySize {
        match &self.inner {
            Kind::Passthrough { body } => body.size(),
            Kind::Sse { body, .. } => body.size(),
        }
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        match self.project().inner.project() {
            KindProj::Passthrough { body } => body.poll_next(cx),
            KindProj::Sse { body, guard } => {
                guard.before_poll();
                let polled = body.poll_next_with(cx, || guard.on_heartbeat());
                guard.after_poll(&polled, Bytes::len);
                polled
            }
        }
    }
}

fn is_event_stream(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(headers::is_event_stream)
}

/// Turns the inner service's response into ours.
pub(crate) fn respond<B>(
    config: &SseConfig,
    res: ServiceResponse<B>,
) -> ServiceResponse<EitherBody<ResponseBody<B>>> {
    if res.status() != StatusCode::OK || !is_event_stream(res.headers()) {
        return res.map_body(|_, body| EitherBody::left(ResponseBody::passthrough(body)));
    }
    let Some(guard) = config.open_stream() else {
        // Over the limit: the handler's stream is dropped here, unpolled.
        let (req, res) = res.into_parts();
        drop(res);
        return ServiceResponse::new(req, over_limit(config)).map_into_right_body();
    };
    res.map_body(|head, body| {
        let headers = head.headers_mut();
        set_sse_headers(headers, config.get_identity_encoding());
        let content_encoding = headers.get(header::CONTENT_ENCODING);
        let compressed = is_compressed(content_encoding.map(HeaderValue::as_bytes));
        if compressed {
            tracing::warn!(
                ?content_encoding,
                "SSE response is already compressed; no heartbeats. Register Compress after SseMiddleware"
            );
        }
        let body = HeartbeatBody::with_timer(body, config.heartbeat_timer(compressed));
        EitherBody::left(ResponseBody::sse(body, guard))
    })
}

/// The headers every SSE response gets: sse-core's one policy. actix writes (on HTTP/1.x)
/// or drops (on HTTP/2) the connection-specific headers itself, so they are left alone.
fn set_sse_headers(headers: &mut HeaderMap, identity_encoding: bool) {
    apply_middleware_policy(
        &mut ActixHeaders(headers),
        ConnectionHeaders::ServerManaged,
        identity_encoding,
    );
}

/// actix-web's header map, seen through sse-core's header policy (a newtype, since both the
/// trait and the map are foreign here).
struct ActixHeaders<'a>(&'a mut HeaderMap);

impl HeaderMapMut for ActixHeaders<'_> {
    fn contains(&self, name: &'static str) -> bool {
        self.0.contains_key(name)
    }

    fn insert(&mut self, name: &'static str, value: &'static str) {
        self.0.insert(
            header::HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }

    fn remove(&mut self, name: &'static str) {
        self.0.remove(name);
    }
}

/// The answer beyond the stream limit.
fn over_limit(config: &SseConfig) -> HttpResponse<BoxBody> {
    if config.get_over_limit() == OverLimit::RetryLater {
        let mut res = HttpResponse::Ok().body(config.retry_later_body());
        set_sse_headers(res.headers_mut(), config.get_identity_encoding());
        return res;
    }
    // `OverLimit::ServiceUnavailable`, the default.
    HttpResponse::ServiceUnavailable()
        .insert_header((header::RETRY_AFTER, config.retry_after_secs()))
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_headers_keep_a_handlers_cache_control_and_encoding() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("3"));
        set_sse_headers(&mut headers, true);
        assert_eq!(
            headers.get(header::CACHE_CONTROL).unwrap(),
            "no-cache, no-transform"
        );
        assert_eq!(
            headers.get(header::CONTENT_TYPE).unwrap(),
            "text/event-stream"
        );
        assert_eq!(headers.get("x-accel-buffering").unwrap(), "no");
        assert_eq!(headers.get(header::CONTENT_ENCODING).unwrap(), "identity");
        assert!(!headers.contains_key(header::CONTENT_LENGTH));

        let mut headers = HeaderMap::new();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        set_sse_headers(&mut headers, false);
        assert_eq!(headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
        assert!(!headers.contains_key(header::CONTENT_ENCODING));
    }
}
