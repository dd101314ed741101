//! Arbitrary strings encoded as an event decode back to themselves (data with CR and CRLF
//! turned into LF, as documented).
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use sse_core::{
    parse::{Decoder, Frame},
    Event,
};

fuzz_target!(|input: (String, String, String)| {
    let (event, id, data) = input;
    let Ok(encoded) = Event::builder()
        .event(event.as_str())
        .id(id.as_str())
        .data(data.as_str())
        .build()
    else {
        // A CR or LF in the name, or CR, LF or NUL in the id, must be rejected.
        assert!(event.contains(['\r', '\n']) || id.contains(['\r', '\n', '\0']));
        return;
    };
    let mut decoder = Decoder::with_limits(usize::MAX, usize::MAX);
    let mut buf = BytesMut::from(encoded.as_bytes().as_ref());
    let Ok(Some(Frame::Event(message))) = decoder.decode(&mut buf) else {
        panic!("no event decoded from {encoded:?}");
    };
    let expected_event = if event.is_empty() {
        "message"
    } else {
        event.as_str()
    };
    assert_eq!(message.event, expected_event);
    assert_eq!(message.data, data.replace("\r\n", "\n").replace('\r', "\n"));
    assert_eq!(message.last_event_id, id);
    assert_eq!(decoder.decode(&mut buf).unwrap(), None);
    assert!(buf.is_empty());
});
