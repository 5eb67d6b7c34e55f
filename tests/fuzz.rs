//! Fuzzing, part of `cargo test`:
//!
//! - **Bad input:** property tests (proptest) feed random and hostile input to every
//!   parser that reads what users or editors type — section references, commands and
//!   their arguments through [`App::handle`], the data file, the curated questions, send
//!   times, time zones, callback data and the console — and check that nothing panics
//!   and every refusal is clear. A CI run tries [`budget::ALL`] cases; set
//!   `STUDYBOT_FUZZ_CASES` (e.g. `1000000`) for a long run that spreads that many cases
//!   over the same properties. proptest shrinks a failing input to a minimal one and
//!   prints it; each one found is kept below as a regression test.
//! - **Huge messages:** a 100,000-character message is refused quickly and briefly.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use proptest::prelude::{Just, Strategy, any};
use proptest::sample::Index;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use proptest::{prop_assert, prop_assert_eq, prop_oneof};

use studybot::app::library::Library;
use studybot::app::{App, ChatContext, ChatKind};
use studybot::command::{self, COMMANDS, Command, Input, SectionQuery};
use studybot::config::Config;
use studybot::quiz::curated::parse_curated;
use studybot::reply::Action;
use studybot::schedule::{format_time, parse_time, parse_timezone};
use studybot::store::Store;
use studybot::text::reference::{MAX_REFERENCE_CHARS, RefError};
use studybot::text::{Document, ParseError, Resolution, SectionId, SectionRef, parse_document};

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&Utc)
}

/// How many cases each property tries in a CI run (sized so that the whole file runs in
/// well under a minute in a debug build on two cores). The long mode scales them all so
/// that they add up to `STUDYBOT_FUZZ_CASES`.
mod budget {
    pub const REFERENCES: u32 = 10_000;
    pub const COMMAND_PARSE: u32 = 10_000;
    pub const APP_HANDLE: u32 = 5_000;
    pub const CONSOLE: u32 = 150;
    pub const DATA_FILE: u32 = 3_000;
    pub const GENERATED_DOCUMENTS: u32 = 60;
    pub const CURATED: u32 = 3_000;
    pub const TIMES_AND_ZONES: u32 = 10_000;
    pub const CALLBACK_DATA: u32 = 10_000;
    pub const IMPORTER: u32 = 1_500;
    /// The cases of a CI run in all.
    pub const ALL: u32 = REFERENCES
        + COMMAND_PARSE
        + APP_HANDLE
        + CONSOLE
        + DATA_FILE
        + GENERATED_DOCUMENTS
        + CURATED
        + TIMES_AND_ZONES
        + CALLBACK_DATA
        + IMPORTER;
}

/// The environment variable with the total number of cases for a long run.
const FUZZ_CASES_ENV: &str = "STUDYBOT_FUZZ_CASES";

/// Runs `property` on `weight` cases drawn from `strategy` (or its share of
/// `STUDYBOT_FUZZ_CASES`); on failure, panics with the shrunk input.
fn fuzz<S: Strategy>(
    name: &str,
    weight: u32,
    strategy: S,
    property: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let cases = match std::env::var(FUZZ_CASES_ENV) {
        Ok(total) => {
            let total: u64 = total
                .trim()
                .parse()
                .unwrap_or_else(|_| panic!("{FUZZ_CASES_ENV} must be a number, got {total:?}"));
            let share = total * u64::from(weight) / u64::from(budget::ALL);
            u32::try_from(share.max(1)).unwrap_or(u32::MAX)
        }
        Err(_) => weight,
    };
    let config = ProptestConfig {
        cases,
        // Inputs that fail are kept as named regression tests in this file instead.
        failure_persistence: None,
        max_shrink_iters: 10_000,
        ..ProptestConfig::default()
    };
    let started = std::time::Instant::now();
    let mut runner = TestRunner::new(config);
    if let Err(error) = runner.run(&strategy, property) {
        panic!("{name}: {error}");
    }
    eprintln!("{name}: {cases} cases in {:.1?}", started.elapsed());
}

