//! What the operator's commands do inside a running bot (`studybot status`, `import`,
//! `export` and the scheduled backups; `record` is [`Record::write`](crate::app::record::Record::write)): the control
//! socket ([`crate::control`]) carries them here, so they work the same whether the bot
//! runs or not.

use std::collections::BTreeSet;
use std::fmt;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::app::import::same_place;
use crate::app::library::{LibraryError, valid_id};
use crate::store::{SCHEMA_VERSION, Store, StoreError, StoreResult, backup, trees};
use crate::text::import::{self, FileKind};

/// What `studybot status` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// Chats with any state (a subscription, a chosen text, a roster, settings).
    pub chats: usize,
    /// Daily-excerpt subscriptions, active or not.
    pub subscriptions: usize,
    /// Of those, the active ones (in the due index).
    pub active_subscriptions: usize,
    /// Texts served: shipped and imported.
    pub texts: usize,
    /// Study-record check-ins kept.
    pub check_ins: usize,
    /// When the running bot's delivery task last finished a pass; `None` if it has not
    /// yet, or the bot is not running.
    pub last_delivery_pass: Option<DateTime<Utc>>,
    /// The delivery queue's depth: daily excerpts due by now and not yet sent (a few
    /// while a pass runs; more means deliveries are late).
    pub queue_depth: usize,
    /// Whether a running bot answered (rather than the command reading the database).
    pub running: bool,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "机器人：{}",
            if self.running {
                "运行中"
            } else {
                "未运行（直接读取数据库）"
            }
        )?;
        writeln!(f, "群组/对话：{}", self.chats)?;
        writeln!(
            f,
            "每日订阅：{}（其中有效 {}）",
            self.subscriptions, self.active_subscriptions
        )?;
        writeln!(f, "文本：{}", self.texts)?;
        writeln!(f, "学习打卡记录：{}", self.check_ins)?;
        match (self.running, self.last_delivery_pass) {
            (false, _) => writeln!(f, "上次推送：—（机器人未运行）")?,
            (true, None) => writeln!(f, "上次推送：启动后尚未运行")?,
            (true, Some(at)) => writeln!(f, "上次推送：{}", at.to_rfc3339())?,
        }
        writeln!(f, "已到时间尚未发出的每日推送：{}", self.queue_depth)
    }
}

/// What one backup holds and took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupFigures {
    /// Entries written.
    pub entries: usize,
    /// Non-empty trees written.
    pub trees: usize,
    /// Bytes written.
    pub bytes: u64,
}

/// The delivery task's last finished pass, as milliseconds since the epoch (0: none).
#[derive(Debug, Default)]
pub struct LastPass(AtomicI64);

/// The operator's side: status, imports and backups in the running bot, the delivery
/// task's bookkeeping, and the store's health.
pub struct Ops<'a> {
    app: &'a App,
}

impl App {
    /// The operator's side of the app.
    pub fn ops(&self) -> Ops<'_> {
        Ops { app: self }
    }
}

