//! `GET /logs` over real sockets: a temp file is appended to, truncated and rotated while a
//! client reads it. The route is checked on every framework (append, error lines, resume
//! after a reconnect without repeated lines); the file logic, which is the same code for
//! all three, once, on axum.

mod support;

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;

use http::StatusCode;
use sse_core::parse::{Frame, Message};
use sse_examples::logs::{CUT_MARKER, MAX_LINE};
use sse_examples::{Config, Framework};
use sse_testkit::{Request, SseResponse};
use support::{get, per_framework, start, wait_for_stats, TempDir};

fn append(path: &Path, text: &str) {
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("open the log");
    file.write_all(text.as_bytes()).expect("append to the log");
}

async fn open_logs(addr: SocketAddr, last_event_id: Option<&str>) -> SseResponse {
    let mut request = Request::get(addr, "/logs");
    if let Some(id) = last_event_id {
        request = request.header("last-event-id", id);
    }
    let mut stream = request.send().await;
    assert_eq!(stream.status, StatusCode::OK);
    assert!(matches!(stream.next_frame().await, Some(Frame::Retry(_))));
    stream
}

/// The next event as `(type, data)`, and its id.
async fn next_line(stream: &mut SseResponse) -> ((String, String), String) {
    let Message {
        event,
        data,
        last_event_id,
    } = stream.next_event().await;
    ((event, data), last_event_id)
}

fn line(event: &str, data: &str) -> (String, String) {
    (event.to_owned(), data.to_owned())
}

/// How many of this process's file descriptors are open on `path` (the server runs in
/// this process).
fn open_handles(path: &Path) -> usize {
    let path = path.canonicalize().expect("the log exists");
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
        .filter(|target| *target == path)
        .count()
}

/// The byte offset an id names (`{file}-{offset}`).
fn offset(id: &str) -> u64 {
    id.rsplit_once('-')
        .expect("{file}-{offset}")
        .1
        .parse()
        .unwrap()
}

async fn appends_and_errors_stream_and_a_reconnect_resumes(fw: Framework) {
    let dir = TempDir::new("sse-logs");
    let log = dir.path().join("app.log");
    std::fs::write(&log, "booting\nready\n").unwrap();
    let server = start(fw, Config::default().with_log_file(&log)).await;

    // Without a Last-Event-ID: the file's last lines, then what is appended.
    let mut stream = open_logs(server.addr(), None).await;
    assert_eq!(next_line(&mut stream).await.0, line("log", "booting"));
    let (ready, ready_id) = next_line(&mut stream).await;
    assert_eq!(ready, line("log", "ready"));
    assert_eq!(offset(&ready_id), 14, "the id is the offset after the line");
    append(
        &log,
        "request served\nERROR disk full\nthread 'main' panicked at x.rs:1:1\n",
    );
    assert_eq!(
        next_line(&mut stream).await.0,
        line("log", "request served")
    );
    assert_eq!(
        next_line(&mut stream).await.0,
        line("error", "ERROR disk full")
    );
    let (panicked, last_seen) = next_line(&mut stream).await;
    assert_eq!(panicked.0, "error");

    // The client leaves: its stream is closed, and the file with it (nothing keeps
    // reading for it).
    assert_eq!(open_handles(&log), 1, "the stream holds the file open");
    stream.disconnect();
    wait_for_stats(server.addr(), "the stream is gone", |s| {
        s["active_connections"] == 0
    })
    .await;
    let deadline = tokio::time::Instant::now() + sse_testkit::DEADLINE;
    while open_handles(&log) > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the file is still open"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    append(&log, "while away\nhalf a li");

    // Back with the id of the last line seen: the lines after it, none twice; the
    // unfinished line waits for its end.
    let mut stream = open_logs(server.addr(), Some(&last_seen)).await;
    assert_eq!(next_line(&mut stream).await.0, line("log", "while away"));
    append(&log, "ne\n");
    assert_eq!(next_line(&mut stream).await.0, line("log", "half a line"));
    let size = std::fs::metadata(&log).unwrap().len();
    let mut stream_again = open_logs(server.addr(), Some(&last_seen)).await;
    assert_eq!(
        next_line(&mut stream_again).await.0,
        line("log", "while away")
    );
    let (_, id) = next_line(&mut stream_again).await;
    assert_eq!(offset(&id), size);
    server.shutdown().await.unwrap();
}

