//! Finds a text's structure the way Chinese official writing marks it.
//!
//! The steps, each on plain data:
//!
//! 1. **Lines**: line breaks, NBSP, full-width spaces and zero-width characters are
//!    normalised; page debris is dropped (see [`super::debris`]), a cut notice becomes a gap.
//! 2. **Outline block**: a `目录`/`提纲` line at the top and the heading lines after it.
//!    Its entries are the skeleton: a point whose body the copy lost still exists, as
//!    a title-only section.
//! 3. **Title** (the first heading-like line) and its `——` subtitle (the occasion).
//! 4. **Levels**: of the markers present — `第一部分`/`第一章`, `第一节`, `一、`, `（一）`,
//!    `1.`, and runs `一是…二是…`/`第一，…` at sentence starts — the highest marks the parts
//!    and the next one the points. Deeper markers stay in the text.
//! 5. **Events**: parts, points, paragraphs (lines broken mid-sentence are joined) and
//!    gaps, in order; then they are placed into sections, following the skeleton when
//!    there is one (text after a gap that precedes a later point belongs to that point's
//!    predecessor).
//!
//! Nothing is ever written that the input does not contain: titles, phrases and
//! paragraphs are all substrings of the input (modulo whitespace and line joins).
//!
//! One file per stage: [`lines`], [`outline`], [`title`], [`levels`], [`skeleton`] (5),
//! and [`markers`], the section markers every stage reads.

use crate::text::sentences::is_sentence_end as is_terminator;
use crate::text::{Block, Completeness, Section, SectionId};

use super::debris::{self, DebrisKind, LineDebris};
use super::{DroppedLine, ImportError};

mod levels;
mod lines;
mod markers;
mod outline;
mod skeleton;
mod title;

use levels::*;
use lines::*;
pub(crate) use markers::chinese_number;
use markers::*;
use outline::*;
use skeleton::*;
use title::*;

/// The longest title kept whole: a longer first sentence is cut at its first comma
/// (`三是因地制宜美环境,良好的人居环境是…` → `因地制宜美环境`), the rest stays in the text.
const LONGEST_TITLE: usize = 24;
/// The longest line taken as the document's title or an outline entry.
const LONGEST_HEADING: usize = 60;
/// A line this short never continues on the next line (`国务院总理 李强`).
const SHORT_LINE: usize = 12;
/// More parts or points than this is not a text's structure but a list.
const MOST_SECTIONS: usize = 99;

/// What the structure pass found.
#[derive(Debug, Clone, Default)]
pub struct Structure {
    /// The document's title.
    pub title: String,
    /// Where the title came from, for the report.
    pub title_source: &'static str,
    /// The occasion (a `——` subtitle, or the place in `在…上的讲话`); may be empty.
    pub occasion: String,
    /// The sections in reading order, numbered, with completeness marks.
    pub sections: Vec<Section>,
    /// The outline block's first and last line, if there was one.
    pub outline: Option<(usize, usize)>,
    /// Every dropped piece of debris.
    pub dropped: Vec<DroppedLine>,
    /// Things an editor should check (numbering that skipped, …).
    pub warnings: Vec<String>,
    /// The marker kinds used for parts and points, for the report.
    pub levels: (String, Option<String>),
}

/// Finds the structure of `text`; `fallback_title` is used when the text has no title
/// line and no `《…》` name.
pub fn structure(text: &str, fallback_title: &str) -> Result<Structure, ImportError> {
    let mut found = Structure::default();
    let items = items(text, &mut found.dropped);
    let (outline, body) = split_outline(&items);
    found.outline = outline.as_ref().map(|o| (o.first, o.last));
    let entries = outline.map(|o| o.entries).unwrap_or_default();
    let body = title_and_occasion(&body, &mut found, fallback_title);
    let Some((part_kind, point_kind)) = levels(&entries, &body) else {
        return Err(ImportError::NoStructure);
    };
    found.levels = (
        part_kind.name().to_string(),
        point_kind.map(|k| k.name().to_string()),
    );
    let skeleton = skeleton(&entries, part_kind, point_kind);
    let events = events(&body, part_kind, point_kind);
    let raws = place(events, &skeleton);
    found.sections = finish(raws, &mut found.warnings)?;
    if !found.sections.iter().any(|s| s.id.is_part()) {
        return Err(ImportError::NoStructure);
    }
    if found.occasion.is_empty() {
        found.occasion = occasion_in_title(&found.title).unwrap_or_default();
    }
    Ok(found)
}

#[cfg(test)]
pub(crate) mod tests;
