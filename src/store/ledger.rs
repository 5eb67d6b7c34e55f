//! The delivery ledger: one [`LedgerEntry`] per (chat id, local date as days since
//! 1970-01-01), the record of what happened to that day's excerpt (intended, sent,
//! failed), and the subscription changes a send or a failure makes.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use super::{Store, StoreResult, decode, key_i64, trees};
use crate::schedule::{DeliveryState, FailureKind, LedgerEntry, Subscription};
use crate::text::SectionId;

/// Ledger entries older than this (before the newest day recorded for the chat) are
/// deleted, so the ledger's size follows the number of chats, not their age.
pub const LEDGER_RETENTION_DAYS: i64 = 60;

/// A local date as a key: days since 1970-01-01, sign bit flipped, big-endian (so
/// byte order is date order, as for [`key_i64`]).
fn day_key(date: NaiveDate) -> [u8; 4] {
    let days = date.signed_duration_since(NaiveDate::default()).num_days();
    let days = i32::try_from(days).unwrap_or(if days < 0 { i32::MIN } else { i32::MAX });
    ((days as u32) ^ (1 << 31)).to_be_bytes()
}

fn date_from_key(bytes: &[u8]) -> Option<NaiveDate> {
    let bytes: [u8; 4] = bytes.get(..4)?.try_into().ok()?;
    let days = (u32::from_be_bytes(bytes) ^ (1 << 31)) as i32;
    NaiveDate::default().checked_add_signed(TimeDelta::try_days(i64::from(days))?)
}

/// The ledger key: the chat id (as [`key_i64`]) then the local date (as [`day_key`]).
pub(super) fn ledger_key(chat_id: i64, date: NaiveDate) -> [u8; 12] {
    let mut key = [0; 12];
    key[..8].copy_from_slice(&key_i64(chat_id));
    key[8..].copy_from_slice(&day_key(date));
    key
}

/// Decodes the date of a [`ledger_key`].
fn ledger_date(key: &[u8]) -> Option<NaiveDate> {
    date_from_key(key.get(8..)?)
}

impl Store {
    /// When the chat's most recent excerpt was delivered, as the ledger records it
    /// (entries that cannot be read are passed over).
    pub fn last_sent_at(&self, chat_id: i64) -> StoreResult<Option<DateTime<Utc>>> {
        let entries = self.scan_prefix(trees::LEDGER, &key_i64(chat_id))?;
        Ok(entries
            .iter()
            .filter_map(|(_, value)| decode::<LedgerEntry>(trees::LEDGER, value).ok())
            .filter(|entry| matches!(entry.state, DeliveryState::Sent { .. }))
            .map(|entry| entry.at)
            .max())
    }

    /// The ledger entry for a chat's local date.
    pub fn ledger_entry(&self, chat_id: i64, date: NaiveDate) -> StoreResult<Option<LedgerEntry>> {
        self.get_json(trees::LEDGER, &ledger_key(chat_id, date))
    }

    /// A chat's ledger, oldest date first.
    pub fn ledger(&self, chat_id: i64) -> StoreResult<Vec<(NaiveDate, LedgerEntry)>> {
        let entries = self.scan_json::<LedgerEntry>(trees::LEDGER, &key_i64(chat_id))?;
        Ok(entries
            .into_iter()
            .filter_map(|(key, entry)| Some((ledger_date(&key)?, entry)))
            .collect())
    }

    /// Records that the excerpt for `date` is about to be sent (step one of "mark
    /// intended → send → mark sent"). Returns `false`, changing nothing, if the day is
    /// already recorded as sent.
    pub fn mark_intended(
        &self,
        chat_id: i64,
        date: NaiveDate,
        section: SectionId,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.mark_intended_since(chat_id, date, section, now, DateTime::<Utc>::MIN_UTC)
    }

    /// [`Store::mark_intended`] for a day that began at `day_start` in the chat's zone: a
    /// "sent" entry written before that was for the same date in another zone (the chat
    /// has moved since, see [`LedgerEntry::is_for_day`]) and is replaced.
    pub fn mark_intended_since(
        &self,
        chat_id: i64,
        date: NaiveDate,
        section: SectionId,
        now: DateTime<Utc>,
        day_start: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut intended = false;
        self.update_json::<LedgerEntry, _>(trees::LEDGER, &ledger_key(chat_id, date), |entry| {
            intended = !matches!(&entry, Some(e)
                if matches!(e.state, DeliveryState::Sent { .. }) && e.at >= day_start);
            match entry {
                Some(entry) if !intended => Some(entry),
                _ => Some(LedgerEntry {
                    state: DeliveryState::Intended,
                    section,
                    at: now,
                }),
            }
        })?;
        Ok(intended)
    }

