//! Server-Sent Events for tower: a middleware that makes event streams behave on the wire.
//!
//! [`SseLayer`] (in [`sse`]) acts on `text/event-stream` responses of any tower-based
//! server (axum, warp through `warp::service`, plain hyper): SSE headers that keep proxies
//! from buffering, no compression whichever side of it the compression middleware stands
//! on, heartbeat comments injected into any SSE body at event boundaries only, an optional
//! limit on concurrent streams held for the body's whole life, live stream counters, and
//! `Last-Event-ID` parsed into the request extensions.
//!
//! [`SseBody`] is the response body that serves a stream of encoded chunks; the axum and
//! warp adapters build on it.
//!
//! # Example
//!
//! ```no_run
//! use axum::{routing::get, Router};
//! use sse_tower::SseLayer;
//! use tower_http::compression::CompressionLayer;
//!
//! # async fn events() {}
//! # #[tokio::main] async fn main() {
//! let app: Router = Router::new()
//!     .route("/events", get(events))
//!     .layer(SseLayer::new())
//!     .layer(CompressionLayer::new());
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await.unwrap();
//! axum::serve(listener, app).await.unwrap();
//! # }
//! ```
//!
//! [`serve()`] (feature `serve`) is a connection loop for tower services that keeps idle
//! connections about as small as hyper's own HTTP/1 connection, where `axum::serve` and
//! `warp::serve` hold several KB more per connection.
//!
//! # Features
//!
//! - `serve`: [`serve()`] and its [module](mod@serve) (hyper, hyper-util), with head-read,
//!   idle and HTTP/2 keep-alive timeouts. Off by default.
//! - `tls`: `serve` over TLS ([`serve::tls`]; rustls with the `ring` provider), HTTP/2 by
//!   ALPN. Off by default.
//!
//! The crate needs tokio's timer for heartbeats and always builds with it.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
#[cfg(feature = "serve")]
#[cfg_attr(docsrs, doc(cfg(feature = "serve")))]
pub mod serve;
pub mod sse;

pub use body::{response_headers, SseBody};
#[cfg(feature = "serve")]
pub use serve::serve;
pub use sse::{
    CloseReason, Heartbeat, HeartbeatBody, OverLimit, ResponseBody, ResponseFuture, SseConfig,
    SseLayer, SseService, SseStats,
};
