//! [`Event`]: one server-sent event, encoded once into [`Bytes`] when it is built.
//!
//! # Example
//!
//! ```
//! use sse_core::Event;
//!
//! let event = Event::builder()
//!     .event("update")
//!     .id("42")
//!     .data("line one\nline two")
//!     .build()?;
//! assert_eq!(
//!     event.as_bytes().as_ref(),
//!     b"event: update\nid: 42\ndata: line one\ndata: line two\n\n"
//! );
//!
//! // A clone is a reference-count bump: both share one encoding.
//! let copy = event.clone();
//! assert_eq!(copy.as_bytes().as_ptr(), event.as_bytes().as_ptr());
//! # Ok::<(), sse_core::EventError>(())
//! ```

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use bytes::Bytes;

use crate::error::EventError;
use crate::line_breaks::{block_breaks, LineBreaks, BLOCK};

/// One server-sent event, encoded into its wire bytes when it was built.
///
/// Cloning is cheap (a reference-count bump), so one event can be sent to any number of
/// clients without being encoded again.
///
/// # Example
///
/// ```
/// use sse_core::Event;
///
/// let event = Event::data("hello");
/// assert_eq!(event.as_bytes().as_ref(), b"data: hello\n\n");
/// ```
///
/// # Wire format
///
/// Fields are always written in this order, whatever order the builder's methods were
/// called in: comment lines (`: text`), `event`, `id`, `retry`, then `data` lines, and a
/// blank line that ends the event. Every field is written as `name: value` with exactly one
/// space, so a value that starts with a space survives the parser's stripping of one space;
/// an empty value is written as `name:`.
///
/// An event made only of a comment has no blank line (it dispatches nothing, and a comment
/// between events must not end a half-written one). Any other event ends with a blank line.
///
/// # Injection
///
/// `data` and comments may contain any line breaks: every `\r\n`, `\r` and `\n` starts a new
/// `data:` (or `:`) line, so user data can never add a field or end the event early. A CR or
/// CRLF therefore arrives at the client as LF; send JSON or base64 if the exact bytes matter.
/// The `event` name and the `id` cannot be split that way, so a CR or LF in either (or a NUL
/// in an `id`, which makes clients ignore the whole line) is an [`EventError`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Event {
    bytes: Bytes,
    /// Where the `id:` line starts, or would be inserted (just after the `event:` line).
    id_at: u32,
    /// Length of the `id:` line including its LF, 0 when the event has no id.
    id_line_len: u32,
}

impl Event {
    /// Starts building an event.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_core::Event;
    ///
    /// let event = Event::builder()
    ///     .retry(Duration::from_secs(3))
    ///     .data(" leading space kept")
    ///     .build()?;
    /// assert_eq!(event.as_bytes().as_ref(), b"retry: 3000\ndata:  leading space kept\n\n");
    /// # Ok::<(), sse_core::EventError>(())
    /// ```
    pub fn builder<'a>() -> EventBuilder<'a> {
        EventBuilder::default()
    }

    /// An event with only `data`, the common case. Data cannot be invalid, so this cannot
    /// fail.
    ///
    /// ```
    /// use sse_core::Event;
    ///
    /// assert_eq!(Event::data("a\r\nb").as_bytes().as_ref(), b"data: a\ndata: b\n\n");
    /// assert_eq!(Event::data("").as_bytes().as_ref(), b"data:\n\n");
    /// ```
    pub fn data(data: &str) -> Self {
        let data = Lines::new(data.as_bytes(), LineBreaks::get());
        let mut out = Vec::with_capacity(data.len(b"data: ") + 1);
        data.write(&mut out, b"data: ");
        out.push(b'\n');
        Self::from_parts(out, 0, 0)
    }

    /// A comment, such as a keep-alive. It dispatches nothing on the client.
    ///
    /// ```
    /// use sse_core::Event;
    ///
    /// assert_eq!(Event::comment("a\nb").as_bytes().as_ref(), b": a\n: b\n");
    /// assert_eq!(Event::comment("").as_bytes().as_ref(), b":\n");
    /// ```
    pub fn comment(text: &str) -> Self {
        if text.is_empty() {
            // The default keep-alive of every stream: no allocation for it.
            return Self {
                bytes: Bytes::from_static(b":\n"),
                id_at: 2,
                id_line_len: 0,
            };
        }
        let text = Lines::new(text.as_bytes(), LineBreaks::get());
        let mut out = Vec::with_capacity(text.len(b": "));
        text.write(&mut out, b": ");
        let id_at = out.len();
        Self::from_parts(out, id_at, 0)
    }

