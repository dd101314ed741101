//! Two demo nodes on different frameworks and one real `redis-server` (`--redis`): one hub.
//! Publish on one, subscribe on the other, resume on either; while Redis is down, publishing
//! answers `503` with `Retry-After` and `/health` tells the load balancer to drain the node.

mod support;

use http::{Method, StatusCode};
use serde_json::json;
use sse_examples::{Config, Framework, RunningApp};
use sse_testkit::redis::RedisServer;
use sse_testkit::{Request, DEADLINE};

async fn node(framework: Framework, redis: &RedisServer) -> RunningApp {
    let config = Config::default().with_redis(redis.url(), "demo-test");
    let running = support::start(framework, config).await;
    let backplane = running.app().backplane().expect("started with --redis");
    tokio::time::timeout(DEADLINE, backplane.wait_connected())
        .await
        .expect("the node follows the stream");
    running
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_on_one_redis_are_one_hub() {
    let mut redis = RedisServer::start();
    let a = node(Framework::Axum, &redis).await;
    let b = node(Framework::Actix, &redis).await;
    assert_eq!(
        support::get(a.addr(), "/health").await.json(),
        json!({"status": "ok", "backplane": "connected"})
    );

    let mut on_b = Request::get(b.addr(), "/events?topic=news").send().await;
    let first = support::publish(
        a.addr(),
        json!({"topic": "news", "event": "alert", "data": "one"}),
    )
    .await;
    let event = on_b.next_event().await;
    assert_eq!(
        (
            event.last_event_id.as_str(),
            event.event.as_str(),
            event.data.as_str()
        ),
        (first.as_str(), "alert", "one")
    );
    let mut later = Vec::new();
    for data in ["two", "three"] {
        later.push(support::publish(a.addr(), json!({"topic": "news", "data": data})).await);
    }
    for id in &later {
        assert_eq!(&on_b.next_event().await.last_event_id, id);
    }
    on_b.disconnect();

    // The client comes back to the other node with its Last-Event-ID: exactly what it missed.
    let mut on_a = Request::get(a.addr(), "/events?topic=news")
        .header("last-event-id", &first)
        .send()
        .await;
    for id in &later {
        let event = on_a.next_event().await;
        assert_eq!(&event.last_event_id, id);
        assert_ne!(event.event, "sse-gap");
    }
    let stats = support::stats(b.addr()).await;
    assert!(
        stats["backplane"]["events_read"].as_u64().unwrap() >= 3,
        "{stats}"
    );
    assert_eq!(stats["backplane"]["connected"], json!(true));

    // Redis goes away: nothing is reported published, and the node asks to be drained.
    let backplane = a.app().backplane().unwrap().clone();
    let mut connection = backplane.connection();
    redis.kill();
    let refused = support::publish_with(
        a.addr(),
        &[("content-type", "application/json")],
        r#"{"data":"lost"}"#,
    )
    .await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert!(
        refused.json()["error"].as_str().unwrap().contains("redis"),
        "{:?}",
        refused.json()
    );
    tokio::time::timeout(DEADLINE, connection.wait_for(|connected| !connected))
        .await
        .unwrap()
        .unwrap();
    let health = support::request(a.addr(), Method::GET, "/health", &[], "").await;
    assert_eq!(health.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        health.json(),
        json!({"status": "reconnecting", "backplane": "disconnected"})
    );

    // Back (empty: a new epoch): the live client is told about the gap, then events flow.
    redis.restart(false);
    tokio::time::timeout(DEADLINE, backplane.wait_connected())
        .await
        .unwrap();
    assert_eq!(
        support::get(a.addr(), "/health").await.status,
        StatusCode::OK
    );
    let after = loop {
        let reply = support::publish_with(
            a.addr(),
            &[("content-type", "application/json")],
            r#"{"topic":"news","data":"after"}"#,
        )
        .await;
        if reply.status == StatusCode::ACCEPTED {
            break reply.json()["id"].as_str().unwrap().to_owned();
        }
        // The publishing connection reconnects after its own backoff.
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
        tokio::task::yield_now().await;
    };
    let gap = on_a.next_event().await;
    assert_eq!(gap.event, "sse-gap");
    assert_eq!(on_a.next_event().await.last_event_id, after);
}
