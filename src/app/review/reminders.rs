//! The personal review's reminder: `/remind` sets a private reminder at a time of day,
//! and the delivery pass sends the due ones ([`Review::due_reminders`]), reporting
//! each with [`Review::reminder_sent`] or [`Review::reminder_failed`].

use chrono::{DateTime, NaiveDate, Utc};

use crate::app::review::Review;
use crate::app::{AppError, ChatContext, ChatKind};
use crate::command::{BadArgument, ReminderError, ReminderSetting};
use crate::reply::Reply;
use crate::review::messages;
use crate::schedule::{DeliveryState, Due, decide, format_time, local_date, send_instant};
use crate::store::StoreResult;

/// A reminder due now.
#[derive(Debug, Clone, PartialEq)]
pub struct Reminder {
    /// The member (their private chat has the same id).
    pub user_id: u64,
    /// The local date the reminder is for (its ledger key).
    pub local_date: NaiveDate,
    /// The message.
    pub reply: Reply,
}

impl Review<'_> {
    /// `/remind HH:MM [zone]` or `/remind off`, in a private chat.
    pub fn remind(
        &self,
        chat: &ChatContext,
        setting: Option<Result<ReminderSetting, BadArgument<ReminderError>>>,
    ) -> Vec<Reply> {
        if chat.kind != ChatKind::Private {
            return vec![messages::private_only(None)];
        }
        let user_id = chat.user_id;
        let reply = match setting {
            None => match self.app.store().reviewer(user_id) {
                Ok(reviewer) => {
                    let current = reviewer.and_then(|r| r.remind_at).map(format_time);
                    messages::remind_usage(current.as_deref())
                }
                Err(error) => AppError::from(error).reply(user_id as i64),
            },
            Some(Err(bad)) => return vec![messages::remind_bad_time(&bad.text)],
            Some(Ok(ReminderSetting::Off)) => {
                match self
                    .app
                    .store()
                    .update_reviewer(user_id, |r| r.remind_at = None)
                {
                    Ok(()) => messages::remind_off(),
                    Err(error) => AppError::from(error).reply(user_id as i64),
                }
            }
            Some(Ok(ReminderSetting::At(at, zone))) => {
                let result = self.app.store().update_reviewer(user_id, |r| {
                    r.remind_at = Some(at);
                    if let Some(zone) = zone {
                        r.zone = Some(zone.name().to_string());
                    }
                    r.clone()
                });
                match result {
                    Ok(reviewer) => {
                        let zone = self.app.review_zone(Some(&reviewer));
                        messages::remind_set(&format_time(at), zone.name())
                    }
                    Err(error) => AppError::from(error).reply(user_id as i64),
                }
            }
        };
        // Confirmed means durable.
        if let Err(error) = self.app.store().flush() {
            return vec![AppError::from(error).reply(user_id as i64)];
        }
        // A reminder time seconds away is met: the delivery task looks again.
        self.app.deliveries_changed();
        vec![reply]
    }

    /// The reminders due at `now`, each marked "intended" in the reminder ledger: only
    /// for members with cards due, at their local time, within the grace window, once a
    /// day (the daily excerpt's rules, [`decide`]).
    pub fn due_reminders(&self, now: DateTime<Utc>) -> StoreResult<Vec<Reminder>> {
        let grace = self.app.config().grace;
        let mut reminders = Vec::new();
        for (user_id, reviewer) in self.app.store().reviewers_with_reminders()? {
            let Some(at) = reviewer.remind_at else {
                continue;
            };
            let zone = self.app.review_zone(Some(&reviewer));
            let date = local_date(now, zone);
            let scheduled = send_instant(date, at, zone);
            let state = self.app.store().review_ledger(user_id, date)?;
            if decide(scheduled, state.as_ref(), now, grace) != Due::Send {
                continue;
            }
            let due = self.app.store().review_due(user_id, now, 0)?.due;
            if due == 0 {
                continue;
            }
            self.app
                .store()
                .set_review_ledger(user_id, date, &DeliveryState::Intended)?;
            reminders.push(Reminder {
                user_id,
                local_date: date,
                reply: messages::reminder(due),
            });
        }
        if !reminders.is_empty() {
            self.app.store().flush()?;
        }
        Ok(reminders)
    }

    /// Telegram accepted a reminder.
    pub fn reminder_sent(
        &self,
        user_id: u64,
        date: NaiveDate,
        message_ids: &[i32],
    ) -> StoreResult<()> {
        let state = DeliveryState::Sent {
            message_ids: message_ids.to_vec(),
        };
        self.app.store().set_review_ledger(user_id, date, &state)?;
        self.app.store().flush()?;
        tracing::info!(user_id, %date, "review reminder sent");
        Ok(())
    }

    /// A reminder failed; a member who blocked the bot (`permanent`) gets no more.
    pub fn reminder_failed(
        &self,
        user_id: u64,
        date: NaiveDate,
        reason: &str,
        permanent: bool,
    ) -> StoreResult<()> {
        let state = DeliveryState::Failed {
            reason: reason.to_string(),
        };
        self.app.store().set_review_ledger(user_id, date, &state)?;
        if permanent {
            self.app
                .store()
                .update_reviewer(user_id, |r| r.remind_at = None)?;
        }
        self.app.store().flush()
    }
}
