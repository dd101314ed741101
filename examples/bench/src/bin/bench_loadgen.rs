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

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};
use clap::Parser;
use serde_json::{json, Value};
use sse_core::parse::{Decoder, Frame};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Semaphore;

/// Streams per source address (the ephemeral port range holds ~28 000).
const PER_SOURCE: usize = 20_000;

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
    /// Messages per second (0 = as fast as possible).
    #[arg(long, default_value_t = 0)]
    rate: u64,
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

/// Log-linear histogram of microseconds (~3 % resolution).
#[derive(Debug, Clone)]
struct Hist {
    buckets: Vec<u64>,
    count: u64,
    max: u64,
}

impl Hist {
    fn new() -> Self {
        Self {
            buckets: vec![0; 64 + 58 * 32],
            count: 0,
            max: 0,
        }
    }
    fn index(v: u64) -> usize {
        if v < 64 {
            return v as usize;
        }
        let e = 63 - u64::from(v.leading_zeros()); // >= 6
        64 + (e as usize - 6) * 32 + ((v >> (e - 5)) & 31) as usize
    }
    fn value(i: usize) -> u64 {
        if i < 64 {
            return i as u64;
        }
        let e = (i - 64) / 32 + 6;
        let sub = ((i - 64) % 32) as u64;
        ((32 + sub) << (e - 5)) + (1 << (e - 5)) / 2
    }
    fn record(&mut self, v: u64) {
        self.buckets[Self::index(v)] += 1;
        self.count += 1;
        self.max = self.max.max(v);
    }
    fn quantile_ms(&self, q: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let target = ((self.count as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= target {
                return Self::value(i).min(self.max) as f64 / 1000.0;
            }
        }
        self.max as f64 / 1000.0
    }
}

/// What every stream of this process adds to.
#[derive(Debug, Default)]
struct Totals {
    opened: AtomicUsize,
    failed: AtomicUsize,
    ended: AtomicUsize,
    complete: AtomicUsize,
    events: AtomicU64,
    heartbeats: AtomicU64,
    last_event_nanos: AtomicU64,
    first_error: Mutex<Option<String>>,
}

struct Shared {
    totals: Totals,
    hist: Mutex<Hist>,
    expect: u64,
}

/// Undoes HTTP/1.1 chunked transfer coding, incrementally.
#[derive(Debug, Default)]
struct Dechunker {
    /// Bytes left in the current chunk's data, or `None` while reading a size line.
    remaining: Option<usize>,
    /// CRLF after data still to skip.
    skip_crlf: usize,
    size_line: Vec<u8>,
    done: bool,
}

impl Dechunker {
    fn feed(&mut self, input: &mut BytesMut, out: &mut BytesMut) -> io::Result<()> {
        while !input.is_empty() && !self.done {
            if self.skip_crlf > 0 {
                let n = self.skip_crlf.min(input.len());
                input.advance(n);
                self.skip_crlf -= n;
                continue;
            }
            match self.remaining {
                Some(0) => {
                    self.remaining = None;
                    self.skip_crlf = 2;
                }
                Some(left) => {
                    let n = left.min(input.len());
                    out.extend_from_slice(&input.split_to(n));
                    self.remaining = Some(left - n);
                }
                None => match input.iter().position(|&b| b == b'\n') {
                    Some(pos) => {
                        self.size_line.extend_from_slice(&input[..pos]);
                        input.advance(pos + 1);
                        let line = std::str::from_utf8(&self.size_line)
                            .map_err(|_| io::Error::other("bad chunk size"))?;
                        let hex = line.split(';').next().unwrap_or("").trim();
                        let size = usize::from_str_radix(hex, 16)
                            .map_err(|_| io::Error::other(format!("bad chunk size {hex:?}")))?;
                        self.size_line.clear();
                        if size == 0 {
                            self.done = true;
                        } else {
                            self.remaining = Some(size);
                        }
                    }
                    None => {
                        self.size_line.extend_from_slice(input);
                        input.clear();
                    }
                },
            }
        }
        Ok(())
    }
}

fn source_addr(net: u8, proc_no: u8, k: usize) -> SocketAddr {
    let host = 2 + (k / PER_SOURCE) as u8;
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, net, proc_no, host)), 0)
}

async fn connect(addr: SocketAddr, src: SocketAddr) -> io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(src)?;
    socket.connect(addr).await
}

