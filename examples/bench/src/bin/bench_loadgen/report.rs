//! The JSON lines `bench_loadgen` prints: [`Report`] from the leader, [`ChildReport`] from
//! each child process. `bench_report` and the committed results read these field names.

use std::sync::atomic::Ordering;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::hist::Hist;
use crate::stream::{Shared, Totals};
use crate::Args;

/// One run, as one JSON line: what every run reports, then the idle or the flow part.
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    server: String,
    scenario: String,
    tag: String,
    connections: usize,
    /// Streams the server counted once connecting was over.
    subscribers_seen: usize,
    /// Streams the server still counted at the end.
    subscribers_end: usize,
    connect_s: f64,
    failed_connects: u64,
    rss_base_bytes: u64,
    rss_bytes: u64,
    rss_per_conn_bytes: f64,
    kernel_tcp_per_conn_bytes: f64,
    /// Both ends of every stream live on this machine: half the growth is the server's.
    kernel_slab_per_socket_bytes: f64,
    server_cpu_s: f64,
    loadgen_cpu_s: f64,
    duration_s: f64,
    #[serde(flatten)]
    outcome: Outcome,
    /// What the server's runtimes did over the measured phase (see [`runtime_delta`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    runtime: Option<Value>,
    errors: Vec<String>,
}

/// The part of a [`Report`] that depends on the scenario's kind.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Outcome {
    Idle(Idle),
    Flow(Flow),
}

/// Idle streams (`--messages 0`): heartbeats only.
#[derive(Debug, Serialize)]
struct Idle {
    heartbeat_cpu_pct: f64,
    heartbeats_per_stream_per_s: f64,
    child_heartbeats: u64,
    lost: u64,
    delivered: u64,
    delivered_per_s: u64,
    opened: u64,
}

/// Published messages: throughput, CPU per event and latency.
#[derive(Debug, Serialize)]
struct Flow {
    messages: u64,
    size: usize,
    rate: u64,
    burst: u64,
    published: u64,
    delivered: u64,
    delivered_per_s: f64,
    lost: u64,
    streams_ended_early: usize,
    server_cpu_s_per_m_events: f64,
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    p999_ms: f64,
    max_ms: f64,
}

/// The counts a child process reports to the leader on its stdout, summed over children.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct ChildReport {
    pub(crate) opened: u64,
    pub(crate) failed: u64,
    pub(crate) ended: u64,
    pub(crate) heartbeats: u64,
    pub(crate) error: Option<String>,
}

impl ChildReport {
    /// This process's counts.
    pub(crate) fn of(totals: &Totals) -> Self {
        Self {
            opened: Totals::get(&totals.opened),
            failed: Totals::get(&totals.failed),
            ended: Totals::get(&totals.ended),
            heartbeats: totals.heartbeats.load(Ordering::Relaxed),
            error: totals.first_error.lock().unwrap().clone(),
        }
    }

    /// Adds `other`'s counts; its error goes to `errors`.
    pub(crate) fn add(&mut self, other: Self, errors: &mut Vec<String>) {
        self.opened += other.opened;
        self.failed += other.failed;
        self.ended += other.ended;
        self.heartbeats += other.heartbeats;
        errors.extend(other.error);
    }
}

/// A reading of the server and the kernel: at the start (the baseline) or at the end.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Reading {
    pub(crate) rss: u64,
    pub(crate) tcp_mem: u64,
    pub(crate) slab: u64,
    pub(crate) subscribers: usize,
    pub(crate) published: u64,
}

/// Everything the leader measured, which [`Report::new`] turns into the report.
#[derive(Debug)]
pub(crate) struct Measured {
    /// Streams the leader's own process opens (its share of `--connections`).
    pub(crate) own: usize,
    pub(crate) subscribers: usize,
    pub(crate) connect_s: f64,
    pub(crate) base: Reading,
    pub(crate) end: Reading,
    pub(crate) server_cpu_s: f64,
    pub(crate) loadgen_cpu_s: f64,
    pub(crate) duration_s: f64,
    /// This process's heartbeats before the measured phase.
    pub(crate) heartbeats_before: u64,
    pub(crate) publish_nanos: u64,
    pub(crate) runtime: Option<Value>,
    pub(crate) children: ChildReport,
    pub(crate) errors: Vec<String>,
}

