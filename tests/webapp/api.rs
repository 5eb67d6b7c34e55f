//! Every API route's authorisation and answers, through the real binary.

use std::net::SocketAddr;

use chrono::TimeDelta;
use fake_telegram::FakeChat;
use harness::Workspace;
use serde_json::Value;
use studybot::store::Store;
use studybot::webapp::View;

use crate::{
    ADMIN, GROUP, MEMBER, MEMBER_2, OTHER_GROUP, STRANGER, STUDYBOT, WAIT, WebBot, free_addr, get,
    init_data, post, request, shanghai_today, start_web_bot, user,
};

const FRESH: TimeDelta = TimeDelta::minutes(1);

fn reader_of(id: i64, chat: i64) -> String {
    init_data(id, "U", Some((chat, View::Reader)), FRESH)
}

fn dashboard_of(id: i64, chat: i64) -> String {
    init_data(id, "U", Some((chat, View::Dashboard)), FRESH)
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_forged_or_expired_init_data_is_refused_with_a_reason_and_nothing_written() {
    let web = start_web_bot().await;
    let good = reader_of(MEMBER, GROUP);
    let forged = {
        // Signed with another bot's token.
        let fields = [
            ("user", r#"{"id":702,"first_name":"U"}"#.to_string()),
            ("auth_date", chrono::Utc::now().timestamp().to_string()),
            ("start_param", "r-m1001700000001".to_string()),
        ];
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        studybot::webapp::init_data::sign(
            &pairs,
            &studybot::webapp::init_data::secret_key("654321:ANOTHER-bot"),
        )
    };
    let tampered = good.replace("r-m1001700000001", "r-m1001700000002");
    let expired = init_data(
        MEMBER,
        "U",
        Some((GROUP, View::Reader)),
        TimeDelta::hours(25),
    );
    for path in ["/api/reader", "/api/dashboard"] {
        let none = request(web.addr, "GET", path, None, "").await;
        assert_eq!(none.status, 401, "{path}: {}", none.body);
        assert_eq!(none.json()["error"], "missing initData");
        for (init, reason) in [
            (&forged, "initData signature does not match"),
            (&tampered, "initData signature does not match"),
            (&expired, "initData expired"),
        ] {
            let answer = get(&web, path, init).await;
            assert_eq!(answer.status, 401, "{path} {reason}: {}", answer.body);
            assert_eq!(answer.json()["error"], reason);
            assert_eq!(answer.header("cache-control"), Some("no-store"));
        }
    }
    for init in [&forged, &tampered, &expired] {
        let answer = post(&web, "/api/checkin", init, r#"{"section":"0"}"#).await;
        assert_eq!(answer.status, 401);
        let answer = post(&web, "/api/export", init, "{}").await;
        assert_eq!(answer.status, 401);
    }
    // A user id in any other place (a query, a body) is never read.
    let answer = request(
        web.addr,
        "GET",
        "/api/reader?user=702",
        Some("Bearer 702"),
        "",
    )
    .await;
    assert_eq!(answer.status, 401);
    assert!(web.tg.documents().is_empty(), "no export was sent");
    web.bot.terminate(WAIT).await;
    let store = Store::open(&web.workspace.db()).unwrap();
    let today = shanghai_today(chrono::Utc::now());
    assert_eq!(
        store.member_check_in(GROUP, today, MEMBER as u64).unwrap(),
        None,
        "a refused check-in writes nothing"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn members_read_and_check_in_strangers_and_other_groups_are_refused() {
    let web = start_web_bot().await;
    // A member reads the group's text, with their own marks and today's section.
    let reader = get(&web, "/api/reader", &reader_of(MEMBER, GROUP)).await;
    assert_eq!(reader.status, 200, "{}", reader.body);
    let view = reader.json();
    assert_eq!(view["document"], "xzsj");
    assert!(view["sections"].as_array().unwrap().len() > 10);
    assert_eq!(view["today"], "0");
    assert_eq!(view["checkable"], serde_json::json!(["0"]));
    assert_eq!(view["admin"], false);
    // The check-ins seeded on past days: the member's own only.
    assert_eq!(view["checked"], serde_json::json!(["1", "1.1", "1.2"]));
    let other = get(&web, "/api/reader", &reader_of(MEMBER_2, GROUP)).await;
    assert_eq!(other.json()["checked"], serde_json::json!(["0"]));
    // Strangers and members of another group are refused, and so is a private chat
    // that is not the caller's own.
    for (init, what) in [
        (reader_of(STRANGER, GROUP), "stranger"),
        (reader_of(MEMBER, OTHER_GROUP), "other group"),
        (reader_of(ADMIN, OTHER_GROUP), "admin of another group"),
        (reader_of(MEMBER, MEMBER_2), "someone else's private chat"),
    ] {
        let answer = get(&web, "/api/reader", &init).await;
        assert_eq!(answer.status, 403, "{what}: {}", answer.body);
        let answer = post(&web, "/api/checkin", &init, r#"{"section":"0"}"#).await;
        assert_eq!(answer.status, 403, "{what}: {}", answer.body);
    }
    // Without a start parameter: the caller's private chat.
    let own = get(&web, "/api/reader", &init_data(STRANGER, "S", None, FRESH)).await;
    assert_eq!(own.status, 200, "{}", own.body);
    assert_eq!(own.json()["admin"], true);
    // A section that was not sent is refused; today's is recorded once.
    let not_sent = post(
        &web,
        "/api/checkin",
        &reader_of(MEMBER, GROUP),
        r#"{"section":"2.1"}"#,
    )
    .await;
    assert_eq!(not_sent.status, 200);
    assert_eq!(not_sent.json()["done"], false);
    let bad = post(&web, "/api/checkin", &reader_of(MEMBER, GROUP), "not json").await;
    assert_eq!(bad.status, 400);
    let big = post(
        &web,
        "/api/checkin",
        &reader_of(MEMBER, GROUP),
        &format!(r#"{{"section":"{}"}}"#, "0".repeat(8000)),
    )
    .await;
    assert_eq!(big.status, 413, "{}", big.body);
    let done = post(
        &web,
        "/api/checkin",
        &init_data(MEMBER, "Mia", Some((GROUP, View::Reader)), FRESH),
        r#"{"section":"0"}"#,
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let outcome = done.json();
    assert_eq!(outcome["done"], true, "{outcome}");
    assert!(
        outcome["message"].as_str().unwrap().contains("已记录"),
        "{outcome}"
    );
    let again = post(
        &web,
        "/api/checkin",
        &reader_of(MEMBER, GROUP),
        r#"{"section":"0"}"#,
    )
    .await;
    assert!(
        again.json()["message"]
            .as_str()
            .unwrap()
            .contains("已经记录过了")
    );
    web.bot.terminate(WAIT).await;
    let store = Store::open(&web.workspace.db()).unwrap();
    let today = shanghai_today(chrono::Utc::now());
    let recorded = store
        .member_check_in(GROUP, today, MEMBER as u64)
        .unwrap()
        .expect("the app's check-in is in the store");
    assert_eq!(recorded.name, "Mia");
    assert_eq!(recorded.section, studybot::text::SectionId::OPENING);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_link_made_before_the_group_became_a_supergroup_opens_the_supergroup() {
    let web = start_web_bot().await;
    let tg = &web.tg;
    let old = FakeChat::group(-1_700_000_010, "读书会");
    let new = FakeChat::supergroup(-1_001_700_000_010, "读书会");
    for chat in [&old, &new] {
        tg.register_chat(chat);
        tg.set_admins(chat.id, vec![ADMIN]);
    }
    let ada = user(ADMIN, "Ada");
    tg.send_text(&old, &ada, "/subscribe 08:00");
    assert!(
        tg.wait_until(|_| !tg.sent_texts_to(old.id).is_empty(), WAIT)
            .await,
        "{}",
        web.bot.log()
    );
    // Telegram upgrades the group; the links the bot handed out still name its old id.
    tg.migrate(old.id, new.id);
    tg.send_message_with(
        &old,
        &ada,
        serde_json::json!({"migrate_to_chat_id": new.id}),
    );
    let migrated = async {
        loop {
            let answer = get(&web, "/api/reader", &reader_of(MEMBER, old.id)).await;
            if answer.status == 200 {
                break answer;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    };
    let through_old = tokio::time::timeout(WAIT, migrated)
        .await
        .unwrap_or_else(|_| panic!("the old link opens the reader: {}", web.bot.log()));
    let through_new = get(&web, "/api/reader", &reader_of(MEMBER, new.id)).await;
    assert_eq!(through_new.status, 200, "{}", through_new.body);
    assert_eq!(through_old.json(), through_new.json());
    let dashboard = get(&web, "/api/dashboard", &dashboard_of(ADMIN, old.id)).await;
    assert_eq!(dashboard.status, 200, "{}", dashboard.body);
    assert_eq!(
        dashboard.json(),
        get(&web, "/api/dashboard", &dashboard_of(ADMIN, new.id))
            .await
            .json()
    );
    web.bot.terminate(WAIT).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_and_the_export_are_for_administrators_and_match_roster() {
    let web = start_web_bot().await;
    for (init, what) in [
        (dashboard_of(MEMBER, GROUP), "member"),
        (dashboard_of(STRANGER, GROUP), "stranger"),
        (dashboard_of(ADMIN, OTHER_GROUP), "admin elsewhere"),
    ] {
        let answer = get(&web, "/api/dashboard", &init).await;
        assert_eq!(answer.status, 403, "{what}: {}", answer.body);
        let answer = post(&web, "/api/export", &init, "{}").await;
        assert_eq!(answer.status, 403, "{what}: {}", answer.body);
    }
    for bad in ["?days=abc", "?days=", "?days=3.5", "?days=7&days=x"] {
        let answer = get(
            &web,
            &format!("/api/dashboard{bad}"),
            &dashboard_of(ADMIN, GROUP),
        )
        .await;
        assert_eq!(answer.status, 400, "{bad}: {}", answer.body);
        assert!(
            answer.json()["error"]
                .as_str()
                .unwrap()
                .contains("?days=30"),
            "{bad}: {}",
            answer.body
        );
    }
    let answer = get(&web, "/api/dashboard?days=7", &dashboard_of(ADMIN, GROUP)).await;
    assert_eq!(answer.json()["days"].as_array().unwrap().len(), 7);
    let answer = get(&web, "/api/dashboard?days=90", &dashboard_of(ADMIN, GROUP)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let dashboard = answer.json();
    let days = dashboard["days"].as_array().unwrap();
    assert_eq!(days.len(), 90);
    let counts: Vec<u64> = days.iter().map(|d| d["count"].as_u64().unwrap()).collect();
    // Seeded: Mia on days 1–3 ago, Noah 5 days ago.
    assert_eq!(&counts[84..], &[1, 0, 1, 1, 1, 0][..], "{counts:?}");
    assert_eq!(dashboard["members"], 3);
    assert_eq!(
        dashboard["chart"]
            .as_str()
            .unwrap()
            .matches("<rect")
            .count(),
        90
    );

    // /roster in the group: the same lines, and the dashboard's link under it.
    let group = FakeChat::supergroup(GROUP, "学习小组");
    web.tg.send_text(&group, &user(ADMIN, "Ada"), "/roster");
    let found = web
        .tg
        .wait_state(
            |tg| {
                tg.sent_texts_to(GROUP)
                    .iter()
                    .any(|t| t.contains("学习台账"))
            },
            WAIT,
        )
        .await;
    assert!(found, "{}", web.bot.log());
    let roster = web.tg.sent_texts_to(GROUP).pop().unwrap();
    let week_days = dashboard["week_days"].as_u64().unwrap();
    for member in dashboard["roster"].as_array().unwrap() {
        let line = format!(
            "{} · 连续 {} 天 · 本周 {}/{} · 近30天 {}%",
            member["name"].as_str().unwrap(),
            member["streak"],
            member["week_days"],
            week_days,
            member["rate"]
        );
        assert!(roster.contains(&line), "{line:?} in {roster}");
    }
    let message = replies_to(&web.tg, GROUP).pop().unwrap();
    let link = buttons(&message)
        .into_iter()
        .find_map(|b| b["url"].as_str().map(str::to_string))
        .expect("the roster carries the dashboard's link");
    assert!(
        link.starts_with("https://t.me/") && link.ends_with("?startapp=d-m1001700000001"),
        "{link}"
    );

    // The administrator's export arrives in their private chat.
    let export = post(&web, "/api/export", &dashboard_of(ADMIN, GROUP), "{}").await;
    assert_eq!(export.status, 200, "{}", export.body);
    assert_eq!(export.json()["sent"], true);
    let documents = web.tg.documents();
    assert_eq!(documents.len(), 1);
    assert_eq!(documents[0].chat_id, ADMIN);

    // The figures are the store's.
    web.bot.terminate(WAIT).await;
    let store = Store::open(&web.workspace.db()).unwrap();
    let today = shanghai_today(chrono::Utc::now());
    for (i, day) in days.iter().enumerate() {
        let date = today - TimeDelta::days(89 - i as i64);
        assert_eq!(day["date"], date.to_string());
        let stored = store.check_ins(GROUP, date, date).unwrap().len() as u64;
        assert_eq!(day["count"].as_u64().unwrap(), stored, "{date}");
    }
}

fn buttons(message: &Value) -> Vec<Value> {
    message["reply_markup"]["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row.as_array().cloned().unwrap_or_default())
        .collect()
}

/// What was sent to `chat` but the day's excerpt (due when a test runs after the group's
/// send time; it carries the same reader link).
fn replies_to(tg: &fake_telegram::FakeTelegram, chat: i64) -> Vec<Value> {
    tg.sent_messages_to(chat)
        .into_iter()
        .filter(|m| !m["text"].as_str().unwrap_or_default().contains("今日学习"))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn read_and_dashboard_open_the_app_and_the_menu_button_points_at_it() {
    let web = start_web_bot().await;
    let menu = web.tg.requests_for("setChatMenuButton");
    assert_eq!(menu.len(), 1, "{menu:?}");
    assert_eq!(menu[0].body["menu_button"]["type"], "web_app");
    assert_eq!(
        menu[0].body["menu_button"]["web_app"]["url"],
        format!("{}/", web.url())
    );
    let mia = user(MEMBER, "Mia");
    let private = FakeChat::private(&mia);
    web.tg.send_text(&private, &mia, "/read");
    web.tg.send_text(&private, &mia, "/dashboard");
    let group = FakeChat::supergroup(GROUP, "学习小组");
    web.tg.send_text(&group, &mia, "/read");
    web.tg.send_text(&group, &mia, "/dashboard");
    web.tg.send_text(&group, &user(ADMIN, "Ada"), "/dashboard");
    let ok = web
        .tg
        .wait_state(
            |tg| tg.sent_messages_to(MEMBER).len() >= 2 && replies_to(tg, GROUP).len() >= 3,
            WAIT,
        )
        .await;
    assert!(ok, "{}", web.bot.log());
    let private = web.tg.sent_messages_to(MEMBER);
    assert_eq!(
        buttons(&private[0])[0]["web_app"]["url"],
        format!("{}/", web.url())
    );
    assert_eq!(
        buttons(&private[1])[0]["web_app"]["url"],
        format!("{}/?view=dashboard", web.url())
    );
    let in_group = replies_to(&web.tg, GROUP);
    let read = buttons(&in_group[0]);
    assert!(read[0]["web_app"].is_null(), "no web_app button in a group");
    assert!(
        read[0]["url"]
            .as_str()
            .unwrap()
            .ends_with("?startapp=r-m1001700000001")
    );
    assert!(
        in_group[1]["text"]
            .as_str()
            .unwrap()
            .contains("只有群管理员"),
        "{}",
        in_group[1]
    );
    assert!(buttons(&in_group[1]).is_empty());
    assert!(
        buttons(&in_group[2])[0]["url"]
            .as_str()
            .unwrap()
            .ends_with("?startapp=d-m1001700000001")
    );
    // The day's excerpt (here /today, built like the scheduled one) carries the
    // reader's link under its ✅ button.
    let before = web.tg.sent_messages_to(GROUP).len();
    web.tg.send_text(&group, &mia, "/today");
    let ok = web
        .tg
        .wait_state(|tg| tg.sent_messages_to(GROUP).len() > before, WAIT)
        .await;
    assert!(ok, "{}", web.bot.log());
    let today = web.tg.sent_messages_to(GROUP).pop().unwrap();
    let links: Vec<String> = buttons(&today)
        .iter()
        .filter_map(|b| b["url"].as_str().map(str::to_string))
        .collect();
    assert!(
        links
            .iter()
            .any(|l| l.ends_with("?startapp=r-m1001700000001")),
        "{today}"
    );
    assert!(
        buttons(&today).iter().any(|b| b["callback_data"]
            .as_str()
            .is_some_and(|d| d.starts_with("k:"))),
        "the ✅ stays: {today}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_carry_the_security_headers() {
    let web = start_web_bot().await;
    let page = request(web.addr, "GET", "/", None, "").await;
    assert_eq!(page.status, 200);
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("script-src 'self' https://telegram.org")
            && csp.contains("default-src 'none'"),
        "{csp}"
    );
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    assert!(page.body.contains("telegram-web-app.js"));
    for path in ["/app.js", "/app.css"] {
        let answer = request(web.addr, "GET", path, None, "").await;
        assert_eq!(answer.status, 200, "{path}");
    }
    let api = get(&web, "/api/reader", &reader_of(MEMBER, GROUP)).await;
    assert_eq!(api.header("cache-control"), Some("no-store"));
    assert!(api.header("content-security-policy").is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn without_web_nothing_listens_and_the_commands_say_the_app_is_not_set_up() {
    let running = STUDYBOT.running(Workspace::new("")).await;
    let mia = user(MEMBER, "Mia");
    let private = FakeChat::private(&mia);
    running.tg.send_text(&private, &mia, "/read");
    running.tg.send_text(&private, &mia, "/dashboard");
    let ok = running
        .tg
        .wait_state(|tg| tg.sent_messages_to(MEMBER).len() >= 2, WAIT)
        .await;
    assert!(ok);
    for message in running.tg.sent_messages_to(MEMBER) {
        assert!(
            message["text"].as_str().unwrap().contains("还没有设置"),
            "{message}"
        );
        assert!(buttons(&message).is_empty());
    }
    assert!(running.tg.requests_for("setChatMenuButton").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_menu_button_is_put_back_when_the_app_is_no_longer_configured() {
    let web = start_web_bot().await;
    let WebBot {
        tg, workspace, bot, ..
    } = web;
    assert!(bot.terminate(WAIT).await.success());
    // The operator removes [web]: the next start points the button back at the commands.
    let config = std::fs::read_to_string(workspace.config()).unwrap();
    let without = &config[..config.find("[web]").expect("the config has [web]")];
    std::fs::write(workspace.config(), without).unwrap();
    let bot = STUDYBOT.started(&tg, &workspace).await;
    let put_back = tg
        .wait_state(|tg| tg.requests_for("setChatMenuButton").len() >= 2, WAIT)
        .await;
    assert!(put_back, "{}", bot.log());
    let menu = tg.requests_for("setChatMenuButton");
    assert_eq!(menu.len(), 2, "{menu:?}");
    assert_eq!(menu[1].body["menu_button"]["type"], "default", "{menu:?}");
    assert!(bot.terminate(WAIT).await.success());
    // Once put back, later starts leave it alone (the button comes before polling).
    let polls = tg.requests_for("getUpdates").len();
    let bot = STUDYBOT.started(&tg, &workspace).await;
    let polling = tg
        .wait_state(|tg| tg.requests_for("getUpdates").len() > polls, WAIT)
        .await;
    assert!(polling, "{}", bot.log());
    assert_eq!(tg.requests_for("setChatMenuButton").len(), 2);
    assert!(bot.terminate(WAIT).await.success());
}

#[tokio::test(flavor = "multi_thread")]
async fn in_webhook_mode_one_server_takes_the_updates_and_serves_the_app() {
    let port = harness::free_port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    // [web]'s own listen is not used in webhook mode: the webhook's server serves both.
    let workspace = Workspace::with_sections(
        "",
        &format!(
            "[web]\nlisten = \"{}\"\npublic_url = \"https://{addr}\"\n",
            free_addr()
        ),
    );
    let tg = fake_telegram::FakeTelegram::start().await;
    let bot = STUDYBOT
        .webhook(&tg, &workspace, port, "s3cret-token")
        .await;
    let page = request(addr, "GET", "/", None, "").await;
    assert_eq!(page.status, 200, "{}", bot.log());
    assert!(page.body.contains("telegram-web-app.js"));
    let reader = request(
        addr,
        "GET",
        "/api/reader",
        Some(&format!("tma {}", init_data(MEMBER, "Mia", None, FRESH))),
        "",
    )
    .await;
    assert_eq!(reader.status, 200, "{}", reader.body);
    let forged = request(addr, "GET", "/api/reader", Some("tma hash=00"), "").await;
    assert_eq!(forged.status, 401, "{}", forged.body);
    // The same port still takes Telegram's updates, with the secret.
    let update = serde_json::json!({
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": chrono::Utc::now().timestamp(),
            "chat": {"id": MEMBER, "type": "private", "first_name": "Mia"},
            "from": {"id": MEMBER, "is_bot": false, "first_name": "Mia"},
            "text": "/read"
        }
    })
    .to_string();
    let answer = harness::post_update(port, Some("s3cret-token"), &update).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let answered = tg
        .wait_state(|tg| !tg.sent_messages_to(MEMBER).is_empty(), WAIT)
        .await;
    assert!(answered, "{}", bot.log());
    let reply = &tg.sent_messages_to(MEMBER)[0];
    assert_eq!(
        buttons(reply)[0]["web_app"]["url"],
        format!("https://{addr}/"),
        "{reply}"
    );
    assert!(bot.terminate(WAIT).await.success());
}
