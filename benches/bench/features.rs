//! The figures of issues 13–15: the library of texts (importing a long report, idle
//! memory with 20 imported texts), the study record (a ✅ press under load through the
//! real binary, the export of a year of a large group) and personal review (the due
//! list, a recorded answer, memory per card). Each is taken beside a peer measured in
//! the same run (see `benches/README.md` for what each peer is and why).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, Utc};
use fake_telegram::FakeTelegram;
use rand::SeedableRng;
use rand::rngs::StdRng;
use studybot::app::App;
use studybot::app::library::Library;
use studybot::config::Config;
use studybot::quiz::QuestionBank;
use studybot::record::CheckIn;
use studybot::review::{Card, CardId, DAILY_CAP, ReviewPoll};
use studybot::schedule::{Subscriber, Subscription, local_date};
use studybot::store::Store;
use studybot::text::import::{FileKind, data_file, import};
use studybot::text::parse::parse_document;
use studybot::text::{Block, Document, SectionId};

use crate::fake_api::{FakeBotApi, TOKEN};
use crate::scheduling::{idle_rss, studybot_command, write_config};

/// The size of the generated report, in characters (issue 13).
pub const REPORT_CHARS: usize = 60_000;
/// The size of the long text of issue 19, in UTF-8 bytes (2 MB).
pub const LONG_TEXT_BYTES: usize = 2 * 1024 * 1024;

/// A report of at least `chars` characters in the shape of a Chinese work report
/// (`一、` parts, `（一）` points, an opening after `同志们：`), built only from the
/// shipped text's own titles and paragraphs, repeated in a fixed order: no sentence in
/// it is invented. `variant` rotates the order so that texts differ.
pub fn generated_report(shipped: &Document, chars: usize, variant: usize) -> String {
    let paragraphs: Vec<&str> = shipped
        .sections
        .iter()
        .flat_map(|s| &s.blocks)
        .filter_map(|b| match b {
            Block::Paragraph(p) => Some(p.as_str()),
            Block::Gap => None,
        })
        .collect();
    let parts: Vec<&str> = shipped
        .sections
        .iter()
        .filter(|s| s.id.part > 0 && s.id.point == 0)
        .map(|s| s.title.as_str())
        .collect();
    let points: Vec<&str> = shipped
        .sections
        .iter()
        .filter(|s| s.id.point > 0)
        .map(|s| s.title.as_str())
        .collect();
    let mut next = variant;
    let mut paragraph = || {
        next += 1;
        paragraphs[next % paragraphs.len()]
    };
    let mut out = String::new();
    // Characters so far, kept as lines are added (recounting the whole text each time
    // would make a 2 MB text take seconds to build).
    let mut count = 0;
    let mut line = |out: &mut String, text: &str| {
        let _ = writeln!(out, "{text}\n");
        count += text.chars().count() + 2;
        count
    };
    line(&mut out, &shipped.title);
    line(&mut out, "同志们：");
    let mut count = line(&mut out, paragraph());
    // 12 parts × 5 points of about 1,000 characters each make 60,000 characters.
    let part_count = 12;
    let point_count = 5;
    let per_point = chars.saturating_sub(count) / (part_count * point_count);
    // Cumulative budgets: a point stops at its share of the whole, so overshoots by a
    // paragraph do not add up.
    let mut budget = count;
    for part in 1..=part_count {
        let title = parts[(part + variant) % parts.len()];
        line(&mut out, &format!("{}、{title}", numeral(part)));
        count = line(&mut out, paragraph());
        for point in 1..=point_count {
            let title = points[(part * point_count + point + variant) % points.len()];
            line(&mut out, &format!("（{}）{title}", numeral(point)));
            budget += per_point;
            loop {
                count = line(&mut out, paragraph());
                if count >= budget {
                    break;
                }
            }
        }
    }
    while count < chars {
        count = line(&mut out, paragraph());
    }
    out
}

/// `1` → `一`, …, `15` → `十五`.
fn numeral(n: usize) -> String {
    const DIGITS: [&str; 10] = ["", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        1..=9 => DIGITS[n].to_string(),
        10 => "十".to_string(),
        11..=19 => format!("十{}", DIGITS[n - 10]),
        _ => n.to_string(),
    }
}

/// One run of the library figures.
pub struct LibraryRun {
    /// Characters of the generated report.
    pub chars: usize,
    /// Sections the importer found in it.
    pub sections: usize,
    /// Questions in its quiz bank.
    pub questions: usize,
    /// Import (parse, debris, structure) + store + quiz bank, median of the repetitions, ms.
    pub import_ms: f64,
    /// Of `import_ms`: `text::import::import` alone, ms.
    pub parse_ms: f64,
    /// Of `import_ms`: `Library::store_import` alone, ms.
    pub store_ms: f64,
    /// Of `import_ms`: `QuestionBank::build` alone, ms.
    pub bank_ms: f64,
    /// The peer: parsing the same text in data-file form (a shipped text's load), ms.
    pub data_file_ms: f64,
    /// Idle RSS of `studybot run` with 100,000 chats and 20 imported texts, MiB.
    pub idle_with_texts_mb: f64,
    /// Characters of the 2 MB text (issue 19).
    pub long_chars: usize,
    /// `studybot import <2 MB text> --dry-run`: wall time, ms.
    pub long_import_ms: f64,
    /// Its peak RSS, MiB.
    pub long_import_peak_mb: f64,
    /// The peer: the same command on the 60,000-character report: wall ms, peak MiB.
    pub short_import: (f64, f64),
    /// The other peer: parsing the 2 MB text's data-file form in process, ms.
    pub long_data_file_ms: f64,
    /// The same store before the texts were imported, MiB.
    pub idle_without_mb: f64,
}

/// Repetitions of a short timed step within one run (the median is kept).
pub const REPEAT: usize = 7;