/// Pieces of hostile input: what the parsers look for, and what breaks naive code.
#[rustfmt::skip]
const FRAGMENTS: &[&str] = &[
    // Numbers in every form, and ones too big for any integer.
    "0", "1", "2", "3", "5", "9", "10", "12", "23", "59", "60", "99", "100", "255", "256",
    "-1", "+1", "007", "1e9", "18446744073709551616", "99999999999999999999999999999999",
    "０", "１", "２", "５", "９", "１２",
    "一", "二", "三", "五", "九", "十", "十二", "二十", "九十九", "一百", "零", "〇", "两", "万", "亿",
    // Separators people put between numbers.
    ".", "。", "、", "-", "－", "—", "–", "·", "・", "_", ",", "，", "/", "／", ":", "：", "．",
    // Words the parsers know.
    "第", "部分", "方面", "的", "点", "条", "开场", "开场白", "引言",
    "网格", "为民", "根基", "清廉之本", "管好队伍", "群众",
    "on", "off", "ON", "开", "关闭", "Asia/Shanghai", "europe/berlin", "UTC", "Etc/GMT+14",
    "section", "search", "quiz", "s:xzsj:", "o:xzsj", "s:", "o:", "xzsj",
    "@studybot_bot", "@other_bot", "@",
    // The markup of the data files.
    "#", "# ", "## ", "[full]", "[partial]", "[title]", "[gap]", "[", "]", "|", "---",
    "<!--", "-->", "- [x] ", "- [ ] ", "> ", "原文：", "id:", "title:", "parts:",
    // Whitespace and control characters.
    " ", "   ", "\t", "\n", "\r\n", "\r", "\u{3000}", "\u{a0}", "\u{2028}", "\u{85}",
    "\0", "\u{7}", "\u{1b}[31m", "\u{7f}", "\u{feff}", "\u{200b}", "\u{200d}", "\u{202e}",
    // Emoji, combining marks, the edges of Unicode.
    "🙂", "👨\u{200d}👩\u{200d}👧", "🇨🇳", "e\u{301}", "\u{301}", "𠀀", "\u{10ffff}", "\u{fffd}",
    // Case mappings that change a string's length.
    "İ", "ß", "ﬃ", "Σ", "ǅ",
    // Quotes and HTML.
    "“", "”", "《", "》", "\"", "'", "<b>", "&amp;", "<", ">", "&",
];

/// Up to `max` fragments glued together.
fn hostile(max: usize) -> impl Strategy<Value = String> + Clone {
    proptest::collection::vec(proptest::sample::select(FRAGMENTS), 0..=max)
        .prop_map(|parts| parts.concat())
}

/// Any text: arbitrary Unicode, glued fragments, or one fragment repeated thousands of
/// times.
fn any_text() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        4 => any::<String>(),
        6 => hostile(12),
        1 => (proptest::sample::select(FRAGMENTS), 1..3000_usize)
            .prop_map(|(fragment, times)| fragment.repeat(times)),
    ]
}

fn speech() -> &'static Document {
    static SPEECH: OnceLock<Document> = OnceLock::new();
    SPEECH.get_or_init(|| {
        parse_document("xzsj.md", &std::fs::read_to_string(speech_path()).unwrap()).unwrap()
    })
}

fn speech_path() -> std::path::PathBuf {
    harness::root().join("data/texts/xzsj.md")
}

fn curated_path() -> std::path::PathBuf {
    harness::root().join("data/questions.md")
}

/// The app as `studybot console` builds it, on an in-memory store.
fn app() -> App {
    let store = Store::in_memory();
    let (library, _) = Library::load(&harness::root().join("data"), &store).unwrap();
    let curated = parse_curated(
        "questions.md",
        &std::fs::read_to_string(curated_path()).unwrap(),
        library.default_document(),
    )
    .unwrap();
    App::with_curated_questions(library, store, Config::default(), curated)
}

fn is_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

