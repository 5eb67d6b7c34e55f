//! Figures (median with min–max over runs), the results table, the machine's
//! description and `docs/BENCHMARKS.md`.

use std::fmt::Write as _;
use std::path::Path;

use crate::bots::{command_output, kib_field};

/// One measure over several runs.
#[derive(Debug, Clone, Default)]
pub struct Figure {
    /// One value per run, in run order.
    pub values: Vec<f64>,
}

impl Figure {
    /// A figure from per-run values.
    pub fn new(values: Vec<f64>) -> Self {
        Self { values }
    }

    /// The median (the mean of the middle two for an even count).
    pub fn median(&self) -> Option<f64> {
        let mut sorted = self.values.clone();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        match n {
            0 => None,
            _ if n % 2 == 1 => Some(sorted[n / 2]),
            _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
        }
    }

    fn min(&self) -> Option<f64> {
        self.values.iter().copied().reduce(f64::min)
    }

    fn max(&self) -> Option<f64> {
        self.values.iter().copied().reduce(f64::max)
    }

    /// `1.23 (1.10–1.40)` with `decimals` places; `—` when empty.
    pub fn show(&self, decimals: usize) -> String {
        let (Some(median), Some(min), Some(max)) = (self.median(), self.min(), self.max()) else {
            return "—".into();
        };
        if self.values.len() == 1 {
            return format!("{median:.decimals$}");
        }
        format!("{median:.decimals$} ({min:.decimals$}–{max:.decimals$})")
    }

    /// Run-by-run values for the appendix.
    pub fn runs(&self, decimals: usize) -> String {
        self.values
            .iter()
            .map(|v| format!("{v:.decimals$}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Whether a target was met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The median meets the target.
    Met,
    /// The median misses it.
    Missed,
    /// No target for this row, or nothing to judge.
    None,
}

impl Verdict {
    /// `median <= limit` → met.
    pub fn at_most(figure: &Figure, limit: f64) -> Self {
        match figure.median() {
            Some(v) if v <= limit => Self::Met,
            Some(_) => Self::Missed,
            None => Self::None,
        }
    }

    /// `median >= limit` → met.
    pub fn at_least(figure: &Figure, limit: f64) -> Self {
        match figure.median() {
            Some(v) if v >= limit => Self::Met,
            Some(_) => Self::Missed,
            None => Self::None,
        }
    }

    fn show(self) -> &'static str {
        match self {
            Self::Met => "met",
            Self::Missed => "**missed**",
            Self::None => "",
        }
    }
}

/// One row of the results table.
#[derive(Debug, Clone)]
pub struct Row {
    /// The scenario (`under limits`, `lifted`, …).
    pub scenario: String,
    /// What is measured, with its unit.
    pub measure: String,
    /// studybot, peer, floor (already formatted).
    pub cells: [String; 3],
    /// The target from issue 6, or empty.
    pub target: String,
    /// Met or missed.
    pub verdict: Verdict,
}

impl Row {
    /// A row with cells for the three bots.
    pub fn new(scenario: &str, measure: &str, cells: [String; 3]) -> Self {
        Self {
            scenario: scenario.into(),
            measure: measure.into(),
            cells,
            target: String::new(),
            verdict: Verdict::None,
        }
    }

    /// Adds the target and the verdict.
    pub fn target(mut self, target: &str, verdict: Verdict) -> Self {
        self.target = target.into();
        self.verdict = verdict;
        self
    }

    /// The row's cells in [`HEADERS`] order.
    fn columns(&self) -> [&str; 7] {
        [
            &self.scenario,
            &self.measure,
            &self.cells[0],
            &self.cells[1],
            &self.cells[2],
            &self.target,
            self.verdict.show(),
        ]
    }
}

/// Everything a run produced, for the table and the file.
#[derive(Default)]
pub struct Report {
    /// What the fake Bot API showed of its own capacity.
    pub fake: Vec<String>,
    /// The table rows, in order.
    pub rows: Vec<Row>,
    /// Notes printed under the table (method, skipped parts).
    pub notes: Vec<String>,
    /// Raw per-run values (`measure: v1, v2, v3`).
    pub raw: Vec<String>,
}

const HEADERS: [&str; 7] = [
    "scenario",
    "measure",
    "studybot",
    "peer (aiogram)",
    "floor (teloxide)",
    "target (issue 6)",
    "met?",
];

impl Report {
    /// The table as Markdown.
    pub fn markdown_table(&self) -> String {
        let mut out = format!("| {} |\n", HEADERS.join(" | "));
        out.push_str(&format!("|{}\n", " --- |".repeat(HEADERS.len())));
        for row in &self.rows {
            out.push_str(&format!("| {} |\n", row.columns().join(" | ")));
        }
        out
    }

    /// The table as aligned plain text, for the terminal.
    pub fn text_table(&self) -> String {
        let rows: Vec<[String; 7]> = self
            .rows
            .iter()
            // The terminal shows a missed verdict without its Markdown emphasis.
            .map(|row| row.columns().map(|cell| cell.replace('*', "")))
            .collect();
        let width = |i: usize| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([HEADERS[i].chars().count()])
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..7).map(width).collect();
        let line = |cells: Vec<&str>| {
            let mut out = String::new();
            for (cell, w) in cells.iter().zip(&widths) {
                let pad = w - cell.chars().count();
                let _ = write!(out, "{cell}{}  ", " ".repeat(pad));
            }
            out.trim_end().to_string()
        };
        let mut out = line(HEADERS.to_vec()) + "\n";
        out += &line(
            widths
                .iter()
                .map(|w| "-".repeat(*w))
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str)
                .collect(),
        );
        out.push('\n');
        for row in &rows {
            out += &line(row.iter().map(String::as_str).collect());
            out.push('\n');
        }
        out
    }
}

