//! warp glue: filters that route to the [`App`] handlers and turn their [`Reply`] into
//! responses. It uses sse-warp's own API: the `last_event_id()` filter and the `Sse` reply;
//! `/stats` reads the stream counts of the `SseLayer` it is served under.
//!
//! warp's own compression filters would compress event streams too, so the filter is served
//! as a tower service (`warp::service`) by `sse_tower::serve`, under the same tower
//! middleware as axum: `CorsLayer`, `CompressionLayer` and, inside it, `SseLayer`.
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
//! sse_examples::warp::serve(app, listener, None).await
//! # }
//! ```

use std::io;

use futures_util::TryStreamExt;
use http::{header, HeaderMap, HeaderValue, Method};
use http_body_util::BodyExt;
use sse_core::{LastEventId, LastEventIdError, SseStats};
use sse_tower::serve::tls::ServerConfig;
use sse_warp::{InvalidLastEventId, Sse};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::compression::{CompressionBody, CompressionLayer};
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply as _};

use crate::app::{App, BodyError, EventStream, Reply, StreamHandler};
use crate::layers;

/// The app's routes as one warp filter (without middleware; see [`serve`]). `/stats` reports
/// the stream counts of `streams`, the handle of the SSE middleware that serves them.
pub fn routes(app: App, streams: SseStats) -> BoxedFilter<(Response,)> {
    let app = warp::any().map(move || app.clone());
    let query = warp::query::raw().or(warp::any().map(String::new)).unify();
    let headers = warp::header::headers_cloned();

    let index = warp::path::end()
        .and(warp::get())
        .and(app.clone())
        .map(|app: App| respond(app.index()));
    // The event-stream routes that read the token and the Last-Event-ID.
    let stream_route = |handler: StreamHandler| {
        warp::get()
            .and(app.clone())
            .and(headers)
            .and(query)
            .and(last_event_id())
            .map(
                move |app: App, headers: HeaderMap, query: String, last_event_id| {
                    let authorization = headers
                        .get(header::AUTHORIZATION)
                        .map(HeaderValue::as_bytes);
                    respond(handler(&app, authorization, Some(&query), last_event_id))
                },
            )
    };
    let events = warp::path!("events").and(stream_route(App::events));
    let logs = warp::path!("logs").and(stream_route(App::logs));
    let publish = warp::path!("publish")
        .and(warp::method())
        .and(app.clone())
        .and(headers)
        .and(query)
        .and(warp::body::stream())
        .then(
            |method: Method, app: App, headers: HeaderMap, query: String, body| async move {
                let body = TryStreamExt::map_err(body, BodyError::new);
                respond(app.publish(&method, &headers, Some(&query), body).await)
            },
        );
    let progress = warp::path!("progress")
        .and(warp::get())
        .and(app.clone())
        .map(|app: App| respond(app.progress()));
    let clock = warp::path!("clock")
        .and(warp::get())
        .and(app.clone())
        .map(|app: App| respond(app.clock()));
    let metrics = warp::path!("metrics")
        .and(warp::get())
        .and(app.clone())
        .map({
            let streams = streams.clone();
            move |app: App| respond(app.metrics(&streams))
        });
    let stats = warp::path!("stats")
        .and(warp::get())
        .and(app.clone())
        .map(move |app: App| respond(app.stats(&streams)));
    let health = warp::path!("health")
        .and(warp::get())
        .and(app)
        .map(|app: App| respond(app.health()));

    index
        .or(events)
        .unify()
        .or(publish)
        .unify()
        .or(progress)
        .unify()
        .or(clock)
        .unify()
        .or(stats)
        .unify()
        .or(metrics)
        .unify()
        .or(logs)
        .unify()
        .or(health)
        .unify()
        .boxed()
}

/// `sse_warp::last_event_id()`, with a malformed id as a value instead of a rejection, so
/// that the app answers it after its token check.
fn last_event_id(
) -> impl Filter<Extract = (Result<Option<LastEventId>, LastEventIdError>,), Error = Rejection> + Clone
{
    sse_warp::last_event_id()
        .map(Ok)
        .or_else(|rejection: Rejection| async move {
            match rejection.find::<InvalidLastEventId>() {
                Some(invalid) => Ok((Err(invalid.error()),)),
                None => Err(rejection),
            }
        })
}

fn respond(reply: Reply) -> Response {
    reply.into_http(Into::into, |stream: EventStream| {
        Sse::new(stream.events)
            .retry(stream.retry)
            .shutdown(stream.end, None)
            .into_response()
    })
}

/// Serves the app on `listener` until [`App::shutdown`], then finishes the open
/// connections (HTTP/1.1 and HTTP/2; over TLS with `tls`, HTTP/2 by ALPN), with the
/// config's head-read and idle timeouts.
///
/// # Errors
///
/// None so far: accept errors are logged and retried.
pub async fn serve(app: App, listener: TcpListener, tls: Option<ServerConfig>) -> io::Result<()> {
    let sse = layers::sse(app.config());
    let routes = routes(app.clone(), sse.stats());
    let service = ServiceBuilder::new()
        .layer(layers::cors())
        // CORS answers preflights with an empty body of the inner body type: box it.
        .map_response(|response: http::Response<_>| {
            response.map(|body: CompressionBody<_>| body.boxed())
        })
        .layer(CompressionLayer::new())
        .layer(sse)
        .service(warp::service(routes));
    layers::serve(&app, listener, service, tls).await
}
