use std::{
    future::Future,
    marker::PhantomData,
    pin::Pin,
    rc::Rc,
    task::{ready, Context, Poll},
};

use actix_web::{
    body::{EitherBody, MessageBody},
    dev::ServiceResponse,
    Error,
};
use pin_project_lite::pin_project;

use sse_core::SseConfig;

use super::{body::respond, ResponseBody};

pin_project! {
    /// Response future of [`SseService`](super::SseService): the inner service's response,
    /// turned into an SSE response when it is one.
    pub struct ResponseFuture<F, B> {
        #[pin]
        fut: F,
        inner: Rc<SseConfig>,
        _body: PhantomData<B>,
    }
}

impl<F, B> ResponseFuture<F, B> {
    pub(crate) fn new(fut: F, inner: Rc<SseConfig>) -> Self {
        Self {
            fut,
            inner,
            _body: PhantomData,
        }
    }
}

impl<F, B> std::fmt::Debug for ResponseFuture<F, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("fut", &std::any::type_name::<F>())
            .finish_non_exhaustive()
    }
}

impl<F, B> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<ServiceResponse<B>, Error>>,
    B: MessageBody,
{
    type Output = Result<ServiceResponse<EitherBody<ResponseBody<B>>>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let res = ready!(this.fut.poll(cx))?;
        Poll::Ready(Ok(respond(this.inner, res)))
    }
}
