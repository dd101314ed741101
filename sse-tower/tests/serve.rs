//! `sse_tower::serve` over real sockets: HTTP/1.1, HTTP/2 prior knowledge (also with the
//! preface split across writes), upgrades, graceful shutdown and its timeout.

mod support;

use std::convert::Infallible;
use std::future::{Future, IntoFuture};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use bytes::{Bytes, BytesMut};
use futures_util::{stream, StreamExt};
use http::{header, Request, Response, StatusCode, Version};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use sse_tower::SseLayer;
use support::{get_h1, get_h2, read_all, read_event, sse_response, ChannelBody};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const DEADLINE: Duration = Duration::from_secs(10);

/// Two events, then a stream that stays open.
fn events() -> Response<axum::body::Body> {
    sse_response(
        stream::iter([
            Bytes::from_static(b"data: one\n\n"),
            Bytes::from_static(b"data: two\n\n"),
        ])
        .chain(stream::pending()),
    )
}

fn app() -> Router {
    Router::new()
        .route("/events", get(|| async { events() }))
        .route("/hello", get(|| async { "hello" }))
        .layer(SseLayer::new())
}

async fn bind() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// Serves `app()` with a graceful shutdown fired through the returned sender.
async fn serve_with_shutdown(
    timeout: Option<Duration>,
    app: Router,
) -> (SocketAddr, oneshot::Sender<()>, JoinHandle<io::Result<()>>) {
    let (listener, addr) = bind().await;
    let (stop, stopped) = oneshot::channel::<()>();
    let server = sse_tower::serve(listener, app).with_graceful_shutdown(async {
        let _ = stopped.await;
    });
    let server = match timeout {
        Some(timeout) => server.shutdown_timeout(timeout),
        None => server,
    };
    (addr, stop, tokio::spawn(server.into_future()))
}

#[tokio::test]
async fn http1_event_stream() {
    let (listener, addr) = bind().await;
    tokio::spawn(sse_tower::serve(listener, app()).into_future());

    let response = get_h1(addr, "/events", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.version(), Version::HTTP_11);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/event-stream"
    );
    assert_eq!(
        response.headers()[header::CACHE_CONTROL],
        "no-cache, no-transform"
    );
    let mut body = response.into_body();
    let mut buf = BytesMut::new();
    assert_eq!(read_event(&mut body, &mut buf).await, "data: one\n\n");
    assert_eq!(read_event(&mut body, &mut buf).await, "data: two\n\n");
}

#[tokio::test]
async fn http2_prior_knowledge() {
    let (listener, addr) = bind().await;
    tokio::spawn(sse_tower::serve(listener, app()).into_future());

    let response = get_h2(addr, "/events", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.version(), Version::HTTP_2);
    let mut body = response.into_body();
    let mut buf = BytesMut::new();
    assert_eq!(read_event(&mut body, &mut buf).await, "data: one\n\n");
    assert_eq!(read_event(&mut body, &mut buf).await, "data: two\n\n");
}

