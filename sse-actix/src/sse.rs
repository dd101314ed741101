//! [`Sse`]: the Server-Sent Events responder.

use std::{
    fmt,
    pin::Pin,
    task::{ready, Context, Poll},
};

use actix_web::{
    body::{BodySize, MessageBody},
    http::{
        header::{self, HeaderValue},
        StatusCode,
    },
    HttpRequest, HttpResponse, Responder,
};
use bytes::Bytes;
use futures_core::Stream;
use pin_project_lite::pin_project;
use sse_core::{SseStream, TryEvent};

pin_project! {
    /// A Server-Sent Events response: a stream of [`Event`](crate::Event)s (or `Result<Event, E>`s) served
    /// as `text/event-stream`.
    ///
    /// As a [`Responder`] it answers `200 OK` with the toolkit's headers
    /// ([`sse_core::headers`]): `Content-Type: text/event-stream`, `Cache-Control: no-cache,
    /// no-transform`, `X-Accel-Buffering: no` (so nginx doesn't buffer it) and
    /// `Content-Encoding: identity` (so actix's `Compress` middleware, wherever it stands,
    /// leaves it alone). It is also its own [`MessageBody`], of unknown size, whose chunks are
    /// the events' bytes as sse-core encoded them once: several events that are ready
    /// together go out as one chunk.
    ///
    /// An `Err` item ends the stream: the events before it are sent, the error is logged
    /// with `tracing::warn!`, and the body ends normally, so the client sees a finished
    /// stream and reconnects with its `Last-Event-ID`. The body never fails, since a failing
    /// body makes actix abort the connection.
    ///
    /// # Example
    ///
    /// ```
    /// use std::{convert::Infallible, time::Duration};
    /// use actix_web::{body, http::header, test::TestRequest, Responder};
    /// use futures_util::stream;
    /// use sse_actix::{Event, Heartbeat, Sse};
    ///
    /// # #[actix_web::main] async fn main() {
    /// let events = stream::iter([Ok::<_, Infallible>(Event::data("hello"))]);
    /// let sse = Sse::from_stream(events)
    ///     .with_retry(Duration::from_secs(3))
    ///     .with_heartbeat(Heartbeat::every(Duration::from_secs(20)));
    ///
    /// let res = sse.respond_to(&TestRequest::default().to_http_request());
    /// assert_eq!(res.headers().get(header::CONTENT_TYPE).unwrap(), "text/event-stream");
    /// let bytes = body::to_bytes(res.into_body()).await.unwrap();
    /// assert_eq!(bytes, "retry: 3000\n\ndata: hello\n\n");
    /// # }
    /// ```
    #[must_use = "a responder does nothing unless it is returned from a handler"]
    pub struct Sse<S>
    where
        S: Stream,
        S::Item: TryEvent,
    {
        #[pin]
        stream: SseStream<S>,
        done: bool,
    }
}

impl<S> Sse<S>
where
    S: Stream,
    S::Item: TryEvent,
{
    /// Serves `events`: a stream of [`Event`](crate::Event)s, of `Result<Event, E>`s, or a hub
    /// subscription. No heartbeat, no leading `retry:` and no shutdown until set.
    ///
    /// ```
    /// use futures_util::stream;
    /// use sse_actix::{Event, Sse};
    ///
    /// let sse = Sse::from_stream(stream::iter([Event::data("a"), Event::data("b")]));
    /// # drop(sse);
    /// ```
    pub fn from_stream(events: S) -> Self {
        Self {
            stream: SseStream::new(events),
            done: false,
        }
    }
}

sse_core::__private::responder_options! {
    Sse {
        heartbeat: with_heartbeat,
        retry: with_retry,
        shutdown: with_shutdown,
        max_chunk: with_max_chunk,
    }
}

