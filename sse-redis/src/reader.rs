//! The node's one reader: fills the hub's ring from the stream at start, then follows the
//! stream with blocking reads from an explicit last id, delivering every entry in order and
//! signalling a gap wherever the ids are not contiguous.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, RedisResult, Value};
use sse_core::hub::{BackplaneSink, DeliverError, EventId};
use sse_core::CancellationToken;

use crate::entry::{self, Entry, Malformed};
use crate::{RedisConfig, Status};

/// How much longer than its `BLOCK` a read may take before the connection counts as dead.
const READ_MARGIN: Duration = Duration::from_secs(1);

pub(crate) struct Reader {
    pub(crate) config: Arc<RedisConfig>,
    pub(crate) stream_key: String,
    pub(crate) client: Client,
    pub(crate) sink: BackplaneSink,
    pub(crate) status: Arc<Status>,
    pub(crate) stop: CancellationToken,
    /// The last id delivered into the hub, the one the next must follow.
    pub(crate) last: Option<EventId>,
    /// The stream id the next read starts after: the last entry read, well-formed or not.
    pub(crate) read_after: String,
    /// Whether the ring was filled from the stream (once, at the node's start).
    pub(crate) filled: bool,
}

/// Why the read loop stopped.
enum Stop {
    /// The hub is gone or shut down, or every handle on the backplane was dropped.
    Done,
    /// The connection failed: reconnect.
    Lost(redis::RedisError),
}

