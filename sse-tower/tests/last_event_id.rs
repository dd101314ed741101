//! Last-Event-ID reaches the handler through the request extensions.

mod support;

use axum::{routing::get, Extension, Router};
use sse_core::LastEventId;
use sse_tower::SseLayer;
use support::{get_h1, read_all, serve};

async fn echo(id: Option<Extension<LastEventId>>) -> String {
    id.map_or_else(|| "none".to_owned(), |Extension(id)| id.as_str().to_owned())
}

#[tokio::test]
async fn header_and_query_parameter_reach_an_axum_handler() {
    let app = Router::new()
        .route("/events", get(echo))
        .layer(SseLayer::new());
    let addr = serve(app).await;

    let res = get_h1(addr, "/events", &[("last-event-id", "41")]).await;
    assert_eq!(read_all(res.into_body()).await, "41");
    let res = get_h1(addr, "/events?lastEventId=a%2D7", &[]).await;
    assert_eq!(read_all(res.into_body()).await, "a-7");
    let res = get_h1(addr, "/events", &[]).await;
    assert_eq!(read_all(res.into_body()).await, "none");
}
