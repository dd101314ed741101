//! Polling N ready event frames through `HeartbeatBody`, and through the whole `SseLayer`
//! body (heartbeats plus the stream's counters: bytes written, close reason), against the
//! bare body.
//!
//! Run: `cargo bench -p sse-tower --bench heartbeat -- --warm-up-time 1 --measurement-time 3`

use std::{
    convert::Infallible,
    hint::black_box,
    pin::Pin,
    task::{Context, Poll, Waker},
    time::Duration,
};

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use futures_util::stream;
use futures_util::FutureExt;
use http_body::{Body, Frame};
use http_body_util::StreamBody;
use sse_tower::{Heartbeat, HeartbeatBody, SseConfig, SseLayer};
use tower::{Layer, Service, ServiceExt};

const EVENTS: usize = 1000;

type Frames = stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, Infallible>>>;

fn frames(chunks: &[&'static [u8]]) -> StreamBody<Frames> {
    let frames: Vec<_> = (0..EVENTS)
        .flat_map(|_| {
            chunks
                .iter()
                .map(|c| Ok(Frame::data(Bytes::from_static(c))))
        })
        .collect();
    StreamBody::new(stream::iter(frames))
}

/// Polls `body` to its end on a no-op waker; every frame is ready.
fn drain<B: Body<Data = Bytes> + Unpin>(mut body: B) -> usize {
    let mut cx = Context::from_waker(Waker::noop());
    let mut bytes = 0;
    loop {
        match Pin::new(&mut body).poll_frame(&mut cx) {
            Poll::Ready(Some(Ok(frame))) => bytes += frame.data_ref().map_or(0, |d| d.len()),
            Poll::Ready(None) => return bytes,
            Poll::Ready(Some(Err(_))) | Poll::Pending => unreachable!(),
        }
    }
}

fn bench(c: &mut Criterion) {
    let cases: [(&str, &[&'static [u8]]); 2] = [
        (
            "whole_events",
            &[b"id: 1234\ndata: {\"price\":101.25,\"qty\":7}\n\n"],
        ),
        // One event in three chunks: the frames that don't end at a blank line are stepped.
        (
            "split_events",
            &[
                b"id: 1234\ndata: {\"pri",
                b"ce\":101.25,\"qty\":7}\n",
                b"\n",
            ],
        ),
    ];
    for (name, chunks) in cases {
        let mut group = c.benchmark_group(format!("poll_{EVENTS}_{name}"));
        group.throughput(Throughput::Elements(EVENTS as u64));
        group.bench_function("bare", |b| {
            b.iter_batched(
                || frames(chunks),
                |body| black_box(drain(body)),
                BatchSize::SmallInput,
            )
        });
        group.bench_function("heartbeat", |b| {
            b.iter_batched(
                || HeartbeatBody::new(frames(chunks), Heartbeat::every(Duration::from_secs(15))),
                |body| black_box(drain(body)),
                BatchSize::SmallInput,
            )
        });
        group.bench_function("layer", |b| {
            let config = SseConfig::new().heartbeat(Heartbeat::every(Duration::from_secs(15)));
            let layer = SseLayer::from(config);
            b.iter_batched(
                || layer_body(&layer, frames(chunks)),
                |body| black_box(drain(body)),
                BatchSize::SmallInput,
            )
        });
        group.finish();
    }
}

/// `body` as an SSE response body that has gone through `layer`.
fn layer_body(layer: &SseLayer, body: StreamBody<Frames>) -> impl Body<Data = Bytes> + Unpin {
    let mut body = Some(body);
    let handler = tower::service_fn(move |_req: http::Request<()>| {
        let response = http::Response::builder()
            .header("content-type", "text/event-stream")
            .body(body.take().expect("called once"))
            .unwrap();
        std::future::ready(Ok::<_, Infallible>(response))
    });
    let mut service = layer.layer(handler);
    service
        .ready()
        .now_or_never()
        .unwrap()
        .unwrap()
        .call(http::Request::new(()))
        .now_or_never()
        .unwrap()
        .unwrap()
        .into_body()
}

criterion_group!(benches, bench);
criterion_main!(benches);
