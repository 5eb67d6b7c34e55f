//! The study record's collections: check-ins, each day's check-in count, members and the
//! days each checked in on, individual quiz answers, weekly-report settings and the
//! weekly-report ledger.
//!
//! Keys start with the chat id ([`key_i64`]), so a chat's records are one prefix scan
//! and [`Store::migrate_record`] moves them all. Dates are big-endian days since
//! 0001-01-01, user ids and instants big-endian, so each tree sorts by them.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use super::{Store, StoreError, StoreResult, i64_from_key, key_i64, trees};
use crate::record::{CheckIn, Days, Member, QuestionTally, QuizAnswer, ReportSetting};

/// How a check-in went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckInResult {
    /// Recorded now; the member is the `rank`-th of that day.
    Recorded {
        /// 1 for the first check-in of the day in the chat.
        rank: u32,
    },
    /// The member had already checked in for that day: the record kept.
    Already(CheckIn),
}

fn day_key(date: NaiveDate) -> [u8; 4] {
    // Dates before the common era (NaiveDate::MIN as an open bound) sort first.
    (date.num_days_from_ce().max(0) as u32).to_be_bytes()
}

fn chat_day(chat_id: i64, date: NaiveDate) -> Vec<u8> {
    let mut key = key_i64(chat_id).to_vec();
    key.extend_from_slice(&day_key(date));
    key
}

fn user_of(key: &[u8]) -> StoreResult<u64> {
    key.get(8..16)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| StoreError::Corrupt {
            tree: trees::MEMBER_DAYS,
            reason: format!("a key of {} bytes, not 16", key.len()),
        })
}

/// A question's tally key: the chat, the part, and 8 bytes of the question's SHA-256.
fn tally_key(chat_id: i64, tally: &QuestionTally) -> Vec<u8> {
    use sha2::Digest;
    let mut key = key_i64(chat_id).to_vec();
    key.push(tally.part);
    key.extend_from_slice(&sha2::Sha256::digest(tally.question.as_bytes())[..8]);
    key
}

fn decode_days(value: &[u8]) -> StoreResult<Days> {
    Days::from_bytes(value).map_err(|reason| StoreError::Corrupt {
        tree: trees::MEMBER_DAYS,
        reason,
    })
}

/// The (chat, day, user) a check-in's key names ([`chat_day`] and the user id).
fn check_in_of_key(key: &[u8]) -> Option<(i64, NaiveDate, u64)> {
    let day = u32::from_be_bytes(key.get(8..12)?.try_into().ok()?);
    let day = NaiveDate::from_num_days_from_ce_opt(i32::try_from(day).ok()?)?;
    let user = u64::from_be_bytes(key.get(12..20)?.try_into().ok()?);
    Some((i64_from_key(key)?, day, user))
}

fn chat_user(chat_id: i64, user_id: u64) -> Vec<u8> {
    let mut key = key_i64(chat_id).to_vec();
    key.extend_from_slice(&user_id.to_be_bytes());
    key
}

