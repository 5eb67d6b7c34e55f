//! `studybot import` through the real binary: the seed in data-file form (`--dry-run`),
//! a real import that survives restarts and backups, refusals, and bad files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use studybot::app::library::Library;
use studybot::store::Store;
use studybot::text::{Document, Section, parse_document};

use fake_telegram::{FakeChat, FakeTelegram, FakeUser};
use harness::{Studybot, Workspace, root};

/// The binary under test (cargo names it only to this package's own tests).
const STUDYBOT: Studybot = Studybot::at(env!("CARGO_BIN_EXE_studybot"));

fn studybot(workspace: &Workspace, args: &[&str]) -> Output {
    Command::new(STUDYBOT.path())
        .arg("--config")
        .arg(workspace.config())
        .args(args)
        .env_remove("STUDYBOT_DB")
        .env_remove("STUDYBOT_DATA")
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn seed() -> Option<PathBuf> {
    let path = root().join("../shared/seeds/000_f2cd3f3992885587.txt");
    path.exists().then_some(path)
}

fn shipped() -> Document {
    parse_document(
        "xzsj.md",
        &std::fs::read_to_string(root().join("data/texts/xzsj.md")).unwrap(),
    )
    .unwrap()
}

/// Sections without data-file line numbers.
fn shape(document: &Document) -> Vec<Section> {
    document
        .sections
        .iter()
        .map(|s| Section {
            line: 0,
            ..s.clone()
        })
        .collect()
}

fn library(workspace: &Workspace) -> Library {
    let store = Store::open(&workspace.db()).unwrap();
    Library::load(&root().join("data"), &store).unwrap().0
}

#[test]
fn dry_run_prints_the_data_file_and_stores_nothing() {
    let Some(seed) = seed() else {
        eprintln!("skipped: ../shared/seeds/000_f2cd3f3992885587.txt is not beside the checkout");
        return;
    };
    let workspace = Workspace::new("");
    let output = studybot(
        &workspace,
        &[
            "import",
            seed.to_str().unwrap(),
            "--dry-run",
            "--id",
            "seed",
        ],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let file = text(&output.stdout);
    let document = parse_document("seed.md", &file).unwrap();
    assert_eq!(document.id, "seed");
    assert_eq!(shape(&document), shape(&shipped()));
    let report = text(&output.stderr);
    assert!(report.contains("5 个部分，15 个要点"), "{report}");
    assert!(
        report.contains("  4.2 管好队伍提能力 [不完整，1 处缺失]"),
        "{report}"
    );
    assert!(report.contains("第 31 行 [截断提示"), "{report}");
    assert!(!workspace.db().exists(), "--dry-run opens no database");
}

#[test]
fn an_imported_text_is_stored_served_after_restart_and_backed_up() {
    let Some(seed) = seed() else {
        eprintln!("skipped: ../shared/seeds/000_f2cd3f3992885587.txt is not beside the checkout");
        return;
    };
    let seed = seed.to_str().unwrap();
    let workspace = Workspace::new("");
    let output = studybot(&workspace, &["import", seed, "--id", "seed"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("已导入：编号 seed，5 个部分"), "{stdout}");
    assert!(
        stdout.contains("五、恪守清廉之本，树立良好形象 [仅存标题]"),
        "{stdout}"
    );

    // A restart serves it beside the shipped text, which stays the default.
    let served = library(&workspace);
    assert_eq!(served.default_document().id, "xzsj");
    let imported = served
        .document("seed")
        .expect("the imported text is served");
    assert_eq!(shape(imported), shape(&shipped()));
    assert_eq!(served.imported().len(), 1);

    // The console's /docs lists it beside the shipped text.
    let mut console = Command::new(STUDYBOT.path())
        .arg("--config")
        .arg(workspace.config())
        .arg("console")
        .env_remove("STUDYBOT_DB")
        .env_remove("STUDYBOT_DATA")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut console.stdin.take().unwrap(), b"/docs\n").unwrap();
    let listed = text(&console.wait_with_output().unwrap().stdout);
    assert!(listed.contains("可学习的文本（共 2 篇）"), "{listed}");
    assert!(
        listed.contains("编号 seed；5 个部分，共 21 节；原文不完整"),
        "{listed}"
    );

    // The same id again is refused, unless --replace; a shipped id always.
    let again = studybot(&workspace, &["import", seed, "--id", "seed"]);
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("已经存在"),
        "{}",
        text(&again.stderr)
    );
    let shipped_id = studybot(&workspace, &["import", seed, "--id", "xzsj"]);
    assert!(!shipped_id.status.success());
    assert!(text(&shipped_id.stderr).contains("自带文本"));
    let replaced = studybot(&workspace, &["import", seed, "--id", "seed", "--replace"]);
    assert!(replaced.status.success(), "{}", text(&replaced.stderr));

    // export / import-state carry it; the restored store serves it.
    let backup = workspace.dir.path().join("backup.json");
    let exported = studybot(&workspace, &["export", backup.to_str().unwrap()]);
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    let target = Workspace::new("");
    let restored = studybot(&target, &["import-state", backup.to_str().unwrap()]);
    assert!(restored.status.success(), "{}", text(&restored.stderr));
    let served = library(&target);
    assert_eq!(
        served.document("seed").map(|d| shape(d)),
        Some(shape(&shipped()))
    );
    // An imported text is user state: restoring over it needs --force.
    let over = studybot(&target, &["import-state", backup.to_str().unwrap()]);
    assert!(!over.status.success());
    assert!(
        text(&over.stderr).contains("imported"),
        "{}",
        text(&over.stderr)
    );
}

fn stored_texts(db: &Path) -> usize {
    if !db.exists() {
        return 0;
    }
    Store::open(db).unwrap().imported_texts().unwrap().len()
}

#[test]
fn bad_files_get_a_chinese_reason_and_change_nothing() {
    let workspace = Workspace::new("");
    let dir = workspace.dir.path();
    let (gbk, _, _) = encoding_rs::GBK.encode("只是一段话，没有标题。");
    let cases: [(&str, Vec<u8>, &str); 5] = [
        ("empty.txt", Vec::new(), "空的"),
        (
            "binary.txt",
            vec![0x7f, b'E', b'L', b'F', 0, 0, 1, 2],
            "不是文本文件",
        ),
        ("broken.docx", b"PK\x03\x04broken".to_vec(), ".docx"),
        ("plain.txt", gbk.into_owned(), "没有找到文章结构"),
        (
            "huge.txt",
            format!("一、标题\n{}", "很长的文字。".repeat(200_000)).into_bytes(),
            "文字有 1,200,005 字，超过 1,000,000 字的上限",
        ),
    ];
    for (name, bytes, reason) in cases {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let output = studybot(&workspace, &["import", path.to_str().unwrap()]);
        let stderr = text(&output.stderr);
        assert!(!output.status.success(), "{name}");
        assert!(
            stderr.contains("无法导入") && stderr.contains(reason),
            "{name}: {stderr}"
        );
    }
    let bad_id = studybot(
        &workspace,
        &[
            "import",
            dir.join("plain.txt").to_str().unwrap(),
            "--id",
            "中文",
            "--dry-run",
        ],
    );
    assert!(!bad_id.status.success());
    assert!(
        text(&bad_id.stderr).contains("编号“中文”不可用"),
        "{}",
        text(&bad_id.stderr)
    );
    assert_eq!(stored_texts(&workspace.db()), 0);
}

#[test]
fn a_store_in_use_is_named() {
    let workspace = Workspace::new("");
    let report = workspace.dir.path().join("report.txt");
    std::fs::write(
        &report,
        "工作报告\n一、回顾\n去年很好。\n二、任务\n今年更好。\n",
    )
    .unwrap();
    let held = Store::open(&workspace.db()).unwrap();
    let output = studybot(&workspace, &["import", report.to_str().unwrap()]);
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("正被运行中的 studybot 使用"), "{stderr}");
    assert!(stderr.contains("下次启动"), "{stderr}");
    drop(held);
    let output = studybot(&workspace, &["import", report.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("已导入：编号 report"));
    assert_eq!(stored_texts(&workspace.db()), 1);
}

/// `studybot import` with `input` on its standard input.
fn studybot_with_stdin(workspace: &Workspace, args: &[&str], input: Vec<u8>) -> Output {
    let mut child = Command::new(STUDYBOT.path())
        .arg("--config")
        .arg(workspace.config())
        .args(args)
        .env_remove("STUDYBOT_DB")
        .env_remove("STUDYBOT_DATA")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // The binary may stop reading once it has seen enough: a broken pipe is its answer.
    let writer = std::thread::spawn(move || {
        let _ = std::io::Write::write_all(&mut stdin, &input);
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    output
}

/// Runs `studybot` and kills it if it has not finished within `limit` (a read without
/// bound of an endless file would never finish): `None` then.
fn studybot_within(
    workspace: &Workspace,
    args: &[&str],
    limit: std::time::Duration,
) -> Option<Output> {
    let mut child = Command::new(STUDYBOT.path())
        .arg("--config")
        .arg(workspace.config())
        .args(args)
        .env_remove("STUDYBOT_DB")
        .env_remove("STUDYBOT_DATA")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        if child.try_wait().unwrap().is_some() {
            return Some(child.wait_with_output().unwrap());
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// A `.docx` with `document` as its `word/document.xml` and, if given, an incompressible
/// photo of that many bytes.
fn docx(document: &str, photo: Option<usize>) -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1))
        .large_file(true);
    zip.start_file("word/document.xml", deflated).unwrap();
    zip.write_all(document.as_bytes()).unwrap();
    if let Some(size) = photo {
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        zip.start_file("word/media/image1.png", stored).unwrap();
        // xorshift: bytes no compressor shrinks, the same on every run.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut bytes = Vec::with_capacity(size + 8);
        while bytes.len() < size {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            bytes.extend_from_slice(&state.to_le_bytes());
        }
        bytes.truncate(size);
        zip.write_all(&bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// A Word document body of three parts, with `padding` spaces inside the text of the
/// second paragraph (where a cap on the XML once cut the document).
fn three_parts(padding: usize) -> String {
    format!(
        "<w:document xmlns:w=\"w\"><w:body>\
         <w:p><w:r><w:t>工作报告</w:t></w:r></w:p>\
         <w:p><w:r><w:t>一、回顾</w:t></w:r></w:p><w:p><w:r><w:t xml:space=\"preserve\">去年很好。{}</w:t></w:r></w:p>\
         <w:p><w:r><w:t>二、任务</w:t></w:r></w:p><w:p><w:r><w:t>今年更好。</w:t></w:r></w:p>\
         <w:p><w:r><w:t>三、展望</w:t></w:r></w:p><w:p><w:r><w:t>明年更好。</w:t></w:r></w:p>\
         </w:body></w:document>",
        " ".repeat(padding)
    )
}

#[test]
fn a_docx_whose_text_passes_the_cap_is_refused_whole() {
    let workspace = Workspace::new("");
    let file = workspace.dir.path().join("padded.docx");
    std::fs::write(&file, docx(&three_parts(64 << 20), None)).unwrap();
    let output = studybot(&workspace, &["import", file.to_str().unwrap()]);
    let stderr = text(&output.stderr);
    assert!(!output.status.success(), "{}", text(&output.stdout));
    assert!(
        stderr.contains("正文（word/document.xml）解压后超过 64 MB，不像一篇讲话或报告"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("XML") || stderr.contains("document.xml"),
        "{stderr}"
    );
    assert_eq!(stored_texts(&workspace.db()), 0);
}

#[test]
fn every_read_is_bounded_and_dash_is_standard_input() {
    let workspace = Workspace::new("");
    // An endless device: its size says 0; the read stops one byte past 20 MB.
    let zero = studybot_within(
        &workspace,
        &["import", "/dev/zero", "--dry-run"],
        std::time::Duration::from_secs(60),
    )
    .expect("reading /dev/zero stops");
    assert!(!zero.status.success());
    let stderr = text(&zero.stderr);
    assert!(
        stderr.contains("无法导入 /dev/zero：文件超过 20 MB 的上限"),
        "{stderr}"
    );

    // `-` reads standard input, as a file, with the same bound.
    let piped = studybot_with_stdin(
        &workspace,
        &["import", "-", "--dry-run", "--id", "piped"],
        REPORT.as_bytes().to_vec(),
    );
    assert!(piped.status.success(), "{}", text(&piped.stderr));
    let document = parse_document("piped.md", &text(&piped.stdout)).unwrap();
    assert_eq!(document.title, "2025年工作报告");
    assert_eq!(document.parts().count(), 2);
    let flood = studybot_with_stdin(
        &workspace,
        &["import", "-", "--dry-run"],
        vec![b'a'; (21 << 20) as usize],
    );
    assert!(!flood.status.success());
    assert!(
        text(&flood.stderr).contains("无法导入 标准输入：文件超过 20 MB 的上限"),
        "{}",
        text(&flood.stderr)
    );

    // A missing file is named, in Chinese.
    let missing = workspace.dir.path().join("没有这个文件.txt");
    let output = studybot(&workspace, &["import", missing.to_str().unwrap()]);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&format!("无法导入 {}：找不到这个文件", missing.display())),
        "{stderr}"
    );
    assert!(!stderr.contains("os error"), "{stderr}");
    assert_eq!(stored_texts(&workspace.db()), 0);
}

#[test]
fn limits_are_the_bots_and_name_the_files_own_figure() {
    let workspace = Workspace::new("");
    let dir = workspace.dir.path();
    // A 15 MB report with one photo: the archive is within 20 MB, its text is short.
    let photo = dir.join("photo.docx");
    std::fs::write(&photo, docx(&three_parts(0), Some(15 << 20))).unwrap();
    let output = studybot(
        &workspace,
        &["import", photo.to_str().unwrap(), "--dry-run"],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("3 个部分"),
        "{}",
        text(&output.stderr)
    );

    // A GBK text too long is measured in characters, not in bytes of any encoding.
    let long = "一、标题\n".to_string() + &"字".repeat(1_050_000);
    let (gbk, _, _) = encoding_rs::GBK.encode(&long);
    let gbk_file = dir.join("long.txt");
    std::fs::write(&gbk_file, &gbk).unwrap();
    let output = studybot(
        &workspace,
        &["import", gbk_file.to_str().unwrap(), "--dry-run"],
    );
    let stderr = text(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("文字有 1,050,005 字，超过 1,000,000 字的上限"),
        "{stderr}"
    );

    // A file past the bot's 20 MB, in MB as the limit is.
    let big = dir.join("big.txt");
    std::fs::write(&big, vec![b'a'; 21 << 20]).unwrap();
    let output = studybot(&workspace, &["import", big.to_str().unwrap(), "--dry-run"]);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("文件有 21.0 MB，超过 20 MB 的上限"),
        "{stderr}"
    );
}

#[test]
fn an_edited_data_file_gets_the_reason_check_gives() {
    let workspace = Workspace::new("");
    let dir = workspace.dir.path();
    let report = dir.join("report.txt");
    std::fs::write(&report, REPORT).unwrap();
    let output = studybot(
        &workspace,
        &["import", report.to_str().unwrap(), "--dry-run"],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let data = text(&output.stdout);
    assert!(data.contains("\nparts: 2\n"), "{data}");
    for (name, edited) in [
        ("parts.md", data.replace("\nparts: 2\n", "\nparts: 3\n")),
        ("id.md", data.replace("\nid: report\n", "\nid: 工作报告\n")),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, &edited).unwrap();
        let shown = path.to_str().unwrap();
        let expected = parse_document(shown, &edited).unwrap_err().to_string();
        let output = studybot(&workspace, &["import", shown]);
        let stderr = text(&output.stderr);
        assert!(!output.status.success());
        assert!(stderr.contains(&expected), "{expected}\n{stderr}");
        assert!(!stderr.contains("没有找到文章结构"), "{stderr}");
    }
    assert_eq!(stored_texts(&workspace.db()), 0);
}

#[test]
fn ids_differing_only_in_case_are_one_id() {
    let workspace = Workspace::new("");
    let report = workspace.dir.path().join("report.txt");
    std::fs::write(&report, REPORT).unwrap();
    let path = report.to_str().unwrap();
    let shipped = studybot(&workspace, &["import", path, "--id", "XZSJ"]);
    assert!(!shipped.status.success());
    assert!(
        text(&shipped.stderr).contains("编号“xzsj”是 data/texts 中自带文本的编号"),
        "{}",
        text(&shipped.stderr)
    );
    let first = studybot(&workspace, &["import", path, "--id", "Report"]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let twin = studybot(&workspace, &["import", path, "--id", "REPORT", "--replace"]);
    assert!(!twin.status.success());
    assert!(
        text(&twin.stderr).contains("编号“REPORT”与已有文本的编号“Report”只差大小写"),
        "{}",
        text(&twin.stderr)
    );
    assert_eq!(stored_texts(&workspace.db()), 1);
}

const WAIT: std::time::Duration = std::time::Duration::from_secs(20);

/// A two-part report with points, as an operator would send it.
const REPORT: &str = "2025年工作报告\n一、过去一年的工作\n去年经济平稳。\n（一）稳增长\n投资增长较快。\n（二）惠民生\n就业保持稳定。\n二、今年的主要任务\n今年要继续努力。\n（一）扩内需\n消费持续恢复。\n";

/// The texts the bot sent to (or left, after edits, in) `chat_id`, newest last.
fn bot_texts(tg: &FakeTelegram, chat_id: i64) -> Vec<String> {
    tg.bot_messages(chat_id)
        .iter()
        .map(|m| m["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Waits for the bot's `n`th message in `chat_id` and returns it (text, message id).
async fn nth_reply(tg: &FakeTelegram, chat_id: i64, n: usize) -> (String, i64) {
    assert!(
        tg.wait_state(|tg| tg.bot_messages(chat_id).len() >= n, WAIT)
            .await,
        "reply {n} in {chat_id}: {:?}",
        bot_texts(tg, chat_id)
    );
    let message = tg.bot_messages(chat_id)[n - 1].clone();
    (
        message["text"].as_str().unwrap_or_default().to_string(),
        message["message_id"].as_i64().unwrap(),
    )
}

/// Waits until message `id` in `chat_id` no longer reads `before` (a button's edit).
async fn edited(tg: &FakeTelegram, chat_id: i64, id: i64, before: &str) -> String {
    let text = |tg: &FakeTelegram| {
        tg.message(chat_id, id).unwrap()["text"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        tg.wait_state(|tg| text(tg) != before, WAIT).await,
        "message {id} is edited"
    );
    text(tg)
}

fn buttons(tg: &FakeTelegram, chat_id: i64, id: i64) -> Vec<String> {
    tg.message(chat_id, id).unwrap()["reply_markup"]["inline_keyboard"][0]
        .as_array()
        .map(|row| {
            row.iter()
                .map(|b| b["callback_data"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_imports_a_file_through_telegram_and_every_chat_has_it_at_once() {
    let tg = FakeTelegram::start().await;
    let workspace = Workspace::new("");
    let bot = STUDYBOT.start_with_env(
        &workspace,
        &tg.api_url(),
        &["run"],
        &[("STUDYBOT_OPERATORS", "42, 43")],
    );
    assert!(
        tg.wait_for_requests("setMyCommands", 2, WAIT).await,
        "the bot starts: {}",
        bot.log()
    );
    let ann = FakeUser::new(42, "Ann");
    let bob = FakeUser::new(7, "Bob");
    let private = FakeChat::private(&ann);
    let group = FakeChat::group(-100, "学习小组");
    let mut replies = 0;

    // Someone who is not an operator is told who can import; nothing is fetched.
    tg.send_document(
        &FakeChat::private(&bob),
        &bob,
        "report.txt",
        REPORT.as_bytes(),
        200,
    );
    let (text, _) = nth_reply(&tg, 7, 1).await;
    assert!(text.contains("只有本机器人的操作员可以导入"), "{text}");
    assert!(text.contains("operators") && text.contains("7"), "{text}");
    assert!(tg.requests_for("getFile").is_empty());

    // Every bad file gets its reason, and nothing is stored.
    let (gbk, _, _) = encoding_rs::GBK.encode("只是一段话，没有标题。");
    let bad: [(&str, Vec<u8>, u64, &str); 7] = [
        ("empty.txt", Vec::new(), 0, "空的"),
        (
            "binary.txt",
            vec![0x7f, b'E', b'L', b'F', 0, 0, 1, 2],
            8,
            "不是文本文件",
        ),
        (
            "broken.docx",
            b"PK\x03\x04broken".to_vec(),
            10,
            "无法读取这个 .docx",
        ),
        ("plain.txt", gbk.into_owned(), 22, "没有找到文章结构"),
        // One file limit for every kind, as `studybot import` has, in MB as it is.
        (
            "long.txt",
            b"x".to_vec(),
            21 * 1024 * 1024,
            "文件有 21.0 MB，超过 20 MB 的上限",
        ),
        (
            "scan.docx",
            b"x".to_vec(),
            25 * 1024 * 1024,
            "文件有 25.0 MB，超过 20 MB 的上限",
        ),
        (
            "slides.pdf",
            b"%PDF".to_vec(),
            4,
            "只能导入 .txt、.md 或 .docx",
        ),
    ];
    for (name, bytes, size, reason) in bad {
        tg.send_document(&private, &ann, name, &bytes, size);
        replies += 1;
        let (text, id) = nth_reply(&tg, 42, replies).await;
        assert!(
            text.contains("无法导入") && text.contains(reason),
            "{name}: {text}"
        );
        assert!(buttons(&tg, 42, id).is_empty(), "{name}: no buttons");
    }
    // An over-long text is refused after reading it, measured in characters: a GBK
    // file is not reported in the bytes it would take in UTF-8.
    let huge = format!("一、标题\n{}", "很长的文字。".repeat(200_000));
    let (gbk, _, _) = encoding_rs::GBK.encode(&huge);
    tg.send_document(&private, &ann, "huge.txt", &gbk, gbk.len() as u64);
    replies += 1;
    let (text, _) = nth_reply(&tg, 42, replies).await;
    assert!(
        text.contains("文字有 1,200,005 字，超过 1,000,000 字的上限"),
        "{text}"
    );

    // A good file: the outline, marks and buttons; 取消 stores nothing.
    tg.send_document(&private, &ann, "report.txt", REPORT.as_bytes(), 200);
    replies += 1;
    let (preview, id) = nth_reply(&tg, 42, replies).await;
    assert!(preview.contains("《2025年工作报告》"), "{preview}");
    assert!(
        preview.contains("编号 report；2 个部分，3 个要点"),
        "{preview}"
    );
    assert!(preview.contains("一、过去一年的工作 [完整]"), "{preview}");
    assert!(preview.contains("  1.2 惠民生 [完整]"), "{preview}");
    assert!(preview.contains("没有删去任何内容"), "{preview}");
    let data = buttons(&tg, 42, id);
    assert_eq!(data.len(), 2, "导入 / 取消");
    assert!(data.iter().all(|d| d.len() <= 64), "{data:?}");
    tg.press_button(&private, &ann, id, &data[1]);
    let text = edited(&tg, 42, id, &preview).await;
    assert!(text.contains("已取消"), "{text}");

    tg.send_text(&group, &bob, "/docs");
    let (docs, _) = nth_reply(&tg, -100, 1).await;
    assert!(docs.contains("共 1 篇"), "{docs}");

    // 导入: confirmed once durable, and listed in every chat at once.
    tg.send_document(&private, &ann, "report.txt", REPORT.as_bytes(), 200);
    replies += 1;
    let (preview, id) = nth_reply(&tg, 42, replies).await;
    let data = buttons(&tg, 42, id);
    // A forged token and another user's press change nothing.
    tg.press_button(&private, &ann, id, "ei:AAAAAAAAAAAA:y");
    tg.press_button(&FakeChat::private(&bob), &bob, id, &data[0]);
    assert!(tg.wait_for_requests("answerCallbackQuery", 3, WAIT).await);
    assert_eq!(
        tg.message(42, id).unwrap()["text"].as_str().unwrap(),
        preview
    );
    tg.press_button(&private, &ann, id, &data[0]);
    let text = edited(&tg, 42, id, &preview).await;
    assert!(
        text.contains("已导入《2025年工作报告》：编号 report"),
        "{text}"
    );
    tg.send_text(&group, &bob, "/docs");
    let (docs, _) = nth_reply(&tg, -100, 2).await;
    assert!(
        docs.contains("共 2 篇") && docs.contains("编号 report"),
        "{docs}"
    );
    // Pressing 导入 again is stale.
    tg.press_button(&private, &ann, id, &data[0]);
    assert!(tg.wait_for_requests("answerCallbackQuery", 5, WAIT).await);
    let notice = tg.requests_for("answerCallbackQuery")[4].body["text"].clone();
    assert!(
        notice.as_str().is_some_and(|n| n.contains("已过期")),
        "{notice}"
    );
    assert_eq!(tg.message(42, id).unwrap()["text"].as_str().unwrap(), text);

    // The same text again is a new version, and says so.
    let second = REPORT.replace("消费持续恢复。", "消费持续恢复，市场活跃。");
    tg.send_document(&private, &ann, "report.txt", second.as_bytes(), 200);
    replies += 1;
    let (preview, id) = nth_reply(&tg, 42, replies).await;
    assert!(preview.contains("已经导入过"), "{preview}");
    tg.press_button(&private, &ann, id, &buttons(&tg, 42, id)[0]);
    let text = edited(&tg, 42, id, &preview).await;
    assert!(text.contains("已更新"), "{text}");
    tg.send_text(&group, &bob, "/docs");
    let (docs, _) = nth_reply(&tg, -100, 3).await;
    assert!(docs.contains("共 2 篇"), "{docs}");

    let status = bot.terminate(WAIT).await;
    assert!(status.success());
    let store = Store::open(&workspace.db()).unwrap();
    assert_eq!(store.imported_texts().unwrap().len(), 1);
    let served = Library::load(&root().join("data"), &store).unwrap().0;
    let report = served.document("report").unwrap();
    assert!(
        report
            .sections
            .iter()
            .any(|s| s.paragraphs().any(|p| p.contains("市场活跃"))),
        "the new version is stored"
    );
}

/// Bodies of successful sends (sendMessage and sendPoll) to `chat_id`, oldest first.
fn sends_to(tg: &FakeTelegram, chat_id: i64) -> Vec<serde_json::Value> {
    tg.requests()
        .into_iter()
        .filter(|r| (r.is("sendMessage") || r.is("sendPoll")) && r.ok())
        .filter(|r| r.body["chat_id"].as_i64() == Some(chat_id))
        .map(|r| r.body)
        .collect()
}

/// A send's text: a message's text or a poll's question and options.
fn shown(body: &serde_json::Value) -> String {
    match body["question"].as_str() {
        Some(question) => format!(
            "{question} {} {}",
            body["options"],
            body["explanation"].as_str().unwrap_or_default()
        ),
        None => body["text"].as_str().unwrap_or_default().to_string(),
    }
}

/// Sends `command` in `chat` and returns the bot's answer (the next send there).
async fn ask(tg: &FakeTelegram, chat: &FakeChat, from: &FakeUser, command: &str) -> String {
    let before = sends_to(tg, chat.id).len();
    tg.send_text(chat, from, command);
    assert!(
        tg.wait_state(|tg| sends_to(tg, chat.id).len() > before, WAIT)
            .await,
        "{command} is answered"
    );
    shown(&sends_to(tg, chat.id)[before])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_studies_an_imported_text_while_another_keeps_the_speech() {
    let tg = FakeTelegram::start().await;
    let workspace = Workspace::with_sections("", "[quiz]\nopen_period = 5\n");
    let report = workspace.dir.path().join("report.txt");
    std::fs::write(&report, REPORT).unwrap();
    let imported = studybot(&workspace, &["import", report.to_str().unwrap()]);
    assert!(imported.status.success(), "{}", text(&imported.stderr));

    let bot = STUDYBOT.start(&workspace, &tg.api_url(), &["run"]);
    assert!(
        tg.wait_for_requests("setMyCommands", 2, WAIT).await,
        "the bot starts: {}",
        bot.log()
    );
    let ann = FakeUser::new(42, "Ann");
    let bob = FakeUser::new(7, "Bob");
    let reports = FakeChat::group(-100, "报告学习组");
    let speech = FakeChat::group(-200, "讲话学习组");
    tg.set_admins(reports.id, vec![ann.id]);
    tg.set_admins(speech.id, vec![ann.id]);

    // Only an admin switches a group's text.
    let refused = ask(&tg, &reports, &bob, "/use report").await;
    assert!(refused.contains("只有群管理员可以"), "{refused}");
    let unknown = ask(&tg, &reports, &ann, "/use 9").await;
    assert!(unknown.contains("没有序号或编号为“9”的文本"), "{unknown}");
    let switched = ask(&tg, &reports, &ann, "/use report").await;
    assert!(
        switched.contains("本群现在学习") && switched.contains("《2025年工作报告》"),
        "{switched}"
    );

    let outline = ask(&tg, &reports, &bob, "/outline").await;
    assert!(outline.contains("过去一年的工作"), "{outline}");
    assert!(!outline.contains("铸牢政治之魂"), "{outline}");
    let section = ask(&tg, &reports, &bob, "/section 1.2").await;
    assert!(section.contains("就业保持稳定"), "{section}");
    let found = ask(&tg, &reports, &bob, "/search 消费").await;
    assert!(found.contains("<b>消费</b>持续恢复"), "{found}");
    let status = ask(&tg, &reports, &bob, "/status").await;
    assert!(status.contains("学习文本：《2025年工作报告》"), "{status}");
    let docs = ask(&tg, &reports, &bob, "/docs").await;
    assert!(
        docs.contains("《2025年工作报告》</b>（正在学习）"),
        "{docs}"
    );

    // The other group keeps the shipped speech.
    let outline = ask(&tg, &speech, &bob, "/outline").await;
    assert!(outline.contains("铸牢政治之魂"), "{outline}");
    let status = ask(&tg, &speech, &bob, "/status").await;
    assert!(status.contains("学习文本：《在全市乡镇"), "{status}");

    // A quiz on the report asks about the report.
    let report_words = [
        "过去一年的工作",
        "今年的主要任务",
        "稳增长",
        "惠民生",
        "扩内需",
        "全文共2个部分",
        "过去一年的",
        "今年的主要",
    ];
    let announced = ask(&tg, &reports, &ann, "/quiz 1").await;
    assert!(announced.contains("测验开始"), "{announced}");
    assert!(
        tg.wait_state(
            |tg| sends_to(tg, reports.id)
                .iter()
                .any(|s| s["question"].is_string()),
            WAIT
        )
        .await
    );
    let poll = sends_to(&tg, reports.id)
        .into_iter()
        .find(|s| s["question"].is_string())
        .unwrap();
    assert!(
        report_words.iter().any(|w| shown(&poll).contains(w)),
        "{}",
        shown(&poll)
    );

    for group in [&reports, &speech] {
        for command in ["/subscribe 08:00", "/dailyquiz on"] {
            ask(&tg, group, &ann, command).await;
        }
    }
    assert!(bot.terminate(WAIT).await.success());

    // The daily excerpt: each group gets its own text, and the report group its question.
    let due = {
        let store = Store::open(&workspace.db()).unwrap();
        let reading = store.subscription(reports.id).unwrap().unwrap();
        assert_eq!(reading.document, "report");
        assert_eq!(
            store.subscription(speech.id).unwrap().unwrap().document,
            "xzsj"
        );
        reading.next_due
    };
    let (report_before, speech_before) = (
        sends_to(&tg, reports.id).len(),
        sends_to(&tg, speech.id).len(),
    );
    let tick = STUDYBOT.start(
        &workspace,
        &tg.api_url(),
        &[
            "tick",
            "--now",
            &(due + chrono::TimeDelta::seconds(30)).to_rfc3339(),
        ],
    );
    let mut tick = tick;
    let status = tokio::time::timeout(WAIT, tick.child.wait())
        .await
        .expect("tick ends")
        .unwrap();
    assert!(status.success(), "tick failed:\n{}", tick.log());
    let excerpt: Vec<String> = sends_to(&tg, reports.id)[report_before..]
        .iter()
        .map(shown)
        .collect();
    assert!(
        excerpt.iter().any(|e| e.contains("去年经济平稳")),
        "{excerpt:?}"
    );
    let question = excerpt.iter().find(|e| e.contains("[")).cloned();
    assert!(
        question.is_some_and(|q| report_words.iter().any(|w| q.contains(w))),
        "the daily question is on the report: {excerpt:?}"
    );
    let other: Vec<String> = sends_to(&tg, speech.id)[speech_before..]
        .iter()
        .map(shown)
        .collect();
    assert!(other.iter().any(|e| e.contains("同志们")), "{other:?}");
    assert!(
        !other.iter().any(|e| e.contains("去年经济平稳")),
        "{other:?}"
    );
}
