//! The demo's contract, over real sockets, on every framework: each case is written once,
//! generic over [`Framework`], and run once per framework by `contract_tests!`, so a
//! failure names its framework (`axum::replay_by_header`, `actix::...`, `warp::...`).
//!
//! A last test runs the real `demo` binary and stops it with SIGTERM.

mod support;

use std::time::Duration;

use http::{Method, StatusCode};
use serde_json::json;
use sse_core::parse::{Frame, Message};
use sse_examples::{Config, Framework, MAX_PUBLISH_BODY};
use sse_testkit::{Request, SseResponse, DEADLINE};
use support::per_framework as contract_tests;
use support::{get, publish, publish_with, request, start, stats, wait_for_stats};

/// Opens `path` as an event stream and checks the `retry:` that comes first.
async fn subscribe(addr: std::net::SocketAddr, path: &str) -> SseResponse {
    let mut stream = Request::get(addr, path).send().await;
    assert_eq!(stream.status, StatusCode::OK, "GET {path}");
    let first = stream.next_frame().await.expect("a first frame");
    assert_eq!(
        first,
        Frame::Retry(Duration::from_millis(2000)),
        "retry comes first"
    );
    stream
}

fn message(event: &str, data: &str, id: &str) -> Message {
    Message {
        event: event.into(),
        data: data.into(),
        last_event_id: id.into(),
    }
}

