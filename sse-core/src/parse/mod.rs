//! An incremental event-stream parser that follows the WHATWG HTML "event stream
//! interpretation" rules exactly: bytes in, [`Frame`]s out, in chunks split anywhere.
//!
//! # Example
//!
//! ```
//! use bytes::BytesMut;
//! use sse_core::parse::{Decoder, Frame};
//!
//! let mut decoder = Decoder::new();
//! // Two chunks of one response body, split inside a CRLF.
//! let mut buf = BytesMut::from(&b"event: greeting\r\nid: 1\r\ndata: hello\r\n\r"[..]);
//! match decoder.decode(&mut buf)? {
//!     Some(Frame::Event(message)) => {
//!         assert_eq!(message.event, "greeting");
//!         assert_eq!(message.data, "hello");
//!         assert_eq!(message.last_event_id, "1");
//!     }
//!     other => panic!("expected an event, got {other:?}"),
//! }
//! buf.extend_from_slice(b"\ndata: unterminated");
//! assert_eq!(decoder.decode(&mut buf)?, None);
//! // The end of the body never dispatches (an unterminated block is dropped).
//! assert_eq!(decoder.decode_eof(&mut buf)?, None);
//! assert_eq!(decoder.last_event_id(), "1");
//! # Ok::<(), sse_core::parse::ParseError>(())
//! ```
//!
//! # What it does
//!
//! - Lines end with CRLF, LF or a lone CR, which may be mixed and may be split across
//!   chunks. A CR is acted on at once; an LF that follows it, even in the next chunk, is
//!   dropped.
//! - One UTF-8 byte order mark is removed at the start of each body, even if its three bytes
//!   arrive in different chunks. Invalid UTF-8 becomes U+FFFD (one per maximal ill-formed
//!   subsequence), also when a sequence is split across chunks.
//! - A `retry` field made of ASCII digits only is applied (and reported as
//!   [`Frame::Retry`]) at once, not when the event is dispatched. An empty `retry` value is
//!   ignored, and a value too large for `u64` milliseconds saturates at `u64::MAX` ms.
//! - An `id` containing NUL is ignored; any other `id` becomes the last event ID when the
//!   block ends with a blank line, whether or not the block fires an event.
//! - The end of a body never dispatches: [`Decoder::decode_eof`] drops an unterminated block
//!   together with any `id` in it.
//! - Comment lines are reported as [`Frame::Comment`] (an extra signal the spec allows for
//!   non-browser clients), for example to see heartbeats.
//!
//! # Differences from a browser's `EventSource`
//!
//! The decoder never reconnects: the client calls [`Decoder::reconnect`] before feeding the
//! next response body, which keeps the last event ID and the reconnection time. It also has
//! limits a browser does not have ([`Decoder::with_limits`]); exceeding one is a
//! [`ParseError`], never a silent truncation. Data that had CR or CRLF line breaks when the
//! server encoded it arrives with LF, as in every client.

mod decoder;
mod error;
mod frame;
mod stream;

pub use decoder::Decoder;
pub use error::{ParseError, StreamError};
pub use frame::{Frame, Message};
pub use stream::FrameStream;
