//! `bench_report`: turns the JSON lines of `bench_loadgen` into markdown tables (medians over
//! rounds) and SVG bar charts, for `scripts/bench`.
//!
//! ```text
//! bench_report --input examples/bench/results/unpinned.jsonl --out examples/bench/results --label unpinned
//! ```
//!
//! Writes `<out>/summary-<label>.md` and `<out>/<label>-<chart>.svg`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::Parser;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use serde_json::Value;

#[derive(Debug, Parser)]
struct Args {
    /// JSON lines from bench_loadgen.
    #[arg(long)]
    input: PathBuf,
    /// Directory for the tables and charts.
    #[arg(long, default_value = "examples/bench/results")]
    out: PathBuf,
    /// Name of this set of runs (e.g. `unpinned`, `pinned`).
    #[arg(long, default_value = "unpinned")]
    label: String,
}

/// The servers in the order the tables show them.
const SERVERS: [&str; 6] = [
    "peer-axum",
    "ours-axum",
    "peer-actix",
    "ours-actix",
    "peer-warp",
    "ours-warp",
];

fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// Runs grouped by scenario, then server.
type Runs = BTreeMap<String, BTreeMap<String, Vec<Value>>>;

fn load(path: &Path) -> std::io::Result<Runs> {
    let text = std::fs::read_to_string(path)?;
    let mut runs = Runs::new();
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let (Some(scenario), Some(server)) = (v["scenario"].as_str(), v["server"].as_str()) else {
            continue;
        };
        runs.entry(scenario.to_owned())
            .or_default()
            .entry(server.to_owned())
            .or_default()
            .push(v.clone());
    }
    Ok(runs)
}

fn med(runs: &[Value], key: &str) -> f64 {
    median(runs.iter().filter_map(|v| v[key].as_f64()).collect())
}

fn fmt_num(v: f64, decimals: usize) -> String {
    if v.is_nan() {
        "–".to_owned()
    } else {
        format!("{v:.decimals$}")
    }
}

/// Columns per kind of scenario: (json key, header, decimals, scale).
fn columns(scenario: &str) -> Vec<(&'static str, &'static str, usize, f64)> {
    if scenario.starts_with("S1") || scenario.starts_with("S4") {
        vec![
            ("connections", "streams", 0, 1.0),
            ("rss_per_conn_bytes", "RSS/stream (KB)", 2, 1e-3),
            (
                "kernel_slab_per_socket_bytes",
                "kernel slab/socket (KB)",
                2,
                1e-3,
            ),
            (
                "kernel_tcp_per_conn_bytes",
                "kernel TCP buffers/stream (KB)",
                2,
                1e-3,
            ),
            ("heartbeat_cpu_pct", "heartbeat CPU (% of a core)", 1, 1.0),
            ("connect_s", "connect (s)", 1, 1.0),
            ("lost", "lost streams", 0, 1.0),
        ]
    } else {
        vec![
            ("connections", "subscribers", 0, 1.0),
            ("delivered_per_s", "events/s", 0, 1.0),
            (
                "server_cpu_s_per_m_events",
                "server CPU s / M events",
                3,
                1.0,
            ),
            ("p50_ms", "p50 (ms)", 2, 1.0),
            ("p90_ms", "p90 (ms)", 2, 1.0),
            ("p99_ms", "p99 (ms)", 2, 1.0),
            ("p999_ms", "p99.9 (ms)", 2, 1.0),
            ("max_ms", "max (ms)", 2, 1.0),
            ("rss_per_conn_bytes", "RSS/stream (KB)", 1, 1e-3),
            ("server_cpu_s", "server CPU (s)", 2, 1.0),
            ("loadgen_cpu_s", "loadgen CPU (s)", 2, 1.0),
            ("duration_s", "wall (s)", 1, 1.0),
            ("lost", "lost events", 0, 1.0),
        ]
    }
}

