//! The [`Backplane`] seam: how events and their ids travel between nodes.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock, Weak};
use std::task::{Context, Poll};

use super::id::EventId;
use super::shared::{AppendError, Shared};
use crate::Event;

/// Carries published events to every node's hub, and gives them their ids.
///
/// A [`Hub`](super::Hub) hands each [`publish`](super::Hub::publish) to its backplane; the
/// backplane delivers every event (this node's and the others') into each hub's ring through
/// the [`BackplaneSink`] it was given by [`attach`](Self::attach). Delivered ids must
/// increase; the hub drops any that does not (and counts it in
/// [`HubStats::rejected`](super::HubStats::rejected)), so a reader that re-reads after a
/// reconnect cannot double an event.
///
/// The in-memory default is [`LocalBackplane`]: it appends straight into the one hub, with
/// an id the hub assigns.
///
/// # Networked backplanes
///
/// The `sse-redis` crate carries events through a Redis Stream: its `publish` is a
/// round-trip (a [`PublishFuture::boxed`] bounded by a timeout) that returns the id Redis
/// assigned, contiguous within an epoch (`{epoch}-{seq}`), and one reader per node delivers
/// every entry in the stream's order through [`BackplaneSink::deliver`], so every node holds
/// the same ids. Publishing does not append locally: this node's subscribers see the event
/// when the reader delivers it, in the same order as every other node's. When the reader
/// finds a hole (a trimmed stream, a restart of Redis without its data) it calls
/// [`BackplaneSink::signal_gap`].
///
/// ```
/// use std::sync::Mutex;
/// use sse_core::Event;
/// use sse_core::hub::{
///     Backplane, BackplaneError, BackplaneSink, EventId, Hub, HubConfig, PublishFuture,
/// };
///
/// /// A backplane that numbers events itself, as Redis would.
/// #[derive(Debug, Default)]
/// struct Numbered {
///     sink: Mutex<Option<BackplaneSink>>,
///     next: Mutex<u64>,
/// }
///
/// impl Backplane for Numbered {
///     fn attach(&self, sink: BackplaneSink) {
///         *self.sink.lock().unwrap() = Some(sink);
///     }
///
///     fn publish(&self, topic: &str, event: Event) -> PublishFuture<'_> {
///         let mut next = self.next.lock().unwrap();
///         *next += 1;
///         let id = EventId::new(1_700_000_000_000, *next);
///         let sink = self.sink.lock().unwrap().clone().expect("attached");
///         let delivered = sink.deliver(id, topic, event).map_err(BackplaneError::new);
///         PublishFuture::ready(delivered.map(|()| id))
///     }
/// }
///
/// # futures_util::FutureExt::now_or_never(async {
/// let hub = Hub::with_backplane(HubConfig::new(), Numbered::default());
/// let id = hub.publish("a", Event::data("x")).await?;
/// assert_eq!(id.to_string(), "1700000000000-1");
/// # Ok::<(), sse_core::hub::PublishError>(())
/// # }).unwrap().unwrap();
/// ```
pub trait Backplane: fmt::Debug + Send + Sync + 'static {
    /// Called once, when the hub is built: keep `sink` to deliver events into the hub.
    fn attach(&self, sink: BackplaneSink);

    /// Carries `event` on `topic` to every node; the future resolves to the id it was given
    /// once the backplane holds it. An in-memory backplane answers at once
    /// ([`PublishFuture::ready`], no allocation); a networked one returns its round-trip
    /// ([`PublishFuture::boxed`]) and bounds it in time.
    ///
    /// # Errors
    ///
    /// A [`BackplaneError`] if the event could not be carried; the hub returns it from
    /// [`Hub::publish`](super::Hub::publish).
    fn publish(&self, topic: &str, event: Event) -> PublishFuture<'_>;
}

/// What [`Backplane::publish`] returns: the id, now or after a round-trip.
#[must_use = "futures do nothing unless polled"]
pub struct PublishFuture<'a> {
    inner: PublishState<'a>,
}

