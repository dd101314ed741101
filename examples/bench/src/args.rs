//! [`ServerArgs`]: the command line every benchmark server takes.

use std::net::SocketAddr;
use std::time::Duration;

/// The command line every benchmark server takes.
#[derive(Debug, Clone, clap::Parser)]
pub struct ServerArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:4000")]
    pub addr: SocketAddr,
    /// Heartbeat (keep-alive) interval in milliseconds.
    #[arg(long, default_value_t = 1000)]
    pub heartbeat_ms: u64,
    /// How many messages the broadcast channel (peers) or the replay ring (ours, the floor's)
    /// holds; also our per-subscriber queue bound.
    #[arg(long, default_value_t = 32768)]
    pub capacity: usize,
    /// Which framework serves `bench_ours`, or `bench_floor`'s ring (`actix`; hyper alone
    /// otherwise); ignored by the peers.
    #[arg(long, default_value = "axum")]
    pub framework: String,
    /// How axum and warp apps are served: `framework` (`axum::serve`, `warp::serve`; the
    /// peers' default), `toolkit` (`sse_tower::serve`, as the demo serves; `bench_ours`'s
    /// default), `auto` (hyper-util's auto connection alone) or `http1` (hyper's HTTP/1
    /// connection alone, the floor).
    #[arg(long)]
    pub serve: Option<String>,
}

impl ServerArgs {
    /// `--serve`, or `default` without it.
    pub fn serve_mode<'a>(&'a self, default: &'a str) -> &'a str {
        self.serve.as_deref().unwrap_or(default)
    }

    /// The heartbeat interval.
    pub fn heartbeat(&self) -> Duration {
        Duration::from_millis(self.heartbeat_ms.max(1))
    }
}
