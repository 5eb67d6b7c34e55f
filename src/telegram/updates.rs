//! Reading updates from their JSON, so that one Telegram added after teloxide's Bot API
//! (9.1 for teloxide 0.17) is never lost silently.
//!
//! Both transports hand every update to [`read`] as a [`serde_json::Value`]. It is
//! parsed into teloxide's [`Update`]; when that fails — or a message parses with nothing
//! studybot can read, which is what teloxide makes of a message holding a value it does
//! not know, e.g. Bot API 9.5's `date_time` entity — the update is *repaired*: the
//! smallest parts whose removal lets it parse (an entity of an unknown kind, an unknown
//! field of a wrong shape …) are set aside and the rest is parsed. The search is generic
//! (no list of Bot API versions to keep up to date) and bounded: at most
//! [`MAX_ATTEMPTS`] parses per update. A message that still cannot be read, but whose
//! text is a command, is read from its text alone.
//!
//! What remains unreadable is returned as an [`Unreadable`]; [`give_up`] logs it once
//! (`warn`, with the update id, its kind and the reason) and counts it in
//! [`UNREADABLE_METRIC`]. The caller still confirms the update, so one bad update never
//! blocks the ones after it.

use serde_json::{Map, Value};
use teloxide::types::{MessageKind, Update, UpdateKind};

/// The counter of updates given up (label `kind`: the update's top-level kind).
pub const UNREADABLE_METRIC: &str = "studybot_updates_unreadable_total";

/// The counter of updates read after setting unknown parts aside (label `kind`).
pub const REPAIRED_METRIC: &str = "studybot_updates_repaired_total";

/// How many parses one update's repair may try: an update is a few kilobytes with a few
/// dozen nodes, so the search normally ends within a few dozen.
pub const MAX_ATTEMPTS: usize = 200;

/// The fields of a message that every message has (or may have whatever its content):
/// a message with nothing else is one teloxide could not read.
const MESSAGE_ENVELOPE: &[&str] = &[
    "message_id",
    "message_thread_id",
    "from",
    "sender_chat",
    "sender_boost_count",
    "sender_business_bot",
    "date",
    "business_connection_id",
    "chat",
    "is_topic_message",
    "is_automatic_forward",
    "is_from_offline",
    "has_protected_content",
    "via_bot",
    "edit_date",
    "author_signature",
    "effect_id",
    "reply_markup",
    "paid_star_count",
];

/// The envelope fields a message read from its text alone keeps (see [`read`]).
const MESSAGE_TEXT_ONLY: &[&str] = &[
    "message_id",
    "message_thread_id",
    "from",
    "sender_chat",
    "date",
    "chat",
    "is_topic_message",
    "text",
];

/// The kinds of update whose payload is a `Message`.
const MESSAGE_KINDS: &[&str] = &[
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_message",
    "edited_business_message",
];

/// An update read, perhaps after setting unknown parts aside.
#[derive(Debug)]
pub struct Reading {
    /// The update as teloxide's type.
    pub update: Update,
    /// Its top-level kind (`message`, `callback_query` …).
    pub kind: String,
    /// What was set aside to read it, one entry per part (`message.entities[1] (type
    /// "date_time")`); empty when it parsed as it came.
    pub set_aside: Vec<String>,
}

/// An update studybot cannot read, even after repair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// The update's id, if it has a readable one.
    pub id: Option<u64>,
    /// Its top-level kind (`message`, `callback_query` … or a kind Telegram added).
    pub kind: String,
    /// Why it cannot be read.
    pub reason: String,
}

