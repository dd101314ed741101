//! Server-Sent Events for axum 0.8: the [`Sse`] responder and the [`LastEventId`] extractor,
//! on [`sse_core`]'s event model.
//!
//! # Example
//!
//! A ticker with ids that a reconnecting client resumes: `EventSource` sends back the last
//! id it saw, and the count continues after it.
//!
//! ```no_run
//! use std::time::Duration;
//! use axum::{routing::get, Router};
//! use futures_util::{stream, Stream};
//! use sse_axum::{Event, EventError, Heartbeat, LastEventId, Sse, SseLayer};
//!
//! async fn ticker(
//!     last: Option<LastEventId>,
//! ) -> Sse<impl Stream<Item = Result<Event, EventError>>> {
//!     let next = last.and_then(|id| id.parse::<u64>().ok()).map_or(0, |n| n + 1);
//!     let ticks = stream::unfold(next, |n| async move {
//!         tokio::time::sleep(Duration::from_secs(1)).await;
//!         let n_text = n.to_string();
//!         Some((Event::builder().id(&*n_text).data(&*n_text).build(), n + 1))
//!     });
//!     Sse::new(ticks)
//!         .heartbeat(Heartbeat::new())
//!         .retry(Duration::from_secs(2))
//! }
//!
//! #[tokio::main]
//! async fn main() {
//!     let app = Router::new()
//!         .route("/ticks", get(ticker))
//!         .layer(SseLayer::new());
//!     let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await.unwrap();
//!     axum::serve(listener, app).await.unwrap();
//! }
//! ```
//!
//! [`Sse`] sets its own headers and works without [`SseLayer`]; add the layer for
//! heartbeats at event boundaries, stream limits and stats, and to keep any compression
//! middleware off the stream (tower-http's default predicate already skips
//! `text/event-stream`, a custom one may not). Stand `CompressionLayer` outside it.
//!
//! # Graceful shutdown
//!
//! `axum::serve(..).with_graceful_shutdown(signal)` waits for every open response, and an
//! event stream never ends by itself (`sse_tower::serve`, a drop-in for `axum::serve` that
//! keeps idle connections ~8 KB smaller, takes a `shutdown_timeout` for that). Give streams a [`CancellationToken`] with
//! [`Sse::shutdown`] (or end them from your source, such as `Hub::shutdown`) and cancel it
//! when the signal fires.
//!
//! # Differences from axum's `response::sse`
//!
//! - **Typed errors instead of panics.** [`EventBuilder::build`] returns an [`EventError`]
//!   for an id or event name that contains a line break (or NUL), where axum's
//!   `Event::id`/`event`/`comment` panic, as do its setters called twice.
//! - **Encoded once.** An [`Event`] is encoded into `Bytes` when it is built; cloning it
//!   for many subscribers is a reference-count bump.
//! - **Empty data is dispatched.** `Event::data("")` writes `data:`, so the browser fires the
//!   event; axum writes no `data` field and the browser ignores the event.
//! - **Line breaks follow the standard.** CR, LF and CRLF each start one new `data:` line;
//!   axum splits a CRLF into two lines (an extra empty line in the client's data). A leading
//!   space in data is kept, as in axum.
//! - **Error policy.** An `Err` item ends the response cleanly after the events before it
//!   (logged with `tracing`), so the client reconnects with its `Last-Event-ID`. axum turns
//!   it into a body error, which aborts the connection (an unterminated chunked body on
//!   HTTP/1).
//! - **Proxy-proof headers.** `X-Accel-Buffering: no` is set besides `Cache-Control`.
//! - **More options.** A leading `retry:` ([`Sse::retry`]), a shutdown signal with a
//!   farewell event ([`Sse::shutdown`]), ready events joined into one chunk, and the
//!   [`LastEventId`] extractor, which axum lacks.
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `hub` | yes | re-exports [`sse_core`]'s broadcast hub: [`Hub`], [`HubConfig`], [`Subscription`] |
//! | `json` | no | `EventBuilder::json_data` (serde_json) |
#![cfg_attr(docsrs, feature(doc_cfg))]

mod extract;
mod response;

pub use extract::{LastEventId, LastEventIdRejection};
pub use response::Sse;

pub use sse_core::{
    self, CancellationToken, Event, EventBatch, EventBuilder, EventError, Heartbeat, OverLimit,
    SseConfig,
};
pub use sse_tower::{self, SseLayer};

#[cfg(feature = "hub")]
#[cfg_attr(docsrs, doc(cfg(feature = "hub")))]
pub use sse_core::hub::{self, Hub, HubConfig, Subscription};
