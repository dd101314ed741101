//! The framework-free application: state ([`App`]), the handlers, and what they answer
//! ([`Reply`]). The framework modules route requests here with their adapter's
//! `LastEventId` extractor, and turn a [`Reply`] into their own response type with their
//! adapter's SSE responder. The streams are counted by the SSE middleware (`SseLayer`,
//! `SseMiddleware`), whose [`SseStats`] `GET /stats` reads.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use futures_util::StreamExt;
//! use sse_examples::{App, Config, ReplyBody};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let app = App::new(Config::default());
//! // No token, the topic `news`, no Last-Event-ID (each framework's extractor reads it).
//! let reply = app.events(None, Some("topic=news"), Ok(None));
//! let ReplyBody::Events(mut stream) = reply.body else { unreachable!() };
//!
//! // The events of the stream's topics, each with the hub's id; the framework's SSE
//! // responder writes `stream.retry` first and ends the stream on `stream.end`.
//! assert_eq!(stream.retry, Duration::from_millis(2000));
//! app.hub().publish("news", sse_core::Event::data("hi")).await.unwrap();
//! assert!(stream.events.next().await.unwrap().as_bytes().ends_with(b"data: hi\n\n"));
//!
//! app.disconnect_all();
//! assert!(stream.end.is_cancelled());
//! # }
//! ```
//!
//! # Routes
//!
//! | route | handler |
//! |---|---|
//! | `GET /` | [`App::index`] |
//! | `GET /events?topic=..` | [`App::events`] |
//! | `POST /publish` | [`App::publish`] |
//! | `GET /progress` | [`App::progress`] |
//! | `GET /clock` | [`App::clock`] |
//! | `GET /stats` | [`App::stats`] |
//! | `GET /metrics` | [`App::metrics`] |
//! | `GET /logs` | [`App::logs`] |
//! | `GET /health` | [`App::health`] |

use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{Buf, Bytes, BytesMut};
use futures_util::{stream, Stream, StreamExt};
use http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use serde::Deserialize;
use serde_json::json;
use sse_core::hub::{Hub, HubConfig, PublishError};
use sse_core::{CancellationToken, Event, EventBatch, LastEventId, LastEventIdError, SseStats};
use sse_redis::{RedisBackplane, RedisConfig};

use crate::logs::LogTail;
use crate::{metrics, Config};

/// The topic of a published event that names none.
pub const DEFAULT_TOPIC: &str = "default";

/// The largest `POST /publish` body accepted: 64 KiB. A larger one gets `413`.
pub const MAX_PUBLISH_BODY: usize = 64 * 1024;

/// How many `progress` events `GET /progress` sends before `complete`.
pub const PROGRESS_STEPS: u32 = 10;

/// The page served at `GET /`.
const INDEX_HTML: &str = include_str!("../static/index.html");

/// The application: the hub and the signals that end streams.
///
/// Cheap to clone; clones share one state. Every framework serves the same `App`.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    hub: Hub,
    /// The Redis backplane, when the hub is one of several nodes (`--redis`).
    backplane: Option<RedisBackplane>,
    /// The file `GET /logs` follows (`--log-file`).
    logs: Option<LogTail>,
    /// Cancelled on shutdown: ends every stream and stops the server.
    shutdown: CancellationToken,
    /// The current "generation" of streams: cancelling it ends the streams open now, and a
    /// fresh child of `shutdown` takes its place for the streams opened later.
    generation: Mutex<CancellationToken>,
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("config", &self.inner.config)
            .field("shut_down", &self.inner.shutdown.is_cancelled())
            .finish_non_exhaustive()
    }
}

impl App {
    /// An app with a fresh in-memory hub that keeps `config.replay` events for replay
    /// (`config.redis` is not used: see [`connect`](Self::connect)).
    pub fn new(config: Config) -> Self {
        let hub = Hub::new(Self::hub_config(&config));
        Self::with_hub(config, hub, None)
    }

    /// An app whose hub carries events through `config.redis` when it is set (one node of
    /// many), else [`App::new`].
    ///
    /// # Errors
    ///
    /// If Redis can't be reached.
    pub async fn connect(config: Config) -> Result<Self, sse_redis::Error> {
        let Some(url) = config.redis.clone() else {
            return Ok(Self::new(config));
        };
        let backplane = RedisBackplane::connect(
            RedisConfig::new(url)
                .key_prefix(config.redis_key.clone())
                .replay_capacity(Self::replay_capacity(&config)),
        )
        .await?;
        let hub = Hub::with_backplane(Self::hub_config(&config), backplane.clone());
        Ok(Self::with_hub(config, hub, Some(backplane)))
    }

