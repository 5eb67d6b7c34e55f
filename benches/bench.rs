//! studybot's benchmarks: one command that builds and runs everything, prints a table
//! and writes `docs/BENCHMARKS.md`.
//!
//! ```sh
//! cargo bench --bench bench -- all          # everything (about 10 minutes)
//! cargo bench --bench bench -- all --quick  # one short run of everything
//! cargo bench --bench bench -- fake         # the fake Bot API's own capacity
//! cargo bench --bench bench -- lookups      # replies under the limits and lifted
//! cargo bench --bench bench -- footprint    # start-up time and memory
//! cargo bench --bench bench -- broadcast    # 1,000 groups due at once, at Telegram's real limits
//! cargo bench --bench bench -- tick         # one scheduler pass over 1,000,000 chats
//! cargo bench --bench bench -- library      # importing a long report; memory with 20 texts
//! cargo bench --bench bench -- record       # a ✅ press under load; a year's export
//! cargo bench --bench bench -- review       # the due list, an answer, memory per card
//! cargo bench --bench bench -- durability   # /subscribe and ✅ with fdatasync after each flush
//! cargo bench --bench bench -- backup       # export and import-state of a year of 3,000 members
//! ```
//!
//! Modules:
//! - `fake_api`: a fast in-process fake of the Telegram Bot API that times every update
//!   from the moment it is handed out to the moment its reply arrives;
//! - `bots`: the three bots under test (studybot, the aiogram peer, the teloxide floor),
//!   each a separate process, with their CPU time and memory read from `/proc`;
//! - `scenarios`: what load each measurement applies;
//! - `scheduling`: the scheduler tick, the broadcast (against the tests' fake Bot API,
//!   which enforces Telegram's limits) and the footprint with many subscriptions;
//! - `features`: the figures of issues 13–15 (library, record, review), each beside a
//!   peer measured in the same run;
//! - `backup`: `export` and `import-state` of a large store (issue 19), beside copying
//!   its files;
//! - `report`: medians with min–max, the table and the Markdown file.
//!
//! See `benches/README.md` for what each figure means.

// The crate root's modules live beside it in `benches/bench/`.
#[path = "bench/backup.rs"]
mod backup;
#[path = "bench/bots.rs"]
mod bots;
#[path = "bench/fake_api.rs"]
mod fake_api;
#[path = "bench/features.rs"]
mod features;
#[path = "bench/report.rs"]
mod report;
#[path = "bench/scenarios.rs"]
mod scenarios;
#[path = "bench/scheduling.rs"]
mod scheduling;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bots::{BotKind, Programs};
use report::{Figure, Machine, Report, Row, Verdict};
use scenarios::{Capacity, FAKE_THREADS, Lifted, Plan, UnderLimits};

const USAGE: &str =
    "usage: cargo bench --bench bench -- <all|fake|lookups|footprint|broadcast|tick|library|record|record-csv|backup|review|webapp|durability> [--quick] [--runs N]

  all        everything below; writes docs/BENCHMARKS.md (a --quick run writes
             target/bench/BENCHMARKS-quick.md instead)
  fake       the fake Bot API's own capacity
  lookups    replies under Telegram's limits (open loop) and with the limiter lifted
             (closed loop), for studybot, the aiogram peer and the teloxide floor
  footprint  start to first getUpdates, idle memory, memory after a load
  broadcast  1,000 groups due at once through `studybot tick`, the fake enforcing
             Telegram's real limits in strict sliding windows (30 messages/s overall,
             20/min per group) with up to 30 ms of network jitter
  tick       one scheduler decision pass over 1,000,000 chats with 1,000 due,
             beside 10,000 chats with 1,000 due; idle RSS with 100,000 chats
  library    importing a generated 60,000-character report (parse, debris, structure,
             store, quiz bank); idle RSS with 20 imported texts and 100,000 chats
  record     a ✅ check-in press at 25 updates/s through `studybot run`; the export of
             1,000 members × 365 days through `studybot record` (time, extra memory)
  record-csv `studybot record --out FILE.csv` of 3,000 members × 365 days (time, extra
             memory, beside the store's size on disk and a plain CSV grid)
  backup     `studybot export` and `import-state` of 3,000 members × 365 days of
             check-ins (time, extra memory), beside copying the database's files
  review     the due list of one user with 5,000 cards; a recorded review answer (p99);
             idle RSS with 100,000 users × 20 cards
  webapp     the Mini App: page weight, the dashboard's data for 1,000 members × 365
             days, the API at 100 requests/s on loopback through `studybot run`

  durability /subscribe and ✅ presses at 25 updates/s through `studybot run`, each
             flushed and fdatasynced before its reply; plain sled with and without fdatasync
  --quick    one short run of each scenario (a smoke test, not for the record)
  --runs N   repetitions of each scenario (default 3; 1 with --quick)";

/// What to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Subcommand {
    All,
    Fake,
    Lookups,
    Footprint,
    Broadcast,
    Tick,
    Library,
    Record,
    RecordCsv,
    Review,
    WebApp,
    Durability,
    Backup,
}

struct Args {
    subcommand: Subcommand,
    quick: bool,
    runs: Option<usize>,
    line: String,
}

/// Parses the arguments; `Err` carries what to print and the exit code.
fn parse_args() -> Result<Args, (String, ExitCode)> {
    let mut subcommand = None;
    let mut quick = false;
    let mut runs = None;
    let mut shown = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            // `cargo bench` adds `--bench` to every benchmark binary's arguments.
            "--bench" => continue,
            "--quick" => quick = true,
            "--runs" => {
                let n = args.next().and_then(|n| n.parse().ok()).filter(|n| *n > 0);
                let n = n.ok_or((
                    format!("--runs needs a positive number\n{USAGE}"),
                    ExitCode::FAILURE,
                ))?;
                runs = Some(n);
                shown.push(format!("--runs {n}"));
                continue;
            }
            "all" => subcommand = Some(Subcommand::All),
            "fake" => subcommand = Some(Subcommand::Fake),
            "lookups" => subcommand = Some(Subcommand::Lookups),
            "footprint" => subcommand = Some(Subcommand::Footprint),
            "broadcast" => subcommand = Some(Subcommand::Broadcast),
            "tick" => subcommand = Some(Subcommand::Tick),
            "library" => subcommand = Some(Subcommand::Library),
            "record" => subcommand = Some(Subcommand::Record),
            "record-csv" => subcommand = Some(Subcommand::RecordCsv),
            "review" => subcommand = Some(Subcommand::Review),
            "webapp" => subcommand = Some(Subcommand::WebApp),
            "durability" => subcommand = Some(Subcommand::Durability),
            "backup" => subcommand = Some(Subcommand::Backup),
            "-h" | "--help" | "help" => return Err((USAGE.into(), ExitCode::SUCCESS)),
            other => {
                return Err((
                    format!("unknown argument {other}\n{USAGE}"),
                    ExitCode::FAILURE,
                ));
            }
        }
        shown.push(arg);
    }
    // Plain `cargo bench` runs every benchmark target with no arguments: explain, pass.
    let subcommand = subcommand.ok_or((USAGE.to_string(), ExitCode::SUCCESS))?;
    Ok(Args {
        subcommand,
        quick,
        runs,
        line: format!("cargo bench --bench bench -- {}", shown.join(" ")),
    })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err((text, code)) => {
            println!("{text}");
            return code;
        }
    };
    // The fake Bot API and the load run on these threads; their CPU time is read by name.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(FAKE_THREADS)
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bench: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The repository root.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The target directory this benchmark was built in (`<target>/release/deps/bench-…`).
fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        let dir = PathBuf::from(dir);
        return if dir.is_absolute() {
            dir
        } else {
            root().join(dir)
        };
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.to_path_buf()))
        .unwrap_or_else(|| root().join("target"))
}

