//! [`LastEventId`]: the id a reconnecting client sends.

use std::fmt;
use std::ops::Deref;

use http::HeaderMap;

/// The id of the last event a client saw, sent when it reconnects: read from the
/// `Last-Event-ID` header or the `lastEventId` query parameter that EventSource polyfills
/// send.
///
/// # Example
///
/// ```
/// use http::HeaderMap;
/// use sse_core::LastEventId;
///
/// let mut headers = HeaderMap::new();
/// headers.insert("last-event-id", "42".parse().unwrap());
/// let id = LastEventId::from_request(&headers, Some("topic=a"))?;
/// assert_eq!(id.as_deref(), Some("42"));
///
/// // Polyfills that cannot set headers put it in the query string.
/// let id = LastEventId::from_request(&HeaderMap::new(), Some("topic=a&lastEventId=7%2D1"))?;
/// assert_eq!(id.as_deref(), Some("7-1"));
/// # Ok::<(), sse_core::LastEventIdError>(())
/// ```
///
/// The value is untrusted input: it came from a stream, and a redirect may forward it. It is
/// accepted only when it is UTF-8, at most [`LastEventId::MAX_LEN`] bytes long and free of
/// NUL, CR and LF (the characters an `id:` field cannot carry). An empty value means the
/// client has no id, which is `None`, as a browser sends no header at all then.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LastEventId(String);

impl LastEventId {
    /// The longest id accepted, in bytes: 1 KiB. Ids should be far shorter (browsers send
    /// ids of up to 128 bytes without a CORS preflight).
    pub const MAX_LEN: usize = 1024;

    /// The name of the header, `Last-Event-ID`.
    pub const HEADER: &'static str = "last-event-id";

    /// The name of the query parameter polyfills use, `lastEventId`.
    pub const QUERY_PARAM: &'static str = "lastEventId";

    /// Checks `id` and wraps it.
    ///
    /// # Errors
    ///
    /// [`LastEventIdError`] if `id` is empty, too long or contains NUL, CR or LF.
    ///
    /// ```
    /// use sse_core::{LastEventId, LastEventIdError};
    ///
    /// assert_eq!(LastEventId::new("a-1").unwrap().as_str(), "a-1");
    /// assert_eq!(LastEventId::new("a\n1"), Err(LastEventIdError::InvalidChar));
    /// ```
    pub fn new(id: impl Into<String>) -> Result<Self, LastEventIdError> {
        let id = id.into();
        check(id.as_bytes())?;
        if id.is_empty() {
            return Err(LastEventIdError::Empty);
        }
        Ok(Self(id))
    }

    /// Reads a raw `Last-Event-ID` header value. An empty value is `Ok(None)`.
    ///
    /// # Errors
    ///
    /// [`LastEventIdError`] if the value is not UTF-8, too long or contains NUL, CR or LF.
    ///
    /// ```
    /// use sse_core::{LastEventId, LastEventIdError};
    ///
    /// assert_eq!(LastEventId::from_header_value(b"5")?.as_deref(), Some("5"));
    /// assert_eq!(LastEventId::from_header_value(b"")?, None);
    /// assert_eq!(LastEventId::from_header_value(b"\xff"), Err(LastEventIdError::NotUtf8));
    /// # Ok::<(), LastEventIdError>(())
    /// ```
    pub fn from_header_value(value: &[u8]) -> Result<Option<Self>, LastEventIdError> {
        check(value)?;
        let id = std::str::from_utf8(value).map_err(|_| LastEventIdError::NotUtf8)?;
        Ok((!id.is_empty()).then(|| Self(id.to_owned())))
    }

    /// Reads the `lastEventId` parameter of a URL query string (without the `?`),
    /// percent-decoded. A missing or empty parameter is `Ok(None)`; if it appears more than
    /// once, the first wins.
    ///
    /// # Errors
    ///
    /// [`LastEventIdError`] if the decoded value is not UTF-8, too long or contains NUL, CR
    /// or LF.
    ///
    /// ```
    /// use sse_core::{LastEventId, LastEventIdError};
    ///
    /// assert_eq!(LastEventId::from_query("lastEventId=a%20b")?.as_deref(), Some("a b"));
    /// assert_eq!(LastEventId::from_query("topic=x")?, None);
    /// assert_eq!(LastEventId::from_query("lastEventId=%0A"), Err(LastEventIdError::InvalidChar));
    /// # Ok::<(), LastEventIdError>(())
    /// ```
    pub fn from_query(query: &str) -> Result<Option<Self>, LastEventIdError> {
        for pair in query.split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            if key != Self::QUERY_PARAM {
                continue;
            }
            if value.len() > Self::MAX_LEN * 3 {
                return Err(LastEventIdError::TooLong);
            }
            let value = value.replace('+', " ");
            let decoded: Vec<u8> = percent_encoding::percent_decode_str(&value).collect();
            return Self::from_header_value(&decoded);
        }
        Ok(None)
    }

    /// Reads the id from a request: the `Last-Event-ID` header if present, else the
    /// `lastEventId` query parameter.
    ///
    /// # Errors
    ///
    /// [`LastEventIdError`] if the value found is malformed (a malformed header is not
    /// replaced by the query parameter).
    pub fn from_request(
        headers: &HeaderMap,
        query: Option<&str>,
    ) -> Result<Option<Self>, LastEventIdError> {
        Self::from_parts(headers.get(Self::HEADER).map(|v| v.as_bytes()), query)
    }

    /// Reads the id from the raw `Last-Event-ID` header value, if the request has the
    /// header, else from the URL query string (without the `?`): the precedence of
    /// [`from_request`](Self::from_request), for frameworks whose header types are not
    /// [`http`]'s.
    ///
    /// # Errors
    ///
    /// [`LastEventIdError`] if the value found is malformed (a malformed header is not
    /// replaced by the query parameter).
    ///
    /// ```
    /// use sse_core::{LastEventId, LastEventIdError};
    ///
    /// let id = LastEventId::from_parts(Some(b"h"), Some("lastEventId=q"))?;
    /// assert_eq!(id.as_deref(), Some("h"));
    /// assert_eq!(LastEventId::from_parts(None, Some("lastEventId=q"))?.as_deref(), Some("q"));
    /// assert_eq!(LastEventId::from_parts(Some(b"\n"), Some("lastEventId=q")), Err(LastEventIdError::InvalidChar));
    /// # Ok::<(), LastEventIdError>(())
    /// ```
    pub fn from_parts(
        header: Option<&[u8]>,
        query: Option<&str>,
    ) -> Result<Option<Self>, LastEventIdError> {
        match header {
            Some(value) => Self::from_header_value(value),
            None => query.map_or(Ok(None), Self::from_query),
        }
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id, by value.
    pub fn into_string(self) -> String {
        self.0
    }
}

