//! What the encoder writes, the parser reads back: `decode(encode(e))` for arbitrary events
//! in arbitrary chunks (proptest), a 1 MiB payload, and a cross-check against an independent
//! client (LaunchDarkly's `eventsource-client`) over a real socket.
//!
//! Data is compared after CR and CRLF are turned into LF: the wire has only LF line breaks,
//! so that is what every client sees (documented on `sse_core::Event`).

use std::time::Duration;

use bytes::BytesMut;
use proptest::{prelude::*, strategy::ValueTree};
use sse_core::{
    parse::{Decoder, Frame, Message},
    Event,
};

/// The fields of one event, as given to the builder.
#[derive(Debug, Clone, Default)]
struct Spec {
    comment: Option<String>,
    event: Option<String>,
    id: Option<String>,
    retry: Option<u64>,
    data: Option<String>,
}

impl Spec {
    fn encode(&self) -> Event {
        let mut builder = Event::builder();
        if let Some(comment) = &self.comment {
            builder = builder.comment(comment.as_str());
        }
        if let Some(event) = &self.event {
            builder = builder.event(event.as_str());
        }
        if let Some(id) = &self.id {
            builder = builder.id(id.as_str());
        }
        if let Some(retry) = self.retry {
            builder = builder.retry(Duration::from_millis(retry));
        }
        if let Some(data) = &self.data {
            builder = builder.data(data.as_str());
        }
        builder.build().expect("the strategies make valid events")
    }

    /// The frames a conformant parser yields for this event, given the last event ID before
    /// it (updated).
    fn expected_frames(&self, last_event_id: &mut String, out: &mut Vec<Frame>) {
        if let Some(comment) = &self.comment {
            out.extend(split_lines(comment).map(|line| Frame::Comment(line.to_owned())));
        }
        if let Some(retry) = self.retry {
            out.push(Frame::Retry(Duration::from_millis(retry)));
        }
        if let Some(id) = &self.id {
            last_event_id.clone_from(id);
        }
        if let Some(data) = &self.data {
            out.push(Frame::Event(Message {
                event: match self.event.as_deref() {
                    None | Some("") => "message".to_owned(),
                    Some(event) => event.to_owned(),
                },
                data: normalise_line_breaks(data),
                last_event_id: last_event_id.clone(),
            }));
        }
    }
}

/// Splits on CRLF, CR and LF, as the encoder does.
fn split_lines(text: &str) -> impl Iterator<Item = &str> {
    text.split("\r\n").flat_map(|part| part.split(['\r', '\n']))
}

/// CRLF and CR become LF: what arrives of data with such line breaks.
fn normalise_line_breaks(data: &str) -> String {
    data.replace("\r\n", "\n").replace('\r', "\n")
}

/// Decodes `wire` as one body, cut at the given (sorted) positions.
fn decode(wire: &[u8], cuts: &[usize]) -> (Vec<Frame>, Decoder) {
    let mut decoder = Decoder::new();
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    let mut start = 0;
    for &end in cuts.iter().chain([&wire.len()]) {
        let end = end.clamp(start, wire.len());
        buf.extend_from_slice(&wire[start..end]);
        start = end;
        while let Some(frame) = decoder.decode(&mut buf).expect("decode error") {
            frames.push(frame);
        }
    }
    while let Some(frame) = decoder.decode_eof(&mut buf).expect("decode error") {
        frames.push(frame);
    }
    (frames, decoder)
}

/// Text with every kind of line break, leading spaces, colons and arbitrary Unicode.
fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => any::<String>(),
            2 => "[a-z:é€😀]{0,6}",
            1 => Just("\r".to_owned()),
            1 => Just("\n".to_owned()),
            1 => Just("\r\n".to_owned()),
            1 => Just(" ".to_owned()),
            1 => Just("\u{FEFF}\u{2028}\u{85}\0".to_owned()),
        ],
        0..8,
    )
    .prop_map(|pieces| pieces.concat())
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        prop::option::weighted(0.2, text()),
        prop::option::of("[^\r\n]{0,12}"),
        prop::option::of("[^\r\n\u{0}]{0,12}"),
        prop::option::weighted(0.2, any::<u64>()),
        prop::option::weighted(0.8, text()),
    )
        .prop_map(|(comment, event, id, retry, data)| Spec {
            comment,
            event,
            id,
            retry,
            data,
        })
}

#[test]
fn event_name_only_is_ended_by_a_blank_line() {
    let event = Event::builder().event("x").build().unwrap();
    assert_eq!(event.as_bytes().as_ref(), b"event: x\n\n");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn decode_of_encode_gives_the_events_back_in_any_chunking(
        specs in prop::collection::vec(spec(), 1..8),
        mut cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let mut wire = Vec::new();
        let mut expected = Vec::new();
        let mut last_event_id = String::new();
        for spec in &specs {
            wire.extend_from_slice(spec.encode().as_bytes());
            spec.expected_frames(&mut last_event_id, &mut expected);
        }
        let mut positions: Vec<usize> = cuts.drain(..).map(|i| i.index(wire.len() + 1)).collect();
        positions.sort_unstable();
        let (frames, decoder) = decode(&wire, &positions);
        prop_assert_eq!(frames, expected);
        prop_assert_eq!(decoder.last_event_id(), last_event_id.as_str());
    }
}

