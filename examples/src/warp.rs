//! warp glue: filters that route to the [`App`] handlers and turn their [`Reply`] into
//! responses, with `sse_warp::reply` for event streams.
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
//! sse_examples::warp::serve(app, listener).await
//! # }
//! ```

use std::io;

use futures_util::TryStreamExt;
use http::{HeaderMap, Method};
use http_body_util::BodyExt;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::compression::{CompressionBody, CompressionLayer};
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::{Filter, Reply as _};

use crate::app::{App, BodyError, Reply};
use crate::layers;

/// The app's routes as one warp filter (without middleware; see [`serve`]).
pub fn routes(app: App) -> BoxedFilter<(Response,)> {
    let app = warp::any().map(move || app.clone());
    let query = warp::query::raw().or(warp::any().map(String::new)).unify();
    let headers = warp::header::headers_cloned();

    let index = warp::path::end()
        .and(warp::get())
        .and(app.clone())
        .map(|app: App| respond(app.index()));
    let events = warp::path!("events")
        .and(warp::get())
        .and(app.clone())
        .and(headers)
        .and(query)
        .map(|app: App, headers: HeaderMap, query: String| {
            respond(app.events(&headers, Some(&query)))
        });
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
    let stats = warp::path!("stats")
        .and(warp::get())
        .and(app.clone())
        .map(|app: App| respond(app.stats()));
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
        .or(health)
        .unify()
        .boxed()
}

fn respond(reply: Reply) -> Response {
    reply.into_http(Into::into, |events| sse_warp::reply(events).into_response())
}

/// Serves the app on `listener` until [`App::shutdown`], then finishes the open
/// connections (HTTP/1.1 and HTTP/2).
///
/// # Errors
///
/// None so far: accept errors are logged and retried.
pub async fn serve(app: App, listener: TcpListener) -> io::Result<()> {
    let service = ServiceBuilder::new()
        .layer(layers::cors())
        // CORS answers preflights with an empty body of the inner body type: box it.
        .map_response(|response: http::Response<_>| {
            response.map(|body: CompressionBody<_>| body.boxed())
        })
        .layer(CompressionLayer::new())
        .layer(layers::sse(app.config()))
        .service(warp::service(routes(app.clone())));
    let token = app.shutdown_token();
    sse_tower::serve(listener, service)
        .with_graceful_shutdown(token.cancelled_owned())
        .await
}
