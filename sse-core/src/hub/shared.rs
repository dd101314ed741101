//! The state behind one lock: the replay ring, the subscriber slots and the counters.
//!
//! The ring is every subscriber's queue: a subscriber is a [`Cursor`] into it plus a slot
//! here (its waker and how many events of its topics it has not read yet). Publishing
//! appends under the lock and touches only the slots of the topic's subscribers; a
//! subscription takes the lock to copy its pending events out: their handles
//! (refcount bumps) into its own small buffer, to yield them one by one without the lock, or,
//! for [`Batches`](super::Batches), their bytes joined into one buffer.
//!
//! Besides its id, every event appended gets a sequence number, its place in the ring
//! (1, 2, 3, ...): ids may come from a backplane, but a sequence number turns a cursor into
//! an index by subtraction.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;

use tokio::time::Instant;

use super::config::{GapPolicy, HubConfig};
use super::id::EventId;
use super::stats::HubStats;
use super::GAP_EVENT;
use crate::{Event, EventBatch};

/// The most events copied per lock hold: enough to write many events as one chunk, few
/// enough that a replay of a long ring doesn't hold the lock long.
const MAX_BATCH: usize = 128;

/// The most bytes joined into one batch (a single larger event still goes whole).
pub(crate) const MAX_BATCH_BYTES: usize = 64 * 1024;

/// Where a drain puts the events it takes (at most one drain's worth each time: it was
/// emptied before).
pub(crate) trait Sink {
    /// The most bytes one drain puts in (the first event goes in whatever its size).
    const MAX_BYTES: usize;
    /// Puts `events` in: `count` of them, of `len` bytes in all.
    fn put<'a>(&mut self, events: impl Iterator<Item = &'a Event>, count: usize, len: usize);
}

/// The handles of the events (refcount bumps), to be yielded one by one.
impl Sink for VecDeque<Event> {
    const MAX_BYTES: usize = usize::MAX;

    fn put<'a>(&mut self, events: impl Iterator<Item = &'a Event>, count: usize, _len: usize) {
        self.reserve(count);
        self.extend(events.cloned());
    }
}

/// The events of one drain as one batch: an event found alone goes as it is (a refcount
/// bump), several are copied, joined, into one buffer, with no handle per event to take and
/// drop.
pub(crate) enum Joined {
    Empty,
    One(Event),
    Many(Vec<u8>),
}

impl Joined {
    pub(crate) fn into_batch(self) -> Option<EventBatch> {
        match self {
            Self::Empty => None,
            Self::One(event) => Some(event.into()),
            Self::Many(joined) => Some(EventBatch::from_joined(joined)),
        }
    }
}

impl Sink for Joined {
    const MAX_BYTES: usize = MAX_BATCH_BYTES;

    fn put<'a>(&mut self, mut events: impl Iterator<Item = &'a Event>, count: usize, len: usize) {
        *self = match count {
            0 => Self::Empty,
            1 => events.next().cloned().map_or(Self::Empty, Self::One),
            _ => {
                let mut joined = Vec::with_capacity(len);
                events.for_each(|event| joined.extend_from_slice(event.as_bytes()));
                Self::Many(joined)
            }
        };
    }
}

pub(crate) struct Shared {
    pub(crate) config: HubConfig,
    pub(crate) epoch: u64,
    /// Mirrors `State::closed` so a subscription can stop without taking the lock.
    pub(crate) closed: AtomicBool,
    /// Mirrors `Ring::next_seq`, so a subscription that registered its waker at the head
    /// can tell, without the lock, that nothing was published since.
    pub(crate) head: AtomicU64,
    state: Mutex<State>,
}

/// Names a subscriber's slot: its index in `State::slots`, and the generation that tells it
/// apart from later subscribers reusing the index (for whom the key finds nothing).
#[derive(Clone, Copy)]
pub(crate) struct SlotKey {
    index: usize,
    generation: u64,
}