    fn replay_capacity(config: &Config) -> usize {
        usize::try_from(config.replay).unwrap_or(usize::MAX).max(1)
    }

    fn hub_config(config: &Config) -> HubConfig {
        let replay = Self::replay_capacity(config);
        HubConfig::new()
            .replay_capacity(replay)
            .queue_bound(replay.min(256))
            .shutdown_retry(config.retry(), Duration::from_secs(2))
    }

    fn with_hub(config: Config, hub: Hub, backplane: Option<RedisBackplane>) -> Self {
        let shutdown = CancellationToken::new();
        let generation = Mutex::new(shutdown.child_token());
        // `serve` checks the file before it starts; an app built directly serves `/logs`
        // only if the file can be read now.
        let logs = config
            .log_file
            .as_ref()
            .and_then(|path| match LogTail::open(path) {
                Ok(tail) => Some(tail),
                Err(err) => {
                    tracing::warn!(error = %err, "GET /logs is off");
                    None
                }
            });
        Self {
            inner: Arc::new(Inner {
                config,
                hub,
                backplane,
                logs,
                shutdown,
                generation,
            }),
        }
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The hub events are published to.
    pub fn hub(&self) -> &Hub {
        &self.inner.hub
    }

    /// The Redis backplane, when the app is one node of several (`--redis`).
    pub fn backplane(&self) -> Option<&RedisBackplane> {
        self.inner.backplane.as_ref()
    }

    /// Cancelled when the app shuts down; the servers stop on it.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.inner.shutdown.clone()
    }

    /// Starts a graceful shutdown: the hub ends every subscription (after a `retry:` with
    /// jitter), every other stream ends, and the server stops accepting and finishes once
    /// its connections are done. Calling it again does nothing.
    pub fn shutdown(&self) {
        if self.inner.shutdown.is_cancelled() {
            return;
        }
        tracing::info!("shutting down");
        self.inner.hub.shutdown();
        self.inner.shutdown.cancel();
    }

    /// Ends every SSE stream open now, without shutting anything down: the clients
    /// reconnect (after the `retry:` delay) with their Last-Event-ID and replay what they
    /// missed. Streams opened afterwards are not affected.
    pub fn disconnect_all(&self) {
        let old = {
            let mut generation = self
                .inner
                .generation
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            std::mem::replace(&mut *generation, self.inner.shutdown.child_token())
        };
        tracing::info!("disconnecting every open stream");
        old.cancel();
    }

