//! Stage 3: the title and its `——` subtitle (the occasion).

use super::*;

pub(super) fn title_and_occasion(
    body: &[Item],
    found: &mut Structure,
    fallback_title: &str,
) -> Vec<Item> {
    // The title is the first text line, after any date lines (which stay in the text).
    let first = body.iter().position(|item| match item {
        Item::Text(_, text) => !is_date(text),
        _ => false,
    });
    if let Some(at) = first
        && let Item::Text(_, text) = &body[at]
        && looks_like_title(text)
    {
        found.title = text.clone();
        found.title_source = "标题行";
        let mut rest = body[..at].to_vec();
        let mut after = &body[at + 1..];
        // A `——…` subtitle right after the title names the occasion.
        if let Some(next) = after.iter().position(|item| !matches!(item, Item::Blank))
            && let Item::Text(_, text) = &after[next]
            && let Some(subtitle) = text.strip_prefix(['—', '-'])
        {
            found.occasion = subtitle.trim_start_matches(['—', '-', ' ']).to_string();
            after = &after[next + 1..];
        }
        rest.push(Item::Blank);
        rest.extend_from_slice(after);
        return rest;
    }
    // No title line: the `《…》` name in the page's debris (收藏《…》), or the file's name.
    let named = found.dropped.iter().find_map(|d| {
        let start = d.text.find('《')? + '《'.len_utf8();
        let end = start + d.text[start..].find('》')?;
        let name = d.text[start..end].trim();
        (!name.is_empty()).then(|| name.to_string())
    });
    match named {
        Some(name) => {
            found.title = name;
            found.title_source = "网页中的《…》";
        }
        None => {
            found.title = fallback_title.to_string();
            found.title_source = "文件名";
        }
    }
    body.to_vec()
}

/// A line that is only a date or a time (`2024年3月5日`, `2024-03-05 10:00`).
pub(super) fn is_date(text: &str) -> bool {
    text.bytes().filter(u8::is_ascii_digit).count() >= 4
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || " 年月日-:/.：（）()".contains(c))
}

pub(super) fn looks_like_title(text: &str) -> bool {
    let last = text.chars().next_back();
    if is_date(text) {
        return false;
    }
    text.chars().count() <= LONGEST_HEADING
        && line_marker(text).is_none()
        && !last
            .is_some_and(|c| is_terminator(c) || matches!(c, '：' | ':' | '；' | ';' | '，' | ','))
}

/// `在全市…培训重点班上的发言` → `全市…培训重点班`; `习近平在中央经济工作会议上的讲话`
/// → `中央经济工作会议`.
pub(super) fn occasion_in_title(title: &str) -> Option<String> {
    let inner = &title[title.find('在')? + '在'.len_utf8()..];
    let end = inner.rfind("上的")?;
    let occasion = inner[..end].trim();
    (!occasion.is_empty()).then(|| occasion.to_string())
}
