//! The Mini App's pure core: the `initData` check ([`init_data`]) and the start
//! parameter that names a group in the links the bot hands out ([`StartParam`]).
//! The HTTP server is the `web` transport; what each route answers is in
//! `app::webapp`.

pub mod init_data;

pub use init_data::{InitData, InitDataError, WebAppUser};

/// Which group (and which view) a Mini App link opens: the `startapp` parameter of
/// `https://t.me/<bot>?startapp=<param>`, signed inside `initData` by Telegram.
///
/// Telegram allows `A-Z a-z 0-9 _ -` and at most 64 characters, so a chat id is written
/// with `m` for its minus sign: `r-m1001234567890` (reader), `d-m100…` (dashboard).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartParam {
    /// The group's chat id.
    pub chat_id: i64,
    /// The view the link opens.
    pub view: View,
}

/// The two views of the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// The text, for members.
    Reader,
    /// Participation and the roster, for administrators.
    Dashboard,
}

impl StartParam {
    /// The parameter's text, as put in a `startapp` link.
    pub fn encode(&self) -> String {
        let view = match self.view {
            View::Reader => 'r',
            View::Dashboard => 'd',
        };
        let id = match self.chat_id {
            id if id < 0 => format!("m{}", id.unsigned_abs()),
            id => id.to_string(),
        };
        format!("{view}-{id}")
    }

    /// Reads a parameter written by [`StartParam::encode`]; `None` for anything else.
    pub fn decode(text: &str) -> Option<Self> {
        let (view, id) = text.split_once('-')?;
        let view = match view {
            "r" => View::Reader,
            "d" => View::Dashboard,
            _ => return None,
        };
        let (negative, digits) = match id.strip_prefix('m') {
            Some(digits) => (true, digits),
            None => (false, id),
        };
        if digits.is_empty() || digits.len() > 19 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let value: i64 = digits.parse().ok()?;
        Some(Self {
            chat_id: if negative { -value } else { value },
            view,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_params_round_trip_within_telegrams_alphabet() {
        for (chat_id, view) in [
            (-1001234567890, View::Reader),
            (-42, View::Dashboard),
            (777, View::Reader),
            (i64::MIN + 1, View::Dashboard),
        ] {
            let param = StartParam { chat_id, view };
            let text = param.encode();
            assert!(text.len() <= 64);
            assert!(
                text.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            );
            assert_eq!(StartParam::decode(&text), Some(param), "{text}");
        }
        for bad in [
            "",
            "r",
            "r-",
            "x-1",
            "r-m",
            "r--1",
            "r-1.5",
            "r-99999999999999999999",
        ] {
            assert_eq!(StartParam::decode(bad), None, "{bad}");
        }
    }
}
