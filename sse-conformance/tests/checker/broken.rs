//! Servers built to break one rule each: every case fails on the server built to break it,
//! with a message that names the problem; the same server without its flaw passes.

use std::convert::Infallible;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{get, post};
use axum::Router;
use futures_util::stream::{self, StreamExt};
use sse_conformance::Verdict;
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;

use crate::hand::{serve, Flaws};
use crate::{assert_fails, check, outcome, PUBLISH};

fn url(addr: std::net::SocketAddr) -> String {
    format!("http://{addr}/events")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hand_written_server_without_flaws_passes_every_case() {
    let addr = serve(Flaws::default()).await;
    let url = url(addr);
    let report = check(&[&url, "--publish", PUBLISH, "--strict"]).await;
    let text = report.to_text();
    for o in &report.targets[0].outcomes {
        let expected = match o.id {
            // HTTP/1 only; an unknown id gets no gap signal, which is reported.
            "http2-no-connection-headers" => Verdict::Skipped,
            "resume-unknown-id" => Verdict::Informational,
            // It holds every event: no --replay-size to push one out.
            "resume-too-old-id" => Verdict::Skipped,
            _ => Verdict::Pass,
        };
        assert_eq!(o.verdict, expected, "{}:\n{text}", o.id);
    }
    assert_eq!(report.exit_code(), sse_conformance::exit::PASS);
}

#[tokio::test]
async fn a_buffering_server_fails_first_event_prompt() {
    let url = url(serve(Flaws {
        buffering: true,
        ..Flaws::default()
    })
    .await);
    let report = check(&[&url, "--publish", PUBLISH, "--only", "first-event-prompt"]).await;
    assert_fails(&report, "first-event-prompt", "buffered");
    assert!(outcome(&report, "first-event-prompt").timing.is_some());
}

#[tokio::test]
async fn a_server_missing_the_sse_headers_fails_the_header_cases() {
    let url = url(serve(Flaws {
        missing_headers: true,
        ..Flaws::default()
    })
    .await);
    let report = check(&[
        &url,
        "--strict",
        "--only",
        "content-type,cache-control,no-content-length,x-accel-buffering",
    ])
    .await;
    assert_fails(&report, "content-type", "text/plain");
    assert_fails(&report, "cache-control", "(absent)");
    assert_fails(&report, "no-content-length", "Content-Length: 1000000");
    assert_fails(&report, "x-accel-buffering", "(absent)");
}

#[tokio::test]
async fn a_connection_header_on_http2_fails() {
    let url = url(crate::h2_connection::serve().await);
    let report = check(&[&url, "--only", "http2-no-connection-headers"]).await;
    assert_fails(&report, "http2-no-connection-headers", "Connection");
}

#[tokio::test]
async fn a_server_without_replay_fails_every_resume_case() {
    let url = url(serve(Flaws {
        no_replay: true,
        ..Flaws::default()
    })
    .await);
    let report = check(&[
        &url,
        "--publish",
        PUBLISH,
        "--only",
        "resume-*",
        "--gap-event",
        "sse-gap",
        "--replay-size",
        "3",
    ])
    .await;
    assert_fails(&report, "resume-last-event-id", "not replayed");
    assert_fails(&report, "resume-query", "not replayed");
    // With --gap-event the gap cases are required: a silent gap fails them.
    assert_fails(&report, "resume-unknown-id", "silent gap");
    assert_fails(&report, "resume-too-old-id", "silent gap");
}

#[tokio::test]
async fn a_server_replaying_the_named_event_again_fails_both_resume_cases() {
    let url = url(serve(Flaws {
        duplicated_replay: true,
        ..Flaws::default()
    })
    .await);
    let report = check(&[
        &url,
        "--publish",
        PUBLISH,
        "--only",
        "resume-last-event-id,resume-query",
    ])
    .await;
    assert_fails(&report, "resume-last-event-id", "sent again");
    assert_fails(&report, "resume-query", "sent again");
}

#[tokio::test]
async fn a_server_passing_a_raw_cr_through_fails_injection_cr() {
    let url = url(serve(Flaws {
        raw_cr: true,
        ..Flaws::default()
    })
    .await);
    let report = check(&[&url, "--publish", PUBLISH, "--only", "injection-*"]).await;
    assert_fails(&report, "injection-cr", "raw CR");
    // LF and CRLF still split into data: lines, so those cases pass.
    assert_eq!(outcome(&report, "injection-lf").verdict, Verdict::Pass);
    assert_eq!(outcome(&report, "injection-crlf").verdict, Verdict::Pass);
}

#[tokio::test]
async fn a_server_without_heartbeats_fails_the_heartbeat_and_idle_cases() {
    let url = url(serve(Flaws {
        no_heartbeats: true,
        ..Flaws::default()
    })
    .await);
    let report = check(&[
        &url,
        "--publish",
        PUBLISH,
        "--only",
        "heartbeat-interval,idle-survival",
    ])
    .await;
    assert_fails(&report, "heartbeat-interval", "no heartbeat");
    assert_fails(&report, "idle-survival", "no heartbeats");
    let timing = outcome(&report, "heartbeat-interval").timing.unwrap();
    assert!(timing.measured_ms > timing.tolerance_ms);
}

/// axum's own SSE under tower-http's compression with a predicate that compresses
/// everything (a custom predicate drops the default exclusion of `text/event-stream`).
#[tokio::test]
async fn a_compressing_server_fails_every_compression_case() {
    let events = || async {
        let ticks = stream::repeat_with(|| Ok::<_, Infallible>(Event::default().data("tick")))
            .then(|event| async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                event
            });
        Sse::new(ticks).keep_alive(KeepAlive::new())
    };
    let app = Router::new()
        .route("/events", get(events))
        .route("/publish", post(|| async { "accepted" }))
        .layer(
            CompressionLayer::new()
                .compress_when(|_, _, _: &http::HeaderMap, _: &http::Extensions| true),
        );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let report = check(&[&url(addr), "--only", "no-compression-*"]).await;
    for (id, coding) in [
        ("no-compression-gzip", "gzip"),
        ("no-compression-deflate", "deflate"),
        ("no-compression-br", "br"),
        ("no-compression-zstd", "zstd"),
    ] {
        assert_fails(
            &report,
            id,
            &format!("Content-Encoding: {coding}: the stream is compressed"),
        );
    }
}
