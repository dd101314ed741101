//! One stream entry: its id, topic and event, read back from Redis and checked.
//!
//! Anything may have written to the stream (another program, a hand-typed `XADD`), so an
//! entry is untrusted: its id must be an `{epoch}-{seq}`, it must have a `topic` and an
//! `event` field, and the event bytes must decode, with sse-core's parser, as exactly one
//! event. It is then built again with sse-core's encoder (once per node, not per
//! subscriber), so what reaches a subscriber is always well-formed.

use std::fmt;

use bytes::BytesMut;
use redis::Value;
use sse_core::hub::EventId;
use sse_core::parse::{Decoder, Frame};
use sse_core::Event;

/// The largest encoded event accepted from the stream.
const MAX_EVENT_BYTES: usize = 1 << 20;

/// A well-formed entry.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) id: EventId,
    pub(crate) topic: String,
    pub(crate) event: Event,
}

/// An entry that is not one of ours; the reader skips it.
#[derive(Debug)]
pub(crate) struct Malformed {
    /// The stream id, when there was one (the reader reads on after it).
    pub(crate) raw_id: Option<String>,
    pub(crate) reason: &'static str,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.raw_id {
            Some(id) => write!(f, "stream entry {id}: {}", self.reason),
            None => write!(f, "stream entry: {}", self.reason),
        }
    }
}

/// The raw entries of an `XRANGE`/`XREVRANGE` reply (`[[id, [field, value, ..]], ..]`).
pub(crate) fn range_reply(reply: &Value) -> &[Value] {
    match reply {
        Value::Array(entries) => entries,
        _ => &[],
    }
}

/// The entries of an `XREAD` reply (`[[key, entries]]`, or nil when the block timed out).
pub(crate) fn read_reply(reply: &Value) -> &[Value] {
    match reply {
        Value::Array(streams) => match streams.first() {
            Some(Value::Array(pair)) if pair.len() == 2 => match &pair[1] {
                Value::Array(entries) => entries,
                _ => &[],
            },
            _ => &[],
        },
        _ => &[],
    }
}

/// The stream id of a raw entry, well-formed or not (a read goes on after it either way).
pub(crate) fn raw_id(entry: &Value) -> Option<String> {
    match entry {
        Value::Array(parts) => parts.first().and_then(text).map(str::to_owned),
        _ => None,
    }
}

/// One raw entry, checked.
pub(crate) fn entry(value: &Value) -> Result<Entry, Malformed> {
    let malformed = |raw_id: Option<&str>, reason| Malformed {
        raw_id: raw_id.map(str::to_owned),
        reason,
    };
    let Value::Array(parts) = value else {
        return Err(malformed(None, "not an entry"));
    };
    let [id, fields] = parts.as_slice() else {
        return Err(malformed(None, "not an entry"));
    };
    let raw_id = text(id).ok_or_else(|| malformed(None, "id is not text"))?;
    let id: EventId = raw_id
        .parse()
        .map_err(|_| malformed(Some(raw_id), "id is not {epoch}-{seq}"))?;
    let Value::Array(fields) = fields else {
        return Err(malformed(Some(raw_id), "no fields"));
    };
    let (mut topic, mut event) = (None, None);
    for pair in fields.chunks_exact(2) {
        match bytes(&pair[0]) {
            Some(b"topic") => topic = text(&pair[1]),
            Some(b"event") => event = bytes(&pair[1]),
            _ => {}
        }
    }
    let topic = topic.ok_or_else(|| malformed(Some(raw_id), "no text field `topic`"))?;
    let event = event.ok_or_else(|| malformed(Some(raw_id), "no field `event`"))?;
    let event =
        decode(event).ok_or_else(|| malformed(Some(raw_id), "`event` is not one SSE event"))?;
    Ok(Entry {
        id,
        topic: topic.to_owned(),
        event,
    })
}

fn bytes(value: &Value) -> Option<&[u8]> {
    match value {
        Value::BulkString(bytes) => Some(bytes),
        Value::SimpleString(text) => Some(text.as_bytes()),
        _ => None,
    }
}

fn text(value: &Value) -> Option<&str> {
    std::str::from_utf8(bytes(value)?).ok()
}

