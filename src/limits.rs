//! Telegram's limits, in one table: every reply, keyboard, poll and command the bot
//! builds is measured against these constants and nothing else.
//!
//! Telegram counts message texts, captions and poll texts after entity parsing, in
//! UTF-16 code units (an emoji or a supplementary CJK character counts two). tdlib counts
//! poll texts in characters; counting them in UTF-16 units is never longer, so a text
//! inside these limits is inside Telegram's whichever way it counts.

/// A message's visible text, in UTF-16 code units.
pub const MESSAGE_TEXT: usize = 4096;
/// A media caption (the exported workbook's), in UTF-16 code units.
pub const CAPTION: usize = 1024;
/// A callback button's data, in bytes.
pub const CALLBACK_DATA_BYTES: usize = 64;
/// Buttons in one row of an inline keyboard.
pub const BUTTONS_PER_ROW: usize = 8;
/// Buttons in one inline keyboard, over all its rows.
pub const BUTTONS_PER_KEYBOARD: usize = 100;
/// A poll's question, in UTF-16 code units.
pub const POLL_QUESTION: usize = 300;
/// One poll option, in UTF-16 code units.
pub const POLL_OPTION: usize = 100;
/// A quiz poll's explanation, in UTF-16 code units.
pub const POLL_EXPLANATION: usize = 200;
/// Line feeds in a quiz poll's explanation.
pub const POLL_EXPLANATION_LINE_FEEDS: usize = 2;
/// The fewest options a poll may have.
pub const POLL_OPTIONS_MIN: usize = 2;
/// The most options a poll may have (Bot API 2–10; newer servers take 12, older do not).
pub const POLL_OPTIONS_MAX: usize = 10;
/// A bot command's name (`setMyCommands`), in bytes of `[a-z0-9_]`.
pub const COMMAND_NAME: usize = 32;
/// A bot command's description (`setMyCommands`), in characters.
pub const COMMAND_DESCRIPTION: usize = 256;

/// Length as Telegram counts it: UTF-16 code units.
pub fn utf16_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

/// `text` if it has at most `max` UTF-16 units; otherwise its longest prefix that fits
/// with an ellipsis after it (`…`, one unit), cut at a character boundary, so never
/// inside a surrogate pair. Trailing spaces before the ellipsis are dropped.
pub fn shorten(text: &str, max: usize) -> String {
    if utf16_len(text) <= max {
        return text.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut units = 0;
    let mut end = 0;
    for (index, c) in text.char_indices() {
        if units + c.len_utf16() > max - 1 {
            break;
        }
        units += c.len_utf16();
        end = index + c.len_utf8();
    }
    format!("{}…", text[..end].trim_end())
}

/// Whether `name` is a command name Telegram accepts: 1–32 of `a-z`, `0-9` and `_`.
pub fn is_command_name(name: &str) -> bool {
    (1..=COMMAND_NAME).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortening_counts_utf16_units_and_never_splits_a_character() {
        assert_eq!(shorten("短句", 10), "短句");
        assert_eq!(shorten("一二三四五", 3), "一二…");
        // 🙂 is two units: a third would not fit in five with the ellipsis.
        let emoji = shorten(&"🙂".repeat(10), 5);
        assert_eq!(emoji, "🙂🙂…");
        assert_eq!(utf16_len(&emoji), 5);
        // A supplementary CJK character (U+20000) is two units as well.
        let cjk = shorten("𠀀𠀀𠀀", 4);
        assert_eq!(cjk, "𠀀…");
        assert_eq!(shorten("ab  cd", 4), "ab…");
        for max in 0..12 {
            assert!(utf16_len(&shorten("a🙂b𠀀c网d", max)) <= max, "{max}");
        }
    }

    #[test]
    fn command_names_are_what_set_my_commands_takes() {
        assert!(is_command_name("section"));
        assert!(is_command_name("weekly_test2"));
        for bad in ["", "Section", "sec-tion", "节", &"a".repeat(33)] {
            assert!(!is_command_name(bad), "{bad}");
        }
    }
}
