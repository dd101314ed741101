//! The shared conformance cases on real warp servers, in the two setups the crate docs
//! recommend:
//!
//! - `warp::serve` (hyper-util's auto connection: HTTP/1.1 and h2c) with the SSE routes
//!   outside `.with(warp::compression::gzip())`, which compresses only the JSON route;
//! - `warp::service(routes)` under tower-http's `CompressionLayer` and `SseLayer`, on
//!   hyper-util's auto server.

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use sse_testkit::{Fixture, FixtureStream, Server, StreamOptions};
use sse_warp::{Heartbeat, LastEventId, Sse, SseConfig, SseLayer};
use tokio::net::TcpListener;
use tower::util::BoxCloneService;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use warp::filters::BoxedFilter;
use warp::{Filter, Reply};

/// Serves `stream` through the reply with the fixture's options mapped onto its own.
fn sse(stream: FixtureStream, options: StreamOptions) -> Sse<FixtureStream> {
    let mut sse = Sse::new(stream);
    if let Some(interval) = options.heartbeat {
        sse = sse.heartbeat(Heartbeat::every(interval));
    }
    if let Some(retry) = options.retry {
        sse = sse.retry(retry);
    }
    sse
}

/// The SSE routes of the fixture, each one call into `Fixture`.
fn event_routes(fixture: &Fixture) -> BoxedFilter<(Sse<FixtureStream>,)> {
    let none = StreamOptions::default();
    let with = |fixture: &Fixture| {
        let fixture = fixture.clone();
        warp::any().map(move || fixture.clone())
    };
    let golden = warp::path("golden")
        .and(with(fixture))
        .map(move |f: Fixture| sse(f.golden(), none));
    let idle = warp::path("idle")
        .and(with(fixture))
        .map(|f: Fixture| sse(f.idle(), Fixture::IDLE_OPTIONS));
    let gated = warp::path("gated")
        .and(with(fixture))
        .map(move |f: Fixture| sse(f.gated(), none));
    let last_event_id = warp::path("last-event-id")
        .and(with(fixture))
        .and(sse_warp::last_event_id())
        .map(move |f: Fixture, id: Option<LastEventId>| sse(f.echo_last_event_id(id), none));
    let error = warp::path("error")
        .and(with(fixture))
        .map(move |f: Fixture| sse(f.failing(), none));
    let live = warp::path("live")
        .and(with(fixture))
        .map(move |f: Fixture| sse(f.live(), none));
    warp::get()
        .and(
            golden
                .or(idle)
                .unify()
                .or(gated)
                .unify()
                .or(last_event_id)
                .unify()
                .or(error)
                .unify()
                .or(live)
                .unify(),
        )
        .boxed()
}

/// The JSON route (not SSE).
fn json_route(fixture: &Fixture) -> BoxedFilter<(impl Reply,)> {
    let fixture = fixture.clone();
    warp::path("json")
        .map(move || warp::reply::with_header(fixture.json(), "content-type", "application/json"))
        .boxed()
}

/// `warp::serve`, warp's compression on the JSON route only.
struct Warp;

impl sse_testkit::Harness for Warp {
    const HTTP2: bool = true;

    async fn start(fixture: Fixture) -> Server {
        let routes = json_route(&fixture)
            .with(warp::compression::gzip())
            .or(event_routes(&fixture));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let signal = fixture.shutdown_token().cancelled_owned();
        let server = tokio::spawn(
            warp::serve(routes)
                .incoming(listener)
                .graceful(signal)
                .run(),
        );
        Server::spawned(addr, &fixture, server)
    }
}

/// `warp::service(routes)` under `CompressionLayer` and `SseLayer`, on hyper-util's server.
///
/// `identity_encoding(false)`: the layer marks SSE responses `Content-Encoding: identity` by
/// default, which the `headers_http1` case forbids (it wants no `Content-Encoding` at all).
/// tower-http's default predicate skips `text/event-stream`, so compression stays off
/// without the marker.
struct WarpUnderTower;

impl sse_testkit::Harness for WarpUnderTower {
    const HTTP2: bool = true;

    async fn start(fixture: Fixture) -> Server {
        let routes = json_route(&fixture).or(event_routes(&fixture));
        let service = ServiceBuilder::new()
            .layer(CompressionLayer::new())
            .layer(SseLayer::from(SseConfig::new().identity_encoding(false)))
            .service(warp::service(routes));
        // Boxed: naming the service's future `Send` here spares the compiler a
        // higher-ranked `Send` proof it can't make through the spawned connection.
        let service = BoxCloneService::new(service);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let token = fixture.shutdown_token();
        let server = tokio::spawn(async move {
            let builder = auto::Builder::new(TokioExecutor::new());
            let graceful = GracefulShutdown::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        let service = TowerToHyperService::new(service.clone());
                        let connection = builder
                            .serve_connection_with_upgrades(TokioIo::new(stream), service)
                            .into_owned();
                        let connection = graceful.watch(connection);
                        tokio::spawn(async move {
                            let _ = connection.await;
                        });
                    }
                    () = token.cancelled() => break,
                }
            }
            drop(listener);
            graceful.shutdown().await;
        });
        Server::spawned(addr, &fixture, server)
    }
}

mod warp_serve {
    sse_testkit::conformance_tests!(super::Warp);
}

mod under_tower {
    sse_testkit::conformance_tests!(super::WarpUnderTower);
}
