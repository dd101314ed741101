//! The case list (stable ids, each tied to the spec section it checks) and what each case
//! does against a target.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Method, Uri};
use sse_core::parse::{Frame, Message};
use tokio::time::Instant;

use crate::client::{Client, ClientError, HttpVersion, ReadError, Response};
use crate::publish::{PublishError, Publisher};
use crate::report::{Finding, Timing};

/// How much a case's verdict counts.
///
/// ```
/// use sse_conformance::{Level, CASES};
///
/// let should: Vec<&str> = CASES.iter().filter(|c| c.level == Level::Should).map(|c| c.id).collect();
/// assert_eq!(should, ["leading-retry", "heartbeat-interval", "x-accel-buffering"]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Required: a failure fails the run.
    Must,
    /// Recommended: run only with `--strict`, where a failure fails the run.
    Should,
    /// Reported, never failing the run unless configured (`--gap-event`).
    Info,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Must => "MUST",
            Self::Should => "SHOULD",
            Self::Info => "INFO",
        })
    }
}

/// A hook or ability a case needs from the target; without it the case is skipped.
///
/// ```
/// use sse_conformance::{Capability, CASES};
///
/// let resume = CASES.iter().find(|c| c.id == "resume-last-event-id").unwrap();
/// assert_eq!(resume.needs, Some(Capability::Publish));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Capability {
    /// A way to publish an event (`--publish` or `--publish-cmd`).
    Publish,
    /// HTTP/2 (h2c with prior knowledge on `http`, ALPN on `https`).
    Http2,
}

/// One conformance case.
///
/// ```
/// let case = sse_conformance::CASES.iter().find(|case| case.id == "content-type").unwrap();
/// assert_eq!(case.level, sse_conformance::Level::Must);
/// assert!(case.section.contains("9.2.3"));
/// ```
#[derive(Debug)]
pub struct Case {
    /// The stable id (`--only`, `--skip`, baselines and reports use it).
    pub id: &'static str,
    /// The spec or RFC section the case checks.
    pub section: &'static str,
    /// How much the verdict counts.
    pub level: Level,
    /// What the case needs from the target.
    pub needs: Option<Capability>,
    /// The requirement, in one sentence.
    pub requirement: &'static str,
    /// What a passing target shows, in short.
    pub expected: &'static str,
}

macro_rules! case {
    ($id:literal, $section:literal, $level:ident, $needs:expr, $requirement:literal, $expected:literal) => {
        Case {
            id: $id,
            section: $section,
            level: Level::$level,
            needs: $needs,
            requirement: $requirement,
            expected: $expected,
        }
    };
}

const PUBLISH: Option<Capability> = Some(Capability::Publish);