/// Times importing the generated report, then measures idle memory with 20 of them.
pub async fn library(root: &Path, studybot: &Path) -> LibraryRun {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("db");
    crate::scheduling::seed(&db, 100_000, 0, false);
    let store = Store::open(&db).expect("open the store");
    let (library, _) = Library::load(&root.join("data"), &store).expect("load the texts");
    let shipped = library.default_document().clone();
    let report = generated_report(&shipped, REPORT_CHARS, 0);
    let now = Utc::now();

    let (mut import_ms, mut data_file_ms) = (Vec::new(), Vec::new());
    let (mut parse_ms, mut store_ms, mut bank_ms) = (Vec::new(), Vec::new(), Vec::new());
    let (mut sections, mut questions) = (0, 0);
    for n in 0..REPEAT {
        let started = Instant::now();
        let mut imported =
            import(report.as_bytes(), FileKind::Text, "report.txt").expect("import the report");
        let parsed_at = Instant::now();
        imported.document.id = format!("bench-timed-{n}");
        let document = library
            .store_import(&store, &imported, &report, false, now)
            .expect("store the report");
        let stored_at = Instant::now();
        let bank = QuestionBank::build(&document, &[], &mut StdRng::seed_from_u64(n as u64));
        let built_at = Instant::now();
        import_ms.push((built_at - started).as_secs_f64() * 1e3);
        parse_ms.push((parsed_at - started).as_secs_f64() * 1e3);
        store_ms.push((stored_at - parsed_at).as_secs_f64() * 1e3);
        bank_ms.push((built_at - stored_at).as_secs_f64() * 1e3);
        sections = document.sections.len();
        questions = bank.questions().len();

        let file = data_file(&document, "report.txt");
        let started = Instant::now();
        let parsed = parse_document("report.md", &file).expect("parse the data file");
        data_file_ms.push(started.elapsed().as_secs_f64() * 1e3);
        assert_eq!(parsed.sections.len(), sections);
    }
    // The timed imports are removed again: the memory figure counts exactly 20 texts.
    drop(store);
    let _ = std::fs::remove_dir_all(&db);
    crate::scheduling::seed(&db, 100_000, 0, false);
    let idle_without_mb = idle_rss(root, studybot, dir.path()).await;
    {
        let store = Store::open(&db).expect("reopen the store");
        let (library, _) = Library::load(&root.join("data"), &store).expect("load the texts");
        for n in 0..20 {
            let text = generated_report(&shipped, REPORT_CHARS, n);
            let mut imported =
                import(text.as_bytes(), FileKind::Text, "report.txt").expect("import");
            imported.document.id = format!("bench-{n}");
            library
                .store_import(&store, &imported, &text, false, now)
                .expect("store");
        }
        store.flush().expect("flush");
    }
    let idle_with_texts_mb = idle_rss(root, studybot, dir.path()).await;

    // Issue 19: a 2 MB text through the real binary, beside the 60,000-character report.
    let config = write_config(dir.path(), root, "");
    let long = generated_report(&shipped, LONG_TEXT_BYTES / 3, 1);
    let long_file = dir.path().join("long.txt");
    std::fs::write(
        &long_file,
        &long[..long.floor_char_boundary(LONG_TEXT_BYTES)],
    )
    .expect("write the long text");
    let short_file = dir.path().join("report.txt");
    std::fs::write(&short_file, &report).expect("write the report");
    let (long_import_ms, long_import_peak_mb) = timed_import(studybot, &config, &long_file).await;
    let short_import = timed_import(studybot, &config, &short_file).await;
    let long_bytes = std::fs::read(&long_file).expect("read the long text");
    let long_document = import(&long_bytes, FileKind::Text, "long.txt")
        .expect("import the long text")
        .document;
    let long_data_file = data_file(&long_document, "long.txt");
    let started = Instant::now();
    parse_document("long.md", &long_data_file).expect("parse the long data file");
    let long_data_file_ms = started.elapsed().as_secs_f64() * 1e3;
    LibraryRun {
        long_chars: String::from_utf8_lossy(&long_bytes).chars().count(),
        long_import_ms,
        long_import_peak_mb,
        short_import,
        long_data_file_ms,
        chars: report.chars().count(),
        sections,
        questions,
        import_ms: median(import_ms),
        parse_ms: median(parse_ms),
        store_ms: median(store_ms),
        bank_ms: median(bank_ms),
        data_file_ms: median(data_file_ms),
        idle_with_texts_mb,
        idle_without_mb,
    }
}

/// One run of the record figures.
pub struct RecordRun {
    /// ✅ presses answered / sent.
    pub presses: (usize, usize),
    /// Press → `answerCallbackQuery` p50 and p99, ms.
    pub press_p50_ms: f64,
    /// See `press_p50_ms`.
    pub press_p99_ms: f64,
    /// The peer: `/section` lookups interleaved in the same load, p99, ms.
    pub lookup_p99_ms: f64,
    /// The other peer: a plain sled insert + flush at the presses' pace, in the bot's
    /// directory (the durable write every press needs), p99, ms.
    pub write_p99_ms: f64,
    /// Check-ins the store holds after the run (one per answered press).
    pub recorded: usize,
    /// `studybot record` of 1,000 members × 365 days: wall time, s.
    pub export_s: f64,
    /// Its peak RSS minus that of the same command exporting a one-row chat, MiB.
    pub export_extra_mb: f64,
    /// Size of the workbook, MB.
    pub export_bytes: u64,
    /// The peer: the same check-ins read and written as a member × day CSV with the
    /// standard library, in-process, s.
    pub csv_s: f64,
}

/// Groups whose excerpt is delivered before the press load.
const PRESS_GROUPS: usize = 50;
/// Updates in the press load (half presses, half lookups), at 25/s.
const PRESS_UPDATES: usize = 500;

