//! Transport-neutral replies: text with simple emphasis and optional buttons.
//!
//! The console renders them as plain text, Telegram as HTML. Both split a reply
//! that is too long for one message at sentence boundaries.

use crate::limits::{BUTTONS_PER_KEYBOARD, BUTTONS_PER_ROW, CALLBACK_DATA_BYTES};
use crate::text::sentences;

/// What a button does and who its message is for: the callback data's vocabulary,
/// kept in [`crate::callback`] (one encode/decode for every button).
pub use crate::callback::{Action, Audience, IMPORT_TOKEN_LEN};

/// Telegram's limit on a message's visible text, in UTF-16 code units (the table's
/// [`crate::limits::MESSAGE_TEXT`], under the name the transports split by).
pub use crate::limits::MESSAGE_TEXT as MESSAGE_LIMIT;
/// Length as Telegram counts it: UTF-16 code units.
pub use crate::limits::utf16_len;

/// A piece of text with its emphasis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Span {
    /// Plain text.
    Plain(String),
    /// Bold text (headings, the matched term in a search snippet).
    Bold(String),
    /// Italic text (notices such as "原文此处不完整").
    Italic(String),
}

impl Span {
    /// The visible text.
    pub fn text(&self) -> &str {
        match self {
            Self::Plain(text) | Self::Bold(text) | Self::Italic(text) => text,
        }
    }

    fn with_text(&self, text: String) -> Self {
        match self {
            Self::Plain(_) => Self::Plain(text),
            Self::Bold(_) => Self::Bold(text),
            Self::Italic(_) => Self::Italic(text),
        }
    }
}

/// An inline button.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    /// The label shown on the button.
    pub label: String,
    /// What pressing it does.
    pub action: Action,
}

/// One reply: text and, optionally, rows of buttons under it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reply {
    /// The text, in order.
    pub spans: Vec<Span>,
    /// Rows of buttons.
    pub buttons: Vec<Vec<Button>>,
    /// Who the message is for, which decides what its buttons do.
    pub audience: Audience,
}

impl Reply {
    /// An empty reply, to be filled with the builder methods.
    pub fn new() -> Self {
        Self::default()
    }

    /// A reply of one plain text.
    pub fn plain(text: impl Into<String>) -> Self {
        Self::new().text(text)
    }