/// Every case, in the order they run.
///
/// ```
/// assert!(sse_conformance::CASES.iter().any(|case| case.id == "injection-cr"));
/// ```
pub static CASES: &[Case] = &[
    case!("status-200", "HTML 9.2.3 (processing model)", Must, None,
        "The stream answers 200; any other status makes EventSource fail or stop.", "200"),
    case!("content-type", "HTML 9.2.3; whatwg/html#7630 (MIME essence)", Must, None,
        "Content-Type is text/event-stream (parameters ignored).", "text/event-stream"),
    case!("cache-control", "HTML 9.2.7 authoring notes; RFC 9111 5.2.2", Must, None,
        "Cache-Control has no-cache or no-store, so no cache holds the stream.", "no-cache or no-store"),
    case!("no-content-length", "RFC 9110 8.6; RFC 9112 6.3", Must, None,
        "No Content-Length: an endless stream has no length, and a wrong one truncates it.", "no Content-Length"),
    case!("http2-no-connection-headers", "RFC 9113 8.2.2", Must, Some(Capability::Http2),
        "An HTTP/2 response carries no connection-specific header (Connection, Keep-Alive, Transfer-Encoding, Upgrade, Proxy-Connection); clients treat one as malformed.",
        "a well-formed HTTP/2 response"),
    case!("no-compression-gzip", "RFC 9110 8.4; HTML 9.2.7", Must, None,
        "Not compressed when the client accepts gzip: compressors hold bytes back until a block fills.", "no Content-Encoding; events arrive"),
    case!("no-compression-deflate", "RFC 9110 8.4; HTML 9.2.7", Must, None,
        "Not compressed when the client accepts deflate.", "no Content-Encoding; events arrive"),
    case!("no-compression-br", "RFC 9110 8.4; HTML 9.2.7", Must, None,
        "Not compressed when the client accepts br.", "no Content-Encoding; events arrive"),
    case!("no-compression-zstd", "RFC 9110 8.4; HTML 9.2.7", Must, None,
        "Not compressed when the client accepts zstd.", "no Content-Encoding; events arrive"),
    case!("first-event-prompt", "HTML 9.2.7 (flush after each event)", Must, PUBLISH,
        "An event published on an open stream arrives promptly, not held in a buffer.", "arrives within --prompt"),
    case!("event-order", "HTML 9.2.6 (dispatch in stream order)", Must, PUBLISH,
        "Events published one after another arrive in that order.", "5 events in publish order"),
    case!("id-echoed", "HTML 9.2.6 (the id field)", Must, PUBLISH,
        "Each event carries an id, the one the publisher was told (if it was told one).", "the event's id equals the published id"),
    case!("resume-last-event-id", "HTML 9.2.4 (Last-Event-ID)", Must, PUBLISH,
        "A reconnect with the Last-Event-ID header gets exactly the missed events, in order, no duplicates.", "B, C, then the new event M"),
    case!("resume-query", "EventSource polyfills' lastEventId query parameter", Must, PUBLISH,
        "A reconnect with ?lastEventId= gets exactly the missed events, in order, no duplicates.", "B, C, then the new event M"),
    case!("resume-unknown-id", "HTML 9.2.4; the server's declared gap policy", Info, PUBLISH,
        "An unknown Last-Event-ID yields a declared gap signal (--gap-event) or a documented choice.",
        "a gap event when --gap-event is given; otherwise reported"),
    case!("resume-too-old-id", "HTML 9.2.4; the server's declared gap policy", Info, PUBLISH,
        "A Last-Event-ID older than the replay buffer (--replay-size) yields a declared gap signal (--gap-event) or a documented choice.",
        "a gap event when --gap-event is given; otherwise reported"),
    case!("injection-cr", "HTML 9.2.5 (CR ends a line)", Must, PUBLISH,
        "Data with a CR arrives as one event with the same data (CR as a line break).", "one event, same data"),
    case!("injection-lf", "HTML 9.2.5 (LF ends a line)", Must, PUBLISH,
        "Data with an LF arrives as one event with the same data.", "one event, same data"),
    case!("injection-crlf", "HTML 9.2.5 (CRLF ends a line)", Must, PUBLISH,
        "Data with a CRLF arrives as one event with the same data.", "one event, same data"),
    case!("injection-fields", "HTML 9.2.6 (field lines)", Must, PUBLISH,
        "Data holding fake `event:`, `id:`, `retry:` and blank lines arrives as one event with the same data, changing nothing else.",
        "one event, same data, type and id untouched"),
    case!("injection-nul", "HTML 9.2.5 (NUL in data)", Must, PUBLISH,
        "Data with a NUL arrives unchanged as one event.", "one event, same data"),
    case!("idle-survival", "HTML 9.2.7 (proxies drop idle connections)", Must, None,
        "The stream stays open through --idle without events, never silent longer than --proxy-timeout, and still delivers after.",
        "open after --idle, silences below --proxy-timeout"),
    case!("leading-retry", "HTML 9.2.6 (the retry field)", Should, None,
        "The stream starts with a retry: field, so clients reconnect at the server's pace.", "retry: before the first event"),
    case!("heartbeat-interval", "HTML 9.2.7 (comment lines keep the connection alive)", Should, None,
        "An idle stream sends a heartbeat at least every --heartbeat.", "no silence longer than --heartbeat + tolerance"),
    case!("x-accel-buffering", "nginx proxy_buffering (X-Accel-Buffering)", Should, None,
        "X-Accel-Buffering: no, so nginx passes each event on at once.", "X-Accel-Buffering: no"),
];

/// The event type the checker publishes with.
pub(crate) const EVENT_TYPE: &str = "sse-conformance";

/// The settings the cases run with.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) version: HttpVersion,
    pub(crate) timeout: Duration,
    pub(crate) prompt: Duration,
    pub(crate) heartbeat: Duration,
    pub(crate) heartbeat_tolerance: Duration,
    pub(crate) idle: Duration,
    pub(crate) proxy_timeout: Duration,
    pub(crate) gap_event: Option<String>,
    pub(crate) replay_size: Option<u32>,
}

/// One endpoint under test.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub(crate) url: Uri,
    pub(crate) headers: HeaderMap,
    pub(crate) publisher: Option<Publisher>,
}

/// A problem that ends a case early; it becomes the case's "actual" text.
#[derive(Debug)]
pub(crate) struct Problem(pub(crate) String);

impl From<ClientError> for Problem {
    fn from(err: ClientError) -> Self {
        Self(err.to_string())
    }
}