fn table(scenario: &str, servers: &BTreeMap<String, Vec<Value>>) -> String {
    let cols = columns(scenario);
    let mut md = String::new();
    let _ = write!(md, "| server | rounds |");
    for (_, header, _, _) in &cols {
        let _ = write!(md, " {header} |");
    }
    let _ = write!(md, "\n|---|---|");
    for _ in &cols {
        md.push_str("---|");
    }
    md.push('\n');
    for server in ordered(servers) {
        let runs = &servers[&server];
        let _ = write!(md, "| {server} | {} |", runs.len());
        for (key, _, decimals, scale) in &cols {
            let _ = write!(md, " {} |", fmt_num(med(runs, key) * scale, *decimals));
        }
        md.push('\n');
    }
    md
}

fn ordered(servers: &BTreeMap<String, Vec<Value>>) -> Vec<String> {
    let mut names: Vec<String> = SERVERS
        .iter()
        .filter(|s| servers.contains_key(**s))
        .map(|s| (*s).to_owned())
        .collect();
    names.extend(
        servers
            .keys()
            .filter(|k| !SERVERS.contains(&k.as_str()))
            .cloned(),
    );
    names
}

/// One chart: its scenario, the JSON key it plots, and its title.
struct Chart {
    scenario: &'static str,
    key: &'static str,
    title: &'static str,
}

/// The charts of a summary, each drawn when its scenario ran.
const CHARTS: [Chart; 8] = [
    Chart {
        scenario: "S1",
        key: "rss_per_conn_bytes",
        title: "S1 idle: server RSS per stream (bytes)",
    },
    Chart {
        scenario: "S1",
        key: "heartbeat_cpu_pct",
        title: "S1 idle: heartbeat CPU (% of a core)",
    },
    Chart {
        scenario: "S2",
        key: "delivered_per_s",
        title: "S2 fan-out: delivered events/s",
    },
    Chart {
        scenario: "S2",
        key: "server_cpu_s_per_m_events",
        title: "S2 fan-out: server CPU s per M events",
    },
    Chart {
        scenario: "S2",
        key: "p99_ms",
        title: "S2 fan-out: p99 latency (ms)",
    },
    Chart {
        scenario: "S3",
        key: "p99_ms",
        title: "S3 wide: p99 latency (ms)",
    },
    Chart {
        scenario: "S5",
        key: "p99_ms",
        title: "S5 moderate load: p99 latency (ms)",
    },
    Chart {
        scenario: "S6",
        key: "p99_ms",
        title: "S6 wide, below saturation: p99 latency (ms)",
    },
];

type ChartResult = Result<(), Box<dyn std::error::Error>>;

/// The latency percentiles the percentile charts and tables show, with their JSON keys.
const PERCENTILES: [(&str, &str); 5] = [
    ("p50", "p50_ms"),
    ("p90", "p90_ms"),
    ("p99", "p99_ms"),
    ("p99.9", "p999_ms"),
    ("max", "max_ms"),
];

/// One chart per flow scenario: each server's latency at p50 .. max (medians over rounds),
/// one line per server on a log scale.
fn percentile_charts(runs: &Runs, out: &Path, label: &str, md: &mut String) -> ChartResult {
    for (scenario, servers) in runs {
        let lines: Vec<(String, Vec<f64>)> = ordered(servers)
            .into_iter()
            .map(|server| {
                let values = PERCENTILES
                    .iter()
                    .map(|(_, key)| med(&servers[&server], key))
                    .collect();
                (server, values)
            })
            .filter(|(_, values): &(String, Vec<f64>)| values.iter().all(|v| *v > 0.0))
            .collect();
        if lines.is_empty() {
            continue;
        }
        let file = format!("{label}-{scenario}-latency.svg");
        let title = format!("{scenario}: latency percentiles (ms, log scale)");
        line_chart(&out.join(&file), &title, &lines)?;
        let _ = writeln!(md, "![{title}]({file})\n");
    }
    Ok(())
}

