//! [`Subscription`]: one subscriber's stream of events.

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use futures_core::Stream;

use super::shared::{Cursor, Drained, Joined, Shared, Sink, SlotKey, Start};
use crate::stream_stats::note_close_reason;
use crate::{CloseReason, Event, EventBatch};

/// The most buffer room (in events) a parked subscriber keeps.
const IDLE_BUF_CAPACITY: usize = 16;

/// One subscriber's events: a [`Stream`] of [`Event`]s, each carrying its `id:`.
///
/// It is a cursor into the hub's replay ring, not a channel: there is no task behind it,
/// and the connection that polls it does the work. When it is woken it copies everything
/// pending (up to 128 events) into a small buffer under the hub's lock, then yields
/// those events one by one without the lock, so an HTTP layer that writes every ready event
/// as one chunk gets them all at once.
///
/// It ends (yields `None`) when the hub shuts down (after the shutdown events), when it
/// falls behind the queue bound or the ring, or after a gap under [`GapPolicy::End`].
/// Dropping it unsubscribes.
///
/// It is `Send + Sync + Unpin + 'static`, so any framework can serve it.
///
/// See the [module docs](super) for an example.
///
/// [`GapPolicy::End`]: super::GapPolicy::End
#[must_use = "a Subscription yields nothing unless polled"]
pub struct Subscription {
    shared: Arc<Shared>,
    /// Its slot in the hub, until it ends.
    key: Option<SlotKey>,
    cursor: Cursor,
    buf: VecDeque<Event>,
    gap: bool,
    done: bool,
    /// The waker (data and vtable addresses) registered at the head by the last drain.
    parked: Option<(usize, usize)>,
}

fn waker_key(waker: &Waker) -> (usize, usize) {
    (
        waker.data() as usize,
        std::ptr::from_ref(waker.vtable()) as usize,
    )
}

impl Subscription {
    pub(crate) fn new(shared: Arc<Shared>, start: Start) -> Self {
        let mut this = Self {
            shared,
            key: start.key,
            cursor: start.cursor,
            buf: VecDeque::new(),
            gap: start.gap.is_some(),
            done: false,
            parked: None,
        };
        this.buf.extend(start.gap);
        if start.end_after_gap {
            this.done = true;
        } else if this.key.is_none() {
            // Subscribed after shutdown.
            let farewell = this.shared.farewell();
            this.finish(farewell);
        }
        this
    }

    /// Whether the Last-Event-ID it was given was no longer held or unknown, so that it
    /// starts with a gap event (see [`GapPolicy`](super::GapPolicy)). A handler may check
    /// this to send the client a fresh snapshot first.
    pub fn had_gap(&self) -> bool {
        self.gap
    }

    /// The topics it receives; empty means every topic.
    pub fn topics(&self) -> impl ExactSizeIterator<Item = &str> {
        self.cursor.topics.iter().map(|t| &**t)
    }

    /// Ends the subscription: replaces whatever is buffered by the shutdown events.
    fn finish(&mut self, farewell: Option<Event>) {
        self.buf.clear();
        self.buf.extend(farewell);
        if let Some((base, jitter)) = self.shared.config.shutdown_retry {
            self.buf.push_back(Event::retry_jittered(base, jitter));
        }
        self.done = true;
        self.release();
    }

    fn release(&mut self) {
        if let Some(key) = self.key.take() {
            self.shared.unsubscribe(key, &self.cursor.topics);
        }
    }

    /// Copies what it has not read from the ring into `sink` (called when its buffer is
    /// empty). `Pending` if there is nothing to read yet: the next publish of its topics
    /// wakes `waker`. If it ended instead, the buffer holds its last events.
    fn fill(&mut self, key: SlotKey, waker: &Waker, sink: &mut impl Sink) -> Poll<()> {
        // Parked at the head with this waker and nothing published since: any publish
        // will wake it, so there is no need for the lock.
        if self.parked == Some(waker_key(waker))
            && self.shared.head.load(Ordering::Acquire) == self.cursor.next
        {
            return Poll::Pending;
        }
        self.parked = None;
        match self.shared.drain(key, &mut self.cursor, sink, waker) {
            Drained::Some { at_head } => {
                if at_head {
                    self.parked = Some(waker_key(waker));
                }
            }
            Drained::Pending => {
                self.parked = Some(waker_key(waker));
                return Poll::Pending;
            }
            Drained::Lagged => {
                self.done = true;
                self.release();
                note_close_reason(CloseReason::EvictedSlow);
            }
            Drained::Closed(farewell) => {
                self.finish(farewell);
                note_close_reason(CloseReason::Shutdown);
            }
        }
        Poll::Ready(())
    }

