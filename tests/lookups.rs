//! The foundation end to end: the data is faithful to the seed, the store survives
//! restarts, and the real `studybot console` answers piped commands.

use std::path::Path;

use harness::{Studybot, root};
use studybot::app::library::Library;
use studybot::app::{App, ChatContext, ChatKind};
use studybot::command;
use studybot::config::Config;
use studybot::store::{Store, SyncOutcome};
use studybot::text::Document;

/// The binary under test (cargo names it only to this package's own tests).
const STUDYBOT: Studybot = Studybot::at(env!("CARGO_BIN_EXE_studybot"));

const BOILERPLATE: &[&str] = &[
    "目录/提纲",
    "新文秘网",
    "wm114",
    "省略877字",
    "正式会员",
    "未完,全文共",
    "当前仅显示",
    "收藏《",
    "……",
];

fn seed() -> Option<String> {
    let dir = root().join("../shared/seeds");
    let path = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("000_"))
        })?;
    std::fs::read_to_string(path).ok()
}

fn speech() -> Document {
    let store = Store::in_memory();
    let (library, _) = Library::load(&root().join("data"), &store).unwrap();
    library.default_document().as_ref().clone()
}

/// Splits a paragraph into sentences (after 。！？；!?; and their closing quotes).
fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        current.push(c);
        if "。！？；!?;".contains(c) {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[test]
fn every_servable_sentence_is_verbatim_in_the_seed() {
    let Some(seed) = seed() else {
        eprintln!("skipped: ../shared/seeds/000_*.txt is not beside the checkout");
        return;
    };
    // The seed hard-wraps one sentence ("战前\n动员"); the data joins it.
    let joined: String = seed.lines().collect();
    let document = speech();
    let mut checked = 0;
    for section in &document.sections {
        for paragraph in section.paragraphs() {
            for sentence in sentences(paragraph) {
                assert!(
                    joined.contains(&sentence),
                    "{}: not in the seed: {sentence}",
                    section.id
                );
                checked += 1;
            }
        }
        if section.id.part > 0 {
            assert!(
                seed.contains(&section.title),
                "{}: title not in the seed",
                section.id
            );
            assert!(
                seed.contains(&section.phrase),
                "{}: phrase not in the seed",
                section.id
            );
        }
    }
    assert!(seed.contains(&document.title));
    assert!(seed.contains(&document.occasion));
    assert!(checked >= 60, "only {checked} sentences checked");
}

#[test]
fn no_boilerplate_is_ever_served() {
    let data = std::fs::read_to_string(root().join("data/texts/xzsj.md")).unwrap();
    let app = test_app(Store::in_memory());
    let chat = console_chat();
    let mut served = String::new();
    for input in ["/outline", "/start", "/help"]
        .into_iter()
        .map(String::from)
        .chain(
            speech()
                .sections
                .iter()
                .map(|s| format!("/section {}", s.id)),
        )
    {
        for reply in app.handle(&chat, command::parse(&input, None), chrono::Utc::now()) {
            served.push_str(&reply.plain_text());
        }
    }
    for note in BOILERPLATE {
        assert!(!data.contains(note), "data file contains {note}");
        assert!(!served.contains(note), "a reply contains {note}");
    }
}

#[test]
fn sections_report_their_completeness() {
    let app = test_app(Store::in_memory());
    let text = |input: &str| -> String {
        app.handle(
            &console_chat(),
            command::parse(input, None),
            chrono::Utc::now(),
        )
        .iter()
        .map(|r| r.plain_text())
        .collect()
    };
    let full = text("/section 2.2");
    assert!(full.contains("群众的需求不复杂") && !full.contains("不完整"));
    let partial = text("/section 1.1");
    assert!(
        partial.contains("要把政治理论学习当成日常必修课（原文此处不完整）")
            || partial.contains("（原文此处不完整）")
    );
    assert!(partial.contains("本节原文不完整"));
    let tail = text("/section 2.1");
    assert!(
        tail.find("（原文此处不完整）").unwrap() < tail.find("街头巷尾").unwrap(),
        "2.1 lost its start"
    );
    for title_only in ["1.2", "1.3", "4.3", "5.1", "5.2", "5.3", "5", "2"] {
        let reply = text(&format!("/section {title_only}"));
        assert!(
            reply.contains("仅存标题") || reply.contains("缺失"),
            "{title_only}: {reply}"
        );
    }
}

fn console_chat() -> ChatContext {
    ChatContext {
        chat_id: 1,
        kind: ChatKind::Private,
        user_id: 1,
        user_name: "t".into(),
        is_admin: true,
        topic: None,
    }
}

fn test_app(store: Store) -> App {
    let (library, _) = Library::load(&root().join("data"), &store).unwrap();
    App::new(library, store, Config::default())
}

fn copy_data(to: &Path) {
    std::fs::create_dir_all(to.join("texts")).unwrap();
    std::fs::copy(root().join("data/texts/xzsj.md"), to.join("texts/xzsj.md")).unwrap();
}

#[test]
fn restart_rewrites_the_store_only_when_the_text_changed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    copy_data(&data);
    let db = dir.path().join("db");
    let load = || {
        let store = Store::open(&db).unwrap();
        let (library, report) = Library::load(&data, &store).unwrap();
        store.flush().unwrap();
        (library, report.synced[0].1)
    };
    assert_eq!(load().1, SyncOutcome::Written);
    assert_eq!(load().1, SyncOutcome::Unchanged);
    let file = data.join("texts/xzsj.md");
    let edited = std::fs::read_to_string(&file)
        .unwrap()
        .replace("## 1.2 以谋定向服务发展大局", "## 1.2 以谋定向服务发展全局");
    std::fs::write(&file, edited).unwrap();
    let (library, outcome) = load();
    assert_eq!(outcome, SyncOutcome::Written);
    let section = library
        .default_document()
        .section("1.2".parse().unwrap())
        .unwrap();
    assert_eq!(section.title, "以谋定向服务发展全局");
}

