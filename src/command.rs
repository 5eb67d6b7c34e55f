//! Commands as users type them: `/section@studybot_bot 2.1`. Parsing only; doing is in
//! [`crate::app`].

/// One command a user can send, with its raw argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `/start`: a greeting and where to begin.
    Start,
    /// `/help`: every command with an example.
    Help,
    /// `/outline`: the principles and points.
    Outline,
    /// `/docs`: the texts the bot has, how complete each is.
    Docs,
    /// `/use <number or id>`: the chat studies that text from now on (admins in groups);
    /// without an argument, says which text the chat studies.
    Use(String),
    /// `/section <ref>`: one section's text.
    Section(String),
    /// `/search <words>`: keyword search.
    Search(String),
    /// `/subscribe [HH:MM]`: receive one section a day at this local time.
    Subscribe(String),
    /// `/unsubscribe`: stop the daily section.
    Unsubscribe,
    /// `/settime HH:MM`: change the local send time.
    SetTime(String),
    /// `/timezone <IANA name>`: change the chat's time zone (without a name: show it).
    Timezone(String),
    /// `/status`: the subscription's state.
    Status,
    /// `/today`: today's section now, without moving the plan.
    Today,
    /// `/plan`: progress through the text and what comes next.
    Plan,
    /// `/quiz [n]`: a quiz of n questions (default from the config).
    Quiz(String),
    /// `/stopquiz`: end the running quiz (its starter or an admin).
    StopQuiz,
    /// `/score`: the sender's quiz score in this chat.
    Score,
    /// `/top`: the chat's ten best quiz scores.
    Top,
    /// `/dailyquiz on|off`: the question after the daily excerpt (admins in groups).
    DailyQuiz(String),
    /// `/review [n]`: ask my due missed questions, one at a time (private chats).
    Review(String),
    /// `/mistakes`: my missed questions, most-missed first.
    Mistakes,
    /// `/remind HH:MM|off`: a private reminder when missed questions are due.
    Remind(String),
    /// `/weeklytest Sun 20:00|off`: the group's weekly test (admins).
    WeeklyTest(String),
    /// `/join`: put oneself on the chat's study roster.
    Join,
    /// `/leave`: take oneself off the roster (records stay).
    Leave,
    /// `/forgetme`: delete one's study records in this chat.
    ForgetMe,
    /// `/roster`: who studied today and this week (admins in groups).
    Roster,
    /// `/report weekly Mon 09:00` or `/report off`: the weekly report (admins in groups).
    Report(String),
    /// `/catchup`: the sections one missed, to study late (private chats).
    Catchup,
    /// `/export`: the study record as a spreadsheet (admins in groups).
    Export,
    /// `/read`: open the text in the Mini App (when `[web]` is set).
    Read,
    /// `/dashboard`: open the group's dashboard in the Mini App (admins in groups).
    Dashboard,
}

/// A command's name, its description for Telegram's menu and an example for `/help`.
#[derive(Debug, Clone, Copy)]
pub struct CommandInfo {
    /// The name without the slash (`[a-z0-9_]`, at most 32 characters).
    pub name: &'static str,
    /// A short Chinese description.
    pub description: &'static str,
    /// A short English description (for users whose Telegram is in English).
    pub description_en: &'static str,
    /// An example as a user would type it.
    pub example: &'static str,
}