#[test]
fn fuzz_section_references() {
    let document = speech();
    fuzz(
        "section references",
        budget::REFERENCES,
        any_text(),
        |input| {
            let trimmed = input.trim();
            match SectionRef::parse(&input) {
                Err(RefError::Empty) => prop_assert!(trimmed.is_empty()),
                Err(RefError::TooLong) => {
                    prop_assert!(trimmed.chars().count() > MAX_REFERENCE_CHARS)
                }
                Err(RefError::NoSuchNumber | RefError::NothingToFind) => {
                    prop_assert!(!trimmed.is_empty());
                    prop_assert!(trimmed.chars().count() <= MAX_REFERENCE_CHARS);
                }
                Ok(reference) => {
                    prop_assert!(!trimmed.is_empty());
                    prop_assert!(trimmed.chars().count() <= MAX_REFERENCE_CHARS);
                    match (&reference, reference.resolve(document)) {
                        (SectionRef::Id(id), Resolution::Found(found)) => {
                            prop_assert_eq!(*id, found);
                            prop_assert!(document.section(found).is_some());
                        }
                        (SectionRef::Id(id), Resolution::NoSuchSection(missing)) => {
                            prop_assert_eq!(*id, missing);
                            prop_assert!(document.section(missing).is_none());
                        }
                        (SectionRef::Keyword(_), Resolution::Found(found)) => {
                            prop_assert!(document.section(found).is_some())
                        }
                        (SectionRef::Keyword(_), Resolution::Ambiguous(ids)) => {
                            prop_assert!(ids.len() >= 2);
                            prop_assert!(ids.iter().all(|id| document.section(*id).is_some()));
                        }
                        (SectionRef::Keyword(_), Resolution::NoMatch(_)) => {}
                        (reference, resolution) => {
                            prop_assert!(false, "{reference:?} resolved to {resolution:?}")
                        }
                    }
                }
            }
            Ok(())
        },
    );
}

#[test]
fn fuzz_command_parsing() {
    let names = proptest::sample::select(
        COMMANDS
            .iter()
            .map(|info| info.name.to_string())
            .chain(["SECTION", "foo", "", "section@studybot_bot", "section@x"].map(String::from))
            .collect::<Vec<_>>(),
    );
    let strategy = (names, any_text(), any_text());
    fuzz(
        "command parsing",
        budget::COMMAND_PARSE,
        strategy,
        |(name, argument, raw)| {
            for bot in [None, Some("studybot_bot")] {
                if let Input::Unknown(name) = command::parse(&raw, bot) {
                    prop_assert!(name.chars().count() <= 32);
                }
                if !raw.trim_start().starts_with('/') {
                    prop_assert_eq!(command::parse(&raw, bot), Input::Text);
                }
            }
            // Whatever follows the name (after whitespace) is the argument, trimmed.
            match command::parse(&format!("/{name} {argument}"), None) {
                Input::Command(Command::Search(parsed)) => {
                    prop_assert_eq!(parsed, argument.trim());
                }
                Input::Command(Command::Section(query)) => {
                    prop_assert_eq!(query, SectionQuery::parse(argument.trim()));
                }
                _ => {}
            }
            Ok(())
        },
    );
}

/// Every command with a random argument, in a private chat or a group, from an admin or
/// not, at a random time: no panic, and every reply is a short Chinese sentence that
/// does not parrot a long argument back.
#[test]
fn fuzz_every_command_through_the_app() {
    let app = app();
    let names = proptest::sample::select(
        COMMANDS
            .iter()
            .map(|info| format!("/{}", info.name))
            .chain(["/nosuchcommand", "/section@other_bot", "", "/"].map(String::from))
            .collect::<Vec<_>>(),
    );
    let chat = (
        prop_oneof![
            Just(1_i64),
            Just(-1001),
            Just(-5),
            Just(i64::MIN),
            Just(i64::MAX)
        ],
        any::<bool>(),
        any::<bool>(),
        any::<u64>(),
        hostile(3),
    )
        .prop_map(
            |(chat_id, private, is_admin, user_id, user_name)| ChatContext {
                chat_id,
                kind: if private {
                    ChatKind::Private
                } else {
                    ChatKind::Group
                },
                user_id,
                user_name,
                is_admin,
                topic: None,
            },
        );
    // 2000-01-01 to 2100-01-01.
    let now =
        (946_684_800_i64..4_102_444_800).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap());
    let strategy = (names, any_text(), chat, now);
    fuzz(
        "every command",
        budget::APP_HANDLE,
        strategy,
        |(name, argument, chat, now)| {
            let message = format!("{name} {argument}");
            let input = command::parse(&message, Some("studybot_bot"));
            let silent = matches!(input, Input::OtherBot)
                || (matches!(input, Input::Text) && chat.kind == ChatKind::Group);
            let replies = app.handle(&chat, input.clone(), now);
            prop_assert_eq!(replies.is_empty(), silent, "{:?} → {:?}", input, replies);
            for reply in &replies {
                let text = reply.plain_text();
                prop_assert!(!text.trim().is_empty(), "{input:?}: empty reply");
                prop_assert!(is_chinese(&text), "{input:?}: {text}");
                prop_assert!(
                    text.chars().count() <= 6000,
                    "{input:?}: {} chars",
                    text.chars().count()
                );
                let argument = argument.trim();
                if argument.chars().count() > 64 {
                    prop_assert!(
                        !text.contains(argument),
                        "{input:?}: the reply parrots the argument"
                    );
                }
            }
            Ok(())
        },
    );
}

