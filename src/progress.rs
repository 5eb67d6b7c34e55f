//! The progress bar of long command-line work (`import`, `export`, `import-state`,
//! `record`): shown on stderr when it is a terminal, and nothing at all otherwise, so
//! piped and logged output stays as it was.
//!
//! One bar at a time, process-wide, like the `metrics` facade: the loops that do the work
//! (in the store and the record export) call [`advance`] without a parameter threaded
//! through them, and it costs nothing when no bar is shown (`studybot run`, tests, pipes).
//! This module imports nothing from the crate, so every layer may call it.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

static BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// The bar shown while it lives; cleared from the terminal when dropped.
#[must_use = "the bar is cleared when this is dropped"]
pub struct Progress(());

/// Shows a bar for `what` on a terminal: out of `total` items when known, else a count.
pub fn start(what: &str, total: Option<u64>) -> Progress {
    if std::io::stderr().is_terminal() {
        let bar = match total {
            Some(total) => ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
                .with_style(
                    ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({eta} left)")
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                ),
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_style(
                ProgressStyle::with_template("{spinner} {msg} {pos} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        bar.set_message(what.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        *lock() = Some(bar);
    }
    Progress(())
}

/// Counts `n` more items done on the bar shown, if any.
pub fn advance(n: u64) {
    if let Some(bar) = lock().as_ref() {
        bar.inc(n);
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = lock().take() {
            bar.finish_and_clear();
        }
    }
}

fn lock() -> std::sync::MutexGuard<'static, Option<ProgressBar>> {
    BAR.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
