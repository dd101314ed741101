//! `sse_tower::serve`'s timeouts over real sockets, with short timeouts: a half-sent head, a
//! silent connection and an idle keep-alive connection (HTTP/1.1 and HTTP/2) are closed; an
//! HTTP/2 peer that stops answering pings is cut off; an event stream with heartbeats
//! outlives every timeout, on HTTP/1.1 and HTTP/2.

mod support;

use std::future::IntoFuture;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use bytes::{Bytes, BytesMut};
use futures_util::{stream, StreamExt};
use http::Request;
use http_body_util::Empty;
use hyper_util::rt::{TokioExecutor, TokioIo};
use sse_testkit::{timeouts, DEADLINE};
use sse_tower::serve::Serve;
use sse_tower::{Heartbeat, SseConfig, SseLayer, SseStats};
use support::{read_event, sse_response, wait_live};
use tokio::net::{TcpListener, TcpStream};

/// Every timeout under test.
const TIMEOUT: Duration = Duration::from_millis(300);
const HEARTBEAT: Duration = Duration::from_millis(100);

/// `/events`: one event, then heartbeats only (injected by `SseLayer`); `/hello`: a short
/// answer.
fn app() -> (Router, SseStats) {
    let layer = SseLayer::from(SseConfig::new().heartbeat(Heartbeat::every(HEARTBEAT)));
    let stats = layer.stats();
    let router = Router::new()
        .route(
            "/events",
            get(|| async {
                sse_response(
                    stream::once(async { Bytes::from_static(b"data: one\n\n") })
                        .chain(stream::pending()),
                )
            }),
        )
        .route("/hello", get(|| async { "hello" }))
        .layer(layer);
    (router, stats)
}

/// Serves `app()` with every timeout at [`TIMEOUT`], then `configure`.
async fn start(configure: impl FnOnce(Serve<Router>) -> Serve<Router>) -> (SocketAddr, SseStats) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (router, stats) = app();
    let server = configure(
        sse_tower::serve(listener, router)
            .header_read_timeout(TIMEOUT)
            .idle_timeout(TIMEOUT),
    );
    tokio::spawn(server.into_future());
    (addr, stats)
}

#[tokio::test]
async fn half_sent_head_is_closed() {
    // The idle timeout is off: only the head-read timeout can close it.
    let (addr, _) = start(|serve| serve.idle_timeout(None)).await;
    timeouts::half_sent_head_is_closed(addr).await;
}

#[tokio::test]
async fn silent_connection_is_closed() {
    let (addr, _) = start(|serve| serve.idle_timeout(None)).await;
    timeouts::silent_connection_is_closed(addr).await;
}

#[tokio::test]
async fn idle_http1_connection_is_closed_by_the_idle_timeout() {
    // hyper's head-read timer also runs between HTTP/1 requests: keep it out of the way.
    let (addr, _) = start(|serve| serve.header_read_timeout(DEADLINE * 10)).await;
    timeouts::idle_keep_alive_connection_is_closed(addr, "/hello").await;
}

#[tokio::test]
async fn idle_http1_connection_is_closed_by_the_head_read_timeout() {
    // What hyper does: it restarts its head-read timer when a connection goes idle.
    let (addr, _) = start(|serve| serve.idle_timeout(None)).await;
    timeouts::idle_keep_alive_connection_is_closed(addr, "/hello").await;
}

#[tokio::test]
async fn idle_http2_connection_is_closed() {
    let (addr, _) = start(|serve| serve).await;
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    let connection = tokio::spawn(connection);
    let request = Request::get(format!("http://{addr}/hello"))
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = tokio::time::timeout(DEADLINE, sender.send_request(request))
        .await
        .expect("a response")
        .unwrap();
    assert_eq!(support::read_all(response.into_body()).await, "hello");
    // No other request: the server sends GOAWAY and closes, which ends the client's task.
    let _closed = tokio::time::timeout(DEADLINE, connection)
        .await
        .expect("the idle HTTP/2 connection is still open")
        .unwrap();
}

#[tokio::test]
async fn event_stream_outlives_the_timeouts_on_http1() {
    let (addr, stats) = start(|serve| serve).await;
    let events = sse_testkit::Request::get(addr, "/events");
    let heartbeats = timeouts::stream_outlives_timeouts(events, TIMEOUT * 6).await;
    assert!(heartbeats >= 2, "{heartbeats} heartbeats");
    assert_eq!(stats.live(), 1);
}

#[tokio::test]
async fn event_stream_outlives_the_timeouts_on_http2_with_pings() {
    // Pings every 100 ms, answered by the client: the connection stays.
    let (addr, stats) = start(|serve| {
        serve
            .http2_keep_alive_interval(HEARTBEAT)
            .http2_keep_alive_timeout(TIMEOUT)
    })
    .await;
    let events = sse_testkit::Request::get(addr, "/events").http2();
    timeouts::stream_outlives_timeouts(events, TIMEOUT * 6).await;
    assert_eq!(stats.live(), 1);
}

/// A client connection that stops reading and writing when told to, as a peer that
/// vanished without a FIN (a cable pulled, a laptop closed) looks to the server.
struct Freezable {
    io: TokioIo<TcpStream>,
    frozen: Arc<AtomicBool>,
}

impl hyper::rt::Read for Freezable {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        if self.frozen.load(Ordering::Acquire) {
            return Poll::Pending;
        }
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for Freezable {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.frozen.load(Ordering::Acquire) {
            return Poll::Pending;
        }
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[tokio::test]
async fn http2_peer_that_stops_answering_pings_is_cut_off() {
    let (addr, stats) = start(|serve| {
        serve
            .http2_keep_alive_interval(HEARTBEAT)
            .http2_keep_alive_timeout(TIMEOUT)
    })
    .await;
    let frozen = Arc::new(AtomicBool::new(false));
    let io = Freezable {
        io: TokioIo::new(TcpStream::connect(addr).await.unwrap()),
        frozen: Arc::clone(&frozen),
    };
    let (mut sender, connection) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
        .await
        .unwrap();
    tokio::spawn(connection);
    let request = Request::get(format!("http://{addr}/events"))
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = tokio::time::timeout(DEADLINE, sender.send_request(request))
        .await
        .expect("a response")
        .unwrap();
    let mut body = response.into_body();
    assert_eq!(
        read_event(&mut body, &mut BytesMut::new()).await,
        "data: one\n\n"
    );
    assert_eq!(stats.live(), 1);

    // The socket stays open, but nothing answers the server's pings any more: the server
    // drops the connection, and with it the stream (heartbeats alone would not notice
    // until the kernel's send buffer filled).
    frozen.store(true, Ordering::Release);
    wait_live(&stats, 0, DEADLINE).await;
}
