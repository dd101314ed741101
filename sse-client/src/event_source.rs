//! [`EventSource`]: a stream of events from one URL, reconnecting as the WHATWG rules say.

use std::{
    fmt,
    future::Future,
    mem,
    pin::Pin,
    task::{Context, Poll},
    time::{Duration, SystemTime},
};

use futures_core::{FusedStream, Stream};
use reqwest::{
    header::{HeaderName, HeaderValue, ACCEPT, CACHE_CONTROL, CONTENT_TYPE},
    Client, Request, Response, StatusCode,
};
use tokio::time::Instant;
use tracing::{debug, debug_span, Instrument, Span};

use crate::{
    backoff, reader::EventReader, retry_after, Config, Error, Item, Opened, Stats, StatusError,
};

const LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");

/// A stream of the events of one URL that reconnects, resuming with `Last-Event-ID`, the
/// way a browser's [`EventSource`](https://developer.mozilla.org/en-US/docs/Web/API/EventSource)
/// does, with the backoff, timeouts and limits a service needs. See the
/// [crate docs](crate).
///
/// It yields `Ok(`[`Item::Open`]`)` for each accepted connection, `Ok(`[`Item::Event`]`)`
/// for each event, and `Err(`[`Error`]`)` for each failed or ended connection. The stream
/// goes on after an error unless [`Error::is_final`] says otherwise; it ends without an
/// error when the server answers `204 No Content`, which the spec defines as "stop".
///
/// It connects on the first poll. Dropping it drops the response being read, which closes
/// the connection: nothing keeps running in the background.
///
/// ```no_run
/// use futures_util::StreamExt;
/// use sse_client::{EventSource, Item};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = reqwest::Client::new();
/// let request = client.get("http://127.0.0.1:3000/events").build()?;
/// let mut events = EventSource::new(client, request);
/// while let Some(item) = events.next().await {
///     match item {
///         Ok(Item::Event(event)) => println!("{}: {}", event.event, event.data),
///         Ok(_) => {}
///         Err(err) if err.is_final() => return Err(err.into()),
///         Err(err) => eprintln!("reconnecting: {err}"),
///     }
/// }
/// # Ok(())
/// # }
/// ```
pub struct EventSource {
    progress: Progress,
    stats: Stats,
}

/// Where an [`EventSource`] stands between two polls.
enum Progress {
    /// Nothing in flight: the next event may already be decoded from the last chunk, which
    /// is taken without building a future (the common case on a busy stream).
    Idle(Box<Driver>),
    /// Connecting, waiting to reconnect or reading the body; the step hands the driver back.
    Busy(Step),
    /// Ended: the client and the response are released at once.
    Ended,
}

type Step = Pin<Box<dyn Future<Output = (Box<Driver>, Option<Result<Item, Error>>)> + Send>>;

impl EventSource {
    /// An event source that sends `request` (usually a `GET`) with `client`, with the
    /// default [`Config`].
    ///
    /// # Panics
    ///
    /// If the request has a streaming body, which can't be sent again on a reconnect.
    ///
    /// ```no_run
    /// # fn run() -> Result<(), reqwest::Error> {
    /// let client = reqwest::Client::new();
    /// let request = client.get("http://127.0.0.1:3000/events").bearer_auth("token").build()?;
    /// let events = sse_client::EventSource::new(client, request);
    /// # let _ = events;
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn new(client: Client, request: Request) -> Self {
        Self::with_config(client, request, Config::new())
    }

    /// An event source with the given [`Config`]. The first request carries
    /// [`Config::last_event_id`] or, if that is empty, the request's own `Last-Event-ID`
    /// header; later requests carry the id of the last event received.
    ///
    /// The `Accept: text/event-stream` and `Cache-Control: no-store` headers are added
    /// unless the request has them.
    ///
    /// Leave `reqwest::ClientBuilder::timeout` unset on the client: it limits the whole
    /// response, so it would cut a healthy stream. [`Config::idle_timeout`] is the timeout
    /// for a stream; `connect_timeout` is fine.
    ///
    /// # Panics
    ///
    /// If the request has a streaming body, which can't be sent again on a reconnect.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use sse_client::{Config, EventSource};
    ///
    /// # fn run() -> Result<(), reqwest::Error> {
    /// let client = reqwest::Client::builder().connect_timeout(Duration::from_secs(5)).build()?;
    /// let request = client.get("http://127.0.0.1:3000/events?topic=news").build()?;
    /// let config = Config::new().retry_transient_status(true).max_attempts(20);
    /// let events = EventSource::with_config(client, request, config);
    /// # let _ = events;
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn with_config(client: Client, request: Request, mut config: Config) -> Self {
        assert!(
            request.try_clone().is_some(),
            "an EventSource must be able to send its request again: use a body that is not a stream"
        );
        if config.last_event_id.is_empty() {
            if let Some(id) = request.headers().get(LAST_EVENT_ID) {
                config.last_event_id = String::from_utf8_lossy(id.as_bytes()).into_owned();
            }
        }
        let stats = Stats::default();
        let driver = Driver {
            client,
            request,
            reader: EventReader::new(config.decoder()),
            config,
            stats: stats.clone(),
            attempts: 0,
            state: State::Connect(Duration::ZERO),
        };
        Self {
            progress: Progress::Idle(Box::new(driver)),
            stats,
        }
    }

