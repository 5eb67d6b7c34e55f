//! The Bot API methods the fake implements, with Telegram's checks and error texts.

use serde_json::{Value, json};

use crate::html::parse_html;
use crate::params::{is_new_message, is_send_call, p_bool, p_i64, p_str, resolve_chat};
use crate::server::{bot_id, bot_user, now_unix, utf16_len};
use crate::state::{Behaviour, Inner, St, commands_key, member_json};
use crate::{
    MAX_MESSAGE_LEN, MAX_POLL_EXPLANATION, MAX_POLL_OPTION_LEN, MAX_POLL_OPTIONS,
    MAX_POLL_QUESTION, MIN_POLL_OPTIONS,
};

pub(crate) const NOT_MODIFIED: &str = "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message";
pub(crate) const CONFLICT: &str = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running";
pub(crate) const INVALID_QUERY: &str =
    "Bad Request: query is too old and response timeout expired or query id is invalid";

pub(crate) type ApiResult = Result<Value, ApiErr>;

pub(crate) struct ApiErr {
    pub(crate) code: u16,
    pub(crate) desc: String,
    pub(crate) params: Option<Value>,
}

impl ApiErr {
    pub(crate) fn new(code: u16, desc: impl Into<String>) -> Self {
        ApiErr {
            code,
            desc: desc.into(),
            params: None,
        }
    }
}

pub(crate) fn bad(desc: impl std::fmt::Display) -> ApiErr {
    ApiErr::new(400, format!("Bad Request: {desc}"))
}

/// `Ok(())` if `ok`, else a 400 "Bad Request: {desc}".
pub(crate) fn check(ok: bool, desc: impl std::fmt::Display) -> Result<(), ApiErr> {
    if ok { Ok(()) } else { Err(bad(desc)) }
}

pub(crate) fn too_many(secs: u64) -> ApiErr {
    let desc = format!("Too Many Requests: retry after {secs}");
    ApiErr {
        params: Some(json!({"retry_after": secs})),
        ..ApiErr::new(429, desc)
    }
}

