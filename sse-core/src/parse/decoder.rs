//! The incremental decoder.

use std::{borrow::Cow, mem, time::Duration};

use bytes::{Buf, BytesMut};

use super::{Frame, Message, ParseError};
use crate::line_breaks::LineBreaks;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The largest data buffer the decoder keeps between events; a larger one goes to the
/// event that grew it.
const RETAINED_DATA_CAPACITY: usize = 16 << 10;

/// The largest event type buffer the decoder keeps between events (types are short names).
const RETAINED_EVENT_TYPE_CAPACITY: usize = 256;

/// The incremental parser of one event source: it turns the bytes of response bodies into
/// [`Frame`]s, and keeps the last event ID and the reconnection time across connections.
///
/// Feed it a [`BytesMut`] with [`decode`](Self::decode) (complete lines are consumed, a
/// partial line stays in the buffer and is never scanned twice), end each body with
/// [`decode_eof`](Self::decode_eof), and call [`reconnect`](Self::reconnect) before the
/// next body. It is also a [`tokio_util::codec::Decoder`] (feature `tokio`), and
/// [`FrameStream`](super::FrameStream) drives it over any stream of byte chunks. See the
/// [module docs](super) for the rules it follows.
///
/// # Limits
///
/// A line longer than [`DEFAULT_MAX_LINE_LEN`](Self::DEFAULT_MAX_LINE_LEN) (2 MiB) or an
/// event whose data grows beyond [`DEFAULT_MAX_EVENT_LEN`](Self::DEFAULT_MAX_EVENT_LEN)
/// (8 MiB) is a [`ParseError`]; [`with_limits`](Self::with_limits) changes them. The defaults
/// let a 1 MiB data line through with room to spare. Memory stays bounded by about one line
/// limit for the partial line (plus the caller's chunk), one event limit for the data, and a
/// line limit each for the event type and id.
///
/// # Example
///
/// ```
/// use bytes::BytesMut;
/// use sse_core::parse::{Decoder, Frame};
///
/// let mut decoder = Decoder::new().with_last_event_id("41");
/// let mut buf = BytesMut::new();
/// let mut events = Vec::new();
/// for chunk in [&b"data: a\r"[..], b"\n\r\nid: 42\ndata: b\n", b"\n"] {
///     buf.extend_from_slice(chunk);
///     while let Some(frame) = decoder.decode(&mut buf)? {
///         if let Frame::Event(message) = frame {
///             events.push((message.data, message.last_event_id));
///         }
///     }
/// }
/// assert_eq!(events, [("a".into(), "41".into()), ("b".into(), "42".into())]);
/// # Ok::<(), sse_core::parse::ParseError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Decoder {
    max_line: usize,
    max_event: usize,

    // The event source's state, kept across connections.
    last_event_id: String,
    retry: Option<Duration>,

    // One connection's state.
    /// Whether a BOM may still come (nothing of the body has been consumed yet).
    bom_possible: bool,
    /// The last consumed byte was a CR ending a line: a LF right after it is dropped.
    after_cr: bool,
    /// How many bytes of the partial line at the start of the input hold no CR or LF.
    scanned: usize,
    /// An error ended this body: drop input until `reconnect`.
    failed: bool,
    data: String,
    /// The text of the last `event` field, kept after its event fired: a stream that names
    /// the same type again and again then needs no copy and no UTF-8 check for it.
    event_type: String,
    /// Whether the current block has set the event type (to `event_type`).
    event_type_set: bool,
    id_buffer: String,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    /// The default line limit, 2 MiB (a line is counted without its terminator).
    ///
    /// ```
    /// assert_eq!(sse_core::parse::Decoder::DEFAULT_MAX_LINE_LEN, 2 << 20);
    /// ```
    pub const DEFAULT_MAX_LINE_LEN: usize = 2 << 20;

    /// The default limit of one event's data, 8 MiB (its `data` values plus one LF each).
    ///
    /// ```
    /// assert_eq!(sse_core::parse::Decoder::DEFAULT_MAX_EVENT_LEN, 8 << 20);
    /// ```
    pub const DEFAULT_MAX_EVENT_LEN: usize = 8 << 20;

    /// A decoder with the default limits, no last event ID and no reconnection time.
    ///
    /// ```
    /// let decoder = sse_core::parse::Decoder::new();
    /// assert_eq!(decoder.last_event_id(), "");
    /// assert_eq!(decoder.retry(), None);
    /// ```
    #[must_use]
    pub const fn new() -> Self {
        Self::with_limits(Self::DEFAULT_MAX_LINE_LEN, Self::DEFAULT_MAX_EVENT_LEN)
    }

    /// A decoder whose lines may be at most `max_line` bytes (without the terminator) and
    /// whose events may carry at most `max_event` bytes of data (each `data` value plus one
    /// LF). Pass `usize::MAX` for no limit.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use sse_core::parse::{Decoder, ParseError};
    ///
    /// let mut decoder = Decoder::with_limits(64, 8);
    /// let mut buf = BytesMut::from(&b"data: 1234\ndata: 5678\n\n"[..]);
    /// let err = decoder.decode(&mut buf).unwrap_err();
    /// assert!(matches!(err, ParseError::EventTooLarge { limit: 8 }));
    /// ```
    #[must_use]
    pub const fn with_limits(max_line: usize, max_event: usize) -> Self {
        Self {
            max_line,
            max_event,
            last_event_id: String::new(),
            retry: None,
            bom_possible: true,
            after_cr: false,
            scanned: 0,
            failed: false,
            data: String::new(),
            event_type: String::new(),
            event_type_set: false,
            id_buffer: String::new(),
        }
    }

    /// Seeds the last event ID, for example from storage, as if an earlier connection had
    /// ended with it.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use sse_core::parse::{Decoder, Frame};
    ///
    /// let mut decoder = Decoder::new().with_last_event_id("41");
    /// assert_eq!(decoder.last_event_id(), "41");
    /// let mut buf = BytesMut::from(&b"data: x\n\n"[..]);
    /// let Some(Frame::Event(message)) = decoder.decode(&mut buf)? else { panic!() };
    /// assert_eq!(message.last_event_id, "41");
    /// # Ok::<(), sse_core::parse::ParseError>(())
    /// ```
    #[must_use]
    pub fn with_last_event_id(mut self, id: impl Into<String>) -> Self {
        self.last_event_id = id.into();
        self.id_buffer.clone_from(&self.last_event_id);
        self
    }

    /// The last event ID string: what a client sends as `Last-Event-ID` when it reconnects
    /// (no header when it is empty).
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use sse_core::parse::Decoder;
    ///
    /// let mut decoder = Decoder::new();
    /// // An id-only block fires no event but still sets the id at its blank line.
    /// let mut buf = BytesMut::from(&b"id: 7\n"[..]);
    /// decoder.decode(&mut buf)?;
    /// assert_eq!(decoder.last_event_id(), "");
    /// buf.extend_from_slice(b"\n");
    /// assert_eq!(decoder.decode(&mut buf)?, None);
    /// assert_eq!(decoder.last_event_id(), "7");
    /// # Ok::<(), sse_core::parse::ParseError>(())
    /// ```
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// The reconnection time the stream asked for with its last valid `retry` field, if any.
    ///
    /// ```
    /// use std::time::Duration;
    /// use bytes::BytesMut;
    /// use sse_core::parse::Decoder;
    ///
    /// let mut decoder = Decoder::new();
    /// let mut buf = BytesMut::from(&b"retry: 03000\nretry: 1e3\n"[..]);
    /// while decoder.decode(&mut buf)?.is_some() {}
    /// assert_eq!(decoder.retry(), Some(Duration::from_secs(3)));
    /// # Ok::<(), sse_core::parse::ParseError>(())
    /// ```
    pub fn retry(&self) -> Option<Duration> {
        self.retry
    }

    /// Starts a new connection: keeps the last event ID and the reconnection time, and
    /// resets everything else (BOM, partial line, pending data, event type and id). Start the
    /// new body with an empty buffer.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use sse_core::parse::{Decoder, Frame};
    ///
    /// let mut decoder = Decoder::new();
    /// let mut buf = BytesMut::from(&b"id: 1\ndata: a\n\nid: 2\ndata: cut off"[..]);
    /// while decoder.decode(&mut buf)?.is_some() {}
    /// decoder.reconnect();
    /// buf.clear();
    /// assert_eq!(decoder.last_event_id(), "1");
    /// buf.extend_from_slice(b"data: b\n\n");
    /// let Some(Frame::Event(message)) = decoder.decode(&mut buf)? else { panic!() };
    /// assert_eq!((message.data.as_str(), message.last_event_id.as_str()), ("b", "1"));
    /// # Ok::<(), sse_core::parse::ParseError>(())
    /// ```
    pub fn reconnect(&mut self) {
        self.bom_possible = true;
        self.after_cr = false;
        self.scanned = 0;
        self.failed = false;
        self.release_data();
        self.event_type_set = false;
        self.id_buffer.clone_from(&self.last_event_id);
    }

    /// Decodes the next frame from `buf`, consuming the lines it read. Returns `Ok(None)`
    /// when `buf` holds no further complete line; the partial line stays in `buf`, and only
    /// the bytes added to it later are scanned.
    ///
    /// # Errors
    ///
    /// [`ParseError::LineTooLong`] or [`ParseError::EventTooLarge`] when a limit is exceeded.
    /// The decoder then clears `buf`, and drops any further input of this body (returning
    /// `Ok(None)`) until [`reconnect`](Self::reconnect).
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use sse_core::parse::{Decoder, Frame};
    ///
    /// let mut decoder = Decoder::new();
    /// let mut buf = BytesMut::from(&b"data: x\n\ndata: partial"[..]);
    /// assert!(matches!(decoder.decode(&mut buf)?, Some(Frame::Event(_))));
    /// assert_eq!(decoder.decode(&mut buf)?, None);
    /// assert_eq!(&buf[..], b"data: partial");
    /// # Ok::<(), sse_core::parse::ParseError>(())
    /// ```
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, ParseError> {
        if self.failed {
            buf.clear();
            return Ok(None);
        }
        match self.next_frame(buf) {
            Ok((consumed, frame)) => {
                buf.advance(consumed);
                Ok(frame)
            }
            Err(err) => {
                buf.clear();
                self.fail();
                Err(err)
            }
        }
    }

    /// Decodes what is left at the end of a body: the frames of its remaining complete
    /// lines, then `Ok(None)` once the unterminated rest (a partial line, and a block not
    /// ended by a blank line, with its `id`) has been dropped, as the spec requires: the end
    /// of a body never dispatches. After `Ok(None)` the decoder is ready for the next body,
    /// as after [`reconnect`](Self::reconnect).
    ///
    /// # Errors
    ///
    /// As [`decode`](Self::decode).
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use sse_core::parse::Decoder;
    ///
    /// let mut decoder = Decoder::new();
    /// let mut buf = BytesMut::from(&b"id: 5\ndata: never dispatched\n"[..]);
    /// assert_eq!(decoder.decode_eof(&mut buf)?, None);
    /// assert!(buf.is_empty());
    /// assert_eq!(decoder.last_event_id(), "");
    /// # Ok::<(), sse_core::parse::ParseError>(())
    /// ```
    pub fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, ParseError> {
        let frame = self.decode(buf)?;
        if frame.is_none() {
            buf.clear();
            self.reconnect();
        }
        Ok(frame)
    }

    /// Empties the data buffer, and frees it if a large event (cut off by the end of the
    /// body) grew it: an idle stream keeps no more than `RETAINED_DATA_CAPACITY`.
    fn release_data(&mut self) {
        if self.data.capacity() > RETAINED_DATA_CAPACITY {
            self.data = String::new();
        } else {
            self.data.clear();
        }
    }

    /// Drops this body's pending state after an error, so memory is released at once.
    fn fail(&mut self) {
        self.failed = true;
        self.scanned = 0;
        self.data = String::new();
        self.event_type = String::new();
        self.event_type_set = false;
        self.id_buffer.clone_from(&self.last_event_id);
    }

    /// Reads lines from the start of `input` until one yields a frame or no complete line
    /// is left. Returns how many bytes were consumed and the frame.
    fn next_frame(&mut self, input: &[u8]) -> Result<(usize, Option<Frame>), ParseError> {
        let mut pos = 0;
        if self.bom_possible {
            if input.len() < BOM.len() && BOM.starts_with(input) {
                // Maybe a BOM split across chunks (or an empty input): wait for more.
                return Ok((0, None));
            }
            self.bom_possible = false;
            if input.starts_with(BOM) {
                pos = BOM.len();
            }
        }
        let breaks = LineBreaks::get();
        loop {
            let rest = &input[pos..];
            if self.after_cr {
                match rest.first() {
                    None => return Ok((pos, None)),
                    Some(&b'\n') => {
                        self.after_cr = false;
                        pos += 1;
                        continue;
                    }
                    Some(_) => self.after_cr = false,
                }
            }
            // A caller that shrank the buffer gets a rescan, not a panic.
            let scanned = self.scanned.min(rest.len());
            let Some(offset) = breaks.find(&rest[scanned..]) else {
                if rest.len() > self.max_line {
                    return Err(ParseError::LineTooLong {
                        limit: self.max_line,
                    });
                }
                self.scanned = rest.len();
                return Ok((pos, None));
            };
            let end = scanned + offset;
            self.scanned = 0;
            if end > self.max_line {
                return Err(ParseError::LineTooLong {
                    limit: self.max_line,
                });
            }
            let line = &rest[..end];
            pos += end + 1;
            if rest[end] == b'\r' {
                match rest.get(end + 1) {
                    Some(&b'\n') => pos += 1,
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
            if let Some(frame) = self.line(line)? {
                return Ok((pos, Some(frame)));
            }
        }
    }

    /// Interprets one line (without its terminator).
    fn line(&mut self, line: &[u8]) -> Result<Option<Frame>, ParseError> {
        if line.is_empty() {
            return Ok(self.dispatch());
        }
        let (name, value) = match find_colon(line) {
            Some(0) => {
                let text = strip_one_space(&line[1..]);
                return Ok(Some(Frame::Comment(decode_utf8(text).into_owned())));
            }
            Some(colon) => (&line[..colon], strip_one_space(&line[colon + 1..])),
            None => (line, &b""[..]),
        };
        // Comparing bytes is exact: invalid UTF-8 never decodes to ASCII.
        match name {
            b"data" => {
                if self.data.len() + value.len() >= self.max_event {
                    return Err(ParseError::EventTooLarge {
                        limit: self.max_event,
                    });
                }
                // One growth at most per line (not one for the value, another for the LF).
                // The buffer is reused from event to event (see `dispatch`), so for a
                // stream of small events it stops growing at all.
                let value = decode_utf8(value);
                self.data.reserve(value.len() + 1);
                self.data.push_str(&value);
                self.data.push('\n');
            }
            b"event" => {
                if self.event_type.as_bytes() != value {
                    self.event_type.clear();
                    self.event_type.push_str(&decode_utf8(value));
                }
                self.event_type_set = true;
            }
            // An id containing NUL is ignored.
            b"id" if !has_nul(value) => {
                self.id_buffer.clear();
                self.id_buffer.push_str(&decode_utf8(value));
            }
            // Digits only; an empty value is ignored, and overflow saturates.
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                let millis = value.iter().fold(0u64, |n, digit| {
                    n.saturating_mul(10).saturating_add(u64::from(digit - b'0'))
                });
                let retry = Duration::from_millis(millis);
                self.retry = Some(retry);
                return Ok(Some(Frame::Retry(retry)));
            }
            _ => {}
        }
        Ok(None)
    }

    /// A blank line: the id buffer becomes the last event ID, and an event fires if there is
    /// data.
    fn dispatch(&mut self) -> Option<Frame> {
        if self.last_event_id != self.id_buffer {
            self.last_event_id.clone_from(&self.id_buffer);
        }
        let event_type_set = mem::take(&mut self.event_type_set);
        if self.data.is_empty() {
            return None;
        }
        let data = if self.data.capacity() > RETAINED_DATA_CAPACITY {
            // A large event takes the buffer along: no copy.
            let mut data = mem::take(&mut self.data);
            data.pop(); // the LF after the last data line
            data
        } else {
            // A small one is copied out with the exact size (one allocation), and the buffer
            // stays for the next event.
            let data = String::from(&self.data[..self.data.len() - 1]);
            self.data.clear();
            data
        };
        let event = if !event_type_set || self.event_type.is_empty() {
            String::from("message")
        } else if self.event_type.capacity() > RETAINED_EVENT_TYPE_CAPACITY {
            mem::take(&mut self.event_type)
        } else {
            // Copied out with the exact size; the text stays for the next block's `event`
            // field, which is most often the same.
            self.event_type.clone()
        };
        Some(Frame::Event(Message {
            event,
            data,
            last_event_id: self.last_event_id.clone(),
        }))
    }
}

