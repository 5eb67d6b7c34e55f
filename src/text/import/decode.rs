//! Turns a text file's bytes into a string: UTF-8 with or without a byte-order mark,
//! UTF-16 with one (what Windows Notepad calls "Unicode"), or GB18030 — the superset of
//! GBK and GB2312 that `.txt` files from Chinese Windows are written in.

use encoding_rs::{Encoding, GB18030};

use super::ImportError;

/// Decodes `bytes`, naming the encoding found. Refuses files that are not text.
pub fn decode(bytes: &[u8]) -> Result<(String, &'static str), ImportError> {
    if let Some((encoding, bom)) = Encoding::for_bom(bytes) {
        let text = encoding
            .decode_without_bom_handling_and_without_replacement(&bytes[bom..])
            .ok_or(ImportError::Binary)?;
        let name = match encoding.name() {
            "UTF-8" => "UTF-8（带 BOM）",
            "UTF-16LE" => "UTF-16LE",
            _ => "UTF-16BE",
        };
        return checked(text.into_owned(), name);
    }
    // A NUL byte never occurs in UTF-8 or GB18030 text: this is a binary file.
    if bytes.contains(&0) {
        return Err(ImportError::Binary);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return checked(text.to_string(), "UTF-8");
    }
    // Not UTF-8: GB18030 decodes GBK and GB2312 too. Strictly: a byte sequence that
    // is not GB18030 either means the file is not text in an encoding we know.
    let text = GB18030
        .decode_without_bom_handling_and_without_replacement(bytes)
        .ok_or(ImportError::Binary)?;
    checked(text.into_owned(), "GB18030/GBK")
}

/// Refuses decoded text that is mostly control characters (a binary file that happened
/// to decode).
fn checked(text: String, encoding: &'static str) -> Result<(String, &'static str), ImportError> {
    let total = text.chars().count();
    let control = text
        .chars()
        .filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}'))
        .count();
    if control > 0 && control * 100 >= total.max(1) {
        return Err(ImportError::Binary);
    }
    Ok((text, encoding))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_with_and_without_bom() {
        assert_eq!(decode("同志们：".as_bytes()).unwrap().0, "同志们：");
        let mut with_bom = vec![0xef, 0xbb, 0xbf];
        with_bom.extend("同志们：".as_bytes());
        assert_eq!(
            decode(&with_bom).unwrap(),
            ("同志们：".into(), "UTF-8（带 BOM）")
        );
    }

    #[test]
    fn gbk_and_utf16() {
        let (gbk, _, _) = GB18030.encode("一、铸牢政治之魂，把准前行方向");
        assert_eq!(
            decode(&gbk).unwrap(),
            ("一、铸牢政治之魂，把准前行方向".into(), "GB18030/GBK")
        );
        let mut utf16 = vec![0xff, 0xfe];
        for unit in "同志们".encode_utf16() {
            utf16.extend(unit.to_le_bytes());
        }
        assert_eq!(decode(&utf16).unwrap().0, "同志们");
    }

    #[test]
    fn binary_is_refused() {
        assert!(matches!(
            decode(&[0x89, b'P', b'N', b'G', 0, 0, 1]),
            Err(ImportError::Binary)
        ));
        assert!(matches!(
            decode(&[0x81, 0x20, 0xff, 0xfe, 0x80]),
            Err(ImportError::Binary)
        ));
        assert!(matches!(
            decode(&[1, 2, 3, 4, 5, 6, b'a']),
            Err(ImportError::Binary)
        ));
    }
}
