//! The floor served by hyper alone and by actix-web's `HttpServer` puts the same events on the
//! wire, so the two can be set against each other (and against `bench_ours`) event for event.

use std::net::SocketAddr;

use sse_bench::payload_nanos;
use sse_testkit::{Request, DEADLINE};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Starts `bench_floor --framework <framework>` on a port the kernel picks, killed on drop;
/// returns once it has said where it listens.
async fn start_floor(framework: &str) -> (tokio::process::Child, SocketAddr) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_bench_floor"))
        .args(["--framework", framework, "--addr", "127.0.0.1:0"])
        .args(["--heartbeat-ms", "60000"])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn bench_floor");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    tokio::time::timeout(DEADLINE, BufReader::new(stdout).read_line(&mut line))
        .await
        .unwrap_or_else(|_| panic!("{framework}: never listened"))
        .expect("read stdout");
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| panic!("{framework}: said {line:?}"));
    (child, addr)
}

/// `POST path` on a connection of its own; the response head's status line.
async fn post(addr: SocketAddr, path: &str) -> String {
    let mut socket = TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    socket.write_all(request.as_bytes()).await.expect("send");
    let mut response = String::new();
    tokio::time::timeout(DEADLINE, socket.read_to_string(&mut response))
        .await
        .expect("no response within the deadline")
        .expect("read");
    response.lines().next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn both_floors_send_the_same_events() {
    let mut bodies = Vec::new();
    for framework in ["hyper", "actix"] {
        let (_floor, addr) = start_floor(framework).await;
        let mut stream = Request::get(addr, "/events").send().await;
        assert_eq!(
            stream.header("content-type"),
            Some("text/event-stream"),
            "{framework}"
        );
        assert_eq!(
            stream.header("cache-control"),
            Some("no-cache"),
            "{framework}"
        );

        assert_eq!(
            post(addr, "/publish?n=3&size=40").await,
            "HTTP/1.1 200 OK",
            "{framework}"
        );
        let mut wire = String::new();
        let mut masked = String::new();
        for seq in 0..3 {
            let message = stream.next_event().await;
            assert_eq!(message.event, "message", "{framework}");
            assert_eq!(message.last_event_id, seq.to_string(), "{framework}");
            assert_eq!(message.data.len(), 40, "{framework}");
            assert!(payload_nanos(&message.data).is_some(), "{framework}");
            wire.push_str(&format!("id: {seq}\ndata: {}\n\n", message.data));
            // The send time differs from run to run; nothing else may.
            let (_, rest) = message.data.split_once(' ').expect("a payload");
            masked.push_str(&format!("id: {seq}\ndata: <nanos> {rest}\n\n"));
        }
        assert_eq!(stream.raw(), wire.as_bytes(), "{framework}: wire bytes");
        bodies.push(masked);
    }
    assert_eq!(bodies[0], bodies[1], "hyper and actix-web floors differ");
}
