//! [`SseStats`]: live and total SSE stream counts, closes by [`CloseReason`], heartbeats and
//! bytes written, and the [`StreamGuard`] each stream holds.
//!
//! The SSE middleware of every adapter (sse-tower's `SseLayer`, sse-actix's
//! `SseMiddleware`) counts into the handle of its [`SseConfig`](crate::SseConfig).

use std::{
    cell::Cell,
    fmt,
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc,
    },
};

/// A cloneable handle on the stream counters of an SSE middleware.
///
/// The counters are atomics behind an `Arc`: every clone counts into the same handle, from
/// any thread, with relaxed increments and no lock. A stream is counted from the moment its
/// response leaves the middleware until its body is dropped (the client is gone or the
/// response was written out), so [`live`](Self::live) is also the number of stream-limit
/// permits in use, and a gauge made from it follows the body, not the handler.
///
/// These are the counters an exporter reads (the demo serves them as Prometheus metrics at
/// `GET /metrics`); the library itself depends on no metrics crate.
///
/// ```
/// use sse_core::{CloseReason, SseConfig, SseStats};
///
/// let stats = SseStats::new();
/// let config = SseConfig::new().max_streams(1).stats_handle(stats.clone());
/// # let _permit = config.open_stream();
/// // ... serve with config; then:
/// println!("{} live, {} opened, {} turned away", stats.live(), stats.opened(), stats.rejected());
/// # drop(_permit);
/// assert_eq!(stats.closed_by(CloseReason::ClientGone), 1);
/// assert_eq!(stats.closed(), 1);
/// ```
#[derive(Clone, Default)]
pub struct SseStats {
    shared: Arc<Counters>,
}

#[derive(Default)]
struct Counters {
    live: AtomicUsize,
    opened: AtomicU64,
    /// Indexed by `CloseReason as usize`.
    closed: [AtomicU64; CloseReason::ALL.len()],
    rejected: AtomicU64,
    heartbeats: AtomicU64,
    written_bytes: AtomicU64,
    /// Woken whenever `live` changes, for [`SseStats::wait_live`].
    #[cfg(feature = "tokio")]
    changed: tokio::sync::Notify,
}

impl SseStats {
    /// A fresh set of counters, all zero.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of SSE response bodies alive now.
    #[must_use]
    pub fn live(&self) -> usize {
        self.shared.live.load(Ordering::Acquire)
    }

    /// The number of SSE streams opened so far.
    #[must_use]
    pub fn opened(&self) -> u64 {
        self.shared.opened.load(Ordering::Relaxed)
    }

    /// The number of SSE streams closed so far, for any reason.
    #[must_use]
    pub fn closed(&self) -> u64 {
        CloseReason::ALL.iter().map(|&r| self.closed_by(r)).sum()
    }

    /// The number of SSE streams closed so far for `reason`.
    #[must_use]
    pub fn closed_by(&self, reason: CloseReason) -> u64 {
        self.shared.closed[reason as usize].load(Ordering::Relaxed)
    }

    /// The number of heartbeat comments the middleware injected so far.
    #[must_use]
    pub fn heartbeats(&self) -> u64 {
        self.shared.heartbeats.load(Ordering::Relaxed)
    }

    /// The bytes of SSE response bodies handed to the server to write so far: events,
    /// comments and injected heartbeats (before any TLS or HTTP/2 framing).
    #[must_use]
    pub fn written_bytes(&self) -> u64 {
        self.shared.written_bytes.load(Ordering::Relaxed)
    }

    /// The number of SSE responses turned away by the stream limit so far.
    #[must_use]
    pub fn rejected(&self) -> u64 {
        self.shared.rejected.load(Ordering::Relaxed)
    }

    /// Takes a stream permit, unless `max` streams are already live (then it counts a
    /// rejection and returns `None`). The permit is given back when the guard is dropped.
    #[must_use]
    pub(crate) fn try_open(&self, max: Option<usize>) -> Option<StreamGuard> {
        let counters = &self.shared;
        let acquired = counters
            .live
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |live| match max {
                Some(max) if live >= max => None,
                _ => Some(live + 1),
            });
        match acquired {
            Ok(_before) => {
                counters.opened.fetch_add(1, Ordering::Relaxed);
                #[cfg(feature = "tokio")]
                counters.changed.notify_waiters();
                #[cfg(feature = "tracing")]
                tracing::debug!(live = _before + 1, "SSE stream opened");
                Some(StreamGuard {
                    stats: self.clone(),
                    reason: None,
                })
            }
            Err(_live) => {
                counters.rejected.fetch_add(1, Ordering::Relaxed);
                #[cfg(feature = "tracing")]
                tracing::debug!(
                    live = _live,
                    limit = max,
                    "SSE stream rejected: stream limit reached"
                );
                None
            }
        }
    }
}

