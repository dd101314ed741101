//! What an SSE response carries: the one header policy of the toolkit, used by every
//! responder (axum, actix-web, warp) and by both middlewares (sse-tower's `SseLayer`,
//! sse-actix's `SseMiddleware`).
//!
//! | header | value | why |
//! |---|---|---|
//! | `Content-Type` | `text/event-stream` | what makes it an event stream ([WHATWG]) |
//! | `Cache-Control` | `no-cache, no-transform`, unless the handler set its own | caches must not serve a stale stream; `no-transform` keeps CDNs and proxies from re-encoding or buffering it |
//! | `X-Accel-Buffering` | `no` | nginx passes each write on instead of buffering the response |
//! | `Content-Length` | never | the length of a stream is unknown |
//! | `Content-Encoding` | `identity`, unless the handler set one | see below |
//! | `Connection` | `keep-alive` on HTTP/1.x; none of the connection-specific headers on HTTP/2 and later | they are illegal there ([RFC 9113 §8.2.2]) |
//!
//! **Why `Content-Encoding: identity`.** A compression middleware buffers what it compresses,
//! so an event would reach the client only when a compressor block fills. tower-http's
//! `CompressionLayer` and actix-web's `Compress` both leave alone a response that already
//! has a `Content-Encoding`, whatever their predicate, so an SSE response marked `identity`
//! is never compressed, whichever side of the SSE middleware the compression middleware
//! stands on. The middleware sets it (see
//! [`SseConfig::identity_encoding`](crate::SseConfig::identity_encoding)); the actix-web
//! responder always sets it, since actix-web's `Compress` compresses any response without
//! one; the axum and warp responders leave it to `SseLayer`, since tower-http's compression
//! skips `text/event-stream` by default.
//!
//! [WHATWG]: https://html.spec.whatwg.org/multipage/server-sent-events.html
//! [RFC 9113 §8.2.2]: https://www.rfc-editor.org/rfc/rfc9113#section-8.2.2
//!
//! # Example
//!
//! ```
//! use sse_core::headers::{self, RESPONSE_HEADERS};
//!
//! let (name, value) = RESPONSE_HEADERS[1];
//! assert_eq!((name, value), ("cache-control", headers::CACHE_CONTROL));
//! assert_eq!(headers::CACHE_CONTROL, "no-cache, no-transform");
//! ```

/// The media type of an event stream, `text/event-stream`.
pub const CONTENT_TYPE: &str = "text/event-stream";

/// The `Cache-Control` of an SSE response, unless the handler set its own.
pub const CACHE_CONTROL: &str = "no-cache, no-transform";

/// The name of the `X-Accel-Buffering` header, whose value `no` tells nginx not to buffer
/// the response.
pub const X_ACCEL_BUFFERING: &str = "x-accel-buffering";

/// The headers every SSE response carries, as `(name, value)` pairs: the responders send
/// exactly these, and the middleware adds the ones a response lacks (a handler's own
/// `Cache-Control` and `Content-Type` parameters are kept).
pub const RESPONSE_HEADERS: [(&str, &str); 3] = [
    ("content-type", CONTENT_TYPE),
    ("cache-control", CACHE_CONTROL),
    (X_ACCEL_BUFFERING, "no"),
];

/// The connection-specific headers, which HTTP/2 and later forbid ([RFC 9113 §8.2.2]).
///
/// [RFC 9113 §8.2.2]: https://www.rfc-editor.org/rfc/rfc9113#section-8.2.2
pub const CONNECTION_SPECIFIC: [&str; 5] = [
    "connection",
    "transfer-encoding",
    "upgrade",
    "keep-alive",
    "proxy-connection",
];

/// A framework's header map, as far as the middleware's header policy needs it. The
/// adapters implement it for their framework's map (a newtype where the orphan rule asks for
/// one); not public API.
#[doc(hidden)]
pub trait HeaderMapMut {
    /// Whether the map holds `name` (lowercase).
    fn contains(&self, name: &'static str) -> bool;
    /// Sets `name` (lowercase) to `value`, replacing what was there.
    fn insert(&mut self, name: &'static str, value: &'static str);
    /// Removes every value of `name` (lowercase).
    fn remove(&mut self, name: &'static str);
}

/// How the server treats connection-specific headers; not public API.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionHeaders {
    /// HTTP/1.x: `Connection: keep-alive`.
    KeepAlive,
    /// HTTP/2 and later: every connection-specific header removed.
    Forbidden,
    /// The server writes or drops them itself (actix-web): left alone.
    ServerManaged,
}

/// Applies the policy above to the headers of an SSE response that passes through the
/// middleware: the [`RESPONSE_HEADERS`] it lacks (the handler's `Cache-Control` wins), no
/// `Content-Length`, `Content-Encoding: identity` if `identity_encoding` and none is set, and
/// the connection headers. Not public API.
#[doc(hidden)]
pub fn apply_middleware_policy(
    headers: &mut impl HeaderMapMut,
    connection: ConnectionHeaders,
    identity_encoding: bool,
) {
    for (name, value) in RESPONSE_HEADERS {
        // The response is an event stream already: its Content-Type (with any parameters)
        // stays, and so does a Cache-Control the handler chose.
        let handler_wins = name != X_ACCEL_BUFFERING;
        if !(handler_wins && headers.contains(name)) {
            headers.insert(name, value);
        }
    }
    headers.remove("content-length");
    if identity_encoding && !headers.contains("content-encoding") {
        headers.insert("content-encoding", "identity");
    }
    match connection {
        ConnectionHeaders::KeepAlive => headers.insert("connection", "keep-alive"),
        ConnectionHeaders::Forbidden => CONNECTION_SPECIFIC
            .into_iter()
            .for_each(|name| headers.remove(name)),
        ConnectionHeaders::ServerManaged => {}
    }
}

impl HeaderMapMut for http::HeaderMap {
    fn contains(&self, name: &'static str) -> bool {
        self.contains_key(name)
    }