/// A subscriber's place in the ring: the topics it reads, the next sequence number it has
/// not looked at, and where its replay ends.
pub(crate) struct Cursor {
    /// Interned with the hub's topic keys, so matching an entry is usually a pointer compare.
    /// Empty means every topic.
    pub(crate) topics: Box<[Arc<str>]>,
    pub(crate) next: u64,
    /// The head when it subscribed: events before it are replayed, the others are live (and
    /// counted in its slot).
    live_from: u64,
}

/// What a new subscription starts from, decided under the lock.
pub(crate) struct Start {
    /// `None` if it ends at once (the hub was shut down, or [`GapPolicy::End`]).
    pub(crate) key: Option<SlotKey>,
    pub(crate) cursor: Cursor,
    pub(crate) gap: Option<Event>,
    pub(crate) end_after_gap: bool,
}

/// The result of a drain.
pub(crate) enum Drained {
    /// Events were added to the buffer; `at_head` if they are all there is, and the waker
    /// is registered.
    Some { at_head: bool },
    /// Nothing to read; the waker is registered.
    Pending,
    /// The subscriber fell behind and is ended.
    Lagged,
    /// The hub shut down; the events to send last.
    Closed(Option<Event>),
}

/// Why an append was refused.
pub(crate) enum AppendError {
    Closed,
    Stale,
}

struct Entry {
    id: EventId,
    /// `None` for a gap a backplane signalled, which every subscriber gets.
    topic: Option<Arc<str>>,
    event: Event,
    at: Option<Instant>,
}

/// The held events, with the sequence numbers cursors point at.
struct Ring {
    entries: VecDeque<Entry>,
    /// Sequence number of `entries[0]` (equal to `next_seq` when the ring is empty).
    first_seq: u64,
    /// Sequence number of the next event appended: the head.
    next_seq: u64,
    /// Encoded bytes of the held events.
    bytes: usize,
}

/// What publishing keeps per subscriber: how to wake it, and enough to end it when it falls
/// behind, and to let its drain skip the events of other topics.
struct Slot {
    generation: u64,
    waker: Option<Waker>,
    /// Live events of its topics published since it last read up to the head.
    pending: usize,
    /// The sequence number of the first of those.
    first_unread: Option<u64>,
    lagged: bool,
}

/// The slots watching one topic (or all topics). Keys of ended slots are removed lazily.
#[derive(Default)]
struct Watchers {
    keys: Vec<SlotKey>,
    live: usize,
}

#[derive(Default)]
struct Counters {
    published: u64,
    delivered: u64,
    dropped_slow: u64,
    replayed: u64,
    resumed: u64,
    gaps: u64,
    rejected: u64,
}

struct State {
    ring: Ring,
    /// Every event after this id is held.
    floor: EventId,
    /// False for a backplane hub until its backplane says where it starts, or delivers its
    /// first event: until then no Last-Event-ID can be resumed.
    floor_known: bool,
    /// The newest id appended (equal to `floor` before the first event).
    last_id: EventId,
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
    next_generation: u64,
    active: usize,
    by_topic: HashMap<Arc<str>, Watchers>,
    all: Watchers,
    closed: bool,
    farewell: Option<Event>,
    counters: Counters,
}

/// Where a Last-Event-ID puts a new subscriber.
struct Resume {
    /// The sequence number it reads from.
    next: u64,
    gap: Option<Event>,
    end_after_gap: bool,
}

/// What one drain copied.
struct Copied {
    taken: usize,
    /// Of `taken`, the events from before the subscriber's `live_from`.
    replayed: u64,
    /// Of `taken`, the live ones (those its slot counts as pending).
    live: usize,
    /// Where the next drain goes on from.
    next: u64,
}

