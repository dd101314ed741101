//! Clients that go away take their stream's body, timer and permit with them.

mod support;

use std::time::Duration;

use axum::{response::IntoResponse, routing::get, Router};
use bytes::{Bytes, BytesMut};
use futures_util::{stream, StreamExt};
use sse_tower::{Heartbeat, SseConfig, SseLayer};
use support::{get_h1, read_event, serve, sse_response, wait_live};

async fn events() -> impl IntoResponse {
    sse_response(stream::iter([Bytes::from_static(b"data: hello\n\n")]).chain(stream::pending()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_count_returns_to_zero_after_200_clients_close_abruptly() {
    const CLIENTS: usize = 200;
    let layer = SseLayer::from(
        SseConfig::new()
            .heartbeat(Heartbeat::every(Duration::from_secs(1)))
            .max_streams(CLIENTS),
    );
    let stats = layer.stats();
    let addr = serve(Router::new().route("/events", get(events)).layer(layer)).await;

    let mut open = Vec::with_capacity(CLIENTS);
    for _ in 0..CLIENTS {
        // Raw sockets: write the request, read up to the first event, keep the socket.
        let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        socket
            .write_all(b"GET /events HTTP/1.1\r\nhost: x\r\naccept: text/event-stream\r\n\r\n")
            .await
            .unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        while !got.windows(11).any(|w| w == b"data: hello") {
            let n = tokio::time::timeout(Duration::from_secs(10), socket.read(&mut buf))
                .await
                .expect("no event within 10 s")
                .unwrap();
            assert!(n > 0, "server closed the stream");
            got.extend_from_slice(&buf[..n]);
        }
        open.push(socket);
    }
    assert_eq!(stats.live(), CLIENTS);
    assert_eq!(stats.opened(), CLIENTS as u64);

    for socket in open {
        // Abortive close: RST instead of FIN.
        socket.set_zero_linger().unwrap();
        drop(socket);
    }
    wait_live(&stats, 0, Duration::from_secs(20)).await;
    assert_eq!(stats.closed(), CLIENTS as u64);
    assert_eq!(stats.rejected(), 0);
}

#[tokio::test]
async fn hyper_client_drop_releases_the_stream() {
    let layer = SseLayer::new();
    let stats = layer.stats();
    let addr = serve(Router::new().route("/events", get(events)).layer(layer)).await;
    let res = get_h1(addr, "/events", &[]).await;
    let mut body = res.into_body();
    read_event(&mut body, &mut BytesMut::new()).await;
    assert_eq!(stats.live(), 1);
    drop(body);
    wait_live(&stats, 0, Duration::from_secs(10)).await;
}

#[tokio::test]
async fn http2_streams_are_released_when_their_connections_drop() {
    let layer = SseLayer::new();
    let stats = layer.stats();
    let addr = serve(Router::new().route("/events", get(events)).layer(layer)).await;
    let mut bodies = Vec::new();
    for _ in 0..20 {
        let res = support::get_h2(addr, "/events", &[]).await;
        let mut body = res.into_body();
        read_event(&mut body, &mut BytesMut::new()).await;
        bodies.push(body);
    }
    assert_eq!(stats.live(), 20);
    drop(bodies);
    wait_live(&stats, 0, Duration::from_secs(10)).await;
    assert_eq!(stats.closed(), 20);
}
