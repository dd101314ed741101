use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures_core::Stream;

use futures_util::FutureExt;

use super::*;
use crate::EventBatch;

fn assert_send_sync_unpin_static<T: Send + Sync + Unpin + 'static>() {}

/// Everything the subscription yields now, and whether it ended.
fn drain(sub: &mut Subscription) -> (Vec<Event>, bool) {
    let mut cx = Context::from_waker(Waker::noop());
    let mut out = Vec::new();
    loop {
        match Pin::new(&mut *sub).poll_next(&mut cx) {
            Poll::Ready(Some(event)) => out.push(event),
            Poll::Ready(None) => return (out, true),
            Poll::Pending => return (out, false),
        }
    }
}

fn ids(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|e| e.id().unwrap_or("").to_owned())
        .collect()
}

fn data(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            let text = std::str::from_utf8(e.as_bytes()).unwrap();
            text.lines()
                .find_map(|l| l.strip_prefix("data: "))
                .unwrap_or("")
                .to_owned()
        })
        .collect()
}

#[test]
fn public_types_are_send_sync_unpin_static() {
    assert_send_sync_unpin_static::<Subscription>();
    assert_send_sync_unpin_static::<Batches>();
    assert_send_sync_unpin_static::<Hub>();
    assert_send_sync_unpin_static::<HubStats>();
    assert_send_sync_unpin_static::<PublishError>();
    assert_send_sync_unpin_static::<BackplaneSink>();
}

#[test]
fn published_events_carry_increasing_ids_encoded_once() {
    let hub = Hub::default();
    let mut a = hub.subscribe(["t"], None);
    let mut b = hub.subscribe_all(None);
    let first = hub
        .publish("t", Event::data("1"))
        .now_or_never()
        .unwrap()
        .unwrap();
    let second = hub
        .publish("t", Event::data("2"))
        .now_or_never()
        .unwrap()
        .unwrap();
    assert!(second > first);
    assert_eq!(first.epoch(), hub.epoch());
    let (got_a, _) = drain(&mut a);
    let (got_b, _) = drain(&mut b);
    assert_eq!(ids(&got_a), [first.to_string(), second.to_string()]);
    assert_eq!(
        got_a[0].as_bytes().as_ref(),
        format!("id: {first}\ndata: 1\n\n").as_bytes()
    );
    // Both subscribers share one encoding.
    assert_eq!(got_a[0].as_bytes().as_ptr(), got_b[0].as_bytes().as_ptr());
}

#[test]
fn topics_filter_and_no_topic_means_all() {
    let hub = Hub::default();
    let mut a = hub.subscribe(["a"], None);
    let mut ab = hub.subscribe(["a", "b", "a"], None);
    let mut all = hub.subscribe_all(None);
    for (topic, text) in [("a", "1"), ("b", "2"), ("c", "3")] {
        hub.publish(topic, Event::data(text))
            .now_or_never()
            .unwrap()
            .unwrap();
    }
    assert_eq!(data(&drain(&mut a).0), ["1"]);
    assert_eq!(data(&drain(&mut ab).0), ["1", "2"]);
    assert_eq!(data(&drain(&mut all).0), ["1", "2", "3"]);
    assert_eq!(hub.stats().delivered, 6);
}

#[test]
fn resume_replays_exactly_the_missed_events_of_its_topics() {
    let hub = Hub::default();
    let a1 = hub
        .publish("a", Event::data("a1"))
        .now_or_never()
        .unwrap()
        .unwrap();
    hub.publish("b", Event::data("b1"))
        .now_or_never()
        .unwrap()
        .unwrap();
    hub.publish("a", Event::data("a2"))
        .now_or_never()
        .unwrap()
        .unwrap();
    let mut sub = hub.subscribe(["a"], Some(&a1.to_string()));
    assert!(!sub.had_gap());
    hub.publish("a", Event::data("a3"))
        .now_or_never()
        .unwrap()
        .unwrap();
    let (got, ended) = drain(&mut sub);
    assert!(!ended);
    assert_eq!(data(&got), ["a2", "a3"]);
    let stats = hub.stats();
    assert_eq!((stats.replayed, stats.delivered, stats.gaps), (1, 2, 0));
}

