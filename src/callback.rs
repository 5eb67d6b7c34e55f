//! Callback data: what pressing an inline button asks for, and its one encoding.
//!
//! Every button's data is written and read here: the section and outline pages, the
//! operator's import buttons, and the study record's ✅ 已学习 ([`CheckInButton`]); link
//! and Mini App buttons carry no data. Callback data is public, so decoding refuses
//! anything malformed. Pure; imports nothing of the features.

use chrono::{Datelike, NaiveDate};

use crate::limits::CALLBACK_DATA_BYTES;
use crate::text::SectionId;

/// What pressing a button asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Show a section of a document.
    Section {
        /// The document's id.
        document: String,
        /// The section to show.
        section: SectionId,
        /// The page, from 1, of a section too long to show at once (see
        /// [`crate::messages::section_page`]); 1 for a short one.
        page: usize,
    },
    /// Show the outline of a document.
    Outline {
        /// The document's id.
        document: String,
        /// The page, from 1, of an outline with too many parts for one keyboard.
        page: usize,
    },
    /// Finish an operator's pending import: store it (导入) or drop it (取消).
    Import {
        /// The pending import's token (see [`IMPORT_TOKEN_LEN`]).
        token: String,
        /// 导入 (`true`) or 取消 (`false`).
        accept: bool,
    },
    /// Record that the presser studied a day's section (the study record's ✅ 已学习).
    CheckIn(CheckInButton),
    /// Open a link (in groups, the Mini App's `https://t.me/<bot>?startapp=…`).
    Url(String),
    /// Open the Mini App at this HTTPS address (private chats only: Telegram refuses
    /// `web_app` buttons in groups).
    WebApp(String),
}

/// The length of a pending import's token: 12 ASCII letters or digits.
pub const IMPORT_TOKEN_LEN: usize = 12;

/// Who a message is for, which decides what its buttons do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Audience {
    /// One user asked for it (a command's reply): its buttons edit it in place, so
    /// browsing does not fill the chat.
    #[default]
    Asker,
    /// The whole chat (the daily excerpt): its buttons answer with a new message, so one
    /// member's press never changes it for everyone.
    Chat,
}

impl Action {
    /// Encodes the action as callback data (at most 64 bytes): `s:<doc>:<id>` or
    /// `o:<doc>` on a message for the whole chat, `es:<doc>:<id>` or `eo:<doc>` (edit in
    /// place) on one a user asked for. Data without the `e` therefore never edits, which
    /// also keeps excerpts sent before the distinction from being edited. A page after
    /// the first is a last field: `es:<doc>:<id>:<page>`, `eo:<doc>:<page>`.
    pub fn encode(&self, audience: Audience) -> String {
        let edit = match audience {
            Audience::Asker => "e",
            Audience::Chat => "",
        };
        let page = |page: usize| match page {
            0 | 1 => String::new(),
            page => format!(":{page}"),
        };
        match self {
            Self::Section {
                document,
                section,
                page: number,
            } => format!("{edit}s:{document}:{section}{}", page(*number)),
            Self::Outline {
                document,
                page: number,
            } => format!("{edit}o:{document}{}", page(*number)),
            Self::Import { token, accept } => {
                format!("{edit}i:{token}:{}", if *accept { "y" } else { "n" })
            }
            // A check-in never edits: it is answered with a toast.
            Self::CheckIn(button) => button.encode(),
            // Links carry no callback data (the transport makes them link buttons).
            Self::Url(_) | Self::WebApp(_) => String::new(),
        }
    }

    /// Decodes callback data, with the audience of the message it came from. Callback
    /// data is public: anything malformed is `None` (and a transport should also check
    /// that the message really carries a button with this data).
    pub fn decode(data: &str) -> Option<(Self, Audience)> {
        if data.len() > CALLBACK_DATA_BYTES {
            return None;
        }
        if let Some(button) = CheckInButton::decode(data) {
            return Some((Self::CheckIn(button), Audience::Chat));
        }
        let (audience, data) = match data.strip_prefix('e') {
            Some(rest) => (Audience::Asker, rest),
            None => (Audience::Chat, data),
        };
        Self::decode_action(data).map(|action| (action, audience))
    }

    fn decode_action(data: &str) -> Option<Self> {
        // A page is 2 or more, written without leading zeros (page 1 has no field), so
        // each page has exactly one encoding.
        let page = |field: Option<&str>| match field {
            None => Some(1),
            Some(digits) if digits.len() <= 6 && !digits.starts_with('0') => {
                digits.parse::<usize>().ok().filter(|page| *page >= 2)
            }
            Some(_) => None,
        };
        let mut fields = data.split(':');
        match (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) {
            (Some("s"), Some(document), Some(section), number, None)
                if valid_document(document) =>
            {
                Some(Self::Section {
                    document: document.to_string(),
                    section: section.parse().ok()?,
                    page: page(number)?,
                })
            }
            (Some("o"), Some(document), number, None, None) if valid_document(document) => {
                Some(Self::Outline {
                    document: document.to_string(),
                    page: page(number)?,
                })
            }
            (Some("i"), Some(token), Some(answer @ ("y" | "n")), None, None)
                if token.len() == IMPORT_TOKEN_LEN
                    && token.bytes().all(|b| b.is_ascii_alphanumeric()) =>
            {
                Some(Self::Import {
                    token: token.to_string(),
                    accept: answer == "y",
                })
            }
            _ => None,
        }
    }
}

