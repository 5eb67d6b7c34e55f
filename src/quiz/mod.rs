//! Quizzes on a text's parts. Everything here is pure: no teloxide,
//! tokio, sled or clock; randomness is passed in. What the quiz commands do is in
//! [`crate::app::quiz`]; the console's quiz loop is in [`crate::console::quiz`].
//!
//! - [`generate`](mod@generate): questions generated from the [`Document`] itself, so they stay true to it.
//! - [`curated`]: the hand-written question file (`data/questions.md`), parsed and validated.
//! - [`select`]: choosing the questions of one quiz, or the daily question.
//! - [`session`]: the state machine of one running quiz in one chat, and its results.
//! - [`score`]: a participant's running score in a chat (accuracy, per part, streak).
//! - [`messages`]: the Chinese wording of every quiz reply.
//!
//! Every [`Question`] keeps Telegram's limits for quiz polls ([`Question::check`], against
//! the one table in [`crate::limits`]): a question of at most
//! [`POLL_QUESTION`](crate::limits::POLL_QUESTION) UTF-16 units,
//! [`POLL_OPTIONS_MIN`](crate::limits::POLL_OPTIONS_MIN)–[`POLL_OPTIONS_MAX`](crate::limits::POLL_OPTIONS_MAX)
//! pairwise different options of at most [`POLL_OPTION`](crate::limits::POLL_OPTION), exactly one
//! correct option, and an explanation of at most
//! [`POLL_EXPLANATION`](crate::limits::POLL_EXPLANATION) that cites its section.

pub mod curated;
pub mod generate;
pub mod messages;
pub mod score;
pub mod select;
pub mod session;

use rand::Rng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::limits::{
    POLL_EXPLANATION, POLL_EXPLANATION_LINE_FEEDS, POLL_OPTION, POLL_OPTIONS_MAX, POLL_OPTIONS_MIN,
    POLL_QUESTION, utf16_len,
};
use crate::text::{Document, SectionId};

pub use curated::parse_curated;
pub use generate::generate;
pub use score::Score;
pub use select::{for_section, pick};
pub use session::{
    AnswerOutcome, PollSpec, QuestionKey, QuizPoll, QuizResults, QuizSession, QuizStep,
};

/// The blank in cloze questions.
pub const BLANK: &str = "____";

/// How a question was made; the generator's kinds can be checked against the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum QuestionKind {
    /// A point's title → which of the parts it belongs to.
    #[serde(rename = "WhichPrinciple")]
    WhichPart,
    /// "全文共 5 个部分，第三部分是?" → the parts (the count is the text's own).
    Order,
    /// A part's title → its second phrase (厚植为民之心 → 站稳群众立场).
    PairPhrase,
    /// A second phrase → its part's title (站稳群众立场 → 厚植为民之心).
    #[serde(rename = "PairPrinciple")]
    PairPart,
    /// A title with a two-character word blanked (以学立身筑牢____根基).
    TitleCloze,
    /// A quoted phrase of the speech blanked in its own sentence (“最后一公里”).
    MetaphorCloze,
    /// A hand-written question from the curated file.
    Curated,
}

impl QuestionKind {
    /// Whether the question uses only titles (so title-only sections may have it).
    pub fn is_title_based(self) -> bool {
        !matches!(self, Self::MetaphorCloze | Self::Curated)
    }
}

/// One multiple-choice question with exactly one correct option.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Question {
    /// How the question was made.
    pub kind: QuestionKind,
    /// The section the question is about and its explanation cites.
    pub section: SectionId,
    /// The part (its number) it belongs to; 0 for the opening. Stored as `principle`.
    #[serde(rename = "principle")]
    pub part: u8,
    /// The question as shown to users.
    pub text: String,
    /// The options, in the order shown.
    pub options: Vec<String>,
    /// The index of the correct option in `options`.
    pub correct: usize,
    /// Why the answer is right, ending with the citation (`见 /section 2.2`).
    pub explanation: String,
}

impl Question {
    /// The correct option's text (empty if `correct` is out of range, which [`Self::check`] reports).
    pub fn correct_option(&self) -> &str {
        self.options.get(self.correct).map_or("", String::as_str)
    }

    /// Reorders the options at random, keeping track of the correct one.
    pub fn shuffle_options(&mut self, rng: &mut impl Rng) {
        let correct = self.correct_option().to_string();
        self.options.shuffle(rng);
        self.correct = self
            .options
            .iter()
            .position(|option| *option == correct)
            .unwrap_or(self.correct);
    }

    /// Checks every limit a quiz poll has and that the explanation cites the section.
    /// The error says what is wrong, in English, for file:line messages and tests.
    pub fn check(&self) -> Result<(), String> {
        let text_length = utf16_len(&self.text);
        if self.text.trim().is_empty() {
            return Err("the question is empty".into());
        }
        if text_length > POLL_QUESTION {
            return Err(format!(
                "the question has {text_length} characters, at most {POLL_QUESTION} are allowed"
            ));
        }
        if !(POLL_OPTIONS_MIN..=POLL_OPTIONS_MAX).contains(&self.options.len()) {
            return Err(format!(
                "{} options: a question needs {POLL_OPTIONS_MIN} to {POLL_OPTIONS_MAX}",
                self.options.len()
            ));
        }
        for (index, option) in self.options.iter().enumerate() {
            if option.trim().is_empty() {
                return Err(format!("option {} is empty", index + 1));
            }
            if utf16_len(option) > POLL_OPTION {
                return Err(format!(
                    "option {} is longer than {POLL_OPTION} characters",
                    index + 1
                ));
            }
            if self.options[..index].contains(option) {
                return Err(format!("option {} (\"{option}\") appears twice", index + 1));
            }
        }
        if self.correct >= self.options.len() {
            return Err("no option is marked correct".into());
        }
        let explanation_length = utf16_len(&self.explanation);
        if explanation_length > POLL_EXPLANATION {
            return Err(format!(
                "the explanation has {explanation_length} characters, at most {POLL_EXPLANATION} are allowed"
            ));
        }
        if self.explanation.matches('\n').count() > POLL_EXPLANATION_LINE_FEEDS {
            return Err(format!(
                "the explanation has more than {POLL_EXPLANATION_LINE_FEEDS} line breaks"
            ));
        }
        if !self.explanation.contains(&citation(self.section)) {
            return Err(format!(
                "the explanation does not cite its section (\"{}\")",
                citation(self.section)
            ));
        }
        if self.part != self.section.part {
            return Err(format!(
                "principle {} does not match section {}",
                self.part, self.section
            ));
        }
        Ok(())
    }
}