/// Random lines into the console (which also answers quiz questions with plain lines).
#[test]
fn fuzz_the_console() {
    let app = app();
    let lines = proptest::collection::vec(
        prop_oneof![
            2 => any_text(),
            1 => proptest::sample::select(vec!["/quiz 2", "/quiz", "/stopquiz", "1", "2", "0", "9", "/score", "/top", "/subscribe", "/today", "/plan"])
                .prop_map(String::from),
        ],
        1..12,
    );
    fuzz("console", budget::CONSOLE, lines, |lines| {
        let input = lines.join("\n");
        let mut output = Vec::new();
        studybot::console::run(&app, input.as_bytes(), &mut output).unwrap();
        let output = String::from_utf8(output).unwrap();
        let commands = lines.iter().filter(|l| !l.trim().is_empty()).count();
        prop_assert!(commands == 0 || is_chinese(&output), "{output}");
        Ok(())
    });
}

/// A change to a file's lines.
#[derive(Debug, Clone)]
enum Mutation {
    Delete(Index),
    Duplicate(Index),
    Swap(Index, Index),
    /// Replaces the line's `[mark]` (or its end) with junk.
    CorruptMark(Index, String),
    /// A new line of junk.
    Insert(Index, String),
    /// Junk inside a line.
    Edit(Index, Index, String),
    /// The file ends early.
    Truncate(Index),
    /// A heading's number replaced (`## 2.1` → `## 255.3`).
    Renumber(Index, String),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let junk = || prop_oneof![3 => hostile(4), 1 => any::<String>()];
    let number = prop_oneof![
        (0..300_u32, 0..300_u32).prop_map(|(a, b)| format!("{a}.{b}")),
        (0..300_u32).prop_map(|a| a.to_string()),
        hostile(2),
    ];
    prop_oneof![
        any::<Index>().prop_map(Mutation::Delete),
        any::<Index>().prop_map(Mutation::Duplicate),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::Swap(a, b)),
        (any::<Index>(), junk()).prop_map(|(a, j)| Mutation::CorruptMark(a, j)),
        (any::<Index>(), junk()).prop_map(|(a, j)| Mutation::Insert(a, j)),
        (any::<Index>(), any::<Index>(), junk()).prop_map(|(a, b, j)| Mutation::Edit(a, b, j)),
        any::<Index>().prop_map(Mutation::Truncate),
        (any::<Index>(), number).prop_map(|(a, n)| Mutation::Renumber(a, n)),
    ]
}

fn mutate(source: &str, mutations: &[Mutation]) -> String {
    let mut lines: Vec<String> = source.lines().map(String::from).collect();
    for mutation in mutations {
        let len = lines.len();
        match mutation {
            _ if len == 0 => lines.push(String::new()),
            Mutation::Delete(i) => {
                lines.remove(i.index(len));
            }
            Mutation::Duplicate(i) => {
                let i = i.index(len);
                lines.insert(i, lines[i].clone());
            }
            Mutation::Swap(a, b) => lines.swap(a.index(len), b.index(len)),
            Mutation::CorruptMark(i, junk) => {
                let line = &mut lines[i.index(len)];
                match line.rfind('[') {
                    Some(at) => line.replace_range(at.., junk),
                    None => line.push_str(junk),
                }
            }
            Mutation::Insert(i, junk) => lines.insert(i.index(len + 1), junk.clone()),
            Mutation::Edit(i, at, junk) => {
                let line = &mut lines[i.index(len)];
                let boundaries: Vec<usize> = line
                    .char_indices()
                    .map(|(at, _)| at)
                    .chain([line.len()])
                    .collect();
                line.insert_str(boundaries[at.index(boundaries.len())], junk);
            }
            Mutation::Truncate(i) => lines.truncate(i.index(len + 1)),
            Mutation::Renumber(i, number) => {
                let line = &mut lines[i.index(len)];
                if let Some(rest) = line.strip_prefix('#') {
                    let hashes = if rest.starts_with('#') { "## " } else { "# " };
                    let tail = line
                        .trim_start_matches('#')
                        .trim_start()
                        .split_once(' ')
                        .map_or(String::new(), |(_, tail)| tail.to_string());
                    *line = format!("{hashes}{number} {tail}");
                }
            }
        }
    }
    lines.join("\n")
}