/// Reads one update from its JSON (see the module documentation).
pub fn read(raw: Value) -> Result<Reading, Unreadable> {
    let id = raw.get("update_id").and_then(Value::as_u64);
    let Value::Object(mut fields) = raw else {
        return Err(Unreadable {
            id,
            kind: "none".into(),
            reason: "the update is not a JSON object".into(),
        });
    };
    fields.remove("update_id");
    let Some(kind) = fields.keys().next().cloned() else {
        return Err(Unreadable {
            id,
            kind: "none".into(),
            reason: "the update has no content".into(),
        });
    };
    let unreadable = |reason: String| Unreadable {
        id,
        kind: kind.clone(),
        reason,
    };
    let Some(id) = id.and_then(|id| u32::try_from(id).ok()) else {
        return Err(unreadable("the update has no valid update_id".into()));
    };
    let payload = fields.remove(&kind).unwrap_or(Value::Null);
    let is_message = MESSAGE_KINDS.contains(&kind.as_str());
    let mut oracle = Oracle {
        id,
        kind: &kind,
        attempts: 0,
    };
    if let Some(update) = oracle.parse(&payload) {
        return Ok(Reading {
            update,
            kind,
            set_aside: Vec::new(),
        });
    }
    if !is_known_kind(&kind) {
        return Err(unreadable(format!(
            "update kind \"{kind}\" is newer than teloxide's Bot API"
        )));
    }
    let reason = oracle.reason(&payload);

    let mut repaired = payload.clone();
    let mut set_aside = Vec::new();
    if oracle.repair(&mut repaired, &mut set_aside)
        && let Some(update) = oracle.parse(&repaired)
    {
        let set_aside = set_aside
            .into_iter()
            .map(|part| format!("{kind}{part}"))
            .collect();
        return Ok(Reading {
            update,
            kind,
            set_aside,
        });
    }
    // A command is answered from its text, whatever else the message holds.
    if is_message && let Some(mut text_only) = text_only(&payload) {
        let mut set_aside = Vec::new();
        let update = match oracle.parse(&text_only) {
            Some(update) => Some(update),
            None if oracle.repair(&mut text_only, &mut set_aside) => oracle.parse(&text_only),
            None => None,
        };
        if let Some(update) = update {
            let mut parts: Vec<String> = payload
                .as_object()
                .into_iter()
                .flat_map(|fields| fields.keys())
                .filter(|key| !MESSAGE_TEXT_ONLY.contains(&key.as_str()))
                .map(|key| format!("{kind}.{key}"))
                .collect();
            parts.extend(set_aside.into_iter().map(|part| format!("{kind}{part}")));
            return Ok(Reading {
                update,
                kind,
                set_aside: parts,
            });
        }
    }
    if !is_message {
        return Err(unreadable(reason));
    }
    // Name what the message holds besides its envelope: a kind of message Telegram
    // added shows there (`checklist`, `giveaway` …).
    let content: Vec<&str> = payload
        .as_object()
        .into_iter()
        .flat_map(|fields| fields.keys())
        .map(String::as_str)
        .filter(|key| !MESSAGE_ENVELOPE.contains(key))
        .collect();
    if content.is_empty() {
        return Err(unreadable(reason));
    }
    Err(unreadable(format!(
        "{reason}; it holds: {}",
        content.join(", ")
    )))
}

/// Logs an update given up, once, and counts it (see [`UNREADABLE_METRIC`]).
pub fn give_up(unreadable: &Unreadable) {
    tracing::warn!(
        update_id = unreadable.id,
        kind = %unreadable.kind,
        reason = %shorten(&unreadable.reason),
        "update dropped: studybot cannot read it"
    );
    metrics::counter!(UNREADABLE_METRIC, "kind" => metric_kind(&unreadable.kind)).increment(1);
}

/// Reads one update, logging and counting what is set aside or given up: `None` when
/// the update is dropped (the caller still confirms it).
pub fn accept(raw: Value) -> Option<Update> {
    match read(raw) {
        Ok(Reading {
            update,
            kind,
            set_aside,
        }) => {
            if !set_aside.is_empty() {
                tracing::info!(
                    update_id = update.id.0,
                    set_aside = %shorten(&set_aside.join("; ")),
                    "update read after setting aside what teloxide does not know"
                );
                metrics::counter!(REPAIRED_METRIC, "kind" => metric_kind(&kind)).increment(1);
            }
            Some(update)
        }
        Err(unreadable) => {
            give_up(&unreadable);
            None
        }
    }
}

/// The `kind` label of the counters: the update kinds teloxide knows by name, any other
/// as `unknown` (a label per name Telegram may add, or a forged post may carry, would
/// grow the metrics without bound).
fn metric_kind(kind: &str) -> String {
    match kind {
        "none" => "none".into(),
        kind if is_known_kind(kind) => kind.into(),
        _ => "unknown".into(),
    }
}

