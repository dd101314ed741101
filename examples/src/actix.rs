//! actix-web glue (pending the sse-actix adapter).

use std::io;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::app::App;

/// Starts the actix-web server on `listener`.
///
/// # Errors
///
/// If the server can't start.
pub fn spawn(_app: App, _listener: TcpListener) -> io::Result<JoinHandle<io::Result<()>>> {
    Err(io::Error::other("actix: not yet"))
}
