//! [`LastEventId`]: the extractor for the id a reconnecting client sends.

use std::fmt;
use std::ops::Deref;

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;
use http::StatusCode;
use sse_core::LastEventIdError;

/// Extracts the id of the last event a client saw: the `Last-Event-ID` header that
/// `EventSource` sends when it reconnects, or else the `lastEventId` query parameter that
/// polyfills send.
///
/// Use `Option<LastEventId>` in handlers: it is `None` when the request carries no id (a
/// first connection) and rejects a malformed id with `400 Bad Request`. `LastEventId` alone
/// rejects a request without an id too. The value is checked as
/// [`sse_core::LastEventId`] documents (UTF-8, at most 1 KiB, no NUL, CR or LF).
///
/// Behind [`SseLayer`](crate::SseLayer), which has already read the id into the request
/// extensions, the extractor takes it from there.
///
/// # Example
///
/// ```
/// use axum::{routing::get, Router};
/// use sse_axum::LastEventId;
///
/// async fn handler(last: Option<LastEventId>) -> String {
///     match last {
///         Some(LastEventId(id)) => format!("resuming after {id}"),
///         None => "from the start".to_owned(),
///     }
/// }
///
/// let app: Router = Router::new().route("/events", get(handler));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LastEventId(pub sse_core::LastEventId);

impl LastEventId {
    /// The id, as [`sse_core`]'s type (what the hub's `subscribe` and most handlers want).
    pub fn into_inner(self) -> sse_core::LastEventId {
        self.0
    }
}

impl Deref for LastEventId {
    type Target = sse_core::LastEventId;

    fn deref(&self) -> &sse_core::LastEventId {
        &self.0
    }
}

impl From<LastEventId> for sse_core::LastEventId {
    fn from(id: LastEventId) -> Self {
        id.0
    }
}

impl fmt::Display for LastEventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Reads the id: from the extensions where [`sse_tower::SseLayer`] left it, else from the
/// header or the query.
fn extract(parts: &Parts) -> Result<Option<sse_core::LastEventId>, LastEventIdRejection> {
    if let Some(id) = parts.extensions.get::<sse_core::LastEventId>() {
        return Ok(Some(id.clone()));
    }
    if let Some(err) = parts.extensions.get::<LastEventIdError>() {
        return Err(LastEventIdRejection::Invalid(*err));
    }
    sse_core::LastEventId::from_request(&parts.headers, parts.uri.query())
        .map_err(LastEventIdRejection::Invalid)
}

impl<S> FromRequestParts<S> for LastEventId
where
    S: Send + Sync,
{
    type Rejection = LastEventIdRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match extract(parts)? {
            Some(id) => Ok(Self(id)),
            None => Err(LastEventIdRejection::Missing),
        }
    }
}

impl<S> OptionalFromRequestParts<S> for LastEventId
where
    S: Send + Sync,
{
    type Rejection = LastEventIdRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        extract(parts).map(|id| id.map(Self))
    }
}

/// Why [`LastEventId`] rejected a request: `400 Bad Request`, with the reason as a plain
/// text body.
///
/// ```
/// use axum::response::IntoResponse;
/// use sse_axum::{LastEventIdRejection, sse_core::LastEventIdError};
///
/// let rejection = LastEventIdRejection::Invalid(LastEventIdError::InvalidChar);
/// assert_eq!(rejection.to_string(), "invalid Last-Event-ID: last event id contains NUL, CR or LF");
/// assert_eq!(rejection.into_response().status(), 400);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LastEventIdRejection {
    /// The request has neither a `Last-Event-ID` header nor a `lastEventId` query
    /// parameter (only `LastEventId` rejects this; `Option<LastEventId>` is `None`).
    Missing,
    /// The id is malformed.
    Invalid(LastEventIdError),
}

impl LastEventIdRejection {
    /// The status of the rejection's response: `400 Bad Request`.
    pub const fn status(&self) -> StatusCode {
        StatusCode::BAD_REQUEST
    }
}

impl fmt::Display for LastEventIdRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str("missing Last-Event-ID"),
            Self::Invalid(err) => write!(f, "invalid Last-Event-ID: {err}"),
        }
    }
}

impl std::error::Error for LastEventIdRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Missing => None,
            Self::Invalid(err) => Some(err),
        }
    }
}

