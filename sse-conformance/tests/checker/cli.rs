//! The binary: exit codes, the report files (JUnit parsed as XML, JSON), the baseline, and
//! GitHub Actions annotations on stderr.

use std::process::Output;

use quick_xml::events::Event as Xml;
use sse_conformance::exit;
use tokio::process::Command;

use crate::hand::{serve, Flaws};
use crate::{FAST, PUBLISH};

async fn run(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sse-conformance"));
    command
        .args(args)
        .args(FAST)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY");
    for (name, value) in envs {
        command.env(name, value);
    }
    let output = tokio::time::timeout(std::time::Duration::from_secs(60), command.output())
        .await
        .expect("the checker ends")
        .expect("the checker runs");
    output
}

fn code(output: &Output) -> u8 {
    u8::try_from(output.status.code().expect("an exit code")).unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("sse-conformance-{}-{name}", std::process::id()))
}

#[tokio::test]
async fn dry_run_lists_the_cases_and_exits_0() {
    let output = run(&["--dry-run", "--strict"], &[]).await;
    assert_eq!(code(&output), exit::PASS);
    let stdout = text(&output.stdout);
    for case in sse_conformance::CASES {
        assert!(
            stdout.contains(case.id),
            "{} missing from:\n{stdout}",
            case.id
        );
    }
}

#[tokio::test]
async fn help_documents_the_exit_codes_and_exits_0() {
    let output = run(&["--help"], &[]).await;
    assert_eq!(code(&output), exit::PASS);
    let stdout = text(&output.stdout);
    assert!(stdout.contains("Exit codes: 0"), "{stdout}");
    assert!(!stdout.contains("```"), "no rustdoc in --help: {stdout}");
}

#[tokio::test]
async fn usage_errors_exit_2() {
    for args in [
        &["--no-such-flag", "http://127.0.0.1:1/events"][..],
        &["--only", "no-such-case", "http://127.0.0.1:1/events"],
        &[
            "--publish",
            "POST ftp://x/publish",
            "http://127.0.0.1:1/events",
        ],
        &["-H", "no colon", "http://127.0.0.1:1/events"],
        &[
            "--publish",
            "POST /a",
            "--publish",
            "POST /b",
            "http://127.0.0.1:1/events",
        ],
        &["--http1", "--http2", "http://127.0.0.1:1/events"],
        &["ftp://127.0.0.1/events"],
        &[],
    ] {
        let output = run(args, &[]).await;
        assert_eq!(
            code(&output),
            exit::USAGE,
            "{args:?}: {}",
            text(&output.stderr)
        );
    }
}

