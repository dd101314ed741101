//! A subscription served as a response body: through `SseStream`, the events a woken
//! subscriber drained are written as one chunk, and the body is what axum accepts.
#![cfg(feature = "hub")]

use futures_util::{FutureExt, StreamExt};
use sse_core::hub::{Hub, HubConfig};
use sse_core::{Event, SseStream};

/// Publishes three events to topic `a` and returns the bytes they must make on the wire.
fn publish_three(hub: &Hub) -> String {
    (0..3)
        .map(|i| {
            let id = hub
                .publish("a", Event::data(&i.to_string()))
                .now_or_never()
                .unwrap()
                .unwrap();
            format!("id: {id}\ndata: {i}\n\n")
        })
        .collect()
}

#[tokio::test]
async fn pending_events_are_written_as_one_chunk() {
    let hub = Hub::new(HubConfig::new());
    let mut body = Box::pin(SseStream::new(hub.subscribe(["a"], None)));
    assert!(body.next().now_or_never().is_none());
    let expected = publish_three(&hub);
    let chunk = body.next().await.unwrap().unwrap();
    assert_eq!(chunk, expected.as_bytes());
}

#[tokio::test]
async fn batches_are_written_as_they_come() {
    let hub = Hub::new(HubConfig::new());
    let mut body = Box::pin(SseStream::new(hub.subscribe(["a"], None).batches()));
    assert!(body.next().now_or_never().is_none());
    let expected = publish_three(&hub);
    let chunk = body.next().await.unwrap().unwrap();
    assert_eq!(chunk, expected.as_bytes());
    assert!(body.next().now_or_never().is_none());
}

#[test]
fn a_subscription_body_is_an_axum_body() {
    let hub = Hub::new(HubConfig::new());
    let body = axum::body::Body::from_stream(SseStream::new(hub.subscribe_all(None)));
    drop(body);
    let body = axum::body::Body::from_stream(SseStream::new(hub.subscribe_all(None).batches()));
    drop(body);
}

/// The bytes an SSE stream over a hub subscription holds inline, which every open
/// connection pays: the shutdown state lives on the heap only when used, and the keep-alive
/// timer has no per-stream timer entry (a shared ticker wakes it). The bound keeps
/// per-connection memory from creeping back (it was 488 bytes before the shutdown state and
/// a boxed timer moved out, 248 with a boxed tokio `Sleep` of ~110 bytes on the heap, 272 on
/// x86_64 with the ticker's registration inline and nothing on the heap).
#[test]
fn a_hub_stream_stays_small() {
    let size = std::mem::size_of::<sse_core::SseStream<sse_core::hub::Subscription>>();
    assert!(size <= 272, "SseStream<Subscription> is {size} bytes");
    let size = std::mem::size_of::<sse_core::SseStream<sse_core::hub::Batches>>();
    assert!(size <= 272, "SseStream<Batches> is {size} bytes");
}
