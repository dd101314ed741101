//! Several hubs ("nodes") on one real `redis-server`: the same ids everywhere, resume on any
//! node, explicit gaps when Redis loses events, and what happens while Redis is down.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use sse_core::hub::{EventId, Hub, HubConfig, PublishError, Subscription, GAP_EVENT};
use sse_core::Event;
use sse_redis::{RedisBackplane, RedisConfig};
use sse_testkit::redis::{Proxy, RedisServer};
use sse_testkit::DEADLINE;

/// One node: a hub on the Redis at `url`, its reader following the stream.
async fn node(url: &str, tune: impl FnOnce(RedisConfig) -> RedisConfig) -> (Hub, RedisBackplane) {
    let config = tune(
        RedisConfig::new(url)
            .block(Duration::from_millis(500))
            .reconnect_backoff(Duration::from_millis(20), Duration::from_millis(200)),
    );
    let backplane = RedisBackplane::connect(config).await.expect("connect");
    let hub = Hub::with_backplane(HubConfig::new(), backplane.clone());
    tokio::time::timeout(DEADLINE, backplane.wait_connected())
        .await
        .expect("the reader follows the stream");
    (hub, backplane)
}

/// The next `n` events of `sub`, or a failure after the deadline.
async fn take(sub: &mut Subscription, n: usize) -> Vec<Event> {
    let mut got = Vec::with_capacity(n);
    while got.len() < n {
        let event = tokio::time::timeout(DEADLINE, sub.next())
            .await
            .unwrap_or_else(|_| panic!("only {} of {n} events arrived: {got:?}", got.len()))
            .expect("the subscription ended");
        got.push(event);
    }
    got
}

fn ids(events: &[Event]) -> Vec<EventId> {
    events
        .iter()
        .map(|e| e.id().expect("an id").parse().expect("an EventId"))
        .collect()
}

