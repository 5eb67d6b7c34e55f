//! The scenarios: the fake Bot API's own capacity, replies under Telegram's limits
//! (open loop), replies with the limiter lifted (closed loop), and the footprint.
//!
//! Each scenario starts a fresh fake and a fresh bot process, so runs do not share
//! state. The broadcast and scheduler-tick scenarios are in `scheduling`.

use std::time::{Duration, Instant};

use axum::body::Bytes;
use http_body_util::BodyExt;
use hyper::Request;
use hyper_util::rt::TokioIo;
use serde_json::json;

use crate::bots::{BotKind, BotProcess, Limits, Programs, threads_cpu};
use crate::fake_api::{FakeBotApi, Inputs, TOKEN};

/// The name of the fake Bot API's runtime threads (its CPU time is read by this name).
pub const FAKE_THREADS: &str = "fake-api";
/// The name of the capacity client's threads.
const CLIENT_THREADS: &str = "load-client";

/// The lookups every bot is sent: half `/section` in the forms people type, half
/// `/search`. Each reply fits one message.
pub const LOOKUPS: &[&str] = &[
    "/section 2.1",
    "/section 3",
    "/section 二.二",
    "/section 4.1",
    "/section 3.2",
    "/search 群众",
    "/search 网格",
    "/search 发展",
    "/search 党员 群众",
    "/search 干部",
];

/// The private chats used only for the correctness probes (one per probe, so that
/// studybot's per-chat limit never delays them).
const PROBE_CHATS: i64 = 1;
/// How many updates warm a bot up before anything is measured.
const WARM_UP_UPDATES: u64 = 2_000;
/// How long a bot may take from start to its first `getUpdates` before the run fails.
const START_LIMIT: Duration = Duration::from_secs(30);
/// How long the load may wait for the last replies of an open-loop run.
const DRAIN_LIMIT: Duration = Duration::from_secs(15);

/// How much load each scenario applies.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Repetitions of every scenario.
    pub runs: usize,
    /// Updates per open-loop run.
    pub open_loop_updates: u64,
    /// The open-loop rate, updates per second (evenly spaced).
    pub open_loop_rate: f64,
    /// Chats the open loop cycles through.
    pub open_loop_chats: usize,
    /// Updates per closed-loop run.
    pub closed_loop_updates: u64,
    /// Updates the closed loop keeps outstanding.
    pub window: u64,
    /// Chats the closed loop spreads over.
    pub closed_loop_chats: usize,
    /// Updates of the load in the `footprint` subcommand alone.
    pub footprint_updates: u64,
    /// How long the capacity check sends.
    pub capacity_time: Duration,
    /// Connections the capacity check uses.
    pub capacity_connections: usize,
    /// The most a closed-loop run may take before it counts as failed.
    pub closed_loop_limit: Duration,
}

impl Plan {
    /// The full plan, or a short one for `--quick`.
    pub fn new(quick: bool, runs: Option<usize>) -> Self {
        if quick {
            Self {
                runs: runs.unwrap_or(1),
                open_loop_updates: 150,
                open_loop_rate: 25.0,
                open_loop_chats: 500,
                closed_loop_updates: 10_000,
                window: 256,
                closed_loop_chats: 10_000,
                footprint_updates: 5_000,
                capacity_time: Duration::from_secs(2),
                capacity_connections: 64,
                closed_loop_limit: Duration::from_secs(120),
            }
        } else {
            Self {
                runs: runs.unwrap_or(3),
                open_loop_updates: 500,
                open_loop_rate: 25.0,
                open_loop_chats: 500,
                closed_loop_updates: 100_000,
                window: 256,
                closed_loop_chats: 10_000,
                footprint_updates: 20_000,
                capacity_time: Duration::from_secs(5),
                capacity_connections: 64,
                closed_loop_limit: Duration::from_secs(400),
            }
        }
    }
}

/// Chat ids for a load: every fifth one a group (negative id), the rest private chats.
/// `base` keeps the pools of different phases apart.
pub fn chats(count: usize, base: i64) -> Vec<i64> {
    (0..count as i64)
        .map(|i| {
            let id = base + i;
            if i % 5 == 4 { -id } else { id }
        })
        .collect()
}