#[tokio::test]
async fn an_unreachable_target_exits_3() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let output = run(&[&format!("http://{addr}/events")], &[]).await;
    assert_eq!(code(&output), exit::CONNECTION, "{}", text(&output.stdout));
    assert!(text(&output.stdout).contains("not reachable"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conforming_server_exits_0_and_a_failing_one_1() {
    let good = format!("http://{}/events", serve(Flaws::default()).await);
    let output = run(&[&good, "--publish", PUBLISH], &[]).await;
    assert_eq!(code(&output), exit::PASS, "{}", text(&output.stdout));

    let bad = format!(
        "http://{}/events",
        serve(Flaws {
            missing_headers: true,
            ..Flaws::default()
        })
        .await
    );
    let output = run(&[&bad, "--only", "status-200,content-type"], &[]).await;
    assert_eq!(code(&output), exit::FAILURE, "{}", text(&output.stdout));
}

/// Counts the `<testcase>`, `<failure>` and `<skipped>` elements, checking that the XML is
/// well formed, and returns the `tests` and `failures` attributes of `<testsuites>`.
fn read_junit(xml: &str) -> ([usize; 3], (usize, usize)) {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut counts = [0; 3];
    let mut declared = (0, 0);
    loop {
        match reader.read_event().expect("well-formed JUnit XML") {
            Xml::Eof => break,
            Xml::Start(element) | Xml::Empty(element) => {
                let attribute = |name: &str| -> usize {
                    element
                        .try_get_attribute(name)
                        .unwrap()
                        .map_or(0, |a| a.unescape_value().unwrap().parse().unwrap())
                };
                match element.name().as_ref() {
                    b"testsuites" => declared = (attribute("tests"), attribute("failures")),
                    b"testcase" => counts[0] += 1,
                    b"failure" => counts[1] += 1,
                    b"skipped" => counts[2] += 1,
                    _ => {}
                }
            }
            _ => {}
        }
    }
    (counts, declared)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_junit_and_json_files_count_the_same_cases() {
    let good = format!("http://{}/events", serve(Flaws::default()).await);
    let bad = format!(
        "http://{}/events",
        serve(Flaws {
            raw_cr: true,
            missing_headers: true,
            ..Flaws::default()
        })
        .await
    );
    let (junit, json) = (temp("report.xml"), temp("report.json"));
    let output = run(
        &[
            &good,
            &bad,
            "--publish",
            PUBLISH,
            "--skip",
            "idle-survival",
            "--junit",
            junit.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert_eq!(code(&output), exit::FAILURE);
    let stdout = text(&output.stdout);
    assert!(
        stdout.starts_with("| case |"),
        "a side-by-side table first:\n{stdout}"
    );

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let outcomes: Vec<&serde_json::Value> = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["outcomes"].as_array().unwrap())
        .collect();
    let verdicts = |v: &str| outcomes.iter().filter(|o| o["verdict"] == v).count();
    let ([cases, failures, skipped], declared) =
        read_junit(&std::fs::read_to_string(&junit).unwrap());
    assert_eq!(cases, outcomes.len());
    assert_eq!(failures, verdicts("fail"));
    assert_eq!(skipped, verdicts("skipped"));
    assert_eq!(declared, (cases, failures));
    assert!(
        failures >= 4,
        "content-type, cache-control, no-content-length, injection-cr ..."
    );
    let _ = std::fs::remove_file(junit);
    let _ = std::fs::remove_file(json);
}

#[tokio::test]
async fn the_baseline_tolerates_listed_failures_and_flags_entries_that_now_pass() {
    let bad = format!(
        "http://{}/events",
        serve(Flaws {
            missing_headers: true,
            ..Flaws::default()
        })
        .await
    );
    let baseline = temp("baseline.txt");
    let only = ["--only", "status-200,content-type,cache-control"];

    std::fs::write(
        &baseline,
        "# known\ncontent-type\ncache-control\nstatus-200\n",
    )
    .unwrap();
    let summary = temp("summary.md");
    let output = run(
        &[
            &bad,
            only[0],
            only[1],
            "--baseline",
            baseline.to_str().unwrap(),
        ],
        &[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(code(&output), exit::PASS, "{}", text(&output.stdout));
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(stdout.contains("(expected by the baseline)"), "{stdout}");
    assert!(stdout.contains("now passes"), "status-200 passes: {stdout}");
    assert!(
        stderr.contains("::warning title=sse-conformance status-200"),
        "{stderr}"
    );
    assert!(!stdout.contains("::"), "annotations go to stderr only");
    assert!(std::fs::read_to_string(&summary)
        .unwrap()
        .contains("## SSE conformance"));

    // A failure the baseline doesn't list fails the run, annotated as an error.
    std::fs::write(&baseline, "content-type\n").unwrap();
    let output = run(
        &[
            &bad,
            only[0],
            only[1],
            "--baseline",
            baseline.to_str().unwrap(),
        ],
        &[("GITHUB_ACTIONS", "true")],
    )
    .await;
    assert_eq!(code(&output), exit::FAILURE);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("::error title=sse-conformance cache-control"),
        "{stderr}"
    );
    assert!(
        stderr.contains("## SSE conformance"),
        "the summary goes to stderr without GITHUB_STEP_SUMMARY"
    );

    // A baseline naming no case is a usage error.
    std::fs::write(&baseline, "no-such-case\n").unwrap();
    let output = run(&[&bad, "--baseline", baseline.to_str().unwrap()], &[]).await;
    assert_eq!(code(&output), exit::USAGE);
    let _ = std::fs::remove_file(baseline);
    let _ = std::fs::remove_file(summary);
}

/// The command hook: bash writes the HTTP request itself (no curl needed), with the data from
/// `SSE_DATA_JSON` so that CR, LF and NUL survive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_command_drives_the_publishing_cases() {
    let addr = serve(Flaws::default()).await;
    let command = format!(
        r#"bash -c 'body="{{\"event\":\"$SSE_EVENT\",\"data\":$SSE_DATA_JSON}}"
exec 3<>/dev/tcp/127.0.0.1/{port}
printf "POST /publish HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" "${{#body}}" "$body" >&3
tail -n 1 <&3'"#,
        port = addr.port()
    );
    let url = format!("http://{addr}/events");
    let output = run(
        &[
            &url,
            "--publish-cmd",
            &command,
            "--only",
            "first-event-prompt,id-echoed,resume-last-event-id,injection-*",
        ],
        &[],
    )
    .await;
    assert_eq!(
        code(&output),
        exit::PASS,
        "{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    assert!(
        text(&output.stdout).contains("on both"),
        "the command's JSON answer gave the id"
    );
}
