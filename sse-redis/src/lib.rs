//! A Redis Streams backplane for sse-core's [`Hub`](sse_core::hub::Hub): several nodes
//! behind a load balancer act as one hub, with the same ids in the same order everywhere,
//! resume on any node, and an explicit `sse-gap` wherever continuity can't be proven.
//!
//! # Example
//!
//! ```no_run
//! use sse_core::{hub::{Hub, HubConfig}, Event};
//! use sse_redis::{RedisBackplane, RedisConfig};
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let backplane = RedisBackplane::connect(RedisConfig::new("redis://127.0.0.1:6379")).await?;
//! let hub = Hub::with_backplane(HubConfig::new(), backplane.clone());
//!
//! // Returns once Redis holds the event; every node's subscribers get it with this id.
//! let id = hub.publish("news", Event::data("hello")).await?;
//! println!("published {id}; connected: {}", backplane.status().connected);
//! # Ok(()) }
//! ```
//!
//! # How it works
//!
//! - **One stream, one script.** Every topic goes through one stream, `{prefix}:events`
//!   (the topic is a field; subscribers filter locally, as the in-memory hub does). A
//!   publish is one Lua script, atomic in Redis: it takes the next number from a counter in
//!   the hash `{prefix}:meta`, adds the entry with the explicit id `{epoch}-{seq}`, and trims
//!   the stream to the replay capacity. That id is the event's SSE id on every node. Within
//!   an epoch the numbers are contiguous, so a missing event is arithmetic, not a guess.
//! - **Epochs.** When the hash is gone (Redis restarted without persistence, `FLUSHALL`,
//!   eviction), the script starts a new epoch, later than anything in the stream. Readers
//!   and resuming clients see the change as a gap.
//! - **One reader per node**, on a connection of its own (a blocking read must not delay a
//!   publish), reading from an explicit last id (never `$` after the start) in batches, with
//!   a bounded `BLOCK` that is also its liveness probe. It reconnects with exponential
//!   backoff and full jitter, and logs one line when Redis is lost and one when it is back.
//!   At the node's start it fills the hub's ring from the stream, so a client can resume on
//!   a node that started after its last event.
//! - **Gaps are explicit.** When the next entry is not the successor of the last one (the
//!   stream was trimmed past this reader during an outage, Redis lost its data, a new
//!   epoch), the node's live subscribers get the hub's `sse-gap` event
//!   ([`BackplaneSink::signal_gap`](sse_core::hub::BackplaneSink::signal_gap)), and a resume
//!   from before the hole gets one too. Never a silent loss, never a duplicate.
//! - **Publishing** is a round-trip on a reconnecting connection: the publishes that arrive
//!   while a script call is in flight go together in the next one (up to 256), so a busy node
//!   pays one round-trip and one script run for many events, and each publish fails with
//!   [`Error::Timeout`] (or the Redis error) within [`RedisConfig::publish_timeout`], queueing
//!   included; a publish whose caller timed out is dropped before it is sent. The publishing
//!   node does not append locally: its subscribers get the event from its reader, in the
//!   stream's order, like every other node's.
//!
//! # When one stream stops being the right choice
//!
//! Every node reads every event of every topic. That is right while each node has
//! subscribers for most topics (broadcasts, dashboards, a few hundred topics). With many
//! topics that each live on few nodes (one per user, say) at a high total rate, the
//! reading cost grows with the total rate on every node; shard by topic then (one backplane,
//! key prefix and hub per shard).
#![cfg_attr(docsrs, feature(doc_cfg))]

mod config;
mod entry;
mod publisher;
mod reader;

use std::error::Error as StdError;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, Script};
use sse_core::hub::{Backplane, BackplaneError, BackplaneSink, EventId, PublishFuture};
use sse_core::{CancellationToken, Event};
use tokio::runtime::Handle;
use tokio::sync::watch;
use tokio::sync::{mpsc, oneshot};

pub use crate::config::RedisConfig;

/// The publish script (see `publish.lua`).
const PUBLISH_SCRIPT: &str = include_str!("publish.lua");

/// A [`Backplane`] over a Redis Stream. Cheap to clone: clones share one connection and one
/// reader. Give one clone to [`Hub::with_backplane`](sse_core::hub::Hub::with_backplane)
/// and keep another for [`status`](Self::status) (health checks, metrics).
///
/// The reader runs until the hub is dropped or shut down, or every clone is dropped.
///
/// See the [crate docs](crate).
#[derive(Clone)]
pub struct RedisBackplane {
    inner: Arc<Inner>,
}

struct Inner {
    config: Arc<RedisConfig>,
    stream_key: String,
    client: Client,
    /// Publishes wait here for the publisher task's next script call (bounded: when Redis
    /// falls behind, publishing waits, within its timeout, rather than buffering).
    publishes: mpsc::Sender<publisher::Pending>,
    status: Arc<Status>,
    runtime: Handle,
    stop: CancellationToken,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// The reader's and publisher's counters, shared with the reader task.
#[derive(Debug)]
struct Status {
    /// Whether the reader follows the stream; a watch so callers can await it.
    connected: watch::Sender<bool>,
    events_read: AtomicU64,
    reconnects: AtomicU64,
    gaps: AtomicU64,
    malformed: AtomicU64,
    publish_failures: AtomicU64,
}

/// A snapshot of a [`RedisBackplane`]'s state, from [`RedisBackplane::status`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BackplaneStatus {
    /// Whether the reader is connected and following the stream. A node that is not should
    /// be drained by its load balancer: its subscribers get no new events meanwhile.
    pub connected: bool,
    /// Entries read from the stream and delivered into the hub.
    pub events_read: u64,
    /// Times the reader got its connection back after losing it.
    pub reconnects: u64,
    /// Gaps signalled to subscribers (events missing from the stream).
    pub gaps: u64,
    /// Entries skipped as malformed (written by something else).
    pub malformed: u64,
    /// Publishes that failed or timed out.
    pub publish_failures: u64,
}

