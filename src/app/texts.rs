//! `/use`: which text a chat studies ([`App::chat_document`]) and switching it, kept
//! apart from the library itself ([`super::library`], which knows nothing of the app).

use std::sync::Arc;

use crate::app::library::Library;
use crate::app::{App, AppError, ChatContext};
use crate::messages;
use crate::messages::daily::errors;
use crate::plan::ReadingPlan;
use crate::reply::Reply;
use crate::schedule::Subscription;
use crate::store::ChatText;
use crate::text::Document;

impl App {
    /// The text chat `chat_id` studies, the one rule for every feature: the text of its
    /// daily excerpt when its `subscription` is given, else its `/use` choice; the default
    /// text when that text is no longer served or the store cannot be read (logged).
    pub(super) fn chat_document(
        &self,
        chat_id: i64,
        subscription: Option<&Subscription>,
    ) -> Arc<Document> {
        let library = self.library();
        if let Some(subscription) = subscription {
            return library
                .document(&subscription.document)
                .unwrap_or_else(|| library.default_document())
                .clone();
        }
        let chosen = match self.store().chat_text(chat_id) {
            Ok(choice) => choice,
            Err(error) => {
                tracing::error!(chat_id, %error, "cannot read the chat's text; serving the default");
                None
            }
        };
        chosen
            .and_then(|choice| library.document(&choice.document).cloned())
            .unwrap_or_else(|| library.default_document().clone())
    }

    /// `/use <number or id>`: the chat studies that text from now on (admins in groups).
    /// Where the chat's daily excerpt stood in the text it leaves is kept by section id,
    /// and switching back resumes there. Without an argument: which text it studies.
    pub(super) fn use_text(&self, chat: &ChatContext, argument: Option<&str>) -> Reply {
        let current = self.chat_document(chat.chat_id, None);
        let Some(argument) = argument else {
            return messages::texts::current(&current);
        };
        if !chat.is_admin {
            return errors::admin_only("更换本群学习的文本");
        }
        let library = self.library();
        let Some(chosen) = find_text(&library, argument) else {
            return messages::texts::unknown(argument, library.documents().len());
        };
        if chosen.id == current.id {
            return messages::texts::current(&current);
        }
        let stored = self
            .store()
            .subscription(chat.chat_id)
            .and_then(|subscription| Ok((subscription, self.store().chat_text(chat.chat_id)?)));
        let (subscription, choice) = match stored {
            Ok(stored) => stored,
            Err(error) => return AppError::from(error).reply(chat.chat_id),
        };
        let mut choice = choice.unwrap_or_else(|| ChatText {
            chat_id: chat.chat_id,
            document: current.id.clone(),
            left_at: Default::default(),
        });
        if let Some(next) = subscription
            .as_ref()
            .and_then(|s| ReadingPlan::new(&current).section(s.position))
        {
            choice.left_at.insert(current.id.clone(), next.id);
        }
        choice.document = chosen.id.clone();
        let resumed = choice
            .left_at
            .remove(&chosen.id)
            .and_then(|id| chosen.section(id))
            .filter(|_| subscription.is_some());
        let position = resumed.and_then(|s| chosen.position(s.id)).unwrap_or(0);
        if let Err(error) = self.store().set_chat_text(&choice, position) {
            return AppError::from(error).reply(chat.chat_id);
        }
        tracing::info!(chat_id = chat.chat_id, document = %chosen.id, position, "chat switched text");
        messages::texts::switched(chosen, resumed)
    }
}

