//! Middleware for Server-Sent Events responses.
//!
//! [`SseLayer`] acts on every `200 OK` response whose `Content-Type` is `text/event-stream`
//! (parameters such as `; charset=utf-8` allowed, compared case-insensitively); other
//! responses pass through untouched. For an SSE response it:
//!
//! - applies the toolkit's header policy ([`sse_core::headers`]): `Cache-Control: no-cache,
//!   no-transform` (unless the handler set one), `X-Accel-Buffering: no` (nginx), no
//!   `Content-Length`, and `Connection: keep-alive` on HTTP/1.x, while on HTTP/2 and later it
//!   removes every connection-specific header, a handler's included;
//! - keeps compression off the stream (see [below](#compression));
//! - wraps the body in a [`HeartbeatBody`], which sends a comment after an idle interval
//!   (15 s by default), only at an event boundary;
//! - counts the stream in [`SseStats`] and, with [`SseConfig::max_streams`], limits how many
//!   run at once (see [below](#stream-limit)).
//!
//! For every request it also reads the `Last-Event-ID` header, or the `lastEventId` query
//! parameter that EventSource polyfills send, into the request extensions: a
//! [`sse_core::LastEventId`] when present and valid, a [`sse_core::LastEventIdError`] when
//! malformed, so any tower-based framework can read it (in axum,
//! `Option<Extension<LastEventId>>`).
//!
//! # Example
//!
//! ```no_run
//! use std::{convert::Infallible, time::Duration};
//! use axum::{body::Body, routing::get, Router};
//! use bytes::Bytes;
//! use futures_util::stream;
//! use sse_core::{Heartbeat, OverLimit, SseConfig};
//! use sse_tower::{SseBody, SseLayer};
//! use tower_http::compression::CompressionLayer;
//!
//! async fn feed() -> axum::response::Response {
//!     let events = stream::iter([Ok::<_, Infallible>(Bytes::from("data: hello\n\n"))]);
//!     axum::response::Response::builder()
//!         .header("content-type", "text/event-stream")
//!         .body(Body::new(SseBody::new(events)))
//!         .unwrap()
//! }
//!
//! # #[tokio::main] async fn main() {
//! let sse = SseLayer::from(
//!     SseConfig::new()
//!         .heartbeat(Heartbeat::every(Duration::from_secs(20)))
//!         .max_streams(10_000)
//!         .over_limit(OverLimit::RetryLater),
//! );
//! let stats = sse.stats();
//!
//! let app = Router::new()
//!     .route("/events", get(feed))
//!     // Layers added later wrap the earlier ones: compression stands outside SseLayer.
//!     .layer(sse)
//!     .layer(CompressionLayer::new());
//!
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await.unwrap();
//! axum::serve(listener, app).await.unwrap();
//! # let _ = stats.live();
//! # }
//! ```
//!
//! # Compression
//!
//! A compressor buffers its output until it has enough to compress, so a compressed event
//! stream reaches the client late or never. The layer keeps compression off SSE responses,
//! whichever side of it the compression middleware stands on:
//!
//! - **Compression outside `SseLayer` (recommended).** The compressor chooses an encoding
//!   from the request before the response is known, then asks its predicate. tower-http's
//!   default predicate skips `text/event-stream`, but a custom predicate loses that default
//!   (and it compares the content type case-sensitively). So the layer also marks SSE
//!   responses `Content-Encoding: identity` (see [`SseConfig::identity_encoding`]):
//!   tower-http's `Compression` (and actix's encoder) never compresses a response that
//!   already has a `Content-Encoding`, whatever the predicate says.
//! - **Compression inside `SseLayer`** (it wraps the handler first). The layer can't know a
//!   response will be SSE before it exists, but it can see `Accept: text/event-stream`,
//!   which `EventSource` always sends: it removes `Accept-Encoding` from those requests (see
//!   [`SseConfig::strip_accept_encoding`]), so the inner compressor chooses no encoding.
//!   A client that asks for an event stream without that `Accept` header, through a
//!   compressor whose predicate compresses SSE, still gets a compressed response, and
//!   compression cannot be undone here: the layer logs a warning and leaves that response
//!   without heartbeats (a comment injected into a compressed stream would corrupt it).
//!
//! Place the compression layer outside `SseLayer`: in axum, call `.layer(SseLayer::new())`
//! before `.layer(CompressionLayer::new())`; with `ServiceBuilder`, list compression first.
//! Other routes are compressed as before.
//!
//! # Heartbeats
//!
//! See [`HeartbeatBody`]. A heartbeat is sent only when the stream has been idle for the
//! interval and the bytes written so far end at an event boundary, so it never lands inside
//! a half-written event, even one the handler writes in several chunks. A body that sends
//! its own comments within the interval gets none injected. Turn them off with
//! [`SseConfig::no_heartbeat`].
//!
//! # Stream limit
//!
//! [`SseConfig::max_streams`] caps the SSE streams alive at once. A stream holds its permit
//! as long as its response body lives, not just while the handler runs, so the permit
//! comes back when the stream ends or the client disconnects (the server drops the body).
//!
//! The limit applies once the response is known to be SSE: the handler has run, and over
//! the limit its body is dropped unpolled. That way only real event streams count, whatever
//! the request looked like; a handler that does expensive work before returning its stream
//! should check [`SseStats::live`] itself. Beyond the limit the [`OverLimit`] policy answers:
//!
//! - [`OverLimit::ServiceUnavailable`] (the default): `503` with `Retry-After`. Pick it for
//!   API clients, other servers and load balancers, which honour `Retry-After`, and when
//!   you want the refusal visible in metrics. A browser's `EventSource` treats any
//!   non-`200` answer as final and never reconnects.
//! - [`OverLimit::RetryLater`]: `200`, `text/event-stream`, only a `retry:` field with
//!   random jitter, then the end of the stream. Pick it when browsers connect with
//!   `EventSource`: they reconnect after the jittered delay instead of giving up, and the
//!   jitter keeps them from all coming back at once.
//!
//! # Observability
//!
//! [`SseLayer::stats`] gives a cloneable [`SseStats`] with the live streams and the totals
//! opened, rejected and closed by [`CloseReason`]: `client_gone` (the body was dropped
//! before its end), `ended` (the handler's stream ended), `error`, `shutdown` (the
//! responder's shutdown signal or the hub's shutdown ended it) or `evicted_slow` (the hub
//! ended a subscriber that fell behind); and the heartbeats injected and the bytes written.
//! They are relaxed atomics, read at any time: an exporter (the demo's `GET /metrics`, with
//! `prometheus-client`) reads them at each scrape. At `debug` level the layer logs each
//! stream's opening, each rejection, and each close with its reason.

