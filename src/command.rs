//! Commands as users type them: `/section@studybot_bot 2.1`. Everything about one
//! command is one row of [`COMMANDS`]: its name, its help lines (Chinese and English),
//! an example, who may use it, whether it changes state and the parser that turns its
//! argument into a typed [`Command`]. Adding a command is a row here, a variant of
//! [`Command`], one app method and its wording. Parsing only; doing is in [`crate::app`].
//!
//! Over 600 lines because the table is the point: about thirty rows of ten lines each.

use std::ops::RangeInclusive;

use chrono::{NaiveTime, Weekday};
use chrono_tz::Tz;

use crate::calendar::parse_weekday;
use crate::review::DAILY_CAP;
use crate::schedule::{TimeError, ZoneError, parse_time, parse_timezone};
use crate::text::fold::fold;
use crate::text::reference::{RefError, SectionRef};

/// How many questions `/quiz n` may ask for.
pub const QUIZ_QUESTIONS: RangeInclusive<usize> = 1..=10;
/// How many missed questions `/review n` may ask for (at most the daily cap).
const REVIEW_QUESTIONS: RangeInclusive<usize> = 1..=DAILY_CAP as usize;

/// One command a user can send, with its argument already read as far as it can be
/// without the chat's state. A bad argument is kept (as a [`BadArgument`] or `Err`)
/// rather than refused here: the app answers it with the command's own wording, after
/// the checks that come first (who may use the command).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `/start`: a greeting and where to begin.
    Start,
    /// `/help`: every command with an example.
    Help,
    /// `/outline`: the parts and points.
    Outline,
    /// `/docs`: the texts the bot has, how complete each is.
    Docs,
    /// `/use <number or id>`: the chat studies that text from now on (admins in groups);
    /// without an argument (`None`), says which text the chat studies. The text is
    /// found in the library, so it stays the trimmed words here.
    Use(Option<String>),
    /// `/section <ref> [第 n 页]`: one section's text (one page of it).
    Section(SectionQuery),
    /// `/search <words>`: keyword search (the words as typed; the search checks them).
    Search(String),
    /// `/subscribe [HH:MM]`: receive one section a day at this local time (`None`: the
    /// configured time).
    Subscribe(Result<Option<NaiveTime>, BadArgument<TimeError>>),
    /// `/unsubscribe`: stop the daily section.
    Unsubscribe,
    /// `/settime HH:MM`: change the local send time.
    SetTime(Result<NaiveTime, BadArgument<TimeError>>),
    /// `/timezone <IANA name>`: change the chat's time zone (`None`: show it).
    Timezone(Option<Result<Tz, BadArgument<ZoneError>>>),
    /// `/status`: the subscription's state.
    Status,
    /// `/today`: today's section now, without moving the plan.
    Today,
    /// `/plan`: progress through the text and what comes next.
    Plan,
    /// `/quiz [n]`: a quiz of n questions (`None`: the configured number; `Err`: not a
    /// number in [`QUIZ_QUESTIONS`]).
    Quiz(Option<Result<usize, ()>>),
    /// `/stopquiz`: end the running quiz (its starter or an admin).
    StopQuiz,
    /// `/score`: the sender's quiz score in this chat.
    Score,
    /// `/top`: the chat's ten best quiz scores.
    Top,
    /// `/dailyquiz on|off`: the question after the daily excerpt (admins in groups);
    /// `None` shows the setting, `Err` keeps words that are neither on nor off.
    DailyQuiz(Option<Result<bool, String>>),
    /// `/review [n]`: ask my due missed questions, one at a time (private chats);
    /// `None`: the daily cap.
    Review(Option<Result<usize, ()>>),
    /// `/mistakes`: my missed questions, most-missed first.
    Mistakes,
    /// `/remind HH:MM [zone]|off`: a private reminder when missed questions are due
    /// (`None`: show the setting).
    Remind(Option<Result<ReminderSetting, BadArgument<ReminderError>>>),
    /// `/weeklytest Sun 20:00|off`: the group's weekly test (admins; `None`: show it).
    WeeklyTest(Option<Result<Weekly, BadArgument<()>>>),
    /// `/join`: put oneself on the chat's study roster.
    Join,
    /// `/leave`: take oneself off the roster (records stay).
    Leave,
    /// `/forgetme`: delete one's study records in this chat.
    ForgetMe,
    /// `/roster`: who studied today and this week (admins in groups).
    Roster,
    /// `/report weekly Mon 09:00` or `/report off`: the weekly report (admins in groups;
    /// `None`: show it).
    Report(Option<Result<Weekly, BadArgument<ReportError>>>),
    /// `/catchup`: the sections one missed, to study late (private chats).
    Catchup,
    /// `/export`: the study record as a spreadsheet (admins in groups).
    Export,
    /// `/read`: open the text in the Mini App (when `[web]` is set).
    Read,
    /// `/dashboard`: open the group's dashboard in the Mini App (admins in groups).
    Dashboard,
}

