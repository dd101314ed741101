//! The client against misbehaving servers written here on raw TCP: cut-off events, 204,
//! error statuses, Retry-After, wrong content types, a BOM, an endless line, silence, and a
//! server that hangs up at once.
//!
//! These run on tokio's paused clock: the runtime jumps to the next timer whenever every task
//! waits, so waits of seconds take no real time and are measured exactly.

use std::future::Future;
use std::time::Duration;

use futures_util::StreamExt;
use sse_client::{Config, Error, Event, EventSource, Item};
use sse_core::parse::ParseError;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::{timeout, Instant};

/// Long enough for any wait of these tests on the paused clock; only a hang reaches it.
const DEADLINE: Duration = Duration::from_secs(3600);

const SSE_HEAD: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n";

/// A connection the server accepted: its number (from 0), when, and the request head.
struct Accepted {
    number: usize,
    at: Instant,
    head: String,
}

impl Accepted {
    /// The value of the request's `Last-Event-ID` header, if it has one.
    fn last_event_id(&self) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("last-event-id")
                .then(|| value.trim())
        })
    }
}

struct RawServer {
    url: String,
    accepted: mpsc::UnboundedReceiver<Accepted>,
}

impl RawServer {
    /// Serves every connection with `script(number, socket)`, after reading the request head.
    async fn start<F, Fut>(script: F) -> Self
    where
        F: Fn(usize, TcpStream) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/events", listener.local_addr().unwrap());
        let (tx, accepted) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            for number in 0.. {
                let (mut socket, _) = listener.accept().await.unwrap();
                let at = Instant::now();
                let head = read_head(&mut socket).await;
                // The test may have stopped listening; the server goes on regardless.
                let _ = tx.send(Accepted { number, at, head });
                tokio::spawn(script(number, socket));
            }
        });
        Self { url, accepted }
    }

    async fn next_accepted(&mut self) -> Accepted {
        timeout(DEADLINE, self.accepted.recv())
            .await
            .expect("no connection before the deadline")
            .expect("the server runs")
    }

    fn source(&self, config: Config) -> EventSource {
        let client = reqwest::Client::new();
        let request = client.get(&self.url).build().unwrap();
        EventSource::with_config(client, request, config)
    }
}