fn check(value: &[u8]) -> Result<(), LastEventIdError> {
    if value.len() > LastEventId::MAX_LEN {
        return Err(LastEventIdError::TooLong);
    }
    if memchr::memchr3(0, b'\r', b'\n', value).is_some() {
        return Err(LastEventIdError::InvalidChar);
    }
    Ok(())
}

impl Deref for LastEventId {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for LastEventId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LastEventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a `Last-Event-ID` value was refused.
///
/// ```
/// use sse_core::{LastEventId, LastEventIdError};
///
/// let err = LastEventId::from_header_value(&[b'a'; 2000]).unwrap_err();
/// assert_eq!(err, LastEventIdError::TooLong);
/// assert_eq!(err.to_string(), "last event id is longer than 1024 bytes");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LastEventIdError {
    /// The value is not valid UTF-8.
    NotUtf8,
    /// The value contains NUL, CR or LF, which no `id:` field can carry.
    InvalidChar,
    /// The value is longer than [`LastEventId::MAX_LEN`] bytes.
    TooLong,
    /// The value is empty (only from [`LastEventId::new`]; readers return `None`).
    Empty,
}

impl fmt::Display for LastEventIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotUtf8 => f.write_str("last event id is not valid utf-8"),
            Self::InvalidChar => f.write_str("last event id contains NUL, CR or LF"),
            Self::TooLong => write!(
                f,
                "last event id is longer than {} bytes",
                LastEventId::MAX_LEN
            ),
            Self::Empty => f.write_str("last event id is empty"),
        }
    }
}

impl std::error::Error for LastEventIdError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_wins_over_query() {
        let mut headers = HeaderMap::new();
        headers.insert("last-event-id", "h".parse().unwrap());
        let id = LastEventId::from_request(&headers, Some("lastEventId=q")).unwrap();
        assert_eq!(id.as_deref(), Some("h"));
    }

    #[test]
    fn malformed_header_is_an_error_not_a_fallback() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "last-event-id",
            http::HeaderValue::from_bytes(b"\xc3\x28").unwrap(),
        );
        assert_eq!(
            LastEventId::from_request(&headers, Some("lastEventId=q")),
            Err(LastEventIdError::NotUtf8)
        );
    }

    #[test]
    fn query_value_is_percent_and_plus_decoded() {
        let id = LastEventId::from_query("a=1&lastEventId=x+y%2Bz&lastEventId=2").unwrap();
        assert_eq!(id.as_deref(), Some("x y+z"));
    }

    #[test]
    fn query_rejects_nul_and_bad_utf8() {
        assert_eq!(
            LastEventId::from_query("lastEventId=%00"),
            Err(LastEventIdError::InvalidChar)
        );
        assert_eq!(
            LastEventId::from_query("lastEventId=%FF"),
            Err(LastEventIdError::NotUtf8)
        );
    }

    #[test]
    fn length_limit_is_inclusive() {
        let max = "a".repeat(LastEventId::MAX_LEN);
        assert!(LastEventId::from_header_value(max.as_bytes()).is_ok());
        let over = "a".repeat(LastEventId::MAX_LEN + 1);
        assert_eq!(
            LastEventId::from_query(&format!("lastEventId={over}")),
            Err(LastEventIdError::TooLong)
        );
    }

    #[test]
    fn empty_values_are_none() {
        assert_eq!(LastEventId::from_query("lastEventId="), Ok(None));
        assert_eq!(LastEventId::from_query("lastEventId"), Ok(None));
        assert_eq!(LastEventId::from_request(&HeaderMap::new(), None), Ok(None));
        assert_eq!(LastEventId::new(""), Err(LastEventIdError::Empty));
    }
}
