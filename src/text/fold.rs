//! One folding of full-width input, used wherever people type numbers, times or
//! references: Chinese keyboards often produce `２．１`, `８：００` or `／quiz`.

/// Maps a full-width ASCII form (U+FF01–U+FF5E: `０`–`９`, `Ａ`–`ｚ`, `：`, `．`, `／` …)
/// to its ASCII twin and the ideographic space (U+3000) to a space; any other
/// character is returned as it is.
pub fn fold_char(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// [`fold_char`] over a whole string.
pub fn fold(input: &str) -> String {
    input.chars().map(fold_char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_forms_become_ascii() {
        assert_eq!(fold("２．１"), "2.1");
        assert_eq!(fold("８：００"), "8:00");
        assert_eq!(fold("ＡｂＣ／－，"), "AbC/-,");
        assert_eq!(fold("\u{3000}网格"), " 网格");
    }

    #[test]
    fn everything_else_is_kept() {
        assert_eq!(fold("第二部分。、—"), "第二部分。、—");
        assert_eq!(fold("abc 123"), "abc 123");
    }
}