impl Reader {
    /// Runs until the hub is dropped or shut down, or the backplane is dropped.
    pub(crate) async fn run(mut self) {
        let mut attempt: u32 = 0;
        let mut outage: Option<Instant> = None;
        let stop = self.stop.clone();
        loop {
            let result = tokio::select! {
                () = stop.cancelled() => return,
                result = self.connect_and_follow(&mut attempt, &mut outage) => result,
            };
            let err = match result {
                Stop::Done => return,
                Stop::Lost(err) => err,
            };
            self.status.connected.send_replace(false);
            if outage.is_none() {
                // One line per outage, not one per retry.
                tracing::warn!(error = %err, stream = %self.stream_key, "SSE backplane lost Redis; reconnecting");
                outage = Some(Instant::now());
            }
            let delay = self.config.backoff(attempt);
            attempt = attempt.saturating_add(1);
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(delay) => {}
            }
        }
    }

    async fn connect_and_follow(
        &mut self,
        attempt: &mut u32,
        outage: &mut Option<Instant>,
    ) -> Stop {
        let mut conn = match self.connect().await {
            Ok(conn) => conn,
            Err(err) => return Stop::Lost(err),
        };
        if !self.filled {
            if let Err(err) = self.fill(&mut conn).await {
                return Stop::Lost(err);
            }
            self.filled = true;
        }
        self.status.connected.send_replace(true);
        if let Some(since) = outage.take() {
            self.status.reconnects.fetch_add(1, Ordering::Relaxed);
            tracing::info!(attempts = *attempt, down_for = ?since.elapsed(), "SSE backplane reconnected to Redis");
        }
        *attempt = 0;
        self.follow(&mut conn).await
    }

    /// A connection of its own, so a blocking read never delays a publish, whose response
    /// timeout covers the longest block.
    async fn connect(&self) -> RedisResult<MultiplexedConnection> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.config.block.max(Duration::from_secs(1))))
            .set_response_timeout(Some(self.config.block + READ_MARGIN));
        self.client
            .get_multiplexed_async_connection_with_config(&config)
            .await
    }

    /// At the node's start: hand the hub the newest run of contiguous events the stream
    /// holds, so a client can resume here after events published before this node started.
    async fn fill(&mut self, conn: &mut MultiplexedConnection) -> RedisResult<()> {
        let newest: Value = redis::cmd("XREVRANGE")
            .arg(&self.stream_key)
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(self.config.replay_capacity)
            .query_async(conn)
            .await?;
        let newest = entry::range_reply(&newest);
        // Follow on from the newest entry, whatever it is (never from the start of a stream
        // whose entries were not delivered).
        if let Some(id) = newest.first().and_then(entry::raw_id) {
            self.read_after = id;
        }
        let mut run: Vec<Entry> = Vec::new();
        for entry in newest.iter().map(entry::entry) {
            match entry {
                // Newest first: keep going while each is the predecessor of the one before.
                Ok(entry) => {
                    let contiguous = run.last().is_none_or(|later| {
                        later.id.epoch() == entry.id.epoch() && later.id.seq() == entry.id.seq() + 1
                    });
                    if !contiguous {
                        break;
                    }
                    run.push(entry);
                }
                Err(malformed) => {
                    self.skip(&malformed);
                    break;
                }
            }
        }
        // An empty stream is read from its start ("0-0"), never from `$`: nothing added
        // between this read and the next can be missed.
        if let Some(oldest) = run.last() {
            let before = EventId::new(oldest.id.epoch(), oldest.id.seq() - 1);
            let _ = self.sink.start_after(before);
        }
        for entry in run.into_iter().rev() {
            if self.deliver(entry).is_err() {
                break;
            }
        }
        Ok(())
    }

    /// Blocking reads from the last id, until the connection fails or the hub is gone.
    async fn follow(&mut self, conn: &mut MultiplexedConnection) -> Stop {
        let block_ms = u64::try_from(self.config.block.as_millis()).unwrap_or(u64::MAX);
        loop {
            if self.sink.is_closed() {
                return Stop::Done;
            }
            let reply: RedisResult<Value> = redis::cmd("XREAD")
                .arg("COUNT")
                .arg(self.config.read_count)
                .arg("BLOCK")
                .arg(block_ms)
                .arg("STREAMS")
                .arg(&self.stream_key)
                .arg(&self.read_after)
                .query_async(conn)
                .await;
            let reply = match reply {
                Ok(reply) => reply,
                Err(err) => return Stop::Lost(err),
            };
            let entries = entry::read_reply(&reply);
            // The next read goes on after the last entry, well-formed or not.
            if let Some(id) = entries.last().and_then(entry::raw_id) {
                self.read_after = id;
            }
            for entry in entries.iter().map(entry::entry) {
                let delivered = match entry {
                    Ok(entry) => self.deliver(entry),
                    Err(malformed) => {
                        self.skip(&malformed);
                        Ok(())
                    }
                };
                if delivered.is_err() {
                    return Stop::Done;
                }
            }
        }
    }

    /// Delivers one entry, after a gap signal if it does not follow the last one.
    fn deliver(&mut self, entry: Entry) -> Result<(), DeliverError> {
        let id = entry.id;
        if let Some(last) = self.last {
            if id <= last {
                return Ok(());
            }
            let follows = id.epoch() == last.epoch() && id.seq() == last.seq() + 1;
            if !follows {
                // Trimmed before this node read it, lost in a restart, or a new epoch.
                let resume_after = EventId::new(id.epoch(), id.seq().saturating_sub(1));
                tracing::warn!(last = %last, next = %id, "SSE backplane: events missing from the stream; signalling a gap");
                self.status.gaps.fetch_add(1, Ordering::Relaxed);
                match self.sink.signal_gap(resume_after) {
                    Ok(()) | Err(DeliverError::StaleId) => {}
                    Err(err) => return Err(err),
                }
            }
        }
        self.last = Some(id);
        self.status.events_read.fetch_add(1, Ordering::Relaxed);
        match self.sink.deliver(id, &entry.topic, entry.event) {
            Ok(()) | Err(DeliverError::StaleId) => Ok(()),
            Err(err) => Err(err),
        }
    }

    fn skip(&self, malformed: &Malformed) {
        self.status.malformed.fetch_add(1, Ordering::Relaxed);
        tracing::error!(error = %malformed, "SSE backplane: skipping a malformed stream entry");
    }
}
