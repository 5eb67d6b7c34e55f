//! Texts an operator imports by sending a file to the bot: the file is imported and
//! shown with 导入 / 取消; the import waits server-side under a short token until the
//! operator decides, and on 导入 is stored, flushed and served in every chat at once.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, TimeDelta, Utc};
use rand::Rng;

use crate::app::App;
use crate::app::library::LibraryError;
use crate::messages;
use crate::reply::{IMPORT_TOKEN_LEN, Reply};
use crate::text::Document;
use crate::text::import::{self, FileKind, Imported};

/// How long an import waits for its operator's 导入 or 取消.
pub const PENDING_FOR: TimeDelta = TimeDelta::minutes(30);

/// The imports waiting for their operator's decision, by token. Each operator has at
/// most one: a new file replaces the previous one (whose buttons then answer that it
/// expired), so what is kept is bounded by the number of operators.
#[derive(Default)]
pub struct PendingImports {
    by_token: Mutex<HashMap<String, PendingImport>>,
}

/// One import waiting for 导入 or 取消.
pub(super) struct PendingImport {
    /// The operator who sent the file: only they can finish it.
    operator: u64,
    /// What the importer made of the file.
    imported: Imported,
    /// The file's name, kept as the text's source.
    source: String,
    /// When it is dropped unless finished.
    expires: DateTime<Utc>,
}

/// Whether a file name is one an operator may send: `.txt`, `.md` or `.docx`.
pub fn importable_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [".txt", ".md", ".docx"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// Texts an operator sends the bot as files.
pub struct Import<'a> {
    app: &'a App,
}

impl App {
    /// The operator's file imports.
    pub fn import(&self) -> Import<'_> {
        Import { app: self }
    }
}

impl Import<'_> {
    /// Whether `user_id` may import texts (see [`crate::config::Config::operators`]).
    pub fn is_operator(&self, user_id: u64) -> bool {
        self.app.config().is_operator(user_id)
    }

    /// An operator sent the file `name` with `bytes`: imports it and answers with what
    /// was found and the 导入 / 取消 buttons, or with why it cannot be imported. Nothing
    /// is stored yet.
    pub fn upload(&self, user_id: u64, name: &str, bytes: &[u8], now: DateTime<Utc>) -> Reply {
        if !self.is_operator(user_id) {
            return messages::import::not_an_operator(user_id);
        }
        if !importable_name(name) {
            return messages::import::wrong_kind(name);
        }
        let mut imported = match import::import(bytes, FileKind::from_name(name), name) {
            Ok(imported) => imported,
            Err(error) => {
                tracing::info!(user_id, file = name, %error, "file refused");
                return messages::import::refused(name, &error);
            }
        };
        let library = self.app.library();
        // A shipped text's id is never replaced, nor an imported one's spelled in
        // another case (`/use` reads ids without case): the import takes the next free one.
        let base = imported.document.id.clone();
        let mut suffix = 2;
        let taken = |id: &str| {
            library
                .shipped()
                .iter()
                .any(|d| d.id.eq_ignore_ascii_case(id))
                || library
                    .imported()
                    .iter()
                    .any(|d| d.id.eq_ignore_ascii_case(id) && d.id != id)
        };
        while taken(&imported.document.id) {
            imported.document.id = format!("{base}-{suffix}");
            suffix += 1;
        }
        let replaces = library
            .imported()
            .iter()
            .any(|d| d.id == imported.document.id);
        let token = new_token(&mut rand::rng());
        let reply = messages::import::preview(&imported, &token, replaces);
        let mut pending = self.app.pending_imports();
        pending.retain(|_, p| p.expires > now && p.operator != user_id);
        pending.insert(
            token,
            PendingImport {
                operator: user_id,
                imported,
                source: name.to_string(),
                expires: now + PENDING_FOR,
            },
        );
        reply
    }
}