mod body;
mod future;
mod heartbeat;
mod layer;
mod service;

pub use self::{
    body::ResponseBody, future::ResponseFuture, heartbeat::HeartbeatBody, layer::SseLayer,
    service::SseService,
};
pub use sse_core::{CloseReason, Heartbeat, OverLimit, SseConfig, SseStats};

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http::{header, Request, Response, StatusCode, Version};
    use http_body::Body as _;
    use http_body_util::{BodyExt, Empty, Full};
    use sse_core::{LastEventId, LastEventIdError};
    use std::convert::Infallible;
    use tower::{service_fn, ServiceBuilder, ServiceExt};

    fn sse_response() -> Response<Full<Bytes>> {
        Response::builder()
            .header(header::CONTENT_TYPE, "text/event-stream; charset=utf-8")
            .header(header::CONTENT_LENGTH, "13")
            .body(Full::new(Bytes::from_static(b"data: hello\n\n")))
            .unwrap()
    }

    #[tokio::test]
    async fn sse_response_gets_headers_and_keeps_its_bytes() {
        let svc =
            SseLayer::new().layer_fn_helper(service_fn(|_req: Request<Empty<Bytes>>| async {
                Ok::<_, Infallible>(sse_response())
            }));
        let res = svc.oneshot(Request::new(Empty::new())).await.unwrap();
        assert_eq!(res.headers()[header::CONNECTION], "keep-alive");
        assert!(res.headers().get(header::CONTENT_LENGTH).is_none());
        assert!(res.body().size_hint().exact().is_none());
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(bytes, "data: hello\n\n");
    }

    #[tokio::test]
    async fn other_responses_pass_through_untouched() {
        let svc =
            SseLayer::new().layer_fn_helper(service_fn(|_req: Request<Empty<Bytes>>| async {
                Ok::<_, Infallible>(
                    Response::builder()
                        .header(header::CONTENT_TYPE, "application/json")
                        .body(Full::new(Bytes::from_static(b"{}")))
                        .unwrap(),
                )
            }));
        let res = svc.oneshot(Request::new(Empty::new())).await.unwrap();
        assert_eq!(res.headers().len(), 1);
        assert_eq!(res.body().size_hint().exact(), Some(2));
    }

    #[tokio::test]
    async fn h2_request_gets_no_connection_header() {
        let svc =
            SseLayer::new().layer_fn_helper(service_fn(|_req: Request<Empty<Bytes>>| async {
                let mut res = sse_response();
                res.headers_mut()
                    .insert(header::CONNECTION, "keep-alive".parse().unwrap());
                Ok::<_, Infallible>(res)
            }));
        let mut req = Request::new(Empty::new());
        *req.version_mut() = Version::HTTP_2;
        let res = svc.oneshot(req).await.unwrap();
        assert!(res.headers().get(header::CONNECTION).is_none());
        assert_eq!(res.headers()["x-accel-buffering"], "no");
    }

    #[tokio::test]
    async fn last_event_id_goes_into_request_extensions() {
        let svc = ServiceBuilder::new().layer(SseLayer::new()).service_fn(
            |req: Request<Empty<Bytes>>| async move {
                let id = req.extensions().get::<LastEventId>().cloned();
                let err = req.extensions().get::<LastEventIdError>().copied();
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(format!(
                    "{id:?} {err:?}"
                )))))
            },
        );
        let text = |res: Response<ResponseBody<Full<Bytes>>>| async move {
            String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
        };

        let req = Request::builder()
            .header("last-event-id", "42")
            .body(Empty::new())
            .unwrap();
        let res = svc.clone().oneshot(req).await.unwrap();
        assert_eq!(text(res).await, r#"Some(LastEventId("42")) None"#);

        let req = Request::builder()
            .uri("/events?topic=a&lastEventId=7")
            .body(Empty::new())
            .unwrap();
        let res = svc.clone().oneshot(req).await.unwrap();
        assert_eq!(text(res).await, r#"Some(LastEventId("7")) None"#);

        let req = Request::builder()
            .header("last-event-id", &[b'a'; 2000][..])
            .body(Empty::new())
            .unwrap();
        let res = svc.clone().oneshot(req).await.unwrap();
        assert_eq!(text(res).await, "None Some(TooLong)");

        let res = svc.oneshot(Request::new(Empty::new())).await.unwrap();
        assert_eq!(text(res).await, "None None");
    }

    #[tokio::test]
    async fn accept_encoding_is_removed_from_event_stream_requests_only() {
        let svc =
            SseLayer::new().layer_fn_helper(service_fn(|req: Request<Empty<Bytes>>| async move {
                let seen = req.headers().contains_key(header::ACCEPT_ENCODING);
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(seen.to_string()))))
            }));
        for (accept, kept) in [("text/event-stream", "false"), ("application/json", "true")] {
            let req = Request::builder()
                .header(header::ACCEPT, accept)
                .header(header::ACCEPT_ENCODING, "gzip")
                .body(Empty::new())
                .unwrap();
            let res = svc.clone().oneshot(req).await.unwrap();
            assert_eq!(res.into_body().collect().await.unwrap().to_bytes(), kept);
        }
    }

    #[tokio::test]
    async fn non_ok_status_is_not_an_event_stream() {
        let layer = SseLayer::from(SseConfig::new().max_streams(0));
        let stats = layer.stats();
        let svc = layer.layer_fn_helper(service_fn(|_req: Request<Empty<Bytes>>| async {
            let mut res = sse_response();
            *res.status_mut() = StatusCode::NO_CONTENT;
            Ok::<_, Infallible>(res)
        }));
        let res = svc.oneshot(Request::new(Empty::new())).await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_eq!(stats.rejected(), 0);
    }

    impl SseLayer {
        fn layer_fn_helper<S>(self, inner: S) -> SseService<S> {
            tower_layer::Layer::layer(&self, inner)
        }
    }
}
