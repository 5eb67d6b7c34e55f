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

/// The most text an import takes (2 MB): more is not one speech or report.
pub const LARGEST_TEXT: usize = 2 * 1024 * 1024;

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
    /// More than [`LARGEST_TEXT`].
    #[error("文字太长（{0} 字节，上限 2 MB）：一篇讲话或报告不会这么长，请检查文件。")]
    TooLarge(usize),
    /// A `.docx` that cannot be read.
    #[error("无法读取这个 .docx 文件：{0}。")]
    Docx(String),
    /// No parts found.
    #[error("没有找到文章结构：需要“一、”“第一部分”“第一章”“（一）”或“一是……二是……”这样的标题。")]
    NoStructure,
    /// More than 99 parts, or points in a part.
    #[error("部分或要点超过 99 个，这不像一篇文章的结构，请检查文件。")]
    TooManySections,
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
    let is_zip = bytes.starts_with(b"PK\x03\x04");
    let (text, format) = if kind == FileKind::Docx || is_zip {
        (docx::text(bytes)?, "docx")
    } else {
        if bytes.len() > 2 * LARGEST_TEXT {
            return Err(ImportError::TooLarge(bytes.len()));
        }
        decode::decode(bytes)?
    };
    if text.len() > LARGEST_TEXT {
        return Err(ImportError::TooLarge(text.len()));
    }
    if text.trim().is_empty() {
        return Err(ImportError::Empty);
    }
    // A studybot data file (an editor's reviewed `--dry-run` output) is taken as it is.
    if text.trim_start().starts_with(['-', '<'])
        && let Ok(document) = crate::text::parse_document(name, &text)
    {
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
        if !matches!(c, '。' | '！' | '？') {
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
