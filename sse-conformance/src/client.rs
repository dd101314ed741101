//! The checker's HTTP client: one connection per request (HTTP/1.1 or HTTP/2, plain or TLS),
//! the response head as the server sent it and the body bytes undecoded, read with deadlines
//! and bounded buffers.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode, Uri, Version};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use sse_core::parse::{Decoder, Frame, ParseError};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The longest line and the most data per event the checker accepts from a server, so that
/// a hostile or broken endpoint can't make it buffer without bound.
const MAX_LINE: usize = 64 << 10;
const MAX_EVENT: usize = 1 << 20;
/// How many body bytes are kept verbatim for messages.
const RAW_KEPT: usize = 4 << 10;

/// Which HTTP version to speak.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HttpVersion {
    /// HTTP/1.1 on `http`, whatever ALPN chooses on `https`.
    Auto,
    /// HTTP/1.1 only.
    Http1,
    /// HTTP/2 only: prior knowledge (h2c) on `http`, ALPN `h2` on `https`.
    Http2,
}

/// Why a request got no response head.
#[derive(Debug)]
pub(crate) enum ClientError {
    /// The URL can't be requested (no host, unsupported scheme).
    Url(String),
    /// TCP connect or the TLS handshake failed.
    Connect(std::io::Error),
    /// Nothing within the connect timeout or the read timeout.
    Timeout(&'static str),
    /// HTTP/2 was required and the server did not agree to it.
    NoHttp2(String),
    /// The client reset the HTTP/2 stream because the response was malformed (RFC 9113
    /// 8.1.1), such as with a connection-specific header.
    MalformedHttp2(hyper::Error),
    /// The HTTP exchange failed (handshake, a reset stream, a malformed response).
    Http(hyper::Error),
}

impl ClientError {
    /// Whether the server was reached at all (a refused or timed-out connection is not a
    /// conformance finding, it is a connection error).
    pub(crate) fn is_unreachable(&self) -> bool {
        matches!(
            self,
            Self::Url(_) | Self::Connect(_) | Self::Timeout("connect")
        )
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Url(why) => write!(f, "invalid url: {why}"),
            Self::Connect(err) => write!(f, "connection failed: {err}"),
            Self::Timeout(what) => write!(f, "{what} timed out"),
            Self::NoHttp2(why) => write!(f, "the server does not speak HTTP/2: {why}"),
            Self::MalformedHttp2(err) | Self::Http(err) => {
                write!(f, "http error: {err}")?;
                let mut source = std::error::Error::source(err);
                while let Some(inner) = source {
                    write!(f, ": {inner}")?;
                    source = inner.source();
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ClientError {}

/// Why reading a response body stopped.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// Nothing arrived before the deadline.
    Timeout,
    /// The body failed (reset, cut off).
    Body(hyper::Error),
    /// The bytes are not a valid event stream (or exceed the checker's limits).
    Parse(ParseError),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout => f.write_str("nothing arrived before the deadline"),
            Self::Body(err) => write!(f, "the body failed: {err}"),
            Self::Parse(err) => write!(f, "the body is not a valid event stream: {err}"),
        }
    }
}

/// Connection settings shared by every request of a run.
#[derive(Clone, Debug)]
pub(crate) struct Client {
    connect_timeout: Duration,
    read_timeout: Duration,
    tls: TlsConfigs,
}

#[derive(Clone)]
struct TlsConfigs {
    auto: Arc<rustls::ClientConfig>,
    http1: Arc<rustls::ClientConfig>,
    http2: Arc<rustls::ClientConfig>,
}

impl fmt::Debug for TlsConfigs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TlsConfigs")
    }
}

