//! Fan-out cost per delivered event: the hub against what users write today, in the same
//! run, at 1, 100 and 10 000 in-process subscribers.
//!
//! - `hub`: `Hub::publish` (the event encoded once, the id stamped once), then every
//!   subscription polled until it is pending; each delivery is a clone of the same bytes.
//! - `broadcast_axum_event`: `tokio::sync::broadcast` of a `String`; every receiver builds
//!   axum's `sse::Event` from it (so each subscriber encodes the event again).
//! - `broadcast_string`: the same broadcast with the receiver only taking the `String`, for
//!   reference.
//!
//! Each iteration publishes `BATCH` events and drains every subscriber; throughput is in
//! delivered events (`BATCH` x subscribers).
//!
//! `publish_parked`: one `Hub::publish` to subscribers that are all parked at the head, timed
//! alone (the drains that park them again are not timed). With a no-op waker, waking costs
//! nothing, so this is the time the hub's lock is held per publish in a fan-out burst.
//!
//! `cargo bench -p sse-core --features hub --bench hub` (`-- publish_parked` for the lock alone)

use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use futures_core::Stream;
use futures_util::FutureExt;
use sse_core::hub::{Hub, HubConfig, Subscription};
use sse_core::Event;
use tokio::sync::broadcast;

const BATCH: usize = 16;

/// 100 bytes of JSON.
fn payload() -> String {
    let json = r#"{"user":"ada","action":"update","resource":"doc/42","rev":17,"ok":true,"tags":["a","b"],"n":123}"#;
    format!("{json:<100}")
}

/// A hub with `n` subscribers of the topic `feed`.
fn hub_with_subscribers(n: usize) -> (Hub, Vec<Subscription>) {
    let hub = Hub::new(HubConfig::new());
    let subs = (0..n).map(|_| hub.subscribe(["feed"], None)).collect();
    (hub, subs)
}

fn drain_hub(subs: &mut [Subscription], cx: &mut Context<'_>) -> usize {
    let mut bytes = 0;
    for sub in subs {
        while let Poll::Ready(Some(event)) = Pin::new(&mut *sub).poll_next(cx) {
            bytes += black_box(event).len();
        }
    }
    bytes
}

fn fan_out(c: &mut Criterion) {
    let data = payload();
    let mut group = c.benchmark_group("fan_out");
    for subscribers in [1usize, 100, 10_000] {
        group.throughput(Throughput::Elements((BATCH * subscribers) as u64));
        if subscribers >= 10_000 {
            group.sample_size(20);
        } else {
            group.sample_size(100);
        }

        group.bench_with_input(
            BenchmarkId::new("hub", subscribers),
            &subscribers,
            |b, &n| {
                let (hub, mut subs) = hub_with_subscribers(n);
                let mut cx = Context::from_waker(Waker::noop());
                drain_hub(&mut subs, &mut cx);
                b.iter(|| {
                    for _ in 0..BATCH {
                        hub.publish("feed", Event::data(&data))
                            .now_or_never()
                            .unwrap()
                            .unwrap();
                    }
                    drain_hub(&mut subs, &mut cx)
                });
                assert_eq!(hub.stats().dropped_slow, 0);
            },
        );

        group.bench_with_input(
            BenchmarkId::new("broadcast_axum_event", subscribers),
            &subscribers,
            |b, &n| {
                let (tx, _) = broadcast::channel::<String>(BATCH);
                let mut rxs: Vec<_> = (0..n).map(|_| tx.subscribe()).collect();
                b.iter(|| {
                    for _ in 0..BATCH {
                        tx.send(data.clone()).unwrap();
                    }
                    let mut events = 0;
                    for rx in &mut rxs {
                        while let Ok(text) = rx.try_recv() {
                            let event = axum::response::sse::Event::default().data(text);
                            let _ = black_box(event);
                            events += 1;
                        }
                    }
                    events
                });
            },
        );

        group.bench_with_input(
            BenchmarkId::new("broadcast_string", subscribers),
            &subscribers,
            |b, &n| {
                let (tx, _) = broadcast::channel::<String>(BATCH);
                let mut rxs: Vec<_> = (0..n).map(|_| tx.subscribe()).collect();
                b.iter(|| {
                    for _ in 0..BATCH {
                        tx.send(data.clone()).unwrap();
                    }
                    let mut bytes = 0;
                    for rx in &mut rxs {
                        while let Ok(text) = rx.try_recv() {
                            bytes += black_box(text).len();
                        }
                    }
                    bytes
                });
            },
        );
    }
    group.finish();
}

fn publish_parked(c: &mut Criterion) {
    let data = payload();
    let mut group = c.benchmark_group("publish_parked");
    // Only the publish is timed: the untimed drains make each sample ~10x longer in wall time.
    group
        .sample_size(20)
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(2));
    for subscribers in [1usize, 100, 10_000] {
        group.bench_with_input(
            BenchmarkId::from_parameter(subscribers),
            &subscribers,
            |b, &n| {
                let (hub, mut subs) = hub_with_subscribers(n);
                let mut cx = Context::from_waker(Waker::noop());
                b.iter_custom(|iters| {
                    let mut took = std::time::Duration::ZERO;
                    for _ in 0..iters {
                        drain_hub(&mut subs, &mut cx);
                        let event = Event::data(&data);
                        let start = std::time::Instant::now();
                        let published = hub.publish("feed", event).now_or_never();
                        took += start.elapsed();
                        black_box(published);
                    }
                    took
                });
                assert_eq!(hub.stats().dropped_slow, 0);
            },
        );
    }
    group.finish();
}

criterion_group!(benches, fan_out, publish_parked);
criterion_main!(benches);
