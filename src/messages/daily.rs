//! The wording of the daily excerpt and of the subscription commands.

use super::{PAGED_AFTER_MESSAGES, location, name, section_body, section_page_texts};
use crate::limits;
use crate::plan::ReadingPlan;
use crate::reply::{Action, Button, Reply};
use crate::schedule::{
    DeliveryResult, FailureKind, LastFailure, SubscribeOutcome, Subscription, format_local,
    format_time, local_date,
};
use crate::text::{Document, Section, chinese_numeral};

/// How many cells the progress bar has at most.
const BAR_CELLS: usize = 24;

/// Where an excerpt stands: `今日学习 · 第二部分 厚植为民之心 · 2.2 用真心化解急难愁盼`,
/// `今日学习 · 第二部分 厚植为民之心 · 站稳群众立场` (a part intro), `今日学习 · 开场`.
pub fn excerpt_heading(document: &Document, section: &Section) -> String {
    let place = match (section.id, document.part_of(section.id)) {
        (id, Some(part)) if id.is_point() => format!(
            "第{}部分 {} · {} {}",
            chinese_numeral(part.id.part),
            part.title,
            id,
            section.title
        ),
        (id, Some(_)) if id.is_part() => location(document, section),
        _ => section.title.clone(),
    };
    format!("今日学习 · {place}")
}

/// The daily excerpt (scheduled or `/today`): where it stands, the text with its
/// completeness notices, and buttons to the whole section and to the outline. A
/// title-only section becomes a short card saying its text is unavailable.
///
/// It is at most [`PAGED_AFTER_MESSAGES`] messages: of a longer section it carries the
/// first pages as `/section` shows them, says where the rest is (`全文见 /section 2.1`,
/// the next page's command) and has a button to the next page.
pub fn excerpt(document: &Document, section: &Section) -> Reply {
    // Every member sees the same excerpt: its buttons answer with new messages.
    let heading = Reply::new()
        .for_the_chat()
        .bold(format!("{}\n\n", excerpt_heading(document, section)));
    let outline = Button {
        label: "提纲".into(),
        action: Action::Outline {
            document: document.id.clone(),
            page: super::outline_page_of(document, section.id),
        },
    };
    let whole = section_body(document, section, heading.clone());
    if whole.split(limits::MESSAGE_TEXT).len() <= PAGED_AFTER_MESSAGES {
        return whole.buttons(vec![
            Button {
                label: "本节全文".into(),
                action: Action::Section {
                    document: document.id.clone(),
                    section: section.id,
                    page: 1,
                },
            },
            outline,
        ]);
    }
    let pages = section_page_texts(document, section);
    let count = pages.len();
    // The most pages that still make at most three messages (one always does: a page
    // leaves room for its frame in one message).
    (1..=PAGED_AFTER_MESSAGES.min(count.saturating_sub(1)).max(1))
        .rev()
        .map(|shown| {
            let mut reply = heading.clone();
            for (index, page) in pages[..shown].iter().enumerate() {
                if index > 0 {
                    reply = reply.text("\n");
                }
                reply.spans.extend(page.spans.iter().cloned());
            }
            let next = shown + 1;
            reply
                .text("\n\n")
                .italic(format!(
                    "本节较长，以上是第 1–{shown} 页（共 {count} 页）。全文见 /section {id}，接着读：/section {id} 第 {next} 页",
                    id = section.id
                ))
                .buttons(vec![
                    Button {
                        label: format!("第 {next} 页 ▶"),
                        action: Action::Section {
                            document: document.id.clone(),
                            section: section.id,
                            page: next,
                        },
                    },
                    outline.clone(),
                ])
        })
        .find(|reply| reply.split(limits::MESSAGE_TEXT).len() <= PAGED_AFTER_MESSAGES)
        .expect("one page with its frame fits in one message")
}

/// A text bar: `▓▓▓▓▓▓▓░░░░░░░░░░░░░░` (one cell per section up to 24 sections).
pub fn progress_bar(done: usize, total: usize) -> String {
    if total == 0 {
        return String::new();
    }
    let cells = total.min(BAR_CELLS);
    let filled = (done.min(total) * cells) / total;
    format!("{}{}", "▓".repeat(filled), "░".repeat(cells - filled))
}

/// `/plan`: progress with a bar, the next section and the two after it.
pub fn plan(plan: &ReadingPlan<'_>, position: usize, subscription: Option<&Subscription>) -> Reply {
    let progress = plan.progress(position);
    let mut reply = Reply::new().bold(format!("学习进度 {}/{}", progress.done, progress.total));
    if progress.round > 1 {
        reply = reply.bold(format!("（第 {} 轮）", progress.round));
    }
    reply = reply.text(format!(
        "\n{}\n",
        progress_bar(progress.done, progress.total)
    ));
    let upcoming = plan.upcoming(position, 3);
    if let Some(next) = upcoming.first() {
        reply = reply.text(format!("\n下一节：{}", name(next)));
    }
    if upcoming.len() > 1 {
        let later: Vec<String> = upcoming[1..].iter().map(|s| name(s)).collect();
        reply = reply.text(format!("\n之后：{}", later.join("、")));
    }
    if progress.done == 0 && progress.round > 1 {
        reply = reply.text("\n\n全文已学完一遍，现从开场重新开始。");
    }
    match subscription {
        Some(subscription) if subscription.active => reply.text(format!(
            "\n\n每天 {}（{}）发送一节。",
            format_time(subscription.send_time),
            subscription.timezone.name()
        )),
        _ => reply.text("\n\n尚未订阅。发送 /subscribe 08:00，每天收到一节。"),
    }
}

