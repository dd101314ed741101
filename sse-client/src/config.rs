//! [`Config`]: how an event source reconnects, times out and limits what it reads.

use std::time::Duration;

use sse_core::parse::Decoder;

/// How an [`EventSource`](crate::EventSource) reconnects, when it gives up on a silent
/// connection, and how much it reads into one line or event.
///
/// Build it with [`Config::new`] (the defaults) and the setters, then pass it to
/// [`EventSource::with_config`](crate::EventSource::with_config).
///
/// # Reconnecting
///
/// After a network error, a clean end of the response, an idle timeout, or (when
/// [`retry_transient_status`](Self::retry_transient_status) is on) a `5xx` or `429`, the
/// event source waits a random time in `[floor, ceiling]` and reconnects. The floor is the
/// reconnection time: the server's last `retry:`, or [`reconnect_time`](Self::reconnect_time)
/// until it sends one. The ceiling starts at twice the larger of the two and doubles with
/// every attempt, up to [`max_delay`](Self::max_delay) (a server's `retry:` above the cap
/// still wins). A `Retry-After` header raises the wait to at least its value. The attempt
/// count, and so the ceiling, starts over only after a connection kept receiving bytes for
/// [`reset_after`](Self::reset_after): a server that accepts and hangs up at once is backed
/// off from, not hammered.
///
/// ```
/// use std::time::Duration;
/// use sse_client::Config;
///
/// let config = Config::new()
///     .reconnect_time(Duration::from_millis(500))
///     .max_delay(Duration::from_secs(60))
///     .idle_timeout(Duration::from_secs(90))
///     .max_attempts(10)
///     .retry_transient_status(true)
///     .max_event_len(1 << 20)
///     .last_event_id("1234");
/// # let _ = config;
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct Config {
    pub(crate) reconnect_time: Duration,
    pub(crate) max_delay: Duration,
    pub(crate) reset_after: Duration,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) max_attempts: Option<u32>,
    pub(crate) retry_transient_status: bool,
    pub(crate) max_line_len: usize,
    pub(crate) max_event_len: usize,
    pub(crate) last_event_id: String,
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

impl Config {
    /// The default reconnection time, 1 s.
    pub const DEFAULT_RECONNECT_TIME: Duration = Duration::from_secs(1);
    /// The default cap of the backoff, 30 s.
    pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(30);
    /// How long a connection must keep receiving bytes before the backoff starts over, by
    /// default: 60 s.
    pub const DEFAULT_RESET_AFTER: Duration = Duration::from_secs(60);
    /// The default idle timeout, 45 s: three of this toolkit's 15 s heartbeats.
    pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(45);

    /// The defaults: reconnection time 1 s, backoff cap 30 s, reset after 60 s of a healthy
    /// connection, idle timeout 45 s, unlimited attempts, `5xx` and `429` final, sse-core's
    /// default line (2 MiB) and event (8 MiB) limits, no last event ID.
    ///
    /// ```
    /// let config = sse_client::Config::new();
    /// # let _ = config;
    /// ```
    pub const fn new() -> Self {
        Self {
            reconnect_time: Self::DEFAULT_RECONNECT_TIME,
            max_delay: Self::DEFAULT_MAX_DELAY,
            reset_after: Self::DEFAULT_RESET_AFTER,
            idle_timeout: Some(Self::DEFAULT_IDLE_TIMEOUT),
            max_attempts: None,
            retry_transient_status: false,
            max_line_len: Decoder::DEFAULT_MAX_LINE_LEN,
            max_event_len: Decoder::DEFAULT_MAX_EVENT_LEN,
            last_event_id: String::new(),
        }
    }

    /// The reconnection time until the server sets one with `retry:`: the least wait
    /// before a reconnect, and the start of the backoff.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let config = sse_client::Config::new().reconnect_time(Duration::from_secs(3));
    /// # let _ = config;
    /// ```
    pub const fn reconnect_time(mut self, time: Duration) -> Self {
        self.reconnect_time = time;
        self
    }

