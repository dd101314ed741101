//! What the decoder yields: [`Frame`] and [`Message`].

use std::time::Duration;

/// One thing the decoder found in the stream: a dispatched event, a reconnection time, or a
/// comment.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use bytes::BytesMut;
/// use sse_core::parse::{Decoder, Frame};
///
/// let mut decoder = Decoder::new();
/// let mut buf = BytesMut::from(&b": ping\nretry: 2500\n"[..]);
/// assert_eq!(decoder.decode(&mut buf)?, Some(Frame::Comment("ping".into())));
/// assert_eq!(decoder.decode(&mut buf)?, Some(Frame::Retry(Duration::from_millis(2500))));
/// assert_eq!(decoder.decode(&mut buf)?, None);
/// # Ok::<(), sse_core::parse::ParseError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Frame {
    /// A blank line dispatched an event (a block with at least one `data` line).
    Event(Message),
    /// A valid `retry` field set the reconnection time. It applies at once, even if the
    /// block is never dispatched. Values beyond `u64::MAX` milliseconds saturate there.
    Retry(Duration),
    /// A comment line (one starting with `:`), without the colon and without one leading
    /// space, if any: `: ping` gives `"ping"`. Comments never change the parser's state.
    Comment(String),
}

/// A dispatched event, as a browser's `MessageEvent` would see it.
///
/// # Example
///
/// ```
/// use bytes::BytesMut;
/// use sse_core::parse::{Decoder, Frame, Message};
///
/// let mut decoder = Decoder::new();
/// let mut buf = BytesMut::from(&b"data: a\ndata: b\n\n"[..]);
/// let Some(Frame::Event(message)) = decoder.decode(&mut buf)? else { panic!() };
/// assert_eq!(
///     message,
///     Message { event: "message".into(), data: "a\nb".into(), last_event_id: String::new() }
/// );
/// # Ok::<(), sse_core::parse::ParseError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Message {
    /// The event type: the last `event` field of the block, or `"message"` when there was
    /// none or it was empty.
    pub event: String,
    /// The `data` lines of the block joined with LF (no trailing LF).
    pub data: String,
    /// The last event ID string at dispatch: the last valid `id` seen so far on this or an
    /// earlier connection, or `""` if none (or if the last one was empty).
    pub last_event_id: String,
}
