//! What the benchmark binaries of `scripts/bench` share: the servers' command line
//! ([`ServerArgs`]), the payload format ([`payload`], [`payload_nanos`]), the `/publish`
//! parameters and publisher loop ([`PublishParams`], [`run_publisher`]), the `/stats` body
//! ([`stats_json`]) and the serve paths besides each framework's own ([`serve_tower`]).
//!
//! Every benchmark server (`bench_peer_axum`, `bench_peer_actix`, `bench_peer_warp`,
//! `bench_ours`, `bench_floor`) speaks one contract, which `bench_loadgen` drives:
//!
//! - `GET /events`: an SSE stream of every published message, with the server's heartbeat;
//! - `POST /publish?n=COUNT&size=BYTES&rate=PER_SEC&burst=K`: starts a publisher of COUNT
//!   messages of BYTES each, K back to back per tick, PER_SEC ticks a second (rate 0 = as
//!   fast as possible; burst 1 if not given);
//! - `GET /stats`: `{"subscribers":N,"published":N,"pid":N}`.
//!
//! A message's data is `<unix_nanos> <seq> <padding>`, so the load generator can compute the
//! publish-to-receive latency from it. See `BENCHMARKS.md` at the repository root for the
//! scenarios and the results in `examples/bench/results/`.

mod args;
mod payload;
mod probe;
mod publish;
mod serve;

pub use args::ServerArgs;
pub use payload::{payload, payload_nanos, unix_nanos};
pub use probe::{runtime_json, watch_runtime};
pub use publish::{run_publisher, PublishParams};
pub use serve::{announce_listening, serve_actix, serve_tower};

/// The `/stats` body: `{"subscribers":N,"published":N,"pid":N,"runtime":{..}}`, where `pid`
/// lets the load generator read the server's RSS and CPU time from `/proc`, and `runtime` is
/// [`runtime_json`] (which restarts its maxima and publish timings).
pub fn stats_json(subscribers: usize, published: u64) -> String {
    serde_json::json!({
        "subscribers": subscribers,
        "published": published,
        "pid": std::process::id(),
        "runtime": runtime_json(),
    })
    .to_string()
}

/// Resident set size of process `pid` in bytes, from `/proc/{pid}/status` (0 elsewhere).
pub fn rss_bytes(pid: u64) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// User plus system CPU time of process `pid` (or `"self"`) and its waited-for children, in
/// seconds, from `/proc/{pid}/stat` (USER_HZ is 100 on Linux; 0 elsewhere).
pub fn cpu_secs(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // After ")": state is field 3 of the man page, so utime (14) is index 11, stime 12,
    // cutime 13, cstime 14.
    (field(11) + field(12) + field(13) + field(14)) / 100.0
}
