use chrono::{NaiveDate, NaiveTime, TimeZone};

use super::*;
use serde::Serialize;

use crate::quiz::QuizSession;
use crate::record::{CheckIn, QuizAnswer, ReportSetting};
use crate::review::ReviewPoll;
use crate::review::weekly::WeeklyTest;
use crate::schedule::DeliveryState;
use crate::schedule::{Subscriber, Subscription};
use crate::store::Entry;
use crate::store::contract::stores;
use crate::store::memory::CountingBackend;
use crate::store::review::V1_REVIEW_CARDS;
use crate::store::{Backend, key_i64};
use crate::store::{ChatText, Collection, ImportedText, PollTarget};
use crate::text::{SectionId, parse_document};
use serde_json::value::RawValue;

/// The texts shipped beside the tests' stores.
fn shipped() -> Vec<String> {
    vec!["xzsj".to_string()]
}

/// A store with every kind of record.
fn fill(store: &Store) {
    let now = Utc.with_ymd_and_hms(2026, 5, 1, 4, 0, 0).unwrap();
    let document = parse_document("xzsj.md", include_str!("../../../data/texts/xzsj.md")).unwrap();
    store.sync_document(&document, 42).unwrap();
    let subscriber = Subscriber {
        user_id: 7,
        name: "王 \"书记\"".into(),
    };
    for chat in [-100_200_300_i64, -5, 9] {
        let fresh = Subscription::new(
            chat,
            "xzsj",
            NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
            chrono_tz::Asia::Shanghai,
            subscriber.clone(),
            now,
        );
        store.subscribe(fresh, None, now).unwrap();
    }
    let date = NaiveDate::from_ymd_opt(2026, 5, 2).unwrap();
    store
        .mark_intended(-5, date, SectionId::OPENING, now)
        .unwrap();
    store
        .mark_sent(-5, date, SectionId::OPENING, &[11, 12], now)
        .unwrap();
    store
        .mark_chat_inactive(9, "Forbidden: bot was kicked", now)
        .unwrap();
    let choice = crate::store::ChatText {
        chat_id: 9,
        document: "xzsj".into(),
        left_at: [("report".to_string(), SectionId::point(1, 2))].into(),
    };
    store.set_chat_text(&choice, 0).unwrap();
    store
        .update_score(-5, 7, |score| score.record("q:1", "王", 1, true, date))
        .unwrap();
    store.set_daily_quiz_setting(-5, true).unwrap();
    let card = crate::review::record(None, SectionId::point(2, 2), false, now).unwrap();
    store
        .update_review_card(7, "xzsj", 99, |_| Some(card.clone()))
        .unwrap();
    let target = PollTarget::Quiz(crate::quiz::QuestionKey {
        chat_id: -5,
        quiz_id: 1,
        index: 0,
    });
    store.put_poll_target("投票🙂", &target).unwrap();
    fill_the_rest(store, now, date);
}