impl<S> Responder for Sse<S>
where
    S: Stream + 'static,
    S::Item: TryEvent,
    <S::Item as TryEvent>::Error: fmt::Display,
{
    type Body = Self;

    fn respond_to(self, _req: &HttpRequest) -> HttpResponse<Self> {
        let mut res = HttpResponse::with_body(StatusCode::OK, self);
        let headers = res.headers_mut();
        for (name, value) in sse_core::headers::RESPONSE_HEADERS {
            headers.insert(
                header::HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        headers.insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_static("identity"),
        );
        res
    }
}

impl<S> MessageBody for Sse<S>
where
    S: Stream,
    S::Item: TryEvent,
    <S::Item as TryEvent>::Error: fmt::Display,
{
    type Error = std::convert::Infallible;

    fn size(&self) -> BodySize {
        BodySize::Stream
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        let item = sse_core::__private::end_on_error(ready!(this.stream.poll_next(cx)));
        *this.done = item.is_none();
        Poll::Ready(item.map(Ok))
    }
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;
    use std::time::Duration;

    use super::*;
    use actix_web::{body, test::TestRequest};
    use futures_util::stream;
    use sse_core::{CancellationToken, Event, Heartbeat};

    fn respond<S>(sse: Sse<S>) -> HttpResponse<Sse<S>>
    where
        S: Stream + 'static,
        S::Item: TryEvent,
        <S::Item as TryEvent>::Error: fmt::Display,
    {
        sse.respond_to(&TestRequest::default().to_http_request())
    }

    #[actix_web::test]
    async fn responder_sets_the_sse_headers() {
        let res = respond(Sse::from_stream(stream::iter([Event::data("x")])));
        assert_eq!(res.status(), StatusCode::OK);
        let headers = res.headers();
        assert_eq!(
            headers.get(header::CONTENT_TYPE).unwrap(),
            "text/event-stream"
        );
        assert_eq!(
            headers.get(header::CACHE_CONTROL).unwrap(),
            "no-cache, no-transform"
        );
        assert_eq!(headers.get("x-accel-buffering").unwrap(), "no");
        assert_eq!(headers.get(header::CONTENT_ENCODING).unwrap(), "identity");
        assert!(!headers.contains_key(header::CONTENT_LENGTH));
        assert_eq!(res.body().size(), BodySize::Stream);
    }

    #[actix_web::test]
    async fn body_is_the_encoded_events_with_retry_first() {
        let events = stream::iter([
            Event::builder()
                .event("update")
                .id("1")
                .data("two\nlines")
                .build()
                .unwrap(),
            Event::comment("c"),
        ]);
        let res = respond(Sse::from_stream(events).with_retry(Duration::from_millis(1500)));
        assert_eq!(
            body::to_bytes(res.into_body()).await.unwrap(),
            "retry: 1500\n\nevent: update\nid: 1\ndata: two\ndata: lines\n\n: c\n"
        );
    }

    #[actix_web::test]
    async fn error_item_ends_the_body_cleanly() {
        let items: Vec<Result<Event, &str>> = vec![
            Ok(Event::data("before")),
            Err("boom"),
            Ok(Event::data("after")),
        ];
        let sse = Sse::from_stream(stream::iter(items));
        let mut sse = std::pin::pin!(sse);
        let first = poll_fn(|cx| sse.as_mut().poll_next(cx)).await;
        assert_eq!(first.unwrap().unwrap(), "data: before\n\n");
        assert!(poll_fn(|cx| sse.as_mut().poll_next(cx)).await.is_none());
        assert!(poll_fn(|cx| sse.as_mut().poll_next(cx)).await.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn heartbeat_fills_silence_and_stops_at_the_end() {
        let token = CancellationToken::new();
        let sse = Sse::from_stream(stream::pending::<Event>())
            .with_heartbeat(Heartbeat::every(Duration::from_secs(10)))
            .with_shutdown(token.clone(), None);
        let mut sse = std::pin::pin!(sse);
        let start = tokio::time::Instant::now();
        let chunk = poll_fn(|cx| sse.as_mut().poll_next(cx)).await;
        assert_eq!(chunk.unwrap().unwrap(), ":\n");
        assert_eq!(start.elapsed(), Duration::from_secs(10));
        token.cancel();
        assert!(poll_fn(|cx| sse.as_mut().poll_next(cx)).await.is_none());
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(poll_fn(|cx| sse.as_mut().poll_next(cx)).await.is_none());
    }

    #[test]
    fn debug_names_the_stream_type() {
        let sse = Sse::from_stream(stream::iter([Event::data("x")]));
        assert!(format!("{sse:?}").contains("Iter"));
    }
}
