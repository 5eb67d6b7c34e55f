//! Headless Chromium (Debian's `chromium` and `chromium-driver`) through the reader and
//! the dashboard, driven from Rust over chromedriver's WebDriver protocol (a few JSON
//! calls, below). A stub of `window.Telegram.WebApp` carrying `initData` signed with the
//! test token is installed before the page's scripts run; Telegram's own script is not
//! reachable (every host but loopback resolves to nothing), as in a sandbox.
//!
//! Screenshots land in `target/webapp-*.png` for a person to look at.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use chrono::TimeDelta;
use serde_json::{Value, json};
use studybot::store::Store;
use studybot::webapp::View;
use tokio::process::{Child, Command};

use crate::{GROUP, MEMBER, WAIT, WebBot, init_data, request, shanghai_today, start_web_bot};

/// A chromedriver process and one browser session in it.
struct Browser {
    driver: Child,
    addr: SocketAddr,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium whose `window.Telegram.WebApp` is a
    /// stub with `init` as its `initData` and `start_param`.
    async fn open(init: &str, start_param: Option<&str>) -> Self {
        for program in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
            assert!(
                std::path::Path::new(program).exists(),
                "{program} is missing: apt-get install -y chromium chromium-driver (.ci/run does)"
            );
        }
        let addr = crate::free_addr();
        let driver = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={}", addr.port()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts");
        harness::connect_when_listening(addr, WAIT)
            .await
            .expect("chromedriver listens");
        let profile = tempfile::tempdir().unwrap();
        let args = [
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1".into(),
            "--window-size=390,844".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args},
        }}});
        let created = call(addr, "POST", "/session", &capabilities).await;
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("a session: {created}"))
            .to_string();
        let browser = Self {
            driver,
            addr,
            session,
            _profile: profile,
        };
        let stub = format!(
            r#"(() => {{
  const cloud = {{}};
  window.__cloudWrites = [];
  window.Telegram = {{ WebApp: {{
    initData: {init},
    initDataUnsafe: {{ start_param: {start} }},
    ready() {{}}, expand() {{}},
    isVersionAtLeast() {{ return true; }},
    HapticFeedback: {{ notificationOccurred() {{}} }},
    CloudStorage: {{
      setItem(k, v, cb) {{ sessionStorage.setItem("cloud:" + k, v); window.__cloudWrites.push([k, v]); if (cb) cb(null, true); }},
      getItem(k, cb) {{ cb(null, sessionStorage.getItem("cloud:" + k) || ""); }},
    }},
  }} }};
}})();"#,
            init = serde_json::to_string(init).unwrap(),
            start = serde_json::to_string(&start_param.unwrap_or("")).unwrap(),
        );
        browser
            .command(
                "POST",
                "/goog/cdp/execute",
                json!({"cmd": "Page.addScriptToEvaluateOnNewDocument", "params": {"source": stub}}),
            )
            .await;
        browser
    }

    async fn command(&self, method: &str, path: &str, body: Value) -> Value {
        let answer = call(
            self.addr,
            method,
            &format!("/session/{}{path}", self.session),
            &body,
        )
        .await;
        assert!(
            answer["value"]["error"].is_null(),
            "{method} {path}: {answer}"
        );
        answer["value"].clone()
    }

    async fn go(&self, url: &str) {
        self.command("POST", "/url", json!({ "url": url })).await;
    }

    /// Runs `script` (a function body) in the page and returns its value.
    async fn run(&self, script: &str) -> Value {
        self.command(
            "POST",
            "/execute/sync",
            json!({"script": script, "args": []}),
        )
        .await
    }

    /// Waits until `condition` (an expression) is true in the page.
    async fn wait(&self, condition: &str) {
        let script = format!("return !!({condition});");
        let deadline = tokio::time::Instant::now() + WAIT;
        while self.run(&script).await != json!(true) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {condition}; page: {}",
                self.run("return document.body.innerText;").await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn text(&self, id: &str) -> String {
        self.run(&format!(
            "return document.getElementById('{id}').textContent;"
        ))
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    async fn click(&self, id: &str) {
        self.run(&format!("document.getElementById('{id}').click();"))
            .await;
    }

    async fn resize(&self, width: u32, height: u32) {
        self.command(
            "POST",
            "/window/rect",
            json!({"width": width, "height": height}),
        )
        .await;
    }

    /// Saves a screenshot as `target/<name>.png`.
    async fn screenshot(&self, name: &str) -> PathBuf {
        use base64_decode::decode;
        let png = self.command("GET", "/screenshot", Value::Null).await;
        let bytes = decode(png.as_str().unwrap());
        let path = harness::root().join("target").join(format!("{name}.png"));
        std::fs::write(&path, bytes).unwrap();
        path
    }

    async fn close(mut self) {
        let _ = call(
            self.addr,
            "DELETE",
            &format!("/session/{}", self.session),
            &Value::Null,
        )
        .await;
        let _ = self.driver.kill().await;
    }
}

/// One WebDriver call.
async fn call(addr: SocketAddr, method: &str, path: &str, body: &Value) -> Value {
    let body = match body {
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let answer = request(addr, method, path, None, &body).await;
    serde_json::from_str(&answer.body)
        .unwrap_or_else(|e| panic!("{method} {path}: {e}: {}", answer.body))
}

/// Standard base64, for the screenshots (a few lines rather than a dependency).
mod base64_decode {
    pub fn decode(text: &str) -> Vec<u8> {
        let value = |c: u8| match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            _ => 63,
        };
        let clean: Vec<u8> = text.bytes().filter(|&c| c != b'=' && c != b'\n').collect();
        let mut out = Vec::with_capacity(clean.len() * 3 / 4);
        for chunk in clean.chunks(4) {
            let mut n = 0u32;
            for (i, &c) in chunk.iter().enumerate() {
                n |= u32::from(value(c)) << (18 - 6 * i);
            }
            let bytes = n.to_be_bytes();
            out.extend_from_slice(&bytes[1..chunk.len()]);
        }
        out
    }
}

async fn app_url(web: &WebBot) -> String {
    // The page itself needs no authorisation; the API does.
    let page = request(web.addr, "GET", "/", None, "").await;
    assert_eq!(page.status, 200);
    format!("{}/", web.url())
}

#[tokio::test(flavor = "multi_thread")]
async fn in_chromium_the_reader_turns_pages_keeps_the_font_size_and_checks_in() {
    let web = start_web_bot().await;
    let url = app_url(&web).await;
    let init = init_data(
        MEMBER,
        "Mia",
        Some((GROUP, View::Reader)),
        TimeDelta::minutes(1),
    );
    let browser = Browser::open(&init, Some("r-m1001700000001")).await;
    browser.go(&url).await;
    browser
        .wait("!document.getElementById('reader').hidden")
        .await;
    assert!(!browser.text("doc-title").await.is_empty());
    let total = browser
        .run("return document.querySelectorAll('#toc-list li').length;")
        .await;
    let total = total.as_u64().unwrap();
    assert!(total > 10);
    // The reader opens at the group's section of the day, the opening.
    assert_eq!(browser.text("position").await, format!("1 / {total}"));
    let first = browser.text("section-heading").await;
    browser.click("next").await;
    assert_eq!(browser.text("position").await, format!("2 / {total}"));
    assert_ne!(browser.text("section-heading").await, first);
    browser.click("prev").await;
    assert_eq!(browser.text("section-heading").await, first);

    // Font size: larger, kept across a reload (Telegram's CloudStorage).
    let size = "return getComputedStyle(document.body).fontSize;";
    assert_eq!(browser.run(size).await, "18px");
    browser.click("font-up").await;
    assert_eq!(browser.run(size).await, "20px");
    assert_eq!(
        browser.run("return window.__cloudWrites;").await,
        json!([["studybot_font", "20"]])
    );
    browser.go(&url).await;
    browser
        .wait("!document.getElementById('reader').hidden")
        .await;
    assert_eq!(browser.run(size).await, "20px");

    // No horizontal scroll on a 320-pixel-wide phone.
    browser.resize(320, 640).await;
    let overflow = browser
        .run("return document.documentElement.scrollWidth - document.documentElement.clientWidth;")
        .await;
    assert!(overflow.as_i64().unwrap() <= 0, "overflow {overflow}");

    // Search finds a section and opens it.
    browser
        .run("const i = document.getElementById('search-input'); i.value = '网格'; i.dispatchEvent(new Event('input'));")
        .await;
    browser
        .wait("document.querySelectorAll('#search-results a').length > 0")
        .await;

    // ✅ on today's section: recorded (and shown as done once the store has it).
    browser.run("location.hash = '';").await;
    browser.go(&url).await;
    browser
        .wait("!document.getElementById('reader').hidden")
        .await;
    assert!(
        browser
            .run("return !document.getElementById('check-button').hidden;")
            .await
            .as_bool()
            .unwrap()
    );
    browser.click("check-button").await;
    browser
        .wait("document.getElementById('check-text').textContent.includes('已记录')")
        .await;
    let shot = browser.screenshot("webapp-reader").await;
    assert!(std::fs::metadata(&shot).unwrap().len() > 1000);
    browser.close().await;
    web.bot.terminate(WAIT).await;
    let store = Store::open(&web.workspace.db()).unwrap();
    let today = shanghai_today(chrono::Utc::now());
    assert!(
        store
            .member_check_in(GROUP, today, MEMBER as u64)
            .unwrap()
            .is_some(),
        "the check-in made in the browser is in the store"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn in_chromium_the_dashboard_draws_the_stores_bars_and_forged_data_shows_the_error_page() {
    let web = start_web_bot().await;
    let url = app_url(&web).await;
    let init = init_data(
        crate::ADMIN,
        "Ada",
        Some((GROUP, View::Dashboard)),
        TimeDelta::minutes(1),
    );
    let browser = Browser::open(&init, Some("d-m1001700000001")).await;
    browser.go(&url).await;
    browser
        .wait("!document.getElementById('dashboard').hidden")
        .await;
    let bars = browser
        .run("return [...document.querySelectorAll('#chart rect.bar')].map(r => [r.dataset.date, Number(r.dataset.count), r.getBBox().height]);")
        .await;
    let bars = bars.as_array().unwrap().clone();
    assert_eq!(bars.len(), 30);
    assert!(browser.text("roster").await.contains("Mia"));
    let shot = browser.screenshot("webapp-dashboard").await;
    assert!(std::fs::metadata(&shot).unwrap().len() > 1000);
    browser.close().await;

    // Forged initData (signed for another bot): the error page.
    let forged = init.replace(
        &init[init.find("hash=").unwrap()..],
        "hash=0000000000000000000000000000000000000000000000000000000000000000",
    );
    let browser = Browser::open(&forged, Some("d-m1001700000001")).await;
    browser.go(&url).await;
    browser
        .wait("!document.getElementById('error').hidden")
        .await;
    assert!(browser.text("error-text").await.contains("身份验证失败"));
    browser.screenshot("webapp-forged").await;
    browser.close().await;

    web.bot.terminate(WAIT).await;
    let store = Store::open(&web.workspace.db()).unwrap();
    for bar in bars {
        let date: chrono::NaiveDate = bar[0].as_str().unwrap().parse().unwrap();
        let stored = store.check_ins(GROUP, date, date).unwrap().len() as u64;
        assert_eq!(bar[1].as_u64().unwrap(), stored, "{date}");
        // A day with check-ins has a visible bar; a day without has none.
        assert_eq!(bar[2].as_f64().unwrap() > 0.0, stored > 0, "{date}");
    }
}