    /// A `retry:` field alone: it sets the client's reconnection time and dispatches nothing.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_core::Event;
    ///
    /// let event = Event::retry(Duration::from_millis(2500));
    /// assert_eq!(event.as_bytes().as_ref(), b"retry: 2500\n\n");
    /// ```
    pub fn retry(retry: Duration) -> Self {
        let mut out = Vec::with_capacity(retry_len(retry) + 1);
        write_retry(&mut out, retry);
        out.push(b'\n');
        Self::from_parts(out, 0, 0)
    }

    /// A `retry:` field of `base` plus a random share (uniform, whole milliseconds) of
    /// `jitter`, so that the clients told to come back at once (a shutdown, a full server)
    /// spread their reconnects over the jitter window instead of arriving together.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_core::Event;
    ///
    /// let event = Event::retry_jittered(Duration::from_secs(1), Duration::from_millis(500));
    /// let text = std::str::from_utf8(event.as_bytes()).unwrap();
    /// let ms: u64 = text.strip_prefix("retry: ").unwrap().trim_end().parse().unwrap();
    /// assert!((1000..=1500).contains(&ms));
    /// ```
    #[must_use]
    pub fn retry_jittered(base: Duration, jitter: Duration) -> Self {
        let jitter_ms = u64::try_from(jitter.as_millis()).unwrap_or(u64::MAX);
        let extra = Duration::from_millis(fastrand::u64(0..=jitter_ms));
        Self::retry(base.saturating_add(extra))
    }

    fn from_parts(out: Vec<u8>, id_at: usize, id_line_len: usize) -> Self {
        debug_assert!(out.len() <= u32::MAX as usize || id_at == 0);
        Self {
            bytes: Bytes::from(out),
            id_at: saturating_u32(id_at),
            id_line_len: saturating_u32(id_line_len),
        }
    }

    /// The encoded wire bytes. No copy is made.
    pub fn as_bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The encoded wire bytes, by value. No copy is made.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use sse_core::Event;
    ///
    /// let bytes: Bytes = Event::data("x").into_bytes();
    /// assert_eq!(bytes, "data: x\n\n");
    /// ```
    pub fn into_bytes(self) -> Bytes {
        self.bytes
    }

    /// The length of the encoded event in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the event encodes to nothing (a builder with no field set).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The event's `id`, if it has one (an empty id, which resets the client's last event
    /// id, is `Some("")`).
    ///
    /// ```
    /// use sse_core::Event;
    ///
    /// let event = Event::builder().id("7").data("x").build()?;
    /// assert_eq!(event.id(), Some("7"));
    /// assert_eq!(Event::data("x").id(), None);
    /// # Ok::<(), sse_core::EventError>(())
    /// ```
    pub fn id(&self) -> Option<&str> {
        if self.id_line_len == 0 {
            return None;
        }
        let start = self.id_at as usize;
        let line = &self.bytes[start..start + self.id_line_len as usize];
        // The line is `id:\n` or `id: value\n`; it was written from a `&str`.
        let value = line[3..line.len() - 1].strip_prefix(b" ").unwrap_or(&[]);
        std::str::from_utf8(value).ok()
    }

