//! `demo`: the SSE toolkit's demo app. See the crate docs of `sse_examples` for the routes.
//!
//! ```text
//! cargo run --release -p sse-examples --bin demo -- [--framework axum|actix|warp] \
//!     [--addr 127.0.0.1:3000] [--heartbeat-ms 15000] [--replay 1000] \
//!     [--max-connections N] [--token T] [--redis redis://127.0.0.1:6379 [--redis-key sse]] \
//!     [--header-timeout-ms 30000] [--idle-timeout-ms 30000] [--tls-cert PEM --tls-key PEM]
//! ```
//!
//! Exit codes: 0 after a graceful stop, 2 for a bad command line or a flag with a bad value
//! (one `error:` line on stderr), 1 for any other failure.

use std::process::ExitCode;

use clap::Parser;
use sse_examples::Config;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let config = Config::parse();
    let listener = match TcpListener::bind(config.addr).await {
        Ok(listener) => listener,
        Err(err) => {
            tracing::error!(addr = %config.addr, error = %err, "cannot listen");
            return ExitCode::FAILURE;
        }
    };
    let running = match sse_examples::serve(config, listener).await {
        Ok(running) => running,
        Err(err) if err.kind() == std::io::ErrorKind::InvalidInput => {
            // A flag with a bad value: one line and clap's exit code for a bad command line.
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
        Err(err) => {
            tracing::error!(error = %err, "cannot start the server");
            return ExitCode::FAILURE;
        }
    };
    println!("listening on {}", running.url("/"));

    let app = running.app().clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        app.shutdown();
    });
    match running.wait().await {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(err) if err.kind() == std::io::ErrorKind::TimedOut => {
            // Connections that outlived the grace period were cut: still a clean stop.
            tracing::warn!(error = %err, "stopped after the grace period");
            ExitCode::SUCCESS
        }
        Err(err) => {
            tracing::error!(error = %err, "server failed");
            ExitCode::FAILURE
        }
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received"),
        () = terminate => tracing::info!("SIGTERM received"),
    }
}
