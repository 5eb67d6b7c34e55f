//! The text model: a document (one text of the library: a speech, a report, …) made of
//! sections in reading order.
//!
//! A document has an opening (section `0`), then its parts (`1`, `2`, … as many as the
//! text has), each with its intro and its points (`1.1`…). Every section records how complete the surviving
//! copy is, so that nothing missing is ever papered over.

pub mod fold;
pub mod import;
pub mod parse;
pub mod reference;
pub mod search;
pub mod sentences;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use parse::{ParseError, parse_document};
pub use reference::{Resolution, SectionRef};
pub use search::{SearchHit, SearchResults, search};

/// Identifies one section of a document: `part` 0 is the opening address, `point` 0
/// is a part's own intro (the part heading itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SectionId {
    /// The part number: 0 for the opening address, 1.. for the parts.
    pub part: u8,
    /// The point within the part: 0 for the part itself, 1.. for its points.
    pub point: u8,
}

impl SectionId {
    /// The opening address.
    pub const OPENING: Self = Self { part: 0, point: 0 };

    /// A part (its heading and intro).
    pub const fn part(part: u8) -> Self {
        Self { part, point: 0 }
    }

    /// A point within a part.
    pub const fn point(part: u8, point: u8) -> Self {
        Self { part, point }
    }

    /// Whether this is a part heading rather than a point or the opening.
    pub fn is_part(self) -> bool {
        self.part > 0 && self.point == 0
    }

    /// Whether this is a point within a part.
    pub fn is_point(self) -> bool {
        self.point > 0
    }
}

impl fmt::Display for SectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.point {
            0 => write!(f, "{}", self.part),
            point => write!(f, "{}.{}", self.part, point),
        }
    }
}

impl FromStr for SectionId {
    type Err = ();

    /// Parses the canonical ASCII form (`0`, `2`, `2.1`) used in storage and callback
    /// data. User input goes through [`SectionRef`] instead.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (part, point) = match s.split_once('.') {
            Some((part, point)) => (part, point),
            None => (s, "0"),
        };
        let digits =
            |t: &str| !t.is_empty() && t.len() <= 3 && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(part) || !digits(point) {
            return Err(());
        }
        let part = part.parse().map_err(|_| ())?;
        let point = point.parse().map_err(|_| ())?;
        if part == 0 && point != 0 {
            return Err(());
        }
        Ok(Self { part, point })
    }
}

/// How much of a section survives in the source copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Completeness {
    /// The whole text is present.
    Full,
    /// Some text is present, some is missing (marked by [`Block::Gap`]).
    Partial,
    /// Only the title survives; there is no text at all.
    TitleOnly,
}

impl Completeness {
    /// The mark used in the data file.
    pub fn mark(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Partial => "partial",
            Self::TitleOnly => "title",
        }
    }
}

/// One block of a section's body.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Block {
    /// A paragraph, exactly as in the source.
    Paragraph(String),
    /// A place where the source copy lost text.
    Gap,
}

/// One section: the opening, a part heading with its intro, or a point.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Section {
    /// Where the section stands.
    pub id: SectionId,
    /// The title: a point's title, a part's principle (铸牢政治之魂), or "开场".
    pub title: String,
    /// A part's second phrase (把准前行方向); empty for points and the opening.
    pub phrase: String,
    /// How much of the text survives.
    pub completeness: Completeness,
    /// The body, paragraphs and gaps in order.
    pub blocks: Vec<Block>,
    /// The line of the data file where the section's heading stands.
    pub line: usize,
}

impl Section {
    /// The paragraphs of the body, without gaps.
    pub fn paragraphs(&self) -> impl Iterator<Item = &str> {
        self.blocks.iter().filter_map(|block| match block {
            Block::Paragraph(text) => Some(text.as_str()),
            Block::Gap => None,
        })
    }

    /// The heading as a reader sees it: `2.2 用真心化解急难愁盼`, `第二部分 厚植为民之心`.
    pub fn heading(&self) -> String {
        match (self.id.part, self.id.point) {
            (0, _) => self.title.clone(),
            (part, 0) => format!("第{}部分 {}", chinese_numeral(part), self.title),
            _ => format!("{} {}", self.id, self.title),
        }
    }
}

/// One text, its metadata and its sections in reading order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Document {
    /// A short stable identifier (ASCII), the key of everything stored about it.
    pub id: String,
    /// The text's title.
    pub title: String,
    /// Where it was given.
    pub occasion: String,
    /// An editor's note on the source (e.g. that the copy is incomplete); may be empty.
    pub note: String,
    /// All sections in reading order: opening, part 1, 1.1, 1.2, 1.3, part 2, ….
    pub sections: Vec<Section>,
}

impl Document {
    /// The section with this id, if it exists.
    pub fn section(&self, id: SectionId) -> Option<&Section> {
        self.position(id).map(|index| &self.sections[index])
    }

    /// The reading-order index of a section.
    pub fn position(&self, id: SectionId) -> Option<usize> {
        self.sections.iter().position(|section| section.id == id)
    }

    /// The parts (headings with intros), in order.
    pub fn parts(&self) -> impl Iterator<Item = &Section> {
        self.sections.iter().filter(|section| section.id.is_part())
    }

    /// The points of one part, in order.
    pub fn points(&self, part: u8) -> impl Iterator<Item = &Section> {
        self.sections
            .iter()
            .filter(move |section| section.id.part == part && section.id.is_point())
    }

    /// The section before this one in reading order.
    pub fn previous(&self, id: SectionId) -> Option<&Section> {
        let index = self.position(id)?;
        index.checked_sub(1).map(|i| &self.sections[i])
    }

    /// The section after this one in reading order.
    pub fn next(&self, id: SectionId) -> Option<&Section> {
        let index = self.position(id)?;
        self.sections.get(index + 1)
    }

    /// The part a section belongs to (itself for a part; `None` for the opening).
    pub fn part_of(&self, id: SectionId) -> Option<&Section> {
        match id.part {
            0 => None,
            part => self.section(SectionId::part(part)),
        }
    }

    /// Whether any section is incomplete.
    pub fn is_incomplete(&self) -> bool {
        self.sections
            .iter()
            .any(|section| section.completeness != Completeness::Full)
    }
}

/// Writes 1..=99 as a Chinese numeral (一, 十二, 二十).
pub fn chinese_numeral(n: u8) -> String {
    const DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        0..=9 => DIGITS[n as usize].to_string(),
        10..=19 => format!(
            "十{}",
            if n == 10 {
                ""
            } else {
                DIGITS[(n % 10) as usize]
            }
        ),
        _ => format!(
            "{}十{}",
            DIGITS[(n / 10 % 10) as usize],
            if n.is_multiple_of(10) {
                ""
            } else {
                DIGITS[(n % 10) as usize]
            }
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_ids_round_trip() {
        for text in ["0", "1", "2.1", "5.3", "12.10"] {
            let id: SectionId = text.parse().unwrap();
            assert_eq!(id.to_string(), text);
        }
        for bad in ["", "a", "1.", ".1", "0.1", "1.2.3", "1234", "-1", "1.x"] {
            assert!(bad.parse::<SectionId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn chinese_numerals() {
        assert_eq!(chinese_numeral(1), "一");
        assert_eq!(chinese_numeral(10), "十");
        assert_eq!(chinese_numeral(12), "十二");
        assert_eq!(chinese_numeral(20), "二十");
        assert_eq!(chinese_numeral(35), "三十五");
    }
}
