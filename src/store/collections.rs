//! The store's collections: [`trees`] names each tree, [`Collection`] lists them so that
//! code can walk them all (a group's migration, backups, the versions of a chat's records).

/// Trees (collections) and their names.
pub mod trees {
    /// Store-wide records: the schema version, document hashes.
    pub const META: &str = "meta";
    /// Sections of every document, keyed by document id and section id.
    pub const SECTIONS: &str = "sections";
    /// Chats whose status changed: removed, re-added, migrated.
    pub const CHATS: &str = "chats";
    /// Daily-excerpt subscriptions, keyed by chat id.
    pub const SUBSCRIPTIONS: &str = "subscriptions";
    /// Active subscriptions by next due instant: (unix seconds, chat id) → nothing.
    pub const DUE_INDEX: &str = "due_index";
    /// The delivery ledger: (chat id, local date) → what happened to that day's excerpt.
    pub const LEDGER: &str = "ledger";
    /// The running quiz of each chat, keyed by chat id.
    pub const QUIZZES: &str = "quizzes";
    /// What each quiz or daily poll stands for, keyed by Telegram's poll id.
    pub const POLLS: &str = "polls";
    /// Quiz scores, keyed by chat id and user id.
    pub const SCORES: &str = "scores";
    /// Each chat's daily-question setting, keyed by chat id.
    pub const QUIZ_SETTINGS: &str = "quiz_settings";
    /// Texts imported with `studybot import`, keyed by document id: where each came from.
    /// Their sections live in [`SECTIONS`] like the shipped texts'. User state: an
    /// import-state over it needs `--force`.
    pub const IMPORTED: &str = "imported";
    /// The text each chat chose with `/use` and where it stopped in the others, keyed by
    /// chat id.
    pub const CHAT_TEXTS: &str = "chat_texts";
    /// Personal review decks: (user id, text id) → every card the member has for that
    /// text (FSRS state and misses), one binary value in the order `/review` asks them
    /// (see `store/deck.rs`).
    pub const REVIEW_DECKS: &str = "review_decks";
    /// Each member's review settings, running `/review` and daily count, by user id.
    pub const REVIEWERS: &str = "reviewers";
    /// What each review poll stands for, keyed by Telegram's poll id.
    pub const REVIEW_POLLS: &str = "review_polls";
    /// The review reminder ledger: (user id, local date) → what happened to that reminder.
    pub const REVIEW_LEDGER: &str = "review_ledger";
    /// Each group's weekly test setting, keyed by chat id.
    pub const WEEKLY_TESTS: &str = "weekly_tests";
    /// The weekly test ledger: (chat id, ISO year, ISO week) → what happened to that test.
    pub const WEEKLY_LEDGER: &str = "weekly_ledger";
    /// How often a group's members missed each question: (chat id, card id) → count.
    pub const GROUP_MISSES: &str = "group_misses";
    /// Study-record check-ins: (chat id, local date, user id) → the check-in.
    pub const CHECK_INS: &str = "check_ins";
    /// How many check-ins each (chat id, local date) has: the rank of the next one.
    pub const CHECK_IN_COUNTS: &str = "check_in_counts";
    /// Study-record rosters: (chat id, user id) → the member.
    pub const MEMBERS: &str = "members";
    /// The days each member checked in on: (chat id, user id) → a bitmap
    /// ([`crate::record::Days`]), kept with every check-in so that streaks and rates are
    /// read without scanning the check-ins.
    pub const MEMBER_DAYS: &str = "member_days";
    /// Every quiz answer kept for the export: (chat id, instant, user id) → the answer.
    pub const QUIZ_ANSWERS: &str = "quiz_answers";
    /// How each question was answered: (chat id, part, 8 bytes of the question's SHA-256)
    /// → [`crate::record::QuestionTally`], kept with every answer.
    pub const QUIZ_TALLIES: &str = "quiz_tallies";
    /// Each chat's weekly-report setting, keyed by chat id.
    pub const REPORT_SETTINGS: &str = "report_settings";
    /// Weekly reports sent: (chat id, ISO year × 100 + week) → when.
    pub const REPORT_LEDGER: &str = "report_ledger";
}

