//! `bench_loadgen`: the SSE load generator of `scripts/bench`.
//!
//! It opens N `GET /events` streams to a benchmark server (raw TCP, HTTP/1.1, sse-core's
//! `parse::Decoder`), spreading them over loopback source addresses (`127.<net>.<proc>.2`,
//! `.3`, … one per 20 000 streams), optionally in several processes (`--procs`, each under
//! the 20 000 open-file limit, whose soft limit it raises to the hard one). Then it either
//! holds them idle (`--messages 0`, heartbeats only) or asks the server to publish
//! (`POST /publish`) and counts every event, with publish-to-receive latency from the
//! timestamp in the data. It reads the server's RSS and CPU time from `/proc/<pid>` and the
//! kernel's TCP memory from `/proc/net/sockstat`, and prints one JSON line.
//!
//! ```text
//! bench_loadgen --addr 127.0.0.1:4000 --server peer-axum --scenario S2 \
//!     --connections 1000 --messages 20000 --size 100 --rate 0
//! bench_loadgen --addr 127.0.0.1:4000 --server ours-axum --scenario S1 \
//!     --connections 10000 --messages 0 --idle-secs 10
//! ```
//!
//! Every loop is bounded in count and time (`--timeout-secs`); only 127.0.0.0/8 is used.

mod hist;
mod http;
mod procfs;
mod report;
mod stream;

use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use tokio::io::AsyncReadExt;
use tokio::process::Child;
use tokio::sync::Notify;

use crate::http::{http, server_stats};
use crate::report::{ChildReport, Measured, Reading, Report};
use crate::stream::{open_streams, Shared, Totals};

#[derive(Debug, Clone, Parser)]
struct Args {
    /// The server.
    #[arg(long, default_value = "127.0.0.1:4000")]
    addr: SocketAddr,
    /// Name of the server, for the report.
    #[arg(long, default_value = "server")]
    server: String,
    /// Name of the scenario, for the report.
    #[arg(long, default_value = "S1")]
    scenario: String,
    /// Free-form tag copied into the report (round, pinning).
    #[arg(long, default_value = "")]
    tag: String,
    /// Streams in all processes together.
    #[arg(long, default_value_t = 1000)]
    connections: usize,
    /// Messages to publish; 0 holds the streams idle for `--idle-secs`.
    #[arg(long, default_value_t = 0)]
    messages: u64,
    /// Bytes per message.
    #[arg(long, default_value_t = 100)]
    size: usize,
    /// Messages per second (0 = as fast as possible); with `--burst`, bursts per second.
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// Messages published back to back per tick, so that a woken subscriber finds them all.
    #[arg(long, default_value_t = 1)]
    burst: u64,
    /// How long idle streams are held and measured.
    #[arg(long, default_value_t = 10.0)]
    idle_secs: f64,
    /// Load-generator processes (this one plus children), for more streams than one
    /// process may hold.
    #[arg(long, default_value_t = 1)]
    procs: usize,
    /// Second octet of the source addresses (change it between runs to dodge TIME_WAIT).
    #[arg(long, default_value_t = 1)]
    src_net: u8,
    /// Connects in flight at once.
    #[arg(long, default_value_t = 200)]
    connect_concurrency: usize,
    /// Upper bound on the whole run.
    #[arg(long, default_value_t = 120.0)]
    timeout_secs: f64,
    /// Internal: run as child number N (opens its share, holds, reports counts).
    #[arg(long, hide = true)]
    child: Option<u8>,
    /// Internal: how long a child holds its streams.
    #[arg(long, hide = true, default_value_t = 0.0)]
    hold_secs: f64,
}

