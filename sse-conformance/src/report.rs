//! Results and their formats: the text report (side by side for several targets), JSON,
//! JUnit XML, GitHub Actions annotations and job summary, and the baseline of expected
//! failures.

use std::collections::BTreeSet;
use std::fmt::{self, Write as _};
use std::time::Duration;

use serde::Serialize;

use crate::cases::{Case, Level};

/// A case's verdict.
///
/// ```
/// assert_eq!(sse_conformance::Verdict::Fail.to_string(), "FAIL");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The target meets the requirement.
    Pass,
    /// The target breaks the requirement.
    Fail,
    /// Not run: the target lacks a capability the case needs (a publish hook, HTTP/2).
    Skipped,
    /// Reported for information; never fails the run.
    Informational,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pass => "pass",
            Self::Fail => "FAIL",
            Self::Skipped => "skipped",
            Self::Informational => "info",
        })
    }
}

/// A measured time against its tolerance, in milliseconds.
///
/// ```
/// let timing = sse_conformance::Timing { measured_ms: 12, tolerance_ms: 1000 };
/// assert!(timing.measured_ms <= timing.tolerance_ms);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Timing {
    /// What was measured.
    pub measured_ms: u64,
    /// The most the requirement allows.
    pub tolerance_ms: u64,
}

impl Timing {
    pub(crate) fn new(measured: Duration, tolerance: Duration) -> Self {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Self {
            measured_ms: ms(measured),
            tolerance_ms: ms(tolerance),
        }
    }
}

/// What a case found, before the runner adds the case's description.
#[derive(Debug)]
pub(crate) struct Finding {
    pub(crate) verdict: Verdict,
    pub(crate) actual: String,
    pub(crate) timing: Option<Timing>,
}

impl Finding {
    pub(crate) fn check(ok: bool, actual: impl Into<String>) -> Self {
        Self {
            verdict: if ok { Verdict::Pass } else { Verdict::Fail },
            actual: actual.into(),
            timing: None,
        }
    }

    pub(crate) fn pass(actual: impl Into<String>) -> Self {
        Self::check(true, actual)
    }

    pub(crate) fn fail(actual: impl Into<String>) -> Self {
        Self::check(false, actual)
    }

    pub(crate) fn skipped(why: impl Into<String>) -> Self {
        Self {
            verdict: Verdict::Skipped,
            actual: why.into(),
            timing: None,
        }
    }

    pub(crate) fn info(actual: impl Into<String>) -> Self {
        Self {
            verdict: Verdict::Informational,
            actual: actual.into(),
            timing: None,
        }
    }

    pub(crate) fn with_timing(mut self, timing: Timing) -> Self {
        self.timing = Some(timing);
        self
    }
}

/// How a result relates to the baseline file (see [`Report::apply_baseline`]).
///
/// ```
/// use sse_conformance::BaselineMark;
///
/// assert_ne!(BaselineMark::ExpectedFailure, BaselineMark::NowPasses);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BaselineMark {
    /// A listed failure that still fails: it does not fail the run.
    ExpectedFailure,
    /// A listed failure that now passes: remove it from the baseline.
    NowPasses,
}

/// One case's result on one target.
///
/// ```
/// # async fn f(report: sse_conformance::Report) {
/// for outcome in &report.targets[0].outcomes {
///     println!("{} {}: expected {}, got {}", outcome.verdict, outcome.id, outcome.expected, outcome.actual);
/// }
/// # }
/// ```
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    /// The case's stable id.
    pub id: &'static str,
    /// The spec section it checks.
    pub section: &'static str,
    /// How much it counts.
    pub level: Level,
    /// The verdict.
    pub verdict: Verdict,
    /// The requirement.
    pub requirement: &'static str,
    /// What a passing target shows.
    pub expected: &'static str,
    /// What this target showed (for a failure, what is wrong; for a skip, why).
    pub actual: String,
    /// The measured time and its tolerance, for timing cases.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timing: Option<Timing>,
    /// How long the case took, in milliseconds.
    pub elapsed_ms: u64,
    /// Set when the baseline lists this case for this target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineMark>,
}

impl Outcome {
    pub(crate) fn new(case: &Case, finding: Finding, elapsed: Duration) -> Self {
        Self {
            id: case.id,
            section: case.section,
            level: case.level,
            verdict: finding.verdict,
            requirement: case.requirement,
            expected: case.expected,
            actual: finding.actual,
            timing: finding.timing,
            elapsed_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
            baseline: None,
        }
    }

    /// Whether this result fails the run: a failure the baseline does not expect (see the
    /// example on [`Report`]).
    pub fn fails_run(&self) -> bool {
        self.verdict == Verdict::Fail && self.baseline != Some(BaselineMark::ExpectedFailure)
    }
}

