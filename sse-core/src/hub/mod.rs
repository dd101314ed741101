//! A broadcast hub: publish an event once, and every subscriber of its topic gets it, with
//! bounded replay for clients that reconnect with a Last-Event-ID.
//!
//! # Example
//!
//! ```
//! use futures_util::{FutureExt, StreamExt};
//! use sse_core::Event;
//! use sse_core::hub::{Hub, HubConfig};
//!
//! let hub = Hub::new(HubConfig::new().replay_capacity(1024));
//!
//! // A handler subscribes with the topics and the Last-Event-ID of its request.
//! let mut feed = hub.subscribe(["news"], None);
//! let first = hub.publish("news", Event::data("hello")).now_or_never().unwrap()?;
//! let event = feed.next().now_or_never().unwrap().unwrap();
//! assert_eq!(event.id(), Some(first.to_string().as_str()));
//!
//! // A client that reconnects with that id gets what it missed, then live events.
//! let second = hub.publish("news", Event::data("again")).now_or_never().unwrap()?;
//! let last_event_id = first.to_string();
//! let mut again = hub.subscribe(["news"], Some(&last_event_id));
//! let missed = again.next().now_or_never().unwrap().unwrap();
//! assert_eq!(missed.id(), Some(second.to_string().as_str()));
//!
//! // Shutdown ends every subscription, after a `retry:` with jitter.
//! hub.shutdown();
//! let retry = again.next().now_or_never().unwrap().unwrap();
//! assert!(retry.as_bytes().starts_with(b"retry: "));
//! assert!(again.next().now_or_never().unwrap().is_none());
//! # Ok::<(), sse_core::hub::PublishError>(())
//! ```
//!
//! # Serving a subscription
//!
//! A [`Subscription`] yields [`Event`]s one at a time, for handlers that look at them. A
//! response body should be given [`Subscription::batches`] instead: a woken subscriber's
//! events then come as one [`EventBatch`](crate::EventBatch), joined in one buffer, which
//! the body writes as it is. The bytes on the wire are the same either way.
//!
//! # Ids
//!
//! The hub gives every event its id ([`EventId`], `"{epoch}-{seq}"`) and writes it into the
//! event once, when it is published ([`Event::with_id`]); every subscriber then gets a
//! clone of the same bytes. Ids strictly increase. The epoch is the hub's start time, so an
//! id from before a restart is unknown to the new hub, which says so (a gap) instead of
//! replaying from the wrong place. With a [`Backplane`] such as Redis Streams, the
//! backplane's ids are used instead.
//!
//! # Replay and gaps
//!
//! The hub holds the newest events in a ring bounded by count, encoded bytes and,
//! optionally, age ([`HubConfig`]). A subscriber that comes with a Last-Event-ID the ring
//! still covers gets exactly the held events after it, of its topics, in order, then live
//! events: its start is taken under the same lock publishing appends under, so nothing is
//! lost or doubled at the seam. An id the ring no longer covers, or doesn't know, is never
//! skipped silently: the subscriber first gets a [`GAP_EVENT`] and then what the
//! [`GapPolicy`] says. The ring covers a range of ids, not topics, so a subscriber whose
//! topic had no event in the dropped range still gets a gap event.
//!
//! # Slow subscribers
//!
//! The ring is every subscriber's queue: a subscription is a cursor into it, with no task
//! and no channel. A subscriber that has more than [`HubConfig::queue_bound`] events of its
//! topics unread, or whose unread events left the ring, is ended and counted in
//! [`HubStats::dropped_slow`]; its client reconnects with its Last-Event-ID and replays. So
//! publishing never waits for a subscriber, and memory is bounded by the ring and the
//! subscribers' buffers (at most a queue bound of `Event` handles each).
//!
//! Publishing takes one lock and touches only the subscribers of the event's topic (plus
//! those of every topic), waking each at most once until it polls again.
//!
//! # Shutdown
//!
//! [`Hub::shutdown`] ends every subscription at its next poll (each is woken): it drops what
//! it had buffered, yields the farewell event if one was given, a `retry:` with jitter
//! ([`HubConfig::shutdown_retry`]), then `None`. Dropping the last [`Hub`] handle does the
//! same. Events published but not yet read are replayed when the client reconnects to a hub
//! that still holds them (another node, through a backplane).