    fn insert(&mut self, name: &'static str, value: &'static str) {
        self.insert(
            http::HeaderName::from_static(name),
            http::HeaderValue::from_static(value),
        );
    }

    fn remove(&mut self, name: &'static str) {
        self.remove(name);
    }
}

/// Whether a `Content-Encoding` value means the body is compressed (anything but
/// `identity`). Not public API.
#[doc(hidden)]
#[must_use]
pub fn is_compressed(content_encoding: Option<&[u8]>) -> bool {
    content_encoding.is_some_and(|value| !value.eq_ignore_ascii_case(b"identity"))
}

/// Whether one media type (`text/event-stream`, maybe with parameters, any case) is an event
/// stream.
///
/// ```
/// use sse_core::headers::is_event_stream;
///
/// assert!(is_event_stream("Text/Event-Stream; charset=utf-8"));
/// assert!(!is_event_stream("application/json"));
/// ```
#[must_use]
pub fn is_event_stream(media_type: &str) -> bool {
    let essence = media_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case(CONTENT_TYPE)
}

/// Whether any of the `Accept` header values `accept` lists `text/event-stream`
/// (case-insensitive, parameters allowed).
///
/// ```
/// use sse_core::headers::accepts_event_stream;
///
/// assert!(accepts_event_stream(["text/html, text/event-stream;q=0.9"]));
/// assert!(!accepts_event_stream(["application/json"]));
/// ```
#[must_use]
pub fn accepts_event_stream<'a>(accept: impl IntoIterator<Item = &'a str>) -> bool {
    accept
        .into_iter()
        .flat_map(|value| value.split(','))
        .any(is_event_stream)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{header, HeaderMap, HeaderValue};

    #[test]
    fn event_stream_media_types() {
        assert!(is_event_stream("text/event-stream"));
        assert!(is_event_stream("Text/Event-Stream; charset=utf-8"));
        assert!(is_event_stream(" text/event-stream ;charset=UTF-8"));
        assert!(!is_event_stream("text/event-streams"));
        assert!(!is_event_stream("application/json"));
    }

    #[test]
    fn accept_lists_are_searched() {
        assert!(!accepts_event_stream([]));
        assert!(!accepts_event_stream(["application/json"]));
        assert!(accepts_event_stream([
            "application/json",
            "text/html, Text/Event-Stream;q=0.9"
        ]));
    }

    #[test]
    fn compressed_means_any_encoding_but_identity() {
        assert!(!is_compressed(None));
        assert!(!is_compressed(Some(b"Identity")));
        assert!(is_compressed(Some(b"gzip")));
    }

    #[test]
    fn middleware_policy_follows_the_http_version() {
        let mut h1 = HeaderMap::new();
        h1.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream; charset=utf-8"),
        );
        h1.insert(header::CONTENT_LENGTH, HeaderValue::from(3));
        apply_middleware_policy(&mut h1, ConnectionHeaders::KeepAlive, true);
        assert_eq!(h1[header::CONNECTION], "keep-alive");
        assert_eq!(h1[header::CONTENT_TYPE], "text/event-stream; charset=utf-8");
        assert_eq!(h1[header::CACHE_CONTROL], "no-cache, no-transform");
        assert_eq!(h1["x-accel-buffering"], "no");
        assert_eq!(h1[header::CONTENT_ENCODING], "identity");
        assert!(!h1.contains_key(header::CONTENT_LENGTH));

        let mut h2 = HeaderMap::new();
        h2.insert(header::CONNECTION, HeaderValue::from_static("keep-alive"));
        h2.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h2.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        apply_middleware_policy(&mut h2, ConnectionHeaders::Forbidden, false);
        assert!(!h2.contains_key(header::CONNECTION));
        assert!(!h2.contains_key("keep-alive"));
        assert!(!h2.contains_key(header::CONTENT_ENCODING));
        assert_eq!(h2[header::CACHE_CONTROL], "no-store");

        let mut managed = HeaderMap::new();
        apply_middleware_policy(&mut managed, ConnectionHeaders::ServerManaged, true);
        assert!(!managed.contains_key(header::CONNECTION));
    }
}
