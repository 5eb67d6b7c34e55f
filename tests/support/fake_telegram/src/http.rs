//! HTTP plumbing: the listener that can drop connections, request parsing (JSON, form,
//! query string, multipart), the request handler with fault injection, and `getUpdates`.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use crate::methods::{ApiErr, ApiResult, CONFLICT, call};
use crate::params::p_i64;
use crate::state::Inner;
use crate::{FaultKind, Recorded, SentDocument};

/// The file parts of a multipart body: (field name, file name, bytes), read as bytes (the
/// text parameters go through [`parse_params`]).
pub(crate) fn multipart_files(headers: &HeaderMap, body: &[u8]) -> Vec<(String, String, Vec<u8>)> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(boundary) = ct
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').to_string())
    else {
        return Vec::new();
    };
    let delimiter = format!("--{boundary}").into_bytes();
    let find = |from: usize, needle: &[u8]| {
        body.get(from..)?
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|i| i + from)
    };
    let mut files = Vec::new();
    let mut at = find(0, &delimiter);
    while let Some(start) = at {
        let part_start = start + delimiter.len();
        let next = find(part_start, &delimiter);
        let end = next.unwrap_or(body.len());
        let part = &body[part_start..end];
        if let Some(split) = part.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&part[..split]).to_string();
            let mut value = &part[split + 4..];
            if value.ends_with(b"\r\n") {
                value = &value[..value.len() - 2];
            }
            let field = head
                .split("name=\"")
                .nth(1)
                .and_then(|n| n.split('"').next())
                .unwrap_or("")
                .to_string();
            if let Some(file_name) = head
                .split("filename=\"")
                .nth(1)
                .and_then(|n| n.split('"').next())
            {
                files.push((field, file_name.to_string(), value.to_vec()));
            }
        }
        at = next;
    }
    files
}

/// Per-connection info; `kill` makes the connection's IO fail (used by [`FaultKind::Drop`]).
#[derive(Clone, Debug, Default)]
pub(crate) struct ConnMeta {
    pub(crate) kill: Arc<AtomicBool>,
}

/// A TCP listener whose connections can be killed from a handler via [`ConnMeta`].
pub(crate) struct FaultListener(pub(crate) TcpListener);

impl axum::serve::Listener for FaultListener {
    type Io = FaultIo;
    type Addr = ConnMeta;
    async fn accept(&mut self) -> (FaultIo, ConnMeta) {
        loop {
            if let Ok((inner, _)) = self.0.accept().await {
                let _ = inner.set_nodelay(true);
                let meta = ConnMeta::default();
                return (
                    FaultIo {
                        inner,
                        kill: meta.kill.clone(),
                    },
                    meta,
                );
            }
            tokio::time::sleep(Duration::from_millis(5)).await; // e.g. EMFILE: retry
        }
    }
    fn local_addr(&self) -> io::Result<ConnMeta> {
        Ok(ConnMeta::default())
    }
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, FaultListener>>
    for ConnMeta
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, FaultListener>) -> Self {
        stream.remote_addr().clone()
    }
}

pub(crate) struct FaultIo {
    pub(crate) inner: TcpStream,
    pub(crate) kill: Arc<AtomicBool>,
}

pub(crate) fn killed() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "fake telegram: connection dropped (fault injection)",
    )
}