/// The machine and software the numbers were taken on.
pub struct Machine {
    /// Lines of `- key: value`.
    pub lines: Vec<(String, String)>,
}

impl Machine {
    /// Reads `/proc` and asks the tools for their versions.
    pub fn describe() -> Self {
        let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
        let cpuinfo = read("/proc/cpuinfo");
        let model = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
            .unwrap_or_else(|| "unknown".into());
        let meminfo = read("/proc/meminfo");
        let memory = kib_field(&meminfo, "MemTotal:").map_or("unknown".into(), |kib| {
            format!("{:.1} GiB", kib as f64 / 1024.0 / 1024.0)
        });
        let cores = command_output("nproc", &[]).unwrap_or_else(|| "unknown".into());
        let lines = vec![
            ("CPU".to_string(), model),
            ("cores (nproc)".into(), cores),
            ("memory (MemTotal)".into(), memory),
            (
                "kernel".into(),
                read("/proc/sys/kernel/osrelease").trim().to_string(),
            ),
            (
                "load average at start (1/5/15 min)".into(),
                read("/proc/loadavg")
                    .split_whitespace()
                    .take(3)
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            (
                "Rust".into(),
                command_output("rustc", &["--version"]).unwrap_or_default(),
            ),
        ];
        Self { lines }
    }
}

/// Writes the report as Markdown to `path`.
pub fn write_markdown(
    path: &Path,
    command: &str,
    date: &str,
    machine: &Machine,
    report: &Report,
    method: &str,
) -> std::io::Result<()> {
    let mut out = String::new();
    out.push_str("# Benchmarks\n\n");
    out.push_str(
        "Generated by the benchmark command; do not edit by hand (see `benches/README.md`).\n\n",
    );
    let _ = writeln!(out, "- date: {date}");
    let _ = writeln!(out, "- command: `{command}`");
    for (key, value) in &machine.lines {
        let _ = writeln!(out, "- {key}: {value}");
    }
    out.push_str("\nEach cell is the median of the runs with the minimum–maximum in brackets; ");
    out.push_str("ratios are taken run by run (the three bots run one after another in each run) and then summarised the same way. ");
    out.push_str("The verdict compares the median with the target.\n\n");
    if !report.fake.is_empty() {
        out.push_str("**The fake Bot API** (`cargo bench --bench bench -- fake`):\n\n");
        for line in &report.fake {
            let _ = writeln!(out, "- {line}");
        }
        out.push('\n');
    }
    out.push_str(&report.markdown_table());
    if !report.notes.is_empty() {
        out.push_str("\n## Notes\n\n");
        for note in &report.notes {
            let _ = writeln!(out, "- {note}");
        }
    }
    out.push_str("\n## How each figure is measured\n\n");
    out.push_str(method);
    out.push_str("\n## Raw values, run by run\n\n");
    for line in &report.raw {
        let _ = writeln!(out, "- {line}");
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, out)
}
