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
mod frame_stream;

pub use decoder::Decoder;
pub use error::{ParseError, StreamError};
pub use frame::{Frame, Message};
pub use frame_stream::FrameStream;

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::{stream, StreamExt};

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    fn data_of(item: Option<Result<Frame, StreamError<&'static str>>>) -> String {
        match item {
            Some(Ok(Frame::Event(message))) => message.data,
            other => panic!("expected an event, got {other:?}"),
        }
    }

    #[test]
    fn frame_stream_passes_body_errors_on_and_keeps_reading() {
        let body = stream::iter([Ok(&b"data: a\n"[..]), Err("reset"), Ok(b"\ndata: b\n\n")]);
        let mut frames = FrameStream::new(body);
        block_on(async {
            assert!(matches!(
                frames.next().await,
                Some(Err(StreamError::Body("reset")))
            ));
            assert_eq!(data_of(frames.next().await), "a");
            assert_eq!(data_of(frames.next().await), "b");
            assert!(frames.next().await.is_none());
            assert!(frames.next().await.is_none());
        });
    }

    #[test]
    fn frame_stream_drops_the_body_after_a_parse_error_and_ends() {
        let body = stream::iter([
            Ok::<_, &str>(&b"data: ok\n\ndata: 0123456789"[..]),
            Ok(b"data: more\n\n"),
        ]);
        let mut frames = FrameStream::with_decoder(body, Decoder::with_limits(12, 100));
        block_on(async {
            assert_eq!(data_of(frames.next().await), "ok");
            assert!(matches!(
                frames.next().await,
                Some(Err(StreamError::Parse(ParseError::LineTooLong {
                    limit: 12
                })))
            ));
            assert!(frames.next().await.is_none());
        });
    }

    #[cfg(feature = "tokio")]
    #[test]
    fn codec_reads_frames_from_an_async_reader_and_drops_the_unterminated_end() {
        use tokio::io::AsyncWriteExt;
        use tokio_util::codec::FramedRead;

        block_on(async {
            let (mut writer, reader) = tokio::io::duplex(8);
            tokio::spawn(async move {
                for chunk in [
                    &b"\xEF\xBB"[..],
                    b"\xBFid: 1\r",
                    b"\ndata: x\r",
                    b"\r",
                    b"data: y",
                ] {
                    writer.write_all(chunk).await.unwrap();
                }
            });
            let mut frames = FramedRead::new(reader, Decoder::new());
            let Some(Ok(Frame::Event(message))) = frames.next().await else {
                panic!("expected an event");
            };
            assert_eq!(
                (message.data.as_str(), message.last_event_id.as_str()),
                ("x", "1")
            );
            assert!(frames.next().await.is_none());
        });
    }
}
