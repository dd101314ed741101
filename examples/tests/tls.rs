//! The demo over TLS on every framework, with a certificate made at test time: HTTP/2 by
//! ALPN carries published events with no connection-specific headers, and HTTP/1.1 for a
//! client that offers only that; h2c (HTTP/2 with prior
//! knowledge) on the plain port, actix-web included; and every bad TLS or timeout flag stops
//! the real `demo` binary at start with one `error:` line and exit code 2.

mod support;

use std::path::PathBuf;
use std::process::Command;

use http::{StatusCode, Version};
use sse_core::Event;
use sse_examples::{Config, Framework};
use sse_testkit::tls::TestCert;
use sse_testkit::Request;
use support::start;

/// A fresh directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("sse-demo-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Headers HTTP/2 forbids (RFC 9113, section 8.2.2).
const CONNECTION_SPECIFIC: [&str; 5] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
];

async fn tls_carries_events_over_http2_and_http1(framework: Framework) {
    let cert = TestCert::generate();
    let dir = TempDir::new(&format!("tls-{framework}"));
    let (cert_path, key_path) = cert.write_to(&dir.0);
    let server = start(framework, Config::default().with_tls(cert_path, key_path)).await;
    assert!(server.url("/").starts_with("https://"));

    let mut events = Request::get(server.addr(), "/events?topic=tls")
        .tls(&cert)
        .send()
        .await;
    assert_eq!(events.status, StatusCode::OK);
    assert_eq!(
        events.version,
        Version::HTTP_2,
        "{framework}: ALPN chose HTTP/2"
    );
    assert_eq!(events.header("content-type"), Some("text/event-stream"));
    for name in CONNECTION_SPECIFIC {
        assert!(
            events.header(name).is_none(),
            "{framework}: {name} on HTTP/2: {:?}",
            events.headers
        );
    }
    let id = server
        .app()
        .hub()
        .publish("tls", Event::data("over h2"))
        .await
        .expect("publish");
    let event = events.next_event().await;
    assert_eq!(event.data, "over h2");
    assert_eq!(event.last_event_id, id.to_string());

    // A client without HTTP/2 gets HTTP/1.1 over the same port.
    let mut events = Request::get(server.addr(), "/events?topic=tls")
        .tls_http1(&cert)
        .send()
        .await;
    assert_eq!(
        events.version,
        Version::HTTP_11,
        "{framework}: ALPN chose HTTP/1.1"
    );
    server
        .app()
        .hub()
        .publish("tls", Event::data("over http/1.1"))
        .await
        .expect("publish");
    assert_eq!(events.next_event().await.data, "over http/1.1");
    events.disconnect();

    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn axum_tls_carries_events_over_http2_and_http1() {
    tls_carries_events_over_http2_and_http1(Framework::Axum).await;
}

#[tokio::test]
async fn actix_tls_carries_events_over_http2_and_http1() {
    tls_carries_events_over_http2_and_http1(Framework::Actix).await;
}

#[tokio::test]
async fn warp_tls_carries_events_over_http2_and_http1() {
    tls_carries_events_over_http2_and_http1(Framework::Warp).await;
}

#[tokio::test]
async fn every_framework_answers_h2c_prior_knowledge() {
    for framework in Framework::ALL {
        let server = start(framework, Config::default()).await;
        let mut events = Request::get(server.addr(), "/events?topic=h2c")
            .http2()
            .send()
            .await;
        assert_eq!(events.status, StatusCode::OK, "{framework}");
        assert_eq!(events.version, Version::HTTP_2, "{framework}");
        server
            .app()
            .hub()
            .publish("h2c", Event::data("prior knowledge"))
            .await
            .expect("publish");
        assert_eq!(
            events.next_event().await.data,
            "prior knowledge",
            "{framework}"
        );
        events.disconnect();
        server.shutdown().await.expect("clean shutdown");
    }
}

/// Runs the real `demo` binary with `args` (on a free port); it must stop at start with
/// exit code 2, without a panic, its stderr starting with an `error:` line and naming
/// `expected`. Returns stderr.
fn demo_refuses(args: &[&str], expected: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_demo"))
        .args(["--addr", "127.0.0.1:0"])
        .args(args)
        .output()
        .expect("run the demo");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    let first = stderr.lines().next().unwrap_or_default();
    assert!(first.starts_with("error:"), "{args:?}: {stderr}");
    assert!(stderr.contains(expected), "{args:?}: {stderr}");
    stderr
}

#[test]
fn bad_tls_and_timeout_flags_stop_the_demo_with_exit_code_2() {
    let dir = TempDir::new("bad-flags");
    let (cert, key) = TestCert::generate().write_to(&dir.0.join("good"));
    let (_, other_key) = TestCert::generate().write_to(&dir.0.join("other"));
    let garbage = dir.0.join("garbage.pem");
    std::fs::write(&garbage, "not a certificate").unwrap();
    let missing = dir.0.join("missing.pem");
    let path = |path: &PathBuf| path.to_str().expect("a UTF-8 temp path").to_owned();
    let (cert, key, other_key, garbage, missing) = (
        path(&cert),
        path(&key),
        path(&other_key),
        path(&garbage),
        path(&missing),
    );

    for framework in Framework::ALL {
        let run = |args: &[&str], expected: &str| {
            let mut all = vec!["--framework", framework.name()];
            all.extend_from_slice(args);
            demo_refuses(&all, expected)
        };
        // A bad value: the demo's own single line.
        for (args, expected) in [
            (["--tls-cert", &missing, "--tls-key", &key], "--tls-cert"),
            (["--tls-cert", &cert, "--tls-key", &missing], "--tls-key"),
            (
                ["--tls-cert", &garbage, "--tls-key", &key],
                "no certificate",
            ),
            (["--tls-cert", &cert, "--tls-key", &garbage], "private key"),
            (
                ["--tls-cert", &cert, "--tls-key", &other_key],
                "unusable certificate and key",
            ),
        ] {
            let stderr = run(&args, expected);
            assert_eq!(stderr.lines().count(), 1, "{framework}: {stderr}");
        }
        // A malformed command line: clap's error (with a usage hint), same exit code.
        run(&["--tls-cert", &cert], "--tls-key");
        run(&["--header-timeout-ms", "0"], "--header-timeout-ms");
        run(&["--idle-timeout-ms", "soon"], "--idle-timeout-ms");
    }
}