impl From<PublishError> for Problem {
    fn from(err: PublishError) -> Self {
        Self(err.to_string())
    }
}

type CaseResult = Result<Finding, Problem>;

/// What a case run sees: the target, the client and the settings, plus the run's nonce that
/// marks the checker's own events.
pub(crate) struct Ctx<'a> {
    pub(crate) target: &'a Target,
    pub(crate) client: &'a Client,
    pub(crate) settings: &'a Settings,
    nonce: String,
    seq: std::sync::atomic::AtomicU32,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(target: &'a Target, client: &'a Client, settings: &'a Settings) -> Self {
        Self {
            target,
            client,
            settings,
            nonce: format!("c{:08x}", fastrand::u32(..)),
            seq: std::sync::atomic::AtomicU32::new(0),
        }
    }

    /// Opens the stream as EventSource does (`Accept: text/event-stream`,
    /// `Cache-Control: no-cache`), with the target's headers and `extra`.
    pub(crate) async fn open(
        &self,
        extra: &[(HeaderName, HeaderValue)],
        query: Option<(&str, &str)>,
        version: HttpVersion,
    ) -> Result<Response, ClientError> {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::ACCEPT,
            HeaderValue::from_static("text/event-stream"),
        );
        headers.insert(
            http::header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        );
        headers.extend(
            self.target
                .headers
                .iter()
                .map(|(n, v)| (n.clone(), v.clone())),
        );
        for (name, value) in extra {
            headers.insert(name.clone(), value.clone());
        }
        let uri = match query {
            Some((name, value)) => with_query(&self.target.url, name, value),
            None => self.target.url.clone(),
        };
        self.client
            .send(Method::GET, &uri, &headers, Bytes::new(), version)
            .await
    }

    async fn open_default(&self) -> Result<Response, ClientError> {
        self.open(&[], None, self.settings.version).await
    }

    fn deadline(&self) -> Instant {
        Instant::now() + self.settings.timeout
    }

    /// A fresh label: the run's nonce and a sequence number, which starts the data of every
    /// event the checker publishes, so that other traffic on the stream is told apart.
    fn label(&self) -> String {
        let n = self.seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        format!("{}-{n}", self.nonce)
    }

    fn is_ours(&self, message: &Message) -> bool {
        message.data.starts_with(&self.nonce)
    }

    async fn publish(&self, data: &str) -> Result<Option<String>, PublishError> {
        let publisher = self
            .target
            .publisher
            .as_ref()
            .ok_or_else(|| PublishError("no publish hook".into()))?;
        publisher
            .publish(
                self.client,
                &self.target.url,
                &self.target.headers,
                EVENT_TYPE,
                data,
            )
            .await
    }

    /// The next event the checker published, skipping other traffic.
    async fn next_ours(
        &self,
        response: &mut Response,
        deadline: Instant,
    ) -> Result<Message, ReadError> {
        loop {
            match next_event(response, deadline).await? {
                Some(message) if self.is_ours(&message) => return Ok(message),
                Some(_) => {}
                None => return Err(ReadError::Timeout),
            }
        }
    }
}

/// The next dispatched event; `None` when the body ends.
async fn next_event(
    response: &mut Response,
    deadline: Instant,
) -> Result<Option<Message>, ReadError> {
    loop {
        match response.next_frame(deadline).await? {
            Some(Frame::Event(message)) => return Ok(Some(message)),
            Some(_) => {}
            None => return Ok(None),
        }
    }
}

fn with_query(url: &Uri, name: &str, value: &str) -> Uri {
    let value: String = form_encode(value);
    let path = url.path();
    let query = match url.query() {
        Some(query) if !query.is_empty() => format!("{query}&{name}={value}"),
        _ => format!("{name}={value}"),
    };
    let mut parts = url.clone().into_parts();
    parts.path_and_query = Some(
        format!("{path}?{query}")
            .parse()
            .expect("a path with an encoded query parses"),
    );
    Uri::from_parts(parts).expect("the same URL with a query")
}

