//! A test client over real sockets: hyper's client connection plus sse-core's parser.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Version};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use sse_core::parse::{Decoder, Frame, Message};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::ClientConfig;
use tokio_rustls::TlsConnector;

use crate::tls::TestCert;

/// How long any single wait of the test client may take before the test fails. Generous on
/// purpose: it marks a failure (a hang), it is not a timing assertion.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// A GET request to a test server.
#[derive(Debug, Clone)]
#[must_use]
pub struct Request {
    addr: SocketAddr,
    path: String,
    headers: HeaderMap,
    http2: bool,
    tls: Option<Arc<ClientConfig>>,
}

impl Request {
    /// A `GET path` to `addr`, with `Accept: text/event-stream` as EventSource sends it.
    pub fn get(addr: SocketAddr, path: &str) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::ACCEPT,
            HeaderValue::from_static("text/event-stream"),
        );
        Self {
            addr,
            path: path.to_owned(),
            headers,
            http2: false,
            tls: None,
        }
    }

    /// Adds (or replaces) a request header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.insert(
            HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            HeaderValue::from_str(value).expect("header value"),
        );
        self
    }

    /// Removes a request header (such as the default `Accept`).
    pub fn without_header(mut self, name: &str) -> Self {
        self.headers.remove(name);
        self
    }

    /// Speaks HTTP/2 with prior knowledge (h2c) instead of HTTP/1.1.
    pub fn http2(mut self) -> Self {
        self.http2 = true;
        self
    }

    /// Speaks TLS, trusting only `cert`; ALPN picks HTTP/2 or HTTP/1.1 (see
    /// [`SseResponse::version`]), offering HTTP/2 first as browsers do.
    pub fn tls(mut self, cert: &TestCert) -> Self {
        self.tls = Some(cert.client_config());
        self
    }

    /// Speaks TLS, trusting only `cert`, and offers only HTTP/1.1 by ALPN (a client
    /// without HTTP/2).
    pub fn tls_http1(mut self, cert: &TestCert) -> Self {
        self.tls = Some(cert.client_config_offering(&[b"http/1.1"]));
        self
    }

    /// Connects, sends the request and waits for the response head.
    ///
    /// # Panics
    ///
    /// If the connection or the request fails, or takes longer than [`DEADLINE`].
    pub async fn send(self) -> SseResponse {
        tokio::time::timeout(DEADLINE, self.send_inner())
            .await
            .expect("no response head within the deadline")
    }

    async fn send_inner(mut self) -> SseResponse {
        let stream = TcpStream::connect(self.addr).await.expect("connect");
        stream.set_nodelay(true).ok();
        let (response, connection) = match self.tls.clone() {
            Some(config) => {
                let name = ServerName::IpAddress(self.addr.ip().into());
                let stream = TlsConnector::from(config)
                    .connect(name, stream)
                    .await
                    .expect("TLS handshake");
                self.http2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
                self.exchange(stream).await
            }
            None => self.exchange(stream).await,
        };
        let (parts, body) = response.into_parts();
        SseResponse {
            status: parts.status,
            version: parts.version,
            headers: parts.headers,
            body,
            decoder: Decoder::new(),
            buf: BytesMut::new(),
            raw: Vec::new(),
            chunks: 0,
            ended: false,
            connection,
        }
    }
}

impl Request {
    async fn exchange<I>(self, io: I) -> (hyper::Response<Incoming>, JoinHandle<()>)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let io = TokioIo::new(io);
        let mut builder = http::Request::get(&self.path);
        if !self.http2 {
            builder = builder.header(http::header::HOST, self.addr.to_string());
        } else {
            let scheme = if self.tls.is_some() { "https" } else { "http" };
            builder = builder.uri(format!("{scheme}://{}{}", self.addr, self.path));
        }
        let mut request = builder.body(Empty::<Bytes>::new()).expect("request");
        *request.headers_mut() = {
            let mut headers = self.headers.clone();
            headers.extend(request.headers().clone());
            headers
        };
        if self.http2 {
            let (mut sender, conn) =
                hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
                    .await
                    .expect("h2 handshake");
            let connection = tokio::spawn(async move {
                let _ = conn.await;
            });
            (
                sender.send_request(request).await.expect("h2 request"),
                connection,
            )
        } else {
            let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
                .await
                .expect("http1 handshake");
            let connection = tokio::spawn(async move {
                let _ = conn.await;
            });
            (
                sender.send_request(request).await.expect("request"),
                connection,
            )
        }
    }
}

