//! Resident memory per idle client: 1 000 open event sources of one kind in one process
//! (sse-client, LaunchDarkly's eventsource-client 0.18, reqwest-eventsource 0.6), each
//! holding a stream of a local server that sent one event and then nothing.
//!
//! `cargo bench -p sse-client --bench idle` (`SSE_IDLE_CLIENTS=N` for another count)
//!
//! A fourth row, `reqwest 0.13, body only`, holds plain reqwest 0.13 responses read chunk by
//! chunk with no SSE on top: the share of sse-client's figure that is its HTTP client's.
//!
//! Every kind runs in a child process of its own (so one's freed memory is not another's
//! baseline), three rounds in turn; the server runs in this process. A child builds its
//! shared HTTP client, opens one warm-up stream, reads its resident memory (`VmRSS`), opens
//! the others, waits until each has received the server's event, then reads it again. Each
//! stream is read by a task of its own on a single-threaded runtime, as a service would.

mod clients;

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use clients::{Clients, Kind};

/// Set in a child process: the kind of client it opens.
const KIND_VAR: &str = "SSE_IDLE_KIND";
/// Set in a child process: the server's URL.
const URL_VAR: &str = "SSE_IDLE_URL";
/// How many idle clients, 1 000 unless set.
const COUNT_VAR: &str = "SSE_IDLE_CLIENTS";
const ROUNDS: usize = 3;
/// The baseline row's name: reqwest 0.13 responses with no SSE client on top.
const BARE_REQWEST: &str = "reqwest 0.13, body only";

fn main() {
    let count: usize = std::env::var(COUNT_VAR)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    match (std::env::var(KIND_VAR), std::env::var(URL_VAR)) {
        (Ok(kind), Ok(url)) => {
            let kind = Kind::from_name(&kind);
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            let (before, after) = runtime.block_on(open_idle(kind, &url, count));
            println!("{before} {after}");
        }
        _ => compare(count),
    }
}

/// Runs every kind in child processes, [`ROUNDS`] times, and prints KiB per client.
fn compare(count: usize) {
    let url = format!("http://{}/events", serve_one_event());
    let exe = std::env::current_exe().expect("the bench's own path");
    println!("{count} idle clients per process; resident memory per client (KiB), {ROUNDS} rounds");
    let names = Kind::ALL.map(Kind::name);
    let mut table: Vec<(&str, Vec<f64>)> = names
        .into_iter()
        .chain([BARE_REQWEST])
        .map(|name| (name, Vec::new()))
        .collect();
    for _ in 0..ROUNDS {
        for (kind, rounds) in &mut table {
            let output = Command::new(&exe)
                .env(KIND_VAR, *kind)
                .env(URL_VAR, &url)
                .env(COUNT_VAR, count.to_string())
                .output()
                .expect("the child runs");
            let text = String::from_utf8_lossy(&output.stdout);
            assert!(
                output.status.success(),
                "{kind}: {text} {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let kib: Vec<f64> = text
                .split_whitespace()
                .filter_map(|n| n.parse().ok())
                .collect();
            let [before, after] = kib[..] else {
                panic!("{kind}: unexpected output {text:?}");
            };
            rounds.push((after - before) / count as f64);
        }
    }
    println!("| client | KiB per idle client (rounds) | median |");
    println!("|---|---|---|");
    for (kind, mut rounds) in table {
        let shown: Vec<String> = rounds.iter().map(|kib| format!("{kib:.1}")).collect();
        rounds.sort_by(f64::total_cmp);
        println!(
            "| {kind} | {} | {:.1} |",
            shown.join(", "),
            rounds[ROUNDS / 2]
        );
    }
}

/// Opens `count` streams of `kind` (plain reqwest 0.13 responses if `None`); the resident
/// memory (KiB) with one stream open, and with all of them open and each having received
/// the server's event.
async fn open_idle(kind: Option<Kind>, url: &str, count: usize) -> (u64, u64) {
    let clients = Clients::new();
    let bare = reqwest::Client::new();
    let (opened, mut open) = mpsc::unbounded_channel();
    let spawn = |opened: mpsc::UnboundedSender<()>| {
        let Some(kind) = kind else {
            let response = bare.get(url).send();
            return tokio::spawn(async move {
                let mut response = response.await.expect("a response");
                let mut first = true;
                while let Some(_chunk) = response.chunk().await.expect("a healthy body") {
                    if std::mem::take(&mut first) {
                        let _ = opened.send(());
                    }
                }
            });
        };
        let mut events = clients.events(kind, url);
        tokio::spawn(async move {
            let mut first = true;
            while let Some(event) = events.next().await {
                event.expect("the stream stays healthy");
                if std::mem::take(&mut first) {
                    let _ = opened.send(());
                }
            }
        })
    };
    let mut tasks = vec![spawn(opened.clone())];
    wait_for(&mut open, 1).await;
    let before = resident_kib();
    tasks.extend((1..count).map(|_| spawn(opened.clone())));
    wait_for(&mut open, count - 1).await;
    // Let the allocator settle after the burst of connects.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = resident_kib();
    for task in tasks {
        task.abort();
    }
    (before, after)
}

async fn wait_for(open: &mut mpsc::UnboundedReceiver<()>, count: usize) {
    let all = async {
        for _ in 0..count {
            open.recv()
                .await
                .expect("a client task ended before its first event");
        }
    };
    tokio::time::timeout(Duration::from_secs(120), all)
        .await
        .expect("every client opens within 2 minutes");
}

/// `VmRSS` of this process, in KiB.
fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

/// A server on its own thread that answers every request with the SSE headers and one event,
/// then holds the connection open, sending nothing, until the client closes it.
fn serve_one_event() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.set_nonblocking(true).expect("non-blocking");
    let addr = listener.local_addr().expect("its address");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    continue;
                };
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0; 1024];
                    while !head.ends_with(b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let reply = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\nid: 1\ndata: hello\n\n";
                    if socket.write_all(reply).await.is_err() {
                        return;
                    }
                    // Idle until the client hangs up.
                    while matches!(socket.read(&mut buf).await, Ok(n) if n > 0) {}
                });
            }
        });
    });
    addr
}
