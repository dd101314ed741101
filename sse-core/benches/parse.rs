//! Parsing throughput of `parse::Decoder` on 1 MB bodies: mixed small events, and large
//! (64 KiB) data lines, fed whole and in 16 KiB chunks (as from a socket).
//!
//! `cargo bench -p sse-core --bench parse`

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use sse_core::{
    parse::{Decoder, Frame},
    Event,
};

const BODY_LEN: usize = 1 << 20;
const CHUNK: usize = 16 << 10;

/// About 1 MB of typical traffic: JSON events with type and id, multi-line data, comments.
fn mixed_body() -> Vec<u8> {
    let json = r#"{"user":"ada","action":"update","resource":"doc/42","rev":17,"ok":true}"#;
    let mut body = Vec::with_capacity(BODY_LEN + 1024);
    let mut n = 0u64;
    while body.len() < BODY_LEN {
        let id = n.to_string();
        let event = match n % 4 {
            0 => Event::builder()
                .event("update")
                .id(&*id)
                .data(json)
                .build()
                .unwrap(),
            1 => Event::data("line one\nline two\r\nline three"),
            2 => Event::comment("keep-alive"),
            _ => Event::builder()
                .id(&*id)
                .data("héllo wörld, some text with multi-byte characters €")
                .build()
                .unwrap(),
        };
        body.extend_from_slice(event.as_bytes());
        n += 1;
    }
    body
}

/// 1 MB of events of one 64 KiB data line each.
fn large_lines_body() -> Vec<u8> {
    let data = "x".repeat(64 << 10);
    let event = Event::data(&data);
    let mut body = Vec::with_capacity(BODY_LEN + event.len());
    while body.len() < BODY_LEN {
        body.extend_from_slice(event.as_bytes());
    }
    body
}

/// Decodes the whole body from one buffer; returns the number of events.
fn decode_whole(mut buf: BytesMut) -> usize {
    let mut decoder = Decoder::new();
    let mut events = 0;
    while let Some(frame) = decoder.decode(&mut buf).unwrap() {
        if let Frame::Event(message) = frame {
            black_box(&message);
            events += 1;
        }
    }
    events
}

/// Decodes the body fed in `CHUNK`-sized pieces, copied into the buffer as a socket would.
fn decode_chunked(body: &[u8]) -> usize {
    let mut decoder = Decoder::new();
    let mut buf = BytesMut::with_capacity(2 * CHUNK);
    let mut events = 0;
    for chunk in body.chunks(CHUNK) {
        buf.extend_from_slice(chunk);
        while let Some(frame) = decoder.decode(&mut buf).unwrap() {
            if let Frame::Event(message) = frame {
                black_box(&message);
                events += 1;
            }
        }
    }
    events
}

fn bench(c: &mut Criterion) {
    for (name, body) in [("mixed", mixed_body()), ("64k_lines", large_lines_body())] {
        let events = decode_chunked(&body);
        assert_eq!(decode_whole(BytesMut::from(&body[..])), events);
        let mut group = c.benchmark_group(format!("parse/{name}"));
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function("whole", |b| {
            b.iter_batched(
                || BytesMut::from(&body[..]),
                decode_whole,
                BatchSize::LargeInput,
            )
        });
        group.bench_function("16k_chunks", |b| b.iter(|| decode_chunked(&body)));
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
