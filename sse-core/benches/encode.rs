//! Building and encoding events: sse-core against axum's and actix-web-lab's own SSE, in the
//! same run.
//!
//! Each library is measured on the path a handler's event takes to wire bytes: built from
//! the same values, then written by that library's own SSE body (axum's `Sse`,
//! actix-web-lab's `Sse`, our `SseStream`), over a stream of `EVENTS` events so the
//! response set-up is amortised. `build_only` measures our builder alone.
//!
//! `cargo bench -p sse-core --bench encode`

use std::hint::black_box;
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use futures_util::{stream, Stream, StreamExt};

mod texts;

use texts::{json_100, text_in_lines};

const EVENTS: usize = 256;

/// Drains a stream that is always ready (no I/O), returning the number of bytes.
fn drain<S, B, E>(stream: S) -> usize
where
    S: Stream<Item = Result<B, E>>,
    B: AsRef<[u8]>,
    E: std::fmt::Debug,
{
    let mut stream = pin!(stream);
    let mut cx = Context::from_waker(Waker::noop());
    let mut total = 0;
    loop {
        match stream.as_mut().poll_next(&mut cx) {
            Poll::Ready(Some(chunk)) => total += chunk.unwrap().as_ref().len(),
            Poll::Ready(None) => return total,
            Poll::Pending => unreachable!("bench streams are always ready"),
        }
    }
}

fn ours(id: &str, name: Option<&str>, data: &str) -> usize {
    let events = stream::iter(0..EVENTS).map(|_| {
        let mut builder = sse_core::Event::builder().id(id).data(data);
        if let Some(name) = name {
            builder = builder.event(name);
        }
        builder.build()
    });
    drain(sse_core::SseStream::new(events))
}

fn axum(id: &str, name: Option<&str>, data: &str) -> usize {
    use axum::response::sse::{Event, Sse};
    use axum::response::IntoResponse;
    let data = data.to_owned();
    let id = id.to_owned();
    let name = name.map(str::to_owned);
    let events = stream::iter(0..EVENTS).map(move |_| {
        let mut event = Event::default().id(&id).data(&data);
        if let Some(name) = &name {
            event = event.event(name);
        }
        Ok::<_, std::convert::Infallible>(event)
    });
    let body = Sse::new(events).into_response().into_body();
    drain(body.into_data_stream())
}

fn actix_web_lab(id: &str, name: Option<&str>, data: &str) -> usize {
    use actix_web_lab::sse::{Data, Event, Sse};
    let data = data.to_owned();
    let id = id.to_owned();
    let name = name.map(str::to_owned);
    let events = stream::iter(0..EVENTS).map(move |_| {
        let mut event = Data::new(data.clone()).id(id.clone());
        if let Some(name) = &name {
            event = event.event(name.clone());
        }
        Ok::<_, std::convert::Infallible>(Event::Data(event))
    });
    let body = Sse::from_stream(events);
    drain(MessageBodyStream(body))
}

/// actix's `MessageBody` seen as a `Stream`.
struct MessageBodyStream<B>(B);

impl<B: actix_web::body::MessageBody + Unpin> Stream for MessageBodyStream<B> {
    type Item = Result<bytes::Bytes, B::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.0).poll_next(cx)
    }
}

fn bench_encode(c: &mut Criterion) {
    let cases = [
        ("id+event+json100", Some("update"), json_100()),
        ("id+multiline4k", None, text_in_lines(4096, 64)),
    ];
    for (label, name, data) in &cases {
        let mut group = c.benchmark_group(format!("encode/{label}"));
        group.throughput(Throughput::Elements(EVENTS as u64));
        group.bench_function(BenchmarkId::from_parameter("sse-core"), |b| {
            b.iter(|| ours(black_box("42"), *name, black_box(data)))
        });
        group.bench_function(BenchmarkId::from_parameter("axum"), |b| {
            b.iter(|| axum(black_box("42"), *name, black_box(data)))
        });
        group.bench_function(BenchmarkId::from_parameter("actix-web-lab"), |b| {
            b.iter(|| actix_web_lab(black_box("42"), *name, black_box(data)))
        });
        group.finish();
    }

    let json = json_100();
    let mut group = c.benchmark_group("encode/build_only");
    group.throughput(Throughput::Elements(1));
    group.bench_function("sse-core id+event+json100", |b| {
        b.iter(|| {
            sse_core::Event::builder()
                .event(black_box("update"))
                .id(black_box("42"))
                .data(black_box(json.as_str()))
                .build()
                .unwrap()
        })
    });
    let multiline = text_in_lines(4096, 64);
    group.bench_function("sse-core id+multiline4k", |b| {
        b.iter(|| {
            sse_core::Event::builder()
                .id(black_box("42"))
                .data(black_box(multiline.as_str()))
                .build()
                .unwrap()
        })
    });
    group.finish();

    // Sanity: every library wrote something for every event.
    for f in [ours, axum, actix_web_lab] {
        assert!(f("1", Some("e"), "x") >= EVENTS * 10);
    }
}

criterion_group!(benches, bench_encode);
criterion_main!(benches);