impl Report {
    pub(crate) fn new(args: &Args, shared: &Shared, m: Measured) -> Self {
        let totals = &shared.totals;
        let failed = Totals::get(&totals.failed) + m.children.failed;
        let per_conn = |end: u64, base: u64| {
            if m.subscribers > 0 {
                end.saturating_sub(base) as f64 / m.subscribers as f64
            } else {
                0.0
            }
        };
        let outcome = if args.messages == 0 {
            Outcome::Idle(Idle::new(args, totals, &m, failed))
        } else {
            let hist = shared.hist.lock().unwrap().clone();
            Outcome::Flow(Flow::new(args, totals, &hist, &m))
        };
        Self {
            server: args.server.clone(),
            scenario: args.scenario.clone(),
            tag: args.tag.clone(),
            connections: args.connections,
            subscribers_seen: m.subscribers,
            subscribers_end: m.end.subscribers,
            connect_s: m.connect_s,
            failed_connects: failed,
            rss_base_bytes: m.base.rss,
            rss_bytes: m.end.rss,
            rss_per_conn_bytes: per_conn(m.end.rss, m.base.rss).round(),
            kernel_tcp_per_conn_bytes: per_conn(m.end.tcp_mem, m.base.tcp_mem).round(),
            kernel_slab_per_socket_bytes: (per_conn(m.end.slab, m.base.slab) / 2.0).round(),
            server_cpu_s: m.server_cpu_s,
            loadgen_cpu_s: m.loadgen_cpu_s,
            duration_s: m.duration_s,
            outcome,
            runtime: m.runtime,
            errors: m.errors,
        }
    }

    /// Streams lost (idle) or events lost (flow), which `scripts/bench` prints per run.
    #[cfg(test)]
    fn lost(&self) -> u64 {
        match &self.outcome {
            Outcome::Idle(idle) => idle.lost,
            Outcome::Flow(flow) => flow.lost,
        }
    }
}

impl Idle {
    fn new(args: &Args, totals: &Totals, m: &Measured, failed: u64) -> Self {
        let heartbeats = totals.heartbeats.load(Ordering::Relaxed);
        let streams_here = Totals::get(&totals.opened).max(1);
        // A stream is lost if the server stopped counting it or it ended or never opened.
        let lost = (args.connections.saturating_sub(m.end.subscribers) as u64)
            .max(Totals::get(&totals.ended) + m.children.ended + failed);
        Self {
            heartbeat_cpu_pct: m.server_cpu_s / m.duration_s * 100.0,
            heartbeats_per_stream_per_s: (heartbeats - m.heartbeats_before) as f64
                / streams_here as f64
                / m.duration_s,
            child_heartbeats: m.children.heartbeats,
            lost,
            delivered: 0,
            delivered_per_s: 0,
            opened: Totals::get(&totals.opened) + m.children.opened,
        }
    }
}

impl Flow {
    fn new(args: &Args, totals: &Totals, hist: &Hist, m: &Measured) -> Self {
        let delivered = totals.events.load(Ordering::Relaxed);
        let last = totals.last_event_nanos.load(Ordering::Relaxed);
        let span = (last.saturating_sub(m.publish_nanos) as f64 / 1e9).max(1e-3);
        let expected = args.messages * m.own as u64;
        Self {
            messages: args.messages,
            size: args.size,
            rate: args.rate,
            burst: args.burst,
            published: m.end.published.saturating_sub(m.base.published),
            delivered,
            delivered_per_s: (delivered as f64 / span).round(),
            lost: expected.saturating_sub(delivered),
            streams_ended_early: totals.ended.load(Ordering::Relaxed),
            server_cpu_s_per_m_events: if delivered > 0 {
                m.server_cpu_s / delivered as f64 * 1e6
            } else {
                0.0
            },
            p50_ms: hist.quantile_ms(0.50),
            p90_ms: hist.quantile_ms(0.90),
            p99_ms: hist.quantile_ms(0.99),
            p999_ms: hist.quantile_ms(0.999),
            max_ms: hist.max as f64 / 1000.0,
        }
    }
}

