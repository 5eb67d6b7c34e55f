//! Stage 2: the outline block (`目录`/`提纲` and the heading lines after it).

use super::*;

/// An outline block found at the top.
#[derive(Debug, Clone)]
pub(super) struct Outline {
    pub(super) first: usize,
    pub(super) last: usize,
    pub(super) entries: Vec<String>,
}

/// Splits off the outline block (`目录`/`提纲` and the heading lines after it), if the
/// text starts with one.
pub(super) fn split_outline(items: &[Item]) -> (Option<Outline>, Vec<Item>) {
    if let Some((outline, end)) = explicit_outline(items) {
        return (Some(outline), items[end..].to_vec());
    }
    if let Some((outline, start, end)) = implicit_outline(items) {
        let mut body = items[..start].to_vec();
        body.extend_from_slice(&items[end..]);
        return (Some(outline), body);
    }
    (None, items.to_vec())
}

/// A heading line an outline may list: a marker line, short, not a sentence.
pub(super) fn outline_entry(text: &str) -> Option<Marker<'_>> {
    line_marker(text).filter(|_| {
        text.chars().count() <= LONGEST_HEADING
            && !text.chars().next_back().is_some_and(is_terminator)
    })
}

/// An outline without a `目录` line: heading lines near the top, with no text between
/// them, whose first heading the text then repeats (`一、…` again, with its body).
pub(super) fn implicit_outline(items: &[Item]) -> Option<(Outline, usize, usize)> {
    let (start, first_line, first) = items
        .iter()
        .enumerate()
        .filter_map(|(at, item)| match item {
            Item::Text(line, text) => Some((at, *line, text)),
            _ => None,
        })
        .take(8)
        .find(|(_, _, text)| outline_entry(text).is_some_and(|m| m.kind != Kind::Run))?;
    let head = outline_entry(first)?;
    let repeats = |text: &str| {
        line_marker(text).is_some_and(|m| {
            m.kind == head.kind && m.number == head.number && {
                let (a, b) = (plain(&title_of(m.rest).0), plain(&title_of(head.rest).0));
                titles_match(&a, &b)
            }
        })
    };
    let mut outline = Outline {
        first: first_line,
        last: first_line,
        entries: vec![first.clone()],
    };
    let mut end = start + 1;
    for (at, item) in items.iter().enumerate().skip(start + 1) {
        match item {
            Item::Blank => continue,
            Item::Text(_, text) if repeats(text) => break,
            Item::Text(line, text) if outline_entry(text).is_some() => {
                outline.entries.push(text.clone());
                outline.last = *line;
                end = at + 1;
            }
            _ => break,
        }
    }
    let repeated = items[end..]
        .iter()
        .any(|item| matches!(item, Item::Text(_, text) if repeats(text)));
    (outline.entries.len() >= 2 && repeated).then_some((outline, start, end))
}

/// `目录` or `提纲` and the heading lines after it.
pub(super) fn explicit_outline(items: &[Item]) -> Option<(Outline, usize)> {
    let header = items
        .iter()
        .position(|item| matches!(item, Item::Text(..)))
        .filter(|&at| {
            let Item::Text(_, text) = &items[at] else {
                return false;
            };
            let plain: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            (plain.starts_with("目录") || plain.starts_with("提纲")) && plain.chars().count() <= 20
        })?;
    let Item::Text(first, _) = items[header] else {
        return None;
    };
    let mut outline = Outline {
        first,
        last: first,
        entries: Vec::new(),
    };
    let mut end = header + 1;
    for (at, item) in items.iter().enumerate().skip(header + 1) {
        match item {
            Item::Blank => continue,
            Item::Text(line, text)
                if line_marker(text).is_some() && text.chars().count() <= LONGEST_HEADING =>
            {
                outline.entries.push(text.clone());
                outline.last = *line;
                end = at + 1;
            }
            _ => break,
        }
    }
    Some((outline, end))
}
