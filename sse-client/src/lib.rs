//! A reconnecting Server-Sent Events client for Rust services: a browser's `EventSource`,
//! spec-exact, on [`reqwest`] and sse-core's parser, with the backoff, timeouts and limits a
//! service needs.
//!
//! # Example
//!
//! ```
//! use futures_util::StreamExt;
//! use sse_client::{EventSource, Item};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let url = serve(b"id: 1\nevent: greeting\ndata: hello\n\n").await;
//! // Your own client: its TLS, proxy, timeouts and pool apply.
//! let client = reqwest::Client::new();
//! let request = client.get(&url).build()?;
//! let mut events = EventSource::new(client, request);
//!
//! let Some(Ok(Item::Open(opened))) = events.next().await else { panic!("not connected") };
//! assert_eq!(opened.status, 200);
//! let Some(Ok(Item::Event(event))) = events.next().await else { panic!("no event") };
//! assert_eq!(event.id, "1");
//! assert_eq!(event.event, "greeting");
//! assert_eq!(event.data, "hello");
//! assert_eq!(events.stats().events(), 1);
//! drop(events); // closes the connection
//! # Ok(())
//! # }
//! # // A server that sends `body` on one connection and holds it open.
//! # async fn serve(body: &'static [u8]) -> String {
//! #     use tokio::io::{AsyncReadExt, AsyncWriteExt};
//! #     let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
//! #     let url = format!("http://{}/events", listener.local_addr().unwrap());
//! #     tokio::spawn(async move {
//! #         let (mut socket, _) = listener.accept().await.unwrap();
//! #         let mut head = [0; 4096];
//! #         let _ = socket.read(&mut head).await;
//! #         let head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n";
//! #         socket.write_all(head).await.unwrap();
//! #         socket.write_all(body).await.unwrap();
//! #         let _ = socket.read(&mut [0; 64]).await;
//! #     });
//! #     url
//! # }
//! ```
//!
//! # What it does
//!
//! Following the WHATWG HTML rules for `EventSource`:
//!
//! - It parses with [`sse_core::parse`]: one leading BOM stripped, CR, LF and CRLF line
//!   ends (also split across chunks), an `id` containing NUL ignored, `retry:` digits only,
//!   an event the server did not finish dropped.
//! - It reconnects after a network error or a clean end of the response, sending
//!   `Last-Event-ID` only when the last event ID is not empty, and waits at least the
//!   reconnection time, which `retry:` sets.
//! - `204 No Content` ends the stream without an error: the server asks the client to stop.
//! - A status other than `200`, or a `Content-Type` other than `text/event-stream`, is a
//!   final error. [`Config::retry_transient_status`] opts into retrying `5xx` and `429`,
//!   waiting at least their `Retry-After` (this toolkit's stream limit answers
//!   `503` with `Retry-After`).
//!
//! And what a service needs beyond a browser ([`Config`]):
//!
//! - Exponential backoff with full jitter between the reconnection time and a cap (30 s),
//!   which starts over only after a connection kept receiving bytes for a while (60 s),
//!   never on a mere `200`.
//! - An idle timeout: no byte for 45 s (three of this toolkit's 15 s heartbeats) drops the
//!   connection and reconnects; it also covers a server that accepts and never answers.
//! - Limits on line and event size, a final [`Error::Parse`] when broken.
//! - An optional maximum of attempts in a row ([`Error::Exhausted`]).
//! - A `tracing` span per connection attempt (`sse_client.connection`, with the URL, the
//!   attempt number and the last event ID), and counters in [`Stats`].
//! - Dropping the [`EventSource`] drops the response, closing the connection; no task is
//!   left behind.
//!
//! # Differences from
//!
//! - **reqwest-eventsource** 0.6 (unmaintained): it always sends `Last-Event-ID`, even
//!   empty; its backoff (300 ms to 5 s) has no jitter, so clients dropped together come back
//!   together, and resets on every successful open, so a server that accepts and hangs up
//!   is hammered; it parses with eventsource-stream, which re-scans a growing partial line
//!   on every chunk and has no size limits. It has no idle timeout (reqwest's own timeout
//!   covers the whole response, so it would cut a healthy stream).
//! - **eventsource-client** (LaunchDarkly) 0.18: it treats `204` as success and retries
//!   any non-`2xx` status, and does not check the content type; here those are final, as the
//!   spec says, unless you opt into retrying `5xx` and `429`. Like this crate, it resets its
//!   backoff only after 60 s of a healthy connection. It brings its own HTTP transport,
//!   where this crate takes the `reqwest::Client` you already configured.
//!
//! # TLS
//!
//! This crate depends on `reqwest` without default features and enables no TLS: enable
//! the TLS backend you want on your own `reqwest` dependency (for example
//! `features = ["rustls"]`); Cargo unifies the features, and the `Client` you pass in uses
//! it.
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `json` | no | [`Event::json`]: decode an event's data with serde_json |
#![cfg_attr(docsrs, feature(doc_cfg))]

mod backoff;
mod config;
mod error;
mod event_source;
mod item;
mod reader;
mod retry_after;
mod stats;

pub use config::Config;
pub use error::{Error, StatusError};
pub use event_source::EventSource;
pub use item::{Event, Item, Opened};
pub use stats::Stats;