async fn truncation_starts_again_from_the_top(fw: Framework) {
    let dir = TempDir::new("sse-logs-truncate");
    let log = dir.path().join("app.log");
    std::fs::write(&log, "one\ntwo\n").unwrap();
    let server = start(fw, Config::default().with_log_file(&log)).await;
    let mut stream = open_logs(server.addr(), None).await;
    assert_eq!(next_line(&mut stream).await.0, line("log", "one"));
    assert_eq!(next_line(&mut stream).await.0, line("log", "two"));

    // Truncated in place (as `copytruncate` does), then written again: shorter than
    // before, which is how the follower tells a truncation.
    std::fs::File::create(&log).unwrap();
    append(&log, "fresh\n");
    let (fresh, id) = next_line(&mut stream).await;
    assert_eq!(fresh, line("log", "fresh"));
    assert_eq!(offset(&id), 6);
    server.shutdown().await.unwrap();
}

async fn rename_rotation_finishes_the_old_file_then_follows_the_new(fw: Framework) {
    let dir = TempDir::new("sse-logs-rotate");
    let log = dir.path().join("app.log");
    let rotated = dir.path().join("app.log.1");
    std::fs::write(&log, "old one\n").unwrap();
    let server = start(fw, Config::default().with_log_file(&log)).await;
    let mut stream = open_logs(server.addr(), None).await;
    let (old, old_id) = next_line(&mut stream).await;
    assert_eq!(old, line("log", "old one"));

    // Renamed away; a writer that still holds it adds an unfinished last line; then a new
    // file takes the name.
    std::fs::rename(&log, &rotated).unwrap();
    append(&rotated, "old last, unfinished");
    std::fs::write(&log, "new one\n").unwrap();
    assert_eq!(
        next_line(&mut stream).await.0,
        line("log", "old last, unfinished")
    );
    let (new, new_id) = next_line(&mut stream).await;
    assert_eq!(new, line("log", "new one"));
    assert_ne!(
        old_id.split_once('-').unwrap().0,
        new_id.split_once('-').unwrap().0,
        "the file part of the id changes with the file"
    );

    // A client that last saw the old file gets the new one from its start.
    let mut resumed = open_logs(server.addr(), Some(&old_id)).await;
    assert_eq!(next_line(&mut resumed).await.0, line("log", "new one"));
    server.shutdown().await.unwrap();
}

async fn an_overlong_line_is_cut(fw: Framework) {
    let dir = TempDir::new("sse-logs-long");
    let log = dir.path().join("app.log");
    std::fs::write(&log, "start\n").unwrap();
    let server = start(fw, Config::default().with_log_file(&log)).await;
    let mut stream = open_logs(server.addr(), None).await;
    // The file is opened on the stream's first poll: what follows is appended after it.
    assert_eq!(next_line(&mut stream).await.0, line("log", "start"));

    // Longer than a read, and with a multi-byte character across the cut.
    let long = format!("{}é{}\n", "x".repeat(MAX_LINE - 1), "y".repeat(100_000));
    append(&log, &long);
    append(&log, "short\n");
    let (cut, _) = next_line(&mut stream).await;
    assert_eq!(
        cut,
        line("log", &format!("{}{CUT_MARKER}", "x".repeat(MAX_LINE - 1)))
    );
    let (short, id) = next_line(&mut stream).await;
    assert_eq!(short, line("log", "short"));
    assert_eq!(offset(&id), 6 + long.len() as u64 + 6);
    server.shutdown().await.unwrap();
}

async fn without_a_log_file_the_route_is_404(fw: Framework) {
    let server = start(fw, Config::default()).await;
    let reply = get(server.addr(), "/logs").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.json()["error"], "no --log-file given");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_missing_log_file_stops_the_demo_at_start() {
    let dir = TempDir::new("sse-logs-missing");
    let missing = dir.path().join("nope.log");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = sse_examples::serve(Config::default().with_log_file(&missing), listener)
        .await
        .expect_err("a missing --log-file is refused");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    let message = err.to_string();
    assert!(message.starts_with("--log-file "), "{message}");
    assert!(message.contains("nope.log"), "{message}");

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = sse_examples::serve(Config::default().with_log_file(dir.path()), listener)
        .await
        .expect_err("a directory is refused");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().ends_with("not a regular file"), "{err}");
}

per_framework!(
    appends_and_errors_stream_and_a_reconnect_resumes,
    without_a_log_file_the_route_is_404
);

mod file_logic {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn truncation() {
        truncation_starts_again_from_the_top(Framework::Axum).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn rename_rotation() {
        rename_rotation_finishes_the_old_file_then_follows_the_new(Framework::Axum).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn overlong_line() {
        an_overlong_line_is_cut(Framework::Axum).await;
    }
}