/// Per bot (in [`BotKind::ALL`] order), one entry per run: `None` where the run failed.
type PerBot<T> = [Vec<Option<T>>; 3];

fn slot(kind: BotKind) -> usize {
    match kind {
        BotKind::Studybot => 0,
        BotKind::Peer => 1,
        BotKind::Floor => 2,
    }
}

#[derive(Default)]
struct Results {
    capacity: Vec<Capacity>,
    under: PerBot<UnderLimits>,
    lifted: PerBot<Lifted>,
    errors: Vec<String>,
}

async fn run(args: Args) -> Result<(), String> {
    let plan = Plan::new(args.quick, args.runs);
    let root = root();
    let target = target_dir();
    let started = std::time::Instant::now();
    let date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string();
    // Read before the load starts: the load average says how busy the shared machine was.
    let machine_before = Machine::describe();
    let needs_bots = args.subcommand != Subcommand::Fake;
    let needs_peer = !matches!(
        args.subcommand,
        Subcommand::Broadcast
            | Subcommand::Tick
            | Subcommand::Library
            | Subcommand::Record
            | Subcommand::RecordCsv
            | Subcommand::Review
            | Subcommand::WebApp
            | Subcommand::Durability
            | Subcommand::Backup
    );
    let programs = if needs_bots {
        Some(Programs::build(&root, &target, needs_peer)?)
    } else {
        None
    };
    let mut results = Results::default();
    let closed_loop = closed_loop_of(&args, &plan);

    if matches!(args.subcommand, Subcommand::All | Subcommand::Fake) {
        for n in 0..plan.runs {
            println!("fake Bot API capacity, run {}/{} …", n + 1, plan.runs);
            results
                .capacity
                .push(scenarios::fake_capacity(&plan).await?);
        }
    }
    if let Some(programs) = &programs {
        let kinds: Vec<BotKind> = BotKind::ALL
            .into_iter()
            .filter(|k| programs.has(*k))
            .collect();
        if matches!(args.subcommand, Subcommand::All | Subcommand::Lookups) {
            for n in 0..plan.runs {
                for kind in rotated(&kinds, n) {
                    println!(
                        "under limits: {} run {}/{} …",
                        kind.name(),
                        n + 1,
                        plan.runs
                    );
                    let outcome = scenarios::under_limits(programs, kind, &plan, seed(n)).await;
                    results.under[slot(kind)].push(keep(outcome, &mut results.errors));
                }
            }
        }
        if matches!(
            args.subcommand,
            Subcommand::All | Subcommand::Lookups | Subcommand::Footprint
        ) {
            for n in 0..plan.runs {
                for kind in rotated(&kinds, n) {
                    println!(
                        "limiter lifted: {} run {}/{} ({closed_loop} updates) …",
                        kind.name(),
                        n + 1,
                        plan.runs
                    );
                    let outcome =
                        scenarios::lifted(programs, kind, &plan, closed_loop, seed(n)).await;
                    results.lifted[slot(kind)].push(keep(outcome, &mut results.errors));
                }
            }
        }
    }

    let mut report = build_report(&args, &plan, &results, programs.as_ref(), closed_loop);
    if matches!(
        args.subcommand,
        Subcommand::All | Subcommand::Broadcast | Subcommand::Tick
    ) {
        let studybot = programs
            .as_ref()
            .map(|programs| programs.studybot_path().to_path_buf())
            .ok_or("studybot was not built")?;
        let runs = plan.runs;
        let (rows, raw, notes) = scheduling_rows(&args, &root, &studybot, runs).await;
        report.rows.extend(rows);
        report.raw.extend(raw);
        report.notes.extend(notes);
    }
    if matches!(
        args.subcommand,
        Subcommand::All
            | Subcommand::Library
            | Subcommand::Record
            | Subcommand::RecordCsv
            | Subcommand::Review
            | Subcommand::WebApp
            | Subcommand::Durability
    ) {
        let studybot = programs
            .as_ref()
            .map(|programs| programs.studybot_path().to_path_buf())
            .ok_or("studybot was not built")?;
        let (rows, raw, notes) = feature_rows(&args, &root, &studybot, plan.runs).await;
        report.rows.extend(rows);
        report.raw.extend(raw);
        report.notes.extend(notes);
    }
    if matches!(args.subcommand, Subcommand::All | Subcommand::Backup) {
        let studybot = programs
            .as_ref()
            .map(|programs| programs.studybot_path().to_path_buf())
            .ok_or("studybot was not built")?;
        let (rows, raw, notes) = backup_rows(&args, &root, &studybot, plan.runs).await;
        report.rows.extend(rows);
        report.raw.extend(raw);
        report.notes.extend(notes);
    }
    println!();
    for line in &report.fake {
        println!("fake Bot API: {line}");
    }
    println!("{}", report.text_table());
    for note in &report.notes {
        println!("note: {note}");
    }
    let mut extra = vec![(
        "bench wall time".to_string(),
        format!("{:.0} s", started.elapsed().as_secs_f64()),
    )];
    if let Some(Ok(peer)) = programs.as_ref().map(|p| &p.peer) {
        extra.push(("Python".into(), peer.python_version.clone()));
        extra.push(("aiogram".into(), peer.aiogram.clone()));
    }
    let mut machine = machine_before;
    machine.lines.extend(extra);
    let path = match (args.subcommand, args.quick) {
        (Subcommand::All, false) => root.join("docs").join("BENCHMARKS.md"),
        (Subcommand::All, true) => target.join("bench").join("BENCHMARKS-quick.md"),
        (other, _) => target.join("bench").join(format!(
            "BENCHMARKS-{}.md",
            format!("{other:?}").to_lowercase()
        )),
    };
    report::write_markdown(&path, &args.line, &date, &machine, &report, &method(&plan))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("\nwritten to {}", display(&path, &root));
    if results.errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} run(s) failed (see the notes above)",
            results.errors.len()
        ))
    }
}

/// Updates per closed-loop run: fewer when only the footprint is measured.
fn closed_loop_of(args: &Args, plan: &Plan) -> u64 {
    match args.subcommand {
        Subcommand::Footprint => plan.footprint_updates,
        _ => plan.closed_loop_updates,
    }
}