/// An argument that could not be read, with the text as typed (trimmed) for the reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadArgument<E> {
    /// The argument as typed, trimmed.
    pub text: String,
    /// Why it was refused.
    pub error: E,
}

impl<E> BadArgument<E> {
    /// Keeps `text` with the error of a failed parse.
    fn check<T>(text: &str, parsed: Result<T, E>) -> Result<T, Self> {
        parsed.map_err(|error| Self {
            text: text.trim().to_string(),
            error,
        })
    }
}

/// `/remind`'s argument: off, or a local time with the reader's zone if one was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReminderSetting {
    /// `/remind off`.
    Off,
    /// `/remind 20:00 [Europe/Berlin]`.
    At(NaiveTime, Option<Tz>),
}

/// Why `/remind`'s argument was refused (both get the same reply).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReminderError {
    /// The first word is neither off nor a time.
    Time(TimeError),
    /// The second word is not a time zone.
    Zone(ZoneError),
}

/// A weekly setting (`/weeklytest`, `/report`): off, or a day and a local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weekly {
    /// `off` (or 关, 关闭).
    Off,
    /// `Sun 20:00`.
    At(Weekday, NaiveTime),
}

/// Why `/report`'s argument was refused; each has its own reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportError {
    /// Over 32 characters: not quoted back.
    TooLong,
    /// Not a weekday (the word as typed).
    Day(String),
    /// Not a time (the word as typed).
    Time(String),
    /// Neither off nor `[weekly] <day> <time>`.
    Unreadable,
}

/// `/section`'s argument: the reference and the page asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionQuery {
    /// The reference as typed, without the page (`2.1`, `为民`).
    pub text: String,
    /// The reference read, or why it could not be (resolved against the chat's text
    /// by the app).
    pub reference: Result<SectionRef, RefError>,
    /// The page asked for, from 1.
    pub page: usize,
}

impl SectionQuery {
    /// Reads `2.1 第 3 页` (or `2.1 第3页`, `2.1 p3`) as page 3 of 2.1; without a page,
    /// page 1.
    pub fn parse(argument: &str) -> Self {
        let (text, page) = page_of(argument);
        Self {
            text: text.to_string(),
            reference: SectionRef::parse(text),
            page,
        }
    }
}

/// Who may use a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// Everyone.
    Anyone,
    /// In groups, administrators only (or, for `/stopquiz`, the quiz's starter).
    Admins,
    /// Everyone may ask for the current setting; only administrators may change it
    /// (when an argument is given).
    AdminsWithArgument,
}

/// Whether a command changes what the store holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Changes {
    /// It only reads.
    Never,
    /// It may change state whatever its argument.
    Always,
    /// It changes state when an argument is given; without one it shows the setting.
    WithArgument,
}

/// Everything about one command: one row of [`COMMANDS`].
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// The name without the slash (`[a-z0-9_]`, at most 32 characters).
    pub name: &'static str,
    /// A short Chinese description (Telegram's menu and `/help`).
    pub description: &'static str,
    /// A short English description (for users whose Telegram is in English).
    pub description_en: &'static str,
    /// An example as a user would type it.
    pub example: &'static str,
    /// Who may use it.
    pub who: Who,
    /// Whether it changes state.
    pub changes: Changes,
    /// Reads the (trimmed) argument into the command.
    pub parse: fn(&str) -> Command,
}

