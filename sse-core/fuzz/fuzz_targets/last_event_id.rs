//! Any `Last-Event-ID` header value or query string: no panic, only ids a client may send
//! are accepted, and the header and the `lastEventId` query parameter agree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sse_core::LastEventId;

fuzz_target!(|input: &[u8]| {
    let from_header = LastEventId::from_header_value(input);
    if let Ok(Some(id)) = &from_header {
        assert_eq!(
            id.as_str().as_bytes(),
            input,
            "the header value is taken as is"
        );
        assert!(input.len() <= LastEventId::MAX_LEN);
        assert!(!input.iter().any(|b| matches!(b, b'\0' | b'\r' | b'\n')));
        assert_eq!(LastEventId::new(id.as_str()).as_ref(), Ok(id));
    }

    // The same bytes, percent-encoded into a query, decode to the same answer.
    let mut query = String::from("topic=a&lastEventId=");
    for byte in input {
        query.push_str(&format!("%{byte:02X}"));
    }
    query.push_str("&lastEventId=ignored");
    assert_eq!(LastEventId::from_query(&query), from_header);

    // Any query string at all: no panic, and an accepted id is a valid one.
    if let Ok(text) = std::str::from_utf8(input) {
        if let Ok(Some(id)) = LastEventId::from_query(text) {
            assert_eq!(LastEventId::new(id.as_str()).as_ref(), Ok(&id));
        }
    }
});