    /// This event with its `id` set to `id` (replacing any id it had), encoded anew with the
    /// field order kept. The broadcast hub uses this to stamp the ids it assigns; it costs
    /// one copy of the event, not one per subscriber.
    ///
    /// # Errors
    ///
    /// [`EventError::IdLineBreak`] or [`EventError::IdNul`] if `id` contains CR, LF or NUL.
    ///
    /// ```
    /// use sse_core::Event;
    ///
    /// let event = Event::builder().event("tick").data("1").build()?;
    /// let stamped = event.with_id("5")?;
    /// assert_eq!(stamped.as_bytes().as_ref(), b"event: tick\nid: 5\ndata: 1\n\n");
    /// assert_eq!(stamped.id(), Some("5"));
    /// # Ok::<(), sse_core::EventError>(())
    /// ```
    pub fn with_id(&self, id: &str) -> Result<Self, EventError> {
        check_id(id)?;
        let at = self.id_at as usize;
        let old_end = at + self.id_line_len as usize;
        // A comment-only or empty event has no blank line; an id makes it an event block.
        let blank_line = usize::from(self.bytes.len() == at);
        let len = self.bytes.len() - (old_end - at) + field_len(b"id", id.len()) + blank_line;
        let mut out = Vec::with_capacity(len);
        out.extend_from_slice(&self.bytes[..at]);
        write_field(&mut out, b"id", id.as_bytes());
        let id_line_len = out.len() - at;
        out.extend_from_slice(&self.bytes[old_end..]);
        if blank_line == 1 {
            out.push(b'\n');
        }
        Ok(Self::from_parts(out, at, id_line_len))
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Event")
            .field(&String::from_utf8_lossy(&self.bytes))
            .finish()
    }
}

impl From<Event> for Bytes {
    fn from(event: Event) -> Self {
        event.bytes
    }
}

impl AsRef<[u8]> for Event {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

/// One or more whole events, encoded and joined, to be written as one chunk.
///
/// A hub subscription's [`batches`] yield these: every event a woken subscriber finds is
/// copied into one buffer at once, instead of being handed over one by one. It can only be
/// made from [`Event`]s, so it is as injection-proof as they are.
///
/// ```
/// use sse_core::{Event, EventBatch};
///
/// let batch = EventBatch::from(Event::data("x"));
/// assert_eq!(batch.as_bytes().as_ref(), b"data: x\n\n");
/// assert_eq!(batch.len(), 9);
/// ```
///
/// [`batches`]: crate::hub::Subscription::batches
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EventBatch {
    bytes: Bytes,
}

impl EventBatch {
    /// Whole events' bytes, joined by the hub.
    #[cfg(feature = "hub")]
    pub(crate) fn from_joined(joined: Vec<u8>) -> Self {
        Self {
            bytes: Bytes::from(joined),
        }
    }

    /// The encoded wire bytes. No copy is made.
    pub fn as_bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The encoded wire bytes, by value. No copy is made.
    ///
    /// ```
    /// use sse_core::{Event, EventBatch};
    ///
    /// let bytes = EventBatch::from(Event::data("x")).into_bytes();
    /// assert_eq!(bytes, "data: x\n\n");
    /// ```
    pub fn into_bytes(self) -> Bytes {
        self.bytes
    }

    /// The length of the encoded events in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether it encodes to nothing.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl From<Event> for EventBatch {
    /// The event alone, without a copy.
    fn from(event: Event) -> Self {
        Self { bytes: event.bytes }
    }
}

impl From<EventBatch> for Bytes {
    fn from(batch: EventBatch) -> Self {
        batch.bytes
    }
}

impl AsRef<[u8]> for EventBatch {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

impl fmt::Debug for EventBatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("EventBatch")
            .field(&String::from_utf8_lossy(&self.bytes))
            .finish()
    }
}

/// Builds an [`Event`]; the fields are checked and encoded by [`build`](Self::build).
///
/// Each setter replaces an earlier value of the same field. Strings may be borrowed or
/// owned. See [`Event`] for the wire format.
///
/// ```
/// use sse_core::{Event, EventError};
///
/// let err = Event::builder().id("1\ndata: evil").data("x").build().unwrap_err();
/// assert_eq!(err, EventError::IdLineBreak);
/// ```
#[must_use = "an EventBuilder does nothing until `build` is called"]
#[derive(Debug, Clone, Default)]
pub struct EventBuilder<'a> {
    comment: Option<Cow<'a, str>>,
    event: Option<Cow<'a, str>>,
    id: Option<Cow<'a, str>>,
    retry: Option<Duration>,
    data: Option<Cow<'a, str>>,
}

impl<'a> EventBuilder<'a> {
    /// Sets the event type (`event:`), which names the listener a browser calls. An empty
    /// name means `message`, so it writes no field. A CR or LF in it fails the build.
    pub fn event(mut self, event: impl Into<Cow<'a, str>>) -> Self {
        self.event = Some(event.into());
        self
    }

