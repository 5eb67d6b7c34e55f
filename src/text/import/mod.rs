//! The importer: a speech, report or study note as it was copied from the web (a `.txt`
//! in UTF-8 or GBK, or a Word `.docx`) becomes a [`Document`], plus a report of what
//! was found and every line dropped as page debris. Pure: bytes in, values out.
//!
//! - [`decode`]: the encodings (UTF-8 with or without BOM, UTF-16 with BOM, GB18030/GBK).
//! - [`docx`]: paragraphs and Word's automatic numbering from a `.docx`.
//! - [`debris`]: web and page debris, and cut notices that mark gaps.
//! - [`structure`]: title, opening, outline block, parts and points, line joining.
//!
//! Never invents text: every paragraph and title is taken verbatim from the input
//! (modulo whitespace and joined line breaks). What is missing is marked, not filled:
//! sections are `[full]`, `[partial]` (with a gap where the page cut the text) or
//! `[title]` (only the outline named them).

pub mod debris;
pub mod decode;
pub mod docx;
pub mod structure;

use std::fmt::Write as _;

use crate::text::{Block, Completeness, Document, SectionId, chinese_numeral};

pub use debris::DebrisKind;

/// The largest file an import reads, in the file's own bytes: a `.txt` as it is, a
/// `.docx` as the archive it is (photos included). The same for `studybot import` and a
/// file sent to the bot, whose Bot API hands a bot at most 20 MB.
pub const LARGEST_FILE: u64 = 20 * 1024 * 1024;

/// The longest text an import takes, in characters (100 万字): fifty times the longest
/// government work report; more is not one speech or report. Counted in characters so
/// that a GBK, UTF-8 or Word file of the same text is measured alike.
pub const LONGEST_TEXT: usize = 1_000_000;

/// The most bytes a part of a `.docx` may unpack to (its XML, not the text in it): a
/// zip bomb, or a document padded far beyond any speech, is refused here whole.
pub const LARGEST_PART: u64 = 64 * 1024 * 1024;

/// What kind of file the bytes are, as the file's name says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// Plain text (`.txt`, `.md`, or anything else).
    Text,
    /// A Word document (`.docx`).
    Docx,
}

impl FileKind {
    /// The kind a file name suggests (the bytes are checked too: a zip is read as `.docx`).
    pub fn from_name(name: &str) -> Self {
        if name.to_ascii_lowercase().ends_with(".docx") {
            Self::Docx
        } else {
            Self::Text
        }
    }
}

/// Why a file cannot be imported; the message is shown to the person importing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// Nothing but whitespace.
    #[error("文件是空的，没有可导入的文字。")]
    Empty,
    /// Not text in an encoding we read.
    #[error("这不是文本文件（或编码无法识别）：请导入 UTF-8 或 GBK 编码的 .txt，或 .docx 文件。")]
    Binary,
    /// A known binary format we do not read.
    #[error("不支持{0}：请另存为 .docx 或 .txt 后再导入。")]
    Unsupported(&'static str),
    /// A file larger than [`LARGEST_FILE`]: its size in bytes when known (a pipe or a
    /// device has none).
    #[error("{}", file_too_large(*.0))]
    FileTooLarge(Option<u64>),
    /// A text longer than [`LONGEST_TEXT`]: its length in characters.
    #[error(
        "文字有 {} 字，超过 {} 字的上限：一篇讲话或报告不会这么长，请检查文件。",
        thousands(*.0),
        thousands(LONGEST_TEXT)
    )]
    TextTooLong(usize),
    /// A part of a `.docx` that unpacks to more than [`LARGEST_PART`]: what the part
    /// holds (`正文`) and its name in the archive.
    #[error(
        "{0}（{1}）解压后超过 {mb} MB，不像一篇讲话或报告：请只保留文字，另存为 .docx 或 .txt 后再导入。",
        mb = LARGEST_PART >> 20
    )]
    PartTooLarge(&'static str, &'static str),
    /// A studybot data file (the `--dry-run` form) with an error, named as
    /// `studybot check` names it.
    #[error("这是 studybot 数据文件，但有错误：{0}")]
    DataFile(crate::text::ParseError),
    /// A `.docx` that cannot be read.
    #[error("无法读取这个 .docx 文件：{0}。")]
    Docx(String),
    /// No parts found.
    #[error("没有找到文章结构：需要“一、”“第一部分”“第一章”“（一）”或“一是……二是……”这样的标题。")]
    NoStructure,
    /// More than 99 parts, or points in a part: the line and heading of the first one
    /// not taken.
    #[error(
        "第 {line} 行的“{heading}”是第 100 个{what}：部分或要点最多 99 个，这不像一篇文章的结构，请检查文件。"
    )]
    TooManySections {
        /// The heading's line in the input (1-based).
        line: usize,
        /// The heading as it stands.
        heading: String,
        /// `部分` or `要点`.
        what: &'static str,
    },
}

