//! The client against the demo behind a real nginx (the cluster example's config): when the
//! server ends the stream, the client reconnects through nginx with its Last-Event-ID and gets
//! exactly the events published meanwhile.

use std::path::Path;
use std::time::Duration;

use futures_util::StreamExt;
use sse_client::{Config as ClientConfig, EventSource, Item};
use sse_core::Event;
use sse_examples::{Config, Framework};
use sse_testkit::nginx::Nginx;
use sse_testkit::DEADLINE;
use tokio::net::TcpListener;

async fn next_event(events: &mut EventSource) -> sse_client::Event {
    loop {
        let item = tokio::time::timeout(DEADLINE, events.next())
            .await
            .expect("an item before the deadline")
            .expect("the stream goes on");
        match item {
            Ok(Item::Event(event)) => return event,
            Ok(_) => {}
            Err(err) => assert!(!err.is_final(), "final error {err}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_through_nginx_with_its_last_event_id() {
    let mut config = Config::default().with_framework(Framework::Axum);
    config.retry_ms = 50;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let demo = sse_examples::serve(config, listener).await.unwrap();
    let template =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/cluster/nginx.conf.template");
    let port = demo.addr().port();
    let nginx = Nginx::start(&template, [port, port]);

    let client = reqwest::Client::new();
    let request = client
        .get(format!("http://127.0.0.1:{}/events?topic=news", nginx.port))
        .build()
        .unwrap();
    let mut events = EventSource::with_config(client, request, ClientConfig::new());
    // Opened: the response head came through nginx, so the demo's handler has subscribed.
    let opened = tokio::time::timeout(DEADLINE, events.next())
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(opened, Ok(Item::Open(_))), "{opened:?}");
    let hub = demo.app().hub();
    let first = hub.publish("news", Event::data("one")).await.unwrap();
    let got = next_event(&mut events).await;
    assert_eq!((got.id, got.data), (first.to_string(), "one".to_owned()));

    // The server ends every stream (as a restart would); two events go out meanwhile.
    demo.app().disconnect_all();
    let mut missed = Vec::new();
    for data in ["two", "three"] {
        missed.push(
            hub.publish("news", Event::data(data))
                .await
                .unwrap()
                .to_string(),
        );
    }
    let mut resumed = Vec::new();
    for _ in 0..2 {
        let event = next_event(&mut events).await;
        resumed.push((event.id, event.data));
    }
    assert_eq!(
        resumed,
        [
            (missed[0].clone(), "two".to_owned()),
            (missed[1].clone(), "three".to_owned())
        ],
        "exactly the missed events, through nginx, after the Last-Event-ID"
    );
    assert!(events.stats().reconnects() >= 1, "{:?}", events.stats());
    drop(nginx);
    tokio::time::timeout(Duration::from_secs(10), demo.shutdown())
        .await
        .unwrap()
        .unwrap();
}
