//! The `sse-conformance` binary: see the crate docs, or `sse-conformance --help`.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    ExitCode::from(sse_conformance::run(std::env::args_os()).await)
}