/// The size of a file over [`LARGEST_FILE`], in MB as the limit is.
fn file_too_large(bytes: Option<u64>) -> String {
    let limit = LARGEST_FILE >> 20;
    match bytes {
        Some(bytes) => format!(
            "文件有 {:.1} MB，超过 {limit} MB 的上限：请只保留文字，另存为 .txt 或 .docx 后再导入。",
            bytes as f64 / 1_048_576.0
        ),
        None => format!(
            "文件超过 {limit} MB 的上限（读到 {limit} MB 后停止）：请只保留文字，另存为 .txt 或 .docx 后再导入。"
        ),
    }
}

/// `1234567` → `1,234,567`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Reads at most [`LARGEST_FILE`] bytes from `reader`, whatever it is (a file, a pipe,
/// a device that never ends): one byte more means the file is too large, and reading
/// stops there. `size` is the file's size if it is known, for the message.
pub fn read_limited(
    reader: impl std::io::Read,
    size: Option<u64>,
) -> std::io::Result<Result<Vec<u8>, ImportError>> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    reader.take(LARGEST_FILE + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > LARGEST_FILE {
        return Ok(Err(ImportError::FileTooLarge(
            size.filter(|&size| size > LARGEST_FILE),
        )));
    }
    Ok(Ok(bytes))
}

/// Why a file could not be read, in words for the person importing (the system's own
/// message is English).
pub fn read_error(error: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match error.kind() {
        ErrorKind::NotFound => "找不到这个文件，请检查路径和文件名。".to_string(),
        ErrorKind::PermissionDenied => "没有读取这个文件的权限。".to_string(),
        ErrorKind::IsADirectory => "这是一个文件夹，不是文件。".to_string(),
        ErrorKind::InvalidData | ErrorKind::UnexpectedEof => {
            "文件读到一半出错，可能已损坏。".to_string()
        }
        _ => match error.raw_os_error() {
            Some(code) => format!("读取文件时出错（系统错误码 {code}），请稍后再试。"),
            None => "读取文件时出错，请稍后再试。".to_string(),
        },
    }
}

/// Removes the characters that are invisible in print: bidirectional controls (U+202E
/// turns a line around on screen), zero-width characters and the like. They never
/// belong in a speech, and a title made of them only would show as nothing.
pub fn without_invisible(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(is_invisible) {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(text.chars().filter(|&c| !is_invisible(c)).collect())
}

/// Whether `c` prints as nothing (format characters; line breaks and tabs are kept).
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00ad}' | '\u{034f}' | '\u{061c}' | '\u{115f}' | '\u{1160}' | '\u{17b4}' | '\u{17b5}'
        | '\u{180b}'..='\u{180e}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{206f}' | '\u{3164}' | '\u{fe00}'..='\u{fe0f}' | '\u{feff}'
        | '\u{ffa0}' | '\u{fff0}'..='\u{fffb}' | '\u{1d173}'..='\u{1d17a}'
        | '\u{e0000}'..='\u{e0fff}')
}

/// One dropped piece of debris.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DroppedLine {
    /// The line of the input it stood on (1-based).
    pub line: usize,
    /// What was dropped, verbatim (normalised whitespace).
    pub text: String,
    /// Why.
    pub kind: DebrisKind,
}

/// What the importer found, for the person who imports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// The encoding or format read (`UTF-8`, `GB18030/GBK`, `docx`).
    pub format: String,
    /// Where the title came from (`标题行`, `网页中的《…》`, `文件名`).
    pub title_source: String,
    /// The outline block's first and last line, if there was one.
    pub outline: Option<(usize, usize)>,
    /// The markers of the parts and of the points.
    pub levels: (String, Option<String>),
    /// Every dropped piece of debris, in order.
    pub dropped: Vec<DroppedLine>,
    /// Things an editor should check.
    pub warnings: Vec<String>,
}

/// A successful import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// The text, with its sections and their marks.
    pub document: Document,
    /// What was found and dropped.
    pub report: ImportReport,
}

