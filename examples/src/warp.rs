//! warp glue (pending the sse-warp adapter).

use std::io;

use tokio::net::TcpListener;

use crate::app::App;

/// Serves the app with warp.
///
/// # Errors
///
/// If serving fails.
pub async fn serve(_app: App, _listener: TcpListener) -> io::Result<()> {
    Err(io::Error::other("warp: not yet"))
}
