//! [`SseStream`]: a stream of events turned into the byte chunks of a response body, with an
//! optional leading `retry:`, heartbeats while idle, and an end on shutdown.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use futures_util::{stream, StreamExt};
//! use sse_core::{CancellationToken, Event, Heartbeat, SseStream};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let shutdown = CancellationToken::new();
//! let events = stream::iter([Event::data("a"), Event::data("b")]).chain(stream::pending());
//! let body = SseStream::new(events)
//!     .retry(Duration::from_secs(2))
//!     .heartbeat(Heartbeat::every(Duration::from_secs(15)))
//!     .shutdown(shutdown.clone(), Some(Event::builder().event("bye").data("").build().unwrap()));
//! let mut body = std::pin::pin!(body);
//!
//! // Events that are ready together are written as one chunk, after the leading retry.
//! let chunk = body.next().await.unwrap().unwrap();
//! assert_eq!(chunk, "retry: 2000\n\ndata: a\n\ndata: b\n\n");
//!
//! shutdown.cancel();
//! assert_eq!(body.next().await.unwrap().unwrap(), "event: bye\ndata:\n\n");
//! assert!(body.next().await.is_none());
//! # }
//! ```

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use pin_project_lite::pin_project;
use tokio_util::sync::WaitForCancellationFutureOwned;

use tokio_util::sync::CancellationToken;

use crate::heartbeat::HeartbeatTimer;
use crate::{Event, EventBatch, Heartbeat};

/// An item of an event stream: an [`Event`], an [`EventBatch`] (whole events already
/// joined), or a `Result` of either.
///
/// ```
/// use sse_core::{Event, TryEvent};
///
/// let ok: Result<Event, std::io::Error> = Ok(Event::data("x"));
/// assert_eq!(ok.try_into_batch().unwrap().as_bytes(), "data: x\n\n");
/// assert!(Event::data("x").try_into_batch().is_ok());
/// ```
pub trait TryEvent {
    /// The error an item can carry ([`Infallible`] for a plain [`Event`]).
    type Error;

    /// The item's whole events, or the error that ends the stream.
    ///
    /// # Errors
    ///
    /// The item's own error.
    fn try_into_batch(self) -> Result<EventBatch, Self::Error>;
}

impl TryEvent for Event {
    type Error = Infallible;

    fn try_into_batch(self) -> Result<EventBatch, Infallible> {
        Ok(self.into())
    }
}

impl TryEvent for EventBatch {
    type Error = Infallible;

    fn try_into_batch(self) -> Result<EventBatch, Infallible> {
        Ok(self)
    }
}

impl<E> TryEvent for Result<Event, E> {
    type Error = E;

    fn try_into_batch(self) -> Result<EventBatch, E> {
        self.map(EventBatch::from)
    }
}

impl<E> TryEvent for Result<EventBatch, E> {
    type Error = E;

    fn try_into_batch(self) -> Result<EventBatch, E> {
        self
    }
}

/// The default upper bound of one chunk when several ready events are joined: 64 KiB.
const DEFAULT_MAX_CHUNK: usize = 64 * 1024;