impl Store {
    /// Records a check-in once per (chat, day, member), atomically: of two racing presses
    /// one is recorded and the other told it already was. Flushes before returning
    /// [`CheckInResult::Recorded`], so a confirmed check-in survives a crash.
    pub fn check_in(&self, check_in: &CheckIn) -> StoreResult<CheckInResult> {
        // The check-in, the day's count and the member: in a backup together or not at all.
        let _operation = self.operation();
        let mut key = chat_day(check_in.chat_id, check_in.date);
        key.extend_from_slice(&check_in.user_id.to_be_bytes());
        let record = super::encode(check_in);
        let mut existing = None;
        self.backend().update(trees::CHECK_INS, &key, &mut |old| {
            existing = old.map(<[u8]>::to_vec);
            Some(existing.clone().unwrap_or_else(|| record.clone()))
        })?;
        if let Some(existing) = existing {
            // A crash between the check-in and its day (below) is healed by the next press.
            if !self
                .days_of(check_in.chat_id, check_in.user_id)?
                .contains(check_in.date)
            {
                self.add_member_days(
                    check_in.chat_id,
                    check_in.user_id,
                    &Days::of([check_in.date]),
                )?;
            }
            return Ok(CheckInResult::Already(super::decode(
                trees::CHECK_INS,
                &existing,
            )?));
        }
        let count = self.backend().update(
            trees::CHECK_IN_COUNTS,
            &chat_day(check_in.chat_id, check_in.date),
            &mut |old| {
                let n = old
                    .and_then(|b| b.try_into().ok())
                    .map_or(0, u32::from_be_bytes);
                Some((n + 1).to_be_bytes().to_vec())
            },
        )?;
        self.add_member_days(
            check_in.chat_id,
            check_in.user_id,
            &Days::of([check_in.date]),
        )?;
        self.join(
            check_in.chat_id,
            check_in.user_id,
            &check_in.name,
            check_in.at,
            true,
        )?;
        self.flush()?;
        let rank = count
            .and_then(|b| b.try_into().ok())
            .map_or(1, u32::from_be_bytes);
        Ok(CheckInResult::Recorded { rank })
    }

    /// One member's check-in for one day of a chat's record, if any (a point lookup:
    /// the Mini App's reader asks for one member's days without scanning the group's).
    pub fn member_check_in(
        &self,
        chat_id: i64,
        date: NaiveDate,
        user_id: u64,
    ) -> StoreResult<Option<CheckIn>> {
        let mut key = chat_day(chat_id, date);
        key.extend_from_slice(&user_id.to_be_bytes());
        self.backend()
            .get(trees::CHECK_INS, &key)?
            .map(|value| super::decode(trees::CHECK_INS, &value))
            .transpose()
    }

