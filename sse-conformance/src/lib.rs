//! A conformance checker for Server-Sent Events endpoints, written in any language: it
//! speaks to a running service over real sockets and reports, case by case, whether its
//! streams behave as browsers, proxies and reconnecting clients need (headers a proxy won't
//! buffer, no compression, prompt delivery, heartbeats, resume after `Last-Event-ID`, no
//! injection), the way `h2spec` does for HTTP/2 servers.
//!
//! Each case has a stable id tied to the spec section it checks ([`CASES`]); each result
//! states the requirement, what was expected and what the target did (with the measured
//! time and its tolerance for timing cases), and a verdict: pass, fail, skipped (a missing
//! capability, such as a publish hook) or informational.
//!
//! # Example
//!
//! The binary is [`run`]; as a library, [`check`] gives the [`Report`]:
//!
//! ```no_run
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let options = sse_conformance::Options::from_args([
//!     "sse-conformance",
//!     "http://127.0.0.1:3000/events",
//!     "--publish",
//!     r#"POST /publish {"event":"{event}","data":{data}}"#,
//! ])
//! .unwrap();
//! let report = sse_conformance::check(&options).await.unwrap();
//! for (url, failure) in report.failures() {
//!     println!("{url}: {} failed: {}", failure.id, failure.actual);
//! }
//! std::process::exit(report.exit_code().into());
//! # }
//! ```
//!
//! # Exit codes
//!
//! See [`exit`]: 0 when every case that counts passed, 1 on a conformance failure, 2 on a
//! usage error, 3 when a target can't be reached.

mod cases;
mod cli;
mod client;
mod publish;
mod report;

pub use cases::{Capability, Case, Level, CASES};
pub use cli::{check, run, Options, UsageError};
pub use report::{exit, Baseline, BaselineMark, Outcome, Report, TargetReport, Timing, Verdict};

use tokio::time::Instant;

use crate::cases::{Ctx, Settings, Target};
use crate::client::Client;
use crate::report::Finding;

/// Runs `cases` one after another against `target`; a target that can't be reached at all
/// gets an error and no results.
async fn run_target(
    target: &Target,
    client: &Client,
    settings: &Settings,
    cases: &[&Case],
) -> TargetReport {
    let ctx = Ctx::new(target, client, settings);
    let url = target.url.to_string();
    if let Err(err) = ctx.open(&[], None, settings.version).await {
        if err.is_unreachable() || settings.version == client::HttpVersion::Http2 {
            return TargetReport {
                url,
                error: Some(err.to_string()),
                outcomes: Vec::new(),
            };
        }
    }
    let mut outcomes = Vec::with_capacity(cases.len());
    for case in cases {
        let start = Instant::now();
        let finding = if case.needs == Some(Capability::Publish) && target.publisher.is_none() {
            Finding::skipped("needs a publish hook (--publish or --publish-cmd)")
        } else {
            match cases::run(case, &ctx).await {
                Ok(finding) => finding,
                Err(problem) => Finding::fail(problem.0),
            }
        };
        let finding = match finding.verdict {
            // An informational case only fails the run when the user declared what to expect.
            Verdict::Fail if case.level == Level::Info && settings.gap_event.is_none() => {
                Finding::info(finding.actual)
            }
            _ => finding,
        };
        outcomes.push(Outcome::new(case, finding, start.elapsed()));
    }
    TargetReport {
        url,
        error: None,
        outcomes,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_check_can_be_spawned_on_a_multi_threaded_runtime() {
        fn assert_send<T: Send>(_: &T) {}
        let options =
            crate::Options::from_args(["sse-conformance", "http://127.0.0.1:1/"]).unwrap();
        assert_send(&crate::check(&options));
    }
}