/// Drives `studybot run` through the bench's fake Bot API with ✅ presses on excerpts
/// really delivered (by `studybot tick`), then exports a large record.
pub async fn record(root: &Path, studybot: &Path, quick: bool) -> RecordRun {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("db");
    let buttons = deliver_excerpts(root, studybot, dir.path(), PRESS_GROUPS).await;

    let fake = FakeBotApi::start().await;
    let config = write_config(dir.path(), root, "");
    let mut child = tokio::process::Command::new(studybot)
        .arg("--config")
        .arg(&config)
        .arg("run")
        .env("TELOXIDE_TOKEN", TOKEN)
        .env("TELOXIDE_API_URL", fake.url())
        .env("RUST_LOG", "error")
        .kill_on_drop(true)
        .spawn()
        .expect("start studybot");
    fake.wait_for_polling(Duration::from_secs(20))
        .await
        .expect("studybot polls");
    fake.probe(7, "/section 2.1", Duration::from_secs(10))
        .await
        .expect("studybot answers");
    // Warm-up: lookups only (a press is recorded once; warm ones would change the ranks).
    for n in 0..25 {
        fake.send(9_000 + n, "/section 2.1");
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    let interval = Duration::from_secs_f64(1.0 / 25.0);
    let updates = if quick {
        PRESS_UPDATES / 2
    } else {
        PRESS_UPDATES
    };
    let from = fake.queued();
    let mut is_press = Vec::new();
    let began = tokio::time::Instant::now();
    for n in 0..updates {
        tokio::time::sleep_until(began + interval * n as u32).await;
        if n % 2 == 0 {
            let (chat, data) = &buttons[(n / 2) % buttons.len()];
            // A new member each press: every press is a first, durable check-in.
            fake.press(*chat, 500_000 + n as u64, data);
            is_press.push(true);
        } else {
            fake.send(20_000 + n as i64, "/section 2.1");
            is_press.push(false);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while fake.unanswered_from(from) > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let timings = fake.timings_from(from);
    let (mut presses, mut lookups) = (Vec::new(), Vec::new());
    for (timing, press) in timings.iter().zip(&is_press) {
        if let Some(latency) = timing.latency() {
            let ms = latency.as_secs_f64() * 1e3;
            if *press { &mut presses } else { &mut lookups }.push(ms);
        }
    }
    let sent_presses = is_press.iter().filter(|p| **p).count();
    fake.close();
    if let Some(pid) = child.id() {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
    let recorded = {
        let store = Store::open(&db).expect("reopen");
        buttons
            .iter()
            .map(|(chat, _)| {
                store
                    .check_ins(*chat, NaiveDate::MIN, NaiveDate::MAX)
                    .expect("check-ins")
                    .len()
            })
            .sum()
    };
    presses.sort_by(f64::total_cmp);
    lookups.sort_by(f64::total_cmp);
    let writes = plain_durable_writes(dir.path(), sent_presses, interval * 2).await;
    let export = export(root, studybot).await;
    RecordRun {
        presses: (presses.len(), sent_presses),
        press_p50_ms: percentile(&presses, 0.50),
        press_p99_ms: percentile(&presses, 0.99),
        lookup_p99_ms: percentile(&lookups, 0.99),
        write_p99_ms: percentile(&writes, 0.99),
        recorded,
        export_s: export.0,
        export_extra_mb: export.1,
        export_bytes: export.2,
        csv_s: export.3,
    }
}

/// One run of the durability figures (issue 23): what the device sync after each flush
/// costs a confirmation.
pub struct DurabilityRun {
    /// `/subscribe` (each in a new private chat) → its reply, p50 and p99, ms.
    pub subscribe_ms: (f64, f64),
    /// ✅ press → `answerCallbackQuery`, p50 and p99, ms.
    pub press_ms: (f64, f64),
    /// Confirmations answered / sent.
    pub answered: (usize, usize),
    /// The floor before: a plain sled insert + `flush` (sled's sync_file_range only), p50
    /// and p99, ms.
    pub sled_flush_ms: (f64, f64),
    /// The floor now: the same followed by `fdatasync` of sled's `db` file, p50 and p99, ms.
    pub sled_fdatasync_ms: (f64, f64),
}

/// Updates in the durability load (half `/subscribe`, half ✅ presses), at 25/s.
const DURABLE_UPDATES: usize = 400;

/// Drives `studybot run` with `/subscribe` from new chats and ✅ presses on delivered
/// excerpts, interleaved at 25 updates/s: every one is a write flushed (and synced)
/// before its reply. Beside it, the same write pattern on plain sled with and without
/// `fdatasync`, on the same disk.
pub async fn durability(root: &Path, studybot: &Path, quick: bool) -> DurabilityRun {
    let dir = tempfile::tempdir().expect("temp dir");
    let buttons = deliver_excerpts(root, studybot, dir.path(), PRESS_GROUPS).await;
    let fake = FakeBotApi::start().await;
    let config = write_config(dir.path(), root, "");
    let mut child = tokio::process::Command::new(studybot)
        .arg("--config")
        .arg(&config)
        .arg("run")
        .env("TELOXIDE_TOKEN", TOKEN)
        .env("TELOXIDE_API_URL", fake.url())
        .env("RUST_LOG", "error")
        .kill_on_drop(true)
        .spawn()
        .expect("start studybot");
    fake.wait_for_polling(Duration::from_secs(20))
        .await
        .expect("studybot polls");
    fake.probe(7, "/section 2.1", Duration::from_secs(10))
        .await
        .expect("studybot answers");
    for n in 0..25 {
        fake.send(9_000 + n, "/section 2.1");
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    let interval = Duration::from_secs_f64(1.0 / 25.0);
    let updates = if quick {
        DURABLE_UPDATES / 2
    } else {
        DURABLE_UPDATES
    };
    let from = fake.queued();
    let mut is_press = Vec::new();
    let began = tokio::time::Instant::now();
    for n in 0..updates {
        tokio::time::sleep_until(began + interval * n as u32).await;
        if n % 2 == 0 {
            let (chat, data) = &buttons[(n / 2) % buttons.len()];
            fake.press(*chat, 700_000 + n as u64, data);
            is_press.push(true);
        } else {
            fake.send(40_000 + n as i64, "/subscribe 08:00");
            is_press.push(false);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while fake.unanswered_from(from) > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let timings = fake.timings_from(from);
    let (mut presses, mut subscribes) = (Vec::new(), Vec::new());
    for (timing, press) in timings.iter().zip(&is_press) {
        if let Some(latency) = timing.latency() {
            let ms = latency.as_secs_f64() * 1e3;
            if *press {
                &mut presses
            } else {
                &mut subscribes
            }
            .push(ms);
        }
    }
    fake.close();
    if let Some(pid) = child.id() {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
    presses.sort_by(f64::total_cmp);
    subscribes.sort_by(f64::total_cmp);
    let pair = |sorted: &[f64]| (percentile(sorted, 0.50), percentile(sorted, 0.99));
    let plain = plain_durable_writes(dir.path(), updates, interval).await;
    let synced = synced_durable_writes(dir.path(), updates, interval).await;
    DurabilityRun {
        subscribe_ms: pair(&subscribes),
        press_ms: pair(&presses),
        answered: (presses.len() + subscribes.len(), updates),
        sled_flush_ms: pair(&plain),
        sled_fdatasync_ms: pair(&synced),
    }
}

/// [`plain_durable_writes`] with `fdatasync` of sled's `db` file after each flush, in
/// another fresh database in `dir`. Sorted, ms.
async fn synced_durable_writes(dir: &Path, count: usize, pace: Duration) -> Vec<f64> {
    let path = dir.join("plain-synced");
    let plain = sled::open(&path).expect("open plain sled");
    let log = std::fs::File::open(path.join("db")).expect("open sled's db file");
    let value = vec![b'x'; 250];
    let mut writes = Vec::with_capacity(count);
    let began = tokio::time::Instant::now();
    for n in 0..count {
        tokio::time::sleep_until(began + pace * n as u32).await;
        let started = Instant::now();
        plain
            .insert((n as u64).to_be_bytes(), value.as_slice())
            .expect("insert");
        plain.flush().expect("flush");
        log.sync_data().expect("fdatasync");
        writes.push(started.elapsed().as_secs_f64() * 1e3);
    }
    writes.sort_by(f64::total_cmp);
    writes
}

/// The floor under a press: a plain sled insert of a check-in-sized value and a flush,
/// `count` times at `pace`, in a fresh database in `dir` (the bot's disk). Sorted, ms.
async fn plain_durable_writes(dir: &Path, count: usize, pace: Duration) -> Vec<f64> {
    let plain = sled::open(dir.join("plain")).expect("open plain sled");
    let value = vec![b'x'; 250];
    let mut writes = Vec::with_capacity(count);
    let began = tokio::time::Instant::now();
    for n in 0..count {
        tokio::time::sleep_until(began + pace * n as u32).await;
        let started = Instant::now();
        plain
            .insert((n as u64).to_be_bytes(), value.as_slice())
            .expect("insert");
        plain.flush().expect("flush");
        writes.push(started.elapsed().as_secs_f64() * 1e3);
    }
    writes.sort_by(f64::total_cmp);
    writes
}

/// Subscribes `groups` groups due within the last day, delivers their excerpts with
/// `studybot tick --now` against the tests' fake Bot API, and returns each group with
/// the data of the ✅ button its excerpt carried: the ledger says that group got that
/// section that day, so a press on it is a genuine check-in.
async fn deliver_excerpts(
    root: &Path,
    studybot: &Path,
    dir: &Path,
    groups: usize,
) -> Vec<(i64, String)> {
    let now = Utc::now();
    let due_at = {
        let store = Store::open(&dir.join("db")).expect("open the store");
        let mut due_at = now;
        for i in 0..groups {
            // Due at 08:00 Asia/Shanghai on the last such time before now.
            let subscription = Subscription::new(
                -1_000_000_000 - i as i64,
                "xzsj",
                NaiveTime::from_hms_opt(8, 0, 0).expect("a time"),
                chrono_tz::Asia::Shanghai,
                Subscriber {
                    user_id: 1,
                    name: "bench".into(),
                },
                now - TimeDelta::days(1),
            );
            due_at = subscription.next_due;
            store.subscribe(subscription, None, now).expect("subscribe");
        }
        store.flush().expect("flush");
        due_at
    };
    assert!(due_at <= now, "the excerpts are due before now");
    let tg = FakeTelegram::start().await;
    let config = write_config(dir, root, "");
    let status = studybot_command(studybot, &config, &tg)
        .args([
            "tick",
            "--now",
            &(due_at + TimeDelta::seconds(30)).to_rfc3339(),
        ])
        .status()
        .await
        .expect("run studybot tick");
    assert!(status.success(), "studybot tick failed");
    let mut buttons = Vec::new();
    for request in tg.requests_for("sendMessage") {
        let chat = request.body["chat_id"].as_i64().unwrap_or_default();
        let body = request.body.to_string();
        let Some(start) = body.find("\"k:") else {
            continue;
        };
        let data = &body[start + 1..];
        let data = &data[..data.find('"').unwrap_or(data.len())];
        buttons.push((chat, data.to_string()));
    }
    assert_eq!(buttons.len(), groups, "every group got its excerpt with ✅");
    buttons
}

/// Members and days of the exported record (issue 14).
const EXPORT_MEMBERS: u64 = 1_000;
const EXPORT_DAYS: i64 = 365;
const EXPORT_CHAT: i64 = -1_002_000_000_001;
const TINY_CHAT: i64 = -1_002_000_000_002;

/// Seeds 1,000 members × 365 days of check-ins in one group (on tmpfs when there is
/// one: seeding flushes per check-in as the bot does), then runs `studybot record` on it
/// and on a one-row chat. Returns (wall s, extra peak MiB, workbook bytes, CSV peer s).
async fn export(root: &Path, studybot: &Path) -> (f64, f64, u64, f64) {
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    }
    .expect("temp dir");
    let db = dir.path().join("db");
    let config = Config::default();
    let zone = config.timezone;
    let now = Utc::now();
    let today = local_date(now, zone);
    let csv_s = {
        let store = Store::open(&db).expect("open the store");
        for day in 0..EXPORT_DAYS {
            let date = today - TimeDelta::days(day);
            for member in 0..EXPORT_MEMBERS {
                store
                    .check_in(&check_in(EXPORT_CHAT, 700_000 + member, date, now))
                    .expect("check in");
            }
        }
        store
            .check_in(&check_in(TINY_CHAT, 1, today, now))
            .expect("check in");
        store.flush().expect("flush");
        let started = Instant::now();
        let csv = plain_csv(
            &store,
            EXPORT_CHAT,
            today - TimeDelta::days(EXPORT_DAYS - 1),
            today,
        );
        std::fs::write(dir.path().join("peer.csv"), csv).expect("write the CSV");
        started.elapsed().as_secs_f64()
    };
    let config_path = write_config(dir.path(), root, "");
    let out = dir.path().join("record.xlsx");
    let (_, tiny_peak) = timed_record(studybot, &config_path, TINY_CHAT, &out).await;
    let (wall, peak) = timed_record(studybot, &config_path, EXPORT_CHAT, &out).await;
    let bytes = std::fs::metadata(&out).map_or(0, |m| m.len());
    (wall, peak - tiny_peak, bytes, csv_s)
}

/// A check-in of `user_id` in `chat_id` on `date` (also seeds the backup figures).
pub fn check_in(chat_id: i64, user_id: u64, date: NaiveDate, now: DateTime<Utc>) -> CheckIn {
    CheckIn {
        chat_id,
        user_id,
        name: format!("成员{user_id}"),
        document: "xzsj".into(),
        section: SectionId::point(1 + (date.ordinal0() % 5) as u8, 1),
        date,
        done_on: date,
        at: now,
    }
}

/// The peer of the export: the same check-ins as a member × day grid of ✓, written as
/// CSV with the standard library only (no workbook, no other sheets).
fn plain_csv(store: &Store, chat: i64, from: NaiveDate, to: NaiveDate) -> String {
    let check_ins = store.check_ins(chat, from, to).expect("check-ins");
    let members = store.members(chat).expect("members");
    let days = (to - from).num_days() as usize + 1;
    let index: std::collections::HashMap<u64, usize> = members
        .iter()
        .enumerate()
        .map(|(i, m)| (m.user_id, i))
        .collect();
    let mut grid = vec![vec![false; days]; members.len()];
    for c in &check_ins {
        if let Some(row) = index.get(&c.user_id) {
            grid[*row][(c.date - from).num_days() as usize] = true;
        }
    }
    let mut out = String::from("成员");
    for day in 0..days {
        let _ = write!(out, ",{}", from + TimeDelta::days(day as i64));
    }
    out.push('\n');
    for (member, row) in members.iter().zip(&grid) {
        out.push_str(&member.name);
        for cell in row {
            out.push_str(if *cell { ",✓" } else { "," });
        }
        out.push('\n');
    }
    out
}

/// Runs `studybot import <file> --dry-run` (the data file to /dev/null): wall time (ms)
/// and peak RSS (MiB, `VmHWM` polled every millisecond until exit).
async fn timed_import(studybot: &Path, config: &Path, file: &Path) -> (f64, f64) {
    let started = Instant::now();
    let mut child = tokio::process::Command::new(studybot)
        .arg("--config")
        .arg(config)
        .arg("import")
        .arg(file)
        .arg("--dry-run")
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start studybot import");
    let pid = child.id().expect("running").to_string();
    let mut peak = 0.0_f64;
    loop {
        if let Some(hwm) = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| crate::bots::kib_field(&s, "VmHWM:"))
        {
            peak = peak.max(hwm as f64 / 1024.0);
        }
        match tokio::time::timeout(Duration::from_millis(1), child.wait()).await {
            Ok(status) => {
                assert!(status.expect("wait").success(), "studybot import failed");
                break;
            }
            Err(_) => continue,
        }
    }
    (started.elapsed().as_secs_f64() * 1e3, peak)
}

/// Members of the large record (issue 19): 3,000 members × [`EXPORT_DAYS`] days.
const LARGE_MEMBERS: u64 = 3_000;

/// A store holding 3,000 members × 365 days of check-ins in [`EXPORT_CHAT`] and one in
/// [`TINY_CHAT`], seeded once for every run of [`record_csv`].
pub struct LargeRecord {
    /// The store and the config (on tmpfs when there is one); removed on drop.
    dir: tempfile::TempDir,
    config: PathBuf,
    /// The store's size on disk, bytes.
    pub store_bytes: u64,
    /// Check-ins stored.
    pub check_ins: u64,
}

/// Seeds [`LargeRecord`] through `Store::check_in`, as the bot records presses.
pub fn large_record(root: &Path) -> LargeRecord {
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    }
    .expect("temp dir");
    let db = dir.path().join("db");
    let now = Utc::now();
    let today = local_date(now, Config::default().timezone);
    {
        let store = Store::open(&db).expect("open the store");
        for day in 0..EXPORT_DAYS {
            let date = today - TimeDelta::days(day);
            for member in 0..LARGE_MEMBERS {
                store
                    .check_in(&check_in(EXPORT_CHAT, 700_000 + member, date, now))
                    .expect("check in");
            }
        }
        store
            .check_in(&check_in(TINY_CHAT, 1, today, now))
            .expect("check in");
        store.flush().expect("flush");
    }
    let config = write_config(dir.path(), root, "");
    LargeRecord {
        store_bytes: dir_bytes(&db),
        check_ins: LARGE_MEMBERS * EXPORT_DAYS as u64,
        dir,
        config,
    }
}

/// One run of `studybot record --csv` on [`LargeRecord`] (issue 19).
pub struct RecordCsvRun {
    /// Wall time, s.
    pub wall_s: f64,
    /// Peak RSS minus that of the same command exporting a one-row chat, MiB.
    pub extra_mb: f64,
    /// The four CSV files, bytes.
    pub csv_bytes: u64,
    /// The peer: the same check-ins as a member × day CSV grid with the standard
    /// library, in-process, s.
    pub peer_s: f64,
}

/// Runs `studybot record --chat … --out record.csv` on the large store, beside the
/// plain CSV grid of the same check-ins.
pub async fn record_csv(record: &LargeRecord, studybot: &Path) -> RecordCsvRun {
    let out = record.dir.path().join("record.csv");
    let (_, tiny_peak) = timed_record(studybot, &record.config, TINY_CHAT, &out).await;
    let (wall_s, peak) = timed_record(studybot, &record.config, EXPORT_CHAT, &out).await;
    let csv_bytes = studybot::app::record::csv_paths(&out)
        .iter()
        .map(|path| std::fs::metadata(path).map_or(0, |m| m.len()))
        .sum();
    let peer_s = {
        let store = Store::open(&record.dir.path().join("db")).expect("open the store");
        let today = local_date(Utc::now(), Config::default().timezone);
        let started = Instant::now();
        let csv = plain_csv(
            &store,
            EXPORT_CHAT,
            today - TimeDelta::days(EXPORT_DAYS - 1),
            today,
        );
        std::fs::write(record.dir.path().join("peer.csv"), csv).expect("write the CSV");
        started.elapsed().as_secs_f64()
    };
    RecordCsvRun {
        wall_s,
        extra_mb: peak - tiny_peak,
        csv_bytes,
        peer_s,
    }
}

/// The bytes of every file under `dir`.
fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|entry| match entry.file_type() {
                Ok(kind) if kind.is_dir() => dir_bytes(&entry.path()),
                _ => entry.metadata().map_or(0, |m| m.len()),
            })
            .sum()
    })
}

/// Runs `studybot record --chat <chat> --out <out>`: wall time (s) and peak RSS (MiB,
/// `VmHWM` polled every millisecond until exit).
async fn timed_record(studybot: &Path, config: &Path, chat: i64, out: &Path) -> (f64, f64) {
    let started = Instant::now();
    let mut child = tokio::process::Command::new(studybot)
        .arg("--config")
        .arg(config)
        .args(["record", "--chat", &chat.to_string(), "--out"])
        .arg(out)
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start studybot record");
    let pid = child.id().expect("running").to_string();
    let mut peak = 0.0_f64;
    loop {
        if let Some(hwm) = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| crate::bots::kib_field(&s, "VmHWM:"))
        {
            peak = peak.max(hwm as f64 / 1024.0);
        }
        match tokio::time::timeout(Duration::from_millis(1), child.wait()).await {
            Ok(status) => {
                assert!(status.expect("wait").success(), "studybot record failed");
                break;
            }
            Err(_) => continue,
        }
    }
    (started.elapsed().as_secs_f64(), peak)
}