impl IntoResponse for LastEventIdRejection {
    fn into_response(self) -> Response {
        (self.status(), self.to_string()).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::{routing::get, Router};
    use http::{HeaderValue, Request};
    use http_body_util::BodyExt;
    use sse_tower::SseLayer;
    use tower::ServiceExt;

    fn parts(uri: &str, header: Option<&[u8]>) -> Parts {
        let mut request = Request::get(uri);
        if let Some(value) = header {
            request = request.header("last-event-id", HeaderValue::from_bytes(value).unwrap());
        }
        request.body(()).unwrap().into_parts().0
    }

    async fn optional(mut parts: Parts) -> Result<Option<LastEventId>, LastEventIdRejection> {
        <LastEventId as OptionalFromRequestParts<()>>::from_request_parts(&mut parts, &()).await
    }

    async fn required(mut parts: Parts) -> Result<LastEventId, LastEventIdRejection> {
        <LastEventId as FromRequestParts<()>>::from_request_parts(&mut parts, &()).await
    }

    fn id(value: &str) -> LastEventId {
        LastEventId(sse_core::LastEventId::new(value).unwrap())
    }

    #[tokio::test]
    async fn header_present() {
        let got = optional(parts("/", Some(b"42"))).await.unwrap();
        assert_eq!(got, Some(id("42")));
        assert_eq!(required(parts("/", Some(b"42"))).await.unwrap(), id("42"));
    }

    #[tokio::test]
    async fn query_present() {
        let got = optional(parts("/?topic=a&lastEventId=7%2Db", None))
            .await
            .unwrap();
        assert_eq!(got, Some(id("7-b")));
    }

    #[tokio::test]
    async fn header_wins_over_query() {
        let got = optional(parts("/?lastEventId=q", Some(b"h")))
            .await
            .unwrap();
        assert_eq!(got, Some(id("h")));
    }

    #[tokio::test]
    async fn missing_is_none_or_a_rejection() {
        assert_eq!(optional(parts("/?topic=a", None)).await.unwrap(), None);
        assert_eq!(optional(parts("/", Some(b""))).await.unwrap(), None);
        assert_eq!(
            required(parts("/", None)).await.unwrap_err(),
            LastEventIdRejection::Missing
        );
    }

    #[tokio::test]
    async fn malformed_header_is_rejected() {
        let err = optional(parts("/", Some(b"\xff"))).await.unwrap_err();
        assert_eq!(
            err,
            LastEventIdRejection::Invalid(LastEventIdError::NotUtf8)
        );
        let long = vec![b'a'; sse_core::LastEventId::MAX_LEN + 1];
        let err = required(parts("/", Some(&long))).await.unwrap_err();
        assert_eq!(
            err,
            LastEventIdRejection::Invalid(LastEventIdError::TooLong)
        );
    }

    #[tokio::test]
    async fn malformed_query_is_rejected() {
        let err = optional(parts("/?lastEventId=a%0Ab", None))
            .await
            .unwrap_err();
        assert_eq!(
            err,
            LastEventIdRejection::Invalid(LastEventIdError::InvalidChar)
        );
    }

    #[tokio::test]
    async fn the_layer_s_extensions_are_used() {
        let mut from_layer = parts("/", Some(b"header"));
        from_layer
            .extensions
            .insert(sse_core::LastEventId::new("layer").unwrap());
        assert_eq!(optional(from_layer).await.unwrap(), Some(id("layer")));

        let mut refused = parts("/", None);
        refused.extensions.insert(LastEventIdError::TooLong);
        assert_eq!(
            optional(refused).await.unwrap_err(),
            LastEventIdRejection::Invalid(LastEventIdError::TooLong)
        );
    }

    #[tokio::test]
    async fn rejection_is_a_400_with_the_reason() {
        async fn handler(last: Option<LastEventId>) -> String {
            last.map_or_else(|| "none".to_owned(), |id| id.to_string())
        }
        let app = Router::new()
            .route("/", get(handler))
            .layer(SseLayer::new());
        let call = |request: Request<axum::body::Body>| {
            let app = app.clone();
            async move {
                let response = app.oneshot(request).await.unwrap();
                let status = response.status();
                let body = response.into_body().collect().await.unwrap().to_bytes();
                (status, String::from_utf8(body.to_vec()).unwrap())
            }
        };
        let request = |uri: &str, header: Option<&str>| {
            let mut request = Request::get(uri);
            if let Some(value) = header {
                request = request.header("last-event-id", value);
            }
            request.body(axum::body::Body::empty()).unwrap()
        };
        assert_eq!(
            call(request("/", Some("5"))).await,
            (StatusCode::OK, "5".into())
        );
        assert_eq!(
            call(request("/?lastEventId=6", None)).await,
            (StatusCode::OK, "6".into())
        );
        assert_eq!(
            call(request("/", None)).await,
            (StatusCode::OK, "none".into())
        );
        assert_eq!(
            call(request("/?lastEventId=%00", None)).await,
            (
                StatusCode::BAD_REQUEST,
                "invalid Last-Event-ID: last event id contains NUL, CR or LF".into()
            )
        );
    }
}
