use std::{
    future::Future,
    pin::Pin,
    task::{ready, Context, Poll},
};

use http::{Response, Version};
use pin_project_lite::pin_project;

use sse_core::SseConfig;

use super::{body::respond, ResponseBody};

pin_project! {
    /// Response future of [`SseService`](super::SseService).
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        version: Version,
        config: Option<SseConfig>,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(inner: F, version: Version, config: SseConfig) -> Self {
        Self {
            inner,
            version,
            config: Some(config),
        }
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("inner", &format_args!("{}", std::any::type_name::<F>()))
            .field("version", &self.version)
            .finish()
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<ResponseBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let res = ready!(this.inner.poll(cx))?;
        let config = this
            .config
            .take()
            .expect("ResponseFuture polled after completion");
        Poll::Ready(Ok(respond(&config, *this.version, res)))
    }
}
