//! What the benchmark servers share: the command line, the payload format, the
//! `/publish` parameters, the publisher loop and the `/stats` body.
//!
//! Every benchmark server (`bench_peer_axum`, `bench_peer_actix`, `bench_peer_warp`,
//! `bench_ours`) speaks one contract:
//!
//! - `GET /events`: an SSE stream of every published message, with the server's heartbeat;
//! - `POST /publish?n=COUNT&size=BYTES&rate=PER_SEC`: starts a publisher of COUNT messages
//!   of BYTES each (rate 0 = as fast as possible);
//! - `GET /stats`: `{"subscribers":N,"published":N,"pid":N}`.
//!
//! A message's data is `<unix_nanos> <seq> <padding>`, so the load generator can compute the
//! publish-to-receive latency from it.

// Each bin includes this module and uses a different part of it.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Parser;

/// The command line every benchmark server takes.
#[derive(Debug, Clone, Parser)]
pub(crate) struct ServerArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:4000")]
    pub(crate) addr: std::net::SocketAddr,
    /// Heartbeat (keep-alive) interval in milliseconds.
    #[arg(long, default_value_t = 1000)]
    pub(crate) heartbeat_ms: u64,
    /// How many messages the broadcast channel (peers) or the replay ring (ours) holds; also
    /// our per-subscriber queue bound.
    #[arg(long, default_value_t = 32768)]
    pub(crate) capacity: usize,
    /// Which framework serves `bench_ours` (ignored by the peers).
    #[arg(long, default_value = "axum")]
    pub(crate) framework: String,
    /// How axum and warp apps are served: `framework` (`axum::serve`, `warp::serve`; the
    /// peers' default), `toolkit` (`sse_tower::serve`, as the demo serves; `bench_ours`'s
    /// default), `auto` (hyper-util's auto connection alone) or `http1` (hyper's HTTP/1
    /// connection alone, the floor).
    #[arg(long)]
    pub(crate) serve: Option<String>,
}

impl ServerArgs {
    /// `--serve`, or `default` without it.
    pub(crate) fn serve_mode<'a>(&'a self, default: &'a str) -> &'a str {
        self.serve.as_deref().unwrap_or(default)
    }

    /// The heartbeat interval.
    pub(crate) fn heartbeat(&self) -> Duration {
        Duration::from_millis(self.heartbeat_ms.max(1))
    }
}

/// Nanoseconds since the Unix epoch (the clock the load generator reads too).
pub(crate) fn unix_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// The data of message `seq`: `<unix_nanos> <seq> ` padded with `x` to `size` bytes.
pub(crate) fn payload(seq: u64, size: usize) -> String {
    let mut data = format!("{} {} ", unix_nanos(), seq);
    if data.len() < size {
        data.extend(std::iter::repeat_n('x', size - data.len()));
    }
    data
}

/// The send timestamp a payload carries, if it is one.
pub(crate) fn payload_nanos(data: &str) -> Option<u64> {
    data.split(' ').next()?.parse().ok()
}

/// The parameters of `POST /publish`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PublishParams {
    /// How many messages.
    pub(crate) n: u64,
    /// Bytes of data per message.
    pub(crate) size: usize,
    /// Messages per second; 0 = as fast as possible.
    pub(crate) rate: u64,
}

impl PublishParams {
    /// Reads `n`, `size` and `rate` from a raw query string (defaults 1, 100, 0).
    pub(crate) fn from_query(query: &str) -> Self {
        let mut params = Self {
            n: 1,
            size: 100,
            rate: 0,
        };
        for pair in query.split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "n" => params.n = value.parse().unwrap_or(params.n),
                "size" => params.size = value.parse().unwrap_or(params.size),
                "rate" => params.rate = value.parse().unwrap_or(params.rate),
                _ => {}
            }
        }
        params
    }
}

/// Publishes `params.n` payloads through `send`, counting them in `published`.
///
/// At rate 0 it yields to the scheduler after every message, so the subscribers' tasks
/// (which run on the same runtime) get to write; otherwise it paces with an interval.
pub(crate) async fn run_publisher<F>(params: PublishParams, published: Arc<AtomicU64>, send: F)
where
    F: Fn(String),
{
    let mut ticker = (params.rate > 0).then(|| {
        let mut t = tokio::time::interval(Duration::from_nanos(1_000_000_000 / params.rate));
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        t
    });
    for seq in 0..params.n {
        match ticker.as_mut() {
            Some(t) => {
                t.tick().await;
            }
            None => tokio::task::yield_now().await,
        }
        send(payload(seq, params.size));
        published.fetch_add(1, Ordering::Relaxed);
    }
}

/// Serves `service` as `--serve` says, for the modes other than `framework`: `toolkit`
/// (`sse_tower::serve`); `auto`: hyper-util's auto connection with upgrades in a task per
/// connection, what `axum::serve` and `warp::serve` run without their own per-connection
/// state; or `http1`: hyper's HTTP/1 connection alone (no HTTP/2 detection, no upgrades,
/// no graceful shutdown), the floor the others are measured against.
pub(crate) async fn serve_tower<S, B>(
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
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    use hyper_util::rt::TokioIo;
    use hyper_util::service::TowerToHyperService;

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
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
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

/// The `/stats` body.
pub(crate) fn stats_json(subscribers: usize, published: u64) -> String {
    format!(
        "{{\"subscribers\":{subscribers},\"published\":{published},\"pid\":{}}}",
        std::process::id()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_round_trip() {
        let data = payload(7, 100);
        assert_eq!(data.len(), 100);
        assert!(payload_nanos(&data).unwrap() > 0);
        assert_eq!(
            PublishParams::from_query("n=5&size=10&rate=50"),
            PublishParams {
                n: 5,
                size: 10,
                rate: 50
            }
        );
    }
}