    /// Sets the event id (`id:`), which the client sends back as `Last-Event-ID` when it
    /// reconnects. An empty id resets the client's last event id. A CR, LF or NUL in it fails
    /// the build. Keep ids short printable ASCII so they survive the header round trip.
    pub fn id(mut self, id: impl Into<Cow<'a, str>>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Sets the reconnection time the client should use (`retry:`), in whole milliseconds.
    pub fn retry(mut self, retry: Duration) -> Self {
        self.retry = Some(retry);
        self
    }

    /// Sets the data. Every line break in it (`\r\n`, `\r` or `\n`) starts a new `data:`
    /// line; the client joins them with `\n`. Empty data still makes an event.
    pub fn data(mut self, data: impl Into<Cow<'a, str>>) -> Self {
        self.data = Some(data.into());
        self
    }

    /// Sets the data to `value` serialized as JSON (one line).
    ///
    /// # Errors
    ///
    /// The [`serde_json::Error`] if `value` cannot be serialized (a map with non-string
    /// keys, or a `Serialize` impl that fails).
    ///
    /// ```
    /// use sse_core::Event;
    ///
    /// let event = Event::builder().json_data(&serde_json::json!({"a": 1}))?.build()?;
    /// assert_eq!(event.as_bytes().as_ref(), b"data: {\"a\":1}\n\n");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "json")]
    #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
    pub fn json_data<T: serde::Serialize + ?Sized>(
        mut self,
        value: &T,
    ) -> Result<Self, serde_json::Error> {
        // serde_json's compact output escapes every control character, so it is one line.
        self.data = Some(Cow::Owned(serde_json::to_string(value)?));
        Ok(self)
    }

    /// Sets a comment, written first (`: text`). Line breaks start new comment lines.
    pub fn comment(mut self, comment: impl Into<Cow<'a, str>>) -> Self {
        self.comment = Some(comment.into());
        self
    }

    /// Checks the fields and encodes the event.
    ///
    /// # Errors
    ///
    /// - [`EventError::EventLineBreak`] if the event name contains CR or LF;
    /// - [`EventError::IdLineBreak`] or [`EventError::IdNul`] if the id contains CR, LF or NUL.
    pub fn build(self) -> Result<Event, EventError> {
        let event = self.event.as_deref().filter(|name| !name.is_empty());
        if let Some(name) = event {
            if has_line_break(name.as_bytes()) {
                return Err(EventError::EventLineBreak);
            }
        }
        if let Some(id) = self.id.as_deref() {
            check_id(id)?;
        }
        // Each text is scanned for line breaks once: the first break found here is where
        // `Lines::write` starts.
        let breaks = LineBreaks::get();
        let comment = self
            .comment
            .as_deref()
            .map(|text| Lines::new(text.as_bytes(), breaks));
        let data = self
            .data
            .as_deref()
            .map(|data| Lines::new(data.as_bytes(), breaks));

        // Exact unless a text has several lines (see `Lines::len`).
        let comment_len = comment.as_ref().map_or(0, |comment| comment.len(b": "));
        let mut len = comment_len;
        if let Some(name) = event {
            len += field_len(b"event", name.len());
        }
        if let Some(id) = self.id.as_deref() {
            len += field_len(b"id", id.len());
        }
        if let Some(retry) = self.retry {
            len += retry_len(retry);
        }
        if let Some(data) = &data {
            len += data.len(b"data: ");
        }
        if len > comment_len {
            len += 1;
        }
        let mut out = Vec::with_capacity(len);

        if let Some(comment) = &comment {
            comment.write(&mut out, b": ");
        }
        let comment_end = out.len();
        if let Some(name) = event {
            write_field(&mut out, b"event", name.as_bytes());
        }
        let id_at = out.len();
        if let Some(id) = self.id.as_deref() {
            write_field(&mut out, b"id", id.as_bytes());
        }
        let id_line_len = out.len() - id_at;
        if let Some(retry) = self.retry {
            write_retry(&mut out, retry);
        }
        if let Some(data) = &data {
            data.write(&mut out, b"data: ");
        }
        if out.len() > comment_end {
            // Anything but a lone comment is an event block, ended by a blank line.
            out.push(b'\n');
        }
        Ok(Event::from_parts(out, id_at, id_line_len))
    }
}

/// Names and ids are short: a plain loop beats memchr's set-up below a vector's width (the
/// decoder's id check uses it too).
pub(crate) const SHORT: usize = 16;

fn has_line_break(text: &[u8]) -> bool {
    if text.len() < SHORT {
        text.iter().any(|&b| b == b'\r' || b == b'\n')
    } else {
        memchr::memchr2(b'\r', b'\n', text).is_some()
    }
}

fn check_id(id: &str) -> Result<(), EventError> {
    let id = id.as_bytes();
    let found = if id.len() < SHORT {
        id.iter().position(|&b| b == b'\r' || b == b'\n' || b == 0)
    } else {
        memchr::memchr3(b'\r', b'\n', 0, id)
    };
    match found {
        None => Ok(()),
        Some(i) if id[i] == 0 => Err(EventError::IdNul),
        Some(_) => Err(EventError::IdLineBreak),
    }
}

fn saturating_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The encoded length of `name: value\n` (or `name:\n`) for a value of `value_len` bytes.
fn field_len(name: &[u8], value_len: usize) -> usize {
    name.len() + 2 + if value_len == 0 { 0 } else { value_len + 1 }
}

fn retry_len(retry: Duration) -> usize {
    field_len(b"retry", itoa_u64(retry_millis(retry), &mut [0; 20]).len())
}

/// Writes `name: value\n`, or `name:\n` for an empty value.
#[inline(always)]
fn write_field(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    if value.is_empty() {
        out.extend_from_slice(b":\n");
    } else {
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.push(b'\n');
    }
}

fn retry_millis(retry: Duration) -> u64 {
    u64::try_from(retry.as_millis()).unwrap_or(u64::MAX)
}

fn write_retry(out: &mut Vec<u8>, retry: Duration) {
    write_field(out, b"retry", itoa_u64(retry_millis(retry), &mut [0; 20]));
}

fn itoa_u64(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

/// A text to write as one `prefix line` per line, split on `\r\n`, `\r` and `\n`, with where
/// its first line break is (found once, when it is made).
struct Lines<'a> {
    text: &'a [u8],
    first_break: Option<usize>,
    breaks: &'static LineBreaks,
}

impl<'a> Lines<'a> {
    fn new(text: &'a [u8], breaks: &'static LineBreaks) -> Self {
        Self {
            text,
            first_break: breaks.find(text),
            breaks,
        }
    }

