//! Whether a message the running bot sent by itself arrived on time (the delivery task
//! is woken, not polled): shared by the excerpt's and the reminder's test.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

/// Asserts that `what`, recorded by the fake at `arrived`, was not sent before `due`
/// (a little slack for the two clocks read apart) and at most a few seconds after it
/// (slack for a loaded machine, far below any polling interval worth having).
pub fn assert_on_time(what: &str, arrived: Instant, due: DateTime<Utc>, log: &str) {
    // The fake records `Instant`s: turn the due instant into one.
    let until_due = due - Utc::now();
    let due_at = match until_due.to_std() {
        Ok(ahead) => Instant::now() + ahead,
        Err(_) => Instant::now() - (-until_due).to_std().unwrap(),
    };
    assert!(
        arrived + Duration::from_millis(500) >= due_at,
        "{what} sent {:?} before it was due",
        due_at - arrived
    );
    let late = arrived.saturating_duration_since(due_at);
    eprintln!("{what} sent {late:?} after its due instant");
    assert!(
        late < Duration::from_secs(8),
        "{what} sent {late:?} after it was due:\n{log}"
    );
}
