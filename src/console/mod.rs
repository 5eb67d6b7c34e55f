//! The offline console: one command per line on stdin, the replies on stdout, worded
//! exactly as on Telegram. The console chat counts as a private chat. A quiz runs here
//! too: each question is printed and the next line answers it.

pub mod answer;
pub mod quiz;
pub mod review;

use std::io::{BufRead, Write};

use crate::app::{App, ChatContext, ChatKind};
use crate::command;
use crate::console::quiz::ConsoleQuiz;
use crate::console::review::ConsoleReview;
use crate::reply::{MESSAGE_LIMIT, Reply};

/// The chat id the console uses in the store.
pub const CONSOLE_CHAT_ID: i64 = 1;

/// Reads commands until EOF and writes the replies, a blank line between replies.
pub fn run(app: &App, input: impl BufRead, mut output: impl Write) -> std::io::Result<()> {
    let chat = ChatContext {
        chat_id: CONSOLE_CHAT_ID,
        kind: ChatKind::Private,
        user_id: CONSOLE_CHAT_ID as u64,
        user_name: "console".into(),
        is_admin: true,
        topic: None,
    };
    let mut quiz = ConsoleQuiz::default();
    let mut review = ConsoleReview::default();
    // A quiz question and a review card can both wait (`/review` during a quiz): a bare
    // answer goes to the one printed last, and when that one is done the other is
    // printed again, so the user always answers the question just above.
    let mut focus = Focus::Quiz;
    for line in input.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let now = chrono::Utc::now();
        // While a question waits, a line that is not a command answers it.
        let is_command = line.trim_start().starts_with('/');
        let to_review = review.is_waiting() && (focus == Focus::Review || !quiz.is_waiting());
        let replies = if is_command || !(quiz.is_waiting() || review.is_waiting()) {
            let (quiz_was, review_was) = (quiz.is_waiting(), review.is_waiting());
            let mut replies = app.handle(&chat, command::parse(&line, None), now);
            replies.extend(quiz.after_command(app, &chat, now));
            replies.extend(review.advance(app, &chat, now));
            if review.is_waiting() && !review_was {
                focus = Focus::Review;
            } else if quiz.is_waiting() && !quiz_was {
                focus = Focus::Quiz;
            }
            replies
        } else if to_review {
            let mut replies = review.answer(app, &chat, &line, now);
            if !review.is_waiting() && quiz.is_waiting() {
                focus = Focus::Quiz;
                replies.extend(quiz.repeat());
            }
            replies
        } else {
            let mut replies = quiz.answer(app, &chat, &line, now);
            if !quiz.is_waiting() && review.is_waiting() {
                focus = Focus::Review;
                replies.extend(review.repeat());
            }
            replies
        };
        for reply in replies.iter().flat_map(|reply| reply.split(MESSAGE_LIMIT)) {
            write_reply(&mut output, &reply)?;
        }
        output.flush()?;
    }
    Ok(())
}

/// Which waiting question a bare answer goes to when both a quiz and a review wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Focus {
    Quiz,
    Review,
}

fn write_reply(output: &mut impl Write, reply: &Reply) -> std::io::Result<()> {
    writeln!(output, "{}", reply.plain_text())?;
    for row in &reply.buttons {
        let labels: Vec<String> = row.iter().map(|b| format!("[{}]", b.label)).collect();
        writeln!(output, "{}", labels.join(" "))?;
    }
    writeln!(output)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::library::Library;
    use crate::config::Config;
    use crate::store::Store;
    use crate::text::parse_document;

    /// Issue 19 item 16: the console shows a long section a page at a time too, and the
    /// page's last line is the command that reads on.
    #[test]
    fn the_console_reads_a_long_section_page_by_page() {
        let body = "很长的一句话。".repeat(20_000);
        let source = format!(
            "---\nid: long\ntitle: 长文本\n---\n# 0 开场 [full]\n{body}\n# 1 工作回顾 [full]\n去年很好。\n"
        );
        let document = parse_document("long.md", &source).unwrap();
        let store = Store::in_memory();
        let (library, _) = Library::from_documents(vec![(document, 1)], &store).unwrap();
        let app = App::new(library, store, Config::default());
        let mut output = Vec::new();
        run(
            &app,
            "/section 0\n/section 0 第 2 页\n".as_bytes(),
            &mut output,
        )
        .unwrap();
        let output = String::from_utf8(output).unwrap();
        assert_eq!(
            output.matches("第 1/").count(),
            1,
            "one page, not the whole section"
        );
        let count: usize = output
            .split("第 1/")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        assert!(count > 30, "{count}");
        assert!(output.contains("下一页：/section 0 第 2 页\n[第 2 页 ▶]"));
        assert!(output.contains(&format!("第 2/{count} 页")));
        assert!(output.contains("下一页：/section 0 第 3 页\n[◀ 第 1 页] [第 3 页 ▶]"));
    }
}
