//! A connection loop for tower services that keeps idle event streams small, and cuts off
//! clients that are slow, silent or gone.
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use axum::{routing::get, Router};
//! use sse_tower::SseLayer;
//!
//! # async fn events() {}
//! # #[tokio::main] async fn main() -> std::io::Result<()> {
//! let app: Router = Router::new()
//!     .route("/events", get(events))
//!     .layer(SseLayer::new());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! sse_tower::serve(listener, app)
//!     .header_read_timeout(Duration::from_secs(10))
//!     .idle_timeout(Duration::from_secs(60))
//!     .with_graceful_shutdown(async {
//!         let _ = tokio::signal::ctrl_c().await;
//!     })
//!     // Event streams rarely end on their own: cut what is left after 5 s.
//!     .shutdown_timeout(Duration::from_secs(5))
//!     .await
//! # }
//! ```
//!
//! [`serve`] takes the place of `axum::serve` (and, through `warp::service`, of
//! `warp::serve`) for servers that hold many idle streams. Both frameworks run every
//! connection through hyper-util's `auto` connection, which reads the first bytes to tell
//! HTTP/1 from HTTP/2 and keeps both protocols' state in each connection task; measured
//! over 10 000 idle streams that costs ~6 KB (`warp::serve`) to ~9 KB (`axum::serve`) of
//! resident memory per connection over hyper's own HTTP/1 connection. [`serve`] peeks at
//! the first bytes instead of consuming them, serves HTTP/1 with hyper's HTTP/1 connection
//! directly and keeps the rarer HTTP/2 (prior knowledge, h2c) connections out of line.
//! Upgrades (`Connection: Upgrade`, HTTP/2 extended CONNECT) work on both, as with
//! `axum::serve`. The figures and the command that measures them are in `BENCHMARKS.md`.
//!
//! # Timeouts
//!
//! Neither `axum::serve` nor `warp::serve` sets a timer on hyper, so a client that sends
//! half a request head, or nothing at all, holds its connection for ever (a slowloris
//! attack needs nothing more). [`Serve`] closes:
//!
//! - a connection whose request head is not complete within the
//!   [head-read timeout](Serve::header_read_timeout) (30 s by default). The timer runs
//!   from accept to the first bytes (and through the TLS handshake), then hyper's
//!   `header_read_timeout` runs from the first bytes to the end of the head; hyper also
//!   restarts it whenever an HTTP/1 keep-alive connection waits for its next request, so
//!   it bounds the gap between requests on HTTP/1 too;
//! - a connection with no request in flight for the [idle timeout](Serve::idle_timeout)
//!   (30 s by default), on HTTP/1 and HTTP/2. A request is in flight from its arrival
//!   until its response body is dropped, so an event stream is never idle, whether or not
//!   it writes heartbeats;
//! - an HTTP/2 connection whose peer does not answer a ping within the
//!   [keep-alive timeout](Serve::http2_keep_alive_timeout) (pings go out after
//!   [20 s](Serve::http2_keep_alive_interval) without a frame from the peer): the peer of
//!   an event stream only reads, so without pings a peer that vanished is noticed only
//!   when the kernel's send buffer fills.
//!
//! Nothing here times out a response that is being written. (In a tower stack, avoid
//! tower-http's `ResponseBodyTimeoutLayer` on event streams: it cuts a body that waits
//! longer than its timeout between frames. Its `TimeoutLayer` only bounds the time to the
//! response head, which is fine.)
//!
//! # TLS
//!
//! With the `tls` feature, [`Serve::tls`] serves TLS (rustls, through tokio-rustls, with
//! the `ring` provider): ALPN picks HTTP/2 (`h2`) or HTTP/1.1 per connection, so browsers
//! share one connection between all their event streams instead of stopping at six.
//! [`tls::server_config`] builds a configuration from PEM files' contents.
//!
//! # Shutdown
//!
//! After the [`with_graceful_shutdown`](Serve::with_graceful_shutdown) signal the
//! listener is closed, idle connections close, and connections with a response in flight
//! finish it. An event stream is a response that never finishes unless the application
//! ends it (`Hub::shutdown`, say), so [`shutdown_timeout`](WithGracefulShutdown::shutdown_timeout)
//! bounds the wait; when it passes, the remaining connections are dropped. Dropping the
//! serve future drops every connection it serves.

