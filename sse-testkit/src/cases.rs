//! The conformance cases, written once as functions of a [`Harness`]; every adapter runs all
//! of them through [`conformance_tests!`](crate::conformance_tests).

use sse_core::parse::Frame;

use crate::client::{independent_client_events, Request};
use crate::fixture::{Fixture, Harness};

async fn start<H: Harness>() -> (Fixture, crate::Server) {
    let fixture = Fixture::new();
    let server = H::start(fixture.clone()).await;
    (fixture, server)
}

/// The SSE headers on HTTP/1.1: 200, `text/event-stream`, `Cache-Control` with `no-cache`,
/// `X-Accel-Buffering: no`, no `Content-Length`, no `Content-Encoding` other than `identity`.
pub async fn headers_http1<H: Harness>() {
    let (_fixture, server) = start::<H>().await;
    let mut response = Request::get(server.addr, "/golden").send().await;
    assert_eq!(response.status, 200);
    assert_eq!(response.version, http::Version::HTTP_11);
    let content_type = response.header("content-type").expect("content-type");
    assert!(
        content_type.starts_with("text/event-stream"),
        "content-type {content_type}"
    );
    // One header policy for every framework (sse_core::headers), `no-transform` included.
    assert_eq!(
        response.header("cache-control"),
        Some(sse_core::headers::CACHE_CONTROL)
    );
    assert_eq!(response.header("x-accel-buffering"), Some("no"));
    assert_eq!(response.header("content-length"), None);
    // `identity` is no compression: actix's `Compress` skips only responses that carry a
    // Content-Encoding, so the actix adapter (like actix-web-lab) marks SSE `identity`.
    assert_eq!(
        response.header("content-encoding").unwrap_or("identity"),
        "identity"
    );
    response.read_to_end().await;
    server.shutdown().await;
}

/// The first event arrives while the handler still holds back the second (no buffering).
pub async fn first_event_before_the_stream_ends<H: Harness>() {
    let (fixture, server) = start::<H>().await;
    let mut response = Request::get(server.addr, "/gated").send().await;
    assert_eq!(response.next_event().await.data, "first");
    assert!(!response.is_ended());
    fixture.open_gate();
    assert_eq!(response.next_event().await.data, "second");
    assert!(response.next_frame().await.is_none());
    server.shutdown().await;
}

/// Multi-line, CR-bearing, Unicode and injection-shaped data arrive intact, as our parser and
/// an independent client both read them.
pub async fn data_intact<H: Harness>() {
    let (_fixture, server) = start::<H>().await;
    let mut response = Request::get(server.addr, "/golden").send().await;
    let events: Vec<_> = response
        .collect_frames()
        .await
        .into_iter()
        .filter_map(|frame| match frame {
            Frame::Event(message) => Some(message),
            _ => None,
        })
        .collect();
    assert_eq!(events, Fixture::golden_messages());

    let expected = Fixture::golden_messages();
    let foreign = independent_client_events(server.addr, "/golden", expected.len()).await;
    let foreign: Vec<_> = foreign
        .into_iter()
        .map(|(event, data, _id)| (event, data))
        .collect();
    let ours: Vec<_> = expected.into_iter().map(|m| (m.event, m.data)).collect();
    assert_eq!(foreign, ours);
    server.shutdown().await;
}

/// The bytes on the wire equal the golden file shared by all frameworks.
pub async fn golden_bytes<H: Harness>() {
    let (_fixture, server) = start::<H>().await;
    let mut response = Request::get(server.addr, "/golden").send().await;
    let raw = response.read_to_end().await;
    assert_eq!(
        String::from_utf8_lossy(&raw),
        String::from_utf8_lossy(Fixture::GOLDEN)
    );
    server.shutdown().await;
}

/// The adapter's `retry` option writes `retry:` first.
pub async fn retry_first<H: Harness>() {
    let (_fixture, server) = start::<H>().await;
    let mut response = Request::get(server.addr, "/idle").send().await;
    assert_eq!(
        response.next_frame().await,
        Some(Frame::Retry(Fixture::IDLE_OPTIONS.retry.unwrap()))
    );
    response.disconnect();
    server.shutdown().await;
}

/// Keep-alive comments come while the stream is idle.
pub async fn heartbeats_after_idle<H: Harness>() {
    let (_fixture, server) = start::<H>().await;
    let mut response = Request::get(server.addr, "/idle").send().await;
    assert_eq!(response.next_event().await.data, "idle from now on");
    for _ in 0..3 {
        match response.next_frame().await {
            Some(Frame::Comment(_)) => {}
            other => panic!("expected a heartbeat comment, got {other:?}"),
        }
    }
    response.disconnect();
    server.shutdown().await;
}

/// `Last-Event-ID` reaches the handler from the header and from the `lastEventId` query
/// parameter; without either the handler sees none.
pub async fn last_event_id_reaches_the_handler<H: Harness>() {
    let (_fixture, server) = start::<H>().await;
    let mut by_header = Request::get(server.addr, "/last-event-id")
        .header("last-event-id", "42-a")
        .send()
        .await;
    assert_eq!(by_header.next_event().await.data, "42-a");
    let mut by_query = Request::get(server.addr, "/last-event-id?lastEventId=7%2Db")
        .send()
        .await;
    assert_eq!(by_query.next_event().await.data, "7-b");
    let mut without = Request::get(server.addr, "/last-event-id").send().await;
    assert_eq!(without.next_event().await.data, "none");
    server.shutdown().await;
}