/// How explanations cite a section: `见 /section 2.2`.
pub fn citation(section: SectionId) -> String {
    format!("见 /section {section}")
}

/// Appends the citation of `section` to an explanation, unless it is already there.
pub fn cite(explanation: &str, section: SectionId) -> String {
    let citation = citation(section);
    let explanation = explanation.trim();
    if explanation.contains(&citation) {
        return explanation.to_string();
    }
    if explanation.is_empty() {
        return citation;
    }
    format!("{explanation} {citation}")
}

/// All the questions a quiz can draw from: generated ones and curated ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuestionBank {
    questions: Vec<Question>,
}

impl QuestionBank {
    /// Generates the bank from the document (see [`generate()`]) and merges `curated` in.
    pub fn build(document: &Document, curated: &[Question], rng: &mut impl Rng) -> Self {
        let mut bank = Self {
            questions: generate(document, rng),
        };
        bank.merge(curated.iter().cloned());
        bank
    }

    /// Adds questions, skipping any whose text and correct answer are already in the bank.
    pub fn merge(&mut self, questions: impl IntoIterator<Item = Question>) {
        for question in questions {
            let duplicate = self.questions.iter().any(|q| {
                q.text == question.text && q.correct_option() == question.correct_option()
            });
            if !duplicate {
                self.questions.push(question);
            }
        }
    }

    /// Every question, in generation order (curated ones last).
    pub fn questions(&self) -> &[Question] {
        &self.questions
    }

    /// How many questions the bank holds.
    pub fn len(&self) -> usize {
        self.questions.len()
    }

    /// Whether the bank holds no question.
    pub fn is_empty(&self) -> bool {
        self.questions.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    fn sample() -> Question {
        Question {
            kind: QuestionKind::Curated,
            section: SectionId::point(2, 2),
            part: 2,
            text: "党(工)委书记要当好什么?".into(),
            options: vec!["服务员".into(), "调度员".into(), "粘合剂".into()],
            correct: 0,
            explanation: cite("原文如此。", SectionId::point(2, 2)),
        }
    }

    #[test]
    fn stored_names_stay_principle() {
        // Renamed to `part` in the code; the stored sessions and scores keep their keys.
        let mut question = sample();
        question.kind = QuestionKind::WhichPart;
        let json = serde_json::to_value(&question).unwrap();
        assert_eq!(json["principle"], 2);
        assert_eq!(json["kind"], "WhichPrinciple");
        assert_eq!(serde_json::from_value::<Question>(json).unwrap(), question);
        let pair = serde_json::to_value(QuestionKind::PairPart).unwrap();
        assert_eq!(pair, "PairPrinciple");
        let score = serde_json::to_value(crate::quiz::Score::default()).unwrap();
        assert!(score.get("by_principle").is_some(), "{score}");
    }

    #[test]
    fn checks_limits() {
        assert_eq!(sample().check(), Ok(()));
        type Change = Box<dyn Fn(&mut Question)>;
        let cases: Vec<(Change, &str)> = vec![
            (Box::new(|q| q.text = "问".repeat(301)), "301 characters"),
            (Box::new(|q| q.text = " ".into()), "empty"),
            (Box::new(|q| q.options.truncate(1)), "1 options"),
            (
                Box::new(|q| q.options = (0..11).map(|i| i.to_string()).collect()),
                "11 options",
            ),
            (Box::new(|q| q.options[1] = "服务员".into()), "twice"),
            (
                Box::new(|q| q.options[2] = "长".repeat(101)),
                "longer than 100",
            ),
            (Box::new(|q| q.correct = 3), "marked correct"),
            (
                Box::new(|q| q.explanation = "解".repeat(201)),
                "201 characters",
            ),
            (Box::new(|q| q.explanation = "没有出处".into()), "cite"),
            (
                Box::new(|q| q.explanation = cite("a\nb\nc\nd", q.section)),
                "line breaks",
            ),
            (Box::new(|q| q.part = 3), "principle"),
        ];
        for (change, needle) in cases {
            let mut question = sample();
            change(&mut question);
            let error = question.check().unwrap_err();
            assert!(error.contains(needle), "{error}");
        }
    }

    #[test]
    fn shuffling_keeps_the_answer() {
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..20 {
            let mut question = sample();
            question.shuffle_options(&mut rng);
            assert_eq!(question.correct_option(), "服务员");
        }
    }

    #[test]
    fn citations_are_added_once() {
        let id = SectionId::point(3, 1);
        assert_eq!(cite("原文如此。", id), "原文如此。 见 /section 3.1");
        assert_eq!(
            cite("原文如此。 见 /section 3.1", id),
            "原文如此。 见 /section 3.1"
        );
        assert_eq!(cite("", SectionId::OPENING), "见 /section 0");
    }
}
