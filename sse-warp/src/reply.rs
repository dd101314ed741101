//! [`reply`] and [`Sse`]: a stream of events as a warp reply.

use std::fmt;

use futures_core::Stream;
use http_body_util::BodyDataStream;
use sse_core::{SseStream, TryEvent};
use sse_tower::SseBody;
use sync_wrapper::SyncStream;
use warp::reply::{Reply, Response};

/// Replies with a stream of [`Event`](crate::Event)s, or of `Result<Event, E>`, as `text/event-stream`,
/// with no heartbeat and no leading `retry:`; use [`Sse`] to set those.
///
/// The stream needs to be `Send` but not `Sync`. See [`Sse`] for the headers and what an
/// error item does.
///
/// ```
/// use futures_util::stream;
/// use sse_warp::Event;
/// use warp::Filter;
///
/// let route = warp::path("events")
///     .map(|| sse_warp::reply(stream::iter([Event::data("hello")])));
/// # drop(route);
/// ```
pub fn reply<S>(stream: S) -> impl Reply
where
    S: Stream + Send + 'static,
    S::Item: TryEvent,
    <S::Item as TryEvent>::Error: fmt::Display + Send + 'static,
{
    Sse::new(stream)
}

/// An SSE reply with options: [`reply`] with a heartbeat, a leading `retry:`, a shutdown
/// signal or a chunk size.
///
/// The response carries the toolkit's headers ([`sse_core::headers`]): `Content-Type:
/// text/event-stream`, `Cache-Control: no-cache, no-transform` and `X-Accel-Buffering: no`
/// (nginx), with or without [`SseLayer`](crate::SseLayer), and no `Content-Length`. Events that are ready together are written as one chunk. The stream
/// needs to be `Send`; warp's `Sync` requirement is met inside (behind an exclusive-access
/// wrapper), so a stream holding a non-`Sync` value works.
///
/// # Errors in the stream
///
/// An `Err(e)` item ends the response: the events before it are sent whole, `e` is logged
/// (with `tracing`, at `warn`), and the body ends normally, so the client sees a finished
/// stream and reconnects with its `Last-Event-ID`. Nothing after the error is polled.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use futures_util::stream;
/// use sse_warp::{Event, Heartbeat, Sse};
/// use warp::Filter;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let route = warp::path("events").map(|| {
///     Sse::new(stream::iter([Event::data("hello")]))
///         .heartbeat(Heartbeat::every(Duration::from_secs(20)))
///         .retry(Duration::from_secs(3))
/// });
///
/// let response = warp::test::request().path("/events").reply(&route).await;
/// assert_eq!(response.headers()["content-type"], "text/event-stream");
/// assert_eq!(response.body(), "retry: 3000\n\ndata: hello\n\n");
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
    /// Serves `stream` with no heartbeat, no leading `retry:` and no shutdown signal (what
    /// [`reply`] does).
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

