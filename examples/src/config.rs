//! The demo's settings ([`Config`], parsed from the command line by clap) and the
//! [`Framework`] that serves them.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sse_tower::serve::tls::ServerConfig;

/// Which web framework serves the app. Every one serves the same handlers of
/// [`App`](crate::App) through its adapter crate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, clap::ValueEnum)]
pub enum Framework {
    /// axum, through `sse-axum` and `sse-tower`'s `SseLayer`.
    #[default]
    Axum,
    /// actix-web, through `sse-actix` and its middleware.
    Actix,
    /// warp, through `sse-warp`, served as a tower service under `SseLayer`.
    Warp,
}

impl Framework {
    /// Every framework, for test matrices.
    pub const ALL: [Self; 3] = [Self::Axum, Self::Actix, Self::Warp];

    /// The framework's name, as the command line spells it.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Axum => "axum",
            Self::Actix => "actix",
            Self::Warp => "warp",
        }
    }
}

impl std::fmt::Display for Framework {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The demo's settings.
///
/// ```
/// use clap::Parser;
/// use sse_examples::{Config, Framework};
///
/// let config = Config::parse_from(["demo", "--framework", "warp", "--max-connections", "2"]);
/// assert_eq!(config.framework, Framework::Warp);
/// assert_eq!(config.max_connections, Some(2));
/// assert_eq!(config.heartbeat_ms, 15_000);
/// ```
#[derive(Clone, Debug, clap::Parser)]
#[command(
    name = "demo",
    about = "Server-Sent Events demo: one app, three frameworks"
)]
#[non_exhaustive]
pub struct Config {
    /// The web framework that serves the app.
    #[arg(long, value_enum, default_value_t = Framework::Axum)]
    pub framework: Framework,
    /// The address to listen on (port 0 picks a free port, printed at start).
    #[arg(long, default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,
    /// Idle time before a heartbeat comment is sent on an SSE stream, in milliseconds.
    #[arg(long, default_value_t = 15_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub heartbeat_ms: u64,
    /// How many events the hub keeps for replay to reconnecting clients.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub replay: u64,
    /// The most SSE streams open at once; beyond it a new stream gets `503` with `Retry-After`.
    #[arg(long)]
    pub max_connections: Option<usize>,
    /// Require `Authorization: Bearer <TOKEN>` (or `?token=<TOKEN>`) on /events and /publish.
    #[arg(long)]
    pub token: Option<String>,
    /// The reconnection delay sent to clients in the leading `retry:` field, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    pub retry_ms: u64,
    /// Carry events through this Redis (`redis://host:port/db`): every demo started with the
    /// same Redis and key prefix is one hub (the same ids, resume on any node).
    #[arg(long)]
    pub redis: Option<String>,
    /// The prefix of the Redis keys (`{prefix}:events`, `{prefix}:meta`).
    #[arg(long, default_value = "sse")]
    pub redis_key: String,
    /// Follow this file at `GET /logs` (its lines as `log` events, error lines as `error`
    /// events). The demo does not start if it can't be read.
    #[arg(long)]
    pub log_file: Option<PathBuf>,
    /// How long a client may take to send a request head, in milliseconds: on a new
    /// connection from accept (and through the TLS handshake), and on a keep-alive one from
    /// the first byte of its next request.
    #[arg(long, default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout_ms: u64,
    /// How long a connection may stay open with no request in flight, in milliseconds (an
    /// open event stream is never idle). On actix-web this is its keep-alive, which also
    /// paces its HTTP/2 pings.
    #[arg(long, default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout_ms: u64,
    /// Serve HTTPS with this PEM certificate chain (the server's certificate first): HTTP/2
    /// or HTTP/1.1 by ALPN. Needs `--tls-key`.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of `--tls-cert`.
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            framework: Framework::Axum,
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            heartbeat_ms: 15_000,
            replay: 1000,
            max_connections: None,
            token: None,
            retry_ms: 2000,
            redis: None,
            redis_key: "sse".to_owned(),
            log_file: None,
            header_timeout_ms: 30_000,
            idle_timeout_ms: 30_000,
            tls_cert: None,
            tls_key: None,
        }
    }
}

impl Config {
    /// The same settings with events carried through the Redis at `url`.
    #[must_use]
    pub fn with_redis(mut self, url: impl Into<String>, key_prefix: impl Into<String>) -> Self {
        self.redis = Some(url.into());
        self.redis_key = key_prefix.into();
        self
    }

