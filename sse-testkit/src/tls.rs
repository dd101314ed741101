//! A certificate generated at test time (rcgen, `ring`), for servers under test that speak
//! TLS, and the client configuration that trusts it.
//!
//! ```
//! let cert = sse_testkit::tls::TestCert::generate();
//! assert!(cert.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
//! let dir = std::env::temp_dir().join(format!("testcert-doc-{}", std::process::id()));
//! let (cert_path, key_path) = cert.write_to(&dir);
//! assert!(cert_path.exists() && key_path.exists());
//! # std::fs::remove_dir_all(dir).unwrap();
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

/// A self-signed certificate for `localhost` and `127.0.0.1`, and its private key.
#[derive(Debug, Clone)]
pub struct TestCert {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// The private key (PKCS#8), PEM.
    pub key_pem: String,
    der: CertificateDer<'static>,
}

impl TestCert {
    /// A fresh certificate and key (ECDSA P-256).
    ///
    /// # Panics
    ///
    /// If rcgen fails, which it does not for these names.
    pub fn generate() -> Self {
        let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
        let certified = rcgen::generate_simple_self_signed(names).expect("a self-signed cert");
        Self {
            cert_pem: certified.cert.pem(),
            key_pem: certified.signing_key.serialize_pem(),
            der: certified.cert.der().clone(),
        }
    }

    /// Writes `cert.pem` and `key.pem` into `dir` (created if missing) and returns their
    /// paths.
    ///
    /// # Panics
    ///
    /// If the files can't be written.
    pub fn write_to(&self, dir: &Path) -> (PathBuf, PathBuf) {
        std::fs::create_dir_all(dir).expect("create the certificate directory");
        let cert = dir.join("cert.pem");
        let key = dir.join("key.pem");
        std::fs::write(&cert, &self.cert_pem).expect("write cert.pem");
        std::fs::write(&key, &self.key_pem).expect("write key.pem");
        (cert, key)
    }

    /// A client configuration (`ring`) that trusts this certificate only and offers `h2`
    /// then `http/1.1` by ALPN, as browsers do.
    ///
    /// # Panics
    ///
    /// If rustls rejects the certificate as a root.
    pub fn client_config(&self) -> Arc<ClientConfig> {
        self.client_config_offering(&[b"h2", b"http/1.1"])
    }

    /// A client configuration (`ring`) that trusts this certificate only and offers
    /// `protocols` by ALPN.
    ///
    /// # Panics
    ///
    /// If rustls rejects the certificate as a root.
    pub fn client_config_offering(&self, protocols: &[&[u8]]) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        roots.add(self.der.clone()).expect("a trusted root");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = protocols.iter().map(|protocol| protocol.to_vec()).collect();
        Arc::new(config)
    }
}