    /// Records that Telegram accepted the excerpt for `date`: the ledger says sent (with
    /// the message ids), then the plan advances and the next send becomes the following
    /// day's. The ledger is written first: if the process dies in between, the next pass
    /// finds the day sent but the subscription still on it, and [`Store::complete_day`]
    /// finishes the job without sending again. Returns the updated subscription.
    pub fn mark_sent(
        &self,
        chat_id: i64,
        date: NaiveDate,
        section: SectionId,
        message_ids: &[i32],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Subscription>> {
        let entry = LedgerEntry {
            state: DeliveryState::Sent {
                message_ids: message_ids.to_vec(),
            },
            section,
            at: now,
        };
        self.put_json(trees::LEDGER, &ledger_key(chat_id, date), &entry)?;
        self.prune_ledger(chat_id, date)?;
        self.complete_day(chat_id, date, now)
    }

    /// Advances a subscription past a day the ledger records as sent (once per date).
    pub fn complete_day(
        &self,
        chat_id: i64,
        date: NaiveDate,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Subscription>> {
        Ok(self
            .modify(chat_id, |s| s.complete_day(date, now))?
            .map(|c| c.after))
    }

    /// Records a failed attempt: the ledger says failed (unless the day was sent
    /// meanwhile) and the subscription notes the failure for `/status`. What follows
    /// depends on `kind` (see [`FailureKind`]): a transient failure is tried again a few
    /// minutes later, a refused one (no rights to write, a refused message) an hour later
    /// and on the following days — the subscription stays on — and only
    /// [`FailureKind::ChatGone`] (the bot was removed or blocked, the chat is gone)
    /// disables the subscription until the chat subscribes again.
    pub fn mark_failed(
        &self,
        chat_id: i64,
        date: NaiveDate,
        section: SectionId,
        kind: FailureKind,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Subscription>> {
        self.record_failure(chat_id, date, section, reason, now)?;
        let change = self.modify(chat_id, |s| {
            s.fail_attempt(date, kind, reason, now);
            if kind == FailureKind::ChatGone {
                s.disable(reason);
            }
        })?;
        if kind == FailureKind::ChatGone && change.as_ref().is_some_and(|c| c.before.active) {
            tracing::info!(chat_id, reason, "subscription disabled");
        }
        Ok(change.map(|c| c.after))
    }

    /// [`Store::mark_failed`] for a chat that is gone ([`FailureKind::ChatGone`]): the
    /// subscription is disabled.
    pub fn mark_failed_permanently(
        &self,
        chat_id: i64,
        date: NaiveDate,
        section: SectionId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Subscription>> {
        self.mark_failed(chat_id, date, section, FailureKind::ChatGone, reason, now)
    }

    fn record_failure(
        &self,
        chat_id: i64,
        date: NaiveDate,
        section: SectionId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.update_json::<LedgerEntry, _>(trees::LEDGER, &ledger_key(chat_id, date), |entry| {
            match entry {
                Some(entry) if matches!(entry.state, DeliveryState::Sent { .. }) => Some(entry),
                _ => Some(LedgerEntry {
                    state: DeliveryState::Failed {
                        reason: reason.to_string(),
                    },
                    section,
                    at: now,
                }),
            }
        })?;
        Ok(())
    }

    /// Deletes a chat's ledger entries more than [`LEDGER_RETENTION_DAYS`] before `date`.
    fn prune_ledger(&self, chat_id: i64, date: NaiveDate) -> StoreResult<()> {
        let Some(cutoff) = date.checked_sub_signed(TimeDelta::days(LEDGER_RETENTION_DAYS)) else {
            return Ok(());
        };
        let start = key_i64(chat_id);
        let end = ledger_key(chat_id, cutoff);
        for (key, _) in self
            .backend()
            .scan(trees::LEDGER, &start, Some(&end), 1000)?
        {
            self.backend().remove(trees::LEDGER, &key)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn day_keys_sort_by_date_and_round_trip() {
        let days = [
            date(1969, 12, 31),
            date(1970, 1, 1),
            date(2026, 5, 2),
            date(2100, 1, 1),
        ];
        for pair in days.windows(2) {
            assert!(day_key(pair[0]) < day_key(pair[1]));
        }
        for day in days {
            assert_eq!(date_from_key(&day_key(day)), Some(day));
        }
    }
}