fn form_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Runs one case (its capability already checked).
pub(crate) async fn run(case: &Case, ctx: &Ctx<'_>) -> CaseResult {
    match case.id {
        "status-200" => status(ctx).await,
        "content-type" => content_type(ctx).await,
        "cache-control" => cache_control(ctx).await,
        "no-content-length" => no_content_length(ctx).await,
        "http2-no-connection-headers" => http2_connection_headers(ctx).await,
        "no-compression-gzip" => no_compression(ctx, "gzip").await,
        "no-compression-deflate" => no_compression(ctx, "deflate").await,
        "no-compression-br" => no_compression(ctx, "br").await,
        "no-compression-zstd" => no_compression(ctx, "zstd").await,
        "first-event-prompt" => first_event_prompt(ctx).await,
        "event-order" => event_order(ctx).await,
        "id-echoed" => id_echoed(ctx).await,
        "resume-last-event-id" => resume(ctx, Resume::Header).await,
        "resume-query" => resume(ctx, Resume::Query).await,
        "resume-unknown-id" => resume_unknown(ctx).await,
        "resume-too-old-id" => resume_too_old(ctx).await,
        "injection-cr" => injection(ctx, " a\rb", "a raw CR in the data ended the data line (split data at CR, LF and CRLF into data: lines)").await,
        "injection-lf" => injection(ctx, " a\nb", "a raw LF in the data ended the data line (split data at CR, LF and CRLF into data: lines)").await,
        "injection-crlf" => injection(ctx, " a\r\nb", "a raw CRLF in the data ended the data line (split data at CR, LF and CRLF into data: lines)").await,
        "injection-fields" => injection(ctx, "\nevent: injected\nid: injected\nretry: 1\n\ndata: injected\n: comment", "the data's lines were written as fields (every line of data needs its own data: prefix)").await,
        "injection-nul" => injection(ctx, " a\0b", "the NUL in the data was lost or changed").await,
        "idle-survival" => idle_survival(ctx).await,
        "leading-retry" => leading_retry(ctx).await,
        "heartbeat-interval" => heartbeat_interval(ctx).await,
        "x-accel-buffering" => x_accel_buffering(ctx).await,
        other => Err(Problem(format!("no such case: {other}"))),
    }
}

fn shown(value: Option<String>) -> String {
    value.unwrap_or_else(|| "(absent)".to_owned())
}

async fn status(ctx: &Ctx<'_>) -> CaseResult {
    let response = ctx.open_default().await?;
    let actual = response.status.to_string();
    Ok(Finding::check(
        response.status == http::StatusCode::OK,
        actual,
    ))
}

async fn content_type(ctx: &Ctx<'_>) -> CaseResult {
    let response = ctx.open_default().await?;
    let value = response.header("content-type");
    let essence = value.as_deref().map(|v| {
        v.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    let ok = essence.as_deref() == Some("text/event-stream");
    Ok(Finding::check(ok, shown(value)))
}

async fn cache_control(ctx: &Ctx<'_>) -> CaseResult {
    let response = ctx.open_default().await?;
    let values: Vec<String> = response
        .headers
        .get_all(http::header::CACHE_CONTROL)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    let ok = values.iter().flat_map(|v| v.split(',')).any(|directive| {
        let directive = directive.trim();
        directive.eq_ignore_ascii_case("no-cache") || directive.eq_ignore_ascii_case("no-store")
    });
    let actual = if values.is_empty() {
        "(absent)".to_owned()
    } else {
        values.join(", ")
    };
    Ok(Finding::check(ok, actual))
}

async fn no_content_length(ctx: &Ctx<'_>) -> CaseResult {
    let response = ctx.open_default().await?;
    let value = response.header("content-length");
    Ok(Finding::check(
        value.is_none(),
        value.map_or("(absent)".to_owned(), |v| format!("Content-Length: {v}")),
    ))
}

async fn x_accel_buffering(ctx: &Ctx<'_>) -> CaseResult {
    let response = ctx.open_default().await?;
    let value = response.header("x-accel-buffering");
    let ok = value
        .as_deref()
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("no"));
    Ok(Finding::check(ok, shown(value)))
}

/// The header fields RFC 9113 8.2.2 forbids in HTTP/2.
const CONNECTION_SPECIFIC: [&str; 5] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
];

async fn http2_connection_headers(ctx: &Ctx<'_>) -> CaseResult {
    if ctx.settings.version == HttpVersion::Http1 {
        return Ok(Finding::skipped("--http1 forces HTTP/1.1"));
    }
    let response = match ctx.open(&[], None, HttpVersion::Http2).await {
        Ok(response) => response,
        Err(ClientError::NoHttp2(why)) => {
            return Ok(Finding::skipped(format!(
                "the target does not speak HTTP/2 ({why})"
            )))
        }
        Err(err @ ClientError::MalformedHttp2(_)) => {
            return Ok(Finding::fail(format!(
            "the HTTP/2 response is malformed ({err}); the usual cause is a connection-specific \
                 header such as Connection or Keep-Alive, which HTTP/2 forbids"
        )))
        }
        Err(err) => return Err(err.into()),
    };
    let found: Vec<&str> = CONNECTION_SPECIFIC
        .into_iter()
        .filter(|name| response.headers.contains_key(*name))
        .collect();
    if found.is_empty() {
        Ok(Finding::pass(format!(
            "{:?} response without connection-specific headers",
            response.version
        )))
    } else {
        Ok(Finding::fail(format!(
            "connection-specific header(s) on HTTP/2: {}",
            found.join(", ")
        )))
    }
}

