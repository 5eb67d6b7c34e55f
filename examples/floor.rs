//! The floor: a bare teloxide bot that answers every message with a fixed text.
//!
//! The benchmarks (`cargo bench --bench bench`, see `benches/README.md`) run it beside
//! studybot to show what teloxide alone costs per update; studybot's own logic should
//! add little to it. It uses the same teloxide features and HTTP client as studybot and
//! reads `TELOXIDE_TOKEN` and `TELOXIDE_API_URL` like it.
//!
//! ```sh
//! TELOXIDE_TOKEN=… TELOXIDE_API_URL=http://127.0.0.1:8081 cargo run --release --example floor
//! ```

use teloxide::prelude::*;

/// What the floor answers to everything.
const FIXED_REPLY: &str = "收到。";

#[tokio::main]
async fn main() {
    let bot = Bot::from_env();
    let handler = Update::filter_message().endpoint(answer);
    // `dispatch` long-polls with a 10 s timeout, like studybot.
    Dispatcher::builder(bot, handler)
        .enable_ctrlc_handler()
        .build()
        .dispatch()
        .await;
}

async fn answer(bot: Bot, message: Message) -> ResponseResult<()> {
    bot.send_message(message.chat.id, FIXED_REPLY).await?;
    Ok(())
}
