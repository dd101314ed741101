//! What axum and warp share: the tower middleware (`SseLayer` from the config, and CORS)
//! and the serve loop with the config's timeouts and TLS.

use std::error::Error as StdError;
use std::io;

use http::{header, HeaderName, Method, Request, Response};
use hyper::body::Incoming;
use sse_tower::serve::tls::ServerConfig;
use sse_tower::SseLayer;
use tokio::net::TcpListener;
use tower::Service;
use tower_http::cors::{Any, CorsLayer};

use crate::{App, Config};

type BoxError = Box<dyn StdError + Send + Sync>;

/// `SseLayer` with the demo's SSE policy ([`Config::sse`]).
pub(crate) fn sse(config: &Config) -> SseLayer {
    SseLayer::from(config.sse())
}

/// CORS for browsers on other origins: any origin, `GET`/`POST`, the headers the app reads.
pub(crate) fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("last-event-id"),
        ])
}

/// Serves `service` with `sse_tower::serve` until [`App::shutdown`], then finishes the open
/// connections: the config's head-read and idle timeouts, and TLS with `tls`.
pub(crate) async fn serve<S, B>(
    app: &App,
    listener: TcpListener,
    service: S,
    tls: Option<ServerConfig>,
) -> io::Result<()>
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let config = app.config();
    let server = sse_tower::serve(listener, service)
        .header_read_timeout(config.header_timeout())
        .idle_timeout(config.idle_timeout());
    let server = match tls {
        Some(tls) => server.tls(tls),
        None => server,
    };
    server
        .with_graceful_shutdown(app.shutdown_token().cancelled_owned())
        .await
}
