use std::{
    fmt,
    pin::Pin,
    task::{Context, Poll},
};

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Response, StatusCode, Version};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use sse_core::__private::{apply_middleware_policy, is_compressed, ConnectionHeaders, StreamGuard};
use sse_core::{headers, SseConfig};

use super::{HeartbeatBody, OverLimit};

pin_project! {
    /// Response body of [`SseService`](super::SseService).
    ///
    /// For an SSE response it is the handler's body with heartbeats (see [`HeartbeatBody`])
    /// holding the stream's permit until it is dropped; for any other response it is the
    /// handler's body untouched.
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
        Full {
            data: Option<Bytes>,
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

    fn full(data: Option<Bytes>) -> Self {
        Self {
            inner: Kind::Full { data },
        }
    }
}

impl<B> fmt::Debug for ResponseBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.inner {
            Kind::Passthrough { .. } => "Passthrough",
            Kind::Sse { .. } => "Sse",
            Kind::Full { .. } => "Full",
        };
        f.debug_struct("ResponseBody")
            .field("kind", &kind)
            .field("inner", &format_args!("{}", std::any::type_name::<B>()))
            .finish()
    }
}

impl<B> Body for ResponseBody<B>
where
    B: Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.project().inner.project() {
            KindProj::Passthrough { body } => body.poll_frame(cx),
            KindProj::Sse { body, guard } => {
                guard.before_poll();
                let polled = body.poll_frame_with(cx, || guard.on_heartbeat());
                guard.after_poll(&polled, |frame| frame.data_ref().map_or(0, Bytes::len));
                polled
            }
            KindProj::Full { data } => Poll::Ready(data.take().map(|data| Ok(Frame::data(data)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.inner {
            Kind::Passthrough { body } => body.is_end_stream(),
            Kind::Sse { body, .. } => body.is_end_stream(),
            Kind::Full { data } => data.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            Kind::Passthrough { body } => body.size_hint(),
            Kind::Sse { body, .. } => body.size_hint(),
            Kind::Full { data } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |data| data.len() as u64))
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

/// Turns the handler's response into ours.
pub(crate) fn respond<B>(
    config: &SseConfig,
    version: Version,
    res: Response<B>,
) -> Response<ResponseBody<B>> {
    if res.status() != StatusCode::OK || !is_event_stream(res.headers()) {
        return res.map(ResponseBody::passthrough);
    }
    let Some(guard) = config.open_stream() else {
        // Over the limit: the handler's stream is dropped here, unpolled.
        drop(res);
        return over_limit(config, version);
    };
    let (mut parts, body) = res.into_parts();
    set_sse_headers(&mut parts.headers, version, config.get_identity_encoding());
    let content_encoding = parts.headers.get(header::CONTENT_ENCODING);
    let compressed = is_compressed(content_encoding.map(HeaderValue::as_bytes));
    if compressed {
        tracing::warn!(
            ?content_encoding,
            "SSE response is already compressed; no heartbeats. Place the compression layer outside SseLayer"
        );
    }
    let body = HeartbeatBody::with_timer(body, config.heartbeat_timer(compressed));
    Response::from_parts(parts, ResponseBody::sse(body, guard))
}

/// The headers every SSE response gets: sse-core's one policy, with the connection headers
/// of `version`.
fn set_sse_headers(headers: &mut HeaderMap, version: Version, identity_encoding: bool) {
    let connection = if version >= Version::HTTP_2 {
        ConnectionHeaders::Forbidden
    } else {
        ConnectionHeaders::KeepAlive
    };
    apply_middleware_policy(headers, connection, identity_encoding);
}

/// The answer beyond the stream limit.
fn over_limit<B>(config: &SseConfig, version: Version) -> Response<ResponseBody<B>> {
    if config.get_over_limit() == OverLimit::RetryLater {
        let body = ResponseBody::full(Some(config.retry_later_body()));
        let mut res = Response::new(body);
        set_sse_headers(res.headers_mut(), version, config.get_identity_encoding());
        return res;
    }
    // `OverLimit::ServiceUnavailable`, the default.
    let mut res = Response::new(ResponseBody::full(None));
    *res.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    res.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(config.retry_after_secs()),
    );
    res
}