impl Client {
    /// A client with these timeouts; `https` URLs trust `roots` (Mozilla's roots when
    /// `None`), through rustls with the `ring` provider.
    pub(crate) fn new(
        connect_timeout: Duration,
        read_timeout: Duration,
        roots: Option<rustls::RootCertStore>,
    ) -> Result<Self, rustls::Error> {
        let roots = roots.unwrap_or_else(|| {
            rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned())
        });
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let build = |alpn: &[&[u8]]| -> Result<Arc<rustls::ClientConfig>, rustls::Error> {
            let mut config = rustls::ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()?
                .with_root_certificates(roots.clone())
                .with_no_client_auth();
            config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
            Ok(Arc::new(config))
        };
        Ok(Self {
            connect_timeout,
            read_timeout,
            tls: TlsConfigs {
                auto: build(&[b"h2", b"http/1.1"])?,
                http1: build(&[b"http/1.1"])?,
                http2: build(&[b"h2"])?,
            },
        })
    }

    /// How long one wait for a response head or for body bytes may take.
    pub(crate) fn read_timeout(&self) -> Duration {
        self.read_timeout
    }

    /// Sends `method uri` with `headers` and `body`, and waits for the response head.
    pub(crate) async fn send(
        &self,
        method: Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: Bytes,
        version: HttpVersion,
    ) -> Result<Response, ClientError> {
        let host = uri
            .host()
            .ok_or_else(|| ClientError::Url(format!("{uri} has no host")))?;
        let https = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            other => {
                return Err(ClientError::Url(format!(
                    "scheme {other:?} is not http or https"
                )))
            }
        };
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let tcp = tokio::time::timeout(
            self.connect_timeout,
            TcpStream::connect((host.trim_matches(['[', ']']), port)),
        )
        .await
        .map_err(|_| ClientError::Timeout("connect"))?
        .map_err(ClientError::Connect)?;
        tcp.set_nodelay(true).ok();
        let (io, http2): (Box<dyn Io>, bool) = if https {
            self.tls_connect(tcp, host, version).await?
        } else {
            (Box::new(tcp), version == HttpVersion::Http2)
        };

        let authority = uri.authority().map_or(host, |a| a.as_str());
        let mut request = http::Request::builder().method(method);
        request = if http2 {
            request.uri(uri.clone()).version(Version::HTTP_2)
        } else {
            let path = uri.path_and_query().map_or("/", |p| p.as_str());
            request.uri(path).header(http::header::HOST, authority)
        };
        let mut request = request
            .body(Full::new(body))
            .map_err(|err| ClientError::Url(err.to_string()))?;
        // The caller's headers replace ours of the same name (such as a `Host` override).
        let own = request.headers_mut();
        for name in headers.keys() {
            own.remove(name);
        }
        for (name, value) in headers {
            own.append(name.clone(), value.clone());
        }

        let io = TokioIo::new(io);
        let exchange = async {
            if http2 {
                let (mut sender, conn) =
                    hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
                        .await
                        .map_err(|err| ClientError::NoHttp2(ClientError::Http(err).to_string()))?;
                let task = tokio::spawn(async move {
                    let _ = conn.await;
                });
                let guard = AbortOnDrop(task);
                let response = sender.send_request(request).await;
                Ok((response.map_err(http2_error)?, guard))
            } else {
                let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
                    .await
                    .map_err(ClientError::Http)?;
                let task = tokio::spawn(async move {
                    let _ = conn.await;
                });
                let guard = AbortOnDrop(task);
                let response = sender.send_request(request).await;
                Ok((response.map_err(ClientError::Http)?, guard))
            }
        };
        let (response, connection) = tokio::time::timeout(self.read_timeout, exchange)
            .await
            .map_err(|_| ClientError::Timeout("waiting for the response head"))??;
        let (parts, body) = response.into_parts();
        let now = Instant::now();
        Ok(Response {
            status: parts.status,
            version: parts.version,
            headers: parts.headers,
            body,
            _connection: connection,
            decoder: Decoder::with_limits(MAX_LINE, MAX_EVENT),
            buf: BytesMut::new(),
            raw: Vec::new(),
            bytes: 0,
            ended: false,
            opened: now,
            last_data: now,
            longest_silence: Duration::ZERO,
        })
    }

    async fn tls_connect(
        &self,
        tcp: TcpStream,
        host: &str,
        version: HttpVersion,
    ) -> Result<(Box<dyn Io>, bool), ClientError> {
        let configs = &self.tls;
        let config = match version {
            HttpVersion::Auto => &configs.auto,
            HttpVersion::Http1 => &configs.http1,
            HttpVersion::Http2 => &configs.http2,
        };
        let name =
            rustls::pki_types::ServerName::try_from(host.trim_matches(['[', ']']).to_owned())
                .map_err(|err| ClientError::Url(format!("{host}: {err}")))?;
        let tls = tokio::time::timeout(
            self.connect_timeout,
            tokio_rustls::TlsConnector::from(config.clone()).connect(name, tcp),
        )
        .await
        .map_err(|_| ClientError::Timeout("connect"))?
        .map_err(|err| {
            // A server that offers no h2 may end the handshake with this alert (RFC 7301 3.2).
            let refused = err
                .get_ref()
                .and_then(|e| e.downcast_ref::<rustls::Error>())
                == Some(&rustls::Error::AlertReceived(
                    rustls::AlertDescription::NoApplicationProtocol,
                ));
            if refused && version == HttpVersion::Http2 {
                ClientError::NoHttp2("the server refused ALPN h2".into())
            } else {
                ClientError::Connect(err)
            }
        })?;
        let http2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
        if version == HttpVersion::Http2 && !http2 {
            return Err(ClientError::NoHttp2("ALPN did not choose h2".into()));
        }
        Ok((Box::new(tls), http2))
    }
}

