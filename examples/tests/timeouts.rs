//! The demo's timeouts on every framework, over real sockets (short timeouts here): a
//! half-sent head, a silent connection and an idle keep-alive connection are closed, and an
//! event stream with heartbeats outlives several timeout periods. The cases are
//! sse-testkit's, shared with sse-tower's own tests.

mod support;

use std::time::Duration;

use sse_examples::{Config, Framework};
use sse_testkit::{timeouts, Request};
use support::start;

/// The head-read and idle timeouts under test.
const TIMEOUT_MS: u64 = 300;
const HEARTBEAT_MS: u64 = 100;

async fn closes_slow_silent_and_idle_connections(framework: Framework) {
    let config = Config::default()
        .with_timeouts_ms(TIMEOUT_MS, TIMEOUT_MS)
        .with_heartbeat_ms(HEARTBEAT_MS);
    let server = start(framework, config).await;
    let addr = server.addr();

    timeouts::half_sent_head_is_closed(addr).await;
    timeouts::silent_connection_is_closed(addr).await;
    timeouts::idle_keep_alive_connection_is_closed(addr, "/health").await;
    let events = Request::get(addr, "/events?topic=timeouts");
    let heartbeats =
        timeouts::stream_outlives_timeouts(events, Duration::from_millis(TIMEOUT_MS * 6)).await;
    assert!(heartbeats >= 2, "{framework}: {heartbeats} heartbeats");

    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn axum_closes_slow_silent_and_idle_connections() {
    closes_slow_silent_and_idle_connections(Framework::Axum).await;
}

#[tokio::test]
async fn actix_closes_slow_silent_and_idle_connections() {
    closes_slow_silent_and_idle_connections(Framework::Actix).await;
}

#[tokio::test]
async fn warp_closes_slow_silent_and_idle_connections() {
    closes_slow_silent_and_idle_connections(Framework::Warp).await;
}