/// `/subscribe` succeeded.
pub fn subscribed(
    plan: &ReadingPlan<'_>,
    subscription: &Subscription,
    outcome: SubscribeOutcome,
) -> Reply {
    let progress = plan.progress(subscription.position);
    let first = match outcome {
        SubscribeOutcome::New => format!(
            "已订阅每日学习：每天 {}（{}）发送一节，共 {} 节，按顺序学习，学完从头再来。",
            format_time(subscription.send_time),
            subscription.timezone.name(),
            progress.total
        ),
        SubscribeOutcome::Reactivated => format!(
            "已重新订阅每日学习：每天 {}（{}）发送一节，进度保留在 {}/{}。",
            format_time(subscription.send_time),
            subscription.timezone.name(),
            progress.done,
            progress.total
        ),
        SubscribeOutcome::AlreadyActive => format!(
            "本聊天已订阅每日学习：每天 {}（{}）发送一节。",
            format_time(subscription.send_time),
            subscription.timezone.name()
        ),
    };
    Reply::plain(first)
        .text(next_send(plan, subscription))
        .text("\n\n改时间：/settime 20:30　改时区：/timezone Europe/Berlin　退订：/unsubscribe")
}

/// The next send and its section: `\n下次发送：2026-05-02 08:00\n下一节：开场`.
fn next_send(plan: &ReadingPlan<'_>, subscription: &Subscription) -> String {
    let mut text = format!(
        "\n下次发送：{}（{}）",
        format_local(subscription.next_due, subscription.timezone),
        subscription.timezone.name()
    );
    if let Some(section) = plan.section(subscription.position) {
        text.push_str(&format!("\n下一节：{}", name(section)));
    }
    text
}

/// `/unsubscribe` succeeded.
pub fn unsubscribed(plan: &ReadingPlan<'_>, subscription: &Subscription) -> Reply {
    let progress = plan.progress(subscription.position);
    Reply::plain(format!(
        "已退订每日学习，不再定时发送。进度保留在 {}/{}，发送 /subscribe 可以接着学。",
        progress.done, progress.total
    ))
}

/// `/unsubscribe`, `/settime` or `/timezone` in a chat that is not subscribed;
/// `next_step` says what to do instead, as a full sentence with an example.
pub fn not_subscribed(next_step: &str) -> Reply {
    Reply::plain(format!("本聊天目前没有订阅每日学习。{next_step}"))
}

/// `/settime` succeeded.
pub fn time_changed(plan: &ReadingPlan<'_>, subscription: &Subscription) -> Reply {
    Reply::plain(format!(
        "发送时间已改为每天 {}（{}）。",
        format_time(subscription.send_time),
        subscription.timezone.name()
    ))
    .text(active_or_paused(plan, subscription))
}

/// `/timezone` succeeded.
pub fn timezone_changed(plan: &ReadingPlan<'_>, subscription: &Subscription) -> Reply {
    Reply::plain(format!(
        "时区已改为 {}，每天按当地时间 {} 发送。",
        subscription.timezone.name(),
        format_time(subscription.send_time)
    ))
    .text(active_or_paused(plan, subscription))
}

fn active_or_paused(plan: &ReadingPlan<'_>, subscription: &Subscription) -> String {
    if subscription.active {
        next_send(plan, subscription)
    } else {
        "\n本聊天目前未订阅，设置已保存。发送 /subscribe 恢复每日发送。".into()
    }
}

/// `/timezone` without a name: the current zone and how to change it.
pub fn current_timezone(zone_name: &str) -> Reply {
    Reply::plain(format!(
        "当前时区：{zone_name}。修改请写 IANA 时区名，例如：/timezone Asia/Shanghai 或 /timezone Europe/Berlin"
    ))
}