/// Opens one stream and reads it until it ends, `shared.expect` events came, or `stop`.
async fn run_stream(
    args: Arc<Args>,
    shared: Arc<Shared>,
    src: SocketAddr,
    gate: Arc<Semaphore>,
    stop: Arc<tokio::sync::Notify>,
) {
    let totals = &shared.totals;
    let permit = gate.acquire().await;
    let opened = async {
        let mut stream = connect(args.addr, src).await?;
        let request = format!(
            "GET /events HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\n\r\n",
            args.addr
        );
        stream.write_all(request.as_bytes()).await?;
        let mut buf = BytesMut::with_capacity(4096);
        let head_end = loop {
            if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break pos + 4;
            }
            if stream.read_buf(&mut buf).await? == 0 || buf.len() > 16 * 1024 {
                return Err(io::Error::other("no response head"));
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        if !head.starts_with("http/1.1 200") {
            return Err(io::Error::other(format!(
                "status {:?}",
                head.lines().next().unwrap_or("")
            )));
        }
        let chunked = head.contains("transfer-encoding: chunked");
        buf.advance(head_end);
        Ok::<_, io::Error>((stream, buf, chunked))
    }
    .await;
    drop(permit);
    let (mut stream, mut input, chunked) = match opened {
        Ok(opened) => opened,
        Err(err) => {
            totals.failed.fetch_add(1, Ordering::Relaxed);
            totals
                .first_error
                .lock()
                .unwrap()
                .get_or_insert(err.to_string());
            return;
        }
    };
    totals.opened.fetch_add(1, Ordering::Relaxed);

    let mut dechunker = Dechunker::default();
    let mut body = BytesMut::new();
    let mut decoder = Decoder::new();
    let mut events = 0u64;
    let mut batch: Vec<u64> = Vec::new();
    let mut ended = false;
    let stopped = stop.notified();
    tokio::pin!(stopped);
    loop {
        if chunked {
            if let Err(err) = dechunker.feed(&mut input, &mut body) {
                totals
                    .first_error
                    .lock()
                    .unwrap()
                    .get_or_insert(err.to_string());
                ended = true;
            }
        } else {
            body.extend_from_slice(&input.split());
        }
        let now = sse_bench::unix_nanos();
        let before = events;
        loop {
            match decoder.decode(&mut body) {
                Ok(Some(Frame::Event(message))) => {
                    if let Some(sent) = sse_bench::payload_nanos(&message.data) {
                        events += 1;
                        batch.push(now.saturating_sub(sent) / 1000);
                    }
                }
                Ok(Some(Frame::Comment(_))) => {
                    totals.heartbeats.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(err) => {
                    totals
                        .first_error
                        .lock()
                        .unwrap()
                        .get_or_insert(err.to_string());
                    ended = true;
                    break;
                }
            }
        }
        if events > before {
            totals.events.fetch_add(events - before, Ordering::Relaxed);
            totals.last_event_nanos.fetch_max(now, Ordering::Relaxed);
            if batch.len() >= 1024 || events >= shared.expect {
                let mut hist = shared.hist.lock().unwrap();
                for v in batch.drain(..) {
                    hist.record(v);
                }
            }
        }
        if shared.expect > 0 && events >= shared.expect {
            totals.complete.fetch_add(1, Ordering::Relaxed);
            break;
        }
        if ended || dechunker.done {
            totals.ended.fetch_add(1, Ordering::Relaxed);
            break;
        }
        if input.capacity() - input.len() < 1024 {
            input.reserve(4096);
        }
        tokio::select! {
            read = stream.read_buf(&mut input) => match read {
                Ok(0) | Err(_) => ended = true,
                Ok(_) => {}
            },
            () = &mut stopped => break,
        }
    }
    if !batch.is_empty() {
        let mut hist = shared.hist.lock().unwrap();
        for v in batch.drain(..) {
            hist.record(v);
        }
    }
    // Hold the stream until told to stop, so the server's count stays put.
    if !ended && shared.expect > 0 {
        stopped.await;
    }
}

/// A minimal HTTP/1.1 request on its own connection; returns the body.
async fn http(addr: SocketAddr, method: &str, path: &str) -> io::Result<String> {
    let mut stream = TcpStream::connect(addr).await?;
    let request =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response))
        .await
        .map_err(|_| io::Error::other("timeout"))??;
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut input = BytesMut::from(body.as_bytes());
        let mut out = BytesMut::new();
        Dechunker::default().feed(&mut input, &mut out)?;
        return Ok(String::from_utf8_lossy(&out).into_owned());
    }
    Ok(body.to_owned())
}

