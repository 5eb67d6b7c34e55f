//! The keyboard and caption limits Telegram enforces, with its 400 descriptions, so that
//! a reply outside them fails in the tests as it would in Telegram.
//!
//! * An inline keyboard holds at most [`MAX_KEYBOARD_BUTTONS`] buttons and a row at most
//!   [`MAX_ROW_BUTTONS`]: Telegram answers `Bad Request: reply markup is too long`
//!   (`REPLY_MARKUP_TOO_LONG` in MTProto) for too many buttons. Its wording for a row
//!   that is too wide is not documented; the fake answers the same description.
//! * A caption holds at most [`MAX_CAPTION_LEN`] UTF-16 code units after entity parsing:
//!   `Bad Request: message caption is too long`.
//! * Callback data of 1–64 bytes (`BUTTON_DATA_INVALID`), message texts (`message is too
//!   long`, `MESSAGE_TOO_LONG` for edits) and polls are checked in `methods.rs`.

use serde_json::Value;

use crate::methods::{ApiErr, bad};
use crate::server::utf16_len;

/// Max buttons in one row of an inline keyboard.
pub const MAX_ROW_BUTTONS: usize = 8;
/// Max buttons in one inline keyboard.
pub const MAX_KEYBOARD_BUTTONS: usize = 100;
/// Max caption length, in UTF-16 code units after entity parsing.
pub const MAX_CAPTION_LEN: usize = 1024;

/// Telegram's answer to a keyboard over its limits.
pub const MARKUP_TOO_LONG: &str = "reply markup is too long";
/// Telegram's answer to a caption over its limit.
pub const CAPTION_TOO_LONG: &str = "message caption is too long";

/// Checks the rows of an inline keyboard against the button limits.
pub(crate) fn check_keyboard(rows: &[Value]) -> Result<(), ApiErr> {
    let widths: Vec<usize> = rows
        .iter()
        .map(|row| row.as_array().map_or(0, Vec::len))
        .collect();
    if widths.iter().any(|width| *width > MAX_ROW_BUTTONS)
        || widths.iter().sum::<usize>() > MAX_KEYBOARD_BUTTONS
    {
        return Err(bad(MARKUP_TOO_LONG));
    }
    Ok(())
}

/// Checks a caption (already stripped of its entities) against its limit.
pub(crate) fn check_caption(caption: &str) -> Result<(), ApiErr> {
    if utf16_len(caption) > MAX_CAPTION_LEN {
        return Err(bad(CAPTION_TOO_LONG));
    }
    Ok(())
}