    /// The capacity to reserve for [`write`](Self::write): exact for one line (the common
    /// case, which then lets `Bytes::from(Vec)` skip a second allocation), an estimate for
    /// several, since counting them would cost a second scan of the text.
    fn len(&self, prefix: &[u8]) -> usize {
        let text = self.text.len();
        match self.first_break {
            None if text == 0 => prefix.len(),
            None => prefix.len() + text + 1,
            Some(_) => text + text / 8 + 4 * (prefix.len() + 1),
        }
    }

    /// Writes the lines; `prefix` is `name: ` (`: ` for comments). An empty line is written
    /// as `name:`.
    #[inline(always)]
    fn write(&self, out: &mut Vec<u8>, prefix: &[u8]) {
        let text = self.text;
        let Some(first) = self.first_break else {
            write_line(out, prefix, text);
            return;
        };
        let mut start = line_end(out, prefix, text, 0, first);
        // `at`: where the search goes on; every break before it is written.
        let mut at = start;
        // Short lines are found a block of 64 bytes at a time; a long one by memchr, whose
        // search costs more to set up but goes further per step. A block with no break
        // hands the search to memchr, and a short line hands it back.
        'search: loop {
            loop {
                let Some(block) = text[at..].first_chunk::<BLOCK>() else {
                    break 'search;
                };
                let mut breaks = block_breaks(block);
                if breaks == 0 {
                    break;
                }
                while breaks != 0 {
                    let i = at + breaks.trailing_zeros() as usize;
                    breaks &= breaks - 1;
                    // The LF of a CRLF is in the mask too, but `line_end` stepped past it.
                    if i >= start {
                        start = line_end(out, prefix, text, start, i);
                    }
                }
                // Not `start`, which may be one past the block (a CRLF across its edge): the
                // next block's search then waits for no line to be written.
                at += BLOCK;
            }
            loop {
                let Some(offset) = self.breaks.find(&text[at..]) else {
                    write_line(out, prefix, &text[start..]);
                    return;
                };
                let i = at + offset;
                let short = i - start < BLOCK;
                start = line_end(out, prefix, text, start, i);
                at = start;
                if short {
                    break;
                }
            }
        }
        // Under a block left.
        at = at.max(start);
        while let Some(offset) = self.breaks.find(&text[at..]) {
            start = line_end(out, prefix, text, start, at + offset);
            at = start;
        }
        write_line(out, prefix, &text[start..]);
    }
}

