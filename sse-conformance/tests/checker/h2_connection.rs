//! An SSE server that sends `Connection: keep-alive` on HTTP/2, which RFC 9113 8.2.2
//! forbids. hyper and the h2 crate refuse to send such a response, so this one writes the
//! HTTP/2 frames itself (h2c with prior knowledge; HTTP/1.1 requests get a plain SSE head,
//! where the header is legal).

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Serves on a free port until the test ends.
pub(crate) async fn serve() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = connection(tcp).await;
            });
        }
    });
    addr
}

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len()).unwrap().to_be_bytes();
    let mut out = vec![len[1], len[2], len[3], kind, flags];
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// An HPACK "literal header field without indexing, new name" (RFC 7541 6.2.2), no Huffman.
fn literal(out: &mut Vec<u8>, name: &str, value: &str) {
    out.push(0);
    out.push(u8::try_from(name.len()).unwrap());
    out.extend_from_slice(name.as_bytes());
    out.push(u8::try_from(value.len()).unwrap());
    out.extend_from_slice(value.as_bytes());
}

async fn connection(mut tcp: TcpStream) -> std::io::Result<()> {
    let mut start = [0u8; 24];
    tcp.read_exact(&mut start).await?;
    if &start != PREFACE {
        tcp.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n\
              connection: keep-alive\r\ntransfer-encoding: chunked\r\n\r\nd\r\nretry: 1000\n\n\r\n",
        )
        .await?;
        return hold(tcp).await;
    }
    tcp.write_all(&frame(0x4, 0, 0, &[])).await?; // our SETTINGS
    loop {
        let mut head = [0u8; 9];
        tcp.read_exact(&mut head).await?;
        let len = usize::from(head[0]) << 16 | usize::from(head[1]) << 8 | usize::from(head[2]);
        let mut payload = vec![0u8; len];
        tcp.read_exact(&mut payload).await?;
        match head[3] {
            0x4 if head[4] & 0x1 == 0 => tcp.write_all(&frame(0x4, 0x1, 0, &[])).await?,
            0x1 => break, // the request's HEADERS
            _ => {}
        }
    }
    let mut block = vec![0x88]; // :status 200, from the static table
    literal(&mut block, "content-type", "text/event-stream");
    literal(&mut block, "cache-control", "no-cache");
    literal(&mut block, "connection", "keep-alive");
    tcp.write_all(&frame(0x1, 0x4, 1, &block)).await?; // HEADERS, END_HEADERS
    tcp.write_all(&frame(0x0, 0, 1, b"retry: 1000\n\n")).await?;
    hold(tcp).await
}

/// Keeps the connection open, reading and dropping what the client sends, until it leaves.
async fn hold(mut tcp: TcpStream) -> std::io::Result<()> {
    let mut sink = [0u8; 1024];
    while tcp.read(&mut sink).await? > 0 {}
    Ok(())
}
