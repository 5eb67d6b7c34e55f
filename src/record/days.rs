//! [`Days`]: the local days one member checked in on in one chat, as a bitmap from the
//! first of them. The store keeps one per member beside the check-ins, so `/roster`, `/me`
//! and the Mini App's dashboard read a member's streak, week and rate from one small
//! value instead of scanning every check-in of the group.

use chrono::{Datelike, NaiveDate, TimeDelta};

/// The days one member checked in on: bit `i` is the day `first + i`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Days {
    first: Option<NaiveDate>,
    bits: Vec<u8>,
}

/// The longest span a [`Days`] covers (from its first day to its last): 100 years, so a
/// damaged stored value cannot ask for an unbounded bitmap.
const MAX_SPAN_DAYS: usize = 36_525;

impl Days {
    /// No day yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The days of `dates`.
    pub fn of(dates: impl IntoIterator<Item = NaiveDate>) -> Self {
        let mut days = Self::new();
        for date in dates {
            days.insert(date);
        }
        days
    }

    /// Adds `date`; whether it was new. A date more than [`MAX_SPAN_DAYS`] away from the
    /// others is not kept (no real record spans a century).
    pub fn insert(&mut self, date: NaiveDate) -> bool {
        let Some(first) = self.first else {
            self.first = Some(date);
            self.bits = vec![1];
            return true;
        };
        if date < first {
            let shift = (first - date).num_days() as usize;
            if shift + self.bits.len() * 8 > MAX_SPAN_DAYS + 8 {
                return false;
            }
            let mut moved = Days {
                first: Some(date),
                bits: vec![0; (shift + self.bits.len() * 8).div_ceil(8)],
            };
            for day in self.iter() {
                moved.set(day);
            }
            *self = moved;
        }
        let index = self.index(date).expect("date is not before the first day");
        if index > MAX_SPAN_DAYS {
            return false;
        }
        let was = self.contains(date);
        self.set(date);
        !was
    }

