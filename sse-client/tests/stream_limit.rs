//! The client against the toolkit's own stream limit (axum behind `SseLayer` with
//! `max_streams(1)`), in both of its answers: `503` with `Retry-After`, and `200` with only
//! a `retry:` field.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use sse_axum::{Heartbeat, OverLimit, Sse, SseConfig, SseLayer};
use sse_client::{Config, Error, EventSource, Item};
use sse_core::hub::{Hub, HubConfig};
use sse_core::Event;
use tokio::time::timeout;

/// Only a hang reaches it.
const DEADLINE: Duration = Duration::from_secs(20);
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Serves the hub at `/events`, one stream at a time. Heartbeats every 50 ms let the
/// server notice a client that left, and free its place, quickly.
async fn server(hub: Hub, over_limit: OverLimit) -> SocketAddr {
    use axum::{extract::State, routing::get, Router};

    let policy = SseConfig::new()
        .max_streams(1)
        .over_limit(over_limit)
        .retry_after(RETRY_AFTER)
        .heartbeat(Heartbeat::every(Duration::from_millis(50)));
    let app = Router::new()
        .route(
            "/events",
            get(|State(hub): State<Hub>| async move { Sse::new(hub.subscribe_all(None)) }),
        )
        .layer(SseLayer::from(policy))
        .with_state(hub);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn source(addr: SocketAddr, config: Config) -> EventSource {
    let client = reqwest::Client::new();
    let request = client.get(format!("http://{addr}/events")).build().unwrap();
    // A reconnection time far below the server's, so only honouring it makes the wait.
    EventSource::with_config(
        client,
        request,
        config.reconnect_time(Duration::from_millis(1)),
    )
}

async fn next(events: &mut EventSource) -> Result<Item, Error> {
    timeout(DEADLINE, events.next())
        .await
        .expect("no item before the deadline")
        .expect("the stream ended")
}

/// Takes the only stream place, and returns its holder.
async fn hold_the_only_place(addr: SocketAddr) -> EventSource {
    let mut holder = source(addr, Config::new());
    assert!(matches!(next(&mut holder).await, Ok(Item::Open(_))));
    holder
}

/// Reads `events` until it is connected again and receives `data`.
async fn expect_open_then(events: &mut EventSource, hub: &Hub, data: &str) {
    loop {
        match next(events).await {
            Ok(Item::Open(_)) => break,
            // Still over the limit while the server notices the holder left.
            Err(Error::Status(status)) if status.will_retry() => {}
            Err(Error::Closed) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    hub.publish("news", Event::data(data)).await.unwrap();
    match next(events).await {
        Ok(Item::Event(event)) => assert_eq!(event.data, data),
        other => panic!("expected the event, got {other:?}"),
    }
}

#[tokio::test]
async fn service_unavailable_is_retried_no_sooner_than_retry_after_when_asked() {
    let hub = Hub::new(HubConfig::new());
    let addr = server(hub.clone(), OverLimit::ServiceUnavailable).await;
    let holder = hold_the_only_place(addr).await;

    let mut refused = source(addr, Config::new());
    let err = next(&mut refused).await.unwrap_err();
    assert!(err.is_final(), "without the opt-in a 503 is final: {err:?}");

    let mut waiting = source(addr, Config::new().retry_transient_status(true));
    let err = next(&mut waiting).await.unwrap_err();
    let refused_at = Instant::now();
    let Error::Status(status) = &err else {
        panic!("expected a status error, got {err:?}");
    };
    assert_eq!(status.status(), 503);
    assert_eq!(status.retry_after(), Some(RETRY_AFTER));
    assert!(status.will_retry() && !err.is_final());

    drop(holder);
    expect_open_then(&mut waiting, &hub, "finally").await;
    let waited = refused_at.elapsed();
    assert!(waited >= RETRY_AFTER, "came back after {waited:?}");
}

#[tokio::test]
async fn a_retry_later_answer_is_followed_by_a_reconnect_no_sooner_than_its_retry() {
    let hub = Hub::new(HubConfig::new());
    let addr = server(hub.clone(), OverLimit::RetryLater).await;
    let holder = hold_the_only_place(addr).await;

    let mut waiting = source(addr, Config::new());
    assert!(matches!(next(&mut waiting).await, Ok(Item::Open(_))));
    // The body is only a `retry:` field, then the end.
    let err = next(&mut waiting).await.unwrap_err();
    assert!(matches!(err, Error::Closed), "{err:?}");
    let closed_at = Instant::now();

    drop(holder);
    expect_open_then(&mut waiting, &hub, "in at last").await;
    let waited = closed_at.elapsed();
    assert!(waited >= RETRY_AFTER, "came back after {waited:?}");
}