pub(crate) fn call(inner: &Inner, m: &str, token: &str, p: &Value) -> ApiResult {
    let mut st = inner.lock();
    st.last_token = Some(token.to_string());
    let chat = match p.get("chat_id") {
        None | Some(Value::Null) => None,
        Some(v) => Some(resolve_chat(&st, v)?),
    };
    if is_send_call(m) && st.rate_limit_next.0 > 0 {
        st.rate_limit_next.0 -= 1;
        return Err(too_many(st.rate_limit_next.1));
    }
    if let Some((left, secs)) = st.rate_limit_method.get_mut(m)
        && *left > 0
    {
        *left -= 1;
        return Err(too_many(*secs));
    }
    if is_send_call(m)
        && let Some(c) = chat
        && let Some((left, secs)) = st.rate_limit_chat.get_mut(&c)
        && *left > 0
    {
        *left -= 1;
        return Err(too_many(*secs));
    }
    if let Some(c) = chat {
        st.check_behaviour(c)?;
        if is_new_message(m) && matches!(st.behaviours.get(&c), Some(Behaviour::Muted)) {
            return Err(bad("not enough rights to send text messages to the chat"));
        }
        if is_new_message(m) {
            st.enforce(c).map_err(too_many)?;
        }
    }
    let need_chat = || chat.ok_or_else(|| bad("chat_id is empty"));
    let bot = bot_user(token);
    let res = match m {
        "getfile" => {
            let id = p_str(p, "file_id").unwrap_or_default();
            let (path, bytes) = st.files.get(id).ok_or_else(|| bad("invalid file_id"))?;
            if bytes.len() > 20 * 1024 * 1024 {
                return Err(bad("file is too big"));
            }
            json!({"file_id": id, "file_unique_id": format!("u{id}"),
                   "file_size": bytes.len(), "file_path": path})
        }
        "getme" => {
            let mut me = bot;
            me["can_join_groups"] = json!(true);
            for k in [
                "can_read_all_group_messages",
                "supports_inline_queries",
                "can_connect_to_business",
                "has_main_web_app",
            ] {
                me[k] = json!(false)
            }
            me
        }
        "deletewebhook" => {
            st.webhook = None;
            if p_bool(p, "drop_pending_updates") == Some(true) {
                st.updates.clear();
            }
            json!(true)
        }
        "setwebhook" => {
            let url = p_str(p, "url").unwrap_or("");
            check(
                url.is_empty() || url.starts_with("https://"),
                "bad webhook: An HTTPS URL must be provided for webhook",
            )?;
            st.webhook = (!url.is_empty()).then(|| p.clone());
            json!(true)
        }
        "getwebhookinfo" => {
            let mut info = json!({"url": "", "has_custom_certificate": false, "pending_update_count": st.updates.len()});
            if let Some(w) = &st.webhook {
                info["url"] = w["url"].clone();
                info["max_connections"] = json!(p_i64(w, "max_connections").unwrap_or(40));
            }
            info
        }
        "setmycommands" => {
            let cmds = p
                .get("commands")
                .and_then(Value::as_array)
                .ok_or_else(|| bad("parameter \"commands\" is required"))?;
            check(cmds.len() <= 100, "BOT_COMMANDS_TOO_MUCH")?;
            for c in cmds {
                let name = c["command"].as_str().unwrap_or("");
                let valid = name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
                check(
                    (1..=32).contains(&name.len()) && valid,
                    "BOT_COMMAND_INVALID",
                )?;
                let d = c["description"].as_str().unwrap_or("").chars().count();
                check(
                    (1..=256).contains(&d),
                    "command description must be non-empty",
                )?;
            }
            st.commands.insert(commands_key(p), json!(cmds));
            json!(true)
        }
        "getmycommands" => st
            .commands
            .get(&commands_key(p))
            .cloned()
            .unwrap_or(json!([])),
        "deletemycommands" => {
            st.commands.remove(&commands_key(p));
            json!(true)
        }
        "sendmessage" => {
            let c = need_chat()?;
            let (text, entities) = formatted(p, "text", "parse_mode", "entities")?;
            check_text(&text, false)?;
            let mut fields = json!({"text": text});
            if !entities.is_empty() {
                fields["entities"] = json!(entities)
            }
            if let Some(mk) = check_markup(p.get("reply_markup"))? {
                fields["reply_markup"] = mk
            }
            if let Some(r) = reply_to(&st, c, p)? {
                fields["reply_to_message"] = r
            }
            topic_fields(&st, c, p, &mut fields)?;
            st.make_message(c, bot, fields, true)
        }
        "editmessagetext" | "editmessagereplymarkup" => {
            edit_message(&mut st, m == "editmessagetext", chat, p)?
        }
        "deletemessage" => {
            let key = (need_chat()?, p_i64(p, "message_id").unwrap_or(0));
            check(
                st.messages.remove(&key).is_some(),
                "message to delete not found",
            )?;
            json!(true)
        }
        "senddocument" => {
            let c = need_chat()?;
            let mut fields = json!({"document": {"file_id": format!("doc{}", now_unix()), "file_unique_id": "doc"}});
            if p_str(p, "caption").is_some() {
                let (caption, _) = formatted(p, "caption", "parse_mode", "caption_entities")?;
                crate::limits::check_caption(&caption)?;
                fields["caption"] = json!(caption);
            }
            st.make_message(c, bot, fields, true)
        }
        "answercallbackquery" => {
            let id = p_str(p, "callback_query_id").unwrap_or("");
            if !st.callbacks.remove(id) {
                return Err(ApiErr::new(400, INVALID_QUERY));
            }
            json!(true)
        }
        "sendpoll" => {
            let c = need_chat()?;
            let mut fields = json!({"poll": build_poll(&mut st, p)?});
            if let Some(mk) = check_markup(p.get("reply_markup"))? {
                fields["reply_markup"] = mk
            }
            topic_fields(&st, c, p, &mut fields)?;
            let msg = st.make_message(c, bot, fields, true);
            let key = (c, msg["message_id"].as_i64().unwrap_or(0));
            st.polls
                .insert(msg["poll"]["id"].as_str().unwrap_or("").to_string(), key);
            msg
        }
        "stoppoll" => {
            let key = (need_chat()?, p_i64(p, "message_id").unwrap_or(0));
            let stored = st
                .messages
                .get_mut(&key)
                .filter(|s| s.msg.get("poll").is_some());
            let stored = stored.ok_or_else(|| bad("message with poll to stop not found"))?;
            check(stored.from_bot, "poll can't be stopped")?;
            check(
                stored.msg["poll"]["is_closed"] != json!(true),
                "poll has already been closed",
            )?;
            stored.msg["poll"]["is_closed"] = json!(true);
            let poll = stored.msg["poll"].clone();
            st.push("poll", poll.clone());
            poll
        }
        "getchatmember" => {
            let c = need_chat()?;
            let uid = p_i64(p, "user_id").ok_or_else(|| bad("user not found"))?;
            check(c < 0 || uid == c || uid == bot_id(token), "user not found")?;
            member_json(
                st.user_json(uid, token),
                if c > 0 {
                    "member"
                } else {
                    st.status_of(c, uid)
                },
            )
        }
        "getchatadministrators" => {
            let c = need_chat()?;
            check(c < 0, "there are no administrators in the private chat")?;
            let admins = st.admins.get(&c).into_iter().flatten();
            json!(
                admins
                    .map(|&a| member_json(st.user_json(a, token), "administrator"))
                    .collect::<Vec<_>>()
            )
        }
        "getchat" => {
            let mut info = st.chat_json(need_chat()?);
            info["accepted_gift_types"] = json!({"unlimited_gifts": false, "limited_gifts": false,
                "unique_gifts": false, "premium_subscription": false});
            info["max_reaction_count"] = json!(11);
            info["accent_color_id"] = json!(0);
            info
        }
        "leavechat" => {
            let c = need_chat()?;
            check(
                c < 0,
                "chat member status can't be changed in private chats",
            )?;
            st.behaviours.insert(c, Behaviour::Left);
            json!(true)
        }
        "sendchataction" | "pinchatmessage" | "unpinchatmessage" => {
            need_chat()?;
            json!(true)
        }
        "setmydescription" | "setmyshortdescription" | "setmyname" | "setchatmenubutton" => {
            json!(true)
        }
        _ => return Err(ApiErr::new(404, "Not Found")),
    };
    Ok(res)
}

