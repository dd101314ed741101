//! `bench_tls_idle`: what TLS costs a server per idle event stream. It opens `--streams`
//! streams to `GET /events` of a running server (the demo, say), plain HTTP/1.1 or TLS
//! (HTTP/1.1 or HTTP/2, as ALPN agrees; over HTTP/2 `--per-connection` streams share a
//! connection, as a browser's do), holds them idle, and reports the growth of the server's
//! resident memory (`/proc/<pid>/status`) per stream.
//!
//! ```text
//! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
//!     -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 -keyout key.pem -out cert.pem
//! target/release/demo --addr 127.0.0.1:4000 --tls-cert cert.pem --tls-key key.pem &
//! target/release/bench_tls_idle --addr 127.0.0.1:4000 --pid $! --ca cert.pem \
//!     --streams 2000 --alpn h2 --per-connection 10
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

#[derive(Debug, Parser)]
#[command(about = "Opens idle SSE streams and reports the server's RSS per stream")]
struct Args {
    /// The server.
    #[arg(long, default_value = "127.0.0.1:4000")]
    addr: SocketAddr,
    /// The server's process id, whose RSS is read.
    #[arg(long)]
    pid: u64,
    /// Streams to open.
    #[arg(long, default_value_t = 2000)]
    streams: usize,
    /// Streams per connection (HTTP/2 only; HTTP/1.1 carries one).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    per_connection: u64,
    /// Speak TLS, trusting this PEM certificate; plain HTTP/1.1 without it.
    #[arg(long)]
    ca: Option<PathBuf>,
    /// The one ALPN protocol offered over TLS: `h2` or `http/1.1`.
    #[arg(long, default_value = "h2")]
    alpn: String,
    /// How long the streams are held idle before the server's RSS is read.
    #[arg(long, default_value_t = 3)]
    settle_secs: u64,
}

fn tls_config(ca: &PathBuf, alpn: &str) -> Result<Arc<ClientConfig>, Box<dyn std::error::Error>> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca)? {
        roots.add(cert?)?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![alpn.as_bytes().to_vec()];
    Ok(Arc::new(config))
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A connection's request sender, HTTP/1.1 or HTTP/2.
enum Sender {
    Http1(hyper::client::conn::http1::SendRequest<Empty<Bytes>>),
    Http2(hyper::client::conn::http2::SendRequest<Empty<Bytes>>),
}

/// Handshakes HTTP/1.1 or HTTP/2 on `io`; the connection runs in its own task.
async fn handshake<I>(io: I, http2: bool) -> Result<Sender, hyper::Error>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let io = TokioIo::new(io);
    if http2 {
        let (sender, connection) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), io).await?;
        tokio::spawn(connection);
        Ok(Sender::Http2(sender))
    } else {
        let (sender, connection) = hyper::client::conn::http1::handshake(io).await?;
        tokio::spawn(connection);
        Ok(Sender::Http1(sender))
    }
}

/// Connects, plain or TLS.
async fn connect(addr: SocketAddr, tls: Option<&Arc<ClientConfig>>) -> Result<Sender, BoxError> {
    let tcp = TcpStream::connect(addr).await?;
    Ok(match tls {
        Some(config) => {
            let tls = TlsConnector::from(Arc::clone(config))
                .connect(ServerName::IpAddress(addr.ip().into()), tcp)
                .await?;
            let http2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
            handshake(tls, http2).await?
        }
        None => handshake(tcp, false).await?,
    })
}

/// Opens one stream on `sender` and holds it for ever; returns once its first bytes came.
async fn open_stream(addr: SocketAddr, sender: &mut Sender) -> Result<(), BoxError> {
    let response = match sender {
        Sender::Http1(sender) => {
            let request = http::Request::get("/events")
                .header(http::header::HOST, addr.to_string())
                .body(Empty::new())?;
            sender.send_request(request).await?
        }
        Sender::Http2(sender) => {
            let request = http::Request::get(format!("https://{addr}/events")).body(Empty::new())?;
            sender.send_request(request).await?
        }
    };
    let mut body: Incoming = response.into_body();
    // The leading `retry:` shows the stream is open; then the body is held, unread.
    body.frame().await.ok_or("the stream ended")??;
    tokio::spawn(async move {
        let _held = body;
        std::future::pending::<()>().await;
    });
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let tls = match &args.ca {
        Some(ca) => match tls_config(ca, &args.alpn) {
            Ok(config) => Some(config),
            Err(err) => {
                eprintln!("error: --ca {}: {err}", ca.display());
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    if args.per_connection > 1 && !(tls.is_some() && args.alpn == "h2") {
        eprintln!("error: --per-connection above 1 needs HTTP/2: --ca PEM --alpn h2");
        return ExitCode::from(2);
    }
    let base = sse_bench::rss_bytes(args.pid);
    if base == 0 {
        eprintln!("error: no RSS for --pid {}", args.pid);
        return ExitCode::from(2);
    }
    let mut opened = 0;
    let mut sender = None;
    while opened < args.streams {
        if sender.is_none() || (opened as u64).is_multiple_of(args.per_connection) {
            sender = match connect(args.addr, tls.as_ref()).await {
                Ok(sender) => Some(sender),
                Err(err) => {
                    eprintln!("error: connection for stream {opened}: {err}");
                    return ExitCode::FAILURE;
                }
            };
        }
        if let Some(sender) = sender.as_mut() {
            if let Err(err) = open_stream(args.addr, sender).await {
                eprintln!("error: stream {opened}: {err}");
                return ExitCode::FAILURE;
            }
        }
        opened += 1;
    }
    tokio::time::sleep(Duration::from_secs(args.settle_secs)).await;
    let held = sse_bench::rss_bytes(args.pid);
    let mode = match &args.ca {
        Some(_) => format!("tls {}", args.alpn),
        None => "plain http/1.1".to_owned(),
    };
    println!(
        "{mode}: {} streams, {} per connection, server RSS {} -> {} KB, {:.2} KB per stream",
        args.streams,
        args.per_connection,
        base / 1024,
        held / 1024,
        held.saturating_sub(base) as f64 / args.streams as f64 / 1000.0
    );
    ExitCode::SUCCESS
}