/// `/status`: subscribed or not, time and zone, next send, next section, last delivery
/// and who subscribed.
pub fn status(plan: &ReadingPlan<'_>, subscription: Option<&Subscription>) -> Reply {
    let text = format!(
        "学习文本：《{}》（编号 {}）\n",
        plan.document().title,
        plan.document().id
    );
    let Some(subscription) = subscription else {
        return Reply::new()
            .bold("每日学习：未订阅\n")
            .text(text)
            .text("发送 /subscribe 08:00，每天定时收到一节原文（在群里由管理员发送）。");
    };
    let zone = subscription.timezone;
    let progress = plan.progress(subscription.position);
    let mut reply = match (subscription.active, &subscription.disabled_reason) {
        (true, _) => Reply::new().bold("每日学习：已订阅\n"),
        (false, None) => Reply::new().bold("每日学习：已退订\n"),
        (false, Some(reason)) => Reply::new()
            .bold("每日学习：已停用\n")
            .text(format!(
                "原因：机器人无法在本聊天发消息（{reason}）。重新添加机器人后，由管理员发送 /subscribe 即可恢复。\n"
            )),
    };
    reply = reply.text(text);
    reply = reply.text(format!(
        "发送时间：每天 {}（{}）\n",
        format_time(subscription.send_time),
        zone.name()
    ));
    if subscription.active {
        reply = reply.text(format!(
            "下次发送：{}\n",
            format_local(subscription.next_due, zone)
        ));
    }
    if let Some(section) = plan.section(subscription.position) {
        reply = reply.text(format!("下一节：{}\n", name(section)));
    }
    reply = reply.text(format!("进度：{}/{}\n", progress.done, progress.total));
    let last = match &subscription.last_delivery {
        None => "还没有".to_string(),
        Some(last) => {
            let result = match &last.result {
                DeliveryResult::Sent => "已发送".to_string(),
                DeliveryResult::Failed { .. } => "发送失败，稍后重试".to_string(),
                DeliveryResult::Missed => "未能发送，已超过补发时限，跳过当天".to_string(),
            };
            format!("{} {result}", last.local_date.format("%Y-%m-%d"))
        }
    };
    reply = reply.text(format!("上次发送：{last}\n"));
    if let Some(failure) = &subscription.last_failure {
        reply = reply.text(last_failure(failure, zone));
    }
    reply.text(format!(
        "订阅人：{}（{}）",
        crate::names::display_name(&subscription.subscribed_by.name),
        local_date(subscription.subscribed_at, zone).format("%Y-%m-%d")
    ))
}

/// The most recent failed attempt, for `/status`: when it was, what Telegram said,
/// and — when the bot may not write in the chat — what an administrator has to do.
fn last_failure(failure: &LastFailure, zone: chrono_tz::Tz) -> String {
    let at = format!("{}（{}）", format_local(failure.at, zone), zone.name());
    let reason = &failure.reason;
    match failure.kind {
        FailureKind::NoRights => format!(
            "问题：机器人在本群没有发消息的权限，每日学习发不出去（最近一次尝试：{at}；Telegram：{reason}）。\n\
             请群管理员在群设置中恢复机器人的“发送消息”权限（或把机器人设为管理员）。恢复后会自动继续发送，无需重新订阅。\n"
        ),
        FailureKind::Rejected => format!(
            "最近一次尝试：{at}，Telegram 拒绝了这条消息（{reason}）。之后会继续尝试，订阅保持不变。\n"
        ),
        FailureKind::Transient => {
            format!("最近一次尝试：{at}，暂时连不上 Telegram（{reason}），会自动重试。\n")
        }
        FailureKind::ChatGone => format!("最近一次尝试：{at}（{reason}）\n"),
    }
}

/// Added to `/today` in a chat that is not subscribed.
pub fn today_unsubscribed_hint() -> Reply {
    Reply::plain("想每天自动收到？发送 /subscribe 08:00。")
}

/// Replies to refused or bad input of the subscription commands.
pub mod errors {
    use crate::reply::Reply;
    use crate::schedule::{TimeError, ZoneError};

    /// A non-administrator tried to change a group setting or read the group's record;
    /// `what` says what (订阅每日学习, 修改发送时间, 查看学习台账 …). One wording for all.
    pub fn admin_only(what: &str) -> Reply {
        Reply::plain(format!(
            "只有群管理员可以{what}，这样全群的设置和记录不会被随意改动。请联系本群管理员；私聊我可以查看你自己的记录。"
        ))
    }

    /// A send time that could not be read. `command` is `/subscribe` or `/settime`.
    pub fn bad_time(command: &str, input: &str, error: TimeError) -> Reply {
        let shown: String = input.trim().chars().take(20).collect();
        let why = match error {
            TimeError::Empty => "请写上时间".to_string(),
            TimeError::Format => format!("“{shown}”不是“时:分”格式的时间"),
            TimeError::OutOfRange => format!("“{shown}”超出范围（小时 0–23，分钟 00–59）"),
        };
        Reply::plain(format!(
            "{why}。请用 24 小时制写时:分，例如：{command} 08:00 或 {command} 20:30"
        ))
    }

    /// A time zone that could not be read.
    pub fn bad_timezone(input: &str, error: ZoneError) -> Reply {
        let shown: String = input.trim().chars().take(40).collect();
        let why = match error {
            ZoneError::Empty => "请写上时区".to_string(),
            ZoneError::Unknown => format!("“{shown}”不是有效的时区名"),
        };
        Reply::plain(format!(
            "{why}。请写 IANA 时区名，例如：/timezone Asia/Shanghai 或 /timezone Europe/Berlin"
        ))
    }
}
