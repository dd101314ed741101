//! One connection, from accept to close: the first bytes (or the TLS handshake) under the
//! head-read timeout, then hyper's HTTP/1 or HTTP/2 connection, closed when idle for too
//! long, when its HTTP/2 peer stops answering pings, or when the server shuts down.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use futures_util::task::AtomicWaker;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{Instant, Sleep};
use tower_service::Service;

use super::idle::{Activity, Tracked};
use super::{BoxError, ConnectionConfig, Phase};

/// What a client opening HTTP/2 with prior knowledge sends first (RFC 9113, section 3.4).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The protocol a connection speaks, as far as is known before hyper reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Http1,
    /// The first bytes are (the start of) the HTTP/2 preface: let hyper-util read on.
    MaybeHttp2,
    /// Agreed by TLS ALPN.
    Http2,
}

pub(super) async fn serve_connection<S, B>(
    stream: TcpStream,
    service: S,
    config: Arc<ConnectionConfig>,
    mut phase: watch::Receiver<Phase>,
) where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    #[cfg(feature = "tls")]
    if let Some(acceptor) = config.tls.clone() {
        // Boxed: rustls' state is several KB, and plain connections should not carry room
        // for it in their task.
        return Box::pin(async move {
            let handshake = acceptor.accept(stream);
            let Some(tls) = before_first_request(handshake, &config, &mut phase).await else {
                return;
            };
            let protocol = match tls.get_ref().1.alpn_protocol() {
                Some(b"h2") => Protocol::Http2,
                _ => Protocol::Http1,
            };
            serve_io(tls, protocol, service, &config, phase).await;
        })
        .await;
    }
    let Some(first) = before_first_request(may_be_h2_preface(&stream), &config, &mut phase).await
    else {
        return;
    };
    let protocol = match first {
        Some(true) => Protocol::MaybeHttp2,
        Some(false) => Protocol::Http1,
        None => return,
    };
    serve_io(stream, protocol, service, &config, phase).await;
}