    /// A chat's check-ins for days in `from..=to`, by day then user.
    pub fn check_ins(
        &self,
        chat_id: i64,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<CheckIn>> {
        let start = chat_day(chat_id, from);
        let end = chat_day(chat_id, to.succ_opt().unwrap_or(to));
        self.backend()
            .scan(trees::CHECK_INS, &start, Some(&end), usize::MAX)?
            .into_iter()
            .map(|(_, value)| super::decode(trees::CHECK_INS, &value))
            .collect()
    }

    /// When each member checked in for `date` in a chat, by user id: `/roster`'s times,
    /// reading only that field of each check-in.
    pub fn check_in_times(
        &self,
        chat_id: i64,
        date: NaiveDate,
    ) -> StoreResult<BTreeMap<u64, DateTime<Utc>>> {
        #[derive(serde::Deserialize)]
        struct At {
            user_id: u64,
            at: DateTime<Utc>,
        }
        let start = chat_day(chat_id, date);
        let end = chat_day(chat_id, date.succ_opt().unwrap_or(date));
        self.backend()
            .scan(trees::CHECK_INS, &start, Some(&end), usize::MAX)?
            .into_iter()
            .map(|(_, value)| {
                let at: At = super::decode(trees::CHECK_INS, &value)?;
                Ok((at.user_id, at.at))
            })
            .collect()
    }

    /// Calls `f` with each of a chat's check-ins for days in `from..=to`, by day then user,
    /// reading them a page at a time (the export of a year of a large group).
    pub fn each_check_in<E: From<StoreError>>(
        &self,
        chat_id: i64,
        from: NaiveDate,
        to: NaiveDate,
        mut f: impl FnMut(CheckIn) -> Result<(), E>,
    ) -> Result<(), E> {
        let start = chat_day(chat_id, from);
        let end = chat_day(chat_id, to.succ_opt().unwrap_or(to));
        self.each_entry(trees::CHECK_INS, &start, Some(&end), |_, value| {
            f(super::decode(trees::CHECK_INS, value)?)
        })
    }

    /// The days each member of a chat checked in on, by user id: one small value per
    /// member, however long the record.
    pub fn member_days(&self, chat_id: i64) -> StoreResult<BTreeMap<u64, Days>> {
        let prefix = key_i64(chat_id);
        let mut all = BTreeMap::new();
        for (key, value) in self.scan_prefix(trees::MEMBER_DAYS, &prefix)? {
            all.insert(user_of(&key)?, decode_days(&value)?);
        }
        Ok(all)
    }

    /// The days one member of a chat checked in on.
    pub fn days_of(&self, chat_id: i64, user_id: u64) -> StoreResult<Days> {
        self.backend()
            .get(trees::MEMBER_DAYS, &chat_user(chat_id, user_id))?
            .map_or(Ok(Days::new()), |value| decode_days(&value))
    }

    /// Adds `days` to a member's days, atomically.
    pub(super) fn add_member_days(
        &self,
        chat_id: i64,
        user_id: u64,
        days: &Days,
    ) -> StoreResult<()> {
        let mut damaged = None;
        self.backend().update(
            trees::MEMBER_DAYS,
            &chat_user(chat_id, user_id),
            &mut |old| {
                let mut all = match old.map(Days::from_bytes).transpose() {
                    Ok(all) => all.unwrap_or_default(),
                    Err(reason) => {
                        // Rebuilt from the check-ins the next time the store is upgraded;
                        // meanwhile the new days are kept rather than the damaged value.
                        damaged = Some(reason);
                        Days::new()
                    }
                };
                all.union(days);
                Some(all.to_bytes())
            },
        )?;
        if let Some(reason) = damaged {
            tracing::warn!(chat_id, user_id, %reason, "a member's check-in days were unreadable and were replaced");
        }
        Ok(())
    }

    /// Builds [`trees::MEMBER_DAYS`] from the check-ins (the step to schema version 3),
    /// reading keys only; adding days already there changes nothing, so it can be cut
    /// short and run again. How many members it holds days for.
    pub(super) fn build_member_days(&self) -> StoreResult<usize> {
        let mut all: BTreeMap<(i64, u64), Days> = BTreeMap::new();
        self.each_entry::<StoreError>(trees::CHECK_INS, &[], None, |key, _| {
            let Some((chat, day, user)) = check_in_of_key(key) else {
                return Err(StoreError::Corrupt {
                    tree: trees::CHECK_INS,
                    reason: format!("a check-in key of {} bytes", key.len()),
                });
            };
            all.entry((chat, user)).or_default().insert(day);
            Ok(())
        })?;
        for ((chat, user), days) in &all {
            self.add_member_days(*chat, *user, days)?;
        }
        Ok(all.len())
    }

    /// A chat's first check-in (of the earliest day), if any.
    pub fn first_check_in(&self, chat_id: i64) -> StoreResult<Option<CheckIn>> {
        self.first_entry(trees::CHECK_INS, &key_i64(chat_id))?
            .map(|(_, value)| super::decode(trees::CHECK_INS, &value))
            .transpose()
    }

    /// Puts a user on a chat's roster (or updates their name). `rejoin` brings back one
    /// who left with `/leave`; activity alone does not.
    pub fn join(
        &self,
        chat_id: i64,
        user_id: u64,
        name: &str,
        now: DateTime<Utc>,
        rejoin: bool,
    ) -> StoreResult<Member> {
        let member = self.update_json(
            trees::MEMBERS,
            &chat_user(chat_id, user_id),
            |old: Option<Member>| {
                Some(match old {
                    Some(mut member) => {
                        member.name = name.to_string();
                        member.left &= !rejoin;
                        member
                    }
                    None => Member {
                        user_id,
                        name: name.to_string(),
                        joined: now,
                        left: false,
                    },
                })
            },
        )?;
        Ok(member.expect("the update writes a member"))
    }

    /// Takes a user off the roster, keeping their records. `false` if they were not on it.
    pub fn leave(&self, chat_id: i64, user_id: u64) -> StoreResult<bool> {
        let mut was_member = false;
        self.update_json(
            trees::MEMBERS,
            &chat_user(chat_id, user_id),
            |old: Option<Member>| {
                was_member = old.as_ref().is_some_and(|m| !m.left);
                old.map(|mut member| {
                    member.left = true;
                    member
                })
            },
        )?;
        self.flush()?;
        Ok(was_member)
    }

    /// Deletes everything the record holds about a user in a chat: membership,
    /// check-ins, quiz answers. Returns how many check-ins and answers were deleted.
    pub fn forget_member(&self, chat_id: i64, user_id: u64) -> StoreResult<(usize, usize)> {
        let _operation = self.operation();
        self.backend()
            .remove(trees::MEMBERS, &chat_user(chat_id, user_id))?;
        self.backend()
            .remove(trees::MEMBER_DAYS, &chat_user(chat_id, user_id))?;
        let mut check_ins = 0;
        for (key, value) in self.scan_prefix(trees::CHECK_INS, &key_i64(chat_id))? {
            let check_in: CheckIn = super::decode(trees::CHECK_INS, &value)?;
            if check_in.user_id == user_id {
                self.backend().remove(trees::CHECK_INS, &key)?;
                check_ins += 1;
            }
        }
        let mut answers = 0;
        for (key, value) in self.scan_prefix(trees::QUIZ_ANSWERS, &key_i64(chat_id))? {
            let answer: QuizAnswer = super::decode(trees::QUIZ_ANSWERS, &value)?;
            if answer.user_id == user_id {
                self.backend().remove(trees::QUIZ_ANSWERS, &key)?;
                self.remove_from_tally(chat_id, &QuestionTally::of(&answer))?;
                answers += 1;
            }
        }
        self.flush()?;
        Ok((check_ins, answers))
    }

    /// A chat's members (including those who left), by user id.
    pub fn members(&self, chat_id: i64) -> StoreResult<Vec<Member>> {
        self.chat_values(trees::MEMBERS, chat_id)
    }

    /// The chats on whose roster the user is (and has not left).
    pub fn chats_of(&self, user_id: u64) -> StoreResult<Vec<i64>> {
        Ok(self
            .scan_json::<Member>(trees::MEMBERS, &[])?
            .into_iter()
            .filter(|(key, member)| member.user_id == user_id && !member.left && key.len() == 16)
            .filter_map(|(key, _)| i64_from_key(&key))
            .collect())
    }

    /// The chats with a roster (anyone who checked in, answered or joined), by id.
    pub fn chats_with_members(&self) -> StoreResult<Vec<i64>> {
        let mut chats: Vec<i64> = self
            .scan_prefix(trees::MEMBERS, &[])?
            .into_iter()
            .filter_map(|(key, _)| i64_from_key(&key))
            .collect();
        chats.dedup();
        Ok(chats)
    }

    /// Whether the store holds anything about `chat_id`: a subscription, a status or
    /// title, a roster, a check-in or a quiz answer.
    pub fn knows_chat(&self, chat_id: i64) -> StoreResult<bool> {
        Ok(self.subscription(chat_id)?.is_some()
            || self.chat_status(chat_id)?.is_some()
            || self
                .first_entry(trees::MEMBERS, &key_i64(chat_id))?
                .is_some()
            || self
                .first_entry(trees::CHECK_INS, &key_i64(chat_id))?
                .is_some()
            || self
                .first_entry(trees::QUIZ_ANSWERS, &key_i64(chat_id))?
                .is_some())
    }

    /// Keeps one quiz answer for the export, and counts it in its question's tally (once:
    /// the same answer kept again is not counted again).
    pub fn record_quiz_answer(&self, answer: &QuizAnswer) -> StoreResult<()> {
        let _operation = self.operation();
        let mut key = key_i64(answer.chat_id).to_vec();
        key.extend_from_slice(&answer.at.timestamp_micros().to_be_bytes());
        key.extend_from_slice(&answer.user_id.to_be_bytes());
        let record = super::encode(answer);
        let mut known = false;
        self.backend()
            .update(trees::QUIZ_ANSWERS, &key, &mut |old| {
                known = old.is_some();
                Some(record.clone())
            })?;
        if !known {
            self.add_to_tally(answer.chat_id, &QuestionTally::of(answer))?;
        }
        Ok(())
    }

    /// A chat's question tallies, by part then question.
    pub fn quiz_tallies(&self, chat_id: i64) -> StoreResult<Vec<QuestionTally>> {
        self.chat_values(trees::QUIZ_TALLIES, chat_id)
    }

    /// Adds `more` to the chat's tally of the same question, atomically.
    pub(super) fn add_to_tally(&self, chat_id: i64, more: &QuestionTally) -> StoreResult<()> {
        let key = tally_key(chat_id, more);
        self.update_json::<QuestionTally, _>(trees::QUIZ_TALLIES, &key, |tally| {
            Some(match tally {
                Some(mut tally) => {
                    tally.add(more);
                    tally
                }
                None => more.clone(),
            })
        })?;
        Ok(())
    }

    /// Takes `less` away from the chat's tally of the same question (gone at zero), atomically.
    fn remove_from_tally(&self, chat_id: i64, less: &QuestionTally) -> StoreResult<()> {
        let key = tally_key(chat_id, less);
        self.update_json::<QuestionTally, _>(trees::QUIZ_TALLIES, &key, |tally| {
            let mut tally = tally?;
            tally.remove(less);
            (tally.total > 0).then_some(tally)
        })?;
        Ok(())
    }

    /// Builds [`trees::QUIZ_TALLIES`] afresh from the answers (the step to schema version 3,
    /// and after a restore). How many questions it holds tallies for.
    pub(super) fn build_quiz_tallies(&self) -> StoreResult<usize> {
        for (key, _) in self.scan_prefix(trees::QUIZ_TALLIES, &[])? {
            self.backend().remove(trees::QUIZ_TALLIES, &key)?;
        }
        let mut all: BTreeMap<Vec<u8>, QuestionTally> = BTreeMap::new();
        self.each_entry::<StoreError>(trees::QUIZ_ANSWERS, &[], None, |_, value| {
            let answer: QuizAnswer = super::decode(trees::QUIZ_ANSWERS, value)?;
            let one = QuestionTally::of(&answer);
            all.entry(tally_key(answer.chat_id, &one))
                .and_modify(|tally| tally.add(&one))
                .or_insert(one);
            Ok(())
        })?;
        for (key, tally) in &all {
            self.put_json(trees::QUIZ_TALLIES, key, tally)?;
        }
        Ok(all.len())
    }

    /// A chat's quiz answers, oldest first.
    pub fn quiz_answers(&self, chat_id: i64) -> StoreResult<Vec<QuizAnswer>> {
        self.chat_values(trees::QUIZ_ANSWERS, chat_id)
    }

    /// Calls `f` with each of a chat's quiz answers, oldest first (by instant to the
    /// microsecond, then by user), reading them a page at a time.
    pub fn each_quiz_answer<E: From<StoreError>>(
        &self,
        chat_id: i64,
        mut f: impl FnMut(QuizAnswer) -> Result<(), E>,
    ) -> Result<(), E> {
        let start = key_i64(chat_id);
        let end = super::prefix_end(&start);
        self.each_entry(trees::QUIZ_ANSWERS, &start, end.as_deref(), |_, value| {
            f(super::decode(trees::QUIZ_ANSWERS, value)?)
        })
    }

    /// A chat's first quiz answer, if any.
    pub fn first_quiz_answer(&self, chat_id: i64) -> StoreResult<Option<QuizAnswer>> {
        self.first_entry(trees::QUIZ_ANSWERS, &key_i64(chat_id))?
            .map(|(_, value)| super::decode(trees::QUIZ_ANSWERS, &value))
            .transpose()
    }

    /// The chat's weekly-report setting, if on.
    pub fn report_setting(&self, chat_id: i64) -> StoreResult<Option<ReportSetting>> {
        self.get_json(trees::REPORT_SETTINGS, &key_i64(chat_id))
    }

    /// Turns the weekly report on (`Some`) or off (`None`), durably.
    pub fn set_report_setting(
        &self,
        chat_id: i64,
        setting: Option<ReportSetting>,
    ) -> StoreResult<()> {
        match setting {
            Some(setting) => self.put_json(trees::REPORT_SETTINGS, &key_i64(chat_id), &setting)?,
            None => self
                .backend()
                .remove(trees::REPORT_SETTINGS, &key_i64(chat_id))?,
        }
        self.flush()
    }

    /// Every chat with the weekly report on.
    pub fn report_settings(&self) -> StoreResult<Vec<(i64, ReportSetting)>> {
        Ok(self
            .scan_json::<ReportSetting>(trees::REPORT_SETTINGS, &[])?
            .into_iter()
            .filter_map(|(key, setting)| Some((i64_from_key(&key)?, setting)))
            .collect())
    }

    /// Claims the report of ISO week `week` (e.g. 202648) for the chat, durably: `false`
    /// if it was already claimed (sent, or being sent).
    pub fn claim_report(&self, chat_id: i64, week: u32, now: DateTime<Utc>) -> StoreResult<bool> {
        let mut key = key_i64(chat_id).to_vec();
        key.extend_from_slice(&week.to_be_bytes());
        let mut claimed = false;
        self.update_json(trees::REPORT_LEDGER, &key, |old: Option<DateTime<Utc>>| {
            claimed = old.is_none();
            Some(old.unwrap_or(now))
        })?;
        self.flush()?;
        Ok(claimed)
    }

    /// Gives a claimed week back (its report could not be sent), so a later pass retries.
    pub fn release_report(&self, chat_id: i64, week: u32) -> StoreResult<()> {
        let mut key = key_i64(chat_id).to_vec();
        key.extend_from_slice(&week.to_be_bytes());
        self.backend().remove(trees::REPORT_LEDGER, &key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::contract::stores;
    use crate::text::SectionId;

    fn check_in(user_id: u64, date: &str) -> CheckIn {
        CheckIn {
            chat_id: -5,
            user_id,
            name: format!("u{user_id}"),
            document: "xzsj".into(),
            section: SectionId::OPENING,
            date: date.parse().unwrap(),
            done_on: date.parse().unwrap(),
            at: "2026-11-30T01:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn a_check_in_is_recorded_once_with_its_rank() {
        for (name, store, _dir) in stores() {
            assert_eq!(
                store.check_in(&check_in(1, "2026-11-30")).unwrap(),
                CheckInResult::Recorded { rank: 1 },
                "{name}"
            );
            assert_eq!(
                store.check_in(&check_in(2, "2026-11-30")).unwrap(),
                CheckInResult::Recorded { rank: 2 },
                "{name}"
            );
            assert!(matches!(
                store.check_in(&check_in(1, "2026-11-30")).unwrap(),
                CheckInResult::Already(_)
            ));
            store.check_in(&check_in(1, "2026-12-01")).unwrap();
            let day = "2026-11-30".parse().unwrap();
            assert_eq!(store.check_ins(-5, day, day).unwrap().len(), 2, "{name}");
            assert_eq!(store.members(-5).unwrap().len(), 2, "{name}");
            assert_eq!(store.chats_of(1).unwrap(), vec![-5], "{name}");
            let days = store.member_days(-5).unwrap();
            assert_eq!(
                days[&1].iter().collect::<Vec<_>>(),
                [day, "2026-12-01".parse().unwrap()],
                "{name}: each day once"
            );
            assert_eq!(days[&2], Days::of([day]), "{name}");
            let times = store.check_in_times(-5, day).unwrap();
            assert_eq!(times.keys().collect::<Vec<_>>(), [&1, &2], "{name}");
            assert_eq!(times[&1], check_in(1, "2026-11-30").at, "{name}");
        }
    }

    #[test]
    fn a_version_2_store_opens_with_each_members_days() {
        for (name, store, _dir) in stores() {
            store.check_in(&check_in(1, "2026-11-29")).unwrap();
            store.check_in(&check_in(1, "2026-11-30")).unwrap();
            store.check_in(&check_in(2, "2026-11-30")).unwrap();
            // As version 2 left it: the check-ins, no days.
            for (key, _) in store.scan_prefix(trees::MEMBER_DAYS, &[]).unwrap() {
                store.backend().remove(trees::MEMBER_DAYS, &key).unwrap();
            }
            store
                .backend()
                .insert(trees::META, b"schema_version", &2_u32.to_be_bytes())
                .unwrap();
            let reopened = Store::with_backend(store.backend.clone()).unwrap();
            assert_eq!(
                reopened.schema_version().unwrap(),
                Some(super::super::SCHEMA_VERSION),
                "{name}"
            );
            let days = reopened.member_days(-5).unwrap();
            assert_eq!(days.len(), 2, "{name}");
            assert_eq!(days[&1].streak("2026-11-30".parse().unwrap()), 2, "{name}");
            assert_eq!(days[&2].iter().count(), 1, "{name}");
        }
    }

    #[test]
    fn each_answer_is_counted_once_in_its_questions_tally() {
        for (name, store, _dir) in stores() {
            let at: DateTime<Utc> = "2026-11-30T01:00:00Z".parse().unwrap();
            let answer =
                |user_id: u64, question: &str, part: u8, correct: bool, second: i64| QuizAnswer {
                    chat_id: -5,
                    user_id,
                    name: "u".into(),
                    question: question.into(),
                    section: SectionId::point(part, 1),
                    part,
                    correct,
                    at: at + chrono::TimeDelta::seconds(second),
                };
            let answers = [
                answer(1, "甲", 1, true, 0),
                answer(2, "甲", 1, false, 1),
                answer(1, "乙", 2, false, 2),
                answer(2, "乙", 2, false, 3),
            ];
            for a in &answers {
                store.record_quiz_answer(a).unwrap();
            }
            store.record_quiz_answer(&answers[0]).unwrap();
            let figures = |store: &Store, chat| {
                store
                    .quiz_tallies(chat)
                    .unwrap()
                    .into_iter()
                    .map(|t| (t.question, t.part, t.correct, t.total))
                    .collect::<Vec<_>>()
            };
            let expected = vec![("甲".to_string(), 1, 1, 2), ("乙".to_string(), 2, 0, 2)];
            assert_eq!(
                figures(&store, -5),
                expected,
                "{name}: the same answer twice counts once"
            );
            assert_eq!(store.build_quiz_tallies().unwrap(), 2, "{name}");
            assert_eq!(
                figures(&store, -5),
                expected,
                "{name}: built from the answers, the same"
            );
            store.migrate(-5, -1005).unwrap();
            assert_eq!(
                figures(&store, -1005),
                expected,
                "{name}: moved with the group"
            );
            assert!(figures(&store, -5).is_empty(), "{name}");
            store.forget_member(-1005, 2).unwrap();
            assert_eq!(
                figures(&store, -1005),
                vec![("甲".to_string(), 1, 1, 1), ("乙".to_string(), 2, 0, 1)],
                "{name}: a forgotten member's answers are no longer counted"
            );
        }
    }

    #[test]
    fn long_ranges_are_read_a_page_at_a_time_in_key_order() {
        for (name, store, _dir) in stores() {
            let first: NaiveDate = "2026-01-01".parse().unwrap();
            // More than two pages of check-ins, over four days, and of answers.
            for n in 0..2_500_u64 {
                let mut c = check_in(n % 700, "2026-01-01");
                c.date = first + chrono::TimeDelta::days((n / 700) as i64);
                let mut key = chat_day(c.chat_id, c.date);
                key.extend_from_slice(&c.user_id.to_be_bytes());
                store.put_json(trees::CHECK_INS, &key, &c).unwrap();
            }
            let at: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
            for n in 0..2_100_u64 {
                let answer = QuizAnswer {
                    chat_id: -5,
                    user_id: n % 3,
                    name: "u".into(),
                    question: "q".into(),
                    section: SectionId::OPENING,
                    part: 0,
                    correct: true,
                    at: at + chrono::TimeDelta::seconds((n / 3) as i64),
                };
                store.record_quiz_answer(&answer).unwrap();
            }
            let mut read = Vec::new();
            store
                .each_check_in(-5, NaiveDate::MIN, NaiveDate::MAX, |c| {
                    read.push(c);
                    Ok::<_, StoreError>(())
                })
                .unwrap();
            let all = store.check_ins(-5, NaiveDate::MIN, NaiveDate::MAX).unwrap();
            assert_eq!(read.len(), 2_500, "{name}");
            assert_eq!(read, all, "{name}");
            let second = first + chrono::TimeDelta::days(1);
            let mut days = 0;
            store
                .each_check_in(-5, second, second, |c| {
                    assert_eq!(c.date, second);
                    days += 1;
                    Ok::<_, StoreError>(())
                })
                .unwrap();
            assert_eq!(days, 700, "{name}");
            assert_eq!(store.first_check_in(-5).unwrap().as_ref(), all.first());
            assert_eq!(store.first_check_in(-6).unwrap(), None, "{name}");

            let mut answers = Vec::new();
            store
                .each_quiz_answer(-5, |a| {
                    answers.push(a);
                    Ok::<_, StoreError>(())
                })
                .unwrap();
            assert_eq!(answers, store.quiz_answers(-5).unwrap(), "{name}");
            assert_eq!(answers.len(), 2_100, "{name}");
            assert_eq!(
                store.first_quiz_answer(-5).unwrap().as_ref(),
                answers.first()
            );
            // A failing callback stops the reading.
            let mut seen = 0;
            let stopped = store.each_quiz_answer(-5, |_| {
                seen += 1;
                Err(StoreError::Database("stop".into()))
            });
            assert!(stopped.is_err() && seen == 1, "{name}");
        }
    }

    #[test]
    fn racing_presses_record_one_check_in() {
        for (name, store, _dir) in stores() {
            let recorded = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..8)
                    .map(|_| {
                        let store = store.clone();
                        scope.spawn(move || store.check_in(&check_in(1, "2026-11-30")).unwrap())
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap())
                    .filter(|result| matches!(result, CheckInResult::Recorded { .. }))
                    .count()
            });
            assert_eq!(recorded, 1, "{name}");
        }
    }

    #[test]
    fn forgetting_and_migrating() {
        for (name, store, _dir) in stores() {
            store.check_in(&check_in(1, "2026-11-30")).unwrap();
            store.check_in(&check_in(2, "2026-11-30")).unwrap();
            store.migrate(-5, -1005).unwrap();
            assert!(store.members(-5).unwrap().is_empty(), "{name}");
            let day = "2026-11-30".parse().unwrap();
            let moved = store.check_ins(-1005, day, day).unwrap();
            assert_eq!(moved.len(), 2, "{name}");
            assert!(moved.iter().all(|c| c.chat_id == -1005), "{name}");
            assert_eq!(
                store.member_days(-1005).unwrap().keys().collect::<Vec<_>>(),
                [&1, &2],
                "{name}: the days moved with the check-ins"
            );
            assert!(store.member_days(-5).unwrap().is_empty(), "{name}");
            assert_eq!(store.forget_member(-1005, 1).unwrap(), (1, 0), "{name}");
            assert_eq!(store.check_ins(-1005, day, day).unwrap().len(), 1, "{name}");
            assert_eq!(store.days_of(-1005, 1).unwrap(), Days::new(), "{name}");
            assert!(store.days_of(-1005, 2).unwrap().contains(day), "{name}");
            assert_eq!(store.members(-1005).unwrap().len(), 1, "{name}");
        }
    }

    #[test]
    fn a_week_is_claimed_once() {
        for (name, store, _dir) in stores() {
            let now = Utc::now();
            assert!(store.claim_report(-5, 202648, now).unwrap(), "{name}");
            assert!(!store.claim_report(-5, 202648, now).unwrap(), "{name}");
            store.release_report(-5, 202648).unwrap();
            assert!(store.claim_report(-5, 202648, now).unwrap(), "{name}");
        }
    }
}
