//! [`EventReader`]: sse-core's decoder, fed with the chunks of each response body.

use std::time::Duration;

use bytes::BytesMut;
use sse_core::parse::{Decoder, Frame, ParseError};

use crate::Event;

/// The parsing state of one event source: the decoder (which keeps the last event ID and
/// the reconnection time across connections) and the unparsed rest of the current body.
#[derive(Debug)]
pub(crate) struct EventReader {
    decoder: Decoder,
    buf: BytesMut,
    /// A `retry` field seen since the previous event, for [`Event::retry`].
    retry: Option<Duration>,
}

impl EventReader {
    pub(crate) fn new(decoder: Decoder) -> Self {
        Self {
            decoder,
            buf: BytesMut::new(),
            retry: None,
        }
    }

    /// Adds a chunk of the current body.
    pub(crate) fn push(&mut self, chunk: &[u8]) {
        self.buf.extend_from_slice(chunk);
    }

    /// The next event of the chunks pushed so far, if they complete one.
    ///
    /// # Errors
    ///
    /// A size limit was exceeded; the rest of this body is then ignored.
    #[inline]
    pub(crate) fn next_event(&mut self) -> Result<Option<Event>, ParseError> {
        loop {
            match self.decoder.decode(&mut self.buf)? {
                None => return Ok(None),
                Some(Frame::Event(message)) => {
                    return Ok(Some(Event {
                        id: message.last_event_id,
                        event: message.event,
                        data: message.data,
                        retry: self.retry.take(),
                    }))
                }
                Some(Frame::Retry(retry)) => self.retry = Some(retry),
                // Comments (heartbeats) only count as bytes, for the idle timeout.
                Some(_) => {}
            }
        }
    }

    /// Ends the current body: an unfinished event is dropped (the end of a body never
    /// dispatches), the last event ID and reconnection time are kept.
    pub(crate) fn end_body(&mut self) {
        self.decoder.reconnect();
        self.buf.clear();
        self.retry = None;
    }

    pub(crate) fn last_event_id(&self) -> &str {
        self.decoder.last_event_id()
    }

    /// The server's last valid `retry:`, if it sent one.
    pub(crate) fn reconnection_time(&self) -> Option<Duration> {
        self.decoder.retry()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn read_all(reader: &mut EventReader, chunks: &[&[u8]]) -> Result<Vec<Event>, ParseError> {
        let mut events = Vec::new();
        for chunk in chunks {
            reader.push(chunk);
            while let Some(event) = reader.next_event()? {
                events.push(event);
            }
        }
        Ok(events)
    }

    fn event(id: &str, event_type: &str, data: &str, retry: Option<u64>) -> Event {
        Event {
            id: id.into(),
            event: event_type.into(),
            data: data.into(),
            retry: retry.map(Duration::from_millis),
        }
    }

    /// A stream with every rule the reader relies on: a BOM, all three line ends, a
    /// comment, an id with NUL (ignored), a retry, multi-line and empty data, and an
    /// unterminated event at the end (never dispatched).
    const STREAM: &[u8] =
        b"\xEF\xBB\xBFretry: 1500\r\n: hi\r\nevent: a\rid: 1\ndata: x\r\ndata: y\n\n\
        id: 2\0\ndata:z\r\r\
        event: b\nid: \xC3\xA9\ndata\n\n\
        data: cut";

    fn expected() -> Vec<Event> {
        vec![
            event("1", "a", "x\ny", Some(1500)),
            event("1", "message", "z", None),
            event("é", "b", "", None),
        ]
    }

    #[test]
    fn whole_stream_yields_the_events_and_keeps_id_and_retry() {
        let mut reader = EventReader::new(Decoder::new());
        assert_eq!(read_all(&mut reader, &[STREAM]).unwrap(), expected());
        reader.end_body();
        assert_eq!(reader.last_event_id(), "é");
        assert_eq!(
            reader.reconnection_time(),
            Some(Duration::from_millis(1500))
        );
        // The cut-off event is gone; the next body starts clean (its BOM is stripped too).
        let events = read_all(&mut reader, &[b"\xEF\xBB\xBFdata: next\n\n"]).unwrap();
        assert_eq!(events, [event("é", "message", "next", None)]);
    }

    #[test]
    fn limits_are_typed_errors() {
        let mut reader = EventReader::new(Decoder::with_limits(16, 1024));
        let err = read_all(&mut reader, &[b"data: ", &[b'x'; 64]]).unwrap_err();
        assert!(matches!(err, ParseError::LineTooLong { limit: 16 }));
    }

    proptest! {
        #[test]
        fn any_chunking_yields_the_same_events(cuts in proptest::collection::vec(0..STREAM.len(), 0..24)) {
            let mut cuts = cuts;
            cuts.push(0);
            cuts.push(STREAM.len());
            cuts.sort_unstable();
            let chunks: Vec<&[u8]> = cuts.windows(2).map(|w| &STREAM[w[0]..w[1]]).collect();
            let mut reader = EventReader::new(Decoder::new());
            prop_assert_eq!(read_all(&mut reader, &chunks).unwrap(), expected());
        }
    }
}
