//! The framework-free handlers every adapter serves for the conformance cases, and the
//! [`Harness`] trait an adapter's tests implement to start its framework's server.

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{stream, Stream, StreamExt};
use sse_core::parse::Message;
use sse_core::CancellationToken;
use sse_core::{Event, LastEventId};
use tokio::sync::{watch, Semaphore};

/// The stream every fixture route returns.
pub type FixtureStream = Pin<Box<dyn Stream<Item = Result<Event, FixtureError>> + Send>>;

/// The error item of the `/error` route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixtureError;

impl fmt::Display for FixtureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("fixture stream failed on purpose")
    }
}

impl std::error::Error for FixtureError {}

/// How an adapter must serve a fixture stream: the options of its own `Sse` type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StreamOptions {
    /// Keep-alive comments after this much idle time.
    pub heartbeat: Option<Duration>,
    /// A leading `retry:` field.
    pub retry: Option<Duration>,
}

/// The state shared by the fixture routes of one server: a live-stream counter, a gate the
/// test opens to let `/gated` go on, and a shutdown token that ends `/live` streams.
///
/// Routes an adapter's test server must serve, each through the adapter's own responder,
/// with the framework's usual compression middleware on (gzip and brotli at least):
///
/// | route | handler | options |
/// |---|---|---|
/// | `GET /golden` | [`Fixture::golden`] | none |
/// | `GET /idle` | [`Fixture::idle`] | [`Fixture::IDLE_OPTIONS`] |
/// | `GET /gated` | [`Fixture::gated`] | none |
/// | `GET /last-event-id` | [`Fixture::echo_last_event_id`] with the adapter's extractor | none |
/// | `GET /error` | [`Fixture::failing`] | none |
/// | `GET /live` | [`Fixture::live`] | none |
/// | `GET /json` | [`Fixture::json`] as `application/json` | not SSE |
#[derive(Clone, Default)]
pub struct Fixture {
    inner: Arc<Inner>,
}

struct Inner {
    /// A watch, so tests await the count instead of polling it.
    live: watch::Sender<usize>,
    opened: AtomicUsize,
    gate: Semaphore,
    shutdown: CancellationToken,
}

impl fmt::Debug for Fixture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fixture")
            .field("live", &self.live_streams())
            .field("opened", &self.opened())
            .finish()
    }
}

impl Fixture {
    /// Options for `/idle`: a heartbeat after 50 ms, `retry: 1500`.
    pub const IDLE_OPTIONS: StreamOptions = StreamOptions {
        heartbeat: Some(Duration::from_millis(50)),
        retry: Some(Duration::from_millis(1500)),
    };

    /// A fresh fixture.
    pub fn new() -> Self {
        Self::default()
    }

    /// Streams of `/live` now open (a stream is counted until the server drops it).
    pub fn live_streams(&self) -> usize {
        *self.inner.live.borrow()
    }

