//! Server-Sent Events for actix-web 4, on [`sse_core`]'s one event model.
//!
//! - [`Sse`]: the responder, a stream of [`Event`]s served as `text/event-stream`, with
//!   heartbeats, a leading `retry:` and a shutdown signal;
//! - [`LastEventId`]: the extractor for the id a reconnecting client sends;
//! - [`middleware::SseMiddleware`]: SSE headers, no compression, heartbeats at event
//!   boundaries and a stream limit for any SSE response, the actix twin of sse-tower's
//!   `SseLayer`.
//!
//! # Example
//!
//! A ticker with ids that resumes where a reconnecting client left off: the client sends
//! the id of the last event it saw, and the count goes on after it.
//!
//! ```
//! use std::time::Duration;
//! use actix_web::{get, Responder};
//! use futures_util::stream;
//! use sse_actix::{Event, Heartbeat, LastEventId, Sse};
//!
//! #[get("/ticks")]
//! async fn ticks(last: Option<LastEventId>) -> impl Responder {
//!     // A missing (or malformed) id starts at 0; id `n` resumes at `n + 1`.
//!     let start = last.and_then(|id| id.parse::<u64>().ok()).map_or(0, |n| n + 1);
//!     let timer = tokio::time::interval(Duration::from_secs(1));
//!     let ticks = stream::unfold((timer, start), |(mut timer, n)| async move {
//!         timer.tick().await;
//!         let event = Event::builder()
//!             .id(n.to_string())
//!             .data(format!("tick {n}"))
//!             .build()
//!             .expect("a number is a valid id");
//!         Some((event, (timer, n + 1)))
//!     });
//!     Sse::from_stream(ticks)
//!         .with_retry(Duration::from_secs(2))
//!         .with_heartbeat(Heartbeat::new())
//! }
//! # use actix_web::{body::MessageBody, test, App};
//! # #[actix_web::main] async fn main() {
//! # let app = test::init_service(App::new().service(ticks)).await;
//! # let req = test::TestRequest::get().uri("/ticks").insert_header(("last-event-id", "41"));
//! # let res = test::call_service(&app, req.to_request()).await;
//! # let mut body = std::pin::pin!(res.into_body());
//! # let mut wire = Vec::new();
//! # while !wire.ends_with(b"tick 42\n\n") {
//! #     let chunk = std::future::poll_fn(|cx| body.as_mut().poll_next(cx)).await;
//! #     wire.extend_from_slice(&chunk.unwrap().unwrap());
//! # }
//! # assert_eq!(wire, b"retry: 2000\n\nid: 42\ndata: tick 42\n\n");
//! # }
//! ```
//!
//! Served with the middleware and compression:
//!
//! ```no_run
//! # use actix_web::{get, Responder};
//! # #[get("/ticks")] async fn ticks() -> impl Responder { "" }
//! use actix_web::{middleware::Compress, App, HttpServer};
//! use sse_actix::middleware::SseMiddleware;
//!
//! #[actix_web::main]
//! async fn main() -> std::io::Result<()> {
//!     HttpServer::new(|| {
//!         App::new()
//!             .service(ticks)
//!             .wrap(SseMiddleware::new())
//!             .wrap(Compress::default())
//!     })
//!     .h1_allow_half_closed(false)
//!     .bind(("127.0.0.1", 8080))?
//!     .run()
//!     .await
//! }
//! ```
//!
//! # Serving SSE with actix-web: three settings that matter
//!
//! - **Clients that hang up.** By default actix-web allows half-closed HTTP/1 connections:
//!   when a client closes its side, actix goes on serving the response and notices the
//!   client is gone only when a write fails. A silent stream then lives on, with its
//!   subscription and its stream-limit permit. Set `HttpServer::h1_allow_half_closed(false)`
//!   (`EventSource` never half-closes), or send heartbeats, whose writes fail once the
//!   client is gone.
//! - **Graceful shutdown** (`ServerHandle::stop(true)`) waits for open responses, and an
//!   event stream never ends by itself: end them first with [`Sse::with_shutdown`] and a
//!   [`CancellationToken`] you cancel before stopping, or the server waits for its
//!   `shutdown_timeout` (30 s by default).
//! - **Compression.** actix-web's `Compress` compresses `text/event-stream` like any text.
//!   [`Sse`] marks its responses `Content-Encoding: identity`, which `Compress` respects;
//!   see [`middleware`](middleware#compression) for other SSE responses.
//!
//! # Differences from actix-web-lab's `sse`
//!
//! - **One event model.** Events are [`sse_core::Event`]s, encoded once when built (a clone
//!   for many clients is a reference-count bump), with ids and event names that can't carry
//!   a line break (a typed error, not a malformed stream). The same handler served by the
//!   axum and warp adapters puts the same bytes on the wire.
//! - **Stream items** are `Event` or `Result<Event, E>` with any `E: Display`; there is no
//!   separate `from_infallible_stream`, and no `from_receiver` (wrap a receiver in a stream,
//!   or use the hub's subscriptions, which need no channel per client).
//! - **Errors.** actix-web-lab's body fails on an `Err` item, which makes actix abort the
//!   connection mid-chunk. Here the error is logged and the body ends cleanly, so the client
//!   reconnects with its `Last-Event-ID`.
//! - **Keep-alive** comes after an idle interval since the last write (one ticker per
//!   worker runtime wakes the streams whose heartbeat is due; no timer per stream), not on
//!   a fixed `Interval` per stream that ticks while events flow;
//!   its text or event is configurable through [`Heartbeat`]. Several events that are ready
//!   together go out as one chunk.
//! - **Shutdown.** [`Sse::with_shutdown`] ends streams on a [`CancellationToken`], with an
//!   optional last event, so graceful shutdown completes.
//! - **Headers.** Both set `Content-Encoding: identity` and `Cache-Control: no-cache`; this
//!   one adds `X-Accel-Buffering: no` for nginx.
//! - **`Last-Event-ID`** has an extractor here ([`LastEventId`], with the query-parameter
//!   fallback of EventSource polyfills); actix-web-lab has none.
//! - **The middleware** ([`middleware::SseMiddleware`]) adds heartbeats, headers, a stream
//!   limit and counters to any SSE response, actix-web-lab's own `Sse` included.
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `hub` | yes | re-exports `sse_core::hub` as `hub`: topics, bounded replay, slow-client handling |
//! | `json` | no | `EventBuilder::json_data` (serde_json) |
#![cfg_attr(docsrs, feature(doc_cfg))]

mod extract;
pub mod middleware;
mod sse;

pub use crate::{
    extract::{LastEventId, LastEventIdError},
    sse::Sse,
};

/// The sse-core crate this adapter is built on.
pub use sse_core;
pub use sse_core::{
    CancellationToken, Event, EventBatch, EventBuilder, EventError, Heartbeat, OverLimit,
    SseConfig, TryEvent,
};

#[cfg(feature = "hub")]
#[cfg_attr(docsrs, doc(cfg(feature = "hub")))]
pub use sse_core::hub;