fn line_chart(path: &Path, title: &str, lines: &[(String, Vec<f64>)]) -> ChartResult {
    let root = SVGBackend::new(path, (760, 440)).into_drawing_area();
    root.fill(&WHITE)?;
    let values = lines.iter().flat_map(|(_, v)| v.iter().copied());
    let (low, high) = values.fold((f64::MAX, 0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(60)
        .build_cartesian_2d(
            0f64..(PERCENTILES.len() - 1) as f64 + 0.3,
            (low * 0.8..high * 1.25).log_scale(),
        )?;
    chart
        .configure_mesh()
        .x_labels(PERCENTILES.len())
        .x_label_formatter(&|x| {
            PERCENTILES
                .get(x.round() as usize)
                .map_or(String::new(), |(name, _)| (*name).to_owned())
        })
        .y_label_formatter(&|v| format!("{v:.1}"))
        .draw()?;
    for (i, (name, values)) in lines.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let style = if name.starts_with("ours") {
            color.stroke_width(3)
        } else {
            color.stroke_width(1)
        };
        chart
            .draw_series(LineSeries::new(
                values.iter().enumerate().map(|(x, v)| (x as f64, *v)),
                style,
            ))?
            .label(name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

/// The medians of the servers' runtime counters, if they reported them: the per-worker
/// counters of every runtime side by side (actix-web runs one runtime per worker).
fn runtime_table(servers: &BTreeMap<String, Vec<Value>>) -> Option<String> {
    let names = ordered(servers);
    if !names
        .iter()
        .any(|n| servers[n].iter().any(|r| r["runtime"].is_object()))
    {
        return None;
    }
    let mut md = String::from(
        "| server | busy ms per worker | stolen per worker | overflows per worker | \
         remote wakes | forced yields | max inject depth | max local depth | \
         publish call p50 / p99 / max (µs) |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for name in names {
        let runs: Vec<&Value> = servers[&name]
            .iter()
            .filter(|r| r["runtime"].is_object())
            .collect();
        if runs.is_empty() {
            continue;
        }
        let per_worker = |key: &str| {
            let columns: Vec<Vec<f64>> = runs.iter().map(|r| worker_values(r, key)).collect();
            let workers = columns.iter().map(Vec::len).max().unwrap_or(0);
            if workers == 0 {
                return "–".to_owned();
            }
            (0..workers)
                .map(|w| {
                    let column = columns.iter().filter_map(|c| c.get(w).copied()).collect();
                    fmt_num(median(column), 0)
                })
                .collect::<Vec<_>>()
                .join(" / ")
        };
        let summed = |key: &str| {
            let values: Vec<f64> = runs
                .iter()
                .filter_map(|r| {
                    let runtimes = r["runtime"]["runtimes"].as_array()?;
                    let present: Vec<f64> =
                        runtimes.iter().filter_map(|rt| rt[key].as_f64()).collect();
                    (!present.is_empty()).then(|| present.iter().sum())
                })
                .collect();
            fmt_num(median(values), 0)
        };
        let top = |key: &str, decimals: usize| {
            let values = runs
                .iter()
                .filter_map(|r| r["runtime"][key].as_f64())
                .collect();
            fmt_num(median(values), decimals)
        };
        let _ = writeln!(
            md,
            "| {name} | {} | {} | {} | {} | {} | {} | {} | {} / {} / {} |",
            per_worker("busy_ms"),
            per_worker("steals"),
            per_worker("overflows"),
            summed("remote_schedules"),
            summed("forced_yields"),
            top("inject_depth_max", 0),
            top("local_depth_max", 0),
            top("publish_p50_us", 1),
            top("publish_p99_us", 1),
            top("publish_max_us", 1),
        );
    }
    Some(md)
}

/// A per-worker counter of one run, the workers of every runtime in order.
fn worker_values(run: &Value, key: &str) -> Vec<f64> {
    run["runtime"]["runtimes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|rt| rt[key].as_array())
        .flatten()
        .filter_map(Value::as_f64)
        .collect()
}

/// Draws the charts of [`CHARTS`] into `out` and links them from `md`.
fn charts(runs: &Runs, out: &Path, label: &str, md: &mut String) -> ChartResult {
    md.push_str("### Charts\n\n");
    for Chart {
        scenario,
        key,
        title,
    } in CHARTS
    {
        let Some(servers) = runs.get(scenario) else {
            continue;
        };
        let bars: Vec<(String, f64)> = ordered(servers)
            .into_iter()
            .map(|s| {
                let v = med(&servers[&s], key);
                (s, v)
            })
            .collect();
        let file = format!("{label}-{scenario}-{key}.svg");
        bar_chart(&out.join(&file), title, &bars)?;
        let _ = writeln!(md, "![{title}]({file})\n");
    }
    Ok(())
}

fn bar_chart(path: &Path, title: &str, bars: &[(String, f64)]) -> ChartResult {
    let root = SVGBackend::new(path, (760, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let top = bars
        .iter()
        .map(|(_, v)| *v)
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let top = if top > 0.0 { top * 1.15 } else { 1.0 };
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..bars.len() as f64, 0f64..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_label_formatter(&|v| {
            if *v >= 1e6 {
                format!("{:.1}M", v / 1e6)
            } else if *v >= 1e3 {
                format!("{:.0}k", v / 1e3)
            } else {
                format!("{v:.2}")
            }
        })
        .draw()?;
    for (i, (name, value)) in bars.iter().enumerate() {
        if value.is_finite() {
            bar(&mut chart, i as f64, name, *value, top)?;
        }
    }
    root.present()?;
    Ok(())
}

/// One bar at `x`, ours in blue and the peers in grey, with its value above it and the
/// server's name below.
fn bar<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    x: f64,
    name: &str,
    value: f64,
    top: f64,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let color = if name.starts_with("ours") {
        BLUE.mix(0.8)
    } else {
        RGBColor(150, 150, 150).mix(0.9)
    };
    chart.draw_series(std::iter::once(Rectangle::new(
        [(x + 0.15, 0.0), (x + 0.85, value)],
        color.filled(),
    )))?;
    let label = if value >= 1e4 {
        format!("{:.0}k", value / 1e3)
    } else {
        format!("{value:.2}")
    };
    chart.draw_series(std::iter::once(Text::new(
        label,
        (x + 0.25, value + top * 0.02),
        ("sans-serif", 13),
    )))?;
    chart.draw_series(std::iter::once(Text::new(
        name.to_owned(),
        (x + 0.12, -top * 0.04),
        ("sans-serif", 13),
    )))?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let runs = load(&args.input)?;
    std::fs::create_dir_all(&args.out)?;
    let mut md = format!(
        "## Results: {}\n\nMedians over rounds; source `{}`.\n\n",
        args.label,
        args.input.display()
    );
    for (scenario, servers) in &runs {
        let _ = write!(md, "### {scenario}\n\n{}\n", table(scenario, servers));
        if let Some(runtime) = runtime_table(servers) {
            let _ = write!(
                md,
                "Runtime counters over the measured phase ({scenario}, medians; per worker: \
                 busy ms, tasks stolen, local-queue overflows into the inject queue):\n\n{runtime}\n"
            );
        }
    }
    charts(&runs, &args.out, &args.label, &mut md)?;
    percentile_charts(&runs, &args.out, &args.label, &mut md)?;
    md.push_str(&aims(&Medians(&runs)));
    let path = args.out.join(format!("summary-{}.md", args.label));
    std::fs::write(&path, md)?;
    println!("wrote {}", path.display());
    Ok(())
}

/// The medians of one set of runs, as the aims read them.
struct Medians<'a>(&'a Runs);

impl Medians<'_> {
    /// The median of `key` for `server` in `scenario`; NaN if it did not run.
    fn get(&self, scenario: &str, server: &str, key: &str) -> f64 {
        self.0
            .get(scenario)
            .and_then(|s| s.get(server))
            .map_or(f64::NAN, |r| med(r, key))
    }

    /// Ours on framework `fw`.
    fn ours(&self, scenario: &str, fw: &str, key: &str) -> f64 {
        self.get(scenario, &format!("ours-{fw}"), key)
    }

    /// The best peer's median: the highest if `higher`, else the lowest.
    fn best_peer(&self, scenario: &str, key: &str, higher: bool) -> f64 {
        let values = ["peer-axum", "peer-actix", "peer-warp"]
            .iter()
            .map(|p| self.get(scenario, p, key))
            .filter(|v| v.is_finite());
        if higher {
            values.fold(f64::NAN, f64::max)
        } else {
            values.fold(f64::NAN, f64::min)
        }
    }
}

/// An aim's check: for ours on a framework, the value shown and whether the aim is met.
type Check = Box<dyn Fn(&Medians<'_>, &str) -> (f64, bool)>;

/// One aim: a row of the aims table.
struct Aim {
    name: String,
    decimals: usize,
    check: Check,
}

impl Aim {
    fn new(
        name: impl Into<String>,
        decimals: usize,
        check: impl Fn(&Medians<'_>, &str) -> (f64, bool) + 'static,
    ) -> Self {
        Self {
            name: name.into(),
            decimals,
            check: Box::new(check),
        }
    }
}

/// Ours against the aims, per framework.
fn aims(medians: &Medians<'_>) -> String {
    let mut md = String::from("### Aims (ours vs best peer, same run)\n\n| aim | axum | actix | warp |\n|---|---|---|---|\n");
    for aim in resource_aims().into_iter().chain(load_aims()) {
        let _ = write!(md, "| {} |", aim.name);
        for fw in ["axum", "actix", "warp"] {
            let (v, ok) = (aim.check)(medians, fw);
            if v.is_finite() {
                let mark = if ok { "met" } else { "missed" };
                let _ = write!(md, " {} ({mark}) |", fmt_num(v, aim.decimals));
            } else {
                md.push_str(" – |");
            }
        }
        md.push('\n');
    }
    md.push('\n');
    md
}

/// The memory, heartbeat and fan-out CPU aims.
fn resource_aims() -> Vec<Aim> {
    vec![
        Aim::new(
            "S1 idle RSS/stream KB: ≤ 11.7 (axum, warp), < peer's (actix)",
            2,
            |m, fw| {
                let v = m.ours("S1", fw, "rss_per_conn_bytes") / 1000.0;
                if fw == "actix" {
                    (
                        v,
                        v < m.get("S1", "peer-actix", "rss_per_conn_bytes") / 1000.0,
                    )
                } else {
                    (v, v <= 11.7)
                }
            },
        ),
        Aim::new(
            "S1 heartbeat CPU % of a core ≤ 11.7 (the bare-hyper floor's 10.6 % + 10 %)",
            1,
            |m, fw| {
                let v = m.ours("S1", fw, "heartbeat_cpu_pct");
                (v, v <= 11.7)
            },
        ),
        Aim::new(
            "S2 server CPU s / M events ≤ 0.37 (~1.05x bare hyper's)",
            3,
            |m, fw| {
                let v = m.ours("S2", fw, "server_cpu_s_per_m_events");
                (v, v <= 0.37)
            },
        ),
    ]
}

/// The throughput, wide fan-out CPU, latency and scale aims.
fn load_aims() -> Vec<Aim> {
    let mut aims = vec![Aim::new(
        "S2 events/s ≥ 1.5x best peer (ratio shown)",
        2,
        |m, fw| {
            let v =
                m.ours("S2", fw, "delivered_per_s") / m.best_peer("S2", "delivered_per_s", true);
            (v, v >= 1.5)
        },
    )];
    aims.push(Aim::new(
        "S3 server CPU s / M events ≤ best peer's",
        3,
        |m, fw| {
            let v = m.ours("S3", fw, "server_cpu_s_per_m_events");
            (
                v,
                v <= m.best_peer("S3", "server_cpu_s_per_m_events", false),
            )
        },
    ));
    for scenario in ["S2", "S3", "S5", "S6"] {
        aims.push(Aim::new(
            format!("{scenario} p99 ms ≤ best peer's"),
            2,
            move |m, fw| {
                let v = m.ours(scenario, fw, "p99_ms");
                (v, v <= m.best_peer(scenario, "p99_ms", false))
            },
        ));
    }
    aims.push(Aim::new(
        "S4 all streams held, nothing lost (lost shown)",
        0,
        |m, fw| {
            let v = m.ours("S4", fw, "lost");
            (v, v == 0.0)
        },
    ));
    aims
}