/// How much of a reason the log keeps: a serde error quotes the value it met, which may
/// be a whole message text.
const REASON_LIMIT: usize = 300;

/// `text` cut to [`REASON_LIMIT`] characters, with … when cut.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(REASON_LIMIT) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// Whether teloxide knows this update kind (a newer kind cannot be repaired).
fn is_known_kind(kind: &str) -> bool {
    // teloxide maps an unknown key and a known key with an unreadable payload alike to
    // `UpdateKind::Error`; the kinds it knows are those its `AllowedUpdate` names.
    serde_json::from_value::<teloxide::types::AllowedUpdate>(Value::String(kind.to_string()))
        .is_ok()
}

/// The message reduced to its text and who sent it where, when its text is a command.
fn text_only(payload: &Value) -> Option<Value> {
    let fields = payload.as_object()?;
    let text = fields.get("text")?.as_str()?;
    if !text.starts_with('/') {
        return None;
    }
    let kept: Map<String, Value> = fields
        .iter()
        .filter(|(key, _)| MESSAGE_TEXT_ONLY.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    Some(Value::Object(kept))
}

/// One step of a path into the payload.
#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

/// Parses payloads of one update kind, counting the attempts.
struct Oracle<'a> {
    id: u32,
    kind: &'a str,
    attempts: usize,
}

