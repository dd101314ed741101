//! Server-Sent Events with axum and sse-axum: a ticker that resumes where a reconnecting
//! client left off, and a feed backed by the toolkit's broadcast hub, which replays what a
//! client missed while it was away.
//!
//! Run with
//!
//! ```text
//! cargo run -p example-axum
//! curl -N http://127.0.0.1:3000/ticks                          # id: 0, 1, 2, ...
//! curl -N -H 'Last-Event-ID: 41' http://127.0.0.1:3000/ticks  # id: 42, 43, ...
//! curl -N http://127.0.0.1:3000/feed &
//! curl -d 'hello' http://127.0.0.1:3000/publish                # 202, the event's id
//! ```
//!
//! Test with
//!
//! ```text
//! cargo test -p example-axum
//! ```

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use futures_util::{stream, Stream};
use sse_axum::{Event, EventBatch, Hub, HubConfig, LastEventId, Sse, SseLayer};

/// The hub topic of `/feed` and `/publish`.
const TOPIC: &str = "feed";

/// How long a client waits before it reconnects, sent first on every stream.
const RETRY: Duration = Duration::from_secs(2);

#[tokio::main]
async fn main() {
    let app = app(Hub::new(HubConfig::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000")
        .await
        .unwrap();
    println!("listening on http://{}", listener.local_addr().unwrap());
    axum::serve(listener, app).await.unwrap();
}

/// The routes, under `SseLayer`: SSE headers, a heartbeat comment after 15 s without an
/// event on every stream, and no compression of event streams.
fn app(hub: Hub) -> Router {
    Router::new()
        .route("/ticks", get(ticks))
        .route("/feed", get(feed))
        .route("/publish", post(publish))
        .with_state(hub)
        .layer(SseLayer::new())
}

/// A tick a second, numbered; `Last-Event-ID: n` (or `?lastEventId=n`) resumes at `n + 1`.
/// The extractor answers a malformed id with `400`.
async fn ticks(last: Option<LastEventId>) -> Sse<impl Stream<Item = Event>> {
    let next = last
        .and_then(|id| id.parse::<u64>().ok())
        .map_or(0, |n| n + 1);
    let ticks = stream::unfold(
        (tokio::time::interval(Duration::from_secs(1)), next),
        |(mut interval, n)| async move {
            interval.tick().await;
            let id = n.to_string();
            let event = Event::builder().id(&*id).data(&*id).build().ok()?;
            Some((event, (interval, n + 1)))
        },
    );
    Sse::new(ticks).retry(RETRY)
}

/// The hub's events, after replaying those published since the client's Last-Event-ID.
async fn feed(
    State(hub): State<Hub>,
    last: Option<LastEventId>,
) -> Sse<impl Stream<Item = EventBatch>> {
    let last = last.as_ref().map(|id| id.as_str());
    Sse::new(hub.subscribe([TOPIC], last).batches()).retry(RETRY)
}

/// Publishes the request body as one event to every `/feed` client; answers its id.
async fn publish(State(hub): State<Hub>, body: String) -> (StatusCode, String) {
    match hub.publish(TOPIC, Event::data(&body)).await {
        Ok(id) => (StatusCode::ACCEPTED, id.to_string()),
        Err(err) => (StatusCode::SERVICE_UNAVAILABLE, err.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;

    /// Serves `app` on a free port of 127.0.0.1.
    async fn serve(app: Router) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
    }

    #[tokio::test]
    async fn ticks_resume_after_the_last_event_id() {
        let addr = serve(app(Hub::new(HubConfig::new()))).await;
        sse_testkit::cases::ticker_resumes_after_the_last_event_id(addr, "/ticks", RETRY).await;
    }

    #[tokio::test]
    async fn the_feed_replays_what_came_after_the_last_event_id() {
        let hub = Hub::new(HubConfig::new());
        let app = app(hub.clone());
        let publish = |text: &'static str| {
            let request = Request::post("/publish").body(Body::from(text)).unwrap();
            let app = app.clone();
            async move {
                let response = app.oneshot(request).await.unwrap();
                assert_eq!(response.status(), StatusCode::ACCEPTED);
                let id = axum::body::to_bytes(response.into_body(), 1024)
                    .await
                    .unwrap();
                String::from_utf8(id.to_vec()).unwrap()
            }
        };
        let first = publish("one").await;
        let second = publish("two").await;
        let addr = serve(app).await;

        let mut feed = sse_testkit::Request::get(addr, "/feed")
            .header("last-event-id", &first)
            .send()
            .await;
        let replayed = feed.next_event().await;
        assert_eq!(
            (replayed.data.as_str(), replayed.last_event_id),
            ("two", second)
        );
    }
}