    /// A handle on this event source's counters: attempts, reconnects, bytes, events.
    ///
    /// ```no_run
    /// # fn run(events: sse_client::EventSource) {
    /// let stats = events.stats();
    /// # let _ = stats;
    /// # }
    /// ```
    #[must_use]
    pub fn stats(&self) -> Stats {
        self.stats.clone()
    }
}

impl fmt::Debug for EventSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventSource")
            .field("ended", &matches!(self.progress, Progress::Ended))
            .field("stats", &self.stats)
            .finish()
    }
}

impl Stream for EventSource {
    type Item = Result<Item, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let progress = &mut self.get_mut().progress;
        loop {
            match mem::replace(progress, Progress::Ended) {
                Progress::Ended => return Poll::Ready(None),
                Progress::Idle(mut driver) => {
                    if let Some(item) = driver.buffered_item() {
                        *progress = Progress::Idle(driver);
                        return Poll::Ready(Some(item));
                    }
                    *progress = Progress::Busy(Box::pin(async move {
                        let item = driver.next().await;
                        (driver, item)
                    }));
                }
                Progress::Busy(mut step) => {
                    let Poll::Ready((driver, item)) = step.as_mut().poll(cx) else {
                        *progress = Progress::Busy(step);
                        return Poll::Pending;
                    };
                    if item.is_some() {
                        *progress = Progress::Idle(driver);
                    }
                    return Poll::Ready(item);
                }
            }
        }
    }
}

impl FusedStream for EventSource {
    fn is_terminated(&self) -> bool {
        matches!(self.progress, Progress::Ended)
    }
}

/// The state machine behind the stream; each [`next`](Self::next) is one item.
struct Driver {
    client: Client,
    /// The request as the caller built it; each attempt sends a copy.
    request: Request,
    config: Config,
    reader: EventReader,
    stats: Stats,
    /// Attempts since the last healthy connection, the current one included.
    attempts: u32,
    state: State,
}

enum State {
    /// Wait this long, then connect.
    Connect(Duration),
    Open(Connection),
    Done,
}

struct Connection {
    response: Response,
    /// The attempt's span, entered while its body is read.
    span: Span,
    opened_at: Instant,
    last_read: Instant,
}

impl Driver {
    /// The next event already decoded from the chunks read so far, or the error of a size
    /// limit; `None` when the next item needs an await (or the stream has ended).
    #[inline]
    fn buffered_item(&mut self) -> Option<Result<Item, Error>> {
        let State::Open(connection) = &self.state else {
            return None;
        };
        match self.reader.next_event() {
            Ok(Some(event)) => {
                self.stats.count_event();
                Some(Ok(Item::Event(event)))
            }
            Ok(None) => None,
            Err(err) => {
                connection
                    .span
                    .in_scope(|| debug!(error = %err, "event stream over a limit"));
                self.state = State::Done;
                Some(Err(Error::Parse(err)))
            }
        }
    }

    async fn next(&mut self) -> Option<Result<Item, Error>> {
        loop {
            if let Some(item) = self.buffered_item() {
                return Some(item);
            }
            match &mut self.state {
                State::Done => return None,
                State::Connect(wait) => {
                    if !wait.is_zero() {
                        tokio::time::sleep(*wait).await;
                    }
                    return self.connect().await;
                }
                State::Open(connection) => {
                    let chunk = idle_timeout(
                        self.config.idle_timeout,
                        connection.response.chunk(),
                        Error::Body,
                    )
                    .instrument(connection.span.clone())
                    .await;
                    let error = match chunk {
                        Ok(Some(chunk)) => {
                            connection.last_read = Instant::now();
                            self.stats.count_bytes(chunk.len());
                            self.reader.push(&chunk);
                            continue;
                        }
                        Ok(None) => Error::Closed,
                        Err(err) => err,
                    };
                    // Healthy means bytes kept coming, not just a 200: a server that
                    // accepts and hangs up at once is backed off from.
                    let lived = connection.last_read.duration_since(connection.opened_at);
                    if lived >= self.config.reset_after {
                        self.attempts = 0;
                    }
                    let span = connection.span.clone();
                    self.reader.end_body();
                    return Some(span.in_scope(|| self.retry_later(error, None)));
                }
            }
        }
    }