fn main() -> ExitCode {
    let args = Arc::new(Args::parse());
    let nofile = raise_nofile();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("bench_loadgen: runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(proc_no) = args.child {
        runtime.block_on(run_child(args, proc_no));
        runtime.shutdown_timeout(Duration::from_millis(100));
        return ExitCode::SUCCESS;
    }
    if share_of(args.connections, args.procs, 0) as u64 + 16 > nofile {
        eprintln!("bench_loadgen: {nofile} open files is too few; use more --procs");
        return ExitCode::FAILURE;
    }
    let result = runtime.block_on(run_leader(args));
    runtime.shutdown_timeout(Duration::from_millis(100));
    match result.and_then(|report| serde_json::to_string(&report).map_err(io::Error::other)) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("bench_loadgen: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Raises the soft open-file limit to the hard one; returns the limit in force.
fn raise_nofile() -> u64 {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut limit = getrlimit(Resource::Nofile);
    limit.current = limit.maximum;
    let _ = setrlimit(Resource::Nofile, limit);
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

/// Process `index`'s share of `total` streams.
fn share_of(total: usize, procs: usize, index: usize) -> usize {
    total / procs + usize::from(index < total % procs)
}

/// A child process: opens its share of idle streams, holds them until the leader closes
/// its stdin (or the hold time is up), then prints its [`ChildReport`].
async fn run_child(args: Arc<Args>, proc_no: u8) {
    let count = share_of(args.connections, args.procs, proc_no as usize);
    let shared = Arc::new(Shared::new(0));
    let stop = Arc::new(Notify::new());
    let tasks = open_streams(&args, &shared, count, proc_no, &stop);
    let mut stdin = tokio::io::stdin();
    let mut sink = Vec::new();
    let _ = tokio::time::timeout(
        Duration::from_secs_f64(args.hold_secs.min(args.timeout_secs + 60.0)),
        stdin.read_to_end(&mut sink),
    )
    .await;
    match serde_json::to_string(&ChildReport::of(&shared.totals)) {
        Ok(line) => println!("{line}"),
        Err(err) => eprintln!("bench_loadgen child {proc_no}: {err}"),
    }
    stop.notify_waiters();
    drop(tasks);
}

/// The leader: starts the children, opens its own share, waits for the server to count
/// every stream, then holds them idle or has the server publish, and measures.
async fn run_leader(args: Arc<Args>) -> io::Result<Report> {
    let deadline = Instant::now() + Duration::from_secs_f64(args.timeout_secs);
    let (pid, base) = baseline(args.addr).await?;
    let children = spawn_children(&args)?;
    let own = share_of(args.connections, args.procs, 0);
    let shared = Arc::new(Shared::new(args.messages));
    let stop = Arc::new(Notify::new());
    let connect_start = Instant::now();
    let tasks = open_streams(&args, &shared, own, 0, &stop);
    let subscribers = wait_subscribed(&args, &shared.totals, own, deadline).await;
    let connect_s = connect_start.elapsed().as_secs_f64();
    // Let the connect burst's allocations settle into steady state.
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Restarts the server's maxima and publish timings, so the end reading holds this phase's.
    let runtime_before = server_stats(args.addr)
        .await
        .ok()
        .and_then(|stats| stats.runtime);
    let clock = CpuClock::start(pid);
    let heartbeats_before = shared.totals.heartbeats.load(Ordering::Relaxed);
    let publish_nanos = sse_bench::unix_nanos();
    if args.messages == 0 {
        let until = (clock.started + Duration::from_secs_f64(args.idle_secs)).min(deadline);
        tokio::time::sleep_until(until.into()).await;
    } else {
        publish_and_wait(&args, &shared.totals, own, deadline).await?;
    }
    let (duration_s, server_cpu_s, loadgen_cpu_s) = clock.stop();
    let (end, runtime_after) = end_reading(args.addr, pid).await;
    stop.notify_waiters();

    let mut errors: Vec<String> = shared
        .totals
        .first_error
        .lock()
        .unwrap()
        .clone()
        .into_iter()
        .collect();
    let children = collect_children(children, &mut errors).await;
    let measured = Measured {
        own,
        subscribers,
        connect_s,
        base,
        end,
        server_cpu_s,
        loadgen_cpu_s,
        duration_s,
        heartbeats_before,
        publish_nanos,
        runtime: report::runtime_delta(runtime_before, runtime_after),
        children,
        errors,
    };
    let report = Report::new(&args, &shared, measured);
    drop(tasks);
    Ok(report)
}

/// The server's pid and the readings before any stream opens.
async fn baseline(addr: SocketAddr) -> io::Result<(u64, Reading)> {
    let stats = server_stats(addr).await?;
    let pid = stats.pid.ok_or_else(|| io::Error::other("no pid"))?;
    let reading = Reading {
        rss: procfs::rss_bytes(pid),
        tcp_mem: procfs::tcp_mem_bytes(),
        slab: procfs::socket_slab_bytes(),
        subscribers: stats.subscribers,
        published: stats.published,
    };
    Ok((pid, reading))
}

/// The readings at the end of the measured phase (zero counts if `/stats` fails), and the
/// server's runtime counters.
async fn end_reading(addr: SocketAddr, pid: u64) -> (Reading, Option<serde_json::Value>) {
    let stats = server_stats(addr).await.unwrap_or_default();
    let reading = Reading {
        rss: procfs::rss_bytes(pid),
        tcp_mem: procfs::tcp_mem_bytes(),
        slab: procfs::socket_slab_bytes(),
        subscribers: stats.subscribers,
        published: stats.published,
    };
    (reading, stats.runtime)
}

/// Starts the children first (idle holders), each its own process with its own file limit.
fn spawn_children(args: &Args) -> io::Result<Vec<Child>> {
    let hold = args.idle_secs + 60.0;
    let exe = std::env::current_exe()?;
    (1..args.procs.max(1))
        .map(|i| {
            tokio::process::Command::new(&exe)
                .args(std::env::args().skip(1))
                .args(["--child", &i.to_string(), "--hold-secs", &hold.to_string()])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .kill_on_drop(true)
                .spawn()
        })
        .collect()
}

/// Tells every child to report (by closing its stdin), and sums their reports.
async fn collect_children(children: Vec<Child>, errors: &mut Vec<String>) -> ChildReport {
    let mut sum = ChildReport::default();
    for mut child in children {
        drop(child.stdin.take());
        let mut out = String::new();
        if let Some(mut stdout) = child.stdout.take() {
            let read = stdout.read_to_string(&mut out);
            let _ = tokio::time::timeout(Duration::from_secs(10), read).await;
        }
        let _ = child.start_kill();
        let _ = child.wait().await;
        if let Ok(report) = serde_json::from_str::<ChildReport>(out.trim()) {
            sum.add(report, errors);
        }
    }
    sum
}

/// Waits until the server counts every stream (of all processes), or the failures say it
/// never will, or the deadline; returns the last count seen.
async fn wait_subscribed(args: &Args, totals: &Totals, own: usize, deadline: Instant) -> usize {
    let start = Instant::now();
    let mut subscribers = 0;
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        if let Ok(stats) = server_stats(args.addr).await {
            subscribers = stats.subscribers;
        }
        let settled =
            totals.opened.load(Ordering::Relaxed) + totals.failed.load(Ordering::Relaxed) >= own;
        if subscribers >= args.connections
            || Instant::now() > deadline
            || (settled && start.elapsed() > Duration::from_secs(30))
        {
            return subscribers;
        }
    }
}

/// Asks the server to publish, then waits until every stream has every event, or progress
/// stops for 5 s, or the deadline.
async fn publish_and_wait(
    args: &Args,
    totals: &Totals,
    own: usize,
    deadline: Instant,
) -> io::Result<()> {
    let path = format!(
        "/publish?n={}&size={}&rate={}&burst={}",
        args.messages, args.size, args.rate, args.burst
    );
    http(args.addr, "POST", &path).await?;
    let mut last = (0u64, Instant::now());
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let events = totals.events.load(Ordering::Relaxed);
        if events != last.0 {
            last = (events, Instant::now());
        }
        let done = totals.complete.load(Ordering::Relaxed)
            + totals.ended.load(Ordering::Relaxed)
            + totals.failed.load(Ordering::Relaxed)
            >= own;
        if done || last.1.elapsed() > Duration::from_secs(5) || Instant::now() > deadline {
            return Ok(());
        }
    }
}

/// Wall time and the CPU time of the server and of this process over the measured phase.
struct CpuClock {
    pid: String,
    started: Instant,
    server: f64,
    own: f64,
}

impl CpuClock {
    fn start(pid: u64) -> Self {
        let pid = pid.to_string();
        Self {
            server: sse_bench::cpu_secs(&pid),
            own: sse_bench::cpu_secs("self"),
            started: Instant::now(),
            pid,
        }
    }

    /// Seconds since the start: wall time, server CPU, this process's CPU.
    fn stop(&self) -> (f64, f64, f64) {
        let elapsed = self.started.elapsed().as_secs_f64();
        let server = sse_bench::cpu_secs(&self.pid) - self.server;
        let own = sse_bench::cpu_secs("self") - self.own;
        (elapsed, server, own)
    }
}
