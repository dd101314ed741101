//! Heartbeats on a paused clock, polling bodies in memory.

mod support;

use std::time::Duration;

use axum::response::{sse, IntoResponse};
use bytes::Bytes;
use http_body::Body as _;
use http_body_util::BodyExt;
use sse_tower::{Heartbeat, HeartbeatBody};
use support::ChannelBody;
use tokio::time::{timeout, Instant};

const INTERVAL: Duration = Duration::from_secs(10);

/// The next data frame, or `None` at the end; panics after `within`.
async fn next<B>(body: &mut B, within: Duration) -> Option<Bytes>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Debug,
{
    let frame = timeout(within, body.frame())
        .await
        .expect("no frame in time")?;
    Some(frame.unwrap().into_data().unwrap())
}

/// Asserts nothing arrives for `quiet`.
async fn silent<B>(body: &mut B, quiet: Duration)
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Debug,
{
    if let Ok(frame) = timeout(quiet, body.frame()).await {
        panic!("expected silence, got {frame:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn heartbeat_arrives_after_an_idle_interval() {
    let (tx, body) = ChannelBody::new();
    let mut body = HeartbeatBody::new(body, Heartbeat::every(INTERVAL));
    tx.send("data: one\n\n").unwrap();
    assert_eq!(next(&mut body, INTERVAL).await.unwrap(), "data: one\n\n");
    let start = Instant::now();
    assert_eq!(next(&mut body, 2 * INTERVAL).await.unwrap(), ":\n");
    assert_eq!(start.elapsed(), INTERVAL);
    assert_eq!(next(&mut body, 2 * INTERVAL).await.unwrap(), ":\n");
    assert_eq!(start.elapsed(), 2 * INTERVAL);
}

#[tokio::test(start_paused = true)]
async fn heartbeat_never_splits_an_event_written_in_three_chunks() {
    let (tx, body) = ChannelBody::new();
    let mut body = HeartbeatBody::new(body, Heartbeat::every(INTERVAL).text("hb"));
    for chunk in ["data: hel", "lo\n", "\n"] {
        tx.send(chunk).unwrap();
        assert_eq!(next(&mut body, INTERVAL).await.unwrap(), chunk);
        if chunk != "\n" {
            // Stalled mid-event for 3.5 intervals: no comment may be written.
            silent(&mut body, INTERVAL * 7 / 2).await;
        }
    }
    let start = Instant::now();
    assert_eq!(next(&mut body, 2 * INTERVAL).await.unwrap(), ": hb\n");
    assert_eq!(start.elapsed(), INTERVAL);
}

#[tokio::test(start_paused = true)]
async fn heartbeat_follows_crlf_and_cr_event_endings() {
    for ending in ["data: a\r\n\r\n", "data: a\r\r"] {
        let (tx, body) = ChannelBody::new();
        let mut body = HeartbeatBody::new(body, Heartbeat::every(INTERVAL));
        tx.send(ending).unwrap();
        next(&mut body, INTERVAL).await.unwrap();
        assert_eq!(next(&mut body, 2 * INTERVAL).await.unwrap(), ":\n");
    }
    // A field line ended by CR, whose LF comes later, is no boundary.
    let (tx, body) = ChannelBody::new();
    let mut body = HeartbeatBody::new(body, Heartbeat::every(INTERVAL));
    tx.send("data: a\r").unwrap();
    next(&mut body, INTERVAL).await.unwrap();
    silent(&mut body, 3 * INTERVAL).await;
    tx.send("\n").unwrap();
    next(&mut body, INTERVAL).await.unwrap();
    silent(&mut body, 3 * INTERVAL).await;
}

#[tokio::test(start_paused = true)]
async fn no_heartbeat_while_events_flow() {
    let (tx, body) = ChannelBody::new();
    let mut body = HeartbeatBody::new(body, Heartbeat::every(INTERVAL));
    tokio::spawn(async move {
        for _ in 0..12 {
            tx.send("data: tick\n\n").unwrap();
            tokio::time::sleep(INTERVAL / 2).await;
        }
    });
    for _ in 0..12 {
        assert_eq!(next(&mut body, INTERVAL).await.unwrap(), "data: tick\n\n");
    }
    // The producer ended after 60 s of events; now the stream is idle: ends (sender dropped
    // half an interval after the last event).
    assert!(next(&mut body, INTERVAL).await.is_none());
}

#[tokio::test(start_paused = true)]
async fn heartbeats_resume_one_interval_after_the_last_event() {
    let (tx, body) = ChannelBody::new();
    let mut body = HeartbeatBody::new(body, Heartbeat::every(INTERVAL));
    let (tx2, mut rx2) = tokio::sync::mpsc::unbounded_channel::<()>();
    tokio::spawn(async move {
        for _ in 0..4 {
            tx.send("data: tick\n\n").unwrap();
            tokio::time::sleep(INTERVAL * 3 / 4).await;
        }
        // Keep the body open.
        let _ = rx2.recv().await;
        drop(tx);
    });
    for _ in 0..4 {
        assert_eq!(next(&mut body, INTERVAL).await.unwrap(), "data: tick\n\n");
    }
    let last_event = Instant::now();
    assert_eq!(next(&mut body, 2 * INTERVAL).await.unwrap(), ":\n");
    assert_eq!(last_event.elapsed(), INTERVAL);
    drop(tx2);
}

#[tokio::test(start_paused = true)]
async fn a_body_sending_its_own_comments_gets_none_injected() {
    let (tx, body) = ChannelBody::new();
    let mut body = HeartbeatBody::new(body, Heartbeat::every(INTERVAL).text("injected"));
    tokio::spawn(async move {
        for _ in 0..10 {
            tx.send(": own\n").unwrap();
            tokio::time::sleep(INTERVAL * 9 / 10).await;
        }
    });
    for _ in 0..10 {
        assert_eq!(next(&mut body, INTERVAL).await.unwrap(), ": own\n");
    }
    assert!(next(&mut body, INTERVAL).await.is_none());
}

#[tokio::test(start_paused = true)]
async fn nothing_after_the_end() {
    let (tx, body) = ChannelBody::new();
    let mut body = HeartbeatBody::new(body, Heartbeat::every(INTERVAL));
    tx.send("data: last\n\n").unwrap();
    drop(tx);
    assert_eq!(next(&mut body, INTERVAL).await.unwrap(), "data: last\n\n");
    assert!(next(&mut body, INTERVAL).await.is_none());
    assert!(body.is_end_stream());
    assert_eq!(body.size_hint().exact(), Some(0));
    tokio::time::advance(10 * INTERVAL).await;
    assert!(next(&mut body, INTERVAL).await.is_none());
}

#[tokio::test(start_paused = true)]
async fn wraps_axums_own_sse() {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<sse::Event>();
    let events = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|event| (Ok::<_, std::convert::Infallible>(event), rx))
    });
    let axum_body = sse::Sse::new(events).into_response().into_body();
    let mut body = HeartbeatBody::new(axum_body, Heartbeat::every(INTERVAL));

    tx.send(sse::Event::default().event("greeting").data("hi\nthere"))
        .unwrap();
    assert_eq!(
        next(&mut body, INTERVAL).await.unwrap(),
        "event: greeting\ndata: hi\ndata: there\n\n"
    );
    let start = Instant::now();
    assert_eq!(next(&mut body, 2 * INTERVAL).await.unwrap(), ":\n");
    assert_eq!(start.elapsed(), INTERVAL);
    tx.send(sse::Event::default().data("again")).unwrap();
    assert_eq!(next(&mut body, INTERVAL).await.unwrap(), "data: again\n\n");
    drop(tx);
    assert!(next(&mut body, INTERVAL).await.is_none());
    assert!(next(&mut body, INTERVAL).await.is_none());
}