#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
impl SseStats {
    /// Waits until exactly `count` streams are live: `wait_live(0)` after a shutdown signal
    /// waits for every stream to close, without polling the counter.
    ///
    /// ```
    /// use sse_core::{SseConfig, SseStats};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let stats = SseStats::new();
    /// let config = SseConfig::new().stats_handle(stats.clone());
    /// // A stream opens (the middleware takes a permit per SSE response body) ...
    /// let guard = config.open_stream().unwrap();
    /// let closed = tokio::spawn({
    ///     let stats = stats.clone();
    ///     async move { stats.wait_live(0).await }
    /// });
    /// drop(guard);
    /// closed.await.unwrap();
    /// assert_eq!(stats.live(), 0);
    /// # }
    /// ```
    pub async fn wait_live(&self, count: usize) {
        loop {
            let changed = self.shared.changed.notified();
            let mut changed = std::pin::pin!(changed);
            // Registered before the check, so a change in between still wakes us.
            changed.as_mut().enable();
            if self.live() == count {
                return;
            }
            changed.await;
        }
    }
}

impl fmt::Debug for SseStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseStats")
            .field("live", &self.live())
            .field("opened", &self.opened())
            .field("closed", &self.closed())
            .field("rejected", &self.rejected())
            .field("heartbeats", &self.heartbeats())
            .field("written_bytes", &self.written_bytes())
            .finish()
    }
}

/// Why an SSE stream closed, as [`SseStats::closed_by`] counts it.
///
/// The middleware sees the end of a body or its drop; the reasons it cannot see (the
/// server's shutdown signal, the hub ending a slow subscriber) are told to it by the stream
/// that ends, during the poll in which it ends: see [`note_close_reason`].
///
/// ```
/// use sse_core::{CloseReason, SseStats};
///
/// // What an exporter writes: one labelled counter per reason, a fixed set of labels.
/// let stats = SseStats::new();
/// for reason in CloseReason::ALL {
///     println!("sse_streams_closed_total{{reason=\"{reason}\"}} {}", stats.closed_by(reason));
/// }
/// assert_eq!(CloseReason::EvictedSlow.as_str(), "evicted_slow");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// The body was dropped before its end: the client went away.
    ClientGone,
    /// The handler's stream ended by itself.
    Ended,
    /// The handler's stream returned an error.
    Error,
    /// The server's shutdown signal ended it: the responder's `shutdown` token, or the
    /// hub's shutdown.
    Shutdown,
    /// The hub ended it because its subscriber fell too far behind (it reconnects and
    /// replays).
    EvictedSlow,
}

impl CloseReason {
    /// Every reason, in a fixed order (for exporters: a label with a fixed set of values).
    pub const ALL: [Self; 5] = [
        Self::ClientGone,
        Self::Ended,
        Self::Error,
        Self::Shutdown,
        Self::EvictedSlow,
    ];

    /// The reason as a metric label value or a log field: `client_gone`, `ended`, `error`,
    /// `shutdown`, `evicted_slow`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ClientGone => "client_gone",
            Self::Ended => "ended",
            Self::Error => "error",
            Self::Shutdown => "shutdown",
            Self::EvictedSlow => "evicted_slow",
        }
    }
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

std::thread_local! {
    /// Why the stream being polled on this thread is ending, as the stream itself noted it.
    /// A thread-local rather than a field: the middleware holds the body behind a type it
    /// can't see into, and this costs no memory per stream.
    static NOTED_CLOSE: Cell<Option<CloseReason>> = const { Cell::new(None) };
}

/// Tells the SSE middleware polling this stream why it is ending (the shutdown signal, or
/// the hub's eviction of a slow subscriber). Called by a stream during the poll in which it
/// decides to end; outside a middleware's poll it has no effect. Not public API.
#[doc(hidden)]
pub fn note_close_reason(reason: CloseReason) {
    NOTED_CLOSE.with(|noted| noted.set(Some(reason)));
}

/// One live stream: a permit of the stream limit, held by the response body and given back
/// when it is dropped, counting why it closed and what it wrote. The middleware gets one
/// from `SseConfig::open_stream` and reports each poll of the body to it. Not public API.
#[doc(hidden)]
pub struct StreamGuard {
    stats: SseStats,
    /// Set once the body ended, or the stream noted why it is ending; `None` at the drop
    /// means the client went away.
    reason: Option<CloseReason>,
}

