//! Reading Bot API parameters and classifying methods.

use serde_json::Value;

use crate::methods::{ApiErr, bad};
use crate::state::St;

pub(crate) fn p_i64(p: &Value, k: &str) -> Option<i64> {
    match p.get(k)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub(crate) fn p_str<'a>(p: &'a Value, k: &str) -> Option<&'a str> {
    p.get(k).and_then(Value::as_str)
}

pub(crate) fn p_bool(p: &Value, k: &str) -> Option<bool> {
    match p.get(k)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => Some(s == "true" || s == "1"),
        Value::Number(n) => Some(n.as_i64() != Some(0)),
        _ => None,
    }
}

pub(crate) fn resolve_chat(st: &St, v: &Value) -> Result<i64, ApiErr> {
    let id = match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) if s.starts_with('@') => {
            let name = &s[1..];
            st.chats
                .iter()
                .find(|(_, c)| c["username"].as_str() == Some(name))
                .map(|(id, _)| *id)
        }
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    match id {
        Some(id) if id != 0 => Ok(id),
        _ => Err(bad("chat not found")),
    }
}

pub(crate) fn is_send_call(m: &str) -> bool {
    ["send", "edit", "forward", "copy"]
        .iter()
        .any(|p| m.starts_with(p))
        || m == "stoppoll"
        || m == "deletemessage"
}

pub(crate) fn is_new_message(m: &str) -> bool {
    m != "sendchataction" && ["send", "forward", "copy"].iter().any(|p| m.starts_with(p))
}
