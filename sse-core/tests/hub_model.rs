//! Model-based tests of the hub: random publish / subscribe / disconnect / reconnect /
//! poll sequences across topics, checked against what each client must have seen. Each
//! client also reads through a twin subscription's batches, which must put the same bytes
//! on the wire.
#![cfg(feature = "hub")]

use futures_util::{FutureExt, StreamExt};
use proptest::prelude::*;
use sse_core::hub::{Batches, EventId, Hub, HubConfig, Subscription, GAP_EVENT};
use sse_core::Event;

const TOPICS: [&str; 3] = ["t0", "t1", "t2"];
const CLIENTS: usize = 4;

#[derive(Clone, Debug)]
enum Op {
    Publish(usize),
    Connect(usize),
    Disconnect(usize),
    Poll(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..TOPICS.len()).prop_map(Op::Publish),
        2 => (0..CLIENTS).prop_map(Op::Connect),
        1 => (0..CLIENTS).prop_map(Op::Disconnect),
        3 => (0..CLIENTS).prop_map(Op::Poll),
    ]
}

fn client_topics() -> impl Strategy<Value = Vec<Vec<usize>>> {
    prop::collection::vec(
        prop::sample::subsequence((0..TOPICS.len()).collect::<Vec<_>>(), 0..=2),
        CLIENTS,
    )
}

#[derive(Debug, PartialEq)]
enum Seen {
    Gap,
    Event(EventId),
}

#[derive(Default)]
struct Client {
    topics: Vec<usize>,
    sub: Option<Subscription>,
    /// Subscribed and dropped with `sub`, read as batches.
    twin: Option<Batches>,
    /// The bytes `sub` yielded, and those `twin` yielded.
    wire: Vec<u8>,
    twin_wire: Vec<u8>,
    /// Index into the published list from which this client must see events.
    from: Option<usize>,
    last_id: Option<String>,
    seen: Vec<Seen>,
}

impl Client {
    fn wants(&self, topic: usize) -> bool {
        self.topics.is_empty() || self.topics.contains(&topic)
    }

    fn connect(&mut self, hub: &Hub, published: usize) {
        if self.sub.is_some() {
            return;
        }
        if self.last_id.is_none() {
            // A client that never got an event has nothing to resume from: it starts fresh.
            self.from = Some(published);
        }
        let topics = self.topics.iter().map(|&t| TOPICS[t]);
        self.sub = Some(hub.subscribe(topics.clone(), self.last_id.as_deref()));
        self.twin = Some(hub.subscribe(topics, self.last_id.as_deref()).batches());
    }

    fn disconnect(&mut self) {
        self.sub = None;
        self.twin = None;
    }

    /// Reads the twin as far as it goes: it must end when `sub` did, with the same bytes.
    fn poll_twin(&mut self) {
        let Some(twin) = self.twin.as_mut() else {
            return;
        };
        loop {
            match twin.next().now_or_never() {
                Some(Some(batch)) => self.twin_wire.extend_from_slice(batch.as_bytes()),
                Some(None) => {
                    self.twin = None;
                    break;
                }
                None => break,
            }
        }
        assert_eq!(self.twin.is_none(), self.sub.is_none(), "twin ended apart");
        assert_eq!(
            String::from_utf8_lossy(&self.twin_wire),
            String::from_utf8_lossy(&self.wire)
        );
    }

    fn poll(&mut self) {
        self.poll_sub();
        self.poll_twin();
    }

    fn poll_sub(&mut self) {
        let Some(sub) = self.sub.as_mut() else {
            return;
        };
        loop {
            match sub.next().now_or_never() {
                Some(Some(event)) => {
                    self.wire.extend_from_slice(event.as_bytes());
                    let id = event.id().expect("hub events carry an id").to_owned();
                    if event
                        .as_bytes()
                        .starts_with(format!("event: {GAP_EVENT}\n").as_bytes())
                    {
                        self.seen.push(Seen::Gap);
                    } else {
                        self.seen.push(Seen::Event(id.parse().unwrap()));
                    }
                    self.last_id = Some(id);
                }
                Some(None) => {
                    self.sub = None;
                    return;
                }
                None => return,
            }
        }
    }
}