impl App {
    /// The operator `user_id` pressed 导入 (`accept`) or 取消 under the import `token`.
    /// On 导入 the text is stored and flushed before it is confirmed, then served in
    /// every chat; a store failure is logged and answered with "try again" (the import
    /// stays pending, so the button can be pressed again). An unknown, finished,
    /// expired or another's token is `Err`, shown as a notice, changing nothing.
    pub(super) fn finish_import(
        &self,
        user_id: u64,
        token: &str,
        accept: bool,
        now: DateTime<Utc>,
    ) -> Result<Reply, Reply> {
        // Held to the end: imports are finished one at a time, so two cannot each
        // replace the library with their own and lose the other's.
        let mut pending = self.pending_imports();
        pending.retain(|_, p| p.expires > now);
        match pending.get(token) {
            Some(import) if import.operator == user_id => {}
            _ => return Err(messages::import::expired()),
        }
        if !accept {
            pending.remove(token);
            return Ok(messages::import::cancelled());
        }
        let import = &pending[token];
        let library = self.library();
        let replaced = library
            .imported()
            .iter()
            .any(|d| d.id == import.imported.document.id);
        let stored = library
            .store_import(self.store(), &import.imported, &import.source, true, now)
            .and_then(|document| {
                self.store()
                    .flush()
                    .map(|()| document)
                    .map_err(LibraryError::from)
            });
        let document = match stored {
            Ok(document) => document,
            Err(error) => {
                tracing::error!(user_id, document = %import.imported.document.id, %error, "cannot store the imported text");
                return Ok(messages::import::storage_failed());
            }
        };
        pending.remove(token);
        if let Some(previous) = library.document(&document.id) {
            // Groups reading the text keep their place by section, not by count.
            let moved = self.store().reposition_readers(&document.id, |position| {
                same_place(previous, &document, position)
            });
            if let Err(error) = moved.and_then(|_| self.store().flush()) {
                tracing::error!(user_id, document = %document.id, %error, "cannot move the readers of the new version");
            }
        }
        tracing::info!(user_id, document = %document.id, replaced, "text imported");
        let reply = messages::import::imported(
            &document.id,
            &document.title,
            document.sections.len(),
            replaced,
        );
        self.replace_library(library.with_imported(document));
        Ok(reply)
    }

    pub(super) fn pending_imports(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, PendingImport>> {
        self.inner
            .pending_imports
            .by_token
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }
}

/// Where a chat that has received `position` excerpts of `previous` stands in `next`, a
/// new version of the same text: at the same section in the same round, or, when the
/// new version lacks that section, at the same index (within the text).
pub fn same_place(previous: &Document, next: &Document, position: usize) -> usize {
    let (old_len, new_len) = (previous.sections.len().max(1), next.sections.len().max(1));
    let (round, index) = (position / old_len, position % old_len);
    let at = previous
        .sections
        .get(index)
        .and_then(|section| next.position(section.id))
        .unwrap_or(index.min(new_len - 1));
    round * new_len + at
}

/// A fresh token: [`IMPORT_TOKEN_LEN`] random ASCII letters and digits.
fn new_token(rng: &mut impl Rng) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    (0..IMPORT_TOKEN_LEN)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;
    use crate::app::library::Library;
    use crate::config::Config;
    use crate::reply::Action;
    use crate::store::MemoryBackend;
    use crate::store::{Backend, Entry, Store, StoreError, StoreResult, Updater};
    use crate::text::parse_document;

    /// A memory store whose flush fails while `failing` is set (a full disk).
    #[derive(Default)]
    struct FlakyDisk {
        memory: MemoryBackend,
        failing: AtomicBool,
    }

