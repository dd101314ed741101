//! TLS for [`serve`](super::serve) (feature `tls`): rustls with the `ring` provider.
//!
//! Browsers speak HTTP/2 only over TLS, and over HTTP/1.1 they open at most six
//! connections per origin: a seventh `EventSource` on a page waits for one of them to close.
//! Over HTTP/2 every stream of the page shares one connection.
//!
//! ```no_run
//! # async fn run(app: axum::Router) -> std::io::Result<()> {
//! let config = sse_tower::serve::tls::server_config(
//!     &std::fs::read("cert.pem")?,
//!     &std::fs::read("key.pem")?,
//! )?;
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:443").await?;
//! sse_tower::serve(listener, app).tls(config).await
//! # }
//! ```

use std::io;
use std::sync::Arc;

use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// The rustls this module is built with, so that a [`ServerConfig`] is built with the
/// same version.
pub use tokio_rustls::rustls;
/// A rustls server configuration.
pub use tokio_rustls::rustls::ServerConfig;

/// The ALPN protocols a configuration without any gets: HTTP/2 first, so that browsers
/// pick it.
const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// A TLS configuration with the `ring` provider from a PEM certificate chain (the server's
/// certificate first) and a PEM private key (PKCS#8, PKCS#1 or SEC1), offering `h2` and
/// `http/1.1` by ALPN.
///
/// # Errors
///
/// An error of kind `InvalidData` that says what is wrong: no certificate, no key, a
/// malformed PEM section, a key of an unsupported type, or a key that does not belong to
/// the certificate.
///
/// # Example
///
/// ```no_run
/// # fn run() -> std::io::Result<()> {
/// let config = sse_tower::serve::tls::server_config(
///     &std::fs::read("cert.pem")?,
///     &std::fs::read("key.pem")?,
/// )?;
/// assert_eq!(config.alpn_protocols, [b"h2".to_vec(), b"http/1.1".to_vec()]);
/// # Ok(())
/// # }
/// ```
pub fn server_config(cert_chain_pem: &[u8], key_pem: &[u8]) -> io::Result<ServerConfig> {
    let invalid = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
    let chain = CertificateDer::pem_slice_iter(cert_chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| invalid(format!("malformed certificate PEM: {err}")))?;
    if chain.is_empty() {
        return Err(invalid("no certificate in the PEM".to_owned()));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|err| invalid(format!("no usable private key in the PEM: {err}")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| invalid(err.to_string()))?
        .with_no_client_auth()
        // rustls checks here that the key is the certificate's.
        .with_single_cert(chain, key)
        .map_err(|err| invalid(format!("unusable certificate and key: {err}")))?;
    config.alpn_protocols = ALPN.iter().map(|protocol| protocol.to_vec()).collect();
    Ok(config)
}

/// The acceptor of [`Serve::tls`](super::Serve::tls): `h2` and `http/1.1` by ALPN unless
/// the configuration names its own protocols.
pub(super) fn acceptor(mut config: ServerConfig) -> TlsAcceptor {
    if config.alpn_protocols.is_empty() {
        config.alpn_protocols = ALPN.iter().map(|protocol| protocol.to_vec()).collect();
    }
    TlsAcceptor::from(Arc::new(config))
}