    /// Sends the request and judges the response. `None` means stop (204).
    async fn connect(&mut self) -> Option<Result<Item, Error>> {
        self.attempts = self.attempts.saturating_add(1);
        let number = self.stats.count_attempt();
        let span = debug_span!(
            "sse_client.connection",
            url = %self.request.url(),
            attempt = number,
            last_event_id = self.reader.last_event_id(),
        );
        let request = self.next_request();
        let sent = idle_timeout(
            self.config.idle_timeout,
            self.client.execute(request),
            Error::Request,
        )
        .instrument(span.clone())
        .await;
        let response = match sent {
            Ok(response) => response,
            Err(err) if err.is_final() => return Some(span.in_scope(|| self.fail(err))),
            Err(err) => return Some(span.in_scope(|| self.retry_later(err, None))),
        };
        let status = response.status();
        if status == StatusCode::NO_CONTENT {
            span.in_scope(|| debug!("204 No Content: the server asks the client to stop"));
            self.state = State::Done;
            return None;
        }
        if status != StatusCode::OK {
            let transient = status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS;
            let retry = self.config.retry_transient_status && transient;
            let retry_after = retry_after::parse(response.headers(), SystemTime::now());
            let error = Error::Status(StatusError {
                status,
                headers: response.headers().clone(),
                retry_after,
                will_retry: retry && !self.exhausted(),
            });
            return Some(span.in_scope(|| {
                if retry {
                    self.retry_later(error, retry_after)
                } else {
                    self.fail(error)
                }
            }));
        }
        if !is_event_stream(&response) {
            let content_type = response.headers().get(CONTENT_TYPE).cloned();
            return Some(span.in_scope(|| self.fail(Error::ContentType(content_type))));
        }
        span.in_scope(|| debug!("connected"));
        self.stats.count_opened();
        let opened = Opened {
            status,
            headers: response.headers().clone(),
        };
        let now = Instant::now();
        self.state = State::Open(Connection {
            response,
            span,
            opened_at: now,
            last_read: now,
        });
        Some(Ok(Item::Open(opened)))
    }

    /// A copy of the caller's request with the headers the spec asks for.
    fn next_request(&self) -> Request {
        let mut request = self
            .request
            .try_clone()
            .expect("EventSource::with_config checked that the request can be cloned");
        let headers = request.headers_mut();
        headers
            .entry(ACCEPT)
            .or_insert(HeaderValue::from_static("text/event-stream"));
        headers
            .entry(CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
        // WHATWG: send Last-Event-ID only when the last event ID is not empty.
        let id = self.reader.last_event_id();
        match HeaderValue::from_str(id) {
            Ok(value) if !id.is_empty() => {
                headers.insert(LAST_EVENT_ID, value);
            }
            Ok(_) => {
                headers.remove(LAST_EVENT_ID);
            }
            Err(_) => {
                // Control characters (the parser keeps them) can't go in a header.
                debug!(id, "last event id is not a valid header value: not sent");
                headers.remove(LAST_EVENT_ID);
            }
        }
        request
    }

    fn exhausted(&self) -> bool {
        self.config
            .max_attempts
            .is_some_and(|max| self.attempts >= max)
    }

    /// Plans a reconnect after `error`, waiting at least `at_least`, unless the attempts
    /// are used up.
    fn retry_later(&mut self, error: Error, at_least: Option<Duration>) -> Result<Item, Error> {
        if self.exhausted() {
            return self.fail(Error::Exhausted {
                attempts: self.attempts,
                last: Box::new(error),
            });
        }
        let reconnection_time = self
            .reader
            .reconnection_time()
            .unwrap_or(self.config.reconnect_time);
        let range = backoff::range(
            reconnection_time,
            self.config.reconnect_time,
            self.config.max_delay,
            self.attempts.saturating_sub(1),
        );
        let wait = backoff::pick(range, fastrand::f64()).max(at_least.unwrap_or_default());
        debug!(error = %error, ?wait, "reconnecting");
        self.state = State::Connect(wait);
        Err(error)
    }

    /// Ends the stream after `error`, dropping any connection.
    fn fail(&mut self, error: Error) -> Result<Item, Error> {
        debug!(error = %error, "closing");
        self.state = State::Done;
        Err(error)
    }
}

/// `future`'s output, or [`Error::IdleTimeout`] when it takes longer than `idle`.
async fn idle_timeout<T>(
    idle: Option<Duration>,
    future: impl Future<Output = Result<T, reqwest::Error>>,
    wrap: fn(reqwest::Error) -> Error,
) -> Result<T, Error> {
    let Some(idle) = idle else {
        return future.await.map_err(wrap);
    };
    match tokio::time::timeout(idle, future).await {
        Ok(output) => output.map_err(wrap),
        Err(_) => Err(Error::IdleTimeout(idle)),
    }
}

/// Whether the response's media type is `text/event-stream` (parameters allowed).
fn is_event_stream(response: &Response) -> bool {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("text/event-stream"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_source_is_send_and_its_handles_are_send_and_sync() {
        fn send<T: Send>() {}
        fn send_sync<T: Send + Sync>() {}
        send::<EventSource>();
        send_sync::<Stats>();
        send_sync::<Error>();
        send_sync::<Item>();
    }
}
