//! [`HeartbeatBody`]: heartbeat comments injected into any SSE body, at event boundaries only.

use std::{
    fmt,
    pin::Pin,
    task::{Context, Poll},
};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use sse_core::__private::HeartbeatTimer;
use sse_core::Heartbeat;

pin_project! {
    /// A body that injects a heartbeat comment into an event stream after it has been idle
    /// for an interval, but only at an event boundary.
    ///
    /// It wraps any body whose data is [`Bytes`] and that carries `text/event-stream`: the
    /// stream built by [`SseBody`](crate::SseBody), axum's own `Sse`, or a hand-written body
    /// that sends one event in several chunks. It never copies event bytes: it remembers
    /// only whether the bytes written so far end at an event boundary (after a blank line,
    /// or after a comment line that itself started at a boundary), which the last bytes of
    /// each data frame tell, and the instant of the last write. While an event is half
    /// written, no heartbeat is sent, however long the body stalls.
    ///
    /// Every data frame counts as activity, including the body's own comments, so a body
    /// that already sends heartbeats more often than the interval gets none injected. A data
    /// frame only sets a flag; when the inner body next returns `Pending` (the end of a
    /// burst, which is when the frame was written) the time is read once and recorded as
    /// the last write. There is no timer per body: one ticker per runtime and interval wakes
    /// the bodies whose heartbeat is due, at most one interval after their last write. The
    /// timing and the boundary tracking are sse-core's, shared with every other heartbeat.
    ///
    /// After the inner body ends (or fails) this body returns `None` forever and never sends
    /// a heartbeat again. Since heartbeats add bytes, the size hint loses its upper bound
    /// (and an SSE response never gets a `Content-Length`).
    ///
    /// It needs a tokio runtime with the time driver.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// use bytes::Bytes;
    /// use http_body_util::{BodyExt, Full};
    /// use sse_core::Heartbeat;
    /// use sse_tower::HeartbeatBody;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let body = Full::new(Bytes::from_static(b"data: hello\n\n"));
    /// let mut body = HeartbeatBody::new(body, Heartbeat::every(Duration::from_secs(15)).text("ping"));
    /// let frame = body.frame().await.unwrap().unwrap();
    /// assert_eq!(frame.into_data().unwrap(), "data: hello\n\n");
    /// assert!(body.frame().await.is_none());
    /// # }
    /// ```
    pub struct HeartbeatBody<B> {
        #[pin]
        inner: B,
        timer: HeartbeatTimer,
    }
}

impl<B> HeartbeatBody<B> {
    /// Wraps `body`, writing `heartbeat` after its interval without a write.
    pub fn new(body: B, heartbeat: Heartbeat) -> Self {
        Self::with_timer(body, HeartbeatTimer::new(Some(&heartbeat)))
    }

    pub(crate) fn with_timer(body: B, timer: HeartbeatTimer) -> Self {
        Self { inner: body, timer }
    }

    /// Gets a reference to the inner body.
    pub fn get_ref(&self) -> &B {
        &self.inner
    }

    /// Gets a mutable reference to the inner body.
    pub fn get_mut(&mut self) -> &mut B {
        &mut self.inner
    }

    /// Gets a pinned mutable reference to the inner body.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut B> {
        self.project().inner
    }

    /// Consumes `self`, returning the inner body.
    pub fn into_inner(self) -> B {
        self.inner
    }

    /// [`Body::poll_frame`], calling `on_heartbeat` when the frame is an injected heartbeat
    /// (the middleware counts them).
    pub(crate) fn poll_frame_with(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        on_heartbeat: impl FnOnce(),
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>>
    where
        B: Body<Data = Bytes>,
    {
        let this = self.project();
        if this.timer.is_ended() {
            return Poll::Ready(None);
        }
        match this.inner.poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.timer.on_data(data);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(err))) => {
                this.timer.on_end();
                Poll::Ready(Some(Err(err)))
            }
            Poll::Ready(None) => {
                this.timer.on_end();
                Poll::Ready(None)
            }
            // The inner body is idle: maybe a heartbeat is due.
            Poll::Pending => this.timer.poll_heartbeat(cx).map(|beat| {
                on_heartbeat();
                Some(Ok(Frame::data(beat)))
            }),
        }
    }
}

impl<B> fmt::Debug for HeartbeatBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeartbeatBody")
            .field("inner", &format_args!("{}", std::any::type_name::<B>()))
            .field("timer", &self.timer)
            .finish()
    }
}

impl<B> Body for HeartbeatBody<B>
where
    B: Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        self.poll_frame_with(cx, || {})
    }

    fn is_end_stream(&self) -> bool {
        self.timer.is_ended() || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        if self.timer.is_ended() {
            return SizeHint::with_exact(0);
        }
        let inner = self.inner.size_hint();
        if self.timer.interval().is_none() || self.inner.is_end_stream() {
            return inner;
        }
        let mut hint = SizeHint::new();
        hint.set_lower(inner.lower());
        hint
    }
}
