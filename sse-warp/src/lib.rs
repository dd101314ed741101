//! Server-Sent Events for warp 0.4: the [`reply`] function (with options through [`Sse`])
//! and the [`last_event_id`] filter, on [`sse_core`]'s event model.
//!
//! # Example
//!
//! A ticker with ids that a reconnecting client resumes: `EventSource` sends back the last
//! id it saw, and the count continues after it.
//!
//! ```no_run
//! use std::time::Duration;
//! use futures_util::stream;
//! use sse_warp::{Event, Heartbeat, LastEventId, Sse};
//! use warp::{Filter, Reply};
//!
//! fn ticker(last: Option<LastEventId>) -> impl Reply {
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
//!     let ticks = warp::path("ticks")
//!         .and(warp::get())
//!         .and(sse_warp::last_event_id())
//!         .map(ticker);
//!     warp::serve(ticks).run(([0, 0, 0, 0], 3000)).await;
//! }
//! ```
//!
//! A malformed `Last-Event-ID` rejects with [`InvalidLastEventId`]; see [`last_event_id`]
//! for the `recover` that answers it with `400`.
//!
//! # Compression
//!
//! warp's compression filters compress whatever they wrap, whatever its content type, so a
//! compressed event stream reaches the client late or never. Keep SSE routes outside
//! `.with(warp::compression::gzip())` and compress the other routes only:
//!
//! ```no_run
//! # use futures_util::stream;
//! # use sse_warp::Event;
//! use warp::Filter;
//!
//! let api = warp::path("api")
//!     .map(|| warp::reply::json(&[1, 2, 3]))
//!     .with(warp::compression::gzip());
//! let events = warp::path("events")
//!     .map(|| sse_warp::reply(stream::iter([Event::data("hello")])));
//! let routes = api.or(events);
//! # drop(routes);
//! ```
//!
//! Or serve `warp::service(routes)` under tower layers: tower-http's `CompressionLayer`
//! with [`SseLayer`] inside it keeps compression off every SSE response, and adds heartbeats
//! at event boundaries, stream limits and stats. `warp::serve` takes a filter, not a
//! service: serve the service with `sse_tower::serve` (feature `serve`), which also keeps
//! each idle connection ~6 KB smaller than `warp::serve` does.
//!
//! # Graceful shutdown
//!
//! `warp::serve(..).graceful(signal)` waits for every open response, and an event stream
//! never ends by itself (`sse_tower::serve` takes a `shutdown_timeout` for that). Give streams a [`CancellationToken`] with [`Sse::shutdown`] (or end
//! them from your source, such as `Hub::shutdown`) and cancel it when the signal fires.
//!
//! # Differences from `warp::sse`
//!
//! - **Typed errors, no injection.** [`EventBuilder::build`] returns an [`EventError`] for
//!   an id or event name that contains a line break (or NUL); `warp::sse::Event` writes
//!   them as given, so such a value injects fields or whole events (a comment too).
//! - **Encoded once.** An [`Event`] is encoded into `Bytes` when it is built, and cloning
//!   it for many subscribers is a reference-count bump; `warp::sse` formats each event
//!   into a new `String` while it is being sent.
//! - **Data follows the standard.** CR, LF and CRLF each start one new `data:` line;
//!   `warp::sse` splits on LF only, so a CR in data ends the line on the client and the
//!   rest is read as another field. A leading space in data is kept: `warp::sse` writes
//!   `data:` with no space after it, so the client strips the data's own leading space.
//!   Empty data writes `data:` and the event is dispatched, as in `warp::sse`.
//! - **Error policy.** An `Err` item ends the response cleanly after the events before it
//!   (logged with `tracing`), so the client reconnects with its `Last-Event-ID`;
//!   `warp::sse` turns it into a body error, which aborts the connection.
//! - **Headers and `Sync`.** `X-Accel-Buffering: no` is set besides the content type and
//!   `Cache-Control: no-cache`, and the stream needs to be `Send` only, not `Send + Sync`.
//! - **More options.** A leading `retry:` ([`Sse::retry`]), a shutdown signal with a
//!   farewell event ([`Sse::shutdown`]), ready events joined into one chunk, and
//!   [`last_event_id`] reads the `lastEventId` query parameter as well as the header, checks
//!   the value, and accepts a non-ASCII UTF-8 header (`warp::sse::last_event_id` parses a
//!   `FromStr` type from an ASCII header only).
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `hub` | yes | re-exports [`sse_core`]'s broadcast hub: [`Hub`], [`HubConfig`], [`Subscription`] |
//! | `json` | no | `EventBuilder::json_data` (serde_json) |
#![cfg_attr(docsrs, feature(doc_cfg))]

mod last_event_id;
mod reply;

pub use last_event_id::{last_event_id, InvalidLastEventId};
pub use reply::{reply, Sse};

pub use sse_core::{
    self, CancellationToken, Event, EventBatch, EventBuilder, EventError, Heartbeat, LastEventId,
    OverLimit, SseConfig,
};
pub use sse_tower::{self, SseLayer};
pub use warp::Reply;

#[cfg(feature = "hub")]
#[cfg_attr(docsrs, doc(cfg(feature = "hub")))]
pub use sse_core::hub::{self, Hub, HubConfig, Subscription};
