//! Cases for a server's connection timeouts, over real sockets: every framework's server
//! must close a slow, silent or idle connection after its timeout, and must not close an
//! event stream that is being written, however long it lives.
//!
//! The server under test runs with short timeouts; each case waits at most [`DEADLINE`]
//! for the close (a hang guard, not a timing assertion).
//!
//! ```no_run
//! # async fn run(addr: std::net::SocketAddr) {
//! use std::time::Duration;
//!
//! sse_testkit::timeouts::half_sent_head_is_closed(addr).await;
//! sse_testkit::timeouts::silent_connection_is_closed(addr).await;
//! sse_testkit::timeouts::idle_keep_alive_connection_is_closed(addr, "/health").await;
//! let events = sse_testkit::Request::get(addr, "/events");
//! sse_testkit::timeouts::stream_outlives_timeouts(events, Duration::from_secs(2)).await;
//! # }
//! ```

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use sse_core::parse::Frame;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::{Request, DEADLINE};

/// Reads until the server closes the connection (or resets it) and returns what it sent.
///
/// # Panics
///
/// If the connection is still open after [`DEADLINE`].
pub async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    let read = async {
        let mut buf = [0; 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(DEADLINE, read)
        .await
        .expect("the server kept the connection open past the deadline");
    received
}

/// A client that sends half a request head (a request line and one header, no blank line)
/// and then nothing is disconnected. A `408` before the close is fine.
///
/// # Panics
///
/// If the connection is still open after [`DEADLINE`].
pub async fn half_sent_head_is_closed(addr: SocketAddr) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(b"GET /events HTTP/1.1\r\nhost: slowloris\r\n")
        .await
        .expect("write half a head");
    let answer = read_until_closed(&mut stream).await;
    assert!(
        answer.is_empty() || answer.starts_with(b"HTTP/1.1 408"),
        "a half-sent head got {:?}",
        String::from_utf8_lossy(&answer)
    );
}

/// A client that connects and sends nothing at all is disconnected.
///
/// # Panics
///
/// If the connection is still open after [`DEADLINE`].
pub async fn silent_connection_is_closed(addr: SocketAddr) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let answer = read_until_closed(&mut stream).await;
    assert!(
        answer.is_empty() || answer.starts_with(b"HTTP/1.1 408"),
        "a silent connection got {:?}",
        String::from_utf8_lossy(&answer)
    );
}

/// A keep-alive HTTP/1.1 connection that has had its response to `GET path` and sends no
/// other request is closed by the server.
///
/// # Panics
///
/// If the request fails, or the connection is still open after [`DEADLINE`].
pub async fn idle_keep_alive_connection_is_closed(addr: SocketAddr, path: &str) {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    let connection = tokio::spawn(connection);
    let request = http::Request::get(path)
        .header(http::header::HOST, addr.to_string())
        .body(Empty::<Bytes>::new())
        .expect("request");
    let response = tokio::time::timeout(DEADLINE, sender.send_request(request))
        .await
        .expect("a response within the deadline")
        .expect("a response");
    assert!(response.status().is_success(), "{}", response.status());
    assert!(
        !response
            .headers()
            .get(http::header::CONNECTION)
            .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"close")),
        "the server closed after the response: nothing left to time out"
    );
    tokio::time::timeout(DEADLINE, response.into_body().collect())
        .await
        .expect("the body within the deadline")
        .expect("the body");
    // Still ready for another request, and we send none: the client's connection task
    // ends when the server closes.
    assert!(sender.is_ready(), "the connection is not reusable");
    // Closed either way; a reset is an error for hyper, a FIN is not.
    let _closed = tokio::time::timeout(DEADLINE, connection)
        .await
        .expect("the server kept the idle connection open past the deadline")
        .expect("connection task");
}

/// The event stream `request` opens (one that writes heartbeats) stays open and keeps
/// delivering for `lifetime`, much longer than the server's timeouts; it returns how many
/// heartbeat comments came.
///
/// # Panics
///
/// If the stream ends, errs or falls silent for [`DEADLINE`] within `lifetime`, or no
/// heartbeat comes.
pub async fn stream_outlives_timeouts(request: Request, lifetime: Duration) -> usize {
    let mut response = request.send().await;
    assert_eq!(response.status, http::StatusCode::OK);
    let mut heartbeats = 0;
    let until = tokio::time::Instant::now() + lifetime;
    while tokio::time::Instant::now() < until {
        match response.next_frame().await {
            Some(Frame::Comment(_)) => heartbeats += 1,
            Some(_) => {}
            None => panic!("the server ended the stream after {heartbeats} heartbeats"),
        }
    }
    assert!(heartbeats > 0, "no heartbeat within {lifetime:?}");
    heartbeats
}