pub(crate) fn edit_message(st: &mut St, is_text: bool, chat: Option<i64>, p: &Value) -> ApiResult {
    let (text, entities) = if is_text {
        formatted(p, "text", "parse_mode", "entities")?
    } else {
        Default::default()
    };
    if is_text {
        check_text(&text, true)?;
    }
    let new_mk = check_markup(p.get("reply_markup"))?.unwrap_or(Value::Null);
    if p_str(p, "inline_message_id").is_some() {
        return Ok(json!(true));
    }
    let c = chat.ok_or_else(|| bad("chat_id is empty"))?;
    let mid = p_i64(p, "message_id").ok_or_else(|| bad("message identifier is not specified"))?;
    let stored = st
        .messages
        .get_mut(&(c, mid))
        .ok_or_else(|| bad("message to edit not found"))?;
    check(stored.from_bot, "message can't be edited")?;
    let msg = &mut stored.msg;
    check(
        !is_text || msg.get("text").is_some(),
        "there is no text in the message to edit",
    )?;
    let new_ents = if entities.is_empty() {
        Value::Null
    } else {
        json!(entities)
    };
    let old_ents = msg.get("entities").cloned().unwrap_or(Value::Null);
    let old_mk = msg.get("reply_markup").cloned().unwrap_or(Value::Null);
    let same_text =
        !is_text || (msg["text"].as_str() == Some(text.as_str()) && old_ents == new_ents);
    if same_text && old_mk == new_mk {
        return Err(ApiErr::new(400, NOT_MODIFIED));
    }
    let obj = msg
        .as_object_mut()
        .ok_or_else(|| bad("message to edit not found"))?;
    let mut set = |k: &str, v: Value| {
        if v.is_null() {
            obj.remove(k);
        } else {
            obj.insert(k.into(), v);
        }
    };
    if is_text {
        set("text", json!(text));
        set("entities", new_ents);
    }
    set("reply_markup", new_mk); // like Telegram: no reply_markup in an edit removes the keyboard
    set("edit_date", json!(now_unix()));
    Ok(msg.clone())
}

