//! The command line: [`Options`], and [`run`], which is the whole binary.

use std::ffi::OsString;
use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use http::header::HeaderMap;
use http::Uri;

use crate::cases::{Capability, Case, Level, Settings, Target, CASES};
use crate::client::{parse_header, Client, HttpVersion};
use crate::publish::Publisher;
use crate::report::{exit, Baseline, Report};

/// The checker's options, as the command line gives them (`sse-conformance --help`).
///
/// ```
/// let options = sse_conformance::Options::from_args([
///     "sse-conformance", "http://127.0.0.1:3000/events",
///     "--publish", r#"POST /publish {"event":"{event}","data":{data}}"#,
///     "--heartbeat", "2s", "--strict",
/// ]).unwrap();
/// assert!(options.case_ids().unwrap().contains(&"heartbeat-interval"));
/// ```
#[derive(Clone, Debug, Parser)]
#[command(
    name = "sse-conformance",
    version,
    long_about = None,
    about = "Checks Server-Sent Events endpoints: headers, compression, buffering, heartbeats, resume after Last-Event-ID, injection",
    after_help = "Exit codes: 0 every case that counts passed, 1 a conformance failure, 2 a usage error, 3 a target unreachable (or a report file not written).\nDurations: 500ms, 2s, 1m, or seconds (1.5)."
)]
pub struct Options {
    /// The SSE endpoints to check (http:// or https://); several give a side-by-side report.
    #[arg(value_name = "URL", required_unless_present = "dry_run")]
    urls: Vec<String>,
    /// A request header for every request, `Name: value` (for auth); repeatable.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// Speak HTTP/1.1 only (the HTTP/2 case is skipped).
    #[arg(long, conflicts_with = "http2")]
    http1: bool,
    /// Speak HTTP/2 only: h2c with prior knowledge on http://, ALPN h2 on https://.
    #[arg(long)]
    http2: bool,
    /// Trust the certificates of this PEM file for https:// (instead of Mozilla's roots).
    #[arg(long, value_name = "FILE")]
    cacert: Option<PathBuf>,
    /// Connect timeout.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    connect_timeout: Duration,
    /// The longest wait for a response head or an expected event.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    timeout: Duration,
    /// How to publish an event: `METHOD URL [BODY TEMPLATE]`; URL may be a path on each
    /// target's origin; `{event}` is replaced by the event type (inside a JSON string),
    /// `{data}` by the data as a JSON string. Repeat once per target, or give one for all.
    #[arg(long, value_name = "SPEC", conflicts_with = "publish_cmd")]
    publish: Vec<String>,
    /// How to publish an event: a shell command run with SSE_EVENT, SSE_DATA (absent when
    /// the data holds a NUL), SSE_DATA_JSON (the data as a JSON string) and SSE_TARGET set;
    /// its standard output, a JSON answer with an "id" or the id itself, is the event's id.
    #[arg(long, value_name = "COMMAND")]
    publish_cmd: Option<String>,
    /// Also run the SHOULD cases, and fail on them.
    #[arg(long)]
    strict: bool,
    /// Run only these cases (ids, comma-separated, `prefix*` allowed); repeatable.
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    only: Vec<String>,
    /// Skip these cases (ids, comma-separated, `prefix*` allowed); repeatable.
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    skip: Vec<String>,
    /// List the cases that would run, and exit.
    #[arg(long)]
    dry_run: bool,
    /// The longest time a published event may take to arrive.
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration)]
    prompt: Duration,
    /// The heartbeat interval the service promises (heartbeat-interval).
    #[arg(long, value_name = "DURATION", default_value = "15s", value_parser = parse_duration)]
    heartbeat: Duration,
    /// How much later than --heartbeat a heartbeat may come [default: half of --heartbeat].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    heartbeat_tolerance: Option<Duration>,
    /// How long idle-survival keeps a stream open without events.
    #[arg(long, value_name = "DURATION", default_value = "65s", value_parser = parse_duration)]
    idle: Duration,
    /// The proxy idle timeout the stream's heartbeats must beat (nginx's and most load
    /// balancers' default is 60 s).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    proxy_timeout: Duration,
    /// The event type the service sends for an unknown or too-old Last-Event-ID; makes
    /// resume-unknown-id a required case.
    #[arg(long, value_name = "EVENT")]
    gap_event: Option<String>,
    /// How many events the service holds for replay; resume-too-old-id publishes one more
    /// than that to push an id out (skipped without it).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    replay_size: Option<u32>,
    /// Write the report as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write the report as JUnit XML to FILE.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Expected failures, one `CASE-ID` or `URL CASE-ID` a line: they don't fail the run,
    /// and entries that now pass are flagged.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
}

/// A command line that can't run: the message says what to change.
///
/// ```
/// let options = sse_conformance::Options::from_args(["sse-conformance", "--dry-run", "--only", "nope"]).unwrap();
/// let err = options.case_ids().unwrap_err();
/// assert!(err.to_string().contains("no case matches"));
/// ```
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

