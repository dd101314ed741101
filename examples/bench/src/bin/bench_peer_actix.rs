//! `bench_peer_actix`: the benchmark peer built on actix-web-lab 0.29's SSE
//! (`actix_web_lab::sse`), written the way actix users write it: a `tokio::sync::broadcast`
//! of the message, each subscriber building actix-web-lab's `sse::Event`, its keep-alive.
//!
//! ```text
//! cargo run --release -p sse-bench --bin bench_peer_actix -- --addr 127.0.0.1:4000 --heartbeat-ms 1000
//! ```
//!
//! Routes: `GET /events`, `POST /publish?n=&size=&rate=`, `GET /stats` (see `scripts/bench`).

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpServer, Responder};
use actix_web_lab::sse;
use clap::Parser;
use futures_util::StreamExt;
use sse_bench::{PublishParams, ServerArgs};
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;

struct AppState {
    tx: broadcast::Sender<String>,
    published: Arc<AtomicU64>,
    heartbeat: Duration,
}

async fn events(state: web::Data<AppState>) -> impl Responder {
    let stream = BroadcastStream::new(state.tx.subscribe()).filter_map(|msg| async move {
        msg.ok()
            .map(|data| Ok::<_, Infallible>(sse::Event::Data(sse::Data::new(data))))
    });
    sse::Sse::from_stream(stream).with_keep_alive(state.heartbeat)
}

async fn publish(state: web::Data<AppState>, req: HttpRequest) -> impl Responder {
    let params = PublishParams::from_query(req.query_string());
    let tx = state.tx.clone();
    actix_web::rt::spawn(sse_bench::run_publisher(
        params,
        state.published.clone(),
        move |data| {
            let _ = tx.send(data);
        },
    ));
    "started\n"
}

async fn stats(state: web::Data<AppState>) -> impl Responder {
    sse_bench::stats_json(
        state.tx.receiver_count(),
        state.published.load(Ordering::Relaxed),
    )
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args = ServerArgs::parse();
    let (tx, _) = broadcast::channel(args.capacity);
    let state = web::Data::new(AppState {
        tx,
        published: Arc::new(AtomicU64::new(0)),
        heartbeat: args.heartbeat(),
    });
    HttpServer::new(move || {
        // Runs on each worker: every worker is a runtime of its own.
        sse_bench::watch_runtime();
        App::new()
            .app_data(state.clone())
            .route("/events", web::get().to(events))
            .route("/publish", web::post().to(publish))
            .route("/stats", web::get().to(stats))
    })
    .backlog(4096)
    .bind(args.addr)?
    .run()
    .await
}
