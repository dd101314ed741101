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
        tickers
            .retain(|(_, _, ticker)| ticker.upgrade().is_some_and(|ticker| !ticker.is_stopped()));
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
