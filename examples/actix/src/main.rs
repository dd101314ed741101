//! Server-Sent Events with actix-web and sse-actix: a ticker that resumes where a
//! reconnecting client left off, and a feed backed by the toolkit's broadcast hub, which
//! replays what a client missed while it was away.
//!
//! Run with
//!
//! ```text
//! cargo run -p example-actix
//! curl -N http://127.0.0.1:3000/ticks                          # id: 0, 1, 2, ...
//! curl -N -H 'Last-Event-ID: 41' http://127.0.0.1:3000/ticks  # id: 42, 43, ...
//! curl -N http://127.0.0.1:3000/feed &
//! curl -d 'hello' http://127.0.0.1:3000/publish                # 202, the event's id
//! ```
//!
//! Test with
//!
//! ```text
//! cargo test -p example-actix
//! ```

use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{get, post, web, App, HttpResponse, HttpServer, Responder};
use futures_util::stream;
use sse_actix::hub::{Hub, HubConfig};
use sse_actix::middleware::SseMiddleware;
use sse_actix::{Event, LastEventId, Sse};

/// The hub topic of `/feed` and `/publish`.
const TOPIC: &str = "feed";

/// How long a client waits before it reconnects, sent first on every stream.
const RETRY: Duration = Duration::from_secs(2);

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    // Outside `HttpServer::new`: every worker shares the one hub.
    let hub = web::Data::new(Hub::new(HubConfig::new()));
    println!("listening on http://127.0.0.1:3000");
    HttpServer::new(move || app(hub.clone()))
        // Notice clients that hang up on a silent stream (EventSource never half-closes).
        .h1_allow_half_closed(false)
        .bind(("127.0.0.1", 3000))?
        .run()
        .await
}

/// The routes, under `SseMiddleware`: SSE headers, a heartbeat comment after 15 s without
/// an event on every stream, and no compression of event streams.
fn app(
    hub: web::Data<Hub>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(hub)
        .service(ticks)
        .service(feed)
        .service(publish)
        .wrap(SseMiddleware::new())
}

/// A tick a second, numbered; `Last-Event-ID: n` (or `?lastEventId=n`) resumes at `n + 1`.
/// A malformed id is `None` here, as actix's `Option` extractors have it: the count starts
/// over.
#[get("/ticks")]
async fn ticks(last: Option<LastEventId>) -> impl Responder {
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
    Sse::from_stream(ticks).with_retry(RETRY)
}

/// The hub's events, after replaying those published since the client's Last-Event-ID.
#[get("/feed")]
async fn feed(hub: web::Data<Hub>, last: Option<LastEventId>) -> impl Responder {
    let last = last.as_ref().map(|id| id.as_str());
    Sse::from_stream(hub.subscribe([TOPIC], last).batches()).with_retry(RETRY)
}

/// Publishes the request body as one event to every `/feed` client; answers its id.
#[post("/publish")]
async fn publish(hub: web::Data<Hub>, body: String) -> HttpResponse {
    match hub.publish(TOPIC, Event::data(&body)).await {
        Ok(id) => HttpResponse::Accepted().body(id.to_string()),
        Err(err) => HttpResponse::ServiceUnavailable().body(err.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test;

    use super::*;

    /// Serves the app on a free port of 127.0.0.1, with one worker.
    fn serve(hub: web::Data<Hub>) -> std::net::SocketAddr {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = HttpServer::new(move || app(hub.clone()))
            .workers(1)
            .listen(listener)
            .unwrap()
            .run();
        actix_web::rt::spawn(server);
        addr
    }

    #[actix_web::test]
    async fn ticks_resume_after_the_last_event_id() {
        let addr = serve(web::Data::new(Hub::new(HubConfig::new())));
        sse_testkit::cases::ticker_resumes_after_the_last_event_id(addr, "/ticks", RETRY).await;
    }

    #[actix_web::test]
    async fn the_feed_replays_what_came_after_the_last_event_id() {
        let hub = web::Data::new(Hub::new(HubConfig::new()));
        let app = test::init_service(app(hub.clone())).await;
        let mut ids = Vec::new();
        for text in ["one", "two"] {
            let request = test::TestRequest::post()
                .uri("/publish")
                .set_payload(text)
                .to_request();
            let response = test::call_service(&app, request).await;
            assert_eq!(response.status(), 202);
            ids.push(String::from_utf8(test::read_body(response).await.to_vec()).unwrap());
        }
        let addr = serve(hub);

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
}