/// Runs `step` (the TLS handshake, the wait for the first bytes) under the head-read
/// timeout: `None` if it fails, times out or the server shuts down meanwhile. Without this
/// a client that connects and sends nothing would hold its connection forever, since
/// hyper's own timer only starts once hyper reads.
async fn before_first_request<T>(
    step: impl Future<Output = io::Result<T>>,
    config: &ConnectionConfig,
    phase: &mut watch::Receiver<Phase>,
) -> Option<T> {
    let step = async {
        match config.header_read_timeout {
            Some(timeout) => tokio::time::timeout(timeout, step)
                .await
                .unwrap_or_else(|_| {
                    Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "no request within the head-read timeout",
                    ))
                }),
            None => step.await,
        }
    };
    tokio::select! {
        result = step => result
            .inspect_err(|err| {
                tracing::debug!(error = %err, "connection closed before its first request");
            })
            .ok(),
        _ = phase.changed() => None,
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

async fn serve_io<I, S, B>(
    io: I,
    protocol: Protocol,
    service: S,
    config: &ConnectionConfig,
    phase: watch::Receiver<Phase>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let activity = Arc::new(Activity::default());
    let service = TowerToHyperService::new(Tracked::new(service, Arc::clone(&activity)));
    let io = TokioIo::new(io);
    let idle_timeout = config.idle_timeout;
    if protocol == Protocol::Http1 {
        // hyper starts this timer whenever it waits for a request head: on a new
        // connection, and again each time a keep-alive connection goes idle.
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(config.header_read_timeout)
            .serve_connection(io, service)
            .with_upgrades();
        drive(pin!(connection), phase, &activity, idle_timeout).await;
        return;
    }
    // Boxed: HTTP/2 state is more than twice an HTTP/1 connection's, and keeping it out
    // of line keeps every HTTP/1 connection task small.
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // A preface that turns out not to be one falls back to HTTP/1, under the same timer.
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .enable_connect_protocol()
        .keep_alive_interval(config.http2_keep_alive_interval)
        .keep_alive_timeout(config.http2_keep_alive_timeout);
    if protocol == Protocol::Http2 {
        builder = builder.http2_only();
    }
    Box::pin(async move {
        // hyper-util's auto connection reads the preface to the end, however it arrives.
        let connection = builder.serve_connection_with_upgrades(io, service);
        drive(pin!(connection), phase, &activity, idle_timeout).await;
    })
    .await;
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

/// Runs `connection` to its end: asks it to finish once it has had no request in flight
/// for `idle_timeout`, and finishes or drops it as `phase` says. It takes the connection
/// pinned where the caller holds it, so the connection task stores the connection's state
/// once, not twice.
async fn drive<C: GracefulConnection>(
    mut connection: Pin<&mut C>,
    mut phase: watch::Receiver<Phase>,
    activity: &Activity,
    idle_timeout: Option<Duration>,
) {
    // Boxed and only while idle: a connection with a stream open holds no timer.
    let mut idle_deadline: Option<Pin<Box<Sleep>>> =
        idle_timeout.map(|timeout| Box::pin(tokio::time::sleep(timeout)));
    let signals = Arc::new(Signals::default());
    let signals_waker = Waker::from(Arc::clone(&signals));
    loop {
        let step = {
            let mut phase_changed = pin!(phase.changed());
            let mut activity_changed = pin!(activity.changed());
            // New signal futures: poll them once so they register.
            signals.fired.store(true, Ordering::Relaxed);
            std::future::poll_fn(|cx| {
                if let Poll::Ready(result) = connection.as_mut().poll(cx) {
                    return Poll::Ready(Step::Ended(result));
                }
                signals.task.register(cx.waker());
                if !signals.fired.swap(false, Ordering::AcqRel) {
                    return Poll::Pending;
                }
                let mut cx = Context::from_waker(&signals_waker);
                if let Poll::Ready(changed) = phase_changed.as_mut().poll(&mut cx) {
                    return Poll::Ready(Step::Phase(changed.is_ok()));
                }
                if activity_changed.as_mut().poll(&mut cx).is_ready() {
                    return Poll::Ready(Step::Activity);
                }
                let expired = idle_deadline
                    .as_mut()
                    .is_some_and(|sleep| sleep.as_mut().poll(&mut cx).is_ready());
                if expired {
                    return Poll::Ready(Step::IdleDeadline);
                }
                Poll::Pending
            })
            .await
        };
        match step {
            Step::Ended(result) => {
                if let Err(err) = result {
                    tracing::debug!(error = %err, "connection ended with an error");
                }
                return;
            }
            Step::Phase(changed) => {
                // The server's future was dropped, or it gave up waiting: close now.
                if !changed || *phase.borrow_and_update() == Phase::Close {
                    return;
                }
                connection.as_mut().graceful_shutdown();
            }
            Step::Activity => {
                idle_deadline = match idle_timeout {
                    Some(timeout) if activity.is_idle() => {
                        let deadline = Instant::now() + timeout;
                        match idle_deadline.take() {
                            Some(mut sleep) => {
                                sleep.as_mut().reset(deadline);
                                Some(sleep)
                            }
                            None => Some(Box::pin(tokio::time::sleep_until(deadline))),
                        }
                    }
                    _ => None,
                };
            }
            Step::IdleDeadline => {
                idle_deadline = None;
                if activity.is_idle() {
                    tracing::debug!("idle timeout: closing the connection");
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// What woke [`drive`] out of its wait.
enum Step<E> {
    Ended(Result<(), E>),
    /// The server's phase changed; `false` if its sender is gone.
    Phase(bool),
    Activity,
    IdleDeadline,
}

/// The waker of a connection's signals (the server's phase, the in-flight count, the idle
/// deadline): it notes that one of them fired, then wakes the task. The task polls them only
/// then, not on each of the connection's own wake-ups (one per event written): polling a
/// waiting `Notified` takes its lock, and the phase's is shared by every connection.
#[derive(Debug, Default)]
struct Signals {
    fired: AtomicBool,
    task: AtomicWaker,
}

impl Wake for Signals {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.fired.store(true, Ordering::Release);
        self.task.wake();
    }
}
