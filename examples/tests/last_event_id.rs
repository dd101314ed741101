//! A malformed `Last-Event-ID` on every framework: each glue reads it with its adapter's
//! extractor, and the app answers `400` with the same JSON body, after its token check.

mod support;

use http::{Method, StatusCode};
use sse_examples::{Config, Framework};
use support::{request, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_last_event_id_is_a_400_after_the_token_check() {
    for framework in Framework::ALL {
        let server = start(framework, Config::default().with_token("s3cret")).await;
        let addr = server.addr();
        let by_query = "/events?lastEventId=a%0Ab&token=s3cret";
        let bad = request(addr, Method::GET, by_query, &[], "").await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{framework}");
        assert_eq!(
            bad.json()["error"],
            "Last-Event-ID: last event id contains NUL, CR or LF",
            "{framework}"
        );
        let too_long = "a".repeat(2000);
        let by_header = [
            ("authorization", "Bearer s3cret"),
            ("last-event-id", too_long.as_str()),
        ];
        let bad = request(addr, Method::GET, "/events", &by_header, "").await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{framework}");
        assert!(bad.json()["error"].is_string(), "{framework}");

        let no_token = request(addr, Method::GET, "/events?lastEventId=%00", &[], "").await;
        assert_eq!(no_token.status, StatusCode::UNAUTHORIZED, "{framework}");
        server.shutdown().await.unwrap();
    }
}