async fn no_compression(ctx: &Ctx<'_>, encoding: &str) -> CaseResult {
    let accept = HeaderValue::from_str(encoding).expect("an encoding name is a header value");
    let mut response = ctx
        .open(
            &[(http::header::ACCEPT_ENCODING, accept)],
            None,
            ctx.settings.version,
        )
        .await?;
    if let Some(coding) = response.header("content-encoding") {
        if !coding.trim().eq_ignore_ascii_case("identity") {
            return Ok(Finding::fail(format!(
                "Content-Encoding: {coding}: the stream is compressed, and a compressor holds \
                 events back until its block fills"
            )));
        }
    }
    if ctx.target.publisher.is_none() {
        return Ok(Finding::pass(
            "no Content-Encoding (no publish hook: delivery not checked)",
        ));
    }
    let label = ctx.label();
    ctx.publish(&label).await?;
    match ctx.next_ours(&mut response, ctx.deadline()).await {
        Ok(_) => Ok(Finding::pass("no Content-Encoding; the published event arrived")),
        Err(err) => Ok(Finding::fail(format!(
            "no Content-Encoding, but the published event did not arrive ({err}); first bytes: \"{}\"",
            response.raw_prefix()
        ))),
    }
}

async fn first_event_prompt(ctx: &Ctx<'_>) -> CaseResult {
    let mut response = ctx.open_default().await?;
    let label = ctx.label();
    let start = Instant::now();
    ctx.publish(&label).await?;
    let tolerance = ctx.settings.prompt;
    let deadline = start + ctx.settings.timeout.max(tolerance);
    let timing = |measured: Duration| Timing::new(measured, tolerance);
    match ctx.next_ours(&mut response, deadline).await {
        Ok(_) => {
            let measured = start.elapsed();
            let finding = if measured <= tolerance {
                Finding::pass(format!("arrived after {} ms", measured.as_millis()))
            } else {
                Finding::fail(format!(
                    "arrived after {} ms, more than {} ms: the response is buffered",
                    measured.as_millis(),
                    tolerance.as_millis()
                ))
            };
            Ok(finding.with_timing(timing(measured)))
        }
        Err(ReadError::Timeout) => Ok(Finding::fail(format!(
            "the published event did not arrive within {} ms: the response is buffered (by the \
             server, a compression layer or a proxy); bytes so far: \"{}\"",
            (deadline - start).as_millis(),
            response.raw_prefix()
        ))
        .with_timing(timing(deadline - start))),
        Err(err) => Ok(Finding::fail(err.to_string())),
    }
}

async fn event_order(ctx: &Ctx<'_>) -> CaseResult {
    let mut response = ctx.open_default().await?;
    let labels: Vec<String> = (0..5).map(|_| ctx.label()).collect();
    for label in &labels {
        ctx.publish(label).await?;
    }
    let deadline = ctx.deadline();
    let mut got = Vec::new();
    while got.len() < labels.len() {
        match ctx.next_ours(&mut response, deadline).await {
            Ok(message) => got.push(message.data),
            Err(err) => {
                return Ok(Finding::fail(format!(
                    "{} of {} events arrived ({err}): {}",
                    got.len(),
                    labels.len(),
                    got.join(", ")
                )))
            }
        }
    }
    let ok = got == labels;
    let actual = if ok {
        "5 events in publish order".to_owned()
    } else {
        format!("out of order: {}", got.join(", "))
    };
    Ok(Finding::check(ok, actual))
}

async fn id_echoed(ctx: &Ctx<'_>) -> CaseResult {
    let mut response = ctx.open_default().await?;
    let label = ctx.label();
    let published = ctx.publish(&label).await?;
    let message = match ctx.next_ours(&mut response, ctx.deadline()).await {
        Ok(message) => message,
        Err(err) => {
            return Ok(Finding::fail(format!(
                "the published event did not arrive ({err})"
            )))
        }
    };
    if message.last_event_id.is_empty() {
        return Ok(Finding::fail(
            "the event carries no id: a client that reconnects can't say what it has seen",
        ));
    }
    Ok(match published {
        Some(id) if id != message.last_event_id => Finding::fail(format!(
            "the publisher was told id {id:?}, the stream said {:?}",
            message.last_event_id
        )),
        Some(id) => Finding::pass(format!("id {id:?} on both")),
        None => Finding::pass(format!(
            "id {:?} (the publish hook reports no id to compare)",
            message.last_event_id
        )),
    })
}

