//! `bench_redis`: the Redis Streams backplane (sse-redis) against the in-memory hub and
//! against what users write today (Redis `PUBLISH`/`SUBSCRIBE` feeding a hub per node), in one
//! process, two "nodes" (two hubs) on one `redis-server`, in-process subscribers (no HTTP, so
//! the figures are the backplane's and the hub's, not a framework's).
//!
//! ```text
//! redis-server --port 6400 --save "" --appendonly no &
//! cargo run --release -p sse-bench --bin bench_redis -- --redis redis://127.0.0.1:6400/
//! ```
//!
//! It prints one JSON line per measurement and a markdown table (BENCHMARKS.md, "Many
//! nodes").

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::{FutureExt, StreamExt};
use serde_json::json;
use sse_bench::cpu_secs;
use sse_core::hub::{GapPolicy, Hub, HubConfig, Subscription};
use sse_core::Event;
use sse_redis::{RedisBackplane, RedisConfig};

#[derive(Debug, Parser)]
struct Args {
    /// The redis-server to use (its keys are prefixed per run).
    #[arg(long)]
    redis: String,
    /// Subscribers per node.
    #[arg(long, default_value_t = 1000)]
    subscribers: usize,
    /// Publish rates (events/s) of the latency runs.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
    rates: Vec<u64>,
    /// Seconds each latency run publishes.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Concurrent publishers of the throughput run (as many requests as a busy node serves
    /// at once: each waits for its round-trip, and the connection pipelines them).
    #[arg(long, default_value_t = 256)]
    publishers: usize,
}

/// Which way events travel from the publishing node to the reading node.
#[derive(Clone, Copy, Debug)]
enum Path {
    /// One hub; the publisher and the subscribers share it.
    InMemory,
    /// sse-redis: node A publishes, node B's reader delivers.
    Streams,
    /// `PUBLISH` on A, a `SUBSCRIBE`r on B feeding B's in-memory hub.
    PubSub,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let mut rows = Vec::new();
    for &rate in &args.rates {
        for path in [Path::InMemory, Path::Streams, Path::PubSub] {
            let row = latency_run(&args, path, rate).await;
            println!("{row}");
            rows.push(row);
        }
    }
    let throughput = publish_throughput(&args).await;
    println!("{throughput}");
    let moved_streams = moved_client(&args, Path::Streams).await;
    let moved_pubsub = moved_client(&args, Path::PubSub).await;
    println!("{moved_streams}\n{moved_pubsub}");

    println!("\n| path | rate (ev/s) | achieved | delivered | p50 ms | p99 ms | max ms | CPU s per million delivered |");
    println!("|---|---|---|---|---|---|---|---|");
    for row in &rows {
        println!(
            "| {} | {} | {:.0} | {} | {:.2} | {:.2} | {:.2} | {:.2} |",
            row["path"].as_str().unwrap_or_default(),
            row["rate"],
            row["published_per_s"].as_f64().unwrap_or_default(),
            row["delivered"],
            row["p50_ms"].as_f64().unwrap_or_default(),
            row["p99_ms"].as_f64().unwrap_or_default(),
            row["max_ms"].as_f64().unwrap_or_default(),
            row["cpu_s_per_million"].as_f64().unwrap_or_default(),
        );
    }
    println!(
        "\npublished from one node: {:.0} events/s ({} publishers)",
        throughput["events_per_s"].as_f64().unwrap_or_default(),
        args.publishers
    );
    println!(
        "client moved to the other node after 50 of 100 events: lost {} (Streams), {} (Pub/Sub)",
        moved_streams["lost"], moved_pubsub["lost"]
    );
}

/// The two nodes of a run: where to publish and where the measured subscribers read.
struct Nodes {
    publish: Hub,
    read: Hub,
    /// PUBLISH connection and channel (Pub/Sub only).
    pubsub: Option<(redis::aio::MultiplexedConnection, String)>,
    _keep: Vec<Box<dyn std::any::Any + Send + Sync>>,
}

impl Nodes {
    async fn publish(&self, event: Event) {
        match &self.pubsub {
            Some((conn, channel)) => {
                let _: Result<(), _> = redis::cmd("PUBLISH")
                    .arg(channel)
                    .arg(event.as_bytes().as_ref())
                    .query_async(&mut conn.clone())
                    .await;
            }
            None => {
                let _ = self.publish.publish("bench", event).await;
            }
        }
    }
}