#[test]
fn one_mebibyte_payloads_round_trip() {
    // One line of 1 MiB, and 1 MiB of mixed lines, breaks and multi-byte characters.
    let single_line = "x".repeat(1 << 20);
    let pattern = "héllo wörld €😀\r\n data:\rnot a field\n\n: \u{FEFF}";
    let mixed: String = pattern.repeat((1 << 20) / pattern.len() + 1);
    for data in [single_line, mixed] {
        let spec = Spec {
            event: Some("big".into()),
            id: Some("1".into()),
            data: Some(data),
            ..Spec::default()
        };
        let wire = spec.encode();
        let mut expected = Vec::new();
        spec.expected_frames(&mut String::new(), &mut expected);
        // Odd-sized chunks, so line breaks and characters are split everywhere.
        let cuts: Vec<usize> = (1..)
            .map(|k| k * 8191)
            .take_while(|&c| c < wire.len())
            .collect();
        let (frames, _) = decode(wire.as_bytes(), &cuts);
        assert!(frames == expected, "1 MiB payload did not round-trip");
    }
}

/// Serves one HTTP/1.1 response with `body` on 127.0.0.1 and returns its URL.
async fn serve_once(body: Vec<u8>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/events", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        // Read the request head.
        let mut request = Vec::new();
        let mut byte = [0; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = socket.read(&mut byte).await.unwrap();
            assert!(n > 0, "client closed before sending its request");
            request.extend_from_slice(&byte[..n]);
        }
        socket
            .write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                  cache-control: no-store\r\nconnection: close\r\n\r\n",
            )
            .await
            .unwrap();
        // Several writes, so the client sees the body in more than one chunk.
        for piece in body.chunks(997) {
            socket.write_all(piece).await.unwrap();
            socket.flush().await.unwrap();
        }
        socket.shutdown().await.unwrap();
    });
    url
}

/// The (type, data, id) of every event LaunchDarkly's client reads from `wire`.
async fn eventsource_client_events(wire: Vec<u8>) -> Vec<(String, String, String)> {
    use eventsource_client::{Client, ClientBuilder, ReconnectOptions, SSE};
    use futures_util::StreamExt;
    use launchdarkly_sdk_transport::HyperTransport;

    let url = serve_once(wire).await;
    let transport = HyperTransport::builder()
        .disable_proxy()
        .build_http()
        .unwrap();
    let client = ClientBuilder::for_url(&url)
        .unwrap()
        .reconnect(ReconnectOptions::reconnect(false).build())
        .build_with_transport(transport);
    let mut stream = client.stream();
    let mut events = Vec::new();
    let read = async {
        while let Some(item) = stream.next().await {
            match item {
                Ok(SSE::Event(event)) => {
                    events.push((event.event_type, event.data, event.id.unwrap_or_default()));
                }
                Ok(SSE::Connected(_) | SSE::Comment(_)) => {}
                Err(eventsource_client::Error::Eof) => break,
                Err(err) => panic!("eventsource-client failed: {err:?}"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), read)
        .await
        .expect("eventsource-client timed out");
    events
}

/// Fixed events that trip up parsers.
fn tricky_specs() -> Vec<Spec> {
    let data = |d: &str| Spec {
        data: Some(d.into()),
        ..Spec::default()
    };
    vec![
        data("plain"),
        data(""),
        data(" leading space"),
        data("  two spaces"),
        data("a\nb\r\nc\rd"),
        data("trailing lf\n"),
        data("\n"),
        data("x\n\nevent: evil\ndata: y"),
        data("unicode é € 😀 \u{2028} \u{85} \u{FEFF}"),
        Spec {
            event: Some("update:with colon".into()),
            id: Some("42".into()),
            data: Some("typed".into()),
            ..Spec::default()
        },
        data("inherits id 42"),
        Spec {
            id: Some("7".into()),
            ..Spec::default()
        },
        data("id-only block set 7"),
        Spec {
            retry: Some(1500),
            comment: Some("keep-alive\r\nsecond".into()),
            data: Some("with retry and comment".into()),
            ..Spec::default()
        },
        Spec {
            id: Some(" spaced id ".into()),
            data: Some("spaced".into()),
            ..Spec::default()
        },
        Spec {
            event: Some(String::new()),
            data: Some("empty event name is message".into()),
            ..Spec::default()
        },
    ]
}

#[tokio::test]
async fn eventsource_client_reads_what_our_parser_reads() {
    // 32 random events (a fixed seed, so a failure reproduces) after the tricky ones.
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut specs = tricky_specs();
    let event_with_data = spec().prop_map(|mut s| {
        // eventsource-client reports a block with neither data nor any other field as an
        // error (its quirk, not the protocol's): keep every random block firing.
        s.data.get_or_insert_with(String::new);
        s
    });
    for _ in 0..32 {
        specs.push(event_with_data.new_tree(&mut runner).unwrap().current());
    }
    let wire: Vec<u8> = specs
        .iter()
        .flat_map(|spec| spec.encode().as_bytes().to_vec())
        .collect();

    let (frames, _) = decode(&wire, &[]);
    let ours: Vec<(String, String, String)> = frames
        .into_iter()
        .filter_map(|frame| match frame {
            Frame::Event(m) => Some((m.event, m.data, m.last_event_id)),
            _ => None,
        })
        .collect();
    let mut expected = Vec::new();
    let mut last_event_id = String::new();
    for spec in &specs {
        spec.expected_frames(&mut last_event_id, &mut expected);
    }
    assert_eq!(
        ours.len(),
        expected
            .iter()
            .filter(|f| matches!(f, Frame::Event(_)))
            .count()
    );

    let theirs = eventsource_client_events(wire).await;
    assert_eq!(theirs.len(), ours.len(), "number of events");
    for (i, (a, b)) in theirs.iter().zip(&ours).enumerate() {
        assert_eq!(a, b, "event {i} (eventsource-client left, ours right)");
    }
}