/// One run of the review figures.
pub struct ReviewRun {
    /// The due list `/review` reads for one user with 5,000 cards
    /// (`Store::review_due`: the first 21 due cards, how many are due, the next due
    /// instant), median, ms.
    pub due_list_ms: f64,
    /// The peer: the same deck read and decoded whole (`Store::review_cards`), the due
    /// cards cloned, filtered and sorted naively, median, ms.
    pub naive_ms: f64,
    /// `Review::record_answer`, p50 and p99 of 1,000 answers, ms.
    pub answer_p50_ms: f64,
    /// See `answer_p50_ms`.
    pub answer_p99_ms: f64,
    /// The peer: one plain sled insert + flush of a card-sized value, p99, ms.
    pub write_p99_ms: f64,
    /// Idle RSS of `studybot run` on a store with 100,000 users × 20 cards, MiB.
    pub idle_with_cards_mb: f64,
    /// The same store before the cards, MiB.
    pub idle_without_mb: f64,
}

/// Times the due list and the recorded answer in-process on a sled store on disk, then
/// measures idle memory with 2,000,000 cards through the real binary.
pub async fn review(root: &Path, studybot: &Path, quick: bool) -> ReviewRun {
    let now = Utc::now();
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("db");
    let store = Store::open(&db).expect("open the store");
    let section = SectionId::point(1, 1);
    for id in 0..5_000_u64 {
        // Added over the last 300 hours: some due now, some later.
        let added = now - TimeDelta::hours((id % 300) as i64);
        let card = studybot::review::record(None, section, false, added);
        store
            .update_review_card(1, "xzsj", id, |_| card.clone())
            .expect("add a card");
    }
    store.flush().expect("flush");
    let (mut due_list, mut naive) = (Vec::new(), Vec::new());
    for _ in 0..200 {
        // What `/review` reads to start and before each card (`App::start_review`,
        // `Review::next`): here the most it asks for, the cards already seen in a
        // full day's review (the daily cap) and one more.
        let started = Instant::now();
        let due = store
            .review_due(1, now, DAILY_CAP as usize + 1)
            .expect("due list");
        due_list.push(started.elapsed().as_secs_f64() * 1e3);
        let started = Instant::now();
        let cards = store.review_cards(1, "xzsj").expect("cards");
        let sorted = naive_due(&cards, now);
        naive.push(started.elapsed().as_secs_f64() * 1e3);
        assert_eq!(cards.len(), 5_000);
        assert_eq!(sorted.len(), due.due);
        let first: Vec<CardId> = due.first.iter().map(|card| card.id).collect();
        assert_eq!(first, sorted[..first.len()]);
    }

    // Answers: 20 cards, 1,000 review polls waiting for their answer.
    let answers = if quick { 300 } else { 1_000 };
    for n in 0..answers {
        let poll = ReviewPoll {
            user_id: 2,
            text: "xzsj".into(),
            card: n as CardId % 20,
            correct: 0,
            options: 4,
            answer: "铸牢政治之魂".into(),
            answered: false,
        };
        store
            .put_review_poll(&format!("p{n}"), &poll)
            .expect("poll");
    }
    for id in 0..20 {
        let card = studybot::review::record(None, section, false, now);
        store
            .update_review_card(2, "xzsj", id, |_| card.clone())
            .expect("add a card");
    }
    store.flush().expect("flush");
    drop(store);
    let store = Store::open(&db).expect("reopen");
    let (library, _) = Library::load(&root.join("data"), &store).expect("load the texts");
    let app = App::new(library, store, Config::default());
    let mut answer = Vec::new();
    for n in 0..answers {
        let started = Instant::now();
        app.review()
            .record_answer(
                &format!("p{n}"),
                2,
                n % 3,
                now + TimeDelta::minutes(n as i64),
            )
            .expect("answer");
        answer.push(started.elapsed().as_secs_f64() * 1e3);
    }
    drop(app);
    let plain = sled::open(dir.path().join("plain")).expect("open plain sled");
    let value = vec![b'x'; 300];
    let mut write = Vec::new();
    for n in 0..answers {
        let started = Instant::now();
        plain
            .insert((n as u64 % 20).to_be_bytes(), value.as_slice())
            .expect("insert");
        plain.flush().expect("flush");
        write.push(started.elapsed().as_secs_f64() * 1e3);
    }
    drop(plain);
    answer.sort_by(f64::total_cmp);
    write.sort_by(f64::total_cmp);

    let memory = memory_with_cards(root, studybot, 100_000).await;
    ReviewRun {
        due_list_ms: median(due_list),
        naive_ms: median(naive),
        answer_p50_ms: percentile(&answer, 0.50),
        answer_p99_ms: percentile(&answer, 0.99),
        write_p99_ms: percentile(&write, 0.99),
        idle_with_cards_mb: memory.1,
        idle_without_mb: memory.0,
    }
}

