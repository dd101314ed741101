//! The event store behind every test server: a history for replay and a broadcast for live
//! events, so that each server only puts events on the wire its own way.

use std::pin::Pin;
use std::sync::{Arc, Mutex};

use futures_util::stream::{self, Stream, StreamExt};
use tokio::sync::broadcast;

/// A published event; ids count from 1.
#[derive(Clone, Debug)]
pub(crate) struct Published {
    pub(crate) id: u64,
    pub(crate) event: String,
    pub(crate) data: String,
}

/// A subscription; `Sync` because warp's body needs it.
pub(crate) type Subscription = Pin<Box<dyn Stream<Item = Published> + Send + Sync>>;

/// History and fan-out.
#[derive(Debug)]
pub(crate) struct Feed {
    history: Mutex<Vec<Published>>,
    live: broadcast::Sender<Published>,
}

impl Feed {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            history: Mutex::new(Vec::new()),
            live: broadcast::channel(1024).0,
        })
    }

    /// Publishes `{"event", "data"}` (strings); the new id, or `None` for a body that is not
    /// such JSON.
    pub(crate) fn publish_json(&self, body: &[u8]) -> Option<u64> {
        let json: serde_json::Value = serde_json::from_slice(body).ok()?;
        let text = |name: &str| {
            json.get(name)
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_owned()
        };
        let data = json.get("data")?.as_str()?.to_owned();
        let mut history = self.history.lock().unwrap();
        let event = Published {
            id: history.len() as u64 + 1,
            event: text("event"),
            data,
        };
        history.push(event.clone());
        let _ = self.live.send(event.clone());
        Some(event.id)
    }

    /// The events after id `after` (none without one), then live events; the seam is exact
    /// because the history is read and the live receiver made under one lock.
    pub(crate) fn subscribe(&self, after: Option<u64>) -> Subscription {
        let history = self.history.lock().unwrap();
        let from = after.map_or(history.len(), |id| {
            usize::try_from(id).unwrap_or(usize::MAX)
        });
        let replay: Vec<Published> = history.get(from..).unwrap_or_default().to_vec();
        let live = stream::unfold(self.live.subscribe(), |mut live| async move {
            loop {
                match live.recv().await {
                    Ok(event) => return Some((event, live)),
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        });
        Box::pin(stream::iter(replay).chain(live))
    }
}

/// The id a reconnecting client sent: the `Last-Event-ID` header, else (when `query` is
/// given) the `lastEventId` query parameter.
pub(crate) fn last_event_id(header: Option<&[u8]>, query: Option<&str>) -> Option<u64> {
    let from_query = query.and_then(|q| {
        q.split('&')
            .find_map(|pair| pair.strip_prefix("lastEventId="))
    });
    let id = match header {
        Some(value) => std::str::from_utf8(value).ok()?,
        None => from_query?,
    };
    id.trim().parse().ok()
}
