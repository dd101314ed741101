//! What the benchmark binaries of `scripts/bench` share: the servers' command line
//! ([`ServerArgs`]), the payload format ([`payload`], [`payload_nanos`]), the `/publish`
//! parameters and publisher loop ([`PublishParams`], [`run_publisher`]), the `/stats` body
//! ([`stats_json`]) and the serve paths besides each framework's own ([`serve_tower`]).
//!
//! Every benchmark server (`bench_peer_axum`, `bench_peer_actix`, `bench_peer_warp`,
//! `bench_ours`) speaks one contract, which `bench_loadgen` drives:
//!
//! - `GET /events`: an SSE stream of every published message, with the server's heartbeat;
//! - `POST /publish?n=COUNT&size=BYTES&rate=PER_SEC`: starts a publisher of COUNT messages
//!   of BYTES each (rate 0 = as fast as possible);
//! - `GET /stats`: `{"subscribers":N,"published":N,"pid":N}`.
//!
//! A message's data is `<unix_nanos> <seq> <padding>`, so the load generator can compute the
//! publish-to-receive latency from it. See `BENCHMARKS.md` at the repository root for the
//! scenarios and the results in `examples/bench/results/`.

mod args;
mod payload;
mod publish;
mod serve;

pub use args::ServerArgs;
pub use payload::{payload, payload_nanos, unix_nanos};
pub use publish::{run_publisher, PublishParams};
pub use serve::serve_tower;

/// The `/stats` body: `{"subscribers":N,"published":N,"pid":N}`, where `pid` lets the load
/// generator read the server's RSS and CPU time from `/proc`.
pub fn stats_json(subscribers: usize, published: u64) -> String {
    format!(
        "{{\"subscribers\":{subscribers},\"published\":{published},\"pid\":{}}}",
        std::process::id()
    )
}