/// Decodes the bytes of exactly one event (as sse-core encoded it on the publishing node)
/// and encodes it again: an event type, data, a `retry`, or a comment alone. Its id, if it
/// had one, is dropped: the hub writes the stream id into it.
fn decode(encoded: &[u8]) -> Option<Event> {
    if encoded.len() > MAX_EVENT_BYTES {
        return None;
    }
    let mut decoder = Decoder::new();
    let mut buf = BytesMut::from(encoded);
    let (mut retry, mut comments, mut message) = (None, Vec::new(), None);
    while let Some(frame) = decoder.decode_eof(&mut buf).ok()? {
        match frame {
            Frame::Retry(delay) => retry = Some(delay),
            // `: text` comes back as " text": the encoder writes one space after the colon.
            Frame::Comment(text) => comments.push(match text.strip_prefix(' ') {
                Some(text) => text.to_owned(),
                None => text,
            }),
            Frame::Event(event) if message.is_none() => message = Some(event),
            // A second event: not what a publishing node writes.
            _ => return None,
        }
    }
    if !buf.is_empty() {
        return None;
    }
    let mut builder = Event::builder();
    if !comments.is_empty() {
        builder = builder.comment(comments.join("\n"));
    }
    if let Some(delay) = retry {
        builder = builder.retry(delay);
    }
    match message {
        Some(message) => {
            // "message" is also what the parser reports when there was no `event` field;
            // both mean the same to a client, and writing none is shorter.
            if message.event != "message" {
                builder = builder.event(message.event);
            }
            builder.data(message.data).build().ok()
        }
        None if !comments.is_empty() && retry.is_none() => {
            Some(Event::comment(&comments.join("\n")))
        }
        None => retry.map(Event::retry),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn bulk(text: &str) -> Value {
        Value::BulkString(text.as_bytes().to_vec())
    }

    fn raw(id: &str, fields: &[(&str, &str)]) -> Value {
        let fields = fields
            .iter()
            .flat_map(|(k, v)| [bulk(k), bulk(v)])
            .collect();
        Value::Array(vec![bulk(id), Value::Array(fields)])
    }

    #[test]
    fn events_decode_to_the_same_bytes() {
        for event in [
            Event::data("hello"),
            Event::data(""),
            Event::data("two\nlines"),
            Event::builder()
                .event("alert")
                .retry(Duration::from_millis(1500))
                .data(" leading space")
                .build()
                .unwrap(),
            Event::comment("just a comment"),
            Event::retry(Duration::from_secs(3)),
        ] {
            let encoded = std::str::from_utf8(event.as_bytes()).unwrap();
            let reply = Value::Array(vec![raw("7-1", &[("topic", "t"), ("event", encoded)])]);
            let got: Vec<_> = range_reply(&reply).iter().map(entry).collect();
            let [Ok(entry)] = got.as_slice() else {
                panic!("{encoded:?} did not decode: {got:?}")
            };
            assert_eq!(entry.event.as_bytes(), event.as_bytes(), "{encoded:?}");
            assert_eq!((entry.id, entry.topic.as_str()), (EventId::new(7, 1), "t"));
        }
    }

    #[test]
    fn foreign_entries_are_malformed_not_panics() {
        let cases = [
            (raw("1-1", &[("topic", "t")]), "no field `event`"),
            (
                raw("1-1", &[("event", "data: x\n\n")]),
                "no text field `topic`",
            ),
            (
                raw(
                    "1-1",
                    &[("topic", "t"), ("event", "data: a\n\ndata: b\n\n")],
                ),
                "`event` is not one SSE event",
            ),
            (
                raw("1-1", &[("topic", "t"), ("event", "data: unterminated")]),
                "`event` is not one SSE event",
            ),
            (
                raw("nope", &[("topic", "t"), ("event", "data: x\n\n")]),
                "id is not {epoch}-{seq}",
            ),
            (Value::Int(3), "not an entry"),
        ];
        for (value, reason) in cases {
            let got = [entry(&value)];
            let [Err(err)] = got.as_slice() else {
                panic!("expected one malformed entry, got {got:?}")
            };
            assert_eq!(err.reason, reason);
        }
    }

    #[test]
    fn a_timed_out_read_has_no_entries() {
        assert!(read_reply(&Value::Nil).is_empty());
        assert_eq!(raw_id(&raw("5-2", &[])).as_deref(), Some("5-2"));
        let reply = Value::Array(vec![Value::Array(vec![
            bulk("sse:events"),
            Value::Array(vec![raw(
                "5-2",
                &[("topic", "a"), ("event", "data: x\n\n")],
            )]),
        ])]);
        assert_eq!(read_reply(&reply).len(), 1);
    }
}