/// What the fake Bot API can serve.
#[derive(Debug, Clone, Copy)]
pub struct Capacity {
    /// `sendMessage` requests answered per second (client on the same machine).
    pub requests_per_second: f64,
    /// The fake's own CPU time per request, in microseconds.
    pub cpu_per_request_us: f64,
}

/// Floods the fake with `sendMessage` calls (a typical studybot reply, keep-alive
/// connections, a hyper client on its own threads) and counts what it answers.
pub async fn fake_capacity(plan: &Plan) -> Result<Capacity, String> {
    let fake = FakeBotApi::start().await;
    let addr = fake.addr();
    let body = request_body();
    let connections = plan.capacity_connections;
    let time = plan.capacity_time;
    let fake_before = threads_cpu(FAKE_THREADS);
    let client = std::thread::spawn(move || -> Result<(u64, Duration), String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name(CLIENT_THREADS)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async move {
            let started = Instant::now();
            let deadline = started + time;
            let tasks: Vec<_> = (0..connections)
                .map(|n| {
                    let body = body.clone();
                    tokio::spawn(async move { hammer(addr, n, body, deadline).await })
                })
                .collect();
            let mut total = 0;
            for task in tasks {
                total += task.await.map_err(|e| e.to_string())??;
            }
            Ok((total, started.elapsed()))
        })
    });
    let (requests, elapsed) = tokio::task::spawn_blocking(move || client.join())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|_| "the capacity client panicked".to_string())??;
    let fake_cpu = threads_cpu(FAKE_THREADS).saturating_sub(fake_before);
    Ok(Capacity {
        requests_per_second: requests as f64 / elapsed.as_secs_f64(),
        cpu_per_request_us: fake_cpu.as_secs_f64() * 1e6 / requests.max(1) as f64,
    })
}

/// One keep-alive connection sending `sendMessage` until `deadline`.
async fn hammer(
    addr: std::net::SocketAddr,
    n: usize,
    body: Bytes,
    deadline: Instant,
) -> Result<u64, String> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    let uri = format!("http://{addr}/bot{TOKEN}/sendMessage");
    let mut count = 0;
    while Instant::now() < deadline {
        let request = Request::post(&uri)
            .header("content-type", "application/json")
            .header("host", "127.0.0.1")
            .body(http_body_util::Full::new(body.clone()))
            .map_err(|e| e.to_string())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("connection {n}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("sendMessage answered {}", response.status()));
        }
        response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?;
        count += 1;
    }
    Ok(count)
}

/// The body of a typical reply: `/section 2.1` as studybot sends it.
fn request_body() -> Bytes {
    let text = "<b>2.1 用脚步丈量民情民意</b>\n第二部分 厚植为民之心 · 站稳群众立场\n\n<i>（原文此处不完整）</i>\n\n街头巷尾,才能听到群众的心里话。要放下“官架子”,穿得了运动鞋、坐得了矮板凳,和群众同坐一条炕、同喝一壶茶。别小看闲聊时的几句家常,可能藏着群众最真实的诉求;别忽视走访时看到的细节,可能反映着工作最需要改进的地方。可以多搞些“乡村夜话”“庭院座谈”,趁着群众晚上有空、心情放松的时候,听他们讲困难、提建议,这样收集到的民情才鲜活、民意才真切。\n\n<i>注：本节原文不完整，以上为现存部分，缺失内容不作补写。</i>";
    let body = json!({
        "chat_id": 10_000_001,
        "text": text,
        "parse_mode": "HTML",
        "reply_markup": {"inline_keyboard": [[
            {"text": "◀ 2", "callback_data": "s:xzsj:2"},
            {"text": "提纲", "callback_data": "o:xzsj"},
            {"text": "2.2 ▶", "callback_data": "s:xzsj:2.2"},
        ]]},
    });
    Bytes::from(body.to_string())
}

