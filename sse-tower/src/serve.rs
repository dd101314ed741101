//! A connection loop for tower services that keeps idle event streams small.
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
//! Shutdown: after the [`with_graceful_shutdown`](Serve::with_graceful_shutdown) signal the
//! listener is closed, idle connections close, and connections with a response in flight
//! finish it. An event stream is a response that never finishes unless the application
//! ends it (`Hub::shutdown`, say), so [`shutdown_timeout`](WithGracefulShutdown::shutdown_timeout)
//! bounds the wait; when it passes, the remaining connections are dropped. Dropping the
//! serve future drops every connection it serves.

use std::error::Error as StdError;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::io;
use std::pin::{pin, Pin};
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower_service::Service;

type BoxError = Box<dyn StdError + Send + Sync>;

/// What a client opening HTTP/2 with prior knowledge sends first (RFC 9113, section 3.4).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

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
    Serve { listener, service }
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
}

impl<S> Serve<S> {
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
        tokio::spawn(serve_connection(stream, service.clone(), phase.subscribe()));
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

async fn serve_connection<S, B>(stream: TcpStream, service: S, mut phase: watch::Receiver<Phase>)
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let maybe_h2 = tokio::select! {
        first = may_be_h2_preface(&stream) => match first {
            Ok(Some(maybe_h2)) => maybe_h2,
            Ok(None) => return,
            Err(err) => {
                tracing::debug!(error = %err, "connection failed before its first request");
                return;
            }
        },
        _ = phase.changed() => return,
    };
    let io = TokioIo::new(stream);
    let service = TowerToHyperService::new(service);
    if maybe_h2 {
        // hyper-util's auto connection reads the preface to the end, however it arrives.
        // Boxed: its state is more than twice an HTTP/1 connection's, and keeping it out of
        // line keeps every HTTP/1 connection task small.
        Box::pin(async move {
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder.http2().enable_connect_protocol();
            drive(
                pin!(builder.serve_connection_with_upgrades(io, service)),
                phase,
            )
            .await;
        })
        .await;
    } else {
        let connection = hyper::server::conn::http1::Builder::new()
            .serve_connection(io, service)
            .with_upgrades();
        drive(pin!(connection), phase).await;
    }
}

/// Peeks at the first bytes without consuming them: `Some(true)` if they are (the start
/// of) the HTTP/2 preface, `Some(false)` for anything else, `None` if the client closed
/// without sending anything.
async fn may_be_h2_preface(stream: &TcpStream) -> io::Result<Option<bool>> {
    let mut first = [0; H2_PREFACE.len()];
    let n = stream.peek(&mut first).await?;
    Ok((n > 0).then(|| H2_PREFACE.starts_with(&first[..n])))
}

/// A hyper connection that can be asked to finish.
trait GracefulConnection: Future<Output = Result<(), Self::Error>> {
    type Error: fmt::Display;

    fn graceful_shutdown(self: Pin<&mut Self>);
}

impl<I, S, B> GracefulConnection for hyper::server::conn::http1::UpgradeableConnection<I, S>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    S: hyper::service::HttpService<Incoming, ResBody = B>,
    S::Error: Into<BoxError>,
    B: http_body::Body + 'static,
    B::Error: Into<BoxError>,
{
    type Error = hyper::Error;

    fn graceful_shutdown(self: Pin<&mut Self>) {
        hyper::server::conn::http1::UpgradeableConnection::graceful_shutdown(self);
    }
}

impl<I, S, B> GracefulConnection for auto::UpgradeableConnection<'_, I, S, TokioExecutor>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>>,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Error = BoxError;

    fn graceful_shutdown(self: Pin<&mut Self>) {
        auto::UpgradeableConnection::graceful_shutdown(self);
    }
}

/// Runs `connection` to its end, asking it to finish or dropping it as `phase` says. It
/// takes the connection pinned where the caller holds it, so the connection task stores
/// the connection's state once, not twice.
async fn drive<C: GracefulConnection>(
    mut connection: Pin<&mut C>,
    mut phase: watch::Receiver<Phase>,
) {
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(err) = result {
                    tracing::debug!(error = %err, "connection ended with an error");
                }
                return;
            }
            changed = phase.changed() => {
                // The server's future was dropped, or it gave up waiting: close now.
                if changed.is_err() || *phase.borrow_and_update() == Phase::Close {
                    return;
                }
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}