/// Every command, in the order `/help` and Telegram's menu list them.
pub const COMMANDS: &[CommandInfo] = &[
    CommandInfo {
        name: "start",
        description: "开始使用",
        description_en: "Get started",
        example: "/start",
    },
    CommandInfo {
        name: "help",
        description: "全部命令和示例",
        description_en: "All commands with examples",
        example: "/help",
    },
    CommandInfo {
        name: "outline",
        description: "提纲：各部分和要点",
        description_en: "Outline: the parts and their points",
        example: "/outline",
    },
    CommandInfo {
        name: "docs",
        description: "可学习的文本及其完整程度",
        description_en: "The texts and how complete each is",
        example: "/docs",
    },
    CommandInfo {
        name: "use",
        description: "本群改学另一篇文本（编号见 /docs）",
        description_en: "Study another text here (see /docs)",
        example: "/use 2",
    },
    CommandInfo {
        name: "section",
        description: "查看某一节原文",
        description_en: "Read a section",
        example: "/section 2.1",
    },
    CommandInfo {
        name: "search",
        description: "在原文中搜索关键词",
        description_en: "Search the text",
        example: "/search 网格",
    },
    CommandInfo {
        name: "subscribe",
        description: "订阅每日学习，每天定时发一节",
        description_en: "Get one section a day",
        example: "/subscribe 08:00",
    },
    CommandInfo {
        name: "unsubscribe",
        description: "退订每日学习",
        description_en: "Stop the daily section",
        example: "/unsubscribe",
    },
    CommandInfo {
        name: "settime",
        description: "修改每日发送时间",
        description_en: "Change the daily send time",
        example: "/settime 20:30",
    },
    CommandInfo {
        name: "timezone",
        description: "修改时区（IANA 时区名）",
        description_en: "Change the time zone (IANA name)",
        example: "/timezone Europe/Berlin",
    },
    CommandInfo {
        name: "status",
        description: "查看订阅状态",
        description_en: "Subscription status",
        example: "/status",
    },
    CommandInfo {
        name: "today",
        description: "现在就看今天的一节",
        description_en: "Today's section now",
        example: "/today",
    },
    CommandInfo {
        name: "plan",
        description: "学习进度和接下来的内容",
        description_en: "Reading progress and what comes next",
        example: "/plan",
    },
    CommandInfo {
        name: "quiz",
        description: "知识测验（1–10 题）",
        description_en: "A quiz on the text",
        example: "/quiz 5",
    },
    CommandInfo {
        name: "stopquiz",
        description: "结束正在进行的测验",
        description_en: "Stop the running quiz",
        example: "/stopquiz",
    },
    CommandInfo {
        name: "score",
        description: "我在这里的测验成绩",
        description_en: "My quiz score here",
        example: "/score",
    },
    CommandInfo {
        name: "top",
        description: "测验排行榜（前 10 名）",
        description_en: "Top 10 quiz scores",
        example: "/top",
    },
    CommandInfo {
        name: "dailyquiz",
        description: "开关每日一题",
        description_en: "Daily question on or off",
        example: "/dailyquiz on",
    },
    CommandInfo {
        name: "review",
        description: "复习我的错题（私聊）",
        description_en: "Review my missed questions (private chat)",
        example: "/review 5",
    },
    CommandInfo {
        name: "mistakes",
        description: "我的错题本",
        description_en: "My missed questions",
        example: "/mistakes",
    },
    CommandInfo {
        name: "remind",
        description: "错题复习提醒（私聊）",
        description_en: "Review reminder (private chat)",
        example: "/remind 20:00",
    },
    CommandInfo {
        name: "weeklytest",
        description: "每周一测（群管理员设置）",
        description_en: "Weekly group test (admins)",
        example: "/weeklytest Sun 20:00",
    },
    CommandInfo {
        name: "join",
        description: "加入学习名单",
        description_en: "Join the study roster",
        example: "/join",
    },
    CommandInfo {
        name: "leave",
        description: "退出学习名单（记录保留）",
        description_en: "Leave the study roster",
        example: "/leave",
    },
    CommandInfo {
        name: "forgetme",
        description: "删除我在本群的学习记录",
        description_en: "Delete my study records here",
        example: "/forgetme",
    },
    CommandInfo {
        name: "roster",
        description: "学习台账：今天和本周谁学了",
        description_en: "Who studied today and this week",
        example: "/roster",
    },
    CommandInfo {
        name: "report",
        description: "每周学习周报（管理员）",
        description_en: "Weekly report on or off",
        example: "/report weekly Mon 09:00",
    },
    CommandInfo {
        name: "catchup",
        description: "私聊补学漏掉的内容",
        description_en: "Catch up on missed sections",
        example: "/catchup",
    },
    CommandInfo {
        name: "export",
        description: "导出学习台账表格（管理员）",
        description_en: "Export the study record (xlsx)",
        example: "/export",
    },
    CommandInfo {
        name: "read",
        description: "在小程序里阅读全文（目录、字号、打卡）",
        description_en: "Read the text in the Mini App",
        example: "/read",
    },
    CommandInfo {
        name: "dashboard",
        description: "学习看板：参与图表和名单（管理员）",
        description_en: "The group's dashboard (admins)",
        example: "/dashboard",
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
    /// The command's name without the slash.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Help => "help",
            Self::Outline => "outline",
            Self::Docs => "docs",
            Self::Use(_) => "use",
            Self::Section(_) => "section",
            Self::Search(_) => "search",
            Self::Subscribe(_) => "subscribe",
            Self::Unsubscribe => "unsubscribe",
            Self::SetTime(_) => "settime",
            Self::Timezone(_) => "timezone",
            Self::Status => "status",
            Self::Today => "today",
            Self::Plan => "plan",
            Self::Quiz(_) => "quiz",
            Self::StopQuiz => "stopquiz",
            Self::Score => "score",
            Self::Top => "top",
            Self::DailyQuiz(_) => "dailyquiz",
            Self::Review(_) => "review",
            Self::Mistakes => "mistakes",
            Self::Remind(_) => "remind",
            Self::WeeklyTest(_) => "weeklytest",
            Self::Join => "join",
            Self::Leave => "leave",
            Self::ForgetMe => "forgetme",
            Self::Roster => "roster",
            Self::Report(_) => "report",
            Self::Catchup => "catchup",
            Self::Export => "export",
            Self::Read => "read",
            Self::Dashboard => "dashboard",
        }
    }

    /// Whether the command may need the sender's admin rights: it changes the chat's
    /// settings (which in groups only administrators may do) or stops someone else's
    /// quiz. The transport asks Telegram only for these.
    pub fn needs_admin_check(&self) -> bool {
        match self {
            Self::Subscribe(_)
            | Self::Unsubscribe
            | Self::SetTime(_)
            | Self::StopQuiz
            | Self::Roster
            | Self::Export
            | Self::Dashboard => true,
            Self::Timezone(argument)
            | Self::DailyQuiz(argument)
            | Self::WeeklyTest(argument)
            | Self::Report(argument)
            | Self::Use(argument) => !argument.trim().is_empty(),
            Self::Start
            | Self::Help
            | Self::Outline
            | Self::Docs
            | Self::Section(_)
            | Self::Search(_)
            | Self::Status
            | Self::Today
            | Self::Plan
            | Self::Quiz(_)
            | Self::Score
            | Self::Top
            | Self::Review(_)
            | Self::Mistakes
            | Self::Remind(_)
            | Self::Join
            | Self::Leave
            | Self::ForgetMe
            | Self::Catchup
            | Self::Read => false,
        }
    }

    /// Whether the command may change what the store holds (a setting, a subscription,
    /// a quiz, a roster). Its reply confirms the change, so the change must be on disk
    /// before the reply leaves (see `App::handle`); the other commands only read.
    pub fn changes_state(&self) -> bool {
        match self {
            Self::Subscribe(_)
            | Self::Unsubscribe
            | Self::SetTime(_)
            | Self::Quiz(_)
            | Self::StopQuiz
            | Self::Review(_)
            | Self::Join
            | Self::Leave
            | Self::ForgetMe => true,
            Self::Timezone(argument)
            | Self::DailyQuiz(argument)
            | Self::Remind(argument)
            | Self::WeeklyTest(argument)
            | Self::Report(argument)
            | Self::Use(argument) => !argument.trim().is_empty(),
            Self::Start
            | Self::Help
            | Self::Outline
            | Self::Docs
            | Self::Section(_)
            | Self::Search(_)
            | Self::Status
            | Self::Today
            | Self::Plan
            | Self::Score
            | Self::Top
            | Self::Mistakes
            | Self::Roster
            | Self::Catchup
            | Self::Export
            | Self::Read
            | Self::Dashboard => false,
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
    let argument = argument.to_string();
    let command = match name.to_ascii_lowercase().as_str() {
        // The deep link from a group's `/review` (t.me/<bot>?start=review).
        "start" if argument == "review" => Command::Review(String::new()),
        "start" => Command::Start,
        "help" => Command::Help,
        "outline" => Command::Outline,
        "docs" => Command::Docs,
        "use" => Command::Use(argument),
        "section" => Command::Section(argument),
        "search" => Command::Search(argument),
        "subscribe" => Command::Subscribe(argument),
        "unsubscribe" => Command::Unsubscribe,
        "settime" => Command::SetTime(argument),
        "timezone" => Command::Timezone(argument),
        "status" => Command::Status,
        "today" => Command::Today,
        "plan" => Command::Plan,
        "quiz" => Command::Quiz(argument),
        "stopquiz" => Command::StopQuiz,
        "score" => Command::Score,
        "top" => Command::Top,
        "dailyquiz" => Command::DailyQuiz(argument),
        "review" => Command::Review(argument),
        "mistakes" => Command::Mistakes,
        "remind" => Command::Remind(argument),
        "weeklytest" => Command::WeeklyTest(argument),
        "join" => Command::Join,
        "leave" => Command::Leave,
        "forgetme" => Command::ForgetMe,
        "roster" => Command::Roster,
        "report" => Command::Report(argument),
        "catchup" => Command::Catchup,
        "export" => Command::Export,
        "read" => Command::Read,
        "dashboard" => Command::Dashboard,
        _ => return Input::Unknown(name.chars().take(32).collect()),
    };
    Input::Command(command)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_arguments() {
        assert_eq!(
            parse("/section 2.1", None),
            Input::Command(Command::Section("2.1".into()))
        );
        assert_eq!(
            parse("  /section   二.一  ", None),
            Input::Command(Command::Section("二.一".into()))
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
            Input::Command(Command::Section("2.1".into()))
        );
    }

    #[test]
    fn quiz_commands() {
        assert_eq!(
            parse("/quiz", None),
            Input::Command(Command::Quiz(String::new()))
        );
        assert_eq!(
            parse("/quiz 3", None),
            Input::Command(Command::Quiz("3".into()))
        );
        assert_eq!(
            parse("/stopquiz@studybot_bot", Some("studybot_bot")),
            Input::Command(Command::StopQuiz)
        );
        assert_eq!(parse("/score", None), Input::Command(Command::Score));
        assert_eq!(parse("/top", None), Input::Command(Command::Top));
        assert_eq!(
            parse("/dailyquiz off", None),
            Input::Command(Command::DailyQuiz("off".into()))
        );
    }

    #[test]
    fn bot_suffixes() {
        let ours = Some("studybot_bot");
        assert_eq!(
            parse("/section@studybot_bot 2.1", ours),
            Input::Command(Command::Section("2.1".into()))
        );
        assert_eq!(
            parse("/section@StudyBot_Bot 2.1", ours),
            Input::Command(Command::Section("2.1".into()))
        );
        assert_eq!(parse("/section@other_bot 2.1", ours), Input::OtherBot);
        assert_eq!(
            parse("/section@anything 2.1", None),
            Input::Command(Command::Section("2.1".into()))
        );
    }

    #[test]
    fn subscription_commands() {
        let cases = [
            ("/subscribe", Command::Subscribe(String::new())),
            ("/subscribe 8:00", Command::Subscribe("8:00".into())),
            ("/unsubscribe", Command::Unsubscribe),
            ("/settime ８：００", Command::SetTime("８：００".into())),
            (
                "/timezone Europe/Berlin",
                Command::Timezone("Europe/Berlin".into()),
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
        assert!(Command::Subscribe(String::new()).needs_admin_check());
        assert!(Command::Timezone("Asia/Shanghai".into()).needs_admin_check());
        assert!(!Command::Timezone(String::new()).needs_admin_check());
        assert!(!Command::Status.needs_admin_check());
        assert!(Command::Quiz(String::new()).changes_state());
        assert!(Command::DailyQuiz("on".into()).changes_state());
        assert!(!Command::DailyQuiz(String::new()).changes_state());
        assert!(!Command::Section("2.1".into()).changes_state());
    }

    #[test]
    fn everything_else() {
        assert_eq!(parse("hello", None), Input::Text);
        assert_eq!(parse("", None), Input::Text);
        assert_eq!(parse("/foo bar", None), Input::Unknown("foo".into()));
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
