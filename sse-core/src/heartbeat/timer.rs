use std::{
    fmt,
    sync::Arc,
    task::{Context, Poll, Waker},
    time::Duration,
};

use bytes::Bytes;
use tokio::time::Instant;

use super::ticker::Ticker;
use super::{EventBoundary, Heartbeat};

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
/// one ticker task, which ticks eight times per interval and wakes only the streams
/// registered for that tick. A heartbeat goes out at the last tick no later than
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
/// use sse_core::Heartbeat;
/// use sse_core::__private::HeartbeatTimer;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let mut timer = HeartbeatTimer::new(Some(&Heartbeat::every(Duration::from_secs(15)).text("ping")));
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
    /// A timer for `heartbeat`; `None` sends no heartbeats (the wrapper then only passes the
    /// body through).
    pub fn new(heartbeat: Option<&Heartbeat>) -> Self {
        Self {
            interval: heartbeat.map(Heartbeat::get_interval),
            comment: heartbeat.map_or_else(Bytes::new, |h| h.as_event().as_bytes().clone()),
            ticker: None,
            waiting: None,
            last_write: Instant::now(),
            written: false,
            boundary: EventBoundary::START,
            ended: false,
        }
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

#[cfg(test)]
mod tests {
    use std::future::poll_fn;

    use tokio::time::{advance, Instant};

    use super::*;

    const INTERVAL: Duration = Duration::from_secs(10);
    /// The default heartbeat, an empty comment.
    const COMMENT: &[u8] = b":\n";

    fn every(interval: Duration) -> HeartbeatTimer {
        HeartbeatTimer::new(Some(&Heartbeat::every(interval)))
    }

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
        let mut timer = every(INTERVAL);
        assert_eq!(poll_once(&mut timer).await, None);
        advance(Duration::from_secs(6)).await;
        timer.on_data(b"data: a\n\n");
        assert_eq!(poll_once(&mut timer).await, None);
        let written = Instant::now();
        let beat = poll_fn(|cx| timer.poll_heartbeat(cx)).await;
        assert_eq!(beat, COMMENT);
        assert_within_a_tick(written.elapsed(), INTERVAL);
        // The heartbeat counts as a write: the next one is a whole interval later.
        let beat_at = Instant::now();
        poll_fn(|cx| timer.poll_heartbeat(cx)).await;
        assert_eq!(beat_at.elapsed(), INTERVAL);
    }

    #[tokio::test(start_paused = true)]
    async fn no_heartbeat_inside_an_event_when_off_or_after_the_end() {
        let mut timer = every(INTERVAL);
        timer.on_data(b"data: half");
        advance(INTERVAL * 3).await;
        assert_eq!(poll_once(&mut timer).await, None);
        timer.on_data(b"\n\n");
        let written = Instant::now();
        let beat = poll_fn(|cx| timer.poll_heartbeat(cx)).await;
        assert_eq!(beat, COMMENT);
        assert_within_a_tick(written.elapsed(), INTERVAL);
        timer.on_end();
        assert!(timer.is_ended());
        advance(INTERVAL * 2).await;
        assert_eq!(poll_once(&mut timer).await, None);

        let mut off = HeartbeatTimer::new(None);
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
        let mut timers: Vec<_> = (0..100).map(|_| every(INTERVAL)).collect();
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
            assert_eq!(beat, COMMENT);
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
            let _ = std::mem::replace(timer, every(INTERVAL));
        }] {
            let mut timer = every(INTERVAL);
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
        let mut timer = every(INTERVAL);
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
        assert_eq!(beat, COMMENT);
    }
}
