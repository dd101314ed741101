//! Server-Sent Events without a web framework.
//!
//! One event model for every server: an [`Event`] is encoded once, when it is built, into
//! [`bytes::Bytes`], so sending it to ten thousand clients clones a pointer, not a string.
//! The encoder cannot be tricked into writing extra fields or events, the [`parse`] module
//! is an incremental decoder that follows the WHATWG HTML rules exactly, [`SseStream`] turns
//! a stream of events into the byte chunks of a response body with keep-alive comments, and
//! [`LastEventId`] reads the id a reconnecting client sends.
//!
//! [`SseConfig`] is the SSE middleware's policy (heartbeats injected at event boundaries, a
//! stream limit, compression kept off, counters in [`SseStats`]), written once and handed to
//! sse-tower's `SseLayer` or sse-actix's `SseMiddleware`; [`headers`] is the one table of
//! what an SSE response carries. The [`hub`] (feature `hub`) publishes each event once to
//! every subscriber of its topic, with bounded replay after a reconnect.
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
//! | `tokio` | yes | [`SseStream`]'s heartbeats (the shared heartbeat ticker) and shutdown, the `tokio_util` codec for [`parse::Decoder`] |
//! | `json` | no | `EventBuilder::json_data` (serde_json) |
//! | `hub` | no | the broadcast hub: topics, bounded replay, slow-client handling |
//! | `tracing` | no | debug logs of the middleware's stream counters ([`SseStats`]) and of mid-stream errors |
//! | `full` | no | all of the above |
#![cfg_attr(docsrs, feature(doc_cfg))]

mod config;
mod error;
mod event;
pub mod headers;
mod heartbeat;
mod last_event_id;
mod line_breaks;
pub mod parse;
#[cfg(feature = "tokio")]
mod responder;
#[cfg(feature = "tokio")]
mod sse_stream;
mod stream_stats;

#[cfg(feature = "hub")]
#[cfg_attr(docsrs, doc(cfg(feature = "hub")))]
pub mod hub;

pub use config::{OverLimit, SseConfig};
pub use error::EventError;
pub use event::{Event, EventBatch, EventBuilder};
pub use heartbeat::Heartbeat;
pub use last_event_id::{LastEventId, LastEventIdError};
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use sse_stream::{SseStream, TryEvent};
pub use stream_stats::{CloseReason, SseStats};
/// The shutdown signal [`SseStream::shutdown`] takes, re-exported from `tokio_util`.
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use tokio_util::sync::CancellationToken;

/// What the sibling crates (sse-tower, sse-axum, sse-actix, sse-warp) share to build their
/// middleware and responders. Not public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    #[cfg(feature = "tokio")]
    pub use crate::__responder_options as responder_options;
    pub use crate::headers::{
        apply_middleware_policy, is_compressed, ConnectionHeaders, HeaderMapMut,
    };
    pub use crate::heartbeat::EventBoundary;
    #[cfg(feature = "tokio")]
    pub use crate::heartbeat::HeartbeatTimer;
    #[cfg(feature = "tokio")]
    pub use crate::sse_stream::end_on_error;
    pub use crate::stream_stats::{note_close_reason, StreamGuard};
    pub use futures_core::Stream;
}