impl Oracle<'_> {
    /// The update, if teloxide reads `payload` fully (a message must keep its content);
    /// `None` once the attempts are used up.
    fn parse(&mut self, payload: &Value) -> Option<Update> {
        if self.attempts >= MAX_ATTEMPTS {
            return None;
        }
        self.attempts += 1;
        // teloxide's `UpdateKind` deserializes from a JSON text only (it borrows its keys).
        let mut wrapper = Map::new();
        wrapper.insert("update_id".into(), Value::from(self.id));
        wrapper.insert(self.kind.to_string(), payload.clone());
        let update: Update = serde_json::from_str(&Value::Object(wrapper).to_string()).ok()?;
        match &update.kind {
            UpdateKind::Error(_) => return None,
            // A message whose content is all set aside says nothing studybot can act on.
            UpdateKind::Message(message)
            | UpdateKind::EditedMessage(message)
            | UpdateKind::ChannelPost(message)
            | UpdateKind::EditedChannelPost(message)
            | UpdateKind::BusinessMessage(message)
            | UpdateKind::EditedBusinessMessage(message)
                if matches!(message.kind, MessageKind::Empty {}) =>
            {
                return None;
            }
            _ => {}
        }
        // teloxide reads a message holding a value it does not know (anywhere: the
        // update's own, a button's, a reply's) as one without content, `MessageKind::Empty`.
        let parsed = serde_json::to_value(&update).ok()?;
        if lost_message_content(payload, parsed.get(self.kind)?) {
            return None;
        }
        Some(update)
    }

    /// Why teloxide cannot read `payload`, for the log.
    fn reason(&self, payload: &Value) -> String {
        use teloxide::types::{CallbackQuery, ChatMemberUpdated, Message, Poll, PollAnswer};
        let error = match self.kind {
            kind if MESSAGE_KINDS.contains(&kind) => {
                match serde_json::from_value::<Message>(payload.clone()) {
                    Ok(_) => return "teloxide reads no content in this message".into(),
                    Err(error) => error.to_string(),
                }
            }
            "callback_query" => error_of::<CallbackQuery>(payload),
            "poll" => error_of::<Poll>(payload),
            "poll_answer" => error_of::<PollAnswer>(payload),
            "my_chat_member" | "chat_member" => error_of::<ChatMemberUpdated>(payload),
            _ => String::new(),
        };
        if error.is_empty() {
            format!("teloxide cannot read this {}", self.kind)
        } else {
            error
        }
    }

    /// Sets aside the smallest parts of `payload` whose removal lets it parse, recording
    /// their paths in `set_aside`; `false` when no single part's removal does (or the
    /// attempts ran out).
    fn repair(&mut self, payload: &mut Value, set_aside: &mut Vec<String>) -> bool {
        let Some(fields) = payload.as_object() else {
            return false;
        };
        let keys: Vec<String> = fields.keys().cloned().collect();
        for key in keys {
            let path = [Step::Key(key)];
            if self.parses_without(payload, &path) {
                self.narrow(payload, &path, set_aside);
                return true;
            }
        }
        false
    }

    /// Whether `payload` parses with the part at `path` removed.
    fn parses_without(&mut self, payload: &Value, path: &[Step]) -> bool {
        let mut trial = payload.clone();
        remove(&mut trial, path);
        self.parse(&trial).is_some()
    }

    /// Given that `payload` parses without the part at `path`, removes as little as
    /// possible inside that part so that it parses: in a list, each item that breaks it
    /// (or the smallest part of that item); in an object, the one field whose removal is
    /// enough; otherwise the whole part.
    fn narrow(&mut self, payload: &mut Value, path: &[Step], set_aside: &mut Vec<String>) {
        let Some(part) = get(payload, path).cloned() else {
            return;
        };
        match part {
            Value::Array(items) => {
                set(payload, path, Value::Array(Vec::new()));
                if self.parse(payload).is_none() {
                    remove(payload, path);
                    set_aside.push(describe(path, &Value::Array(items)));
                    return;
                }
                for (original, item) in items.into_iter().enumerate() {
                    let Some(Value::Array(kept)) = get_mut(payload, path) else {
                        return;
                    };
                    kept.push(item.clone());
                    let index = kept.len() - 1;
                    if self.parse(payload).is_some() {
                        continue;
                    }
                    let mut item_path = path.to_vec();
                    item_path.push(Step::Index(index));
                    let inner = match &item {
                        Value::Object(fields) => fields
                            .keys()
                            .map(|key| Step::Key(key.clone()))
                            .find(|step| {
                                let mut field_path = item_path.clone();
                                field_path.push(step.clone());
                                self.parses_without(payload, &field_path)
                            }),
                        _ => None,
                    };
                    match inner {
                        Some(step) => {
                            let mut field_path = item_path;
                            field_path.push(step);
                            self.narrow(payload, &field_path, set_aside);
                        }
                        None => {
                            remove(payload, &item_path);
                            let mut shown = path.to_vec();
                            shown.push(Step::Index(original));
                            set_aside.push(describe(&shown, &item));
                        }
                    }
                }
            }
            Value::Object(fields) => {
                let inner = fields
                    .keys()
                    .map(|key| Step::Key(key.clone()))
                    .find(|step| {
                        let mut field_path = path.to_vec();
                        field_path.push(step.clone());
                        self.parses_without(payload, &field_path)
                    });
                match inner {
                    Some(step) => {
                        let mut field_path = path.to_vec();
                        field_path.push(step);
                        self.narrow(payload, &field_path, set_aside);
                    }
                    None => {
                        remove(payload, path);
                        set_aside.push(describe(path, &Value::Object(fields)));
                    }
                }
            }
            other => {
                remove(payload, path);
                set_aside.push(describe(path, &other));
            }
        }
    }
}

/// Whether a message in `raw` (an object with `message_id`, `date` and `chat`) that has
/// content came out of teloxide without any (`parsed` is teloxide's update serialized
/// again, which keeps the Bot API's field names).
fn lost_message_content(raw: &Value, parsed: &Value) -> bool {
    match raw {
        Value::Object(fields) => {
            let is_message = ["message_id", "date", "chat"]
                .iter()
                .all(|key| fields.contains_key(*key));
            let has_content = |fields: &Map<String, Value>| {
                fields
                    .keys()
                    .any(|key| !MESSAGE_ENVELOPE.contains(&key.as_str()))
            };
            if is_message && has_content(fields) && !parsed.as_object().is_some_and(has_content) {
                return true;
            }
            fields.iter().any(|(key, value)| {
                (value.is_object() || value.is_array())
                    && parsed
                        .get(key)
                        .is_some_and(|parsed| lost_message_content(value, parsed))
            })
        }
        Value::Array(items) => items.iter().enumerate().any(|(index, item)| {
            parsed
                .get(index)
                .is_some_and(|parsed| lost_message_content(item, parsed))
        }),
        _ => false,
    }
}

