//! The WHATWG conformance vectors: parser cases 1–97 from `tests/data/cases.json` (fed whole,
//! one byte at a time, in their original chunks, and split in two at every byte position),
//! and encoder cases 122–143 of CASES.md written out as a table.

mod vectors;

use std::time::Duration;

use bytes::BytesMut;
use serde_json::Value;
use sse_core::{
    parse::{Decoder, Frame},
    Event, EventError,
};
use vectors::{repeated, unescape};

/// What a run observably does, in order (the `expected` list of a case).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Effect {
    Event {
        event: String,
        data: String,
        last_event_id: String,
    },
    /// Reconnection time in ms, saturated at `u64::MAX`.
    Retry(u64),
    /// End of the n-th body (1-based).
    Eof(usize),
}

/// Parses a decimal string of any length, saturating at `u64::MAX`.
fn saturating_ms(text: &str) -> u64 {
    text.bytes().fold(0u64, |n, d| {
        n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    })
}

fn millis(retry: Duration) -> u64 {
    u64::try_from(retry.as_millis()).unwrap_or(u64::MAX)
}

struct Case {
    n: u64,
    name: String,
    initial_last_event_id: String,
    /// Each body as its original chunks.
    bodies: Vec<Vec<Vec<u8>>>,
    expected: Vec<Effect>,
    /// `Last-Event-ID` sent when opening connections 2..n (`None`: no header).
    reconnect_headers: Vec<Option<String>>,
}

fn load_cases() -> Vec<Case> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/cases.json");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    json["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|case| Case {
            n: case["n"].as_u64().unwrap(),
            name: case["name"].as_str().unwrap().to_owned(),
            initial_last_event_id: case["initial_last_event_id"].as_str().unwrap().to_owned(),
            bodies: case["connections"]
                .as_array()
                .unwrap()
                .iter()
                .map(|body| {
                    body.as_array()
                        .unwrap()
                        .iter()
                        .map(|chunk| repeated(chunk, unescape))
                        .collect()
                })
                .collect(),
            expected: case["expected"]
                .as_array()
                .unwrap()
                .iter()
                .map(|effect| match effect["kind"].as_str().unwrap() {
                    "event" => Effect::Event {
                        event: effect["type"].as_str().unwrap().to_owned(),
                        data: String::from_utf8(repeated(&effect["data"], |t| {
                            t.as_bytes().to_vec()
                        }))
                        .unwrap(),
                        last_event_id: effect["last_event_id"].as_str().unwrap().to_owned(),
                    },
                    "retry" => Effect::Retry(saturating_ms(effect["ms"].as_str().unwrap())),
                    "eof" => Effect::Eof(effect["connection"].as_u64().unwrap() as usize),
                    other => panic!("unknown effect kind {other}"),
                })
                .collect(),
            reconnect_headers: case["reconnect_last_event_id_headers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|header| header.as_str().map(str::to_owned))
                .collect(),
        })
        .collect()
}

/// Runs the bodies (each already cut into chunks) through one decoder, as one event source.
fn run(case: &Case, bodies: &[Vec<&[u8]>]) -> (Vec<Effect>, Vec<Option<String>>) {
    let mut decoder = Decoder::new().with_last_event_id(case.initial_last_event_id.clone());
    let mut effects = Vec::new();
    let mut headers = Vec::new();
    let push = |effects: &mut Vec<Effect>, frame: Frame| match frame {
        Frame::Event(message) => effects.push(Effect::Event {
            event: message.event,
            data: message.data,
            last_event_id: message.last_event_id,
        }),
        Frame::Retry(retry) => effects.push(Effect::Retry(millis(retry))),
        Frame::Comment(_) => {}
        other => panic!("unexpected frame {other:?}"),
    };
    for (i, chunks) in bodies.iter().enumerate() {
        if i > 0 {
            decoder.reconnect();
            let id = decoder.last_event_id();
            headers.push((!id.is_empty()).then(|| id.to_owned()));
        }
        let mut buf = BytesMut::new();
        for chunk in chunks {
            buf.extend_from_slice(chunk);
            while let Some(frame) = decoder.decode(&mut buf).expect("decode error") {
                push(&mut effects, frame);
            }
        }
        while let Some(frame) = decoder.decode_eof(&mut buf).expect("decode error") {
            push(&mut effects, frame);
        }
        effects.push(Effect::Eof(i + 1));
    }
    (effects, headers)
}

