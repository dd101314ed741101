//! `https://` targets: rustls (on `ring`) with `--cacert`, ALPN, and what an untrusted
//! certificate or a refused HTTP/2 does to the run.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sse_conformance::{exit, Verdict};

use crate::hand::{serve_tls, Flaws};
use crate::{check, outcome, PUBLISH};

fn file(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/checker/tls")).join(name)
}

/// The hand-written hub over TLS with the test certificate for 127.0.0.1, HTTP/1.1 only.
async fn server() -> String {
    let certs = CertificateDer::pem_file_iter(file("server.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(file("server.key")).unwrap();
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let addr = serve_tls(
        Flaws::default(),
        tokio_rustls::TlsAcceptor::from(Arc::new(config)),
    )
    .await;
    format!("https://{addr}/events")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_target_with_its_ca_passes_and_skips_http2_it_does_not_offer() {
    let url = server().await;
    let ca = file("ca.pem");
    let report = check(&[
        &url,
        "--cacert",
        ca.to_str().unwrap(),
        "--publish",
        PUBLISH,
        "--only",
        "status-200,content-type,http2-no-connection-headers,first-event-prompt,resume-last-event-id,injection-crlf",
    ])
    .await;
    let text = report.to_text();
    for id in [
        "status-200",
        "content-type",
        "first-event-prompt",
        "resume-last-event-id",
        "injection-crlf",
    ] {
        assert_eq!(outcome(&report, id).verdict, Verdict::Pass, "{id}:\n{text}");
    }
    let http2 = outcome(&report, "http2-no-connection-headers");
    assert_eq!(http2.verdict, Verdict::Skipped, "{text}");
    assert!(http2.actual.contains("ALPN"), "{text}");
    assert_eq!(report.exit_code(), exit::PASS);
}

#[tokio::test]
async fn an_untrusted_certificate_or_a_refused_http2_is_a_connection_error() {
    let url = server().await;
    let report = check(&[&url, "--only", "status-200"]).await;
    let error = report.targets[0].error.as_deref().unwrap_or_default();
    assert!(error.contains("certificate"), "{error:?}");
    assert_eq!(report.exit_code(), exit::CONNECTION);

    let ca = file("ca.pem");
    let report = check(&[
        &url,
        "--cacert",
        ca.to_str().unwrap(),
        "--http2",
        "--only",
        "status-200",
    ])
    .await;
    let error = report.targets[0].error.as_deref().unwrap_or_default();
    assert!(error.contains("does not speak HTTP/2"), "{error:?}");
    assert_eq!(report.exit_code(), exit::CONNECTION);
}
