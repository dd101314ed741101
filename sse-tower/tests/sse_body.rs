//! SseBody on the wire: a mid-stream error ends the HTTP/1.1 chunked response cleanly.

mod support;

use axum::{body::Body, response::Response, routing::get, Router};
use bytes::Bytes;
use futures_util::stream;
use http::header;
use sse_tower::{SseBody, SseLayer};
use support::{get_h1, read_all, serve};

async fn failing() -> Response {
    let chunks = stream::iter([
        Ok(Bytes::from_static(b"data: one\n\n")),
        Err(std::io::Error::other("upstream gone")),
        Ok(Bytes::from_static(b"data: never\n\n")),
    ]);
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .body(Body::new(SseBody::new(chunks)))
        .unwrap()
}

#[tokio::test]
async fn mid_stream_error_ends_the_response_normally() {
    let layer = SseLayer::new();
    let stats = layer.stats();
    let app = Router::new().route("/events", get(failing)).layer(layer);
    let addr = serve(app).await;
    let res = get_h1(addr, "/events", &[]).await;
    assert_eq!(res.headers()[header::TRANSFER_ENCODING], "chunked");
    // `read_all` fails on an aborted chunked body; a clean end collects.
    assert_eq!(read_all(res.into_body()).await, "data: one\n\n");
    support::wait_live(&stats, 0, std::time::Duration::from_secs(10)).await;
    assert_eq!(stats.closed(), 1);
}