/// The deserialization error of `payload` as a `T`, or an empty string if it reads.
fn error_of<T: serde::de::DeserializeOwned>(payload: &Value) -> String {
    serde_json::from_value::<T>(payload.clone())
        .err()
        .map(|error| error.to_string())
        .unwrap_or_default()
}

/// `.entities[1] (type "date_time")`: a path, and the part's `type` when it has one.
fn describe(path: &[Step], part: &Value) -> String {
    let mut shown = String::new();
    for step in path {
        match step {
            Step::Key(key) => {
                shown.push('.');
                shown.push_str(key);
            }
            Step::Index(index) => shown.push_str(&format!("[{index}]")),
        }
    }
    match part.get("type").and_then(Value::as_str) {
        Some(kind) => format!("{shown} (type \"{kind}\")"),
        None => shown,
    }
}

fn get<'v>(value: &'v Value, path: &[Step]) -> Option<&'v Value> {
    path.iter().try_fold(value, |value, step| match step {
        Step::Key(key) => value.get(key),
        Step::Index(index) => value.get(index),
    })
}

fn get_mut<'v>(value: &'v mut Value, path: &[Step]) -> Option<&'v mut Value> {
    path.iter().try_fold(value, |value, step| match step {
        Step::Key(key) => value.get_mut(key),
        Step::Index(index) => value.get_mut(index),
    })
}

fn set(value: &mut Value, path: &[Step], new: Value) {
    if let Some(slot) = get_mut(value, path) {
        *slot = new;
    }
}