async fn server_stats(addr: SocketAddr) -> io::Result<Value> {
    let body = http(addr, "GET", "/stats").await?;
    serde_json::from_str(body.trim()).map_err(io::Error::other)
}

/// Resident set size in bytes.
fn rss_bytes(pid: u64) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// User plus system CPU time in seconds (USER_HZ is 100 on Linux).
fn cpu_secs(pid: &str) -> f64 {
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

/// The kernel's TCP memory in bytes (`/proc/net/sockstat` "mem", in pages).
fn tcp_mem_bytes() -> u64 {
    let text = std::fs::read_to_string("/proc/net/sockstat").unwrap_or_default();
    text.lines()
        .find(|l| l.starts_with("TCP:"))
        .and_then(|l| {
            let parts: Vec<&str> = l.split_whitespace().collect();
            let at = parts.iter().position(|&p| p == "mem")?;
            parts.get(at + 1)?.parse::<u64>().ok()
        })
        .map_or(0, |pages| pages * 4096)
}

/// Bytes in the kernel's per-socket slab caches (`TCP`, `sock_inode_cache`) from
/// `/proc/slabinfo` (root only; 0 otherwise).
fn socket_slab_bytes() -> u64 {
    let text = std::fs::read_to_string("/proc/slabinfo").unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let parts: Vec<&str> = l.split_whitespace().collect();
            if !matches!(parts.first(), Some(&"TCP" | &"sock_inode_cache")) {
                return None;
            }
            let active: u64 = parts.get(1)?.parse().ok()?;
            let size: u64 = parts.get(3)?.parse().ok()?;
            Some(active * size)
        })
        .sum()
}