async fn nodes(args: &Args, path: Path, run: &str, gap_policy: GapPolicy) -> Nodes {
    let hub_config = HubConfig::new()
        .replay_capacity(100_000)
        .replay_bytes(64 << 20)
        .queue_bound(100_000)
        .gap_policy(gap_policy);
    let prefix = format!("bench-{}-{run}", std::process::id());
    match path {
        Path::InMemory => {
            let hub = Hub::new(hub_config);
            Nodes {
                publish: hub.clone(),
                read: hub,
                pubsub: None,
                _keep: Vec::new(),
            }
        }
        Path::Streams => {
            let mut hubs = Vec::new();
            for _ in 0..2 {
                let config = RedisConfig::new(&args.redis)
                    .key_prefix(prefix.clone())
                    .replay_capacity(100_000);
                let backplane = RedisBackplane::connect(config).await.expect("redis");
                let hub = Hub::with_backplane(hub_config.clone(), backplane.clone());
                backplane.wait_connected().await;
                hubs.push(hub);
            }
            let read = hubs.pop().unwrap();
            Nodes {
                publish: hubs.pop().unwrap(),
                read,
                pubsub: None,
                _keep: Vec::new(),
            }
        }
        Path::PubSub => {
            let client = redis::Client::open(args.redis.as_str()).expect("redis url");
            let channel = format!("{prefix}:channel");
            // Each node: a SUBSCRIBEr feeding its own in-memory hub, as users write it today.
            let mut hubs = Vec::new();
            let mut keep: Vec<Box<dyn std::any::Any + Send + Sync>> = Vec::new();
            for _ in 0..2 {
                let hub = Hub::new(hub_config.clone());
                let mut pubsub = client.get_async_pubsub().await.expect("redis");
                pubsub.subscribe(&channel).await.expect("subscribe");
                let feed = hub.clone();
                let task = tokio::spawn(async move {
                    let mut messages = pubsub.into_on_message();
                    while let Some(message) = messages.next().await {
                        let data = String::from_utf8_lossy(message.get_payload_bytes());
                        let data = data.strip_prefix("data: ").unwrap_or(&data).trim_end();
                        let _ = feed.publish("bench", Event::data(data)).now_or_never();
                    }
                });
                keep.push(Box::new(AbortOnDrop(task)));
                hubs.push(hub);
            }
            let conn = client
                .get_multiplexed_async_connection()
                .await
                .expect("redis");
            let read = hubs.pop().unwrap();
            Nodes {
                publish: hubs.pop().unwrap(),
                read,
                pubsub: Some((conn, channel)),
                _keep: keep,
            }
        }
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Publishes `rate` events/s for `seconds` on one node; `subscribers` on the other record each
/// event's latency (its data is the publish time). CPU is the whole process's.
async fn latency_run(args: &Args, path: Path, rate: u64) -> serde_json::Value {
    let run = format!("latency-{rate}-{path:?}");
    let nodes = Arc::new(nodes(args, path, &run, GapPolicy::Replay).await);
    let t0 = Instant::now();
    let total = rate * args.seconds;
    let delivered = Arc::new(AtomicU64::new(0));
    let readers: Vec<_> = (0..args.subscribers)
        .map(|_| {
            let sub = nodes.read.subscribe(["bench"], None);
            tokio::spawn(read_latencies(sub, t0, total, delivered.clone()))
        })
        .collect();
    let cpu_before = cpu_secs("self");
    // Publish in ticks of 1 ms: `rate / 1000` events per tick (at least one per tick). Each
    // publish is a task of its own, as concurrent requests to a node are: a round-trip to
    // Redis does not hold back the next event.
    let per_tick = (rate / 1000).max(1);
    let mut tick = tokio::time::interval(Duration::from_millis(1000 * per_tick / rate));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut sent = 0;
    let mut publishes = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    while sent < total {
        tick.tick().await;
        for _ in 0..per_tick.min(total - sent) {
            let nodes = nodes.clone();
            let at = t0.elapsed().as_nanos();
            publishes.push(tokio::spawn(async move {
                nodes.publish(Event::data(&at.to_string())).await;
            }));
            sent += 1;
        }
    }
    let publish_secs = t0.elapsed().as_secs_f64();
    for publish in publishes {
        let _ = publish.await;
    }
    let mut latencies = Vec::new();
    for reader in readers {
        if let Ok(Ok(mut got)) = tokio::time::timeout(Duration::from_secs(30), reader).await {
            latencies.append(&mut got);
        }
    }
    let cpu = cpu_secs("self") - cpu_before;
    latencies.sort_unstable();
    let delivered = delivered.load(Ordering::Relaxed);
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |&us| f64::from(us) / 1000.0)
    };
    json!({
        "bench": "latency",
        "path": format!("{path:?}"),
        "rate": rate,
        "subscribers": args.subscribers,
        "published": total,
        "published_per_s": total as f64 / publish_secs,
        "delivered": delivered,
        "p50_ms": at(0.50),
        "p99_ms": at(0.99),
        "max_ms": latencies.last().map_or(0.0, |&us| f64::from(us) / 1000.0),
        "cpu_s": cpu,
        "cpu_s_per_million": cpu / (delivered.max(1) as f64) * 1e6,
    })
}