/// Every result of one target.
///
/// ```
/// let target = sse_conformance::TargetReport { url: "http://127.0.0.1:1/events".into(), error: None, outcomes: vec![] };
/// assert!(target.outcomes.is_empty());
/// ```
#[derive(Clone, Debug, Serialize)]
pub struct TargetReport {
    /// The endpoint's URL.
    pub url: String,
    /// Set when the target could not be reached at all; no case ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The results, in case order.
    pub outcomes: Vec<Outcome>,
}

/// A whole run: every target's results, and its formats.
///
/// ```
/// use sse_conformance::{exit, Baseline, Level, Outcome, Report, TargetReport, Verdict};
///
/// let failed = Outcome {
///     id: "cache-control", section: "HTML 9.2.7", level: Level::Must, verdict: Verdict::Fail,
///     requirement: "Cache-Control has no-cache", expected: "no-cache", actual: "(absent)".into(),
///     timing: None, elapsed_ms: 3, baseline: None,
/// };
/// let url = "http://127.0.0.1:3000/events";
/// let mut report = Report {
///     strict: false,
///     targets: vec![TargetReport { url: url.into(), error: None, outcomes: vec![failed] }],
/// };
/// assert_eq!(report.exit_code(), exit::FAILURE);
/// assert_eq!(report.failures().count(), 1);
/// assert!(report.to_text().contains("FAIL"));
/// assert!(report.to_json().contains("\"verdict\": \"fail\""));
/// assert!(report.to_junit().contains("<failure"));
/// assert!(report.github_annotations().starts_with("::error title=sse-conformance cache-control"));
/// assert!(report.github_summary().contains("## SSE conformance"));
///
/// report.apply_baseline(&Baseline::parse("cache-control\n"));
/// assert_eq!(report.exit_code(), exit::PASS);
/// assert!(!report.targets[0].outcomes[0].fails_run());
/// ```
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Whether the SHOULD cases ran (`--strict`).
    pub strict: bool,
    /// One entry per target, in command-line order.
    pub targets: Vec<TargetReport>,
}

/// The exit codes of the `sse-conformance` binary.
///
/// ```
/// use sse_conformance::exit;
///
/// assert_eq!([exit::PASS, exit::FAILURE, exit::USAGE, exit::CONNECTION], [0, 1, 2, 3]);
/// ```
pub mod exit {
    /// Every case that counts passed (skipped and informational results don't count).
    pub const PASS: u8 = 0;
    /// At least one case failed (and the baseline does not expect it).
    pub const FAILURE: u8 = 1;
    /// The command line is wrong (an unknown flag or case id, a bad hook or URL).
    pub const USAGE: u8 = 2;
    /// A target could not be reached, or a report file could not be written.
    pub const CONNECTION: u8 = 3;
}

impl Report {
    /// The exit code: [`exit::CONNECTION`] if a target was unreachable, else
    /// [`exit::FAILURE`] if a result fails the run, else [`exit::PASS`].
    pub fn exit_code(&self) -> u8 {
        if self.targets.iter().any(|t| t.error.is_some()) {
            exit::CONNECTION
        } else if self.failures().next().is_some() {
            exit::FAILURE
        } else {
            exit::PASS
        }
    }

    /// Every result that fails the run, with its target's URL (see the example on
    /// [`Report`], as for every method here).
    pub fn failures(&self) -> impl Iterator<Item = (&str, &Outcome)> {
        self.targets.iter().flat_map(|target| {
            target
                .outcomes
                .iter()
                .filter(|o| o.fails_run())
                .map(move |o| (target.url.as_str(), o))
        })
    }