/// A rejected file must say where and what: `file:line: message`, the line within the file.
fn check_error(file: &str, source: &str, error: &ParseError) -> Result<(), TestCaseError> {
    let lines = source.lines().count().max(1);
    prop_assert_eq!(&error.file, file);
    prop_assert!(
        (1..=lines).contains(&error.line),
        "line {} of a {lines}-line file: {error}",
        error.line
    );
    prop_assert!(!error.message.trim().is_empty(), "{error}");
    prop_assert!(
        error
            .to_string()
            .starts_with(&format!("{file}:{}: ", error.line)),
        "{error}"
    );
    Ok(())
}

/// Pieces of the files people import: markers, debris, cut notices, line breaks.
#[rustfmt::skip]
const IMPORT_PIECES: &[&str] = &[
    "\n", "\n", "\n\n", "\r\n", "\u{2028}", "\u{a0}", "\u{3000}", " ", "\u{feff}", "\u{200b}",
    "一、", "二、", "三、", "十二、", "（一）", "（二）", "(三)", "1.", "2．", "3、", "一是", "二是", "三是",
    "第一，", "第二，", "第一部分", "第二章", "第三节", "目录", "提纲：", "……", "同志们：", "在", "上的讲话",
    "——", "铸牢政治之魂", "把准前行方向", ",", "，", "。", "！", "？", "；", "：", "“", "”", "《", "》",
    "(", ")", "（", "）", "[gap]", "#", "## ", "|", "---", "<!--", "-->", "来源：新华网", "责任编辑：",
    "【我要纠错】", "扫一扫", "相关稿件", "京ICP备123号", "新华社记者 张三 摄", "省略877字", "（未完",
    "全文共4678字，当前仅显示2464字", "收藏《标题》", "正式会员可完整阅读", "http://www.example.cn",
    "新华网", "首页 | 时政 | 国际 | 财经", "要加强学习", "群众", "abc", "English words", "2024-01-01 10:00",
];

/// What the importer may serve, compared without whitespace, control and invisible
/// characters (the importer removes the latter from the whole text, `is_invisible`): it
/// never writes a character sequence that the input does not have.
fn served_form(text: &str) -> String {
    use studybot::text::import::is_invisible;
    text.chars()
        .filter(|&c| !c.is_whitespace() && !c.is_control() && !is_invisible(c))
        // Markdown's heading and emphasis marks are markup, removed like whitespace.
        .filter(|c| !matches!(c, '\u{2060}' | '\u{feff}' | '#' | '*' | '_'))
        // `|` is written `｜` in a title (the data file's separator).
        .map(|c| if c == '｜' { '|' } else { c })
        .collect()
}

/// The importer takes untrusted bytes: random bytes and random mixes of the pieces of
/// real files never panic it; what it imports reads back through the data-file parser,
/// and every title and paragraph it serves is in the input.
#[test]
fn fuzz_the_importer() {
    use studybot::text::import::{FileKind, data_file, import};
    let bytes = proptest::collection::vec(any::<u8>(), 0..600).prop_map(|b| (b, None));
    let texts = proptest::collection::vec(
        prop_oneof![
            3 => proptest::sample::select(IMPORT_PIECES).prop_map(str::to_string),
            1 => any::<char>().prop_map(String::from),
        ],
        0..60,
    )
    .prop_map(|pieces| {
        let text = pieces.concat();
        (text.clone().into_bytes(), Some(text))
    });
    let strategy = prop_oneof![1 => bytes, 3 => texts];
    fuzz("importer", budget::IMPORTER, strategy, |(bytes, text)| {
        for kind in [FileKind::Text, FileKind::Docx] {
            let Ok(imported) = import(&bytes, kind, "fuzz.txt") else {
                continue;
            };
            let file = data_file(&imported.document, "fuzz.txt");
            let parsed = parse_document("fuzz.md", &file);
            prop_assert!(parsed.is_ok(), "{parsed:?}\n{file}");
            let Some(text) = &text else {
                continue;
            };
            let input = served_form(text);
            for section in imported.document.sections.iter().filter(|s| s.id.part > 0) {
                for served in section
                    .paragraphs()
                    .chain([section.title.as_str(), section.phrase.as_str()])
                {
                    prop_assert!(
                        input.contains(&served_form(served)),
                        "{served:?} is not in {text:?}"
                    );
                }
            }
        }
        Ok(())
    });
}

