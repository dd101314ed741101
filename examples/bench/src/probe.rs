//! [`watch_runtime`]: what the tokio runtimes of a benchmark server do during a scenario, and
//! how long each publish call takes, for `/stats` (and so for `bench_loadgen`'s report).
//!
//! The counters that show how a fan-out burst spreads over the workers (steals, local-queue
//! overflows into the shared inject queue, polls, wakes from other threads) are tokio's
//! unstable metrics: `scripts/bench --runtime-metrics` builds the servers with
//! `RUSTFLAGS="--cfg tokio_unstable"` to get them. Without that flag only the stable ones are
//! reported (busy time per worker, parks), and the queue depths are not sampled.
//!
//! Every counter is cumulative since the server started; the maxima (queue depths, sampled
//! every millisecond by one thread) and the publish-call timings restart at each snapshot,
//! so the load generator takes one snapshot just before it asks for the publish and one at
//! the end, and the second holds the burst's maxima.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread::ThreadId;
use std::time::Duration;

use serde_json::{json, Map, Value};
use tokio::runtime::{Handle, RuntimeMetrics};

/// The most publish timings kept between two snapshots (a publisher of more messages keeps
/// the first ones).
const MAX_TIMINGS: usize = 1 << 20;

#[derive(Default)]
struct Probe {
    /// Each runtime once, with the thread that registered it.
    runtimes: Mutex<Vec<(ThreadId, Handle)>>,
    inject_depth_max: AtomicUsize,
    local_depth_max: AtomicUsize,
    /// Durations of `send` calls in the publisher loop, in nanoseconds.
    publish_nanos: Mutex<Vec<u64>>,
}

fn probe() -> &'static Probe {
    static PROBE: OnceLock<Probe> = OnceLock::new();
    PROBE.get_or_init(|| {
        // Only the --runtime-metrics builds sample: a thread waking 1 000 times a second
        // would add to the CPU the other runs measure.
        if cfg!(tokio_unstable) {
            std::thread::Builder::new()
                .name("runtime-probe".into())
                .spawn(sample_depths)
                .expect("spawn the runtime probe's sampler");
        }
        Probe::default()
    })
}

/// Registers the runtime of the calling thread (once per runtime; later calls from the same
/// thread are no-ops), so `/stats` reports its metrics.
///
/// Call it from inside the runtime: in `main` for a multi-thread runtime, in the app factory
/// for actix-web (once per worker, each worker being a runtime of its own).
pub fn watch_runtime() {
    let Ok(handle) = Handle::try_current() else {
        return;
    };
    let me = std::thread::current().id();
    let mut runtimes = probe().runtimes.lock().unwrap();
    if runtimes.iter().all(|(thread, _)| *thread != me) {
        runtimes.push((me, handle));
    }
}

/// Records how long one publish call took (`run_publisher` calls it).
pub(crate) fn record_publish(took: Duration) {
    let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
    let mut timings = probe().publish_nanos.lock().unwrap();
    if timings.len() < MAX_TIMINGS {
        timings.push(nanos);
    }
}

/// Samples the queue depths every millisecond, keeping the maxima.
fn sample_depths() {
    loop {
        std::thread::sleep(Duration::from_millis(1));
        // Waits for the probe that spawned this thread to be stored.
        let probe = probe();
        let runtimes = probe.runtimes.lock().unwrap().clone();
        for (_, handle) in runtimes {
            let metrics = handle.metrics();
            probe
                .inject_depth_max
                .fetch_max(metrics.global_queue_depth(), Ordering::Relaxed);
            #[cfg(tokio_unstable)]
            for worker in 0..metrics.num_workers() {
                probe
                    .local_depth_max
                    .fetch_max(metrics.worker_local_queue_depth(worker), Ordering::Relaxed);
            }
        }
    }
}

/// The snapshot `/stats` reports under `"runtime"`: per runtime, per worker counters; the
/// maxima and publish timings since the last snapshot.
pub fn runtime_json() -> Value {
    let probe = probe();
    let runtimes: Vec<Value> = probe
        .runtimes
        .lock()
        .unwrap()
        .iter()
        .map(|(_, handle)| runtime_counters(handle))
        .collect();
    let mut timings = std::mem::take(&mut *probe.publish_nanos.lock().unwrap());
    timings.sort_unstable();
    let quantile_us = |q: f64| {
        if timings.is_empty() {
            return 0.0;
        }
        let index = ((timings.len() as f64 * q).ceil() as usize).clamp(1, timings.len()) - 1;
        timings[index] as f64 / 1000.0
    };
    let mut snapshot = json!({
        "unstable": cfg!(tokio_unstable),
        "runtimes": runtimes,
        "publish_calls": timings.len(),
        "publish_p50_us": quantile_us(0.5),
        "publish_p99_us": quantile_us(0.99),
        "publish_max_us": quantile_us(1.0),
    });
    // Only the sampling builds know the depths; a 0 from the others would read as a measure.
    if cfg!(tokio_unstable) {
        let depths = [
            ("inject_depth_max", &probe.inject_depth_max),
            ("local_depth_max", &probe.local_depth_max),
        ];
        for (name, max) in depths {
            snapshot[name] = max.swap(0, Ordering::Relaxed).into();
        }
    }
    snapshot
}

/// A per-worker counter of tokio's runtime metrics.
type WorkerCounter = fn(&RuntimeMetrics, usize) -> u64;

/// The per-worker counters every build reports, by name.
const STABLE_COUNTERS: &[(&str, WorkerCounter)] = &[
    ("busy_ms", |m, w| {
        u64::try_from(m.worker_total_busy_duration(w).as_millis()).unwrap_or(u64::MAX)
    }),
    ("parks", |m, w| m.worker_park_count(w)),
];

/// The per-worker counters of `--cfg tokio_unstable` builds, by name.
#[cfg(tokio_unstable)]
const UNSTABLE_COUNTERS: &[(&str, WorkerCounter)] = &[
    ("polls", |m, w| m.worker_poll_count(w)),
    ("steals", |m, w| m.worker_steal_count(w)),
    ("steal_operations", |m, w| m.worker_steal_operations(w)),
    ("overflows", |m, w| m.worker_overflow_count(w)),
    ("local_schedules", |m, w| m.worker_local_schedule_count(w)),
];
#[cfg(not(tokio_unstable))]
const UNSTABLE_COUNTERS: &[(&str, WorkerCounter)] = &[];

/// One runtime's cumulative counters, one array entry per worker.
fn runtime_counters(handle: &Handle) -> Value {
    let metrics = handle.metrics();
    let mut counters = Map::new();
    for (name, counter) in STABLE_COUNTERS.iter().chain(UNSTABLE_COUNTERS) {
        let per_worker: Vec<u64> = (0..metrics.num_workers())
            .map(|worker| counter(&metrics, worker))
            .collect();
        counters.insert((*name).into(), per_worker.into());
    }
    #[cfg(tokio_unstable)]
    {
        counters.insert(
            "remote_schedules".into(),
            metrics.remote_schedule_count().into(),
        );
        counters.insert(
            "forced_yields".into(),
            metrics.budget_forced_yield_count().into(),
        );
    }
    counters.into()
}