fn data(event: &Event) -> String {
    let text = std::str::from_utf8(event.as_bytes()).unwrap();
    text.lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_gap(event: &Event) -> bool {
    std::str::from_utf8(event.as_bytes())
        .unwrap()
        .starts_with(&format!("event: {GAP_EVENT}\n"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_node_sees_the_same_ids_in_the_same_order() {
    const PER_NODE: usize = 40;
    let redis = RedisServer::start();
    let mut nodes = Vec::new();
    for _ in 0..3 {
        nodes.push(node(&redis.url(), |c| c).await);
    }
    let mut subs: Vec<Subscription> = nodes
        .iter()
        .flat_map(|(hub, _)| [hub.subscribe(["t"], None), hub.subscribe_all(None)])
        .collect();
    // Three publishers at once, one per node.
    let publishers: Vec<_> = nodes
        .iter()
        .enumerate()
        .map(|(n, (hub, _))| {
            let hub = hub.clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for i in 0..PER_NODE {
                    let event = Event::data(&format!("{n}:{i}"));
                    ids.push(hub.publish("t", event).await.expect("published"));
                }
                ids
            })
        })
        .collect();
    let mut published = Vec::new();
    for publisher in publishers {
        published.extend(publisher.await.unwrap());
    }
    published.sort();

    let mut sequences = Vec::new();
    for sub in &mut subs {
        sequences.push(take(sub, 3 * PER_NODE).await);
    }
    let first = ids(&sequences[0]);
    assert_eq!(first, published, "every publish, once, in id order");
    let epoch = first[0].epoch();
    let seqs: Vec<u64> = first.iter().map(|id| id.seq()).collect();
    assert_eq!(
        seqs,
        (1..=3 * PER_NODE as u64).collect::<Vec<_>>(),
        "contiguous"
    );
    assert!(first.iter().all(|id| id.epoch() == epoch));
    for events in &sequences[1..] {
        assert_eq!(ids(events), first, "the same sequence on every node");
        let bytes: Vec<_> = events.iter().map(|e| e.as_bytes().clone()).collect();
        let first_bytes: Vec<_> = sequences[0].iter().map(|e| e.as_bytes().clone()).collect();
        assert_eq!(bytes, first_bytes, "the same wire bytes on every node");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_resumes_on_another_node_exactly() {
    let redis = RedisServer::start();
    let (a, _) = node(&redis.url(), |c| c).await;
    let (b, _) = node(&redis.url(), |c| c).await;
    let mut on_a = a.subscribe(["news"], None);
    for i in 1..=10 {
        let event = Event::builder()
            .event("update")
            .data(format!("{i}\nsecond line"))
            .build()
            .unwrap();
        a.publish("news", event).await.unwrap();
        a.publish("other", Event::data("not for news"))
            .await
            .unwrap();
    }
    let seen = take(&mut on_a, 5).await;
    let last_seen = seen[4].id().unwrap().to_owned();
    drop(on_a); // the client's connection to A drops ...

    // ... and it reconnects to B with its Last-Event-ID: exactly what it missed, in order,
    // then live events.
    let mut on_b = b.subscribe(["news"], Some(&last_seen));
    let missed = take(&mut on_b, 5).await;
    assert!(!missed.iter().any(is_gap));
    let texts: Vec<String> = missed.iter().map(data).collect();
    assert_eq!(
        texts,
        (6..=10)
            .map(|i| format!("{i}\nsecond line"))
            .collect::<Vec<_>>()
    );
    assert!(missed[0].as_bytes().starts_with(b"event: update\n"));
    let live = a.publish("news", Event::data("live")).await.unwrap();
    let next = take(&mut on_b, 1).await;
    assert_eq!(next[0].id(), Some(live.to_string().as_str()));

    // A node started after all of it fills its ring from the stream and replays too.
    let (c, _) = node(&redis.url(), |c| c).await;
    let mut on_c = c.subscribe(["news"], Some(&last_seen));
    let replayed = take(&mut on_c, 6).await;
    assert!(!replayed.iter().any(is_gap));
    assert_eq!(ids(&replayed), ids(&[missed, next].concat()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_redis_is_down_publishing_fails_in_time_and_an_empty_restart_is_a_gap() {
    let mut redis = RedisServer::start();
    let timeout = Duration::from_millis(300);
    let (hub, backplane) = node(&redis.url(), |c| c.publish_timeout(timeout)).await;
    let mut live = hub.subscribe(["t"], None);
    let before = hub.publish("t", Event::data("before")).await.unwrap();
    assert_eq!(
        take(&mut live, 1).await[0].id(),
        Some(before.to_string().as_str())
    );

    redis.kill();
    let started = Instant::now();
    let err = hub.publish("t", Event::data("lost")).await.unwrap_err();
    // Bounded by the publish timeout (plus scheduling slack), not by reconnect retries.
    assert!(
        started.elapsed() < timeout + Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let PublishError::Backplane(err) = err else {
        panic!("expected a backplane error, got {err:?}")
    };
    assert!(
        err.get_ref().downcast_ref::<sse_redis::Error>().is_some(),
        "{err:?}"
    );
    assert!(backplane.status().publish_failures >= 1);

    // Redis comes back empty (no persistence): a new epoch. The live subscriber is told.
    redis.restart(false);
    tokio::time::timeout(DEADLINE, backplane.wait_connected())
        .await
        .unwrap();
    let after = loop {
        // The publishing connection reconnects on its own, after its backoff.
        match hub.publish("t", Event::data("after")).await {
            Ok(id) => break id,
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    assert_ne!(after.epoch(), before.epoch(), "a new epoch");
    let got = take(&mut live, 2).await;
    assert!(is_gap(&got[0]), "{got:?}");
    assert_eq!(data(&got[0]), before.to_string());
    assert_eq!(got[1].id(), Some(after.to_string().as_str()));
    assert!(backplane.status().gaps >= 1);
    assert!(backplane.status().reconnects >= 1);

    // A client resuming from the old epoch gets the gap first, then the new events.
    let mut resumed = hub.subscribe(["t"], Some(&before.to_string()));
    let got = take(&mut resumed, 2).await;
    assert!(is_gap(&got[0]));
    assert_eq!(got[1].id(), Some(after.to_string().as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_that_keeps_its_data_is_no_gap_and_no_duplicate() {
    let mut redis = RedisServer::start_with(true);
    let (hub, backplane) = node(&redis.url(), |c| c).await;
    let mut live = hub.subscribe(["t"], None);
    let mut published = Vec::new();
    for i in 0..3 {
        published.push(hub.publish("t", Event::data(&i.to_string())).await.unwrap());
    }
    take(&mut live, 3).await;
    redis.restart(true);
    tokio::time::timeout(DEADLINE, backplane.wait_connected())
        .await
        .unwrap();
    for i in 3..6 {
        let id = loop {
            match hub.publish("t", Event::data(&i.to_string())).await {
                Ok(id) => break id,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        published.push(id);
    }
    let got = take(&mut live, 3).await;
    assert!(!got.iter().any(is_gap), "{got:?}");
    assert_eq!(ids(&got), published[3..]);
    assert_eq!(published[5].seq(), 6, "the counter survived the restart");
    assert_eq!(backplane.status().gaps, 0);
    let mut resumed = hub.subscribe(["t"], Some(&published[1].to_string()));
    assert_eq!(ids(&take(&mut resumed, 4).await), published[2..]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_fell_behind_the_trim_signals_a_gap() {
    let redis = RedisServer::start();
    let proxy = Proxy::start(redis.port).await;
    let (a, _) = node(&redis.url(), |c| c.replay_capacity(5)).await;
    let (b, b_backplane) = node(&proxy.url(), |c| c.replay_capacity(5)).await;
    let mut on_b = b.subscribe(["t"], None);
    let first = a.publish("t", Event::data("0")).await.unwrap();
    assert_eq!(ids(&take(&mut on_b, 1).await), [first]);

    // B loses Redis while A publishes more than the stream keeps.
    proxy.cut();
    let mut published = Vec::new();
    for i in 1..=20 {
        published.push(a.publish("t", Event::data(&i.to_string())).await.unwrap());
    }
    proxy.restore();
    let got = take(&mut on_b, 6).await;
    assert!(is_gap(&got[0]), "{got:?}");
    // The gap says where the stream resumes (just before the oldest entry still held) ...
    assert_eq!(got[0].id(), Some(published[14].to_string().as_str()));
    assert_eq!(data(&got[0]), first.to_string());
    // ... and what is still held follows, exactly.
    assert_eq!(ids(&got[1..]), published[15..]);
    assert_eq!(b_backplane.status().gaps, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_entries_are_skipped_and_counted() {
    let redis = RedisServer::start();
    let (hub, backplane) = node(&redis.url(), |c| c).await;
    let mut live = hub.subscribe(["t"], None);
    let first = hub.publish("t", Event::data("ours")).await.unwrap();
    // Something else writes to the stream: an entry with no event, then one whose event is
    // two events.
    let mut conn = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let foreign: [&[&str]; 2] = [
        &["foo", "bar"],
        &["topic", "t", "event", "data: a\n\ndata: injected\n\n"],
    ];
    for fields in foreign {
        let _: String = redis::cmd("XADD")
            .arg("sse:events")
            .arg("*")
            .arg(fields)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
    let second = hub.publish("t", Event::data("ours again")).await.unwrap();
    let got = take(&mut live, 2).await;
    assert_eq!(got[0].id(), Some(first.to_string().as_str()));
    // The foreign ids are later than ours: the script went on in a new epoch after them,
    // which subscribers are told about, and the reader survived.
    let rest = [got[1..].to_vec(), take(&mut live, 1).await].concat();
    assert!(is_gap(&rest[0]), "{rest:?}");
    assert_eq!(rest[1].id(), Some(second.to_string().as_str()));
    assert_eq!(data(&rest[1]), "ours again");
    assert_eq!(backplane.status().malformed, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_publishes_share_script_calls_and_get_contiguous_ids() {
    const PUBLISHES: u64 = 300;
    let redis = RedisServer::start();
    let (hub, _) = node(&redis.url(), |c| c).await;
    let mut conn = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query_async(&mut conn)
        .await
        .unwrap();
    let publishes: Vec<_> = (0..PUBLISHES)
        .map(|i| {
            let hub = hub.clone();
            tokio::spawn(async move { hub.publish("t", Event::data(&i.to_string())).await })
        })
        .collect();
    let mut ids = Vec::new();
    for publish in publishes {
        ids.push(publish.await.unwrap().expect("published"));
    }
    ids.sort();
    let seqs: Vec<u64> = ids.iter().map(EventId::seq).collect();
    assert_eq!(seqs, (1..=PUBLISHES).collect::<Vec<_>>());
    // They did not wait for each other's round-trips: many went in one script call.
    let stats: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut conn)
        .await
        .unwrap();
    let calls: u64 = stats
        .lines()
        .find_map(|line| line.strip_prefix("cmdstat_evalsha:calls="))
        .and_then(|rest| rest.split(',').next()?.parse().ok())
        .expect("evalsha was called");
    assert!(
        calls < PUBLISHES / 2,
        "{calls} script calls for {PUBLISHES} publishes"
    );
}