#[test]
fn console_answers_the_done_when_script() {
    let dir = tempfile::tempdir().unwrap();
    let input = "/outline\n/section 2.2\n/section 1.2\n/section 二.三\n/search 网格\n/section 9.9\n/section\n";
    let (stdout, stderr, ok) = STUDYBOT.run(
        &["console"],
        &[("STUDYBOT_DB", &dir.path().join("db"))],
        input,
    );
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("一、铸牢政治之魂，把准前行方向")
            && stdout.contains("五、恪守清廉之本，树立良好形象")
    );
    let points = stdout
        .lines()
        .filter(|l| l.starts_with("  ") && l.trim().chars().nth(1) == Some('.'))
        .count();
    assert_eq!(points, 15, "{stdout}");
    assert!(stdout.contains("2.2 用真心化解急难愁盼\n第二部分 厚植为民之心 · 站稳群众立场"));
    assert!(stdout.contains("真心实意办实事,群众才会把你当亲人。"));
    assert!(
        stdout.contains("1.2 以谋定向服务发展大局")
            && stdout.contains("（本节原文缺失，仅存标题，正文暂不可用。）")
    );
    assert!(
        stdout.contains("2.3 用实功凝聚民心民力")
            && stdout.contains("基层工作就有了源源不断的动力。")
    );
    assert!(stdout.contains("1. 3.2 统筹协调优治理\n…"));
    assert!(
        stdout.contains("没有第 9.9 节")
            && stdout.contains("请告诉我要看哪一节，例如：/section 2.1")
    );
    // Replies are separated by blank lines and the console exits 0 at EOF.
    assert!(stdout.ends_with("\n\n"));
}

