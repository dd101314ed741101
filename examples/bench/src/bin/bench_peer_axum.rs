//! `bench_peer_axum`: the benchmark peer built on axum 0.8's own SSE
//! (`axum::response::sse::{Sse, Event, KeepAlive}`), written the way axum users write it: a
//! `tokio::sync::broadcast` of the message, each subscriber building axum's `Event`, axum's
//! keep-alive.
//!
//! ```text
//! cargo run --release -p sse-bench --bin bench_peer_axum -- --addr 127.0.0.1:4000 --heartbeat-ms 1000
//! ```
//!
//! `--serve http1` serves the same app with hyper's HTTP/1 connection alone instead of
//! `axum::serve` (to compare with `bench_ours --serve http1`).
//!
//! Routes: `GET /events`, `POST /publish?n=&size=&rate=`, `GET /stats` (see `scripts/bench`).

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{get, post};
use axum::Router;
use clap::Parser;
use futures_util::{Stream, StreamExt};
use sse_bench::{PublishParams, ServerArgs};
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;

#[derive(Clone)]
struct AppState {
    tx: broadcast::Sender<String>,
    published: Arc<AtomicU64>,
    heartbeat: Duration,
}

async fn events(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream = BroadcastStream::new(state.tx.subscribe())
        .filter_map(|msg| async move { msg.ok().map(|data| Ok(Event::default().data(data))) });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(state.heartbeat))
}

async fn publish(State(state): State<AppState>, RawQuery(query): RawQuery) -> &'static str {
    let params = PublishParams::from_query(query.as_deref().unwrap_or(""));
    tokio::spawn(sse_bench::run_publisher(
        params,
        state.published.clone(),
        move |data| {
            let _ = state.tx.send(data);
        },
    ));
    "started\n"
}

async fn stats(State(state): State<AppState>) -> String {
    sse_bench::stats_json(
        state.tx.receiver_count(),
        state.published.load(Ordering::Relaxed),
    )
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    sse_bench::watch_runtime();
    let args = ServerArgs::parse();
    let (tx, _) = broadcast::channel(args.capacity);
    let state = AppState {
        tx,
        published: Arc::new(AtomicU64::new(0)),
        heartbeat: args.heartbeat(),
    };
    let app = Router::new()
        .route("/events", get(events))
        .route("/publish", post(publish))
        .route("/stats", get(stats))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    match args.serve_mode("framework") {
        "framework" => axum::serve(listener, app).await,
        mode => sse_bench::serve_tower(mode, listener, app).await,
    }
}
