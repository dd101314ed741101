//! [`HubConfig`] and [`GapPolicy`].

use std::time::Duration;

/// The settings of a [`Hub`](super::Hub): replay ring bounds, the per-subscriber queue bound,
/// the gap policy and what shutdown sends.
///
/// See the [module docs](super) for what each bound does.
///
/// ```
/// use std::time::Duration;
/// use sse_core::hub::{GapPolicy, Hub, HubConfig};
///
/// let hub = Hub::new(
///     HubConfig::new()
///         .replay_capacity(10_000)
///         .replay_bytes(16 << 20)
///         .max_age(Duration::from_secs(300))
///         .queue_bound(1_000)
///         .gap_policy(GapPolicy::LiveOnly),
/// );
/// assert_eq!(hub.config().get_queue_bound(), 1_000);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct HubConfig {
    pub(crate) replay_capacity: usize,
    pub(crate) replay_bytes: usize,
    pub(crate) max_age: Option<Duration>,
    pub(crate) queue_bound: usize,
    pub(crate) gap_policy: GapPolicy,
    pub(crate) shutdown_retry: Option<(Duration, Duration)>,
}

impl HubConfig {
    /// The defaults: a ring of 1024 events and 4 MiB, no age limit, a queue bound of 256
    /// events, [`GapPolicy::Replay`], and on shutdown a `retry:` of 1 s plus up to 5 s of
    /// jitter.
    pub const fn new() -> Self {
        Self {
            replay_capacity: 1024,
            replay_bytes: 4 << 20,
            max_age: None,
            queue_bound: 256,
            gap_policy: GapPolicy::Replay,
            shutdown_retry: Some((Duration::from_secs(1), Duration::from_secs(5))),
        }
    }

    /// The most events the replay ring holds (at least 1). The ring is also every
    /// subscriber's queue, so this also bounds how far behind a subscriber may fall.
    pub const fn replay_capacity(mut self, events: usize) -> Self {
        self.replay_capacity = events;
        self
    }

    /// The most encoded bytes (the events' wire bytes) the replay ring holds. The newest
    /// event is always held, even if it alone is larger.
    pub const fn replay_bytes(mut self, bytes: usize) -> Self {
        self.replay_bytes = bytes;
        self
    }

    /// Drops events from the ring once they are older than `age` (tokio's clock, so a
    /// paused test clock applies). Age is checked when publishing and subscribing.
    pub const fn max_age(mut self, age: Duration) -> Self {
        self.max_age = Some(age);
        self
    }

    /// How many published events of its topics a subscriber may have unread before it is
    /// ended as slow (at least 1). Its client then reconnects with its Last-Event-ID and
    /// replays from the ring.
    pub const fn queue_bound(mut self, events: usize) -> Self {
        self.queue_bound = events;
        self
    }

    /// What a subscriber gets when its Last-Event-ID is no longer held or unknown.
    pub const fn gap_policy(mut self, policy: GapPolicy) -> Self {
        self.gap_policy = policy;
        self
    }

    /// On shutdown, send every subscriber a `retry:` of `base` plus a random share of
    /// `jitter`, so that its client waits that long before reconnecting and thousands of
    /// clients don't all reconnect in the same millisecond.
    pub const fn shutdown_retry(mut self, base: Duration, jitter: Duration) -> Self {
        self.shutdown_retry = Some((base, jitter));
        self
    }

    /// Send no `retry:` on shutdown.
    pub const fn no_shutdown_retry(mut self) -> Self {
        self.shutdown_retry = None;
        self
    }

    /// The replay ring's event capacity.
    pub const fn get_replay_capacity(&self) -> usize {
        self.replay_capacity
    }

    /// The replay ring's byte capacity.
    pub const fn get_replay_bytes(&self) -> usize {
        self.replay_bytes
    }

    /// The per-subscriber queue bound.
    pub const fn get_queue_bound(&self) -> usize {
        self.queue_bound
    }

    /// The gap policy.
    pub const fn get_gap_policy(&self) -> GapPolicy {
        self.gap_policy
    }

    pub(crate) fn validate(&self) {
        assert!(
            self.replay_capacity >= 1,
            "HubConfig::replay_capacity must be at least 1 (the ring is every subscriber's queue)"
        );
        assert!(
            self.queue_bound >= 1,
            "HubConfig::queue_bound must be at least 1"
        );
    }
}

impl Default for HubConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// What a subscriber gets when the Last-Event-ID it sends is no longer held (older than the
/// ring), unknown (from before a restart, or not a hub id), or malformed. A gap is never
/// silent: every policy first sends a gap event ([`GAP_EVENT`](super::GAP_EVENT)), whose
/// `data` is the id the client sent and whose `id` is where the stream resumes, so the
/// client can refetch its state.
///
/// ```
/// use futures_util::FutureExt;
/// use futures_util::StreamExt;
/// use sse_core::hub::{Hub, HubConfig, GAP_EVENT};
///
/// let hub = Hub::new(HubConfig::new());
/// let mut sub = hub.subscribe(["a"], Some("1-1"));
/// assert!(sub.had_gap());
/// let gap = sub.next().now_or_never().unwrap().unwrap();
/// assert!(gap.as_bytes().starts_with(format!("event: {GAP_EVENT}\n").as_bytes()));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum GapPolicy {
    /// The gap event, then every held event of the subscriber's topics, then live events.
    /// The gap event's id is the one just before the oldest held event.
    #[default]
    Replay,
    /// The gap event, then only live events. The gap event's id is the newest event's.
    LiveOnly,
    /// The gap event, then the end of the stream. The gap event's id is the newest event's,
    /// so a reconnecting client resumes from there.
    End,
}
