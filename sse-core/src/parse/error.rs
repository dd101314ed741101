//! Errors of the decoder and of the frame stream.

use std::{error::Error, fmt, io};

/// Why the decoder stopped: a limit was exceeded, or (through the `tokio_util` codec) the
/// reader failed.
///
/// After an error the decoder drops the rest of the current body (it holds nothing more, so
/// memory stays bounded) until [`Decoder::reconnect`](super::Decoder::reconnect).
///
/// # Example
///
/// ```
/// use bytes::BytesMut;
/// use sse_core::parse::{Decoder, ParseError};
///
/// let mut decoder = Decoder::with_limits(8, 1024);
/// let mut buf = BytesMut::from(&b"data: far too long"[..]);
/// let err = decoder.decode(&mut buf).unwrap_err();
/// assert!(matches!(err, ParseError::LineTooLong { limit: 8 }));
/// assert_eq!(err.to_string(), "line longer than 8 bytes");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum ParseError {
    /// A line (without its terminator) was longer than the decoder's line limit.
    LineTooLong {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The data of one event (its `data` lines, each with one LF) grew beyond the decoder's
    /// event limit.
    EventTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// Reading the byte stream failed (only from the `tokio_util` codec, whose framing
    /// needs errors convertible from [`io::Error`]).
    Io(io::Error),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LineTooLong { limit } => write!(f, "line longer than {limit} bytes"),
            Self::EventTooLarge { limit } => write!(f, "event data larger than {limit} bytes"),
            Self::Io(_) => f.write_str("reading the event stream failed"),
        }
    }
}

impl Error for ParseError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::Io(err) => Some(err),
            _ => None,
        }
    }
}

impl From<io::Error> for ParseError {
    fn from(err: io::Error) -> Self {
        Self::Io(err)
    }
}

/// The error of a [`FrameStream`](super::FrameStream): the byte stream failed, or its bytes
/// could not be parsed.
///
/// # Example
///
/// ```
/// use sse_core::parse::{ParseError, StreamError};
///
/// let err: StreamError<std::io::Error> = StreamError::Parse(ParseError::LineTooLong { limit: 8 });
/// assert_eq!(err.to_string(), "invalid event stream");
/// assert!(std::error::Error::source(&err).is_some());
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum StreamError<E> {
    /// The byte stream (for example an HTTP response body) yielded an error. The frame
    /// stream passes it on and keeps polling the byte stream.
    Body(E),
    /// The bytes broke a limit of the decoder. The frame stream drops the rest of the body.
    Parse(ParseError),
}

impl<E> fmt::Display for StreamError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Body(_) => "reading the event stream failed",
            Self::Parse(_) => "invalid event stream",
        })
    }
}

impl<E: Error + 'static> Error for StreamError<E> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::Body(err) => Some(err),
            Self::Parse(err) => Some(err),
        }
    }
}

impl<E> From<ParseError> for StreamError<E> {
    fn from(err: ParseError) -> Self {
        Self::Parse(err)
    }
}
