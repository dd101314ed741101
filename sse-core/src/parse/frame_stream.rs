//! [`FrameStream`]: the decoder over a stream of byte chunks.

use std::{
    fmt,
    pin::Pin,
    task::{ready, Context, Poll},
};

use bytes::BytesMut;
use futures_core::{FusedStream, Stream};
use pin_project_lite::pin_project;

use super::{Decoder, Frame, StreamError};

pin_project! {
    /// Parses a stream of byte chunks (one response body, such as `reqwest`'s
    /// `bytes_stream()` or the data frames of a `hyper` body) into [`Frame`]s.
    ///
    /// The chunks may be anything that is `AsRef<[u8]>`: `Bytes`, `Vec<u8>`, `&[u8]`. When
    /// the byte stream ends, the unterminated rest is dropped and the frame stream ends. To
    /// follow the event source onto a new connection, take the decoder out with
    /// [`into_decoder`](Self::into_decoder) (it keeps the last event ID and reconnection
    /// time) and build the next frame stream with [`with_decoder`](Self::with_decoder).
    ///
    /// # Example
    ///
    /// ```
    /// use futures_util::{stream, StreamExt};
    /// use sse_core::parse::{Frame, FrameStream};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let body = stream::iter([
    ///     Ok::<_, std::io::Error>(&b"id: 1\r\ndata: hel"[..]),
    ///     Ok(b"lo\r"),
    ///     Ok(b"\n\r\ndata: cut off"),
    /// ]);
    /// let mut frames = FrameStream::new(body);
    /// let Some(Ok(Frame::Event(message))) = frames.next().await else { panic!() };
    /// assert_eq!((message.data.as_str(), message.last_event_id.as_str()), ("hello", "1"));
    /// assert!(frames.next().await.is_none());
    /// assert_eq!(frames.decoder().last_event_id(), "1");
    /// # });
    /// ```
    pub struct FrameStream<S> {
        #[pin]
        body: S,
        buf: BytesMut,
        decoder: Decoder,
        body_done: bool,
        finished: bool,
    }
}

impl<S> FrameStream<S> {
    /// Parses `body` with a new [`Decoder`] (default limits).
    ///
    /// ```
    /// use futures_util::stream;
    /// use sse_core::parse::FrameStream;
    ///
    /// let frames = FrameStream::new(stream::empty::<Result<Vec<u8>, std::io::Error>>());
    /// assert_eq!(frames.decoder().last_event_id(), "");
    /// ```
    pub fn new(body: S) -> Self {
        Self::with_decoder(body, Decoder::new())
    }

    /// Parses `body` with `decoder`, for other limits, a seeded last event ID, or the
    /// decoder of the previous connection. The decoder is reset for a new body
    /// ([`Decoder::reconnect`]).
    ///
    /// ```
    /// use futures_util::stream;
    /// use sse_core::parse::{Decoder, FrameStream};
    ///
    /// let decoder = Decoder::with_limits(1024, 4096).with_last_event_id("41");
    /// let body = stream::empty::<Result<bytes::Bytes, std::io::Error>>();
    /// let frames = FrameStream::with_decoder(body, decoder);
    /// assert_eq!(frames.decoder().last_event_id(), "41");
    /// ```
    pub fn with_decoder(body: S, mut decoder: Decoder) -> Self {
        decoder.reconnect();
        Self {
            body,
            buf: BytesMut::new(),
            decoder,
            body_done: false,
            finished: false,
        }
    }

    /// The decoder, for its last event ID and reconnection time.
    ///
    /// ```
    /// use futures_util::stream;
    /// use sse_core::parse::FrameStream;
    ///
    /// let frames = FrameStream::new(stream::empty::<Result<&[u8], std::io::Error>>());
    /// assert_eq!(frames.decoder().retry(), None);
    /// ```
    pub fn decoder(&self) -> &Decoder {
        &self.decoder
    }

    /// Takes the decoder out, for example to parse the next connection's body with
    /// [`with_decoder`](Self::with_decoder).
    ///
    /// ```
    /// use futures_util::stream;
    /// use sse_core::parse::FrameStream;
    ///
    /// let frames = FrameStream::new(stream::empty::<Result<&[u8], std::io::Error>>());
    /// let decoder = frames.into_decoder();
    /// assert_eq!(decoder.last_event_id(), "");
    /// ```
    pub fn into_decoder(self) -> Decoder {
        self.decoder
    }

    /// The wrapped byte stream.
    ///
    /// ```
    /// use futures_util::stream;
    /// use sse_core::parse::FrameStream;
    ///
    /// let frames = FrameStream::new(stream::empty::<Result<&[u8], std::io::Error>>());
    /// let _body = frames.get_ref();
    /// ```
    pub fn get_ref(&self) -> &S {
        &self.body
    }
}

impl<S> fmt::Debug for FrameStream<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameStream")
            .field("body", &std::any::type_name::<S>())
            .field("buffered", &self.buf.len())
            .field("decoder", &self.decoder)
            .finish()
    }
}

impl<S, B, E> Stream for FrameStream<S>
where
    S: Stream<Item = Result<B, E>>,
    B: AsRef<[u8]>,
{
    type Item = Result<Frame, StreamError<E>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            if *this.finished {
                return Poll::Ready(None);
            }
            if *this.body_done {
                return Poll::Ready(match this.decoder.decode_eof(this.buf) {
                    Ok(Some(frame)) => Some(Ok(frame)),
                    Ok(None) => {
                        *this.finished = true;
                        None
                    }
                    Err(err) => Some(Err(StreamError::Parse(err))),
                });
            }
            match this.decoder.decode(this.buf) {
                Ok(Some(frame)) => return Poll::Ready(Some(Ok(frame))),
                Ok(None) => {}
                Err(err) => return Poll::Ready(Some(Err(StreamError::Parse(err)))),
            }
            match ready!(this.body.as_mut().poll_next(cx)) {
                Some(Ok(chunk)) => this.buf.extend_from_slice(chunk.as_ref()),
                Some(Err(err)) => return Poll::Ready(Some(Err(StreamError::Body(err)))),
                None => *this.body_done = true,
            }
        }
    }
}

impl<S, B, E> FusedStream for FrameStream<S>
where
    S: Stream<Item = Result<B, E>>,
    B: AsRef<[u8]>,
{
    fn is_terminated(&self) -> bool {
        self.finished
    }
}
