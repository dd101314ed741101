//! A subscriber that never reads while 100 MB of events are published: the hub's memory
//! stays within its ring limits, the others get everything, the slow one is ended and
//! counted.
#![cfg(feature = "hub")]

use futures_core::Stream;
use futures_util::{FutureExt, StreamExt};
use sse_core::hub::{Hub, HubConfig, Subscription};
use sse_core::Event;

const RING_BYTES: usize = 1 << 20;
const EVENT_DATA: usize = 64 << 10;
const EVENTS: usize = 1_600; // 1 600 x 64 KiB = 100 MiB

fn read_ready(sub: &mut Subscription) -> Vec<Event> {
    let mut out = Vec::new();
    while let Some(Some(event)) = sub.next().now_or_never() {
        out.push(event);
    }
    out
}

#[test]
fn a_subscriber_that_never_reads_is_ended_and_memory_stays_bounded() {
    let hub = Hub::new(
        HubConfig::new()
            .replay_capacity(100_000)
            .replay_bytes(RING_BYTES)
            .queue_bound(64),
    );
    let mut slow = hub.subscribe(["feed"], None);
    let mut fast: Vec<Subscription> = (0..3).map(|_| hub.subscribe(["feed"], None)).collect();
    let mut everything = hub.subscribe_all(None);
    let mut other = hub.subscribe(["other"], None);
    let mut received = vec![0usize; fast.len() + 1];

    let payload = "x".repeat(EVENT_DATA);
    let mut published_bytes = 0;
    let mut max_ring_bytes = 0;
    for i in 0..EVENTS {
        let id = hub
            .publish("feed", Event::data(&payload))
            .now_or_never()
            .unwrap()
            .unwrap();
        published_bytes += EVENT_DATA;
        let stats = hub.stats();
        max_ring_bytes = max_ring_bytes.max(stats.ring_bytes);
        assert!(
            stats.ring_bytes <= RING_BYTES,
            "ring over its byte limit: {stats:?}"
        );
        let side_event = i % 100 == 0;
        if side_event {
            hub.publish("other", Event::data("small"))
                .now_or_never()
                .unwrap()
                .unwrap();
            assert_eq!(read_ready(&mut other).len(), 1);
        }
        for (n, sub) in fast.iter_mut().chain([&mut everything]).enumerate() {
            let got = read_ready(sub);
            let all_topics = n == 3;
            let expected = if all_topics && side_event { 2 } else { 1 };
            assert_eq!(got.len(), expected, "subscriber {n} at event {i}");
            assert_eq!(got[0].id(), Some(id.to_string().as_str()));
            received[n] += 1;
        }
    }
    assert!(published_bytes >= 100 << 20);
    assert!(max_ring_bytes > RING_BYTES / 2, "the ring was used");
    assert_eq!(received, [EVENTS; 4]);

    let stats = hub.stats();
    assert_eq!(stats.dropped_slow, 1, "{stats:?}");
    // The slow subscriber holds nothing: it was never handed an event.
    assert_eq!(slow.size_hint().0, 0);
    // Four readers of every feed event; the side events went to two.
    assert_eq!(stats.delivered, (EVENTS * 4 + 2 * EVENTS / 100) as u64);
    // When its connection finally polls, it ends at once, so its client reconnects.
    assert!(read_ready(&mut slow).is_empty());
    assert_eq!(slow.next().now_or_never(), Some(None));
    assert_eq!(hub.stats().active_subscribers, 5);
}