impl Options {
    /// Parses a command line (the first item is the program name).
    ///
    /// # Errors
    ///
    /// clap's error for an unknown flag or a bad value; its `exit()` prints it and exits 2.
    pub fn from_args<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        Self::try_parse_from(args)
    }

    /// The ids of the cases this run selects, in run order.
    ///
    /// # Errors
    ///
    /// A `--only` or `--skip` entry that matches no case.
    pub fn case_ids(&self) -> Result<Vec<&'static str>, UsageError> {
        Ok(self.selected()?.into_iter().map(|case| case.id).collect())
    }

    fn selected(&self) -> Result<Vec<&'static Case>, UsageError> {
        for pattern in self.only.iter().chain(&self.skip) {
            if !CASES.iter().any(|case| matches(pattern, case.id)) {
                return Err(UsageError(format!(
                    "no case matches {pattern:?} (see --dry-run for the list)"
                )));
            }
        }
        Ok(CASES
            .iter()
            .filter(|case| {
                let named = self.only.iter().any(|p| matches(p, case.id));
                let by_level = self.strict || case.level != Level::Should;
                (named || (self.only.is_empty() && by_level))
                    && !self.skip.iter().any(|p| matches(p, case.id))
            })
            .collect())
    }

    fn settings(&self) -> Settings {
        Settings {
            version: if self.http1 {
                HttpVersion::Http1
            } else if self.http2 {
                HttpVersion::Http2
            } else {
                HttpVersion::Auto
            },
            timeout: self.timeout,
            prompt: self.prompt,
            heartbeat: self.heartbeat,
            heartbeat_tolerance: self.heartbeat_tolerance.unwrap_or(self.heartbeat / 2),
            idle: self.idle,
            proxy_timeout: self.proxy_timeout,
            gap_event: self.gap_event.clone(),
            replay_size: self.replay_size,
        }
    }

    fn targets(&self) -> Result<Vec<Target>, UsageError> {
        let mut headers = HeaderMap::new();
        for line in &self.headers {
            let (name, value) = parse_header(line).map_err(UsageError)?;
            headers.append(name, value);
        }
        let publishers: Vec<Publisher> = match (&self.publish_cmd, self.publish.as_slice()) {
            (Some(command), _) => vec![Publisher::Command(command.clone())],
            (None, specs) => specs
                .iter()
                .map(|spec| Publisher::parse_http(spec))
                .collect::<Result<_, _>>()
                .map_err(UsageError)?,
        };
        if publishers.len() > 1 && publishers.len() != self.urls.len() {
            return Err(UsageError(format!(
                "{} --publish hooks for {} targets: give one for all, or one per target",
                publishers.len(),
                self.urls.len()
            )));
        }
        self.urls
            .iter()
            .enumerate()
            .map(|(i, url)| {
                let uri: Uri = url
                    .parse()
                    .map_err(|err| UsageError(format!("target {url:?}: {err}")))?;
                if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
                    return Err(UsageError(format!(
                        "target {url:?} must be an http:// or https:// URL"
                    )));
                }
                let publisher = publishers.get(i).or(publishers.first()).cloned();
                Ok(Target {
                    url: uri,
                    headers: headers.clone(),
                    publisher,
                })
            })
            .collect()
    }

    fn client(&self) -> Result<Client, UsageError> {
        let roots = match &self.cacert {
            None => None,
            Some(path) => {
                use rustls::pki_types::pem::PemObject as _;
                let mut roots = rustls::RootCertStore::empty();
                let certs = rustls::pki_types::CertificateDer::pem_file_iter(path)
                    .map_err(|err| UsageError(format!("--cacert {}: {err}", path.display())))?;
                for cert in certs {
                    let cert = cert
                        .map_err(|err| UsageError(format!("--cacert {}: {err}", path.display())))?;
                    roots
                        .add(cert)
                        .map_err(|err| UsageError(format!("--cacert {}: {err}", path.display())))?;
                }
                Some(roots)
            }
        };
        Client::new(self.connect_timeout, self.timeout, roots)
            .map_err(|err| UsageError(format!("TLS setup: {err}")))
    }

    /// The case list as `--dry-run` prints it.
    ///
    /// ```
    /// let options = sse_conformance::Options::from_args(["sse-conformance", "--dry-run"]).unwrap();
    /// assert!(options.dry_run_text().unwrap().starts_with("status-200"));
    /// ```
    ///
    /// # Errors
    ///
    /// As [`case_ids`](Self::case_ids).
    pub fn dry_run_text(&self) -> Result<String, UsageError> {
        let mut out = String::new();
        for case in self.selected()? {
            let needs = match case.needs {
                Some(Capability::Publish) => " [needs a publish hook]",
                Some(Capability::Http2) => " [needs HTTP/2]",
                None => "",
            };
            out.push_str(&format!(
                "{:<28} {:<6} {}{needs}\n{:<35}{}\n",
                case.id,
                case.level.to_string(),
                case.section,
                "",
                case.requirement
            ));
        }
        Ok(out)
    }
}