    /// The SSE middleware policy of every framework: the configured heartbeat and stream
    /// limit (`503` + `Retry-After` beyond it). One value, handed to `SseLayer` (axum, warp)
    /// and `SseMiddleware` (actix); its clones share one set of counters.
    pub fn sse(&self) -> sse_core::SseConfig {
        let sse =
            sse_core::SseConfig::new().heartbeat(sse_core::Heartbeat::every(self.heartbeat()));
        match self.max_connections {
            Some(max) => sse.max_streams(max),
            None => sse,
        }
    }

    /// The heartbeat interval.
    pub fn heartbeat(&self) -> Duration {
        Duration::from_millis(self.heartbeat_ms.max(1))
    }

    /// The reconnection delay sent first on every stream.
    pub fn retry(&self) -> Duration {
        Duration::from_millis(self.retry_ms)
    }

    /// The request-head read timeout (`--header-timeout-ms`).
    pub fn header_timeout(&self) -> Duration {
        Duration::from_millis(self.header_timeout_ms.max(1))
    }

    /// The idle timeout of a connection with no request in flight (`--idle-timeout-ms`).
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_millis(self.idle_timeout_ms.max(1))
    }

    /// The TLS configuration of `--tls-cert` and `--tls-key` (`ring`, ALPN `h2` and
    /// `http/1.1`), or `None` to serve plain HTTP.
    ///
    /// # Errors
    ///
    /// Of kind `InvalidInput`, naming the flag: a file that can't be read, no certificate
    /// or key in it, a key that is not the certificate's, or only one of the two flags.
    pub fn tls(&self) -> io::Result<Option<ServerConfig>> {
        let (cert, key) = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => (cert, key),
            (None, None) => return Ok(None),
            _ => return Err(invalid_flag("--tls-cert and --tls-key go together")),
        };
        let read = |flag: &str, path: &Path| {
            std::fs::read(path)
                .map_err(|err| invalid_flag(format!("{flag} {}: {err}", path.display())))
        };
        let cert_pem = read("--tls-cert", cert)?;
        let key_pem = read("--tls-key", key)?;
        sse_tower::serve::tls::server_config(&cert_pem, &key_pem)
            .map(Some)
            .map_err(|err| {
                invalid_flag(format!(
                    "--tls-cert {} --tls-key {}: {err}",
                    cert.display(),
                    key.display()
                ))
            })
    }

    /// Sets the request-head read timeout and the idle timeout, in milliseconds (at
    /// least 1).
    #[must_use]
    pub fn with_timeouts_ms(mut self, header_ms: u64, idle_ms: u64) -> Self {
        self.header_timeout_ms = header_ms.max(1);
        self.idle_timeout_ms = idle_ms.max(1);
        self
    }

    /// Serves HTTPS with this PEM certificate chain and key (files).
    #[must_use]
    pub fn with_tls(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.tls_cert = Some(cert.into());
        self.tls_key = Some(key.into());
        self
    }

    /// Sets the framework.
    #[must_use]
    pub fn with_framework(mut self, framework: Framework) -> Self {
        self.framework = framework;
        self
    }

    /// Sets the heartbeat interval, in milliseconds (at least 1).
    #[must_use]
    pub fn with_heartbeat_ms(mut self, ms: u64) -> Self {
        self.heartbeat_ms = ms.max(1);
        self
    }

    /// Sets the replay capacity, in events (at least 1).
    #[must_use]
    pub fn with_replay(mut self, events: u64) -> Self {
        self.replay = events.max(1);
        self
    }

    /// Limits the SSE streams open at once.
    #[must_use]
    pub fn with_max_connections(mut self, max: usize) -> Self {
        self.max_connections = Some(max);
        self
    }

    /// Requires this bearer token on /events and /publish.
    #[must_use]
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Follows the file at `path` at `GET /logs`.
    #[must_use]
    pub fn with_log_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.log_file = Some(path.into());
        self
    }

    /// Sets the reconnection delay sent first on every stream, in milliseconds.
    #[must_use]
    pub fn with_retry_ms(mut self, ms: u64) -> Self {
        self.retry_ms = ms;
        self
    }
}

/// The error of a flag with a bad value: the demo's `main` prints it as one `error:` line
/// and exits with code 2, as clap does for a malformed command line.
///
/// ```
/// let err = sse_examples::invalid_flag("--tls-cert /nope: No such file or directory");
/// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
/// ```
pub fn invalid_flag(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message.into())
}