#[test]
fn resume_from_the_newest_id_gets_only_live_events() {
    let hub = Hub::default();
    let last = hub
        .publish("a", Event::data("old"))
        .now_or_never()
        .unwrap()
        .unwrap();
    let mut sub = hub.subscribe(["a"], Some(&last.to_string()));
    assert!(drain(&mut sub).0.is_empty());
    hub.publish("a", Event::data("new"))
        .now_or_never()
        .unwrap()
        .unwrap();
    assert_eq!(data(&drain(&mut sub).0), ["new"]);
}

fn gap_hub(policy: GapPolicy) -> (Hub, EventId) {
    let hub = Hub::new(HubConfig::new().replay_capacity(2).gap_policy(policy));
    let first = hub
        .publish("a", Event::data("1"))
        .now_or_never()
        .unwrap()
        .unwrap();
    for text in ["2", "3", "4"] {
        hub.publish("a", Event::data(text))
            .now_or_never()
            .unwrap()
            .unwrap();
    }
    (hub, first)
}

#[test]
fn evicted_id_gets_a_gap_event_then_what_is_held() {
    let (hub, first) = gap_hub(GapPolicy::Replay);
    let mut sub = hub.subscribe(["a"], Some(&first.to_string()));
    assert!(sub.had_gap());
    let (got, ended) = drain(&mut sub);
    assert!(!ended);
    let floor = EventId::new(hub.epoch(), 2);
    assert_eq!(
        got[0].as_bytes().as_ref(),
        format!("event: {GAP_EVENT}\nid: {floor}\ndata: {first}\n\n").as_bytes()
    );
    assert_eq!(data(&got[1..]), ["3", "4"]);
    assert_eq!(hub.stats().gaps, 1);
}

#[test]
fn live_only_policy_skips_what_is_held_but_still_signals() {
    let (hub, first) = gap_hub(GapPolicy::LiveOnly);
    let mut sub = hub.subscribe(["a"], Some(&first.to_string()));
    let (got, _) = drain(&mut sub);
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].id(),
        Some(EventId::new(hub.epoch(), 4).to_string().as_str())
    );
    hub.publish("a", Event::data("5"))
        .now_or_never()
        .unwrap()
        .unwrap();
    assert_eq!(data(&drain(&mut sub).0), ["5"]);
}

#[test]
fn end_policy_sends_the_gap_event_then_ends() {
    let (hub, first) = gap_hub(GapPolicy::End);
    let mut sub = hub.subscribe(["a"], Some(&first.to_string()));
    let (got, ended) = drain(&mut sub);
    assert!(ended);
    assert_eq!(got.len(), 1);
    assert_eq!(hub.stats().active_subscribers, 0);
}

#[test]
fn ids_from_another_epoch_malformed_or_from_the_future_are_gaps() {
    let hub = Hub::default();
    hub.publish("a", Event::data("1"))
        .now_or_never()
        .unwrap()
        .unwrap();
    let before_restart = EventId::new(hub.epoch() - 1, 1).to_string();
    let future = EventId::new(hub.epoch(), 99).to_string();
    let later_epoch = EventId::new(hub.epoch() + 1, 0).to_string();
    for id in [&*before_restart, &*future, &*later_epoch, "garbage", "1"] {
        let mut sub = hub.subscribe(["a"], Some(id));
        assert!(sub.had_gap(), "{id}");
        let (got, _) = drain(&mut sub);
        assert_eq!(data(&got), [id, "1"]);
    }
    // An empty id is no id.
    assert!(!hub.subscribe(["a"], Some("")).had_gap());
}

