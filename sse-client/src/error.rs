//! [`Error`]: what went wrong with a connection, and whether the event source goes on.

use std::{error::Error as StdError, fmt, time::Duration};

use reqwest::{
    header::{HeaderMap, HeaderValue},
    StatusCode,
};
use sse_core::parse::ParseError;

/// An error item of an [`EventSource`](crate::EventSource).
///
/// Most errors end only the current connection: the event source reconnects and the stream
/// goes on. After an error whose [`is_final`](Self::is_final) is true, the stream ends
/// (its next item is `None`).
///
/// ```
/// use sse_client::Error;
///
/// fn log(err: &Error) {
///     if err.is_final() {
///         eprintln!("event source closed: {err}");
///     } else {
///         eprintln!("reconnecting: {err}");
///     }
/// }
/// # let _ = log;
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The request could not be sent or its response head not read (refused, reset,
    /// DNS, TLS, ...). Not final: the event source reconnects; unless reqwest could not
    /// build the request at all (a URL scheme other than `http` or `https`, see
    /// [`reqwest::Error::is_builder`]), which no retry can fix.
    Request(reqwest::Error),
    /// Reading the response body failed. Not final: the event source reconnects, and the
    /// event that was being received is dropped.
    Body(reqwest::Error),
    /// No byte arrived for this long, neither a response head nor a part of the body. Not
    /// final: the event source drops the connection and reconnects.
    IdleTimeout(Duration),
    /// The server ended the response. Not final: the event source reconnects, as the spec
    /// asks; an event the server had not finished is dropped.
    Closed,
    /// The server answered with a status other than `200 OK` and `204 No Content`. Final,
    /// unless [`Config::retry_transient_status`](crate::Config::retry_transient_status)
    /// retries it ([`StatusError::will_retry`]).
    Status(StatusError),
    /// The server answered `200 OK` with a `Content-Type` other than `text/event-stream`
    /// (the value, if any). Final.
    ContentType(Option<HeaderValue>),
    /// The stream broke a line or event size limit
    /// ([`Config::max_line_len`](crate::Config::max_line_len),
    /// [`Config::max_event_len`](crate::Config::max_event_len)). Final: the connection is
    /// dropped at once.
    Parse(ParseError),
    /// [`Config::max_attempts`](crate::Config::max_attempts) connection attempts in a row
    /// failed; the last one failed with `last`. Final.
    Exhausted {
        /// The attempts made since the last healthy connection.
        attempts: u32,
        /// Why the last attempt failed.
        last: Box<Error>,
    },
}

impl Error {
    /// Whether this error ends the stream: `false` means the event source reconnects.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_client::Error;
    ///
    /// assert!(!Error::IdleTimeout(Duration::from_secs(45)).is_final());
    /// assert!(!Error::Closed.is_final());
    /// assert!(Error::ContentType(None).is_final());
    /// ```
    #[must_use]
    pub fn is_final(&self) -> bool {
        match self {
            Self::Request(err) => err.is_builder(),
            Self::Body(_) | Self::IdleTimeout(_) | Self::Closed => false,
            Self::Status(status) => !status.will_retry,
            Self::ContentType(_) | Self::Parse(_) | Self::Exhausted { .. } => true,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Request(_) => f.write_str("sending the request failed"),
            Self::Body(_) => f.write_str("reading the response body failed"),
            Self::IdleTimeout(idle) => write!(f, "nothing received for {idle:?}"),
            Self::Closed => f.write_str("the server closed the stream"),
            Self::Status(status) => write!(f, "unexpected status {}", status.status),
            Self::ContentType(Some(value)) => {
                write!(f, "content type {value:?} is not text/event-stream")
            }
            Self::ContentType(None) => f.write_str("response without a content type"),
            Self::Parse(_) => f.write_str("invalid event stream"),
            Self::Exhausted { attempts, .. } => {
                write!(f, "gave up after {attempts} connection attempts")
            }
        }
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Request(err) | Self::Body(err) => Some(err),
            Self::Parse(err) => Some(err),
            Self::Exhausted { last, .. } => Some(&**last),
            Self::IdleTimeout(_) | Self::Closed | Self::Status(_) | Self::ContentType(_) => None,
        }
    }
}

/// A response whose status was neither `200 OK` nor `204 No Content`: see
/// [`Error::Status`].
///
/// ```no_run
/// # async fn run(mut events: sse_client::EventSource) {
/// use futures_util::StreamExt;
/// use sse_client::Error;
///
/// while let Some(item) = events.next().await {
///     if let Err(Error::Status(status)) = &item {
///         eprintln!("{} (retry after {:?})", status.status(), status.retry_after());
///     }
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct StatusError {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) will_retry: bool,
}

impl StatusError {
    /// The response's status.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response's headers.
    #[must_use]
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The wait the response asked for with `Retry-After` (seconds or an HTTP date), if
    /// any and valid.
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// Whether the event source reconnects after this response (waiting at least
    /// [`retry_after`](Self::retry_after)).
    #[must_use]
    pub fn will_retry(&self) -> bool {
        self.will_retry
    }
}