    /// Ends it if the hub shut down, so that the shutdown events replace what it buffered.
    fn check_shutdown(&mut self) {
        if !self.done && self.shared.closed.load(Ordering::Acquire) {
            let farewell = self.shared.farewell();
            self.finish(farewell);
            note_close_reason(CloseReason::Shutdown);
        }
    }

    /// The key to read with, unless it ended.
    fn live_key(&self) -> Option<SlotKey> {
        self.key.filter(|_| !self.done)
    }

    /// This subscription as a stream of [`EventBatch`]es: at each wake, the events it finds
    /// (up to a batch, 64 KiB) are copied, joined, into one buffer. That is what a response
    /// body writes, without a handle per event to take, hand over and drop: give this to an
    /// adapter's `Sse` (or to [`SseStream`](crate::SseStream)) rather than the subscription
    /// itself, which yields the same bytes one event at a time.
    ///
    /// ```
    /// use futures_util::{FutureExt, StreamExt};
    /// use sse_core::hub::{Hub, HubConfig};
    /// use sse_core::Event;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let hub = Hub::new(HubConfig::new());
    /// let mut batches = hub.subscribe(["news"], None).batches();
    /// let a = hub.publish("news", Event::data("a")).await?;
    /// let b = hub.publish("news", Event::data("b")).await?;
    /// let batch = batches.next().await.unwrap();
    /// assert_eq!(batch.as_bytes(), &format!("id: {a}\ndata: a\n\nid: {b}\ndata: b\n\n"));
    /// assert!(batches.next().now_or_never().is_none());
    /// # Ok::<(), sse_core::hub::PublishError>(())
    /// # }).unwrap();
    /// ```
    pub fn batches(self) -> Batches {
        Batches { subscription: self }
    }
}

impl Stream for Subscription {
    type Item = Event;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        let this = self.get_mut();
        this.check_shutdown();
        loop {
            if let Some(event) = this.buf.pop_front() {
                return Poll::Ready(Some(event));
            }
            let Some(key) = this.live_key() else {
                return Poll::Ready(None);
            };
            // The buffer is empty: it is the sink, moved out while `fill` runs.
            let mut buf = std::mem::take(&mut this.buf);
            let filled = this.fill(key, cx.waker(), &mut buf);
            if filled.is_pending() && buf.capacity() > IDLE_BUF_CAPACITY {
                // After a burst, don't hold a batch's worth of room per idle subscriber:
                // with 10 000 of them that is tens of megabytes.
                buf = VecDeque::new();
            }
            // Unless it ended, and its buffer now holds its last events.
            if this.buf.is_empty() {
                this.buf = buf;
            }
            if filled.is_pending() {
                return Poll::Pending;
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.buf.len(), None)
    }
}

/// A [`Subscription`] whose events come joined: see [`Subscription::batches`].
///
/// It is `Send + Sync + Unpin + 'static`, like the subscription.
#[must_use = "a Batches yields nothing unless polled"]
pub struct Batches {
    subscription: Subscription,
}

impl Batches {
    /// The subscription it reads (for [`had_gap`](Subscription::had_gap) and
    /// [`topics`](Subscription::topics)).
    pub fn subscription(&self) -> &Subscription {
        &self.subscription
    }
}

impl Stream for Batches {
    type Item = EventBatch;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<EventBatch>> {
        let sub = &mut self.get_mut().subscription;
        sub.check_shutdown();
        loop {
            // What it was given rather than read: the gap it starts with, or its last events.
            if !sub.buf.is_empty() {
                return Poll::Ready(Some(join_buffered(&mut sub.buf)));
            }
            let Some(key) = sub.live_key() else {
                return Poll::Ready(None);
            };
            let mut joined = Joined::Empty;
            if sub.fill(key, cx.waker(), &mut joined).is_pending() {
                return Poll::Pending;
            }
            if let Some(batch) = joined.into_batch() {
                return Poll::Ready(Some(batch));
            }
        }
    }
}

/// The buffered events as one batch: a gap event, or the last events after a shutdown (a
/// farewell and a `retry:`), never more than a few.
fn join_buffered(buf: &mut VecDeque<Event>) -> EventBatch {
    if buf.len() == 1 {
        return buf.pop_front().expect("one event").into();
    }
    let mut joined = Vec::with_capacity(buf.iter().map(Event::len).sum());
    for event in buf.drain(..) {
        joined.extend_from_slice(event.as_bytes());
    }
    EventBatch::from_joined(joined)
}

impl fmt::Debug for Batches {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Batches").field(&self.subscription).finish()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.release();
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("topics", &self.cursor.topics)
            .field("cursor", &self.cursor.next)
            .field("buffered", &self.buf.len())
            .field("had_gap", &self.gap)
            .field("done", &self.done)
            .finish()
    }
}
