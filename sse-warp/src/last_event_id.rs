//! [`last_event_id`]: the filter for the id a reconnecting client sends.

use std::fmt;

use http::{HeaderValue, StatusCode};
use sse_core::{LastEventId, LastEventIdError};
use warp::reject::{Reject, Rejection};
use warp::reply::{Reply, Response};
use warp::Filter;

/// Extracts the id of the last event a client saw: the `Last-Event-ID` header that
/// `EventSource` sends when it reconnects, or else the `lastEventId` query parameter that
/// polyfills send; `None` when the request carries neither (a first connection).
///
/// The value is checked as [`LastEventId`] documents (UTF-8, at most 1 KiB, no NUL, CR or
/// LF). A malformed one rejects the request with [`InvalidLastEventId`]. Like any custom
/// rejection, warp answers it with `500` unless a `recover` handles it: turn it into its
/// own `400 Bad Request` reply as below.
///
/// # Example
///
/// ```
/// use sse_warp::{last_event_id, InvalidLastEventId, LastEventId};
/// use warp::{Filter, Rejection, Reply};
///
/// async fn recover(rejection: Rejection) -> Result<impl Reply, Rejection> {
///     match rejection.find::<InvalidLastEventId>() {
///         Some(invalid) => Ok(*invalid),
///         None => Err(rejection),
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let route = last_event_id()
///     .map(|id: Option<LastEventId>| id.map_or_else(|| "none".to_owned(), LastEventId::into_string))
///     .recover(recover);
///
/// let present = warp::test::request().header("last-event-id", "41").reply(&route).await;
/// assert_eq!(present.body(), "41");
/// let by_query = warp::test::request().path("/?lastEventId=7%2Db").reply(&route).await;
/// assert_eq!(by_query.body(), "7-b");
/// let missing = warp::test::request().reply(&route).await;
/// assert_eq!(missing.body(), "none");
/// let malformed = warp::test::request().path("/?lastEventId=a%0Ab").reply(&route).await;
/// assert_eq!(malformed.status(), 400);
/// # }
/// ```
pub fn last_event_id() -> impl Filter<Extract = (Option<LastEventId>,), Error = Rejection> + Copy {
    // `header::value` and `query::raw` reject when absent: absence becomes `None`.
    // (`header::optional` would refuse a non-ASCII UTF-8 value, which is a valid id.)
    let header = warp::header::value(LastEventId::HEADER)
        .map(Some)
        .or(warp::any().map(|| None))
        .unify();
    let query = warp::query::raw()
        .map(Some)
        .or(warp::any().map(|| None))
        .unify();
    header.and(query).and_then(read)
}

async fn read(
    header: Option<HeaderValue>,
    query: Option<String>,
) -> Result<Option<LastEventId>, Rejection> {
    LastEventId::from_parts(header.as_ref().map(HeaderValue::as_bytes), query.as_deref())
        .map_err(|error| warp::reject::custom(InvalidLastEventId { error }))
}

/// The rejection of [`last_event_id`] for a malformed id. As a [`Reply`] it is
/// `400 Bad Request` with the reason as a plain text body.
///
/// ```
/// use sse_warp::{InvalidLastEventId, Reply};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let rejection = warp::test::request()
///     .header("last-event-id", "a".repeat(2000))
///     .filter(&sse_warp::last_event_id())
///     .await
///     .unwrap_err();
/// let invalid = rejection.find::<InvalidLastEventId>().unwrap();
/// assert_eq!(invalid.to_string(), "invalid Last-Event-ID: last event id is longer than 1024 bytes");
/// assert_eq!(invalid.into_response().status(), 400);
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidLastEventId {
    error: LastEventIdError,
}

impl InvalidLastEventId {
    /// What is wrong with the id.
    pub const fn error(&self) -> LastEventIdError {
        self.error
    }

    /// The status of the rejection's reply: `400 Bad Request`.
    pub const fn status(&self) -> StatusCode {
        StatusCode::BAD_REQUEST
    }
}

impl fmt::Display for InvalidLastEventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid Last-Event-ID: {}", self.error)
    }
}

impl std::error::Error for InvalidLastEventId {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl Reject for InvalidLastEventId {}

impl Reply for InvalidLastEventId {
    fn into_response(self) -> Response {
        warp::reply::with_status(self.to_string(), self.status()).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn extract(path: &str, header: Option<&[u8]>) -> Result<Option<LastEventId>, Rejection> {
        let mut request = warp::test::request().path(path);
        if let Some(value) = header {
            request = request.header("last-event-id", HeaderValue::from_bytes(value).unwrap());
        }
        request.filter(&last_event_id()).await
    }

    fn id(value: &str) -> Option<LastEventId> {
        Some(LastEventId::new(value).unwrap())
    }

    fn invalid(rejection: &Rejection) -> LastEventIdError {
        rejection
            .find::<InvalidLastEventId>()
            .expect("InvalidLastEventId")
            .error()
    }

    #[tokio::test]
    async fn header_present() {
        assert_eq!(extract("/", Some(b"42")).await.unwrap(), id("42"));
        // Non-ASCII UTF-8 (obs-text in a header) is a valid id.
        assert_eq!(
            extract("/", Some("é-1".as_bytes())).await.unwrap(),
            id("é-1")
        );
    }

    #[tokio::test]
    async fn query_present() {
        let got = extract("/?topic=a&lastEventId=7%2Db", None).await.unwrap();
        assert_eq!(got, id("7-b"));
    }

    #[tokio::test]
    async fn header_wins_over_query() {
        assert_eq!(
            extract("/?lastEventId=q", Some(b"h")).await.unwrap(),
            id("h")
        );
    }

    #[tokio::test]
    async fn missing_is_none() {
        assert_eq!(extract("/", None).await.unwrap(), None);
        assert_eq!(extract("/?topic=a", None).await.unwrap(), None);
        assert_eq!(extract("/", Some(b"")).await.unwrap(), None);
    }

    #[tokio::test]
    async fn malformed_header_is_rejected() {
        let rejection = extract("/", Some(b"\xff")).await.unwrap_err();
        assert_eq!(invalid(&rejection), LastEventIdError::NotUtf8);
        // A malformed header is not replaced by the query parameter.
        let rejection = extract("/?lastEventId=ok", Some(&[b'a'; 1025]))
            .await
            .unwrap_err();
        assert_eq!(invalid(&rejection), LastEventIdError::TooLong);
    }

    #[tokio::test]
    async fn malformed_query_is_rejected() {
        let rejection = extract("/?lastEventId=%00", None).await.unwrap_err();
        assert_eq!(invalid(&rejection), LastEventIdError::InvalidChar);
    }

    #[test]
    fn the_filter_is_copy() {
        fn assert_copy<T: Copy>(_: T) {}
        assert_copy(last_event_id());
    }
}