#[test]
fn a_subscriber_past_its_queue_bound_is_ended_and_counted() {
    let hub = Hub::new(HubConfig::new().queue_bound(3));
    let mut slow = hub.subscribe(["a"], None);
    let mut fast = hub.subscribe(["a"], None);
    let _other_topic = hub.subscribe(["b"], None);
    for i in 0..10 {
        hub.publish("a", Event::data(&i.to_string()))
            .now_or_never()
            .unwrap()
            .unwrap();
        assert_eq!(drain(&mut fast).0.len(), 1);
    }
    let (got, ended) = drain(&mut slow);
    assert!(got.is_empty());
    assert!(ended);
    let stats = hub.stats();
    assert_eq!((stats.dropped_slow, stats.active_subscribers), (1, 2));
}

#[test]
fn a_subscriber_whose_unread_events_left_the_ring_is_ended() {
    let hub = Hub::new(HubConfig::new().replay_capacity(2).queue_bound(100));
    let mut sub = hub.subscribe_all(None);
    for i in 0..3 {
        hub.publish("a", Event::data(&i.to_string()))
            .now_or_never()
            .unwrap()
            .unwrap();
    }
    assert_eq!(drain(&mut sub), (vec![], true));
    assert_eq!(hub.stats().dropped_slow, 1);
}

#[test]
fn an_idle_subscriber_of_a_quiet_topic_survives_other_traffic() {
    let hub = Hub::new(HubConfig::new().replay_capacity(2).queue_bound(1));
    let mut quiet = hub.subscribe(["quiet"], None);
    for i in 0..10 {
        hub.publish("busy", Event::data(&i.to_string()))
            .now_or_never()
            .unwrap()
            .unwrap();
    }
    hub.publish("quiet", Event::data("q"))
        .now_or_never()
        .unwrap()
        .unwrap();
    let (got, ended) = drain(&mut quiet);
    assert!(!ended);
    assert_eq!(data(&got), ["q"]);
}

#[test]
fn ring_is_bounded_by_bytes_but_keeps_the_newest_event() {
    let hub = Hub::new(HubConfig::new().replay_bytes(100));
    for _ in 0..10 {
        hub.publish("a", Event::data(&"x".repeat(30)))
            .now_or_never()
            .unwrap()
            .unwrap();
    }
    let stats = hub.stats();
    assert!(stats.ring_bytes <= 100, "{stats:?}");
    assert_eq!(stats.ring_len, 1);
    assert_eq!(stats.published, 10);
    hub.publish("a", Event::data(&"x".repeat(500)))
        .now_or_never()
        .unwrap()
        .unwrap();
    assert_eq!(hub.stats().ring_len, 1);
}

#[tokio::test(start_paused = true)]
async fn events_older_than_max_age_are_not_replayed() {
    let hub = Hub::new(HubConfig::new().max_age(Duration::from_secs(10)));
    let old = hub
        .publish("a", Event::data("old"))
        .now_or_never()
        .unwrap()
        .unwrap();
    tokio::time::sleep(Duration::from_secs(6)).await;
    hub.publish("a", Event::data("newer"))
        .now_or_never()
        .unwrap()
        .unwrap();
    tokio::time::sleep(Duration::from_secs(6)).await;
    // `old` has aged out, so resuming from before it is a gap; from it is fine.
    let mut sub = hub.subscribe(["a"], Some(&old.to_string()));
    assert!(!sub.had_gap());
    assert_eq!(data(&drain(&mut sub).0), ["newer"]);
    assert_eq!(hub.stats().ring_len, 1);
    let mut sub = hub.subscribe(["a"], Some(&EventId::new(hub.epoch(), 0).to_string()));
    assert!(sub.had_gap());
    assert_eq!(data(&drain(&mut sub).0)[1..], ["newer"]);
}