enum PublishState<'a> {
    Ready(Option<Result<EventId, BackplaneError>>),
    Boxed(Pin<Box<dyn Future<Output = Result<EventId, BackplaneError>> + Send + 'a>>),
}

impl<'a> PublishFuture<'a> {
    /// A publish that is already done (an in-memory backplane).
    pub fn ready(result: Result<EventId, BackplaneError>) -> Self {
        Self {
            inner: PublishState::Ready(Some(result)),
        }
    }

    /// A publish that completes when `future` does (a round-trip to the backplane).
    pub fn boxed(
        future: impl Future<Output = Result<EventId, BackplaneError>> + Send + 'a,
    ) -> Self {
        Self {
            inner: PublishState::Boxed(Box::pin(future)),
        }
    }
}

impl Future for PublishFuture<'_> {
    type Output = Result<EventId, BackplaneError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.inner {
            PublishState::Ready(result) => Poll::Ready(
                result
                    .take()
                    .expect("PublishFuture polled after completion"),
            ),
            PublishState::Boxed(future) => future.as_mut().poll(cx),
        }
    }
}

impl fmt::Debug for PublishFuture<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.inner {
            PublishState::Ready(_) => "ready",
            PublishState::Boxed(_) => "in flight",
        };
        f.debug_tuple("PublishFuture").field(&state).finish()
    }
}

/// The handle a [`Backplane`] delivers events through into one hub's ring.
///
/// It holds the hub weakly: once the hub is dropped, delivery fails with
/// [`DeliverError::HubGone`].
#[derive(Clone)]
pub struct BackplaneSink {
    pub(crate) shared: Weak<Shared>,
}

impl BackplaneSink {
    /// Delivers an event with the id the backplane gave it. The hub stamps the id on the
    /// event (once, for all of its subscribers) unless it already carries it, appends it to
    /// the ring and wakes the subscribers of `topic`.
    ///
    /// # Errors
    ///
    /// [`DeliverError::StaleId`] if `id` is not greater than the last id delivered (a
    /// repeat), [`DeliverError::Closed`] after shutdown, [`DeliverError::HubGone`] if the hub
    /// was dropped.
    pub fn deliver(&self, id: EventId, topic: &str, event: Event) -> Result<(), DeliverError> {
        self.append(Some(id), topic, event).map(|_| ())
    }

    /// Declares that the backplane will deliver every event after `id` (for Redis, the id
    /// its reader starts from), so clients that come back with `id` or a later one can
    /// resume. Call it before the first delivery; without it, the first event delivered is
    /// where resuming can start. Returns `false` (and does nothing) once an event was
    /// delivered or a start declared.
    ///
    /// # Errors
    ///
    /// [`DeliverError::HubGone`] if the hub was dropped.
    pub fn start_after(&self, id: EventId) -> Result<bool, DeliverError> {
        let shared = self.shared.upgrade().ok_or(DeliverError::HubGone)?;
        Ok(shared.start_after(id))
    }

    /// Declares a hole: events after the last one delivered may be lost, and every event
    /// after `resume_after` will be delivered. The hub puts the same
    /// [`GAP_EVENT`](super::GAP_EVENT) a resume from a lost id gets into its ring, where the
    /// hole is, for every topic (`data`: the last id delivered before the hole, `id`:
    /// `resume_after`): every live subscriber gets it after the events before the hole, and
    /// so does a client that resumes from before the hole, so nobody reads across a hole
    /// without being told. For a backplane whose ids are contiguous, call it when the next
    /// id read is not the successor of the last (a trimmed stream, a restart that lost data,
    /// a new epoch).
    ///
    /// # Errors
    ///
    /// [`DeliverError::StaleId`] if `resume_after` is older than the last id delivered,
    /// [`DeliverError::Closed`] after shutdown, [`DeliverError::HubGone`] if the hub was
    /// dropped.
    pub fn signal_gap(&self, resume_after: EventId) -> Result<(), DeliverError> {
        let shared = self.shared.upgrade().ok_or(DeliverError::HubGone)?;
        shared.signal_gap(resume_after).map_err(|e| match e {
            AppendError::Closed => DeliverError::Closed,
            AppendError::Stale => DeliverError::StaleId,
        })
    }