/// The text `/use` names: its number in `/docs` (1-based, full-width digits too) or its id.
fn find_text<'a>(library: &'a Library, argument: &str) -> Option<&'a Arc<Document>> {
    let folded = crate::text::fold::fold(argument);
    if !folded.is_empty() && folded.len() <= 3 && folded.bytes().all(|b| b.is_ascii_digit()) {
        let number: usize = folded.parse().ok()?;
        return library.documents().get(number.checked_sub(1)?);
    }
    // The exact id first: a text imported before ids were compared without case may
    // have a twin (`XZSJ` beside `xzsj`), and each stays reachable by its own spelling.
    let documents = library.documents().iter();
    documents.clone().find(|d| d.id == argument).or_else(|| {
        documents
            .clone()
            .find(|d| d.id.eq_ignore_ascii_case(argument))
    })
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::app::ChatKind;
    use crate::command;
    use crate::config::Config;
    use crate::store::Store;
    use crate::text::parse_document;

    const REPORT: &str = "---\nid: zr\ntitle: 报告\n---\n# 1 回顾 [full]\n去年很好。\n## 1.1 经济 [full]\n增长。\n# 2 任务 [full]\n今年更好。\n";

    fn app() -> App {
        let store = Store::in_memory();
        let speech = parse_document("xzsj.md", include_str!("../../data/texts/xzsj.md")).unwrap();
        let report = parse_document("r.md", REPORT).unwrap();
        let (library, _) = Library::from_documents(vec![(speech, 1), (report, 2)], &store).unwrap();
        App::new(library, store, Config::default())
    }

    fn say(app: &App, is_admin: bool, input: &str) -> String {
        let chat = ChatContext {
            chat_id: -100,
            kind: ChatKind::Group,
            user_id: 1,
            user_name: "Ann".into(),
            is_admin,
            topic: None,
        };
        app.handle(&chat, command::parse(input, None), Utc::now())
            .iter()
            .map(Reply::plain_text)
            .collect()
    }

    #[test]
    fn switching_back_resumes_where_the_group_was() {
        let app = app();
        say(&app, true, "/subscribe 08:00");
        // The group has read three sections of the speech: 1.2 comes next.
        app.store().reposition_readers("xzsj", |_| 3).unwrap();

        assert!(say(&app, false, "/use 2").starts_with("只有群管理员可以更换本群学习的文本"));
        let switched = say(&app, true, "/use 2");
        assert!(
            switched.starts_with("本群现在学习《报告》（编号 zr）。"),
            "{switched}"
        );
        assert!(!switched.contains("继续"), "{switched}");
        let reading = app.store().subscription(-100).unwrap().unwrap();
        assert_eq!((reading.document.as_str(), reading.position), ("zr", 0));
        assert!(say(&app, false, "/outline").contains("回顾"));
        assert!(say(&app, false, "/status").contains("学习文本：《报告》"));

        let back = say(&app, true, "/use xzsj");
        assert!(back.contains("每日学习从上次读到的 1.2"), "{back}");
        let reading = app.store().subscription(-100).unwrap().unwrap();
        assert_eq!((reading.document.as_str(), reading.position), ("xzsj", 3));
        assert!(say(&app, true, "/use １").starts_with("本群正在学习《在全市"));
        assert!(say(&app, false, "/use").starts_with("本群正在学习"));
        assert!(say(&app, true, "/use 3").starts_with("没有序号或编号为“3”的文本：现有 2 篇"));
        assert!(say(&app, true, "/use 0").starts_with("没有序号或编号为“0”的文本"));
    }

    #[test]
    fn use_takes_the_exact_id_before_a_twin_in_another_case() {
        // Two texts whose ids differ only in case (one imported before ids were compared
        // without case): each is reached by its own spelling.
        let store = Store::in_memory();
        let lower = parse_document("a.md", REPORT).unwrap();
        let upper = parse_document("b.md", &REPORT.replace("id: zr", "id: ZR")).unwrap();
        let (library, _) = Library::from_documents(vec![(lower, 1), (upper, 2)], &store).unwrap();
        assert_eq!(find_text(&library, "zr").unwrap().id, "zr");
        assert_eq!(find_text(&library, "ZR").unwrap().id, "ZR");
        assert_eq!(find_text(&library, "Zr").unwrap().id, "ZR");
    }
}