    /// Appends plain text.
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.spans.push(Span::Plain(text.into()));
        self
    }

    /// Appends bold text.
    pub fn bold(mut self, text: impl Into<String>) -> Self {
        self.spans.push(Span::Bold(text.into()));
        self
    }

    /// Appends italic text.
    pub fn italic(mut self, text: impl Into<String>) -> Self {
        self.spans.push(Span::Italic(text.into()));
        self
    }

    /// Marks the reply as one for the whole chat (see [`Audience::Chat`]).
    pub fn for_the_chat(mut self) -> Self {
        self.audience = Audience::Chat;
        self
    }

    /// Appends a row of buttons, wrapped into rows of at most
    /// [`BUTTONS_PER_ROW`](crate::limits::BUTTONS_PER_ROW): Telegram refuses wider rows.
    pub fn buttons(mut self, row: Vec<Button>) -> Self {
        let mut row = row.into_iter().peekable();
        while row.peek().is_some() {
            self.buttons
                .push(row.by_ref().take(BUTTONS_PER_ROW).collect());
        }
        self
    }

    /// How many buttons the reply carries, over all rows.
    pub fn button_count(&self) -> usize {
        self.buttons.iter().map(Vec::len).sum()
    }

    /// What in this reply Telegram would refuse, once split into messages as the
    /// transports send it: an empty or too long text, a row wider than
    /// [`BUTTONS_PER_ROW`], more than [`BUTTONS_PER_KEYBOARD`] buttons, callback data
    /// over [`CALLBACK_DATA_BYTES`] or that the bot itself would not read back. Empty
    /// when everything fits (the limit tests assert that for every reply they build).
    pub fn limit_violations(&self) -> Vec<String> {
        let mut violations = Vec::new();
        for (index, part) in self.split(MESSAGE_LIMIT).iter().enumerate() {
            let length = utf16_len(&part.plain_text());
            if part.plain_text().trim().is_empty() {
                violations.push(format!("message {index}: empty text"));
            }
            if length > MESSAGE_LIMIT {
                violations.push(format!("message {index}: {length} UTF-16 units"));
            }
            if part.button_count() > BUTTONS_PER_KEYBOARD {
                violations.push(format!("message {index}: {} buttons", part.button_count()));
            }
            for row in &part.buttons {
                if row.len() > BUTTONS_PER_ROW || row.is_empty() {
                    violations.push(format!("message {index}: a row of {} buttons", row.len()));
                }
                for button in row {
                    let data = button.action.encode(part.audience);
                    if data.is_empty() || data.len() > CALLBACK_DATA_BYTES {
                        violations.push(format!("callback data {data:?}: {} bytes", data.len()));
                    }
                    if Action::decode(&data).map(|(action, _)| action)
                        != Some(button.action.clone())
                    {
                        violations.push(format!("callback data {data:?} does not read back"));
                    }
                    if button.label.trim().is_empty() {
                        violations.push(format!("a button without a label ({data})"));
                    }
                }
            }
        }
        violations
    }

    /// The visible text without emphasis (what the console prints).
    pub fn plain_text(&self) -> String {
        self.spans.iter().map(Span::text).collect()
    }

    /// The text as Telegram HTML, with `<`, `>` and `&` escaped.
    pub fn html(&self) -> String {
        let mut out = String::new();
        for span in &self.spans {
            let (open, close) = match span {
                Span::Plain(_) => ("", ""),
                Span::Bold(_) => ("<b>", "</b>"),
                Span::Italic(_) => ("<i>", "</i>"),
            };
            if span.text().is_empty() {
                continue;
            }
            out.push_str(open);
            out.push_str(&escape_html(span.text()));
            out.push_str(close);
        }
        out
    }

    /// Splits the reply into replies whose visible text is at most `limit` UTF-16 code
    /// units, cutting after sentence ends (。！？；, newlines) where possible. Buttons
    /// stay with the last part.
    pub fn split(&self, limit: usize) -> Vec<Reply> {
        let limit = limit.max(2);
        let mut parts = vec![Reply::new()];
        let mut length = 0;
        for span in &self.spans {
            for piece in sentence_pieces(span.text()) {
                for chunk in hard_chunks(piece, limit) {
                    let chunk_length = utf16_len(chunk);
                    if length + chunk_length > limit && length > 0 {
                        parts.push(Reply::new());
                        length = 0;
                    }
                    let chunk = if length == 0 {
                        chunk.trim_start_matches('\n')
                    } else {
                        chunk
                    };
                    if chunk.is_empty() {
                        continue;
                    }
                    length += utf16_len(chunk);
                    let current = parts.last_mut().expect("parts is never empty");
                    push_span(current, span.with_text(chunk.to_string()));
                }
            }
        }
        for part in &mut parts {
            trim_trailing_newlines(part);
        }
        parts.retain(|part| !part.spans.is_empty());
        if parts.is_empty() {
            parts.push(Reply::new());
        }
        parts.last_mut().expect("not empty").buttons = self.buttons.clone();
        for part in &mut parts {
            part.audience = self.audience;
        }
        parts
    }
}

/// Escapes text for Telegram's HTML parse mode.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            _ => out.push(c),
        }
    }
    out
}

/// Splits text after each sentence end, keeping the punctuation (and a closing quote).
fn sentence_pieces(text: &str) -> Vec<&str> {
    sentences::split(text, sentences::Rule::REPLY)
        .into_iter()
        .map(|(piece, _)| piece)
        .collect()
}

/// Cuts a piece longer than `limit` into chunks of at most `limit` UTF-16 units.
fn hard_chunks(text: &str, limit: usize) -> Vec<&str> {
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut length = 0;
    for (index, c) in text.char_indices() {
        if length + c.len_utf16() > limit {
            chunks.push(&text[start..index]);
            start = index;
            length = 0;
        }
        length += c.len_utf16();
    }
    chunks.push(&text[start..]);
    chunks
}