#[test]
fn fuzz_the_data_file() {
    let original = std::fs::read_to_string(speech_path()).unwrap();
    let strategy = proptest::collection::vec(mutation(), 0..5);
    fuzz("data file", budget::DATA_FILE, strategy, |mutations| {
        let source = mutate(&original, &mutations);
        match parse_document("xzsj.md", &source) {
            Err(error) => check_error("xzsj.md", &source, &error)?,
            Ok(document) => {
                // An opening address, or (a text without one) part 1.
                prop_assert!(
                    [SectionId::OPENING, SectionId::part(1)].contains(&document.sections[0].id)
                );
                prop_assert!(document.sections.windows(2).all(|w| w[0].id < w[1].id));
                let lines = source.lines().count();
                prop_assert!(
                    document
                        .sections
                        .iter()
                        .all(|s| (1..=lines).contains(&s.line))
                );
            }
        }
        Ok(())
    });
}

/// The metadata and opening of the generated documents below.
const BIG_DOCUMENT_HEAD: &str = "---\nid: big\ntitle: 大\n---\n# 0 开场 [full]\n话。\n";

/// Documents with more parts or points than a `u8` counts, in order: the parser must
/// refuse them, not overflow.
#[test]
fn fuzz_generated_documents() {
    let strategy = prop_oneof![
        (240..=257_usize, 0..=2_usize),
        (1..=2_usize, 240..=257_usize),
        (0..=300_usize, 0..=3_usize),
    ];
    fuzz(
        "generated documents",
        budget::GENERATED_DOCUMENTS,
        strategy,
        |(parts, points)| {
            let mut source = BIG_DOCUMENT_HEAD.to_string();
            for part in 1..=parts {
                source.push_str(&format!("# {part} 原则{part} | 短语 [title]\n"));
                for point in 1..=points {
                    source.push_str(&format!("## {part}.{point} 要点 [title]\n"));
                }
            }
            match parse_document("big.md", &source) {
                Err(error) => check_error("big.md", &source, &error)?,
                Ok(document) => prop_assert_eq!(document.sections.len(), 1 + parts * (1 + points)),
            }
            Ok(())
        },
    );
}

#[test]
fn fuzz_the_curated_questions() {
    let original = std::fs::read_to_string(curated_path()).unwrap();
    let document = speech();
    let strategy = proptest::collection::vec(mutation(), 0..5);
    fuzz(
        "curated questions",
        budget::CURATED,
        strategy,
        |mutations| {
            let source = mutate(&original, &mutations);
            match parse_curated("questions.md", &source, document) {
                Err(error) => check_error("questions.md", &source, &error)?,
                Ok(questions) => {
                    for question in &questions {
                        prop_assert_eq!(question.check(), Ok(()));
                        prop_assert!(document.section(question.section).is_some());
                    }
                }
            }
            Ok(())
        },
    );
}