async fn retry_first_then_published_events_with_ids(fw: Framework) {
    let server = start(fw, Config::default()).await;
    let mut stream = subscribe(server.addr(), "/events").await;
    assert!(stream
        .header("content-type")
        .unwrap()
        .starts_with("text/event-stream"));

    let id = publish(
        server.addr(),
        json!({"topic": "news", "event": "alert", "data": "line one\nline two"}),
    )
    .await;
    assert_eq!(
        stream.next_event().await,
        message("alert", "line one\nline two", &id)
    );
    let raw = String::from_utf8_lossy(stream.raw()).into_owned();
    assert!(raw.contains("data: line one\ndata: line two\n"), "{raw:?}");
    assert!(raw.contains(&format!("id: {id}\n")), "{raw:?}");

    // JSON data other than a string is sent serialized; the default topic is "default".
    let id = publish(server.addr(), json!({"data": {"n": 1, "s": "x"}})).await;
    assert_eq!(
        stream.next_event().await,
        message("message", r#"{"n":1,"s":"x"}"#, &id)
    );
    server.shutdown().await.unwrap();
}

async fn topics_filter_what_a_subscriber_gets(fw: Framework) {
    let server = start(fw, Config::default()).await;
    let mut a_and_b = subscribe(server.addr(), "/events?topic=a&topic=b").await;
    let mut only_c = subscribe(server.addr(), "/events?topic=c").await;
    let mut all = subscribe(server.addr(), "/events").await;

    let id_c = publish(server.addr(), json!({"topic": "c", "data": "for c"})).await;
    let id_b = publish(server.addr(), json!({"topic": "b", "data": "for b"})).await;
    let id_default = publish(server.addr(), json!({"data": "for default"})).await;

    assert_eq!(a_and_b.next_event().await.last_event_id, id_b);
    assert_eq!(only_c.next_event().await.last_event_id, id_c);
    for id in [&id_c, &id_b, &id_default] {
        assert_eq!(&all.next_event().await.last_event_id, id);
    }
    // a_and_b never saw c's event or the default topic's: the next one it gets is a's.
    let id_a = publish(server.addr(), json!({"topic": "a", "data": "for a"})).await;
    assert_eq!(a_and_b.next_event().await.last_event_id, id_a);
    server.shutdown().await.unwrap();
}

async fn replay_after_last_event_id_header(fw: Framework) {
    let server = start(fw, Config::default()).await;
    let addr = server.addr();
    let first = publish(addr, json!({"topic": "t", "data": "1"})).await;
    let second = publish(addr, json!({"topic": "t", "data": "2"})).await;
    let third = publish(addr, json!({"topic": "t", "data": "3"})).await;

    let mut stream = Request::get(addr, "/events?topic=t")
        .header("last-event-id", &first)
        .send()
        .await;
    assert_eq!(
        stream.next_frame().await,
        Some(Frame::Retry(Duration::from_millis(2000)))
    );
    assert_eq!(stream.next_event().await, message("message", "2", &second));
    assert_eq!(stream.next_event().await, message("message", "3", &third));
    let live = publish(addr, json!({"topic": "t", "data": "4"})).await;
    assert_eq!(stream.next_event().await, message("message", "4", &live));
    assert_eq!(stats(addr).await["replayed"], 2);
    server.shutdown().await.unwrap();
}

async fn replay_after_last_event_id_query_parameter(fw: Framework) {
    let server = start(fw, Config::default()).await;
    let addr = server.addr();
    let first = publish(addr, json!({"topic": "t", "data": "1"})).await;
    let second = publish(addr, json!({"topic": "t", "data": "2"})).await;
    let mut stream = subscribe(addr, &format!("/events?topic=t&lastEventId={first}")).await;
    assert_eq!(stream.next_event().await, message("message", "2", &second));
    assert_eq!(stats(addr).await["replayed"], 1);
    server.shutdown().await.unwrap();
}

async fn rejected_publishes_get_4xx_and_reach_no_subscriber(fw: Framework) {
    let server = start(fw, Config::default()).await;
    let addr = server.addr();
    let mut stream = subscribe(addr, "/events").await;

    let invalid = publish_with(addr, &[], "{not json").await;
    assert_eq!(invalid.status, StatusCode::BAD_REQUEST);
    assert!(invalid.json()["error"].is_string());

    let no_data = publish_with(addr, &[], r#"{"topic":"x"}"#).await;
    assert_eq!(no_data.status, StatusCode::BAD_REQUEST);

    for name in ["a\nb", "a\rb", "a\r\nb"] {
        let body = json!({"event": name, "data": "x"}).to_string();
        let injected = publish_with(addr, &[], &body).await;
        assert_eq!(injected.status, StatusCode::BAD_REQUEST, "event {name:?}");
        assert!(injected.json()["error"].is_string());
    }

    let big = json!({"data": "x".repeat(MAX_PUBLISH_BODY)}).to_string();
    let too_large = publish_with(addr, &[], &big).await;
    assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);
    // Without a Content-Length (chunked), written whole before the answer is read.
    assert_eq!(chunked_publish(addr, big.as_bytes()).await, 413);

    for method in [Method::GET, Method::PUT, Method::DELETE] {
        let wrong = request(addr, method.clone(), "/publish", &[], r#"{"data":"x"}"#).await;
        assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
    }

    assert_eq!(stats(addr).await["published"], 0);
    let id = publish(addr, json!({"event": "ok", "data": "the only one"})).await;
    assert_eq!(
        stream.next_event().await,
        message("ok", "the only one", &id)
    );
    server.shutdown().await.unwrap();
}

/// `POST /publish` with a chunked body over raw TCP, written whole before reading the
/// answer (as simple clients do); returns the status code.
async fn chunked_publish(addr: std::net::SocketAddr, body: &[u8]) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let exchange = async {
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut request = format!(
            "POST /publish HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        )
        .into_bytes();
        for chunk in body.chunks(8192) {
            request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            request.extend_from_slice(chunk);
            request.extend_from_slice(b"\r\n");
        }
        request.extend_from_slice(b"0\r\n\r\n");
        tcp.write_all(&request).await.unwrap();
        let mut response = Vec::new();
        tcp.read_to_end(&mut response).await.unwrap();
        let head = String::from_utf8_lossy(&response[..response.len().min(12)]).into_owned();
        head[9..12].parse().unwrap()
    };
    tokio::time::timeout(DEADLINE, exchange)
        .await
        .expect("an answer")
}

async fn token_guards_events_and_publish(fw: Framework) {
    let server = start(fw, Config::default().with_token("s3cret")).await;
    let addr = server.addr();

    let refused = Request::get(addr, "/events").send().await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let wrong = Request::get(addr, "/events")
        .header("authorization", "Bearer nope")
        .send()
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let refused = publish_with(addr, &[], r#"{"data":"x"}"#).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);

    let mut by_header = Request::get(addr, "/events")
        .header("authorization", "Bearer s3cret")
        .send()
        .await;
    assert_eq!(by_header.status, StatusCode::OK);
    let mut by_query = subscribe(addr, "/events?token=s3cret").await;

    let accepted = publish_with(
        addr,
        &[("authorization", "Bearer s3cret")],
        r#"{"data":"x"}"#,
    )
    .await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED);
    let id = accepted.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(by_header.next_event().await.last_event_id, id);
    assert_eq!(by_query.next_event().await.last_event_id, id);
    // The page and the other routes need no token.
    assert_eq!(get(addr, "/").await.status, StatusCode::OK);
    assert_eq!(get(addr, "/stats").await.status, StatusCode::OK);
    server.shutdown().await.unwrap();
}

async fn progress_ends_with_complete(fw: Framework) {
    let server = start(fw, Config::default()).await;
    let mut stream = subscribe(server.addr(), "/progress").await;
    let events: Vec<Message> = stream
        .collect_frames()
        .await
        .into_iter()
        .filter_map(|frame| match frame {
            Frame::Event(message) => Some(message),
            _ => None,
        })
        .collect();
    assert!(stream.is_ended());
    let (complete, progress) = events.split_last().expect("events");
    assert_eq!(complete.event, "complete");
    assert_eq!(progress.len(), 10);
    for (i, event) in progress.iter().enumerate() {
        assert_eq!(event.event, "progress");
        let data: serde_json::Value = serde_json::from_str(&event.data).unwrap();
        assert_eq!(data["step"], i + 1);
        assert_eq!(data["total"], 10);
        assert_eq!(data["percentage"], (i + 1) * 10);
        assert!(data["message"].is_string());
    }
    wait_for_stats(server.addr(), "the finished stream is not counted", |s| {
        s["active_connections"] == 0
    })
    .await;
    server.shutdown().await.unwrap();
}

async fn clock_ticks(fw: Framework) {
    let server = start(fw, Config::default()).await;
    let mut stream = subscribe(server.addr(), "/clock").await;
    for _ in 0..2 {
        let tick = stream.next_event().await;
        assert_eq!(tick.event, "tick");
        let data: serde_json::Value = serde_json::from_str(&tick.data).unwrap();
        assert!(data["unix_ms"].as_u64().unwrap() > 0);
    }
    server.shutdown().await.unwrap();
}

async fn heartbeat_comments_when_idle(fw: Framework) {
    let server = start(fw, Config::default().with_heartbeat_ms(100)).await;
    let mut stream = subscribe(server.addr(), "/events").await;
    match stream.next_frame().await {
        Some(Frame::Comment(_)) => {}
        other => panic!("expected a heartbeat comment, got {other:?}"),
    }
    server.shutdown().await.unwrap();
}

async fn stats_count_open_streams_and_events(fw: Framework) {
    let server = start(fw, Config::default()).await;
    let addr = server.addr();
    let initial = stats(addr).await;
    assert_eq!(initial["active_connections"], 0);
    assert_eq!(initial["published"], 0);

    let mut events = subscribe(addr, "/events").await;
    let clock = subscribe(addr, "/clock").await;
    let progress = subscribe(addr, "/progress").await;
    assert_eq!(stats(addr).await["active_connections"], 3);

    publish(addr, json!({"data": "x"})).await;
    events.next_event().await;
    let after = stats(addr).await;
    assert_eq!(after["published"], 1);
    assert_eq!(after["delivered"], 1);

    clock.disconnect();
    progress.disconnect();
    wait_for_stats(addr, "closed streams are not counted", |s| {
        s["active_connections"] == 1
    })
    .await;
    events.disconnect();
    wait_for_stats(addr, "every stream is closed", |s| {
        s["active_connections"] == 0
    })
    .await;
    server.shutdown().await.unwrap();
}

async fn health_is_ok_and_cors_is_on(fw: Framework) {
    let server = start(fw, Config::default()).await;
    let reply = request(
        server.addr(),
        Method::GET,
        "/health",
        &[("origin", "http://example.test")],
        "",
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    assert_eq!(reply.json()["status"], "ok");
    let wrong_method = request(server.addr(), Method::POST, "/health", &[], "").await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    let wrong_method = request(server.addr(), Method::POST, "/events", &[], "").await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        get(server.addr(), "/nope").await.status,
        StatusCode::NOT_FOUND
    );

    let preflight = request(
        server.addr(),
        Method::OPTIONS,
        "/publish",
        &[
            ("origin", "http://example.test"),
            ("access-control-request-method", "POST"),
            ("access-control-request-headers", "content-type"),
        ],
        "",
    )
    .await;
    assert!(preflight.status.is_success(), "{:?}", preflight.status);
    assert!(preflight.header("access-control-allow-origin").is_some());
    server.shutdown().await.unwrap();
}

async fn json_and_html_compress_but_sse_never(fw: Framework) {
    let server = start(fw, Config::default()).await;
    let addr = server.addr();
    for path in ["/", "/stats"] {
        let reply = request(addr, Method::GET, path, &[("accept-encoding", "gzip")], "").await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.header("content-encoding"), Some("gzip"), "{path}");
        let plain = get(addr, path).await;
        assert_eq!(plain.header("content-encoding"), None, "{path}");
    }
    // With and without the `Accept: text/event-stream` that EventSource sends.
    let mut streams = Vec::new();
    for accept in [true, false] {
        let mut req = Request::get(addr, "/events").header("accept-encoding", "gzip, br, zstd");
        if !accept {
            req = req.without_header("accept");
        }
        let stream = req.send().await;
        assert_eq!(stream.status, StatusCode::OK);
        let encoding = stream.header("content-encoding");
        assert!(
            encoding.is_none() || encoding == Some("identity"),
            "SSE encoded as {encoding:?}"
        );
        streams.push(stream);
    }
    let id = publish(addr, json!({"data": "plain"})).await;
    for stream in &mut streams {
        assert_eq!(stream.next_event().await, message("message", "plain", &id));
    }
    server.shutdown().await.unwrap();
}

async fn max_connections_answers_503_with_retry_after(fw: Framework) {
    let server = start(fw, Config::default().with_max_connections(2)).await;
    let addr = server.addr();
    let first = subscribe(addr, "/events").await;
    let _second = subscribe(addr, "/clock").await;

    let refused = Request::get(addr, "/events").send().await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.header("retry-after").is_some());
    // Other routes still answer.
    assert_eq!(get(addr, "/health").await.status, StatusCode::OK);

    first.disconnect();
    wait_for_stats(addr, "the closed stream frees its slot", |s| {
        s["active_connections"] == 1
    })
    .await;
    // The slot comes back once the server has dropped the body; retry within the deadline.
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let again = Request::get(addr, "/events").send().await;
        if again.status == StatusCode::OK {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the slot never came back"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.shutdown().await.unwrap();
}

async fn disconnect_all_cuts_open_streams_only(fw: Framework) {
    let server = start(fw, Config::default()).await;
    let addr = server.addr();
    let mut events = subscribe(addr, "/events").await;
    let mut clock = subscribe(addr, "/clock").await;
    server.app().disconnect_all();
    events.read_to_end().await;
    clock.read_to_end().await;
    assert!(events.is_ended() && clock.is_ended());

    let mut again = subscribe(addr, "/events").await;
    let id = publish(addr, json!({"data": "still up"})).await;
    assert_eq!(again.next_event().await.last_event_id, id);
    server.shutdown().await.unwrap();
}

async fn graceful_shutdown_ends_open_streams(fw: Framework) {
    let server = start(fw, Config::default()).await;
    let addr = server.addr();
    let mut streams = Vec::new();
    for path in ["/events", "/events?topic=a", "/clock", "/progress"] {
        streams.push(subscribe(addr, path).await);
    }
    tokio::time::timeout(DEADLINE, server.shutdown())
        .await
        .expect("shutdown within the deadline")
        .expect("clean shutdown");
    for stream in &mut streams {
        stream.read_to_end().await;
        assert!(stream.is_ended());
    }
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "still accepting after shutdown"
    );
}