impl Ops<'_> {
    /// Writes what the store holds to disk: `/healthz`'s write check, and the last step
    /// before the process exits.
    pub fn flush(&self) -> StoreResult<()> {
        self.app.store().flush()
    }

    /// Resolves at the next [`App::deliveries_changed`], or at once if one came since
    /// the last wait: a change made while the task was busy with a pass is not lost.
    pub async fn wait_for_deliveries_change(self) {
        self.app.inner.deliveries_changed.notified().await;
    }

    /// The counts `studybot status` shows; `running` and the transport's figures are
    /// filled in by the caller.
    pub fn status(&self, now: DateTime<Utc>) -> StoreResult<Status> {
        let store = self.app.store();
        let mut chats = BTreeSet::new();
        for tree in [
            trees::SUBSCRIPTIONS,
            trees::CHAT_TEXTS,
            trees::QUIZ_SETTINGS,
            trees::REPORT_SETTINGS,
            trees::WEEKLY_TESTS,
            trees::MEMBERS,
        ] {
            each_key(store, tree, |key| {
                if let Some(chat) = key.get(..8) {
                    chats.insert(chat.to_vec());
                }
            })?;
        }
        Ok(Status {
            chats: chats.len(),
            subscriptions: count(store, trees::SUBSCRIPTIONS)?,
            active_subscriptions: count(store, trees::DUE_INDEX)?,
            texts: self.app.library().documents().len(),
            check_ins: count(store, trees::CHECK_INS)?,
            last_delivery_pass: self.last_delivery_pass(),
            queue_depth: count_below(
                store,
                trees::DUE_INDEX,
                &(now.timestamp().max(0) as u64 + 1).to_be_bytes(),
            )?,
            running: false,
        })
    }

    /// Records that the delivery task finished a pass at `now` (for `studybot status`).
    pub fn delivery_pass_finished(&self, now: DateTime<Utc>) {
        self.app
            .last_pass()
            .0
            .store(now.timestamp_millis(), Ordering::Relaxed);
    }

    /// When the delivery task last finished a pass in this process.
    pub fn last_delivery_pass(&self) -> Option<DateTime<Utc>> {
        match self.app.last_pass().0.load(Ordering::Relaxed) {
            0 => None,
            millis => DateTime::from_timestamp_millis(millis),
        }
    }

    /// `studybot import` in the running bot: imports `bytes` (the file `name`) under `id`
    /// (default: from the name), stores and flushes it, and serves it in every chat at
    /// once. Returns the importer's summary and the outcome, in Chinese; a refusal is
    /// `Err` with the reason.
    pub fn import_text(
        &self,
        bytes: &[u8],
        name: &str,
        id: Option<String>,
        replace: bool,
        now: DateTime<Utc>,
    ) -> Result<String, String> {
        let refused = |reason: &dyn fmt::Display| format!("无法导入 {name}：{reason}");
        if let Some(id) = id.as_ref().filter(|id| !valid_id(id)) {
            return Err(refused(&LibraryError::BadId(id.clone())));
        }
        let mut imported =
            import::import(bytes, FileKind::from_name(name), name).map_err(|e| refused(&e))?;
        if let Some(id) = id {
            imported.document.id = id;
        }
        // Held to the end, like an operator's upload: two imports cannot each replace
        // the library with their own and lose the other's.
        let _imports = self.app.pending_imports();
        let library = self.app.library();
        let document = library
            .store_import(self.app.store(), &imported, name, replace, now)
            .and_then(|document| {
                self.app
                    .store()
                    .flush()
                    .map(|()| document)
                    .map_err(LibraryError::from)
            })
            .map_err(|e| refused(&e))?;
        if let Some(previous) = library.document(&document.id) {
            // Groups reading the text keep their place by section in the new version.
            let moved = self
                .app
                .store()
                .reposition_readers(&document.id, |position| {
                    same_place(previous, &document, position)
                });
            if let Err(error) = moved.and_then(|_| self.app.store().flush()) {
                tracing::error!(document = %document.id, %error, "cannot move the readers of the new version");
            }
        }
        tracing::info!(document = %document.id, source = name, "text imported by studybot import");
        let reply = format!(
            "{}\n已导入：编号 {}，{} 个部分，由运行中的机器人存入数据库，各群现在即可 /use {}。\n",
            import::summary(&imported),
            document.id,
            document.parts().count(),
            document.id,
        );
        self.app
            .replace_library(self.app.library().with_imported(document));
        Ok(reply)
    }

    /// Writes a backup of the store as of one instant to `out` while the bot goes on
    /// answering (see [`Store::snapshot`]). Run it on a blocking thread.
    pub fn write_backup(&self, out: &mut dyn Write) -> StoreResult<BackupFigures> {
        write_backup(self.app.store(), out)
    }

    /// A scheduled backup: written to a temporary file in `dir`, synced, then renamed to
    /// `studybot-<UTC instant>.json`; then all but the newest `keep` are deleted. Returns
    /// the file, what it holds and how long it took. Run it on a blocking thread.
    pub fn scheduled_backup(
        &self,
        dir: &Path,
        keep: usize,
        now: DateTime<Utc>,
    ) -> std::io::Result<(PathBuf, BackupFigures, Duration)> {
        let started = Instant::now();
        std::fs::create_dir_all(dir)?;
        // A backup cut short by a stop or a crash left its temporary file: never a backup.
        for entry in std::fs::read_dir(dir)?.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(&format!(".{BACKUP_PREFIX}")) && name.ends_with(".tmp") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        let name = format!("{BACKUP_PREFIX}{}.json", now.format("%Y%m%dT%H%M%S%.3fZ"));
        let path = dir.join(&name);
        let temporary = dir.join(format!(".{name}.tmp"));
        let written = (|| {
            // Readable by the bot's user only: a backup holds chat ids and names.
            let file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&temporary)?;
            let mut file = std::io::BufWriter::new(file);
            let figures = self
                .app
                .ops()
                .write_backup(&mut file)
                .map_err(std::io::Error::other)?;
            file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            std::fs::rename(&temporary, &path)?;
            // The rename is durable once the directory is.
            std::fs::File::open(dir)?.sync_all()?;
            Ok(figures)
        })();
        let figures = match written {
            Ok(figures) => figures,
            Err(error) => {
                let _ = std::fs::remove_file(&temporary);
                return Err(error);
            }
        };
        for old in backups_in(dir)?.into_iter().rev().skip(keep) {
            if let Err(error) = std::fs::remove_file(&old) {
                tracing::warn!(path = %old.display(), %error, "cannot delete an old backup");
            }
        }
        Ok((path, figures, started.elapsed()))
    }
}

