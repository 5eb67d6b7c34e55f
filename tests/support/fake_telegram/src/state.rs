//! The fake's state: chats, messages, polls, queued updates, limits and injected faults,
//! with the helpers that turn them into updates and `ChatMember` objects.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::methods::{ApiErr, bad};
use crate::server::{bot_id, bot_user, now_unix};
use crate::{FaultKind, Recorded, SentDocument};

#[derive(Clone, Copy, Debug)]
pub(crate) enum Behaviour {
    Kicked,
    Blocked,
    NotFound,
    Left,
    Migrated(i64),
    /// The bot is in the chat but may not send messages (muted or restricted).
    Muted,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub(crate) per_chat_sec: u32,
    pub(crate) per_group_min: u32,
    pub(crate) global_sec: u32,
    /// How much shorter than a second (a minute) the windows are: 50 ms, or 0 when strict.
    pub(crate) tolerance: Duration,
}

pub(crate) struct Stored {
    pub(crate) msg: Value,
    pub(crate) from_bot: bool,
}

#[derive(Default)]
pub(crate) struct St {
    pub(crate) requests: Vec<Recorded>,
    pub(crate) last_token: Option<String>,
    pub(crate) updates: VecDeque<(i64, Value)>,
    pub(crate) next_update_id: i64,
    pub(crate) active_poll: Option<u64>,
    pub(crate) poll_seq: u64,
    pub(crate) terminated: HashSet<u64>,
    pub(crate) force_conflict: bool,
    pub(crate) behaviours: HashMap<i64, Behaviour>,
    pub(crate) chats: HashMap<i64, Value>,
    pub(crate) users: HashMap<i64, Value>,
    pub(crate) next_msg_id: HashMap<i64, i64>,
    pub(crate) messages: HashMap<(i64, i64), Stored>,
    pub(crate) polls: HashMap<String, (i64, i64)>,
    pub(crate) poll_votes: HashMap<String, HashMap<i64, Vec<u64>>>,
    pub(crate) seq: u64,
    pub(crate) callbacks: HashSet<String>,
    pub(crate) admins: HashMap<i64, Vec<i64>>,
    /// Users `getChatMember` answers as `left` (not in the group), by chat.
    pub(crate) outsiders: HashMap<i64, Vec<i64>>,
    pub(crate) webhook: Option<Value>,
    pub(crate) commands: HashMap<String, Value>,
    pub(crate) rate_limit_next: (u32, u64),
    pub(crate) limits: Option<Limits>,
    pub(crate) hist_chat: HashMap<i64, VecDeque<Instant>>,
    pub(crate) hist_global: VecDeque<Instant>,
    pub(crate) fault_rate: f64,
    pub(crate) fault_kinds: Vec<FaultKind>,
    pub(crate) fault_delay: Duration,
    pub(crate) fault_get_updates: bool,
    /// Lower-cased method name → how long its answers are held back (after executing).
    pub(crate) response_delays: HashMap<String, Duration>,
    /// Files users sent, by `file_id`: (`file_path`, bytes), served by `getFile` and the
    /// download endpoint `/file/bot<token>/<file_path>`.
    pub(crate) files: HashMap<String, (String, Vec<u8>)>,
    /// The longest random delay before a request is executed.
    pub(crate) arrival_jitter: Duration,
    /// Chat → (send calls still to answer 429, retry_after).
    pub(crate) rate_limit_chat: HashMap<i64, (u32, u64)>,
    /// Lower-cased method → (calls still to answer 429, retry_after).
    pub(crate) rate_limit_method: HashMap<String, (u32, u64)>,
    /// Lower-cased method → how many calls succeed before every further one answers 500.
    pub(crate) failing_methods: HashMap<String, usize>,
    /// A process to SIGKILL as soon as a `sendMessage` whose text contains the needle
    /// arrives (once), see [`FakeTelegram::kill_on_message`].
    pub(crate) kill_on_message: Option<(u32, String)>,
    /// Files received by sendDocument, byte for byte.
    pub(crate) documents: Vec<SentDocument>,
}

/// The shared state and a notification for every change of it (waiters re-check).
pub(crate) struct Inner {
    pub(crate) st: Mutex<St>,
    pub(crate) changed: Notify,
}

impl Inner {
    pub(crate) fn lock(&self) -> MutexGuard<'_, St> {
        self.st.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl St {
    pub(crate) fn push(&mut self, kind: &str, payload: Value) -> i64 {
        let id = self.next_update_id;
        self.next_update_id += 1;
        let mut u = json!({"update_id": id});
        u[kind] = payload;
        self.updates.push_back((id, u));
        id
    }

    pub(crate) fn confirm(&mut self, offset: i64) {
        if offset > 0 {
            while self.updates.front().is_some_and(|(id, _)| *id < offset) {
                self.updates.pop_front();
            }
        } else if offset < 0 {
            let keep = offset.unsigned_abs() as usize;
            while self.updates.len() > keep {
                self.updates.pop_front();
            }
        }
    }

    pub(crate) fn chat_json(&self, id: i64) -> Value {
        if let Some(c) = self.chats.get(&id) {
            return c.clone();
        }
        if id > 0 {
            json!({"id": id, "type": "private", "first_name": format!("User{id}")})
        } else if id <= -1_000_000_000_000 {
            json!({"id": id, "type": "supergroup", "title": format!("Supergroup {id}")})
        } else {
            json!({"id": id, "type": "group", "title": format!("Group {id}")})
        }
    }

    pub(crate) fn user_json(&self, id: i64, token: &str) -> Value {
        if id == bot_id(token) {
            return bot_user(token);
        }
        self.users.get(&id).cloned().unwrap_or_else(
            || json!({"id": id, "is_bot": false, "first_name": format!("User{id}")}),
        )
    }

    pub(crate) fn make_message(
        &mut self,
        chat_id: i64,
        from: Value,
        fields: Value,
        from_bot: bool,
    ) -> Value {
        let n = self.next_msg_id.entry(chat_id).or_insert(0);
        *n += 1;
        let id = *n;
        let mut m = json!({"message_id": id, "from": from, "chat": self.chat_json(chat_id), "date": now_unix()});
        if let Value::Object(f) = fields {
            for (k, v) in f {
                m[k] = v;
            }
        }
        self.messages.insert(
            (chat_id, id),
            Stored {
                msg: m.clone(),
                from_bot,
            },
        );
        m
    }

    pub(crate) fn status_of(&self, chat: i64, user: i64) -> &'static str {
        if self.admins.get(&chat).is_some_and(|a| a.contains(&user)) {
            "administrator"
        } else if self.outsiders.get(&chat).is_some_and(|a| a.contains(&user)) {
            "left"
        } else {
            "member"
        }
    }

