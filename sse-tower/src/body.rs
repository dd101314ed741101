//! [`SseBody`]: a response body that serves a stream of encoded SSE chunks.

use std::{
    convert::Infallible,
    fmt,
    pin::Pin,
    task::{Context, Poll},
};

use bytes::Bytes;
use futures_core::Stream;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

pin_project! {
    /// A response body serving a stream of encoded SSE chunks: `Bytes`, an
    /// [`sse_core::Event`], or anything else that is `Into<Bytes>`.
    ///
    /// This is the body the axum and warp adapters hand to their frameworks. It is `Send`
    /// when the stream is, has no known length (so no `Content-Length` is ever set), and
    /// skips empty chunks.
    ///
    /// # Errors end the stream cleanly
    ///
    /// The toolkit's one policy for an error in the middle of an event stream: the `Err` item
    /// is logged with `tracing::warn!` and the body **ends normally**. The body's own error
    /// type is [`Infallible`]: ending with an error would make the server abort the
    /// connection (on HTTP/1 the chunked encoding is left unterminated), whereas a clean end
    /// terminates the response properly, and the client sees a normal end of stream and
    /// reconnects with its `Last-Event-ID`, which is exactly what a server-side failure
    /// should lead to. Nothing is polled from the stream after its first error or its end.
    ///
    /// # Example
    ///
    /// ```
    /// use std::io;
    /// use bytes::Bytes;
    /// use futures_util::stream;
    /// use http_body_util::BodyExt;
    /// use sse_tower::SseBody;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let chunks = stream::iter([
    ///     Ok(Bytes::from("data: one\n\n")),
    ///     Err(io::Error::other("database gone")),
    ///     Ok(Bytes::from("data: never sent\n\n")),
    /// ]);
    /// let body = SseBody::new(chunks).collect().await.unwrap().to_bytes();
    /// assert_eq!(body, "data: one\n\n");
    /// # }
    /// ```
    #[must_use]
    pub struct SseBody<S> {
        #[pin]
        stream: S,
        ended: bool,
    }
}

impl<S> SseBody<S> {
    /// Serves `stream`.
    pub const fn new(stream: S) -> Self {
        Self {
            stream,
            ended: false,
        }
    }

    /// Gets a reference to the stream.
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// Gets a mutable reference to the stream.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// Gets a pinned mutable reference to the stream.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut S> {
        self.project().stream
    }

    /// Consumes `self`, returning the stream.
    pub fn into_inner(self) -> S {
        self.stream
    }
}

impl<S> fmt::Debug for SseBody<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseBody")
            .field("stream", &format_args!("{}", std::any::type_name::<S>()))
            .field("ended", &self.ended)
            .finish()
    }
}

impl<S, T, E> Body for SseBody<S>
where
    S: Stream<Item = Result<T, E>>,
    T: Into<Bytes>,
    E: fmt::Display,
{
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let mut this = self.project();
        while !*this.ended {
            let item = std::task::ready!(this.stream.as_mut().poll_next(cx));
            match sse_core::__private::end_on_error(item) {
                Some(chunk) => {
                    let chunk = chunk.into();
                    if !chunk.is_empty() {
                        return Poll::Ready(Some(Ok(Frame::data(chunk))));
                    }
                }
                None => *this.ended = true,
            }
        }
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        self.ended
    }

    fn size_hint(&self) -> SizeHint {
        if self.ended {
            SizeHint::with_exact(0)
        } else {
            SizeHint::new()
        }
    }
}

/// The headers of an SSE response, [`sse_core::headers::RESPONSE_HEADERS`], in a map of exactly their
/// size (hyper keeps a response's map for the connection's life). The axum and warp
/// responders serve their [`SseBody`] with these.
///
/// ```
/// let headers = sse_tower::response_headers();
/// assert_eq!(headers["content-type"], "text/event-stream");
/// assert_eq!(headers["cache-control"], "no-cache, no-transform");
/// assert_eq!(headers.len(), sse_core::headers::RESPONSE_HEADERS.len());
/// ```
#[must_use]
pub fn response_headers() -> HeaderMap {
    let mut headers = HeaderMap::with_capacity(sse_core::headers::RESPONSE_HEADERS.len());
    for (name, value) in sse_core::headers::RESPONSE_HEADERS {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::stream;
    use http_body_util::BodyExt;
    use sse_core::Event;

    fn assert_send<T: Send>(_: &T) {}

    #[tokio::test]
    async fn events_and_bytes_are_served_in_order() {
        let body = SseBody::new(stream::iter([
            Ok::<_, Infallible>(Event::data("one")),
            Ok(Event::data("two")),
        ]));
        assert_send(&body);
        assert!(body.size_hint().exact().is_none());
        let bytes = body.collect().await.unwrap().to_bytes();
        assert_eq!(bytes, "data: one\n\ndata: two\n\n");
    }

    #[tokio::test]
    async fn an_error_ends_the_body_and_it_stays_ended() {
        let mut body = SseBody::new(stream::iter([
            Ok(Bytes::from_static(b"")),
            Ok(Bytes::from_static(b"data: one\n\n")),
            Err("boom"),
            Ok(Bytes::from_static(b"data: two\n\n")),
        ]));
        let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(first, "data: one\n\n");
        assert!(!body.is_end_stream());
        assert!(body.frame().await.is_none());
        assert!(body.is_end_stream());
        assert_eq!(body.size_hint().exact(), Some(0));
        assert!(body.frame().await.is_none());
    }
}
