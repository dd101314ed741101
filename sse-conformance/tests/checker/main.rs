//! The checker against real servers on 127.0.0.1: the demo on all three frameworks, servers
//! built to break one rule each, the frameworks' own SSE, and the binary's exit codes and
//! report files.

mod broken;
mod cli;
mod demo;
mod feed;
mod h2_connection;
mod hand;
mod nginx;
mod own;
mod tls;

use sse_conformance::{Options, Outcome, Report, Verdict};

/// The publish hook of the demo and of the hand-written servers.
const PUBLISH: &str = r#"POST /publish {"event":"{event}","data":{data}}"#;

/// Short timings, so that the crate's tests stay quick: the servers under test beat every
/// 250 ms; tolerances are wide because the CI machine is shared (they catch a missing
/// heartbeat, not a late one).
const FAST: [&str; 14] = [
    "--timeout",
    "3s",
    "--connect-timeout",
    "2s",
    "--prompt",
    "1s",
    "--heartbeat",
    "250ms",
    "--heartbeat-tolerance",
    "500ms",
    "--idle",
    "1500ms",
    "--proxy-timeout",
    "1s",
];

/// Runs the checker in-process with `args` (after the program name) and the fast timings.
async fn check(args: &[&str]) -> Report {
    let mut all = vec!["sse-conformance"];
    all.extend_from_slice(args);
    all.extend_from_slice(&FAST);
    let options = Options::from_args(all).expect("valid arguments");
    sse_conformance::check(&options)
        .await
        .expect("a runnable command line")
}

/// The one target's result of case `id`.
fn outcome<'a>(report: &'a Report, id: &str) -> &'a Outcome {
    assert_eq!(report.targets.len(), 1);
    let target = &report.targets[0];
    assert_eq!(target.error, None);
    target
        .outcomes
        .iter()
        .find(|o| o.id == id)
        .unwrap_or_else(|| panic!("no result for {id}: {}", report.to_text()))
}

/// Asserts that case `id` failed with a message containing `needle`.
fn assert_fails(report: &Report, id: &str, needle: &str) {
    let o = outcome(report, id);
    assert_eq!(
        o.verdict,
        Verdict::Fail,
        "{id} should fail:\n{}",
        report.to_text()
    );
    assert!(
        o.actual.contains(needle),
        "{id}: the message {:?} should name the problem ({needle:?})",
        o.actual
    );
}
