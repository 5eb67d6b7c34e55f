//! The library benchmarks: importing a 60,000-character report (parse, debris,
//! structure, store, quiz bank) and the idle footprint of `studybot run` with 20
//! imported texts beside 100,000 subscribed chats.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::Utc;
use fake_telegram::FakeTelegram;
use rand::SeedableRng;
use rand::rngs::StdRng;
use studybot::app::library::Library;
use studybot::quiz::QuestionBank;
use studybot::store::Store;
use studybot::text::chinese_numeral;
use studybot::text::import::{self, FileKind};

use crate::scheduling;

/// How long the generated report is, in characters.
pub const REPORT_CHARS: usize = 60_000;
/// How many texts are imported for the footprint.
pub const IMPORTED_TEXTS: usize = 20;

/// A work report as copied from a news site: a header and footer of page debris, a
/// title, an opening, parts `一、` with points `（一）`, paragraphs of sentences with
/// quoted phrases, until it has [`REPORT_CHARS`] characters.
pub fn report() -> String {
    const SENTENCES: [&str; 8] = [
        "坚持稳中求进工作总基调，完整准确全面贯彻新发展理念，加快构建新发展格局。",
        "要当好“领头雁”，把各项任务落到实处，推动经济实现质的有效提升和量的合理增长。",
        "我们深入实施创新驱动发展战略，科技投入持续增加，企业创新主体地位不断增强。",
        "打通政策落地的“最后一公里”，让群众有更多获得感、幸福感、安全感。",
        "坚决守住不发生系统性风险的底线，统筹发展和安全，保持社会大局稳定。",
        "扎实推进乡村全面振兴，粮食产量保持稳定，农民收入较快增长。",
        "持续改善生态环境质量，深入打好蓝天、碧水、净土保卫战。",
        "加强基层治理，发挥“主力军”作用，提高社会治理社会化、法治化、智能化水平。",
    ];
    const PART_TITLES: [&str; 12] = [
        "过去一年工作回顾",
        "今年经济社会发展总体要求",
        "扩大国内需求",
        "建设现代化产业体系",
        "深化重点领域改革",
        "推进高水平对外开放",
        "统筹新型城镇化和乡村振兴",
        "加强生态文明建设",
        "切实保障和改善民生",
        "推进法治政府建设",
        "维护国家安全和社会稳定",
        "加强政府自身建设",
    ];
    const POINT_WORDS: [&str; 6] = ["科技", "教育", "人才", "产业", "民生", "安全"];
    let mut text = String::from(
        "首页 > 时政 > 正文\n来源：新华网 2026-03-05 09:12\n【字体：大 中 小】\n\n政府工作报告\n——2026年3月5日在第十四届全国人民代表大会第四次会议上\n\n各位代表：\n\n",
    );
    let mut chars = 0;
    let mut sentence = 0;
    let mut paragraph = |text: &mut String, chars: &mut usize| {
        for _ in 0..4 {
            let s = SENTENCES[sentence % SENTENCES.len()];
            text.push_str(s);
            *chars += s.chars().count();
            sentence += 1;
        }
        text.push_str("\n\n");
    };
    paragraph(&mut text, &mut chars);
    'parts: for (p, title) in PART_TITLES.iter().enumerate() {
        text.push_str(&format!("{}、{title}\n\n", chinese_numeral(p as u8 + 1)));
        paragraph(&mut text, &mut chars);
        for q in 0..5 {
            let word = POINT_WORDS[(p + q) % POINT_WORDS.len()];
            text.push_str(&format!(
                "（{}）着力推动{word}高质量发展第{}项。\n\n",
                chinese_numeral(q as u8 + 1),
                p * 5 + q + 1
            ));
            // Seven paragraphs a point: 12 parts × 5 points come to about 60,000 characters.
            for _ in 0..7 {
                paragraph(&mut text, &mut chars);
            }
            if chars >= REPORT_CHARS {
                break 'parts;
            }
        }
    }
    text.push_str("责任编辑：张三\n扫一扫在手机打开当前页\n京ICP备12345678号\n");
    text
}

/// One measured import.
pub struct ImportRun {
    /// Characters in the file.
    pub chars: usize,
    /// Sections found.
    pub sections: usize,
    /// Questions in the bank.
    pub questions: usize,
    /// Wall time of import + store (flushed) + quiz bank, ms.
    pub total_ms: f64,
    /// Of which the importer itself (decode, debris, structure), ms.
    pub parse_ms: f64,
}

/// Imports [`report`] into a fresh sled store with the shipped texts, and builds its
/// quiz bank, timing each step.
pub fn import_report(root: &Path) -> ImportRun {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&dir.path().join("db")).expect("open the bench store");
    let (library, _) = Library::load(&root.join("data"), &store).expect("load the texts");
    let bytes = report().into_bytes();
    let chars = String::from_utf8_lossy(&bytes).chars().count();
    let started = Instant::now();
    let imported =
        import::import(&bytes, FileKind::Text, "report.txt").expect("the report imports");
    let parse_ms = started.elapsed().as_secs_f64() * 1000.0;
    let document = library
        .store_import(&store, &imported, "report.txt", false, Utc::now())
        .expect("stored");
    store.flush().expect("flushed");
    let bank = QuestionBank::build(&document, &[], &mut StdRng::seed_from_u64(1));
    let total_ms = started.elapsed().as_secs_f64() * 1000.0;
    ImportRun {
        chars,
        sections: document.sections.len(),
        questions: bank.questions().len(),
        total_ms,
        parse_ms,
    }
}

/// Idle resident memory of `studybot run` with [`IMPORTED_TEXTS`] copies of the report
/// imported and `chats` subscribed chats.
pub async fn footprint_with_texts(root: &Path, studybot: &Path, chats: usize) -> f64 {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("db");
    scheduling::seed(&db, chats, 0, false);
    {
        let store = Store::open(&db).expect("reopen");
        let (library, _) = Library::load(&root.join("data"), &store).expect("load the texts");
        let bytes = report().into_bytes();
        let mut imported =
            import::import(&bytes, FileKind::Text, "report.txt").expect("the report imports");
        for n in 0..IMPORTED_TEXTS {
            imported.document.id = format!("report-{n}");
            library
                .store_import(&store, &imported, "report.txt", false, Utc::now())
                .expect("stored");
        }
        store.flush().expect("flushed");
    }
    let tg = FakeTelegram::start().await;
    let config = scheduling::write_config(dir.path(), root, "");
    let mut child = scheduling::studybot_command(studybot, &config, &tg)
        .arg("run")
        .kill_on_drop(true)
        .spawn()
        .expect("start studybot");
    assert!(
        tg.wait_for_requests("setMyCommands", 2, Duration::from_secs(30))
            .await,
        "studybot started"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pid = child.id().expect("running");
    let rss = scheduling::process_rss_mb(pid);
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
    rss
}