fn check(case: &Case, how: &str, bodies: &[Vec<&[u8]>]) {
    let (effects, headers) = run(case, bodies);
    if effects != case.expected {
        let first_diff = effects
            .iter()
            .zip(&case.expected)
            .position(|(a, b)| a != b)
            .unwrap_or(effects.len().min(case.expected.len()));
        panic!(
            "case {} ({}) fed {how}: effects differ at index {first_diff} (got {} effects, expected {})\n got: {:?}\nwant: {:?}",
            case.n,
            case.name,
            effects.len(),
            case.expected.len(),
            effects.get(first_diff),
            case.expected.get(first_diff),
        );
    }
    assert_eq!(
        headers, case.reconnect_headers,
        "case {} ({}) fed {how}: Last-Event-ID headers on reconnect",
        case.n, case.name
    );
}

/// Inputs longer than this get a sample of 2-way split positions (the first and last 16
/// positions and 32 spread over the rest) instead of all of them, to keep the volume cases
/// (1 MiB lines, 10,000 lines) fast in debug builds.
const ALL_SPLITS_UP_TO: usize = 4096;

fn split_positions(len: usize) -> Vec<usize> {
    if len <= ALL_SPLITS_UP_TO {
        return (0..=len).collect();
    }
    let mut positions: Vec<usize> = (0..16).chain(len - 16..=len).collect();
    positions.extend((1..32).map(|k| k * len / 32));
    positions.sort_unstable();
    positions.dedup();
    positions
}

#[test]
fn parser_vectors_from_cases_json() {
    let cases = load_cases();
    assert_eq!(cases.len(), 97, "cases.json should hold parser cases 1-97");
    for case in &cases {
        let whole: Vec<Vec<u8>> = case.bodies.iter().map(|chunks| chunks.concat()).collect();

        let original: Vec<Vec<&[u8]>> = case
            .bodies
            .iter()
            .map(|chunks| chunks.iter().map(Vec::as_slice).collect())
            .collect();
        check(case, "in its original chunks", &original);

        let at_once: Vec<Vec<&[u8]>> = whole.iter().map(|body| vec![&body[..]]).collect();
        check(case, "whole", &at_once);

        let bytewise: Vec<Vec<&[u8]>> = whole.iter().map(|body| body.chunks(1).collect()).collect();
        check(case, "one byte at a time", &bytewise);

        let longest = whole.iter().map(Vec::len).max().unwrap_or(0);
        for at in split_positions(longest) {
            let split: Vec<Vec<&[u8]>> = whole
                .iter()
                .map(|body| {
                    let (a, b) = body.split_at(at.min(body.len()));
                    vec![a, b]
                })
                .collect();
            check(case, &format!("split at byte {at}"), &split);
        }
    }
}

/// One encoder vector: how the event is built, the exact bytes, and what our parser makes
/// of them.
struct EncoderVector {
    n: u32,
    event: Result<Event, EventError>,
    wire: &'static [u8],
    parses_to: Vec<Effect>,
}

fn message(event: &str, data: &str, last_event_id: &str) -> Effect {
    Effect::Event {
        event: event.into(),
        data: data.into(),
        last_event_id: last_event_id.into(),
    }
}