/// Imports a file's bytes. `name` is the file's name: it gives the kind, the default id
/// and the title of last resort.
pub fn import(bytes: &[u8], kind: FileKind, name: &str) -> Result<Imported, ImportError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ImportError::Empty);
    }
    if bytes.starts_with(b"%PDF") {
        return Err(ImportError::Unsupported("PDF 文件"));
    }
    if bytes.starts_with(&[0xd0, 0xcf, 0x11, 0xe0]) {
        return Err(ImportError::Unsupported("旧版 Word（.doc）文件"));
    }
    if bytes.len() as u64 > LARGEST_FILE {
        return Err(ImportError::FileTooLarge(Some(bytes.len() as u64)));
    }
    let is_zip = bytes.starts_with(b"PK\x03\x04");
    let (text, format) = if kind == FileKind::Docx || is_zip {
        (docx::text(bytes)?, "docx")
    } else {
        decode::decode(bytes)?
    };
    let text = without_invisible(&text);
    let chars = text.chars().count();
    if chars > LONGEST_TEXT {
        return Err(ImportError::TextTooLong(chars));
    }
    if text.trim().is_empty() {
        return Err(ImportError::Empty);
    }
    // A studybot data file (an editor's reviewed `--dry-run` output) is taken as it is,
    // and refused for what `studybot check` would refuse it.
    if is_data_file(&text) {
        let document = crate::text::parse_document(name, &text).map_err(ImportError::DataFile)?;
        return Ok(Imported {
            document,
            report: ImportReport {
                format: format!("{format}，studybot 数据文件"),
                title_source: "数据文件".to_string(),
                outline: None,
                levels: ("数据文件".to_string(), None),
                dropped: Vec::new(),
                warnings: Vec::new(),
            },
        });
    }
    let stem = match file_stem(name).trim() {
        "" => "未命名",
        stem => stem,
    };
    let found = structure::structure(&text, stem)?;
    let incomplete = found
        .sections
        .iter()
        .any(|s| s.completeness != Completeness::Full);
    let document = Document {
        id: slug(stem, &text),
        title: found.title,
        occasion: found.occasion,
        note: if incomplete {
            "本文据网络转载导入，原文不完整。".to_string()
        } else {
            String::new()
        },
        sections: found.sections,
    };
    Ok(Imported {
        document,
        report: ImportReport {
            format: format.to_string(),
            title_source: found.title_source.to_string(),
            outline: found.outline,
            levels: found.levels,
            dropped: found.dropped,
            warnings: found.warnings,
        },
    })
}

/// Whether `text` is in the data-file form (`data/texts/*.md`, what `--dry-run`
/// prints): after its comment lines, it opens with the `---` of the metadata block. No
/// speech copied from the web starts so.
fn is_data_file(text: &str) -> bool {
    text.trim_start_matches('\u{feff}')
        .lines()
        .map(str::trim)
        .find(|line| !(line.is_empty() || line.starts_with("<!--") && line.ends_with("-->")))
        == Some("---")
}

/// A file name without its directory and extension.
fn file_stem(name: &str) -> &str {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    match base.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => base,
    }
}

/// A short ASCII id from the file's name (`Report 2024.txt` → `report-2024`); a name
/// without ASCII letters or digits gives `text-` and a hash of the text.
pub fn slug(stem: &str, text: &str) -> String {
    let mut slug = String::new();
    for c in stem.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= 24 {
            break;
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.chars().any(|c| c.is_ascii_alphanumeric()) {
        return slug.to_string();
    }
    // FNV-1a: the same id for the same text on every build and platform.
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("text-{:06x}", hash & 0xff_ffff)
}

/// The data-file form (`data/texts/*.md`) of a document, which
/// [`crate::text::parse_document`] reads back to the same sections.
pub fn data_file(document: &Document, source: &str) -> String {
    let mut out = String::new();
    let one_line = |text: &str| text.replace(['\n', '\r'], " ");
    let _ = writeln!(
        out,
        "<!-- studybot speech file, imported from {} by studybot import. See README \"The data file\". -->",
        one_line(source).replace("--", "- -")
    );
    out.push_str("---\n");
    let _ = writeln!(out, "id: {}", document.id);
    let _ = writeln!(out, "title: {}", one_line(&document.title));
    if !document.occasion.is_empty() {
        let _ = writeln!(out, "occasion: {}", one_line(&document.occasion));
    }
    if !document.note.is_empty() {
        let _ = writeln!(out, "note: {}", one_line(&document.note));
    }
    let parts: Vec<_> = document.parts().collect();
    let _ = writeln!(out, "parts: {}", parts.len());
    let counts: Vec<usize> = parts
        .iter()
        .map(|p| document.points(p.id.part).count())
        .collect();
    if let Some(&first) = counts.first()
        && first > 0
        && counts.iter().all(|&c| c == first)
    {
        let _ = writeln!(out, "points: {first}");
    }
    out.push_str("---\n");
    for section in &document.sections {
        let hashes = if section.id.is_point() { "##" } else { "#" };
        let phrase = if section.phrase.is_empty() {
            String::new()
        } else {
            format!(" | {}", section.phrase)
        };
        let _ = writeln!(
            out,
            "\n{hashes} {} {}{phrase} [{}]",
            section.id,
            section.title,
            section.completeness.mark()
        );
        for block in &section.blocks {
            match block {
                Block::Paragraph(text) => {
                    out.push('\n');
                    for sentence in sentence_lines(text) {
                        out.push_str(sentence);
                        out.push('\n');
                    }
                }
                Block::Gap => out.push_str("\n[gap]\n"),
            }
        }
    }
    out
}

/// Splits a paragraph into lines after each sentence, only where the parser's joining
/// (lines are trimmed and joined without spaces) gives the paragraph back exactly.
fn sentence_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if !crate::text::sentences::is_full_width_end(c) {
            continue;
        }
        let Some(&(next, n)) = chars.peek() else {
            break;
        };
        // Never start a line with what the data file reads as markup.
        let rest = &text[next..];
        if n.is_whitespace()
            || matches!(n, '”' | '’' | '」' | '』' | '）' | ')' | '#' | '＃' | '-')
            || rest.starts_with("<!--")
            || rest.starts_with("[gap]")
        {
            continue;
        }
        lines.push(&text[start..next]);
        start = next;
    }
    lines.push(&text[start..]);
    lines
}