/// Where the field name ends. Names are short (`data`, `id`, `event`, `retry`): a plain loop
/// over the first bytes finds the colon before memchr would have set up its search.
fn find_colon(line: &[u8]) -> Option<usize> {
    const NAME: usize = 8;
    let head = &line[..line.len().min(NAME)];
    match head.iter().position(|&b| b == b':') {
        Some(colon) => Some(colon),
        None => memchr::memchr(b':', &line[head.len()..]).map(|colon| head.len() + colon),
    }
}

/// Ids are short: below a vector's width a plain loop beats memchr's set-up.
fn has_nul(value: &[u8]) -> bool {
    if value.len() < crate::event::SHORT {
        value.contains(&0)
    } else {
        memchr::memchr(0, value).is_some()
    }
}

fn strip_one_space(value: &[u8]) -> &[u8] {
    value.strip_prefix(b" ").unwrap_or(value)
}

/// UTF-8 decode with replacement; a line holds only whole sequences of its own, since CR
/// and LF never occur inside a valid multi-byte sequence.
///
/// Valid input, the usual case, takes `str::from_utf8` (an ASCII fast path over whole
/// words); `from_utf8_lossy` walks the bytes as chunks and costs several times more.
fn decode_utf8(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
/// The decoder as a `tokio_util` codec, to read frames with `FramedRead`.
///
/// ```
/// use futures_util::StreamExt;
/// use sse_core::parse::{Decoder, Frame};
/// use tokio_util::codec::FramedRead;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let body: &[u8] = b"data: one\n\ndata: two\n\ndata: dropped at eof";
/// let mut frames = FramedRead::new(body, Decoder::new());
/// let mut data = Vec::new();
/// while let Some(frame) = frames.next().await {
///     if let Frame::Event(message) = frame? {
///         data.push(message.data);
///     }
/// }
/// assert_eq!(data, ["one", "two"]);
/// # Ok::<(), sse_core::parse::ParseError>(())
/// # }).unwrap();
/// ```
impl tokio_util::codec::Decoder for Decoder {
    type Item = Frame;
    type Error = ParseError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, ParseError> {
        Decoder::decode(self, src)
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, ParseError> {
        Decoder::decode_eof(self, src)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `chunks` as one body and returns every frame, then the end of the body.
    fn frames(decoder: &mut Decoder, chunks: &[&[u8]]) -> Vec<Frame> {
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for chunk in chunks {
            buf.extend_from_slice(chunk);
            while let Some(frame) = decoder.decode(&mut buf).unwrap() {
                out.push(frame);
            }
        }
        while let Some(frame) = decoder.decode_eof(&mut buf).unwrap() {
            out.push(frame);
        }
        out
    }

    fn event(event: &str, data: &str, id: &str) -> Frame {
        Frame::Event(Message {
            event: event.into(),
            data: data.into(),
            last_event_id: id.into(),
        })
    }

    #[test]
    fn cr_at_end_of_chunk_dispatches_at_once_and_following_lf_is_dropped() {
        let mut decoder = Decoder::new();
        let mut buf = BytesMut::from(&b"data: x\r\r"[..]);
        assert_eq!(
            decoder.decode(&mut buf).unwrap(),
            Some(event("message", "x", ""))
        );
        buf.extend_from_slice(b"\ndata: y\n\n");
        assert_eq!(
            decoder.decode(&mut buf).unwrap(),
            Some(event("message", "y", ""))
        );
        assert_eq!(decoder.decode(&mut buf).unwrap(), None);
    }

    #[test]
    fn crlf_split_across_chunks_is_one_terminator() {
        let mut decoder = Decoder::new();
        let got = frames(&mut decoder, &[b"data: a\r", b"\n", b"\r", b"\n"]);
        assert_eq!(got, [event("message", "a", "")]);
    }

    #[test]
    fn lf_then_cr_are_two_terminators() {
        let mut decoder = Decoder::new();
        assert_eq!(
            frames(&mut decoder, &[b"data: a\n\r"]),
            [event("message", "a", "")]
        );
    }

    #[test]
    fn bom_split_across_chunks_is_stripped_once() {
        let mut decoder = Decoder::new();
        let got = frames(
            &mut decoder,
            &[b"\xEF", b"\xBB", b"\xBFdata: 1\n\n\xEF\xBB\xBFdata: 2\n\n"],
        );
        assert_eq!(got, [event("message", "1", "")]);
    }

    #[test]
    fn bom_is_stripped_again_on_a_new_connection_only() {
        let mut decoder = Decoder::new();
        assert_eq!(
            frames(&mut decoder, &[b"\xEF\xBB\xBFdata: 1\n\n"]),
            [event("message", "1", "")]
        );
        assert_eq!(
            frames(&mut decoder, &[b"\xEF\xBB\xBFdata: 2\n\n"]),
            [event("message", "2", "")]
        );
    }

    #[test]
    fn utf8_split_across_chunks_decodes_and_invalid_bytes_are_replaced() {
        let mut decoder = Decoder::new();
        let got = frames(&mut decoder, &[b"data: \xE2\x82", b"\xAC \xFF \xC3(\n\n"]);
        assert_eq!(got, [event("message", "\u{20AC} \u{FFFD} \u{FFFD}(", "")]);
    }

    #[test]
    fn retry_applies_at_once_and_saturates() {
        let mut decoder = Decoder::new();
        let got = frames(
            &mut decoder,
            &[b"retry: 99999999999999999999999\nretry\nretry:\nretry: 1x\n"],
        );
        let max = Duration::from_millis(u64::MAX);
        assert_eq!(got, [Frame::Retry(max)]);
        assert_eq!(decoder.retry(), Some(max));
    }

    #[test]
    fn id_with_nul_is_ignored_and_id_applies_at_the_blank_line() {
        let mut decoder = Decoder::new();
        let mut buf = BytesMut::from(&b"id: 1\nid: 2\0\n"[..]);
        assert_eq!(decoder.decode(&mut buf).unwrap(), None);
        assert_eq!(decoder.last_event_id(), "");
        buf.extend_from_slice(b"\n");
        assert_eq!(decoder.decode(&mut buf).unwrap(), None);
        assert_eq!(decoder.last_event_id(), "1");
        // Short ids are checked with a loop, long ones with memchr: a NUL anywhere counts.
        let long = "0123456789abcdef0123";
        let body = format!("id: {long}\n\nid: {long}\0\n\nid: x\0{long}\n\n");
        assert!(frames(&mut decoder, &[body.as_bytes()]).is_empty());
        assert_eq!(decoder.last_event_id(), long);
    }

    #[test]
    fn eof_drops_the_unterminated_block_and_its_id() {
        let mut decoder = Decoder::new();
        assert!(frames(&mut decoder, &[b"id: 9\ndata: x\n"]).is_empty());
        assert_eq!(decoder.last_event_id(), "");
        assert!(frames(&mut decoder, &[b"data: x\r"]).is_empty());
    }

    #[test]
    fn comments_lose_the_colon_and_one_space() {
        let mut decoder = Decoder::new();
        let got = frames(&mut decoder, &[b":\n:  two\r: \xFF\n"]);
        assert_eq!(
            got,
            [
                Frame::Comment(String::new()),
                Frame::Comment(" two".into()),
                Frame::Comment("\u{FFFD}".into())
            ]
        );
    }

    #[test]
    fn long_line_is_an_error_whatever_the_chunking_and_input_is_dropped_until_reconnect() {
        for chunks in [&[&b"data: 123456"[..]][..], &[b"data:", b" 1234", b"56\n"]] {
            let mut decoder = Decoder::with_limits(10, 100);
            let mut buf = BytesMut::new();
            let mut result = Ok(None);
            for chunk in chunks {
                buf.extend_from_slice(chunk);
                result = decoder.decode(&mut buf);
                if result.is_err() {
                    break;
                }
            }
            assert!(matches!(result, Err(ParseError::LineTooLong { limit: 10 })));
            assert!(buf.is_empty());
            buf.extend_from_slice(b"data: x\n\n");
            assert_eq!(decoder.decode(&mut buf).unwrap(), None);
            assert!(buf.is_empty());
            decoder.reconnect();
            buf.extend_from_slice(b"data: x\n\n");
            assert_eq!(
                decoder.decode(&mut buf).unwrap(),
                Some(event("message", "x", ""))
            );
        }
    }

    #[test]
    fn line_of_exactly_the_limit_is_accepted() {
        let mut decoder = Decoder::with_limits(10, 100);
        let got = frames(&mut decoder, &[b"data: 1234", b"\n\n"]);
        assert_eq!(got, [event("message", "1234", "")]);
    }

    #[test]
    fn event_data_limit_counts_values_and_line_feeds() {
        let mut decoder = Decoder::with_limits(100, 4);
        let mut buf = BytesMut::from(&b"data: 123\n\n"[..]);
        assert_eq!(
            decoder.decode(&mut buf).unwrap(),
            Some(event("message", "123", ""))
        );
        buf.extend_from_slice(b"data: 12\ndata: 3\n");
        assert!(matches!(
            decoder.decode(&mut buf),
            Err(ParseError::EventTooLarge { limit: 4 })
        ));
    }

    #[test]
    fn long_line_in_many_chunks_is_scanned_once() {
        let mut decoder = Decoder::new();
        let mut buf = BytesMut::from(&b"data: "[..]);
        for _ in 0..1000 {
            buf.extend_from_slice(&[b'x'; 100]);
            assert_eq!(decoder.decode(&mut buf).unwrap(), None);
            assert_eq!(decoder.scanned, buf.len());
        }
        buf.extend_from_slice(b"\n\n");
        let Some(Frame::Event(message)) = decoder.decode(&mut buf).unwrap() else {
            panic!("no event");
        };
        assert_eq!(message.data.len(), 100_000);
    }

    #[test]
    fn data_buffer_is_reused_and_a_large_event_takes_it_along() {
        fn data_of(decoder: &mut Decoder, chunks: &[&[u8]]) -> String {
            match &frames(decoder, chunks)[..] {
                [Frame::Event(message)] => message.data.clone(),
                other => panic!("expected one event, got {other:?}"),
            }
        }
        let mut decoder = Decoder::new();
        let large = "y".repeat(RETAINED_DATA_CAPACITY);
        let body = format!("data: {large}\ndata\n\n");
        assert_eq!(
            data_of(&mut decoder, &[body.as_bytes()]),
            format!("{large}\n")
        );
        assert_eq!(decoder.data.capacity(), 0);
        // Split inside the value and before the blank line: the data is copied out whole.
        let chunks: [&[u8]; 4] = [b"data: a", b"b\ndata: \xC3", b"\xA9\n", b"\n"];
        assert_eq!(data_of(&mut decoder, &chunks), "ab\n\u{E9}");
        assert!(decoder.data.capacity() > 0);
        assert_eq!(data_of(&mut decoder, &[b"data: x\n\n"]), "x");
        // A large event cut off by the end of the body is dropped with its buffer.
        let cut_off = format!("data: {large}\n");
        assert!(frames(&mut decoder, &[cut_off.as_bytes()]).is_empty());
        assert_eq!(decoder.data.capacity(), 0);
    }

    #[test]
    fn dispatched_data_has_the_exact_capacity() {
        let mut decoder = Decoder::new();
        let mut buf = BytesMut::from(&b"data: first event\ndata: 2nd line\n\ndata: xy\n\n"[..]);
        for expected in ["first event\n2nd line", "xy"] {
            let Some(Frame::Event(message)) = decoder.decode(&mut buf).unwrap() else {
                panic!("no event");
            };
            assert_eq!(message.data, expected);
            assert_eq!(message.data.capacity(), expected.len());
        }
    }

    #[test]
    fn a_short_event_type_is_kept_and_a_long_one_goes_with_its_event() {
        let mut decoder = Decoder::new();
        let long = "t".repeat(RETAINED_EVENT_TYPE_CAPACITY + 1);
        let body = format!(
            "event: update\ndata: a\n\ndata: b\n\nevent: update\ndata: c\n\n\
             event:\ndata: d\n\nevent: {long}\ndata: e\n\n"
        );
        assert_eq!(
            frames(&mut decoder, &[&body.as_bytes()[..23]]),
            [event("update", "a", "")]
        );
        assert_eq!(decoder.event_type, "update");
        assert_eq!(
            frames(&mut decoder, &[&body.as_bytes()[23..]]),
            [
                event("message", "b", ""),
                event("update", "c", ""),
                event("message", "d", ""),
                event(&long, "e", ""),
            ]
        );
        assert_eq!(decoder.event_type.capacity(), 0);
    }

    #[test]
    fn a_buffer_shrunk_by_the_caller_does_not_panic() {
        let mut decoder = Decoder::new();
        let mut buf = BytesMut::from(&b"data: partial"[..]);
        assert_eq!(decoder.decode(&mut buf).unwrap(), None);
        buf.clear();
        buf.extend_from_slice(b"\n");
        assert_eq!(decoder.decode(&mut buf).unwrap(), None);
    }

    #[test]
    fn reconnect_keeps_id_and_retry_and_drops_the_rest() {
        let mut decoder = Decoder::new();
        let got = frames(
            &mut decoder,
            &[b"retry: 5\nid: a\n\nevent: x\nid: b\ndata: 1\n"],
        );
        assert_eq!(got, [Frame::Retry(Duration::from_millis(5))]);
        let got = frames(&mut decoder, &[b"data: 2\n\n"]);
        assert_eq!(got, [event("message", "2", "a")]);
        assert_eq!(decoder.retry(), Some(Duration::from_millis(5)));
    }
}