/// Every command, in the order `/help` and Telegram's menu list them.
pub const COMMANDS: &[Spec] = &[
    Spec {
        name: "start",
        description: "开始使用",
        description_en: "Get started",
        example: "/start",
        who: Who::Anyone,
        changes: Changes::Never,
        parse: |_| Command::Start,
    },
    Spec {
        name: "help",
        description: "全部命令和示例",
        description_en: "All commands with examples",
        example: "/help",
        who: Who::Anyone,
        changes: Changes::Never,
        parse: |_| Command::Help,
    },
    Spec {
        name: "outline",
        description: "提纲：各部分和要点",
        description_en: "Outline: the parts and their points",
        example: "/outline",
        who: Who::Anyone,
        changes: Changes::Never,
        parse: |_| Command::Outline,
    },
    Spec {
        name: "docs",
        description: "可学习的文本及其完整程度",
        description_en: "The texts and how complete each is",
        example: "/docs",
        who: Who::Anyone,
        changes: Changes::Never,
        parse: |_| Command::Docs,
    },
    Spec {
        name: "use",
        description: "本群改学另一篇文本（编号见 /docs）",
        description_en: "Study another text here (see /docs)",
        example: "/use 2",
        who: Who::AdminsWithArgument,
        changes: Changes::WithArgument,
        parse: |argument| Command::Use(optional(argument).map(str::to_string)),
    },
    Spec {
        name: "section",
        description: "查看某一节原文",
        description_en: "Read a section",
        example: "/section 2.1",
        who: Who::Anyone,
        changes: Changes::Never,
        parse: |argument| Command::Section(SectionQuery::parse(argument)),
    },
    Spec {
        name: "search",
        description: "在原文中搜索关键词",
        description_en: "Search the text",
        example: "/search 网格",
        who: Who::Anyone,
        changes: Changes::Never,
        parse: |argument| Command::Search(argument.to_string()),
    },
    Spec {
        name: "subscribe",
        description: "订阅每日学习，每天定时发一节",
        description_en: "Get one section a day",
        example: "/subscribe 08:00",
        who: Who::Admins,
        changes: Changes::Always,
        parse: |argument| {
            Command::Subscribe(match optional(argument) {
                None => Ok(None),
                Some(text) => BadArgument::check(text, parse_time(text)).map(Some),
            })
        },
    },
    Spec {
        name: "unsubscribe",
        description: "退订每日学习",
        description_en: "Stop the daily section",
        example: "/unsubscribe",
        who: Who::Admins,
        changes: Changes::Always,
        parse: |_| Command::Unsubscribe,
    },
    Spec {
        name: "settime",
        description: "修改每日发送时间",
        description_en: "Change the daily send time",
        example: "/settime 20:30",
        who: Who::Admins,
        changes: Changes::Always,
        parse: |argument| Command::SetTime(BadArgument::check(argument, parse_time(argument))),
    },
    Spec {
        name: "timezone",
        description: "修改时区（IANA 时区名）",
        description_en: "Change the time zone (IANA name)",
        example: "/timezone Europe/Berlin",
        who: Who::AdminsWithArgument,
        changes: Changes::WithArgument,
        parse: |argument| {
            Command::Timezone(
                optional(argument).map(|text| BadArgument::check(text, parse_timezone(text))),
            )
        },
    },
    Spec {
        name: "status",
        description: "查看订阅状态",
        description_en: "Subscription status",
        example: "/status",
        who: Who::Anyone,
        changes: Changes::Never,
        parse: |_| Command::Status,
    },
    Spec {
        name: "today",
        description: "现在就看今天的一节",
        description_en: "Today's section now",
        example: "/today",
        who: Who::Anyone,
        changes: Changes::Never,
        parse: |_| Command::Today,
    },
    Spec {
        name: "plan",
        description: "学习进度和接下来的内容",
        description_en: "Reading progress and what comes next",
        example: "/plan",
        who: Who::Anyone,
        changes: Changes::Never,
        parse: |_| Command::Plan,
    },
    Spec {
        name: "quiz",
        description: "知识测验（1–10 题）",
        description_en: "A quiz on the text",
        example: "/quiz 5",
        who: Who::Anyone,
        changes: Changes::Always,
        parse: |argument| Command::Quiz(optional(argument).map(|text| count(text, QUIZ_QUESTIONS))),
    },
    Spec {
        name: "stopquiz",
        description: "结束正在进行的测验",
        description_en: "Stop the running quiz",
        example: "/stopquiz",
        who: Who::Admins,
        changes: Changes::Always,
        parse: |_| Command::StopQuiz,
    },
    Spec {
        name: "score",
        description: "我在这里的测验成绩",
        description_en: "My quiz score here",
        example: "/score",
        who: Who::Anyone,
        changes: Changes::Never,
        parse: |_| Command::Score,
    },
    Spec {
        name: "top",
        description: "测验排行榜（前 10 名）",
        description_en: "Top 10 quiz scores",
        example: "/top",
        who: Who::Anyone,
        changes: Changes::Never,
        parse: |_| Command::Top,
    },
    Spec {
        name: "dailyquiz",
        description: "开关每日一题",
        description_en: "Daily question on or off",
        example: "/dailyquiz on",
        who: Who::AdminsWithArgument,
        changes: Changes::WithArgument,
        parse: |argument| Command::DailyQuiz(optional(argument).map(on_off)),
    },
    Spec {
        name: "review",
        description: "复习我的错题（私聊）",
        description_en: "Review my missed questions (private chat)",
        example: "/review 5",
        who: Who::Anyone,
        changes: Changes::Always,
        parse: |argument| {
            Command::Review(optional(argument).map(|text| count(text, REVIEW_QUESTIONS)))
        },
    },
    Spec {
        name: "mistakes",
        description: "我的错题本",
        description_en: "My missed questions",
        example: "/mistakes",
        who: Who::Anyone,
        changes: Changes::Never,
        parse: |_| Command::Mistakes,
    },
    Spec {
        name: "remind",
        description: "错题复习提醒（私聊）",
        description_en: "Review reminder (private chat)",
        example: "/remind 20:00",
        who: Who::Anyone,
        changes: Changes::WithArgument,
        parse: |argument| Command::Remind(optional(argument).map(reminder)),
    },
    Spec {
        name: "weeklytest",
        description: "每周一测（群管理员设置）",
        description_en: "Weekly group test (admins)",
        example: "/weeklytest Sun 20:00",
        who: Who::AdminsWithArgument,
        changes: Changes::WithArgument,
        parse: |argument| Command::WeeklyTest(optional(argument).map(weekly_test)),
    },
    Spec {
        name: "join",
        description: "加入学习名单",
        description_en: "Join the study roster",
        example: "/join",
        who: Who::Anyone,
        changes: Changes::Always,
        parse: |_| Command::Join,
    },
    Spec {
        name: "leave",
        description: "退出学习名单（记录保留）",
        description_en: "Leave the study roster",
        example: "/leave",
        who: Who::Anyone,
        changes: Changes::Always,
        parse: |_| Command::Leave,
    },
    Spec {
        name: "forgetme",
        description: "删除我在本群的学习记录",
        description_en: "Delete my study records here",
        example: "/forgetme",
        who: Who::Anyone,
        changes: Changes::Always,
        parse: |_| Command::ForgetMe,
    },
    Spec {
        name: "roster",
        description: "学习台账：今天和本周谁学了",
        description_en: "Who studied today and this week",
        example: "/roster",
        who: Who::Admins,
        changes: Changes::Never,
        parse: |_| Command::Roster,
    },
    Spec {
        name: "report",
        description: "每周学习周报（管理员）",
        description_en: "Weekly report on or off",
        example: "/report weekly Mon 09:00",
        who: Who::AdminsWithArgument,
        changes: Changes::WithArgument,
        parse: |argument| Command::Report(optional(argument).map(report)),
    },
    Spec {
        name: "catchup",
        description: "私聊补学漏掉的内容",
        description_en: "Catch up on missed sections",
        example: "/catchup",
        who: Who::Anyone,
        changes: Changes::Never,
        parse: |_| Command::Catchup,
    },
    Spec {
        name: "export",
        description: "导出学习台账表格（管理员）",
        description_en: "Export the study record (xlsx)",
        example: "/export",
        who: Who::Admins,
        changes: Changes::Never,
        parse: |_| Command::Export,
    },
    Spec {
        name: "read",
        description: "在小程序里阅读全文（目录、字号、打卡）",
        description_en: "Read the text in the Mini App",
        example: "/read",
        who: Who::Anyone,
        changes: Changes::Never,
        parse: |_| Command::Read,
    },
    Spec {
        name: "dashboard",
        description: "学习看板：参与图表和名单（管理员）",
        description_en: "The group's dashboard (admins)",
        example: "/dashboard",
        who: Who::Admins,
        changes: Changes::Never,
        parse: |_| Command::Dashboard,
    },
];

