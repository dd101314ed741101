//! `SseMiddleware` on real sockets (headers, compression in both registration orders,
//! heartbeats, the stream limit, disconnects) and `HeartbeatBody`'s timer logic in memory
//! under tokio's paused clock.

mod support;

use std::{
    convert::Infallible,
    future::poll_fn,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use actix_web::{
    body::{BodySize, MessageBody},
    http::header::ContentType,
    middleware::Compress,
    web, App, HttpResponse, HttpServer,
};
use bytes::Bytes;
use futures_util::{stream, Stream, StreamExt};
use sse_actix::{
    middleware::{HeartbeatBody, OverLimit, SseMiddleware, SseStats},
    CancellationToken, Event, Heartbeat, Sse, SseConfig,
};
use sse_core::parse::Frame;
use sse_testkit::{Request, SseResponse, DEADLINE};
use tokio::sync::mpsc;

/// Where `Compress` stands relative to `SseMiddleware`.
#[derive(Clone, Copy, Debug)]
enum Order {
    /// `.wrap(SseMiddleware).wrap(Compress)`: Compress registered last, so it runs first
    /// (outside). The recommended order.
    CompressOutside,
    /// `.wrap(Compress).wrap(SseMiddleware)`: Compress runs inside the SSE middleware.
    CompressInside,
}

/// What each worker builds its middleware from (`SseMiddleware` itself is `Rc`, not `Send`).
#[derive(Clone)]
struct Config {
    order: Order,
    heartbeat: Option<Duration>,
    max_streams: Option<usize>,
    over_limit: OverLimit,
    stats: SseStats,
    shutdown: CancellationToken,
}

impl Config {
    fn new(order: Order) -> Self {
        Self {
            order,
            heartbeat: None,
            max_streams: None,
            over_limit: OverLimit::ServiceUnavailable,
            stats: SseStats::new(),
            shutdown: CancellationToken::new(),
        }
    }

    fn middleware(&self) -> SseMiddleware {
        let mut config = SseConfig::new()
            .over_limit(self.over_limit)
            .stats_handle(self.stats.clone());
        config = match self.heartbeat {
            Some(interval) => config.heartbeat(Heartbeat::every(interval)),
            None => config.no_heartbeat(),
        };
        if let Some(max) = self.max_streams {
            config = config.max_streams(max);
        }
        SseMiddleware::from(config)
    }
}

/// Silence until the shutdown token is cancelled, then the end.
fn until<T>(token: &CancellationToken) -> impl Stream<Item = T> + 'static {
    stream::once(token.clone().cancelled_owned()).filter_map(|()| async { None })
}

/// A hand-made SSE response (not marked `identity`): one event, then silence.
async fn raw(config: web::Data<Config>) -> HttpResponse {
    let body = stream::iter([Ok::<_, Infallible>(Bytes::from_static(b"data: first\n\n"))])
        .chain(until(&config.shutdown));
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .streaming(body)
}

/// actix-web-lab's own `Sse`: one event, then silence (no heartbeat of its own).
async fn lab(
    config: web::Data<Config>,
) -> actix_web_lab::sse::Sse<impl Stream<Item = Result<actix_web_lab::sse::Event, Infallible>>> {
    use actix_web_lab::sse;
    let events =
        stream::iter([Ok(sse::Event::Data(sse::Data::new("lab")))]).chain(until(&config.shutdown));
    sse::Sse::from_stream(events)
}

/// This crate's `Sse`: one event, then silence.
async fn ours(config: web::Data<Config>) -> Sse<impl Stream<Item = Event>> {
    Sse::from_stream(stream::iter([Event::data("ours")]).chain(until(&config.shutdown)))
}

/// Writes half an event, stalls for 300 ms, then finishes it, then silence.
async fn half(config: web::Data<Config>) -> HttpResponse {
    let body = stream::iter([Bytes::from_static(b"data: ha")])
        .chain(stream::once(async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            Bytes::from_static(b"lf\n\n")
        }))
        .map(Ok::<_, Infallible>)
        .chain(until(&config.shutdown));
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .streaming(body)
}

async fn json() -> HttpResponse {
    let items: Vec<String> = (0..200).map(|i| format!("{{\"item\":{i}}}")).collect();
    HttpResponse::Ok()
        .insert_header(ContentType::json())
        .body(format!("[{}]", items.join(",")))
}

