//! Server-Sent Events with warp and sse-warp: a ticker that resumes where a reconnecting
//! client left off, and a feed backed by the toolkit's broadcast hub, which replays what a
//! client missed while it was away.
//!
//! Run with
//!
//! ```text
//! cargo run -p example-warp
//! curl -N http://127.0.0.1:3000/ticks                          # id: 0, 1, 2, ...
//! curl -N -H 'Last-Event-ID: 41' http://127.0.0.1:3000/ticks  # id: 42, 43, ...
//! curl -N http://127.0.0.1:3000/feed &
//! curl -d 'hello' http://127.0.0.1:3000/publish                # 202, the event's id
//! ```
//!
//! Test with
//!
//! ```text
//! cargo test -p example-warp
//! ```

use std::time::Duration;

use bytes::Bytes;
use futures_util::stream;
use sse_warp::{
    last_event_id, Event, Hub, HubConfig, InvalidLastEventId, LastEventId, Sse, SseLayer,
};
use tokio::net::TcpListener;
use tower_layer::Layer;
use warp::http::StatusCode;
use warp::{Filter, Rejection, Reply};

/// The hub topic of `/feed` and `/publish`.
const TOPIC: &str = "feed";

/// How long a client waits before it reconnects, sent first on every stream.
const RETRY: Duration = Duration::from_secs(2);

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:3000").await?;
    println!("listening on http://{}", listener.local_addr()?);
    serve(listener, Hub::new(HubConfig::new())).await
}

/// Serves the routes under `SseLayer`: SSE headers, a heartbeat comment after 15 s without
/// an event on every stream, and no compression of event streams. `warp::serve` takes a
/// filter, not a tower service, so `sse_tower::serve` serves `warp::service(routes)`.
async fn serve(listener: TcpListener, hub: Hub) -> std::io::Result<()> {
    let app = SseLayer::new().layer(warp::service(routes(hub)));
    sse_tower::serve(listener, app).await
}

/// The routes, with a `400` for a malformed `Last-Event-ID`.
fn routes(hub: Hub) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    let hub = warp::any().map(move || hub.clone());
    let ticks = warp::path!("ticks")
        .and(warp::get())
        .and(last_event_id())
        .map(ticks);
    let feed = warp::path!("feed")
        .and(warp::get())
        .and(hub.clone())
        .and(last_event_id())
        .map(feed);
    let publish = warp::path!("publish")
        .and(warp::post())
        .and(hub)
        .and(warp::body::content_length_limit(64 * 1024))
        .and(warp::body::bytes())
        .then(publish);
    ticks.or(feed).or(publish).recover(recover)
}

/// A tick a second, numbered; `Last-Event-ID: n` (or `?lastEventId=n`) resumes at `n + 1`.
fn ticks(last: Option<LastEventId>) -> impl Reply {
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
fn feed(hub: Hub, last: Option<LastEventId>) -> impl Reply {
    Sse::new(hub.subscribe([TOPIC], last.as_deref()).batches()).retry(RETRY)
}

/// Publishes the request body as one event to every `/feed` client; answers its id.
async fn publish(hub: Hub, body: Bytes) -> impl Reply {
    match hub
        .publish(TOPIC, Event::data(&String::from_utf8_lossy(&body)))
        .await
    {
        Ok(id) => warp::reply::with_status(id.to_string(), StatusCode::ACCEPTED),
        Err(err) => warp::reply::with_status(err.to_string(), StatusCode::SERVICE_UNAVAILABLE),
    }
}

/// `last_event_id()` rejects a malformed id; warp would answer a custom rejection with
/// `500`, so it becomes its own `400` reply here.
async fn recover(rejection: Rejection) -> Result<impl Reply, Rejection> {
    match rejection.find::<InvalidLastEventId>() {
        Some(invalid) => Ok(*invalid),
        None => Err(rejection),
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    /// Serves the app on a free port of 127.0.0.1.
    async fn start(hub: Hub) -> std::net::SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(serve(listener, hub));
        addr
    }

    #[tokio::test]
    async fn ticks_resume_after_the_last_event_id() {
        let addr = start(Hub::new(HubConfig::new())).await;
        sse_testkit::cases::ticker_resumes_after_the_last_event_id(addr, "/ticks", RETRY).await;
    }

    #[tokio::test]
    async fn the_feed_replays_what_came_after_the_last_event_id() {
        let hub = Hub::new(HubConfig::new());
        let mut ids = Vec::new();
        for text in ["one", "two"] {
            let response = warp::test::request()
                .method("POST")
                .path("/publish")
                .body(text)
                .reply(&routes(hub.clone()))
                .await;
            assert_eq!(response.status(), StatusCode::ACCEPTED);
            ids.push(String::from_utf8(response.body().to_vec()).unwrap());
        }
        let addr = start(hub).await;

        let mut resumed = sse_testkit::Request::get(addr, "/feed")
            .header("last-event-id", &ids[0])
            .send()
            .await;
        let replayed = resumed.next_event().await;
        assert_eq!(
            (replayed.data.as_str(), replayed.last_event_id),
            ("two", ids[1].clone())
        );
    }

    #[tokio::test]
    async fn a_malformed_last_event_id_is_a_400() {
        let response = warp::test::request()
            .path("/ticks?lastEventId=a%0Ab")
            .reply(&routes(Hub::new(HubConfig::new())))
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
}
