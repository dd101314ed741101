//! Heartbeats injected into an event stream at event boundaries only: the comment they
//! send, and (with the `tokio` feature) [`HeartbeatTimer`], the framework-free state machine
//! behind the adapters' `HeartbeatBody`.
//!
//! # Example
//!
//! ```
//! use sse_core::heartbeat;
//!
//! assert_eq!(heartbeat::comment(""), ":\n");
//! assert_eq!(heartbeat::comment("ping"), ": ping\n");
//! ```

use bytes::Bytes;

/// The default heartbeat comment, an empty comment line.
pub const DEFAULT_COMMENT: &[u8] = b":\n";

/// Encodes a heartbeat text as comment lines, `: text` (one comment line per line of
/// `text`); an empty text is [`DEFAULT_COMMENT`].
#[must_use]
pub fn comment(text: &str) -> Bytes {
    if text.is_empty() {
        Bytes::from_static(DEFAULT_COMMENT)
    } else {
        crate::Event::comment(text).into_bytes()
    }
}

#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use self::timer::HeartbeatTimer;

#[cfg(feature = "tokio")]
mod timer {
    use std::{
        fmt,
        sync::Arc,
        task::{Context, Poll, Waker},
        time::Duration,
    };

    use bytes::Bytes;
    use tokio::time::Instant;

    use super::ticker::Ticker;
    use crate::boundary::EventBoundary;

    /// When to inject a heartbeat comment into a body: after it has been idle for an
    /// interval, and only at an event boundary.
    ///
    /// A body wrapper tells it about every data chunk ([`on_data`](Self::on_data)) and the
    /// end of the body ([`on_end`](Self::on_end)), and when the inner body returns `Pending`
    /// asks it for a heartbeat ([`poll_heartbeat`](Self::poll_heartbeat)). It never copies
    /// event bytes: it remembers only the [`EventBoundary`] and the instant of the last
    /// write. While an event is half written the timer is not even polled; the next write
    /// wakes the body.
    ///
    /// There is no timer per stream: every stream with the same interval on a runtime shares
    /// one ticker task, which ticks eight times per interval and wakes only the streams whose
    /// heartbeat came due at that tick. A heartbeat goes out at the last tick no later than
    /// one interval after the last write: never more than an interval after it (so a proxy's
    /// idle timeout set from the interval holds), at the earliest seven eighths of one after
    /// an event, and exactly one interval apart on an idle stream. A stream registers with the
    /// ticker once per idle interval, not per event: every chunk only sets a flag, and when
    /// the inner body next returns `Pending` (the end of a burst, which is when the chunk was
    /// written) the time is read once and recorded as the last write. A stream woken for a
    /// tick that came before its (since postponed) heartbeat registers again.
    ///
    /// It needs a tokio runtime with the time driver.
    ///
    /// # Example
    ///
    /// ```
    /// use std::{task::{Context, Poll}, time::Duration};
    /// use bytes::Bytes;
    /// use sse_core::heartbeat::{self, HeartbeatTimer};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let mut timer = HeartbeatTimer::new(Some(Duration::from_secs(15)), heartbeat::comment("ping"));
    /// timer.on_data(b"data: half");
    /// // In the middle of an event: no heartbeat, however long the body stalls.
    /// let beat = std::future::poll_fn(|cx| Poll::Ready(timer.poll_heartbeat(cx))).await;
    /// assert!(beat.is_pending());
    /// timer.on_data(b"\n\n");
    /// let beat = std::future::poll_fn(|cx: &mut Context<'_>| timer.poll_heartbeat(cx)).await;
    /// assert_eq!(beat, ": ping\n");
    /// # }
    /// ```
    pub struct HeartbeatTimer {
        interval: Option<Duration>,
        comment: Bytes,
        ticker: Option<Arc<Ticker>>,
        /// The tick this stream is registered for, and the waker registered.
        waiting: Option<(u64, Waker)>,
        last_write: Instant,
        written: bool,
        boundary: EventBoundary,
        ended: bool,
    }

    impl HeartbeatTimer {
        /// A timer that sends `comment` after `interval` without a write; `None` sends no
        /// heartbeats (the wrapper then only passes the body through).
        pub fn new(interval: Option<Duration>, comment: Bytes) -> Self {
            Self {
                interval,
                comment,
                ticker: None,
                waiting: None,
                last_write: Instant::now(),
                written: false,
                boundary: EventBoundary::START,
                ended: false,
            }
        }

