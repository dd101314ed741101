//! axum glue: routes to the [`App`] handlers and turns their [`Reply`] into responses, under
//! `SseLayer`, `CompressionLayer` and `CorsLayer`. It uses sse-axum's own API: the
//! `LastEventId` extractor, the `Sse` responder, and the `SseLayer`'s stats for `/stats`.
//!
//! # Example
//!
//! ```no_run
//! use sse_examples::{App, Config};
//!
//! # #[tokio::main]
//! # async fn main() -> std::io::Result<()> {
//! let app = App::new(Config::default());
//! // The router can be nested into a bigger one; `serve` runs it with graceful shutdown.
//! let _router: axum::Router = sse_examples::axum::router(app.clone());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! sse_examples::axum::serve(app, listener, None).await
//! # }
//! ```

use std::io;

use ::axum::body::Body;
use ::axum::extract::{RawQuery, State};
use ::axum::http::{header, HeaderMap, HeaderValue, Method};
use ::axum::response::{IntoResponse, Response};
use ::axum::routing::{any, get};
use ::axum::{Extension, Router};
use futures_util::TryStreamExt;
use sse_axum::{LastEventId, LastEventIdRejection, Sse};
use sse_core::SseStats;
use sse_tower::serve::tls::ServerConfig;
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;

use crate::app::{App, BodyError, EventStream, Reply, StreamHandler};
use crate::layers;

/// The app's router, with its middleware (compression and CORS outside `SseLayer`).
pub fn router(app: App) -> Router {
    let sse = layers::sse(app.config());
    // The layer counts every SSE response body it passes, from start to drop: `/stats`
    // reads that count instead of keeping its own.
    let streams = sse.stats();
    Router::new()
        .route("/", get(index))
        .route("/events", get(events))
        .route("/publish", any(publish))
        .route("/progress", get(progress))
        .route("/clock", get(clock))
        .route("/stats", get(stats))
        .route("/metrics", get(metrics))
        .route("/logs", get(logs))
        .route("/health", get(health))
        .with_state(app)
        .layer(Extension(streams))
        .layer(sse)
        .layer(CompressionLayer::new())
        .layer(layers::cors())
}

/// Serves the app until [`App::shutdown`], then finishes the open connections
/// (HTTP/1.1 and HTTP/2; over TLS with `tls`, HTTP/2 by ALPN), with the config's
/// head-read and idle timeouts.
///
/// `sse_tower::serve` rather than `axum::serve`: it keeps an idle event stream's connection
/// about 8 KB smaller (see `BENCHMARKS.md`), and it times out slow and silent clients.
///
/// # Errors
///
/// None so far: accept errors are logged and retried.
pub async fn serve(app: App, listener: TcpListener, tls: Option<ServerConfig>) -> io::Result<()> {
    let router = router(app.clone());
    layers::serve(&app, listener, router, tls).await
}

fn respond(reply: Reply) -> Response {
    reply.into_http(Body::from, |stream: EventStream| {
        Sse::new(stream.events)
            .retry(stream.retry)
            .shutdown(stream.end, None)
            .into_response()
    })
}

async fn index(State(app): State<App>) -> Response {
    respond(app.index())
}

/// An event-stream route that reads the token and the Last-Event-ID ([`App::events`],
/// [`App::logs`]).
fn stream_route(
    app: &App,
    handler: StreamHandler,
    headers: &HeaderMap,
    query: Option<&str>,
    // `Option` is `None` without an id; the `Result` keeps a malformed one for the app,
    // which checks the token first.
    last_event_id: Result<Option<LastEventId>, LastEventIdRejection>,
) -> Response {
    let last_event_id = match last_event_id {
        Ok(id) => Ok(id.map(LastEventId::into_inner)),
        Err(LastEventIdRejection::Invalid(err)) => Err(err),
        // `Option<LastEventId>` rejects a malformed id only.
        Err(_) => Ok(None),
    };
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    respond(handler(app, authorization, query, last_event_id))
}

async fn events(
    State(app): State<App>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    last_event_id: Result<Option<LastEventId>, LastEventIdRejection>,
) -> Response {
    stream_route(&app, App::events, &headers, query.as_deref(), last_event_id)
}

async fn logs(
    State(app): State<App>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    last_event_id: Result<Option<LastEventId>, LastEventIdRejection>,
) -> Response {
    stream_route(&app, App::logs, &headers, query.as_deref(), last_event_id)
}

async fn publish(
    State(app): State<App>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Body,
) -> Response {
    let body = body.into_data_stream().map_err(BodyError::new);
    respond(app.publish(&method, &headers, query.as_deref(), body).await)
}

async fn progress(State(app): State<App>) -> Response {
    respond(app.progress())
}

async fn clock(State(app): State<App>) -> Response {
    respond(app.clock())
}

async fn stats(State(app): State<App>, Extension(streams): Extension<SseStats>) -> Response {
    respond(app.stats(&streams))
}

async fn metrics(State(app): State<App>, Extension(streams): Extension<SseStats>) -> Response {
    respond(app.metrics(&streams))
}

async fn health(State(app): State<App>) -> Response {
    respond(app.health())
}
