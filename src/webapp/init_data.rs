//! Telegram's `initData`: the signed query string a Mini App receives, checked as
//! Telegram documents it ("Validating data received via the Mini App").
//!
//! The data-check string is every field except `hash`, sorted by key, `key=value`
//! joined by `\n` (values percent-decoded); the secret key is HMAC-SHA256 of the bot
//! token keyed with `"WebAppData"`; the data is genuine when HMAC-SHA256(secret,
//! data-check string) equals `hash`, compared in constant time.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Why `initData` was refused. The `Display` form is the short reason the API answers with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InitDataError {
    /// No `initData` at all (no `Authorization: tma …` header, or an empty one).
    #[error("missing initData")]
    Missing,
    /// Not a query string of unique keys, or too long.
    #[error("malformed initData")]
    Malformed,
    /// A key appears twice (which value was signed would be ambiguous).
    #[error("duplicated key in initData")]
    DuplicateKey,
    /// There is no `hash` field, or it is not 64 hex digits.
    #[error("initData has no valid hash")]
    MissingHash,
    /// The signature does not match: forged, tampered with, or signed for another bot.
    #[error("initData signature does not match")]
    Forged,
    /// `auth_date` is missing or not a number.
    #[error("initData has no valid auth_date")]
    MissingAuthDate,
    /// `auth_date` is older than the allowed age (or too far in the future).
    #[error("initData expired")]
    Expired,
    /// There is no `user` field, or it is not the JSON Telegram sends.
    #[error("initData has no valid user")]
    MissingUser,
}

/// The longest `initData` accepted (Telegram's are well under 1 KB; a photo URL and a
/// long name stay far below this).
pub const MAX_INIT_DATA_BYTES: usize = 4096;

/// How far in the future `auth_date` may be (clock skew between Telegram and us).
const FUTURE_SKEW: TimeDelta = TimeDelta::minutes(5);

/// The user Telegram vouches for (`initData.user`, the fields studybot uses).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WebAppUser {
    /// The user's Telegram id.
    pub id: u64,
    /// First name.
    #[serde(default)]
    pub first_name: String,
    /// Last name, if any.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Username, if any.
    #[serde(default)]
    pub username: Option<String>,
}

impl WebAppUser {
    /// The name as Telegram shows it: first and last name.
    pub fn full_name(&self) -> String {
        match &self.last_name {
            Some(last) if !last.is_empty() => format!("{} {last}", self.first_name),
            _ => self.first_name.clone(),
        }
    }
}

/// Verified `initData`: what may be trusted once [`verify`] accepted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitData {
    /// The user.
    pub user: WebAppUser,
    /// When Telegram signed the data.
    pub auth_date: DateTime<Utc>,
    /// The `startapp` parameter of the link that opened the app, if any.
    pub start_param: Option<String>,
}

/// The secret key for a bot token: HMAC-SHA256(key `"WebAppData"`, token).
pub fn secret_key(token: &str) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(b"WebAppData").expect("HMAC takes any key length");
    mac.update(token.as_bytes());
    mac.finalize().into_bytes().into()
}

/// Checks `raw` (the query string, as `Telegram.WebApp.initData` holds it) against the
/// bot's secret key, at `now`, refusing data older than `max_age`.
pub fn verify(
    raw: &str,
    secret: &[u8; 32],
    now: DateTime<Utc>,
    max_age: TimeDelta,
) -> Result<InitData, InitDataError> {
    if raw.trim().is_empty() {
        return Err(InitDataError::Missing);
    }
    if raw.len() > MAX_INIT_DATA_BYTES {
        return Err(InitDataError::Malformed);
    }
    let mut fields = BTreeMap::new();
    for (key, value) in url::form_urlencoded::parse(raw.as_bytes()) {
        if key.is_empty() {
            return Err(InitDataError::Malformed);
        }
        if fields
            .insert(key.into_owned(), value.into_owned())
            .is_some()
        {
            return Err(InitDataError::DuplicateKey);
        }
    }
    let hash = fields.remove("hash").ok_or(InitDataError::MissingHash)?;
    let hash = match hex::decode(&hash) {
        Ok(bytes) if bytes.len() == 32 => bytes,
        _ => return Err(InitDataError::MissingHash),
    };
    let check: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(check.join("\n").as_bytes());
    mac.verify_slice(&hash).map_err(|_| InitDataError::Forged)?;
    // Only signed data is looked at from here on.
    let auth_date = fields
        .get("auth_date")
        .and_then(|d| d.parse::<i64>().ok())
        .and_then(|secs| DateTime::from_timestamp(secs, 0))
        .ok_or(InitDataError::MissingAuthDate)?;
    if now - auth_date > max_age || auth_date - now > FUTURE_SKEW {
        return Err(InitDataError::Expired);
    }
    let user: WebAppUser = fields
        .get("user")
        .and_then(|u| serde_json::from_str(u).ok())
        .ok_or(InitDataError::MissingUser)?;
    Ok(InitData {
        user,
        auth_date,
        start_param: fields.get("start_param").filter(|p| !p.is_empty()).cloned(),
    })
}

