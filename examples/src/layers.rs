//! The tower middleware axum and warp share: `SseLayer` from the config, and CORS.

use http::{header, HeaderName, Method};
use sse_tower::SseLayer;
use tower_http::cors::{Any, CorsLayer};

use crate::Config;

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
