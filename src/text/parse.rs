//! Parses and validates a human-editable data file (`data/texts/*.md`, and texts the
//! importer wrote).
//!
//! The format, in full (see also the README):
//!
//! ```text
//! <!-- a comment line -->
//! ---
//! id: xzsj                      (required, ASCII letters, digits, - and _)
//! title: …                      (required)
//! occasion: …
//! note: …                       (an editor's remark on the source)
//! parts: 5                      (optional: the expected number of parts)
//! points: 3                     (optional: the expected number of points per part)
//! ---
//! # 0 开场 [full]                the opening address
//! # 1 铸牢政治之魂 | 把准前行方向 [full]     a part: principle | second phrase (optional)
//! ## 1.1 以学立身筑牢忠诚根基 [partial]      a point
//! [gap]                          where the source lost text
//! ```
//!
//! Body lines are joined without spaces (Chinese text); a blank line ends a paragraph.
//! Every problem is reported with the file, the line and what is wrong.

use std::fmt;

use super::{Block, Completeness, Document, Section, SectionId};

/// A problem in a data file, with its location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The file's name as given to the parser.
    pub file: String,
    /// The 1-based line number. A problem of the whole file is reported where it would
    /// be fixed: a missing metadata key at the metadata block's first line (or line 1),
    /// missing sections at the last line.
    pub line: usize,
    /// What is wrong, in plain words.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// The text of a data file's bytes, or where it stops being UTF-8: a file saved as GBK
/// (Notepad's default on Chinese Windows) is reported at its first such line, with the fix.
pub fn decode_utf8<'a>(file: &str, bytes: &'a [u8]) -> Result<&'a str, ParseError> {
    std::str::from_utf8(bytes).map_err(|error| {
        let valid = &bytes[..error.valid_up_to()];
        ParseError {
            file: file.to_string(),
            line: valid.iter().filter(|&&b| b == b'\n').count() + 1,
            message: "this line is not UTF-8 text (perhaps GBK, Notepad's default): 请另存为 UTF-8 编码（记事本：文件 → 另存为 → 编码选 UTF-8）".into(),
        }
    })
}

/// Parses and validates one data file. `file` names it in error messages.
pub fn parse_document(file: &str, source: &str) -> Result<Document, ParseError> {
    Parser::new(file).run(source)
}

struct Parser<'a> {
    file: &'a str,
    id: Option<String>,
    title: Option<String>,
    occasion: String,
    note: String,
    expected_parts: Option<(usize, usize)>,
    expected_points: Option<(usize, usize)>,
    sections: Vec<Section>,
    paragraph: String,
    /// The line of the `---` that opens the metadata block, once seen.
    metadata_line: Option<usize>,
    /// The last line read.
    last_line: usize,
}

impl<'a> Parser<'a> {
    fn new(file: &'a str) -> Self {
        Self {
            file,
            id: None,
            title: None,
            occasion: String::new(),
            note: String::new(),
            expected_parts: None,
            expected_points: None,
            sections: Vec::new(),
            paragraph: String::new(),
            metadata_line: None,
            last_line: 1,
        }
    }

