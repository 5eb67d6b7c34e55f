//! Stage 1: lines and debris. Line breaks, NBSP, full-width and zero-width spaces are
//! normalised; page debris is dropped, a cut notice becomes a gap.

use super::*;

/// One line of the input after debris removal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Item {
    /// Author text (trimmed, non-empty) and its line number.
    Text(usize, String),
    /// A blank line (or a dropped separator): a paragraph ends here.
    Blank,
    /// A cut notice: text is missing here.
    Cut,
}

pub(super) fn items(text: &str, dropped: &mut Vec<DroppedLine>) -> Vec<Item> {
    let text = text.replace("\r\n", "\n");
    let mut items = Vec::new();
    for (index, raw) in text
        .split(['\n', '\r', '\u{2028}', '\u{2029}', '\u{85}', '\u{c}'])
        .enumerate()
    {
        let line = index + 1;
        let clean = markdown_heading(normalise(raw));
        if clean.is_empty() {
            items.push(Item::Blank);
            continue;
        }
        let heading = line_marker(&clean).is_some();
        let mut drop = |text: &str, kind: DebrisKind| {
            dropped.push(DroppedLine {
                line,
                text: text.to_string(),
                kind,
            });
        };
        match debris::classify(&clean, heading) {
            None => items.push(Item::Text(line, clean)),
            Some(LineDebris::Whole(DebrisKind::Cut)) => {
                drop(&clean, DebrisKind::Cut);
                items.push(Item::Cut);
            }
            Some(LineDebris::Whole(kind)) => {
                drop(&clean, kind);
                items.push(Item::Blank);
            }
            Some(LineDebris::Inline {
                before,
                notice,
                after,
            }) => {
                drop(notice, DebrisKind::Cut);
                if !before.is_empty() {
                    items.push(Item::Text(line, before.to_string()));
                }
                items.push(Item::Cut);
                if !after.is_empty() {
                    items.push(Item::Text(line, after.to_string()));
                }
            }
        }
    }
    items
}

/// A Markdown heading (`## 一、标题`, `**一、标题**`) without its markup: a `.md` file
/// marks headings this way. A hashtag (`#两会#`) has no space after `#` and stays.
pub(super) fn markdown_heading(line: String) -> String {
    let hashes = line.len() - line.trim_start_matches('#').len();
    let mut text = line.as_str();
    if hashes > 0 && text[hashes..].starts_with(' ') {
        text = text[hashes..].trim_start();
    }
    for mark in ["**", "__"] {
        if let Some(inner) = text.strip_prefix(mark).and_then(|t| t.strip_suffix(mark))
            && !inner.contains(mark)
        {
            text = inner.trim();
        }
    }
    if text.len() == line.len() {
        line
    } else {
        text.to_string()
    }
}

/// Spaces of every kind become one ASCII space, zero-width characters go, and the line
/// is trimmed (full-width indents included).
pub(super) fn normalise(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        let c = match c {
            '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}' | '\u{feff}' => continue,
            c if c.is_whitespace() => ' ',
            c if c.is_control() => continue,
            c => c,
        };
        if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
            continue;
        }
        out.push(c);
    }
    out.truncate(out.trim_end().len());
    out
}
