//! The curated question file (`data/questions.md`): hand-written questions in a
//! human-editable, Markdown-like format, parsed and checked against the document on load.
//!
//! The format, in full (the file repeats it at the top):
//!
//! ```text
//! <!-- a comment line -->
//! ## 2.2                          a question about section 2.2 (0, 2, 2.2 …); any words
//!                                 after the number are a label for people and ignored
//! 党(工)委书记要当好什么?           the question: every line up to the first option,
//!                                 joined without spaces (Chinese text)
//! - [x] 服务员                     the one correct option
//! - [ ] 调度员                     a wrong option (2–10 options in all, all different)
//! > 原文：党(工)委书记要当好“服务员”,…   the explanation (lines joined)
//! ```
//!
//! Blank lines are ignored. The explanation gets `见 /section 2.2` appended unless it
//! already cites its section. Because questions may only use the speech's own words:
//! - the correct option (without surrounding “ ”) must appear in the cited section's
//!   title, second phrase or text;
//! - an explanation starting with `原文：` must quote the section's text verbatim.
//!
//! Every problem is reported as `file:line: what is wrong`; nothing here panics.

use std::path::{Path, PathBuf};

use super::{Question, QuestionKind, citation, cite};
use crate::text::parse::decode_utf8;
use crate::text::{Document, ParseError, SectionId};

/// What marks an explanation as a verbatim quotation of the section's text.
pub const QUOTE_MARK: &str = "原文：";

/// Why the curated file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CuratedError {
    /// The file exists but could not be read.
    #[error("cannot read {path}: {reason}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error (in the message, not a `source`: printed once).
        reason: std::io::Error,
    },
    /// The file is malformed or a question does not hold against the text.
    #[error(transparent)]
    Parse(#[from] ParseError),
}

/// Reads and checks the curated file. A missing file means no curated questions (`None`).
pub fn load_curated(
    path: &Path,
    document: &Document,
) -> Result<Option<Vec<Question>>, CuratedError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(reason) => {
            return Err(CuratedError::Io {
                path: path.to_path_buf(),
                reason,
            });
        }
    };
    let name = path.display().to_string();
    let source = decode_utf8(&name, &bytes)?;
    Ok(Some(parse_curated(&name, source, document)?))
}

