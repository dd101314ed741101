//! [`HeartbeatBody`]: heartbeat comments injected into any SSE body, at event boundaries only.

use std::{
    fmt,
    pin::Pin,
    task::{Context, Poll},
};

use actix_web::body::{BodySize, MessageBody};
use bytes::Bytes;
use pin_project_lite::pin_project;
use sse_core::__private::HeartbeatTimer;
use sse_core::Heartbeat;

pin_project! {
    /// A [`MessageBody`] that injects a heartbeat comment into an event stream after it has
    /// been idle for an interval, but only at an event boundary.
    ///
    /// It wraps any body that carries `text/event-stream`: this crate's
    /// [`Sse`](crate::Sse), actix-web-lab's `Sse`, or a hand-written body that sends one
    /// event in several chunks. It never copies event bytes: it remembers only whether the
    /// bytes written so far end at an event boundary (after a blank line, or after a comment
    /// line that itself started at a boundary), which the last bytes of each chunk tell, and
    /// the instant of the last write. While an event is half written no heartbeat is sent,
    /// however long the body stalls.
    ///
    /// Every chunk counts as activity, including the body's own comments, so a body that
    /// already sends heartbeats more often than the interval gets none injected. The timing
    /// and the boundary tracking are sse-core's, shared with sse-tower's `HeartbeatBody`.
    ///
    /// After the inner body ends (or fails) this body returns `None` forever and never sends
    /// a heartbeat again. Its size is always [`BodySize::Stream`]: heartbeats add bytes.
    ///
    /// There is no timer per body: one ticker per worker runtime and interval wakes the
    /// bodies whose heartbeat is due (tokio's timer, which actix-web's runtime provides).
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// use actix_web::body::{self, BodySize, MessageBody};
    /// use sse_actix::{middleware::HeartbeatBody, Heartbeat};
    ///
    /// # #[actix_web::main] async fn main() {
    /// let heartbeat = Heartbeat::every(Duration::from_secs(15)).text("ping");
    /// let body = HeartbeatBody::new("data: hello\n\n", heartbeat);
    /// assert_eq!(body.size(), BodySize::Stream);
    /// assert_eq!(body::to_bytes(body).await.unwrap(), "data: hello\n\n");
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

    /// [`MessageBody::poll_next`], calling `on_heartbeat` when the chunk is an injected
    /// heartbeat (the middleware counts them).
    pub(crate) fn poll_next_with(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        on_heartbeat: impl FnOnce(),
    ) -> Poll<Option<Result<Bytes, B::Error>>>
    where
        B: MessageBody,
    {
        let this = self.project();
        if this.timer.is_ended() {
            return Poll::Ready(None);
        }
        match this.inner.poll_next(cx) {
            Poll::Ready(Some(Ok(data))) => {
                this.timer.on_data(&data);
                Poll::Ready(Some(Ok(data)))
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
                Some(Ok(beat))
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

impl<B> MessageBody for HeartbeatBody<B>
where
    B: MessageBody,
{
    type Error = B::Error;

    fn size(&self) -> BodySize {
        match self.timer.interval() {
            Some(_) if !self.timer.is_ended() => BodySize::Stream,
            _ => self.inner.size(),
        }
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        self.poll_next_with(cx, || {})
    }
}
