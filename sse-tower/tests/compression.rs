//! SSE stays uncompressed and unbuffered with tower-http's CompressionLayer on either side of
//! SseLayer, while other routes still compress.

mod support;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{extract::State, response::IntoResponse, routing::get, Router};
use bytes::{Bytes, BytesMut};
use futures_util::{stream, StreamExt};
use http::{header, StatusCode};
use sse_tower::{Heartbeat, SseConfig, SseLayer};
use support::{get_h1, read_all, read_event, serve, sse_response};
use tokio::sync::{mpsc, Mutex};
use tower::ServiceBuilder;
use tower_http::compression::{predicate::SizeAbove, CompressionLayer};

const ENCODINGS: &[(&str, &[&str])] = &[
    ("gzip", &["gzip"]),
    ("br", &["br"]),
    ("zstd", &["zstd"]),
    ("deflate", &["deflate"]),
    (
        "gzip, br, zstd, deflate",
        &["gzip", "br", "zstd", "deflate"],
    ),
];

/// Each SSE request hands the test the sender of its second event.
type Registrations = mpsc::UnboundedSender<mpsc::UnboundedSender<Bytes>>;

async fn events(State(reg): State<Registrations>) -> impl IntoResponse {
    let (tx, rx) = mpsc::unbounded_channel();
    reg.send(tx).unwrap();
    let later = stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (b, rx)) });
    sse_response(stream::iter([Bytes::from_static(b"data: one\n\n")]).chain(later))
}

async fn json() -> impl IntoResponse {
    let body = format!("{{\"items\":[{}]}}", vec!["\"compressible\""; 40].join(","));
    ([(header::CONTENT_TYPE, "application/json")], body)
}

fn router() -> (
    Router,
    Arc<Mutex<mpsc::UnboundedReceiver<mpsc::UnboundedSender<Bytes>>>>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let router = Router::new()
        .route("/events", get(events))
        .route("/json", get(json))
        .with_state(tx);
    (router, Arc::new(Mutex::new(rx)))
}

async fn check_app(
    addr: SocketAddr,
    regs: Arc<Mutex<mpsc::UnboundedReceiver<mpsc::UnboundedSender<Bytes>>>>,
    case: &str,
) {
    for (accept_encoding, expected) in ENCODINGS {
        let case = format!("{case}, Accept-Encoding: {accept_encoding}");
        let res = get_h1(
            addr,
            "/events",
            &[
                ("accept", "text/event-stream"),
                ("accept-encoding", accept_encoding),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK, "{case}");
        let encoding = res.headers().get(header::CONTENT_ENCODING);
        assert!(
            encoding.is_none_or(|e| e == "identity"),
            "{case}: SSE compressed with {encoding:?}"
        );
        let mut body = res.into_body();
        let mut buf = BytesMut::new();
        // Event 1 arrives while the handler has not produced event 2 yet: nothing buffers it.
        assert_eq!(
            read_event(&mut body, &mut buf).await,
            "data: one\n\n",
            "{case}"
        );
        let second = tokio::time::timeout(Duration::from_secs(10), regs.lock().await.recv())
            .await
            .unwrap()
            .unwrap();
        second.send(Bytes::from_static(b"data: two\n\n")).unwrap();
        assert_eq!(
            read_event(&mut body, &mut buf).await,
            "data: two\n\n",
            "{case}"
        );

        let res = get_h1(addr, "/json", &[("accept-encoding", accept_encoding)]).await;
        let encoding = res.headers()[header::CONTENT_ENCODING]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            expected.contains(&encoding.as_str()),
            "{case}: JSON got {encoding}"
        );
        let compressed = read_all(res.into_body()).await;
        assert!(compressed.len() < 400, "{case}: JSON not compressed");
    }
}

#[tokio::test]
async fn compression_outside_sse_layer_default_predicate() {
    let (router, regs) = router();
    let app = ServiceBuilder::new()
        .layer(CompressionLayer::new())
        .layer(SseLayer::new())
        .service(router);
    check_app(serve(app).await, regs, "outside, default predicate").await;
}

#[tokio::test]
async fn compression_outside_sse_layer_custom_predicate() {
    // A custom predicate loses tower-http's SSE default: Content-Encoding: identity saves it.
    let (router, regs) = router();
    let app = ServiceBuilder::new()
        .layer(CompressionLayer::new().compress_when(SizeAbove::new(0)))
        .layer(SseLayer::new())
        .service(router);
    check_app(serve(app).await, regs, "outside, custom predicate").await;
}

#[tokio::test]
async fn compression_inside_sse_layer_default_predicate() {
    let (router, regs) = router();
    let app = ServiceBuilder::new()
        .layer(SseLayer::new())
        .layer(CompressionLayer::new())
        .service(router);
    check_app(serve(app).await, regs, "inside, default predicate").await;
}

#[tokio::test]
async fn compression_inside_sse_layer_custom_predicate() {
    // The inner compressor sees no Accept-Encoding on requests accepting text/event-stream.
    let (router, regs) = router();
    let app = ServiceBuilder::new()
        .layer(SseLayer::new())
        .layer(CompressionLayer::new().compress_when(SizeAbove::new(0)))
        .service(router);
    check_app(serve(app).await, regs, "inside, custom predicate").await;
}

#[tokio::test]
async fn compressed_inner_response_is_left_alone_without_heartbeats() {
    // The limit of the inner order: no `Accept: text/event-stream` and a predicate that
    // compresses SSE. The layer cannot undo it; it must at least not corrupt it.
    let (router, regs) = router();
    let app = ServiceBuilder::new()
        .layer(SseLayer::from(
            SseConfig::new().heartbeat(Heartbeat::every(Duration::from_millis(20))),
        ))
        .layer(CompressionLayer::new().compress_when(SizeAbove::new(0)))
        .service(router);
    let addr = serve(app).await;
    let res = get_h1(addr, "/events", &[("accept-encoding", "gzip")]).await;
    assert_eq!(res.headers()[header::CONTENT_ENCODING], "gzip");
    let second = regs.lock().await.recv().await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await; // several heartbeat intervals
    drop(second);
    let gz = read_all(res.into_body()).await;
    // Gzip's trailer holds the length of the uncompressed data: only the one event, no comment.
    let len = u32::from_le_bytes(gz[gz.len() - 4..].try_into().unwrap());
    assert_eq!(len as usize, b"data: one\n\n".len());
}

#[tokio::test]
async fn without_identity_encoding_a_custom_outer_predicate_would_compress_sse() {
    // The control for `compression_outside_sse_layer_custom_predicate`.
    let (router, _regs) = router();
    let app = ServiceBuilder::new()
        .layer(CompressionLayer::new().compress_when(SizeAbove::new(0)))
        .layer(SseLayer::from(SseConfig::new().identity_encoding(false)))
        .service(router);
    let addr = serve(app).await;
    let res = get_h1(
        addr,
        "/events",
        &[("accept", "text/event-stream"), ("accept-encoding", "gzip")],
    )
    .await;
    assert_eq!(res.headers()[header::CONTENT_ENCODING], "gzip");
}