#[test]
fn encoder_vectors_122_to_137_encode_exactly_and_parse_back() {
    let vectors = [
        EncoderVector {
            n: 122,
            event: Ok(Event::data("hello")),
            wire: b"data: hello\n\n",
            parses_to: vec![message("message", "hello", "")],
        },
        EncoderVector {
            n: 123,
            event: Ok(Event::data("a\nb")),
            wire: b"data: a\ndata: b\n\n",
            parses_to: vec![message("message", "a\nb", "")],
        },
        EncoderVector {
            n: 124,
            event: Ok(Event::data("a\r\nb")),
            wire: b"data: a\ndata: b\n\n",
            parses_to: vec![message("message", "a\nb", "")],
        },
        EncoderVector {
            n: 125,
            event: Ok(Event::data("a\rb")),
            wire: b"data: a\ndata: b\n\n",
            parses_to: vec![message("message", "a\nb", "")],
        },
        EncoderVector {
            n: 126,
            event: Ok(Event::data("")),
            wire: b"data:\n\n",
            parses_to: vec![message("message", "", "")],
        },
        EncoderVector {
            n: 127,
            event: Ok(Event::data("x\n")),
            wire: b"data: x\ndata:\n\n",
            parses_to: vec![message("message", "x\n", "")],
        },
        EncoderVector {
            n: 128,
            event: Ok(Event::data("\n")),
            wire: b"data:\ndata:\n\n",
            parses_to: vec![message("message", "\n", "")],
        },
        EncoderVector {
            n: 129,
            event: Ok(Event::data(" lead")),
            wire: b"data:  lead\n\n",
            parses_to: vec![message("message", " lead", "")],
        },
        EncoderVector {
            n: 130,
            event: Ok(Event::data("a\u{2028}b\u{85}c")),
            wire: b"data: a\xE2\x80\xA8b\xC2\x85c\n\n",
            parses_to: vec![message("message", "a\u{2028}b\u{85}c", "")],
        },
        EncoderVector {
            n: 131,
            event: Ok(Event::data("x\n\nevent: evil\ndata: y")),
            wire: b"data: x\ndata:\ndata: event: evil\ndata: data: y\n\n",
            parses_to: vec![message("message", "x\n\nevent: evil\ndata: y", "")],
        },
        EncoderVector {
            n: 132,
            event: Event::builder().event("update").id("42").data("x").build(),
            wire: b"event: update\nid: 42\ndata: x\n\n",
            parses_to: vec![message("update", "x", "42")],
        },
        EncoderVector {
            n: 133,
            event: Event::builder().id("").data("x").build(),
            wire: b"id:\ndata: x\n\n",
            parses_to: vec![message("message", "x", "")],
        },
        EncoderVector {
            n: 134,
            event: Event::builder().retry(Duration::from_millis(3000)).build(),
            wire: b"retry: 3000\n\n",
            parses_to: vec![Effect::Retry(3000)],
        },
        EncoderVector {
            n: 135,
            event: Event::builder().id("7").build(),
            wire: b"id: 7\n\n",
            parses_to: vec![],
        },
        EncoderVector {
            n: 136,
            event: Ok(Event::comment("keep-alive")),
            wire: b": keep-alive\n",
            parses_to: vec![],
        },
        EncoderVector {
            n: 137,
            event: Ok(Event::comment("a\nb")),
            wire: b": a\n: b\n",
            parses_to: vec![],
        },
    ];
    for vector in vectors {
        let n = vector.n;
        let event = vector
            .event
            .unwrap_or_else(|err| panic!("case {n}: encoding failed: {err}"));
        assert_eq!(
            event.as_bytes().as_ref(),
            vector.wire,
            "case {n}: encoded bytes"
        );
        let mut decoder = Decoder::new();
        let mut buf = BytesMut::from(vector.wire);
        let mut effects = Vec::new();
        while let Some(frame) = decoder.decode(&mut buf).unwrap() {
            match frame {
                Frame::Event(m) => effects.push(message(&m.event, &m.data, &m.last_event_id)),
                Frame::Retry(retry) => effects.push(Effect::Retry(millis(retry))),
                _ => {}
            }
        }
        assert!(buf.is_empty(), "case {n}: every line is complete");
        assert_eq!(effects, vector.parses_to, "case {n}: parsed effects");
        if n == 135 {
            assert_eq!(
                decoder.last_event_id(),
                "7",
                "case 135: id-only block sets the id"
            );
        }
    }
}

#[test]
fn encoder_vectors_138_to_143_are_rejected() {
    let rejected = [
        (138, Event::builder().event("a\nb").data("x").build()),
        (
            139,
            Event::builder().event("a\rdata: evil").data("x").build(),
        ),
        (140, Event::builder().id("1\0").data("x").build()),
        (141, Event::builder().id("1\r").data("x").build()),
        (142, Event::builder().id("1\ndata: evil").data("x").build()),
    ];
    for (n, result) in rejected {
        assert!(
            result.is_err(),
            "case {n}: must be rejected, got {result:?}"
        );
    }
    // 143, negative retry: `retry` takes a `Duration`, which cannot be negative, so the
    // encoder cannot even be asked; building such a Duration is where it fails.
    assert!(Duration::try_from_secs_f64(-1.0).is_err(), "case 143");
}