pin_project! {
    /// A stream of events (or `Result`s of events) written as byte chunks for a response
    /// body.
    ///
    /// See the [crate docs](crate) for an example. For a stream of `Result<Event, E>`, an `Err`
    /// ends the stream: the events that were ready before it are yielded first, then the
    /// error once, then `None`. Nothing after the error is polled, and no half event is
    /// ever written. The adapters of this toolkit log the error and end the response body
    /// normally, so the client sees a finished stream and reconnects with its
    /// `Last-Event-ID`.
    #[must_use = "streams do nothing unless polled"]
    pub struct SseStream<S>
    where
        S: Stream,
        S::Item: TryEvent,
    {
        #[pin]
        events: S,
        // Boxed: most streams have none, and every idle stream's bytes count.
        shutdown: Option<Pin<Box<Shutdown>>>,
        // The same timer sse-tower's and sse-actix's heartbeat bodies use.
        heartbeat: Option<HeartbeatTimer>,
        retry: Option<Duration>,
        error: Option<<S::Item as TryEvent>::Error>,
        max_chunk: usize,
        state: State,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Nothing written yet: the leading `retry:` (if any) goes first.
    Start,
    Streaming,
    Done,
}

pin_project! {
    /// The shutdown signal and the event to write when it fires.
    struct Shutdown {
        #[pin]
        signal: WaitForCancellationFutureOwned,
        last_event: Option<Event>,
    }
}

impl<S> SseStream<S>
where
    S: Stream,
    S::Item: TryEvent,
{
    /// Wraps a stream of events, with no heartbeat, no leading `retry:` and no shutdown.
    pub fn new(events: S) -> Self {
        Self {
            events,
            shutdown: None,
            heartbeat: None,
            retry: None,
            error: None,
            max_chunk: DEFAULT_MAX_CHUNK,
            state: State::Start,
        }
    }

    /// Writes `heartbeat` whenever the stream has been idle for its interval, so proxies and
    /// clients don't time the connection out. The timer restarts after every write.
    pub fn heartbeat(mut self, heartbeat: Heartbeat) -> Self {
        // The ticker is joined the first time the stream is idle (so this needs no runtime).
        self.heartbeat = Some(HeartbeatTimer::new(Some(&heartbeat)));
        self
    }

    /// Writes `retry:` first, which sets how long the client waits before reconnecting.
    pub fn retry(mut self, retry: Duration) -> Self {
        self.retry = Some(retry);
        self
    }

    /// Ends the stream when `token` is cancelled, after writing `last_event` if given (for
    /// example a `retry:` with jitter, so that clients don't all reconnect at once).
    pub fn shutdown(mut self, token: CancellationToken, last_event: Option<Event>) -> Self {
        self.shutdown = Some(Box::pin(Shutdown {
            signal: token.cancelled_owned(),
            last_event,
        }));
        self
    }

    /// Writes the options as a responder built on this stream prints them in its `Debug`
    /// impl: `name { stream: <the event stream's type>, heartbeat: .., retry: ..,
    /// shutdown: <whether a shutdown signal is set> }`. For the adapters' responders.
    #[doc(hidden)]
    pub fn fmt_options(&self, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(name)
            .field("stream", &format_args!("{}", std::any::type_name::<S>()))
            .field(
                "heartbeat",
                &self.heartbeat.as_ref().and_then(HeartbeatTimer::interval),
            )
            .field("retry", &self.retry)
            .field("shutdown", &self.shutdown.is_some())
            .finish()
    }

    /// Caps the size of a chunk that joins several ready events (64 KiB by default). A
    /// single event larger than this is still written whole, as one chunk.
    pub fn max_chunk(mut self, max_chunk: usize) -> Self {
        self.max_chunk = max_chunk;
        self
    }
}

impl<S> Stream for SseStream<S>
where
    S: Stream,
    S::Item: TryEvent,
{
    type Item = Result<Bytes, <S::Item as TryEvent>::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        if let Some(err) = this.error.take() {
            return Poll::Ready(Some(Err(err)));
        }
        if *this.state == State::Done {
            return Poll::Ready(None);
        }
        let leading = match *this.state {
            State::Start => {
                *this.state = State::Streaming;
                this.retry.map(|retry| Event::retry(retry).into_bytes())
            }
            _ => None,
        };
        if let Some(shutdown) = this.shutdown.as_mut() {
            let shutdown = shutdown.as_mut().project();
            if shutdown.signal.poll(cx).is_ready() {
                *this.state = State::Done;
                crate::stream_stats::note_close_reason(crate::CloseReason::Shutdown);
                let last = shutdown.last_event.take().map(Event::into_bytes);
                return Poll::Ready(join(leading, last).map(Ok));
            }
        }

        // Gather every event that is ready now into one chunk, up to max_chunk.
        let mut chunk = Chunk::new(leading);
        let mut error = None;
        while chunk.len() < *this.max_chunk {
            match this.events.as_mut().poll_next(cx) {
                Poll::Ready(Some(item)) => match item.try_into_batch() {
                    Ok(batch) => chunk.push(batch.into_bytes(), |size| {
                        // The events the stream holds ready, counted at this one's size.
                        let ready = this.events.size_hint().0;
                        size.saturating_mul(ready).min(*this.max_chunk)
                    }),
                    Err(err) => {
                        error = Some(err);
                        *this.state = State::Done;
                        break;
                    }
                },
                Poll::Ready(None) => {
                    *this.state = State::Done;
                    break;
                }
                Poll::Pending => break,
            }
        }
        if let Some(err) = error {
            return match chunk.finish() {
                // Write what came before the error; the error follows on the next poll.
                Some(bytes) => {
                    *this.error = Some(err);
                    Poll::Ready(Some(Ok(bytes)))
                }
                None => Poll::Ready(Some(Err(err))),
            };
        }
        if let Some(bytes) = chunk.finish() {
            if let Some(timer) = this.heartbeat.as_mut() {
                timer.on_data(&bytes);
            }
            return Poll::Ready(Some(Ok(bytes)));
        }
        if *this.state == State::Done {
            if let Some(timer) = this.heartbeat.as_mut() {
                timer.on_end();
            }
            return Poll::Ready(None);
        }

        // Idle: write a heartbeat once the interval has passed since the last write.
        match this.heartbeat.as_mut() {
            Some(timer) => timer.poll_heartbeat(cx).map(|beat| Some(Ok(beat))),
            None => Poll::Pending,
        }
    }
}

