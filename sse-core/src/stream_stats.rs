//! [`SseStats`]: live and total SSE stream counts, and the [`StreamGuard`] each stream holds.
//!
//! The SSE middleware of every adapter (sse-tower's `SseLayer`, sse-actix's
//! `SseMiddleware`) counts into the handle of its [`SseConfig`](crate::SseConfig).

use std::{
    fmt,
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc,
    },
};

/// A cloneable handle on the stream counters of an SSE middleware.
///
/// The counters are atomics behind an `Arc`: every clone counts into the same handle, from
/// any thread. A stream is counted from the moment its response leaves the middleware until
/// its body is dropped (the client is gone or the response was written out), so
/// [`live`](Self::live) is also the number of stream-limit permits in use.
///
/// ```
/// use sse_core::{SseConfig, SseStats};
///
/// let stats = SseStats::new();
/// let config = SseConfig::new().max_streams(1).stats_handle(stats.clone());
/// # let _permit = config.open_stream();
/// // ... serve with config; then:
/// println!("{} live, {} opened, {} turned away", stats.live(), stats.opened(), stats.rejected());
/// ```
#[derive(Clone, Default)]
pub struct SseStats {
    shared: Arc<Counters>,
}

#[derive(Default)]
struct Counters {
    live: AtomicUsize,
    opened: AtomicU64,
    closed: AtomicU64,
    rejected: AtomicU64,
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
        self.shared.closed.load(Ordering::Relaxed)
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
                    reason: CloseReason::ClientGone,
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
            .finish()
    }
}

/// Why a stream ended, logged when its [`StreamGuard`] is dropped. Not public API.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The body was dropped before its end: the client went away (or the server shut down).
    ClientGone,
    /// The handler's body ended.
    Ended,
    /// The handler's body returned an error.
    Error,
}

impl CloseReason {
    /// The reason in words, as logged.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientGone => "client gone",
            Self::Ended => "handler ended",
            Self::Error => "error",
        }
    }
}

/// One live stream: a permit of the stream limit, held by the response body and given back
/// when it is dropped. The middleware gets one from `SseConfig::open_stream`. Not public API.
#[doc(hidden)]
pub struct StreamGuard {
    stats: SseStats,
    reason: CloseReason,
}

impl StreamGuard {
    /// Sets why the stream ends (by default [`CloseReason::ClientGone`]).
    pub fn set_reason(&mut self, reason: CloseReason) {
        self.reason = reason;
    }

    /// Sets the reason from what a body poll returned: its end is
    /// [`Ended`](CloseReason::Ended), an error [`Error`](CloseReason::Error); anything else
    /// changes nothing.
    pub fn observe<T, E>(&mut self, polled: &std::task::Poll<Option<Result<T, E>>>) {
        match polled {
            std::task::Poll::Ready(None) => self.set_reason(CloseReason::Ended),
            std::task::Poll::Ready(Some(Err(_))) => self.set_reason(CloseReason::Error),
            _ => {}
        }
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
        let counters = &self.stats.shared;
        let _live = counters.live.fetch_sub(1, Ordering::AcqRel) - 1;
        counters.closed.fetch_add(1, Ordering::Relaxed);
        #[cfg(feature = "tokio")]
        counters.changed.notify_waiters();
        #[cfg(feature = "tracing")]
        tracing::debug!(
            reason = self.reason.as_str(),
            live = _live,
            "SSE stream closed"
        );
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
}