#[test]
fn fuzz_send_times_and_time_zones() {
    let typed_time = (0..200_u32, 0..200_u32, any::<bool>()).prop_map(|(h, m, wide)| {
        let text = format!("{h}:{m:02}");
        if wide {
            text.chars()
                .map(|c| match c {
                    '0'..='9' => char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap(),
                    ':' => '：',
                    c => c,
                })
                .collect()
        } else {
            text
        }
    });
    let strategy = (any_text(), typed_time);
    fuzz(
        "times and zones",
        budget::TIMES_AND_ZONES,
        strategy,
        |(input, typed)| {
            if let Ok(time) = parse_time(&input) {
                prop_assert_eq!(parse_time(&format_time(time)), Ok(time));
            }
            if let Ok(zone) = parse_timezone(&input) {
                prop_assert!(zone.name().eq_ignore_ascii_case(input.trim()));
            }
            let ascii: String = typed
                .chars()
                .map(|c| match c {
                    '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap(),
                    '：' => ':',
                    c => c,
                })
                .collect();
            let (h, m) = ascii.split_once(':').unwrap();
            let (h, m): (u32, u32) = (h.parse().unwrap(), m.parse().unwrap());
            match parse_time(&typed) {
                Ok(time) => prop_assert_eq!(format_time(time), format!("{h:02}:{m:02}")),
                Err(_) => prop_assert!(h > 23 || m > 59 || ascii.len() > 5),
            }
            Ok(())
        },
    );
}

