//! actix-web glue: routes to the [`App`] handlers and turns their [`Reply`] into responses,
//! under `SseMiddleware`, `Compress` and actix-cors. It uses sse-actix's own API: the
//! `LastEventId` extractor, the `Sse` responder, and one `SseStats` handle shared by every
//! worker's `SseMiddleware` for `/stats` and the stream limit.
//!
//! actix-web speaks `http` 0.2, so `POST /publish` copies the request head into `http` 1
//! types for the app (a few headers per request).
//!
//! # Example
//!
//! ```no_run
//! use sse_examples::{App, Config};
//!
//! # #[tokio::main]
//! # async fn main() -> std::io::Result<()> {
//! let app = App::new(Config::default());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! let server = sse_examples::actix::spawn(app.clone(), listener, None)?;
//! // ... later: streams end, then the server stops gracefully.
//! app.shutdown();
//! server.await??;
//! # Ok(())
//! # }
//! ```

use std::io;

use actix_cors::Cors;
use actix_http::error::DispatchError;
use actix_http::{HttpService, Protocol};
use actix_service::{fn_service, map_config, ServiceFactoryExt};
use actix_web::dev::{AppConfig, Server};
use actix_web::http::{header as actix_header, StatusCode as ActixStatus};
use actix_web::middleware::Compress;
use actix_web::rt::net::TcpStream as ActixTcpStream;
use actix_web::{web, HttpRequest, HttpResponse, HttpServer, Responder};
use futures_util::TryStreamExt;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use sse_actix::middleware::{SseMiddleware, SseStats};
use sse_actix::{LastEventId, LastEventIdError, Sse};
use sse_tower::serve::tls::ServerConfig;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::app::{App, BodyError, EventStream, Reply, ReplyBody, StreamHandler};

/// How long actix's graceful stop waits for open connections, in seconds.
const SHUTDOWN_TIMEOUT_SECS: u64 = 3;

/// Starts the actix-web server on `listener` (its workers are threads with their own
/// runtimes) and returns the task that resolves when it has stopped. It stops gracefully on
/// [`App::shutdown`].
///
/// It serves HTTP/1.1 and h2c (HTTP/2 with prior knowledge) on the same port, or TLS with
/// `tls` (HTTP/2 or HTTP/1.1 by ALPN), with the config's timeouts in actix's terms: the
/// head-read timeout is its client request timeout (and TLS handshake timeout), the idle
/// timeout its keep-alive (which also paces its HTTP/2 pings).
///
/// # Errors
///
/// If the listener can't be handed over to actix.
pub fn spawn(
    app: App,
    listener: TcpListener,
    tls: Option<ServerConfig>,
) -> io::Result<JoinHandle<io::Result<()>>> {
    let listener = listener.into_std()?;
    let head_timeout = app.config().header_timeout();
    let idle_timeout = app.config().idle_timeout();
    // Built once: its clones share one set of counters, so `/stats` counts the streams of
    // the whole server and `--max-connections` is a server-wide limit.
    let sse = app.config().sse();
    let streams = web::Data::new(sse.stats());
    let state = web::Data::new(app.clone());
    let make_app = move || {
        actix_web::App::new()
            .app_data(state.clone())
            .app_data(streams.clone())
            // Resources, not `App::route`: a wrong method then gets 405, not 404.
            .service(web::resource("/").get(index))
            .service(web::resource("/events").get(events))
            .service(web::resource("/publish").route(web::route().to(publish)))
            .service(web::resource("/progress").get(progress))
            .service(web::resource("/clock").get(clock))
            .service(web::resource("/stats").get(stats_route))
            .service(web::resource("/metrics").get(metrics))
            .service(web::resource("/logs").get(logs))
            .service(web::resource("/health").get(health))
            // The middleware registered last runs first: CORS, then Compress, then SSE.
            .wrap(SseMiddleware::from(sse.clone()))
            .wrap(Compress::default())
            .wrap(cors())
    };
    let server = match tls {
        Some(mut tls) => {
            // actix adds `h2` and `http/1.1` itself.
            tls.alpn_protocols.clear();
            HttpServer::new(make_app)
                // Notice clients that hang up on a silent stream (EventSource never
                // half-closes).
                .h1_allow_half_closed(false)
                .client_request_timeout(head_timeout)
                .tls_handshake_timeout(head_timeout)
                .keep_alive(idle_timeout)
                .disable_signals()
                .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS)
                .listen_rustls_0_23(listener, tls)?
                .run()
        }
        // Not `HttpServer::listen_auto_h2c`: it waits for a silent client's first bytes
        // with no timeout at all, so it would hold such connections for ever.
        None => Server::build()
            .listen("sse-demo", listener, move || {
                let http = HttpService::build()
                    .h1_allow_half_closed(false)
                    .client_request_timeout(head_timeout)
                    .keep_alive(idle_timeout)
                    .finish(map_config(make_app(), |()| AppConfig::default()));
                fn_service(move |io: ActixTcpStream| async move {
                    let protocol = sniff_protocol(&io, head_timeout).await?;
                    let peer = io.peer_addr().ok();
                    Ok((io, protocol, peer))
                })
                .and_then(http)
            })?
            .disable_signals()
            .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS)
            .run(),
    };

    let handle = server.handle();
    let token = app.shutdown_token();
    tokio::spawn(async move {
        token.cancelled().await;
        handle.stop(true).await;
    });
    Ok(tokio::spawn(server))
}

