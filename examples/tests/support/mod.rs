//! Helpers the integration tests share: starting the app on a free port and a plain
//! HTTP/1.1 client for JSON and HTML requests.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use sse_examples::{Config, Framework, RunningApp};
use sse_testkit::DEADLINE;
use tokio::net::{TcpListener, TcpStream};

/// Starts the app with `config` on `framework`, on a free port of 127.0.0.1.
pub async fn start(framework: Framework, config: Config) -> RunningApp {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    sse_examples::serve(config.with_framework(framework), listener)
        .await
        .expect("serve")
}

/// A whole HTTP response.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|err| {
            panic!(
                "not JSON ({err}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// Sends one request over a fresh HTTP/1.1 connection and reads the whole response.
pub async fn request(
    addr: SocketAddr,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Reply {
    let send = async {
        let stream = TcpStream::connect(addr).await.expect("connect");
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("handshake");
        tokio::spawn(conn);
        let mut builder = http::Request::builder()
            .method(method)
            .uri(path)
            .header("host", addr.to_string());
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = builder.body(Full::new(body.into())).expect("request");
        let response = sender.send_request(request).await.expect("send");
        let (parts, body) = response.into_parts();
        let body = body.collect().await.expect("body").to_bytes();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    };
    tokio::time::timeout(DEADLINE, send)
        .await
        .expect("response within the deadline")
}

/// `GET path`, or `None` if nothing listens on `addr` (yet).
pub async fn try_get(addr: SocketAddr, path: &str) -> Option<Reply> {
    TcpStream::connect(addr).await.ok()?;
    Some(get(addr, path).await)
}

/// `GET path`.
pub async fn get(addr: SocketAddr, path: &str) -> Reply {
    request(addr, Method::GET, path, &[], Bytes::new()).await
}

/// `POST /publish` with a JSON body and extra headers.
pub async fn publish_with(addr: SocketAddr, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut all = vec![("content-type", "application/json")];
    all.extend_from_slice(headers);
    request(
        addr,
        Method::POST,
        "/publish",
        &all,
        Bytes::copy_from_slice(body.as_bytes()),
    )
    .await
}

/// `POST /publish` of `value`, which must be accepted; returns the event id.
pub async fn publish(addr: SocketAddr, value: serde_json::Value) -> String {
    let reply = publish_with(addr, &[], &value.to_string()).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{:?}", reply.body);
    reply.json()["id"].as_str().expect("id").to_owned()
}

/// `GET /stats` as JSON.
pub async fn stats(addr: SocketAddr) -> serde_json::Value {
    let reply = get(addr, "/stats").await;
    assert_eq!(reply.status, StatusCode::OK);
    reply.json()
}

/// Polls `/stats` until `check` holds (a hang fails the test at the deadline).
pub async fn wait_for_stats(
    addr: SocketAddr,
    what: &str,
    check: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let stats = stats(addr).await;
        if check(&stats) {
            return stats;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}; last stats {stats}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A fresh directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A new empty directory under the system's temp dir, named after `prefix`, this process
    /// and a counter, so that tests running at once don't share one.
    pub fn new(prefix: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("{prefix}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("temp dir");
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs each case (an `async fn(Framework)` of the calling module) once per framework, as
/// `axum::case`, `actix::case` and `warp::case`, so that a failure names its framework.
#[allow(unused_macros)] // not every test file uses it
macro_rules! per_framework {
    ($($case:ident),* $(,)?) => {
        mod axum {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(super::Framework::Axum).await;
                }
            )*
        }
        mod actix {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(super::Framework::Actix).await;
                }
            )*
        }
        mod warp {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(super::Framework::Warp).await;
                }
            )*
        }
    };
}
#[allow(unused_imports)]
pub(crate) use per_framework;
