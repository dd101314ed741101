//! A bare HTTP/1.1 client for the benchmark servers' `/stats` and `/publish`, and the
//! [`Dechunker`] that the event streams share with it.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Undoes HTTP/1.1 chunked transfer coding, incrementally.
#[derive(Debug, Default)]
pub(crate) struct Dechunker {
    /// Bytes left in the current chunk's data, or `None` while reading a size line.
    remaining: Option<usize>,
    /// CRLF after data still to skip.
    skip_crlf: usize,
    size_line: Vec<u8>,
    pub(crate) done: bool,
}

impl Dechunker {
    pub(crate) fn feed(&mut self, input: &mut BytesMut, out: &mut BytesMut) -> io::Result<()> {
        while !input.is_empty() && !self.done {
            if self.skip_crlf > 0 {
                let n = self.skip_crlf.min(input.len());
                input.advance(n);
                self.skip_crlf -= n;
                continue;
            }
            match self.remaining {
                Some(0) => {
                    self.remaining = None;
                    self.skip_crlf = 2;
                }
                Some(left) => {
                    let n = left.min(input.len());
                    out.extend_from_slice(&input.split_to(n));
                    self.remaining = Some(left - n);
                }
                None => match input.iter().position(|&b| b == b'\n') {
                    Some(pos) => {
                        self.size_line.extend_from_slice(&input[..pos]);
                        input.advance(pos + 1);
                        let line = std::str::from_utf8(&self.size_line)
                            .map_err(|_| io::Error::other("bad chunk size"))?;
                        let hex = line.split(';').next().unwrap_or("").trim();
                        let size = usize::from_str_radix(hex, 16)
                            .map_err(|_| io::Error::other(format!("bad chunk size {hex:?}")))?;
                        self.size_line.clear();
                        if size == 0 {
                            self.done = true;
                        } else {
                            self.remaining = Some(size);
                        }
                    }
                    None => {
                        self.size_line.extend_from_slice(input);
                        input.clear();
                    }
                },
            }
        }
        Ok(())
    }
}

/// A minimal HTTP/1.1 request on its own connection; returns the body.
pub(crate) async fn http(addr: SocketAddr, method: &str, path: &str) -> io::Result<String> {
    let mut stream = TcpStream::connect(addr).await?;
    let request =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response))
        .await
        .map_err(|_| io::Error::other("timeout"))??;
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut input = BytesMut::from(body.as_bytes());
        let mut out = BytesMut::new();
        Dechunker::default().feed(&mut input, &mut out)?;
        return Ok(String::from_utf8_lossy(&out).into_owned());
    }
    Ok(body.to_owned())
}

/// The `/stats` body every benchmark server answers (`sse_bench::stats_json`).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct ServerStats {
    /// The streams the server counts.
    #[serde(default)]
    pub(crate) subscribers: usize,
    /// The messages it has published since it started.
    #[serde(default)]
    pub(crate) published: u64,
    /// Its process id, for `/proc/<pid>`.
    pub(crate) pid: Option<u64>,
    /// Its runtimes' counters (`sse_bench::runtime_json`), if it reports them.
    #[serde(default)]
    pub(crate) runtime: Option<serde_json::Value>,
}

/// `GET /stats`.
pub(crate) async fn server_stats(addr: SocketAddr) -> io::Result<ServerStats> {
    let body = http(addr, "GET", "/stats").await?;
    serde_json::from_str(body.trim()).map_err(io::Error::other)
}
