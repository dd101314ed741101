//! The demo page in a real browser: Debian's `chromium`, headless, driven over WebDriver
//! (`fantoccini` talking to `/usr/bin/chromedriver`, started here on a free port).
//!
//! The page connects with `EventSource`, shows published events of custom types, loses its
//! stream when the app cuts every open stream ([`App::disconnect_all`]), reconnects by
//! itself after the `retry:` delay with its last event id, and shows the events it missed,
//! which the hub replayed. A screenshot goes to `target/screenshots/demo.png`.
//!
//! Over TLS (a certificate made here, so Chromium runs with `--ignore-certificate-errors`)
//! the page comes over HTTP/2, and ten `EventSource`s on it all open and all receive a
//! published event: over HTTP/1.1 a browser holds at most six connections per origin.
//!
//! Needs `chromium` and `chromium-driver` (`apt-get install -y chromium chromium-driver`):
//! without them the test fails, it does not skip.
//!
//! [`App::disconnect_all`]: sse_examples::App::disconnect_all

mod support;

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use futures_util::FutureExt;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use sse_examples::{Config, Framework, RunningApp};
use support::{publish_with, start, stats, wait_for_stats, TempDir};
use tokio::process::{Child, Command};
use tokio::sync::Mutex;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const TOKEN: &str = "browser-s3cret";
/// A browser test waits at most this long for any one thing on the page.
const PAGE_DEADLINE: Duration = Duration::from_secs(30);

/// One browser at a time: the machine is small.
static BROWSER: Mutex<()> = Mutex::const_new(());

/// chromedriver on a free port, killed on drop.
struct Driver {
    child: Child,
    url: String,
    profile: TempDir,
}

fn require(path: &str) {
    assert!(
        Path::new(path).exists(),
        "{path} is missing: the browser test needs Debian's chromium and chromedriver \
         (sudo apt-get install -y chromium chromium-driver)"
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

async fn start_driver() -> Driver {
    require(CHROMIUM);
    require(CHROMEDRIVER);
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start chromedriver");
    let deadline = tokio::time::Instant::now() + PAGE_DEADLINE;
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "chromedriver never listened on {port}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let profile =
        std::env::temp_dir().join(format!("sse-demo-chromium-{}-{port}", std::process::id()));
    let _ = std::fs::remove_dir_all(&profile);
    std::fs::create_dir_all(&profile).expect("profile dir");
    Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
        profile: TempDir(profile),
    }
}

/// A headless browser session; `extra` adds command-line switches.
async fn open_browser(driver: &Driver, extra: &[&str]) -> Client {
    let mut args = vec![
        "--headless".to_owned(),
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--disable-quic".to_owned(),
        "--no-first-run".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        "--disable-dev-shm-usage".to_owned(),
        "--window-size=1280,900".to_owned(),
        format!("--user-data-dir={}", driver.profile.0.display()),
    ];
    args.extend(extra.iter().map(|arg| (*arg).to_owned()));
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
    });
    let Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    tokio::time::timeout(
        PAGE_DEADLINE,
        ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver.url),
    )
    .await
    .expect("a browser session within the deadline")
    .expect("a browser session")
}

