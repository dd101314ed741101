//! The stream limit: 503 + Retry-After, or 200 with only `retry:`, and permits coming back.

mod support;

use std::time::Duration;

use axum::{response::IntoResponse, routing::get, Router};
use bytes::{Bytes, BytesMut};
use futures_util::{stream, StreamExt};
use http::{header, StatusCode};
use sse_tower::{OverLimit, SseConfig, SseLayer};
use support::{get_h1, read_all, read_event, serve, sse_response, wait_live};

async fn events() -> impl IntoResponse {
    sse_response(stream::iter([Bytes::from_static(b"data: hello\n\n")]).chain(stream::pending()))
}

async fn json() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], "{}")
}

fn app(layer: SseLayer) -> Router {
    Router::new()
        .route("/events", get(events))
        .route("/json", get(json))
        .layer(layer)
}

#[tokio::test]
async fn beyond_the_limit_is_503_until_a_stream_closes() {
    let layer = SseLayer::from(
        SseConfig::new()
            .max_streams(2)
            .retry_after(Duration::from_millis(2500)),
    );
    let stats = layer.stats();
    let addr = serve(app(layer)).await;

    let mut open = Vec::new();
    for _ in 0..2 {
        let res = get_h1(addr, "/events", &[]).await;
        assert_eq!(res.status(), StatusCode::OK);
        let mut body = res.into_body();
        read_event(&mut body, &mut BytesMut::new()).await;
        open.push(body);
    }

    let res = get_h1(addr, "/events", &[]).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers()[header::RETRY_AFTER], "3");
    assert!(read_all(res.into_body()).await.is_empty());
    assert_eq!(stats.rejected(), 1);

    // Non-SSE routes are not limited.
    let res = get_h1(addr, "/json", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);

    drop(open.pop());
    wait_live(&stats, 1, Duration::from_secs(10)).await;

    let res = get_h1(addr, "/events", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let mut body = res.into_body();
    assert_eq!(
        read_event(&mut body, &mut BytesMut::new()).await,
        "data: hello\n\n"
    );
    assert_eq!(stats.live(), 2);
}

#[tokio::test]
async fn retry_later_answers_200_with_only_a_jittered_retry_field() {
    let layer = SseLayer::from(
        SseConfig::new()
            .max_streams(1)
            .over_limit(OverLimit::RetryLater)
            .retry_after(Duration::from_secs(4)),
    );
    let stats = layer.stats();
    let addr = serve(app(layer)).await;

    let res = get_h1(addr, "/events", &[]).await;
    let mut first = res.into_body();
    read_event(&mut first, &mut BytesMut::new()).await;

    let mut seen = Vec::new();
    for _ in 0..5 {
        let res = get_h1(addr, "/events", &[("accept", "text/event-stream")]).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()[header::CONTENT_TYPE], "text/event-stream");
        assert_eq!(
            res.headers()[header::CACHE_CONTROL],
            "no-cache, no-transform"
        );
        // The body ends: read_all returns only once the response is complete.
        let body = read_all(res.into_body()).await;
        let text = std::str::from_utf8(&body).unwrap();
        let millis: u64 = text
            .strip_prefix("retry: ")
            .and_then(|rest| rest.strip_suffix("\n\n"))
            .unwrap_or_else(|| panic!("not a lone retry field: {text:?}"))
            .parse()
            .unwrap();
        assert!((4000..=6000).contains(&millis), "{millis}");
        seen.push(millis);
    }
    assert!(seen.iter().any(|&m| m != seen[0]), "no jitter: {seen:?}");
    assert_eq!(stats.rejected(), 5);
    assert_eq!(stats.live(), 1);
    drop(first);
    wait_live(&stats, 0, Duration::from_secs(10)).await;
}

#[tokio::test]
async fn over_the_limit_the_handlers_body_is_dropped() {
    use std::{convert::Infallible, sync::Arc};
    use tower::{service_fn, Layer, ServiceExt};

    let alive = Arc::new(());
    let handler_alive = alive.clone();
    let svc = SseLayer::from(SseConfig::new().max_streams(0)).layer(service_fn(
        move |_req: http::Request<http_body_util::Empty<Bytes>>| {
            let guard = handler_alive.clone();
            async move {
                // The stream owns `guard`; it lives as long as the handler's body.
                let events = stream::iter([Bytes::from_static(b"data: x\n\n")])
                    .chain(stream::pending())
                    .map(move |b| {
                        let _ = &guard;
                        b
                    });
                Ok::<_, Infallible>(sse_response(events))
            }
        },
    ));
    let res = svc
        .clone()
        .oneshot(http::Request::new(http_body_util::Empty::new()))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        Arc::strong_count(&alive),
        2,
        "the handler's body is still alive"
    );
    drop(svc);
    assert_eq!(Arc::strong_count(&alive), 1);
}