mod connection;
mod idle;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub mod tls;

use std::error::Error as StdError;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::io;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_service::Service;

type BoxError = Box<dyn StdError + Send + Sync>;

// hyper's defaults for the head (30 s) and for an unanswered ping (20 s); hyper sends no
// pings unless asked, and a vanished peer of an event stream needs them.
const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_HTTP2_KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(20);
const DEFAULT_HTTP2_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// How long to wait before accepting again after an accept error that is not about one
/// connection (out of file descriptors, say), as `axum::serve` does.
const ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// Serves `service` on every connection `listener` accepts, HTTP/1.1 and HTTP/2 (h2c).
///
/// The returned [`Serve`] runs when awaited; see the [module docs](self) for why this
/// exists next to `axum::serve`.
///
/// # Example
///
/// warp, through `warp::service`:
///
/// ```no_run
/// use warp::Filter;
///
/// # #[tokio::main] async fn main() -> std::io::Result<()> {
/// let routes = warp::path("hello").map(|| "hello");
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3030").await?;
/// sse_tower::serve(listener, warp::service(routes)).await
/// # }
/// ```
pub fn serve<S, B>(listener: TcpListener, service: S) -> Serve<S>
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    Serve {
        listener,
        service,
        config: ConnectionConfig::default(),
    }
}

/// A server that has not started yet, from [`serve`]. Await it to run it.
///
/// # Example
///
/// ```no_run
/// # async fn run(app: axum::Router) -> std::io::Result<()> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let server: sse_tower::serve::Serve<_> = sse_tower::serve(listener, app);
/// server.await
/// # }
/// ```
#[derive(Debug)]
#[must_use = "a server does nothing unless awaited"]
pub struct Serve<S> {
    listener: TcpListener,
    service: S,
    config: ConnectionConfig,
}

/// What every connection is served with: the timeouts and the TLS acceptor.
#[derive(Clone)]
struct ConnectionConfig {
    header_read_timeout: Option<Duration>,
    idle_timeout: Option<Duration>,
    http2_keep_alive_interval: Option<Duration>,
    http2_keep_alive_timeout: Duration,
    #[cfg(feature = "tls")]
    tls: Option<tokio_rustls::TlsAcceptor>,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        Self {
            header_read_timeout: Some(DEFAULT_HEADER_READ_TIMEOUT),
            idle_timeout: Some(DEFAULT_IDLE_TIMEOUT),
            http2_keep_alive_interval: Some(DEFAULT_HTTP2_KEEP_ALIVE_INTERVAL),
            http2_keep_alive_timeout: DEFAULT_HTTP2_KEEP_ALIVE_TIMEOUT,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

impl fmt::Debug for ConnectionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("ConnectionConfig");
        debug
            .field("header_read_timeout", &self.header_read_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("http2_keep_alive_interval", &self.http2_keep_alive_interval)
            .field("http2_keep_alive_timeout", &self.http2_keep_alive_timeout);
        #[cfg(feature = "tls")]
        debug.field("tls", &self.tls.is_some());
        debug.finish()
    }
}

impl<S> Serve<S> {
    /// How long a client may take to send a request head: from accept (through the TLS
    /// handshake) to its first bytes, and from there to the end of the head. hyper also
    /// starts it whenever an HTTP/1 connection waits for its next request. `None` turns it
    /// off. Default: 30 s.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run(app: axum::Router, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    /// use std::time::Duration;
    ///
    /// sse_tower::serve(listener, app)
    ///     .header_read_timeout(Duration::from_secs(5))
    ///     .await
    /// # }
    /// ```
    pub fn header_read_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.config.header_read_timeout = timeout.into();
        self
    }

