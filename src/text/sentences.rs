//! Sentence splitting: the one set of marks that end a sentence, and the one splitter
//! used by replies (split into messages), quiz generation and the importer.
//!
//! Callers differ only where they truly need to, each an explicit [`Rule`] field:
//! - a reply split into messages may also break after a clause (`；` `;`) or a line
//!   break ([`Rule::clauses`]), since a message only needs a readable place to end;
//! - quiz generation keeps only a closing `”` with its sentence, replies keep every
//!   closing bracket or quote ([`Rule::closers`]): the quiz banks are pinned by
//!   fingerprint, and a wider set would move `）` from one question's sentence to the next;
//! - the importer breaks a paragraph into lines only after the full-width marks
//!   ([`is_full_width_end`]), so that imported files stay as they were written before.

/// The marks that end a sentence: `。！？` and their ASCII twins `!` `?`.
pub const SENTENCE_ENDS: [char; 5] = ['。', '！', '？', '!', '?'];

/// Whether `c` ends a sentence (one of [`SENTENCE_ENDS`]).
pub fn is_sentence_end(c: char) -> bool {
    SENTENCE_ENDS.contains(&c)
}

/// Whether `c` is a full-width end mark (`。！？`): where the importer breaks lines.
pub fn is_full_width_end(c: char) -> bool {
    matches!(c, '。' | '！' | '？')
}

/// Closing quotes and brackets that stay with the sentence they close (replies).
pub const ALL_CLOSERS: &[char] = &['”', '’', '）', ')', '」'];
/// Only the closing double quote (quiz generation; see the module comment).
pub const QUOTE_CLOSER: &[char] = &['”'];

/// How to split.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// Also end a piece after `；`, `;` and a line break.
    pub clauses: bool,
    /// What may follow an end mark and still belong to its sentence.
    pub closers: &'static [char],
}

impl Rule {
    /// Replies split into messages: sentences and clauses, every closer kept.
    pub const REPLY: Self = Self {
        clauses: true,
        closers: ALL_CLOSERS,
    };
    /// Quiz generation: sentences only, a closing `”` kept.
    pub const QUIZ: Self = Self {
        clauses: false,
        closers: QUOTE_CLOSER,
    };
}

/// Splits `text` after each end mark (and the closers that follow it), each piece with
/// whether it ends in a mark; a final unterminated piece is kept when not empty. The
/// pieces joined give `text` back.
pub fn split(text: &str, rule: Rule) -> Vec<(&str, bool)> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((index, c)) = chars.next() {
        if is_sentence_end(c) || (rule.clauses && matches!(c, '；' | ';' | '\n')) {
            let mut end = index + c.len_utf8();
            while let Some(&(next_index, next)) = chars.peek() {
                if !rule.closers.contains(&next) {
                    break;
                }
                end = next_index + next.len_utf8();
                chars.next();
            }
            pieces.push((&text[start..end], true));
            start = end;
        }
    }
    if start < text.len() {
        pieces.push((&text[start..], false));
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_differ_only_in_clauses_and_closers() {
        let text = "甲。）乙；丙“丁！”戊";
        assert_eq!(
            split(text, Rule::REPLY),
            vec![
                ("甲。）", true),
                ("乙；", true),
                ("丙“丁！”", true),
                ("戊", false)
            ]
        );
        assert_eq!(
            split(text, Rule::QUIZ),
            vec![("甲。", true), ("）乙；丙“丁！”", true), ("戊", false)]
        );
        for rule in [Rule::REPLY, Rule::QUIZ] {
            let joined: String = split(text, rule).into_iter().map(|(s, _)| s).collect();
            assert_eq!(joined, text);
        }
    }
}