    /// Whether `date` is one of the days.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.index(date).is_some_and(|i| self.bit(i))
    }

    /// The first day, if any.
    pub fn first(&self) -> Option<NaiveDate> {
        self.first
    }

    /// How many of the days fall in `from..=to`.
    pub fn count(&self, from: NaiveDate, to: NaiveDate) -> usize {
        let Some(first) = self.first else {
            return 0;
        };
        let from = from.max(first);
        if to < from {
            return 0;
        }
        let start = (from - first).num_days() as usize;
        let end = ((to - first).num_days() as usize).min(self.bits.len() * 8 - 1);
        (start..=end).filter(|&i| self.bit(i)).count()
    }

    /// Every day, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        let first = self.first;
        (0..self.bits.len() * 8)
            .filter(|&i| self.bit(i))
            .filter_map(move |i| first.map(|first| first + TimeDelta::days(i as i64)))
    }

    /// Adds every day of `other`.
    pub fn union(&mut self, other: &Days) {
        for day in other.iter() {
            self.insert(day);
        }
    }

    /// Consecutive days ending today or (if today has none yet) yesterday.
    pub fn streak(&self, today: NaiveDate) -> u32 {
        let Some(end) = self.index(today) else {
            return 0;
        };
        // Bit by bit from the end, whole bytes at a time where they are all set.
        let mut i = match self.bit(end) {
            true => end,
            false if end == 0 => return 0,
            false => end - 1,
        };
        let mut count = 0;
        while self.bit(i) {
            if i % 8 == 7 && self.bits[i / 8] == 0xff {
                count += 8;
                if i < 8 {
                    break;
                }
                i -= 8;
                continue;
            }
            count += 1;
            if i == 0 {
                break;
            }
            i -= 1;
        }
        count
    }

    /// The stored form: the first day (big-endian days since 0001-01-01, 4 bytes), then
    /// the bitmap, least significant bit first. Empty for no day.
    pub fn to_bytes(&self) -> Vec<u8> {
        let Some(first) = self.first else {
            return Vec::new();
        };
        let mut bytes = (first.num_days_from_ce() as u32).to_be_bytes().to_vec();
        let used = self.bits.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
        bytes.extend_from_slice(&self.bits[..used]);
        bytes
    }

    /// Reads [`Days::to_bytes`]' form back.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        if bytes.is_empty() {
            return Ok(Self::new());
        }
        let (head, bits) = bytes
            .split_first_chunk::<4>()
            .ok_or_else(|| format!("a day list starts with 4 bytes, not {}", bytes.len()))?;
        if bits.len() * 8 > MAX_SPAN_DAYS + 8 {
            return Err(format!(
                "a day list of {} bytes spans over a century",
                bits.len()
            ));
        }
        let day = i32::try_from(u32::from_be_bytes(*head))
            .ok()
            .and_then(NaiveDate::from_num_days_from_ce_opt)
            .ok_or_else(|| "a day list's first day is not a date".to_string())?;
        Ok(Self {
            first: Some(day),
            bits: if bits.is_empty() {
                vec![1]
            } else {
                bits.to_vec()
            },
        })
    }

    fn bit(&self, i: usize) -> bool {
        self.bits
            .get(i / 8)
            .is_some_and(|byte| byte & (1 << (i % 8)) != 0)
    }

    fn index(&self, date: NaiveDate) -> Option<usize> {
        let first = self.first?;
        usize::try_from((date - first).num_days()).ok()
    }

    fn set(&mut self, date: NaiveDate) {
        let i = self.index(date).expect("date is not before the first day");
        if i / 8 >= self.bits.len() {
            self.bits.resize(i / 8 + 1, 0);
        }
        self.bits[i / 8] |= 1 << (i % 8);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn days_are_kept_in_any_order_and_read_back() {
        let mut days = Days::new();
        assert!(days.insert(date("2026-11-30")));
        assert!(days.insert(date("2026-12-12")));
        assert!(days.insert(date("2026-10-01")), "before the first");
        assert!(!days.insert(date("2026-11-30")), "twice");
        let all: Vec<_> = days.iter().collect();
        assert_eq!(
            all,
            [date("2026-10-01"), date("2026-11-30"), date("2026-12-12")]
        );
        assert_eq!(days.first(), Some(date("2026-10-01")));
        assert_eq!(Days::from_bytes(&days.to_bytes()).unwrap(), days);
        assert_eq!(days.count(date("2026-11-01"), date("2026-12-31")), 2);
        assert_eq!(days.count(date("2026-12-13"), date("2026-12-31")), 0);
        assert_eq!(days.count(date("2026-12-01"), date("2026-11-01")), 0);
        assert_eq!(Days::from_bytes(&[]).unwrap(), Days::new());
    }

    #[test]
    fn streaks_end_today_or_yesterday_and_are_not_cut_by_a_window() {
        let today = date("2026-12-06");
        let days = Days::of((1..=100).map(|back| today - TimeDelta::days(back)));
        assert_eq!(days.streak(today), 100, "today not yet");
        assert_eq!(days.streak(today + TimeDelta::days(1)), 0);
        let mut with_today = days.clone();
        with_today.insert(today);
        assert_eq!(with_today.streak(today), 101);
    }

    #[test]
    fn streaks_agree_with_counting_back_day_by_day() {
        let today = date("2026-12-06");
        let mut rng = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..500 {
            let mut days = Days::new();
            for back in 0..60 {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                if !rng.is_multiple_of(5) {
                    days.insert(today - TimeDelta::days(back));
                }
            }
            for today in [
                today,
                today - TimeDelta::days(3),
                today + TimeDelta::days(1),
            ] {
                let mut day = if days.contains(today) {
                    today
                } else {
                    today - TimeDelta::days(1)
                };
                let mut expected = 0;
                while days.contains(day) {
                    expected += 1;
                    day -= TimeDelta::days(1);
                }
                assert_eq!(days.streak(today), expected, "{days:?} {today}");
            }
        }
    }

    #[test]
    fn damaged_values_are_refused_not_trusted() {
        assert!(Days::from_bytes(&[1, 2]).is_err());
        assert!(Days::from_bytes(&[0xff, 0xff, 0xff, 0xff, 1]).is_err());
        assert!(Days::from_bytes(&[0, 0, 0, 1, 0]).is_ok());
        let mut long = vec![0, 11, 0, 0];
        long.extend(std::iter::repeat_n(0xff, 5_000));
        assert!(Days::from_bytes(&long).is_err());
        let mut days = Days::of([date("2026-01-01")]);
        assert!(!days.insert(date("1026-01-01")), "a thousand years away");
        assert_eq!(days.iter().count(), 1);
    }
}