    /// Whether the hub is gone or shut down: nothing more can be delivered, and a
    /// backplane's reader can stop.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.shared
            .upgrade()
            .is_none_or(|shared| shared.closed.load(std::sync::atomic::Ordering::Acquire))
    }

    /// Appends an event with the next id the hub assigns itself (its epoch and the next
    /// sequence number), as a single-node backplane does.
    ///
    /// # Errors
    ///
    /// [`DeliverError::Closed`] after shutdown, [`DeliverError::HubGone`] if the hub was
    /// dropped.
    pub fn append_local(&self, topic: &str, event: Event) -> Result<EventId, DeliverError> {
        self.append(None, topic, event)
    }

    fn append(
        &self,
        id: Option<EventId>,
        topic: &str,
        event: Event,
    ) -> Result<EventId, DeliverError> {
        let shared = self.shared.upgrade().ok_or(DeliverError::HubGone)?;
        shared.append(id, topic, event).map_err(|e| match e {
            AppendError::Closed => DeliverError::Closed,
            AppendError::Stale => DeliverError::StaleId,
        })
    }
}

impl fmt::Debug for BackplaneSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackplaneSink")
            .field("attached", &(self.shared.strong_count() > 0))
            .finish()
    }
}

/// The in-memory backplane, the default: events stay in this process and the hub assigns
/// their ids.
#[derive(Debug, Default)]
pub struct LocalBackplane {
    sink: OnceLock<BackplaneSink>,
}

impl LocalBackplane {
    /// A backplane not yet attached to a hub.
    pub const fn new() -> Self {
        Self {
            sink: OnceLock::new(),
        }
    }
}

impl Backplane for LocalBackplane {
    fn attach(&self, sink: BackplaneSink) {
        // A second attach is ignored: the backplane serves the first hub.
        let _ = self.sink.set(sink);
    }

    fn publish(&self, topic: &str, event: Event) -> PublishFuture<'_> {
        let result = match self.sink.get() {
            Some(sink) => sink.append_local(topic, event).map_err(BackplaneError::new),
            None => Err(BackplaneError::new(DeliverError::HubGone)),
        };
        PublishFuture::ready(result)
    }
}

/// A [`Backplane`] failed to carry an event. It wraps the backplane's own error.
#[derive(Debug)]
pub struct BackplaneError {
    inner: Box<dyn StdError + Send + Sync>,
}

impl BackplaneError {
    /// Wraps the backplane's error.
    pub fn new(error: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self {
            inner: error.into(),
        }
    }

    /// The backplane's error, by reference.
    pub fn get_ref(&self) -> &(dyn StdError + Send + Sync + 'static) {
        &*self.inner
    }

    /// The backplane's error.
    pub fn into_inner(self) -> Box<dyn StdError + Send + Sync> {
        self.inner
    }
}

impl fmt::Display for BackplaneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("backplane failed to carry the event")
    }
}

impl StdError for BackplaneError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.inner)
    }
}

/// Why a [`BackplaneSink`] refused an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeliverError {
    /// The id is not greater than the last one delivered.
    StaleId,
    /// The hub was shut down.
    Closed,
    /// The hub was dropped.
    HubGone,
}

impl fmt::Display for DeliverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::StaleId => "event id is not greater than the last delivered id",
            Self::Closed => "hub is shut down",
            Self::HubGone => "hub was dropped",
        })
    }
}

impl StdError for DeliverError {}

/// Keeps `Arc<dyn Backplane>` construction in one place.
pub(crate) fn attach(backplane: Arc<dyn Backplane>, shared: &Arc<Shared>) -> Arc<dyn Backplane> {
    backplane.attach(BackplaneSink {
        shared: Arc::downgrade(shared),
    });
    backplane
}
