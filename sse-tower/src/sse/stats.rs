//! [`SseStats`]: live and total SSE stream counts, and the guard each stream holds.

use std::{
    fmt,
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc,
    },
};

/// A cloneable handle on the counters of an [`SseLayer`](super::SseLayer).
///
/// Get it with [`SseLayer::stats`](super::SseLayer::stats); every clone of the layer, and
/// every service it builds, counts into the same handle. A stream is counted from the moment
/// its response leaves the layer until its body is dropped, that is until the client is
/// gone or the response has been written out, so [`live`](Self::live) is also the number
/// of stream-limit permits in use.
///
/// ```
/// use sse_tower::SseLayer;
///
/// let layer = SseLayer::new().max_streams(10_000);
/// let stats = layer.stats();
/// assert_eq!(stats.live(), 0);
/// assert_eq!(stats.opened(), 0);
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
}

impl SseStats {
    /// The number of SSE response bodies alive now.
    pub fn live(&self) -> usize {
        self.shared.live.load(Ordering::Acquire)
    }

    /// The number of SSE streams opened so far.
    pub fn opened(&self) -> u64 {
        self.shared.opened.load(Ordering::Relaxed)
    }

    /// The number of SSE streams closed so far, for any reason.
    pub fn closed(&self) -> u64 {
        self.shared.closed.load(Ordering::Relaxed)
    }

    /// The number of SSE responses turned away by the stream limit so far.
    pub fn rejected(&self) -> u64 {
        self.shared.rejected.load(Ordering::Relaxed)
    }

    /// Takes a stream permit, unless `max` streams are already live.
    pub(crate) fn try_open(&self, max: Option<usize>) -> Option<StreamGuard> {
        let counters = &self.shared;
        let acquired = counters
            .live
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |live| match max {
                Some(max) if live >= max => None,
                _ => Some(live + 1),
            });
        match acquired {
            Ok(before) => {
                counters.opened.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(live = before + 1, "SSE stream opened");
                Some(StreamGuard {
                    stats: self.clone(),
                    reason: CloseReason::ClientGone,
                })
            }
            Err(live) => {
                counters.rejected.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(
                    live,
                    limit = max,
                    "SSE stream rejected: stream limit reached"
                );
                None
            }
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

/// Why a stream ended, for the close event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CloseReason {
    /// The body was dropped before its end: the client went away (or the server shut down).
    ClientGone,
    /// The handler's body ended.
    Ended,
    /// The handler's body returned an error.
    Error,
}

impl CloseReason {
    fn as_str(self) -> &'static str {
        match self {
            Self::ClientGone => "client gone",
            Self::Ended => "handler ended",
            Self::Error => "error",
        }
    }
}

/// One live stream: a permit of the stream limit, held by the response body.
pub(crate) struct StreamGuard {
    stats: SseStats,
    reason: CloseReason,
}

impl StreamGuard {
    pub(crate) fn set_reason(&mut self, reason: CloseReason) {
        self.reason = reason;
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
        let live = counters.live.fetch_sub(1, Ordering::AcqRel) - 1;
        counters.closed.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(reason = self.reason.as_str(), live, "SSE stream closed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permits_are_limited_and_come_back_on_drop() {
        let stats = SseStats::default();
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