/// Evaluates `script` (a function body that `return`s) until `check` accepts its result.
async fn wait_for_js(client: &Client, what: &str, script: &str, check: impl Fn(&Value) -> bool) {
    let deadline = tokio::time::Instant::now() + PAGE_DEADLINE;
    loop {
        let value = client
            .execute(script, vec![])
            .await
            .expect("execute script");
        if check(&value) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}; last value {value}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_for_state(client: &Client, state: &str) {
    wait_for_js(
        client,
        &format!("the page shows {state}"),
        "return document.getElementById('state').dataset.state;",
        |value| value == state,
    )
    .await;
}

/// The events the page shows, oldest first: `(type, data, id)`.
async fn shown_events(client: &Client) -> Vec<(String, String, String)> {
    let value = client
        .execute(
            "return Array.from(document.querySelectorAll('#events li[data-type]')).reverse()
                .map(li => [li.dataset.type, li.querySelector('.data').textContent, li.dataset.id]);",
            vec![],
        )
        .await
        .expect("read the events");
    serde_json::from_value(value).expect("a list of events")
}

async fn wait_for_event(client: &Client, id: &str) {
    wait_for_js(
        client,
        &format!("the page shows event {id}"),
        &format!("return document.querySelector('#events li[data-id=\"{id}\"]') !== null;"),
        |value| value.as_bool() == Some(true),
    )
    .await;
}

async fn publish(server: &RunningApp, event: &str, data: Value) -> String {
    let auth = format!("Bearer {TOKEN}");
    let body = json!({ "topic": "demo", "event": event, "data": data }).to_string();
    let reply = publish_with(server.addr(), &[("authorization", &auth)], &body).await;
    assert_eq!(reply.status, http::StatusCode::ACCEPTED, "{:?}", reply.body);
    reply.json()["id"].as_str().expect("id").to_owned()
}

fn screenshot_path(framework: Framework) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    match framework {
        Framework::Axum => dir.join("demo.png"),
        other => dir.join(format!("demo-{other}.png")),
    }
}

