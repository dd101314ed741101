//! Server-Sent Events without a web framework.
//!
//! One event model for every server: an [`Event`] is encoded once, when it is built, into
//! [`bytes::Bytes`], so sending it to ten thousand clients clones a pointer, not a string.
//! The encoder cannot be tricked into writing extra fields or events, the [`parse`] module
//! is an incremental decoder that follows the WHATWG HTML rules exactly, [`SseStream`] turns
//! a stream of events into the byte chunks of a response body with keep-alive comments, and
//! [`LastEventId`] reads the id a reconnecting client sends.
//!
//! The framework-free part of the adapters' SSE middleware lives here too, so that each
//! adapter is a thin wrapper over it: its configuration and policies ([`middleware`]), its
//! stream counters ([`stats`]), and heartbeats injected at event boundaries only
//! ([`heartbeat`], [`boundary`]).
//!
//! # Example
//!
//! ```
//! use futures_util::{stream, StreamExt};
//! use sse_core::{Event, SseStream};
//!
//! # tokio_test_block_on(async {
//! let events = stream::iter(vec![
//!     Event::builder().event("greeting").id("1").data("hello").build()?,
//!     Event::data("two\nlines"),
//! ]);
//! let mut body = std::pin::pin!(SseStream::new(events));
//! let mut wire = Vec::new();
//! while let Some(chunk) = body.next().await {
//!     wire.extend_from_slice(&chunk.unwrap());
//! }
//! assert_eq!(wire, b"event: greeting\nid: 1\ndata: hello\n\ndata: two\ndata: lines\n\n");
//! # Ok::<(), sse_core::EventError>(())
//! # }).unwrap();
//! # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
//! # }
//! ```
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `tokio` | yes | [`SseStream`]'s keep-alive (the shared heartbeat ticker) and shutdown, the `tokio_util` codec for [`parse::Decoder`] |
//! | `json` | no | `EventBuilder::json_data` (serde_json) |
//! | `hub` | no | the broadcast hub: topics, bounded replay, slow-client handling |
//! | `tracing` | no | debug logs of the middleware's stream counters ([`stats`]) |
//! | `full` | no | all of the above |
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod boundary;
mod error;
pub mod event;
pub mod heartbeat;
pub mod last_event_id;
pub mod middleware;
pub mod parse;
pub mod stats;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod stream;

#[cfg(feature = "hub")]
#[cfg_attr(docsrs, doc(cfg(feature = "hub")))]
pub mod hub;

pub use error::EventError;
pub use event::{Event, EventBuilder};
pub use last_event_id::{LastEventId, LastEventIdError};
#[cfg(feature = "tokio")]
pub use stream::{KeepAlive, SseStream, TryEvent};

/// The media type of an event stream, `text/event-stream`.
pub const CONTENT_TYPE: &str = "text/event-stream";

/// The headers of every SSE response, as `(name, value)` pairs: `Content-Type:
/// text/event-stream`, `Cache-Control: no-cache` and `X-Accel-Buffering: no` (which tells
/// nginx not to buffer). The adapters' responders send exactly these.
///
/// ```
/// let (name, value) = sse_core::RESPONSE_HEADERS[0];
/// assert_eq!((name, value), ("content-type", sse_core::CONTENT_TYPE));
/// ```
pub const RESPONSE_HEADERS: [(&str, &str); 3] = [
    ("content-type", CONTENT_TYPE),
    ("cache-control", "no-cache"),
    (X_ACCEL_BUFFERING, "no"),
];

/// The name of the `X-Accel-Buffering` header, whose value `no` tells nginx not to buffer
/// the response.
pub const X_ACCEL_BUFFERING: &str = "x-accel-buffering";
