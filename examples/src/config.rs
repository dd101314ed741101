//! The demo's settings ([`Config`], parsed from the command line by clap) and the
//! [`Framework`] that serves them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

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