impl<S> fmt::Debug for SseStream<S>
where
    S: Stream,
    S::Item: TryEvent,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseStream")
            .field("events", &std::any::type_name::<S>())
            .field("heartbeat", &self.heartbeat)
            .field("max_chunk", &self.max_chunk)
            .finish_non_exhaustive()
    }
}

/// The toolkit's one policy for an error in the middle of a stream, which every adapter's
/// response body applies to each item it polls: an `Ok` item is passed on, an `Err` is logged
/// (with the `tracing` feature, at `warn`) and ends the stream cleanly, as its end does.
///
/// The client then sees a finished stream and reconnects with its `Last-Event-ID`; no half
/// event is written, since [`SseStream`] yields only whole events.
///
/// ```
/// use sse_core::__private::end_on_error;
///
/// assert_eq!(end_on_error(Some(Ok::<_, &str>(1))), Some(1));
/// assert_eq!(end_on_error(Some(Err::<u8, _>("boom"))), None);
/// assert_eq!(end_on_error(None::<Result<u8, &str>>), None);
/// ```
pub fn end_on_error<T, E: fmt::Display>(item: Option<Result<T, E>>) -> Option<T> {
    item?
        .map_err(|_err| {
            #[cfg(feature = "tracing")]
            tracing::warn!(error = %_err, "SSE stream failed; ending the response body cleanly");
        })
        .ok()
}

fn join(first: Option<Bytes>, second: Option<Bytes>) -> Option<Bytes> {
    let mut chunk = Chunk::new(first);
    if let Some(second) = second {
        chunk.push(second, |_| 0);
    }
    chunk.finish()
}

/// The most a joined chunk reserves ahead for the events its stream says are ready: one
/// allocation per chunk instead of one per doubling. Not the whole `max_chunk`: reserving
/// 64 KiB at once made 4 KiB events slower in the encode bench than growing in place
/// (BENCHMARKS.md, "Encoding").
const RESERVE_AHEAD: usize = 16 * 1024;

/// A chunk being gathered: one event stays zero-copy; two or more are copied into one buffer
/// (one write instead of many, which measured cheaper per event than chaining frames).
enum Chunk {
    Empty,
    One(Bytes),
    Many(BytesMut),
}

impl Chunk {
    fn new(first: Option<Bytes>) -> Self {
        first.map_or(Self::Empty, Self::One)
    }

    fn len(&self) -> usize {
        match self {
            Self::Empty => 0,
            Self::One(bytes) => bytes.len(),
            Self::Many(buf) => buf.len(),
        }
    }

    /// Adds `bytes`. `ahead` tells, from their size, how many bytes are likely to follow
    /// them; it is asked once, when the chunk starts joining.
    fn push(&mut self, bytes: Bytes, ahead: impl FnOnce(usize) -> usize) {
        match self {
            // The hot case first, in place: a busy stream joins many events per chunk.
            Self::Many(buf) => buf.extend_from_slice(&bytes),
            Self::One(first) => {
                let joined = first.len() + bytes.len();
                let ahead = ahead(bytes.len()).min(RESERVE_AHEAD);
                let mut buf = BytesMut::with_capacity(joined + ahead.max(joined));
                buf.extend_from_slice(first);
                buf.extend_from_slice(&bytes);
                *self = Self::Many(buf);
            }
            Self::Empty => *self = Self::One(bytes),
        }
    }