/// Every collection of [`trees`], named so that code can walk them all: a group's
/// migration to a supergroup ([`Store::migrate`]) decides, with one exhaustive `match`,
/// what happens to each one's entries for the old chat. A tree added to [`trees`] must
/// be listed here (a test fails otherwise), so the next collection keyed by a chat is
/// not forgotten when a group moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collection {
    /// [`trees::META`]: store-wide, about no chat.
    Meta,
    /// [`trees::SECTIONS`]: the texts, about no chat.
    Sections,
    /// [`trees::CHATS`]: each chat's status, by chat id.
    Chats,
    /// [`trees::SUBSCRIPTIONS`]: by chat id.
    Subscriptions,
    /// [`trees::DUE_INDEX`]: by instant and chat id; follows the subscriptions.
    DueIndex,
    /// [`trees::LEDGER`]: by chat id and date.
    Ledger,
    /// [`trees::QUIZZES`]: by chat id.
    Quizzes,
    /// [`trees::POLLS`]: by poll id; each value names its chat.
    Polls,
    /// [`trees::SCORES`]: by chat id and user id.
    Scores,
    /// [`trees::QUIZ_SETTINGS`]: by chat id.
    QuizSettings,
    /// [`trees::IMPORTED`]: imported texts by document id, about no chat.
    Imported,
    /// [`trees::CHAT_TEXTS`]: by chat id.
    ChatTexts,
    /// [`trees::REVIEW_DECKS`]: by user id and text; about no chat.
    ReviewDecks,
    /// [`trees::REVIEWERS`]: by user id; about no chat.
    Reviewers,
    /// [`trees::REVIEW_POLLS`]: by poll id, in private chats; about no group.
    ReviewPolls,
    /// [`trees::REVIEW_LEDGER`]: by user id and date; about no chat.
    ReviewLedger,
    /// [`trees::WEEKLY_TESTS`]: by chat id.
    WeeklyTests,
    /// [`trees::WEEKLY_LEDGER`]: by chat id and ISO week.
    WeeklyLedger,
    /// [`trees::GROUP_MISSES`]: by chat id and card.
    GroupMisses,
    /// [`trees::CHECK_INS`]: by chat id, date and user.
    CheckIns,
    /// [`trees::CHECK_IN_COUNTS`]: by chat id and date.
    CheckInCounts,
    /// [`trees::MEMBERS`]: by chat id and user.
    Members,
    /// [`trees::MEMBER_DAYS`]: by chat id and user; follows the check-ins.
    MemberDays,
    /// [`trees::QUIZ_ANSWERS`]: by chat id, instant and user.
    QuizAnswers,
    /// [`trees::QUIZ_TALLIES`]: by chat id, part and question; follows the answers.
    QuizTallies,
    /// [`trees::REPORT_SETTINGS`]: by chat id.
    ReportSettings,
    /// [`trees::REPORT_LEDGER`]: by chat id and ISO week.
    ReportLedger,
}

impl Collection {
    /// Every collection.
    pub const ALL: [Self; 27] = [
        Self::Meta,
        Self::Sections,
        Self::Chats,
        Self::Subscriptions,
        Self::DueIndex,
        Self::Ledger,
        Self::Quizzes,
        Self::Polls,
        Self::Scores,
        Self::QuizSettings,
        Self::Imported,
        Self::ChatTexts,
        Self::ReviewDecks,
        Self::Reviewers,
        Self::ReviewPolls,
        Self::ReviewLedger,
        Self::WeeklyTests,
        Self::WeeklyLedger,
        Self::GroupMisses,
        Self::CheckIns,
        Self::CheckInCounts,
        Self::Members,
        Self::MemberDays,
        Self::QuizAnswers,
        Self::QuizTallies,
        Self::ReportSettings,
        Self::ReportLedger,
    ];

    /// The collection whose tree is named `tree`, if any.
    pub fn named(tree: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.tree() == tree)
    }

    /// Whether the collection's keys start with a chat id.
    pub fn is_keyed_by_chat(self) -> bool {
        match self {
            Self::Meta
            | Self::Sections
            | Self::DueIndex
            | Self::Polls
            | Self::Imported
            | Self::ReviewDecks
            | Self::Reviewers
            | Self::ReviewPolls
            | Self::ReviewLedger => false,
            Self::Chats
            | Self::Subscriptions
            | Self::Ledger
            | Self::Quizzes
            | Self::Scores
            | Self::QuizSettings
            | Self::ChatTexts
            | Self::WeeklyTests
            | Self::WeeklyLedger
            | Self::GroupMisses
            | Self::CheckIns
            | Self::CheckInCounts
            | Self::Members
            | Self::MemberDays
            | Self::QuizAnswers
            | Self::QuizTallies
            | Self::ReportSettings
            | Self::ReportLedger => true,
        }
    }

    /// The collection's tree.
    pub fn tree(self) -> &'static str {
        match self {
            Self::Meta => trees::META,
            Self::Sections => trees::SECTIONS,
            Self::Chats => trees::CHATS,
            Self::Subscriptions => trees::SUBSCRIPTIONS,
            Self::DueIndex => trees::DUE_INDEX,
            Self::Ledger => trees::LEDGER,
            Self::Quizzes => trees::QUIZZES,
            Self::Polls => trees::POLLS,
            Self::Scores => trees::SCORES,
            Self::QuizSettings => trees::QUIZ_SETTINGS,
            Self::Imported => trees::IMPORTED,
            Self::ChatTexts => trees::CHAT_TEXTS,
            Self::ReviewDecks => trees::REVIEW_DECKS,
            Self::Reviewers => trees::REVIEWERS,
            Self::ReviewPolls => trees::REVIEW_POLLS,
            Self::ReviewLedger => trees::REVIEW_LEDGER,
            Self::WeeklyTests => trees::WEEKLY_TESTS,
            Self::WeeklyLedger => trees::WEEKLY_LEDGER,
            Self::GroupMisses => trees::GROUP_MISSES,
            Self::CheckIns => trees::CHECK_INS,
            Self::CheckInCounts => trees::CHECK_IN_COUNTS,
            Self::Members => trees::MEMBERS,
            Self::MemberDays => trees::MEMBER_DAYS,
            Self::QuizAnswers => trees::QUIZ_ANSWERS,
            Self::QuizTallies => trees::QUIZ_TALLIES,
            Self::ReportSettings => trees::REPORT_SETTINGS,
            Self::ReportLedger => trees::REPORT_LEDGER,
        }
    }
}
