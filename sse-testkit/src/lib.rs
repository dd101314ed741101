//! Test support shared by the adapters: a real-socket SSE client ([`Request`],
//! [`SseResponse`], plain or TLS), the framework-free [`Fixture`] handlers, the conformance
//! [`cases`] every adapter runs through [`conformance_tests!`], the [`timeouts`] cases every
//! server runs, and a certificate made at test time ([`tls`]).
//!
//! # Example
//!
//! An adapter's integration test implements [`Harness`] for its framework and runs every
//! case:
//!
//! ```ignore
//! struct Axum;
//!
//! impl sse_testkit::Harness for Axum {
//!     const HTTP2: bool = true;
//!     async fn start(fixture: sse_testkit::Fixture) -> sse_testkit::Server { /* ... */ }
//! }
//!
//! sse_testkit::conformance_tests!(Axum);
//! ```

pub mod cases;
mod client;
mod fixture;
pub mod nginx;
pub mod redis;
pub mod timeouts;
pub mod tls;

pub use client::{independent_client_events, ForeignEvent, Request, SseResponse, DEADLINE};
pub use fixture::{Fixture, FixtureError, FixtureStream, Harness, Server, StreamOptions};

#[cfg(test)]
mod tests {
    use super::*;

    /// The golden file is exactly the encoding of the golden events, so it can't drift. Run
    /// with `UPDATE_GOLDEN=1` to write it after changing the events on purpose.
    #[test]
    fn golden_file_is_the_encoding_of_the_golden_events() {
        let encoded: Vec<u8> = Fixture::golden_events()
            .iter()
            .flat_map(|event| event.as_bytes().to_vec())
            .collect();
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/golden/golden.sse");
            std::fs::write(path, &encoded).expect("write the golden file");
            return;
        }
        assert_eq!(
            String::from_utf8_lossy(&encoded),
            String::from_utf8_lossy(Fixture::GOLDEN)
        );
    }
}