struct TestServer {
    running: support::Running,
    config: Config,
}

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/raw", web::get().to(raw))
        .route("/lab", web::get().to(lab))
        .route("/ours", web::get().to(ours))
        .route("/half", web::get().to(half))
        .route("/json", web::get().to(json));
}

/// Binds and runs a server for `factory` (the two orders build apps of different types).
macro_rules! serve {
    ($factory:expr) => {{
        let server = HttpServer::new($factory)
            .workers(2)
            .h1_allow_half_closed(false)
            .disable_signals()
            .shutdown_timeout(5)
            .bind(("127.0.0.1", 0))?;
        let addr = server.addrs()[0];
        Ok((server.run(), addr))
    }};
}

impl TestServer {
    async fn start(config: Config) -> Self {
        let app_config = config.clone();
        let running = support::spawn(move || match app_config.order {
            Order::CompressOutside => serve!(move || {
                App::new()
                    .app_data(web::Data::new(app_config.clone()))
                    .configure(routes)
                    .wrap(app_config.middleware())
                    .wrap(Compress::default())
            }),
            Order::CompressInside => serve!(move || {
                App::new()
                    .app_data(web::Data::new(app_config.clone()))
                    .configure(routes)
                    .wrap(Compress::default())
                    .wrap(app_config.middleware())
            }),
        })
        .await;
        Self { running, config }
    }

    fn get(&self, path: &str) -> Request {
        Request::get(self.running.addr, path)
    }

    async fn stop(self) {
        self.config.shutdown.cancel();
        self.running.stop().await;
    }
}

const ALL_ENCODINGS: &str = "gzip, br, zstd, deflate";
const ORDERS: [Order; 2] = [Order::CompressOutside, Order::CompressInside];