mod backplane;
mod config;
mod id;
mod shared;
mod stats;
mod subscription;

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};

pub use self::backplane::{
    Backplane, BackplaneError, BackplaneSink, DeliverError, LocalBackplane, PublishFuture,
};
pub use self::config::{GapPolicy, HubConfig};
pub use self::id::{EventId, ParseEventIdError};
pub use self::stats::HubStats;
pub use self::subscription::{Batches, Subscription};

use self::shared::Shared;
use crate::Event;

/// The event type of the gap event, `sse-gap`: sent first to a subscriber whose
/// Last-Event-ID is no longer held or unknown. Its `data` is the id the client sent, its
/// `id` where the stream resumes. See [`GapPolicy`].
pub const GAP_EVENT: &str = "sse-gap";

/// Publishes events to subscribers by topic. Cheap to clone: clones share one hub.
///
/// Dropping the last clone shuts the hub down. See the [module docs](self).
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    backplane: Arc<dyn Backplane>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shared.close(None);
    }
}

impl Hub {
    /// A hub with the in-memory backplane.
    ///
    /// # Panics
    ///
    /// If `config` has a replay capacity or queue bound of 0.
    pub fn new(config: HubConfig) -> Self {
        Self::build(config, Arc::new(LocalBackplane::new()), true)
    }

    /// A hub that publishes through `backplane`, which it attaches. Until the backplane
    /// declares where it starts ([`BackplaneSink::start_after`]) or delivers its first
    /// event, every Last-Event-ID is a gap.
    ///
    /// # Panics
    ///
    /// If `config` has a replay capacity or queue bound of 0.
    pub fn with_backplane(config: HubConfig, backplane: impl Backplane) -> Self {
        Self::build(config, Arc::new(backplane), false)
    }

    fn build(config: HubConfig, backplane: Arc<dyn Backplane>, own_ids: bool) -> Self {
        let shared = Arc::new(Shared::new(config, id::new_epoch(), own_ids));
        let backplane = backplane::attach(backplane, &shared);
        Self {
            inner: Arc::new(Inner { shared, backplane }),
        }
    }