/// What a line of user text turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A known command.
    Command(Command),
    /// Something starting with `/` that is not one of ours (the name, cut to 32 chars).
    Unknown(String),
    /// A command addressed to another bot (`/start@otherbot`): stay silent.
    OtherBot,
    /// Not a command at all.
    Text,
}

impl Input {
    /// The command's name for logs (`section`, `unknown`, `text`).
    pub fn name(&self) -> &str {
        match self {
            Self::Command(command) => command.name(),
            Self::Unknown(_) => "unknown",
            Self::OtherBot => "other_bot",
            Self::Text => "text",
        }
    }
}

impl Command {
    /// The command's row in [`COMMANDS`]: the row whose parser makes this variant (each
    /// parser makes one variant whatever its argument, so reading an empty argument
    /// tells which row it is; no second list of names to keep in step).
    pub fn spec(&self) -> &'static Spec {
        let variant = std::mem::discriminant(self);
        COMMANDS
            .iter()
            .find(|spec| std::mem::discriminant(&(spec.parse)("")) == variant)
            .expect("every command has a row in COMMANDS")
    }

    /// The command's name without the slash.
    pub fn name(&self) -> &'static str {
        self.spec().name
    }

    /// Whether the command may need the sender's admin rights: it changes the chat's
    /// settings (which in groups only administrators may do) or stops someone else's
    /// quiz. The transport asks Telegram only for these.
    pub fn needs_admin_check(&self) -> bool {
        match self.spec().who {
            Who::Anyone => false,
            Who::Admins => true,
            Who::AdminsWithArgument => self.argument_given(),
        }
    }

    /// Whether the command may change what the store holds (a setting, a subscription,
    /// a quiz, a roster). Its reply confirms the change, so the change must be on disk
    /// before the reply leaves (see `App::handle`); the other commands only read.
    pub fn changes_state(&self) -> bool {
        match self.spec().changes {
            Changes::Never => false,
            Changes::Always => true,
            Changes::WithArgument => self.argument_given(),
        }
    }

    /// Whether a command that shows its setting without an argument was given one.
    fn argument_given(&self) -> bool {
        match self {
            Self::Use(argument) => argument.is_some(),
            Self::Timezone(argument) => argument.is_some(),
            Self::DailyQuiz(argument) => argument.is_some(),
            Self::Remind(argument) => argument.is_some(),
            Self::WeeklyTest(argument) => argument.is_some(),
            Self::Report(argument) => argument.is_some(),
            _ => false,
        }
    }
}

