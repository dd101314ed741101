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
            ("p99_ms", "p99 (ms)", 2, 1.0),
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

fn bar_chart(
    path: &Path,
    title: &str,
    bars: &[(String, f64)],
) -> Result<(), Box<dyn std::error::Error>> {
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
        if !value.is_finite() {
            continue;
        }
        let x = i as f64;
        let color = if name.starts_with("ours") {
            BLUE.mix(0.8)
        } else {
            RGBColor(150, 150, 150).mix(0.9)
        };
        chart.draw_series(std::iter::once(Rectangle::new(
            [(x + 0.15, 0.0), (x + 0.85, *value)],
            color.filled(),
        )))?;
        let label = if *value >= 1e4 {
            format!("{:.0}k", value / 1e3)
        } else {
            format!("{value:.2}")
        };
        chart.draw_series(std::iter::once(Text::new(
            label,
            (x + 0.25, *value + top * 0.02),
            ("sans-serif", 13),
        )))?;
        chart.draw_series(std::iter::once(Text::new(
            name.clone(),
            (x + 0.12, -top * 0.04),
            ("sans-serif", 13),
        )))?;
    }
    root.present()?;
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
    let charts: [(&str, &str, &str, f64); 7] = [
        (
            "S1",
            "rss_per_conn_bytes",
            "S1 idle: server RSS per stream (bytes)",
            1.0,
        ),
        (
            "S1",
            "heartbeat_cpu_pct",
            "S1 idle: heartbeat CPU (% of a core)",
            1.0,
        ),
        (
            "S2",
            "delivered_per_s",
            "S2 fan-out: delivered events/s",
            1.0,
        ),
        (
            "S2",
            "server_cpu_s_per_m_events",
            "S2 fan-out: server CPU s per M events",
            1.0,
        ),
        ("S2", "p99_ms", "S2 fan-out: p99 latency (ms)", 1.0),
        ("S3", "p99_ms", "S3 wide: p99 latency (ms)", 1.0),
        ("S5", "p99_ms", "S5 moderate load: p99 latency (ms)", 1.0),
    ];
    for (scenario, servers) in &runs {
        let _ = write!(md, "### {scenario}\n\n{}\n", table(scenario, servers));
    }
    md.push_str("### Charts\n\n");
    for (scenario, key, title, scale) in charts {
        let Some(servers) = runs.get(scenario) else {
            continue;
        };
        let bars: Vec<(String, f64)> = ordered(servers)
            .into_iter()
            .map(|s| {
                let v = med(&servers[&s], key) * scale;
                (s, v)
            })
            .collect();
        let file = format!("{}-{}-{}.svg", args.label, scenario, key);
        bar_chart(&args.out.join(&file), title, &bars)?;
        let _ = writeln!(md, "![{title}]({file})\n");
    }
    md.push_str(&aims(&runs));
    let path = args.out.join(format!("summary-{}.md", args.label));
    std::fs::write(&path, md)?;
    println!("wrote {}", path.display());
    Ok(())
}

/// Ours against the aims, per framework.
fn aims(runs: &Runs) -> String {
    let get = |scenario: &str, server: &str, key: &str| {
        runs.get(scenario)
            .and_then(|s| s.get(server))
            .map_or(f64::NAN, |r| med(r, key))
    };
    let best_peer = |scenario: &str, key: &str, higher: bool| {
        let values = ["peer-axum", "peer-actix", "peer-warp"]
            .iter()
            .map(|p| get(scenario, p, key))
            .filter(|v| v.is_finite());
        if higher {
            values.fold(f64::NAN, f64::max)
        } else {
            values.fold(f64::NAN, f64::min)
        }
    };
    let mark = |ok: bool| if ok { "met" } else { "missed" };
    let mut md = String::from("### Aims (ours vs best peer, same run)\n\n| aim | axum | actix | warp |\n|---|---|---|---|\n");
    let frameworks = ["axum", "actix", "warp"];
    let row = |md: &mut String, name: &str, f: &dyn Fn(&str) -> (f64, bool), decimals: usize| {
        let _ = write!(md, "| {name} |");
        for fw in frameworks {
            let (v, ok) = f(fw);
            if v.is_finite() {
                let _ = write!(md, " {} ({}) |", fmt_num(v, decimals), mark(ok));
            } else {
                md.push_str(" – |");
            }
        }
        md.push('\n');
    };
    row(
        &mut md,
        "S1 idle RSS/stream KB: ≤ 11.7 (axum, warp), < peer's (actix)",
        &|fw| {
            let v = get("S1", &format!("ours-{fw}"), "rss_per_conn_bytes") / 1000.0;
            let limit = if fw == "actix" {
                get("S1", "peer-actix", "rss_per_conn_bytes") / 1000.0
            } else {
                11.7
            };
            (v, if fw == "actix" { v < limit } else { v <= limit })
        },
        2,
    );
    row(
        &mut md,
        "S1 heartbeat CPU % of a core ≤ 11.7 (the bare-hyper floor's 10.6 % + 10 %)",
        &|fw| {
            let v = get("S1", &format!("ours-{fw}"), "heartbeat_cpu_pct");
            (v, v <= 11.7)
        },
        1,
    );
    row(
        &mut md,
        "S2 server CPU s / M events ≤ 0.40",
        &|fw| {
            let v = get("S2", &format!("ours-{fw}"), "server_cpu_s_per_m_events");
            (v, v <= 0.40)
        },
        3,
    );
    row(
        &mut md,
        "S2 events/s ≥ 1.5x best peer (ratio shown)",
        &|fw| {
            let v = get("S2", &format!("ours-{fw}"), "delivered_per_s")
                / best_peer("S2", "delivered_per_s", true);
            (v, v >= 1.5)
        },
        2,
    );
    row(
        &mut md,
        "S3 server CPU s / M events ≤ best peer's",
        &|fw| {
            let v = get("S3", &format!("ours-{fw}"), "server_cpu_s_per_m_events");
            (v, v <= best_peer("S3", "server_cpu_s_per_m_events", false))
        },
        3,
    );
    for scenario in ["S2", "S3", "S5"] {
        row(
            &mut md,
            &format!("{scenario} p99 ms ≤ best peer's"),
            &|fw| {
                let v = get(scenario, &format!("ours-{fw}"), "p99_ms");
                (v, v <= best_peer(scenario, "p99_ms", false))
            },
            2,
        );
    }
    row(
        &mut md,
        "S4 all streams held, nothing lost (lost shown)",
        &|fw| {
            let v = get("S4", &format!("ours-{fw}"), "lost");
            (v, v == 0.0)
        },
        0,
    );
    md.push('\n');
    md
}