    impl Backend for FlakyDisk {
        fn get(&self, tree: &str, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
            self.memory.get(tree, key)
        }
        fn insert(&self, tree: &str, key: &[u8], value: &[u8]) -> StoreResult<()> {
            self.memory.insert(tree, key, value)
        }
        fn remove(&self, tree: &str, key: &[u8]) -> StoreResult<()> {
            self.memory.remove(tree, key)
        }
        fn update(
            &self,
            tree: &str,
            key: &[u8],
            f: &mut Updater<'_>,
        ) -> StoreResult<Option<Vec<u8>>> {
            self.memory.update(tree, key, f)
        }
        fn scan(
            &self,
            tree: &str,
            start: &[u8],
            end: Option<&[u8]>,
            limit: usize,
        ) -> StoreResult<Vec<Entry>> {
            self.memory.scan(tree, start, end, limit)
        }
        fn flush(&self) -> StoreResult<()> {
            if self.failing.load(Ordering::SeqCst) {
                return Err(StoreError::Database("No space left on device".into()));
            }
            self.memory.flush()
        }
        fn tree_names(&self) -> StoreResult<Vec<String>> {
            self.memory.tree_names()
        }
    }

    const OPERATOR: u64 = 42;
    const REPORT: &[u8] = "工作报告\n一、回顾\n去年很好。\n二、任务\n今年更好。\n".as_bytes();

    fn app(backend: Arc<FlakyDisk>) -> App {
        let store = Store::with_backend(backend).unwrap();
        let document = parse_document("xzsj.md", include_str!("../../data/texts/xzsj.md")).unwrap();
        let (library, _) = Library::from_documents(vec![(document, 1)], &store).unwrap();
        let config = Config {
            operators: vec![OPERATOR],
            ..Config::default()
        };
        App::new(library, store, config)
    }

    /// The token on a preview's 导入 button.
    fn token_of(reply: &Reply) -> String {
        match &reply.buttons[0][0].action {
            Action::Import { token, .. } => token.clone(),
            other => panic!("not an import button: {other:?}"),
        }
    }

    #[test]
    fn an_import_is_confirmed_only_once_durable_and_then_served() {
        let disk = Arc::new(FlakyDisk::default());
        let app = app(disk.clone());
        let now = Utc::now();
        let preview = app.import().upload(OPERATOR, "report.txt", REPORT, now);
        let token = token_of(&preview);
        assert_eq!(token.len(), IMPORT_TOKEN_LEN);

        disk.failing.store(true, Ordering::SeqCst);
        let failed = app.finish_import(OPERATOR, &token, true, now).unwrap();
        assert_eq!(failed.plain_text(), "暂时无法保存，请稍后再试。");
        assert!(app.library().document("report").is_none());

        // The import is still pending: pressing again once the disk is back works.
        disk.failing.store(false, Ordering::SeqCst);
        let done = app.finish_import(OPERATOR, &token, true, now).unwrap();
        assert!(
            done.plain_text().starts_with("已导入《工作报告》"),
            "{}",
            done.plain_text()
        );
        assert!(app.library().document("report").is_some());
        assert_eq!(app.library().default_document().id, "xzsj");
        assert!(app.finish_import(OPERATOR, &token, true, now).is_err());
    }

    #[test]
    fn a_pending_import_is_its_operators_and_expires() {
        let app = app(Arc::default());
        let now = Utc::now();
        let token = token_of(&app.import().upload(OPERATOR, "report.txt", REPORT, now));
        assert!(
            app.finish_import(7, &token, true, now).is_err(),
            "another user"
        );
        assert!(
            app.finish_import(OPERATOR, &token, true, now + PENDING_FOR)
                .is_err(),
            "expired"
        );
        // A second file replaces the operator's first pending import.
        let first = token_of(&app.import().upload(OPERATOR, "report.txt", REPORT, now));
        let second = token_of(&app.import().upload(OPERATOR, "report.txt", REPORT, now));
        assert!(app.finish_import(OPERATOR, &first, true, now).is_err());
        assert!(app.finish_import(OPERATOR, &second, false, now).is_ok());
        assert!(app.library().document("report").is_none(), "cancelled");
        // A file named like a shipped text gets the next free id.
        let preview = app.import().upload(OPERATOR, "xzsj.txt", REPORT, now);
        assert!(
            preview.plain_text().contains("编号 xzsj-2；"),
            "{}",
            preview.plain_text()
        );
        let refused = app.import().upload(7, "report.txt", REPORT, now);
        assert!(refused.buttons.is_empty());
        assert!(refused.plain_text().contains("只有本机器人的操作员"));
    }
}