/// The server's runtime counters over the measured phase: `after` with every per-runtime
/// counter (a number, or an array of one per worker) reduced by its value in `before`. The
/// top-level maxima and publish timings restart at each reading, so `after`'s are the phase's.
/// `None` if the server does not report them.
pub(crate) fn runtime_delta(before: Option<Value>, after: Option<Value>) -> Option<Value> {
    let mut after = after?;
    let before_runtimes = before
        .as_ref()
        .and_then(|b| b.get("runtimes")?.as_array().cloned())
        .unwrap_or_default();
    let runtimes = after.get_mut("runtimes")?.as_array_mut()?;
    for (runtime, base) in runtimes.iter_mut().zip(&before_runtimes) {
        let (Some(counters), Some(base)) = (runtime.as_object_mut(), base.as_object()) else {
            continue;
        };
        for (name, value) in counters.iter_mut() {
            match (value, base.get(name)) {
                (Value::Array(now), Some(Value::Array(then))) => {
                    for (now, then) in now.iter_mut().zip(then) {
                        *now = sub(now, then);
                    }
                }
                (now @ Value::Number(_), Some(then)) => *now = sub(now, then),
                _ => {}
            }
        }
    }
    Some(after)
}

fn sub(now: &Value, then: &Value) -> Value {
    let (Some(now), Some(then)) = (now.as_u64(), then.as_u64()) else {
        return now.clone();
    };
    now.saturating_sub(then).into()
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn measured(args: &Args) -> Measured {
        Measured {
            own: args.connections,
            subscribers: 2,
            connect_s: 0.5,
            base: Reading::default(),
            end: Reading {
                rss: 4000,
                subscribers: 2,
                published: 3,
                ..Reading::default()
            },
            server_cpu_s: 0.25,
            loadgen_cpu_s: 0.5,
            duration_s: 1.0,
            heartbeats_before: 0,
            publish_nanos: 0,
            runtime: None,
            children: ChildReport::default(),
            errors: Vec::new(),
        }
    }

    /// The fields of every report, idle or flow.
    const COMMON_FIELDS: [&str; 16] = [
        "server",
        "scenario",
        "tag",
        "connections",
        "subscribers_seen",
        "subscribers_end",
        "connect_s",
        "failed_connects",
        "rss_base_bytes",
        "rss_bytes",
        "rss_per_conn_bytes",
        "kernel_tcp_per_conn_bytes",
        "kernel_slab_per_socket_bytes",
        "server_cpu_s",
        "loadgen_cpu_s",
        "duration_s",
    ];

    fn keys(report: &Report) -> Vec<String> {
        let value = serde_json::to_value(report).unwrap();
        let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
        keys.sort_unstable();
        keys
    }

    #[test]
    fn an_idle_report_has_the_fields_bench_report_reads() {
        let args = Args::parse_from(["bench_loadgen", "--connections", "2"]);
        let report = Report::new(&args, &Shared::new(0), measured(&args));
        let mut expected = COMMON_FIELDS.to_vec();
        expected.extend([
            "heartbeat_cpu_pct",
            "heartbeats_per_stream_per_s",
            "child_heartbeats",
            "lost",
            "delivered",
            "delivered_per_s",
            "opened",
            "errors",
        ]);
        expected.sort_unstable();
        assert_eq!(keys(&report), expected);
        assert_eq!(report.rss_per_conn_bytes, 2000.0);
        assert_eq!(report.lost(), 0);
    }

    #[test]
    fn a_flow_report_has_the_fields_bench_report_reads() {
        let args = Args::parse_from(["bench_loadgen", "--connections", "2", "--messages", "3"]);
        let report = Report::new(&args, &Shared::new(3), measured(&args));
        let mut expected = COMMON_FIELDS.to_vec();
        expected.extend([
            "messages",
            "size",
            "rate",
            "burst",
            "published",
            "delivered",
            "delivered_per_s",
            "lost",
            "streams_ended_early",
            "server_cpu_s_per_m_events",
            "p50_ms",
            "p90_ms",
            "p99_ms",
            "p999_ms",
            "max_ms",
            "errors",
        ]);
        expected.sort_unstable();
        assert_eq!(keys(&report), expected);
        // Nothing arrived: every expected event (3 messages x 2 streams) is lost.
        assert_eq!(report.lost(), 6);
    }

    #[test]
    fn runtime_counters_are_the_phase_s_and_maxima_are_kept() {
        let before = serde_json::json!({
            "runtimes": [{"busy_ms": [10, 20], "remote_schedules": 5}],
            "inject_depth_max": 900,
        });
        let after = serde_json::json!({
            "runtimes": [{"busy_ms": [15, 50], "remote_schedules": 7}],
            "inject_depth_max": 40,
        });
        let delta = runtime_delta(Some(before), Some(after)).unwrap();
        assert_eq!(
            delta,
            serde_json::json!({
                "runtimes": [{"busy_ms": [5, 30], "remote_schedules": 2}],
                "inject_depth_max": 40,
            })
        );
        assert_eq!(runtime_delta(None, None), None);
    }
}