    /// The most the backoff waits (unless the server's `retry:` or `Retry-After` asks for
    /// more).
    ///
    /// ```
    /// # use std::time::Duration;
    /// let config = sse_client::Config::new().max_delay(Duration::from_secs(120));
    /// # let _ = config;
    /// ```
    pub const fn max_delay(mut self, max: Duration) -> Self {
        self.max_delay = max;
        self
    }

    /// How long a connection must keep receiving bytes before the backoff and the attempt
    /// count start over. A `200 OK` alone never resets them.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let config = sse_client::Config::new().reset_after(Duration::from_secs(300));
    /// # let _ = config;
    /// ```
    pub const fn reset_after(mut self, healthy_for: Duration) -> Self {
        self.reset_after = healthy_for;
        self
    }

    /// Drops a connection and reconnects when no byte (no response head, no event, no
    /// heartbeat comment) arrived for `idle`. Pick a few times the server's heartbeat
    /// interval.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let config = sse_client::Config::new().idle_timeout(Duration::from_secs(90));
    /// # let _ = config;
    /// ```
    pub const fn idle_timeout(mut self, idle: Duration) -> Self {
        self.idle_timeout = Some(idle);
        self
    }

    /// Waits for bytes forever: for servers that send no heartbeats. A dead peer behind a
    /// proxy is then only noticed by TCP, if ever.
    ///
    /// ```
    /// let config = sse_client::Config::new().no_idle_timeout();
    /// # let _ = config;
    /// ```
    pub const fn no_idle_timeout(mut self) -> Self {
        self.idle_timeout = None;
        self
    }

    /// Gives up after `attempts` connection attempts in a row without a healthy connection
    /// (see [`reset_after`](Self::reset_after)), with [`Error::Exhausted`](crate::Error::Exhausted).
    /// The first connection counts: `1` never reconnects. Unlimited by default.
    ///
    /// # Panics
    ///
    /// If `attempts` is 0.
    ///
    /// ```
    /// let config = sse_client::Config::new().max_attempts(5);
    /// # let _ = config;
    /// ```
    pub const fn max_attempts(mut self, attempts: u32) -> Self {
        assert!(attempts > 0, "max_attempts must be at least 1");
        self.max_attempts = Some(attempts);
        self
    }

    /// Whether a `5xx` or `429` response is retried (waiting at least its `Retry-After`)
    /// instead of failing the event source, as the spec asks. Off by default. This
    /// toolkit's stream limit answers `503` with `Retry-After`.
    ///
    /// ```
    /// let config = sse_client::Config::new().retry_transient_status(true);
    /// # let _ = config;
    /// ```
    pub const fn retry_transient_status(mut self, retry: bool) -> Self {
        self.retry_transient_status = retry;
        self
    }

    /// The longest line accepted (without its line end), in bytes; a longer one fails the
    /// event source with [`Error::Parse`](crate::Error::Parse).
    ///
    /// ```
    /// let config = sse_client::Config::new().max_line_len(64 << 10);
    /// # let _ = config;
    /// ```
    pub const fn max_line_len(mut self, bytes: usize) -> Self {
        self.max_line_len = bytes;
        self
    }

    /// The most data one event may carry (its `data` values plus a line feed each), in
    /// bytes; more fails the event source with [`Error::Parse`](crate::Error::Parse).
    ///
    /// ```
    /// let config = sse_client::Config::new().max_event_len(1 << 20);
    /// # let _ = config;
    /// ```
    pub const fn max_event_len(mut self, bytes: usize) -> Self {
        self.max_event_len = bytes;
        self
    }

    /// Resumes after `id`, for example one kept from an earlier run: the first request
    /// sends it as `Last-Event-ID` (unless it is empty).
    ///
    /// ```
    /// let config = sse_client::Config::new().last_event_id("1700000000-42");
    /// # let _ = config;
    /// ```
    pub fn last_event_id(mut self, id: impl Into<String>) -> Self {
        self.last_event_id = id.into();
        self
    }

    pub(crate) fn decoder(&self) -> Decoder {
        Decoder::with_limits(self.max_line_len, self.max_event_len)
            .with_last_event_id(self.last_event_id.clone())
    }
}