    fn error(&self, line: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            file: self.file.to_string(),
            line,
            message: message.into(),
        }
    }

    fn run(mut self, source: &str) -> Result<Document, ParseError> {
        let source = source.strip_prefix('\u{feff}').unwrap_or(source);
        let lines = source.lines().enumerate().map(|(i, l)| (i + 1, l.trim()));
        let mut in_front_matter = false;
        for (number, line) in lines {
            self.last_line = number;
            if line.starts_with("<!--") {
                if !line.ends_with("-->") {
                    return Err(self.error(
                        number,
                        "comment must open with <!-- and close with --> on the same line",
                    ));
                }
                continue;
            }
            if line == "---" {
                if in_front_matter {
                    in_front_matter = false;
                } else if self.metadata_line.is_some() || !self.sections.is_empty() {
                    return Err(self.error(
                        number,
                        "a second --- block: the metadata block may appear only once, at the top",
                    ));
                } else {
                    in_front_matter = true;
                    self.metadata_line = Some(number);
                }
                continue;
            }
            if in_front_matter {
                self.metadata(number, line)?;
                continue;
            }
            if line.is_empty() {
                self.end_paragraph();
                continue;
            }
            if let Some(rest) = line.strip_prefix("## ") {
                self.heading(number, rest, true)?;
            } else if let Some(rest) = line.strip_prefix("# ") {
                self.heading(number, rest, false)?;
            } else if line.starts_with('#') {
                return Err(self.error(number, "a heading needs a space after # or ## (e.g. \"## 2.1 用脚步丈量民情民意 [full]\")"));
            } else if line == "[gap]" {
                self.end_paragraph();
                let Some(section) = self.sections.last_mut() else {
                    return Err(self.error(number, "[gap] before the first heading"));
                };
                section.blocks.push(Block::Gap);
            } else {
                if self.sections.is_empty() {
                    return Err(self.error(number, "text before the first heading (put it under \"# 0 开场 [full]\" or a part)"));
                }
                self.paragraph.push_str(line);
            }
        }
        if in_front_matter {
            let opened = self.metadata_line.unwrap_or(1);
            return Err(self.error(opened, "the metadata block opened with --- is never closed"));
        }
        self.end_paragraph();
        self.finish()
    }

    fn metadata(&mut self, number: usize, line: &str) -> Result<(), ParseError> {
        if line.is_empty() {
            return Ok(());
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(self.error(number, "metadata lines look like \"key: value\""));
        };
        let value = value.trim().to_string();
        match key.trim() {
            "id" => {
                let valid = !value.is_empty()
                    && value.len() <= 32
                    && value
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                if !valid {
                    return Err(self.error(number, "id must be 1–32 ASCII letters, digits, - or _"));
                }
                self.id = Some(value);
            }
            "title" if value.is_empty() => return Err(self.error(number, "title is empty")),
            "title" => self.title = Some(value),
            "occasion" => self.occasion = value,
            "note" => self.note = value,
            "parts" => self.expected_parts = Some((self.count(number, &value)?, number)),
            "points" => self.expected_points = Some((self.count(number, &value)?, number)),
            other => {
                return Err(self.error(
                    number,
                    format!("unknown metadata key \"{other}\" (known: id, title, occasion, note, parts, points)"),
                ));
            }
        }
        Ok(())
    }

    fn count(&self, number: usize, value: &str) -> Result<usize, ParseError> {
        match value.parse::<usize>() {
            Ok(n) if (1..=99).contains(&n) => Ok(n),
            _ => Err(self.error(
                number,
                format!("expected a number from 1 to 99, found \"{value}\""),
            )),
        }
    }

    fn end_paragraph(&mut self) {
        if self.paragraph.is_empty() {
            return;
        }
        let text = std::mem::take(&mut self.paragraph);
        if let Some(section) = self.sections.last_mut() {
            section.blocks.push(Block::Paragraph(text));
        }
    }

    /// `rest` is the heading after `# ` or `## `: `<number> <title> [<mark>]`.
    fn heading(&mut self, number: usize, rest: &str, is_point: bool) -> Result<(), ParseError> {
        self.end_paragraph();
        let example = if is_point {
            "\"## 2.1 用脚步丈量民情民意 [full]\""
        } else {
            "\"# 2 厚植为民之心 | 站稳群众立场 [full]\""
        };
        let Some((head, mark)) = rest.rsplit_once('[') else {
            return Err(self.error(
                number,
                format!("heading lacks a completeness mark, e.g. {example}"),
            ));
        };
        let completeness = match mark.trim_end().strip_suffix(']').map(str::trim) {
            Some("full") => Completeness::Full,
            Some("partial") => Completeness::Partial,
            Some("title") => Completeness::TitleOnly,
            _ => {
                return Err(self.error(
                    number,
                    format!("unknown completeness mark [{mark}: use [full], [partial] or [title]"),
                ));
            }
        };
        let head = head.trim();
        let Some((label, title)) = head.split_once(' ') else {
            return Err(self.error(
                number,
                format!("heading needs a number and a title, e.g. {example}"),
            ));
        };
        let id: SectionId = label.parse().map_err(|()| {
            self.error(
                number,
                format!("\"{label}\" is not a section number, e.g. {example}"),
            )
        })?;
        if id.is_point() != is_point {
            let message = if is_point {
                format!(
                    "\"## {label}\": points use ## with a number like 2.1; parts use a single #"
                )
            } else {
                format!(
                    "\"# {label}\": parts and the opening use # with a whole number; points use ## 2.1"
                )
            };
            return Err(self.error(number, message));
        }
        let (title, phrase) = match title.split_once('|') {
            Some((title, phrase)) if id.is_part() => (title.trim(), phrase.trim()),
            Some(_) => {
                return Err(self.error(number, "only part headings have a second phrase after |"));
            }
            None => (title.trim(), ""),
        };
        if title.is_empty() {
            return Err(self.error(number, "the title is empty"));
        }
        self.check_order(number, id)?;
        self.sections.push(Section {
            id,
            title: title.to_string(),
            phrase: phrase.to_string(),
            completeness,
            blocks: Vec::new(),
            line: number,
        });
        Ok(())
    }

    fn check_order(&self, number: usize, id: SectionId) -> Result<(), ParseError> {
        let expected = match self.sections.last() {
            // A text without an opening address (an imported report) starts at part 1.
            None => vec![SectionId::OPENING, SectionId::part(1)],
            Some(previous) if previous.id.part == 0 => vec![SectionId::part(1)],
            // Numbers are bytes: past 255 there is no next number, and the section is
            // refused as out of order (instead of the addition overflowing).
            Some(previous) => [
                (previous.id.point.checked_add(1)).map(|p| SectionId::point(previous.id.part, p)),
                (previous.id.part.checked_add(1)).map(SectionId::part),
            ]
            .into_iter()
            .flatten()
            .collect(),
        };
        if expected.contains(&id) {
            return Ok(());
        }
        let expected: Vec<String> = expected.iter().map(ToString::to_string).collect();
        let expected = match expected.as_slice() {
            [] => "nothing (255 is the highest number)".to_string(),
            _ => expected.join(" or "),
        };
        Err(self.error(
            number,
            format!("section {id} is out of order: expected {expected} here"),
        ))
    }

    fn finish(self) -> Result<Document, ParseError> {
        let missing = |key: &str| match self.metadata_line {
            Some(line) => self.error(line, format!("metadata lacks \"{key}: …\"")),
            None => self.error(
                1,
                format!("no metadata block: the file starts with ---, \"{key}: …\", …, ---"),
            ),
        };
        let id = self.id.clone().ok_or_else(|| missing("id"))?;
        let title = self.title.clone().ok_or_else(|| missing("title"))?;
        if self.sections.is_empty() {
            return Err(self.error(
                self.last_line,
                "no sections: the file needs \"# 0 开场 [full]\" and the parts",
            ));
        }
        for section in &self.sections {
            self.check_completeness(section)?;
        }
        let parts: Vec<&Section> = self.sections.iter().filter(|s| s.id.is_part()).collect();
        if let Some((expected, line)) = self.expected_parts
            && parts.len() != expected
        {
            return Err(self.error(
                line,
                format!("expected {expected} parts, found {}", parts.len()),
            ));
        }
        if let Some((expected, line)) = self.expected_points {
            for part in &parts {
                let points = self
                    .sections
                    .iter()
                    .filter(|s| s.id.part == part.id.part && s.id.is_point())
                    .count();
                if points != expected {
                    return Err(self.error(
                        line.max(part.line),
                        format!(
                            "part {} has {points} points, expected {expected}",
                            part.id.part
                        ),
                    ));
                }
            }
        }
        Ok(Document {
            id,
            title,
            occasion: self.occasion,
            note: self.note,
            sections: self.sections,
        })
    }

    fn check_completeness(&self, section: &Section) -> Result<(), ParseError> {
        let has_text = section.paragraphs().next().is_some();
        let has_gap = section.blocks.contains(&Block::Gap);
        let problem = match section.completeness {
            Completeness::Full if !has_text => {
                Some("is marked [full] but has no text (use [title] for a title-only section)")
            }
            Completeness::Full if has_gap => {
                Some("is marked [full] but contains [gap] (use [partial])")
            }
            Completeness::Partial if !has_text => {
                Some("is marked [partial] but has no text (use [title])")
            }
            Completeness::Partial if !has_gap => {
                Some("is marked [partial] but has no [gap] line showing where text is missing")
            }
            Completeness::TitleOnly if has_text || has_gap => {
                Some("is marked [title] but has body text (use [full] or [partial])")
            }
            _ => None,
        };
        match problem {
            Some(problem) => {
                Err(self.error(section.line, format!("section {} {problem}", section.id)))
            }
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = "---\nid: t\ntitle: 标题\nparts: 2\npoints: 1\n---\n# 0 开场 [full]\n同志们:\n\n今天,\n我们开会。\n\n\
# 1 原则一 | 短语一 [full]\n引言。\n## 1.1 要点一 [partial]\n[gap]\n尾巴。\n# 2 原则二 | 短语二 [title]\n## 2.1 要点二 [title]\n";

    #[test]
    fn parses_a_small_document() {
        let doc = parse_document("t.md", SMALL).unwrap();
        assert_eq!(doc.id, "t");
        assert_eq!(doc.sections.len(), 5);
        let opening = &doc.sections[0];
        assert_eq!(
            opening.blocks,
            vec![
                Block::Paragraph("同志们:".into()),
                Block::Paragraph("今天,我们开会。".into())
            ]
        );
        let part = doc.section(SectionId::part(1)).unwrap();
        assert_eq!(
            (part.title.as_str(), part.phrase.as_str()),
            ("原则一", "短语一")
        );
        let point = doc.section(SectionId::point(1, 1)).unwrap();
        assert_eq!(point.completeness, Completeness::Partial);
        assert_eq!(
            point.blocks,
            vec![Block::Gap, Block::Paragraph("尾巴。".into())]
        );
        assert_eq!(
            doc.section(SectionId::point(2, 1)).unwrap().completeness,
            Completeness::TitleOnly
        );
    }

    #[test]
    fn gbk_is_reported_at_its_first_line_with_the_fix() {
        let mut bytes = "# a\n# b\n".as_bytes().to_vec();
        bytes.extend([0xcd, 0xf8, 0xb8, 0xf1, b'\n']); // 网格 in GBK
        let error = decode_utf8("x.md", &bytes).unwrap_err();
        assert_eq!(error.line, 3);
        assert!(error.to_string().starts_with("x.md:3: "), "{error}");
        assert!(error.message.contains("请另存为 UTF-8"), "{error}");
        assert_eq!(decode_utf8("x.md", "网格".as_bytes()), Ok("网格"));
    }

    fn error_for(source: &str) -> ParseError {
        parse_document("bad.md", source).unwrap_err()
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            (
                SMALL.replace("## 1.1 要点一 [partial]", "## 1.2 要点一 [partial]"),
                15,
                "out of order",
            ),
            (
                SMALL.replace("[partial]", "[half]"),
                15,
                "unknown completeness mark",
            ),
            (
                SMALL.replace("## 2.1 要点二", "## 2.1 要点二 | 短语"),
                19,
                "second phrase",
            ),
            (
                SMALL.replace("## 2.1 要点二 [title]", "## 2.1 要点二 [title]\n正文"),
                19,
                "marked [title]",
            ),
            (SMALL.replace("[gap]\n", ""), 15, "no [gap]"),
            (
                SMALL.replace("## 1.1 要点一", "## 1.1 "),
                15,
                "number and a title",
            ),
            (SMALL.replace("points: 1", "points: 2"), 13, "expected 2"),
            (SMALL.replace("parts: 2", "parts: 5"), 4, "expected 5 parts"),
            (SMALL.replace("id: t", "id: 中文"), 2, "id must be"),
            (
                SMALL.replace("title: 标题\n", "colour: red\n"),
                3,
                "unknown metadata key",
            ),
        ];
        for (source, line, needle) in &cases {
            let error = error_for(source);
            assert_eq!(error.line, *line, "{error}");
            assert!(error.message.contains(needle), "{error}");
            assert!(error.to_string().starts_with("bad.md:"), "{error}");
        }
    }

    #[test]
    fn missing_metadata_is_reported() {
        assert!(error_for("# 0 开场 [full]\n话。\n").message.contains("id"));
        assert!(error_for("---\nid: x\n").message.contains("never closed"));
        assert!(
            error_for("话。\n")
                .message
                .contains("before the first heading")
        );
    }

    #[test]
    fn garbage_never_panics() {
        for source in [
            "",
            "#",
            "## ",
            "# [",
            "# 0 [full]",
            "---\n---\n---",
            "# 999999 x [full]",
            "[gap]",
            "\u{feff}",
        ] {
            let _ = parse_document("x.md", source);
        }
    }
}