#[derive(Clone, Copy)]
enum Resume {
    Header,
    Query,
}

/// Reads the checker's events until the one with data `until`, naming each by `names`
/// (data → short name); returns the names, and whether `until` arrived.
async fn collect_until(
    ctx: &Ctx<'_>,
    response: &mut Response,
    until: &str,
    names: &[(&str, &str)],
) -> (Vec<String>, Option<ReadError>) {
    let deadline = ctx.deadline();
    let mut got = Vec::new();
    loop {
        match ctx.next_ours(response, deadline).await {
            Ok(message) => {
                let name = names
                    .iter()
                    .find(|(data, _)| *data == message.data)
                    .map_or_else(|| message.data.clone(), |(_, name)| (*name).to_owned());
                got.push(name);
                if message.data == until {
                    return (got, None);
                }
                // A server that replays forever must not grow this list without bound.
                if got.len() > 64 {
                    return (got, Some(ReadError::Timeout));
                }
            }
            Err(err) => return (got, Some(err)),
        }
    }
}

async fn resume(ctx: &Ctx<'_>, via: Resume) -> CaseResult {
    let mut first = ctx.open_default().await?;
    let (a, b, c) = (ctx.label(), ctx.label(), ctx.label());
    for data in [&a, &b, &c] {
        ctx.publish(data).await?;
    }
    let deadline = ctx.deadline();
    let mut id_a = None;
    for _ in 0..3 {
        match ctx.next_ours(&mut first, deadline).await {
            Ok(message) if message.data == a => id_a = Some(message.last_event_id),
            Ok(_) => {}
            Err(err) => {
                return Ok(Finding::fail(format!(
                    "the three events published before reconnecting did not arrive ({err})"
                )))
            }
        }
    }
    drop(first);
    let Some(id_a) = id_a.filter(|id| !id.is_empty()) else {
        return Ok(Finding::fail(
            "event A carried no id, so there is nothing to resume from",
        ));
    };
    let mut second = match via {
        Resume::Header => {
            let value = HeaderValue::from_str(&id_a)
                .map_err(|_| Problem(format!("the id {id_a:?} can't be sent as a header")))?;
            ctx.open(
                &[(HeaderName::from_static("last-event-id"), value)],
                None,
                ctx.settings.version,
            )
            .await?
        }
        Resume::Query => {
            ctx.open(&[], Some(("lastEventId", &id_a)), ctx.settings.version)
                .await?
        }
    };
    if second.status != http::StatusCode::OK {
        return Ok(Finding::fail(format!(
            "the reconnect after A (id {id_a:?}) answered {}",
            second.status
        )));
    }
    let m = ctx.label();
    ctx.publish(&m).await?;
    let names = [
        (a.as_str(), "A"),
        (b.as_str(), "B"),
        (c.as_str(), "C"),
        (m.as_str(), "M"),
    ];
    let (got, error) = collect_until(ctx, &mut second, &m, &names).await;
    let list = if got.is_empty() {
        "nothing".to_owned()
    } else {
        got.join(", ")
    };
    if let Some(err) = error {
        return Ok(Finding::fail(format!(
            "got {list}, and the event M published after reconnecting did not arrive ({err})"
        )));
    }
    let expected = ["B", "C", "M"];
    if got == expected {
        return Ok(Finding::pass("B, C, M"));
    }
    let why = if got == ["M"] {
        "the missed events were not replayed".to_owned()
    } else if got.iter().any(|name| name == "A") {
        "A, the event the client named as seen, was sent again".to_owned()
    } else if let Some(name) = got
        .iter()
        .find(|name| got.iter().filter(|other| other == name).count() > 1)
    {
        format!("{name} arrived more than once (duplicated replay)")
    } else if got.len() < expected.len() {
        "missed events were lost".to_owned()
    } else {
        "the replay is out of order".to_owned()
    };
    Ok(Finding::fail(format!("got {list}: {why}")))
}

async fn resume_unknown(ctx: &Ctx<'_>) -> CaseResult {
    let unknown = format!("{}-unknown-id", ctx.nonce);
    gap_check(ctx, &unknown, "an unknown").await
}

