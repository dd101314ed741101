//! Through a real nginx with its default read timeout (60 s, here 1 s): the idle case finds
//! what the proxy really does.

use std::path::Path;

use sse_conformance::Verdict;
use sse_examples::{Config, Framework};
use sse_testkit::nginx::Nginx;
use tokio::net::TcpListener;

use crate::hand::{serve, Flaws};
use crate::{assert_fails, check, PUBLISH};

fn nginx_in_front_of(port: u16) -> Nginx {
    let template = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/checker/nginx.conf.template"
    ));
    Nginx::start(template, [port, port])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_behind_nginx_passes_the_proxy_cases() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut config = Config::default().with_framework(Framework::Axum);
    config.heartbeat_ms = 250;
    let app = sse_examples::serve(config, listener).await.unwrap();
    let nginx = nginx_in_front_of(app.addr().port());
    let url = format!("http://127.0.0.1:{}/events", nginx.port);
    let report = check(&[
        &url,
        "--publish",
        PUBLISH,
        "--only",
        "first-event-prompt,idle-survival,heartbeat-interval,resume-last-event-id",
    ])
    .await;
    for o in &report.targets[0].outcomes {
        assert_eq!(o.verdict, Verdict::Pass, "{}:\n{}", o.id, report.to_text());
    }
    drop(nginx);
    app.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_cuts_a_stream_without_heartbeats() {
    let upstream = serve(Flaws {
        no_heartbeats: true,
        ..Flaws::default()
    })
    .await;
    let nginx = nginx_in_front_of(upstream.port());
    let url = format!("http://127.0.0.1:{}/events", nginx.port);
    let report = check(&[&url, "--only", "idle-survival"]).await;
    assert_fails(&report, "idle-survival", "was cut after");
}
