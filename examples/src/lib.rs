//! The demo app of the SSE toolkit: one set of framework-free handlers ([`App`], in
//! [`app`]) served by axum, actix-web and warp through the toolkit's adapters (each one's
//! `LastEventId` extractor, `Sse` responder and SSE middleware, whose stream counts `/stats`
//! reports), each with its framework's usual compression and CORS middleware.
//!
//! # Example
//!
//! In-process, as the tests run it: a free port, a publish, a graceful stop.
//!
//! ```
//! use sse_examples::{Config, Framework};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let config = Config::default().with_framework(Framework::Axum);
//! let running = sse_examples::serve(config, listener).await?;
//! println!("open {}", running.url("/"));
//!
//! let id = running.app().hub().publish("news", sse_core::Event::data("hello")).await.unwrap();
//! assert_eq!(running.app().hub().stats().last_id, Some(id));
//! running.shutdown().await?;
//! # Ok(())
//! # }
//! ```
//!
//! # Run it
//!
//! ```text
//! cargo run --release -p sse-examples --bin demo -- --framework axum --addr 127.0.0.1:3000
//! # then open http://127.0.0.1:3000/ , or:
//! curl -N http://127.0.0.1:3000/events?topic=news
//! curl -X POST http://127.0.0.1:3000/publish -d '{"topic":"news","event":"alert","data":"hi"}'
//! ```
//!
//! Flags: `--framework axum|actix|warp`, `--addr`, `--heartbeat-ms 15000`, `--replay 1000`,
//! `--max-connections N`, `--token T`, `--retry-ms 2000`, `--redis URL`, `--redis-key sse`,
//! `--log-file PATH`, `--header-timeout-ms 30000`, `--idle-timeout-ms 30000`,
//! `--tls-cert PEM --tls-key PEM` (HTTPS, HTTP/2 by ALPN; see [`Config`]). A flag with a bad
//! value makes [`serve`] fail with an error of kind `InvalidInput` ([`invalid_flag`]), which
//! the binary prints as one `error:` line before it exits with code 2. Logs go through
//! `tracing`: `RUST_LOG=sse_core=debug` shows one line per stream opened and closed (the SSE
//! middleware counts them, and `/stats` reads its counts), `RUST_LOG=sse_examples=debug`
//! one per subscription.
//! SIGINT or SIGTERM shuts down gracefully: every open stream ends and the process exits 0.
//!
//! # Routes
//!
//! | route | what |
//! |---|---|
//! | `GET /` | the demo page (EventSource on `/events`, publish form, progress, clock) |
//! | `GET /events?topic=a&topic=b` | the hub's events of those topics (all if none), with replay after `Last-Event-ID` (header or `lastEventId` query parameter) |
//! | `POST /publish` | `{"topic"?, "event"?, "data"}` → `202 {"id"}`; topic defaults to [`DEFAULT_TOPIC`] |
//! | `GET /progress` | ten `progress` events, a `complete` event, then the end |
//! | `GET /clock` | a `tick` event every second |
//! | `GET /stats` | `active_connections`, `published`, `delivered`, `replayed`, ... |
//! | `GET /metrics` | the same counters and more in the Prometheus text format (names in [`metrics`]) |
//! | `GET /logs` | with `--log-file PATH`: the file's lines as `log` events, error lines as `error` events, following appends, truncation and rotation, resuming after `Last-Event-ID` (see [`logs`]) |
//! | `GET /health` | `200`; `503` while shutting down, or (with `--redis`) while the backplane is reconnecting |
//!
//! # Test it
//!
//! ```text
//! cargo test -p sse-examples                      # contract tests on all three frameworks
//! sudo apt-get install -y chromium chromium-driver  # for the browser test
//! cargo test -p sse-examples --test browser
//! ```
//!
//! Tests run the app in-process with [`serve`]: bind `127.0.0.1:0`, read
//! [`RunningApp::addr`], cut every stream with [`App::disconnect_all`] and stop with
//! [`RunningApp::shutdown`].