/// Whether `document` can be a document id in callback data: 1–32 ASCII letters, digits,
/// `-` or `_`.
fn valid_document(document: &str) -> bool {
    !document.is_empty()
        && document.len() <= 32
        && document
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The ✅ 已学习 button: which chat's record, which section, which local day.
///
/// Callback data is public, so every field is checked when it comes back: the chat must
/// be the message's (or, for catch-up, the presser's private chat with the chat being one
/// of theirs), the section must be the one that chat had on that day, and the day must
/// be today or at most [`CATCH_UP_DAYS`] ago.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckInButton {
    /// The document's id.
    pub document: String,
    /// The section.
    pub section: SectionId,
    /// The chat whose record the press goes to.
    pub chat_id: i64,
    /// The local day the section belongs to.
    pub date: NaiveDate,
}

impl CheckInButton {
    /// The data: `k:<doc>:<section>:<chat>:<days since 0001-01-01>`, at most 64 bytes
    /// for documents ids of up to 32 bytes (`k:xzsj:2.2:-1001234567890:739585` is 32).
    pub fn encode(&self) -> String {
        format!(
            "k:{}:{}:{}:{}",
            self.document,
            self.section,
            self.chat_id,
            self.date.num_days_from_ce()
        )
    }

    /// Decodes [`Self::encode`]'s data; anything malformed is `None`.
    pub fn decode(data: &str) -> Option<Self> {
        if data.len() > CALLBACK_DATA_BYTES {
            return None;
        }
        let mut fields = data.split(':');
        let (Some("k"), Some(document), Some(section), Some(chat), Some(days), None) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            return None;
        };
        if !valid_document(document) {
            return None;
        }
        Some(Self {
            document: document.to_string(),
            section: section.parse().ok()?,
            chat_id: chat.parse().ok()?,
            date: NaiveDate::from_num_days_from_ce_opt(days.parse().ok()?)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_data_round_trips_and_rejects_forgeries() {
        let actions = [
            Action::Section {
                document: "xzsj".into(),
                section: SectionId::point(2, 1),
                page: 1,
            },
            Action::Section {
                document: "xzsj".into(),
                section: SectionId::point(2, 1),
                page: 52,
            },
            Action::Outline {
                document: "xzsj".into(),
                page: 1,
            },
            Action::Outline {
                document: "xzsj".into(),
                page: 3,
            },
            Action::Import {
                token: "Ab3dEf6hJk9m".into(),
                accept: true,
            },
            Action::Import {
                token: "Ab3dEf6hJk9m".into(),
                accept: false,
            },
        ];
        for action in actions {
            for audience in [Audience::Asker, Audience::Chat] {
                let data = action.encode(audience);
                assert!(data.len() <= 64);
                assert_eq!(Action::decode(&data), Some((action.clone(), audience)));
            }
        }
        assert_eq!(
            Action::decode("s:xzsj:2.1"),
            Some((
                Action::Section {
                    document: "xzsj".into(),
                    section: SectionId::point(2, 1),
                    page: 1,
                },
                Audience::Chat
            )),
            "data without the edit mark (older excerpts too) never edits"
        );
        for forged in [
            "",
            "s",
            "s:xzsj",
            "s:xzsj:9.9.9",
            "s:xzsj:2.1:x",
            "o:",
            "x:xzsj",
            "s::2.1",
            "o:中文",
            "e",
            "ee:xzsj",
            "eeo:xzsj",
            "Eo:xzsj",
            "ei:short:y",
            "ei:Ab3dEf6hJk9m:",
            "ei:Ab3dEf6hJk9m:yes",
            "ei:Ab3dEf6hJk9!:y",
            "ei:Ab3dEf6hJk9mm:y",
            "es:xzsj:2.1:1",
            "es:xzsj:2.1:0",
            "es:xzsj:2.1:02",
            "es:xzsj:2.1:-2",
            "es:xzsj:2.1:2:2",
            "es:xzsj:2.1:9999999",
            "eo:xzsj:1",
            "eo:xzsj:x",
            "eo:xzsj:2:2",
            &"s:a:1".repeat(20),
        ] {
            assert_eq!(Action::decode(forged), None, "{forged}");
        }
    }

    #[test]
    fn button_data_round_trips_and_fits_64_bytes() {
        let button = CheckInButton {
            document: "x".repeat(32),
            section: "15.12".parse().unwrap(),
            chat_id: -1_001_234_567_890,
            date: date("2026-11-30"),
        };
        let data = button.encode();
        assert!(data.len() <= 64, "{} bytes: {data}", data.len());
        assert_eq!(CheckInButton::decode(&data), Some(button));
        for forged in [
            "k:xzsj:2.2:-100:abc",
            "k:xzsj:2.2:x:739585",
            "k:../..:2.2:-100:739585",
            "k:xzsj:2.2:-100:739585:1",
            "s:xzsj:2.2",
            "k:xzsj:9x:-100:739585",
            "",
        ] {
            assert_eq!(CheckInButton::decode(forged), None, "{forged}");
        }
    }

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }
}
