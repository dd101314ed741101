//! The floor served by hyper alone and by actix-web's `HttpServer` puts the same events on the
//! wire, so the two can be set against each other (and against `bench_ours`) event for event.

use std::net::SocketAddr;
use std::time::Duration;

use sse_bench::payload_nanos;
use sse_testkit::{Request, DEADLINE};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Starts `bench_floor --framework <framework>` on a free loopback port, killed on drop.
async fn start_floor(framework: &str) -> (tokio::process::Child, SocketAddr) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_bench_floor"))
        .args(["--framework", framework, "--addr", &addr.to_string()])
        .args(["--heartbeat-ms", "60000"])
        .kill_on_drop(true)
        .spawn()
        .expect("spawn bench_floor");
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while TcpStream::connect(addr).await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{framework}: never listened"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
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