/// What one bot process showed from its start until it was idle.
#[derive(Debug, Clone, Copy)]
pub struct Start {
    /// Process start → first `getUpdates` arrives, in milliseconds.
    pub to_first_poll_ms: f64,
    /// Resident memory one second after the first `getUpdates`, in bytes.
    pub idle_rss: u64,
}

/// One open-loop run under Telegram's limits.
#[derive(Debug, Clone, Copy)]
pub struct UnderLimits {
    /// The start of the process that served it.
    pub start: Start,
    /// Median reply latency, milliseconds.
    pub p50_ms: f64,
    /// 99th percentile reply latency, milliseconds.
    pub p99_ms: f64,
    /// The bot's CPU time per update over the run, microseconds.
    pub cpu_per_update_us: f64,
    /// Updates without a reply when the run ended.
    pub unanswered: usize,
}

/// One closed-loop run with the limiter lifted.
#[derive(Debug, Clone, Copy)]
pub struct Lifted {
    /// The start of the process that served it.
    pub start: Start,
    /// Replies per second over the run.
    pub replies_per_second: f64,
    /// The bot's CPU time per update, microseconds.
    pub cpu_per_update_us: f64,
    /// The fake Bot API's CPU time per update, microseconds.
    pub fake_cpu_per_update_us: f64,
    /// Resident memory right after the load, bytes.
    pub rss_after_load: u64,
}

/// Starts `kind` against a fresh fake, waits for its first poll and idle memory, and
/// checks that it answers lookups correctly.
async fn start_bot(
    programs: &Programs,
    kind: BotKind,
    limits: Limits,
) -> Result<(FakeBotApi, BotProcess, Start), String> {
    let fake = FakeBotApi::start().await;
    let bot = BotProcess::start(programs, kind, &fake.url(), limits)?;
    let Some(first_poll) = fake.wait_for_polling(START_LIMIT).await else {
        return Err(format!(
            "{} sent no getUpdates within {START_LIMIT:?}\n{}",
            kind.name(),
            bot.log_tail()
        ));
    };
    let to_first_poll = first_poll.duration_since(bot.started);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_rss = bot.rss()?;
    check_answers(&fake, &bot).await?;
    let unknown = fake.counts().unknown_methods;
    if !unknown.is_empty() {
        return Err(format!(
            "{} called methods the fake does not know: {unknown:?}",
            kind.name()
        ));
    }
    let start = Start {
        to_first_poll_ms: to_first_poll.as_secs_f64() * 1e3,
        idle_rss,
    };
    Ok((fake, bot, start))
}

/// The bots must answer lookups with the right section (the floor answers anything).
async fn check_answers(fake: &FakeBotApi, bot: &BotProcess) -> Result<(), String> {
    let cases = [
        ("/section 2.1", "用脚步丈量民情民意"),
        ("/section 二.二", "用真心化解急难愁盼"),
        ("/section 3", "扛起发展之责"),
        ("/search 网格", "统筹协调优治理"),
    ];
    for (n, (input, expected)) in cases.into_iter().enumerate() {
        let reply = fake
            .probe(PROBE_CHATS + n as i64, input, Duration::from_secs(10))
            .await
            .ok_or_else(|| {
                format!(
                    "{} did not answer {input}\n{}",
                    bot.kind.name(),
                    bot.log_tail()
                )
            })?;
        if bot.kind != BotKind::Floor && !reply.contains(expected) {
            return Err(format!(
                "{} answered {input} with a reply lacking {expected}: {reply}",
                bot.kind.name()
            ));
        }
    }
    Ok(())
}

