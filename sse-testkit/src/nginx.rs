//! A real `nginx` per test (Debian's package; `scripts/test` installs it), on a free loopback
//! port in a temp dir, in front of one or two upstreams, from the cluster example's config
//! template (`examples/cluster/nginx.conf.template`), stopped by PID.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::DEADLINE;

/// An `nginx` process of the test's own, killed when dropped.
#[derive(Debug)]
pub struct Nginx {
    /// The loopback port it listens on.
    pub port: u16,
    dir: PathBuf,
    child: Child,
}

impl Nginx {
    /// Starts nginx from `template` (its `@DIR@`, `@PORT@`, `@NODE_A@` and `@NODE_B@` filled
    /// in) in front of the upstreams on `nodes` (loopback ports).
    ///
    /// # Panics
    ///
    /// If the template can't be read or nginx doesn't listen within [`DEADLINE`].
    pub fn start(template: &Path, nodes: [u16; 2]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir =
            std::env::temp_dir().join(format!("sse-nginx-test-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = std::fs::read_to_string(template)
            .expect("the nginx config template")
            .replace("@DIR@", dir.to_str().unwrap())
            .replace("@PORT@", &port.to_string())
            .replace("@NODE_A@", &nodes[0].to_string())
            .replace("@NODE_B@", &nodes[1].to_string());
        let conf = dir.join("nginx.conf");
        std::fs::write(&conf, config).unwrap();
        // Debian puts it in /usr/sbin, which a non-root PATH may lack.
        let program = ["/usr/sbin/nginx", "nginx"]
            .into_iter()
            .find(|p| !p.starts_with('/') || Path::new(p).exists())
            .unwrap_or("nginx");
        let child = Command::new(program)
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(dir.join("error.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx is installed (scripts/test installs it)");
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(start.elapsed() < DEADLINE, "nginx did not start");
            std::thread::sleep(Duration::from_millis(10));
        }
        Self { port, dir, child }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM, not SIGKILL: the master then stops its workers (a killed master leaves
        // them running, holding the port).
        let terminated = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .is_ok_and(|status| status.success());
        let start = Instant::now();
        while terminated && start.elapsed() < DEADLINE {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
