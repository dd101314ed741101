//! `GET /metrics` over real sockets on every framework, read with a parser of the Prometheus
//! text format (`prometheus-parse`): the values move as streams open, events flow,
//! heartbeats go out and streams close, each close under its reason (client gone, ended,
//! shutdown signal, evicted as slow).

mod support;

use std::collections::HashMap;
use std::net::SocketAddr;

use http::StatusCode;
use prometheus_parse::{Scrape, Value};
use serde_json::json;
use sse_examples::{Config, Framework};
use sse_testkit::{Request, SseResponse, DEADLINE};
use support::{get, per_framework, publish, start};

/// One scrape: `name{reason}` → value.
#[derive(Debug)]
struct Metrics(HashMap<String, f64>);

impl Metrics {
    fn get(&self, name: &str) -> f64 {
        *self
            .0
            .get(name)
            .unwrap_or_else(|| panic!("no sample {name} in {:?}", self.0))
    }

    fn closed(&self, reason: &str) -> f64 {
        self.get(&format!("sse_streams_closed_total{{reason={reason}}}"))
    }
}

async fn scrape(addr: SocketAddr) -> Metrics {
    let reply = get(addr, "/metrics").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/openmetrics-text")),
        "{:?}",
        reply.headers
    );
    let text = String::from_utf8(reply.body.to_vec()).expect("UTF-8");
    let scrape = Scrape::parse(text.lines().map(|line| Ok(line.to_owned()))).expect("parse");
    let mut samples = HashMap::new();
    for sample in scrape.samples {
        let value = match sample.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
            other => panic!("{}: unexpected {other:?}", sample.metric),
        };
        let name = match sample.labels.get("reason") {
            Some(reason) => format!("{}{{reason={reason}}}", sample.metric),
            None => sample.metric,
        };
        let labels: Vec<_> = sample.labels.keys().collect();
        assert!(
            labels.iter().all(|label| *label == "reason"),
            "{name}: only the reason label, got {labels:?}"
        );
        assert!(
            samples.insert(name.clone(), value).is_none(),
            "{name} twice"
        );
    }
    Metrics(samples)
}

