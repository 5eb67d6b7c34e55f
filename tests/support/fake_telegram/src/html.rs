//! The `parse_mode=HTML` parser, with tdlib's semantics and error texts.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::methods::{ApiErr, bad};
use crate::server::utf16_len;

pub(crate) const HTML_TAGS: &[&str] = &[
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "tg-spoiler",
    "span",
    "blockquote",
    "tg-emoji",
];

pub(crate) fn html_entity(s: &str) -> Option<(char, usize)> {
    let end = s.bytes().take(12).position(|b| b == b';')?;
    let name = &s[1..end];
    let num = |digits: &str, radix| {
        u32::from_str_radix(digits, radix)
            .ok()
            .and_then(char::from_u32)
    };
    let ch = match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "quot" => '"',
        _ if name.starts_with("#x") || name.starts_with("#X") => num(&name[2..], 16)?,
        _ if name.starts_with('#') => num(&name[1..], 10)?,
        _ => return None,
    };
    Some((ch, end + 1))
}

/// Decode the entities of `s`; bare `&` are an error at `base + offset` if `strict`.
pub(crate) fn decode_into(out: &mut String, s: &str, strict: Option<usize>) -> Result<(), String> {
    let mut i = 0;
    while let Some(c) = s[i..].chars().next() {
        let entity = if c == '&' { html_entity(&s[i..]) } else { None };
        match (entity, strict) {
            (Some((d, n)), _) => (out.push(d), i += n),
            (None, Some(base)) if c == '&' => {
                let at = base + i;
                return Err(format!(
                    "Character '&' must be escaped as \"&amp;\" at byte offset {at}"
                ));
            }
            _ => (out.push(c), i += c.len_utf8()),
        };
    }
    Ok(())
}

pub(crate) struct Open {
    pub(crate) name: String,
    pub(crate) start: usize,
    pub(crate) attrs: HashMap<String, String>,
}

pub(crate) fn req(ok: bool, msg: impl FnOnce() -> String) -> Result<(), String> {
    if ok { Ok(()) } else { Err(msg()) }
}

/// Parse Telegram HTML like tdlib. Returns (text, entities) or the tdlib-style error text.
pub(crate) fn parse_html(src: &str) -> Result<(String, Vec<Value>), ApiErr> {
    parse_html_inner(src).map_err(|e| bad(format!("can't parse entities: {e}")))
}

