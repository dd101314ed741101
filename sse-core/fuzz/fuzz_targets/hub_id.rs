//! Any `Last-Event-ID` against a hub: no panic, the id parser takes digits only and reads back what it prints,
//! and a subscriber gets exactly the events after a held id, or a gap event first and
//! then an in-order tail of what was published, never a wrong or repeated event.
#![no_main]

use futures_util::{FutureExt, StreamExt};
use libfuzzer_sys::fuzz_target;
use sse_core::{
    hub::{EventId, Hub, HubConfig},
    Event,
};

fuzz_target!(|input: (u8, u8, u8, String)| {
    let (capacity, published, pick, last_id) = input;
    let capacity = usize::from(capacity % 16) + 1;
    let published = usize::from(published % 32);

    if let Ok(id) = last_id.parse::<EventId>() {
        // Digits only (leading zeros allowed), so the printed form parses back the same.
        assert!(last_id.bytes().all(|b| b.is_ascii_digit() || b == b'-'));
        assert_eq!(id.to_string().parse::<EventId>(), Ok(id));
    }

    let hub = Hub::new(HubConfig::new().replay_capacity(capacity));
    let ids: Vec<EventId> = (0..published)
        .map(|n| {
            hub.publish("t", Event::data(&n.to_string()))
                .now_or_never()
                .expect("the in-memory hub publishes at once")
                .expect("the hub is open")
        })
        .collect();

    // Half the runs resume from an id that was published, the others from the fuzzer's text.
    let last_id = match (pick % 2, ids.is_empty()) {
        (0, false) => ids[usize::from(pick) % ids.len()].to_string(),
        _ => last_id,
    };
    let mut subscription = hub.subscribe_all(Some(&last_id));
    let had_gap = subscription.had_gap();
    let mut received = Vec::new();
    while let Some(Some(event)) = subscription.next().now_or_never() {
        received.push(event.id().map(str::to_owned));
    }
    if had_gap {
        assert!(!received.is_empty(), "a gap is announced by an event");
        received.remove(0);
    }
    let received: Vec<String> = received
        .into_iter()
        .map(|id| id.expect("every hub event has an id"))
        .collect();
    let all: Vec<String> = ids.iter().map(ToString::to_string).collect();

    match all.iter().position(|id| *id == last_id) {
        // An empty Last-Event-ID is no Last-Event-ID: live events only.
        _ if last_id.is_empty() => {
            assert!(!had_gap && received.is_empty(), "{received:?}");
        }
        // A held id, or one whose successor is still held: exactly the events after it.
        Some(index) if published - index <= capacity + 1 => {
            assert!(!had_gap, "{last_id} is held");
            assert_eq!(received, all[index + 1..]);
        }
        // Anything else: a gap, then a contiguous, in-order tail of what was published.
        _ => {
            assert!(had_gap, "{last_id} is unknown or no longer held");
            assert!(
                all.ends_with(&received),
                "{received:?} is not a tail of {all:?}"
            );
        }
    }
});
