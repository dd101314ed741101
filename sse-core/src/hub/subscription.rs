//! [`Subscription`]: one subscriber's stream of events.

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use futures_core::Stream;

use super::shared::{Cursor, Drained, Shared, SlotKey, Start};
use crate::stream_stats::note_close_reason;
use crate::{CloseReason, Event};

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

    /// Refills the empty buffer from the ring. `Pending` if there is nothing to read yet:
    /// the next publish of its topics wakes `waker`.
    fn fill(&mut self, key: SlotKey, waker: &Waker) -> Poll<()> {
        // Parked at the head with this waker and nothing published since: any publish
        // will wake it, so there is no need for the lock.
        if self.parked == Some(waker_key(waker))
            && self.shared.head.load(Ordering::Acquire) == self.cursor.next
        {
            return Poll::Pending;
        }
        self.parked = None;
        match self
            .shared
            .drain(key, &mut self.cursor, &mut self.buf, waker)
        {
            Drained::Some { at_head } => {
                if at_head {
                    self.parked = Some(waker_key(waker));
                }
            }
            Drained::Pending => {
                self.parked = Some(waker_key(waker));
                if self.buf.capacity() > IDLE_BUF_CAPACITY {
                    // After a burst, don't hold a batch's worth of room per idle
                    // subscriber: with 10 000 of them that is tens of megabytes.
                    self.buf = VecDeque::new();
                }
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
}

impl Stream for Subscription {
    type Item = Event;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        let this = self.get_mut();
        if !this.done && this.shared.closed.load(Ordering::Acquire) {
            let farewell = this.shared.farewell();
            this.finish(farewell);
            note_close_reason(CloseReason::Shutdown);
        }
        loop {
            if let Some(event) = this.buf.pop_front() {
                return Poll::Ready(Some(event));
            }
            let Some(key) = this.key.filter(|_| !this.done) else {
                return Poll::Ready(None);
            };
            if this.fill(key, cx.waker()).is_pending() {
                return Poll::Pending;
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.buf.len(), None)
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