#[test]
fn shutdown_ends_subscriptions_with_farewell_and_jittered_retry() {
    let hub = Hub::new(
        HubConfig::new().shutdown_retry(Duration::from_millis(1000), Duration::from_millis(500)),
    );
    let mut sub = hub.subscribe(["a"], None);
    hub.publish("a", Event::data("unread"))
        .now_or_never()
        .unwrap()
        .unwrap();
    hub.shutdown_with(Event::data("bye"));
    let (got, ended) = drain(&mut sub);
    assert!(ended);
    assert_eq!(data(&got[..1]), ["bye"]);
    let retry = std::str::from_utf8(got[1].as_bytes()).unwrap();
    let millis: u64 = retry
        .strip_prefix("retry: ")
        .and_then(|r| r.strip_suffix("\n\n"))
        .unwrap()
        .parse()
        .unwrap();
    assert!((1000..=1500).contains(&millis), "{millis}");
    assert_eq!(hub.stats().active_subscribers, 0);
    assert!(matches!(
        hub.publish("a", Event::data("late"))
            .now_or_never()
            .unwrap(),
        Err(PublishError::Closed)
    ));
    // Subscribing after shutdown ends at once the same way.
    let (got, ended) = drain(&mut hub.subscribe(["a"], None));
    assert!(ended);
    assert_eq!(got.len(), 2);
}

#[test]
fn dropping_the_last_hub_handle_ends_subscriptions() {
    let hub = Hub::new(HubConfig::new().no_shutdown_retry());
    let clone = hub.clone();
    let mut sub = hub.subscribe(["a"], None);
    drop(hub);
    assert_eq!(drain(&mut sub), (vec![], false));
    drop(clone);
    assert_eq!(drain(&mut sub), (vec![], true));
}

#[test]
fn unsubscribing_forgets_topics() {
    let hub = Hub::default();
    let subs: Vec<_> = (0..100)
        .map(|i| hub.subscribe([format!("user:{i}")], None))
        .collect();
    assert_eq!(hub.stats().active_subscribers, 100);
    drop(subs);
    assert_eq!(hub.stats().active_subscribers, 0);
    assert!(hub.inner.shared.topic_count() == 0);
}

/// A hub on a [`Manual`] backplane, and the sink to deliver into it by hand.
fn manual_hub() -> (Hub, BackplaneSink) {
    let manual = std::sync::Arc::new(Manual::default());
    let hub = Hub::with_backplane(HubConfig::new(), manual.clone());
    let sink = manual.sink.lock().unwrap().clone().unwrap();
    (hub, sink)
}

#[derive(Debug, Default)]
struct Manual {
    sink: std::sync::Mutex<Option<BackplaneSink>>,
}

/// Shared, so a test keeps the sink the hub attached.
impl Backplane for std::sync::Arc<Manual> {
    fn attach(&self, sink: BackplaneSink) {
        *self.sink.lock().unwrap() = Some(sink);
    }

    fn publish(&self, _topic: &str, _event: Event) -> PublishFuture<'_> {
        PublishFuture::ready(Err(BackplaneError::new("not connected")))
    }
}

#[test]
fn backplane_ids_are_used_and_repeats_dropped() {
    let (hub, sink) = manual_hub();
    let mut sub = hub.subscribe_all(None);
    // Nothing delivered yet: no id can be resumed.
    assert!(hub.subscribe_all(Some("1700000000000-4")).had_gap());
    let id = EventId::new(1_700_000_000_000, 5);
    sink.deliver(id, "a", Event::data("x")).unwrap();
    assert_eq!(
        sink.deliver(id, "a", Event::data("x")),
        Err(DeliverError::StaleId)
    );
    let (got, _) = drain(&mut sub);
    assert_eq!(ids(&got), ["1700000000000-5"]);
    assert_eq!(hub.stats().rejected, 1);
    let err = hub
        .publish("a", Event::data("y"))
        .now_or_never()
        .unwrap()
        .unwrap_err();
    assert_eq!(err.to_string(), "backplane failed to carry the event");
    assert_eq!(
        StdError::source(&err)
            .unwrap()
            .source()
            .unwrap()
            .to_string(),
        "not connected"
    );
    // A resume from a backplane id works the same.
    sink.deliver(EventId::new(1_700_000_000_001, 0), "a", Event::data("z"))
        .unwrap();
    let mut resumed = hub.subscribe_all(Some("1700000000000-5"));
    assert_eq!(data(&drain(&mut resumed).0), ["z"]);
    let late = EventId::new(1_800_000_000_000, 0);
    drop(hub);
    assert_eq!(
        sink.deliver(late, "a", Event::data("z")),
        Err(DeliverError::Closed)
    );
    drop((sub, resumed));
    assert_eq!(
        sink.deliver(late, "a", Event::data("z")),
        Err(DeliverError::HubGone)
    );
}

