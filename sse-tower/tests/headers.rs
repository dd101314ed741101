//! SSE response headers on the wire, over HTTP/1.1 and HTTP/2.

mod support;

use std::time::Duration;

use axum::{response::IntoResponse, routing::get, Router};
use bytes::{Bytes, BytesMut};
use futures_util::stream;
use http::{header, StatusCode, Version};
use sse_tower::{Heartbeat, SseConfig, SseLayer};
use support::{get_h1, get_h2, read_event, read_until, serve, sse_response};

async fn events() -> impl IntoResponse {
    let first = stream::iter([Bytes::from_static(b"data: one\n\n")]);
    let mut res = sse_response(futures_util::StreamExt::chain(first, stream::pending()));
    // A handler that sets connection headers and a length; the layer must fix them.
    res.headers_mut()
        .insert(header::CONNECTION, "keep-alive".parse().unwrap());
    res
}

async fn json() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        "{\"ok\":true}",
    )
}

fn app(layer: SseLayer) -> Router {
    Router::new()
        .route("/events", get(events))
        .route("/json", get(json))
        .layer(layer)
}

#[tokio::test]
async fn http1_sse_response_has_sse_headers() {
    let addr = serve(app(SseLayer::new())).await;
    let res = get_h1(addr, "/events", &[("accept", "text/event-stream")]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.version(), Version::HTTP_11);
    let h = res.headers();
    assert_eq!(h[header::CONTENT_TYPE], "text/event-stream");
    assert_eq!(h[header::CACHE_CONTROL], "no-cache, no-transform");
    assert_eq!(h["x-accel-buffering"], "no");
    assert_eq!(h[header::CONNECTION], "keep-alive");
    assert!(h.get(header::CONTENT_LENGTH).is_none());
    assert_eq!(h[header::TRANSFER_ENCODING], "chunked");
    let mut body = res.into_body();
    assert_eq!(
        read_event(&mut body, &mut BytesMut::new()).await,
        "data: one\n\n"
    );
}

#[tokio::test]
async fn http2_sse_response_has_no_connection_specific_header() {
    let addr = serve(app(SseLayer::new())).await;
    let res = get_h2(addr, "/events", &[("accept", "text/event-stream")]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.version(), Version::HTTP_2);
    let h = res.headers();
    for name in [
        "connection",
        "keep-alive",
        "transfer-encoding",
        "upgrade",
        "proxy-connection",
    ] {
        assert!(h.get(name).is_none(), "{name} on HTTP/2");
    }
    assert_eq!(h[header::CACHE_CONTROL], "no-cache, no-transform");
    assert_eq!(h["x-accel-buffering"], "no");
    assert!(h.get(header::CONTENT_LENGTH).is_none());
    let mut body = res.into_body();
    assert_eq!(
        read_event(&mut body, &mut BytesMut::new()).await,
        "data: one\n\n"
    );
}

#[tokio::test]
async fn handler_cache_control_is_kept_and_other_routes_are_untouched() {
    async fn own_cache_control() -> impl IntoResponse {
        let mut res = sse_response(stream::iter([Bytes::from_static(b"data: x\n\n")]));
        res.headers_mut()
            .insert(header::CACHE_CONTROL, "no-store".parse().unwrap());
        res
    }
    let app = Router::new()
        .route("/own", get(own_cache_control))
        .route("/json", get(json))
        .layer(SseLayer::new());
    let addr = serve(app).await;

    let res = get_h1(addr, "/own", &[]).await;
    assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");

    let res = get_h1(addr, "/json", &[]).await;
    assert!(res.headers().get(header::CACHE_CONTROL).is_none());
    assert!(res.headers().get("x-accel-buffering").is_none());
    assert_eq!(res.headers()[header::CONTENT_LENGTH], "11");
}

#[tokio::test]
async fn heartbeat_arrives_on_the_wire_after_idle() {
    let addr = serve(app(SseLayer::from(
        SseConfig::new().heartbeat(Heartbeat::every(Duration::from_millis(50))),
    )))
    .await;
    let res = get_h1(addr, "/events", &[]).await;
    let mut body = res.into_body();
    let mut buf = BytesMut::new();
    assert_eq!(read_event(&mut body, &mut buf).await, "data: one\n\n");
    assert_eq!(read_until(&mut body, &mut buf, b"\n").await, ":\n");
    assert_eq!(read_until(&mut body, &mut buf, b"\n").await, ":\n");
}