    /// The report as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the report serializes")
    }

    /// The human report: one section per target with every result (a side-by-side table
    /// first when there are several targets).
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        if self.targets.len() > 1 {
            out.push_str(&self.side_by_side());
            out.push('\n');
        }
        for target in &self.targets {
            let _ = writeln!(out, "== {}", target.url);
            if let Some(error) = &target.error {
                let _ = writeln!(out, "   not reachable: {error}\n");
                continue;
            }
            for o in &target.outcomes {
                let mark = match o.baseline {
                    Some(BaselineMark::ExpectedFailure) => " (expected by the baseline)",
                    Some(BaselineMark::NowPasses) => {
                        " (listed in the baseline, now passes: remove it)"
                    }
                    None => "",
                };
                let _ = writeln!(
                    out,
                    "{:<8} {:<6} {}{mark}",
                    o.verdict.to_string(),
                    o.level.to_string(),
                    o.id
                );
                if o.verdict != Verdict::Pass {
                    let _ = writeln!(
                        out,
                        "         requirement: {} [{}]",
                        o.requirement, o.section
                    );
                    let _ = writeln!(out, "         expected:    {}", o.expected);
                }
                let _ = writeln!(out, "         actual:      {}", o.actual);
                if let Some(t) = o.timing {
                    let _ = writeln!(
                        out,
                        "         timing:      {} ms (tolerance {} ms)",
                        t.measured_ms, t.tolerance_ms
                    );
                }
            }
            let count = |v: Verdict| target.outcomes.iter().filter(|o| o.verdict == v).count();
            let _ = writeln!(
                out,
                "   {} passed, {} failed, {} skipped, {} informational\n",
                count(Verdict::Pass),
                count(Verdict::Fail),
                count(Verdict::Skipped),
                count(Verdict::Informational)
            );
        }
        out
    }

    /// A table: one row per case, one column per target.
    fn side_by_side(&self) -> String {
        let mut ids: Vec<&str> = Vec::new();
        for target in &self.targets {
            for o in &target.outcomes {
                if !ids.contains(&o.id) {
                    ids.push(o.id);
                }
            }
        }
        let mut out = String::from("| case |");
        for target in &self.targets {
            let _ = write!(out, " {} |", target.url);
        }
        out.push_str("\n|---|");
        out.push_str(&"---|".repeat(self.targets.len()));
        out.push('\n');
        for id in ids {
            let _ = write!(out, "| {id} |");
            for target in &self.targets {
                let cell = match (&target.error, target.outcomes.iter().find(|o| o.id == id)) {
                    (Some(_), _) => "unreachable".to_owned(),
                    (None, Some(o)) => o.verdict.to_string(),
                    (None, None) => "-".to_owned(),
                };
                let _ = write!(out, " {cell} |");
            }
            out.push('\n');
        }
        out
    }

    /// JUnit XML: a `<testsuite>` per target, a `<testcase>` per case, with `<failure>` and
    /// `<skipped>` as CI systems read them. Informational results are passing test cases
    /// with their finding in `<system-out>`.
    pub fn to_junit(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let all: usize = self.targets.iter().map(|t| t.outcomes.len().max(1)).sum();
        let failed: usize = self
            .targets
            .iter()
            .map(|t| t.outcomes.iter().filter(|o| o.fails_run()).count())
            .sum();
        let errors = self.targets.iter().filter(|t| t.error.is_some()).count();
        let _ = writeln!(
            out,
            "<testsuites name=\"sse-conformance\" tests=\"{all}\" failures=\"{failed}\" errors=\"{errors}\">"
        );
        for target in &self.targets {
            let url = xml(&target.url);
            if let Some(error) = &target.error {
                let _ = writeln!(out, "  <testsuite name=\"{url}\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\">");
                let _ = writeln!(out, "    <testcase classname=\"{url}\" name=\"connect\">");
                let _ = writeln!(out, "      <error message=\"{}\"/>", xml(error));
                out.push_str("    </testcase>\n  </testsuite>\n");
                continue;
            }
            let failures = target.outcomes.iter().filter(|o| o.fails_run()).count();
            let skipped = target
                .outcomes
                .iter()
                .filter(|o| o.verdict == Verdict::Skipped)
                .count();
            let time: u64 = target.outcomes.iter().map(|o| o.elapsed_ms).sum();
            let _ = writeln!(
                out,
                "  <testsuite name=\"{url}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{}\">",
                target.outcomes.len(),
                seconds(time)
            );
            for o in &target.outcomes {
                let _ = writeln!(
                    out,
                    "    <testcase classname=\"{url}\" name=\"{}\" time=\"{}\">",
                    o.id,
                    seconds(o.elapsed_ms)
                );
                let detail = xml(&format!(
                    "{} [{}]\nexpected: {}\nactual: {}{}",
                    o.requirement,
                    o.section,
                    o.expected,
                    o.actual,
                    o.timing.map_or(String::new(), |t| format!(
                        "\ntiming: {} ms (tolerance {} ms)",
                        t.measured_ms, t.tolerance_ms
                    ))
                ));
                if o.fails_run() {
                    let _ = writeln!(
                        out,
                        "      <failure message=\"{}\" type=\"{}\">{detail}</failure>",
                        xml(&o.actual),
                        o.level
                    );
                } else if o.verdict == Verdict::Skipped {
                    let _ = writeln!(out, "      <skipped message=\"{}\"/>", xml(&o.actual));
                } else {
                    let _ = writeln!(out, "      <system-out>{} {detail}</system-out>", o.verdict);
                }
                out.push_str("    </testcase>\n");
            }
            out.push_str("  </testsuite>\n");
        }
        out.push_str("</testsuites>\n");
        out
    }

    /// GitHub Actions workflow commands: an `::error` per failure that fails the run, a
    /// `::warning` per baseline entry that now passes, a `::notice` per expected failure.
    pub fn github_annotations(&self) -> String {
        let mut out = String::new();
        for target in &self.targets {
            if let Some(error) = &target.error {
                let _ = writeln!(
                    out,
                    "::error title=sse-conformance unreachable::{}",
                    gh(&format!("{}: {error}", target.url))
                );
            }
            for o in &target.outcomes {
                let text = format!("{}: {} (expected {})", target.url, o.actual, o.expected);
                let message = gh(&text);
                let title = gh_property(&format!("sse-conformance {} [{}]", o.id, o.section));
                if o.fails_run() {
                    let _ = writeln!(out, "::error title={title}::{message}");
                } else if o.baseline == Some(BaselineMark::NowPasses) {
                    let _ = writeln!(
                        out,
                        "::warning title={title}::{}",
                        gh(&format!(
                            "{}: now passes; remove it from the baseline",
                            target.url
                        ))
                    );
                } else if o.baseline == Some(BaselineMark::ExpectedFailure) {
                    let _ = writeln!(
                        out,
                        "::notice title={title}::{}",
                        gh(&format!("expected failure (baseline): {text}"))
                    );
                }
            }
        }
        out
    }

    /// A Markdown job summary (for `$GITHUB_STEP_SUMMARY`).
    pub fn github_summary(&self) -> String {
        let mut out = String::from("## SSE conformance\n\n");
        out.push_str(&self.side_by_side());
        let failures: Vec<_> = self.failures().collect();
        if !failures.is_empty() {
            out.push_str("\n### Failures\n\n");
            for (url, o) in failures {
                let _ = writeln!(
                    out,
                    "- `{}` on {url}: {} (expected {})",
                    o.id, o.actual, o.expected
                );
            }
        }
        out
    }

    /// Marks the results the baseline lists.
    pub fn apply_baseline(&mut self, baseline: &Baseline) {
        for target in &mut self.targets {
            for o in &mut target.outcomes {
                if baseline.lists(&target.url, o.id) {
                    o.baseline = match o.verdict {
                        Verdict::Fail => Some(BaselineMark::ExpectedFailure),
                        Verdict::Pass => Some(BaselineMark::NowPasses),
                        Verdict::Skipped | Verdict::Informational => None,
                    };
                }
            }
        }
    }
}

fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// Escapes text for an XML attribute or element; control characters XML 1.0 can't hold
/// become `\u{..}`.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' => out.push(c),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// Escapes a GitHub workflow command's message (`%`, CR, LF).
fn gh(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a GitHub workflow command's property value (as a message, and `:` and `,`).
fn gh_property(text: &str) -> String {
    gh(text).replace(':', "%3A").replace(',', "%2C")
}

/// Expected failures: one per line, `CASE-ID` (on every target) or `URL CASE-ID`; `#`
/// starts a comment.
///
/// ```
/// let baseline = sse_conformance::Baseline::parse("# known\nresume-query\nhttp://a/events leading-retry\n");
/// assert!(baseline.lists("http://b/events", "resume-query"));
/// assert!(baseline.lists("http://a/events", "leading-retry"));
/// assert!(!baseline.lists("http://b/events", "leading-retry"));
/// assert_eq!(baseline.ids().count(), 2);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Baseline {
    entries: BTreeSet<(Option<String>, String)>,
}

impl Baseline {
    /// Reads a baseline file's text.
    pub fn parse(text: &str) -> Self {
        let entries = text
            .lines()
            .map(|line| line.split('#').next().unwrap_or("").trim())
            .filter(|line| !line.is_empty())
            .map(|line| match line.split_once(char::is_whitespace) {
                Some((url, id)) => (Some(url.to_owned()), id.trim().to_owned()),
                None => (None, line.to_owned()),
            })
            .collect();
        Self { entries }
    }

    /// Whether `id` on `url` is an expected failure.
    pub fn lists(&self, url: &str, id: &str) -> bool {
        self.entries
            .iter()
            .any(|(target, listed)| listed == id && target.as_deref().is_none_or(|t| t == url))
    }

    /// The case ids it names, to check them against the case list.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(_, id)| id.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes_markup_and_control_characters() {
        assert_eq!(
            xml("a<b>&\"'\r\0"),
            "a&lt;b&gt;&amp;&quot;&apos;\\u{d}\\u{0}"
        );
    }

    #[test]
    fn github_commands_escape_line_breaks() {
        assert_eq!(gh("50%\na:b,c"), "50%25%0Aa:b,c");
        assert_eq!(gh_property("a:b,c"), "a%3Ab%2Cc");
    }
}
