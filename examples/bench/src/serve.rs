//! [`serve_tower`]: the serve paths of `--serve` other than the framework's own;
//! [`serve_actix`]: actix-web's server as `bench_ours` and the floor on actix-web both run it;
//! [`announce_listening`]: where a server asked to listen on port 0 is.

use std::error::Error;
use std::time::Duration;

use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;

type BoxError = Box<dyn Error + Send + Sync>;

/// Serves `service` as `--serve` says, for the modes other than `framework`: `toolkit`
/// (`sse_tower::serve`); `auto`: hyper-util's auto connection with upgrades in a task per
/// connection, what `axum::serve` and `warp::serve` run without their own per-connection
/// state; or `http1`: hyper's HTTP/1 connection alone (no HTTP/2 detection, no upgrades,
/// no graceful shutdown), the floor the others are measured against.
///
/// # Errors
///
/// An unknown `mode`; `toolkit` returns what `sse_tower::serve` returns.
pub async fn serve_tower<S, B>(
    mode: &str,
    listener: tokio::net::TcpListener,
    service: S,
) -> std::io::Result<()>
where
    S: tower::Service<http::Request<hyper::body::Incoming>, Response = http::Response<B>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let auto = match mode {
        "toolkit" => return sse_tower::serve(listener, service).await,
        "http1" => false,
        "auto" => true,
        other => {
            return Err(std::io::Error::other(format!(
                "unknown --serve {other:?} (framework, toolkit, auto or http1)"
            )))
        }
    };
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of file descriptors, most likely: give the closing sockets a moment.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let io = TokioIo::new(stream);
        let service = TowerToHyperService::new(service.clone());
        if auto {
            tokio::spawn(async move {
                let builder = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                );
                let _ = builder.serve_connection_with_upgrades(io, service).await;
            });
        } else {
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    }
}

/// Runs actix-web's `HttpServer` for `factory` on `addr` with the settings `bench_ours
/// --framework actix` and `bench_floor --framework actix` share (a 4 096-connection
/// backlog, no half-closed connections), so the two stay comparable. Call it inside an
/// actix system.
///
/// # Errors
///
/// When `addr` can't be bound, or the server fails.
pub async fn serve_actix<F, I, S, B>(addr: std::net::SocketAddr, factory: F) -> std::io::Result<()>
where
    F: Fn() -> I + Send + Clone + 'static,
    I: actix_service::IntoServiceFactory<S, actix_http::Request>,
    S: actix_web::dev::ServiceFactory<actix_http::Request, Config = actix_web::dev::AppConfig>
        + 'static,
    S::Error: Into<actix_web::Error> + 'static,
    S::InitError: std::fmt::Debug,
    S::Response: Into<actix_http::Response<B>> + 'static,
    <S::Service as actix_web::dev::Service<actix_http::Request>>::Future: 'static,
    S::Service: 'static,
    B: actix_web::body::MessageBody + 'static,
{
    let server = actix_web::HttpServer::new(factory)
        .backlog(4096)
        .h1_allow_half_closed(false)
        .bind(addr)?;
    for bound in server.addrs() {
        announce_listening(addr, bound);
    }
    server.run().await
}

/// Prints `listening on ADDR` on stdout once a server asked for `requested` is bound to
/// `bound`, if `requested` was port 0: a test then reads where the kernel put it instead of
/// guessing a free port and polling it. A server on a fixed port prints nothing, so
/// `scripts/bench` logs stay empty.
pub fn announce_listening(requested: std::net::SocketAddr, bound: std::net::SocketAddr) {
    if requested.port() == 0 {
        println!("listening on {bound}");
    }
}