#[test]
fn a_woken_subscriber_drains_everything_pending_at_once() {
    let hub = Hub::default();
    let mut sub = hub.subscribe(["a"], None);
    for i in 0..5 {
        hub.publish("a", Event::data(&i.to_string()))
            .now_or_never()
            .unwrap()
            .unwrap();
    }
    assert_eq!(sub.size_hint().0, 0);
    let mut cx = Context::from_waker(Waker::noop());
    assert!(Pin::new(&mut sub).poll_next(&mut cx).is_ready());
    assert_eq!(sub.size_hint().0, 4);
}

#[derive(Default)]
struct CountingWaker(std::sync::atomic::AtomicUsize);

impl std::task::Wake for CountingWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[test]
fn a_publish_wakes_the_waker_of_the_latest_poll_only_once() {
    use std::sync::atomic::Ordering::SeqCst;
    let hub = Hub::default();
    let mut sub = hub.subscribe(["a"], None);
    let (a, b) = (
        std::sync::Arc::new(CountingWaker::default()),
        std::sync::Arc::new(CountingWaker::default()),
    );
    let (waker_a, waker_b) = (Waker::from(a.clone()), Waker::from(b.clone()));
    let poll = |sub: &mut Subscription, waker: &Waker| {
        Pin::new(sub).poll_next(&mut Context::from_waker(waker))
    };
    assert!(poll(&mut sub, &waker_a).is_pending());
    // The task moved: the new waker must be the one woken.
    assert!(poll(&mut sub, &waker_b).is_pending());
    hub.publish("a", Event::data("1"))
        .now_or_never()
        .unwrap()
        .unwrap();
    hub.publish("a", Event::data("2"))
        .now_or_never()
        .unwrap()
        .unwrap();
    hub.publish("b", Event::data("other topic"))
        .now_or_never()
        .unwrap()
        .unwrap();
    assert_eq!((a.0.load(SeqCst), b.0.load(SeqCst)), (0, 1));
    assert!(poll(&mut sub, &waker_b).is_ready());
    assert!(poll(&mut sub, &waker_b).is_ready());
    assert!(poll(&mut sub, &waker_b).is_pending());
    hub.publish("a", Event::data("3"))
        .now_or_never()
        .unwrap()
        .unwrap();
    assert_eq!(b.0.load(SeqCst), 2);
    assert!(poll(&mut sub, &waker_b).is_ready());
}

#[test]
fn a_backplane_start_lets_clients_resume_from_before_its_first_event() {
    let (hub, sink) = manual_hub();
    assert_eq!(sink.start_after(EventId::new(10, 0)), Ok(true));
    assert_eq!(sink.start_after(EventId::new(11, 0)), Ok(false));
    sink.deliver(EventId::new(10, 1), "a", Event::data("x"))
        .unwrap();
    let mut sub = hub.subscribe_all(Some("10-0"));
    assert!(!sub.had_gap());
    assert_eq!(ids(&drain(&mut sub).0), ["10-1"]);
    assert!(hub.subscribe_all(Some("9-99")).had_gap());
}