/// The peer of the due list: every card cloned, the due ones kept, sorted in the order
/// `/review` asks them.
fn naive_due(cards: &[(CardId, Card)], now: DateTime<Utc>) -> Vec<CardId> {
    let mut due: Vec<(CardId, Card)> = cards
        .iter()
        .filter(|(_, card)| card.is_due(now))
        .cloned()
        .collect();
    due.sort_by_key(|(id, card)| (card.asked_from(), *id));
    due.into_iter().map(|(id, _)| id).collect()
}

/// Idle RSS of `studybot run` on an empty store, then with `users` × 20 cards (MiB).
async fn memory_with_cards(root: &Path, studybot: &Path, users: u64) -> (f64, f64) {
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    }
    .expect("temp dir");
    let db: PathBuf = dir.path().join("db");
    drop(Store::open(&db).expect("create the store"));
    let without = idle_rss(root, studybot, dir.path()).await;
    {
        let store = Store::open(&db).expect("open the store");
        let now = Utc::now();
        let section = SectionId::point(2, 2);
        for user in 0..users {
            for card in 0..20 {
                let added = now - TimeDelta::hours(((user + card) % 300) as i64);
                let value = studybot::review::record(None, section, false, added);
                store
                    .update_review_card(1_000_000 + user, "xzsj", card, |_| value.clone())
                    .expect("add a card");
            }
        }
        store.flush().expect("flush");
    }
    let with = idle_rss(root, studybot, dir.path()).await;
    (without, with)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Nearest-rank percentile of sorted values (NaN when empty).
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The Mini App's group (issue 22): a private chat, whose owner is its administrator, so
/// the API answers without `getChatMember` (the bench's fake has none; in a group the
/// answer is cached for a minute, so steady load looks the same).
const WEB_CHAT: i64 = 900_001;
/// Members and days of the Mini App's group.
const WEB_MEMBERS: u64 = 1_000;
const WEB_DAYS: i64 = 365;
/// Requests per second of the API load, and for how long.
const WEB_RATE: u32 = 100;
const WEB_SECONDS: u32 = 10;

