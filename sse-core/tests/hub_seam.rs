//! The replay/live seam under concurrency: publishers on several threads while subscribers
//! join and rejoin with Last-Event-IDs. Every subscriber must see consecutive ids: nothing
//! lost and nothing doubled where replay meets live events.
#![cfg(feature = "hub")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use sse_core::hub::{EventId, Hub, HubConfig};
use sse_core::Event;

const PUBLISHERS: u64 = 4;
const PER_PUBLISHER: u64 = 2_000;
const TOTAL: u64 = PUBLISHERS * PER_PUBLISHER;

/// Reads until the id with sequence `TOTAL` (or the hub's shutdown), resubscribing with its
/// Last-Event-ID every `hop` events; checks that the sequence numbers are consecutive.
async fn follow(hub: Hub, topics: Vec<&'static str>, mut last: Option<EventId>, hop: usize) {
    let mut expect = last.map_or(0, |id| id.seq() + 1);
    loop {
        let mut sub = hub.subscribe(topics.clone(), last.map(|id| id.to_string()).as_deref());
        assert!(!sub.had_gap(), "resume from {last:?} reported a gap");
        for _ in 0..hop {
            let Some(event) = sub.next().await else {
                assert!(hub.is_shut_down(), "stream ended early");
                return;
            };
            let id: EventId = event.id().unwrap().parse().unwrap();
            if expect == 0 {
                // A subscriber without an id starts wherever the live stream is.
                expect = id.seq();
            }
            assert_eq!(id.seq(), expect, "lost or doubled event at a seam");
            expect += 1;
            last = Some(id);
            if id.seq() == TOTAL {
                return;
            }
        }
        drop(sub);
        tokio::task::yield_now().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn resuming_while_publishing_loses_and_doubles_nothing() {
    let hub = Hub::new(
        HubConfig::new()
            .replay_capacity(TOTAL as usize)
            .replay_bytes(usize::MAX)
            .queue_bound(TOTAL as usize),
    );
    let newest: Arc<Mutex<Option<EventId>>> = Arc::default();

    let mut readers = Vec::new();
    let mut fresh_readers = Vec::new();
    // From the start, hopping between subscriptions at various rates.
    for (i, hop) in [1usize, 3, 17, 250].into_iter().enumerate() {
        let topics = if i % 2 == 0 { vec!["t"] } else { vec![] };
        readers.push(tokio::spawn(follow(
            hub.clone(),
            topics,
            Some(EventId::new(hub.epoch(), 0)),
            hop,
        )));
    }

    let publishers: Vec<_> = (0..PUBLISHERS)
        .map(|p| {
            let hub = hub.clone();
            let newest = newest.clone();
            tokio::spawn(async move {
                for i in 0..PER_PUBLISHER {
                    let id = hub
                        .publish("t", Event::data(&format!("{p}:{i}")))
                        .await
                        .unwrap();
                    *newest.lock().unwrap() = Some(id);
                    if i % 7 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            })
        })
        .collect();

    // Late joiners, with the newest id seen so far or with none, while publishing goes on.
    for i in 0..40 {
        tokio::task::yield_now().await;
        let last = if i % 4 == 0 {
            None
        } else {
            *newest.lock().unwrap()
        };
        let reader = tokio::spawn(follow(hub.clone(), vec!["t"], last, 5 + i));
        if last.is_some() {
            readers.push(reader);
        } else {
            // It may join after the last event, so it is ended by the shutdown below.
            fresh_readers.push(reader);
        }
    }

    let all = async {
        for publisher in publishers {
            publisher.await.unwrap();
        }
        for reader in readers {
            reader.await.unwrap();
        }
        hub.shutdown();
        for reader in fresh_readers {
            reader.await.unwrap();
        }
    };
    tokio::time::timeout(Duration::from_secs(120), all)
        .await
        .expect("timed out: a subscriber was never woken");

    let stats = hub.stats();
    assert_eq!(stats.published, TOTAL);
    assert_eq!(stats.dropped_slow, 0);
    assert!(stats.replayed > 0);
    assert_eq!(stats.gaps, 0);
    assert_eq!(stats.active_subscribers, 0);
}