        /// A timer that sends [`DEFAULT_COMMENT`](super::DEFAULT_COMMENT) after `interval`
        /// without a write.
        ///
        /// # Panics
        ///
        /// If `interval` is zero.
        pub fn every(interval: Duration) -> Self {
            assert!(!interval.is_zero(), "heartbeat interval must not be zero");
            Self::new(Some(interval), Bytes::from_static(super::DEFAULT_COMMENT))
        }

        /// Replaces the comment sent as a heartbeat (see [`comment`](super::comment)).
        pub fn set_comment(&mut self, comment: Bytes) {
            self.comment = comment;
        }

        /// The idle time before a heartbeat, `None` if heartbeats are off.
        #[must_use]
        pub fn interval(&self) -> Option<Duration> {
            self.interval
        }

        /// Whether the body has ended (or failed): no heartbeat is ever sent again.
        #[must_use]
        pub fn is_ended(&self) -> bool {
            self.ended
        }

        /// Records a data chunk the inner body yielded.
        #[inline]
        pub fn on_data(&mut self, data: &[u8]) {
            if self.interval.is_some() && !data.is_empty() {
                self.boundary = self.boundary.advance(data);
                self.written = true;
            }
        }

        /// Records the end (or failure) of the inner body, and leaves the ticker.
        pub fn on_end(&mut self) {
            self.ended = true;
            self.leave_ticker();
            self.ticker = None;
        }

        /// Takes this timer's waker out of the ticker, so that a stream that ends does not
        /// keep its task alive until the tick it was waiting for.
        fn leave_ticker(&mut self) {
            if let (Some(ticker), Some((tick, waker))) = (&self.ticker, self.waiting.take()) {
                ticker.unregister(tick, &waker);
            }
        }

        /// Called when the inner body returns `Pending`: the heartbeat to send now, if the
        /// stream is at a boundary and has been idle for the interval; else `Pending`, with a
        /// wake-up registered when a heartbeat may become due.
        pub fn poll_heartbeat(&mut self, cx: &mut Context<'_>) -> Poll<Bytes> {
            let Some(interval) = self.interval.filter(|_| !self.ended) else {
                return Poll::Pending;
            };
            if std::mem::take(&mut self.written) {
                // The chunks since the last idle poll went out just now: a burst costs one
                // clock read, when it ends, not one per chunk.
                self.last_write = Instant::now();
            }
            if !self.boundary.at_boundary() {
                return Poll::Pending;
            }
            let ticker = match &self.ticker {
                Some(ticker) if !ticker.is_stopped() => ticker,
                // First idle poll, or the runtime whose ticker this was has shut down.
                _ => {
                    self.waiting = None;
                    self.ticker.insert(Ticker::for_interval(interval))
                }
            };
            // The last tick no later than one interval after the last write. Not computed on
            // the common path, an idle poll before the tick it waits for.
            let last_write = self.last_write;
            let due = || ticker.tick_at_or_before(last_write + interval);
            if let Some((tick, waker)) = &self.waiting {
                if !ticker.has_passed(*tick) {
                    if waker.will_wake(cx.waker()) {
                        return Poll::Pending;
                    }
                } else if ticker.has_passed(due()) {
                    // Counted from the tick that woke it, not from the clock: an idle
                    // stream's heartbeats come exactly one interval apart, with no clock
                    // read, and a late wake-up does not send a burst of them.
                    self.last_write = ticker.at(ticker.passed());
                    self.boundary = self.boundary.advance(&self.comment);
                    self.waiting = None;
                    return Poll::Ready(self.comment.clone());
                }
                // Written to since it registered (its heartbeat moved later), or polled by
                // another task: register again.
            }
            let tick = ticker.register(due(), cx.waker());
            self.waiting = Some((tick, cx.waker().clone()));
            Poll::Pending
        }
    }

    impl Drop for HeartbeatTimer {
        fn drop(&mut self) {
            self.leave_ticker();
        }
    }

