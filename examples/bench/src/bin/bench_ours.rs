//! `bench_ours`: the benchmark server built on this toolkit: sse-core's broadcast
//! [`Hub`] (one encoded event shared by every subscriber, a cursor per
//! subscriber, no task or channel per client) served by the adapter of the chosen framework
//! (`sse-axum`'s `Sse`, `sse-actix`'s `Sse`, `sse-warp`'s reply) with the toolkit's
//! keep-alive.
//!
//! ```text
//! cargo run --release -p sse-bench --bin bench_ours -- --framework axum|actix|warp \
//!     --addr 127.0.0.1:4000 --heartbeat-ms 1000
//! ```
//!
//! axum and warp apps are served by `sse_tower::serve`, as the demo serves them;
//! `--serve framework` serves them with `axum::serve`/`warp::serve` instead, `--serve http1`
//! with hyper's HTTP/1 connection alone, to measure what each costs per connection.
//!
//! Routes: `GET /events`, `POST /publish?n=&size=&rate=`, `GET /stats` (see `scripts/bench`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use futures_util::FutureExt;
use sse_bench::{PublishParams, ServerArgs};
use sse_core::hub::{Hub, HubConfig};
use sse_core::{Event, Heartbeat};

const TOPIC: &str = "bench";

/// What every framework's handlers share.
#[derive(Clone)]
struct State {
    hub: Hub,
    published: Arc<AtomicU64>,
    heartbeat: Duration,
}

impl State {
    fn new(args: &ServerArgs) -> Self {
        let capacity = args.capacity.max(1);
        let config = HubConfig::new()
            .replay_capacity(capacity)
            .replay_bytes(capacity * 512)
            .queue_bound(capacity);
        Self {
            hub: Hub::new(config),
            published: Arc::new(AtomicU64::new(0)),
            heartbeat: args.heartbeat(),
        }
    }

    fn heartbeat(&self) -> Heartbeat {
        Heartbeat::every(self.heartbeat)
    }

    fn publish(&self, query: &str) {
        let params = PublishParams::from_query(query);
        let hub = self.hub.clone();
        tokio::spawn(sse_bench::run_publisher(
            params,
            self.published.clone(),
            move |data| {
                // The in-memory hub publishes at once: nothing to wait for.
                let _ = hub.publish(TOPIC, Event::data(&data)).now_or_never();
            },
        ));
    }

    fn stats(&self) -> String {
        sse_bench::stats_json(
            self.hub.stats().active_subscribers,
            self.published.load(Ordering::Relaxed),
        )
    }
}

async fn serve_axum(args: ServerArgs) -> std::io::Result<()> {
    sse_bench::watch_runtime();
    use axum::extract::{RawQuery, State as S};
    use axum::routing::{get, post};

    let state = State::new(&args);
    let app = axum::Router::new()
        .route(
            "/events",
            get(|S(state): S<State>| async move {
                sse_axum::Sse::new(state.hub.subscribe([TOPIC], None).batches())
                    .heartbeat(state.heartbeat())
            }),
        )
        .route(
            "/publish",
            post(|S(state): S<State>, RawQuery(query): RawQuery| async move {
                state.publish(query.as_deref().unwrap_or(""));
                "started\n"
            }),
        )
        .route(
            "/stats",
            get(|S(state): S<State>| async move { state.stats() }),
        )
        .with_state(state);
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    match args.serve_mode("toolkit") {
        "framework" => axum::serve(listener, app).await,
        mode => sse_bench::serve_tower(mode, listener, app).await,
    }
}

async fn serve_warp(args: ServerArgs) -> std::io::Result<()> {
    sse_bench::watch_runtime();
    use warp::Filter;

    let state = State::new(&args);
    let events = {
        let state = state.clone();
        warp::path("events").and(warp::get()).map(move || {
            sse_warp::Sse::new(state.hub.subscribe([TOPIC], None).batches())
                .heartbeat(state.heartbeat())
        })
    };
    let publish = {
        let state = state.clone();
        warp::path("publish")
            .and(warp::post())
            .and(warp::query::raw().or(warp::any().map(String::new)).unify())
            .map(move |query: String| {
                state.publish(&query);
                "started\n"
            })
    };
    let stats = warp::path("stats")
        .and(warp::get())
        .map(move || state.stats());
    let routes = events.or(publish).or(stats);
    if args.serve_mode("toolkit") == "framework" {
        warp::serve(routes).run(args.addr).await;
        return Ok(());
    }
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    sse_bench::serve_tower(args.serve_mode("toolkit"), listener, warp::service(routes)).await
}

fn serve_actix(args: ServerArgs) -> std::io::Result<()> {
    use actix_web::{web, App, HttpRequest};

    actix_web::rt::System::new().block_on(async move {
        let state = web::Data::new(State::new(&args));
        sse_bench::serve_actix(args.addr, move || {
            // Runs on each worker: every worker is a runtime of its own.
            sse_bench::watch_runtime();
            App::new()
                .app_data(state.clone())
                .route(
                    "/events",
                    web::get().to(|state: web::Data<State>| async move {
                        sse_actix::Sse::from_stream(state.hub.subscribe([TOPIC], None).batches())
                            .with_heartbeat(state.heartbeat())
                    }),
                )
                .route(
                    "/publish",
                    web::post().to(|state: web::Data<State>, req: HttpRequest| async move {
                        state.publish(req.query_string());
                        "started\n"
                    }),
                )
                .route(
                    "/stats",
                    web::get().to(|state: web::Data<State>| async move { state.stats() }),
                )
        })
        .await
    })
}

fn main() -> std::io::Result<()> {
    let args = ServerArgs::parse();
    match args.framework.as_str() {
        "actix" => serve_actix(args),
        "axum" | "warp" => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            if args.framework == "axum" {
                runtime.block_on(serve_axum(args))
            } else {
                runtime.block_on(serve_warp(args))
            }
        }
        other => Err(std::io::Error::other(format!(
            "unknown framework {other:?} (axum, actix or warp)"
        ))),
    }
}