pub(crate) fn parse_html_inner(src: &str) -> Result<(String, Vec<Value>), String> {
    let b = src.as_bytes();
    let (mut text, mut i) = (String::new(), 0usize);
    let (mut stack, mut ents): (Vec<Open>, Vec<Value>) = (vec![], vec![]);
    let ws = |c: u8| c.is_ascii_whitespace();
    let skip = |i: &mut usize, f: &dyn Fn(u8) -> bool| {
        while *i < b.len() && f(b[*i]) {
            *i += 1
        }
    };
    while i < b.len() {
        if b[i] != b'<' {
            let end = src[i..].find('<').map_or(b.len(), |n| i + n);
            decode_into(&mut text, &src[i..end], Some(i))?;
            i = end;
            continue;
        }
        let start = i;
        i += 1;
        if b.get(i) == Some(&b'/') {
            i += 1;
            let ns = i;
            skip(&mut i, &|c| !ws(c) && c != b'>');
            let name = src[ns..i].to_ascii_lowercase();
            let open = stack
                .pop()
                .ok_or_else(|| format!("Unexpected end tag at byte offset {start}"))?;
            skip(&mut i, &ws);
            req(b.get(i) == Some(&b'>'), || {
                format!("Unclosed end tag at byte offset {start}")
            })?;
            i += 1;
            req(name.is_empty() || name == open.name, || {
                format!(
                    "Unmatched end tag at byte offset {start}, expected \"</{}>\", found \"</{name}>\"",
                    open.name
                )
            })?;
            close_entity(&open, &mut stack, &mut ents, &text);
            continue;
        }
        let ns = i;
        skip(&mut i, &|c| !ws(c) && c != b'>');
        let name = src[ns..i].to_ascii_lowercase();
        req(i < b.len(), || {
            format!("Unclosed start tag at byte offset {start}")
        })?;
        req(HTML_TAGS.contains(&name.as_str()), || {
            format!("Unsupported start tag \"{name}\" at byte offset {start}")
        })?;
        let mut attrs = HashMap::new();
        loop {
            skip(&mut i, &ws);
            req(i < b.len(), || {
                format!("Unclosed start tag \"{name}\" at byte offset {start}")
            })?;
            if b[i] == b'>' {
                i += 1;
                break;
            }
            let an = i;
            skip(&mut i, &|c| {
                c.is_ascii_alphanumeric() || c == b'-' || c == b'_'
            });
            req(an < i, || {
                format!("Empty attribute name in the tag \"{name}\" at byte offset {start}")
            })?;
            let attr = src[an..i].to_ascii_lowercase();
            skip(&mut i, &ws);
            let mut val = String::new();
            if b.get(i) == Some(&b'=') {
                i += 1;
                skip(&mut i, &ws);
                req(i < b.len(), || {
                    format!("Unclosed start tag \"{name}\" at byte offset {start}")
                })?;
                if b[i] == b'"' || b[i] == b'\'' {
                    let q = b[i];
                    let vs = i + 1;
                    i = src[vs..]
                        .find(q as char)
                        .map(|n| vs + n)
                        .ok_or_else(|| format!("Unclosed start tag at byte offset {start}"))?;
                    decode_into(&mut val, &src[vs..i], None)?;
                    i += 1;
                } else {
                    let vs = i;
                    skip(&mut i, &|c| {
                        c.is_ascii_alphanumeric() || b".-_".contains(&c)
                    });
                    req(i < b.len(), || {
                        format!("Unexpected end of name token at byte offset {i}")
                    })?;
                    val = src[vs..i].to_string();
                }
            }
            attrs.insert(attr, val);
        }
        req(
            name != "span" || attrs.get("class").is_some_and(|c| c == "tg-spoiler"),
            || format!("Tag \"span\" must have class \"tg-spoiler\" at byte offset {start}"),
        )?;
        req(name != "tg-emoji" || attrs.contains_key("emoji-id"), || {
            format!("Tag \"tg-emoji\" must have attribute \"emoji-id\" at byte offset {start}")
        })?;
        stack.push(Open {
            name,
            start: utf16_len(&text),
            attrs,
        });
    }
    if let Some(open) = stack.last() {
        return Err(format!(
            "Can't find end tag corresponding to start tag \"{}\"",
            open.name
        ));
    }
    ents.sort_by_key(|e| {
        (
            e["offset"].as_u64(),
            std::cmp::Reverse(e["length"].as_u64()),
        )
    });
    Ok((text, ents))
}

/// Turn a closed tag into a `MessageEntity` (none for empty ones, like tdlib).
pub(crate) fn close_entity(open: &Open, stack: &mut [Open], ents: &mut Vec<Value>, text: &str) {
    let end = utf16_len(text);
    if end <= open.start {
        return;
    }
    let attr = |k: &str| open.attrs.get(k).cloned();
    let mut e = match open.name.as_str() {
        "b" | "strong" => json!({"type": "bold"}),
        "i" | "em" => json!({"type": "italic"}),
        "u" | "ins" => json!({"type": "underline"}),
        "s" | "strike" | "del" => json!({"type": "strikethrough"}),
        "tg-spoiler" | "span" => json!({"type": "spoiler"}),
        "blockquote" if open.attrs.contains_key("expandable") => {
            json!({"type": "expandable_blockquote"})
        }
        "blockquote" => json!({"type": "blockquote"}),
        "tg-emoji" => json!({"type": "custom_emoji", "custom_emoji_id": attr("emoji-id")}),
        "pre" => json!({"type": "pre", "language": attr("__lang")}),
        "code" => {
            let lang = attr("class").and_then(|c| c.strip_prefix("language-").map(String::from));
            if let (Some(l), Some(pre)) = (lang, stack.last_mut().filter(|p| p.name == "pre")) {
                pre.attrs.insert("__lang".into(), l); // <pre><code class="language-x"> is one pre entity
                return;
            }
            json!({"type": "code"})
        }
        _ => {
            let units: Vec<u16> = text.encode_utf16().skip(open.start).collect();
            let url = attr("href")
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| String::from_utf16_lossy(&units));
            let schemes = ["http://", "https://", "tg://", "mailto:", "ftp://"];
            if !schemes.iter().any(|p| url.starts_with(p)) || url.contains(' ') {
                return; // Telegram silently drops invalid links
            }
            json!({"type": "text_link", "url": url})
        }
    };
    if e["language"].is_null() {
        e.as_object_mut().map(|o| o.remove("language"));
    }
    e["offset"] = json!(open.start);
    e["length"] = json!(end - open.start);
    ents.push(e);
}