    impl fmt::Debug for HeartbeatTimer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("HeartbeatTimer")
                .field("interval", &self.interval)
                .field("comment", &self.comment)
                .field("at_boundary", &self.boundary.at_boundary())
                .field("ended", &self.ended)
                .finish()
        }
    }
}

#[cfg(feature = "tokio")]
mod ticker {
    //! One ticker task per runtime and interval, shared by every heartbeat timer with that
    //! interval: a timer wheel of [`BUCKETS`] buckets of wakers, one drained per tick.

    use std::{
        array,
        sync::{
            atomic::{AtomicBool, AtomicU64, Ordering},
            Arc, Mutex, PoisonError, Weak,
        },
        task::Waker,
        time::Duration,
    };

    use tokio::{
        runtime::{self, Handle},
        time::Instant,
    };

    /// Ticks per interval: a heartbeat goes out at most an eighth of an interval late.
    const TICKS_PER_INTERVAL: u32 = 8;
    /// A stream registers at most one interval (plus one tick for rounding) ahead.
    const BUCKETS: usize = TICKS_PER_INTERVAL as usize + 2;

    /// The running tickers, by runtime and interval.
    static TICKERS: Mutex<Vec<(runtime::Id, Duration, Weak<Ticker>)>> = Mutex::new(Vec::new());

    pub(super) struct Ticker {
        start: Instant,
        /// The tick length in nanoseconds (u64 arithmetic on the poll path, not u128).
        tick_nanos: u64,
        /// The last tick whose bucket has been drained.
        passed: AtomicU64,
        /// Set when the ticker task is gone (its runtime shut down).
        stopped: AtomicBool,
        buckets: Mutex<[Vec<Waker>; BUCKETS]>,
    }

    impl Ticker {
        /// The ticker for `interval` on the current runtime, started if there is none.
        ///
        /// # Panics
        ///
        /// Outside a tokio runtime, as a tokio `Sleep` would.
        pub(super) fn for_interval(interval: Duration) -> Arc<Self> {
            let handle = Handle::current();
            let id = handle.id();
            let mut tickers = TICKERS.lock().unwrap_or_else(PoisonError::into_inner);
            let running = tickers
                .iter()
                .filter(|(runtime, every, _)| *runtime == id && *every == interval)
                .find_map(|(_, _, ticker)| ticker.upgrade())
                .filter(|ticker| !ticker.is_stopped());
            if let Some(ticker) = running {
                return ticker;
            }
            tickers.retain(|(_, _, ticker)| {
                ticker.upgrade().is_some_and(|ticker| !ticker.is_stopped())
            });
            let ticker = Arc::new(Self {
                start: Instant::now(),
                tick_nanos: nanos((interval / TICKS_PER_INTERVAL).max(Duration::from_millis(1))),
                passed: AtomicU64::new(0),
                stopped: AtomicBool::new(false),
                buckets: Mutex::new(array::from_fn(|_| Vec::new())),
            });
            tickers.push((id, interval, Arc::downgrade(&ticker)));
            handle.spawn(run(StopOnDrop(ticker.clone())));
            ticker
        }

        /// When `tick` comes.
        pub(super) fn at(&self, tick: u64) -> Instant {
            self.start + Duration::from_nanos(self.tick_nanos.saturating_mul(tick))
        }

        /// Whether the ticker task is gone: its timers must find a new one.
        pub(super) fn is_stopped(&self) -> bool {
            self.stopped.load(Ordering::Acquire)
        }

        /// The last tick whose streams have been woken.
        pub(super) fn passed(&self) -> u64 {
            self.passed.load(Ordering::Acquire)
        }

        /// Whether the streams registered for `tick` have been woken.
        pub(super) fn has_passed(&self, tick: u64) -> bool {
            self.passed() >= tick
        }

        /// The last tick at or before `instant` (tick 0 is the ticker's start).
        pub(super) fn tick_at_or_before(&self, instant: Instant) -> u64 {
            nanos(instant.saturating_duration_since(self.start)) / self.tick_nanos
        }

        /// Wakes `waker` at `tick`, or at the next tick if `tick` has passed; returns the
        /// tick it will be woken at.
        pub(super) fn register(&self, tick: u64, waker: &Waker) -> u64 {
            let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
            let passed = self.passed();
            // Not a passed tick, and not so far ahead that the bucket is one still to come.
            let tick = tick.clamp(passed + 1, passed + BUCKETS as u64 - 1);
            buckets[bucket(tick)].push(waker.clone());
            tick
        }

