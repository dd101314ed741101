//! The shared conformance cases, served by actix-web through this crate's `Sse` responder and
//! `LastEventId` extractor, with actix's `Compress` middleware on, over HTTP/1.1 and h2c.

mod support;

use actix_web::{
    http::header::ContentType, middleware::Compress, web, App, HttpResponse, HttpServer, Responder,
};
use sse_actix::{Heartbeat, LastEventId, Sse};
use sse_testkit::{Fixture, FixtureStream, Harness, Server, StreamOptions};

struct Actix;

/// Serves a fixture stream through our responder, with the options mapped onto its own.
fn serve(stream: FixtureStream, options: StreamOptions) -> Sse<FixtureStream> {
    let mut sse = Sse::from_stream(stream);
    if let Some(interval) = options.heartbeat {
        sse = sse.with_heartbeat(Heartbeat::every(interval));
    }
    if let Some(retry) = options.retry {
        sse = sse.with_retry(retry);
    }
    sse
}

async fn golden(fixture: web::Data<Fixture>) -> impl Responder {
    serve(fixture.golden(), StreamOptions::default())
}

async fn idle(fixture: web::Data<Fixture>) -> impl Responder {
    serve(fixture.idle(), Fixture::IDLE_OPTIONS)
}

async fn gated(fixture: web::Data<Fixture>) -> impl Responder {
    serve(fixture.gated(), StreamOptions::default())
}

async fn last_event_id(fixture: web::Data<Fixture>, id: Option<LastEventId>) -> impl Responder {
    serve(
        fixture.echo_last_event_id(id.map(LastEventId::into_inner)),
        StreamOptions::default(),
    )
}

async fn failing(fixture: web::Data<Fixture>) -> impl Responder {
    serve(fixture.failing(), StreamOptions::default())
}

async fn live(fixture: web::Data<Fixture>) -> impl Responder {
    serve(fixture.live(), StreamOptions::default())
}

async fn json(fixture: web::Data<Fixture>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(ContentType::json())
        .body(fixture.json())
}

impl Harness for Actix {
    const HTTP2: bool = true;

    async fn start(fixture: Fixture) -> Server {
        let token = fixture.shutdown_token();
        let running = support::spawn(move || {
            let server = HttpServer::new(move || {
                App::new()
                    .app_data(web::Data::new(fixture.clone()))
                    .route("/golden", web::get().to(golden))
                    .route("/idle", web::get().to(idle))
                    .route("/gated", web::get().to(gated))
                    .route("/last-event-id", web::get().to(last_event_id))
                    .route("/error", web::get().to(failing))
                    .route("/live", web::get().to(live))
                    .route("/json", web::get().to(json))
                    .wrap(Compress::default())
            })
            .workers(1)
            // Notice clients that close their side while a stream is silent.
            .h1_allow_half_closed(false)
            .disable_signals()
            // actix's graceful stop waits for idle HTTP/2 connections (it sends no GOAWAY)
            // until this timeout, then closes them: keep the h2 case short.
            .shutdown_timeout(3)
            .bind_auto_h2c(("127.0.0.1", 0))?;
            let addr = server.addrs()[0];
            Ok((server.run(), addr))
        })
        .await;
        let addr = running.addr;
        Server::new(addr, move || async move {
            token.cancel();
            running.stop().await;
        })
    }
}

sse_testkit::conformance_tests!(Actix);