/// The outline, one line a section, each with its completeness mark and its gaps
/// (`  1.1 以学立身筑牢忠诚根基 [不完整，1 处缺失]`): what an editor checks after an
/// import, shown by the import command and by the bot's preview alike.
pub fn outline_with_marks(document: &Document) -> String {
    let mut out = String::new();
    for section in &document.sections {
        let mark = match section.completeness {
            Completeness::Full => "完整",
            Completeness::Partial => "不完整",
            Completeness::TitleOnly => "仅存标题",
        };
        let gaps = section.blocks.iter().filter(|b| **b == Block::Gap).count();
        let gaps = if gaps > 0 {
            format!("，{gaps} 处缺失")
        } else {
            String::new()
        };
        let heading = match section.id {
            SectionId::OPENING => section.title.clone(),
            id if id.is_part() => format!(
                "{}、{}{}",
                chinese_numeral(id.part),
                section.title,
                if section.phrase.is_empty() {
                    String::new()
                } else {
                    format!("，{}", section.phrase)
                }
            ),
            id => format!("  {id} {}", section.title),
        };
        let _ = writeln!(out, "{heading} [{mark}{gaps}]");
    }
    out
}

/// The outline with completeness marks and the dropped debris, as the import command
/// prints it.
pub fn summary(imported: &Imported) -> String {
    let Imported { document, report } = imported;
    let mut out = String::new();
    let points: usize = document.sections.iter().filter(|s| s.id.is_point()).count();
    let parts = document.parts().count();
    let _ = writeln!(out, "《{}》（{}）", document.title, report.format);
    let _ = writeln!(
        out,
        "编号 {}；{} 个部分，{} 个要点；标题来自{}",
        document.id, parts, points, report.title_source
    );
    if !document.occasion.is_empty() {
        let _ = writeln!(out, "场合：{}", document.occasion);
    }
    let _ = write!(out, "结构：部分按“{}”", report.levels.0);
    match &report.levels.1 {
        Some(points) => {
            let _ = writeln!(out, "，要点按“{points}”");
        }
        None => out.push('\n'),
    }
    if let Some((first, last)) = report.outline {
        let _ = writeln!(
            out,
            "目录/提纲：第 {first}–{last} 行（只在提纲里出现的要点记为“仅存标题”）"
        );
    }
    out.push('\n');
    out.push_str(&outline_with_marks(document));
    for warning in &report.warnings {
        let _ = writeln!(out, "注意：{warning}");
    }
    if report.dropped.is_empty() {
        out.push_str("\n没有删去任何内容。\n");
    } else {
        let _ = writeln!(out, "\n删去的网页内容（{} 处）：", report.dropped.len());
        for dropped in &report.dropped {
            let _ = writeln!(
                out,
                "  第 {} 行 [{}] {}",
                dropped.line,
                dropped.kind.label(),
                dropped.text
            );
        }
    }
    out
}

#[cfg(test)]
mod tests;
