//! Backups and durability through the real binary: a backup (`studybot export`, then
//! `import-state` into a fresh database) loses nothing, and `import-state` and `export`
//! explain what is wrong; what a user was told was saved stays saved ([`durability`]:
//! a SIGKILL right after a confirmation, a full disk, a damaged database, a group's
//! migration to a supergroup, bad backups).

#[path = "../common/subscription.rs"]
mod subscription;

mod durability;
mod streaming;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command as Process, Output};

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

use studybot::app::library::Library;
use studybot::app::{App, ChatContext, ChatKind};
use studybot::command::{self};
use studybot::config::Config;
use studybot::quiz::QuestionKey;
use studybot::schedule::{Subscriber, Subscription};
use studybot::store::{Entry, PollTarget, Store, SyncOutcome};
use studybot::text::SectionId;

use harness::{Studybot, Workspace, root};

/// The binary under test (cargo names it only to this package's own tests).
const STUDYBOT: Studybot = Studybot::at(env!("CARGO_BIN_EXE_studybot"));

/// Runs the real `studybot --config <workspace config> <args>`.
fn studybot(workspace: &Workspace, args: &[&str]) -> Output {
    Process::new(STUDYBOT.path())
        .arg("--config")
        .arg(workspace.config())
        .args(args)
        .env_remove("STUDYBOT_DB")
        .env_remove("STUDYBOT_DATA")
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&Utc)
}

/// Every non-empty tree of the database at `path`, entry by entry, read straight from
/// the backend.
fn contents(path: &Path) -> BTreeMap<String, Vec<Entry>> {
    let store = Store::open(path).unwrap();
    let backend = store.backend();
    backend
        .tree_names()
        .unwrap()
        .into_iter()
        .map(|name| {
            let entries = backend.scan(&name, &[], None, usize::MAX).unwrap();
            (name, entries)
        })
        .filter(|(_, entries)| !entries.is_empty())
        .collect()
}

/// Fills the workspace's database the way a season of use would: the texts, three
/// subscriptions (one of them delivered to, one kicked the bot out), a running quiz and
/// its poll, a score, a daily-question setting, a migrated group.
fn season_of_use(workspace: &Workspace) {
    let store = Store::open(&workspace.db()).unwrap();
    let (library, _) = Library::load(&root().join("data"), &store).unwrap();
    let now = at("2026-05-01T04:00:00Z");
    let eight = NaiveTime::from_hms_opt(8, 0, 0).unwrap();
    for (chat_id, user_id) in [(-1001_i64, 11_u64), (-1002, 12), (42, 42)] {
        let subscriber = Subscriber {
            user_id,
            name: format!("读者{user_id}"),
        };
        let fresh = Subscription::new(
            chat_id,
            "xzsj",
            eight,
            chrono_tz::Asia::Shanghai,
            subscriber,
            now,
        );
        store.subscribe(fresh, None, now).unwrap();
    }
    let may_2 = NaiveDate::from_ymd_opt(2026, 5, 2).unwrap();
    let sent_at = at("2026-05-02T00:00:05Z");
    assert!(
        store
            .mark_intended(-1001, may_2, SectionId::OPENING, sent_at)
            .unwrap()
    );
    store
        .mark_sent(-1001, may_2, SectionId::OPENING, &[501, 502], sent_at)
        .unwrap();
    store
        .mark_intended(-1002, may_2, SectionId::OPENING, sent_at)
        .unwrap();
    store
        .mark_failed_permanently(
            -1002,
            may_2,
            SectionId::OPENING,
            "Forbidden: bot was kicked",
            sent_at,
        )
        .unwrap();
    store
        .mark_chat_inactive(-1002, "Forbidden: bot was kicked", sent_at)
        .unwrap();
    store.mark_chat_migrated(-77, -1001, sent_at).unwrap();
    store
        .update_score(-1001, 11, |score| {
            score.record("title:1.1", "读者11", 1, true, may_2);
            score.record("title:2.2", "读者11", 2, false, may_2);
        })
        .unwrap();
    store.set_daily_quiz_setting(-1001, true).unwrap();
    // A personal review card (a deck is stored as binary: hex in the backup).
    let card = studybot::review::record(None, SectionId::point(2, 2), false, sent_at);
    store
        .update_review_card(11, "xzsj", 77, |_| card.clone())
        .unwrap();
    store
        .put_poll_target(
            "5210987654321",
            &PollTarget::Quiz(QuestionKey {
                chat_id: -1001,
                quiz_id: 9,
                index: 0,
            }),
        )
        .unwrap();
    let app = App::new(library, store.clone(), Config::default());
    let chat = ChatContext {
        chat_id: -1001,
        kind: ChatKind::Group,
        user_id: 11,
        user_name: "读者11".into(),
        is_admin: true,
        topic: None,
    };
    app.handle(&chat, command::parse("/quiz 3", None), sent_at);
    assert!(store.quiz_session(-1001).unwrap().is_some());
    store.flush().unwrap();
}

