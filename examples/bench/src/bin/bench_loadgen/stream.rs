//! One SSE stream of the load: open it over raw TCP, read and count its events and
//! heartbeats, and hold it until the leader says stop.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::{Buf, BytesMut};
use sse_core::parse::{Decoder, Frame};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{Notify, Semaphore};

use crate::hist::Hist;
use crate::http::Dechunker;
use crate::Args;

/// Streams per source address (the ephemeral port range holds ~28 000).
const PER_SOURCE: usize = 20_000;

/// Latencies are recorded into the shared histogram in batches of this many, so streams
/// rarely contend for its lock.
const BATCH: usize = 1024;

/// What every stream of this process adds to.
#[derive(Debug, Default)]
pub(crate) struct Totals {
    pub(crate) opened: AtomicUsize,
    pub(crate) failed: AtomicUsize,
    pub(crate) ended: AtomicUsize,
    pub(crate) complete: AtomicUsize,
    pub(crate) events: AtomicU64,
    pub(crate) heartbeats: AtomicU64,
    pub(crate) last_event_nanos: AtomicU64,
    pub(crate) first_error: Mutex<Option<String>>,
}

impl Totals {
    /// Keeps the first error of any stream, for the report.
    fn error(&self, err: impl ToString) {
        self.first_error
            .lock()
            .unwrap()
            .get_or_insert_with(|| err.to_string());
    }

    /// Reads a counter.
    pub(crate) fn get(counter: &AtomicUsize) -> u64 {
        counter.load(Ordering::Relaxed) as u64
    }
}

/// The state the streams of this process share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) totals: Totals,
    pub(crate) hist: Mutex<Hist>,
    /// Events each stream waits for before it counts as complete (0: hold idle).
    pub(crate) expect: u64,
}

impl Shared {
    pub(crate) fn new(expect: u64) -> Self {
        Self {
            totals: Totals::default(),
            hist: Mutex::new(Hist::new()),
            expect,
        }
    }

    fn record(&self, batch: &mut Vec<u64>) {
        let mut hist = self.hist.lock().unwrap();
        for v in batch.drain(..) {
            hist.record(v);
        }
    }
}

/// Opens `count` streams numbered from 0 of this process.
pub(crate) fn open_streams(
    args: &Arc<Args>,
    shared: &Arc<Shared>,
    count: usize,
    proc_no: u8,
    stop: &Arc<Notify>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let gate = Arc::new(Semaphore::new(args.connect_concurrency));
    (0..count)
        .map(|k| {
            tokio::spawn(run_stream(
                args.addr,
                shared.clone(),
                source_addr(args.src_net, proc_no, k),
                gate.clone(),
                stop.clone(),
            ))
        })
        .collect()
}

fn source_addr(net: u8, proc_no: u8, k: usize) -> SocketAddr {
    let host = 2 + (k / PER_SOURCE) as u8;
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, net, proc_no, host)), 0)
}

/// An open event stream: the socket, the bytes read past the response head, and whether
/// the body is chunked.
struct Opened {
    stream: TcpStream,
    input: BytesMut,
    chunked: bool,
}

/// Connects from `src`, sends `GET /events` and reads the response head (a 200 or an error).
async fn open(addr: SocketAddr, src: SocketAddr) -> io::Result<Opened> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(src)?;
    let mut stream = socket.connect(addr).await?;
    let request =
        format!("GET /events HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut input = BytesMut::with_capacity(4096);
    let head_end = loop {
        if let Some(pos) = input.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        if stream.read_buf(&mut input).await? == 0 || input.len() > 16 * 1024 {
            return Err(io::Error::other("no response head"));
        }
    };
    let head = String::from_utf8_lossy(&input[..head_end]).to_ascii_lowercase();
    if !head.starts_with("http/1.1 200") {
        let status = head.lines().next().unwrap_or("");
        return Err(io::Error::other(format!("status {status:?}")));
    }
    let chunked = head.contains("transfer-encoding: chunked");
    input.advance(head_end);
    Ok(Opened {
        stream,
        input,
        chunked,
    })
}

/// Turns the bytes of one stream into counted events and heartbeats.
#[derive(Default)]
struct Reader {
    chunked: bool,
    dechunker: Dechunker,
    body: BytesMut,
    decoder: Decoder,
    events: u64,
    /// Latencies in microseconds not yet in the shared histogram.
    batch: Vec<u64>,
}

impl Reader {
    /// Decodes what `input` holds; returns `false` once the stream is broken or its body
    /// ended.
    fn absorb(&mut self, input: &mut BytesMut, shared: &Shared) -> bool {
        let totals = &shared.totals;
        let mut healthy = true;
        if self.chunked {
            if let Err(err) = self.dechunker.feed(input, &mut self.body) {
                totals.error(err);
                healthy = false;
            }
        } else {
            self.body.extend_from_slice(&input.split());
        }
        let now = sse_bench::unix_nanos();
        let before = self.events;
        loop {
            match self.decoder.decode(&mut self.body) {
                Ok(Some(Frame::Event(message))) => {
                    if let Some(sent) = sse_bench::payload_nanos(&message.data) {
                        self.events += 1;
                        self.batch.push(now.saturating_sub(sent) / 1000);
                    }
                }
                Ok(Some(Frame::Comment(_))) => {
                    totals.heartbeats.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(err) => {
                    totals.error(err);
                    healthy = false;
                    break;
                }
            }
        }
        if self.events > before {
            totals
                .events
                .fetch_add(self.events - before, Ordering::Relaxed);
            totals.last_event_nanos.fetch_max(now, Ordering::Relaxed);
            if self.batch.len() >= BATCH || self.events >= shared.expect {
                shared.record(&mut self.batch);
            }
        }
        healthy && !self.dechunker.done
    }
}

/// Opens one stream and reads it until it ends, `shared.expect` events came, or `stop`.
async fn run_stream(
    addr: SocketAddr,
    shared: Arc<Shared>,
    src: SocketAddr,
    gate: Arc<Semaphore>,
    stop: Arc<Notify>,
) {
    let totals = &shared.totals;
    let permit = gate.acquire().await;
    let opened = open(addr, src).await;
    drop(permit);
    let Opened {
        mut stream,
        mut input,
        chunked,
    } = match opened {
        Ok(opened) => opened,
        Err(err) => {
            totals.failed.fetch_add(1, Ordering::Relaxed);
            totals.error(err);
            return;
        }
    };
    totals.opened.fetch_add(1, Ordering::Relaxed);

    let mut reader = Reader {
        chunked,
        ..Reader::default()
    };
    let mut ended = false;
    let stopped = stop.notified();
    tokio::pin!(stopped);
    loop {
        ended |= !reader.absorb(&mut input, &shared);
        if shared.expect > 0 && reader.events >= shared.expect {
            totals.complete.fetch_add(1, Ordering::Relaxed);
            break;
        }
        if ended {
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
    if !reader.batch.is_empty() {
        shared.record(&mut reader.batch);
    }
    // Hold the stream until told to stop, so the server's count stays put.
    if !ended && shared.expect > 0 {
        stopped.await;
    }
}
