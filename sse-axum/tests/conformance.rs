//! The shared conformance cases on a real axum server (`axum::serve`, HTTP/1.1 and h2c),
//! with tower-http's `CompressionLayer` on: once with the `Sse` responder alone, once behind
//! `SseLayer` as well.

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use http::header::CONTENT_TYPE;
use sse_axum::{Heartbeat, LastEventId, Sse, SseConfig, SseLayer};
use sse_testkit::{Fixture, FixtureStream, Server, StreamOptions};
use tower_http::compression::CompressionLayer;

/// Serves `stream` through the responder with the fixture's options mapped onto its own.
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

fn routes(fixture: Fixture) -> Router {
    let none = StreamOptions::default();
    Router::new()
        .route(
            "/golden",
            get(move |State(f): State<Fixture>| async move { sse(f.golden(), none) }),
        )
        .route(
            "/idle",
            get(|State(f): State<Fixture>| async move { sse(f.idle(), Fixture::IDLE_OPTIONS) }),
        )
        .route(
            "/gated",
            get(move |State(f): State<Fixture>| async move { sse(f.gated(), none) }),
        )
        .route(
            "/last-event-id",
            get(
                move |State(f): State<Fixture>, last: Option<LastEventId>| async move {
                    sse(
                        f.echo_last_event_id(last.map(LastEventId::into_inner)),
                        none,
                    )
                },
            ),
        )
        .route(
            "/error",
            get(move |State(f): State<Fixture>| async move { sse(f.failing(), none) }),
        )
        .route(
            "/live",
            get(move |State(f): State<Fixture>| async move { sse(f.live(), none) }),
        )
        .route(
            "/json",
            get(|State(f): State<Fixture>| async move {
                ([(CONTENT_TYPE, "application/json")], f.json())
            }),
        )
        .with_state(fixture)
}

/// Serves `app` with `axum::serve` (hyper-util's auto connection: HTTP/1.1 and h2c) until
/// the fixture's shutdown token is cancelled, which also ends the open streams.
async fn serve(fixture: &Fixture, app: Router) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let signal = fixture.shutdown_token().cancelled_owned();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(signal)
            .await
            .unwrap();
    });
    Server::spawned(addr, fixture, server)
}

/// The responder alone, under `CompressionLayer` (gzip, deflate, br, zstd).
struct Axum;

impl sse_testkit::Harness for Axum {
    const HTTP2: bool = true;

    async fn start(fixture: Fixture) -> Server {
        let app = routes(fixture.clone()).layer(CompressionLayer::new());
        serve(&fixture, app).await
    }
}

/// The responder behind `SseLayer`, with `CompressionLayer` outside it.
///
/// `identity_encoding(false)`: the layer marks SSE responses `Content-Encoding: identity` by
/// default, which the `headers_http1` case forbids (it wants no `Content-Encoding` at all).
/// tower-http's default predicate skips `text/event-stream` anyway, so compression stays
/// off without the marker.
struct AxumWithSseLayer;

impl sse_testkit::Harness for AxumWithSseLayer {
    const HTTP2: bool = true;

    async fn start(fixture: Fixture) -> Server {
        let app = routes(fixture.clone())
            .layer(SseLayer::from(SseConfig::new().identity_encoding(false)))
            .layer(CompressionLayer::new());
        serve(&fixture, app).await
    }
}

mod responder {
    sse_testkit::conformance_tests!(super::Axum);
}

mod with_sse_layer {
    sse_testkit::conformance_tests!(super::AxumWithSseLayer);
}