fn raise_nofile() -> u64 {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut limit = getrlimit(Resource::Nofile);
    limit.current = limit.maximum;
    let _ = setrlimit(Resource::Nofile, limit);
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

/// Opens `count` streams numbered from 0 of this process.
fn open_streams(
    args: &Arc<Args>,
    shared: &Arc<Shared>,
    count: usize,
    proc_no: u8,
    stop: &Arc<tokio::sync::Notify>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let gate = Arc::new(Semaphore::new(args.connect_concurrency));
    (0..count)
        .map(|k| {
            tokio::spawn(run_stream(
                args.clone(),
                shared.clone(),
                source_addr(args.src_net, proc_no, k),
                gate.clone(),
                stop.clone(),
            ))
        })
        .collect()
}

fn share_of(total: usize, procs: usize, index: usize) -> usize {
    total / procs + usize::from(index < total % procs)
}

async fn run_child(args: Arc<Args>, proc_no: u8) {
    let count = share_of(args.connections, args.procs, proc_no as usize);
    let shared = Arc::new(Shared {
        totals: Totals::default(),
        hist: Mutex::new(Hist::new()),
        expect: 0,
    });
    let stop = Arc::new(tokio::sync::Notify::new());
    let tasks = open_streams(&args, &shared, count, proc_no, &stop);
    // Hold until the leader closes our stdin, or the hold time is up.
    let mut stdin = tokio::io::stdin();
    let mut sink = Vec::new();
    let _ = tokio::time::timeout(
        Duration::from_secs_f64(args.hold_secs.min(args.timeout_secs + 60.0)),
        stdin.read_to_end(&mut sink),
    )
    .await;
    let t = &shared.totals;
    println!(
        "{}",
        json!({
            "opened": t.opened.load(Ordering::Relaxed),
            "failed": t.failed.load(Ordering::Relaxed),
            "ended": t.ended.load(Ordering::Relaxed),
            "heartbeats": t.heartbeats.load(Ordering::Relaxed),
            "error": t.first_error.lock().unwrap().clone(),
        })
    );
    stop.notify_waiters();
    drop(tasks);
}

#[allow(clippy::too_many_lines)]
async fn run_leader(args: Arc<Args>) -> io::Result<Value> {
    let deadline = Instant::now() + Duration::from_secs_f64(args.timeout_secs);
    let stats = server_stats(args.addr).await?;
    let pid = stats["pid"]
        .as_u64()
        .ok_or_else(|| io::Error::other("no pid"))?;
    let published_before = stats["published"].as_u64().unwrap_or(0);
    let rss_base = rss_bytes(pid);
    let sock_base = tcp_mem_bytes();
    let slab_base = socket_slab_bytes();

    // Children first (idle holders), each its own process and file limit.
    let idle = args.messages == 0;
    let hold = args.idle_secs + 60.0;
    let mut children = Vec::new();
    if args.procs > 1 {
        let exe = std::env::current_exe()?;
        for i in 1..args.procs {
            let child = tokio::process::Command::new(&exe)
                .args(std::env::args().skip(1))
                .args(["--child", &i.to_string(), "--hold-secs", &hold.to_string()])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .kill_on_drop(true)
                .spawn()?;
            children.push(child);
        }
    }
    let own = share_of(args.connections, args.procs, 0);
    let shared = Arc::new(Shared {
        totals: Totals::default(),
        hist: Mutex::new(Hist::new()),
        expect: args.messages,
    });
    let stop = Arc::new(tokio::sync::Notify::new());
    let connect_start = Instant::now();
    let tasks = open_streams(&args, &shared, own, 0, &stop);

    // Wait until the server counts every stream (all processes), or the failures say it
    // never will.
    let totals = &shared.totals;
    let mut subscribers = 0;
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        if let Ok(s) = server_stats(args.addr).await {
            subscribers = s["subscribers"].as_u64().unwrap_or(0) as usize;
        }
        let settled =
            totals.opened.load(Ordering::Relaxed) + totals.failed.load(Ordering::Relaxed) >= own;
        if subscribers >= args.connections
            || Instant::now() > deadline
            || (settled && connect_start.elapsed() > Duration::from_secs(30))
        {
            break;
        }
    }
    let connect_s = connect_start.elapsed().as_secs_f64();
    // Let the connect burst's allocations settle into steady state.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let cpu0 = cpu_secs(&pid.to_string());
    let self_cpu0 = cpu_secs("self");
    let hb0 = totals.heartbeats.load(Ordering::Relaxed);
    let t0 = Instant::now();
    let publish_nanos = sse_bench::unix_nanos();
    let mut report = json!({});
    if idle {
        let until = (t0 + Duration::from_secs_f64(args.idle_secs)).min(deadline);
        tokio::time::sleep_until(until.into()).await;
    } else {
        http(
            args.addr,
            "POST",
            &format!(
                "/publish?n={}&size={}&rate={}",
                args.messages, args.size, args.rate
            ),
        )
        .await?;
        // Until every stream has every event, or progress stops for 5 s, or the deadline.
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
                break;
            }
        }
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let cpu = cpu_secs(&pid.to_string()) - cpu0;
    let self_cpu = cpu_secs("self") - self_cpu0;
    let rss_end = rss_bytes(pid);
    let sock_end = tcp_mem_bytes();
    let slab_end = socket_slab_bytes();
    let end_stats = server_stats(args.addr).await.unwrap_or(Value::Null);
    let subscribers_end = end_stats["subscribers"].as_u64().unwrap_or(0) as usize;
    let published = end_stats["published"].as_u64().unwrap_or(0) - published_before;
    stop.notify_waiters();

    // Children's counts.
    let mut child_opened = 0;
    let mut child_failed = 0;
    let mut child_ended = 0;
    let mut child_heartbeats = 0;
    let mut errors: Vec<String> = totals.first_error.lock().unwrap().iter().cloned().collect();
    for mut child in children {
        // Closing its stdin tells a child to report and exit.
        drop(child.stdin.take());
        let mut out = String::new();
        if let Some(mut stdout) = child.stdout.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), stdout.read_to_string(&mut out))
                .await;
        }
        let _ = child.start_kill();
        let _ = child.wait().await;
        if let Ok(v) = serde_json::from_str::<Value>(out.trim()) {
            child_opened += v["opened"].as_u64().unwrap_or(0);
            child_failed += v["failed"].as_u64().unwrap_or(0);
            child_ended += v["ended"].as_u64().unwrap_or(0);
            child_heartbeats += v["heartbeats"].as_u64().unwrap_or(0);
            if let Some(e) = v["error"].as_str() {
                errors.push(e.to_owned());
            }
        }
    }

    let connections = args.connections;
    let delivered = totals.events.load(Ordering::Relaxed);
    let hist = shared.hist.lock().unwrap().clone();
    let failed = totals.failed.load(Ordering::Relaxed) as u64 + child_failed;
    let per_conn = |bytes: u64, base: u64| {
        if subscribers > 0 {
            bytes.saturating_sub(base) as f64 / subscribers as f64
        } else {
            0.0
        }
    };
    let obj = report.as_object_mut().unwrap();
    obj.insert("server".into(), json!(args.server));
    obj.insert("scenario".into(), json!(args.scenario));
    obj.insert("tag".into(), json!(args.tag));
    obj.insert("connections".into(), json!(connections));
    obj.insert("subscribers_seen".into(), json!(subscribers));
    obj.insert("subscribers_end".into(), json!(subscribers_end));
    obj.insert("connect_s".into(), json!(connect_s));
    obj.insert("failed_connects".into(), json!(failed));
    obj.insert("rss_base_bytes".into(), json!(rss_base));
    obj.insert("rss_bytes".into(), json!(rss_end));
    obj.insert(
        "rss_per_conn_bytes".into(),
        json!(per_conn(rss_end, rss_base).round()),
    );
    obj.insert(
        "kernel_tcp_per_conn_bytes".into(),
        json!(per_conn(sock_end, sock_base).round()),
    );
    // Both ends of every stream live on this machine: half the growth is the server's.
    obj.insert(
        "kernel_slab_per_socket_bytes".into(),
        json!((per_conn(slab_end, slab_base) / 2.0).round()),
    );
    obj.insert("server_cpu_s".into(), json!(cpu));
    obj.insert("loadgen_cpu_s".into(), json!(self_cpu));
    obj.insert("duration_s".into(), json!(elapsed));
    if idle {
        let hb = totals.heartbeats.load(Ordering::Relaxed) - hb0;
        let streams_here = totals.opened.load(Ordering::Relaxed).max(1);
        obj.insert("heartbeat_cpu_pct".into(), json!(cpu / elapsed * 100.0));
        obj.insert(
            "heartbeats_per_stream_per_s".into(),
            json!(hb as f64 / streams_here as f64 / elapsed),
        );
        obj.insert("child_heartbeats".into(), json!(child_heartbeats));
        let lost = (connections.saturating_sub(subscribers_end) as u64)
            .max(totals.ended.load(Ordering::Relaxed) as u64 + child_ended + failed);
        obj.insert("lost".into(), json!(lost));
        obj.insert("delivered".into(), json!(0));
        obj.insert("delivered_per_s".into(), json!(0));
        obj.insert(
            "opened".into(),
            json!(totals.opened.load(Ordering::Relaxed) as u64 + child_opened),
        );
    } else {
        let last = totals.last_event_nanos.load(Ordering::Relaxed);
        let span = (last.saturating_sub(publish_nanos) as f64 / 1e9).max(1e-3);
        let expected = args.messages * own as u64;
        obj.insert("messages".into(), json!(args.messages));
        obj.insert("size".into(), json!(args.size));
        obj.insert("rate".into(), json!(args.rate));
        obj.insert("published".into(), json!(published));
        obj.insert("delivered".into(), json!(delivered));
        obj.insert(
            "delivered_per_s".into(),
            json!((delivered as f64 / span).round()),
        );
        obj.insert("lost".into(), json!(expected.saturating_sub(delivered)));
        obj.insert(
            "streams_ended_early".into(),
            json!(totals.ended.load(Ordering::Relaxed)),
        );
        obj.insert(
            "server_cpu_s_per_m_events".into(),
            json!(if delivered > 0 {
                cpu / delivered as f64 * 1e6
            } else {
                0.0
            }),
        );
        obj.insert("p50_ms".into(), json!(hist.quantile_ms(0.50)));
        obj.insert("p90_ms".into(), json!(hist.quantile_ms(0.90)));
        obj.insert("p99_ms".into(), json!(hist.quantile_ms(0.99)));
        obj.insert("p999_ms".into(), json!(hist.quantile_ms(0.999)));
        obj.insert("max_ms".into(), json!(hist.max as f64 / 1000.0));
    }
    obj.insert("errors".into(), json!(errors));
    drop(tasks);
    Ok(report)
}

fn main() -> std::process::ExitCode {
    let args = Arc::new(Args::parse());
    let nofile = raise_nofile();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("bench_loadgen: runtime: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    if let Some(proc_no) = args.child {
        runtime.block_on(run_child(args, proc_no));
        runtime.shutdown_timeout(Duration::from_millis(100));
        return std::process::ExitCode::SUCCESS;
    }
    if share_of(args.connections, args.procs, 0) as u64 + 16 > nofile {
        eprintln!("bench_loadgen: {nofile} open files is too few; use more --procs");
        return std::process::ExitCode::FAILURE;
    }
    let result = runtime.block_on(run_leader(args));
    runtime.shutdown_timeout(Duration::from_millis(100));
    match result {
        Ok(report) => {
            println!("{report}");
            std::process::ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("bench_loadgen: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}
