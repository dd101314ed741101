//! [`HubStats`].

use super::id::EventId;

/// A snapshot of a [`Hub`](super::Hub)'s counters, from [`Hub::stats`](super::Hub::stats).
///
/// The counters are kept under the lock the hub takes anyway, so a snapshot is consistent.
///
/// ```
/// use futures_util::FutureExt;
/// use sse_core::{Event, hub::{Hub, HubConfig}};
///
/// let hub = Hub::new(HubConfig::new());
/// let _sub = hub.subscribe(["a"], None);
/// hub.publish("a", Event::data("x")).now_or_never().unwrap()?;
/// let stats = hub.stats();
/// assert_eq!((stats.active_subscribers, stats.published, stats.ring_len), (1, 1, 1));
/// # Ok::<(), sse_core::hub::PublishError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HubStats {
    /// Subscriptions alive now. One ended as slow or by shutdown counts until its
    /// connection next polls it (and sees the end) or drops it.
    pub active_subscribers: usize,
    /// Events appended to the ring since the hub started.
    pub published: u64,
    /// Events handed to subscriptions (each subscriber counts once per event), live or
    /// replayed.
    pub delivered: u64,
    /// Subscriptions ended because they fell more than the queue bound behind, or because
    /// events they had not read left the ring.
    pub dropped_slow: u64,
    /// Of `delivered`, the events replayed from the ring to subscribers that came with a
    /// Last-Event-ID.
    pub replayed: u64,
    /// Subscribers whose Last-Event-ID was held, so they resumed right after it (each
    /// counts once, however many events it replayed).
    pub resumed: u64,
    /// Subscribers whose Last-Event-ID was no longer held or unknown.
    pub gaps: u64,
    /// Events a backplane delivered with an id not greater than the last one (dropped).
    pub rejected: u64,
    /// Events held in the replay ring now.
    pub ring_len: usize,
    /// Encoded bytes held in the replay ring now.
    pub ring_bytes: usize,
    /// The id of the newest event, if any was published.
    pub last_id: Option<EventId>,
}