/// `pattern` is an id, or a prefix followed by `*`.
fn matches(pattern: &str, id: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => id.starts_with(prefix),
        None => pattern == id,
    }
}

/// Parses `500ms`, `2s`, `1m` or a number of seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| c.is_ascii_alphabetic()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a duration such as 500ms, 2s or 1m"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("unit {unit:?} in {text:?}: use ms, s or m")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|err| format!("{text:?}: {err}"))
}

/// Runs every selected case against every target of `options` (targets side by side,
/// each target's cases one after another).
///
/// ```no_run
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let options = sse_conformance::Options::from_args(["sse-conformance", "http://127.0.0.1:3000/events"]).unwrap();
/// let report = sse_conformance::check(&options).await.unwrap();
/// print!("{}", report.to_text());
/// # }
/// ```
///
/// # Errors
///
/// A [`UsageError`] when the options can't run (bad URL, hook, header, case id,
/// certificate file).
pub async fn check(options: &Options) -> Result<Report, UsageError> {
    let cases = options.selected()?;
    let targets = options.targets()?;
    let client = options.client()?;
    let settings = options.settings();
    let runs = targets
        .iter()
        .map(|target| crate::run_target(target, &client, &settings, &cases));
    Ok(Report {
        strict: options.strict,
        targets: futures_util::future::join_all(runs).await,
    })
}

/// The whole binary: parses `args`, runs, prints the report to stdout (GitHub Actions
/// annotations to stderr when `GITHUB_ACTIONS=true`), writes `--json`/`--junit`, and
/// returns the exit code (see [`exit`]).
///
/// ```no_run
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let code = sse_conformance::run(std::env::args_os()).await;
/// std::process::exit(code.into());
/// # }
/// ```
pub async fn run<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let options = match Options::from_args(args) {
        Ok(options) => options,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() {
                exit::USAGE
            } else {
                exit::PASS
            };
        }
    };
    if options.dry_run {
        return match options.dry_run_text() {
            Ok(text) => {
                print!("{text}");
                exit::PASS
            }
            Err(err) => usage(&err),
        };
    }
    let baseline = match &options.baseline {
        None => None,
        Some(path) => match std::fs::read_to_string(path) {
            Ok(text) => {
                let baseline = Baseline::parse(&text);
                if let Some(id) = baseline.ids().find(|id| !CASES.iter().any(|c| c.id == *id)) {
                    return usage(&UsageError(format!(
                        "baseline {}: no case {id:?}",
                        path.display()
                    )));
                }
                Some(baseline)
            }
            Err(err) => return usage(&UsageError(format!("baseline {}: {err}", path.display()))),
        },
    };
    let mut report = match check(&options).await {
        Ok(report) => report,
        Err(err) => return usage(&err),
    };
    if let Some(baseline) = &baseline {
        report.apply_baseline(baseline);
    }
    print!("{}", report.to_text());
    let _ = std::io::stdout().flush();
    if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
        eprint!("{}", report.github_annotations());
        let summary = report.github_summary();
        let written = std::env::var_os("GITHUB_STEP_SUMMARY").is_some_and(|path| {
            std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(path)
                .and_then(|mut file| file.write_all(summary.as_bytes()))
                .is_ok()
        });
        if !written {
            eprint!("{summary}");
        }
    }
    let mut code = report.exit_code();
    for (path, text) in [
        (&options.json, report.to_json()),
        (&options.junit, report.to_junit()),
    ] {
        if let Some(path) = path {
            if let Err(err) = std::fs::write(path, text) {
                eprintln!("sse-conformance: writing {}: {err}", path.display());
                code = exit::CONNECTION;
            }
        }
    }
    code
}

fn usage(err: &UsageError) -> u8 {
    eprintln!("sse-conformance: {err}");
    exit::USAGE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_units() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("3h").is_err());
    }

    #[test]
    fn should_cases_run_only_with_strict_or_by_name() {
        let ids = |args: &[&str]| {
            let mut all = vec!["sse-conformance", "--dry-run"];
            all.extend_from_slice(args);
            Options::from_args(all).unwrap().case_ids().unwrap()
        };
        assert!(!ids(&[]).contains(&"leading-retry"));
        assert!(ids(&["--strict"]).contains(&"leading-retry"));
        assert_eq!(ids(&["--only", "leading-retry"]), ["leading-retry"]);
        assert_eq!(
            ids(&["--only", "injection-*", "--skip", "injection-nul"]),
            [
                "injection-cr",
                "injection-lf",
                "injection-crlf",
                "injection-fields"
            ]
        );
        let unknown =
            Options::from_args(["sse-conformance", "--dry-run", "--only", "nope"]).unwrap();
        assert!(unknown.case_ids().is_err());
    }
}