impl Shared {
    /// `own_ids`: whether the hub assigns ids itself (the floor is then its epoch's start);
    /// otherwise the backplane's first event or [`start_after`](Self::start_after) sets it.
    pub(crate) fn new(config: HubConfig, epoch: u64, own_ids: bool) -> Self {
        config.validate();
        let floor = EventId::new(if own_ids { epoch } else { 0 }, 0);
        Self {
            config,
            epoch,
            closed: AtomicBool::new(false),
            head: AtomicU64::new(1),
            state: Mutex::new(State {
                ring: Ring {
                    entries: VecDeque::new(),
                    first_seq: 1,
                    next_seq: 1,
                    bytes: 0,
                },
                floor,
                floor_known: own_ids,
                last_id: floor,
                slots: Vec::new(),
                free: Vec::new(),
                next_generation: 0,
                active: 0,
                by_topic: HashMap::new(),
                all: Watchers::default(),
                closed: false,
                farewell: None,
                counters: Counters::default(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent even if a panic poisoned the lock: every update that
        // can panic (allocation) happens before the fields it pairs with are changed.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn now(&self) -> Option<Instant> {
        self.config.max_age.map(|_| Instant::now())
    }

    /// Appends an event. `id` is `None` for a hub-assigned id, else the backplane's (which
    /// must be greater than every id before it).
    pub(crate) fn append(
        &self,
        id: Option<EventId>,
        topic: &str,
        event: Event,
    ) -> Result<EventId, AppendError> {
        let now = self.now();
        let mut wakers = Vec::new();
        let id = {
            let mut state = self.lock();
            if state.closed {
                return Err(AppendError::Closed);
            }
            let id = state.assign_id(id, self.epoch)?;
            let event = stamp(event, id);
            // A backplane's first event, unless it declared where it starts: only what
            // comes after it is known to be complete.
            state.set_floor(id);
            state.push(&self.config, id, topic, event, now, &mut wakers);
            self.head.store(state.ring.next_seq, Ordering::Release);
            id
        };
        for waker in wakers {
            waker.wake();
        }
        Ok(id)
    }

    /// Resolves the Last-Event-ID and registers the subscriber's slot under the lock appends
    /// take, so its replay ends exactly where its live events begin.
    pub(crate) fn subscribe(&self, topics: Vec<String>, last_event_id: Option<&str>) -> Start {
        let now = self.now();
        let mut state = self.lock();
        state.evict(&self.config, now);
        let topics = state.intern(topics);
        let live_from = state.ring.next_seq;
        let resume = state.resume(last_event_id, self.config.gap_policy);
        let key = if state.closed || resume.end_after_gap {
            None
        } else {
            Some(state.register(&topics))
        };
        Start {
            key,
            cursor: Cursor {
                topics,
                next: resume.next,
                live_from,
            },
            gap: resume.gap,
            end_after_gap: resume.end_after_gap,
        }
    }

    /// A backplane lost events after the last one delivered: a gap event goes into the ring
    /// where the hole is, for every topic, so every subscriber that reads across the hole
    /// (live, or replaying after a resume from before it) is told, and the events on either
    /// side stay readable.
    pub(crate) fn signal_gap(&self, resume_after: EventId) -> Result<(), AppendError> {
        let mut wakers = Vec::new();
        {
            let mut state = self.lock();
            if state.closed {
                return Err(AppendError::Closed);
            }
            if resume_after < state.last_id {
                state.counters.rejected += 1;
                return Err(AppendError::Stale);
            }
            let lost_after = state.last_id;
            state.set_floor(resume_after);
            state.last_id = resume_after;
            let mut buf = [0u8; 41];
            let mut lost = [0u8; 41];
            let gap = Event::builder()
                .event(GAP_EVENT)
                .id(format_id(resume_after, &mut buf))
                .data(format_id(lost_after, &mut lost))
                .build()
                .expect("a gap event is a name, digits and a dash");
            let seq = state.ring.push(Entry {
                id: resume_after,
                topic: None,
                event: gap,
                at: self.now(),
            });
            state.counters.gaps += 1;
            let bound = self.config.queue_bound;
            let state = &mut *state;
            for slot in state.slots.iter_mut().flatten().filter(|slot| !slot.lagged) {
                slot.pending += 1;
                slot.first_unread.get_or_insert(seq);
                if slot.pending > bound {
                    slot.lagged = true;
                    state.counters.dropped_slow += 1;
                }
                wakers.extend(slot.waker.take());
            }
            self.head.store(state.ring.next_seq, Ordering::Release);
        }
        for waker in wakers {
            waker.wake();
        }
        Ok(())
    }

    /// Declares that every event after `id` will be delivered. Ignored once anything was.
    pub(crate) fn start_after(&self, id: EventId) -> bool {
        self.lock().set_floor(id)
    }

    pub(crate) fn unsubscribe(&self, key: SlotKey, topics: &[Arc<str>]) {
        let mut state = self.lock();
        let state = &mut *state;
        if key.slot(&state.slots).is_none() {
            return;
        }
        state.slots[key.index] = None;
        state.free.push(key.index);
        state.active -= 1;
        if topics.is_empty() {
            state.all.forget(&state.slots);
        } else {
            for topic in topics {
                if let Some(watchers) = state.by_topic.get_mut(&**topic) {
                    watchers.forget(&state.slots);
                    if watchers.live == 0 {
                        state.by_topic.remove(&**topic);
                    }
                }
            }
        }
    }

    /// Copies the subscriber's unread events (at most a batch) into `sink` and advances its
    /// cursor.
    pub(crate) fn drain(
        &self,
        key: SlotKey,
        cursor: &mut Cursor,
        sink: &mut impl Sink,
        waker: &Waker,
    ) -> Drained {
        let batch = self.config.queue_bound.min(MAX_BATCH);
        let mut state = self.lock();
        let state = &mut *state;
        if state.closed {
            return Drained::Closed(state.farewell.clone());
        }
        let Some(slot) = key.slot_mut(&mut state.slots).filter(|slot| !slot.lagged) else {
            return Drained::Lagged;
        };
        let start = cursor.start(slot.first_unread, state.ring.next_seq);
        if start < state.ring.first_seq {
            // Events it had not read were dropped from the ring.
            slot.lagged = true;
            state.counters.dropped_slow += 1;
            return Drained::Lagged;
        }
        let copied = state.ring.copy(start, cursor, sink, batch);
        cursor.next = copied.next;
        let at_head = copied.next == state.ring.next_seq;
        if at_head {
            slot.caught_up(waker);
        } else {
            slot.pending = slot.pending.saturating_sub(copied.live);
        }
        state.counters.delivered += copied.taken as u64;
        state.counters.replayed += copied.replayed;
        if copied.taken > 0 {
            Drained::Some { at_head }
        } else {
            Drained::Pending
        }
    }

    /// Ends every subscription: marks the hub closed and wakes every subscriber.
    pub(crate) fn close(&self, farewell: Option<Event>) {
        let wakers: Vec<Waker> = {
            let mut state = self.lock();
            if state.closed {
                return;
            }
            state.closed = true;
            state.farewell = farewell;
            self.closed.store(true, Ordering::Release);
            state
                .slots
                .iter_mut()
                .filter_map(|slot| slot.as_mut()?.waker.take())
                .collect()
        };
        for waker in wakers {
            waker.wake();
        }
    }

    pub(crate) fn farewell(&self) -> Option<Event> {
        self.lock().farewell.clone()
    }

    pub(crate) fn stats(&self) -> HubStats {
        let state = self.lock();
        HubStats {
            active_subscribers: state.active,
            published: state.counters.published,
            delivered: state.counters.delivered,
            dropped_slow: state.counters.dropped_slow,
            replayed: state.counters.replayed,
            resumed: state.counters.resumed,
            gaps: state.counters.gaps,
            rejected: state.counters.rejected,
            ring_len: state.ring.entries.len(),
            ring_bytes: state.ring.bytes,
            last_id: (state.counters.published > 0).then_some(state.last_id),
        }
    }
}

#[cfg(test)]
impl Shared {
    pub(crate) fn topic_count(&self) -> usize {
        self.lock().by_topic.len()
    }
}

/// Publishing.
impl State {
    /// The id of the event being appended: the backplane's if it gave one (refused unless it
    /// is newer than the last), else the hub's own next one.
    fn assign_id(&mut self, given: Option<EventId>, epoch: u64) -> Result<EventId, AppendError> {
        match given {
            Some(id) if id <= self.last_id => {
                self.counters.rejected += 1;
                Err(AppendError::Stale)
            }
            Some(id) => Ok(id),
            None => {
                let own = EventId::new(epoch, self.ring.next_seq);
                // Still increasing if a backplane delivered ids past this hub's own.
                Ok(if own > self.last_id {
                    own
                } else {
                    self.last_id.successor()
                })
            }
        }
    }

    /// Sets where resuming can start (every event after `id` will be held), the first time
    /// only. Returns whether it did.
    fn set_floor(&mut self, id: EventId) -> bool {
        if self.floor_known {
            return false;
        }
        self.floor_known = true;
        self.floor = id;
        self.last_id = id;
        true
    }

    fn push(
        &mut self,
        config: &HubConfig,
        id: EventId,
        topic: &str,
        event: Event,
        now: Option<Instant>,
        wakers: &mut Vec<Waker>,
    ) {
        let topic_arc = match self.by_topic.get_key_value(topic) {
            Some((key, _)) => key.clone(),
            None => Arc::from(topic),
        };
        let seq = self.ring.push(Entry {
            id,
            topic: Some(topic_arc),
            event,
            at: now,
        });
        self.last_id = id;
        self.counters.published += 1;
        self.evict(config, now);

        let bound = config.queue_bound;
        let mut dropped = 0;
        if let Some(watchers) = self.by_topic.get(topic) {
            dropped += notify(&watchers.keys, &mut self.slots, seq, bound, wakers);
        }
        dropped += notify(&self.all.keys, &mut self.slots, seq, bound, wakers);
        self.counters.dropped_slow += dropped;
    }

    fn evict(&mut self, config: &HubConfig, now: Option<Instant>) {
        while self.ring.entries.len() > 1
            && (self.ring.entries.len() > config.replay_capacity
                || self.ring.bytes > config.replay_bytes)
        {
            self.drop_oldest();
        }
        if let (Some(age), Some(now)) = (config.max_age, now) {
            while self
                .ring
                .entries
                .front()
                .and_then(|e| e.at)
                .is_some_and(|at| now.saturating_duration_since(at) > age)
            {
                self.drop_oldest();
            }
        }
    }

    fn drop_oldest(&mut self) {
        if let Some(entry) = self.ring.pop_front() {
            // Everything after it is still held.
            self.floor = entry.id;
        }
    }
}

/// Subscribing.
impl State {
    /// The topics without repeats, sharing the hub's `Arc` of each topic that has watchers.
    fn intern(&self, topics: Vec<String>) -> Box<[Arc<str>]> {
        let mut interned: Vec<Arc<str>> = Vec::with_capacity(topics.len());
        for topic in topics {
            if interned.iter().any(|t| **t == *topic) {
                continue;
            }
            let key = match self.by_topic.get_key_value(topic.as_str()) {
                Some((key, _)) => key.clone(),
                None => Arc::from(topic),
            };
            interned.push(key);
        }
        interned.into_boxed_slice()
    }

    /// Where a subscriber that sent `last_event_id` starts: right after it if every event
    /// since is held, else where the gap policy says (after a gap event).
    fn resume(&mut self, last_event_id: Option<&str>, policy: GapPolicy) -> Resume {
        let live = Resume {
            next: self.ring.next_seq,
            gap: None,
            end_after_gap: false,
        };
        let Some(raw) = last_event_id.filter(|id| !id.is_empty()) else {
            return live;
        };
        match raw.parse::<EventId>() {
            Ok(id) if self.floor_known && self.floor <= id && id <= self.last_id => {
                self.counters.resumed += 1;
                Resume {
                    next: self.ring.seq_after(id),
                    ..live
                }
            }
            _ => self.gap(raw, policy),
        }
    }

    /// Counts a gap; under `Replay` the subscriber replays the whole ring, otherwise it
    /// starts live. The gap event's id is the id the stream resumes after.
    fn gap(&mut self, raw: &str, policy: GapPolicy) -> Resume {
        self.counters.gaps += 1;
        let (resume_after, next) = match policy {
            GapPolicy::Replay => (self.floor, self.ring.first_seq),
            GapPolicy::LiveOnly | GapPolicy::End => (self.last_id, self.ring.next_seq),
        };
        let mut buf = [0u8; 41];
        let gap = Event::builder()
            .event(GAP_EVENT)
            .id(format_id(resume_after, &mut buf))
            .data(raw)
            .build()
            .ok();
        Resume {
            next,
            gap,
            end_after_gap: policy == GapPolicy::End,
        }
    }

    /// Takes a slot and adds it to the watchers of its topics (of every topic if none).
    fn register(&mut self, topics: &[Arc<str>]) -> SlotKey {
        let generation = self.next_generation;
        self.next_generation += 1;
        let slot = Slot {
            generation,
            waker: None,
            pending: 0,
            first_unread: None,
            lagged: false,
        };
        let index = match self.free.pop() {
            Some(index) => {
                self.slots[index] = Some(slot);
                index
            }
            None => {
                self.slots.push(Some(slot));
                self.slots.len() - 1
            }
        };
        let key = SlotKey { index, generation };
        if topics.is_empty() {
            self.all.add(key);
        } else {
            for topic in topics {
                self.by_topic.entry(topic.clone()).or_default().add(key);
            }
        }
        self.active += 1;
        key
    }
}

impl Ring {
    /// Appends an entry and returns its sequence number.
    fn push(&mut self, entry: Entry) -> u64 {
        let seq = self.next_seq;
        let len = entry.event.len();
        self.entries.push_back(entry);
        self.bytes += len;
        self.next_seq += 1;
        seq
    }

    fn pop_front(&mut self) -> Option<Entry> {
        let entry = self.entries.pop_front()?;
        self.bytes -= entry.event.len();
        self.first_seq += 1;
        Some(entry)
    }

    /// The sequence number of the first event after `id` (the head if none is held).
    fn seq_after(&self, id: EventId) -> u64 {
        self.first_seq + self.entries.partition_point(|e| e.id <= id) as u64
    }

    /// Copies the events of the cursor's topics from `start` on into `sink`: at most `batch`
    /// of them, and no more bytes than it takes.
    fn copy<S: Sink>(&self, start: u64, cursor: &Cursor, sink: &mut S, batch: usize) -> Copied {
        let skip = usize::try_from(start - self.first_seq)
            .unwrap_or(usize::MAX)
            .min(self.entries.len());
        // Which entries go first, so that the sink makes room once.
        let mut scanned = 0;
        let mut taken = 0;
        let mut len = 0;
        let mut replayed = 0;
        for entry in self.entries.range(skip..) {
            if cursor.wants(entry) {
                let size = entry.event.len();
                if taken > 0 && len + size > S::MAX_BYTES {
                    break;
                }
                len += size;
                taken += 1;
                if start + (scanned as u64) < cursor.live_from {
                    replayed += 1;
                }
            }
            scanned += 1;
            if taken == batch {
                break;
            }
        }
        let scanned_events = self.entries.range(skip..skip + scanned);
        if taken == scanned {
            // All of its topics (as always with one topic): no need to ask again.
            sink.put(scanned_events.map(|entry| &entry.event), taken, len);
        } else {
            let wanted = scanned_events.filter(|entry| cursor.wants(entry));
            sink.put(wanted.map(|entry| &entry.event), taken, len);
        }
        Copied {
            taken,
            replayed,
            live: taken - replayed as usize,
            next: start + scanned as u64,
        }
    }
}

impl Cursor {
    /// Whether the entry is of its topics. A gap the backplane signalled (no topic) is for
    /// everyone.
    fn wants(&self, entry: &Entry) -> bool {
        entry
            .topic
            .as_ref()
            .is_none_or(|topic| matches(&self.topics, topic))
    }

    /// Where a drain starts copying. While replaying (`next < live_from`): at `next`, as the
    /// slot counts only live events. Once live: at the slot's `first_unread` (the first event
    /// of its topics since it was last at the head), which skips other topics' events; at
    /// the head if there is none; at `next` if a drain cut short by the batch limit already
    /// passed `first_unread` (only reaching the head resets it), hence the `max`.
    ///
    /// Exact because `live_from` was read and the slot registered under the lock appends
    /// take, so the slot saw every live event of its topics, and `first_unread` is set and
    /// reset under that lock; if unread events left the ring, the drain ends the subscriber.
    fn start(&self, first_unread: Option<u64>, head: u64) -> u64 {
        if self.next < self.live_from {
            return self.next;
        }
        match first_unread {
            Some(first) => first.max(self.next),
            None => head,
        }
    }
}

impl SlotKey {
    /// Its slot, unless its subscriber unsubscribed.
    fn slot(self, slots: &[Option<Slot>]) -> Option<&Slot> {
        slots
            .get(self.index)?
            .as_ref()
            .filter(|slot| slot.generation == self.generation)
    }

    fn slot_mut(self, slots: &mut [Option<Slot>]) -> Option<&mut Slot> {
        slots
            .get_mut(self.index)?
            .as_mut()
            .filter(|slot| slot.generation == self.generation)
    }
}

impl Slot {
    /// Its subscriber read up to the head. The waker is registered now so that, once the
    /// buffer is empty, the subscription can return `Pending` without the lock if nothing
    /// was published meanwhile.
    fn caught_up(&mut self, waker: &Waker) {
        self.pending = 0;
        self.first_unread = None;
        if !self.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
            self.waker = Some(waker.clone());
        }
    }
}

impl Watchers {
    fn add(&mut self, key: SlotKey) {
        self.keys.push(key);
        self.live += 1;
    }

    /// One slot left; drop the keys of ended slots once they outnumber the live ones.
    fn forget(&mut self, slots: &[Option<Slot>]) {
        self.live -= 1;
        if self.keys.len() > 2 * self.live + 8 {
            self.keys.retain(|key| key.slot(slots).is_some());
        }
    }
}

/// Counts event `seq` as pending for each live slot among `keys`, ends those now more than
/// `bound` behind, and collects their wakers. Returns how many it ended.
fn notify(
    keys: &[SlotKey],
    slots: &mut [Option<Slot>],
    seq: u64,
    bound: usize,
    wakers: &mut Vec<Waker>,
) -> u64 {
    let mut dropped = 0;
    for key in keys {
        let Some(slot) = key.slot_mut(slots).filter(|slot| !slot.lagged) else {
            continue;
        };
        slot.pending += 1;
        slot.first_unread.get_or_insert(seq);
        if slot.pending > bound {
            slot.lagged = true;
            dropped += 1;
        }
        if let Some(waker) = slot.waker.take() {
            wakers.push(waker);
        }
    }
    dropped
}

fn matches(topics: &[Arc<str>], topic: &Arc<str>) -> bool {
    topics.is_empty()
        || topics
            .iter()
            .any(|t| Arc::ptr_eq(t, topic) || **t == **topic)
}

/// `event` with `id` written into it (once, for every subscriber), unless it carries it
/// already.
fn stamp(event: Event, id: EventId) -> Event {
    let mut buf = [0u8; 41];
    let text = format_id(id, &mut buf);
    if event.id() == Some(text) {
        event
    } else {
        event.with_id(text).expect("a hub id is digits and a dash")
    }
}

/// Writes `id` without allocating (and without the formatting machinery: this runs under
/// the lock, once per publish).
fn format_id(id: EventId, buf: &mut [u8; 41]) -> &str {
    let mut end = buf.len();
    for (n, last) in [(id.seq(), false), (id.epoch(), true)] {
        let mut n = n;
        loop {
            end -= 1;
            buf[end] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        if !last {
            end -= 1;
            buf[end] = b'-';
        }
    }
    std::str::from_utf8(&buf[end..]).expect("digits and a dash")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_id_matches_display() {
        for id in [
            EventId::new(0, 0),
            EventId::new(1_764_300_000_000, 42),
            EventId::new(u64::MAX, u64::MAX),
            EventId::new(7, 10),
        ] {
            assert_eq!(format_id(id, &mut [0; 41]), id.to_string());
        }
    }
}