/// Reads until `total` events arrived (or 30 s of silence), recording latencies in µs.
async fn read_latencies(
    mut sub: Subscription,
    t0: Instant,
    total: u64,
    delivered: Arc<AtomicU64>,
) -> Vec<u32> {
    let mut latencies = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    while (latencies.len() as u64) < total {
        let Ok(Some(event)) = tokio::time::timeout(Duration::from_secs(30), sub.next()).await
        else {
            break;
        };
        let now = t0.elapsed().as_nanos();
        let text = std::str::from_utf8(event.as_bytes()).unwrap_or_default();
        let Some(sent) = text
            .lines()
            .find_map(|line| line.strip_prefix("data: "))
            .and_then(|data| data.parse::<u128>().ok())
        else {
            continue; // a gap event
        };
        latencies.push(u32::try_from(now.saturating_sub(sent) / 1000).unwrap_or(u32::MAX));
        delivered.fetch_add(1, Ordering::Relaxed);
    }
    latencies
}

/// `publishers` tasks publish on one node for `seconds`: how many events Redis took.
async fn publish_throughput(args: &Args) -> serde_json::Value {
    let nodes = nodes(args, Path::Streams, "throughput", GapPolicy::Replay).await;
    let hub = nodes.publish.clone();
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let published = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..args.publishers)
        .map(|_| {
            let (hub, published) = (hub.clone(), published.clone());
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    if hub.publish("bench", Event::data("x")).await.is_ok() {
                        published.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        let _ = task.await;
    }
    let published = published.load(Ordering::Relaxed);
    json!({
        "bench": "publish_throughput",
        "publishers": args.publishers,
        "published": published,
        "events_per_s": published as f64 / started.elapsed().as_secs_f64(),
    })
}

/// A client reads 50 of 100 events (published at 1 000/s) on the publishing node, goes away
/// for 100 ms, and comes back to the other node with its Last-Event-ID: how many events it
/// never got.
async fn moved_client(args: &Args, path: Path) -> serde_json::Value {
    // Pub/Sub nodes have ids of their own: a resume on another node can only start live.
    let policy = match path {
        Path::PubSub => GapPolicy::LiveOnly,
        _ => GapPolicy::Replay,
    };
    let nodes = nodes(args, path, "moved", policy).await;
    let mut on_first = nodes.publish.subscribe(["bench"], None);
    let publisher = {
        let nodes = Arc::new(nodes);
        let publishing = nodes.clone();
        let task = tokio::spawn(async move {
            for i in 0..100 {
                publishing.publish(Event::data(&i.to_string())).await;
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        });
        (nodes, task)
    };
    let mut got = std::collections::BTreeSet::new();
    let mut last_id = None;
    while got.len() < 50 {
        let event = on_first.next().await.expect("first node");
        last_id = event.id().map(str::to_owned);
        got.insert(data_of(&event));
    }
    drop(on_first);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (nodes, task) = publisher;
    let mut on_second = nodes.read.subscribe(["bench"], last_id.as_deref());
    while let Ok(Some(event)) = tokio::time::timeout(Duration::from_secs(2), on_second.next()).await
    {
        let data = data_of(&event);
        if !data.is_empty() {
            got.insert(data);
        }
    }
    let _ = task.await;
    json!({
        "bench": "moved_client",
        "path": format!("{path:?}"),
        "published": 100,
        "received": got.len(),
        "lost": 100 - got.len(),
    })
}

fn data_of(event: &Event) -> String {
    let text = std::str::from_utf8(event.as_bytes()).unwrap_or_default();
    if text.starts_with("event: ") {
        return String::new(); // a gap event
    }
    text.lines()
        .find_map(|line| line.strip_prefix("data: "))
        .unwrap_or_default()
        .to_owned()
}