/// Parses a message text. `bot_username` (without `@`) decides which `@suffix` is ours;
/// `None` accepts any suffix (the console).
pub fn parse(text: &str, bot_username: Option<&str>) -> Input {
    let text = text.trim_start();
    let Some(rest) = text.strip_prefix('/') else {
        return Input::Text;
    };
    let (word, argument) = match rest.find(char::is_whitespace) {
        Some(index) => (&rest[..index], rest[index..].trim()),
        None => (rest, ""),
    };
    let (name, target) = match word.split_once('@') {
        Some((name, target)) => (name, Some(target)),
        None => (word, None),
    };
    if let (Some(target), Some(ours)) = (target, bot_username)
        && !target.eq_ignore_ascii_case(ours)
    {
        return Input::OtherBot;
    }
    let lowercase = name.to_ascii_lowercase();
    // The deep link from a group's `/review` (t.me/<bot>?start=review).
    if lowercase == "start" && argument == "review" {
        return Input::Command(Command::Review(None));
    }
    match COMMANDS.iter().find(|spec| spec.name == lowercase) {
        Some(spec) => Input::Command((spec.parse)(argument)),
        // Named back as typed.
        None => Input::Unknown(name.chars().take(32).collect()),
    }
}

/// `None` for an empty argument, else the trimmed text.
fn optional(argument: &str) -> Option<&str> {
    Some(argument.trim()).filter(|text| !text.is_empty())
}

/// Reads a count in `range`: ASCII or full-width digits.
fn count(text: &str, range: RangeInclusive<usize>) -> Result<usize, ()> {
    let digits = fold(text.trim());
    if digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(());
    }
    digits.parse().ok().filter(|n| range.contains(n)).ok_or(())
}

/// Reads `on`/`off` (or 开/关); anything else is kept, trimmed, for the reply.
fn on_off(text: &str) -> Result<bool, String> {
    match text.trim().to_lowercase().as_str() {
        "on" | "开" | "开启" => Ok(true),
        "off" | "关" | "关闭" => Ok(false),
        _ => Err(text.trim().to_string()),
    }
}

/// Whether a (lowercased) word turns a setting off.
fn is_off(word: &str) -> bool {
    matches!(word, "off" | "关" | "关闭")
}

