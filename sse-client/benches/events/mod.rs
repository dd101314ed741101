//! The events the read bench serves, shared with `examples/decode_events.rs`, which counts
//! the decoder's instructions on the same events.

use sse_core::Event;

/// Events of about 100 bytes on the wire: a type, an id and a small JSON document.
pub(crate) fn small_event(n: usize) -> Event {
    let json = format!(r#"{{"user":"ada","seq":"{n:08}","action":"update","pad":"xxxxxxx"}}"#);
    Event::builder()
        .event("update")
        .id(n.to_string())
        .data(json)
        .build()
        .expect("an id of digits and JSON data encode")
}

/// Events with 4 KiB of data in 64 lines.
pub(crate) fn large_event(n: usize) -> Event {
    let line = "y".repeat(63);
    let data = vec![line; 64].join("\n");
    Event::builder()
        .id(n.to_string())
        .data(data)
        .build()
        .expect("an id of digits and plain lines encode")
}