/// A client connection whose first write sends only 3 bytes and whose next write waits
/// 100 ms, so the server sees a partial HTTP/2 preface first.
struct SplitFirstWrite {
    io: TokioIo<TcpStream>,
    written: usize,
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl hyper::rt::Read for SplitFirstWrite {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for SplitFirstWrite {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.written == 0 {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &buf[..3.min(buf.len())]))?;
            self.written += n;
            self.pause = Some(Box::pin(tokio::time::sleep(Duration::from_millis(100))));
            return Poll::Ready(Ok(n));
        }
        if let Some(pause) = self.pause.as_mut() {
            ready!(pause.as_mut().poll(cx));
            self.pause = None;
        }
        let n = ready!(Pin::new(&mut self.io).poll_write(cx, buf))?;
        self.written += n;
        Poll::Ready(Ok(n))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[tokio::test]
async fn http2_preface_split_across_writes() {
    let (listener, addr) = bind().await;
    tokio::spawn(sse_tower::serve(listener, app()).into_future());

    let stream = TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let io = SplitFirstWrite {
        io: TokioIo::new(stream),
        written: 0,
        pause: None,
    };
    let (mut sender, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
        .await
        .unwrap();
    tokio::spawn(conn);
    let request = Request::get(format!("http://{addr}/hello"))
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = tokio::time::timeout(DEADLINE, sender.send_request(request))
        .await
        .expect("no response")
        .unwrap();
    assert_eq!(response.version(), Version::HTTP_2);
    assert_eq!(read_all(response.into_body()).await, "hello");
}

#[tokio::test]
async fn http1_upgrade() {
    let echo = tower::service_fn(|mut request: Request<Incoming>| async move {
        let upgrade = hyper::upgrade::on(&mut request);
        tokio::spawn(async move {
            let mut io = TokioIo::new(upgrade.await.expect("upgrade"));
            let mut buf = [0; 64];
            while let Ok(n @ 1..) = io.read(&mut buf).await {
                if io.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        });
        Ok::<_, Infallible>(
            Response::builder()
                .status(StatusCode::SWITCHING_PROTOCOLS)
                .header(header::CONNECTION, "upgrade")
                .header(header::UPGRADE, "echo")
                .body(Empty::<Bytes>::new())
                .unwrap(),
        )
    });
    let (listener, addr) = bind().await;
    tokio::spawn(sse_tower::serve(listener, echo).into_future());

    let mut client = TcpStream::connect(addr).await.unwrap();
    client
        .write_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: echo\r\n\r\n")
        .await
        .unwrap();
    let head = read_head(&mut client).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    client.write_all(b"ping").await.unwrap();
    let mut pong = [0; 4];
    tokio::time::timeout(DEADLINE, client.read_exact(&mut pong))
        .await
        .expect("no echo")
        .unwrap();
    assert_eq!(&pong, b"ping");
}

/// Reads a response head (up to the blank line) byte by byte.
async fn read_head(client: &mut TcpStream) -> String {
    let mut head = Vec::new();
    tokio::time::timeout(DEADLINE, async {
        while !head.ends_with(b"\r\n\r\n") {
            head.push(client.read_u8().await.unwrap());
        }
    })
    .await
    .expect("no response head");
    String::from_utf8(head).unwrap()
}

/// Reads until the peer closes; panics on a hang.
async fn read_to_close(client: &mut TcpStream) -> Vec<u8> {
    let mut rest = Vec::new();
    tokio::time::timeout(DEADLINE, client.read_to_end(&mut rest))
        .await
        .expect("connection not closed")
        .unwrap_or_default();
    rest
}

#[tokio::test]
async fn graceful_shutdown_finishes_responses_and_closes_the_rest() {
    let (feed, body) = ChannelBody::new();
    let body = std::sync::Arc::new(std::sync::Mutex::new(Some(body)));
    let app = Router::new()
        .route("/hello", get(|| async { "hello" }))
        .route(
            "/slow",
            get(move || {
                let body = body.lock().unwrap().take().expect("one /slow request");
                async move { axum::body::Body::new(body) }
            }),
        );
    let (addr, stop, server) = serve_with_shutdown(None, app).await;

    // An idle keep-alive connection after one request, one that never sent a byte, and
    // one with a response in flight.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /hello HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let head = read_head(&mut idle).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let slow = get_h1(addr, "/slow", &[]).await;
    feed.send("first ").unwrap();

    stop.send(()).unwrap();

    // The idle and the silent connections are closed, and since the listener is closed
    // before connections are told to finish, new ones are refused by then...
    read_to_close(&mut idle).await;
    assert!(read_to_close(&mut silent).await.is_empty());
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "listener still accepting"
    );
    // ...while the response in flight goes on and ends whole.
    assert!(!server.is_finished());
    feed.send("last").unwrap();
    drop(feed);
    assert_eq!(read_all(slow.into_body()).await, "first last");
    tokio::time::timeout(DEADLINE, server)
        .await
        .expect("server did not stop")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn shutdown_timeout_cuts_event_streams() {
    let (addr, stop, server) = serve_with_shutdown(Some(Duration::from_millis(200)), app()).await;
    let h1 = get_h1(addr, "/events", &[]).await;
    let h2 = get_h2(addr, "/events", &[]).await;

    stop.send(()).unwrap();

    tokio::time::timeout(DEADLINE, server)
        .await
        .expect("server did not stop")
        .unwrap()
        .unwrap();
    for response in [h1, h2] {
        // Cut, not ended: the body ends with an error.
        let body = tokio::time::timeout(DEADLINE, response.into_body().collect())
            .await
            .expect("stream not cut");
        assert!(body.is_err());
    }
}

#[tokio::test]
async fn dropping_the_server_closes_its_connections() {
    let (listener, addr) = bind().await;
    let server = tokio::spawn(sse_tower::serve(listener, app()).into_future());
    let response = get_h1(addr, "/events", &[]).await;
    let mut body = response.into_body();
    let mut buf = BytesMut::new();
    read_event(&mut body, &mut buf).await;

    server.abort();

    let rest = tokio::time::timeout(DEADLINE, body.collect())
        .await
        .expect("stream still open after the server was dropped");
    assert!(rest.is_err(), "a cut stream ends with an error");
}
