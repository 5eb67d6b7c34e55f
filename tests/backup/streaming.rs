//! Backups only of consistent stores (issue 19, item 15): a backup with a tree this
//! build does not know or with a dangling reference is refused naming the first,
//! changing nothing; and a backup in the format written before streaming (one
//! pretty-printed JSON document) still imports (item 14; that `export` and
//! `import-state` stream is proved in `store::backup`'s unit tests, and their memory is
//! measured by the benchmark: `cargo bench --bench bench -- backup`).

use std::collections::BTreeMap;
use std::path::Path;

use chrono::Utc;
use serde::Serialize;
use serde_json::value::RawValue;

use studybot::app::library::Library;
use studybot::store::{Backup, ChatText, ImportedText, Store};
use studybot::text::parse_document;

use harness::{Workspace, root};

use crate::{contents, studybot, text};

/// A source store with an imported text ("report", with its record, document record and
/// sections) that one chat studies, exported through the binary: the backup file's JSON.
fn backup_with_an_imported_text(source: &Workspace) -> serde_json::Value {
    {
        let store = Store::open(&source.db()).unwrap();
        Library::load(&root().join("data"), &store).unwrap();
        let mut report =
            parse_document("report.md", include_str!("../../data/texts/xzsj.md")).unwrap();
        report.id = "report".into();
        let record = ImportedText {
            id: "report".into(),
            source: "report.txt".into(),
            imported_at: Utc::now(),
            content_hash: 7,
        };
        store.store_imported(&report, &record).unwrap();
        let choice = ChatText {
            chat_id: -100_555,
            document: "report".into(),
            left_at: BTreeMap::new(),
        };
        store.set_chat_text(&choice, 0).unwrap();
        store.flush().unwrap();
    }
    let file = source.dir.path().join("backup.json");
    let exported = studybot(source, &["export", file.to_str().unwrap()]);
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap()
}

/// A target whose store holds a setting of its own; after every refused import it must
/// still hold it, and nothing else.
fn target_with_state() -> Workspace {
    let target = Workspace::new("");
    let store = Store::open(&target.db()).unwrap();
    store.set_daily_quiz_setting(4242, true).unwrap();
    store.flush().unwrap();
    target
}

/// Imports `json` with --force into `target`; asserts it is refused with a message
/// containing each of `named`, and that the target is as it was.
fn refused(target: &Workspace, json: &serde_json::Value, named: &[&str]) {
    let before = contents(&target.db());
    let file = target.dir.path().join("edited.json");
    std::fs::write(&file, json.to_string()).unwrap();
    let output = studybot(target, &["import-state", "--force", file.to_str().unwrap()]);
    let stderr = text(&output.stderr);
    assert!(
        !output.status.success(),
        "imported: {}",
        text(&output.stdout)
    );
    for name in named {
        assert!(stderr.contains(name), "{name:?} in: {stderr}");
    }
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    assert_eq!(contents(&target.db()), before, "nothing changed: {stderr}");
}

/// Removes from `json`'s tree `tree` the entries whose key (hex) starts with `prefix`.
fn without(json: &mut serde_json::Value, tree: &str, prefix: &[u8]) {
    let hex: String = prefix.iter().map(|b| format!("{b:02x}")).collect();
    json["trees"][tree]
        .as_array_mut()
        .unwrap()
        .retain(|entry| !entry["key"].as_str().unwrap().starts_with(&hex));
}

#[test]
fn import_state_refuses_an_unknown_tree_naming_it_and_changes_nothing() {
    let source = Workspace::new("");
    let mut json = backup_with_an_imported_text(&source);
    json["trees"]["future_tree"] = serde_json::json!([{"key": "00", "value": {"json": 1}}]);
    refused(&target_with_state(), &json, &["tree \"future_tree\""]);
}

#[test]
fn import_state_refuses_a_chat_on_a_text_the_backup_lacks() {
    let source = Workspace::new("");
    let good = backup_with_an_imported_text(&source);
    let target = target_with_state();

    // The imported text's record is gone: the chat would fall back to the shipped text
    // and the text's sections would stay, of no text.
    let mut no_record = good.clone();
    without(&mut no_record, "imported", b"report");
    refused(
        &target,
        &no_record,
        &["of \"chat_texts\"", "refers to text \"report\""],
    );

    // Without the chat, the document record and sections are left over: refused too.
    let mut orphans = no_record.clone();
    orphans["trees"]
        .as_object_mut()
        .unwrap()
        .remove("chat_texts");
    refused(
        &target,
        &orphans,
        &["of \"meta\"", "record of text \"report\"", "no text"],
    );
    let mut no_document = orphans.clone();
    without(&mut no_document, "meta", b"document:report");
    refused(
        &target,
        &no_document,
        &["of \"sections\"", "section of text \"report\"", "no text"],
    );

    // The whole backup imports, the chat on its text.
    let file = source.dir.path().join("backup.json");
    let imported = studybot(
        &target,
        &["import-state", "--force", file.to_str().unwrap()],
    );
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    assert_eq!(contents(&target.db()), contents(&source.db()));
}

/// The format `export` wrote before it streamed: the whole document pretty-printed by
/// one `serde_json` call.
fn old_format(backup: &Backup) -> Vec<u8> {
    #[derive(Serialize)]
    struct Old<'a> {
        format: &'a str,
        schema_version: u32,
        exported_at: chrono::DateTime<Utc>,
        studybot_version: &'a str,
        trees: BTreeMap<&'a str, Vec<OldEntry>>,
    }
    #[derive(Serialize)]
    struct OldEntry {
        key: String,
        value: OldValue,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "lowercase")]
    enum OldValue {
        Json(Box<RawValue>),
        Hex(String),
    }
    let hex = |bytes: &[u8]| -> String { bytes.iter().map(|b| format!("{b:02x}")).collect() };
    let trees = backup
        .trees
        .iter()
        .map(|(name, entries)| {
            let entries = entries
                .iter()
                .map(|entry| OldEntry {
                    key: hex(&entry.key),
                    value: match serde_json::from_slice::<Box<RawValue>>(&entry.value) {
                        Ok(raw) if raw.get().as_bytes() == entry.value.as_slice() => {
                            OldValue::Json(raw)
                        }
                        _ => OldValue::Hex(hex(&entry.value)),
                    },
                })
                .collect();
            (name.as_str(), entries)
        })
        .collect();
    serde_json::to_vec_pretty(&Old {
        format: "studybot-backup",
        schema_version: backup.header.schema_version,
        exported_at: backup.header.exported_at,
        studybot_version: &backup.header.studybot_version,
        trees,
    })
    .unwrap()
}

#[test]
fn a_backup_in_the_format_written_before_still_imports() {
    let source = Workspace::new("");
    backup_with_an_imported_text(&source);
    let backup = Backup::read(&source.dir.path().join("backup.json")).unwrap();
    let old = source.dir.path().join("old.json");
    std::fs::write(&old, old_format(&backup)).unwrap();
    let target = Workspace::new("");
    let imported = studybot(&target, &["import-state", old.to_str().unwrap()]);
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    assert_eq!(contents(&target.db()), contents(&source.db()));
    assert!(is_owner_only(&source.dir.path().join("backup.json")));
}

/// Whether only the file's owner may read it.
fn is_owner_only(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o077 == 0
}