/// Signs `fields` as Telegram would, returning the query string with its `hash`: what
/// the tests and the benchmark hand the app in place of Telegram.
pub fn sign(fields: &[(&str, &str)], secret: &[u8; 32]) -> String {
    let mut sorted: Vec<&(&str, &str)> = fields.iter().collect();
    sorted.sort_by_key(|(k, _)| *k);
    let check: Vec<String> = sorted.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(check.join("\n").as_bytes());
    let hash = hex::encode(mac.finalize().into_bytes());
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        query.append_pair(k, v);
    }
    query.append_pair("hash", &hash);
    query.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "123456:TEST-token";
    const USER: &str = r#"{"id":42,"first_name":"小明","last_name":"王","username":"xm"}"#;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn day() -> TimeDelta {
        TimeDelta::hours(24)
    }

    fn fields(auth: &str) -> Vec<(&'static str, String)> {
        vec![
            ("query_id", "AAH".to_string()),
            ("user", USER.to_string()),
            ("auth_date", auth.to_string()),
            ("start_param", "g-100123".to_string()),
        ]
    }

    fn signed(auth: &str) -> String {
        let fields = fields(auth);
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        sign(&pairs, &secret_key(TOKEN))
    }

    fn check(raw: &str) -> Result<InitData, InitDataError> {
        verify(raw, &secret_key(TOKEN), now(), day())
    }

    #[test]
    fn valid_data_is_accepted_with_its_user_and_start_param() {
        let data = check(&signed("1799999000")).unwrap();
        assert_eq!(data.user.id, 42);
        assert_eq!(data.user.full_name(), "小明 王");
        assert_eq!(data.start_param.as_deref(), Some("g-100123"));
        assert_eq!(data.auth_date.timestamp(), 1_799_999_000);
    }

    /// A hash computed independently of [`sign`], with Python's hmac module over the
    /// documented data-check string:
    /// `s = hmac.new(b"WebAppData", b"123456:TEST-token", sha256).digest()`;
    /// `hmac.new(s, b'auth_date=1799999000\nuser={"id":7}', sha256).hexdigest()`.
    #[test]
    fn a_hash_computed_independently_verifies() {
        let raw = "user=%7B%22id%22%3A7%7D&auth_date=1799999000\
                   &hash=d6f89fabd34d593d450ee3fe2725fc256a64cb4510121715ba9afc51bda408e8";
        assert_eq!(check(raw).unwrap().user.id, 7);
    }

    #[test]
    fn each_field_tampered_is_refused() {
        let raw = signed("1799999000");
        for (from, to) in [
            ("query_id=AAH", "query_id=AAI"),
            ("%22id%22%3A42", "%22id%22%3A43"),
            ("auth_date=1799999000", "auth_date=1799999001"),
            ("start_param=g-100123", "start_param=g-100124"),
        ] {
            assert!(raw.contains(from), "{from} in {raw}");
            let forged = raw.replace(from, to);
            assert_eq!(check(&forged), Err(InitDataError::Forged), "{to}");
        }
        // A field added or removed changes the data-check string too.
        assert_eq!(check(&format!("{raw}&extra=1")), Err(InitDataError::Forged));
        let without = raw.replace("query_id=AAH&", "");
        assert_eq!(check(&without), Err(InitDataError::Forged));
        // And the hash itself.
        let hash_at = raw.find("hash=").unwrap() + 5;
        let mut bad = raw.clone();
        let flipped = if &raw[hash_at..hash_at + 1] == "0" {
            "1"
        } else {
            "0"
        };
        bad.replace_range(hash_at..hash_at + 1, flipped);
        assert_eq!(check(&bad), Err(InitDataError::Forged));
    }

    #[test]
    fn another_bots_token_is_refused() {
        let raw = signed("1799999000");
        let other = secret_key("654321:OTHER-token");
        assert_eq!(
            verify(&raw, &other, now(), day()),
            Err(InitDataError::Forged)
        );
    }

    #[test]
    fn old_data_is_refused_and_the_age_is_configurable() {
        let a_day_and_a_second = (now() - day() - TimeDelta::seconds(1)).timestamp();
        let raw = signed(&a_day_and_a_second.to_string());
        assert_eq!(check(&raw), Err(InitDataError::Expired));
        let week = TimeDelta::days(7);
        assert!(verify(&raw, &secret_key(TOKEN), now(), week).is_ok());
        // Exactly the maximum age is still fine; far in the future is not.
        let edge = signed(&(now() - day()).timestamp().to_string());
        assert!(check(&edge).is_ok());
        let future = signed(&(now() + TimeDelta::hours(1)).timestamp().to_string());
        assert_eq!(check(&future), Err(InitDataError::Expired));
    }

    #[test]
    fn missing_or_bad_hash_is_refused() {
        let raw = signed("1799999000");
        let cut = &raw[..raw.find("&hash=").unwrap()];
        assert_eq!(check(cut), Err(InitDataError::MissingHash));
        assert_eq!(
            check(&format!("{cut}&hash=xyz")),
            Err(InitDataError::MissingHash)
        );
        assert_eq!(check(""), Err(InitDataError::Missing));
        assert_eq!(check("   "), Err(InitDataError::Missing));
    }

    #[test]
    fn duplicated_keys_are_refused() {
        let raw = signed("1799999000");
        assert_eq!(
            check(&format!("{raw}&auth_date=1799999000")),
            Err(InitDataError::DuplicateKey)
        );
        assert_eq!(
            check(&format!("{raw}&hash=00")),
            Err(InitDataError::DuplicateKey)
        );
    }

    #[test]
    fn values_are_percent_decoded_before_checking() {
        // `sign` percent-encodes the JSON (`{` → %7B, `"` → %22, Chinese → %E5…); the
        // check is over the decoded values, as Telegram computes it.
        let raw = signed("1799999000");
        assert!(raw.contains("%7B%22id%22") && raw.contains("%E5"), "{raw}");
        assert!(check(&raw).is_ok());
        // Encoding a character that needed none changes nothing.
        let recoded = raw.replace("query_id=AAH", "query_id=%41AH");
        assert!(check(&recoded).is_ok());
        // A space as `+` or `%20` is the same value.
        let spaced: Vec<(&str, &str)> = vec![
            ("user", r#"{"id":5,"first_name":"A B"}"#),
            ("auth_date", "1799999000"),
        ];
        let raw = sign(&spaced, &secret_key(TOKEN));
        assert!(raw.contains("A+B"), "{raw}");
        assert_eq!(check(&raw).unwrap().user.first_name, "A B");
        assert_eq!(
            check(&raw.replace("A+B", "A%20B")).unwrap().user.first_name,
            "A B"
        );
    }

    #[test]
    fn signed_data_without_user_or_date_is_refused() {
        let secret = secret_key(TOKEN);
        let no_user = sign(&[("auth_date", "1799999000")], &secret);
        assert_eq!(check(&no_user), Err(InitDataError::MissingUser));
        let no_date = sign(&[("user", USER)], &secret);
        assert_eq!(check(&no_date), Err(InitDataError::MissingAuthDate));
        let too_long = format!("a={}", "x".repeat(MAX_INIT_DATA_BYTES));
        assert_eq!(check(&too_long), Err(InitDataError::Malformed));
    }
}