#[test]
fn a_gap_the_backplane_signals_reaches_every_subscriber_that_reads_across_it() {
    let (hub, sink) = manual_hub();
    sink.start_after(EventId::new(7, 0)).unwrap();
    let mut on_a = hub.subscribe(["a"], None);
    let mut on_b = hub.subscribe(["b"], None);
    sink.deliver(EventId::new(7, 1), "a", Event::data("1"))
        .unwrap();
    let mut caught_up = hub.subscribe(["a"], None);

    // Events 7-2 .. 7-9 were lost; the backplane goes on from 7-10.
    sink.signal_gap(EventId::new(7, 9)).unwrap();
    sink.deliver(EventId::new(7, 10), "a", Event::data("10"))
        .unwrap();

    let gap = "event: sse-gap\nid: 7-9\ndata: 7-1\n\n";
    // Not yet read before the hole: still read, then the gap, then what follows.
    let (got, ended) = drain(&mut on_a);
    assert!(!ended);
    assert_eq!(ids(&got), ["7-1", "7-9", "7-10"]);
    assert_eq!(got[1].as_bytes(), gap);
    // Every topic is told.
    assert_eq!(ids(&drain(&mut on_b).0), ["7-9"]);
    assert_eq!(ids(&drain(&mut caught_up).0), ["7-9", "7-10"]);
    // A client resuming from before the hole replays up to it, is told, and goes on.
    let (got, _) = drain(&mut hub.subscribe(["a"], Some("7-0")));
    assert_eq!(ids(&got), ["7-1", "7-9", "7-10"]);
    assert_eq!(got[1].as_bytes(), gap);
    // Resuming from the gap's id is exact.
    let (got, _) = drain(&mut hub.subscribe(["a"], Some("7-9")));
    assert_eq!(data(&got), ["10"]);
    // Older than what was delivered: refused.
    assert_eq!(
        sink.signal_gap(EventId::new(7, 5)),
        Err(DeliverError::StaleId)
    );
    assert_eq!(hub.stats().gaps, 1);
}

/// The stream limit's guard, polled as the middleware polls a body: it counts the reason
/// the subscription noted when it ended, which the middleware can't see.
#[test]
fn an_ended_subscription_tells_the_middleware_why() {
    use crate::{CloseReason, SseConfig};

    let config = SseConfig::new();
    let hub = Hub::new(HubConfig::new().queue_bound(1));
    let poll_to_end = |sub: &mut Subscription| {
        let mut guard = config.open_stream().unwrap();
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            guard.before_poll();
            let polled = Pin::new(&mut *sub)
                .poll_next(&mut cx)
                .map(|e| e.map(Ok::<_, ()>));
            guard.after_poll(&polled, |event| event.as_bytes().len());
            if matches!(polled, Poll::Ready(None) | Poll::Pending) {
                return;
            }
        }
    };
    let mut slow = hub.subscribe(["a"], None);
    for i in 0..3 {
        hub.publish("a", Event::data(&i.to_string()))
            .now_or_never()
            .unwrap()
            .unwrap();
    }
    poll_to_end(&mut slow);
    let mut shut = hub.subscribe(["a"], None);
    hub.shutdown();
    poll_to_end(&mut shut);

    let stats = config.stats();
    assert_eq!(stats.closed_by(CloseReason::EvictedSlow), 1);
    assert_eq!(stats.closed_by(CloseReason::Shutdown), 1);
    assert_eq!(stats.closed(), 2);
    // The shutdown's farewell `retry:` was written.
    assert!(stats.written_bytes() > 0);
}

/// Everything the batches yield now, and whether they ended.
fn drain_batches(batches: &mut Batches) -> (Vec<EventBatch>, bool) {
    let mut cx = Context::from_waker(Waker::noop());
    let mut out = Vec::new();
    loop {
        match Pin::new(&mut *batches).poll_next(&mut cx) {
            Poll::Ready(Some(batch)) => out.push(batch),
            Poll::Ready(None) => return (out, true),
            Poll::Pending => return (out, false),
        }
    }
}