fn assert_sse_headers(res: &SseResponse, what: &str) {
    assert_eq!(res.status, 200, "{what}");
    assert_eq!(
        res.header("content-encoding").unwrap_or("identity"),
        "identity",
        "{what}: compressed"
    );
    assert_eq!(res.header("x-accel-buffering"), Some("no"), "{what}");
    assert!(
        res.header("cache-control")
            .unwrap_or_default()
            .contains("no-cache"),
        "{what}: cache-control {:?}",
        res.header("cache-control")
    );
    assert_eq!(res.header("content-length"), None, "{what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_is_never_compressed_and_json_still_is_in_both_orders() {
    for order in ORDERS {
        let server = TestServer::start(Config::new(order)).await;
        for (path, data) in [("/raw", "first"), ("/lab", "lab"), ("/ours", "ours")] {
            let what = format!("{order:?} {path}");
            let mut res = server
                .get(path)
                .header("accept-encoding", ALL_ENCODINGS)
                .send()
                .await;
            assert_sse_headers(&res, &what);
            assert_eq!(res.next_event().await.data, data, "{what}");
            res.disconnect();
        }
        // The middleware's own cache-control on a response that set none.
        let res = server.get("/raw").send().await;
        assert_eq!(res.header("cache-control"), Some("no-cache, no-transform"));
        res.disconnect();

        let mut json = server
            .get("/json")
            .without_header("accept")
            .header("accept-encoding", ALL_ENCODINGS)
            .send()
            .await;
        let encoding = json.header("content-encoding").map(str::to_owned);
        assert!(
            matches!(
                encoding.as_deref(),
                Some("br" | "gzip" | "zstd" | "deflate")
            ),
            "{order:?}: JSON not compressed: {encoding:?}"
        );
        assert_eq!(json.header("x-accel-buffering"), None);
        json.read_to_end().await;
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_event_stream_accept_only_the_inner_compress_can_win() {
    // Documented limit: a hand-made SSE response, requested without `Accept:
    // text/event-stream`, is compressed by a Compress that runs *inside* the middleware
    // (which then leaves it without heartbeats); an outer Compress never compresses it.
    for order in ORDERS {
        let mut config = Config::new(order);
        config.heartbeat = Some(Duration::from_millis(30));
        let server = TestServer::start(config).await;
        let mut res = server
            .get("/raw")
            .without_header("accept")
            .header("accept-encoding", "gzip")
            .send()
            .await;
        match order {
            Order::CompressOutside => {
                assert_sse_headers(&res, "outside");
                assert_eq!(res.next_event().await.data, "first");
                assert!(matches!(res.next_frame().await, Some(Frame::Comment(_))));
            }
            Order::CompressInside => {
                assert_eq!(res.header("content-encoding"), Some("gzip"));
            }
        }
        res.disconnect();
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_are_injected_into_actix_web_labs_sse_after_idle() {
    let mut config = Config::new(Order::CompressOutside);
    config.heartbeat = Some(Duration::from_millis(50));
    let server = TestServer::start(config).await;
    let mut res = server
        .get("/lab")
        .header("accept-encoding", ALL_ENCODINGS)
        .send()
        .await;
    assert_sse_headers(&res, "lab");
    assert_eq!(res.next_event().await.data, "lab");
    for _ in 0..3 {
        match res.next_frame().await {
            Some(Frame::Comment(_)) => {}
            other => panic!("expected a heartbeat, got {other:?}"),
        }
    }
    res.disconnect();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_heartbeat_inside_a_stalled_half_event_on_the_wire() {
    let mut config = Config::new(Order::CompressOutside);
    // The body stalls for 300 ms mid-event: six intervals.
    config.heartbeat = Some(Duration::from_millis(50));
    let server = TestServer::start(config).await;
    let mut res = server.get("/half").send().await;
    assert_eq!(res.next_event().await.data, "half");
    assert!(
        res.raw().starts_with(b"data: half\n\n"),
        "{:?}",
        String::from_utf8_lossy(res.raw())
    );
    // Once the event is whole, heartbeats come again.
    assert!(matches!(res.next_frame().await, Some(Frame::Comment(_))));
    res.disconnect();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_limit_answers_503_and_the_permit_lives_as_long_as_the_body() {
    let mut config = Config::new(Order::CompressOutside);
    config.max_streams = Some(2);
    let stats = config.stats.clone();
    let server = TestServer::start(config).await;

    let mut open = Vec::new();
    for _ in 0..2 {
        let mut res = server.get("/raw").send().await;
        assert_eq!(res.next_event().await.data, "first");
        open.push(res);
    }
    assert_eq!(stats.live(), 2);

    let mut refused = server.get("/raw").send().await;
    assert_eq!(refused.status, 503);
    assert_eq!(refused.header("retry-after"), Some("5"));
    refused.read_to_end().await;
    assert_eq!(stats.rejected(), 1);

    // One client goes away: its body is dropped and its permit comes back.
    open.pop().unwrap().disconnect();
    wait_live(&stats, 1).await;
    let mut again = server.get("/raw").send().await;
    assert_eq!(again.status, 200);
    assert_eq!(again.next_event().await.data, "first");
    assert_eq!((stats.opened(), stats.closed()), (3, 1));

    // A non-SSE route is never limited.
    let json = server.get("/json").send().await;
    assert_eq!(json.status, 200);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_later_policy_answers_200_with_a_jittered_retry_and_ends() {
    let mut config = Config::new(Order::CompressOutside);
    config.max_streams = Some(0);
    config.over_limit = OverLimit::RetryLater;
    let server = TestServer::start(config).await;
    let mut res = server
        .get("/ours")
        .header("accept-encoding", ALL_ENCODINGS)
        .send()
        .await;
    assert_eq!(res.status, 200);
    assert!(res
        .header("content-type")
        .unwrap()
        .starts_with("text/event-stream"));
    assert_eq!(
        res.header("content-encoding").unwrap_or("identity"),
        "identity"
    );
    let frames = res.collect_frames().await;
    let [Frame::Retry(retry)] = frames[..] else {
        panic!("expected only a retry, got {frames:?}");
    };
    assert!(
        (Duration::from_millis(5000)..=Duration::from_millis(7500)).contains(&retry),
        "{retry:?}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_disconnecting_clients_bring_the_live_count_back_to_zero() {
    let config = Config::new(Order::CompressOutside);
    let stats = config.stats.clone();
    let server = TestServer::start(config).await;
    let mut clients = Vec::new();
    for i in 0..200 {
        let path = if i % 2 == 0 { "/raw" } else { "/ours" };
        let mut res = server.get(path).send().await;
        res.next_event().await;
        clients.push(res);
    }
    assert_eq!(stats.live(), 200);
    for client in clients {
        client.disconnect();
    }
    wait_live(&stats, 0).await;
    assert_eq!((stats.opened(), stats.closed()), (200, 200));
    server.stop().await;
}

// --- HeartbeatBody's timer logic, in memory on tokio's paused clock --------------------

/// A body fed chunk by chunk through a channel; it ends when the sender is dropped.
struct ChannelBody(mpsc::UnboundedReceiver<&'static str>);

impl MessageBody for ChannelBody {
    type Error = Infallible;

    fn size(&self) -> BodySize {
        BodySize::Stream
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Infallible>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|chunk| Ok(Bytes::from_static(chunk.as_bytes()))))
    }
}

const INTERVAL: Duration = Duration::from_secs(10);

fn heartbeat_body() -> (
    mpsc::UnboundedSender<&'static str>,
    Pin<Box<HeartbeatBody<ChannelBody>>>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    (
        tx,
        Box::pin(HeartbeatBody::new(
            ChannelBody(rx),
            Heartbeat::every(INTERVAL),
        )),
    )
}

async fn next(body: &mut Pin<Box<HeartbeatBody<ChannelBody>>>) -> Option<Bytes> {
    poll_fn(|cx| body.as_mut().poll_next(cx))
        .await
        .map(|chunk| chunk.unwrap())
}

#[tokio::test(start_paused = true)]
async fn heartbeat_comes_after_each_idle_interval() {
    let (_tx, mut body) = heartbeat_body();
    let start = tokio::time::Instant::now();
    assert_eq!(next(&mut body).await.unwrap(), ":\n");
    assert_eq!(start.elapsed(), INTERVAL);
    assert_eq!(next(&mut body).await.unwrap(), ":\n");
    assert_eq!(start.elapsed(), INTERVAL * 2);
}

#[tokio::test(start_paused = true)]
async fn no_heartbeat_while_chunks_flow_and_the_timer_restarts_from_the_last_write() {
    let (tx, mut body) = heartbeat_body();
    for i in 0..10 {
        let chunk = ["data: a\n\n", "data: b\n\n"][i % 2];
        let wait = tokio::time::sleep(Duration::from_secs(6));
        // Poll the body while waiting, as a server does: nothing comes out meanwhile.
        tokio::select! {
            chunk = next(&mut body) => panic!("heartbeat while events flow: {chunk:?}"),
            () = wait => {}
        }
        tx.send(chunk).unwrap();
        assert_eq!(next(&mut body).await.unwrap(), chunk);
    }
    let last = tokio::time::Instant::now();
    assert_eq!(next(&mut body).await.unwrap(), ":\n");
    assert_eq!(last.elapsed(), INTERVAL);
}

#[tokio::test(start_paused = true)]
async fn no_heartbeat_inside_a_half_written_event_however_long_it_stalls() {
    let (tx, mut body) = heartbeat_body();
    tx.send("data: ha").unwrap();
    assert_eq!(next(&mut body).await.unwrap(), "data: ha");
    let stalled = tokio::time::timeout(INTERVAL * 6, next(&mut body)).await;
    assert!(stalled.is_err(), "heartbeat inside an event: {stalled:?}");
    tx.send("lf\n").unwrap();
    assert_eq!(next(&mut body).await.unwrap(), "lf\n");
    // A field line ended, but not the event: still no heartbeat.
    assert!(tokio::time::timeout(INTERVAL * 3, next(&mut body))
        .await
        .is_err());
    tx.send("\n").unwrap();
    assert_eq!(next(&mut body).await.unwrap(), "\n");
    let boundary = tokio::time::Instant::now();
    assert_eq!(next(&mut body).await.unwrap(), ":\n");
    assert_eq!(boundary.elapsed(), INTERVAL);
}

#[tokio::test(start_paused = true)]
async fn no_heartbeat_after_the_end() {
    let (tx, mut body) = heartbeat_body();
    tx.send("data: last\n\n").unwrap();
    drop(tx);
    assert_eq!(next(&mut body).await.unwrap(), "data: last\n\n");
    assert!(next(&mut body).await.is_none());
    tokio::time::sleep(INTERVAL * 10).await;
    assert!(next(&mut body).await.is_none());
    assert_eq!(body.size(), BodySize::Stream);
}

/// Waits until exactly `count` streams are live; fails at the testkit's deadline (a hang, not
/// a timing assertion).
async fn wait_live(stats: &SseStats, count: usize) {
    tokio::time::timeout(DEADLINE, stats.wait_live(count))
        .await
        .unwrap_or_else(|_| panic!("{count} live streams not reached: {stats:?}"));
}