impl App {
    fn last_pass(&self) -> &LastPass {
        &self.inner.last_pass
    }
}

/// The name every scheduled backup starts with.
pub const BACKUP_PREFIX: &str = "studybot-";

/// The scheduled backups in `dir`, oldest first (their names sort by instant).
pub fn backups_in(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(BACKUP_PREFIX) && name.ends_with(".json") {
            found.push(dir.join(name.as_ref()));
        }
    }
    found.sort();
    Ok(found)
}

/// Writes a backup of `store` as of one instant to `out`: the one export path of the
/// running bot (socket and schedule). It streams ([`backup::export_to`], one entry at a
/// time) from a snapshot, so the bot keeps writing meanwhile and the backup is consistent.
pub fn write_backup(store: &Store, out: &mut dyn Write) -> StoreResult<BackupFigures> {
    let snapshot = store.snapshot();
    let mut counted = Counted { out, bytes: 0 };
    let summary = backup::export_to(&snapshot, &mut counted)?;
    drop(snapshot);
    counted
        .flush()
        .map_err(|error| StoreError::Database(format!("cannot write the backup: {error}")))?;
    Ok(BackupFigures {
        entries: summary.entries,
        trees: summary.trees,
        bytes: counted.bytes,
    })
}

/// A writer that counts what passes through it.
struct Counted<'a> {
    out: &'a mut dyn Write,
    bytes: u64,
}

impl Write for Counted<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// What `studybot verify-backup` found in a backup file: every check `import-state` makes
/// (read through once, one entry at a time), then its schema version and each tree's
/// entries, in Chinese. `shipped` are the ids of the texts in `data/`.
pub fn verify_backup(path: &Path, shipped: &[String]) -> Result<String, String> {
    let checked = backup::verify_file(path, shipped)
        .map_err(|e| format!("备份 {} 有误：{e}", path.display()))?;
    let mut per_tree: Vec<(String, usize)> = Vec::new();
    let file =
        std::fs::File::open(path).map_err(|e| format!("无法读取备份 {}：{e}", path.display()))?;
    backup::read_through(std::io::BufReader::new(file), |item| {
        match item {
            backup::BackupItem::Tree(name) => per_tree.push((name.to_string(), 0)),
            backup::BackupItem::Entry { .. } => {
                if let Some((_, n)) = per_tree.last_mut() {
                    *n += 1;
                }
            }
            backup::BackupItem::Header(_) => {}
        }
        Ok(())
    })
    .map_err(|e| format!("无法读取备份 {}：{e}", path.display()))?;
    let header = &checked.summary.header;
    let mut text = format!(
        "备份 {} 完好：数据结构版本 {}（本程序为 {SCHEMA_VERSION}），导出于 {}，由 studybot {} 写入。\n共 {} 个集合、{} 条记录：\n",
        path.display(),
        header.schema_version,
        header.exported_at.to_rfc3339(),
        if header.studybot_version.is_empty() {
            "?"
        } else {
            &header.studybot_version
        },
        checked.summary.trees,
        checked.summary.entries,
    );
    for (tree, entries) in &per_tree {
        text.push_str(&format!("  {tree}: {entries}\n"));
    }
    Ok(text)
}

/// How many entries `tree` holds, read a page at a time.
fn count(store: &Store, tree: &str) -> StoreResult<usize> {
    let mut n = 0;
    each_key(store, tree, |_| n += 1)?;
    Ok(n)
}

/// How many keys of `tree` sort before `end` (the due index's keys start with their
/// instant, so these are the entries due by then).
fn count_below(store: &Store, tree: &str, end: &[u8]) -> StoreResult<usize> {
    let mut n = 0;
    each_key_below(store, tree, Some(end), |_| n += 1)?;
    Ok(n)
}

/// Calls `f` with every key of `tree`, in order, a page at a time.
fn each_key(store: &Store, tree: &str, f: impl FnMut(&[u8])) -> StoreResult<()> {
    each_key_below(store, tree, None, f)
}

fn each_key_below(
    store: &Store,
    tree: &str,
    end: Option<&[u8]>,
    mut f: impl FnMut(&[u8]),
) -> StoreResult<()> {
    const PAGE: usize = 1024;
    let mut from = Vec::new();
    loop {
        let page = store.backend().scan(tree, &from, end, PAGE)?;
        for (key, _) in &page {
            f(key);
        }
        match page.last() {
            Some((key, _)) if page.len() == PAGE => {
                from = key.clone();
                from.push(0);
            }
            _ => return Ok(()),
        }
    }
}