    fn finish(self) -> Option<Bytes> {
        match self {
            Self::Empty => None,
            Self::One(bytes) => Some(bytes),
            Self::Many(buf) => Some(buf.freeze()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::{stream, FutureExt, StreamExt};
    use tokio::sync::mpsc;
    use tokio::time::Instant;
    use tokio_stream_shim::Receiver;

    /// A tiny `Stream` over an mpsc receiver, so tests can feed events one at a time.
    mod tokio_stream_shim {
        use super::*;

        pub(super) struct Receiver<T>(pub(super) mpsc::UnboundedReceiver<T>);

        impl<T> Stream for Receiver<T> {
            type Item = T;
            fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
                self.0.poll_recv(cx)
            }
        }
    }

    fn channel() -> (mpsc::UnboundedSender<Event>, Receiver<Event>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (tx, Receiver(rx))
    }

    async fn next_bytes<S>(stream: &mut Pin<&mut SseStream<S>>) -> Option<Bytes>
    where
        S: Stream,
        S::Item: TryEvent,
        <S::Item as TryEvent>::Error: fmt::Debug,
    {
        stream.next().await.map(|r| r.unwrap())
    }

    #[tokio::test(start_paused = true)]
    async fn heartbeat_after_idle_interval() {
        let (_tx, rx) = channel();
        let body = SseStream::new(rx).heartbeat(Heartbeat::every(Duration::from_secs(10)));
        let mut body = std::pin::pin!(body);
        let start = Instant::now();
        assert_eq!(next_bytes(&mut body).await.unwrap(), ":\n");
        assert_eq!(start.elapsed(), Duration::from_secs(10));
        assert_eq!(next_bytes(&mut body).await.unwrap(), ":\n");
        assert_eq!(start.elapsed(), Duration::from_secs(20));
    }

    #[tokio::test(start_paused = true)]
    async fn no_heartbeat_while_events_flow() {
        let (tx, rx) = channel();
        let body = SseStream::new(rx).heartbeat(Heartbeat::every(Duration::from_secs(10)));
        let mut body = std::pin::pin!(body);
        let start = Instant::now();
        // An event every 6 s for a minute: never 10 s of silence, so never a heartbeat.
        for i in 0..10 {
            tokio::time::sleep(Duration::from_secs(6)).await;
            tx.send(Event::data(&i.to_string())).unwrap();
            let chunk = next_bytes(&mut body).await.unwrap();
            assert_eq!(chunk, format!("data: {i}\n\n"));
        }
        // Then silence: the heartbeat comes 10 s after the last event, not after the timer's
        // original deadline.
        let last = Instant::now();
        assert_eq!(next_bytes(&mut body).await.unwrap(), ":\n");
        assert_eq!(last.elapsed(), Duration::from_secs(10));
        assert_eq!(last - start, Duration::from_secs(60));
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_ends_the_stream_after_the_last_event() {
        let (_tx, rx) = channel();
        let token = CancellationToken::new();
        let body = SseStream::new(rx).heartbeat(Heartbeat::new()).shutdown(
            token.clone(),
            Some(Event::retry(Duration::from_millis(1234))),
        );
        let mut body = std::pin::pin!(body);
        assert!(body.next().now_or_never().is_none());
        token.cancel();
        assert_eq!(next_bytes(&mut body).await.unwrap(), "retry: 1234\n\n");
        assert!(body.next().await.is_none());
        // No heartbeat comes after the end, however long we wait.
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(body.next().await.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn stream_end_stops_heartbeats() {
        let events = stream::iter([Event::data("x")]);
        let body = SseStream::new(events).heartbeat(Heartbeat::new());
        let mut body = std::pin::pin!(body);
        assert_eq!(next_bytes(&mut body).await.unwrap(), "data: x\n\n");
        assert!(body.next().await.is_none());
        assert!(body.next().await.is_none());
    }

    #[tokio::test]
    async fn ready_events_are_joined_up_to_max_chunk() {
        let events = stream::iter((0..10).map(|i| Event::data(&i.to_string())));
        // Each event is 9 bytes; a cap of 20 lets three in (9, 18, then 27 >= 20 stops).
        let body = SseStream::new(events).max_chunk(20);
        let mut body = std::pin::pin!(body);
        assert_eq!(
            next_bytes(&mut body).await.unwrap(),
            "data: 0\n\ndata: 1\n\ndata: 2\n\n"
        );
        assert_eq!(
            next_bytes(&mut body).await.unwrap(),
            "data: 3\n\ndata: 4\n\ndata: 5\n\n"
        );
    }

    #[tokio::test]
    async fn error_item_ends_the_stream_after_earlier_events() {
        let items: Vec<Result<Event, &str>> =
            vec![Ok(Event::data("a")), Err("boom"), Ok(Event::data("never"))];
        let body = SseStream::new(stream::iter(items)).retry(Duration::from_secs(1));
        let mut body = std::pin::pin!(body);
        assert_eq!(
            body.next().await.unwrap().unwrap(),
            "retry: 1000\n\ndata: a\n\n"
        );
        assert_eq!(body.next().await.unwrap().unwrap_err(), "boom");
        assert!(body.next().await.is_none());
    }

    #[tokio::test]
    async fn single_event_chunk_is_not_copied() {
        let event = Event::data("zero-copy");
        let ptr = event.as_bytes().as_ptr();
        let body = SseStream::new(stream::iter([event]));
        let mut body = std::pin::pin!(body);
        assert_eq!(next_bytes(&mut body).await.unwrap().as_ptr(), ptr);
    }
}