/// Reads `/remind`'s argument: `off`, or `HH:MM` and an optional IANA zone (words
/// after those are ignored).
fn reminder(text: &str) -> Result<ReminderSetting, BadArgument<ReminderError>> {
    let mut words = text.split_whitespace();
    let (time, zone) = (words.next().unwrap_or("").to_lowercase(), words.next());
    if is_off(&time) {
        return Ok(ReminderSetting::Off);
    }
    let at = BadArgument::check(text, parse_time(&time).map_err(ReminderError::Time))?;
    let zone = zone
        .map(|zone| BadArgument::check(text, parse_timezone(zone).map_err(ReminderError::Zone)))
        .transpose()?;
    Ok(ReminderSetting::At(at, zone))
}

/// Reads `/weeklytest`'s argument: `off` (any case), or exactly a day and a time
/// (`Sun 20:00`, `周日 20:00`).
fn weekly_test(text: &str) -> Result<Weekly, BadArgument<()>> {
    if is_off(&text.trim().to_lowercase()) {
        return Ok(Weekly::Off);
    }
    let schedule = match text.split_whitespace().collect::<Vec<_>>().as_slice() {
        [day, time] => parse_weekday(day).zip(parse_time(time).ok()),
        _ => None,
    };
    let (day, time) = BadArgument::check(text, schedule.ok_or(()))?;
    Ok(Weekly::At(day, time))
}

/// Reads `/report`'s argument: `off`, or `[weekly] <day> <time>`.
fn report(text: &str) -> Result<Weekly, BadArgument<ReportError>> {
    let bad = |error| BadArgument {
        text: text.trim().to_string(),
        error,
    };
    // Long input is not quoted back: a reply never parrots a wall of text.
    if text.trim().chars().count() > 32 {
        return Err(bad(ReportError::TooLong));
    }
    match text.split_whitespace().collect::<Vec<_>>().as_slice() {
        ["off"] | ["关"] | ["关闭"] => Ok(Weekly::Off),
        ["weekly", day, time] | [day, time] => {
            let Some(weekday) = parse_weekday(day) else {
                return Err(bad(ReportError::Day(day.to_string())));
            };
            let Ok(time) = parse_time(time) else {
                return Err(bad(ReportError::Time(time.to_string())));
            };
            Ok(Weekly::At(weekday, time))
        }
        _ => Err(bad(ReportError::Unreadable)),
    }
}