/// Scrapes until `check` holds (a hang fails the test at the deadline).
async fn wait_for(addr: SocketAddr, what: &str, check: impl Fn(&Metrics) -> bool) -> Metrics {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let metrics = scrape(addr).await;
        if check(&metrics) {
            return metrics;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}; last {metrics:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn subscribe(addr: SocketAddr, path: &str, last_event_id: Option<&str>) -> SseResponse {
    let mut request = Request::get(addr, path);
    if let Some(id) = last_event_id {
        request = request.header("last-event-id", id);
    }
    let stream = request.send().await;
    assert_eq!(stream.status, StatusCode::OK);
    stream
}

async fn metrics_follow_streams_events_and_closes(fw: Framework) {
    let server = start(fw, Config::default().with_heartbeat_ms(50)).await;
    let addr = server.addr();
    let start = scrape(addr).await;
    for name in [
        "sse_streams_open",
        "sse_streams_opened_total",
        "sse_streams_rejected_total",
        "sse_events_published_total",
        "sse_subscribers",
    ] {
        assert_eq!(start.get(name), 0.0, "{name}");
    }
    for reason in ["client_gone", "ended", "error", "shutdown", "evicted_slow"] {
        assert_eq!(start.closed(reason), 0.0, "{reason}");
    }

    // A stream opens; events flow to it.
    let mut stream = subscribe(addr, "/events", None).await;
    wait_for(addr, "the stream is open", |m| {
        m.get("sse_streams_open") == 1.0 && m.get("sse_subscribers") == 1.0
    })
    .await;
    publish(addr, json!({"data": "one"})).await;
    let second = publish(addr, json!({"data": "two"})).await;
    assert_eq!(stream.next_event().await.data, "one");
    assert_eq!(stream.next_event().await.data, "two");
    let flowing = scrape(addr).await;
    assert_eq!(flowing.get("sse_streams_opened_total"), 1.0);
    assert_eq!(flowing.get("sse_events_published_total"), 2.0);
    assert_eq!(flowing.get("sse_events_delivered_total"), 2.0);
    assert_eq!(flowing.get("sse_ring_events"), 2.0);
    assert!(flowing.get("sse_ring_bytes") > 0.0);
    assert!(flowing.get("sse_written_bytes_total") >= stream.raw().len() as f64);

    // Idle: the middleware injects heartbeats, and counts them and their bytes.
    let beating = wait_for(addr, "a heartbeat", |m| {
        m.get("sse_heartbeats_total") >= 1.0
    })
    .await;
    assert!(beating.get("sse_written_bytes_total") > flowing.get("sse_written_bytes_total"));

    // The client goes away.
    stream.disconnect();
    let gone = wait_for(addr, "the stream is closed", |m| {
        m.get("sse_streams_open") == 0.0
    })
    .await;
    assert_eq!(gone.closed("client_gone"), 1.0);

    // It comes back with its Last-Event-ID (a replay), another with one long gone (a gap).
    publish(addr, json!({"data": "three"})).await;
    let mut resumed = subscribe(addr, "/events", Some(&second)).await;
    assert_eq!(resumed.next_event().await.data, "three");
    let mut lost = subscribe(addr, "/events", Some("0-999999")).await;
    assert_eq!(lost.next_event().await.event, "sse-gap");
    let replayed = scrape(addr).await;
    assert_eq!(replayed.get("sse_replays_total"), 1.0);
    assert_eq!(replayed.get("sse_gaps_total"), 1.0);
    // One event after the id, and the whole ring (three) after the gap.
    assert_eq!(replayed.get("sse_events_replayed_total"), 4.0);

    // The server's shutdown signal ends them (here the one that cuts every open stream).
    server.app().disconnect_all();
    resumed.read_to_end().await;
    lost.read_to_end().await;
    let cut = wait_for(addr, "both streams are closed", |m| {
        m.get("sse_streams_open") == 0.0
    })
    .await;
    assert_eq!(cut.closed("shutdown"), 2.0);
    assert_eq!(cut.closed("client_gone"), 1.0);

    // A stream that ends by itself.
    let mut progress = subscribe(addr, "/progress", None).await;
    progress.read_to_end().await;
    let ended = wait_for(addr, "the progress stream is closed", |m| {
        m.get("sse_streams_open") == 0.0
    })
    .await;
    assert_eq!(ended.closed("ended"), 1.0);
    assert_eq!(ended.get("sse_streams_opened_total"), 4.0);
    assert_eq!(ended.closed("error") + ended.closed("evicted_slow"), 0.0);
    server.shutdown().await.unwrap();
}

async fn the_stream_limit_counts_rejections(fw: Framework) {
    let server = start(fw, Config::default().with_max_connections(1)).await;
    let addr = server.addr();
    let _open = subscribe(addr, "/events", None).await;
    wait_for(addr, "the stream is open", |m| {
        m.get("sse_streams_open") == 1.0
    })
    .await;
    let turned_away = Request::get(addr, "/events").send().await;
    assert_eq!(turned_away.status, StatusCode::SERVICE_UNAVAILABLE);
    let metrics = scrape(addr).await;
    assert_eq!(metrics.get("sse_streams_rejected_total"), 1.0);
    assert_eq!(metrics.get("sse_streams_opened_total"), 1.0);
    server.shutdown().await.unwrap();
}

async fn a_subscriber_left_behind_is_counted_as_evicted(fw: Framework) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    // A ring of 4 events: a subscriber 4 events behind is ended as slow.
    let server = start(fw, Config::default().with_replay(4)).await;
    let addr = server.addr();
    // A client that sends its request and then reads nothing for a while.
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    socket
        .write_all(b"GET /events HTTP/1.1\r\nhost: x\r\naccept: text/event-stream\r\n\r\n")
        .await
        .unwrap();
    wait_for(addr, "the stream is open", |m| {
        m.get("sse_subscribers") == 1.0
    })
    .await;

    // More than loopback's socket buffers hold (a few MB), so the server stops writing to
    // it and the ring moves past what it has not read.
    let data = "x".repeat(60_000);
    for _ in 0..300 {
        publish(addr, json!({ "data": data })).await;
    }
    // Now it reads: what was buffered, then the end of the stream (the last chunk of a
    // chunked body on a connection kept alive, or the connection's end).
    let drained = tokio::time::timeout(DEADLINE, async {
        let mut buf = vec![0u8; 1 << 16];
        let mut tail = Vec::new();
        loop {
            let n = socket.read(&mut buf).await.unwrap();
            tail.extend_from_slice(&buf[..n]);
            tail.drain(..tail.len().saturating_sub(7));
            if n == 0 || tail == b"\r\n0\r\n\r\n" {
                return;
            }
        }
    })
    .await;
    assert!(drained.is_ok(), "the evicted stream ended");
    let evicted = wait_for(addr, "the stream is closed", |m| {
        m.get("sse_streams_open") == 0.0
    })
    .await;
    assert_eq!(evicted.closed("evicted_slow"), 1.0, "{evicted:?}");
    assert_eq!(evicted.closed("client_gone"), 0.0);
    server.shutdown().await.unwrap();
}

per_framework!(
    metrics_follow_streams_events_and_closes,
    the_stream_limit_counts_rejections,
    a_subscriber_left_behind_is_counted_as_evicted,
);