pub mod actix;
pub mod app;
pub mod axum;
mod config;
mod layers;
pub mod logs;
pub mod metrics;
pub mod warp;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use app::{App, Reply, ReplyBody, StreamHandler, DEFAULT_TOPIC, MAX_PUBLISH_BODY};
pub use config::{invalid_flag, Config, Framework};

/// How long a graceful shutdown may take before the server task is aborted.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Serves `App::connect(config)` (a Redis backplane with `--redis`) on `listener` with
/// `config.framework`, in a background task: HTTPS with `--tls-cert` and `--tls-key`, and
/// the head-read and idle timeouts of the config on every framework.
///
/// # Errors
///
/// Of kind `InvalidInput` for a flag with a bad value (see [`invalid_flag`]: a TLS
/// certificate or key that can't be used, a `--log-file` that can't be read), checked
/// before anything starts; otherwise if the listener's address can't be read, Redis
/// (`--redis`) can't be reached, or the framework fails to start on it.
pub async fn serve(config: Config, listener: TcpListener) -> io::Result<RunningApp> {
    let tls = config.tls()?;
    if let Some(path) = &config.log_file {
        logs::LogTail::open(path)?;
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    let framework = config.framework;
    let app = App::connect(config).await.map_err(io::Error::other)?;
    let addr = listener.local_addr()?;
    let task = match framework {
        Framework::Axum => tokio::spawn(axum::serve(app.clone(), listener, tls)),
        Framework::Actix => actix::spawn(app.clone(), listener, tls)?,
        Framework::Warp => tokio::spawn(warp::serve(app.clone(), listener, tls)),
    };
    tracing::info!(%framework, %addr, "listening on {scheme}://{addr}/");
    Ok(RunningApp {
        addr,
        scheme,
        framework,
        app,
        task,
    })
}

/// A server running in a background task, from [`serve`].
#[derive(Debug)]
pub struct RunningApp {
    addr: SocketAddr,
    scheme: &'static str,
    framework: Framework,
    app: App,
    task: JoinHandle<io::Result<()>>,
}

impl RunningApp {
    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The framework serving the app.
    pub fn framework(&self) -> Framework {
        self.framework
    }

    /// `http://{addr}{path}`, or `https://` with TLS.
    pub fn url(&self, path: &str) -> String {
        format!("{}://{}{path}", self.scheme, self.addr)
    }

    /// The app: its hub, stats and [`App::disconnect_all`].
    pub fn app(&self) -> &App {
        &self.app
    }

    /// Shuts down gracefully ([`App::shutdown`]) and waits for the server to stop, at most
    /// [`SHUTDOWN_GRACE`] (then the server task is aborted).
    ///
    /// # Errors
    ///
    /// The server's error, or `TimedOut` if it did not stop within the grace period.
    pub async fn shutdown(self) -> io::Result<()> {
        self.app.shutdown();
        self.wait().await
    }

    /// Waits for the server to stop after [`App::shutdown`], at most [`SHUTDOWN_GRACE`]
    /// once shutdown has begun.
    ///
    /// # Errors
    ///
    /// The server's error, or `TimedOut` if it did not stop within the grace period.
    pub async fn wait(mut self) -> io::Result<()> {
        let token = self.app.shutdown_token();
        tokio::select! {
            result = &mut self.task => return flatten(result),
            () = token.cancelled() => {}
        }
        match tokio::time::timeout(SHUTDOWN_GRACE, &mut self.task).await {
            Ok(result) => flatten(result),
            Err(_) => {
                self.task.abort();
                Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the server did not stop within the grace period",
                ))
            }
        }
    }
}

fn flatten(result: Result<io::Result<()>, tokio::task::JoinError>) -> io::Result<()> {
    result.map_err(io::Error::other)?
}