fn push_span(reply: &mut Reply, span: Span) {
    if let Some(last) = reply.spans.last_mut()
        && std::mem::discriminant(last) == std::mem::discriminant(&span)
    {
        let joined = format!("{}{}", last.text(), span.text());
        *last = span.with_text(joined);
        return;
    }
    reply.spans.push(span);
}

fn trim_trailing_newlines(reply: &mut Reply) {
    while let Some(last) = reply.spans.last_mut() {
        let trimmed = last.text().trim_end_matches('\n').to_string();
        if trimmed.is_empty() {
            reply.spans.pop();
        } else {
            *last = last.with_text(trimmed);
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::SectionId;

    #[test]
    fn html_is_escaped() {
        let reply = Reply::new().bold("<b>&").text(" a<b ").italic("x>y");
        assert_eq!(reply.html(), "<b>&lt;b&gt;&amp;</b> a&lt;b <i>x&gt;y</i>");
        assert_eq!(reply.plain_text(), "<b>& a<b x>y");
    }

    #[test]
    fn short_replies_are_not_split() {
        let reply = Reply::new().bold("标题\n").text("一句。两句。");
        assert_eq!(reply.split(MESSAGE_LIMIT), vec![reply.clone()]);
    }

    #[test]
    fn long_replies_split_at_sentence_ends() {
        let sentence = "这是一个句子。";
        let reply = Reply::new()
            .bold("标题\n")
            .text(sentence.repeat(2000))
            .buttons(vec![Button {
                label: "x".into(),
                action: Action::Outline {
                    document: "d".into(),
                    page: 1,
                },
            }]);
        let parts = reply.split(MESSAGE_LIMIT);
        assert!(parts.len() >= 4);
        for part in &parts {
            let text = part.plain_text();
            assert!(utf16_len(&text) <= MESSAGE_LIMIT);
            assert!(text.ends_with('。'), "{}", &text[text.len() - 10..]);
        }
        let joined: String = parts.iter().map(Reply::plain_text).collect();
        assert_eq!(joined, reply.plain_text());
        assert!(
            parts[..parts.len() - 1]
                .iter()
                .all(|p| p.buttons.is_empty())
        );
        assert_eq!(parts.last().unwrap().buttons, reply.buttons);
    }

    #[test]
    fn text_without_sentence_ends_is_cut_hard() {
        let reply = Reply::plain("网".repeat(10_000));
        let parts = reply.split(MESSAGE_LIMIT);
        assert_eq!(parts.len(), 3);
        assert_eq!(
            parts
                .iter()
                .map(|p| p.plain_text().chars().count())
                .sum::<usize>(),
            10_000
        );
    }

    #[test]
    fn emoji_count_as_two_units() {
        let reply = Reply::plain("🙂".repeat(3000));
        let parts = reply.split(MESSAGE_LIMIT);
        assert_eq!(parts.len(), 2);
        assert_eq!(utf16_len(&parts[0].plain_text()), 4096);
    }

    #[test]
    fn rows_wrap_at_eight_buttons() {
        let button = |n: usize| Button {
            label: n.to_string(),
            action: Action::Section {
                document: "d".into(),
                section: SectionId::part(n as u8),
                page: 1,
            },
        };
        let reply = Reply::plain("x").buttons((1..=13).map(button).collect());
        let widths: Vec<usize> = reply.buttons.iter().map(Vec::len).collect();
        assert_eq!(widths, vec![8, 5]);
        assert!(reply.limit_violations().is_empty());
        let mut too_many = Reply::plain("x");
        for _ in 0..13 {
            too_many = too_many.buttons((1..=8).map(button).collect());
        }
        assert_eq!(too_many.limit_violations(), vec!["message 0: 104 buttons"]);
        let mut wide = Reply::plain("x");
        wide.buttons.push((1..=9).map(button).collect());
        assert_eq!(
            wide.limit_violations(),
            vec!["message 0: a row of 9 buttons"]
        );
    }
}
