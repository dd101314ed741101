//! [`RedisConfig`]: where the backplane's stream lives and how it reads, retries and times
//! out.

use std::time::Duration;

/// The options of a [`RedisBackplane`](crate::RedisBackplane).
///
/// ```
/// use std::time::Duration;
/// use sse_redis::RedisConfig;
///
/// let config = RedisConfig::new("redis://127.0.0.1:6379")
///     .key_prefix("chat")                       // keys chat:events and chat:meta
///     .replay_capacity(10_000)                  // the stream holds the newest 10 000 events
///     .publish_timeout(Duration::from_millis(500));
/// assert_eq!(config.stream_key(), "chat:events");
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct RedisConfig {
    pub(crate) url: String,
    key_prefix: String,
    pub(crate) replay_capacity: usize,
    pub(crate) block: Duration,
    pub(crate) read_count: usize,
    pub(crate) backoff_base: Duration,
    pub(crate) backoff_cap: Duration,
    pub(crate) publish_timeout: Duration,
}

impl RedisConfig {
    /// The defaults for the Redis at `url` (`redis://host:port/db`): key prefix `sse`, a
    /// stream of the newest 1 024 events, a blocking read of 5 s, batches of 512 entries,
    /// reconnects after 100 ms doubling up to 5 s (with full jitter), and a publish timeout
    /// of 1 s.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            key_prefix: "sse".to_owned(),
            replay_capacity: 1024,
            block: Duration::from_secs(5),
            read_count: 512,
            backoff_base: Duration::from_millis(100),
            backoff_cap: Duration::from_secs(5),
            publish_timeout: Duration::from_secs(1),
        }
    }

    /// The prefix of the backplane's keys: the stream `{prefix}:events` and the hash
    /// `{prefix}:meta` (epoch and counter). Every node of one hub uses the same prefix.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// How many events the stream keeps (exact `MAXLEN`), and so how far back any node can
    /// replay after a restart. Match the hub's replay capacity.
    ///
    /// # Panics
    ///
    /// If `events` is zero.
    pub fn replay_capacity(mut self, events: usize) -> Self {
        assert!(events > 0, "replay capacity must not be zero");
        self.replay_capacity = events;
        self
    }

    /// How long one blocking read waits for new entries. It is also the reader's liveness
    /// probe: a connection that answers nothing for this long plus a second is dropped and
    /// opened again.
    ///
    /// # Panics
    ///
    /// If `block` is under a millisecond.
    pub fn block(mut self, block: Duration) -> Self {
        assert!(
            block >= Duration::from_millis(1),
            "block must be at least 1 ms"
        );
        self.block = block;
        self
    }

    /// The most entries one read returns.
    ///
    /// # Panics
    ///
    /// If `count` is zero.
    pub fn read_count(mut self, count: usize) -> Self {
        assert!(count > 0, "read count must not be zero");
        self.read_count = count;
        self
    }

    /// The reader's reconnect delays: attempt `n` waits a random time (full jitter) up to
    /// `base * 2^n`, at most `cap`.
    pub fn reconnect_backoff(mut self, base: Duration, cap: Duration) -> Self {
        self.backoff_base = base;
        self.backoff_cap = cap.max(base);
        self
    }

    /// The longest a publish may take before it fails with
    /// [`Error::Timeout`](crate::Error::Timeout) (it covers reconnecting, too).
    pub fn publish_timeout(mut self, timeout: Duration) -> Self {
        self.publish_timeout = timeout;
        self
    }

    /// The stream's key, `{prefix}:events`.
    #[must_use]
    pub fn stream_key(&self) -> String {
        format!("{}:events", self.key_prefix)
    }

    /// The meta hash's key, `{prefix}:meta`.
    #[must_use]
    pub fn meta_key(&self) -> String {
        format!("{}:meta", self.key_prefix)
    }

    /// The delay before reconnect attempt `attempt` (0-based).
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .backoff_base
            .saturating_mul(2u32.saturating_pow(attempt.min(20)))
            .min(self.backoff_cap);
        let ceiling_ms = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(fastrand::u64(0..=ceiling_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_full_jitter_up_to_the_cap() {
        let config = RedisConfig::new("redis://x")
            .reconnect_backoff(Duration::from_millis(100), Duration::from_secs(2));
        for attempt in 0..30 {
            let ceiling = (100u64 << attempt.min(20)).min(2000);
            for _ in 0..50 {
                let delay = config.backoff(attempt).as_millis() as u64;
                assert!(delay <= ceiling, "attempt {attempt}: {delay} > {ceiling}");
            }
        }
        // Jitter: not every delay of a late attempt is the same.
        let delays: std::collections::HashSet<_> = (0..50).map(|_| config.backoff(10)).collect();
        assert!(delays.len() > 1);
    }
}