/// Parses the curated questions in `source` and checks each against `document`.
/// `file` names the file in error messages.
pub fn parse_curated(
    file: &str,
    source: &str,
    document: &Document,
) -> Result<Vec<Question>, ParseError> {
    let error = |line: usize, message: String| ParseError {
        file: file.to_string(),
        line,
        message,
    };
    let source = source.strip_prefix('\u{feff}').unwrap_or(source);
    let mut questions = Vec::new();
    let mut draft: Option<Draft> = None;
    for (index, raw) in source.lines().enumerate() {
        let number = index + 1;
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if line.starts_with("<!--") {
            if !line.ends_with("-->") {
                return Err(error(
                    number,
                    "comment must open with <!-- and close with --> on the same line".into(),
                ));
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("## ") {
            if let Some(done) = draft.take() {
                questions.push(
                    done.finish(document)
                        .map_err(|(line, message)| error(line, message))?,
                );
            }
            let label = rest.split_whitespace().next().unwrap_or("");
            let section: SectionId = label.parse().map_err(|()| {
                error(
                    number,
                    format!("\"{label}\" is not a section number (e.g. \"## 2.2\")"),
                )
            })?;
            if document.section(section).is_none() {
                return Err(error(number, format!("the text has no section {section}")));
            }
            draft = Some(Draft::new(number, section));
            continue;
        }
        if line.starts_with('#') {
            return Err(error(
                number,
                "a question starts with \"## \" and a section number (e.g. \"## 2.2\")".into(),
            ));
        }
        let Some(current) = draft.as_mut() else {
            return Err(error(
                number,
                "text before the first question (start one with \"## 2.2\")".into(),
            ));
        };
        current
            .add(number, line)
            .map_err(|message| error(number, message))?;
    }
    if let Some(done) = draft.take() {
        questions.push(
            done.finish(document)
                .map_err(|(line, message)| error(line, message))?,
        );
    }
    Ok(questions)
}

/// One question as read so far.
struct Draft {
    line: usize,
    section: SectionId,
    text: String,
    options: Vec<(usize, bool, String)>,
    explanation: String,
    explanation_line: usize,
}

impl Draft {
    fn new(line: usize, section: SectionId) -> Self {
        Self {
            line,
            section,
            text: String::new(),
            options: Vec::new(),
            explanation: String::new(),
            explanation_line: 0,
        }
    }

    fn add(&mut self, number: usize, line: &str) -> Result<(), String> {
        if let Some(rest) = line.strip_prefix('>') {
            if self.options.is_empty() {
                return Err("the explanation (\">\") comes after the options".into());
            }
            if self.explanation_line == 0 {
                self.explanation_line = number;
            }
            self.explanation.push_str(rest.trim());
            return Ok(());
        }
        if let Some(rest) = line.strip_prefix('-') {
            let rest = rest.trim_start();
            let (correct, option) = if let Some(option) = rest
                .strip_prefix("[x]")
                .or_else(|| rest.strip_prefix("[X]"))
            {
                (true, option)
            } else if let Some(option) = rest.strip_prefix("[ ]") {
                (false, option)
            } else {
                return Err("options look like \"- [x] 正确选项\" or \"- [ ] 错误选项\"".into());
            };
            if self.text.is_empty() {
                return Err("an option before the question text".into());
            }
            if self.explanation_line != 0 {
                return Err("an option after the explanation: options come first".into());
            }
            let option = option.trim();
            if option.is_empty() {
                return Err("the option is empty".into());
            }
            self.options.push((number, correct, option.to_string()));
            return Ok(());
        }
        if !self.options.is_empty() {
            return Err(
                "question text after the options (explanation lines start with \">\")".into(),
            );
        }
        self.text.push_str(line);
        Ok(())
    }

    fn finish(self, document: &Document) -> Result<Question, (usize, String)> {
        if self.text.is_empty() {
            return Err((self.line, format!("question {} has no text", self.section)));
        }
        let marked: Vec<&(usize, bool, String)> = self
            .options
            .iter()
            .filter(|(_, correct, _)| *correct)
            .collect();
        let correct = match marked.as_slice() {
            [] => {
                return Err((
                    self.line,
                    "no option is marked correct with \"- [x]\"".into(),
                ));
            }
            [_] => self
                .options
                .iter()
                .position(|(_, correct, _)| *correct)
                .unwrap_or(0),
            [_, second, ..] => {
                return Err((
                    second.0,
                    "a second option is marked correct: exactly one may be".into(),
                ));
            }
        };
        if self.explanation.is_empty() {
            return Err((
                self.line,
                "the question has no explanation (a line starting with \">\")".into(),
            ));
        }
        let section = document
            .section(self.section)
            .ok_or((self.line, format!("no section {}", self.section)))?;
        let (answer_line, _, answer) = &self.options[correct];
        let answer_text = answer.trim_matches(|c| c == '“' || c == '”');
        let in_text = [section.title.as_str(), section.phrase.as_str()]
            .iter()
            .any(|t| t.contains(answer_text))
            || section.paragraphs().any(|p| p.contains(answer_text));
        if !in_text {
            return Err((
                *answer_line,
                format!(
                    "the correct option \"{answer}\" is not in the text of section {}: answers must come from it",
                    self.section
                ),
            ));
        }
        if let Some(quote) = self.explanation.strip_prefix(QUOTE_MARK) {
            let quote = quote.replace(&citation(self.section), "");
            let quote = quote.trim();
            if !quote.is_empty() && !section.paragraphs().any(|p| p.contains(quote)) {
                return Err((
                    self.explanation_line,
                    format!(
                        "the explanation after {QUOTE_MARK} is not verbatim text of section {}",
                        self.section
                    ),
                ));
            }
        }
        let question = Question {
            kind: QuestionKind::Curated,
            section: self.section,
            part: self.section.part,
            text: self.text,
            options: self
                .options
                .into_iter()
                .map(|(_, _, option)| option)
                .collect(),
            correct,
            explanation: cite(&self.explanation, self.section),
        };
        question.check().map_err(|message| (self.line, message))?;
        Ok(question)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::parse_document;

    const SPEECH: &str = include_str!("../../data/texts/xzsj.md");
    const BANK: &str = include_str!("../../data/questions.md");

    fn document() -> Document {
        parse_document("xzsj.md", SPEECH).unwrap()
    }

    const GOOD: &str = "<!-- c -->\n\n## 2.2 用真心化解急难愁盼\n党(工)委书记要当好\n什么?\n- [ ] 调度员\n- [x] 服务员\n\n> 原文：党(工)委书记要当好“服务员”\n";

    #[test]
    fn the_shipped_bank_parses() {
        let questions = parse_curated("questions.md", BANK, &document()).unwrap();
        assert!(questions.len() >= 8, "{}", questions.len());
        for question in &questions {
            assert_eq!(question.check(), Ok(()));
            assert_eq!(question.kind, QuestionKind::Curated);
        }
        assert!(
            questions
                .iter()
                .any(|q| q.correct_option() == "服务员" && q.section == SectionId::point(2, 2))
        );
        assert!(
            questions
                .iter()
                .any(|q| q.text.contains("乡村夜话") && q.correct_option() == "用脚步丈量民情民意")
        );
    }

    #[test]
    fn a_question_is_read() {
        let questions = parse_curated("q.md", GOOD, &document()).unwrap();
        assert_eq!(questions.len(), 1);
        let question = &questions[0];
        assert_eq!(question.text, "党(工)委书记要当好什么?");
        assert_eq!(question.options, vec!["调度员", "服务员"]);
        assert_eq!((question.correct, question.part), (1, 2));
        assert_eq!(
            question.explanation,
            "原文：党(工)委书记要当好“服务员” 见 /section 2.2"
        );
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            (GOOD.replace("## 2.2", "## 9.9"), 3, "no section 9.9"),
            (GOOD.replace("## 2.2", "## x"), 3, "not a section number"),
            (GOOD.replace("## 2.2", "# 2.2"), 3, "starts with \"## \""),
            (format!("话\n{GOOD}"), 1, "before the first question"),
            (
                GOOD.replace("- [ ] 调度员", "- 调度员"),
                6,
                "options look like",
            ),
            (
                GOOD.replace("- [ ] 调度员", "- [x] 调度员"),
                7,
                "second option",
            ),
            (
                GOOD.replace("- [x] 服务员", "- [ ] 服务员"),
                3,
                "no option is marked",
            ),
            (
                GOOD.replace("- [ ] 调度员", "- [ ] 服务员"),
                3,
                "appears twice",
            ),
            (GOOD.replace("- [ ] 调度员\n", ""), 3, "1 options"),
            (
                GOOD.replace("- [x] 服务员", "- [x] 村支书"),
                7,
                "not in the text",
            ),
            (
                GOOD.replace(
                    "> 原文：党(工)委书记要当好“服务员”",
                    "> 原文：书记要当好管家",
                ),
                9,
                "not verbatim",
            ),
            (
                GOOD.replace("> 原文：党(工)委书记要当好“服务员”\n", ""),
                3,
                "no explanation",
            ),
            (
                GOOD.replace("> 原文", "> 原文。\n- [ ] 多余\n> 原文"),
                10,
                "after the explanation",
            ),
            (format!("{GOOD}多余的话\n"), 10, "after the options"),
            (GOOD.replace("什么?", &"长".repeat(300)), 3, "characters"),
            (
                GOOD.replace("> 原文", &format!("> {}原文", "解".repeat(200))),
                3,
                "explanation has",
            ),
            (GOOD.replace("<!-- c -->", "<!-- c"), 1, "comment"),
            (
                "## 2.2\n- [x] 服务员\n".into(),
                2,
                "before the question text",
            ),
            ("## 2.2\n> 说明\n".into(), 2, "after the options"),
        ];
        for (source, line, needle) in cases {
            let error = parse_curated("q.md", &source, &document()).unwrap_err();
            assert_eq!(error.line, line, "{error}");
            assert!(error.message.contains(needle), "{error}");
            assert!(
                error.to_string().starts_with(&format!("q.md:{line}: ")),
                "{error}"
            );
        }
    }

    #[test]
    fn garbage_never_panics() {
        let document = document();
        for source in [
            "",
            "##",
            "## ",
            "-",
            "- [x]",
            ">",
            "## 0\n>",
            "## 2.2\n问\n- [x] \n",
            "\u{feff}",
            "## 2.2\n问\n- [x] 服务员\n> 原文：",
        ] {
            let _ = parse_curated("q.md", source, &document);
        }
    }

    #[test]
    fn a_missing_file_is_no_questions() {
        let missing = Path::new("/nonexistent/studybot/questions.md");
        assert!(matches!(load_curated(missing, &document()), Ok(None)));
    }
}