/// A record in each collection `fill`'s first part leaves empty.
fn fill_the_rest(store: &Store, now: DateTime<Utc>, date: NaiveDate) {
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(1);
    let document = parse_document("xzsj.md", include_str!("../../../data/texts/xzsj.md")).unwrap();
    let questions = crate::quiz::generate::generate(&document, &mut rng);
    let session = QuizSession::start(None, 3, -5, 7, questions, now).unwrap();
    store
        .update_quiz_session(-5, |slot| *slot = Some(session.clone()))
        .unwrap();
    let imported = ImportedText {
        id: "xzsj".into(),
        source: "讲话.txt".into(),
        imported_at: now,
        content_hash: 42,
    };
    store.store_imported(&document, &imported).unwrap();
    let check_in = CheckIn {
        chat_id: -5,
        user_id: 7,
        name: "王".into(),
        document: "xzsj".into(),
        section: SectionId::OPENING,
        date,
        done_on: date,
        at: now,
    };
    store.check_in(&check_in).unwrap();
    store
        .record_quiz_answer(&QuizAnswer {
            chat_id: -5,
            user_id: 7,
            name: "王".into(),
            question: "问".into(),
            section: SectionId::point(1, 1),
            part: 1,
            correct: false,
            at: now,
        })
        .unwrap();
    let setting = ReportSetting {
        weekday: chrono::Weekday::Mon,
        time: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
    };
    store.set_report_setting(-5, Some(setting)).unwrap();
    store.claim_report(-5, 202618, now).unwrap();
    store
        .update_reviewer(7, |reviewer| {
            reviewer.remind_at = NaiveTime::from_hms_opt(20, 0, 0)
        })
        .unwrap();
    let poll = ReviewPoll {
        user_id: 7,
        text: "xzsj".into(),
        card: 99,
        correct: 0,
        options: 4,
        answer: "答".into(),
        answered: false,
    };
    store.put_review_poll("复习", &poll).unwrap();
    store
        .set_review_ledger(7, date, &DeliveryState::Intended)
        .unwrap();
    let test = WeeklyTest {
        weekday: 6,
        time: NaiveTime::from_hms_opt(20, 0, 0).unwrap(),
        zone: "Asia/Shanghai".into(),
        topic: None,
    };
    store.set_weekly_test(-5, Some(&test)).unwrap();
    store
        .set_weekly_ledger(-5, (2026, 18), &DeliveryState::Intended)
        .unwrap();
    store.count_group_miss(-5, 99).unwrap();
    store.flush().unwrap();
}

