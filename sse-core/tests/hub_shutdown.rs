//! Shutdown with 1 000 live subscriptions ends every one of them, each after the farewell
//! event and a jittered `retry:`.
#![cfg(feature = "hub")]

use std::collections::HashSet;
use std::time::Duration;

use futures_util::StreamExt;
use sse_core::hub::{Hub, HubConfig};
use sse_core::Event;

const SUBSCRIBERS: usize = 1_000;

#[tokio::test(start_paused = true)]
async fn shutdown_ends_a_thousand_live_subscriptions() {
    let hub =
        Hub::new(HubConfig::new().shutdown_retry(Duration::from_secs(1), Duration::from_secs(5)));
    let tasks: Vec<_> = (0..SUBSCRIBERS)
        .map(|i| {
            let mut sub = if i % 2 == 0 {
                hub.subscribe([format!("user:{i}"), "all".to_owned()], None)
            } else {
                hub.subscribe_all(None)
            };
            tokio::spawn(async move {
                let mut got = Vec::new();
                while let Some(event) = sub.next().await {
                    got.push(event);
                }
                // Polling after the end keeps returning None.
                assert!(sub.next().await.is_none());
                got
            })
        })
        .collect();
    // Let every task park on its subscription, then publish one event to all of them.
    tokio::task::yield_now().await;
    hub.publish("all", Event::data("before")).await.unwrap();
    tokio::task::yield_now().await;
    assert_eq!(hub.stats().active_subscribers, SUBSCRIBERS);

    hub.shutdown_with(Event::builder().event("bye").data("").build().unwrap());
    // On the paused clock an idle runtime jumps straight to this deadline, so a task that is
    // never woken fails at once instead of hanging.
    let all = async {
        let mut outputs = Vec::new();
        for task in tasks {
            outputs.push(task.await.unwrap());
        }
        outputs
    };
    let outputs = tokio::time::timeout(Duration::from_secs(60), all)
        .await
        .expect("a subscription did not end after shutdown");

    let mut retries = HashSet::new();
    for got in &outputs {
        let text: Vec<&str> = got
            .iter()
            .map(|e| std::str::from_utf8(e.as_bytes()).unwrap())
            .collect();
        let n = text.len();
        assert!(n >= 2, "{text:?}");
        assert_eq!(text[n - 2], "event: bye\ndata:\n\n");
        let millis: u64 = text[n - 1]
            .strip_prefix("retry: ")
            .and_then(|r| r.strip_suffix("\n\n"))
            .and_then(|r| r.parse().ok())
            .unwrap_or_else(|| panic!("no retry last: {text:?}"));
        assert!((1_000..=6_000).contains(&millis), "{millis}");
        retries.insert(millis);
    }
    // Jitter spreads the reconnections.
    assert!(
        retries.len() > SUBSCRIBERS / 4,
        "{} distinct retries",
        retries.len()
    );
    assert_eq!(hub.stats().active_subscribers, 0);
    assert!(hub.is_shut_down());
}