fn joined(events: &[Event]) -> Vec<u8> {
    events.iter().flat_map(|e| e.as_bytes().to_vec()).collect()
}

fn concat(batches: &[EventBatch]) -> Vec<u8> {
    batches.iter().flat_map(|b| b.as_bytes().to_vec()).collect()
}

#[test]
fn batches_join_what_a_wake_finds_into_one_buffer() {
    let hub = Hub::default();
    let mut one = hub.subscribe(["a"], None);
    let mut batches = hub.subscribe(["a"], None).batches();
    for i in 0..5 {
        hub.publish("a", Event::data(&i.to_string()))
            .now_or_never()
            .unwrap()
            .unwrap();
    }
    let (events, _) = drain(&mut one);
    let (got, ended) = drain_batches(&mut batches);
    assert!(!ended);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].as_bytes().as_ref(), joined(&events));

    // An event found alone is the ring's own bytes, not a copy.
    hub.publish("a", Event::data("alone"))
        .now_or_never()
        .unwrap()
        .unwrap();
    let (events, _) = drain(&mut one);
    let (got, _) = drain_batches(&mut batches);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].as_bytes().as_ptr(), events[0].as_bytes().as_ptr());
}

#[test]
fn a_batch_stays_within_its_byte_bound_but_a_big_event_goes_whole() {
    let hub = Hub::new(HubConfig::new().replay_bytes(1 << 20));
    let mut batches = hub.subscribe(["a"], None).batches();
    let text = "x".repeat(20 * 1024);
    for _ in 0..5 {
        hub.publish("a", Event::data(&text))
            .now_or_never()
            .unwrap()
            .unwrap();
    }
    let big = "y".repeat(100 * 1024);
    hub.publish("a", Event::data(&big))
        .now_or_never()
        .unwrap()
        .unwrap();
    let (got, _) = drain_batches(&mut batches);
    let counts: Vec<usize> = got
        .iter()
        .map(|b| b.as_bytes().windows(6).filter(|w| w == b"data: ").count())
        .collect();
    // Three 20 KiB events fit in 64 KiB, the fourth would not.
    assert_eq!(counts, [3, 2, 1]);
    assert!(got[..2].iter().all(|b| b.len() <= 64 * 1024));
    assert!(got[2].len() > 100 * 1024);
}

#[test]
fn batches_start_with_the_gap_and_end_with_the_farewell() {
    let (hub, evicted) = gap_hub(GapPolicy::Replay);
    let last = evicted.to_string();
    let mut one = hub.subscribe(["a"], Some(&last));
    let mut batches = hub.subscribe(["a"], Some(&last)).batches();
    assert!(batches.subscription().had_gap());
    let (events, _) = drain(&mut one);
    let (got, _) = drain_batches(&mut batches);
    assert!(got[0].as_bytes().starts_with(b"event: "));
    assert_eq!(concat(&got), joined(&events));

    hub.publish("a", Event::data("unread"))
        .now_or_never()
        .unwrap()
        .unwrap();
    hub.shutdown_with(Event::data("bye"));
    let (events, ended) = drain(&mut one);
    assert!(ended);
    let (got, ended) = drain_batches(&mut batches);
    assert!(ended);
    // The farewell and the (jittered) retry, as one batch, and nothing of what was unread.
    assert_eq!(data(&events), ["bye", ""]);
    assert_eq!(got.len(), 1);
    let text = std::str::from_utf8(got[0].as_bytes()).unwrap();
    let retry = text.strip_prefix("data: bye\n\nretry: ").unwrap();
    assert!(
        retry.strip_suffix("\n\n").unwrap().parse::<u64>().is_ok(),
        "{text}"
    );
    assert_eq!(hub.stats().active_subscribers, 0);
}
