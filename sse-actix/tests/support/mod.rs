//! Runs an actix-web server on its own thread and actix `System`, for tests that run on
//! tokio's runtime.

use std::net::SocketAddr;

use actix_web::dev::{Server, ServerHandle};
use tokio::sync::oneshot;

/// A server running on its own thread.
pub(crate) struct Running {
    pub(crate) addr: SocketAddr,
    pub(crate) handle: ServerHandle,
    pub(crate) exited: oneshot::Receiver<()>,
}

impl Running {
    /// Stops the server gracefully and waits for its thread to finish.
    pub(crate) async fn stop(self) {
        self.handle.stop(true).await;
        let _ = self.exited.await;
    }
}

/// Starts the server `build` makes (inside the new thread's actix `System`, since actix's
/// app factory and services are not `Send`) and returns once it listens.
pub(crate) async fn spawn<F>(build: F) -> Running
where
    F: FnOnce() -> std::io::Result<(Server, SocketAddr)> + Send + 'static,
{
    let (started_tx, started_rx) = oneshot::channel();
    let (exited_tx, exited) = oneshot::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let (server, addr) = build().expect("bind the test server");
            started_tx
                .send((addr, server.handle()))
                .expect("the test waits for the server");
            server.await.expect("the test server failed");
        });
        let _ = exited_tx.send(());
    });
    let (addr, handle) = started_rx.await.expect("the server thread started");
    Running {
        addr,
        handle,
        exited,
    }
}