struct World {
    hub: Hub,
    published: Vec<(EventId, usize)>,
    clients: Vec<Client>,
}

fn run(config: HubConfig, topics: Vec<Vec<usize>>, ops: &[Op]) -> World {
    let hub = Hub::new(config);
    let mut world = World {
        hub,
        published: Vec::new(),
        clients: topics
            .into_iter()
            .map(|topics| Client {
                topics,
                ..Client::default()
            })
            .collect(),
    };
    for op in ops {
        match *op {
            Op::Publish(topic) => {
                let id = world
                    .hub
                    .publish(TOPICS[topic], Event::data(&format!("{topic}")))
                    .now_or_never()
                    .unwrap()
                    .unwrap();
                world.published.push((id, topic));
            }
            Op::Connect(c) => world.clients[c].connect(&world.hub, world.published.len()),
            Op::Disconnect(c) => world.clients[c].disconnect(),
            Op::Poll(c) => world.clients[c].poll(),
        }
    }
    // Every client comes back (with its Last-Event-ID) and reads what is left.
    for client in &mut world.clients {
        if client.from.is_some() {
            client.poll();
            client.connect(&world.hub, world.published.len());
            client.poll();
        }
    }
    world
}

fn expected(world: &World, client: &Client) -> Vec<EventId> {
    let Some(from) = client.from else {
        return Vec::new();
    };
    world.published[from..]
        .iter()
        .filter(|(_, topic)| client.wants(*topic))
        .map(|(id, _)| *id)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Within the replay window (a ring and queue larger than the whole run), every
    /// client sees each event of its topics exactly once, in order, across reconnects.
    #[test]
    fn within_the_window_every_event_is_seen_exactly_once_in_order(
        topics in client_topics(),
        ops in prop::collection::vec(op(), 1..150),
    ) {
        let config = HubConfig::new().replay_capacity(1000).queue_bound(1000);
        let world = run(config, topics, &ops);
        for client in &world.clients {
            let seen: Vec<EventId> = client
                .seen
                .iter()
                .map(|s| match s {
                    Seen::Event(id) => *id,
                    Seen::Gap => panic!("a gap inside the replay window"),
                })
                .collect();
            prop_assert_eq!(seen, expected(&world, client));
        }
        let stats = world.hub.stats();
        prop_assert_eq!(stats.dropped_slow, 0);
        prop_assert_eq!(stats.gaps, 0);
    }

    /// With a tiny ring and queue, clients get ended and miss events, but never silently:
    /// what they see is in order without repeats, and every missed event of their topics
    /// lies behind a gap event.
    #[test]
    fn outside_the_window_no_event_is_missed_silently(
        topics in client_topics(),
        ops in prop::collection::vec(op(), 1..150),
        capacity in 1usize..6,
        bound in 1usize..4,
    ) {
        let config = HubConfig::new().replay_capacity(capacity).queue_bound(bound);
        let world = run(config, topics, &ops);
        for client in &world.clients {
            let ids: Vec<EventId> = client
                .seen
                .iter()
                .filter_map(|s| match s {
                    Seen::Event(id) => Some(*id),
                    Seen::Gap => None,
                })
                .collect();
            prop_assert!(ids.windows(2).all(|w| w[0] < w[1]), "order or repeat: {:?}", ids);
            for missed in expected(&world, client).into_iter().filter(|id| !ids.contains(id)) {
                // Between the last event seen before `missed` and the first after it, there
                // must be a gap event.
                let after = client
                    .seen
                    .iter()
                    .position(|s| matches!(s, Seen::Event(id) if *id > missed))
                    .unwrap_or(client.seen.len());
                let before = client.seen[..after]
                    .iter()
                    .rposition(|s| matches!(s, Seen::Event(id) if *id < missed))
                    .map_or(0, |p| p + 1);
                prop_assert!(
                    client.seen[before..after].contains(&Seen::Gap),
                    "{:?} missed silently; saw {:?}",
                    missed,
                    client.seen
                );
            }
        }
    }
}