        /// Removes a registration of `waker` for `tick`, if that tick has not passed.
        pub(super) fn unregister(&self, tick: u64, waker: &Waker) {
            let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
            if self.has_passed(tick) {
                return;
            }
            let bucket = &mut buckets[bucket(tick)];
            if let Some(at) = bucket.iter().position(|w| w.will_wake(waker)) {
                bucket.swap_remove(at);
            }
        }
    }

    fn nanos(duration: Duration) -> u64 {
        u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
    }

    fn bucket(tick: u64) -> usize {
        (tick % BUCKETS as u64) as usize
    }

    /// Owns the ticker task's reference; marks the ticker stopped and wakes its streams
    /// when the task is dropped (its runtime shutting down) or returns.
    struct StopOnDrop(Arc<Ticker>);

    impl Drop for StopOnDrop {
        fn drop(&mut self) {
            self.0.stopped.store(true, Ordering::Release);
            let buckets = std::mem::replace(
                &mut *self
                    .0
                    .buckets
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner),
                array::from_fn(|_| Vec::new()),
            );
            buckets.into_iter().flatten().for_each(Waker::wake);
        }
    }

    async fn run(ticker: StopOnDrop) {
        let ticker = &ticker.0;
        let mut woken = Vec::new();
        let mut next: u64 = 1;
        loop {
            tokio::time::sleep_until(ticker.at(next)).await;
            // Every tick that has passed, if this task ran late.
            let last = ticker.tick_at_or_before(Instant::now()).max(next);
            {
                let mut buckets = ticker
                    .buckets
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                for tick in next..=last.min(next + BUCKETS as u64) {
                    woken.append(&mut buckets[bucket(tick)]);
                }
                ticker.passed.store(last, Ordering::Release);
            }
            woken.drain(..).for_each(Waker::wake);
            next = last + 1;
            // No timer holds the ticker any more: stop (under the registry's lock, so that
            // no timer picks it up meanwhile).
            let mut tickers = TICKERS.lock().unwrap_or_else(PoisonError::into_inner);
            if Arc::strong_count(ticker) == 1 {
                tickers.retain(|(_, _, other)| !Weak::ptr_eq(other, &Arc::downgrade(ticker)));
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boundary::EventBoundary;

    #[test]
    fn comment_text_is_encoded_as_comment_lines() {
        assert_eq!(comment(""), ":\n");
        let bytes = comment("ping");
        assert_eq!(bytes, ": ping\n");
        assert!(EventBoundary::START.advance(&bytes).at_boundary());
    }

    #[cfg(feature = "tokio")]
    mod timer {
        use std::{future::poll_fn, task::Poll, time::Duration};

        use tokio::time::{advance, Instant};

        use super::super::*;

        const INTERVAL: Duration = Duration::from_secs(10);

        /// Polls once: the heartbeat if one is due now.
        async fn poll_once(timer: &mut HeartbeatTimer) -> Option<Bytes> {
            match poll_fn(|cx| Poll::Ready(timer.poll_heartbeat(cx))).await {
                Poll::Ready(beat) => Some(beat),
                Poll::Pending => None,
            }
        }

        /// Heartbeats go out at the ticker's last tick no later than they are due.
        #[track_caller]
        fn assert_within_a_tick(idle: Duration, interval: Duration) {
            assert!(
                idle <= interval && idle >= interval - interval / 8,
                "a heartbeat after {idle:?} idle, expected {:?} to {interval:?}",
                interval - interval / 8
            );
        }

        #[tokio::test(start_paused = true)]
        async fn a_write_pushes_the_heartbeat_back_by_a_whole_interval() {
            let mut timer = HeartbeatTimer::every(INTERVAL);
            assert_eq!(poll_once(&mut timer).await, None);
            advance(Duration::from_secs(6)).await;
            timer.on_data(b"data: a\n\n");
            assert_eq!(poll_once(&mut timer).await, None);
            let written = Instant::now();
            let beat = poll_fn(|cx| timer.poll_heartbeat(cx)).await;
            assert_eq!(beat, DEFAULT_COMMENT);
            assert_within_a_tick(written.elapsed(), INTERVAL);
            // The heartbeat counts as a write: the next one is a whole interval later.
            let beat_at = Instant::now();
            poll_fn(|cx| timer.poll_heartbeat(cx)).await;
            assert_eq!(beat_at.elapsed(), INTERVAL);
        }

        #[tokio::test(start_paused = true)]
        async fn no_heartbeat_inside_an_event_when_off_or_after_the_end() {
            let mut timer = HeartbeatTimer::every(INTERVAL);
            timer.on_data(b"data: half");
            advance(INTERVAL * 3).await;
            assert_eq!(poll_once(&mut timer).await, None);
            timer.on_data(b"\n\n");
            let written = Instant::now();
            let beat = poll_fn(|cx| timer.poll_heartbeat(cx)).await;
            assert_eq!(beat, DEFAULT_COMMENT);
            assert_within_a_tick(written.elapsed(), INTERVAL);
            timer.on_end();
            assert!(timer.is_ended());
            advance(INTERVAL * 2).await;
            assert_eq!(poll_once(&mut timer).await, None);

            let mut off = HeartbeatTimer::new(None, comment("x"));
            advance(INTERVAL * 2).await;
            assert_eq!(poll_once(&mut off).await, None);
        }

        #[tokio::test(start_paused = true)]
        async fn timers_share_one_ticker_task_that_stops_when_unused() {
            let tasks = || {
                tokio::runtime::Handle::current()
                    .metrics()
                    .num_alive_tasks()
            };
            let mut timers: Vec<_> = (0..100).map(|_| HeartbeatTimer::every(INTERVAL)).collect();
            for (i, timer) in timers.iter_mut().enumerate() {
                // Idle since different instants: due at different ticks.
                advance(INTERVAL / 100).await;
                timer.on_data(format!("data: {i}\n\n").as_bytes());
                assert_eq!(poll_once(timer).await, None);
            }
            assert_eq!(tasks(), 1, "one ticker task for 100 timers");
            // Each gets its heartbeat, one interval (to a tick) after its last write.
            for timer in &mut timers {
                let beat = poll_fn(|cx| timer.poll_heartbeat(cx)).await;
                assert_eq!(beat, DEFAULT_COMMENT);
            }
            // Another interval makes the ticker see all its timers gone.
            drop(timers);
            advance(INTERVAL).await;
            tokio::task::yield_now().await;
            assert_eq!(tasks(), 0, "the ticker stops without timers");
        }

        #[tokio::test(start_paused = true)]
        async fn a_timer_that_ends_leaves_no_waker_behind() {
            struct Task;
            impl std::task::Wake for Task {
                fn wake(self: std::sync::Arc<Self>) {}
            }
            let task = std::sync::Arc::new(Task);
            let waker = std::task::Waker::from(task.clone());
            let mut cx = std::task::Context::from_waker(&waker);
            for end in [HeartbeatTimer::on_end, |timer: &mut HeartbeatTimer| {
                let _ = std::mem::replace(timer, HeartbeatTimer::every(INTERVAL));
            }] {
                let mut timer = HeartbeatTimer::every(INTERVAL);
                assert!(timer.poll_heartbeat(&mut cx).is_pending());
                // `task`, `waker`, the timer's copy and the ticker's.
                assert_eq!(std::sync::Arc::strong_count(&task), 4);
                end(&mut timer);
                assert_eq!(std::sync::Arc::strong_count(&task), 2);
            }
        }

        #[test]
        fn a_timer_outlives_the_runtime_of_its_ticker() {
            let runtime = || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_time()
                    .start_paused(true)
                    .build()
                    .unwrap()
            };
            let mut timer = HeartbeatTimer::every(INTERVAL);
            runtime().block_on(async {
                assert_eq!(poll_once(&mut timer).await, None);
            });
            // The first runtime, and its ticker task, are gone.
            let beat = runtime().block_on(async {
                let start = Instant::now();
                let beat = poll_fn(|cx| timer.poll_heartbeat(cx)).await;
                assert!(start.elapsed() <= INTERVAL);
                beat
            });
            assert_eq!(beat, DEFAULT_COMMENT);
        }
    }
}