impl<S> Reply for Sse<S>
where
    S: Stream + Send + 'static,
    S::Item: TryEvent,
    <S::Item as TryEvent>::Error: fmt::Display + Send + 'static,
{
    fn into_response(self) -> Response {
        let stream = self.stream;
        // warp 0.4 builds a streaming body only through `reply::stream` (its `Body`
        // constructors are crate-private), and wants the stream `Sync`. `SseBody` applies the
        // toolkit's error policy; its error type is `Infallible`.
        let chunks = SyncStream::new(BodyDataStream::new(SseBody::new(stream)));
        let mut response = warp::reply::stream(chunks).into_response();
        *response.headers_mut() = sse_tower::response_headers();
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    use sse_core::{CancellationToken, Event, Heartbeat};
    use std::cell::Cell;
    use std::convert::Infallible;

    use bytes::Bytes;
    use futures_util::{stream, StreamExt};
    use http::header::{CACHE_CONTROL, CONTENT_TYPE};
    use http::{Request, StatusCode};
    use http_body_util::{BodyExt, Empty};
    use sse_tower::SseLayer;
    use tower::{ServiceBuilder, ServiceExt};
    use tower_http::compression::CompressionLayer;
    use warp::Filter;

    async fn collect(reply: impl Reply) -> (http::response::Parts, String) {
        let (parts, body) = reply.into_response().into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        (parts, String::from_utf8(bytes.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn events_are_served_with_sse_headers() {
        let (parts, body) = collect(reply(stream::iter([
            Event::data("one"),
            Event::data("two"),
        ])))
        .await;
        assert_eq!(parts.status, StatusCode::OK);
        assert_eq!(parts.headers.len(), 3);
        assert_eq!(parts.headers[CONTENT_TYPE], "text/event-stream");
        assert_eq!(parts.headers[CACHE_CONTROL], "no-cache, no-transform");
        assert_eq!(parts.headers["x-accel-buffering"], "no");
        assert_eq!(body, "data: one\n\ndata: two\n\n");
    }

    #[tokio::test]
    async fn leading_space_empty_data_and_cr_are_encoded_exactly() {
        let events = [
            Event::data(" leading"),
            Event::data(""),
            Event::data("a\rb\r\nc"),
        ];
        let (_, body) = collect(reply(stream::iter(events))).await;
        assert_eq!(
            body,
            "data:  leading\n\ndata:\n\ndata: a\ndata: b\ndata: c\n\n"
        );
    }

    #[tokio::test]
    async fn retry_is_written_first() {
        let sse = Sse::new(stream::iter([Event::data("x")])).retry(Duration::from_millis(1500));
        assert_eq!(collect(sse).await.1, "retry: 1500\n\ndata: x\n\n");
    }

    #[tokio::test]
    async fn error_item_ends_the_body_cleanly_after_earlier_events() {
        let items: Vec<Result<Event, &str>> = vec![
            Ok(Event::data("before")),
            Err("boom"),
            Ok(Event::data("after")),
        ];
        assert_eq!(
            collect(reply(stream::iter(items))).await.1,
            "data: before\n\n"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn heartbeat_comes_after_the_idle_interval() {
        let events = stream::iter([Event::data("x")]).chain(stream::pending());
        let sse = Sse::new(events).heartbeat(Heartbeat::every(Duration::from_secs(5)).text("ka"));
        let mut body = sse.into_response().into_body();
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
        let sse = Sse::new(stream::pending::<Event>())
            .shutdown(token.clone(), Some(Event::retry(Duration::from_secs(3))));
        let response = sse.into_response();
        token.cancel();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body, "retry: 3000\n\n");
    }

    #[tokio::test]
    async fn a_stream_that_is_not_sync_is_served() {
        // `Cell` is `Send` but not `Sync`.
        let flag = Cell::new(true);
        let events = stream::iter([Event::data("x")]).map(move |event| {
            flag.set(false);
            event
        });
        assert_eq!(collect(reply(events)).await.1, "data: x\n\n");
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

    /// Why the docs keep SSE routes outside `.with(compression)`: warp's filter compresses
    /// an event stream like anything else (a canary for a future warp that stops doing so).
    #[tokio::test]
    async fn warp_compression_would_compress_sse() {
        let route = warp::any()
            .map(|| reply(stream::iter([Event::data("hi")])))
            .with(warp::compression::gzip());
        let response = warp::test::request()
            .header("accept-encoding", "gzip")
            .reply(&route)
            .await;
        assert_eq!(response.headers()["content-encoding"], "gzip");
        assert_ne!(response.body().as_ref(), b"data: hi\n\n");
    }

    /// The tower setup: `warp::service(filter)` behind `SseLayer` and tower-http's
    /// compression: the SSE route is not compressed and its headers appear once, while
    /// another route is compressed.
    #[tokio::test]
    async fn under_sse_layer_and_tower_compression() {
        let events = warp::path("events")
            .map(|| reply(stream::iter([Ok::<_, Infallible>(Event::data("hi"))])));
        let json = warp::path("json").map(|| {
            warp::reply::with_header(
                "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19]".repeat(8),
                "content-type",
                "application/json",
            )
        });
        let service = ServiceBuilder::new()
            .layer(CompressionLayer::new())
            .layer(SseLayer::new())
            .service(warp::service(events.or(json)));
        let request = |path: &str| {
            Request::get(path)
                .header("accept-encoding", "gzip")
                .body(Empty::<Bytes>::new())
                .unwrap()
        };

        let response = service.clone().oneshot(request("/events")).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        for name in ["content-type", "cache-control", "x-accel-buffering"] {
            assert_eq!(response.headers().get_all(name).iter().count(), 1, "{name}");
        }
        assert_eq!(
            response
                .headers()
                .get("content-encoding")
                .map_or("identity", |v| v.to_str().unwrap()),
            "identity"
        );
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body, "data: hi\n\n");

        let response = service.oneshot(request("/json")).await.unwrap();
        assert_eq!(response.headers()["content-encoding"], "gzip");
    }
}