/// Every tree's entries, byte for byte, read straight from the backend.
fn contents(backend: &dyn Backend) -> BTreeMap<String, Vec<Entry>> {
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

#[test]
fn every_backend_round_trips_into_every_backend() {
    for (from_name, from, _from_dir) in stores() {
        fill(&from);
        let original = contents(from.backend());
        assert!(original.len() >= 9, "{from_name}: {:?}", original.keys());
        let file = Backup::from_json(&from.export().unwrap().to_json()).unwrap();
        for (to_name, to, _to_dir) in stores() {
            let report = to.import(&file, &shipped()).unwrap();
            assert_eq!(report.entries, file.entries(), "{from_name} → {to_name}");
            assert_eq!(report.trees, original.len(), "{from_name} → {to_name}");
            assert_eq!(
                contents(to.backend()),
                original,
                "{from_name} → {to_name}: every tree equal, entry by entry"
            );
            assert_eq!(to.subscription(-5).unwrap(), from.subscription(-5).unwrap());
            assert_eq!(to.ledger(-5).unwrap(), from.ledger(-5).unwrap());
            assert_eq!(to.score(-5, 7).unwrap(), from.score(-5, 7).unwrap());
            assert_eq!(to.chat_text(9).unwrap(), from.chat_text(9).unwrap());
            assert!(to.chat_text(9).unwrap().is_some());
        }
    }
}

#[test]
fn records_are_readable_json_and_the_rest_is_hex() {
    let store = Store::in_memory();
    fill(&store);
    let text = String::from_utf8(store.export().unwrap().to_json()).unwrap();
    assert!(text.contains("\"format\": \"studybot-backup\""), "{text}");
    assert!(text.contains("\"schema_version\": 3"));
    assert!(
        text.contains("\"json\": {\"chat_id\":-5,"),
        "subscriptions are readable"
    );
    assert!(
        text.contains("\"json\": true"),
        "quiz settings are readable"
    );
    assert!(
        text.contains("\"hex\": \"00000003\""),
        "the schema version is binary"
    );
    assert!(text.contains(&format!("\"key\": \"{}\"", hex(&key_i64(-5)))));
}

#[test]
fn import_replaces_what_was_there() {
    let source = Store::in_memory();
    fill(&source);
    let backup = source.export().unwrap();
    let target = Store::in_memory();
    target.set_daily_quiz_setting(12345, false).unwrap();
    target.backend().insert(trees::CHATS, b"k", b"v").unwrap();
    assert_eq!(
        target.user_state().unwrap().into_iter().collect::<Vec<_>>(),
        vec![("chats".to_string(), 1), ("quiz_settings".to_string(), 1)]
    );
    let report = target.import(&backup, &shipped()).unwrap();
    assert_eq!(report.replaced, 3, "the two entries and the schema version");
    assert_eq!(target.daily_quiz_setting(12345).unwrap(), None);
    assert_eq!(target.backend().get(trees::CHATS, b"k").unwrap(), None);
    assert_eq!(contents(target.backend()), contents(source.backend()));
}

#[test]
fn user_state_ignores_what_every_start_writes() {
    let store = Store::in_memory();
    let document = parse_document("xzsj.md", include_str!("../../../data/texts/xzsj.md")).unwrap();
    store.sync_document(&document, 1).unwrap();
    assert!(store.user_state().unwrap().is_empty());
    store.set_daily_quiz_setting(1, true).unwrap();
    assert_eq!(
        store.user_state().unwrap().get(trees::QUIZ_SETTINGS),
        Some(&1)
    );
}

#[test]
fn foreign_files_and_other_versions_are_refused() {
    let store = Store::in_memory();
    fill(&store);
    let good = String::from_utf8(store.export().unwrap().to_json()).unwrap();
    let message = |json: &str| match Backup::from_json(json.as_bytes()) {
        Err(StoreError::Backup(message)) => message,
        other => panic!("{json}: {other:?}"),
    };
    assert!(message("not json").contains("not a studybot backup (expected"));
    assert!(message("[1, 2]").contains("not a studybot backup"));
    assert!(message("{}").contains("\"format\" is missing"));
    assert!(message(&good.replace("studybot-backup", "other")).contains("\"other\""));
    assert!(
        message(&good.replace("\"schema_version\": 3", "\"schema_version\": 4"))
            .contains("schema version 4; this build reads version 3")
    );
    assert!(
        message(&good.replace("\"schema_version\": 3", "\"schema_version\": 0"))
            .contains("schema version 0; this build reads version 3")
    );
    assert!(
        message(&good.replace("\"hex\": \"00000003\"", "\"hex\": \"0g\""))
            .contains("\"0g\" is not hex")
    );
    let mut wrong_meta = Backup::from_json(good.as_bytes()).unwrap();
    for entry in wrong_meta.trees.get_mut(trees::META).unwrap() {
        if entry.key == b"schema_version" {
            entry.value = 1_u32.to_be_bytes().to_vec();
        }
    }
    let target = Store::in_memory();
    target.set_daily_quiz_setting(1, true).unwrap();
    assert!(matches!(
        target.import(&wrong_meta, &shipped()),
        Err(StoreError::Backup(_))
    ));
    assert_eq!(
        target.daily_quiz_setting(1).unwrap(),
        Some(true),
        "a refused import changes nothing"
    );
}

#[test]
fn a_bad_record_refuses_the_whole_backup_and_changes_nothing() {
    let source = Store::in_memory();
    fill(&source);
    let good = String::from_utf8(source.export().unwrap().to_json()).unwrap();
    assert!(verify(good.as_bytes(), &shipped()).is_ok());
    for (bad, named) in [
        (
            good.replacen("Asia/Shanghai", "Mars/Olympus", 1),
            "Mars/Olympus",
        ),
        (good.replacen("\"08:00\"", "\"25:99\"", 1), "25:99"),
        (
            good.replacen("\"chat_id\":-100200300,", "\"chat_id\":-6,", 1),
            "filed under chat -100200300",
        ),
    ] {
        let backup = Backup::from_json(bad.as_bytes()).unwrap();
        let target = Store::in_memory();
        target.set_daily_quiz_setting(1, true).unwrap();
        let Err(error) = target.import(&backup, &shipped()) else {
            panic!("{named}: imported");
        };
        let message = error.to_string();
        assert!(message.contains(named), "{message}");
        assert!(
            message.contains("entry 1 of \"subscriptions\""),
            "{message}"
        );
        assert_eq!(
            target.daily_quiz_setting(1).unwrap(),
            Some(true),
            "{message}"
        );
    }
}

#[test]
fn a_damaged_record_of_any_collection_refuses_the_backup() {
    let source = Store::in_memory();
    fill(&source);
    let backup = source.export().unwrap();
    for collection in Collection::ALL {
        let tree = collection.tree();
        let entries = backup.trees.get(tree);
        assert!(
            entries.is_some_and(|e| !e.is_empty()),
            "fill puts a record in {tree}"
        );
        // Sections and the documents' records are checked together, by their texts.
        if matches!(collection, Collection::Meta | Collection::Sections) {
            continue;
        }
        let mut damaged = backup.clone();
        damaged.trees.get_mut(tree).unwrap()[0].value = b"\xff{".to_vec();
        let target = Store::in_memory();
        target.set_daily_quiz_setting(1, true).unwrap();
        let Err(error) = target.import(&damaged, &shipped()) else {
            panic!("{tree}: a damaged record was imported");
        };
        let message = error.to_string();
        assert!(message.contains(&format!("of \"{tree}\"")), "{message}");
        assert_eq!(target.daily_quiz_setting(1).unwrap(), Some(true), "{tree}");
    }
}

#[test]
fn a_version_1_backup_is_restored_with_its_cards_in_decks() {
    let now = Utc.with_ymd_and_hms(2026, 5, 1, 4, 0, 0).unwrap();
    let card = crate::review::record(None, SectionId::point(2, 2), false, now).unwrap();
    let mut key = 7_u64.to_be_bytes().to_vec();
    key.extend(b"xzsj\0");
    key.extend(99_u64.to_be_bytes());
    let entry = |key: &[u8], value: &[u8]| BackupEntry {
        key: key.to_vec(),
        value: value.to_vec(),
    };
    let backup = Backup {
        header: BackupHeader {
            schema_version: 1,
            exported_at: now,
            studybot_version: "0.1.0".into(),
        },
        trees: [
            (
                trees::META.to_string(),
                vec![entry(SCHEMA_VERSION_KEY, &1_u32.to_be_bytes())],
            ),
            (
                super::super::review::V1_REVIEW_CARDS.to_string(),
                vec![entry(&key, &serde_json::to_vec(&card).unwrap())],
            ),
        ]
        .into(),
    };
    let file = Backup::from_json(&backup.to_json()).unwrap();
    for (name, store, _dir) in stores() {
        store.import(&file, &shipped()).unwrap();
        assert_eq!(
            store.review_cards(7, "xzsj").unwrap(),
            vec![(99, card.clone())],
            "{name}"
        );
        assert_eq!(
            store.schema_version().unwrap(),
            Some(SCHEMA_VERSION),
            "{name}"
        );
        let again = Backup::from_json(&store.export().unwrap().to_json()).unwrap();
        assert_eq!(again.header.schema_version, SCHEMA_VERSION, "{name}");
        assert!(
            !again
                .trees
                .contains_key(super::super::review::V1_REVIEW_CARDS),
            "{name}: the old cards moved"
        );
    }
}

#[test]
fn a_deck_is_checked_card_by_card() {
    let store = Store::in_memory();
    fill(&store);
    let mut backup = store.export().unwrap();
    let deck = &mut backup.trees.get_mut(trees::REVIEW_DECKS).unwrap()[0];
    deck.value.pop();
    let error = Store::in_memory()
        .import(&backup, &shipped())
        .unwrap_err()
        .to_string();
    assert!(error.contains("entry 1 of \"review_decks\""), "{error}");
    assert!(error.contains("not whole 95-byte cards"), "{error}");
}

#[test]
fn a_chat_text_is_checked_like_every_chat_record() {
    let key = crate::store::key_i64(9);
    let good = br#"{"chat_id":9,"document":"xzsj","left_at":{"report":{"part":1,"point":2}}}"#;
    let check =
        |key: &[u8], value: &[u8]| check_entry(SCHEMA_VERSION, trees::CHAT_TEXTS, key, value);
    assert_eq!(check(&key, good), Ok(Facts::texts(["xzsj".to_string()])));
    let moved = br#"{"chat_id":8,"document":"xzsj"}"#;
    let error = check(&key, moved).unwrap_err();
    assert!(error.contains("filed under chat 9"), "{error}");
    assert!(check(&key, b"{}").is_err());
    assert!(check(&key[..4], good).is_err());
}

#[test]
fn files_are_written_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("backup.json");
    let store = Store::in_memory();
    fill(&store);
    let (written, summary) = export_file(&store, &path).unwrap();
    assert_eq!(written, path);
    export_file(&store, &path).unwrap();
    let backup = Backup::read(&path).unwrap();
    assert_eq!(backup.entries(), summary.entries);
    assert_eq!(backup.trees.len(), summary.trees);
    assert_eq!(backup.trees, store.export().unwrap().trees);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file is left"
    );
    #[cfg(unix)]
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path).unwrap().permissions())
            & 0o777,
        0o600
    );
    let missing = Backup::read(&dir.path().join("missing.json")).unwrap_err();
    assert!(missing.to_string().contains("missing.json"), "{missing}");
    let unwritable = export_file(&store, &dir.path().join("no/such/dir/b.json"));
    assert!(unwritable.is_err());
}

