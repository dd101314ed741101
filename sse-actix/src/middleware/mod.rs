//! [`SseMiddleware`]: the actix-web twin of sse-tower's `SseLayer`.
//!
//! It acts on every `200 OK` response whose `Content-Type` is `text/event-stream`
//! (parameters such as `; charset=utf-8` allowed, compared case-insensitively), whoever built
//! it: this crate's [`Sse`](crate::Sse), actix-web-lab's `Sse`, or a hand-made
//! `HttpResponse::Ok().content_type("text/event-stream").streaming(..)`. Other responses pass
//! through untouched. For an SSE response it:
//!
//! - sets `Cache-Control: no-cache, no-transform` (unless the handler set one),
//!   `X-Accel-Buffering: no` (nginx) and `Content-Encoding: identity` (unless the handler
//!   set an encoding), and removes `Content-Length`; actix itself writes (HTTP/1.x) or drops
//!   (HTTP/2) the connection-specific headers;
//! - keeps compression off the stream (see [below](#compression));
//! - wraps the body in a [`HeartbeatBody`], which sends a comment after an idle interval
//!   (15 s by default), only at an event boundary;
//! - counts the stream in [`SseStats`] and, with [`SseConfig::max_streams`], limits how
//!   many run at once (see [below](#stream-limit)).
//!
//! # Example
//!
//! ```no_run
//! use std::time::Duration;
//! use actix_web::{middleware::Compress, web, App, HttpResponse, HttpServer};
//! use sse_actix::middleware::SseMiddleware;
//! use sse_actix::{Heartbeat, OverLimit, SseConfig};
//!
//! async fn feed() -> HttpResponse {
//!     HttpResponse::Ok()
//!         .content_type("text/event-stream")
//!         .body("data: hello\n\n")
//! }
//!
//! #[actix_web::main]
//! async fn main() -> std::io::Result<()> {
//!     // One policy, built once outside the workers: its clones share one `SseStats`, so the
//!     // stream limit and the counts are the whole server's. The same `SseConfig` value can
//!     // configure sse-tower's `SseLayer` in an axum or warp service.
//!     let config = SseConfig::new()
//!         .heartbeat(Heartbeat::every(Duration::from_secs(20)))
//!         .max_streams(10_000)
//!         .over_limit(OverLimit::RetryLater);
//!     let stats = config.stats();
//!     HttpServer::new(move || {
//!         App::new()
//!             .route("/events", web::get().to(feed))
//!             // Registered first, so it runs inside Compress, which sees its headers.
//!             .wrap(SseMiddleware::from(config.clone()))
//!             .wrap(Compress::default())
//!     })
//!     // Notice silent clients that hang up (see the crate docs).
//!     .h1_allow_half_closed(false)
//!     .bind(("127.0.0.1", 8080))?
//!     .run()
//!     .await
//! }
//! ```
//!
//! # Compression
//!
//! A compressor buffers its output until it has enough to compress, so a compressed event
//! stream reaches the client late or never. actix-web's `Compress` has no predicate to skip
//! `text/event-stream`: it compresses every content type but images and videos. What it does
//! skip is a response that already carries a `Content-Encoding` header
//! (`actix-http/src/encoding/encoder.rs`, `Encoder::response`). The middleware keeps
//! compression off SSE responses whichever side of it `Compress` stands on (in actix-web
//! the middleware registered last runs first, that is, wraps the others):
//!
//! - **`Compress` registered after `SseMiddleware` (recommended):** `.wrap(SseMiddleware::new())`
//!   then `.wrap(Compress::default())`. `Compress` is the outer one and sees the
//!   `Content-Encoding: identity` this middleware set, so it leaves the body alone.
//! - **`Compress` registered before `SseMiddleware`:** `Compress` runs inside and sees the
//!   handler's response first. This crate's [`Sse`](crate::Sse) and actix-web-lab's `Sse`
//!   already mark themselves `identity`, so they are safe; for any other SSE response the
//!   middleware removes `Accept-Encoding` from requests that accept `text/event-stream`
//!   (which `EventSource` always sends, see [`SseConfig::strip_accept_encoding`]), so
//!   the inner `Compress` chooses no encoding. A client that asks for an event stream
//!   without that `Accept`, served by a handler that does not mark its response, still gets
//!   it compressed; compression can't be undone here, so the middleware logs a warning and
//!   leaves that response without heartbeats (a comment injected into a compressed stream
//!   would corrupt it).
//!
//! Other routes are compressed as before.
//!
//! # Heartbeats
//!
//! See [`HeartbeatBody`]. A heartbeat is sent only when the stream has been idle for the
//! interval and the bytes written so far end at an event boundary, so it never lands inside
//! a half-written event. A body that sends its own comments within the interval gets none
//! injected. Turn them off with [`SseConfig::no_heartbeat`].
//!
//! # Stream limit
//!
//! [`SseConfig::max_streams`] caps the SSE streams alive at once. A stream holds its
//! permit as long as its response body lives, not just while the handler runs: the permit
//! comes back when the stream ends or the client disconnects (actix drops the body).
//!
//! The limit applies once the response is known to be SSE: the handler has run, and over
//! the limit its body is dropped unpolled. Beyond the limit the [`OverLimit`] policy
//! answers:
//!
//! - [`OverLimit::ServiceUnavailable`] (the default): `503` with `Retry-After`. Pick it for
//!   API clients, other servers and load balancers, which honour `Retry-After`. A browser's
//!   `EventSource` treats any non-`200` answer as final and never reconnects.
//! - [`OverLimit::RetryLater`]: `200`, `text/event-stream`, only a `retry:` field with
//!   random jitter, then the end of the stream. Pick it when browsers connect with
//!   `EventSource`: they reconnect after the jittered delay instead of giving up.
//!
//! # Observability
//!
//! [`SseMiddleware::stats`] gives a cloneable [`SseStats`] with the live streams and the
//! totals opened, rejected and closed by [`CloseReason`] (`client_gone`, `ended`, `error`,
//! `shutdown`, `evicted_slow`), and the heartbeats injected and bytes written, the same
//! counters as sse-tower's `SseLayer`, for an exporter to read. At `debug` level the
//! middleware logs each stream's opening, each rejection, and each close with its reason.
//!
//! # Errors in the body
//!
//! The middleware passes a wrapped body's error through unchanged (actix then aborts the
//! connection). This crate's [`Sse`](crate::Sse) never yields one: it logs the error and ends
//! the body cleanly, which is the toolkit's policy.

mod body;
mod future;
mod heartbeat;
mod service;
mod transform;

pub use self::{
    body::ResponseBody, future::ResponseFuture, heartbeat::HeartbeatBody, service::SseService,
    transform::SseMiddleware,
};
pub use sse_core::{CloseReason, OverLimit, SseConfig, SseStats};
