//! `bench_floor`: what fan-out costs on this machine with nothing but hyper 1: a bare HTTP/1
//! connection per client (`hyper::server::conn::http1`, no framework, no middleware) and a
//! minimal ring hub (one mutex, a ring of encoded events, a list of wakers). It is the
//! reference the issue-15 aims are measured against ("CPU per event within 5 % of bare
//! hyper"), not something to serve with: no topics, no replay by id, no limits, no
//! shutdown.
//!
//! With `--framework actix` the same ring is served by actix-web's `HttpServer` instead (the
//! stream is its own `MessageBody`, no SSE module, no middleware): what actix-web's server
//! itself costs per event, against which `bench_ours --framework actix` can be told apart
//! from its server (`scripts/bench` names it `floor-actix`).
//!
//! ```text
//! cargo run --release -p sse-bench --bin bench_floor -- --addr 127.0.0.1:4000 --heartbeat-ms 1000
//! cargo run --release -p sse-bench --bin bench_floor -- --framework actix
//! ```
//!
//! It does the same work per event as `bench_ours`, as cheaply as it can be done: each
//! message is encoded once (`id: N`, `data: …`) into shared `Bytes`; a publish appends it
//! under the lock, takes the wakers out and wakes them after unlocking; a woken stream
//! copies out every event it has not sent (up to 64) under one lock and hands them to hyper
//! as one frame (a single event as it is, several joined, as `SseStream` does). A subscriber that falls a whole ring behind
//! skips ahead. Heartbeats come from one shared ticker that bumps a counter and wakes
//! every stream, which then sends a comment if it had nothing else to send.
//!
//! Routes: `GET /events`, `POST /publish?n=&size=&rate=`, `GET /stats` (see `scripts/bench`).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use actix_web::body::{BodySize, MessageBody};
use bytes::{Bytes, BytesMut};
use clap::Parser;
use http::{header, Method, Request, Response, StatusCode};
use http_body::{Body, Frame};
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use sse_bench::{PublishParams, ServerArgs};

/// The events a stream copies out under one lock, at most.
const BATCH: usize = 64;

/// The ring: the last `capacity` encoded events, and the wakers of the streams that are
/// waiting for the next one.
struct Ring {
    state: Mutex<RingState>,
    capacity: usize,
    subscribers: AtomicU64,
    published: Arc<AtomicU64>,
}

struct RingState {
    events: VecDeque<Bytes>,
    /// The sequence number of the next event; `events` holds those just before it.
    next_seq: u64,
    /// How many heartbeat ticks there have been.
    ticks: u64,
    waiting: Vec<Waker>,
}