async fn an_independent_client_reads_the_same_events(fw: Framework) {
    let server = start(fw, Config::default()).await;
    let addr = server.addr();
    // LaunchDarkly's eventsource-client, written independently of this toolkit.
    let progress = sse_testkit::independent_client_events(addr, "/progress", 11).await;
    let types: Vec<&str> = progress
        .iter()
        .map(|(event, _, _)| event.as_str())
        .collect();
    assert_eq!(types[..10], ["progress"; 10]);
    assert_eq!(types[10], "complete");

    let reader = tokio::spawn(sse_testkit::independent_client_events(
        addr,
        "/events?topic=x",
        2,
    ));
    wait_for_stats(addr, "the independent client subscribed", |s| {
        s["subscribers"] == 1
    })
    .await;
    let first = publish(
        addr,
        json!({"topic": "x", "event": "alert", "data": "a\nb"}),
    )
    .await;
    let second = publish(addr, json!({"topic": "x", "data": [1, 2]})).await;
    let events = reader.await.expect("reader");
    assert_eq!(
        events,
        vec![
            ("alert".to_owned(), "a\nb".to_owned(), Some(first)),
            ("message".to_owned(), "[1,2]".to_owned(), Some(second)),
        ]
    );
    server.shutdown().await.unwrap();
}