    fn current_generation(&self) -> CancellationToken {
        self.inner
            .generation
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The stream of `events` for a framework's SSE responder: with the configured `retry:`,
    /// ending when the current generation is cut or the app shuts down.
    fn open_stream<S>(&self, route: &'static str, events: S) -> EventStream
    where
        S: Stream + Send + 'static,
        S::Item: Into<EventBatch>,
    {
        tracing::debug!(route, "SSE stream");
        EventStream {
            events: Box::pin(events.map(Into::into)),
            retry: self.config().retry(),
            end: self.current_generation(),
        }
    }

    /// Checks the bearer token, if one is configured: `Authorization: Bearer T` (the value of
    /// `authorization`) or `?token=T`.
    fn authorize(&self, authorization: Option<&[u8]>, query: Option<&str>) -> Result<(), Reply> {
        let Some(expected) = self.config().token.as_deref() else {
            return Ok(());
        };
        let from_header = authorization
            .and_then(|value| std::str::from_utf8(value).ok())
            .and_then(|value| {
                let (scheme, token) = value.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .map(str::to_owned);
        let presented = from_header.or_else(|| query_values(query, "token").next());
        match presented {
            Some(token) if constant_time_eq(token.as_bytes(), expected.as_bytes()) => Ok(()),
            _ => Err(
                Reply::error(StatusCode::UNAUTHORIZED, "missing or wrong token")
                    .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")),
            ),
        }
    }

    /// `GET /`: the demo page.
    pub fn index(&self) -> Reply {
        Reply::full(
            StatusCode::OK,
            "text/html; charset=utf-8",
            Bytes::from_static(INDEX_HTML.as_bytes()),
        )
    }

    /// `GET /events?topic=a&topic=b`: the hub's events of those topics (every topic if none
    /// is named), after a leading `retry:`, replaying what came after the Last-Event-ID
    /// first.
    ///
    /// `authorization` is the `Authorization` header's value; `last_event_id` is what the
    /// framework's `LastEventId` extractor read from the `Last-Event-ID` header or the
    /// `lastEventId` query parameter, with a malformed id as an error, so that the token is
    /// checked first.
    ///
    /// `401` without the configured token, `400` for a malformed Last-Event-ID.
    pub fn events(
        &self,
        authorization: Option<&[u8]>,
        query: Option<&str>,
        last_event_id: Result<Option<LastEventId>, LastEventIdError>,
    ) -> Reply {
        let last_event_id = match self.admit_stream(authorization, query, last_event_id) {
            Ok(id) => id,
            Err(reply) => return reply,
        };
        let topics: Vec<String> = query_values(query, "topic")
            .filter(|topic| !topic.is_empty())
            .collect();
        tracing::debug!(
            ?topics,
            last_event_id = last_event_id.as_deref(),
            "subscribe"
        );
        let subscription = self.hub().subscribe(topics, last_event_id.as_deref());
        Reply::events(self.open_stream("/events", subscription.batches()))
    }

    /// The checks every stream route makes, in order: the token (`401`), then the
    /// Last-Event-ID (`400` if malformed).
    fn admit_stream(
        &self,
        authorization: Option<&[u8]>,
        query: Option<&str>,
        last_event_id: Result<Option<LastEventId>, LastEventIdError>,
    ) -> Result<Option<LastEventId>, Reply> {
        self.authorize(authorization, query)?;
        last_event_id
            .map_err(|err| Reply::error(StatusCode::BAD_REQUEST, &format!("Last-Event-ID: {err}")))
    }

    /// `GET /logs`: the lines of the `--log-file` as `log` events, those that look like
    /// errors as `error` events, following appends, truncation and rotation (see
    /// [`logs`](crate::logs)); after the line of the Last-Event-ID if one is given, else
    /// from the file's last lines.
    ///
    /// `401` without the configured token, `400` for a malformed Last-Event-ID, `404` if
    /// the demo follows no file.
    ///
    /// ```
    /// use sse_examples::{App, Config};
    ///
    /// let app = App::new(Config::default());
    /// let reply = app.logs(None, None, Ok(None));
    /// assert_eq!(reply.status, http::StatusCode::NOT_FOUND); // no --log-file
    /// ```
    pub fn logs(
        &self,
        authorization: Option<&[u8]>,
        query: Option<&str>,
        last_event_id: Result<Option<LastEventId>, LastEventIdError>,
    ) -> Reply {
        let last_event_id = match self.admit_stream(authorization, query, last_event_id) {
            Ok(id) => id,
            Err(reply) => return reply,
        };
        let Some(tail) = &self.inner.logs else {
            return Reply::error(StatusCode::NOT_FOUND, "no --log-file given");
        };
        Reply::events(self.open_stream("/logs", tail.events(last_event_id.as_deref())))
    }

    /// `POST /publish` with a JSON body `{"topic"?: string, "event"?: string, "data": any}`:
    /// publishes to the hub and answers `202` with `{"id": "..."}`.
    ///
    /// A string `data` is sent as is (each line break starts a new `data:` line); any other
    /// JSON value is sent serialized on one line. The topic defaults to [`DEFAULT_TOPIC`].
    ///
    /// Errors, all with a JSON body `{"error": "..."}` and none reaching a subscriber: `405`
    /// for a method other than `POST`, `401` without the configured token, `413` for a body
    /// over [`MAX_PUBLISH_BODY`], `400` for a body that is not a JSON object, a missing `data` or an event name
    /// with CR or LF, `503` once the app shuts down.
    pub async fn publish<B, E>(
        &self,
        method: &Method,
        headers: &HeaderMap,
        query: Option<&str>,
        body: B,
    ) -> Reply
    where
        B: Stream<Item = Result<E, BodyError>>,
        E: Buf,
    {
        if method != Method::POST {
            return Reply::error(StatusCode::METHOD_NOT_ALLOWED, "use POST")
                .with_header(header::ALLOW, HeaderValue::from_static("POST"));
        }
        let authorization = headers
            .get(header::AUTHORIZATION)
            .map(HeaderValue::as_bytes);
        if let Err(reply) = self.authorize(authorization, query) {
            return reply;
        }
        let body = match read_limited(headers, body, MAX_PUBLISH_BODY).await {
            Ok(body) => body,
            Err(reply) => return reply,
        };
        // serde_json skips the strings of unknown fields without checking their UTF-8, so
        // a body that is not JSON (RFC 8259 requires UTF-8) would pass; check it first.
        let Ok(body) = std::str::from_utf8(&body) else {
            return Reply::error(StatusCode::BAD_REQUEST, "invalid JSON: not UTF-8");
        };
        // serde would also take the fields from an array, in order; the body is an object.
        if !body
            .trim_start_matches([' ', '\t', '\n', '\r'])
            .starts_with('{')
        {
            return Reply::error(StatusCode::BAD_REQUEST, "invalid JSON: expected an object");
        }
        let request: PublishRequest = match serde_json::from_str(body) {
            Ok(request) => request,
            Err(err) => {
                return Reply::error(StatusCode::BAD_REQUEST, &format!("invalid JSON: {err}"))
            }
        };
        let topic = request.topic.as_deref().unwrap_or(DEFAULT_TOPIC);
        if topic.is_empty() {
            return Reply::error(StatusCode::BAD_REQUEST, "topic must not be empty");
        }
        let mut builder = Event::builder();
        if let Some(name) = request.event.as_deref() {
            builder = builder.event(name);
        }
        builder = match &request.data {
            serde_json::Value::String(text) => builder.data(text.as_str()),
            other => match builder.json_data(other) {
                Ok(builder) => builder,
                Err(err) => return Reply::error(StatusCode::BAD_REQUEST, &format!("data: {err}")),
            },
        };
        let event = match builder.build() {
            Ok(event) => event,
            Err(err) => return Reply::error(StatusCode::BAD_REQUEST, &err.to_string()),
        };
        match self.hub().publish(topic, event).await {
            Ok(id) => {
                tracing::debug!(topic, %id, "published");
                Reply::json(StatusCode::ACCEPTED, &json!({ "id": id.to_string() }))
            }
            Err(PublishError::Closed) => {
                Reply::error(StatusCode::SERVICE_UNAVAILABLE, "shutting down")
            }
            Err(err) => {
                // The backplane (Redis) is unreachable or timed out: nothing was published,
                // and the client may try again shortly.
                // The whole chain: "hub: backplane failed ...: redis did not answer ...".
                let mut cause = err.to_string();
                let mut source = std::error::Error::source(&err);
                while let Some(err) = source {
                    let text = err.to_string();
                    if !cause.ends_with(&text) {
                        cause = format!("{cause}: {text}");
                    }
                    source = err.source();
                }
                tracing::warn!(error = %cause, "publish failed");
                let mut reply = Reply::error(StatusCode::SERVICE_UNAVAILABLE, &cause);
                reply
                    .headers
                    .push((header::RETRY_AFTER, HeaderValue::from_static("1")));
                reply
            }
        }
    }

    /// `GET /progress`: [`PROGRESS_STEPS`] `progress` events
    /// (`{"step", "total", "percentage", "message"}`) 100 to 200 ms apart, then a `complete`
    /// event, then the end of the stream.
    pub fn progress(&self) -> Reply {
        let steps = stream::unfold(0u32, |step| async move {
            if step > PROGRESS_STEPS {
                return None;
            }
            if step > 0 {
                let pause = 100 + u64::from(step * 97 % 101);
                tokio::time::sleep(Duration::from_millis(pause)).await;
            }
            let event = if step < PROGRESS_STEPS {
                let current = step + 1;
                json_event(
                    "progress",
                    &current.to_string(),
                    &json!({
                        "step": current,
                        "total": PROGRESS_STEPS,
                        "percentage": current * 100 / PROGRESS_STEPS,
                        "message": format!("step {current} of {PROGRESS_STEPS}"),
                    }),
                )
            } else {
                json_event("complete", "complete", &json!({ "message": "done" }))
            };
            Some((event, step + 1))
        });
        Reply::events(self.open_stream("/progress", steps))
    }

    /// `GET /clock`: a `tick` event every second, `{"unix_ms": ..}`, until the client leaves.
    pub fn clock(&self) -> Reply {
        let mut interval = tokio::time::interval(Duration::from_secs(1));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let ticks = stream::unfold((interval, 0u64), |(mut interval, n)| async move {
            interval.tick().await;
            let unix_ms = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
            let event = json_event("tick", &n.to_string(), &json!({ "unix_ms": unix_ms }));
            Some((event, (interval, n + 1)))
        });
        Reply::events(self.open_stream("/clock", ticks))
    }

    /// `GET /stats`: the open SSE streams, as the SSE middleware counts them in `streams`
    /// (`SseLayer::stats`, `SseMiddleware::stats`), and the hub's counters, as JSON.
    pub fn stats(&self, streams: &SseStats) -> Reply {
        let hub = self.hub().stats();
        Reply::json(
            StatusCode::OK,
            &json!({
                "active_connections": streams.live(),
                "opened_connections": streams.opened(),
                "subscribers": hub.active_subscribers,
                "published": hub.published,
                "delivered": hub.delivered,
                "replayed": hub.replayed,
                "dropped_slow": hub.dropped_slow,
                "gaps": hub.gaps,
                "ring_len": hub.ring_len,
                "last_id": hub.last_id.map(|id| id.to_string()),
                "backplane": self.inner.backplane.as_ref().map(|backplane| {
                    let status = backplane.status();
                    json!({
                        "connected": status.connected,
                        "events_read": status.events_read,
                        "reconnects": status.reconnects,
                        "gaps": status.gaps,
                        "malformed": status.malformed,
                        "publish_failures": status.publish_failures,
                    })
                }),
            }),
        )
    }

    /// `GET /metrics`: the counters of the SSE middleware (`streams`, as for
    /// [`stats`](Self::stats)) and of the hub in the Prometheus text format; the names are
    /// listed in [`metrics`].
    pub fn metrics(&self, streams: &SseStats) -> Reply {
        Reply::full(
            StatusCode::OK,
            metrics::CONTENT_TYPE,
            Bytes::from(metrics::encode(streams, self.hub())),
        )
    }

    /// `GET /health`: `200` with `{"status": "ok"}`; `503` once shutting down, and, on a
    /// node with a Redis backplane, while its reader is not following the stream
    /// (`{"status": "reconnecting", "backplane": "disconnected"}`), so that a load balancer
    /// drains the node meanwhile.
    pub fn health(&self) -> Reply {
        if self.inner.shutdown.is_cancelled() {
            return Reply::json(
                StatusCode::SERVICE_UNAVAILABLE,
                &json!({ "status": "shutting down" }),
            );
        }
        match &self.inner.backplane {
            Some(backplane) if !backplane.status().connected => Reply::json(
                StatusCode::SERVICE_UNAVAILABLE,
                &json!({ "status": "reconnecting", "backplane": "disconnected" }),
            ),
            Some(_) => Reply::json(
                StatusCode::OK,
                &json!({ "status": "ok", "backplane": "connected" }),
            ),
            None => Reply::json(StatusCode::OK, &json!({ "status": "ok" })),
        }
    }
}

/// A handler of an event-stream route that reads the token and the Last-Event-ID
/// ([`App::events`], [`App::logs`]): the `Authorization` header's value, the query, and
/// what the framework's `LastEventId` extractor read (a malformed id as an error). Each
/// framework routes both through one function of this type.
pub type StreamHandler =
    fn(&App, Option<&[u8]>, Option<&str>, Result<Option<LastEventId>, LastEventIdError>) -> Reply;

/// The JSON body of `POST /publish`.
#[derive(Debug, Deserialize)]
struct PublishRequest {
    topic: Option<String>,
    event: Option<String>,
    data: serde_json::Value,
}

fn json_event(name: &str, id: &str, data: &serde_json::Value) -> Event {
    Event::builder()
        .event(name)
        .id(id)
        .json_data(data)
        .ok()
        .and_then(|builder| builder.build().ok())
        .unwrap_or_else(|| Event::data("{}"))
}

/// A failure reading a request body, as the framework reports it.
#[derive(Debug)]
pub struct BodyError(pub Box<dyn std::error::Error + Send + Sync>);

impl BodyError {
    /// Wraps a framework's body error.
    pub fn new(err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self(err.into())
    }
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// How much of an oversized body is read and thrown away before the `413` goes out.
///
/// A client that writes its whole body before reading the answer (most simple HTTP
/// clients) would otherwise hit a closed socket (`EPIPE`, or a reset that loses the
/// answer) when the server answers early and closes with unread bytes in its buffer.
const DRAIN_LIMIT: usize = 8 << 20;

/// Reads a body of at most `limit` bytes: `413` beyond it, `400` if the body fails.
///
/// A `Content-Length` over the limit is refused before reading anything when the client
/// waits for `100 Continue` (it then never sends the body); otherwise an oversized body is
/// drained up to [`DRAIN_LIMIT`] before the `413`, so the client reads the answer.
async fn read_limited<B, E>(headers: &HeaderMap, body: B, limit: usize) -> Result<Bytes, Reply>
where
    B: Stream<Item = Result<E, BodyError>>,
    E: Buf,
{
    let too_large = || {
        Reply::error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("the body is larger than {limit} bytes"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    let expects_continue = headers
        .get(header::EXPECT)
        .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let mut body = std::pin::pin!(body);
    if declared.is_some_and(|len| len > limit as u64) {
        if !expects_continue && declared.is_some_and(|len| len <= DRAIN_LIMIT as u64) {
            drain(body.as_mut(), DRAIN_LIMIT).await;
        }
        return Err(too_large());
    }
    let mut buf = BytesMut::new();
    while let Some(chunk) = body.next().await {
        let mut chunk = chunk.map_err(|err| {
            Reply::error(StatusCode::BAD_REQUEST, &format!("reading the body: {err}"))
        })?;
        if buf.len() + chunk.remaining() > limit {
            drain(body.as_mut(), DRAIN_LIMIT.saturating_sub(buf.len())).await;
            return Err(too_large());
        }
        while chunk.has_remaining() {
            let part = chunk.chunk();
            buf.extend_from_slice(part);
            let len = part.len();
            chunk.advance(len);
        }
    }
    Ok(buf.freeze())
}

/// Reads and discards the rest of `body`, at most `budget` bytes.
async fn drain<B, E>(mut body: Pin<&mut B>, mut budget: usize)
where
    B: Stream<Item = Result<E, BodyError>>,
    E: Buf,
{
    while let Some(Ok(chunk)) = body.next().await {
        match budget.checked_sub(chunk.remaining()) {
            Some(left) => budget = left,
            None => return,
        }
    }
}

/// The percent-decoded values of query parameter `name`.
fn query_values<'a>(query: Option<&'a str>, name: &'a str) -> impl Iterator<Item = String> + 'a {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .filter(move |(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What a handler answers, before a framework turns it into its response type.
#[derive(Debug)]
#[must_use]
pub struct Reply {
    /// The status code.
    pub status: StatusCode,
    /// Headers besides the content type.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The body.
    pub body: ReplyBody,
}

/// The body of a [`Reply`].
#[derive(Debug)]
pub enum ReplyBody {
    /// A whole body with its content type (JSON or HTML).
    Full {
        /// The `Content-Type`.
        content_type: &'static str,
        /// The bytes.
        bytes: Bytes,
    },
    /// An event stream, served through the framework's SSE adapter.
    Events(EventStream),
}

impl Reply {
    fn full(status: StatusCode, content_type: &'static str, bytes: Bytes) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: ReplyBody::Full {
                content_type,
                bytes,
            },
        }
    }

    fn json(status: StatusCode, value: &serde_json::Value) -> Self {
        Self::full(
            status,
            "application/json",
            Bytes::from(serde_json::to_vec(value).unwrap_or_default()),
        )
    }

    fn error(status: StatusCode, message: &str) -> Self {
        Self::json(status, &json!({ "error": message }))
    }

    fn events(stream: EventStream) -> Self {
        Self {
            status: StatusCode::OK,
            headers: Vec::new(),
            body: ReplyBody::Events(stream),
        }
    }

    fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Builds an `http::Response` with the body `full` makes of the whole bytes, or `events`
    /// makes of an event stream; the adapters of tower-based frameworks use it.
    pub fn into_http<T>(
        self,
        full: impl FnOnce(Bytes) -> T,
        events: impl FnOnce(EventStream) -> http::Response<T>,
    ) -> http::Response<T> {
        let mut response = match self.body {
            ReplyBody::Full {
                content_type,
                bytes,
            } => {
                let mut response = http::Response::new(full(bytes));
                response
                    .headers_mut()
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
                response
            }
            ReplyBody::Events(stream) => events(stream),
        };
        *response.status_mut() = self.status;
        for (name, value) in self.headers {
            response.headers_mut().append(name, value);
        }
        response
    }
}

/// An SSE stream of the app, for the framework's SSE responder: the route's events, the
/// `retry:` to send first, and the token that ends the stream when the app cuts every open
/// stream ([`App::disconnect_all`]) or shuts down.
#[must_use = "streams do nothing unless polled"]
pub struct EventStream {
    /// The route's events (a hub subscription's come joined, as [`EventBatch`]es).
    pub events: Pin<Box<dyn Stream<Item = EventBatch> + Send>>,
    /// The reconnection delay, sent first (`Sse::retry` in the adapters).
    pub retry: Duration,
    /// Cancelled when the stream must end (`Sse::shutdown` in the adapters).
    pub end: CancellationToken,
}

impl fmt::Debug for EventStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStream")
            .field("retry", &self.retry)
            .field("ended", &self.end.is_cancelled())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(bytes: &'static [u8]) -> impl Stream<Item = Result<Bytes, BodyError>> {
        stream::iter([Ok(Bytes::from_static(bytes))])
    }

    #[tokio::test]
    async fn rejected_publish_reaches_no_subscriber() {
        let app = App::new(Config::default());
        let post = Method::POST;
        let headers = HeaderMap::new();
        let bad = app
            .publish(
                &post,
                &headers,
                None,
                body(br#"{"event":"a\nb","data":"x"}"#),
            )
            .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        let bad = app.publish(&post, &headers, None, body(b"{")).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        // Found by fuzzing (examples/fuzz, publish_body): serde fills a struct from an array.
        let bad = app
            .publish(&post, &headers, None, body(br#" [ "news", "alert", "x" ]"#))
            .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        // Found by fuzzing (examples/fuzz, publish_body): invalid UTF-8 in an unknown
        // field's string, which serde_json skips unchecked.
        let bad = app
            .publish(
                &post,
                &headers,
                None,
                body(b"{\"even/\":\"\xff\xff\",\"data\":\"x\"}"),
            )
            .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert_eq!(app.hub().stats().published, 0);
        let ok = app
            .publish(&post, &headers, None, body(br#"{"data":{"a":1}}"#))
            .await;
        assert_eq!(ok.status, StatusCode::ACCEPTED);
        assert_eq!(app.hub().stats().published, 1);
    }

    fn event_stream(reply: Reply) -> EventStream {
        match reply.body {
            ReplyBody::Events(stream) => stream,
            ReplyBody::Full { bytes, .. } => panic!("not a stream: {bytes:?}"),
        }
    }

    #[tokio::test]
    async fn disconnect_all_ends_the_open_streams_only() {
        let app = App::new(Config::default());
        let open = event_stream(app.events(None, None, Ok(None)));
        assert_eq!(open.retry, Duration::from_millis(2000));
        assert!(!open.end.is_cancelled());
        app.disconnect_all();
        assert!(open.end.is_cancelled());
        let later = event_stream(app.clock());
        assert!(!later.end.is_cancelled());
        app.shutdown();
        assert!(later.end.is_cancelled());
    }

    #[test]
    fn the_token_is_checked_before_the_last_event_id() {
        let app = App::new(Config::default().with_token("s3cret"));
        let malformed = Err(LastEventIdError::InvalidChar);
        let refused = app.events(None, None, malformed);
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
        let malformed = Err(LastEventIdError::InvalidChar);
        let bad = app.events(Some(b"Bearer s3cret"), None, malformed);
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn token_comes_from_header_or_query() {
        let app = App::new(Config::default().with_token("s3cret"));
        assert!(app.authorize(None, Some("token=nope")).is_err());
        assert!(app.authorize(None, Some("topic=a&token=s3cret")).is_ok());
        assert!(app.authorize(Some(b"Bearer s3cret"), None).is_ok());
        assert!(app.authorize(Some(b"bearer s3cret"), None).is_ok());
        assert!(app.authorize(Some(b"Basic s3cret"), None).is_err());
    }
}