/// What actix-http compares the first bytes with to detect HTTP/2 with prior knowledge.
const H2_PREFACE_START: &[u8; 12] = b"PRI * HTTP/2";

/// Peeks at the first bytes, as actix-http's own h2c detection does, but gives up after
/// `timeout`: HTTP/2 for the start of the preface, HTTP/1 for anything else.
async fn sniff_protocol(
    io: &ActixTcpStream,
    timeout: std::time::Duration,
) -> Result<Protocol, DispatchError> {
    let mut first = [0; H2_PREFACE_START.len()];
    let n = tokio::time::timeout(timeout, io.peek(&mut first))
        .await
        .map_err(|_| DispatchError::SlowRequestTimeout)?
        .map_err(DispatchError::Io)?;
    if n == 0 {
        return Err(DispatchError::Io(io::ErrorKind::UnexpectedEof.into()));
    }
    Ok(if &first == H2_PREFACE_START {
        Protocol::Http2
    } else {
        Protocol::Http1
    })
}

fn cors() -> Cors {
    Cors::default()
        .allow_any_origin()
        .allowed_methods(["GET", "POST"])
        .allowed_headers([
            actix_header::AUTHORIZATION,
            actix_header::CONTENT_TYPE,
            actix_header::HeaderName::from_static("last-event-id"),
        ])
        .send_wildcard()
}

/// The request headers as an `http` 1 map.
fn headers(req: &HttpRequest) -> HeaderMap {
    let mut map = HeaderMap::with_capacity(req.headers().len());
    for (name, value) in req.headers() {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_str().as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            map.append(name, value);
        }
    }
    map
}

fn respond(req: &HttpRequest, reply: Reply) -> HttpResponse {
    let status =
        ActixStatus::from_u16(reply.status.as_u16()).unwrap_or(ActixStatus::INTERNAL_SERVER_ERROR);
    let mut response = match reply.body {
        ReplyBody::Full {
            content_type,
            bytes,
        } => HttpResponse::build(status)
            .content_type(content_type)
            .body(bytes),
        ReplyBody::Events(EventStream { events, retry, end }) => {
            let mut response = Sse::from_stream(events)
                .with_retry(retry)
                .with_shutdown(end, None)
                .respond_to(req)
                .map_into_boxed_body();
            *response.status_mut() = status;
            response
        }
    };
    for (name, value) in reply.headers {
        if let (Ok(name), Ok(value)) = (
            actix_header::HeaderName::from_bytes(name.as_str().as_bytes()),
            actix_header::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

async fn index(app: web::Data<App>, req: HttpRequest) -> HttpResponse {
    respond(&req, app.index())
}

/// An event-stream route that reads the token and the Last-Event-ID ([`App::events`],
/// [`App::logs`]).
fn stream_route(
    app: &App,
    handler: StreamHandler,
    req: &HttpRequest,
    // Not `Option<LastEventId>`, which is `None` for a malformed id too: the app answers
    // that with `400` (after its token check).
    last_event_id: Result<LastEventId, LastEventIdError>,
) -> HttpResponse {
    let last_event_id = match last_event_id {
        Ok(id) => Ok(Some(id.into_inner())),
        Err(LastEventIdError::Malformed(err)) => Err(err),
        Err(_) => Ok(None),
    };
    let authorization = req
        .headers()
        .get(actix_header::AUTHORIZATION)
        .map(|value| value.as_bytes());
    let reply = handler(app, authorization, Some(req.query_string()), last_event_id);
    respond(req, reply)
}

async fn events(
    app: web::Data<App>,
    req: HttpRequest,
    last_event_id: Result<LastEventId, LastEventIdError>,
) -> HttpResponse {
    stream_route(&app, App::events, &req, last_event_id)
}

async fn logs(
    app: web::Data<App>,
    req: HttpRequest,
    last_event_id: Result<LastEventId, LastEventIdError>,
) -> HttpResponse {
    stream_route(&app, App::logs, &req, last_event_id)
}

async fn publish(app: web::Data<App>, req: HttpRequest, body: web::Payload) -> HttpResponse {
    let method = Method::from_bytes(req.method().as_str().as_bytes()).unwrap_or(Method::GET);
    let body = body.map_err(|err| BodyError::new(err.to_string()));
    let reply = app
        .publish(&method, &headers(&req), Some(req.query_string()), body)
        .await;
    respond(&req, reply)
}

async fn progress(app: web::Data<App>, req: HttpRequest) -> HttpResponse {
    respond(&req, app.progress())
}

async fn clock(app: web::Data<App>, req: HttpRequest) -> HttpResponse {
    respond(&req, app.clock())
}

async fn stats_route(
    app: web::Data<App>,
    streams: web::Data<SseStats>,
    req: HttpRequest,
) -> HttpResponse {
    respond(&req, app.stats(&streams))
}

async fn metrics(
    app: web::Data<App>,
    streams: web::Data<SseStats>,
    req: HttpRequest,
) -> HttpResponse {
    respond(&req, app.metrics(&streams))
}

async fn health(app: web::Data<App>, req: HttpRequest) -> HttpResponse {
    respond(&req, app.health())
}
