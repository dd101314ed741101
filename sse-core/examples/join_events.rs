//! A fan-out burst through the path a server's stream takes, for counting its instructions
//! with callgrind: a hub with 1 000 subscriptions, each behind an `SseStream`; every round
//! publishes a burst of 100 B events, then polls each stream once, which joins the events
//! it finds ready into one chunk (as a connection task does when it is woken).
//!
//! ```sh
//! cargo build --release -p sse-core --features hub --example join_events
//! valgrind --tool=callgrind target/release/examples/join_events 200 11
//! ```
//!
//! The arguments are the rounds and the events per burst. 11 is what S2 of `scripts/bench`
//! joins per write: ours on axum and warp made one write call per 10.5–11.2 events delivered
//! (`syscw` of `/proc/<pid>/io`, read before and after `bench_loadgen --scenario S2
//! --connections 1000 --messages 20000 --rate 0`). Divide the count callgrind reports by
//! rounds x bursts x 1 000.

use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use futures_core::Stream;
use futures_util::FutureExt;
use sse_core::hub::{Hub, HubConfig, Subscription};
use sse_core::{Event, SseStream};

const SUBSCRIBERS: usize = 1_000;

fn main() {
    let mut args = std::env::args().skip(1);
    let mut number = |what: &str, default: usize| match args.next().map(|n| n.parse()) {
        None => default,
        Some(Ok(n)) => n,
        Some(Err(err)) => {
            eprintln!("join_events: {what}: {err}");
            std::process::exit(2)
        }
    };
    let rounds = number("the rounds", 200);
    let burst = number("the events per burst", 11);

    let data = format!("{:<100}", r#"{"user":"ada","action":"update","rev":17}"#);
    let hub = Hub::new(HubConfig::new());
    let mut streams: Vec<SseStream<Subscription>> = (0..SUBSCRIBERS)
        .map(|_| SseStream::new(hub.subscribe(["feed"], None)))
        .collect();
    let mut cx = Context::from_waker(Waker::noop());
    let mut bytes = 0;
    for _ in 0..rounds {
        for _ in 0..burst {
            let published = hub.publish("feed", Event::data(&data)).now_or_never();
            assert!(matches!(published, Some(Ok(_))), "publish failed");
        }
        for stream in &mut streams {
            while let Poll::Ready(Some(Ok(chunk))) = Pin::new(&mut *stream).poll_next(&mut cx) {
                bytes += black_box(chunk).len();
            }
        }
    }
    println!("{rounds} rounds of {burst} events to {SUBSCRIBERS} streams: {bytes} bytes");
}