/// A writer that fails after `left` bytes.
struct FailingAfter {
    left: usize,
}

impl Write for FailingAfter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.left {
            0 => Err(std::io::Error::other("disk full")),
            left => {
                let n = buf.len().min(left);
                self.left -= n;
                Ok(n)
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_failed_write_is_reported() {
    let store = Store::in_memory();
    fill(&store);
    let error = export_to(&store, FailingAfter { left: 100 }).unwrap_err();
    assert!(error.to_string().contains("disk full"), "{error}");
}

#[test]
fn values_round_trip_byte_for_byte_as_json_or_hex() {
    let odd: Vec<(&[u8], &[u8])> = vec![
        (b"\x00", b" {\"b\": 1, \"a\": [1.0, 1e3]} "),
        (b"\x01", b"{\"b\":1,\"a\":\"\\u00e9\"}"),
        (b"\x02", &[0xff, 0xfe, 0x00]),
        (b"\x03", b""),
        (b"\x04\xff", b"\"a json string that looks like hex: 00ff\""),
    ];
    let backup = Backup {
        header: BackupHeader {
            schema_version: SCHEMA_VERSION,
            exported_at: Utc.with_ymd_and_hms(2026, 5, 1, 4, 0, 0).unwrap(),
            studybot_version: "0.1.0 \"test\"".into(),
        },
        trees: [
            (
                "a \"tree\"".to_string(),
                odd.iter()
                    .map(|(key, value)| BackupEntry {
                        key: key.to_vec(),
                        value: value.to_vec(),
                    })
                    .collect(),
            ),
            ("empty".to_string(), Vec::new()),
        ]
        .into(),
    };
    let json = backup.to_json();
    let text = String::from_utf8(json.clone()).unwrap();
    assert!(text.contains("\"hex\": \"207b2262"), "{text}");
    assert!(
        text.contains("\"json\": {\"b\":1,\"a\":\"\\u00e9\"}"),
        "{text}"
    );
    assert!(text.contains("\"json\": \"a json string that looks like hex: 00ff\""));
    serde_json::from_slice::<serde_json::Value>(&json).expect("valid JSON");
    assert_eq!(Backup::from_json(&json).unwrap(), backup);
    let empty = Backup {
        trees: BTreeMap::new(),
        ..backup
    };
    assert_eq!(Backup::from_json(&empty.to_json()).unwrap(), empty);
}

/// The format every version before streaming wrote: one `serde_json` pretty print
/// of the whole document.
fn old_format(backup: &Backup) -> Vec<u8> {
    #[derive(Serialize)]
    struct Old<'a> {
        format: &'a str,
        schema_version: u32,
        exported_at: DateTime<Utc>,
        studybot_version: &'a str,
        trees: BTreeMap<&'a str, Vec<WireEntry>>,
    }
    let trees = backup
        .trees
        .iter()
        .map(|(name, entries)| {
            let entries = entries
                .iter()
                .map(|entry| {
                    let value = match serde_json::from_slice::<Box<RawValue>>(&entry.value) {
                        Ok(raw) if raw.get().as_bytes() == entry.value.as_slice() => {
                            WireValue::Json(raw)
                        }
                        _ => WireValue::Hex(hex(&entry.value)),
                    };
                    WireEntry {
                        key: hex(&entry.key),
                        value,
                    }
                })
                .collect();
            (name.as_str(), entries)
        })
        .collect();
    serde_json::to_vec_pretty(&Old {
        format: BACKUP_FORMAT,
        schema_version: backup.header.schema_version,
        exported_at: backup.header.exported_at,
        studybot_version: &backup.header.studybot_version,
        trees,
    })
    .unwrap()
}

#[test]
fn a_backup_in_the_old_pretty_format_is_read_and_restored() {
    let source = Store::in_memory();
    fill(&source);
    let backup = source.export().unwrap();
    let old = old_format(&backup);
    assert!(String::from_utf8_lossy(&old).contains("\n        \"key\""));
    assert_eq!(Backup::from_json(&old).unwrap(), backup);
    let target = Store::in_memory();
    let summary = verify(old.as_slice(), &shipped()).unwrap();
    assert_eq!(summary.entries, backup.entries());
    target.restore(old.as_slice(), &summary).unwrap();
    assert_eq!(contents(target.backend()), contents(source.backend()));
}

/// `backup` with `edit` applied, as a file would carry it.
fn edited(backup: &Backup, edit: impl FnOnce(&mut BTreeMap<String, Vec<BackupEntry>>)) -> Backup {
    let mut edited = backup.clone();
    edit(&mut edited.trees);
    edited
}

/// What importing `backup` into a store holding one setting says; the setting must
/// stay.
fn refusal(backup: &Backup) -> String {
    let target = Store::in_memory();
    target.set_daily_quiz_setting(1, true).unwrap();
    let error = target.import(backup, &shipped()).unwrap_err().to_string();
    assert_eq!(target.daily_quiz_setting(1).unwrap(), Some(true), "{error}");
    assert!(error.contains("nothing was imported"), "{error}");
    error
}

#[test]
fn an_unknown_or_repeated_tree_or_a_key_out_of_order_is_refused() {
    let source = Store::in_memory();
    fill(&source);
    let backup = source.export().unwrap();
    let unknown = edited(&backup, |trees| {
        trees.insert("future_tree".into(), vec![]);
    });
    let error = refusal(&unknown);
    assert!(error.contains("tree \"future_tree\""), "{error}");
    let v1_cards_in_v2 = edited(&backup, |trees| {
        trees.insert(V1_REVIEW_CARDS.into(), vec![]);
    });
    assert!(refusal(&v1_cards_in_v2).contains("\"review_cards\""));
    let mut twice = String::from_utf8(backup.to_json()).unwrap();
    twice = twice.replacen(
        "\"quiz_settings\": [",
        "\"quiz_settings\": [], \"quiz_settings\": [",
        1,
    );
    let error = verify(twice.as_bytes(), &shipped())
        .unwrap_err()
        .to_string();
    assert!(error.contains("\"quiz_settings\" twice"), "{error}");
    let reversed = edited(&backup, |trees| {
        trees.get_mut(trees::SUBSCRIPTIONS).unwrap().reverse();
    });
    let error = refusal(&reversed);
    assert!(error.contains("entry 2 of \"subscriptions\""), "{error}");
    assert!(error.contains("not after the one before it"), "{error}");
}

#[test]
fn a_reference_to_a_missing_text_or_sections_of_no_text_are_refused() {
    let source = Store::in_memory();
    fill(&source);
    let mut report =
        parse_document("xzsj.md", include_str!("../../../data/texts/xzsj.md")).unwrap();
    report.id = "report".into();
    let imported = ImportedText {
        id: "report".into(),
        source: "report.txt".into(),
        imported_at: Utc::now(),
        content_hash: 7,
    };
    source.store_imported(&report, &imported).unwrap();
    let choice = ChatText {
        chat_id: -5,
        document: "report".into(),
        left_at: BTreeMap::new(),
    };
    source.set_chat_text(&choice, 0).unwrap();
    let backup = source.export().unwrap();
    assert!(Store::in_memory().import(&backup, &shipped()).is_ok());

    // The imported text's record is missing: the chat would silently fall back.
    let no_record = edited(&backup, |trees| {
        trees
            .get_mut(trees::IMPORTED)
            .unwrap()
            .retain(|e| e.key != b"report");
    });
    let error = refusal(&no_record);
    assert!(error.contains("of \"chat_texts\""), "{error}");
    assert!(error.contains("refers to text \"report\""), "{error}");

    // Without the chat, the text's sections belong to no text.
    let orphans = edited(&no_record, |trees| {
        trees.remove(trees::CHAT_TEXTS);
        trees
            .get_mut(trees::SUBSCRIPTIONS)
            .unwrap()
            .iter_mut()
            .for_each(|e| {
                e.value = String::from_utf8(e.value.clone())
                    .unwrap()
                    .replace("\"report\"", "\"xzsj\"")
                    .into_bytes();
            });
    });
    let error = refusal(&orphans);
    assert!(error.contains("of \"meta\""), "{error}");
    assert!(error.contains("record of text \"report\""), "{error}");

    // Sections without their document record.
    let no_document = edited(&orphans, |trees| {
        trees
            .get_mut(trees::META)
            .unwrap()
            .retain(|e| e.key != b"document:report");
    });
    let error = refusal(&no_document);
    assert!(error.contains("of \"sections\""), "{error}");
    assert!(error.contains("section of text \"report\""), "{error}");

    // A text that is shipped here needs nothing in the backup.
    let shipped_elsewhere = edited(&backup, |trees| {
        trees
            .get_mut(trees::META)
            .unwrap()
            .retain(|e| e.key != b"document:xzsj");
        trees
            .get_mut(trees::SECTIONS)
            .unwrap()
            .retain(|e| !e.key.starts_with(b"xzsj\0"));
        trees
            .get_mut(trees::IMPORTED)
            .unwrap()
            .retain(|e| e.key != b"xzsj");
    });
    assert!(
        Store::in_memory()
            .import(&shipped_elsewhere, &shipped())
            .is_ok()
    );
    assert!(
        Store::in_memory()
            .import(&shipped_elsewhere, &[])
            .unwrap_err()
            .to_string()
            .contains("refers to text \"xzsj\"")
    );
}

#[test]
fn a_restore_streams_in_pages_and_clears_what_was_there() {
    let source = Store::in_memory();
    fill(&source);
    for chat in 0..3 * PAGE as i64 {
        source.set_daily_quiz_setting(chat, true).unwrap();
    }
    let mut bytes = Vec::new();
    let summary = export_to(&source, &mut bytes).unwrap();
    let target = Store::in_memory();
    for chat in 0..2 * PAGE as i64 {
        target.set_daily_quiz_setting(-chat - 1000, false).unwrap();
    }
    let checked = verify(bytes.as_slice(), &shipped()).unwrap();
    assert_eq!(checked.entries, summary.entries);
    let report = target.restore(bytes.as_slice(), &checked).unwrap();
    assert_eq!(report.entries, summary.entries);
    assert_eq!(
        report.replaced,
        2 * PAGE + 1,
        "the settings and the version"
    );
    assert_eq!(contents(target.backend()), contents(source.backend()));
}

/// A store on a [`CountingBackend`] with `settings` daily-question settings.
fn counted(settings: i64) -> (Store, std::sync::Arc<CountingBackend>) {
    let backend = std::sync::Arc::new(CountingBackend::default());
    let store = Store::with_backend(backend.clone()).unwrap();
    for chat in 0..settings {
        store.set_daily_quiz_setting(chat, true).unwrap();
    }
    (store, backend)
}

/// Records, at each write, how many entries the backend had served.
struct Watching {
    backend: std::sync::Arc<CountingBackend>,
    scanned_at_first_write: Option<usize>,
    bytes: usize,
}

impl Write for Watching {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let scanned = self.backend.total().scanned;
        self.scanned_at_first_write.get_or_insert(scanned);
        self.bytes += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn an_export_writes_while_it_reads() {
    let entries = 40 * PAGE as i64;
    let (store, backend) = counted(entries);
    let before = backend.total().scanned;
    let mut out = Watching {
        backend: backend.clone(),
        scanned_at_first_write: None,
        bytes: 0,
    };
    let summary = export_to(&store, &mut out).unwrap();
    assert_eq!(summary.entries, entries as usize + 1, "and the version");
    let first = out.scanned_at_first_write.unwrap() - before;
    assert!(
        first < entries as usize / 4,
        "the file is written as the store is read ({first} of {entries} entries read before the first write of {} bytes)",
        out.bytes
    );
}

/// Hands out `bytes` a little at a time, recording how many entries the backend had
/// written when half of them were read.
struct Trickle<'a> {
    bytes: &'a [u8],
    read: usize,
    backend: std::sync::Arc<CountingBackend>,
    inserted_at_half: Option<usize>,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.read >= self.bytes.len() / 2 && self.inserted_at_half.is_none() {
            self.inserted_at_half = Some(self.backend.total().inserted);
        }
        let n = buf.len().min(4096).min(self.bytes.len() - self.read);
        buf[..n].copy_from_slice(&self.bytes[self.read..self.read + n]);
        self.read += n;
        Ok(n)
    }
}

