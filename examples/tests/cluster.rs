//! Two demo nodes on different frameworks and one real `redis-server` (`--redis`): one hub.
//! Publish on one, subscribe on the other, resume on either; while Redis is down, publishing
//! answers `503` with `Retry-After` and `/health` tells the load balancer to drain the node.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use bytes::BytesMut;
use http::{Method, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use serde_json::json;
use sse_core::parse::{Decoder, Frame};
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

/// Reads `/events?topic=news` from `addr` (after `last_id`), pushing each event's id and data
/// into `got`, until the body ends or fails (a killed server), or the event `end` arrives.
/// Returns whether it saw `end`.
async fn follow(addr: SocketAddr, last_id: Option<&str>, got: &mut Vec<(String, String)>) -> bool {
    let Ok(stream) = tokio::net::TcpStream::connect(addr).await else {
        return false;
    };
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(conn);
    let mut request = http::Request::get("/events?topic=news").header("host", addr.to_string());
    if let Some(id) = last_id {
        request = request.header("last-event-id", id);
    }
    let response = sender
        .send_request(request.body(Empty::<bytes::Bytes>::new()).unwrap())
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();
    let (mut decoder, mut buf) = (Decoder::new(), BytesMut::new());
    loop {
        while let Some(frame) = decoder.decode(&mut buf).expect("parse") {
            if let Frame::Event(event) = frame {
                if event.data == "end" {
                    return true;
                }
                got.push((event.last_event_id, event.data));
            }
        }
        match tokio::time::timeout(DEADLINE, body.frame())
            .await
            .expect("data within the deadline")
        {
            Some(Ok(frame)) => buf.extend_from_slice(&frame.into_data().unwrap_or_default()),
            // The end, or the connection died with its server: the client reconnects.
            Some(Err(_)) | None => return false,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_of_a_killed_node_resume_on_another_with_every_event_once() {
    const EVENTS: usize = 120;
    let redis = RedisServer::start();
    let b = node(Framework::Actix, &redis).await;
    // Node A is the real binary, so that it can die with SIGKILL.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let a: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut node_a = tokio::process::Command::new(env!("CARGO_BIN_EXE_demo"))
        .args([
            "--framework",
            "axum",
            "--addr",
            &a.to_string(),
            "--redis",
            &redis.url(),
            "--redis-key",
            "demo-test",
        ])
        .env("RUST_LOG", "error")
        .kill_on_drop(true)
        .spawn()
        .expect("spawn demo");
    let deadline = tokio::time::Instant::now() + DEADLINE;
    // Listening, and its reader following the stream.
    while support::try_get(a, "/health").await.map(|r| r.status) != Some(StatusCode::OK) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "node A never became healthy"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Three clients on A; when A dies each reconnects to B with its Last-Event-ID.
    let clients: Vec<_> = (0..3)
        .map(|_| {
            let b = b.addr();
            tokio::spawn(async move {
                let mut got = Vec::new();
                let mut on = a;
                for connections in 1..=5 {
                    let last = got.last().map(|(id, _): &(String, String)| id.clone());
                    if follow(on, last.as_deref(), &mut got).await {
                        return (got, connections);
                    }
                    on = b;
                }
                panic!("never saw the end: {got:?}");
            })
        })
        .collect();
    // Let every client's stream open before publishing (they are counted by A's layer).
    while support::try_get(a, "/stats")
        .await
        .is_none_or(|r| r.json()["active_connections"] != json!(3))
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the clients never connected"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // B publishes at a steady rate; A is killed a third of the way through.
    let mut published = Vec::new();
    for i in 0..EVENTS {
        if i == EVENTS / 3 {
            node_a.start_kill().expect("SIGKILL");
        }
        let data = format!("event {i}");
        let id = support::publish(b.addr(), json!({"topic": "news", "data": data})).await;
        published.push((id, data));
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    support::publish(b.addr(), json!({"topic": "news", "data": "end"})).await;
    for client in clients {
        let (got, connections) = tokio::time::timeout(DEADLINE, client)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            connections, 2,
            "A died under the client, which went on with B"
        );
        assert_eq!(got, published, "every event exactly once, in order");
    }
}
