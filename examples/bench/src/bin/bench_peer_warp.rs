//! `bench_peer_warp`: the benchmark peer built on warp 0.4's own SSE (`warp::sse`), written
//! the way warp users write it: a `tokio::sync::broadcast` of the message, each subscriber
//! building warp's `Event`, warp's keep-alive.
//!
//! ```text
//! cargo run --release -p sse-bench --bin bench_peer_warp -- --addr 127.0.0.1:4000 --heartbeat-ms 1000
//! ```
//!
//! `--serve http1` serves the same filters with hyper's HTTP/1 connection alone instead of
//! `warp::serve` (to compare with `bench_ours --serve http1`).
//!
//! Routes: `GET /events`, `POST /publish?n=&size=&rate=`, `GET /stats` (see `scripts/bench`).

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use clap::Parser;
use futures_util::StreamExt;
use sse_bench::{PublishParams, ServerArgs};
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;
use warp::Filter;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    sse_bench::watch_runtime();
    let args = ServerArgs::parse();
    let (tx, _) = broadcast::channel::<String>(args.capacity);
    let published = Arc::new(AtomicU64::new(0));
    let heartbeat = args.heartbeat();

    let events = {
        let tx = tx.clone();
        warp::path("events").and(warp::get()).map(move || {
            let stream = BroadcastStream::new(tx.subscribe()).filter_map(|msg| async move {
                msg.ok()
                    .map(|data| Ok::<_, Infallible>(warp::sse::Event::default().data(data)))
            });
            warp::sse::reply(warp::sse::keep_alive().interval(heartbeat).stream(stream))
        })
    };
    let publish = {
        let tx = tx.clone();
        let published = published.clone();
        warp::path("publish")
            .and(warp::post())
            .and(warp::query::raw().or(warp::any().map(String::new)).unify())
            .map(move |query: String| {
                let tx = tx.clone();
                let params = PublishParams::from_query(&query);
                tokio::spawn(sse_bench::run_publisher(
                    params,
                    published.clone(),
                    move |data| {
                        let _ = tx.send(data);
                    },
                ));
                "started\n"
            })
    };
    let stats = {
        let published = published.clone();
        warp::path("stats").and(warp::get()).map(move || {
            sse_bench::stats_json(tx.receiver_count(), published.load(Ordering::Relaxed))
        })
    };
    let routes = events.or(publish).or(stats);
    if args.serve_mode("framework") == "framework" {
        warp::serve(routes).run(args.addr).await;
        return Ok(());
    }
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    sse_bench::serve_tower(
        args.serve_mode("framework"),
        listener,
        warp::service(routes),
    )
    .await
}