    pub(crate) fn check_behaviour(&self, chat: i64) -> Result<(), ApiErr> {
        let kind = self.chat_json(chat)["type"]
            .as_str()
            .unwrap_or("group")
            .to_string();
        match self.behaviours.get(&chat) {
            None | Some(Behaviour::Muted) => Ok(()),
            Some(Behaviour::Blocked) => {
                Err(ApiErr::new(403, "Forbidden: bot was blocked by the user"))
            }
            Some(Behaviour::Kicked) if chat > 0 => {
                Err(ApiErr::new(403, "Forbidden: bot was blocked by the user"))
            }
            Some(Behaviour::Kicked) => Err(ApiErr::new(
                403,
                format!("Forbidden: bot was kicked from the {kind} chat"),
            )),
            Some(Behaviour::Left) => Err(ApiErr::new(
                403,
                format!("Forbidden: bot is not a member of the {kind} chat"),
            )),
            Some(Behaviour::NotFound) => Err(bad("chat not found")),
            Some(Behaviour::Migrated(to)) => Err(ApiErr {
                params: Some(json!({"migrate_to_chat_id": to})),
                ..bad("group chat was upgraded to a supergroup chat")
            }),
        }
    }

    pub(crate) fn enforce(&mut self, chat: i64) -> Result<(), u64> {
        let Some(l) = self.limits else { return Ok(()) };
        let now = Instant::now();
        let tol = l.tolerance;
        let (sec, min) = (Duration::from_secs(1) - tol, Duration::from_secs(60) - tol);
        let wait = |t: Instant, w: Duration| {
            (w.saturating_sub(now - t).as_secs_f64().ceil() as u64).max(1)
        };
        self.hist_global.retain(|t| now - *t < sec);
        if l.global_sec > 0 && self.hist_global.len() >= l.global_sec as usize {
            return Err(wait(
                self.hist_global[self.hist_global.len() - l.global_sec as usize],
                sec,
            ));
        }
        let h = self.hist_chat.entry(chat).or_default();
        h.retain(|t| now - *t < min);
        let recent: Vec<Instant> = h.iter().copied().filter(|t| now - *t < sec).collect();
        if l.per_chat_sec > 0 && recent.len() >= l.per_chat_sec as usize {
            return Err(wait(recent[recent.len() - l.per_chat_sec as usize], sec));
        }
        if chat < 0 && l.per_group_min > 0 && h.len() >= l.per_group_min as usize {
            return Err(wait(h[h.len() - l.per_group_min as usize], min));
        }
        h.push_back(now);
        self.hist_global.push_back(now);
        Ok(())
    }
}

pub(crate) fn member_json(user: Value, status: &str) -> Value {
    match status {
        "creator" | "owner" => json!({"status": "creator", "user": user, "is_anonymous": false}),
        "administrator" | "admin" => {
            json!({"status": "administrator", "user": user, "can_be_edited": false,
            "is_anonymous": false, "can_manage_chat": true, "can_change_info": true, "can_delete_messages": true,
            "can_manage_video_chats": true, "can_invite_users": true, "can_restrict_members": true,
            "can_promote_members": false, "can_post_stories": false, "can_edit_stories": false,
            "can_delete_stories": false, "can_pin_messages": true, "can_manage_topics": false})
        }
        "restricted" => {
            json!({"status": "restricted", "user": user, "until_date": 0, "is_member": true,
            "can_send_messages": false, "can_send_audios": false, "can_send_documents": false,
            "can_send_photos": false, "can_send_videos": false, "can_send_video_notes": false,
            "can_send_voice_notes": false, "can_send_other_messages": false, "can_add_web_page_previews": false,
            "can_change_info": false, "can_invite_users": false, "can_pin_messages": false,
            "can_manage_topics": false, "can_send_polls": false})
        }
        "left" => json!({"status": "left", "user": user}),
        "kicked" | "banned" => json!({"status": "kicked", "user": user, "until_date": 0}),
        _ => json!({"status": "member", "user": user}),
    }
}

pub(crate) fn commands_key(p: &Value) -> String {
    let scope = p
        .get("scope")
        .cloned()
        .filter(|s| !s.is_null())
        .unwrap_or(json!({"type": "default"}));
    let lang = p.get("language_code").and_then(Value::as_str).unwrap_or("");
    format!("{scope}|{lang}")
}
