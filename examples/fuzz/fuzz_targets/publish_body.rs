//! Any `POST /publish` body, in any chunks, through the demo's framework-free handler: no
//! panic; `202` publishes exactly the event the JSON describes (data with CR and CRLF read
//! back as LF), and every other answer is a `400` that publishes nothing.
#![no_main]

use bytes::{Bytes, BytesMut};
use futures_util::{stream, FutureExt, StreamExt};
use http::{HeaderMap, Method, StatusCode};
use libfuzzer_sys::fuzz_target;
use sse_core::parse::{Decoder, Frame};
use sse_examples::{app::BodyError, App, Config, DEFAULT_TOPIC};

fuzz_target!(|input: &[u8]| {
    let Some((&chunk_len, body)) = input.split_first() else {
        return;
    };
    let app = App::new(Config::default());
    let mut subscriber = app.hub().subscribe_all(None);

    let chunks: Vec<Result<Bytes, BodyError>> = body
        .chunks(usize::from(chunk_len).max(1))
        .map(|chunk| Ok(Bytes::copy_from_slice(chunk)))
        .collect();
    let reply = app
        .publish(&Method::POST, &HeaderMap::new(), None, stream::iter(chunks))
        .now_or_never()
        .expect("the in-memory hub answers at once");
    let published = subscriber.next().now_or_never().flatten();

    let Ok(request) = serde_json::from_slice::<serde_json::Value>(body) else {
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert!(published.is_none(), "invalid JSON published an event");
        return;
    };
    if reply.status != StatusCode::ACCEPTED {
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "for {request}");
        assert!(
            published.is_none(),
            "a rejected publish reached a subscriber"
        );
        return;
    }
    let event = published.expect("an accepted publish reaches the subscriber");
    assert!(matches!(
        request.get("topic"),
        None | Some(serde_json::Value::Null | serde_json::Value::String(_))
    ));
    let topic = request["topic"].as_str().unwrap_or(DEFAULT_TOPIC);
    assert!(!topic.is_empty());

    let mut decoder = Decoder::new();
    let mut bytes = BytesMut::from(event.as_bytes().as_ref());
    let Ok(Some(Frame::Event(message))) = decoder.decode(&mut bytes) else {
        panic!("the published event does not decode: {event:?}");
    };
    let expected_data = match &request["data"] {
        serde_json::Value::String(text) => text.replace("\r\n", "\n").replace('\r', "\n"),
        other => other.to_string(),
    };
    assert_eq!(message.data, expected_data);
    let expected_name = request["event"].as_str().filter(|name| !name.is_empty());
    assert_eq!(message.event, expected_name.unwrap_or("message"));
    assert_eq!(Some(message.last_event_id.as_str()), event.id());
});