impl Ring {
    fn new(capacity: usize) -> Self {
        Self {
            state: Mutex::new(RingState {
                events: VecDeque::with_capacity(capacity),
                next_seq: 0,
                ticks: 0,
                waiting: Vec::new(),
            }),
            capacity,
            subscribers: AtomicU64::new(0),
            published: Arc::new(AtomicU64::new(0)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, RingState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Appends one event, encoded once, and wakes every waiting stream outside the lock.
    fn publish(&self, data: &str) {
        let waiting = {
            let mut state = self.lock();
            let frame = Bytes::from(format!("id: {}\ndata: {data}\n\n", state.next_seq));
            if state.events.len() == self.capacity {
                state.events.pop_front();
            }
            state.events.push_back(frame);
            state.next_seq += 1;
            std::mem::take(&mut state.waiting)
        };
        waiting.into_iter().for_each(Waker::wake);
    }

    /// One heartbeat tick: every waiting stream wakes and sends a comment.
    fn tick(&self) {
        let waiting = {
            let mut state = self.lock();
            state.ticks += 1;
            std::mem::take(&mut state.waiting)
        };
        waiting.into_iter().for_each(Waker::wake);
    }

    /// Spawns the publisher `POST /publish?{query}` asks for, on the calling runtime.
    fn start_publisher(self: &Arc<Self>, query: &str) {
        let params = PublishParams::from_query(query);
        let ring = self.clone();
        tokio::spawn(sse_bench::run_publisher(
            params,
            self.published.clone(),
            move |data| ring.publish(&data),
        ));
    }

    /// The body of `GET /stats`.
    fn stats(&self) -> String {
        sse_bench::stats_json(
            self.subscribers.load(Ordering::Relaxed) as usize,
            self.published.load(Ordering::Relaxed),
        )
    }

    /// The shared heartbeat ticker.
    async fn tick_every(self: Arc<Self>, interval: Duration) {
        let mut ticker = tokio::time::interval(interval);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            self.tick();
        }
    }
}

/// One client's stream: a cursor into the ring and the events copied out of it.
struct Stream {
    ring: Arc<Ring>,
    next_seq: u64,
    ticks: u64,
    /// `(next_seq, ticks)` when this stream's waker went into the list: it is still there
    /// until the ring moves on, so a spurious poll doesn't add it twice.
    waiting_at: Option<(u64, u64)>,
    out: VecDeque<Bytes>,
}

impl Stream {
    fn new(ring: Arc<Ring>) -> Self {
        ring.subscribers.fetch_add(1, Ordering::Relaxed);
        let (next_seq, ticks) = {
            let state = ring.lock();
            (state.next_seq, state.ticks)
        };
        Self {
            ring,
            next_seq,
            ticks,
            waiting_at: None,
            out: VecDeque::with_capacity(BATCH),
        }
    }

    /// Copies the events not yet sent (at most `BATCH`) out of the ring, or a heartbeat
    /// comment if a tick passed with nothing to send, or parks the waker.
    fn fill(&mut self, waker: &Waker) -> Poll<()> {
        let mut state = self.ring.lock();
        let first_seq = state.next_seq - state.events.len() as u64;
        // A whole ring behind: skip to its oldest event.
        self.next_seq = self.next_seq.max(first_seq);
        if self.next_seq < state.next_seq {
            let from = (self.next_seq - first_seq) as usize;
            let to = state.events.len().min(from + BATCH);
            self.out.extend(state.events.range(from..to).cloned());
            self.next_seq = first_seq + to as u64;
            self.ticks = state.ticks;
            self.waiting_at = None;
            return Poll::Ready(());
        }
        if self.ticks != state.ticks {
            self.ticks = state.ticks;
            self.out.push_back(Bytes::from_static(b":\n\n"));
            self.waiting_at = None;
            return Poll::Ready(());
        }
        if self.waiting_at != Some((state.next_seq, state.ticks)) {
            state.waiting.push(waker.clone());
            self.waiting_at = Some((state.next_seq, state.ticks));
        }
        Poll::Pending
    }

    /// The next chunk to write: the events copied out, or a heartbeat comment.
    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Bytes> {
        if self.out.is_empty() && self.fill(cx.waker()).is_pending() {
            return Poll::Pending;
        }
        // One event goes as it is; several are joined into one chunk, which costs a copy
        // but one chunk header and one iovec instead of one each (cheaper per event, as
        // `SseStream` found).
        Poll::Ready(if self.out.len() == 1 {
            self.out.pop_front().unwrap_or_default()
        } else {
            let len = self.out.iter().map(Bytes::len).sum();
            let mut joined = BytesMut::with_capacity(len);
            self.out
                .drain(..)
                .for_each(|bytes| joined.extend_from_slice(&bytes));
            joined.freeze()
        })
    }
}

impl Body for Stream {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.get_mut()
            .poll_chunk(cx)
            .map(|chunk| Some(Ok(Frame::data(chunk))))
    }
}

impl MessageBody for Stream {
    type Error = Infallible;