/// One run of the Mini App figures.
pub struct WebAppRun {
    /// The page's own files (HTML, CSS, JS), bytes before compression.
    pub page_bytes: usize,
    /// `app.web().dashboard` over 90 days after a check-in in the group (computed afresh),
    /// in-process, median of 20, ms.
    pub dashboard_ms: f64,
    /// The same asked again with nothing changed (the kept view), median of 20, ms.
    pub kept_ms: f64,
    /// The first `app.web().dashboard` after opening the store, ms.
    pub dashboard_first_ms: f64,
    /// The peer: reading 90 days of check-ins and every answer (what the figures take
    /// without the members' days and the tallies), median of 5, ms.
    pub peer_ms: f64,
    /// `/api/reader` p99 under the load, ms.
    pub reader_p99_ms: f64,
    /// `/api/dashboard?days=30` p99 under the load, ms.
    pub dashboard_p99_ms: f64,
    /// All requests of the load, p50 and p99, ms.
    pub api_p50_ms: f64,
    /// See `api_p50_ms`.
    pub api_p99_ms: f64,
    /// Answers with status 200 / requests sent.
    pub answered: (usize, usize),
}

/// The Mini App: the page weight, the dashboard's data for 1,000 members × 365 days, and
/// the API at 100 requests/s on loopback (half the reader, half the dashboard) through
/// `studybot run` with `[web]`.
pub async fn webapp(root: &Path, studybot: &Path, quick: bool) -> WebAppRun {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("db");
    let now = Utc::now();
    let zone = Config::default().timezone;
    let today = local_date(now, zone);
    let days = if quick { 30 } else { WEB_DAYS };
    {
        let store = Store::open(&db).expect("open the store");
        for day in 0..days {
            let date = today - TimeDelta::days(day);
            for member in 0..WEB_MEMBERS {
                let user_id = 800_000 + member;
                store
                    .check_in(&check_in(WEB_CHAT, user_id, date, now))
                    .expect("check in");
                // The daily question, answered by everyone: one of 60 questions a day.
                let question = (date.ordinal0() % 60) as u8;
                store
                    .record_quiz_answer(&studybot::record::QuizAnswer {
                        chat_id: WEB_CHAT,
                        user_id,
                        name: format!("成员{user_id}"),
                        question: format!("第 {question} 题：下列哪一项出自原文？"),
                        section: SectionId::point(1 + question % 5, 1),
                        part: 1 + question % 5,
                        correct: (user_id + u64::from(question)) % 3 != 0,
                        at: now - TimeDelta::days(day) + TimeDelta::microseconds(member as i64),
                    })
                    .expect("an answer");
            }
        }
        store.flush().expect("flush");
    }
    // Opened afresh: the first dashboard reads from disk, as after a restart.
    let (dashboard_first_ms, dashboard_ms, kept_ms, peer_ms) = {
        let store = Store::open(&db).expect("open the store");
        let (library, _) = Library::load(&root.join("data"), &store).expect("texts");
        let app = App::new(library, store.clone(), Config::default());
        let started = Instant::now();
        let view = app.web().dashboard(WEB_CHAT, 90, now).expect("dashboard");
        let first = started.elapsed().as_secs_f64() * 1e3;
        assert_eq!(view.roster.len(), WEB_MEMBERS as usize);
        assert_eq!(view.days.len(), 90);
        assert!(view.parts.iter().map(|p| p.total).sum::<usize>() > 0);
        // Each after a new member's check-in in the group: computed afresh every time.
        let mut times: Vec<f64> = (0..20)
            .map(|n| {
                store
                    .check_in(&check_in(WEB_CHAT, 700_000 + n, today, now))
                    .expect("check in");
                let started = Instant::now();
                let view = app.web().dashboard(WEB_CHAT, 90, now).expect("dashboard");
                let ms = started.elapsed().as_secs_f64() * 1e3;
                assert_eq!(view.roster.len(), WEB_MEMBERS as usize + n as usize + 1);
                ms
            })
            .collect();
        times.sort_by(f64::total_cmp);
        // Asked again with nothing changed: the view kept since the last check-in.
        let mut kept: Vec<f64> = (0..20)
            .map(|_| {
                let started = Instant::now();
                let view = app.web().dashboard(WEB_CHAT, 90, now).expect("dashboard");
                let ms = started.elapsed().as_secs_f64() * 1e3;
                assert_eq!(view.days.len(), 90);
                ms
            })
            .collect();
        kept.sort_by(f64::total_cmp);
        // The peer: only reading what the same figures take without the members' days and
        // the questions' tallies (90 days of check-ins and every answer), no arithmetic.
        let mut peer: Vec<f64> = (0..5)
            .map(|_| {
                let started = Instant::now();
                let check_ins = store
                    .check_ins(WEB_CHAT, today - TimeDelta::days(89), today)
                    .expect("check-ins");
                let mut answers = 0_usize;
                store
                    .each_quiz_answer(WEB_CHAT, |_| {
                        answers += 1;
                        Ok::<_, studybot::store::StoreError>(())
                    })
                    .expect("answers");
                assert!(check_ins.len() + answers > 0);
                started.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        peer.sort_by(f64::total_cmp);
        app.ops().flush().expect("flush");
        (
            first,
            percentile(&times, 0.5),
            percentile(&kept, 0.5),
            percentile(&peer, 0.5),
        )
    };

    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let fake = FakeBotApi::start().await;
    let config = write_config(
        dir.path(),
        root,
        &format!("[web]\nlisten = \"{addr}\"\npublic_url = \"http://{addr}\"\n"),
    );
    let mut child = tokio::process::Command::new(studybot)
        .arg("--config")
        .arg(&config)
        .arg("run")
        .env("TELOXIDE_TOKEN", TOKEN)
        .env("TELOXIDE_API_URL", fake.url())
        .env("RUST_LOG", "error")
        .kill_on_drop(true)
        .spawn()
        .expect("start studybot");
    fake.wait_for_polling(Duration::from_secs(20))
        .await
        .expect("studybot polls");
    let user = format!(r#"{{"id":{WEB_CHAT},"first_name":"Bench"}}"#);
    let auth_date = Utc::now().timestamp().to_string();
    let init = studybot::webapp::init_data::sign(
        &[("user", user.as_str()), ("auth_date", auth_date.as_str())],
        &studybot::webapp::init_data::secret_key(TOKEN),
    );
    let paths = ["/api/reader", "/api/dashboard?days=30"];
    // Warm-up.
    for n in 0..20 {
        let _ = web_get(addr, paths[n % 2], &init).await;
    }
    let interval = Duration::from_secs_f64(1.0 / f64::from(WEB_RATE));
    let total = (WEB_RATE * if quick { 3 } else { WEB_SECONDS }) as usize;
    let began = tokio::time::Instant::now();
    let mut tasks = Vec::new();
    for n in 0..total {
        tokio::time::sleep_until(began + interval * n as u32).await;
        let init = init.clone();
        tasks.push(tokio::spawn(async move {
            let started = Instant::now();
            let ok = web_get(addr, paths[n % 2], &init).await;
            (n % 2, ok, started.elapsed().as_secs_f64() * 1e3)
        }));
    }
    let mut all = Vec::new();
    let mut by_path = [Vec::new(), Vec::new()];
    let mut answered = 0;
    for task in tasks {
        let (path, ok, ms) = task.await.expect("request task");
        if ok {
            answered += 1;
        }
        all.push(ms);
        by_path[path].push(ms);
    }
    fake.close();
    if let Some(pid) = child.id() {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
    all.sort_by(f64::total_cmp);
    for list in &mut by_path {
        list.sort_by(f64::total_cmp);
    }
    WebAppRun {
        page_bytes: studybot::telegram::web::page_weight(),
        dashboard_ms,
        dashboard_first_ms,
        kept_ms,
        peer_ms,
        reader_p99_ms: percentile(&by_path[0], 0.99),
        dashboard_p99_ms: percentile(&by_path[1], 0.99),
        api_p50_ms: percentile(&all, 0.50),
        api_p99_ms: percentile(&all, 0.99),
        answered: (answered, total),
    }
}

/// One `GET` with `Authorization: tma …` over a fresh loopback connection, read to its
/// end; whether it was answered 200.
async fn web_get(addr: std::net::SocketAddr, path: &str, init: &str) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
        return false;
    };
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAuthorization: tma {init}\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).await.is_err() {
        return false;
    }
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    answer.starts_with(b"HTTP/1.1 200")
}