/// Splits a page off a `/section` argument: `2.1 第 3 页` (or `2.1 第3页`, `2.1 p3`) is
/// page 3 of 2.1; without one, page 1.
fn page_of(argument: &str) -> (&str, usize) {
    fn digits_before(rest: &str) -> Option<(&str, usize)> {
        let start = rest
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_digit())
            .last()
            .map(|(index, _)| index)?;
        Some((&rest[..start], rest[start..].parse::<usize>().ok()?))
    }
    let trimmed = argument.trim_end();
    let page = match trimmed.strip_suffix('页') {
        Some(rest) => digits_before(rest.trim_end()).and_then(|(before, page)| {
            let before = before.trim_end().strip_suffix('第')?;
            Some((before, page))
        }),
        None => digits_before(trimmed).and_then(|(before, page)| {
            let before = before.strip_suffix(['p', 'P'])?;
            before
                .ends_with(char::is_whitespace)
                .then_some((before, page))
        }),
    };
    match page {
        Some((before, page)) if !before.trim().is_empty() => (before.trim_end(), page.max(1)),
        _ => (argument, 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_arguments() {
        assert_eq!(
            parse("/section 2.1", None),
            Input::Command(Command::Section(SectionQuery::parse("2.1")))
        );
        assert_eq!(
            parse("  /section   二.一  ", None),
            Input::Command(Command::Section(SectionQuery::parse("二.一")))
        );
        assert_eq!(
            parse("/search 网格 党员", None),
            Input::Command(Command::Search("网格 党员".into()))
        );
        assert_eq!(parse("/outline", None), Input::Command(Command::Outline));
        assert_eq!(parse("/docs", None), Input::Command(Command::Docs));
        assert_eq!(parse("/HELP", None), Input::Command(Command::Help));
        assert_eq!(
            parse("/section\n2.1", None),
            Input::Command(Command::Section(SectionQuery::parse("2.1")))
        );
    }

    #[test]
    fn quiz_commands() {
        assert_eq!(parse("/quiz", None), Input::Command(Command::Quiz(None)));
        assert_eq!(
            parse("/quiz 3", None),
            Input::Command(Command::Quiz(Some(Ok(3))))
        );
        assert_eq!(
            parse("/stopquiz@studybot_bot", Some("studybot_bot")),
            Input::Command(Command::StopQuiz)
        );
        assert_eq!(parse("/score", None), Input::Command(Command::Score));
        assert_eq!(parse("/top", None), Input::Command(Command::Top));
        assert_eq!(
            parse("/dailyquiz off", None),
            Input::Command(Command::DailyQuiz(Some(Ok(false))))
        );
    }

    #[test]
    fn bot_suffixes() {
        let ours = Some("studybot_bot");
        assert_eq!(
            parse("/section@studybot_bot 2.1", ours),
            Input::Command(Command::Section(SectionQuery::parse("2.1")))
        );
        assert_eq!(
            parse("/section@StudyBot_Bot 2.1", ours),
            Input::Command(Command::Section(SectionQuery::parse("2.1")))
        );
        assert_eq!(parse("/section@other_bot 2.1", ours), Input::OtherBot);
        assert_eq!(
            parse("/section@anything 2.1", None),
            Input::Command(Command::Section(SectionQuery::parse("2.1")))
        );
    }

    #[test]
    fn subscription_commands() {
        let cases = [
            ("/subscribe", Command::Subscribe(Ok(None))),
            (
                "/subscribe 8:00",
                Command::Subscribe(Ok(Some(NaiveTime::from_hms_opt(8, 0, 0).unwrap()))),
            ),
            ("/unsubscribe", Command::Unsubscribe),
            (
                "/settime ８：００",
                Command::SetTime(Ok(NaiveTime::from_hms_opt(8, 0, 0).unwrap())),
            ),
            (
                "/timezone Europe/Berlin",
                Command::Timezone(Some(Ok(chrono_tz::Europe::Berlin))),
            ),
            ("/status", Command::Status),
            ("/today", Command::Today),
            ("/plan", Command::Plan),
        ];
        for (text, command) in cases {
            let name = command.name();
            assert_eq!(parse(text, None), Input::Command(command), "{text}");
            assert!(
                COMMANDS.iter().any(|info| info.name == name),
                "{name} is listed"
            );
        }
        assert!(Command::Subscribe(Ok(None)).needs_admin_check());
        assert!(Command::Timezone(Some(Ok(chrono_tz::Asia::Shanghai))).needs_admin_check());
        assert!(!Command::Timezone(None).needs_admin_check());
        assert!(!Command::Status.needs_admin_check());
        assert!(Command::Quiz(None).changes_state());
        assert!(Command::DailyQuiz(Some(Ok(true))).changes_state());
        assert!(!Command::DailyQuiz(None).changes_state());
        assert!(!Command::Section(SectionQuery::parse("2.1")).changes_state());
        assert_eq!(
            parse("/settime 25:00", None),
            Input::Command(Command::SetTime(Err(BadArgument {
                text: "25:00".into(),
                error: TimeError::OutOfRange,
            })))
        );
        assert!(Command::DailyQuiz(Some(Err("maybe".into()))).needs_admin_check());
    }

    #[test]
    fn weekly_settings() {
        let eight = NaiveTime::from_hms_opt(20, 0, 0).unwrap();
        let weekly = |text: &str| match parse(text, None) {
            Input::Command(Command::WeeklyTest(setting)) => setting,
            other => panic!("{other:?}"),
        };
        assert_eq!(weekly("/weeklytest"), None);
        assert_eq!(weekly("/weeklytest OFF"), Some(Ok(Weekly::Off)));
        assert_eq!(
            weekly("/weeklytest Sun 20:00"),
            Some(Ok(Weekly::At(Weekday::Sun, eight)))
        );
        assert_eq!(
            weekly("/weeklytest 周日 20:00"),
            Some(Ok(Weekly::At(Weekday::Sun, eight)))
        );
        assert_eq!(
            weekly("/weeklytest 星期一 20:00"),
            Some(Ok(Weekly::At(Weekday::Mon, eight)))
        );
        for bad in ["Sun", "Sun 25:00", "Funday 20:00", "Sun 20:00 x", "off x"] {
            let expected = BadArgument {
                text: bad.to_string(),
                error: (),
            };
            assert_eq!(weekly(&format!("/weeklytest {bad}")), Some(Err(expected)));
        }
        let report = |text: &str| match parse(text, None) {
            Input::Command(Command::Report(setting)) => setting.map(|s| s.map_err(|b| b.error)),
            other => panic!("{other:?}"),
        };
        assert_eq!(report("/report"), None);
        assert_eq!(report("/report off"), Some(Ok(Weekly::Off)));
        assert_eq!(
            report("/report weekly Sun 20:00"),
            Some(Ok(Weekly::At(Weekday::Sun, eight)))
        );
        assert_eq!(
            report("/report Funday 20:00"),
            Some(Err(ReportError::Day("Funday".into())))
        );
        assert_eq!(
            report("/report Sun 8点"),
            Some(Err(ReportError::Time("8点".into())))
        );
        assert_eq!(report("/report OFF"), Some(Err(ReportError::Unreadable)));
        assert_eq!(
            report(&format!("/report {}", "x".repeat(33))),
            Some(Err(ReportError::TooLong))
        );
        let remind = |text: &str| match parse(text, None) {
            Input::Command(Command::Remind(setting)) => setting,
            other => panic!("{other:?}"),
        };
        assert_eq!(remind("/remind"), None);
        assert_eq!(remind("/remind 关 x"), Some(Ok(ReminderSetting::Off)));
        assert_eq!(
            remind("/remind 20:00 Europe/Berlin"),
            Some(Ok(ReminderSetting::At(
                eight,
                Some(chrono_tz::Europe::Berlin)
            )))
        );
        assert_eq!(
            remind("/remind 20:00 Mars/Olympus"),
            Some(Err(BadArgument {
                text: "20:00 Mars/Olympus".into(),
                error: ReminderError::Zone(ZoneError::Unknown),
            }))
        );
        assert!(!Command::Report(None).needs_admin_check());
        assert!(Command::Report(Some(Ok(Weekly::Off))).changes_state());
    }

    #[test]
    fn a_page_is_split_off_the_section_argument() {
        assert_eq!(page_of("2.1 第 3 页"), ("2.1", 3));
        assert_eq!(page_of("2.1 第3页"), ("2.1", 3));
        assert_eq!(page_of("二.一 p12"), ("二.一", 12));
        assert_eq!(page_of("2.1"), ("2.1", 1));
        assert_eq!(page_of("第 3 页"), ("第 3 页", 1));
        assert_eq!(page_of("为民 2"), ("为民 2", 1));
        assert_eq!(page_of("2.1 第 0 页"), ("2.1", 1));
        assert_eq!(
            page_of("2.1 第 99999999999999999999999 页"),
            ("2.1 第 99999999999999999999999 页", 1)
        );
    }

    #[test]
    fn counts() {
        let quiz = |text: &str| match parse(text, None) {
            Input::Command(Command::Quiz(count)) => count,
            other => panic!("{other:?}"),
        };
        assert_eq!(quiz("/quiz"), None);
        assert_eq!(quiz("/quiz  3 "), Some(Ok(3)));
        assert_eq!(quiz("/quiz １０"), Some(Ok(10)));
        for bad in ["0", "11", "-1", "abc", "99999999999999999999", "3 4"] {
            assert_eq!(quiz(&format!("/quiz {bad}")), Some(Err(())), "{bad}");
        }
        let review = |text: &str| match parse(text, None) {
            Input::Command(Command::Review(count)) => count,
            other => panic!("{other:?}"),
        };
        assert_eq!(review("/review"), None);
        assert_eq!(review("/start review"), None);
        assert_eq!(review("/review 5"), Some(Ok(5)));
        assert_eq!(review("/review ５"), Some(Ok(5)));
        for bad in ["0", "21", "abc", "-1", "1000"] {
            assert_eq!(review(&format!("/review {bad}")), Some(Err(())), "{bad}");
        }
    }

    #[test]
    fn every_row_parses_to_its_own_variant() {
        for spec in COMMANDS {
            assert_eq!((spec.parse)("").name(), spec.name);
            assert_eq!((spec.parse)("x 1").name(), spec.name);
        }
    }

    #[test]
    fn everything_else() {
        assert_eq!(parse("hello", None), Input::Text);
        assert_eq!(parse("", None), Input::Text);
        assert_eq!(parse("/foo bar", None), Input::Unknown("foo".into()));
        assert_eq!(parse("/Foo", None), Input::Unknown("Foo".into()));
        assert_eq!(parse("/", None), Input::Unknown(String::new()));
        assert_eq!(
            parse(&format!("/{}", "x".repeat(100)), None),
            Input::Unknown("x".repeat(32))
        );
    }

    #[test]
    fn command_names_are_valid_for_telegram() {
        for info in COMMANDS {
            assert!(
                info.name.len() <= 32
                    && info
                        .name
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            );
            assert!(!info.description.is_empty() && info.description.chars().count() <= 256);
            assert!(info.example.starts_with(&format!("/{}", info.name)));
        }
    }
}
