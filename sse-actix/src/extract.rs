//! [`LastEventId`]: the extractor for the id a reconnecting client sends.

use std::{fmt, future::Ready, ops::Deref};

use actix_web::{dev::Payload, http::StatusCode, FromRequest, HttpRequest, ResponseError};

/// Extracts the id of the last event a reconnecting client saw: from the `Last-Event-ID`
/// header, else from the `lastEventId` query parameter that EventSource polyfills send.
///
/// It wraps [`sse_core::LastEventId`] (the value is checked: UTF-8, at most 1 KiB, no NUL,
/// CR or LF), like actix's own `web::Header(pub T)`. A malformed header is not replaced by
/// the query parameter.
///
/// # Which extractor to take
///
/// | handler argument | no id sent | malformed id |
/// |---|---|---|
/// | `LastEventId` | `400` ([`LastEventIdError::Missing`]) | `400` |
/// | `Option<LastEventId>` | `None` | `None` (actix's `Option` turns every error into `None`) |
/// | `Result<LastEventId, LastEventIdError>` | `Err(Missing)` | `Err(Malformed(..))` |
///
/// `Option<LastEventId>` is what an event feed usually wants: a client with a bad id simply
/// starts from the live edge, as one with no id does. To answer a malformed id with `400`
/// but accept a missing one, take the `Result` and return the error unless
/// [`is_missing`](LastEventIdError::is_missing).
///
/// # Example
///
/// ```
/// use actix_web::{get, test, App, Responder};
/// use sse_actix::{LastEventId, LastEventIdError};
///
/// #[get("/resume")]
/// async fn resume(id: Result<LastEventId, LastEventIdError>) -> actix_web::Result<impl Responder> {
///     match id {
///         Ok(id) => Ok(format!("after {}", id.as_str())),
///         Err(err) if err.is_missing() => Ok("from the start".to_owned()),
///         Err(err) => Err(err.into()),
///     }
/// }
///
/// # #[actix_web::main] async fn main() {
/// let app = test::init_service(App::new().service(resume)).await;
/// let req = test::TestRequest::get().uri("/resume?lastEventId=7").to_request();
/// assert_eq!(test::call_and_read_body(&app, req).await, "after 7");
/// let req = test::TestRequest::get().uri("/resume").to_request();
/// assert_eq!(test::call_and_read_body(&app, req).await, "from the start");
/// let req = test::TestRequest::get().uri("/resume?lastEventId=a%0Ab").to_request();
/// assert_eq!(test::call_service(&app, req).await.status(), 400);
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LastEventId(pub sse_core::LastEventId);

impl LastEventId {
    /// Reads the id from a request, as the extractor does.
    ///
    /// # Errors
    ///
    /// [`LastEventIdError::Missing`] if neither the header nor the query parameter carries
    /// an id, [`LastEventIdError::Malformed`] if the value found is malformed.
    ///
    /// ```
    /// use actix_web::test::TestRequest;
    /// use sse_actix::LastEventId;
    ///
    /// let req = TestRequest::default().insert_header(("last-event-id", "42")).to_http_request();
    /// assert_eq!(LastEventId::parse(&req).unwrap().as_str(), "42");
    /// ```
    pub fn parse(req: &HttpRequest) -> Result<Self, LastEventIdError> {
        let header = req.headers().get(sse_core::LastEventId::HEADER);
        let found = sse_core::LastEventId::from_parts(
            header.map(|value| value.as_bytes()),
            Some(req.query_string()),
        );
        match found {
            Ok(Some(id)) => Ok(Self(id)),
            Ok(None) => Err(LastEventIdError::Missing),
            Err(err) => Err(LastEventIdError::Malformed(err)),
        }
    }

    /// The sse-core id, by value (what [`sse_core`] and hub APIs take).
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
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromRequest for LastEventId {
    type Error = LastEventIdError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Self::parse(req))
    }
}

/// Why [`LastEventId`] could not be extracted. As an actix error it answers
/// `400 Bad Request`.
///
/// ```
/// use actix_web::ResponseError;
/// use sse_actix::LastEventIdError;
///
/// assert_eq!(LastEventIdError::Missing.status_code(), 400);
/// assert!(LastEventIdError::Missing.is_missing());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LastEventIdError {
    /// Neither the `Last-Event-ID` header nor the `lastEventId` query parameter carries an
    /// id (an empty value counts as none).
    Missing,
    /// The value found is not a valid id.
    Malformed(sse_core::LastEventIdError),
}