async fn read_head(socket: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut buf = [0; 1024];
    while !head.ends_with(b"\r\n\r\n") {
        let n = socket.read(&mut buf).await.unwrap();
        assert!(n > 0, "the client closed before its request head ended");
        head.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(head).unwrap()
}

/// Keeps the connection open until the client closes it.
async fn hold(mut socket: TcpStream) {
    let _ = socket.read(&mut [0; 64]).await;
}

/// Writes `response` and closes the connection.
async fn respond(mut socket: TcpStream, response: &[u8]) {
    socket.write_all(response).await.unwrap();
}

async fn next(events: &mut EventSource) -> Option<Result<Item, Error>> {
    timeout(DEADLINE, events.next())
        .await
        .expect("no item before the deadline")
}

async fn expect_open(events: &mut EventSource) {
    match next(events).await {
        Some(Ok(Item::Open(opened))) => assert_eq!(opened.status, 200),
        other => panic!("expected an open connection, got {other:?}"),
    }
}

async fn expect_event(events: &mut EventSource) -> Event {
    match next(events).await {
        Some(Ok(Item::Event(event))) => event,
        other => panic!("expected an event, got {other:?}"),
    }
}

async fn expect_error(events: &mut EventSource) -> Error {
    match next(events).await {
        Some(Err(err)) => err,
        other => panic!("expected an error, got {other:?}"),
    }
}

fn fast() -> Config {
    Config::new().reconnect_time(Duration::from_millis(10))
}

#[tokio::test(start_paused = true)]
async fn closing_mid_event_drops_it_and_resumes_after_the_last_id() {
    let mut server = RawServer::start(|number, mut socket| async move {
        if number == 0 {
            socket.write_all(SSE_HEAD).await.unwrap();
            respond(socket, b"id: 1\ndata: first\n\nid: 2\ndata: cut off").await;
        } else {
            socket.write_all(SSE_HEAD).await.unwrap();
            socket.write_all(b"data: second\n\n").await.unwrap();
            hold(socket).await;
        }
    })
    .await;
    let mut events = server.source(fast());

    expect_open(&mut events).await;
    let first = expect_event(&mut events).await;
    assert_eq!((first.id.as_str(), first.data.as_str()), ("1", "first"));
    let err = expect_error(&mut events).await;
    assert!(matches!(err, Error::Closed) && !err.is_final(), "{err:?}");
    expect_open(&mut events).await;
    let second = expect_event(&mut events).await;
    // The cut-off event and its id 2 never count.
    assert_eq!((second.id.as_str(), second.data.as_str()), ("1", "second"));

    assert_eq!(server.next_accepted().await.last_event_id(), None);
    assert_eq!(server.next_accepted().await.last_event_id(), Some("1"));
}

#[tokio::test(start_paused = true)]
async fn an_id_reset_to_empty_is_not_sent() {
    let mut server = RawServer::start(|number, mut socket| async move {
        socket.write_all(SSE_HEAD).await.unwrap();
        if number == 0 {
            respond(socket, b"id: 7\ndata: a\n\nid\ndata: b\n\n").await;
        } else {
            hold(socket).await;
        }
    })
    .await;
    let mut events = server.source(fast());

    expect_open(&mut events).await;
    assert_eq!(expect_event(&mut events).await.id, "7");
    assert_eq!(expect_event(&mut events).await.id, "");
    assert!(matches!(expect_error(&mut events).await, Error::Closed));
    expect_open(&mut events).await;

    assert_eq!(server.next_accepted().await.last_event_id(), None);
    let second = server.next_accepted().await;
    assert_eq!(second.number, 1);
    assert_eq!(second.last_event_id(), None, "{}", second.head);
}

#[tokio::test(start_paused = true)]
async fn a_seeded_last_event_id_goes_into_the_first_request() {
    let mut server = RawServer::start(|_, mut socket| async move {
        socket.write_all(SSE_HEAD).await.unwrap();
        hold(socket).await;
    })
    .await;
    let mut events = server.source(fast().last_event_id("41"));
    expect_open(&mut events).await;
    let accepted = server.next_accepted().await;
    assert_eq!(accepted.last_event_id(), Some("41"));
    assert!(accepted
        .head
        .to_ascii_lowercase()
        .contains("accept: text/event-stream"));
}

#[tokio::test(start_paused = true)]
async fn no_content_stops_without_reconnecting() {
    let server = RawServer::start(|_, socket| async move {
        respond(socket, b"HTTP/1.1 204 No Content\r\n\r\n").await;
    })
    .await;
    let mut events = server.source(fast());
    assert!(next(&mut events).await.is_none());
    assert!(next(&mut events).await.is_none());
    assert_eq!(events.stats().attempts(), 1);
}

#[tokio::test(start_paused = true)]
async fn error_statuses_are_final_by_default() {
    for status in [
        "500 Internal Server Error",
        "404 Not Found",
        "503 Service Unavailable",
    ] {
        let response = format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\n\r\n");
        let server = RawServer::start(move |_, socket| {
            let response = response.clone();
            async move { respond(socket, response.as_bytes()).await }
        })
        .await;
        let mut events = server.source(fast());
        let err = expect_error(&mut events).await;
        let Error::Status(status_error) = &err else {
            panic!("expected a status error, got {err:?}");
        };
        assert_eq!(status_error.status().as_str(), &status[..3]);
        assert!(err.is_final() && !status_error.will_retry());
        assert!(next(&mut events).await.is_none());
        assert_eq!(events.stats().attempts(), 1);
    }
}

#[tokio::test(start_paused = true)]
async fn transient_statuses_are_retried_only_when_asked_and_not_found_never() {
    let mut server = RawServer::start(|number, mut socket| async move {
        match number {
            0 => respond(socket, b"HTTP/1.1 500 Oops\r\ncontent-length: 0\r\n\r\n").await,
            1 => {
                respond(
                    socket,
                    b"HTTP/1.1 429 Slow Down\r\ncontent-length: 0\r\n\r\n",
                )
                .await
            }
            2 => {
                socket.write_all(SSE_HEAD).await.unwrap();
                respond(socket, b"data: back\n\n").await;
            }
            _ => respond(socket, b"HTTP/1.1 404 Gone\r\ncontent-length: 0\r\n\r\n").await,
        }
    })
    .await;
    let mut events = server.source(fast().retry_transient_status(true));

    for status in [500, 429] {
        let err = expect_error(&mut events).await;
        let Error::Status(status_error) = &err else {
            panic!("expected a status error, got {err:?}");
        };
        assert_eq!(status_error.status(), status);
        assert!(status_error.will_retry() && !err.is_final());
    }
    expect_open(&mut events).await;
    assert_eq!(expect_event(&mut events).await.data, "back");
    assert!(matches!(expect_error(&mut events).await, Error::Closed));
    let err = expect_error(&mut events).await;
    assert!(matches!(&err, Error::Status(s) if s.status() == 404) && err.is_final());
    assert!(next(&mut events).await.is_none());
    for number in 0..4 {
        assert_eq!(server.next_accepted().await.number, number);
    }
}

#[tokio::test(start_paused = true)]
async fn service_unavailable_waits_at_least_retry_after() {
    let mut server = RawServer::start(|number, mut socket| async move {
        if number == 0 {
            respond(
                socket,
                b"HTTP/1.1 503 Busy\r\nretry-after: 7\r\ncontent-length: 0\r\n\r\n",
            )
            .await;
        } else {
            socket.write_all(SSE_HEAD).await.unwrap();
            hold(socket).await;
        }
    })
    .await;
    let mut events = server.source(fast().retry_transient_status(true));

    let err = expect_error(&mut events).await;
    let Error::Status(status_error) = &err else {
        panic!("expected a status error, got {err:?}");
    };
    assert_eq!(status_error.retry_after(), Some(Duration::from_secs(7)));
    expect_open(&mut events).await;
    let first = server.next_accepted().await.at;
    let second = server.next_accepted().await.at;
    let waited = second - first;
    // The backoff alone would wait 10 to 20 ms.
    assert!(waited >= Duration::from_secs(7), "waited {waited:?}");
    assert!(waited < Duration::from_secs(8), "waited {waited:?}");
}

#[tokio::test(start_paused = true)]
async fn a_wrong_content_type_is_final() {
    let server = RawServer::start(|_, socket| async move {
        respond(
            socket,
            b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 12\r\n\r\ndata: x\n\n...",
        )
        .await;
    })
    .await;
    let mut events = server.source(fast());
    let err = expect_error(&mut events).await;
    assert!(err.is_final());
    match &err {
        Error::ContentType(Some(value)) => assert_eq!(value, "text/plain"),
        other => panic!("expected a content type error, got {other:?}"),
    }
    assert!(next(&mut events).await.is_none());
    assert_eq!(events.stats().attempts(), 1);
}

#[tokio::test(start_paused = true)]
async fn content_type_parameters_and_case_are_accepted() {
    let server = RawServer::start(|_, mut socket| async move {
        socket
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: Text/Event-Stream; charset=utf-8\r\n\r\n")
            .await
            .unwrap();
        socket.write_all(b"data: ok\n\n").await.unwrap();
        hold(socket).await;
    })
    .await;
    let mut events = server.source(fast());
    expect_open(&mut events).await;
    assert_eq!(expect_event(&mut events).await.data, "ok");
}

#[tokio::test(start_paused = true)]
async fn a_leading_bom_is_stripped() {
    let server = RawServer::start(|_, mut socket| async move {
        socket.write_all(SSE_HEAD).await.unwrap();
        // Split inside the BOM, with CR line ends.
        socket.write_all(b"\xEF\xBB").await.unwrap();
        socket.write_all(b"\xBFdata: bom\r\r").await.unwrap();
        hold(socket).await;
    })
    .await;
    let mut events = server.source(fast());
    expect_open(&mut events).await;
    let event = expect_event(&mut events).await;
    assert_eq!(
        (event.event.as_str(), event.data.as_str()),
        ("message", "bom")
    );
}

#[tokio::test(start_paused = true)]
async fn an_endless_line_is_a_final_typed_error_and_drops_the_connection() {
    let (closed_tx, closed_rx) = tokio::sync::oneshot::channel();
    let closed_tx = std::sync::Mutex::new(Some(closed_tx));
    let server = RawServer::start(move |_, mut socket| {
        let closed_tx = closed_tx.lock().unwrap().take();
        async move {
            socket.write_all(SSE_HEAD).await.unwrap();
            socket.write_all(b"data: ").await.unwrap();
            // Until the client hangs up.
            while socket.write_all(&[b'x'; 4096]).await.is_ok() {}
            let _ = closed_tx.expect("one connection").send(());
        }
    })
    .await;
    let mut events = server.source(fast().max_line_len(64 << 10));
    expect_open(&mut events).await;
    let err = expect_error(&mut events).await;
    assert!(err.is_final());
    assert!(
        matches!(err, Error::Parse(ParseError::LineTooLong { limit: 65536 })),
        "{err:?}"
    );
    assert!(next(&mut events).await.is_none());
    timeout(DEADLINE, closed_rx)
        .await
        .expect("the client kept the connection open")
        .unwrap();
    assert!(events.stats().bytes() > 64 << 10);
}

#[tokio::test(start_paused = true)]
async fn silence_times_out_and_reconnects() {
    let idle = Duration::from_secs(5);
    let mut server = RawServer::start(|number, mut socket| async move {
        match number {
            // Accepts, never answers.
            0 => hold(socket).await,
            // Answers, sends one event, then nothing.
            1 => {
                socket.write_all(SSE_HEAD).await.unwrap();
                socket.write_all(b"data: then silence\n\n").await.unwrap();
                hold(socket).await;
            }
            _ => {
                socket.write_all(SSE_HEAD).await.unwrap();
                socket.write_all(b": heartbeat\n\n").await.unwrap();
                hold(socket).await;
            }
        }
    })
    .await;
    let mut events = server.source(fast().idle_timeout(idle));

    let err = expect_error(&mut events).await;
    assert!(matches!(err, Error::IdleTimeout(after) if after == idle) && !err.is_final());
    expect_open(&mut events).await;
    assert_eq!(expect_event(&mut events).await.data, "then silence");
    assert!(matches!(
        expect_error(&mut events).await,
        Error::IdleTimeout(_)
    ));
    expect_open(&mut events).await;

    let at: Vec<Instant> = [
        server.next_accepted().await.at,
        server.next_accepted().await.at,
        server.next_accepted().await.at,
    ]
    .into();
    for pair in at.windows(2) {
        let waited = pair[1] - pair[0];
        assert!(waited >= idle, "reconnected after {waited:?}");
        assert!(
            waited < idle + Duration::from_secs(1),
            "reconnected after {waited:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn hanging_up_at_once_fifty_times_backs_off_with_jitter() {
    // The client runs on this thread: its jitter is reproducible.
    fastrand::seed(14);
    let floor = Duration::from_millis(100);
    let cap = Duration::from_secs(10);
    let mut server = RawServer::start(|_, socket| async move {
        respond(socket, SSE_HEAD).await;
    })
    .await;
    let config = Config::new()
        .reconnect_time(floor)
        .max_delay(cap)
        .max_attempts(50);
    let mut events = server.source(config);

    let mut opened = 0;
    let last = loop {
        match next(&mut events).await.expect("ends with an error") {
            Ok(Item::Open(_)) => opened += 1,
            Err(Error::Closed) => {}
            Err(err) => break err,
            Ok(item) => panic!("unexpected {item:?}"),
        }
    };
    assert!(
        matches!(&last, Error::Exhausted { attempts: 50, last } if matches!(**last, Error::Closed)),
        "{last:?}"
    );
    assert!(last.is_final());
    assert!(next(&mut events).await.is_none());
    assert_eq!((opened, events.stats().reconnects()), (50, 49));

    let mut at = Vec::new();
    for _ in 0..50 {
        at.push(server.next_accepted().await.at);
    }
    let waits: Vec<Duration> = at.windows(2).map(|pair| pair[1] - pair[0]).collect();
    for (attempt, wait) in waits.iter().enumerate() {
        let ceiling = (floor * 2u32.pow(attempt.min(20) as u32 + 1)).min(cap);
        assert!(
            *wait >= floor && *wait <= ceiling,
            "wait {attempt} is {wait:?}, outside [{floor:?}, {ceiling:?}]"
        );
    }
    let mut distinct = waits.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert!(distinct.len() > 40, "no jitter: {waits:?}");
    let mean = |waits: &[Duration]| waits.iter().sum::<Duration>() / waits.len() as u32;
    assert!(
        mean(&waits[39..]) > 3 * mean(&waits[..5]),
        "no growth: {waits:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_healthy_connection_resets_the_attempt_count() {
    let mut server = RawServer::start(|number, mut socket| async move {
        socket.write_all(SSE_HEAD).await.unwrap();
        if number == 0 {
            // Healthy: a heartbeat every second for 12 s, then the end.
            for _ in 0..12 {
                socket.write_all(b": heartbeat\n\n").await.unwrap();
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    })
    .await;
    let config = fast().reset_after(Duration::from_secs(10)).max_attempts(2);
    let mut events = server.source(config);

    // Healthy, then two that hang up at once: without the reset the second would be the
    // third attempt in a row.
    for _ in 0..2 {
        expect_open(&mut events).await;
        assert!(matches!(expect_error(&mut events).await, Error::Closed));
    }
    expect_open(&mut events).await;
    let err = expect_error(&mut events).await;
    assert!(
        matches!(err, Error::Exhausted { attempts: 2, .. }),
        "{err:?}"
    );
    for number in 0..3 {
        assert_eq!(server.next_accepted().await.number, number);
    }
}

#[tokio::test(start_paused = true)]
async fn dropping_the_stream_closes_the_connection() {
    let (closed_tx, closed_rx) = tokio::sync::oneshot::channel();
    let closed_tx = std::sync::Mutex::new(Some(closed_tx));
    let server = RawServer::start(move |_, mut socket| {
        let closed_tx = closed_tx.lock().unwrap().take();
        async move {
            socket.write_all(SSE_HEAD).await.unwrap();
            socket.write_all(b"data: one\n\n").await.unwrap();
            let read = socket.read(&mut [0; 64]).await;
            let _ = closed_tx
                .expect("one connection")
                .send(read.map_err(|e| e.kind()));
        }
    })
    .await;
    let mut events = server.source(fast());
    expect_open(&mut events).await;
    expect_event(&mut events).await;
    drop(events);
    let read = timeout(DEADLINE, closed_rx)
        .await
        .expect("the connection outlived the stream")
        .unwrap();
    // End of stream (0 bytes) or a reset: the client's side is gone either way.
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
}

#[tokio::test(start_paused = true)]
async fn a_request_reqwest_cannot_send_is_final() {
    let client = reqwest::Client::new();
    let request = client.get("ftp://127.0.0.1/events").build().unwrap();
    let mut events = EventSource::new(client, request);
    let err = expect_error(&mut events).await;
    assert!(
        matches!(err, Error::Request(_)) && err.is_final(),
        "{err:?}"
    );
    assert!(next(&mut events).await.is_none());
}
