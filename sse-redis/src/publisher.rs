//! The node's publisher: concurrent publishes are batched into one script call, so a busy
//! node pays one round-trip (and one script run in Redis) for many events rather than one
//! each, and ids are still given in one order by Redis.

use bytes::Bytes;
use redis::aio::ConnectionManager;
use redis::{RedisResult, Script};
use sse_core::hub::EventId;
use tokio::sync::{mpsc, oneshot};

use crate::Error;

/// The most events one script call carries: enough to amortize a round-trip, few enough
/// that one call doesn't hold Redis (single-threaded) for long.
const MAX_BATCH: usize = 256;

/// The most publishes waiting for a script call; beyond it `publish` waits (within its
/// timeout) for room.
pub(crate) const QUEUE_BOUND: usize = 4 * MAX_BATCH;

/// One publish waiting for the next script call.
pub(crate) struct Pending {
    pub(crate) topic: String,
    pub(crate) event: Bytes,
    pub(crate) reply: oneshot::Sender<Result<EventId, Error>>,
}

/// Runs script calls one after the other, each with every publish that queued up meanwhile
/// (at least one), until every sender is gone (the backplane was dropped).
pub(crate) async fn run(
    mut queue: mpsc::Receiver<Pending>,
    mut conn: ConnectionManager,
    script: Script,
    keys: [String; 2],
    capacity: usize,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = queue.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(pending) => batch.push(pending),
                Err(_) => break,
            }
        }
        // A caller that gave up (its timeout passed) was told the event was not published:
        // it must not be published now.
        batch.retain(|pending| !pending.reply.is_closed());
        if batch.is_empty() {
            continue;
        }
        let mut invocation = script.key(&keys[0]);
        invocation.key(&keys[1]).arg(capacity);
        for pending in &batch {
            invocation.arg(&pending.topic).arg(pending.event.as_ref());
        }
        let result: RedisResult<Vec<String>> = invocation.invoke_async(&mut conn).await;
        match result {
            Ok(ids) if ids.len() == batch.len() => {
                for (pending, id) in batch.drain(..).zip(ids) {
                    let id = id
                        .parse()
                        .map_err(|_| Error::BadReply("an id that is not {epoch}-{seq}"));
                    let _ = pending.reply.send(id);
                }
            }
            Ok(_) => answer_all(&mut batch, || Error::BadReply("a different number of ids")),
            Err(err) => answer_all(&mut batch, || Error::Redis(err.clone())),
        }
    }
}

fn answer_all(batch: &mut Vec<Pending>, error: impl Fn() -> Error) {
    for pending in batch.drain(..) {
        let _ = pending.reply.send(Err(error()));
    }
}