    fn size(&self) -> BodySize {
        BodySize::Stream
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Infallible>>> {
        self.get_mut().poll_chunk(cx).map(|chunk| Some(Ok(chunk)))
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.ring.subscribers.fetch_sub(1, Ordering::Relaxed);
    }
}

type ResponseBody = UnsyncBoxBody<Bytes, Infallible>;

fn text(status: StatusCode, body: String) -> Response<ResponseBody> {
    let mut response = Response::new(Full::new(Bytes::from(body)).boxed_unsync());
    *response.status_mut() = status;
    response
}

async fn route(ring: Arc<Ring>, request: Request<Incoming>) -> Response<ResponseBody> {
    match (request.method(), request.uri().path()) {
        (&Method::GET, "/events") => {
            let mut response = Response::new(Stream::new(ring).boxed_unsync());
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                http::HeaderValue::from_static("text/event-stream"),
            );
            headers.insert(
                header::CACHE_CONTROL,
                http::HeaderValue::from_static("no-cache"),
            );
            response
        }
        (&Method::POST, "/publish") => {
            ring.start_publisher(request.uri().query().unwrap_or(""));
            text(StatusCode::OK, "started\n".into())
        }
        (&Method::GET, "/stats") => text(StatusCode::OK, ring.stats()),
        _ => text(StatusCode::NOT_FOUND, "not found\n".into()),
    }
}

async fn serve_hyper(args: ServerArgs, ring: Arc<Ring>) -> std::io::Result<()> {
    sse_bench::watch_runtime();
    tokio::spawn(ring.clone().tick_every(args.heartbeat()));
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    sse_bench::announce_listening(args.addr, listener.local_addr()?);
    loop {
        let Ok((socket, _)) = listener.accept().await else {
            // Out of file descriptors, most likely: give the closing sockets a moment.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let ring = ring.clone();
        let service = hyper::service::service_fn(move |request| {
            let ring = ring.clone();
            async move { Ok::<_, Infallible>(route(ring, request).await) }
        });
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(socket), service)
                .await;
        });
    }
}

/// The same ring served by actix-web's `HttpServer` as `bench_ours --framework actix` is
/// (same backlog, same half-close setting), with nothing of actix-web's but its router.
fn serve_actix(args: ServerArgs, ring: Arc<Ring>) -> std::io::Result<()> {
    use actix_web::{web, App, HttpRequest, HttpResponse};

    actix_web::rt::System::new().block_on(async move {
        // On the system thread, beside the workers, as the hyper floor's is beside its
        // connections.
        actix_web::rt::spawn(ring.clone().tick_every(args.heartbeat()));
        let ring = web::Data::from(ring);
        sse_bench::serve_actix(args.addr, move || {
            // Runs on each worker: every worker is a runtime of its own.
            sse_bench::watch_runtime();
            App::new()
                .app_data(ring.clone())
                .route(
                    "/events",
                    web::get().to(|ring: web::Data<Ring>| async move {
                        HttpResponse::Ok()
                            .content_type("text/event-stream")
                            .insert_header(("cache-control", "no-cache"))
                            .body(Stream::new(ring.into_inner()))
                    }),
                )
                .route(
                    "/publish",
                    web::post().to(|ring: web::Data<Ring>, req: HttpRequest| async move {
                        ring.into_inner().start_publisher(req.query_string());
                        "started\n"
                    }),
                )
                .route(
                    "/stats",
                    web::get().to(|ring: web::Data<Ring>| async move { ring.stats() }),
                )
        })
        .await
    })
}

fn main() -> std::io::Result<()> {
    let args = ServerArgs::parse();
    let ring = Arc::new(Ring::new(args.capacity.max(1)));
    match args.framework.as_str() {
        "actix" => serve_actix(args, ring),
        // `axum` is `--framework`'s default: the floor then serves with hyper alone.
        "hyper" | "axum" => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(serve_hyper(args, ring)),
        other => Err(std::io::Error::other(format!(
            "unknown framework {other:?} (hyper or actix)"
        ))),
    }
}
