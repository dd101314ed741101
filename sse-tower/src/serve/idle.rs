//! What makes a connection idle: no request in flight. A request is in flight from the
//! service call until its response body is dropped (written to the end, or cut), so an
//! event stream keeps its connection busy for its whole life, heartbeats or not.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use http_body::{Body, Frame, SizeHint};
use tokio::sync::Notify;
use tower_service::Service;

/// The requests in flight on one connection, and a wake-up for its task when that count
/// changes.
#[derive(Debug, Default)]
pub(super) struct Activity {
    in_flight: AtomicUsize,
    changed: Notify,
}

impl Activity {
    pub(super) fn is_idle(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0
    }

    /// Resolves after the count changed (at once if it changed since the last call: `Notify`
    /// keeps one permit, and the connection task is its only waiter).
    pub(super) async fn changed(&self) {
        self.changed.notified().await;
    }
}

/// One request in flight: counted from the service call to the response body's drop.
#[derive(Debug)]
struct InFlight(Arc<Activity>);

impl InFlight {
    fn new(activity: &Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        activity.changed.notify_one();
        Self(Arc::clone(activity))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
        self.0.changed.notify_one();
    }
}

/// The connection's service: counts every request in `activity`.
#[derive(Debug, Clone)]
pub(super) struct Tracked<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S> Tracked<S> {
    pub(super) fn new(inner: S, activity: Arc<Activity>) -> Self {
        Self { inner, activity }
    }
}

impl<S, ReqBody, B> Service<Request<ReqBody>> for Tracked<S>
where
    S: Service<Request<ReqBody>, Response = Response<B>>,
{
    type Response = Response<TrackedBody<B>>;
    type Error = S::Error;
    type Future = TrackedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let in_flight = InFlight::new(&self.activity);
        TrackedFuture {
            inner: self.inner.call(request),
            in_flight: Some(in_flight),
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`Tracked`]: hands the request's count to the body.
    pub(super) struct TrackedFuture<F> {
        #[pin]
        inner: F,
        in_flight: Option<InFlight>,
    }
}

impl<F, B, E> Future for TrackedFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<TrackedBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = std::task::ready!(this.inner.poll(cx))?;
        let in_flight = this.in_flight.take();
        Poll::Ready(Ok(response.map(|inner| TrackedBody {
            inner,
            _in_flight: in_flight,
        })))
    }
}

pin_project_lite::pin_project! {
    /// A response body that keeps its request counted until it is dropped.
    pub(super) struct TrackedBody<B> {
        #[pin]
        inner: B,
        _in_flight: Option<InFlight>,
    }
}

impl<B: Body> Body for TrackedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        self.project().inner.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::convert::Infallible;

    use http_body_util::{BodyExt, Full};

    #[tokio::test]
    async fn a_request_is_in_flight_until_its_body_is_dropped() {
        let activity = Arc::new(Activity::default());
        let mut service = Tracked::new(
            tower::service_fn(|_: Request<()>| async {
                Ok::<_, Infallible>(Response::new(Full::new(bytes::Bytes::from_static(b"x"))))
            }),
            Arc::clone(&activity),
        );
        assert!(activity.is_idle());
        let future = service.call(Request::new(()));
        assert!(!activity.is_idle(), "counted from the call");
        let response = future.await.unwrap();
        assert!(!activity.is_idle(), "still counted while the body lives");
        let body = response.into_body().collect().await.unwrap();
        assert_eq!(body.to_bytes(), "x");
        assert!(activity.is_idle(), "released with the body");
        // Every change left a wake-up for the connection task.
        activity.changed().await;
    }
}
