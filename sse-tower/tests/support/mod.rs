//! Shared helpers: a real hyper server on 127.0.0.1:0 and small HTTP/1.1 and HTTP/2 clients.
#![allow(dead_code, unreachable_pub)]

use std::{
    convert::Infallible,
    net::SocketAddr,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use http::{header, Request, Response};
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioExecutor, TokioIo},
    server::conn::auto,
    service::TowerToHyperService,
};
use tokio::{net::TcpStream, sync::mpsc};
use tower::Service;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Serves `svc` on 127.0.0.1:0 (HTTP/1.1 and HTTP/2 prior knowledge), one task per connection.
pub async fn serve<S, B>(svc: S) -> SocketAddr
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let svc = TowerToHyperService::new(svc.clone());
            tokio::spawn(async move {
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
}

/// An HTTP/1.1 GET with extra headers; returns the response and keeps the connection task.
pub async fn get_h1(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Response<Incoming> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut req = Request::get(path).header(header::HOST, addr.to_string());
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    sender
        .send_request(req.body(Empty::<Bytes>::new()).unwrap())
        .await
        .unwrap()
}

/// An HTTP/2 (prior knowledge) GET with extra headers.
pub async fn get_h2(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Response<Incoming> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    let mut req = Request::get(format!("http://{addr}{path}"));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    sender
        .send_request(req.body(Empty::<Bytes>::new()).unwrap())
        .await
        .unwrap()
}

/// Reads one event (up to and including its blank line) from `body`, with a deadline.
/// `buf` keeps the bytes read past it.
pub async fn read_event<B>(body: &mut B, buf: &mut BytesMut) -> String
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Debug,
{
    read_until(body, buf, b"\n\n").await
}

/// Reads from `body` up to and including `needle`, with a deadline. `buf` keeps the bytes
/// read past it.
pub async fn read_until<B>(body: &mut B, buf: &mut BytesMut, needle: &[u8]) -> String
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Debug,
{
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Some(end) = buf.windows(needle.len()).position(|w| w == needle) {
                let event = buf.split_to(end + needle.len());
                return String::from_utf8(event.to_vec()).unwrap();
            }
            let frame = body.frame().await.expect("body ended early").unwrap();
            if let Ok(data) = frame.into_data() {
                buf.extend_from_slice(&data);
            }
        }
    })
    .await
    .expect("nothing within 10 s")
}

/// Reads the whole body, with a deadline.
pub async fn read_all<B>(body: B) -> Bytes
where
    B: Body<Data = Bytes>,
    B::Error: std::fmt::Debug,
{
    tokio::time::timeout(Duration::from_secs(10), body.collect())
        .await
        .expect("body did not end within 10 s")
        .unwrap()
        .to_bytes()
}

/// Waits until exactly `count` streams are live; panics when `deadline` passes first (a
/// hang, not a timing assertion).
pub async fn wait_live(stats: &sse_tower::SseStats, count: usize, deadline: Duration) {
    tokio::time::timeout(deadline, stats.wait_live(count))
        .await
        .unwrap_or_else(|_| {
            panic!("{count} live streams not reached within {deadline:?}: {stats:?}")
        });
}

/// A response with `text/event-stream` streaming `chunks`.
pub fn sse_response<S>(chunks: S) -> Response<axum::body::Body>
where
    S: Stream<Item = Bytes> + Send + 'static,
{
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .body(axum::body::Body::new(sse_tower::SseBody::new(
            chunks.map(Ok::<_, Infallible>),
        )))
        .unwrap()
}

/// A body whose data frames are fed through a channel; it ends when the sender is dropped.
pub struct ChannelBody {
    rx: mpsc::UnboundedReceiver<&'static str>,
}

impl ChannelBody {
    pub fn new() -> (mpsc::UnboundedSender<&'static str>, Self) {
        let (tx, rx) = mpsc::unbounded_channel();
        (tx, Self { rx })
    }
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.rx
            .poll_recv(cx)
            .map(|chunk| chunk.map(|chunk| Ok(Frame::data(Bytes::from_static(chunk.as_bytes())))))
    }
}