/// Waits until every update queued from index `from` on has its reply.
async fn drain(fake: &FakeBotApi, from: usize, limit: Duration) -> usize {
    let deadline = Instant::now() + limit;
    loop {
        let unanswered = fake.unanswered_from(from);
        if unanswered == 0 || Instant::now() >= deadline {
            return unanswered;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Replies under Telegram's limits: an open loop at `plan.open_loop_rate` updates/s,
/// evenly spaced, cycling through `plan.open_loop_chats` chats.
pub async fn under_limits(
    programs: &Programs,
    kind: BotKind,
    plan: &Plan,
    seed: u64,
) -> Result<UnderLimits, String> {
    let (fake, bot, start) = start_bot(programs, kind, Limits::Telegram).await?;
    let interval = Duration::from_secs_f64(1.0 / plan.open_loop_rate);
    let mut inputs = Inputs::new(LOOKUPS, seed);

    // Warm up at the same rate on other chats, then measure.
    let warm_chats = chats(50, 50_000_000);
    let from = fake.queued();
    for chat in &warm_chats {
        fake.send(*chat, inputs.next_text());
        tokio::time::sleep(interval).await;
    }
    drain(&fake, from, DRAIN_LIMIT).await;

    let chats = chats(plan.open_loop_chats, 10_000_000);
    let from = fake.queued();
    let cpu_before = bot.cpu()?;
    let began = tokio::time::Instant::now();
    for n in 0..plan.open_loop_updates {
        tokio::time::sleep_until(began + interval * n as u32).await;
        fake.send(chats[n as usize % chats.len()], inputs.next_text());
    }
    let unanswered = drain(&fake, from, DRAIN_LIMIT).await;
    let cpu = bot.cpu()?.saturating_sub(cpu_before);
    let mut latencies: Vec<f64> = fake
        .timings_from(from)
        .iter()
        .filter_map(|t| t.latency())
        .map(|d| d.as_secs_f64() * 1e3)
        .collect();
    fake.close();
    bot.stop().await;
    if latencies.is_empty() {
        return Err(format!("{} answered nothing", kind.name()));
    }
    latencies.sort_by(f64::total_cmp);
    Ok(UnderLimits {
        start,
        p50_ms: percentile(&latencies, 0.50),
        p99_ms: percentile(&latencies, 0.99),
        cpu_per_update_us: cpu.as_secs_f64() * 1e6 / plan.open_loop_updates as f64,
        unanswered,
    })
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Efficiency with the limiter lifted: a closed loop of `updates` updates over
/// `plan.closed_loop_chats` chats with `plan.window` outstanding.
pub async fn lifted(
    programs: &Programs,
    kind: BotKind,
    plan: &Plan,
    updates: u64,
    seed: u64,
) -> Result<Lifted, String> {
    let (fake, bot, start) = start_bot(programs, kind, Limits::Lifted).await?;
    let inputs = Inputs::new(LOOKUPS, seed);
    let warm_chats = chats(WARM_UP_UPDATES as usize, 50_000_000);
    fake.closed_loop(
        WARM_UP_UPDATES,
        plan.window,
        &warm_chats,
        inputs.clone(),
        plan.closed_loop_limit,
    )
    .await
    .ok_or_else(|| {
        format!(
            "{} did not finish the warm-up\n{}",
            kind.name(),
            bot.log_tail()
        )
    })?;

    let chats = chats(plan.closed_loop_chats, 10_000_000);
    let cpu_before = bot.cpu()?;
    let fake_before = threads_cpu(FAKE_THREADS);
    let began = Instant::now();
    let last_reply = fake
        .closed_loop(updates, plan.window, &chats, inputs, plan.closed_loop_limit)
        .await
        .ok_or_else(|| {
            format!(
                "{} did not answer {updates} updates within {:?}\n{}",
                kind.name(),
                plan.closed_loop_limit,
                bot.log_tail()
            )
        })?;
    let cpu = bot.cpu()?.saturating_sub(cpu_before);
    let fake_cpu = threads_cpu(FAKE_THREADS).saturating_sub(fake_before);
    let rss_after_load = bot.rss()?;
    fake.close();
    bot.stop().await;
    let elapsed = last_reply.duration_since(began).as_secs_f64();
    Ok(Lifted {
        start,
        replies_per_second: updates as f64 / elapsed,
        cpu_per_update_us: cpu.as_secs_f64() * 1e6 / updates as f64,
        fake_cpu_per_update_us: fake_cpu.as_secs_f64() * 1e6 / updates as f64,
        rss_after_load,
    })
}