#[test]
fn console_replies_to_every_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let long = format!(
        "/section {}\n/search {}\n",
        "网".repeat(10_000),
        "网".repeat(10_000)
    );
    let input = format!(
        "/section 0.1\n/section abc\n/section 🙂\n/search\n/foo\nhello\n/section 根基\n{long}"
    );
    let (stdout, stderr, ok) = STUDYBOT.run(
        &["console"],
        &[("STUDYBOT_DB", &dir.path().join("db"))],
        &input,
    );
    assert!(ok, "{stderr}");
    let replies: Vec<&str> = stdout.trim_end().split("\n\n").collect();
    assert!(stdout.contains("没有第 0.1 节"), "{stdout}");
    assert!(stdout.contains("没有标题含“abc”"));
    assert!(stdout.contains("没有标题含“🙂”"));
    assert!(stdout.contains("请告诉我要搜索的词，例如：/search 网格"));
    assert!(stdout.contains("我不认识命令 /foo"));
    assert!(stdout.contains("我只认识以 / 开头的命令"));
    assert!(
        stdout.contains("/section 1.1 — 1.1 以学立身筑牢忠诚根基")
            && stdout.contains("/section 4.3")
    );
    assert!(stdout.contains("这不像是一个章节编号") && stdout.contains("搜索词太长了"));
    assert!(replies.len() >= 9, "{stdout}");
    assert!(!stderr.contains("panicked"));
}

#[test]
fn a_data_file_saved_as_gbk_is_named_once_with_its_line_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    copy_data(&data);
    let file = data.join("texts/xzsj.md");
    let text = std::fs::read_to_string(&file).unwrap();
    let line = 1 + text[..text.find("## 2.2 ").unwrap()].matches('\n').count();
    // "网格" as GBK, the way Notepad saves Chinese text by default.
    let mut bytes = text
        .replacen("## 2.2 用真心化解", "## 2.2 xxxx", 1)
        .into_bytes();
    let at = bytes.windows(4).position(|w| w == b"xxxx").unwrap();
    bytes[at..at + 4].copy_from_slice(&[0xcd, 0xf8, 0xb8, 0xf1]);
    std::fs::write(&file, bytes).unwrap();
    let (_, stderr, ok) = STUDYBOT.run(&["check"], &[("STUDYBOT_DATA", &data)], "");
    assert!(!ok);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line, said once: {stderr}");
    assert!(
        lines[0].contains(&format!("xzsj.md:{line}: ")) && lines[0].contains("请另存为 UTF-8"),
        "{stderr}"
    );
    assert!(!stderr.contains("stream did not contain"), "{stderr}");

    // Any other data-file error is said once too.
    std::fs::write(&file, text.replace("[full]", "[fulll]")).unwrap();
    let (_, stderr, _) = STUDYBOT.run(&["check"], &[("STUDYBOT_DATA", &data)], "");
    assert_eq!(
        stderr.matches("unknown completeness mark").count(),
        1,
        "{stderr}"
    );
}

#[test]
fn bad_data_and_bad_config_fail_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    copy_data(&data);
    let file = data.join("texts/xzsj.md");
    let broken = std::fs::read_to_string(&file).unwrap().replace(
        "## 2.2 用真心化解急难愁盼 [full]",
        "## 2.2 用真心化解急难愁盼 [whole]",
    );
    std::fs::write(&file, broken).unwrap();
    let (_, stderr, ok) = STUDYBOT.run(&["check"], &[("STUDYBOT_DATA", &data)], "");
    assert!(!ok);
    assert!(
        stderr.contains("xzsj.md:") && stderr.contains("unknown completeness mark"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"));

    let config = dir.path().join("bad.toml");
    std::fs::write(&config, "timezone = \"Mars/Olympus\"\n").unwrap();
    let (_, stderr, ok) = STUDYBOT.run(&["--config", config.to_str().unwrap(), "check"], &[], "");
    assert!(!ok && stderr.contains("timezone"), "{stderr}");
    let (_, stderr, ok) = STUDYBOT.run(
        &["--config", "/nonexistent/studybot.toml", "check"],
        &[],
        "",
    );
    assert!(
        !ok && stderr.contains("/nonexistent/studybot.toml"),
        "{stderr}"
    );
}