async fn resume_too_old(ctx: &Ctx<'_>) -> CaseResult {
    let Some(size) = ctx.settings.replay_size else {
        return Ok(Finding::skipped(
            "needs --replay-size N (how many events the service holds for replay)",
        ));
    };
    let mut first = ctx.open_default().await?;
    let a = ctx.label();
    ctx.publish(&a).await?;
    let id = match ctx.next_ours(&mut first, ctx.deadline()).await {
        Ok(message) if !message.last_event_id.is_empty() => message.last_event_id,
        Ok(_) => return Ok(Finding::fail("the event carries no id to resume from")),
        Err(err) => {
            return Ok(Finding::fail(format!(
                "the published event did not arrive ({err})"
            )))
        }
    };
    drop(first);
    // One more than the buffer holds, so that the event right after A is gone too.
    for _ in 0..=size {
        ctx.publish(&ctx.label()).await?;
    }
    gap_check(ctx, &id, "a too-old").await
}

/// Reconnects with `id` (`what` says how it is wrong), publishes a marker and reports what
/// came before it; with `--gap-event`, passes only when that event came.
async fn gap_check(ctx: &Ctx<'_>, id: &str, what: &str) -> CaseResult {
    let value = HeaderValue::from_str(id)
        .map_err(|_| Problem(format!("the id {id:?} can't be sent as a header")))?;
    let mut response = ctx
        .open(
            &[(HeaderName::from_static("last-event-id"), value)],
            None,
            ctx.settings.version,
        )
        .await?;
    let gap_event = ctx.settings.gap_event.as_deref();
    if response.status != http::StatusCode::OK {
        let actual = format!("answered {} to {what} Last-Event-ID", response.status);
        return Ok(match gap_event {
            Some(_) => Finding::fail(actual),
            None => Finding::info(actual),
        });
    }
    let m = ctx.label();
    ctx.publish(&m).await?;
    let deadline = ctx.deadline();
    let mut before: Vec<(String, usize)> = Vec::new();
    let mut replayed = 0;
    loop {
        match next_event(&mut response, deadline).await {
            Ok(Some(message)) if message.data == m => break,
            Ok(Some(message)) => {
                replayed += usize::from(ctx.is_ours(&message));
                // Counted by type, in order of first appearance; a few types are enough to
                // describe what the server chose, and the list stays bounded.
                if let Some((_, count)) = before.iter_mut().find(|(e, _)| *e == message.event) {
                    *count += 1;
                } else if before.len() < 8 {
                    before.push((message.event, 1));
                }
            }
            Ok(None) | Err(_) => {
                return Ok(Finding::fail(
                    "the event published after connecting did not arrive",
                ))
            }
        }
    }
    let described = if before.is_empty() {
        "nothing before the new event (a silent gap)".to_owned()
    } else {
        let types: Vec<String> = before
            .iter()
            .map(|(event, count)| format!("{event} x{count}"))
            .collect();
        let replay = if replayed > 0 {
            format!(" ({replayed} of this run's earlier events: a replay from the oldest held)")
        } else {
            String::new()
        };
        format!("before the new event: {}{replay}", types.join(", "))
    };
    Ok(match gap_event {
        Some(name) if before.iter().any(|(event, _)| event == name) => Finding::pass(described),
        Some(name) => Finding::fail(format!("no `{name}` event: {described}")),
        None => Finding::info(described),
    })
}

async fn injection(ctx: &Ctx<'_>, payload: &str, hint: &str) -> CaseResult {
    let mut response = ctx.open_default().await?;
    let data = format!("{}{payload}", ctx.label());
    // The protocol turns every CR, LF and CRLF in data into LF.
    let expected = data.replace("\r\n", "\n").replace('\r', "\n");
    ctx.publish(&data).await?;
    let marker = ctx.label();
    ctx.publish(&marker).await?;
    let deadline = ctx.deadline();
    let mut events: Vec<Message> = Vec::new();
    loop {
        match next_event(&mut response, deadline).await {
            Ok(Some(message)) if message.data == marker => break,
            Ok(Some(message)) => {
                if events.len() < 16 {
                    events.push(message);
                }
            }
            Ok(None) | Err(_) => {
                return Ok(Finding::fail(format!(
                    "the events did not arrive; bytes so far: \"{}\"",
                    response.raw_prefix()
                )))
            }
        }
    }
    let ours: Vec<&Message> = events.iter().filter(|m| ctx.is_ours(m)).collect();
    let Some(first) = ours.first() else {
        return Ok(Finding::fail(format!("the event did not arrive: {hint}")));
    };
    if first.data != expected {
        return Ok(Finding::fail(format!(
            "data arrived as {:?} instead of {:?}: {hint}",
            first.data, expected
        )));
    }
    if events.len() > 1 {
        return Ok(Finding::fail(format!(
            "the data arrived as {} events: {hint}",
            events.len()
        )));
    }
    if first.event == "injected" || first.last_event_id == "injected" {
        return Ok(Finding::fail(format!(
            "the event's type or id was set from the data (type {:?}, id {:?}): {hint}",
            first.event, first.last_event_id
        )));
    }
    Ok(Finding::pass("one event, same data"))
}

