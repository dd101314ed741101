//! Events per second for one client reading a fast local stream, for sse-client and the two
//! clients it is compared with (LaunchDarkly's eventsource-client 0.18, reqwest-eventsource
//! 0.6), reading the same server in the same run: 100-byte events, and 4 KiB multi-line
//! events.
//!
//! `cargo bench -p sse-client --bench read`
//!
//! The server runs on its own thread and runtime and writes a prepared body as fast as the
//! socket takes it; each iteration connects a new client (over plain HTTP/1.1), reads every
//! event of one body, and drops the client.

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures_util::StreamExt;
use sse_core::Event;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::runtime::Runtime;

/// Events of about 100 bytes on the wire: a type, an id and a small JSON document.
fn small_event(n: usize) -> Event {
    let json = format!(r#"{{"user":"ada","seq":"{n:08}","action":"update","pad":"xxxxxxx"}}"#);
    Event::builder()
        .event("update")
        .id(n.to_string())
        .data(json)
        .build()
        .unwrap()
}

/// Events with 4 KiB of data in 64 lines.
fn large_event(n: usize) -> Event {
    let line = "y".repeat(63);
    let data = vec![line; 64].join("\n");
    Event::builder()
        .id(n.to_string())
        .data(data)
        .build()
        .unwrap()
}

/// Builds the `n`th event of a body.
type MakeEvent = fn(usize) -> Event;

/// A response body of `count` events.
fn body(count: usize, event: MakeEvent) -> Vec<u8> {
    let mut body = Vec::new();
    for n in 0..count {
        body.extend_from_slice(event(n).as_bytes());
    }
    body
}

/// A server that answers every request with `body` and closes, on its own thread.
fn serve(body: Vec<u8>) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let body: &'static [u8] = body.leak();
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0; 1024];
                    while !head.ends_with(b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n";
                    // A client that has read enough hangs up: a failed write is expected.
                    if socket.write_all(head).await.is_ok() {
                        let _ = socket.write_all(body).await;
                    }
                });
            }
        });
    });
    addr
}

async fn sse_client(url: &str, count: usize) {
    use sse_client::{EventSource, Item};

    let client = reqwest::Client::new();
    let request = client.get(url).build().unwrap();
    let mut events = EventSource::new(client, request);
    let mut read = 0;
    while read < count {
        match events.next().await {
            Some(Ok(Item::Event(event))) => {
                black_box(event);
                read += 1;
            }
            Some(Ok(_)) => {}
            other => panic!("sse-client: {other:?}"),
        }
    }
}

async fn eventsource_client(url: &str, count: usize) {
    use es::Client as _;
    use eventsource_client as es;

    let transport = launchdarkly_sdk_transport::HyperTransport::builder()
        .build_http()
        .unwrap();
    let client = es::ClientBuilder::for_url(url)
        .unwrap()
        .reconnect(es::ReconnectOptions::reconnect(false).build())
        .build_with_transport(transport);
    let mut events = client.stream();
    let mut read = 0;
    while read < count {
        match events.next().await {
            Some(Ok(es::SSE::Event(event))) => {
                black_box(event);
                read += 1;
            }
            Some(Ok(_)) => {}
            other => panic!("eventsource-client: {other:?}"),
        }
    }
}

async fn reqwest_eventsource(url: &str, count: usize) {
    use reqwest_eventsource::{Event, EventSource};

    let mut events = EventSource::get(url);
    let mut read = 0;
    while read < count {
        match events.next().await {
            Some(Ok(Event::Message(event))) => {
                black_box(event);
                read += 1;
            }
            Some(Ok(Event::Open)) => {}
            other => panic!("reqwest-eventsource: {other:?}"),
        }
    }
}

fn read(c: &mut Criterion) {
    let runtime: Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let cases = [
        ("100B", 10_000, small_event as MakeEvent),
        ("4KiB-multiline", 1_000, large_event),
    ];
    for (name, count, event) in cases {
        let body = body(count, event);
        let wire_bytes = body.len() / count;
        let url = format!("http://{}/events", serve(body));
        let mut group = c.benchmark_group(format!("read/{name}"));
        group.throughput(Throughput::Elements(count as u64));
        group.sample_size(20);
        group.measurement_time(Duration::from_secs(6));
        eprintln!("read/{name}: {count} events of {wire_bytes} bytes on the wire per connection");
        group.bench_function("sse-client", |b| {
            b.iter(|| runtime.block_on(sse_client(&url, count)));
        });
        group.bench_function("eventsource-client", |b| {
            b.iter(|| runtime.block_on(eventsource_client(&url, count)));
        });
        group.bench_function("reqwest-eventsource", |b| {
            b.iter(|| runtime.block_on(reqwest_eventsource(&url, count)));
        });
        group.finish();
    }
}

criterion_group!(benches, read);
criterion_main!(benches);