async fn page_reconnects_and_shows_missed_events(framework: Framework) {
    let _one_browser = BROWSER.lock().await;
    let logs = TempDir::new("sse-demo-browser-log");
    let log = logs.path().join("app.log");
    std::fs::write(&log, "demo started\n").expect("write the log");
    let config = Config::default().with_token(TOKEN).with_log_file(&log);
    let server = start(framework, config).await;
    let mut driver = start_driver().await;
    let client = open_browser(&driver, &[]).await;

    let result = AssertUnwindSafe(async {
        client
            .goto(&server.url(&format!("/?token={TOKEN}&types=deploy")))
            .await
            .expect("open the page");
        assert_eq!(client.title().await.unwrap(), "SSE toolkit demo");
        wait_for_state(&client, "connected").await;
        wait_for_stats(server.addr(), "the page subscribed", |s| {
            s["subscribers"] == 1
        })
        .await;

        // Live events of custom types.
        let alert = publish(&server, "alert", json!("disk almost full")).await;
        let deploy = publish(&server, "deploy", json!({"version": "1.2.0"})).await;
        wait_for_event(&client, &deploy).await;
        let shown = shown_events(&client).await;
        assert_eq!(
            shown,
            vec![
                ("alert".into(), "disk almost full".into(), alert.clone()),
                (
                    "deploy".into(),
                    r#"{"version":"1.2.0"}"#.into(),
                    deploy.clone()
                ),
            ]
        );
        let last_id = client
            .find(Locator::Id("last-id"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(last_id, deploy);

        // The app cuts every open stream; the page waits for its `retry:` (2 s).
        server.app().disconnect_all();
        wait_for_stats(server.addr(), "the page's stream is gone", |s| {
            s["subscribers"] == 0
        })
        .await;
        let missed_chat = publish(&server, "chat", json!("sent while you were away")).await;
        let missed_deploy = publish(&server, "deploy", json!({"version": "1.2.1"})).await;
        wait_for_state(&client, "reconnecting").await;

        // Back with Last-Event-ID: the hub replays exactly what the page missed.
        wait_for_event(&client, &missed_deploy).await;
        wait_for_state(&client, "connected").await;
        let shown = shown_events(&client).await;
        let ids: Vec<&str> = shown.iter().map(|(_, _, id)| id.as_str()).collect();
        assert_eq!(ids, [&alert, &deploy, &missed_chat, &missed_deploy]);
        assert_eq!(shown[2].1, "sent while you were away");
        let stats = stats(server.addr()).await;
        assert_eq!(stats["replayed"], 2, "{stats}");
        let reconnects = client
            .find(Locator::Id("reconnects"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(reconnects, "1");

        // The progress demo runs to completion, and the clock ticks.
        client
            .find(Locator::Id("progress-start"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_js(
            &client,
            "the progress demo completes",
            "return document.getElementById('progress-message').textContent;",
            |value| value == "complete",
        )
        .await;
        wait_for_js(
            &client,
            "the clock ticks",
            "return document.getElementById('clock').textContent;",
            |value| value.as_str().is_some_and(|text| !text.starts_with("--")),
        )
        .await;

        // The log panel follows the --log-file: its lines, and one written now, in red as
        // it looks like an error.
        let mut file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        std::io::Write::write_all(&mut file, b"ERROR shown in red\n").unwrap();
        wait_for_js(
            &client,
            "the log panel shows both lines",
            "return Array.from(document.querySelectorAll('#logs li')).map(li => [li.className, li.textContent]);",
            |value| {
                *value
                    == json!([["log", "demo started"], ["log-error", "ERROR shown in red"]])
            },
        )
        .await;

        let png = client.screenshot().await.expect("screenshot");
        std::fs::write(screenshot_path(framework), png).expect("save the screenshot");
    })
    .catch_unwind()
    .await;

    // Close the browser even when the test failed, so no chromium outlives it.
    client.close().await.ok();
    driver.child.kill().await.ok();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_page_reconnects_and_shows_missed_events() {
    page_reconnects_and_shows_missed_events(Framework::Axum).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_page_reconnects_and_shows_missed_events() {
    page_reconnects_and_shows_missed_events(Framework::Actix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warp_page_reconnects_and_shows_missed_events() {
    page_reconnects_and_shows_missed_events(Framework::Warp).await;
}

/// Opens `count` `EventSource`s on `/events?topic=fanout` from the page, and counts their
/// opens and the messages they receive in `window.fanout`.
const OPEN_MANY: &str = "
    const count = arguments[0];
    window.fanout = { opened: 0, received: 0, sources: [] };
    for (let i = 0; i < count; i++) {
        const source = new EventSource('/events?topic=fanout');
        source.onopen = () => { window.fanout.opened += 1; };
        source.onmessage = () => { window.fanout.received += 1; };
        window.fanout.sources.push(source);
    }
    return true;
";

/// Over HTTP/1.1 a browser opens at most 6 connections per origin, so a page with more
/// `EventSource`s than that has the rest wait; over HTTP/2 (TLS) they share one connection.
async fn ten_event_sources_over_http2(framework: Framework) {
    const SOURCES: u64 = 10;
    let _one_browser = BROWSER.lock().await;
    let cert = sse_testkit::tls::TestCert::generate();
    let dir = std::env::temp_dir().join(format!(
        "sse-demo-browser-tls-{framework}-{}",
        std::process::id()
    ));
    let _remove = TempDir(dir.clone());
    let (cert_path, key_path) = cert.write_to(&dir);
    let server = start(framework, Config::default().with_tls(cert_path, key_path)).await;
    let mut driver = start_driver().await;
    // The certificate is made here, so no authority vouches for it.
    let client = open_browser(&driver, &["--ignore-certificate-errors"]).await;

    let result = AssertUnwindSafe(async {
        client.goto(&server.url("/")).await.expect("open the page");
        let protocol = client
            .execute(
                "return performance.getEntriesByType('navigation')[0].nextHopProtocol;",
                vec![],
            )
            .await
            .expect("read the protocol");
        assert_eq!(protocol, "h2", "{framework}: the page came over HTTP/2");
        client
            .execute(OPEN_MANY, vec![json!(SOURCES)])
            .await
            .expect("open the event sources");
        wait_for_js(
            &client,
            "every EventSource is open",
            "return window.fanout.opened;",
            |value| value.as_u64() == Some(SOURCES),
        )
        .await;
        server
            .app()
            .hub()
            .publish("fanout", sse_core::Event::data("to every source"))
            .await
            .expect("publish");
        wait_for_js(
            &client,
            "every EventSource received the event",
            "return window.fanout.received;",
            |value| value.as_u64() == Some(SOURCES),
        )
        .await;
    })
    .catch_unwind()
    .await;

    client.close().await.ok();
    driver.child.kill().await.ok();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_ten_event_sources_over_http2() {
    ten_event_sources_over_http2(Framework::Axum).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_ten_event_sources_over_http2() {
    ten_event_sources_over_http2(Framework::Actix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warp_ten_event_sources_over_http2() {
    ten_event_sources_over_http2(Framework::Warp).await;
}