/// A response being read: the head, and the body parsed frame by frame (the raw bytes are
/// kept too).
#[derive(Debug)]
pub struct SseResponse {
    /// The status code.
    pub status: StatusCode,
    /// The HTTP version the server answered with.
    pub version: Version,
    /// The response headers.
    pub headers: HeaderMap,
    body: Incoming,
    decoder: Decoder,
    buf: BytesMut,
    raw: Vec<u8>,
    chunks: usize,
    ended: bool,
    connection: tokio::task::JoinHandle<()>,
}

impl SseResponse {
    /// A response header as a string, if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The raw body bytes read so far.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// How many data frames (HTTP chunks, or h2 DATA frames) have arrived.
    pub fn chunks(&self) -> usize {
        self.chunks
    }

    /// Whether the body has ended.
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// Waits for the next body chunk; `None` at the end of the body.
    ///
    /// # Panics
    ///
    /// On a body error or after [`DEADLINE`].
    pub async fn next_chunk(&mut self) -> Option<Bytes> {
        if self.ended {
            return None;
        }
        loop {
            let frame = tokio::time::timeout(DEADLINE, self.body.frame())
                .await
                .expect("no body data within the deadline");
            match frame {
                None => {
                    self.ended = true;
                    return None;
                }
                Some(Err(err)) => panic!("body error: {err}"),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.raw.extend_from_slice(&data);
                        self.buf.extend_from_slice(&data);
                        self.chunks += 1;
                        return Some(data);
                    }
                }
            }
        }
    }

    /// Waits for the next parsed frame (event, retry or comment); `None` at the end of the
    /// body.
    ///
    /// # Panics
    ///
    /// On a parse error, a body error or after [`DEADLINE`].
    pub async fn next_frame(&mut self) -> Option<Frame> {
        loop {
            if let Some(frame) = self.decoder.decode(&mut self.buf).expect("parse") {
                return Some(frame);
            }
            if self.next_chunk().await.is_none() {
                return self.decoder.decode_eof(&mut self.buf).expect("parse");
            }
        }
    }

    /// Waits for the next dispatched event, skipping comments and retry fields.
    ///
    /// # Panics
    ///
    /// If the body ends first, or as [`next_frame`](Self::next_frame).
    pub async fn next_event(&mut self) -> Message {
        loop {
            match self.next_frame().await {
                Some(Frame::Event(message)) => return message,
                Some(_) => continue,
                None => panic!("the stream ended before the next event"),
            }
        }
    }

    /// Reads the body to its end and returns every frame left in it.
    pub async fn collect_frames(&mut self) -> Vec<Frame> {
        let mut frames = Vec::new();
        while let Some(frame) = self.next_frame().await {
            frames.push(frame);
        }
        frames
    }

    /// Reads the body to its end and returns all raw bytes of it.
    pub async fn read_to_end(&mut self) -> Vec<u8> {
        while self.next_chunk().await.is_some() {}
        self.raw.clone()
    }

    /// Closes the connection abruptly, as a client that goes away does.
    pub fn disconnect(self) {
        self.connection.abort();
    }
}

/// An event as the independent client (LaunchDarkly's `eventsource-client`) decoded it:
/// `(type, data, id)`.
pub type ForeignEvent = (String, String, Option<String>);

/// Reads `count` events from `http://addr{path}` with LaunchDarkly's `eventsource-client`,
/// an SSE client written independently of this toolkit, to cross-check our wire bytes.
///
/// # Panics
///
/// If the client fails, or `count` events don't arrive within [`DEADLINE`].
pub async fn independent_client_events(
    addr: SocketAddr,
    path: &str,
    count: usize,
) -> Vec<ForeignEvent> {
    use es::Client as _;
    use eventsource_client as es;
    use futures_util::StreamExt;

    let transport = launchdarkly_sdk_transport::HyperTransport::builder()
        .build_http()
        .expect("transport");
    let client = es::ClientBuilder::for_url(&format!("http://{addr}{path}"))
        .expect("url")
        .reconnect(es::ReconnectOptions::reconnect(false).build())
        .build_with_transport(transport);
    let mut stream = client.stream();
    let mut events = Vec::with_capacity(count);
    let read = async {
        while events.len() < count {
            match stream.next().await {
                Some(Ok(es::SSE::Event(event))) => {
                    events.push((event.event_type, event.data, event.id));
                }
                Some(Ok(_)) => {}
                Some(Err(err)) => panic!("independent client error: {err:?}"),
                None => break,
            }
        }
    };
    tokio::time::timeout(DEADLINE, read)
        .await
        .expect("independent client: events within the deadline");
    events
}
