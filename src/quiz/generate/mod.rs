//! Questions generated from the [`Document`] itself, so the bank stays true to the text
//! and grows with it. Only text present in the document is used: a title-only section
//! yields title-based questions only, and sentences cut by a gap in the source are skipped.
//!
//! The kinds:
//! - **Which part?** a point's title → the parts ([`QuestionKind::WhichPart`]).
//! - **Order:** "全文共 5 个部分，第三部分是?" → the parts ([`QuestionKind::Order`]);
//!   the count is the text's own, so a report of 3 parts says 3.
//! - **Pairs:** a part ↔ its second phrase, both directions.
//! - **Title cloze:** a two-character word of a title blanked (以学立身筑牢____根基);
//!   the distractors are words of the same kind from the other titles, and none of
//!   them may turn the blanked title into a true title.
//! - **Metaphor cloze:** a phrase the speech puts in “ ” quotes (“最后一公里”, “领头雁”,
//!   “服务员” …) blanked in its own sentence; the distractors are other quoted phrases,
//!   never one that also appears in that sentence or after the same lead-in elsewhere
//!   (“要当好” is said of 服务员, 粘合剂, 调度员 and 班长), preferring phrases of the
//!   same sort (roles such as 调度员, lists such as 清脏、治乱、增绿) and similar length.
//!
//! Why no word segmentation: jieba-rs is not among our dependencies because its
//! dictionary costs about 20 MB of memory. It is not needed either: the speech's own
//! “ ” quotes mark its key phrases exactly, and its titles are built from two-character
//! words (verb + object: 筑牢 忠诚 根基), so quotes and title positions give clean blanks.
//! A title's final two characters are its head noun (根基, 产业, 底线); a part's
//! two characters before 之 are its key word (政治之魂); and the two characters before
//! the head noun count as a word when the speech uses them elsewhere too (忠诚, 民情),
//! which is a small, honest stand-in for a dictionary.
//!
//! One file per generator: [`parts`] (which part, order, pairs), [`title`] (title cloze)
//! and [`metaphor`] (metaphor cloze, with its quote scanner).

use std::collections::{HashMap, HashSet};

use rand::Rng;
use rand::seq::SliceRandom;

use super::{BLANK, Question, QuestionKind, cite};
use crate::limits::utf16_len;
use crate::limits::{POLL_EXPLANATION, POLL_OPTION, POLL_OPTIONS_MAX, POLL_QUESTION, shorten};
use crate::text::{Block, Document, Section, SectionId, chinese_numeral};

mod metaphor;
mod parts;
mod title;

use metaphor::*;
use parts::*;
use title::*;

/// What metaphor-cloze questions start with, before the blanked sentence.
pub const METAPHOR_PROMPT: &str = "根据原文填空：";
/// What "which part?" questions end with, after the quoted point title.
pub const WHICH_PART_SUFFIX: &str = "是全文哪个部分的要点？";

/// How many options generated questions have where the text offers enough.
const OPTIONS: usize = 4;
/// The longest quoted phrase taken as a blank, in characters.
const MAX_QUOTE_CHARS: usize = 20;
/// How many characters before a quote group make its lead-in (当好“服务员”, 作为“班长”).
/// Two, not more: 大家作为“领头雁” and 书记作为“操盘手” must share the lead-in 作为.
const LEAD_CHARS: usize = 2;
/// Last characters that mark a quoted phrase as a role (调度员, 操盘手, 领头雁, 核心引擎).
const ROLE_ENDINGS: &str = "员手雁官军剂机擎长者";

/// Generates every question the document supports. Deterministic for a given `rng` state;
/// options are shuffled and distractors drawn with it.
pub fn generate(document: &Document, rng: &mut impl Rng) -> Vec<Question> {
    let mut questions = Vec::new();
    part_questions(document, rng, &mut questions);
    title_cloze(document, rng, &mut questions);
    metaphor_cloze(document, rng, &mut questions);
    // The builders keep every limit by construction; this only guards against an odd
    // document (a title longer than a poll option, say) producing an unusable question.
    questions.retain(|question| question.check().is_ok());
    questions
}

/// Puts `correct` among `others` (deduplicated, without `correct`, at most
/// [`POLL_OPTIONS_MAX`] in all), shuffles, and returns the options with the correct index.
fn options(correct: &str, others: &[String], rng: &mut impl Rng) -> Option<(Vec<String>, usize)> {
    let mut options = vec![correct.to_string()];
    for other in others {
        if options.len() == POLL_OPTIONS_MAX {
            break;
        }
        if !options.contains(other) {
            options.push(other.clone());
        }
    }
    if options.len() < 2 {
        return None;
    }
    options.shuffle(rng);
    let index = options.iter().position(|option| option == correct)?;
    Some((options, index))
}

/// A generated question. Options and the explanation that would pass Telegram's limits
/// (a long title among the options, a long heading quoted) are shortened with `…` at a
/// character boundary, the explanation keeping its citation; a question text that is
/// too long is left as it is, and [`generate`] then drops the question: a question cut
/// short could no longer be answered.
fn question(
    kind: QuestionKind,
    section: SectionId,
    text: String,
    (options, correct): (Vec<String>, usize),
    explanation: &str,
) -> Question {
    let citation = cite("", section);
    let room = POLL_EXPLANATION.saturating_sub(utf16_len(&citation) + 1);
    let explanation = explanation.replace('\n', " ");
    Question {
        kind,
        section,
        part: section.part,
        text,
        options: options
            .iter()
            .map(|option| shorten(option, POLL_OPTION))
            .collect(),
        correct,
        explanation: cite(&shorten(&explanation, room), section),
    }
}

#[cfg(test)]
mod tests;