/// An error item ends the stream cleanly: the events before it arrive whole, nothing after
/// it is sent, and the body ends normally.
pub async fn error_item_ends_the_stream_cleanly<H: Harness>() {
    let (_fixture, server) = start::<H>().await;
    let mut response = Request::get(server.addr, "/error").send().await;
    assert_eq!(response.status, 200);
    assert_eq!(response.next_event().await.data, "before");
    assert_eq!(response.next_frame().await, None);
    assert!(response.is_ended());
    assert_eq!(response.raw(), b"data: before\n\n");
    server.shutdown().await;
}

/// Clients that disconnect abruptly free their streams: the live count returns to 0.
pub async fn disconnect_frees_the_stream<H: Harness>() {
    let (fixture, server) = start::<H>().await;
    let mut clients = Vec::new();
    for _ in 0..20 {
        let mut response = Request::get(server.addr, "/live").send().await;
        assert_eq!(response.next_event().await.data, "hello");
        clients.push(response);
    }
    assert_eq!(fixture.live_streams(), 20);
    for client in clients {
        client.disconnect();
    }
    fixture.wait_for_live_streams(0).await;
    server.shutdown().await;
}

/// With compression middleware on and `Accept-Encoding: gzip, br`, SSE is not compressed
/// (and arrives event by event), while the JSON route is.
pub async fn compression_stays_off<H: Harness>() {
    let (fixture, server) = start::<H>().await;
    let mut sse = Request::get(server.addr, "/gated")
        .header("accept-encoding", "gzip, br")
        .send()
        .await;
    assert_eq!(
        sse.header("content-encoding").unwrap_or("identity"),
        "identity"
    );
    assert_eq!(sse.next_event().await.data, "first");
    fixture.open_gate();
    assert_eq!(sse.next_event().await.data, "second");

    let mut golden = Request::get(server.addr, "/golden")
        .header("accept-encoding", "gzip, br")
        .send()
        .await;
    assert_eq!(golden.read_to_end().await, Fixture::GOLDEN);

    let mut json = Request::get(server.addr, "/json")
        .without_header("accept")
        .header("accept-encoding", "gzip")
        .send()
        .await;
    assert_eq!(json.status, 200);
    assert_eq!(json.header("content-encoding"), Some("gzip"));
    let body = json.read_to_end().await;
    assert!(body.len() < fixture.json().len(), "JSON was not compressed");
    server.shutdown().await;
}

/// Over HTTP/2 (h2c prior knowledge) the same bytes arrive, with no connection-specific
/// header. A harness whose framework does not serve h2c skips this case.
pub async fn http2<H: Harness>() {
    if !H::HTTP2 {
        eprintln!("skipped: this framework's harness serves no HTTP/2");
        return;
    }
    let (_fixture, server) = start::<H>().await;
    let mut response = Request::get(server.addr, "/golden").http2().send().await;
    assert_eq!(response.status, 200);
    assert_eq!(response.version, http::Version::HTTP_2);
    assert_eq!(response.header("connection"), None);
    assert_eq!(response.read_to_end().await, Fixture::GOLDEN);
    server.shutdown().await;
}

/// Graceful shutdown with 100 open streams completes: every stream ends and the server
/// exits (within the generous deadline of [`crate::DEADLINE`], which means failure).
pub async fn graceful_shutdown_with_open_streams<H: Harness>() {
    let (fixture, server) = start::<H>().await;
    let mut clients = Vec::new();
    for _ in 0..100 {
        let mut response = Request::get(server.addr, "/live").send().await;
        assert_eq!(response.next_event().await.data, "hello");
        clients.push(response);
    }
    assert_eq!(fixture.live_streams(), 100);
    let shutdown = tokio::spawn(server.shutdown());
    for client in &mut clients {
        // Each stream ends: no event after `hello`, then the end of the body.
        assert_eq!(client.next_frame().await, None);
    }
    shutdown.await.expect("shutdown task");
    assert_eq!(fixture.live_streams(), 0);
}

/// Runs every conformance case as its own `#[tokio::test]`, so a failure names the case and
/// the framework. Use it once in an adapter's integration tests with its [`Harness`] type.
#[macro_export]
macro_rules! conformance_tests {
    ($harness:ty) => {
        $crate::conformance_tests!(@cases $harness;
            headers_http1,
            first_event_before_the_stream_ends,
            data_intact,
            golden_bytes,
            retry_first,
            heartbeats_after_idle,
            last_event_id_reaches_the_handler,
            error_item_ends_the_stream_cleanly,
            disconnect_frees_the_stream,
            compression_stays_off,
            http2,
            graceful_shutdown_with_open_streams,
        );
    };
    (@cases $harness:ty; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::cases::$case::<$harness>().await;
            }
        )*
    };
}

/// The examples' ticker at `addr` + `path` (ids `0`, `1`, `2`, ...): an independent client
/// reads its first two ticks, and a reconnect with `Last-Event-ID: 1` gets `retry` first and
/// then tick `2`, exactly where it left off.
pub async fn ticker_resumes_after_the_last_event_id(
    addr: std::net::SocketAddr,
    path: &str,
    retry: std::time::Duration,
) {
    let first = independent_client_events(addr, path, 2).await;
    let ids: Vec<_> = first.into_iter().map(|(_, _, id)| id).collect();
    assert_eq!(ids, [Some("0".to_owned()), Some("1".to_owned())]);

    let mut resumed = Request::get(addr, path)
        .header("last-event-id", "1")
        .send()
        .await;
    assert_eq!(resumed.next_frame().await, Some(Frame::Retry(retry)));
    assert_eq!(resumed.next_event().await.last_event_id, "2");
}