/// Sorts an HTTP/2 exchange's failure: our side resetting the stream with PROTOCOL_ERROR
/// means the response was malformed; a reset or GOAWAY from the server is an HTTP error;
/// anything else (an HTTP/1 server answering the preface with garbage or closing the
/// connection) means the server does not speak HTTP/2.
fn http2_error(err: hyper::Error) -> ClientError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(inner) = source {
        if let Some(h2) = inner.downcast_ref::<h2::Error>() {
            if h2.is_remote() {
                return ClientError::Http(err);
            }
            if h2.is_reset() && h2.reason() == Some(h2::Reason::PROTOCOL_ERROR) {
                return ClientError::MalformedHttp2(err);
            }
            break;
        }
        source = inner.source();
    }
    ClientError::NoHttp2(ClientError::Http(err).to_string())
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Io for T {}

#[derive(Debug)]
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A response being read: its head, and its body as raw bytes and as parsed frames, with
/// the arrival times the timing cases need.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: StatusCode,
    pub(crate) version: Version,
    pub(crate) headers: HeaderMap,
    body: Incoming,
    /// Closes the connection when the response is dropped.
    _connection: AbortOnDrop,
    decoder: Decoder,
    buf: BytesMut,
    raw: Vec<u8>,
    bytes: u64,
    ended: bool,
    opened: Instant,
    last_data: Instant,
    longest_silence: Duration,
}

impl Response {
    /// A header's value, as text (lossy).
    pub(crate) fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    }

    /// The first body bytes, as text with control characters escaped.
    pub(crate) fn raw_prefix(&self) -> String {
        self.raw.escape_ascii().to_string()
    }

    /// The longest time without body bytes since the head arrived, counting the wait up to
    /// now.
    pub(crate) fn longest_silence(&self) -> Duration {
        self.longest_silence.max(self.last_data.elapsed())
    }

    /// When the head arrived.
    pub(crate) fn opened(&self) -> Instant {
        self.opened
    }

    /// The next body chunk, `Ok(None)` at the end of the body.
    pub(crate) async fn next_chunk(
        &mut self,
        deadline: Instant,
    ) -> Result<Option<Bytes>, ReadError> {
        loop {
            if self.ended {
                return Ok(None);
            }
            let frame = tokio::time::timeout_at(deadline, self.body.frame())
                .await
                .map_err(|_| ReadError::Timeout)?;
            match frame {
                None => self.ended = true,
                Some(Err(err)) => {
                    self.ended = true;
                    return Err(ReadError::Body(err));
                }
                Some(Ok(frame)) => {
                    let Ok(data) = frame.into_data() else {
                        continue;
                    };
                    if data.is_empty() {
                        continue;
                    }
                    let now = Instant::now();
                    self.longest_silence = self.longest_silence.max(now - self.last_data);
                    self.last_data = now;
                    self.bytes += data.len() as u64;
                    let keep = RAW_KEPT.saturating_sub(self.raw.len()).min(data.len());
                    self.raw.extend_from_slice(&data[..keep]);
                    return Ok(Some(data));
                }
            }
        }
    }

    /// The whole body (its first `limit` bytes; the rest is read and dropped), for short
    /// answers such as a publish hook's.
    pub(crate) async fn read_to_end(
        mut self,
        limit: usize,
        deadline: Instant,
    ) -> Result<Vec<u8>, ReadError> {
        let mut body = Vec::new();
        while let Some(data) = self.next_chunk(deadline).await? {
            let keep = limit.saturating_sub(body.len()).min(data.len());
            body.extend_from_slice(&data[..keep]);
        }
        Ok(body)
    }

    /// The next parsed frame (event, retry, comment), `Ok(None)` at the end of the body.
    pub(crate) async fn next_frame(
        &mut self,
        deadline: Instant,
    ) -> Result<Option<Frame>, ReadError> {
        loop {
            if let Some(frame) = self
                .decoder
                .decode(&mut self.buf)
                .map_err(ReadError::Parse)?
            {
                return Ok(Some(frame));
            }
            match self.next_chunk(deadline).await? {
                Some(data) => self.buf.extend_from_slice(&data),
                None => {
                    return self
                        .decoder
                        .decode_eof(&mut self.buf)
                        .map_err(ReadError::Parse)
                }
            }
        }
    }
}

/// Parses `Name: value` (as `curl -H` takes it).
pub(crate) fn parse_header(line: &str) -> Result<(HeaderName, HeaderValue), String> {
    let (name, value) = line
        .split_once(':')
        .ok_or_else(|| format!("header {line:?} is not `Name: value`"))?;
    let name = HeaderName::from_bytes(name.trim().as_bytes())
        .map_err(|err| format!("header name {name:?}: {err}"))?;
    let value = HeaderValue::from_str(value.trim())
        .map_err(|err| format!("header value of {name}: {err}"))?;
    Ok((name, value))
}