/// `message_thread_id` of a send: only forum supergroups have topics (Telegram answers "message
/// thread not found" elsewhere); the sent message then carries it with `is_topic_message`.
pub(crate) fn topic_fields(
    st: &St,
    chat: i64,
    p: &Value,
    fields: &mut Value,
) -> Result<(), ApiErr> {
    let Some(topic) = p_i64(p, "message_thread_id") else {
        return Ok(());
    };
    if st.chat_json(chat)["is_forum"] != json!(true) {
        return Err(bad("message thread not found"));
    }
    fields["message_thread_id"] = json!(topic);
    fields["is_topic_message"] = json!(true);
    Ok(())
}

pub(crate) fn reply_to(st: &St, chat: i64, p: &Value) -> Result<Option<Value>, ApiErr> {
    let (mid, allow) = match p.get("reply_parameters").filter(|r| r.is_object()) {
        Some(r) => (
            p_i64(r, "message_id"),
            p_bool(r, "allow_sending_without_reply"),
        ),
        None => (
            p_i64(p, "reply_to_message_id"),
            p_bool(p, "allow_sending_without_reply"),
        ),
    };
    let Some(mid) = mid else { return Ok(None) };
    match st.messages.get(&(chat, mid)) {
        Some(m) => {
            let mut r = m.msg.clone();
            r.as_object_mut().map(|o| o.remove("reply_to_message"));
            Ok(Some(r))
        }
        None => check(allow == Some(true), "message to be replied not found").map(|_| None),
    }
}

pub(crate) fn check_text(text: &str, edit: bool) -> Result<(), ApiErr> {
    check(!text.trim().is_empty(), "message text is empty")?;
    check(
        utf16_len(text) <= MAX_MESSAGE_LEN,
        if edit {
            "MESSAGE_TOO_LONG"
        } else {
            "message is too long"
        },
    )
}