async fn leading_retry(ctx: &Ctx<'_>) -> CaseResult {
    let mut response = ctx.open_default().await?;
    let deadline = ctx.deadline();
    loop {
        match response.next_frame(deadline).await {
            Ok(Some(Frame::Retry(retry))) => {
                return Ok(Finding::pass(format!("retry: {}", retry.as_millis())))
            }
            Ok(Some(Frame::Event(_))) => {
                return Ok(Finding::fail("an event came before any retry: field"))
            }
            Ok(Some(_)) => {}
            Ok(None) => return Ok(Finding::fail("the stream ended without a retry: field")),
            Err(ReadError::Timeout) => {
                return Ok(Finding::fail(format!(
                    "no retry: field within {} ms; bytes: \"{}\"",
                    ctx.settings.timeout.as_millis(),
                    response.raw_prefix()
                )))
            }
            Err(err) => return Ok(Finding::fail(err.to_string())),
        }
    }
}

/// Reads and drops everything the stream sends until `until`; `Err` saying how the stream
/// ended when it ends first.
async fn watch(response: &mut Response, until: Instant) -> Result<(), String> {
    loop {
        let (ended, why) = match response.next_chunk(until).await {
            Ok(Some(_)) => continue,
            Err(ReadError::Timeout) => return Ok(()),
            Ok(None) => ("ended", String::new()),
            Err(err) => ("was cut", format!(" ({err})")),
        };
        return Err(format!(
            "the stream {ended} after {} ms{why}",
            response.opened().elapsed().as_millis()
        ));
    }
}

async fn heartbeat_interval(ctx: &Ctx<'_>) -> CaseResult {
    let mut response = ctx.open_default().await?;
    let limit = ctx.settings.heartbeat + ctx.settings.heartbeat_tolerance;
    // Two whole intervals show that heartbeats repeat, not just that one came.
    let until = response.opened() + limit * 2;
    watch(&mut response, until).await.map_err(Problem)?;
    let silence = response.longest_silence();
    let timing = Timing::new(silence, limit);
    let finding = if silence <= limit {
        Finding::pass(format!("longest silence {} ms", silence.as_millis()))
    } else {
        Finding::fail(format!(
            "silent for {} ms, more than {} ms: no heartbeat on an idle stream",
            silence.as_millis(),
            limit.as_millis()
        ))
    };
    Ok(finding.with_timing(timing))
}

async fn idle_survival(ctx: &Ctx<'_>) -> CaseResult {
    let mut response = ctx.open_default().await?;
    let until = response.opened() + ctx.settings.idle;
    if let Err(why) = watch(&mut response, until).await {
        return Ok(Finding::fail(format!(
            "{why}, within a {} ms idle period: proxies close streams that stay silent, \
             heartbeats keep them open",
            ctx.settings.idle.as_millis()
        )));
    }
    let silence = response.longest_silence();
    let limit = ctx.settings.proxy_timeout;
    let timing = Timing::new(silence, limit);
    if silence >= limit {
        return Ok(Finding::fail(format!(
            "silent for {} ms: a proxy that drops connections idle for {} ms closes it (no heartbeats)",
            silence.as_millis(),
            limit.as_millis()
        ))
        .with_timing(timing));
    }
    if ctx.target.publisher.is_some() {
        let label = ctx.label();
        ctx.publish(&label).await?;
        if let Err(err) = ctx.next_ours(&mut response, ctx.deadline()).await {
            return Ok(Finding::fail(format!(
                "open after the idle period, but an event published then did not arrive ({err})"
            ))
            .with_timing(timing));
        }
    }
    Ok(Finding::pass(format!(
        "open after {} ms idle, longest silence {} ms",
        ctx.settings.idle.as_millis(),
        silence.as_millis()
    ))
    .with_timing(timing))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_ids_are_unique_and_kebab_case() {
        let mut ids: Vec<&str> = CASES.iter().map(|case| case.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), CASES.len());
        assert!(CASES.iter().all(|case| case
            .id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')));
    }

    #[test]
    fn the_resume_query_is_appended_encoded() {
        let url: Uri = "http://h/events?topic=a".parse().unwrap();
        assert_eq!(
            with_query(&url, "lastEventId", "e 1/2"),
            "http://h/events?topic=a&lastEventId=e%201%2F2"
        );
        let url: Uri = "http://h/events".parse().unwrap();
        assert_eq!(
            with_query(&url, "lastEventId", "7"),
            "http://h/events?lastEventId=7"
        );
    }
}