#[test]
fn export_then_import_state_loses_nothing() {
    let source = Workspace::new("");
    season_of_use(&source);
    let original = contents(&source.db());
    for tree in [
        "meta",
        "sections",
        "subscriptions",
        "due_index",
        "ledger",
        "chats",
        "quizzes",
        "polls",
        "scores",
        "quiz_settings",
        "review_decks",
    ] {
        assert!(
            original.contains_key(tree),
            "the season filled {tree}: {:?}",
            original.keys()
        );
    }

    let file = source.dir.path().join("backup.json");
    let file_arg = file.to_str().unwrap();
    let exported = studybot(&source, &["export", file_arg]);
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    let entries: usize = original.values().map(Vec::len).sum();
    assert!(
        text(&exported.stdout).contains(&format!(
            "exported {entries} entries in {} trees",
            original.len()
        )),
        "{}",
        text(&exported.stdout)
    );
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(json["format"], "studybot-backup");
    assert_eq!(json["schema_version"], studybot::store::SCHEMA_VERSION);
    assert_eq!(
        json["trees"]["quiz_settings"][0]["value"]["json"], true,
        "records are readable JSON"
    );

    let target = Workspace::new("");
    let imported = studybot(&target, &["import-state", file_arg]);
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    assert!(
        text(&imported.stdout).contains(&format!("imported {entries} entries")),
        "{}",
        text(&imported.stdout)
    );
    assert_eq!(
        contents(&target.db()),
        original,
        "every tree equal, entry by entry"
    );

    // The restored database is one the bot opens as its own: typed reads agree, and the
    // texts are recognised as current (nothing to rewrite).
    let (before, after) = (
        Store::open(&source.db()).unwrap(),
        Store::open(&target.db()).unwrap(),
    );
    for chat in [-1001, -1002, 42] {
        assert_eq!(
            after.subscription(chat).unwrap(),
            before.subscription(chat).unwrap()
        );
        assert_eq!(after.ledger(chat).unwrap(), before.ledger(chat).unwrap());
    }
    assert_eq!(
        after.chat_scores(-1001).unwrap(),
        before.chat_scores(-1001).unwrap()
    );
    assert_eq!(
        after.quiz_session(-1001).unwrap(),
        before.quiz_session(-1001).unwrap()
    );
    let cards = after.review_cards(11, "xzsj").unwrap();
    assert_eq!(cards.len(), 1, "the review deck is carried");
    assert_eq!(cards, before.review_cards(11, "xzsj").unwrap());
    assert_eq!(
        after.due(at("2026-05-03T00:00:00Z"), 10).unwrap(),
        before.due(at("2026-05-03T00:00:00Z"), 10).unwrap()
    );
    let (_, report) = Library::load(&root().join("data"), &after).unwrap();
    assert_eq!(report.synced[0].1, SyncOutcome::Unchanged);
}

#[test]
fn import_state_refuses_to_overwrite_user_state_without_force() {
    let source = Workspace::new("");
    season_of_use(&source);
    let file = source.dir.path().join("backup.json");
    let file_arg = file.to_str().unwrap();
    assert!(studybot(&source, &["export", file_arg]).status.success());

    let target = Workspace::new("");
    {
        let store = Store::open(&target.db()).unwrap();
        store.set_daily_quiz_setting(5, false).unwrap();
        store.flush().unwrap();
    }
    let refused = studybot(&target, &["import-state", file_arg]);
    assert!(!refused.status.success());
    let stderr = text(&refused.stderr);
    assert!(
        stderr.contains("already holds user state (quiz_settings: 1)")
            && stderr.contains("--force"),
        "{stderr}"
    );
    let store = Store::open(&target.db()).unwrap();
    assert_eq!(
        store.daily_quiz_setting(5).unwrap(),
        Some(false),
        "unchanged"
    );
    assert_eq!(store.subscription(-1001).unwrap(), None, "unchanged");
    drop(store);

    let forced = studybot(&target, &["import-state", "--force", file_arg]);
    assert!(forced.status.success(), "{}", text(&forced.stderr));
    assert!(text(&forced.stdout).contains("replacing"));
    assert_eq!(contents(&target.db()), contents(&source.db()));
}

#[test]
fn export_and_import_explain_what_is_wrong() {
    let workspace = Workspace::new("");
    let backup = workspace.dir.path().join("backup.json");
    let missing_db = studybot(&workspace, &["export", backup.to_str().unwrap()]);
    assert!(!missing_db.status.success());
    assert!(
        text(&missing_db.stderr).contains("there is no database at"),
        "{}",
        text(&missing_db.stderr)
    );
    assert!(!backup.exists());

    let not_a_backup = studybot(
        &workspace,
        &["import-state", workspace.config().to_str().unwrap()],
    );
    assert!(!not_a_backup.status.success());
    assert!(
        text(&not_a_backup.stderr).contains("config.toml: not a studybot backup"),
        "{}",
        text(&not_a_backup.stderr)
    );

    std::fs::write(
        &backup,
        r#"{"format": "studybot-backup", "schema_version": 4, "exported_at": "2030-01-01T00:00:00Z", "trees": {}}"#,
    )
    .unwrap();
    let newer = studybot(&workspace, &["import-state", backup.to_str().unwrap()]);
    assert!(!newer.status.success());
    assert!(
        text(&newer.stderr).contains("schema version 4; this build reads version 3"),
        "{}",
        text(&newer.stderr)
    );
}