fn display(path: &Path, root: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The input sequence of run `n` (the same for every bot in that run).
fn seed(n: usize) -> u64 {
    0x5eed_0000 + n as u64
}

/// The bots in a different order each run, so none always runs first or last.
fn rotated(kinds: &[BotKind], n: usize) -> Vec<BotKind> {
    let mut kinds = kinds.to_vec();
    if !kinds.is_empty() {
        let len = kinds.len();
        kinds.rotate_left(n % len);
    }
    kinds
}

fn keep<T>(outcome: Result<T, String>, errors: &mut Vec<String>) -> Option<T> {
    match outcome {
        Ok(value) => Some(value),
        Err(error) => {
            eprintln!("run failed: {error}");
            errors.push(error.lines().next().unwrap_or_default().to_string());
            None
        }
    }
}

/// One value per successful run.
fn figure<T>(runs: &[Option<T>], value: impl Fn(&T) -> f64) -> Figure {
    Figure::new(runs.iter().flatten().map(value).collect())
}

/// `a / b` run by run, where both runs succeeded.
fn ratio<T>(a: &[Option<T>], b: &[Option<T>], value: impl Fn(&T) -> f64) -> Figure {
    Figure::new(
        a.iter()
            .zip(b)
            .filter_map(|(a, b)| Some(value(a.as_ref()?) / value(b.as_ref()?)))
            .collect(),
    )
}

/// Cells for a figure only studybot has (a ratio, or a scenario only it runs).
fn only_studybot(figure: &Figure, decimals: usize) -> [String; 3] {
    [figure.show(decimals), String::new(), String::new()]
}

/// A measure of every bot: its name, its figure by bot slot, and its decimals.
type PerBotMeasure<'a> = (&'a str, &'a dyn Fn(usize) -> Figure, usize);

/// The raw lines of a scenario, bot by bot: `{scenario}, {bot} {measure}: {runs}`.
fn raw_per_bot(raw: &mut Vec<String>, scenario: &str, measures: &[PerBotMeasure]) {
    for (i, kind) in BotKind::ALL.iter().enumerate() {
        for (measure, figure, decimals) in measures {
            raw.push(format!(
                "{scenario}, {} {measure}: {}",
                kind.name(),
                figure(i).runs(*decimals)
            ));
        }
    }
}

const MB: f64 = 1_000_000.0;

fn build_report(
    args: &Args,
    plan: &Plan,
    results: &Results,
    programs: Option<&Programs>,
    closed_loop: u64,
) -> Report {
    let mut report = Report::default();
    let cells = |f: &dyn Fn(usize) -> Figure, decimals: usize| -> [String; 3] {
        [0, 1, 2].map(|i| f(i).show(decimals))
    };

    if !results.capacity.is_empty() {
        let rate = Figure::new(
            results
                .capacity
                .iter()
                .map(|c| c.requests_per_second)
                .collect(),
        );
        let cpu = Figure::new(
            results
                .capacity
                .iter()
                .map(|c| c.cpu_per_request_us)
                .collect(),
        );
        let per_core = Figure::new(
            results
                .capacity
                .iter()
                .map(|c| 1e6 / c.cpu_per_request_us)
                .collect(),
        );
        // The fastest bot of the closed loop, with its and the fake's CPU per update.
        let fastest = (0..3)
            .filter_map(|i| {
                let lifted = &results.lifted[i];
                Some((
                    figure(lifted, |r| r.replies_per_second).median()?,
                    figure(lifted, |r| r.cpu_per_update_us).median()?,
                    figure(lifted, |r| r.fake_cpu_per_update_us).median()?,
                ))
            })
            .max_by(|a, b| a.0.total_cmp(&b.0));
        report.fake.push(format!(
            "answers {} sendMessage/s over {} keep-alive connections, with the load client on the same cores",
            rate.show(0),
            plan.capacity_connections
        ));
        report.fake.push(format!(
            "uses {} µs of CPU per sendMessage: one core of it could serve {} per second",
            cpu.show(1),
            per_core.show(0)
        ));
        report.fake.push(match (per_core.median(), fastest) {
            (Some(core), Some((replies, bot_cpu, fake_cpu))) => format!(
                "the fastest bot here replied {replies:.0}/s, {:.1}× less than one core of the fake serves ({}); \
                 in that closed loop the fake spent {fake_cpu:.0} µs per update against the bot's {bot_cpu:.0} µs, \
                 so what bounds the rate is the two cores they share, not the fake",
                core / replies,
                if core >= 2.0 * replies {
                    "the fake is not the bottleneck"
                } else {
                    "less than 2×: the fake may be a bottleneck"
                }
            ),
            _ => "no bot ran a closed loop in this invocation".into(),
        });
        report
            .raw
            .push(format!("fake capacity, sendMessage/s: {}", rate.runs(0)));
        report
            .raw
            .push(format!("fake CPU per sendMessage, µs: {}", cpu.runs(2)));
    }

    let under = &results.under;
    if under.iter().any(|runs| !runs.is_empty()) {
        let scenario = format!(
            "under limits ({} updates/s, {} chats, {} updates)",
            plan.open_loop_rate, plan.open_loop_chats, plan.open_loop_updates
        );
        let p50 = |i: usize| figure(&under[i], |r| r.p50_ms);
        let p99 = |i: usize| figure(&under[i], |r| r.p99_ms);
        let cpu = |i: usize| figure(&under[i], |r| r.cpu_per_update_us);
        let cpu_ratio = ratio(&under[0], &under[1], |r| r.cpu_per_update_us);
        report
            .rows
            .push(Row::new(&scenario, "reply latency p50, ms", cells(&p50, 2)));
        report.rows.push(
            Row::new(&scenario, "reply latency p99, ms", cells(&p99, 2))
                .target("studybot ≤ 2 ms", Verdict::at_most(&p99(0), 2.0)),
        );
        report
            .rows
            .push(Row::new(&scenario, "CPU per update, µs", cells(&cpu, 0)));
        report.rows.push(
            Row::new(
                &scenario,
                "CPU per update, studybot ÷ peer",
                only_studybot(&cpu_ratio, 3),
            )
            .target("≤ 0.5", Verdict::at_most(&cpu_ratio, 0.5)),
        );
        raw_per_bot(
            &mut report.raw,
            "under limits",
            &[
                ("p50 ms", &p50, 3),
                ("p99 ms", &p99, 3),
                ("CPU/update µs", &cpu, 1),
            ],
        );
        for (i, kind) in BotKind::ALL.iter().enumerate() {
            let unanswered: usize = under[i].iter().flatten().map(|r| r.unanswered).sum();
            if unanswered > 0 {
                report.notes.push(format!(
                    "under limits: {} left {unanswered} update(s) unanswered (latency is over the answered ones)",
                    kind.name()
                ));
            }
        }
    }

    let lifted = &results.lifted;
    let lookups = matches!(args.subcommand, Subcommand::All | Subcommand::Lookups);
    if lookups && lifted.iter().any(|runs| !runs.is_empty()) {
        let scenario = format!(
            "limiter lifted (closed loop, {closed_loop} updates, {} outstanding, {} chats)",
            plan.window, plan.closed_loop_chats
        );
        let rate = |i: usize| figure(&lifted[i], |r| r.replies_per_second);
        let cpu = |i: usize| figure(&lifted[i], |r| r.cpu_per_update_us);
        let fake_cpu = |i: usize| figure(&lifted[i], |r| r.fake_cpu_per_update_us);
        let vs_peer = ratio(&lifted[0], &lifted[1], |r| r.cpu_per_update_us);
        let vs_floor = ratio(&lifted[0], &lifted[2], |r| r.cpu_per_update_us);
        let rate_vs_peer = ratio(&lifted[0], &lifted[1], |r| r.replies_per_second);
        let rate_vs_floor = ratio(&lifted[0], &lifted[2], |r| r.replies_per_second);
        report.rows.push(
            Row::new(&scenario, "replies/s", cells(&rate, 0))
                .target("studybot ≥ 10,000", Verdict::at_least(&rate(0), 10_000.0)),
        );
        report.rows.push(Row::new(
            &scenario,
            "replies/s, studybot ÷ peer",
            only_studybot(&rate_vs_peer, 2),
        ));
        report.rows.push(Row::new(
            &scenario,
            "replies/s, studybot ÷ floor",
            only_studybot(&rate_vs_floor, 2),
        ));
        report
            .rows
            .push(Row::new(&scenario, "CPU per update, µs", cells(&cpu, 0)));
        report.rows.push(
            Row::new(
                &scenario,
                "CPU per update, studybot ÷ peer",
                only_studybot(&vs_peer, 3),
            )
            .target("≤ 0.1", Verdict::at_most(&vs_peer, 0.1)),
        );
        report.rows.push(
            Row::new(
                &scenario,
                "CPU per update, studybot ÷ floor",
                only_studybot(&vs_floor, 2),
            )
            .target("≤ 2", Verdict::at_most(&vs_floor, 2.0)),
        );
        report.rows.push(Row::new(
            &scenario,
            "fake Bot API's CPU per update, µs",
            cells(&fake_cpu, 0),
        ));
        raw_per_bot(
            &mut report.raw,
            "lifted",
            &[("replies/s", &rate, 0), ("CPU/update µs", &cpu, 1)],
        );
    }

    if lifted.iter().any(|runs| !runs.is_empty()) {
        let scenario = "footprint";
        // Every process started in this invocation contributes its start-up figures.
        let starts = |i: usize| -> Vec<scenarios::Start> {
            under[i]
                .iter()
                .flatten()
                .map(|r| r.start)
                .chain(lifted[i].iter().flatten().map(|r| r.start))
                .collect()
        };
        let idle =
            |i: usize| Figure::new(starts(i).iter().map(|s| s.idle_rss as f64 / MB).collect());
        let first_poll =
            |i: usize| Figure::new(starts(i).iter().map(|s| s.to_first_poll_ms).collect());
        let after = |i: usize| figure(&lifted[i], |r| r.rss_after_load as f64 / MB);
        report.rows.push(
            Row::new(scenario, "RSS at idle (empty store), MB", cells(&idle, 1))
                .target("studybot ≤ 30 MB", Verdict::at_most(&idle(0), 30.0)),
        );
        report.rows.push(Row::new(
            scenario,
            &format!("RSS after the closed loop ({closed_loop} updates), MB"),
            cells(&after, 1),
        ));
        report.rows.push(
            Row::new(
                scenario,
                "process start → first getUpdates, ms",
                cells(&first_poll, 0),
            )
            .target("studybot ≤ 200 ms", Verdict::at_most(&first_poll(0), 200.0)),
        );
        raw_per_bot(
            &mut report.raw,
            scenario,
            &[
                ("idle RSS MB", &idle, 1),
                ("RSS after load MB", &after, 1),
                ("start → first getUpdates ms", &first_poll, 0),
            ],
        );
    }

    if let Some(Err(reason)) = programs.map(|p| &p.peer) {
        report.notes.push(format!("the peer was not run: {reason}"));
    }
    if args.quick {
        report.notes.push(
            "a --quick run: one short run per scenario, a smoke test and not a record".into(),
        );
    }
    for error in &results.errors {
        report
            .notes
            .push(format!("a run failed and is left out: {error}"));
    }
    report
}

/// How each figure is taken, for the Markdown file.
fn method(plan: &Plan) -> String {
    format!(
        "- **Setup.** Everything runs on this one machine: the fake Bot API and the load generator \
in the benchmark process (2 tokio worker threads named `{FAKE_THREADS}`), each bot as its own process. \
Each scenario run starts a fresh fake on 127.0.0.1 and a fresh bot process; studybot gets a fresh sled \
database. Before measuring, every bot must answer `/section 2.1`, `/section 二.二`, `/section 3` and \
`/search 网格` with the right section (the floor answers anything with a fixed text).
- **The bots.** studybot: `target/release/studybot --config <generated> run`. The floor: \
`examples/floor.rs`, a bare teloxide dispatcher (same features and HTTP client) answering every message \
with a fixed text. The peer: `benches/peer/peer_bot.py`, aiogram 3 with its default aiohttp session and \
stock asyncio, parsing the same `data/texts/xzsj.md` and replying with the same HTML and buttons.
- **Inputs.** A fixed pseudo-random mix of {} lookups, half `/section` (2.1, 3, 二.二, 4.1, 3.2) and half \
`/search` (群众, 网格, 发展, 党员 群众, 干部); the same sequence for every bot in a run. Every fifth chat is a group.
- **Fake Bot API capacity.** A hyper client on its own 2 threads sends a typical reply (`/section 2.1`, \
HTML, inline keyboard) as `sendMessage` over {} keep-alive connections for {} s; the fake's CPU time is read \
from `/proc/self/task/*/stat` of its own threads. Both share the machine's cores with each other.
- **Under limits.** studybot runs with Telegram's limits (the shipped `[telegram.limits]`). After a warm-up \
of 50 updates, {} updates are queued at {} per second, evenly spaced, cycling over {} chats (so no chat has two \
updates outstanding). Latency is from the instant `getUpdates` hands the update out to the instant the \
`sendMessage` with the reply arrives at the fake. CPU per update is the bot's utime+stime from \
`/proc/<pid>/stat` (clock ticks, `getconf CLK_TCK`) over the run, idle polling included, divided by the updates.
- **Limiter lifted.** studybot runs with a generated config raising every limit to 10⁶/s or more. After a \
warm-up of 2,000 updates, a closed loop keeps {} updates outstanding over {} chats (each reply queues the next \
update, never two at once in one chat) until all updates are answered. Replies/s is updates ÷ (last reply − start).
- **Footprint.** VmRSS from `/proc/<pid>/status` one second after the first `getUpdates` (idle, before any \
update) and right after the closed loop. Start-up is from just before the process is spawned to the arrival of \
its first `getUpdates`; it includes studybot opening its store and loading the text, and Python importing aiogram. \
Start-up and idle figures pool every process started (both scenarios).
",
        LOOKUPS_COUNT,
        plan.capacity_connections,
        plan.capacity_time.as_secs(),
        plan.open_loop_updates,
        plan.open_loop_rate,
        plan.open_loop_chats,
        plan.window,
        plan.closed_loop_chats,
    )
}

const LOOKUPS_COUNT: usize = scenarios::LOOKUPS.len();

/// Runs the scheduling scenarios and returns their rows, raw values and notes.
async fn scheduling_rows(
    args: &Args,
    root: &Path,
    studybot: &Path,
    runs: usize,
) -> (Vec<Row>, Vec<String>, Vec<String>) {
    let mut rows = Vec::new();
    let mut raw = Vec::new();
    let mut notes = Vec::new();
    if matches!(args.subcommand, Subcommand::All | Subcommand::Tick) {
        let (mut big, mut small, mut memory) = (Vec::new(), Vec::new(), Vec::new());
        for n in 0..runs {
            println!("scheduler tick: 1,000,000 chats, run {}/{runs} …", n + 1);
            let run = scheduling::tick(root, 1_000_000, 1_000);
            big.push(run.decide_ms);
            memory.push(run.rss_growth_mb);
            println!("scheduler tick: 10,000 chats, run {}/{runs} …", n + 1);
            small.push(scheduling::tick(root, 10_000, 1_000).decide_ms);
        }
        let ratio: Vec<f64> = big.iter().zip(&small).map(|(b, s)| b / s).collect();
        let (big, small, memory, ratio) = (
            Figure::new(big),
            Figure::new(small),
            Figure::new(memory),
            Figure::new(ratio),
        );
        let scenario = "scheduler tick (1,000 due)";
        rows.push(
            Row::new(
                scenario,
                "decision pass with 1,000,000 subscribed, ms",
                only_studybot(&big, 1),
            )
            .target("≤ 50 ms", Verdict::at_most(&big, 50.0)),
        );
        rows.push(Row::new(
            scenario,
            "decision pass with 10,000 subscribed, ms",
            only_studybot(&small, 1),
        ));
        rows.push(
            Row::new(
                scenario,
                "cost ratio, 1,000,000 ÷ 10,000 subscribed",
                only_studybot(&ratio, 2),
            )
            .target("≈ 1 (follows the due count)", Verdict::at_most(&ratio, 2.0)),
        );
        rows.push(Row::new(
            scenario,
            "memory growth during the pass, MB",
            only_studybot(&memory, 1),
        ));
        raw.push(format!("tick 1,000,000 ms: {}", big.runs(1)));
        raw.push(format!("tick 10,000 ms: {}", small.runs(1)));
        let mut idle = Vec::new();
        for n in 0..runs {
            println!(
                "footprint with 100,000 subscribed chats, run {}/{runs} …",
                n + 1
            );
            idle.push(scheduling::footprint_with_subscriptions(root, studybot, 100_000).await);
        }
        let idle = Figure::new(idle);
        rows.push(
            Row::new(
                "footprint",
                "RSS at idle with 100,000 subscribed chats, MB",
                only_studybot(&idle, 1),
            )
            .target("studybot ≤ 30 MB", Verdict::at_most(&idle, 30.0)),
        );
        raw.push(format!(
            "footprint 100,000 chats idle RSS MB: {}",
            idle.runs(1)
        ));
        notes.push(
            "tick: the decision pass is `App::due_deliveries` (due-index scan, records, ledger \"intended\" marks, excerpt replies) on a sled store seeded with the given number of subscriptions, 1,000 of them due; sending is measured by the broadcast".into(),
        );
    }
    if matches!(args.subcommand, Subcommand::All | Subcommand::Broadcast) {
        // At the real 30/s, 1,000 groups take about 34 s.
        let groups = 1_000;
        let global = 30;
        let (mut ratio, mut too_many, mut duplicates, mut misses, mut wall, mut uneven) = (
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
        );
        for n in 0..runs {
            println!(
                "broadcast: {groups} groups at {global}/s, run {}/{runs} …",
                n + 1
            );
            let run = scheduling::broadcast(root, studybot, groups, global).await;
            ratio.push(run.achieved_per_second / run.allowed_per_second);
            too_many.push(run.too_many as f64);
            duplicates.push(run.duplicates as f64);
            misses.push(run.misses as f64);
            wall.push(run.wall_s);
            uneven.push(run.unevenness);
        }
        let scenario = format!("broadcast ({groups} groups due at once)");
        let [ratio, too_many, duplicates, misses, wall, uneven] =
            [ratio, too_many, duplicates, misses, wall, uneven].map(Figure::new);
        rows.push(
            Row::new(
                &scenario,
                "achieved ÷ allowed rate",
                only_studybot(&ratio, 3),
            )
            .target("≥ 0.95", Verdict::at_least(&ratio, 0.95)),
        );
        rows.push(
            Row::new(
                &scenario,
                "429 answers received",
                only_studybot(&too_many, 0),
            )
            .target("0", Verdict::at_most(&too_many, 0.0)),
        );
        rows.push(
            Row::new(&scenario, "duplicates", only_studybot(&duplicates, 0))
                .target("0", Verdict::at_most(&duplicates, 0.0)),
        );
        rows.push(
            Row::new(&scenario, "misses", only_studybot(&misses, 0))
                .target("0", Verdict::at_most(&misses, 0.0)),
        );
        rows.push(Row::new(&scenario, "wall time, s", only_studybot(&wall, 1)));
        rows.push(
            Row::new(
                &scenario,
                "unevenness (CV of messages per second)",
                only_studybot(&uneven, 3),
            )
            .target("evenly paced (≤ 0.05)", Verdict::at_most(&uneven, 0.05)),
        );
        raw.push(format!("broadcast achieved ÷ allowed: {}", ratio.runs(3)));
        raw.push(format!("broadcast wall s: {}", wall.runs(1)));
        notes.push(format!(
            "broadcast: at Telegram's real limits — the fake answers 429 above {global} messages in any sliding second overall or 20 in any sliding minute per group (strict windows, counted when a request is executed, each request delayed by up to {} ms of jitter on its way in), and studybot runs with its shipped limits; `studybot tick` sends the excerpts",
            scheduling::JITTER.as_millis()
        ));
    }
    (rows, raw, notes)
}

/// Runs the figures of issues 13–15 and returns their rows, raw values and notes.
async fn feature_rows(
    args: &Args,
    root: &Path,
    studybot: &Path,
    runs: usize,
) -> (Vec<Row>, Vec<String>, Vec<String>) {
    let mut rows = Vec::new();
    let mut raw = Vec::new();
    let mut notes = Vec::new();
    if matches!(args.subcommand, Subcommand::All | Subcommand::Library) {
        let mut all = Vec::new();
        for n in 0..runs {
            println!("library: import and idle memory, run {}/{runs} …", n + 1);
            all.push(features::library(root, studybot).await);
        }
        let of = |f: fn(&features::LibraryRun) -> f64| Figure::new(all.iter().map(f).collect());
        let import = of(|r| r.import_ms);
        let peer = of(|r| r.data_file_ms);
        let ratio = of(|r| r.import_ms / r.data_file_ms);
        let with = of(|r| r.idle_with_texts_mb);
        let without = of(|r| r.idle_without_mb);
        let added = of(|r| r.idle_with_texts_mb - r.idle_without_mb);
        let memory_ratio = of(|r| r.idle_with_texts_mb / r.idle_without_mb);
        let scenario = "library (issue 13)";
        rows.push(
            Row::new(
                scenario,
                "import of a 60,000-character report (parse, debris, structure, store, quiz bank), ms",
                only_studybot(&import, 1),
            )
            .target("≤ 200 ms", Verdict::at_most(&import, 200.0)),
        );
        rows.push(Row::new(
            scenario,
            "of which import / store / quiz bank, ms",
            [
                format!(
                    "{} / {} / {}",
                    of(|r| r.parse_ms).show(1),
                    of(|r| r.store_ms).show(1),
                    of(|r| r.bank_ms).show(1)
                ),
                String::new(),
                String::new(),
            ],
        ));
        rows.push(Row::new(
            scenario,
            "peer: parsing the same text as a data file, ms",
            only_studybot(&peer, 1),
        ));
        rows.push(Row::new(
            scenario,
            "import ÷ data-file parse",
            only_studybot(&ratio, 1),
        ));
        rows.push(
            Row::new(
                scenario,
                "RSS at idle with 20 imported texts and 100,000 chats, MB",
                only_studybot(&with, 1),
            )
            .target("≤ 40 MB", Verdict::at_most(&with, 40.0)),
        );
        rows.push(Row::new(
            scenario,
            "peer: the same 100,000 chats without the texts, MB",
            only_studybot(&without, 1),
        ));
        rows.push(Row::new(
            scenario,
            "with ÷ without the 20 texts (added MB)",
            [
                format!("{} (+{})", memory_ratio.show(2), added.show(1)),
                String::new(),
                String::new(),
            ],
        ));
        let long = of(|r| r.long_import_ms);
        let long_peak = of(|r| r.long_import_peak_mb);
        let short = of(|r| r.short_import.0);
        let short_peak = of(|r| r.short_import.1);
        let long_parse = of(|r| r.long_data_file_ms);
        let scenario_19 = "library (issue 19)";
        rows.push(
            Row::new(
                scenario_19,
                "import of a 2 MB text: `studybot import --dry-run`, whole process, ms",
                only_studybot(&long, 0),
            )
            .target("≤ 2,000 ms", Verdict::at_most(&long, 2000.0)),
        );
        rows.push(Row::new(
            scenario_19,
            "peer: the same command on the 60,000-character report, ms",
            only_studybot(&short, 0),
        ));
        rows.push(Row::new(
            scenario_19,
            "peer: parsing the 2 MB text's data-file form in process, ms",
            only_studybot(&long_parse, 1),
        ));
        rows.push(
            Row::new(
                scenario_19,
                "peak RSS of that import, MB",
                only_studybot(&long_peak, 1),
            )
            .target("≤ 64 MB", Verdict::at_most(&long_peak, 64.0)),
        );
        rows.push(Row::new(
            scenario_19,
            "peer: peak RSS importing the 60,000-character report, MB",
            only_studybot(&short_peak, 1),
        ));
        raw.push(format!("library 2 MB import ms: {}", long.runs(0)));
        raw.push(format!(
            "library 2 MB import peak MB: {}",
            long_peak.runs(1)
        ));
        raw.push(format!("library import ms: {}", import.runs(2)));
        raw.push(format!("library data-file parse ms: {}", peer.runs(2)));
        raw.push(format!("library idle with 20 texts MB: {}", with.runs(1)));
        raw.push(format!("library idle without MB: {}", without.runs(1)));
        if let Some(run) = all.first() {
            notes.push(format!(
                "library: the report is generated from the shipped text's own titles and paragraphs (12 `一、` parts × 5 `（一）` points, {} characters; the importer found {} sections, the quiz bank has {} questions); each run times {} imports under fresh ids and keeps the median; the 20 texts are variants of it (about 1.2 M characters)",
                run.chars,
                run.sections,
                run.questions,
                features::REPEAT
            ));
            notes.push(format!(
                "library (issue 19): the 2 MB text is generated the same way ({} characters, 2,097,152 bytes of UTF-8, 12 parts × 5 points), written to a file and imported by the release binary with `--dry-run` (the data-file form to /dev/null); peak RSS is `VmHWM` polled every millisecond",
                run.long_chars
            ));
        }
    }
    if matches!(args.subcommand, Subcommand::All | Subcommand::Record) {
        let mut all = Vec::new();
        for n in 0..runs {
            println!(
                "record: presses under load and the export, run {}/{runs} …",
                n + 1
            );
            all.push(features::record(root, studybot, args.quick).await);
        }
        let of = |f: fn(&features::RecordRun) -> f64| Figure::new(all.iter().map(f).collect());
        let p99 = of(|r| r.press_p99_ms);
        let p50 = of(|r| r.press_p50_ms);
        let lookup = of(|r| r.lookup_p99_ms);
        let ratio = of(|r| r.press_p99_ms / r.lookup_p99_ms);
        let write = of(|r| r.write_p99_ms);
        let export = of(|r| r.export_s);
        let extra = of(|r| r.export_extra_mb);
        let csv = of(|r| r.csv_s);
        let export_ratio = of(|r| r.export_s / r.csv_s);
        let scenario = "record (issue 14)";
        rows.push(Row::new(
            scenario,
            "✅ press → answerCallbackQuery p50 at 25 updates/s, ms",
            only_studybot(&p50, 2),
        ));
        rows.push(
            Row::new(
                scenario,
                "✅ press → answerCallbackQuery p99 at 25 updates/s, ms",
                only_studybot(&p99, 2),
            )
            .target("≤ 2 ms", Verdict::at_most(&p99, 2.0)),
        );
        rows.push(Row::new(
            scenario,
            "peer: /section lookups in the same load, p99, ms",
            only_studybot(&lookup, 2),
        ));
        rows.push(Row::new(
            scenario,
            "press p99 ÷ lookup p99",
            only_studybot(&ratio, 2),
        ));
        rows.push(Row::new(
            scenario,
            "peer: a plain sled insert + flush at the presses' pace, on the bot's disk, p99, ms",
            only_studybot(&write, 2),
        ));
        rows.push(
            Row::new(
                scenario,
                "export of 1,000 members × 365 days (`studybot record`, .xlsx), s",
                only_studybot(&export, 2),
            )
            .target("≤ 2 s", Verdict::at_most(&export, 2.0)),
        );
        rows.push(
            Row::new(
                scenario,
                "its peak RSS above a one-row export, MB",
                only_studybot(&extra, 1),
            )
            .target("≤ 50 MB", Verdict::at_most(&extra, 50.0)),
        );
        rows.push(Row::new(
            scenario,
            "peer: the same check-ins as a plain CSV grid (std only, in-process), s",
            only_studybot(&csv, 3),
        ));
        rows.push(Row::new(
            scenario,
            "export ÷ plain CSV",
            only_studybot(&export_ratio, 1),
        ));
        raw.push(format!("record press p99 ms: {}", p99.runs(3)));
        raw.push(format!("record lookup p99 ms: {}", lookup.runs(3)));
        raw.push(format!(
            "record plain durable write p99 ms: {}",
            write.runs(3)
        ));
        raw.push(format!("record export s: {}", export.runs(3)));
        raw.push(format!("record export extra MB: {}", extra.runs(1)));
        raw.push(format!("record CSV peer s: {}", csv.runs(3)));
        for run in &all {
            notes.push(format!(
                "record: {} of {} presses answered, {} check-ins stored; workbook {:.1} MB",
                run.presses.0,
                run.presses.1,
                run.recorded,
                run.export_bytes as f64 / MB
            ));
        }
    }
    if matches!(args.subcommand, Subcommand::All | Subcommand::RecordCsv) {
        println!("record-csv: seeding 3,000 members × 365 days …");
        let large = features::large_record(root);
        let mut all = Vec::new();
        for n in 0..runs {
            println!(
                "record-csv: `studybot record --out FILE.csv`, run {}/{runs} …",
                n + 1
            );
            all.push(features::record_csv(&large, studybot).await);
        }
        let of = |f: fn(&features::RecordCsvRun) -> f64| Figure::new(all.iter().map(f).collect());
        let wall = of(|r| r.wall_s);
        let extra = of(|r| r.extra_mb);
        let peer = of(|r| r.peer_s);
        let ratio = of(|r| r.wall_s / r.peer_s);
        let scenario = "record (issue 19)";
        rows.push(Row::new(
            scenario,
            "`studybot record --out FILE.csv` of 3,000 members × 365 days, s",
            only_studybot(&wall, 2),
        ));
        rows.push(
            Row::new(
                scenario,
                "its peak RSS above a one-row export, MB",
                only_studybot(&extra, 1),
            )
            .target("≤ 64 MB", Verdict::at_most(&extra, 64.0)),
        );
        rows.push(Row::new(
            scenario,
            "peer: the same check-ins as a plain CSV grid (std only, in-process), s",
            only_studybot(&peer, 3),
        ));
        rows.push(Row::new(
            scenario,
            "record --csv ÷ plain CSV",
            only_studybot(&ratio, 1),
        ));
        raw.push(format!("record-csv s: {}", wall.runs(3)));
        raw.push(format!("record-csv extra MB: {}", extra.runs(1)));
        raw.push(format!("record-csv peer s: {}", peer.runs(3)));
        notes.push(format!(
            "record-csv: {} check-ins, store {:.0} MB on disk; the four CSV files {:.1} MB",
            large.check_ins,
            large.store_bytes as f64 / MB,
            all.first().map_or(0, |r| r.csv_bytes) as f64 / MB
        ));
    }
    if matches!(args.subcommand, Subcommand::All | Subcommand::Review) {
        let mut all = Vec::new();
        for n in 0..runs {
            println!(
                "review: due list, answers and memory, run {}/{runs} …",
                n + 1
            );
            all.push(features::review(root, studybot, args.quick).await);
        }
        let of = |f: fn(&features::ReviewRun) -> f64| Figure::new(all.iter().map(f).collect());
        let due = of(|r| r.due_list_ms);
        let naive = of(|r| r.naive_ms);
        let due_ratio = of(|r| r.due_list_ms / r.naive_ms);
        let p50 = of(|r| r.answer_p50_ms);
        let p99 = of(|r| r.answer_p99_ms);
        let write = of(|r| r.write_p99_ms);
        let answer_ratio = of(|r| r.answer_p99_ms / r.write_p99_ms);
        let with = of(|r| r.idle_with_cards_mb);
        let without = of(|r| r.idle_without_mb);
        let added = of(|r| r.idle_with_cards_mb - r.idle_without_mb);
        let scenario = "review (issue 15)";
        rows.push(
            Row::new(
                scenario,
                "due list of one user with 5,000 cards (`Store::review_due`, as /review reads it), ms",
                only_studybot(&due, 3),
            )
            .target("≤ 1 ms", Verdict::at_most(&due, 1.0)),
        );
        rows.push(Row::new(
            scenario,
            "peer: the whole deck read and decoded, the due cards cloned, filtered and sorted, ms",
            only_studybot(&naive, 3),
        ));
        rows.push(Row::new(
            scenario,
            "due list ÷ whole-deck peer",
            only_studybot(&due_ratio, 2),
        ));
        rows.push(Row::new(
            scenario,
            "review answer recorded (`App::record_review_answer`), p50, ms",
            only_studybot(&p50, 3),
        ));
        rows.push(
            Row::new(
                scenario,
                "review answer recorded, p99, ms",
                only_studybot(&p99, 3),
            )
            .target("≤ 2 ms", Verdict::at_most(&p99, 2.0)),
        );
        rows.push(Row::new(
            scenario,
            "peer: one plain sled insert + flush, p99, ms",
            only_studybot(&write, 3),
        ));
        rows.push(Row::new(
            scenario,
            "answer p99 ÷ plain durable write p99",
            only_studybot(&answer_ratio, 2),
        ));
        rows.push(
            Row::new(
                scenario,
                "RSS at idle added by 100,000 users × 20 cards, MB",
                only_studybot(&added, 1),
            )
            .target("≤ 30 MB", Verdict::at_most(&added, 30.0)),
        );
        rows.push(Row::new(
            scenario,
            "RSS at idle with the cards ÷ the same store without, MB ÷ MB",
            [
                format!("{} ÷ {}", with.show(1), without.show(1)),
                String::new(),
                String::new(),
            ],
        ));
        raw.push(format!("review due list ms: {}", due.runs(3)));
        raw.push(format!("review answer p99 ms: {}", p99.runs(3)));
        raw.push(format!("review plain write p99 ms: {}", write.runs(3)));
        raw.push(format!("review idle with cards MB: {}", with.runs(1)));
        raw.push(format!("review idle without MB: {}", without.runs(1)));
    }
    if matches!(args.subcommand, Subcommand::All | Subcommand::WebApp) {
        let mut all = Vec::new();
        for n in 0..runs {
            println!(
                "webapp: page, dashboard data and API load, run {}/{runs} …",
                n + 1
            );
            all.push(features::webapp(root, studybot, args.quick).await);
        }
        let of = |f: fn(&features::WebAppRun) -> f64| Figure::new(all.iter().map(f).collect());
        let page = of(|r| r.page_bytes as f64 / 1024.0);
        let dashboard = of(|r| r.dashboard_ms);
        let first = of(|r| r.dashboard_first_ms);
        let kept = of(|r| r.kept_ms);
        let peer = of(|r| r.peer_ms);
        let p99 = of(|r| r.api_p99_ms);
        let p50 = of(|r| r.api_p50_ms);
        let reader = of(|r| r.reader_p99_ms);
        let dashboard_p99 = of(|r| r.dashboard_p99_ms);
        let scenario = "mini app (issue 22)";
        rows.push(
            Row::new(
                scenario,
                "page weight (HTML + CSS + JS, uncompressed), KB",
                only_studybot(&page, 1),
            )
            .target("≤ 100 KB", Verdict::at_most(&page, 100.0)),
        );
        rows.push(
            Row::new(
                scenario,
                "dashboard data, 1,000 members × 365 days (and 365,000 answers), 90-day chart, right after a check-in in the group (computed afresh, in-process), ms",
                only_studybot(&dashboard, 2),
            )
            .target("≤ 50 ms", Verdict::at_most(&dashboard, 50.0)),
        );
        rows.push(
            Row::new(
                scenario,
                "the first dashboard after opening the store, ms",
                only_studybot(&first, 2),
            )
            .target("≤ 50 ms", Verdict::at_most(&first, 50.0)),
        );
        rows.push(Row::new(
            scenario,
            "the same dashboard asked again, nothing changed (the kept view), ms",
            only_studybot(&kept, 3),
        ));
        rows.push(Row::new(
            scenario,
            "peer: only reading 90 days of check-ins and every answer (no members' days, no tallies), ms",
            only_studybot(&peer, 2),
        ));
        rows.push(Row::new(
            scenario,
            "dashboard ÷ that read",
            only_studybot(&of(|r| r.dashboard_ms / r.peer_ms), 3),
        ));
        rows.push(Row::new(
            scenario,
            "API p50 at 100 requests/s on loopback, ms",
            only_studybot(&p50, 2),
        ));
        rows.push(
            Row::new(
                scenario,
                "API p99 at 100 requests/s on loopback (reader + dashboard; no writes during the load, so dashboards after the first are kept), ms",
                only_studybot(&p99, 2),
            )
            .target("≤ 5 ms", Verdict::at_most(&p99, 5.0)),
        );
        rows.push(Row::new(
            scenario,
            "of which /api/reader p99, ms",
            only_studybot(&reader, 2),
        ));
        rows.push(Row::new(
            scenario,
            "of which /api/dashboard?days=30 p99, ms",
            only_studybot(&dashboard_p99, 2),
        ));
        raw.push(format!("webapp dashboard ms: {}", dashboard.runs(2)));
        raw.push(format!("webapp API p99 ms: {}", p99.runs(2)));
        for run in &all {
            notes.push(format!(
                "webapp: {} of {} requests answered 200 (a private chat's app: its owner is its administrator, so no getChatMember)",
                run.answered.0, run.answered.1
            ));
        }
    }

    if matches!(args.subcommand, Subcommand::All | Subcommand::Durability) {
        let mut all = Vec::new();
        for n in 0..runs {
            println!(
                "durability: /subscribe and ✅ with fdatasync, run {}/{runs} …",
                n + 1
            );
            all.push(features::durability(root, studybot, args.quick).await);
        }
        let of = |f: fn(&features::DurabilityRun) -> f64| Figure::new(all.iter().map(f).collect());
        let scenario = "durability (issue 23)";
        for (what, figure) in [
            (
                "/subscribe → reply p50 at 25 updates/s (flush + fdatasync), ms",
                of(|r| r.subscribe_ms.0),
            ),
            ("/subscribe → reply p99, ms", of(|r| r.subscribe_ms.1)),
            (
                "✅ press → answerCallbackQuery p50 in the same load, ms",
                of(|r| r.press_ms.0),
            ),
            (
                "✅ press → answerCallbackQuery p99, ms",
                of(|r| r.press_ms.1),
            ),
            (
                "peer: plain sled insert + flush (sync_file_range only, as before), p50, ms",
                of(|r| r.sled_flush_ms.0),
            ),
            (
                "peer: plain sled insert + flush, p99, ms",
                of(|r| r.sled_flush_ms.1),
            ),
            (
                "peer: plain sled insert + flush + fdatasync of db, p50, ms",
                of(|r| r.sled_fdatasync_ms.0),
            ),
            (
                "peer: plain sled insert + flush + fdatasync, p99, ms",
                of(|r| r.sled_fdatasync_ms.1),
            ),
        ] {
            raw.push(format!("durability {what}: {}", figure.runs(3)));
            rows.push(Row::new(scenario, what, only_studybot(&figure, 2)));
        }
        for run in &all {
            notes.push(format!(
                "durability: {} of {} confirmations answered",
                run.answered.0, run.answered.1
            ));
        }
    }

    (rows, raw, notes)
}

/// The rows of the backup figures (issue 19): `export` and `import-state` of a year of a
/// 3,000-member group, beside copying the database's files.
async fn backup_rows(
    args: &Args,
    root: &Path,
    studybot: &Path,
    runs: usize,
) -> (Vec<Row>, Vec<String>, Vec<String>) {
    let (mut rows, mut raw, mut notes) = (Vec::new(), Vec::new(), Vec::new());
    let mut all = Vec::new();
    for n in 0..runs {
        println!("backup: export and import-state, run {}/{runs} …", n + 1);
        all.push(backup::backup(root, studybot, args.quick).await);
    }
    let of = |f: fn(&backup::BackupRun) -> f64| Figure::new(all.iter().map(f).collect());
    let (export, export_extra) = (of(|r| r.export_s), of(|r| r.export_extra_mb));
    let (import, import_extra) = (of(|r| r.import_s), of(|r| r.import_extra_mb));
    let (copy, store) = (of(|r| r.copy_s), of(|r| r.store_mb));
    let scenario = "backup (issue 19)";
    let what = format!(
        "{} members × {} days",
        backup::BACKUP_MEMBERS,
        if args.quick {
            backup::BACKUP_DAYS / 6
        } else {
            backup::BACKUP_DAYS
        }
    );
    rows.push(Row::new(
        scenario,
        &format!("the store of {what} of check-ins, on disk, MB"),
        only_studybot(&store, 0),
    ));
    rows.push(Row::new(
        scenario,
        "peer: copying the database's files (std::fs::copy + sync), s",
        only_studybot(&copy, 2),
    ));
    rows.push(Row::new(
        scenario,
        &format!("`studybot export` of {what}, s"),
        only_studybot(&export, 2),
    ));
    rows.push(
        Row::new(
            scenario,
            "its peak RSS above the same export of a one-record store, MB",
            only_studybot(&export_extra, 1),
        )
        .target("≤ 64 MB", Verdict::at_most(&export_extra, 64.0)),
    );
    rows.push(Row::new(
        scenario,
        "export ÷ copying the files",
        only_studybot(&of(|r| r.export_s / r.copy_s), 1),
    ));
    rows.push(Row::new(
        scenario,
        "`studybot import-state` of that backup into a new database (check, then write), s",
        only_studybot(&import, 2),
    ));
    rows.push(
        Row::new(
            scenario,
            "its peak RSS above the same import of a one-record backup, MB",
            only_studybot(&import_extra, 1),
        )
        .target("≤ 64 MB", Verdict::at_most(&import_extra, 64.0)),
    );
    rows.push(Row::new(
        scenario,
        "import-state ÷ copying the files",
        only_studybot(&of(|r| r.import_s / r.copy_s), 1),
    ));
    raw.push(format!("backup export s: {}", export.runs(3)));
    raw.push(format!("backup export extra MB: {}", export_extra.runs(1)));
    raw.push(format!("backup import-state s: {}", import.runs(3)));
    raw.push(format!(
        "backup import-state extra MB: {}",
        import_extra.runs(1)
    ));
    raw.push(format!("backup copy peer s: {}", copy.runs(3)));
    for run in &all {
        notes.push(format!(
            "backup: {} entries, store {:.0} MB on disk, backup file {:.0} MB",
            run.entries, run.store_mb, run.file_mb
        ));
    }
    (rows, raw, notes)
}