/// Writes the line `text[start..i]`, which the CR or LF at `i` ends, and returns where the
/// next line starts.
#[inline(always)]
fn line_end(out: &mut Vec<u8>, prefix: &[u8], text: &[u8], start: usize, i: usize) -> usize {
    if text[i] == b'\n' {
        if i == start {
            write_line(out, prefix, &[]);
        } else {
            // The line and its LF in one copy.
            out.extend_from_slice(prefix);
            out.extend_from_slice(&text[start..=i]);
        }
        i + 1
    } else {
        write_line(out, prefix, &text[start..i]);
        if text.get(i + 1) == Some(&b'\n') {
            i + 2
        } else {
            i + 1
        }
    }
}

/// Writes `prefix line\n`, or `name:\n` (the prefix without its space) for an empty line.
#[inline(always)]
fn write_line(out: &mut Vec<u8>, prefix: &[u8], line: &[u8]) {
    if line.is_empty() {
        out.extend_from_slice(&prefix[..prefix.len() - 1]);
    } else {
        out.extend_from_slice(prefix);
        out.extend_from_slice(line);
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(builder: EventBuilder<'_>) -> Vec<u8> {
        builder.build().unwrap().into_bytes().to_vec()
    }

    #[test]
    fn order_is_fixed_whatever_the_call_order() {
        let event = Event::builder()
            .data("d")
            .retry(Duration::from_millis(5))
            .id("i")
            .event("e")
            .comment("c");
        assert_eq!(
            encode(event),
            b": c\nevent: e\nid: i\nretry: 5\ndata: d\n\n"
        );
    }

    #[test]
    fn empty_event_name_writes_no_field() {
        assert_eq!(encode(Event::builder().event("").data("x")), b"data: x\n\n");
    }

    #[test]
    fn event_name_alone_is_ended_by_a_blank_line() {
        // Otherwise the name would carry over into the client's next event.
        assert_eq!(encode(Event::builder().event("x")), b"event: x\n\n");
    }

    #[test]
    fn empty_builder_encodes_to_nothing() {
        let event = Event::builder().build().unwrap();
        assert!(event.is_empty());
        assert_eq!(event.id(), None);
    }

    #[test]
    fn with_id_replaces_an_existing_id() {
        let event = Event::builder()
            .event("e")
            .id("old")
            .data("x")
            .build()
            .unwrap();
        let stamped = event.with_id("new-id").unwrap();
        assert_eq!(
            stamped.as_bytes().as_ref(),
            b"event: e\nid: new-id\ndata: x\n\n"
        );
        assert_eq!(stamped.id(), Some("new-id"));
        assert_eq!(event.with_id("").unwrap().id(), Some(""));
    }

    #[test]
    fn with_id_on_a_comment_makes_an_event_block() {
        let stamped = Event::comment("c").with_id("1").unwrap();
        assert_eq!(stamped.as_bytes().as_ref(), b": c\nid: 1\n\n");
    }

    #[test]
    fn with_id_rejects_injection() {
        let event = Event::data("x");
        assert_eq!(event.with_id("1\r"), Err(EventError::IdLineBreak));
        assert_eq!(event.with_id("1\0"), Err(EventError::IdNul));
    }

    #[test]
    fn huge_retry_saturates() {
        let event = Event::retry(Duration::MAX);
        assert_eq!(
            event.as_bytes().as_ref(),
            b"retry: 18446744073709551615\n\n"
        );
    }

    /// The wire form of `text` as `prefix` lines, written the slow, obvious way.
    fn reference_lines(prefix: &str, text: &str) -> String {
        text.split("\r\n")
            .flat_map(|part| part.split(['\r', '\n']))
            .map(|line| match line {
                "" => format!("{}\n", &prefix[..prefix.len() - 1]),
                line => format!("{prefix}{line}\n"),
            })
            .collect()
    }

    /// Text that exercises every path of `Lines::write`: no break at all, LF, CR, CRLF,
    /// empty lines, breaks (a lone CR included) first and last, and lines short and long
    /// enough for several breaks in one 64-byte block, blocks with none, and a CRLF across
    /// two blocks.
    fn lines_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        prop::collection::vec(
            prop_oneof![
                4 => "[a-z é€]{0,40}",
                1 => "[a-z]{60,140}",
                1 => Just("\r".to_owned()),
                1 => Just("\n".to_owned()),
                1 => Just("\r\n".to_owned()),
            ],
            0..24,
        )
        .prop_map(|pieces| pieces.concat())
    }

    #[test]
    fn a_crlf_split_by_a_block_edge_is_one_break() {
        // The first line ends at 2; blocks then start at 3, 67, 131, ...
        for at in 60..70 {
            for tail in ["", "x", "\r", "\n\n"] {
                let text = format!("ab\n{}\r\n{}{tail}", "c".repeat(at), "d".repeat(200));
                let expected = format!("{}\n", reference_lines("data: ", &text));
                assert_eq!(
                    Event::data(&text).as_bytes().as_ref(),
                    expected.as_bytes(),
                    "{text:?}"
                );
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn data_and_comments_match_the_reference_split(
            data in lines_text(),
            comment in lines_text(),
            id in "[a-z0-9]{0,20}",
        ) {
            let event = Event::builder().comment(&comment).id(&id).data(&data).build().unwrap();
            let id_line = if id.is_empty() { "id:\n".to_owned() } else { format!("id: {id}\n") };
            let expected = format!(
                "{}{id_line}{}\n",
                reference_lines(": ", &comment),
                reference_lines("data: ", &data),
            );
            proptest::prop_assert_eq!(std::str::from_utf8(event.as_bytes()).unwrap(), expected);
            let expected = format!("{}\n", reference_lines("data: ", &data));
            let alone = Event::data(&data);
            proptest::prop_assert_eq!(alone.as_bytes().as_ref(), expected.as_bytes());
            if !comment.is_empty() {
                let expected = reference_lines(": ", &comment);
                let alone = Event::comment(&comment);
                proptest::prop_assert_eq!(alone.as_bytes().as_ref(), expected.as_bytes());
            }
        }

        /// The portable search (what a CPU without AVX2 runs) splits as the AVX2 one does.
        #[test]
        fn portable_search_matches_the_reference_split(text in lines_text()) {
            let lines = Lines::new(text.as_bytes(), &LineBreaks::PORTABLE);
            let mut out = Vec::new();
            lines.write(&mut out, b"data: ");
            proptest::prop_assert_eq!(out, reference_lines("data: ", &text).into_bytes());
        }

        #[test]
        fn short_and_long_names_and_ids_are_checked_alike(
            prefix in "[a-z]{0,30}",
            bad in proptest::sample::select(vec!['\r', '\n', '\0']),
            suffix in "[a-z]{0,30}",
        ) {
            let value = format!("{prefix}{bad}{suffix}");
            let id_err = if bad == '\0' { EventError::IdNul } else { EventError::IdLineBreak };
            proptest::prop_assert_eq!(Event::builder().id(&value).build().unwrap_err(), id_err);
            let name = Event::builder().event(&value).build();
            if bad == '\0' {
                proptest::prop_assert!(name.is_ok());
            } else {
                proptest::prop_assert_eq!(name.unwrap_err(), EventError::EventLineBreak);
            }
        }
    }

    #[test]
    fn clone_shares_the_encoding() {
        let event = Event::data(&"x".repeat(1000));
        let clone = event.clone();
        assert_eq!(event.as_bytes().as_ptr(), clone.as_bytes().as_ptr());
    }
}