impl StreamGuard {
    /// Call right before polling the body: forgets a reason noted outside this body's poll.
    #[inline]
    pub fn before_poll(&self) {
        NOTED_CLOSE.with(|noted| noted.set(None));
    }

    /// Call with what a body poll returned (`len` gives a data item's length): counts the
    /// bytes, takes the reason the stream noted, and records the end (or error) of the body.
    #[inline]
    pub fn after_poll<T, E>(
        &mut self,
        polled: &std::task::Poll<Option<Result<T, E>>>,
        len: impl FnOnce(&T) -> usize,
    ) {
        if let Some(noted) = NOTED_CLOSE.with(Cell::take) {
            self.reason = Some(noted);
        }
        match polled {
            std::task::Poll::Ready(Some(Ok(data))) => {
                let len = len(data) as u64;
                if len > 0 {
                    self.stats
                        .shared
                        .written_bytes
                        .fetch_add(len, Ordering::Relaxed);
                }
            }
            std::task::Poll::Ready(None) => {
                self.reason.get_or_insert(CloseReason::Ended);
            }
            std::task::Poll::Ready(Some(Err(_))) => self.reason = Some(CloseReason::Error),
            std::task::Poll::Pending => {}
        }
    }

    /// Counts a heartbeat the middleware injected (its bytes count through
    /// [`after_poll`](Self::after_poll) like any data).
    #[inline]
    pub fn on_heartbeat(&self) {
        self.stats.shared.heartbeats.fetch_add(1, Ordering::Relaxed);
    }
}

impl fmt::Debug for StreamGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamGuard")
            .field("reason", &self.reason)
            .finish()
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        let reason = self.reason.unwrap_or(CloseReason::ClientGone);
        let counters = &self.stats.shared;
        let _live = counters.live.fetch_sub(1, Ordering::AcqRel) - 1;
        counters.closed[reason as usize].fetch_add(1, Ordering::Relaxed);
        #[cfg(feature = "tokio")]
        counters.changed.notify_waiters();
        #[cfg(feature = "tracing")]
        tracing::debug!(reason = reason.as_str(), live = _live, "SSE stream closed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permits_are_limited_and_come_back_on_drop() {
        let stats = SseStats::new();
        let a = stats.try_open(Some(2)).unwrap();
        let _b = stats.try_open(Some(2)).unwrap();
        assert!(stats.try_open(Some(2)).is_none());
        assert_eq!((stats.live(), stats.opened(), stats.rejected()), (2, 2, 1));
        drop(a);
        assert_eq!((stats.live(), stats.closed()), (1, 1));
        assert!(stats.try_open(Some(2)).is_some());
        assert!(stats.try_open(None).is_some());
    }

    fn poll<T>(
        guard: &mut StreamGuard,
        polled: std::task::Poll<Option<Result<T, ()>>>,
        len: usize,
    ) {
        guard.before_poll();
        guard.after_poll(&polled, |_| len);
    }

    #[test]
    fn closes_are_counted_by_reason() {
        use std::task::Poll;
        let stats = SseStats::new();

        let mut ended = stats.try_open(None).unwrap();
        poll(&mut ended, Poll::Ready(Some(Ok(()))), 13);
        poll::<()>(&mut ended, Poll::Ready(None), 0);
        drop(ended);

        let mut failed = stats.try_open(None).unwrap();
        poll::<()>(&mut failed, Poll::Ready(Some(Err(()))), 0);
        drop(failed);

        // The stream notes the reason in the poll it decides to end, and ends later.
        let mut shut = stats.try_open(None).unwrap();
        shut.before_poll();
        note_close_reason(CloseReason::Shutdown);
        shut.after_poll(&Poll::Ready(Some(Ok::<_, ()>(()))), |()| 7);
        poll::<()>(&mut shut, Poll::Ready(None), 0);
        drop(shut);

        // A reason noted outside this body's poll is not taken.
        note_close_reason(CloseReason::EvictedSlow);
        let mut gone = stats.try_open(None).unwrap();
        poll::<()>(&mut gone, Poll::Pending, 0);
        gone.on_heartbeat();
        drop(gone);

        let counts: Vec<u64> = CloseReason::ALL
            .iter()
            .map(|&r| stats.closed_by(r))
            .collect();
        assert_eq!(counts, [1, 1, 1, 1, 0]);
        assert_eq!((stats.closed(), stats.live()), (4, 0));
        assert_eq!((stats.written_bytes(), stats.heartbeats()), (20, 1));
    }
}