    /// How long a connection may stay open with no request in flight (HTTP/1 keep-alive
    /// between requests, HTTP/2 with no stream). A request is in flight until its response
    /// body is dropped, so an open event stream never counts as idle. `None` turns it off.
    /// Default: 30 s.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run(app: axum::Router, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    /// use std::time::Duration;
    ///
    /// sse_tower::serve(listener, app)
    ///     .idle_timeout(Duration::from_secs(120))
    ///     .await
    /// # }
    /// ```
    pub fn idle_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.config.idle_timeout = timeout.into();
        self
    }

    /// After how long without a frame from the peer an HTTP/2 connection sends a ping.
    /// `None` sends none. Default: 20 s.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run(app: axum::Router, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    /// use std::time::Duration;
    ///
    /// sse_tower::serve(listener, app)
    ///     .http2_keep_alive_interval(Duration::from_secs(30))
    ///     .http2_keep_alive_timeout(Duration::from_secs(10))
    ///     .await
    /// # }
    /// ```
    pub fn http2_keep_alive_interval(mut self, interval: impl Into<Option<Duration>>) -> Self {
        self.config.http2_keep_alive_interval = interval.into();
        self
    }

    /// How long an HTTP/2 connection waits for the answer to a ping before it closes.
    /// Default: 20 s.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run(app: axum::Router, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    /// sse_tower::serve(listener, app)
    ///     .http2_keep_alive_timeout(std::time::Duration::from_secs(5))
    ///     .await
    /// # }
    /// ```
    pub fn http2_keep_alive_timeout(mut self, timeout: Duration) -> Self {
        self.config.http2_keep_alive_timeout = timeout;
        self
    }

    /// Serves TLS: every connection starts with a TLS handshake (under the head-read
    /// timeout), and ALPN picks HTTP/2 or HTTP/1.1. A configuration without ALPN protocols
    /// gets `h2` and `http/1.1`; [`tls::server_config`] builds one from PEM.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run(app: axum::Router, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    /// let config = sse_tower::serve::tls::server_config(
    ///     &std::fs::read("cert.pem")?,
    ///     &std::fs::read("key.pem")?,
    /// )?;
    /// sse_tower::serve(listener, app).tls(config).await
    /// # }
    /// ```
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn tls(mut self, config: tls::ServerConfig) -> Self {
        self.config.tls = Some(tls::acceptor(config));
        self
    }

    /// Stops accepting when `signal` completes, then lets the open connections finish.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run(app: axum::Router) -> std::io::Result<()> {
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    /// # drop(stop);
    /// sse_tower::serve(listener, app)
    ///     .with_graceful_shutdown(async {
    ///         let _ = stopped.await;
    ///     })
    ///     .await
    /// # }
    /// ```
    pub fn with_graceful_shutdown<F>(self, signal: F) -> WithGracefulShutdown<S, F>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        WithGracefulShutdown {
            serve: self,
            signal,
            timeout: None,
        }
    }
}

/// A server with a shutdown signal, from [`Serve::with_graceful_shutdown`]. Await it to run
/// it.
///
/// # Example
///
/// ```no_run
/// # async fn run(app: axum::Router) -> std::io::Result<()> {
/// use std::time::Duration;
///
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// sse_tower::serve(listener, app)
///     .with_graceful_shutdown(async { let _ = tokio::signal::ctrl_c().await; })
///     .shutdown_timeout(Duration::from_secs(10))
///     .await
/// # }
/// ```
#[must_use = "a server does nothing unless awaited"]
pub struct WithGracefulShutdown<S, F> {
    serve: Serve<S>,
    signal: F,
    timeout: Option<Duration>,
}

