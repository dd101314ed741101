//! A small SSE hub written by hand on hyper's HTTP/1 server, correct by default, with each
//! flaw the checker must catch switchable on: `GET /events` (replay after `Last-Event-ID`
//! or `?lastEventId=`), `POST /publish` (`{"event", "data"}` → `202 {"id"}`).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{self, StreamExt};
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Full, Limited, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::feed::{last_event_id, Feed, Published};

/// What the server gets wrong.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Flaws {
    /// Holds events back until 8 KiB are pending, as a buffering layer does.
    pub(crate) buffering: bool,
    /// `Content-Type: text/plain`, no `Cache-Control`, no `X-Accel-Buffering`, and a
    /// `Content-Length`.
    pub(crate) missing_headers: bool,
    /// Ignores `Last-Event-ID` and the `lastEventId` query.
    pub(crate) no_replay: bool,
    /// Replays from the named event itself, so the client gets it twice.
    pub(crate) duplicated_replay: bool,
    /// Splits data only at LF, so a CR goes onto the wire raw.
    pub(crate) raw_cr: bool,
    /// Never sends a heartbeat.
    pub(crate) no_heartbeats: bool,
}

/// The heartbeat interval of the hand server.
pub(crate) const HEARTBEAT: Duration = Duration::from_millis(250);

/// Serves the hub with `flaws` on a free port until the test ends.
pub(crate) async fn serve(flaws: Flaws) -> SocketAddr {
    serve_with(flaws, None).await
}

/// Serves the hub with `flaws` over TLS (HTTP/1.1 only, by ALPN) on a free port.
pub(crate) async fn serve_tls(flaws: Flaws, tls: tokio_rustls::TlsAcceptor) -> SocketAddr {
    serve_with(flaws, Some(tls)).await
}

async fn serve_with(flaws: Flaws, tls: Option<tokio_rustls::TlsAcceptor>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hub = Feed::new();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let hub = hub.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let hub = hub.clone();
                    async move { Ok::<_, Infallible>(route(&hub, flaws, request).await) }
                });
                let http = hyper::server::conn::http1::Builder::new();
                let _ = match tls {
                    None => http.serve_connection(TokioIo::new(tcp), service).await,
                    Some(tls) => match tls.accept(tcp).await {
                        Ok(stream) => http.serve_connection(TokioIo::new(stream), service).await,
                        Err(_) => return,
                    },
                };
            });
        }
    });
    addr
}

type Body = UnsyncBoxBody<Bytes, Infallible>;

fn full(status: StatusCode, text: String) -> Response<Body> {
    Response::builder()
        .status(status)
        .body(Full::new(Bytes::from(text)).boxed_unsync())
        .unwrap()
}

async fn route(hub: &Feed, flaws: Flaws, request: Request<Incoming>) -> Response<Body> {
    match (request.method(), request.uri().path()) {
        (&Method::POST, "/publish") => publish(hub, request).await,
        (&Method::GET, "/events") => events(hub, flaws, &request),
        _ => full(StatusCode::NOT_FOUND, "not found".into()),
    }
}

async fn publish(feed: &Feed, request: Request<Incoming>) -> Response<Body> {
    let Ok(body) = Limited::new(request.into_body(), 64 << 10).collect().await else {
        return full(StatusCode::PAYLOAD_TOO_LARGE, "too large".into());
    };
    match feed.publish_json(&body.to_bytes()) {
        Some(id) => full(StatusCode::ACCEPTED, format!("{{\"id\":\"{id}\"}}")),
        None => full(
            StatusCode::BAD_REQUEST,
            "expected {\"event\", \"data\"}".into(),
        ),
    }
}

fn encode(flaws: Flaws, event: &Published) -> Bytes {
    let mut out = String::new();
    if !event.event.is_empty() {
        out.push_str(&format!("event: {}\n", event.event));
    }
    out.push_str(&format!("id: {}\n", event.id));
    let data = if flaws.raw_cr {
        event.data.clone()
    } else {
        event.data.replace("\r\n", "\n").replace('\r', "\n")
    };
    for line in data.split('\n') {
        out.push_str(&format!("data: {line}\n"));
    }
    out.push('\n');
    Bytes::from(out)
}

fn events(hub: &Feed, flaws: Flaws, request: &Request<Incoming>) -> Response<Body> {
    let header = request.headers().get("last-event-id").map(|v| v.as_bytes());
    let after = match last_event_id(header, request.uri().query()) {
        Some(_) if flaws.no_replay => None,
        Some(id) if flaws.duplicated_replay => Some(id.saturating_sub(1)),
        other => other,
    };
    let events = hub.subscribe(after).map(move |event| encode(flaws, &event));
    let beats = stream::unfold(events, move |mut events| async move {
        if flaws.no_heartbeats {
            return Some((events.next().await?, events));
        }
        match tokio::time::timeout(HEARTBEAT, events.next()).await {
            Ok(chunk) => Some((chunk?, events)),
            Err(_) => Some((Bytes::from_static(b": heartbeat\n\n"), events)),
        }
    });
    let chunks =
        stream::once(std::future::ready(Bytes::from_static(b"retry: 1000\n\n"))).chain(beats);
    let chunks = if flaws.buffering {
        // Like a buffer in front of the socket: nothing goes out before 8 KiB are pending.
        chunks
            .scan(Vec::new(), |pending: &mut Vec<u8>, chunk| {
                pending.extend_from_slice(&chunk);
                let out = (pending.len() >= 8 << 10).then(|| Bytes::from(std::mem::take(pending)));
                std::future::ready(Some(out))
            })
            .filter_map(std::future::ready)
            .boxed()
    } else {
        chunks.boxed()
    };
    let body = StreamBody::new(chunks.map(|chunk| Ok::<_, Infallible>(Frame::data(chunk))));
    let mut response = Response::builder().status(StatusCode::OK);
    if flaws.missing_headers {
        response = response
            .header(header::CONTENT_TYPE, "text/plain")
            .header(header::CONTENT_LENGTH, "1000000");
    } else {
        response = response
            .header(header::CONTENT_TYPE, "text/event-stream")
            .header(header::CACHE_CONTROL, "no-cache")
            .header("x-accel-buffering", "no");
    }
    response.body(BodyExt::boxed_unsync(body)).unwrap()
}