    /// Publishes `event` to the subscribers of `topic`; the future resolves to its id once
    /// the backplane holds the event. The hub sets the event's id (replacing any it had),
    /// once for all subscribers.
    ///
    /// With the in-memory backplane the future is ready at once (`now_or_never` takes it
    /// outside async code); with a networked one (Redis) it is the round-trip, bounded by the
    /// backplane's publish timeout. Either way it never waits for a subscriber and never
    /// blocks the thread.
    ///
    /// ```
    /// use futures_util::FutureExt;
    /// use sse_core::{hub::Hub, Event};
    ///
    /// let hub = Hub::default();
    /// # futures_util::FutureExt::now_or_never(async {
    /// let id = hub.publish("news", Event::data("hello")).await?;   // in async code
    /// # Ok::<_, sse_core::hub::PublishError>(id) }).unwrap()?;
    /// let id = hub.publish("news", Event::data("again")).now_or_never().unwrap()?;
    /// assert_eq!(hub.stats().last_id, Some(id));
    /// # Ok::<(), sse_core::hub::PublishError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`PublishError::Closed`] after [`shutdown`](Self::shutdown),
    /// [`PublishError::Backplane`] if the backplane failed (or timed out).
    pub fn publish(&self, topic: &str, event: Event) -> Publish<'_> {
        let state = if self.inner.shared.closed.load(Ordering::Acquire) {
            Err(Some(PublishError::Closed))
        } else {
            Ok(self.inner.backplane.publish(topic, event))
        };
        Publish { state }
    }

    /// Subscribes to `topics` (none means every topic), resuming after `last_event_id` if
    /// given: see the [module docs](self#replay-and-gaps).
    ///
    /// ```
    /// use sse_core::hub::{Hub, HubConfig};
    ///
    /// let hub = Hub::new(HubConfig::new());
    /// let user_feed = hub.subscribe(["user:42", "broadcast"], None);
    /// let everything = hub.subscribe(Vec::<String>::new(), None);
    /// assert_eq!(hub.stats().active_subscribers, 2);
    /// # drop((user_feed, everything));
    /// ```
    pub fn subscribe<I>(&self, topics: I, last_event_id: Option<&str>) -> Subscription
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let topics = topics.into_iter().map(Into::into).collect();
        let start = self.inner.shared.subscribe(topics, last_event_id);
        Subscription::new(self.inner.shared.clone(), start)
    }

    /// Subscribes to every topic; the same as [`subscribe`](Self::subscribe) with no topic.
    pub fn subscribe_all(&self, last_event_id: Option<&str>) -> Subscription {
        self.subscribe(std::iter::empty::<String>(), last_event_id)
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> HubStats {
        self.inner.shared.stats()
    }

    /// The configuration.
    pub fn config(&self) -> &HubConfig {
        &self.inner.shared.config
    }

    /// The epoch of the ids this hub assigns itself.
    pub fn epoch(&self) -> u64 {
        self.inner.shared.epoch
    }

    /// Ends every subscription promptly, after a `retry:` with jitter if configured, and
    /// refuses further publishing. Subscribing afterwards gives a subscription that ends at
    /// once the same way. Calling it again does nothing.
    pub fn shutdown(&self) {
        self.inner.shared.close(None);
    }

    /// Like [`shutdown`](Self::shutdown), but every subscription first yields `farewell`
    /// (a clone of the same bytes).
    pub fn shutdown_with(&self, farewell: Event) {
        self.inner.shared.close(Some(farewell));
    }

    /// Whether [`shutdown`](Self::shutdown) was called.
    pub fn is_shut_down(&self) -> bool {
        self.inner.shared.closed.load(Ordering::Acquire)
    }
}

impl Default for Hub {
    fn default() -> Self {
        Self::new(HubConfig::new())
    }
}

impl fmt::Debug for Hub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hub")
            .field("epoch", &self.inner.shared.epoch)
            .field("config", &self.inner.shared.config)
            .field("backplane", &self.inner.backplane)
            .finish()
    }
}

/// The future of [`Hub::publish`]: the event's id once the backplane holds it.
#[must_use = "futures do nothing unless polled: the event is not published until awaited"]
pub struct Publish<'a> {
    state: Result<PublishFuture<'a>, Option<PublishError>>,
}

impl Future for Publish<'_> {
    type Output = Result<EventId, PublishError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.state {
            Ok(publishing) => Pin::new(publishing).poll(cx).map_err(|err| {
                match err.get_ref().downcast_ref::<DeliverError>() {
                    Some(DeliverError::Closed) => PublishError::Closed,
                    _ => PublishError::Backplane(err),
                }
            }),
            Err(err) => Poll::Ready(Err(err.take().expect("Publish polled after completion"))),
        }
    }
}

impl fmt::Debug for Publish<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Publish").finish_non_exhaustive()
    }
}

/// Why [`Hub::publish`] failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum PublishError {
    /// The hub was shut down.
    Closed,
    /// The backplane failed to carry the event.
    Backplane(BackplaneError),
}

impl fmt::Display for PublishError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Closed => f.write_str("hub is shut down"),
            Self::Backplane(_) => f.write_str("backplane failed to carry the event"),
        }
    }
}

impl StdError for PublishError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Closed => None,
            Self::Backplane(err) => Some(err),
        }
    }
}

impl From<BackplaneError> for PublishError {
    fn from(err: BackplaneError) -> Self {
        Self::Backplane(err)
    }
}

#[cfg(test)]
mod tests;
