//! The client against the hub served by each adapter (axum, actix-web, warp) on real
//! sockets: events and custom event types, resume with exactly the missed events after the
//! server ends the response, and the server's `retry:` honoured.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::{Stream, StreamExt};
use sse_client::{Config, Error, EventSource, Item};
use sse_core::hub::{Hub, HubConfig};
use sse_core::Event;
use tokio::net::TcpListener;
use tokio::time::timeout;

/// Only a hang reaches it.
const DEADLINE: Duration = Duration::from_secs(20);
const TOPIC: &str = "ticks";
/// Each response ends after this many events: the client must come back and resume.
const PER_CONNECTION: usize = 3;
/// The `retry:` every response starts with; the client's own reconnection time is far
/// shorter, so waiting this long shows it honoured the server's.
const RETRY: Duration = Duration::from_millis(300);

/// What every adapter serves at `/events`.
fn feed(hub: &Hub, last_event_id: Option<&str>) -> impl Stream<Item = Event> + Send + 'static {
    hub.subscribe([TOPIC], last_event_id).take(PER_CONNECTION)
}

async fn axum_server(hub: Hub) -> SocketAddr {
    use axum::{extract::State, routing::get, Router};
    use sse_axum::{LastEventId, Sse};

    let app = Router::new()
        .route(
            "/events",
            get(
                |State(hub): State<Hub>, last: Option<LastEventId>| async move {
                    Sse::new(feed(&hub, last.as_ref().map(|id| id.as_str()))).retry(RETRY)
                },
            ),
        )
        .with_state(hub);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

async fn warp_server(hub: Hub) -> SocketAddr {
    use warp::Filter;

    let routes = warp::path("events")
        .and(warp::any().map(move || hub.clone()))
        .and(sse_warp::last_event_id())
        .map(|hub: Hub, last: Option<sse_core::LastEventId>| {
            sse_warp::Sse::new(feed(&hub, last.as_ref().map(|id| id.as_str()))).retry(RETRY)
        });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(warp::serve(routes).incoming(listener).run());
    addr
}

/// An actix-web server on its own thread and actix `System` (its app factory is not
/// `Send`); stopped when dropped.
struct ActixServer {
    addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
}

impl ActixServer {
    async fn start(hub: Hub) -> Self {
        use actix_web::{web, App, HttpServer, Responder};
        use sse_actix::{LastEventId, Sse};

        async fn events(hub: web::Data<Hub>, last: Option<LastEventId>) -> impl Responder {
            Sse::from_stream(feed(&hub, last.as_ref().map(|id| id.as_str()))).with_retry(RETRY)
        }

        let (started_tx, started_rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(web::Data::new(hub.clone()))
                        .route("/events", web::get().to(events))
                })
                .workers(1)
                .disable_signals()
                .bind(("127.0.0.1", 0))
                .unwrap();
                let addr = server.addrs()[0];
                let server = server.run();
                started_tx.send((addr, server.handle())).unwrap();
                server.await.unwrap();
            });
        });
        let (addr, handle) = started_rx.await.unwrap();
        Self { addr, handle }
    }
}

impl Drop for ActixServer {
    fn drop(&mut self) {
        // Not awaited: the test is over; this only lets the server thread end.
        drop(self.handle.stop(false));
    }
}

async fn next(events: &mut EventSource) -> Result<Item, Error> {
    timeout(DEADLINE, events.next())
        .await
        .expect("no item before the deadline")
        .expect("the stream ended")
}

/// Publishes seven events (every other one of type `tick`) after the client connected;
/// the server ends each response after three, so the client must reconnect twice and
/// resume each time with exactly the events it missed.
async fn resumes_with_exactly_the_missed_events(addr: SocketAddr, hub: Hub) {
    let client = reqwest::Client::new();
    let request = client.get(format!("http://{addr}/events")).build().unwrap();
    let config = Config::new().reconnect_time(Duration::from_millis(1));
    let mut events = EventSource::with_config(client, request, config);

    assert!(matches!(next(&mut events).await, Ok(Item::Open(_))));
    let mut expected = Vec::new();
    for n in 0..7 {
        let event = if n % 2 == 0 {
            Event::data(&format!("tick {n}"))
        } else {
            Event::builder()
                .event("tick")
                .data(format!("tick {n}\nsecond line"))
                .build()
                .unwrap()
        };
        let id = hub.publish(TOPIC, event).await.unwrap().to_string();
        let (event_type, data) = if n % 2 == 0 {
            ("message", format!("tick {n}"))
        } else {
            ("tick", format!("tick {n}\nsecond line"))
        };
        expected.push((id, event_type.to_owned(), data));
    }

    let mut received = Vec::new();
    let mut retries = Vec::new();
    let mut reconnect_waits = Vec::new();
    let mut closed_at = None;
    while received.len() < expected.len() {
        match next(&mut events).await {
            Ok(Item::Event(event)) => {
                retries.push(event.retry);
                received.push((event.id, event.event, event.data));
            }
            Ok(Item::Open(opened)) => {
                assert_eq!(opened.headers["content-type"], "text/event-stream");
                let closed_at: Instant = closed_at.take().expect("opened without closing");
                reconnect_waits.push(closed_at.elapsed());
            }
            Err(Error::Closed) => closed_at = Some(Instant::now()),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(received, expected);
    // The leading `retry:` of each response comes with its first event.
    let expected_retries: Vec<Option<Duration>> = (0..7)
        .map(|n| (n % PER_CONNECTION == 0).then_some(RETRY))
        .collect();
    assert_eq!(retries, expected_retries);
    assert_eq!(reconnect_waits.len(), 2);
    for wait in reconnect_waits {
        assert!(
            wait >= RETRY,
            "reconnected after {wait:?}, before the server's retry"
        );
    }
    let stats = events.stats();
    assert_eq!(
        (stats.reconnects(), stats.opened(), stats.events()),
        (2, 3, 7)
    );
}

fn hub() -> Hub {
    Hub::new(HubConfig::new().replay_capacity(64))
}

#[tokio::test]
async fn axum_resumes_with_exactly_the_missed_events() {
    let hub = hub();
    let addr = axum_server(hub.clone()).await;
    resumes_with_exactly_the_missed_events(addr, hub).await;
}

#[tokio::test]
async fn actix_resumes_with_exactly_the_missed_events() {
    let hub = hub();
    let server = ActixServer::start(hub.clone()).await;
    resumes_with_exactly_the_missed_events(server.addr, hub).await;
}

#[tokio::test]
async fn warp_resumes_with_exactly_the_missed_events() {
    let hub = hub();
    let addr = warp_server(hub.clone()).await;
    resumes_with_exactly_the_missed_events(addr, hub).await;
}