#[test]
fn a_restore_writes_while_it_reads() {
    let entries = 40 * PAGE as i64;
    let (source, _) = counted(entries);
    let mut bytes = Vec::new();
    export_to(&source, &mut bytes).unwrap();
    let checked = verify(bytes.as_slice(), &[]).unwrap();
    let (target, backend) = counted(0);
    let before = backend.total().inserted;
    let mut reader = Trickle {
        bytes: &bytes,
        read: 0,
        backend: backend.clone(),
        inserted_at_half: None,
    };
    target.restore(&mut reader, &checked).unwrap();
    let at_half = reader.inserted_at_half.unwrap() - before;
    assert!(
        at_half > entries as usize / 4,
        "entries are written as the file is read ({at_half} of {entries} written when half of it was read)"
    );
    assert_eq!(contents(target.backend()), contents(source.backend()));
}

#[test]
fn hex_round_trips_and_rejects_garbage() {
    for bytes in [&b""[..], &[0], &[0xff, 0x10, 0xab]] {
        assert_eq!(unhex(&hex(bytes)).as_deref(), Some(bytes));
    }
    assert_eq!(unhex("ABcd"), Some(vec![0xab, 0xcd]));
    for bad in ["0", "zz", "+1", "-1", "éé", "0é"] {
        assert_eq!(unhex(bad), None, "{bad}");
    }
}