    /// Waits until exactly `count` streams of `/live` are open.
    ///
    /// # Panics
    ///
    /// If that does not happen within [`crate::DEADLINE`] (a hang, not a timing assertion).
    pub async fn wait_for_live_streams(&self, count: usize) {
        let mut live = self.inner.live.subscribe();
        tokio::time::timeout(crate::DEADLINE, live.wait_for(|live| *live == count))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "{count} live streams: still {} at the deadline",
                    self.live_streams()
                )
            })
            .expect("the fixture holds the sender");
    }

    /// Streams of `/live` opened so far.
    pub fn opened(&self) -> usize {
        self.inner.opened.load(Ordering::SeqCst)
    }

    /// Lets `/gated` send its next event.
    pub fn open_gate(&self) {
        self.inner.gate.add_permits(1);
    }

    /// The token that ends every `/live` stream; a harness cancels it before it shuts its
    /// server down gracefully.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.inner.shutdown.clone()
    }

    /// The fixed events of `/golden`: multi-line, CR-bearing, Unicode and tricky data, ids,
    /// names, a retry and a comment. Its bytes are the golden file.
    pub fn golden_events() -> Vec<Event> {
        let build = |b: sse_core::EventBuilder<'_>| b.build().expect("golden event");
        vec![
            Event::retry(Duration::from_millis(2500)),
            Event::data("plain"),
            build(Event::builder().event("update").id("1").data("two\nlines")),
            build(Event::builder().id("2").data("cr\rand crlf\r\nmixed")),
            build(
                Event::builder()
                    .event("unicode")
                    .id("3")
                    .data("héllo wörld ✓ 😀 \u{2028} end"),
            ),
            Event::comment("a comment between events"),
            build(Event::builder().id("4").data("")),
            build(
                Event::builder()
                    .id("5")
                    .data("  leading spaces\ntrailing break\n"),
            ),
            build(
                Event::builder()
                    .event("injection")
                    .id("6")
                    .data("x\n\nevent: evil\ndata: y"),
            ),
            build(Event::builder().id("7").data("data: {\"json\": [1, 2, 3]}")),
        ]
    }

    /// The golden file: the bytes every adapter must put on the wire for `/golden`.
    pub const GOLDEN: &'static [u8] = include_bytes!("../golden/golden.sse");

    /// What a client must decode from `/golden`.
    pub fn golden_messages() -> Vec<Message> {
        let message = |event: &str, data: &str, id: &str| Message {
            event: event.to_owned(),
            data: data.to_owned(),
            last_event_id: id.to_owned(),
        };
        vec![
            message("message", "plain", ""),
            message("update", "two\nlines", "1"),
            message("message", "cr\nand crlf\nmixed", "2"),
            message("unicode", "héllo wörld ✓ 😀 \u{2028} end", "3"),
            message("message", "", "4"),
            message("message", "  leading spaces\ntrailing break\n", "5"),
            message("injection", "x\n\nevent: evil\ndata: y", "6"),
            message("message", "data: {\"json\": [1, 2, 3]}", "7"),
        ]
    }

    /// `/golden`: [`Fixture::golden_events`], then the end.
    pub fn golden(&self) -> FixtureStream {
        Box::pin(stream::iter(Self::golden_events().into_iter().map(Ok)))
    }

    /// `/idle`: one event, then nothing (the adapter's heartbeat fills the silence), ending
    /// on shutdown.
    pub fn idle(&self) -> FixtureStream {
        let token = self.shutdown_token();
        Box::pin(
            stream::iter([Ok(Event::data("idle from now on"))]).chain(
                stream::once(async move { token.cancelled_owned().await })
                    .filter_map(|()| async { None }),
            ),
        )
    }

    /// `/gated`: `first`, then `second` once the test calls [`Fixture::open_gate`], then the
    /// end. A server that buffers the body shows the first event only after the gate opens.
    pub fn gated(&self) -> FixtureStream {
        let fixture = self.clone();
        let second = async move {
            fixture
                .inner
                .gate
                .acquire()
                .await
                .expect("gate open")
                .forget();
            Ok(Event::data("second"))
        };
        Box::pin(stream::iter([Ok(Event::data("first"))]).chain(stream::once(second)))
    }

    /// `/last-event-id`: one event whose data is the id the adapter's extractor found (or
    /// `none`), then the end.
    pub fn echo_last_event_id(&self, id: Option<LastEventId>) -> FixtureStream {
        let data = id.map_or_else(|| "none".to_owned(), LastEventId::into_string);
        Box::pin(stream::iter([Ok(Event::builder()
            .event("last-event-id")
            .data(data)
            .build()
            .expect("event"))]))
    }

    /// `/error`: `before`, an error item, then `after` (which must never be sent).
    pub fn failing(&self) -> FixtureStream {
        Box::pin(stream::iter([
            Ok(Event::data("before")),
            Err(FixtureError),
            Ok(Event::data("after")),
        ]))
    }

    /// `/live`: `hello`, then silence until the fixture's shutdown token is cancelled; the
    /// stream is counted in [`Fixture::live_streams`] until the server drops it.
    pub fn live(&self) -> FixtureStream {
        let guard = LiveGuard::new(self.inner.clone());
        let token = self.shutdown_token();
        let rest = stream::once(async move {
            token.cancelled_owned().await;
            drop(guard);
        })
        .filter_map(|()| async { None });
        Box::pin(stream::iter([Ok(Event::data("hello"))]).chain(rest))
    }

    /// `/json`: a compressible JSON document (about 4 KiB).
    pub fn json(&self) -> String {
        let items: Vec<String> = (0..200).map(|i| format!("{{\"item\":{i}}}")).collect();
        format!("[{}]", items.join(","))
    }
}

impl Default for Inner {
    fn default() -> Self {
        Self {
            live: watch::Sender::new(0),
            opened: AtomicUsize::new(0),
            gate: Semaphore::new(0),
            shutdown: CancellationToken::new(),
        }
    }
}

/// Counts a `/live` stream as open until it is dropped.
struct LiveGuard(Arc<Inner>);

impl LiveGuard {
    fn new(inner: Arc<Inner>) -> Self {
        inner.live.send_modify(|live| *live += 1);
        inner.opened.fetch_add(1, Ordering::SeqCst);
        Self(inner)
    }
}

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.live.send_modify(|live| *live -= 1);
    }
}

/// A running test server.
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server").field("addr", &self.addr).finish()
    }
}

impl Server {
    /// A server at `addr`; `stop` must shut it down gracefully and resolve once it has
    /// exited.
    pub fn new<F, Fut>(addr: SocketAddr, stop: F) -> Self
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self {
            addr,
            stop: Box::new(move || Box::pin(stop())),
        }
    }

    /// A server running as the tokio task `task`, which shuts down gracefully when
    /// `fixture`'s shutdown token is cancelled: stopping it cancels the token, then waits
    /// for the task.
    ///
    /// # Panics
    ///
    /// On stop, if the task panicked.
    pub fn spawned(addr: SocketAddr, fixture: &Fixture, task: tokio::task::JoinHandle<()>) -> Self {
        let token = fixture.shutdown_token();
        Self::new(addr, move || async move {
            token.cancel();
            task.await.unwrap();
        })
    }

    /// Shuts the server down gracefully and waits for it to exit.
    ///
    /// # Panics
    ///
    /// If it has not exited within the client's deadline.
    pub async fn shutdown(self) {
        tokio::time::timeout(crate::DEADLINE, (self.stop)())
            .await
            .expect("server did not shut down within the deadline");
    }
}

/// What an adapter's tests implement to run the conformance cases on its framework.
pub trait Harness {
    /// Whether the framework serves HTTP/2 (h2c with prior knowledge) in the harness.
    const HTTP2: bool;

    /// Starts the framework's server on `127.0.0.1:0`, serving the [`Fixture`] routes with
    /// compression middleware on. Its graceful shutdown must first cancel
    /// [`Fixture::shutdown_token`].
    fn start(fixture: Fixture) -> impl Future<Output = Server> + Send;
}
