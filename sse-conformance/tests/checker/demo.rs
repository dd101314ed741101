//! The toolkit's demo, served by each framework, passes every case with the publish hook.

use sse_conformance::{exit, Level, Verdict};
use sse_examples::{Config, Framework};
use tokio::net::TcpListener;

use crate::{assert_fails, check, PUBLISH};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_passes_every_case_on_all_three_frameworks_side_by_side() {
    let mut running = Vec::new();
    for framework in Framework::ALL {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut config = Config::default().with_framework(framework);
        config.heartbeat_ms = 250;
        config.replay = 20;
        running.push(sse_examples::serve(config, listener).await.unwrap());
    }
    let urls: Vec<String> = running.iter().map(|app| app.url("/events")).collect();
    let mut args: Vec<&str> = urls.iter().map(String::as_str).collect();
    args.extend([
        "--publish",
        PUBLISH,
        "--strict",
        "--gap-event",
        "sse-gap",
        "--replay-size",
        "20",
    ]);
    let report = check(&args).await;

    let text = report.to_text();
    assert_eq!(report.targets.len(), 3);
    for target in &report.targets {
        assert_eq!(target.error, None, "{text}");
        assert_eq!(
            target.outcomes.len(),
            sse_conformance::CASES.len(),
            "{text}"
        );
        for o in &target.outcomes {
            // Every case runs, HTTP/2 included: the demo speaks h2c on all three.
            assert!(
                o.verdict == Verdict::Pass,
                "{} {}:\n{text}",
                target.url,
                o.id
            );
        }
        let musts = target
            .outcomes
            .iter()
            .filter(|o| o.level == Level::Must)
            .count();
        assert!(musts >= 18, "{text}");
    }
    assert_eq!(report.exit_code(), exit::PASS, "{text}");
    for app in running {
        app.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn request_headers_reach_the_stream_and_the_publish_hook() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = Config::default().with_token("s3cret");
    let app = sse_examples::serve(config, listener).await.unwrap();
    let url = app.url("/events");
    let only = ["--only", "status-200,first-event-prompt"];

    let report = check(&[&url, "--publish", PUBLISH, only[0], only[1]]).await;
    assert_fails(&report, "status-200", "401");
    assert_fails(&report, "first-event-prompt", "401");

    let auth = ["-H", "Authorization: Bearer s3cret"];
    let report = check(&[
        &url,
        "--publish",
        PUBLISH,
        auth[0],
        auth[1],
        only[0],
        only[1],
    ])
    .await;
    assert_eq!(report.exit_code(), exit::PASS, "{}", report.to_text());
    app.shutdown().await.unwrap();
}
