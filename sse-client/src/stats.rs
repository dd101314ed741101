//! [`Stats`]: counters of one event source.

use std::{
    fmt,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
};

/// A cheap, cloneable handle on the counters of one [`EventSource`](crate::EventSource),
/// readable from any thread while the stream runs and after it is dropped.
///
/// ```no_run
/// # fn run(events: &sse_client::EventSource) {
/// let stats = events.stats();
/// println!(
///     "{} attempts, {} reconnects, {} opened, {} events, {} bytes",
///     stats.attempts(), stats.reconnects(), stats.opened(), stats.events(), stats.bytes(),
/// );
/// # }
/// ```
#[derive(Clone, Default)]
pub struct Stats {
    counters: Arc<Counters>,
}

#[derive(Default)]
struct Counters {
    attempts: AtomicU64,
    opened: AtomicU64,
    events: AtomicU64,
    bytes: AtomicU64,
}

impl Stats {
    /// Connection attempts so far (requests sent), the first one included.
    #[must_use]
    pub fn attempts(&self) -> u64 {
        self.counters.attempts.load(Ordering::Relaxed)
    }

    /// Attempts after the first: how often the event source reconnected or tried to.
    #[must_use]
    pub fn reconnects(&self) -> u64 {
        self.attempts().saturating_sub(1)
    }

    /// Connections the server accepted (`200 OK`, `text/event-stream`).
    #[must_use]
    pub fn opened(&self) -> u64 {
        self.counters.opened.load(Ordering::Relaxed)
    }

    /// Events dispatched.
    #[must_use]
    pub fn events(&self) -> u64 {
        self.counters.events.load(Ordering::Relaxed)
    }

    /// Bytes of response bodies received (after any content decoding).
    #[must_use]
    pub fn bytes(&self) -> u64 {
        self.counters.bytes.load(Ordering::Relaxed)
    }

    /// Counts an attempt and returns its number, from 1.
    pub(crate) fn count_attempt(&self) -> u64 {
        add(&self.counters.attempts, 1)
    }

    pub(crate) fn count_opened(&self) {
        add(&self.counters.opened, 1);
    }

    pub(crate) fn count_event(&self) {
        add(&self.counters.events, 1);
    }

    pub(crate) fn count_bytes(&self, bytes: usize) {
        add(&self.counters.bytes, bytes as u64);
    }
}

/// Adds `n` to `counter` and returns the new count. The event source's driver is the only
/// writer (the handles only read), so a plain load and store counts exactly and spares the
/// locked add a `fetch_add` would cost on every event.
fn add(counter: &AtomicU64, n: u64) -> u64 {
    let count = counter.load(Ordering::Relaxed) + n;
    counter.store(count, Ordering::Relaxed);
    count
}

impl fmt::Debug for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stats")
            .field("attempts", &self.attempts())
            .field("opened", &self.opened())
            .field("events", &self.events())
            .field("bytes", &self.bytes())
            .finish()
    }
}