/// Parse `p[text_key]` according to `p[mode_key]`; returns (plain text, entities).
/// Only HTML is validated; `MarkdownV2`/`Markdown` text is passed through unchanged.
pub(crate) fn formatted(
    p: &Value,
    text_key: &str,
    mode_key: &str,
    ents_key: &str,
) -> Result<(String, Vec<Value>), ApiErr> {
    let text = match p.get(text_key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    match p_str(p, mode_key)
        .unwrap_or("")
        .to_ascii_lowercase()
        .as_str()
    {
        "html" => parse_html(&text),
        "" | "markdown" | "markdownv2" => Ok((
            text,
            p.get(ents_key)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
        )),
        _ => Err(bad("unsupported parse_mode")),
    }
}

pub(crate) fn check_markup(m: Option<&Value>) -> Result<Option<Value>, ApiErr> {
    const BAD_JSON: &str = "can't parse reply keyboard markup JSON object";
    let m = match m {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => serde_json::from_str(s).map_err(|_| bad(BAD_JSON))?,
        Some(v) => v.clone(),
    };
    let Some(rows) = m.get("inline_keyboard") else {
        return check(m.is_object(), BAD_JSON).map(|_| None); // reply keyboards are not echoed
    };
    let rows = rows
        .as_array()
        .ok_or_else(|| bad("field \"inline_keyboard\" must be an Array"))?;
    crate::limits::check_keyboard(rows)?;
    let actions = [
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "copy_text",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "callback_game",
        "pay",
    ];
    for b in rows.iter().flat_map(|r| r.as_array().into_iter().flatten()) {
        check(
            b["text"].is_string(),
            "can't parse inline keyboard button: Field \"text\" must be of type String",
        )?;
        let has_action = actions
            .iter()
            .any(|a| b.get(*a).is_some_and(|v| !v.is_null()));
        check(
            has_action,
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
        )?;
        if let Some(d) = b.get("callback_data").filter(|v| !v.is_null()) {
            check(
                (1..=64).contains(&d.as_str().map_or(0, str::len)),
                "BUTTON_DATA_INVALID",
            )?;
        }
        if let Some(u) = b.get("url").and_then(Value::as_str) {
            let ok = ["http://", "https://", "tg://"]
                .iter()
                .any(|s| u.starts_with(s))
                && !u.contains(' ');
            check(ok, "BUTTON_URL_INVALID")?;
        }
    }
    check(
        rows.iter().all(Value::is_array),
        "field \"inline_keyboard\" must be an Array of Arrays",
    )?;
    let empty = rows.iter().all(|r| r.as_array().is_none_or(Vec::is_empty));
    Ok((!empty).then(|| json!({"inline_keyboard": rows})))
}

pub(crate) fn build_poll(st: &mut St, p: &Value) -> Result<Value, ApiErr> {
    let question = p_str(p, "question").unwrap_or("");
    check(!question.is_empty(), "poll question must be non-empty")?;
    let max_q = format!("poll question length must not exceed {MAX_POLL_QUESTION}");
    check(question.chars().count() <= MAX_POLL_QUESTION, max_q)?;
    let opts: Vec<&str> = match p.get("options") {
        Some(Value::Array(a)) => a
            .iter()
            .map(|o| o.as_str().or_else(|| o["text"].as_str()).unwrap_or(""))
            .collect(),
        _ => vec![],
    };
    check(
        opts.len() >= MIN_POLL_OPTIONS,
        "poll must have at least 2 option",
    )?;
    check(
        opts.len() <= MAX_POLL_OPTIONS,
        format!("poll can't have more than {MAX_POLL_OPTIONS} options"),
    )?;
    check(
        opts.iter().all(|o| !o.is_empty()),
        "poll options must be non-empty",
    )?;
    let max_o = format!("poll options length must not exceed {MAX_POLL_OPTION_LEN}");
    check(
        opts.iter()
            .all(|o| o.chars().count() <= MAX_POLL_OPTION_LEN),
        max_o,
    )?;
    let quiz = match p_str(p, "type").unwrap_or("regular") {
        "quiz" => true,
        "regular" | "" => false,
        _ => return Err(bad("wrong poll type specified")),
    };
    st.seq += 1;
    let mut poll = json!({
        "id": format!("{}", 5_000_000_000_000_000_000u64 + st.seq),
        "question": question,
        "options": opts.iter().map(|t| json!({"text": t, "voter_count": 0})).collect::<Vec<_>>(),
        "total_voter_count": 0,
        "is_closed": p_bool(p, "is_closed").unwrap_or(false),
        "is_anonymous": p_bool(p, "is_anonymous").unwrap_or(true),
        "type": if quiz { "quiz" } else { "regular" },
        "allows_multiple_answers": !quiz && p_bool(p, "allows_multiple_answers").unwrap_or(false),
    });
    if quiz {
        let id = p_i64(p, "correct_option_id").unwrap_or(-1);
        check(
            id >= 0 && (id as usize) < opts.len(),
            "wrong correct option ID specified",
        )?;
        poll["correct_option_id"] = json!(id);
        if p_str(p, "explanation").is_some_and(|e| !e.is_empty()) {
            let (text, ents) = formatted(
                p,
                "explanation",
                "explanation_parse_mode",
                "explanation_entities",
            )?;
            let max_e = format!("poll explanation length must not exceed {MAX_POLL_EXPLANATION}");
            check(text.chars().count() <= MAX_POLL_EXPLANATION, max_e)?;
            poll["explanation"] = json!(text);
            if !ents.is_empty() {
                poll["explanation_entities"] = json!(ents)
            }
        }
    }
    if let Some(op) = p_i64(p, "open_period") {
        check(
            (5..=600).contains(&op),
            "open_period must be between 5 and 600",
        )?;
        poll["open_period"] = json!(op);
        poll["close_date"] = json!(now_unix() + op);
    } else if let Some(cd) = p_i64(p, "close_date") {
        poll["close_date"] = json!(cd);
    }
    Ok(poll)
}
