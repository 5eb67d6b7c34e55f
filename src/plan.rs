//! The reading plan: the order in which a subscribed chat receives the sections, one a
//! day, starting again at the end.
//!
//! The order is the document's reading order: the opening address, then for each part
//! its intro and its points (1.1, 1.2 …). The shipped speech has 21 sections.
//!
//! **Title-only sections are delivered, not skipped.** Several points (and two part
//! intros) survive only as titles. Skipping them would make the plan jump from 1.1 to
//! 2.1 as if 1.2 and 1.3 never existed, and the group would lose sight of the speech's
//! structure. Instead such a day brings a short, honest card: where the section stands,
//! its title and [`crate::messages::TITLE_ONLY_NOTICE`] — and, for a part intro, the list
//! of the part's points. No text is ever made up to fill the day.

use crate::text::{Document, Section};

/// The reading order of one document.
#[derive(Debug, Clone, Copy)]
pub struct ReadingPlan<'a> {
    document: &'a Document,
}

/// How far a chat has read, for `/plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanProgress {
    /// Sections received in the current round (0 right after a wrap).
    pub done: usize,
    /// Sections in one round.
    pub total: usize,
    /// The current round, from 1.
    pub round: usize,
}

impl<'a> ReadingPlan<'a> {
    /// The plan for `document`: every section, in reading order.
    pub fn new(document: &'a Document) -> Self {
        Self { document }
    }

    /// The document this plan reads.
    pub fn document(&self) -> &'a Document {
        self.document
    }

    /// How many sections one round has.
    pub fn len(&self) -> usize {
        self.document.sections.len()
    }

    /// Whether the document has no sections (never true for a parsed document).
    pub fn is_empty(&self) -> bool {
        self.document.sections.is_empty()
    }

    /// The section a chat that has received `position` excerpts gets next; wraps around.
    pub fn section(&self, position: usize) -> Option<&'a Section> {
        match self.len() {
            0 => None,
            len => self.document.sections.get(position % len),
        }
    }

    /// The next `count` sections from `position` on (fewer if a round is shorter).
    pub fn upcoming(&self, position: usize, count: usize) -> Vec<&'a Section> {
        (position..position + count.min(self.len()))
            .filter_map(|p| self.section(p))
            .collect()
    }

    /// Where a chat that has received `position` excerpts stands.
    pub fn progress(&self, position: usize) -> PlanProgress {
        let total = self.len();
        match total {
            0 => PlanProgress {
                done: 0,
                total,
                round: 1,
            },
            _ => PlanProgress {
                done: position % total,
                total,
                round: position / total + 1,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::{Completeness, SectionId, parse_document};

    const SPEECH: &str = include_str!("../data/texts/xzsj.md");

    fn speech() -> Document {
        parse_document("xzsj.md", SPEECH).unwrap()
    }

    #[test]
    fn the_plan_walks_the_reading_order_and_wraps() {
        let document = speech();
        let plan = ReadingPlan::new(&document);
        assert_eq!(plan.len(), 21);
        let ids: Vec<String> = (0..21)
            .map(|p| plan.section(p).unwrap().id.to_string())
            .collect();
        assert_eq!(
            ids.join(" "),
            "0 1 1.1 1.2 1.3 2 2.1 2.2 2.3 3 3.1 3.2 3.3 4 4.1 4.2 4.3 5 5.1 5.2 5.3"
        );
        assert_eq!(plan.section(21).unwrap().id, SectionId::OPENING);
        assert_eq!(plan.section(21 + 7).unwrap().id, SectionId::point(2, 2));
    }

    #[test]
    fn title_only_sections_are_in_the_plan() {
        let document = speech();
        let plan = ReadingPlan::new(&document);
        let title_only: Vec<String> = (0..plan.len())
            .filter_map(|p| plan.section(p))
            .filter(|s| s.completeness == Completeness::TitleOnly)
            .map(|s| s.id.to_string())
            .collect();
        assert_eq!(
            title_only,
            ["1.2", "1.3", "2", "4.3", "5", "5.1", "5.2", "5.3"]
        );
    }

    #[test]
    fn progress_counts_rounds() {
        let document = speech();
        let plan = ReadingPlan::new(&document);
        assert_eq!(
            plan.progress(0),
            PlanProgress {
                done: 0,
                total: 21,
                round: 1
            }
        );
        assert_eq!(
            plan.progress(7),
            PlanProgress {
                done: 7,
                total: 21,
                round: 1
            }
        );
        assert_eq!(
            plan.progress(20),
            PlanProgress {
                done: 20,
                total: 21,
                round: 1
            }
        );
        assert_eq!(
            plan.progress(21),
            PlanProgress {
                done: 0,
                total: 21,
                round: 2
            }
        );
        let next: Vec<String> = plan
            .upcoming(20, 3)
            .iter()
            .map(|s| s.id.to_string())
            .collect();
        assert_eq!(next, ["5.3", "0", "1"]);
    }
}
