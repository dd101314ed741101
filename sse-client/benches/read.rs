//! Events per second and CPU per event for one client reading a fast local stream, for
//! sse-client and the two clients it is compared with (LaunchDarkly's eventsource-client
//! 0.18, reqwest-eventsource 0.6), reading the same server in the same run: 100-byte events,
//! and 4 KiB multi-line events.
//!
//! `cargo bench -p sse-client --bench read` (`-- read/` for events/s only, `-- cpu/` for the
//! client's CPU only)
//!
//! The server runs on its own thread and runtime and writes a prepared body as fast as the
//! socket takes it; each iteration opens a new event source (a new plain HTTP/1.1
//! connection, through HTTP clients built once), reads every event of one body, and drops
//! the event source. The `read/` groups measure wall-clock time (so
//! events/s); the `cpu/` groups measure the CPU time of the client's thread alone (its
//! runtime is single-threaded and the server is another thread), so their "throughput" is
//! events per CPU-second of the client: CPU per million events is 10^6 divided by it.

mod clients;
mod events;

use std::net::SocketAddr;
use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures_util::StreamExt;
use sse_core::Event;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::runtime::Runtime;

use clients::{Clients, Kind};
use events::{large_event, small_event};

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

/// Opens a new event source of `kind` on `url` (a new connection, through the shared
/// `clients`) and reads `count` events.
async fn read_events(clients: &Clients, kind: Kind, url: &str, count: usize) {
    let mut events = clients.events(kind, url).take(count);
    while let Some(event) = events.next().await {
        if let Err(err) = event {
            panic!("{err}");
        }
    }
}

/// The CPU time of the calling thread, from `/proc/thread-self/schedstat` (nanoseconds on
/// the CPU; no `unsafe` `clock_gettime` needed).
#[derive(Debug)]
struct ThreadCpu;

fn thread_cpu_ns() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat")
        .expect("this bench reads /proc/thread-self/schedstat (Linux)");
    stat.split_whitespace()
        .next()
        .and_then(|ns| ns.parse().ok())
        .expect("schedstat starts with the nanoseconds on the CPU")
}

impl Measurement for ThreadCpu {
    type Intermediate = u64;
    type Value = Duration;

    fn start(&self) -> u64 {
        thread_cpu_ns()
    }
    fn end(&self, start: u64) -> Duration {
        Duration::from_nanos(thread_cpu_ns().saturating_sub(start))
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        // Nanoseconds, as wall-clock time is.
        static WALL_TIME: WallTime = WallTime;
        WALL_TIME.formatter()
    }
}

/// One group per event size, named `{prefix}/{size}`, each client reading the same server.
fn read_with<M: Measurement>(c: &mut Criterion<M>, prefix: &str) {
    let runtime: Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Long bodies, so that opening the connection is a small part of each iteration: an
    // event stream is read for far longer than it takes to open.
    let cases = [
        ("100B", 50_000, small_event as MakeEvent),
        ("4KiB-multiline", 2_000, large_event),
    ];
    // Built once, as a service builds its HTTP clients once and opens every stream
    // through them.
    let clients = Clients::new();
    for (name, count, event) in cases {
        let body = body(count, event);
        let wire_bytes = body.len() / count;
        let url = format!("http://{}/events", serve(body));
        let mut group = c.benchmark_group(format!("{prefix}/{name}"));
        group.throughput(Throughput::Elements(count as u64));
        group.sample_size(20);
        group.measurement_time(Duration::from_secs(6));
        eprintln!(
            "{prefix}/{name}: {count} events of {wire_bytes} bytes on the wire per connection"
        );
        for kind in Kind::ALL {
            group.bench_function(kind.name(), |b| {
                b.iter(|| runtime.block_on(read_events(&clients, kind, &url, count)));
            });
        }
        group.finish();
    }
}

fn read(c: &mut Criterion) {
    read_with(c, "read");
}

fn cpu(c: &mut Criterion<ThreadCpu>) {
    read_with(c, "cpu");
}

criterion_group!(wall_clock, read);
criterion_group! {
    name = client_cpu;
    config = Criterion::default().with_measurement(ThreadCpu);
    targets = cpu
}
criterion_main!(wall_clock, client_cpu);