contract_tests!(
    retry_first_then_published_events_with_ids,
    topics_filter_what_a_subscriber_gets,
    replay_after_last_event_id_header,
    replay_after_last_event_id_query_parameter,
    rejected_publishes_get_4xx_and_reach_no_subscriber,
    token_guards_events_and_publish,
    progress_ends_with_complete,
    clock_ticks,
    heartbeat_comments_when_idle,
    stats_count_open_streams_and_events,
    health_is_ok_and_cors_is_on,
    json_and_html_compress_but_sse_never,
    max_connections_answers_503_with_retry_after,
    disconnect_all_cuts_open_streams_only,
    graceful_shutdown_ends_open_streams,
    an_independent_client_reads_the_same_events,
);

/// The real binary: serves, streams, and exits 0 on SIGTERM with a stream open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_binary_serves_and_exits_zero_on_sigterm_or_sigint() {
    for framework in Framework::ALL {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_demo"))
            .args(["--framework", framework.name(), "--addr", &addr.to_string()])
            .env("RUST_LOG", "warn")
            .kill_on_drop(true)
            .spawn()
            .expect("spawn demo");

        let deadline = tokio::time::Instant::now() + DEADLINE;
        while tokio::net::TcpStream::connect(addr).await.is_err() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{framework}: never listened"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(
            get(addr, "/health").await.status,
            StatusCode::OK,
            "{framework}"
        );
        let mut stream = subscribe(addr, "/events").await;
        let id = publish(addr, json!({"event": "hello", "data": framework.name()})).await;
        assert_eq!(
            stream.next_event().await,
            message("hello", framework.name(), &id),
            "{framework}"
        );

        // SIGTERM, as service managers send; SIGINT (Ctrl-C) for actix.
        let signal = if framework == Framework::Actix {
            "-INT"
        } else {
            "-TERM"
        };
        let pid = child.id().expect("pid").to_string();
        let kill = std::process::Command::new("kill")
            .args([signal, &pid])
            .status()
            .expect("run kill");
        assert!(kill.success());
        let status = tokio::time::timeout(DEADLINE, child.wait())
            .await
            .unwrap_or_else(|_| panic!("{framework}: no exit within the deadline"))
            .expect("wait");
        assert_eq!(status.code(), Some(0), "{framework}: exit status {status}");
        stream.read_to_end().await;
    }
}
