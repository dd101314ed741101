//! A real `redis-server` per test, on a free loopback port in a temp dir, stopped by PID;
//! and a loopback TCP proxy that can cut one node off from Redis. For the Redis backplane's
//! tests and the demo's.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};

use crate::DEADLINE;

/// A `redis-server` process of the test's own (Debian's package; `scripts/test` installs
/// it), killed when dropped.
#[derive(Debug)]
pub struct RedisServer {
    /// The loopback port it listens on.
    pub port: u16,
    dir: PathBuf,
    appendonly: bool,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts `redis-server` without persistence.
    pub fn start() -> Self {
        Self::start_with(false)
    }

    /// Starts `redis-server`; with `appendonly`, every write is fsynced to the temp dir, so a
    /// restart finds its data.
    pub fn start_with(appendonly: bool) -> Self {
        let port = free_port();
        let dir =
            std::env::temp_dir().join(format!("sse-redis-test-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut server = Self {
            port,
            dir,
            appendonly,
            child: None,
        };
        server.spawn();
        server
    }

    /// `redis://127.0.0.1:{port}/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--dir"])
            .arg(&self.dir)
            .args(["--appendonly", if self.appendonly { "yes" } else { "no" }])
            .args(["--appendfsync", "always"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (scripts/test installs it)");
        self.child = Some(child);
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(start.elapsed() < DEADLINE, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGKILL, as a crash.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// Starts it again on the same port; `keep_data` false empties its dir first.
    pub fn restart(&mut self, keep_data: bool) {
        self.kill();
        if !keep_data {
            std::fs::remove_dir_all(&self.dir).unwrap();
            std::fs::create_dir_all(&self.dir).unwrap();
        }
        self.spawn();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A TCP proxy to Redis on loopback. `cut()` closes every connection through it and refuses
/// new ones until `restore()`: one node loses Redis while the others keep it.
#[derive(Debug)]
pub struct Proxy {
    /// Where to connect instead of Redis.
    pub addr: SocketAddr,
    cut: Arc<AtomicBool>,
    generation: Arc<tokio::sync::watch::Sender<u64>>,
}

impl Proxy {
    /// A proxy on a free loopback port to `127.0.0.1:{upstream_port}`.
    pub async fn start(upstream_port: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let cut = Arc::new(AtomicBool::new(false));
        let generation = Arc::new(tokio::sync::watch::channel(0u64).0);
        let (cut2, gen2) = (cut.clone(), generation.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                if cut2.load(Ordering::Acquire) {
                    continue; // dropped: refused
                }
                let mut cut_signal = gen2.subscribe();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(("127.0.0.1", upstream_port)).await
                    else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut_signal.changed() => {}
                    }
                });
            }
        });
        Self {
            addr,
            cut,
            generation,
        }
    }

    /// `redis://{addr}/`.
    pub fn url(&self) -> String {
        format!("redis://{}/", self.addr)
    }

    /// Closes every connection through the proxy and refuses new ones.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::Release);
        self.generation.send_modify(|g| *g += 1);
    }

    /// Accepts connections again.
    pub fn restore(&self) {
        self.cut.store(false, Ordering::Release);
    }
}