#[test]
fn fuzz_callback_data() {
    let app = app();
    let forged = prop_oneof![
        any_text(),
        (
            proptest::sample::select(vec!["s", "o", "es", "eo", "e", "x", ""]),
            prop_oneof![Just("xzsj".to_string()), hostile(2)],
            prop_oneof![
                (0..300_u32, 0..300_u32).prop_map(|(a, b)| format!("{a}.{b}")),
                hostile(3)
            ],
        )
            .prop_map(|(kind, document, section)| format!("{kind}:{document}:{section}")),
    ];
    fuzz("callback data", budget::CALLBACK_DATA, forged, |data| {
        if let Some((action, audience)) = Action::decode(&data) {
            let encoded = action.encode(audience);
            prop_assert!(encoded.len() <= 64);
            prop_assert_eq!(Action::decode(&encoded), Some((action, audience)));
        }
        match (
            Action::decode(&data),
            app.press(1, &data, chrono::Utc::now()),
        ) {
            (
                Some((
                    Action::Section {
                        document, section, ..
                    },
                    audience,
                )),
                Ok((reply, pressed)),
            ) => {
                prop_assert_eq!(document, "xzsj");
                prop_assert_eq!(audience, pressed);
                prop_assert!(speech().section(section).is_some());
                prop_assert!(is_chinese(&reply.plain_text()));
                prop_assert!(reply.limit_violations().is_empty());
            }
            (Some((Action::Outline { document, .. }, _)), Ok(_)) => {
                prop_assert_eq!(document, "xzsj")
            }
            // No import is pending: every token is refused.
            (Some((Action::Import { .. }, _)), Ok(reply)) => {
                prop_assert!(false, "{data:?} was accepted: {reply:?}")
            }
            (Some((Action::CheckIn(_), _)), Ok(reply)) => {
                prop_assert!(false, "a check-in needs the presser: {reply:?}")
            }
            // Link buttons have no callback data: nothing decodes to them.
            (Some((Action::Url(_) | Action::WebApp(_), _)), Ok(reply)) => {
                prop_assert!(false, "a link was decoded from {data:?}: {reply:?}")
            }
            (None, Ok(reply)) => prop_assert!(false, "{data:?} was accepted: {reply:?}"),
            (_, Err(refusal)) => prop_assert!(is_chinese(&refusal.plain_text()), "{data:?}"),
        }
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------
// Regressions: inputs the fuzzers found, kept as they were shrunk.
// ---------------------------------------------------------------------------------------

/// Found by `fuzz_generated_documents` as `(2, 255)`: two parts, the first with 255
/// points. The order check computed "point 256" and overflowed (a panic in debug
/// builds); now the next part is expected and anything past 255 is refused.
#[test]
fn regression_a_part_with_255_points() {
    let mut source = BIG_DOCUMENT_HEAD.to_string();
    source.push_str("# 1 原则 | 短语 [title]\n");
    for point in 1..=255 {
        source.push_str(&format!("## 1.{point} 要点 [title]\n"));
    }
    source.push_str("# 2 原则 | 短语 [title]\n");
    let document = parse_document("big.md", &source).unwrap();
    assert_eq!(document.sections.len(), 258);

    let mut last = BIG_DOCUMENT_HEAD.to_string();
    for part in 1..=255 {
        last.push_str(&format!("# {part} 原则 | 短语 [title]\n"));
    }
    for point in 1..=255 {
        last.push_str(&format!("## 255.{point} 要点 [title]\n"));
    }
    last.push_str("## 255.1 又一个 [title]\n");
    let error = parse_document("last.md", &last).unwrap_err();
    assert_eq!(error.line, last.lines().count(), "{error}");
    assert!(
        error
            .message
            .contains("expected nothing (255 is the highest number)"),
        "{error}"
    );
}

/// Found by `fuzz_the_data_file` as `[Delete(…)]` hitting the `id:` line of the shipped
/// file: the error said `xzsj.md:0: metadata lacks "id: …"`, pointing nowhere. Problems
/// of the whole file now point where they are fixed.
#[test]
fn regression_whole_file_errors_name_a_line() {
    let shipped = std::fs::read_to_string(speech_path()).unwrap();
    let opening = 1 + shipped.lines().position(|l| l.trim() == "---").unwrap();
    let without = |prefix: &str| {
        shipped
            .lines()
            .filter(|l| !l.starts_with(prefix))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let cases = [
        (without("id:"), opening, "metadata lacks \"id: …\""),
        (without("title:"), opening, "metadata lacks \"title: …\""),
        ("---\nid: x\n".to_string(), 1, "never closed"),
        ("".to_string(), 1, "no metadata block"),
        (
            "# 0 开场 [full]\n话。\n".to_string(),
            1,
            "no metadata block",
        ),
        (
            "---\nid: x\ntitle: 题\n---\n\n".to_string(),
            5,
            "no sections",
        ),
    ];
    for (source, line, needle) in cases {
        let error = parse_document("xzsj.md", &source).unwrap_err();
        assert_eq!(error.line, line, "{error}");
        assert!(error.message.contains(needle), "{error}");
        assert!(error.to_string().starts_with(&format!("xzsj.md:{line}: ")));
    }
}

// ---------------------------------------------------------------------------------------
// Huge messages.
// ---------------------------------------------------------------------------------------

/// A 100,000-character message gets a short refusal at once, never a reply that grows
/// with it (and plain text in a group gets silence, as any text there does).
#[test]
fn a_100000_character_message_is_refused_quickly_and_briefly() {
    let app = app();
    let now = at("2026-05-01T04:00:00Z");
    let private = ChatContext {
        chat_id: 77,
        kind: ChatKind::Private,
        user_id: 77,
        user_name: "长消息".into(),
        is_admin: true,
        topic: None,
    };
    for filler in ["网", "9", "🙂", " 网格", "a\u{301}"] {
        let long: String = filler.chars().cycle().take(100_000).collect();
        assert_eq!(long.chars().count(), 100_000);
        for (message, refusal) in [
            (format!("/section {long}"), "这不像是一个章节编号"),
            (format!("/search {long}"), "搜索词太长了"),
            (long.clone(), "我只认识以 / 开头的命令"),
            (format!("/settime {long}"), "请用 24 小时制写时:分"),
            (format!("/subscribe {long}"), "请用 24 小时制写时:分"),
            (format!("/timezone {long}"), "不是有效的时区名"),
            (format!("/quiz {long}"), "题数请写 1–10 之间的数字"),
            (
                format!("/dailyquiz {long}"),
                "请写 /dailyquiz on 或 /dailyquiz off",
            ),
        ] {
            let message = message.trim_start();
            let started = std::time::Instant::now();
            let replies = app.handle(&private, command::parse(message, Some("studybot_bot")), now);
            let elapsed = started.elapsed();
            let head: String = message.chars().take(12).collect();
            assert_eq!(replies.len(), 1, "{head}…: {replies:?}");
            let text = replies[0].plain_text();
            assert!(text.contains(refusal), "{head}…: {text}");
            assert!(
                text.chars().count() <= 200,
                "{head}…: {} chars",
                text.chars().count()
            );
            assert!(
                elapsed < std::time::Duration::from_millis(500),
                "{head}…: {elapsed:?}"
            );
        }
    }
    let group = ChatContext {
        kind: ChatKind::Group,
        is_admin: false,
        topic: None,
        ..private
    };
    let long = "网".repeat(100_000);
    assert!(
        app.handle(&group, command::parse(&long, Some("studybot_bot")), now)
            .is_empty()
    );
}
