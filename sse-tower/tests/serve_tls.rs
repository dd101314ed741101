//! `sse_tower::serve` over TLS (feature `tls`) with a certificate made at test time: HTTP/2
//! by ALPN carries events with no connection-specific headers, a client that never starts
//! or never finishes its handshake is closed after the head-read timeout, and
//! `tls::server_config` says what is wrong with bad PEM input.

mod support;

use std::future::IntoFuture;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use futures_util::{stream, StreamExt};
use http::{header, StatusCode, Version};
use sse_testkit::tls::TestCert;
use sse_testkit::{timeouts, Request};
use sse_tower::serve::tls::server_config;
use sse_tower::SseLayer;
use support::sse_response;
use tokio::net::TcpListener;

async fn start(cert: &TestCert) -> SocketAddr {
    let app = Router::new()
        .route(
            "/events",
            get(|| async {
                sse_response(
                    stream::iter([
                        Bytes::from_static(b"id: 1\ndata: one\n\n"),
                        Bytes::from_static(b"id: 2\ndata: two\n\n"),
                    ])
                    .chain(stream::pending()),
                )
            }),
        )
        .layer(SseLayer::new());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let tls = server_config(cert.cert_pem.as_bytes(), cert.key_pem.as_bytes()).unwrap();
    let server = sse_tower::serve(listener, app)
        .header_read_timeout(Duration::from_millis(300))
        .tls(tls);
    tokio::spawn(server.into_future());
    addr
}

#[tokio::test]
async fn http2_over_tls_carries_events_without_connection_headers() {
    let cert = TestCert::generate();
    let addr = start(&cert).await;
    let mut response = Request::get(addr, "/events").tls(&cert).send().await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.version, Version::HTTP_2, "ALPN chose HTTP/2");
    assert_eq!(response.header("content-type"), Some("text/event-stream"));
    for name in [
        header::CONNECTION.as_str(),
        "keep-alive",
        "proxy-connection",
        header::TRANSFER_ENCODING.as_str(),
        header::UPGRADE.as_str(),
    ] {
        assert!(
            response.header(name).is_none(),
            "{name} on HTTP/2: {:?}",
            response.headers
        );
    }
    assert_eq!(response.next_event().await.data, "one");
    assert_eq!(response.next_event().await.data, "two");
}

#[tokio::test]
async fn client_that_never_starts_the_handshake_is_closed() {
    let cert = TestCert::generate();
    let addr = start(&cert).await;
    timeouts::silent_connection_is_closed(addr).await;
}

#[tokio::test]
async fn client_that_stalls_in_the_handshake_is_closed() {
    let cert = TestCert::generate();
    let addr = start(&cert).await;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    // The header of a ClientHello record announcing 512 bytes, and none of them.
    tokio::io::AsyncWriteExt::write_all(&mut stream, &[0x16, 0x03, 0x01, 0x02, 0x00])
        .await
        .unwrap();
    assert!(timeouts::read_until_closed(&mut stream).await.is_empty());
}

#[tokio::test]
async fn plain_http_on_the_tls_port_gets_no_response() {
    let cert = TestCert::generate();
    let addr = start(&cert).await;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut stream, b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = timeouts::read_until_closed(&mut stream).await;
    assert!(!answer.starts_with(b"HTTP/"), "{answer:?}");
}

fn error_of(cert_pem: &[u8], key_pem: &[u8]) -> io::Error {
    server_config(cert_pem, key_pem).expect_err("bad PEM accepted")
}

#[test]
fn key_of_another_certificate_is_refused() {
    let cert = TestCert::generate();
    let other = TestCert::generate();
    let err = error_of(cert.cert_pem.as_bytes(), other.key_pem.as_bytes());
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    assert!(
        err.to_string().contains("unusable certificate and key"),
        "{err}"
    );
}

#[test]
fn missing_certificate_or_key_is_named() {
    let cert = TestCert::generate();
    let err = error_of(cert.key_pem.as_bytes(), cert.key_pem.as_bytes());
    assert!(err.to_string().contains("no certificate"), "{err}");
    let err = error_of(cert.cert_pem.as_bytes(), cert.cert_pem.as_bytes());
    assert!(err.to_string().contains("no usable private key"), "{err}");
    let err = error_of(b"not a PEM at all", b"");
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
}

#[test]
fn config_offers_http2_then_http1() {
    let cert = TestCert::generate();
    let config = server_config(cert.cert_pem.as_bytes(), cert.key_pem.as_bytes()).unwrap();
    assert_eq!(config.alpn_protocols, [&b"h2"[..], b"http/1.1"]);
}