impl LastEventIdError {
    /// Whether the client simply sent no id.
    #[must_use]
    pub fn is_missing(&self) -> bool {
        matches!(self, Self::Missing)
    }
}

impl fmt::Display for LastEventIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str("no last event id in the request"),
            Self::Malformed(err) => write!(f, "malformed Last-Event-ID: {err}"),
        }
    }
}

impl std::error::Error for LastEventIdError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Missing => None,
            Self::Malformed(err) => Some(err),
        }
    }
}

impl ResponseError for LastEventIdError {
    fn status_code(&self) -> StatusCode {
        StatusCode::BAD_REQUEST
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    async fn extract<T: FromRequest>(req: TestRequest) -> Result<T, T::Error> {
        let (req, mut payload) = req.to_http_parts();
        T::from_request(&req, &mut payload).await
    }

    #[actix_web::test]
    async fn header_is_read() {
        let req = TestRequest::default().insert_header(("Last-Event-ID", "42-a"));
        let id = extract::<LastEventId>(req).await.unwrap();
        assert_eq!(id.as_str(), "42-a");
        assert_eq!(id.to_string(), "42-a");
    }

    #[actix_web::test]
    async fn query_is_read_and_decoded_when_no_header() {
        let req = TestRequest::with_uri("/events?topic=x&lastEventId=7%2Db");
        assert_eq!(extract::<LastEventId>(req).await.unwrap().as_str(), "7-b");
    }

    #[actix_web::test]
    async fn header_wins_over_query() {
        let req =
            TestRequest::with_uri("/events?lastEventId=q").insert_header(("last-event-id", "h"));
        assert_eq!(extract::<LastEventId>(req).await.unwrap().as_str(), "h");
    }

    #[actix_web::test]
    async fn missing_is_an_error_and_none_as_option() {
        let err = extract::<LastEventId>(TestRequest::default())
            .await
            .unwrap_err();
        assert_eq!(err, LastEventIdError::Missing);
        assert_eq!(err.status_code(), StatusCode::BAD_REQUEST);
        let empty = TestRequest::default().insert_header(("last-event-id", ""));
        assert_eq!(
            extract::<LastEventId>(empty).await,
            Err(LastEventIdError::Missing)
        );
        let opt = extract::<Option<LastEventId>>(TestRequest::default())
            .await
            .unwrap();
        assert_eq!(opt, None);
    }

    #[actix_web::test]
    async fn malformed_header_is_a_400_not_a_fallback_to_the_query() {
        let req = TestRequest::with_uri("/?lastEventId=q").insert_header((
            "last-event-id",
            actix_web::http::header::HeaderValue::from_bytes(b"\xc3\x28").unwrap(),
        ));
        let err = extract::<LastEventId>(req).await.unwrap_err();
        assert_eq!(
            err,
            LastEventIdError::Malformed(sse_core::LastEventIdError::NotUtf8)
        );
        assert_eq!(err.error_response().status(), StatusCode::BAD_REQUEST);
    }

    #[actix_web::test]
    async fn malformed_query_is_an_error_none_as_option_and_err_as_result() {
        let bad = || TestRequest::with_uri("/?lastEventId=%0A");
        assert_eq!(
            extract::<LastEventId>(bad()).await,
            Err(LastEventIdError::Malformed(
                sse_core::LastEventIdError::InvalidChar
            ))
        );
        assert_eq!(extract::<Option<LastEventId>>(bad()).await.unwrap(), None);
        let res = extract::<Result<LastEventId, LastEventIdError>>(bad())
            .await
            .unwrap();
        assert!(!res.unwrap_err().is_missing());
        let too_long = TestRequest::default().insert_header(("last-event-id", "a".repeat(2000)));
        assert_eq!(
            extract::<LastEventId>(too_long).await,
            Err(LastEventIdError::Malformed(
                sse_core::LastEventIdError::TooLong
            ))
        );
    }
}