impl<S, F> WithGracefulShutdown<S, F> {
    /// How long connections may take to finish after the signal; the ones still open then
    /// are dropped. Without it the server waits for every response to end, which an event
    /// stream never does unless the application ends it.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run(app: axum::Router, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    /// sse_tower::serve(listener, app)
    ///     .with_graceful_shutdown(async { let _ = tokio::signal::ctrl_c().await; })
    ///     .shutdown_timeout(std::time::Duration::from_secs(5))
    ///     .await
    /// # }
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

impl<S: fmt::Debug, F> fmt::Debug for WithGracefulShutdown<S, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WithGracefulShutdown")
            .field("serve", &self.serve)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// The future of a running server: [`Serve`] or [`WithGracefulShutdown`], awaited.
///
/// It resolves after a graceful shutdown; it has no error to report today (accept errors
/// are logged and retried), the `io::Result` keeps it interchangeable with `axum::serve`.
///
/// # Example
///
/// ```no_run
/// # async fn run(app: axum::Router, listener: tokio::net::TcpListener) {
/// use std::future::IntoFuture;
///
/// let server: sse_tower::serve::ServeFuture = sse_tower::serve(listener, app).into_future();
/// let task = tokio::spawn(server);
/// # }
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct ServeFuture(Pin<Box<dyn Future<Output = io::Result<()>> + Send>>);

impl Future for ServeFuture {
    type Output = io::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.as_mut().poll(cx)
    }
}

impl fmt::Debug for ServeFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServeFuture").finish_non_exhaustive()
    }
}

impl<S, B> IntoFuture for Serve<S>
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Output = io::Result<()>;
    type IntoFuture = ServeFuture;

    fn into_future(self) -> ServeFuture {
        ServeFuture(Box::pin(run(
            self.listener,
            self.service,
            self.config,
            std::future::pending(),
            None,
        )))
    }
}

impl<S, B, F> IntoFuture for WithGracefulShutdown<S, F>
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
    F: Future<Output = ()> + Send + 'static,
{
    type Output = io::Result<()>;
    type IntoFuture = ServeFuture;

    fn into_future(self) -> ServeFuture {
        ServeFuture(Box::pin(run(
            self.serve.listener,
            self.serve.service,
            self.serve.config,
            self.signal,
            self.timeout,
        )))
    }
}

/// What the server asks of its connections, through one watch channel they all hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Running,
    /// Finish the response in flight, then close.
    Finish,
    /// Close now.
    Close,
}

async fn run<S, B, F>(
    listener: TcpListener,
    service: S,
    config: ConnectionConfig,
    signal: F,
    timeout: Option<Duration>,
) -> io::Result<()>
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
    F: Future<Output = ()>,
{
    // Every connection task holds a receiver, so `closed()` on the sender is also "every
    // connection is gone", with no counter to keep.
    let (phase, _) = watch::channel(Phase::Running);
    let config = Arc::new(config);
    let mut signal = pin!(signal);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(err) if is_connection_error(&err) => continue,
                Err(err) => {
                    tracing::error!(error = %err, "accept failed, retrying in 1 s");
                    tokio::select! {
                        () = tokio::time::sleep(ACCEPT_BACKOFF) => continue,
                        () = &mut signal => break,
                    }
                }
            },
            () = &mut signal => break,
        };
        tokio::spawn(connection::serve_connection(
            stream,
            service.clone(),
            Arc::clone(&config),
            phase.subscribe(),
        ));
    }
    drop(listener);
    tracing::debug!(
        connections = phase.receiver_count(),
        "shutting down: finishing open connections"
    );
    phase.send_replace(Phase::Finish);
    let finished = match timeout {
        Some(timeout) => tokio::time::timeout(timeout, phase.closed()).await.is_ok(),
        None => {
            phase.closed().await;
            true
        }
    };
    if !finished {
        tracing::debug!(
            connections = phase.receiver_count(),
            "shutdown timeout: closing the connections still open"
        );
        phase.send_replace(Phase::Close);
        phase.closed().await;
    }
    Ok(())
}

/// Errors about one connection, which say nothing about the listener (as in hyper's and
/// axum's accept loops).
fn is_connection_error(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}
