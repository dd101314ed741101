//! What the checker finds in each framework's own SSE (axum's `response::sse`,
//! actix-web-lab's `sse`, warp's `sse`): the same tiny publishing app on each, as a user
//! would write it with the framework's tools (the framework's keep-alive, replay after the
//! `Last-Event-ID` header), and the table of results that the README shows.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use sse_conformance::Verdict;
use tokio::net::TcpListener;

use crate::feed::{last_event_id, Feed, Published};
use crate::{check, PUBLISH};

/// The keep-alive interval of every app (the checker's `--heartbeat`, see `FAST`).
const KEEP_ALIVE: Duration = Duration::from_millis(250);

fn accepted(id: Option<u64>) -> (u16, String) {
    match id {
        Some(id) => (202, format!("{{\"id\":\"{id}\"}}")),
        None => (400, "expected {\"event\", \"data\"}".to_owned()),
    }
}

async fn axum_app() -> SocketAddr {
    use axum::extract::State;
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::sse::{Event, KeepAlive, Sse};
    use axum::routing::{get, post};

    fn event(published: Published) -> Event {
        let event = Event::default()
            .id(published.id.to_string())
            .data(published.data);
        if published.event.is_empty() {
            event
        } else {
            event.event(published.event)
        }
    }
    let app = axum::Router::new()
        .route(
            "/events",
            get(
                |State(feed): State<Arc<Feed>>, headers: HeaderMap| async move {
                    let after =
                        last_event_id(headers.get("last-event-id").map(|v| v.as_bytes()), None);
                    let events = feed.subscribe(after).map(|p| Ok::<_, Infallible>(event(p)));
                    Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
                },
            ),
        )
        .route(
            "/publish",
            post(|State(feed): State<Arc<Feed>>, body: Bytes| async move {
                let (status, body) = accepted(feed.publish_json(&body));
                (StatusCode::from_u16(status).unwrap(), body)
            }),
        )
        .with_state(Feed::new());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// actix-web runs on its own system thread; the handle stops it when dropped.
struct ActixApp {
    addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for ActixApp {
    fn drop(&mut self) {
        // Not awaited: the test is over; this only lets the server thread end.
        drop(self.handle.stop(false));
    }
}

async fn actix_app() -> ActixApp {
    use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer, Responder};
    use actix_web_lab::sse;

    async fn events(feed: web::Data<Arc<Feed>>, request: HttpRequest) -> impl Responder {
        let after = last_event_id(
            request.headers().get("last-event-id").map(|v| v.as_bytes()),
            None,
        );
        let events = feed.subscribe(after).map(|published| {
            let data = sse::Data::new(published.data).id(published.id.to_string());
            let data = if published.event.is_empty() {
                data
            } else {
                data.event(published.event)
            };
            Ok::<_, Infallible>(sse::Event::from(data))
        });
        sse::Sse::from_stream(events).with_keep_alive(KEEP_ALIVE)
    }
    async fn publish(feed: web::Data<Arc<Feed>>, body: Bytes) -> impl Responder {
        let (status, body) = accepted(feed.publish_json(&body));
        HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).body(body)
    }

    let feed = Feed::new();
    let (started_tx, started_rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                App::new()
                    .app_data(web::Data::new(feed.clone()))
                    .route("/events", web::get().to(events))
                    .route("/publish", web::post().to(publish))
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
    ActixApp { addr, handle }
}

async fn warp_app() -> SocketAddr {
    use warp::Filter;

    fn event(published: Published) -> warp::sse::Event {
        let event = warp::sse::Event::default()
            .id(published.id.to_string())
            .data(published.data);
        if published.event.is_empty() {
            event
        } else {
            event.event(published.event)
        }
    }
    let feed = Feed::new();
    let subscribe = feed.clone();
    let events = warp::path("events")
        .and(warp::get())
        .and(warp::header::optional::<String>("last-event-id"))
        .map(move |last: Option<String>| {
            let after = last_event_id(last.as_deref().map(str::as_bytes), None);
            let events = subscribe
                .subscribe(after)
                .map(|p| Ok::<_, Infallible>(event(p)));
            warp::sse::reply(warp::sse::keep_alive().interval(KEEP_ALIVE).stream(events))
        });
    let publish = warp::path("publish")
        .and(warp::post())
        .and(warp::body::bytes())
        .map(move |body: Bytes| {
            let (status, body) = accepted(feed.publish_json(&body));
            warp::reply::with_status(body, warp::http::StatusCode::from_u16(status).unwrap())
        });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(warp::serve(events.or(publish)).incoming(listener).run());
    addr
}

/// The README's table: one row per case, one column per framework.
fn table(ids: &[&str], columns: &[(&str, Vec<(&str, Verdict)>)]) -> String {
    let mut out = String::from("| case |");
    for (name, _) in columns {
        out.push_str(&format!(" {name} |"));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(columns.len()));
    out.push('\n');
    for id in ids {
        out.push_str(&format!("| `{id}` |"));
        for (_, verdicts) in columns {
            let verdict = verdicts
                .iter()
                .find(|(case, _)| case == id)
                .map(|(_, v)| *v);
            let cell = match verdict {
                Some(Verdict::Pass) => "pass",
                Some(Verdict::Fail) => "**fail**",
                Some(Verdict::Skipped) => "skipped",
                Some(Verdict::Informational) => "info",
                None => "-",
            };
            out.push_str(&format!(" {cell} |"));
        }
        out.push('\n');
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_shows_what_the_checker_finds_in_each_frameworks_own_sse() {
    let actix = actix_app().await;
    let urls = [
        format!("http://{}/events", axum_app().await),
        format!("http://{}/events", actix.addr),
        format!("http://{}/events", warp_app().await),
    ];
    let mut args: Vec<&str> = urls.iter().map(String::as_str).collect();
    args.extend(["--publish", PUBLISH, "--strict"]);
    let report = check(&args).await;
    let text = report.to_text();
    let names = ["axum `response::sse`", "actix-web-lab `sse`", "warp `sse`"];
    let columns: Vec<(&str, Vec<(&str, Verdict)>)> = names
        .iter()
        .zip(&report.targets)
        .map(|(name, target)| {
            assert_eq!(target.error, None, "{text}");
            (
                *name,
                target.outcomes.iter().map(|o| (o.id, o.verdict)).collect(),
            )
        })
        .collect();
    let ids: Vec<&str> = sse_conformance::CASES.iter().map(|case| case.id).collect();
    let table = table(&ids, &columns);
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    assert!(
        readme.contains(&table),
        "the README's table is out of date; the checker now finds:\n\n{table}\n\n{text}"
    );
}
