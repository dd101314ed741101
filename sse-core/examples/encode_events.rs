//! Builds the encode bench's events many times over, for counting the encoder's instructions
//! with callgrind (exact and repeatable where a timed bench on a shared VM is not):
//!
//! ```sh
//! cargo build --release -p sse-core --example encode_events
//! valgrind --tool=callgrind --toggle-collect='sse_core::event::EventBuilder::build' \
//!     target/release/examples/encode_events multiline 20000
//! valgrind --tool=callgrind --toggle-collect='sse_core::event::EventBuilder::build' \
//!     target/release/examples/encode_events json 200000
//! ```
//!
//! `multiline`: an id and 4 KiB of data in 64-byte lines (or lines of the length given as a
//! third argument); `json`: an event name, an id and 100 B of JSON. Both are the events of
//! `cargo bench -p sse-core --bench encode`, from the bench's own `texts` module. Divide the
//! count callgrind reports by the number of events.

use std::hint::black_box;

use sse_core::Event;

#[path = "../benches/texts/mod.rs"]
mod texts;

fn main() {
    let mut args = std::env::args().skip(1);
    let kind = args.next().unwrap_or_else(|| "multiline".into());
    let mut number = |what: &str, default: usize| match args.next().map(|n| n.parse()) {
        None => default,
        Some(Ok(n)) => n,
        Some(Err(err)) => exit(&format!("{what}: {err}")),
    };
    let count = number("the event count", 20_000);
    let line_len = number("the line length", 64);
    let (name, data) = match kind.as_str() {
        "multiline" => (None, texts::text_in_lines(4096, line_len)),
        "json" => (Some("update"), texts::json_100()),
        other => exit(&format!("unknown kind {other:?}: multiline or json")),
    };

    let mut bytes = 0;
    for _ in 0..count {
        let mut builder = Event::builder().id(black_box("42")).data(black_box(&*data));
        if let Some(name) = name {
            builder = builder.event(black_box(name));
        }
        match builder.build() {
            Ok(event) => bytes += black_box(event).len(),
            Err(err) => exit(&format!("building the event: {err}")),
        }
    }
    println!("{count} {kind} events, {bytes} bytes");
}

fn exit(message: &str) -> ! {
    eprintln!("encode_events: {message}");
    std::process::exit(2)
}
