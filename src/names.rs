//! Display names: a member's name as Telegram shows it, made safe to print wherever
//! names appear (quiz results, `/top`, `/score`, `/roster`, the weekly report, the
//! daily excerpt's subscriber). Pure; imports nothing of the features.

/// The longest name shown in results and rankings, in characters.
pub const MAX_NAME_CHARS: usize = 32;

/// A name as Telegram shows it, made safe to print wherever names are shown (results,
/// `/top`, `/score`, `/status`): `@` becomes the full-width `＠` so that no name pings
/// anyone, long names are shortened, bidi controls (a right-to-left override would
/// reverse the rest of the line) are dropped, and a name in a right-to-left script is
/// isolated (FSI … PDI) so that it cannot reorder the text around it.
pub fn display_name(name: &str) -> String {
    let name: String = name.chars().filter(|c| !is_bidi_control(*c)).collect();
    let name = name.trim();
    if name.is_empty() {
        return "匿名".into();
    }
    let shown = shorten(&name.replace('@', "＠"), MAX_NAME_CHARS);
    if shown.chars().any(is_right_to_left) {
        return format!("\u{2068}{shown}\u{2069}");
    }
    shown
}

/// Unicode's explicit directional formatting characters: marks, embeddings, overrides
/// and isolates.
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// Letters of right-to-left scripts (Hebrew, Arabic, Syriac, Thaana, N'Ko, … and their
/// presentation forms).
fn is_right_to_left(c: char) -> bool {
    matches!(
        c,
        '\u{0590}'..='\u{08FF}'
            | '\u{FB1D}'..='\u{FDFF}'
            | '\u{FE70}'..='\u{FEFC}'
            | '\u{10800}'..='\u{10FFF}'
            | '\u{1E800}'..='\u{1EFFF}'
    )
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut short: String = text.chars().take(max).collect();
    short.push('…');
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_never_ping() {
        assert_eq!(display_name("@admin"), "＠admin");
        assert_eq!(display_name("  "), "匿名");
        assert_eq!(
            display_name(&"名".repeat(40)).chars().count(),
            MAX_NAME_CHARS + 1
        );
    }

    #[test]
    fn names_in_right_to_left_scripts_are_isolated() {
        let override_name = "\u{202E}evil\u{2066}";
        assert_eq!(display_name(override_name), "evil");
        assert_eq!(display_name("\u{202E}\u{200F}"), "匿名");
        assert_eq!(display_name("שלום"), "\u{2068}שלום\u{2069}");
    }
}
