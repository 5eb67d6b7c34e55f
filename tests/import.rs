//! `studybot import` through the real binary: the seed in data-file form (`--dry-run`),
//! a real import that survives restarts and backups, refusals, and bad files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use harness::{Studybot, Workspace, root};
use studybot::app::library::Library;
use studybot::store::Store;
use studybot::text::{Document, Section, parse_document};

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
            "太长",
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
