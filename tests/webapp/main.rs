//! The Mini App end to end: the real binary with `[web]` against the fake Bot API.
//! `api` checks every route's authorisation (member, admin, stranger, other group,
//! missing, forged and expired `initData`) and what the routes answer; `browser` drives
//! headless Chromium through the reader and the dashboard.

#[path = "../common/subscription.rs"]
mod subscription;

mod api;
mod browser;

use std::net::SocketAddr;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use fake_telegram::{FakeChat, FakeTelegram, FakeUser};
use harness::{BotProcess, Studybot, TOKEN, Workspace};
use serde_json::Value;
use studybot::record::CheckIn;
use studybot::store::Store;
use studybot::text::SectionId;
use studybot::webapp::init_data::{secret_key, sign};
use studybot::webapp::{StartParam, View};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The binary under test.
const STUDYBOT: Studybot = Studybot::at(env!("CARGO_BIN_EXE_studybot"));

const WAIT: Duration = Duration::from_secs(30);

/// The study group.
const GROUP: i64 = -1_001_700_000_001;
/// Another group, which the members are not in.
const OTHER_GROUP: i64 = -1_001_700_000_002;

/// Members of [`GROUP`]: an administrator, two members, and a stranger (not in it).
const ADMIN: i64 = 701;
const MEMBER: i64 = 702;
const MEMBER_2: i64 = 703;
const STRANGER: i64 = 704;

/// A bot with `[web]` on a free loopback port, its fake Bot API and its workspace.
pub struct WebBot {
    pub tg: FakeTelegram,
    pub workspace: Workspace,
    pub bot: BotProcess,
    pub addr: SocketAddr,
}

impl WebBot {
    /// The app's base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// A free loopback port (bound, then released for the bot to take).
pub fn free_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], harness::free_port()))
}

/// Seeds the group's record: a subscription, and check-ins on past days (member 702
/// on the last three days but today, for 1, 1.1 and 1.2; 703 five days ago, for the
/// opening), then starts the bot with
/// `[web]` and waits until its server answers.
pub async fn start_web_bot() -> WebBot {
    let addr = free_addr();
    let workspace = Workspace::with_sections(
        "",
        &format!("[web]\nlisten = \"{addr}\"\npublic_url = \"http://{addr}\"\n"),
    );
    seed(&workspace, Utc::now());
    let tg = FakeTelegram::start().await;
    tg.register_chat(&FakeChat::supergroup(GROUP, "学习小组"));
    tg.register_chat(&FakeChat::supergroup(OTHER_GROUP, "别的群"));
    tg.set_admins(GROUP, vec![ADMIN]);
    tg.set_outsiders(GROUP, vec![STRANGER]);
    tg.set_outsiders(OTHER_GROUP, vec![ADMIN, MEMBER, MEMBER_2, STRANGER]);
    let bot = STUDYBOT.started(&tg, &workspace).await;
    if harness::connect_when_listening(addr, WAIT).await.is_none() {
        panic!("the app listens on {addr}: {}", bot.log());
    }
    WebBot {
        tg,
        workspace,
        bot,
        addr,
    }
}

/// The Shanghai date of `now`.
pub fn shanghai_today(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&chrono_tz::Asia::Shanghai).date_naive()
}

fn seed(workspace: &Workspace, now: DateTime<Utc>) {
    let store = Store::open(&workspace.db()).unwrap();
    let subscription = subscription::shanghai_subscription(GROUP, now - TimeDelta::days(10));
    store
        .subscribe(subscription, None, now - TimeDelta::days(10))
        .unwrap();
    let today = shanghai_today(now);
    let check_in = |user: u64, name: &str, days_ago: i64, section: SectionId| CheckIn {
        chat_id: GROUP,
        user_id: user,
        name: name.into(),
        document: "xzsj".into(),
        section,
        date: today - TimeDelta::days(days_ago),
        done_on: today - TimeDelta::days(days_ago),
        at: now - TimeDelta::days(days_ago),
    };
    for (days_ago, section) in [
        (3, SectionId::part(1)),
        (2, SectionId::point(1, 1)),
        (1, SectionId::point(1, 2)),
    ] {
        store
            .check_in(&check_in(MEMBER as u64, "Mia", days_ago, section))
            .unwrap();
    }
    store
        .check_in(&check_in(MEMBER_2 as u64, "Noah", 5, SectionId::OPENING))
        .unwrap();
    store
        .join(GROUP, ADMIN as u64, "Ada", now - TimeDelta::days(10), true)
        .unwrap();
    store.flush().unwrap();
}

/// `initData` for `user` as Telegram would sign it with the test token, opening
/// `view` of `chat` (`None`: no start parameter, as from the private chat), signed
/// `age` ago.
pub fn init_data(user: i64, name: &str, chat: Option<(i64, View)>, age: TimeDelta) -> String {
    let user_json = format!(r#"{{"id":{user},"first_name":"{name}","language_code":"zh-hans"}}"#);
    let auth_date = (Utc::now() - age).timestamp().to_string();
    let start = chat.map(|(chat_id, view)| StartParam { chat_id, view }.encode());
    let mut fields = vec![
        ("query_id", "AAHdF6IQAAAAAN0XohDhrOrc"),
        ("user", user_json.as_str()),
        ("auth_date", auth_date.as_str()),
        ("chat_type", "supergroup"),
    ];
    if let Some(start) = &start {
        fields.push(("start_param", start.as_str()));
    }
    sign(&fields, &secret_key(TOKEN))
}

/// One HTTP/1.1 answer: status, headers (lower-case names) and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one request over a fresh connection (`Connection: close`).
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: &str,
) -> Answer {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(auth) = auth {
        head.push_str(&format!("Authorization: {auth}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body.as_bytes()).await.unwrap();
    let raw = tokio::time::timeout(WAIT, read_answer(&mut stream))
        .await
        .expect("the server answers");
    let raw = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = raw.split_once("\r\n\r\n").expect("an HTTP answer");
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(n, v)| (n.to_ascii_lowercase(), v.to_string()))
        .collect();
    let body = if headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v == "chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    Answer {
        status,
        headers,
        body,
    }
}

/// Reads one answer: up to its Content-Length, the end of its chunks, or EOF (some
/// servers, chromedriver among them, keep the connection open despite `close`).
async fn read_answer(stream: &mut tokio::net::TcpStream) -> Vec<u8> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = stream.read(&mut buf).await.unwrap_or(0);
        if n == 0 {
            return raw;
        }
        raw.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&raw).to_string();
        let Some(end) = text.find("\r\n\r\n") else {
            continue;
        };
        let head = text[..end].to_ascii_lowercase();
        let body_len = raw.len() - (end + 4);
        if let Some(length) = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok())
        {
            if body_len >= length {
                return raw;
            }
        } else if head.contains("transfer-encoding: chunked") && text.ends_with("0\r\n\r\n") {
            return raw;
        }
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// `GET path` as `auth` (`tma <initData>`).
pub async fn get(bot: &WebBot, path: &str, init: &str) -> Answer {
    request(bot.addr, "GET", path, Some(&format!("tma {init}")), "").await
}

/// `POST path` with `body` as `auth`.
pub async fn post(bot: &WebBot, path: &str, init: &str, body: &str) -> Answer {
    request(bot.addr, "POST", path, Some(&format!("tma {init}")), body).await
}

/// A fake user with `id`.
pub fn user(id: i64, name: &str) -> FakeUser {
    FakeUser::new(id, name)
}