impl RedisBackplane {
    /// Connects the publishing connection and loads the publish script. The reader starts
    /// when a hub attaches the backplane, on the runtime this is called on.
    ///
    /// # Errors
    ///
    /// [`Error::Redis`] if the URL is invalid or Redis can't be reached within the publish
    /// timeout.
    pub async fn connect(config: RedisConfig) -> Result<Self, Error> {
        let client = Client::open(config.url.as_str())?;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.publish_timeout))
            .set_response_timeout(Some(config.publish_timeout))
            .set_min_delay(config.backoff_base)
            .set_max_delay(config.backoff_cap);
        let publisher = tokio::time::timeout(
            config.publish_timeout,
            ConnectionManager::new_with_config(client.clone(), manager_config),
        )
        .await
        .map_err(|_| Error::Timeout(config.publish_timeout))??;
        let script = Script::new(PUBLISH_SCRIPT);
        script
            .prepare_invoke()
            .load_async(&mut publisher.clone())
            .await?;
        let (publishes, queue) = mpsc::channel(publisher::QUEUE_BOUND);
        tokio::spawn(publisher::run(
            queue,
            publisher,
            script,
            [config.meta_key(), config.stream_key()],
            config.replay_capacity,
        ));
        Ok(Self {
            inner: Arc::new(Inner {
                stream_key: config.stream_key(),
                config: Arc::new(config),
                client,
                publishes,
                status: Arc::new(Status {
                    connected: watch::Sender::new(false),
                    events_read: AtomicU64::new(0),
                    reconnects: AtomicU64::new(0),
                    gaps: AtomicU64::new(0),
                    malformed: AtomicU64::new(0),
                    publish_failures: AtomicU64::new(0),
                }),
                runtime: Handle::current(),
                stop: CancellationToken::new(),
            }),
        })
    }

    /// The backplane's configuration.
    pub fn config(&self) -> &RedisConfig {
        &self.inner.config
    }

    /// A snapshot of the connection state and counters.
    pub fn status(&self) -> BackplaneStatus {
        let status = &self.inner.status;
        BackplaneStatus {
            connected: *status.connected.borrow(),
            events_read: status.events_read.load(Ordering::Relaxed),
            reconnects: status.reconnects.load(Ordering::Relaxed),
            gaps: status.gaps.load(Ordering::Relaxed),
            malformed: status.malformed.load(Ordering::Relaxed),
            publish_failures: status.publish_failures.load(Ordering::Relaxed),
        }
    }

    /// Waits until the reader follows the stream: at a node's start, once it has filled the
    /// hub's ring (so a resume from an event published before the start is exact), and after
    /// an outage, once it is back.
    pub async fn wait_connected(&self) {
        let mut connected = self.connection();
        // The sender lives as long as `self`: this can't fail.
        let _ = connected.wait_for(|connected| *connected).await;
    }

    /// Whether the reader follows the stream, as a watch: it changes when the reader loses
    /// Redis and when it is back (for a readiness probe that reacts at once).
    pub fn connection(&self) -> watch::Receiver<bool> {
        self.inner.status.connected.subscribe()
    }

    /// Queues the event for the publisher task's next script call and waits for its id,
    /// at most the publish timeout (queueing included).
    async fn publish_one(&self, topic: String, event: Event) -> Result<EventId, Error> {
        let timeout = self.inner.config.publish_timeout;
        let (reply, id) = oneshot::channel();
        let pending = publisher::Pending {
            topic,
            event: event.into_bytes(),
            reply,
        };
        let stopped = || Error::BadReply("nothing: the publisher stopped");
        tokio::time::timeout(timeout, async {
            self.inner
                .publishes
                .send(pending)
                .await
                .map_err(|_| stopped())?;
            id.await.map_err(|_| stopped())?
        })
        .await
        .map_err(|_| Error::Timeout(timeout))?
    }
}

impl Backplane for RedisBackplane {
    fn attach(&self, sink: BackplaneSink) {
        let inner = &self.inner;
        let reader = reader::Reader {
            config: inner.config.clone(),
            stream_key: inner.stream_key.clone(),
            client: inner.client.clone(),
            sink,
            status: inner.status.clone(),
            stop: inner.stop.clone(),
            last: None,
            read_after: "0-0".to_owned(),
            filled: false,
        };
        inner.runtime.spawn(reader.run());
    }

    fn publish(&self, topic: &str, event: Event) -> PublishFuture<'_> {
        let topic = topic.to_owned();
        PublishFuture::boxed(async move {
            self.publish_one(topic, event).await.map_err(|err| {
                self.inner
                    .status
                    .publish_failures
                    .fetch_add(1, Ordering::Relaxed);
                BackplaneError::new(err)
            })
        })
    }
}

impl fmt::Debug for RedisBackplane {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisBackplane")
            .field("stream", &self.inner.stream_key)
            .field("status", &self.status())
            .finish()
    }
}

/// Why the Redis backplane could not connect or publish.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Redis did not answer within this time (the publish timeout).
    Timeout(Duration),
    /// Redis answered with an error, or the connection failed.
    Redis(redis::RedisError),
    /// Redis answered something the script never returns.
    BadReply(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout(after) => write!(f, "redis did not answer within {after:?}"),
            Self::Redis(err) => write!(f, "redis: {err}"),
            Self::BadReply(what) => write!(f, "redis replied with {what}"),
        }
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Redis(err) => Some(err),
            _ => None,
        }
    }
}

impl From<redis::RedisError> for Error {
    fn from(err: redis::RedisError) -> Self {
        Self::Redis(err)
    }
}