fn remove(value: &mut Value, path: &[Step]) {
    let Some((last, parent)) = path.split_last() else {
        return;
    };
    match (get_mut(value, parent), last) {
        (Some(Value::Object(fields)), Step::Key(key)) => {
            fields.remove(key);
        }
        (Some(Value::Array(items)), Step::Index(index)) if *index < items.len() => {
            items.remove(*index);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use teloxide::types::MessageEntityKind;

    use super::*;

    fn message(fields: Value) -> Value {
        let mut message = json!({
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": 7, "type": "private", "first_name": "Ann"},
            "from": {"id": 7, "is_bot": false, "first_name": "Ann"},
        });
        for (key, value) in fields.as_object().unwrap() {
            message[key] = value.clone();
        }
        json!({"update_id": 10, "message": message})
    }

    fn text_of(update: &Update) -> Option<String> {
        match &update.kind {
            UpdateKind::Message(message) => message.text().map(str::to_owned),
            _ => None,
        }
    }

    #[test]
    fn an_unknown_entity_is_set_aside_and_the_known_ones_kept() {
        let raw = message(json!({
            "text": "/section 2.1 20:00",
            "entities": [
                {"type": "bot_command", "offset": 0, "length": 8},
                {"type": "date_time", "offset": 13, "length": 5, "unix_time": 1_700_000_000},
                {"type": "bold", "offset": 9, "length": 3},
            ],
        }));
        let reading = read(raw).unwrap();
        assert_eq!(
            text_of(&reading.update).as_deref(),
            Some("/section 2.1 20:00")
        );
        assert_eq!(
            reading.set_aside,
            vec!["message.entities[1] (type \"date_time\")"]
        );
        let UpdateKind::Message(message) = &reading.update.kind else {
            unreachable!()
        };
        let kinds: Vec<MessageEntityKind> = message
            .entities()
            .unwrap()
            .iter()
            .map(|e| e.kind.clone())
            .collect();
        assert_eq!(
            kinds,
            vec![MessageEntityKind::BotCommand, MessageEntityKind::Bold]
        );
    }

    #[test]
    fn an_update_teloxide_reads_is_not_touched() {
        let reading = read(message(json!({"text": "/start"}))).unwrap();
        assert!(reading.set_aside.is_empty());
        assert_eq!(reading.update.id.0, 10);
    }

    #[test]
    fn a_command_is_read_from_its_text_when_nothing_else_helps() {
        // Two faults in two fields: no single removal is enough.
        let raw = message(json!({
            "text": "/outline",
            "entities": [{"type": "hologram", "offset": 0, "length": 8}],
            "link_preview_options": "a string where an object belongs",
        }));
        let reading = read(raw).unwrap();
        assert_eq!(text_of(&reading.update).as_deref(), Some("/outline"));
        assert!(reading.set_aside.contains(&"message.entities".to_string()));
    }

    #[test]
    fn a_message_of_an_unknown_kind_is_unreadable_with_its_content_named() {
        let unreadable = read(message(json!({"hologram": {"id": "h1"}}))).unwrap_err();
        assert_eq!(unreadable.id, Some(10));
        assert_eq!(unreadable.kind, "message");
        assert!(
            unreadable.reason.contains("hologram"),
            "{}",
            unreadable.reason
        );
    }

    #[test]
    fn a_broken_required_field_is_unreadable() {
        let unreadable = read(message(json!({"text": "hi", "date": "yesterday"}))).unwrap_err();
        assert!(
            unreadable.reason.contains("yesterday"),
            "{}",
            unreadable.reason
        );
        let unknown = read(json!({"update_id": 3, "rich_thing": {}})).unwrap_err();
        assert_eq!(unknown.kind, "rich_thing");
        assert!(unknown.reason.contains("newer"), "{}", unknown.reason);
        let no_id = read(json!({"message": {}})).unwrap_err();
        assert_eq!(no_id.id, None);
    }

    #[test]
    fn a_button_under_a_newer_message_keeps_the_message() {
        let Value::Object(update) = message(json!({
            "text": "第二章",
            "entities": [{"type": "date_time", "offset": 0, "length": 2, "unix_time": 1}],
            "reply_markup": {"inline_keyboard": [[{"text": "2.2", "callback_data": "es:xzsj:2.2"}]]},
        })) else {
            unreachable!()
        };
        let callback = json!({"update_id": 12, "callback_query": {
            "id": "99", "from": {"id": 7, "is_bot": false, "first_name": "Ann"},
            "chat_instance": "1", "data": "es:xzsj:2.2", "message": update["message"]}});
        let reading = read(callback).unwrap();
        assert_eq!(
            reading.set_aside,
            vec!["callback_query.message.entities[0] (type \"date_time\")"]
        );
        let UpdateKind::CallbackQuery(query) = reading.update.kind else {
            unreachable!()
        };
        let message = query.regular_message().unwrap();
        assert_eq!(message.text(), Some("第二章"));
        assert!(message.reply_markup().is_some());
    }

    #[test]
    fn a_command_replying_to_a_newer_message_sets_aside_only_the_unknown_kind() {
        let Value::Object(replied) = message(json!({"checklist_test": {"title": "x"}})) else {
            unreachable!()
        };
        let raw = message(json!({"text": "/outline", "reply_to_message": replied["message"]}));
        let reading = read(raw).unwrap();
        assert_eq!(text_of(&reading.update).as_deref(), Some("/outline"));
        assert_eq!(
            reading.set_aside,
            vec!["message.reply_to_message.checklist_test"]
        );
    }

    #[test]
    fn a_quiz_of_bot_api_10_in_a_message_is_read() {
        let raw = message(json!({"poll": {
            "id": "p", "question": "q", "type": "quiz", "is_closed": false,
            "is_anonymous": false, "allows_multiple_answers": true, "total_voter_count": 1,
            "options": [{"text": "a", "voter_count": 1}, {"text": "b", "voter_count": 0}],
            "correct_option_ids": [0, 1]}}));
        let reading = read(raw).unwrap();
        assert!(reading.set_aside.is_empty());
    }

    #[test]
    fn reasons_are_shortened_for_the_log() {
        let long = "长".repeat(REASON_LIMIT + 10);
        let short = shorten(&long);
        assert_eq!(short.chars().count(), REASON_LIMIT + 1);
        assert!(short.ends_with('…'));
        assert_eq!(metric_kind("message"), "message");
        assert_eq!(metric_kind("rich_thing"), "unknown");
    }

    #[test]
    fn newer_poll_fields_are_ignored() {
        let poll_answer = json!({"update_id": 11, "poll_answer": {
            "poll_id": "p", "user": {"id": 7, "is_bot": false, "first_name": "Ann"},
            "option_ids": [0, 2], "option_persistent_ids": ["a", "c"]}});
        let reading = read(poll_answer).unwrap();
        let UpdateKind::PollAnswer(answer) = reading.update.kind else {
            unreachable!()
        };
        assert_eq!(answer.option_ids, vec![0, 2]);
    }
}
