//! [`Sse`]: the responder that turns a stream of events into an SSE response.

use std::fmt;

use axum_core::body::Body;
use axum_core::response::{IntoResponse, Response};
use futures_core::Stream;
use sse_core::{SseStream, TryEvent};
use sse_tower::SseBody;

/// An SSE response: a stream of [`Event`](crate::Event)s, or of `Result<Event, E>`, served as
/// `text/event-stream`.
///
/// The response carries the toolkit's headers ([`sse_core::headers`]): `Content-Type:
/// text/event-stream`, `Cache-Control: no-cache, no-transform` and `X-Accel-Buffering: no`
/// (nginx), with or without [`SseLayer`](crate::SseLayer), and no `Content-Length`. Events that are ready together are written as one chunk.
///
/// # Errors in the stream
///
/// An `Err(e)` item ends the response: the events before it are sent whole, `e` is logged
/// (with `tracing`, at `warn`), and the body ends normally, so the client sees a finished
/// stream and reconnects with its `Last-Event-ID`. Nothing after the error is polled.
///
/// # Example
///
/// A handler resuming after the id the client saw last (see the [crate docs](crate) for the
/// whole app):
///
/// ```
/// use std::convert::Infallible;
/// use axum::response::IntoResponse;
/// use futures_util::{stream, Stream, StreamExt};
/// use sse_axum::{sse_core::LastEventId as Id, Event, EventError, LastEventId, Sse};
///
/// async fn ticker(last: Option<LastEventId>) -> Sse<impl Stream<Item = Result<Event, EventError>>> {
///     let next = last.and_then(|id| id.parse::<u64>().ok()).map_or(0, |n| n + 1);
///     Sse::new(stream::iter(next..).map(|n| {
///         let n = n.to_string();
///         Event::builder().id(&*n).data(&*n).build()
///     }))
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let response = ticker(Some(LastEventId(Id::new("41").unwrap()))).await.into_response();
/// assert_eq!(response.headers()["content-type"], "text/event-stream");
/// let mut body = response.into_body().into_data_stream();
/// let first = body.next().await.unwrap().unwrap();
/// assert!(first.starts_with(b"id: 42\ndata: 42\n\nid: 43\n"));
/// # }
/// ```
#[must_use]
pub struct Sse<S>
where
    S: Stream,
    S::Item: TryEvent,
{
    stream: SseStream<S>,
}

impl<S> Sse<S>
where
    S: Stream,
    S::Item: TryEvent,
{
    /// Serves `stream` with no heartbeat, no leading `retry:` and no shutdown signal.
    pub fn new(stream: S) -> Self {
        Self {
            stream: SseStream::new(stream),
        }
    }
}

sse_core::__private::responder_options! {
    Sse {
        heartbeat: heartbeat,
        retry: retry,
        shutdown: shutdown,
        max_chunk: max_chunk,
    }
}

impl<S> IntoResponse for Sse<S>
where
    S: Stream + Send + 'static,
    S::Item: TryEvent,
    <S::Item as TryEvent>::Error: fmt::Display + Send + 'static,
{
    fn into_response(self) -> Response {
        let stream = self.stream;
        let mut response = Response::new(Body::new(SseBody::new(stream)));
        *response.headers_mut() = sse_tower::response_headers();
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    use sse_core::{CancellationToken, Event, Heartbeat};
    use std::convert::Infallible;

    use axum::{routing::get, Router};
    use futures_util::{stream, StreamExt};
    use http::header::{CACHE_CONTROL, CONTENT_TYPE};
    use http::{Request, StatusCode};
    use http_body_util::BodyExt;
    use sse_tower::SseLayer;
    use tower::ServiceExt;

    async fn collect(response: Response) -> String {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn events_are_served_with_sse_headers() {
        let response =
            Sse::new(stream::iter([Event::data("one"), Event::data("two")])).into_response();
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers();
        assert_eq!(headers.len(), 3);
        assert_eq!(headers[CONTENT_TYPE], "text/event-stream");
        assert_eq!(headers[CACHE_CONTROL], "no-cache, no-transform");
        assert_eq!(headers["x-accel-buffering"], "no");
        assert!(headers.get(http::header::CONTENT_LENGTH).is_none());
        assert_eq!(collect(response).await, "data: one\n\ndata: two\n\n");
    }

    #[tokio::test]
    async fn leading_space_empty_data_and_cr_are_encoded_exactly() {
        let events = [
            Event::data(" leading"),
            Event::data(""),
            Event::data("a\rb\r\nc"),
        ];
        let response = Sse::new(stream::iter(events)).into_response();
        assert_eq!(
            collect(response).await,
            "data:  leading\n\ndata:\n\ndata: a\ndata: b\ndata: c\n\n"
        );
    }

    #[tokio::test]
    async fn retry_is_written_first() {
        let response = Sse::new(stream::iter([Event::data("x")]))
            .retry(Duration::from_millis(1500))
            .into_response();
        assert_eq!(collect(response).await, "retry: 1500\n\ndata: x\n\n");
    }

    #[tokio::test]
    async fn error_item_ends_the_body_cleanly_after_earlier_events() {
        let items: Vec<Result<Event, &str>> = vec![
            Ok(Event::data("before")),
            Err("boom"),
            Ok(Event::data("after")),
        ];
        let response = Sse::new(stream::iter(items)).into_response();
        assert_eq!(collect(response).await, "data: before\n\n");
    }

    #[tokio::test(start_paused = true)]
    async fn heartbeat_comes_after_the_idle_interval() {
        let events = stream::iter([Event::data("x")]).chain(stream::pending());
        let response = Sse::new(events)
            .heartbeat(Heartbeat::every(Duration::from_secs(5)).text("ka"))
            .into_response();
        let mut body = response.into_body();
        let start = tokio::time::Instant::now();
        let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(first, "data: x\n\n");
        let heartbeat = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(heartbeat, ": ka\n");
        assert_eq!(start.elapsed(), Duration::from_secs(5));
    }

    #[tokio::test]
    async fn shutdown_writes_the_last_event_and_ends() {
        let token = CancellationToken::new();
        let response = Sse::new(stream::pending::<Event>())
            .shutdown(token.clone(), Some(Event::retry(Duration::from_secs(3))))
            .into_response();
        token.cancel();
        assert_eq!(collect(response).await, "retry: 3000\n\n");
    }

    #[test]
    fn debug_prints_the_stream_type() {
        let sse = Sse::new(stream::iter([Event::data("x")])).retry(Duration::from_secs(1));
        let debug = format!("{sse:?}");
        assert!(
            debug.starts_with("Sse { stream: futures_util::stream::iter::Iter<"),
            "{debug}"
        );
        assert!(debug.contains("retry: Some(1s)"), "{debug}");
    }

    #[tokio::test]
    async fn under_sse_layer_headers_are_not_duplicated() {
        let app = Router::new()
            .route(
                "/events",
                get(|| async { Sse::new(stream::iter([Ok::<_, Infallible>(Event::data("hi"))])) }),
            )
            .layer(SseLayer::new());
        let response = app
            .oneshot(
                Request::get("/events")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        for name in ["content-type", "cache-control", "x-accel-buffering"] {
            assert_eq!(
                response.headers().get_all(name).iter().count(),
                1,
                "{name} appears once: {:?}",
                response.headers()
            );
        }
        assert_eq!(response.headers()[CACHE_CONTROL], "no-cache, no-transform");
        assert!(response
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .is_none());
        assert_eq!(collect(response).await, "data: hi\n\n");
    }
}
