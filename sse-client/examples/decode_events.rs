//! Decodes a prepared body of SSE events in 16 KiB chunks, for counting the decoder's
//! instructions with callgrind (exact and repeatable where a timed bench on a shared VM is
//! not):
//!
//! ```sh
//! cargo build --release -p sse-client --example decode_events
//! valgrind --tool=callgrind --toggle-collect='sse_core::parse::decoder::Decoder::decode' \
//!     target/release/examples/decode_events small 50000
//! valgrind --tool=callgrind --toggle-collect='sse_core::parse::decoder::Decoder::decode' \
//!     target/release/examples/decode_events large 2000
//! ```
//!
//! `small`: the events of `cargo bench -p sse-client --bench read`'s `100B` groups (~100 B
//! on the wire: `event: update`, an id, a JSON document); `large`: those of its
//! `4KiB-multiline` groups (an id and 4 KiB of data in 64 lines). Both come from the bench's
//! own `events` module.

use std::hint::black_box;

use bytes::BytesMut;
use sse_core::parse::{Decoder, Frame};
use sse_core::Event;

#[path = "../benches/events/mod.rs"]
mod events;

fn main() {
    let mut args = std::env::args().skip(1);
    let kind = args.next().unwrap_or_else(|| "small".into());
    let count: usize = match args.next().map(|n| n.parse()) {
        None => 50_000,
        Some(Ok(count)) => count,
        Some(Err(err)) => exit(&format!("the event count: {err}")),
    };
    let event: fn(usize) -> Event = match kind.as_str() {
        "small" => events::small_event,
        "large" => events::large_event,
        other => exit(&format!("unknown kind {other:?}: small or large")),
    };
    let mut body = Vec::new();
    for n in 0..count {
        body.extend_from_slice(event(n).as_bytes());
    }

    let mut decoder = Decoder::new();
    let mut buf = BytesMut::new();
    let mut events = 0;
    for chunk in body.chunks(16 << 10) {
        buf.extend_from_slice(chunk);
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(Frame::Event(message))) => {
                    black_box(message);
                    events += 1;
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(err) => exit(&format!("the body does not decode: {err}")),
            }
        }
    }
    println!("{events} events decoded from {} bytes", body.len());
}

fn exit(message: &str) -> ! {
    eprintln!("decode_events: {message}");
    std::process::exit(2);
}