impl AsyncRead for FaultIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.kill.load(Ordering::SeqCst) {
            return Poll::Ready(Err(killed()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for FaultIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.kill.load(Ordering::SeqCst) {
            return Poll::Ready(Err(killed()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.kill.load(Ordering::SeqCst) {
            return Poll::Ready(Err(killed()));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

pub(crate) fn percent_decode(s: &str) -> String {
    let (b, mut out, mut i) = (s.as_bytes(), Vec::with_capacity(s.len()), 0);
    let hex = |c: u8| (c as char).to_digit(16);
    while i < b.len() {
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (
                b.get(i + 1).and_then(|&c| hex(c)),
                b.get(i + 2).and_then(|&c| hex(c)),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(crate) fn form_into(map: &mut Map<String, Value>, s: &str) {
    for pair in s.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (
            percent_decode(&k.replace('+', " ")),
            percent_decode(&v.replace('+', " ")),
        );
        let parsed = if v.starts_with('{') || v.starts_with('[') {
            serde_json::from_str(&v).ok()
        } else {
            None
        };
        map.insert(k, parsed.unwrap_or(Value::String(v)));
    }
}

pub(crate) fn parse_params(uri: &Uri, headers: &HeaderMap, body: &Bytes) -> Result<Value, String> {
    let mut map = Map::new();
    if let Some(q) = uri.query() {
        form_into(&mut map, q);
    }
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(Value::Object(map));
    }
    if ct.starts_with("application/json") || (ct.is_empty() && body.first() == Some(&b'{')) {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(o)) => map.extend(o),
            Ok(_) => return Err("Bad Request: parameters must be a JSON object".into()),
            Err(_) => return Err("Bad Request: can't parse JSON object".into()),
        }
    } else if ct.starts_with("application/x-www-form-urlencoded") {
        form_into(&mut map, &String::from_utf8_lossy(body));
    } else if ct.starts_with("multipart/form-data") {
        // teloxide sends setWebhook (which may carry a certificate) as multipart; text
        // fields are enough here.
        let boundary = ct
            .split(';')
            .find_map(|p| p.trim().strip_prefix("boundary="))
            .map(|b| b.trim_matches('"').to_string())
            .ok_or("Bad Request: multipart without a boundary")?;
        // The boundary was lowercased with the content type; find it case-insensitively.
        let text = String::from_utf8_lossy(body).to_string();
        let lower = text.to_ascii_lowercase();
        let delimiter = format!("--{boundary}");
        let mut starts: Vec<usize> = lower.match_indices(&delimiter).map(|(i, _)| i).collect();
        starts.push(text.len());
        for window in starts.windows(2) {
            let part = &text[window[0] + delimiter.len()..window[1]];
            let Some((head, value)) = part.split_once("\r\n\r\n") else {
                continue;
            };
            let Some(name) = head
                .split("name=\"")
                .nth(1)
                .and_then(|n| n.split('"').next())
            else {
                continue;
            };
            let value = value.strip_suffix("\r\n").unwrap_or(value);
            map.insert(name.to_string(), Value::String(value.to_string()));
        }
    } else {
        return Err(format!("Bad Request: unsupported Content-Type \"{ct}\""));
    }
    Ok(Value::Object(map))
}

pub(crate) fn api_response(r: &ApiResult) -> Response {
    match r {
        Ok(v) => (StatusCode::OK, axum::Json(json!({"ok": true, "result": v}))).into_response(),
        Err(e) => {
            let mut body = json!({"ok": false, "error_code": e.code, "description": e.desc});
            if let Some(p) = &e.params {
                body["parameters"] = p.clone();
            }
            let status = StatusCode::from_u16(e.code).unwrap_or(StatusCode::BAD_REQUEST);
            (status, axum::Json(body)).into_response()
        }
    }
}

pub(crate) async fn handle(
    State(inner): State<Arc<Inner>>,
    ConnectInfo(conn): ConnectInfo<ConnMeta>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut at = Instant::now();
    let path = percent_decode(uri.path());
    if let Some(rest) = path.strip_prefix("/file/bot") {
        return download(&inner, rest, at);
    }
    let split = path.strip_prefix("/bot").and_then(|r| r.split_once('/'));
    let Some((token, method)) =
        split.filter(|(t, m)| !t.is_empty() && !m.is_empty() && !m.contains('/'))
    else {
        return api_response(&Err(ApiErr::new(404, "Not Found")));
    };
    let (token, method) = (token.to_string(), method.to_string());
    let key = method.to_ascii_lowercase();
    let jitter = inner.lock().arrival_jitter;
    if key != "getupdates" && !jitter.is_zero() {
        tokio::time::sleep(jitter.mul_f64(rand::random::<f64>())).await;
        at = Instant::now();
    }
    let record = |body: Value, status: u16| {
        inner.lock().requests.push(Recorded {
            method: method.clone(),
            body,
            at,
            status,
        });
        inner.changed.notify_waiters();
    };
    let params = match parse_params(&uri, &headers, &body) {
        Ok(p) => p,
        Err(desc) => {
            record(
                Value::String(String::from_utf8_lossy(&body).into_owned()),
                400,
            );
            return api_response(&Err(ApiErr::new(400, desc)));
        }
    };
    let failing = {
        let mut st = inner.lock();
        match st.failing_methods.get_mut(&key) {
            Some(0) => true,
            Some(after) => {
                *after -= 1;
                false
            }
            None => false,
        }
    };
    if failing {
        record(params, 500);
        return api_response(&Err(ApiErr::new(500, "Internal Server Error")));
    }
    let (fault, delay) = {
        let st = inner.lock();
        let eligible = st.fault_rate > 0.0 && (key != "getupdates" || st.fault_get_updates);
        let fault = if eligible && rand::random::<f64>() < st.fault_rate {
            let all = [
                FaultKind::Status500,
                FaultKind::Status502,
                FaultKind::Drop,
                FaultKind::Delay,
            ];
            let kinds: &[FaultKind] = if st.fault_kinds.is_empty() {
                &all
            } else {
                &st.fault_kinds
            };
            Some(kinds[rand::random_range(0..kinds.len())])
        } else {
            None
        };
        (fault, st.fault_delay)
    };
    match fault {
        Some(FaultKind::Status500) => {
            record(params, 500);
            return api_response(&Err(ApiErr::new(500, "Internal Server Error")));
        }
        Some(FaultKind::Status502) => {
            record(params, 502);
            let html = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n";
            return (
                StatusCode::BAD_GATEWAY,
                [(header::CONTENT_TYPE, "text/html")],
                html,
            )
                .into_response();
        }
        Some(FaultKind::Drop) => {
            conn.kill.store(true, Ordering::SeqCst);
            record(params, 0);
            return StatusCode::OK.into_response();
        }
        _ => {}
    }
    if key == "sendmessage" {
        let victim = {
            let mut st = inner.lock();
            let text = params
                .get("text")
                .and_then(Value::as_str)
                .unwrap_or_default();
            match &st.kill_on_message {
                Some((_, needle)) if text.contains(needle.as_str()) => st.kill_on_message.take(),
                _ => None,
            }
        };
        if let Some((pid, _)) = victim {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    }
    let result = if key == "getupdates" {
        get_updates(&inner, &params).await
    } else {
        call(&inner, &key, &token, &params)
    };
    if key == "senddocument" && result.is_ok() {
        let chat_id = p_i64(&params, "chat_id").unwrap_or(0);
        let files = multipart_files(&headers, &body);
        let mut st = inner.lock();
        for (_, file_name, bytes) in files {
            st.documents.push(SentDocument {
                chat_id,
                file_name,
                bytes,
            });
        }
    }
    let status = match &result {
        Ok(_) => 200,
        Err(e) => e.code,
    };
    record(params, status);
    if fault == Some(FaultKind::Delay) {
        tokio::time::sleep(delay).await;
    }
    let held_back = inner.lock().response_delays.get(key.as_str()).copied();
    if let Some(delay) = held_back {
        tokio::time::sleep(delay).await;
    }
    api_response(&result)
}

/// `GET /file/bot<token>/<file_path>`: a file's bytes, as Telegram's file server sends
/// them; recorded as method `file` with the path.
fn download(inner: &Inner, rest: &str, at: Instant) -> Response {
    let file = rest.split_once('/').and_then(|(token, path)| {
        let st = inner.lock();
        let known = st.last_token.as_deref() == Some(token);
        st.files
            .values()
            .find(|(p, _)| known && p == path)
            .map(|(_, bytes)| bytes.clone())
    });
    let status = if file.is_some() { 200 } else { 404 };
    inner.lock().requests.push(Recorded {
        method: "file".into(),
        body: Value::String(rest.split_once('/').map_or("", |(_, p)| p).to_string()),
        at,
        status,
    });
    inner.changed.notify_waiters();
    match file {
        Some(bytes) => (StatusCode::OK, bytes).into_response(),
        None => (StatusCode::NOT_FOUND, "Not Found").into_response(),
    }
}

pub(crate) struct PollGuard(pub(crate) Arc<Inner>, u64);
impl Drop for PollGuard {
    fn drop(&mut self) {
        let mut st = self.0.lock();
        if st.active_poll == Some(self.1) {
            st.active_poll = None;
        }
        st.terminated.remove(&self.1);
    }
}

pub(crate) async fn get_updates(inner: &Arc<Inner>, p: &Value) -> ApiResult {
    let offset = p_i64(p, "offset").unwrap_or(0);
    let limit = p_i64(p, "limit").unwrap_or(100).clamp(1, 100) as usize;
    let timeout = p_i64(p, "timeout").unwrap_or(0).clamp(0, 3600) as u64;
    let me = {
        let mut st = inner.lock();
        if st.force_conflict {
            return Err(ApiErr::new(409, CONFLICT));
        }
        if st.webhook.is_some() {
            return Err(ApiErr::new(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
            ));
        }
        st.confirm(offset);
        st.poll_seq += 1;
        let me = st.poll_seq;
        if let Some(old) = st.active_poll.replace(me) {
            st.terminated.insert(old);
        }
        me
    };
    inner.changed.notify_waiters();
    let _guard = PollGuard(inner.clone(), me);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
    loop {
        let notified = inner.changed.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        {
            let mut st = inner.lock();
            if st.terminated.remove(&me) {
                return Err(ApiErr::new(409, CONFLICT));
            }
            let ups: Vec<Value> = st
                .updates
                .iter()
                .take(limit)
                .map(|(_, u)| u.clone())
                .collect();
            if !ups.is_empty() || tokio::time::Instant::now() >= deadline {
                return Ok(Value::Array(ups));
            }
        }
        let _ = tokio::time::timeout_at(deadline, notified).await;
    }
}
