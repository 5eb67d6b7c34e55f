//! The calendar every feature shares: weekday names and the one weekday parser, the ISO
//! week and its encodings, local dates, and the rule that picks a chat's time zone.
//! Pure; imports nothing of the features.

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc, Weekday};
use chrono_tz::Tz;

/// 周一 … 周日.
pub fn weekday_name(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Mon => "周一",
        Weekday::Tue => "周二",
        Weekday::Wed => "周三",
        Weekday::Thu => "周四",
        Weekday::Fri => "周五",
        Weekday::Sat => "周六",
        Weekday::Sun => "周日",
    }
}

/// Reads a weekday as users write it, in any case: `Mon`, `monday`, `一`, `周一`,
/// `星期一`, `礼拜一`, `周天`, `1` … `7` (7 = Sunday), also after a Chinese prefix (`周1`).
/// The one parser behind `/report` and `/weekly`.
pub fn parse_weekday(input: &str) -> Option<Weekday> {
    let lower = input.trim().to_lowercase();
    let day = match lower.strip_prefix("礼拜") {
        Some(rest) => rest,
        None => lower.trim_start_matches("星期").trim_start_matches('周'),
    };
    Some(match day {
        "mon" | "monday" | "一" | "1" => Weekday::Mon,
        "tue" | "tuesday" | "二" | "2" => Weekday::Tue,
        "wed" | "wednesday" | "三" | "3" => Weekday::Wed,
        "thu" | "thursday" | "四" | "4" => Weekday::Thu,
        "fri" | "friday" | "五" | "5" => Weekday::Fri,
        "sat" | "saturday" | "六" | "6" => Weekday::Sat,
        "sun" | "sunday" | "日" | "天" | "7" => Weekday::Sun,
        _ => return None,
    })
}

/// The ISO week (Monday to Sunday) `date` belongs to, as (ISO year, week number): the
/// one week encoding. The weekly test's ledger keys on it; [`week_code`] and
/// [`week_label`] are its two written forms.
pub fn iso_week(date: NaiveDate) -> (i32, u32) {
    let week = date.iso_week();
    (week.year(), week.week())
}

/// A week as one number, `year × 100 + week` (`202649`): the weekly report's ledger key.
pub fn week_code((year, week): (i32, u32)) -> u32 {
    year as u32 * 100 + week
}

/// A week as the export writes it: `2026-W49`.
pub fn week_label((year, week): (i32, u32)) -> String {
    format!("{year}-W{week:02}")
}

/// The Monday of `date`'s ISO week.
pub fn week_start(date: NaiveDate) -> NaiveDate {
    date - TimeDelta::days(i64::from(date.weekday().num_days_from_monday()))
}

/// The date of `weekday` in the ISO week (Monday to Sunday) of `date`.
pub fn day_in_week(date: NaiveDate, weekday: Weekday) -> NaiveDate {
    week_start(date) + TimeDelta::days(i64::from(weekday.num_days_from_monday()))
}

/// The local calendar date of `instant` in `zone`.
pub fn local_date(instant: DateTime<Utc>, zone: Tz) -> NaiveDate {
    instant.with_timezone(&zone).date_naive()
}

/// The zone rule: a chat's (or member's) own zone when it has one — its subscription's,
/// or a member's review reminder's when that names a valid zone — else the configured
/// default. Every feature's "today" is the local date in this zone.
pub fn zone_or_default(own: Option<Tz>, default: Tz) -> Tz {
    own.unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekdays_in_english_and_chinese() {
        for (input, day) in [
            ("Mon", Weekday::Mon),
            ("friday", Weekday::Fri),
            ("周日", Weekday::Sun),
            ("星期三", Weekday::Wed),
            ("礼拜二", Weekday::Tue),
            ("一", Weekday::Mon),
            ("周天", Weekday::Sun),
            ("周1", Weekday::Mon),
            ("7", Weekday::Sun),
            ("SUN", Weekday::Sun),
            ("星期mon", Weekday::Mon),
        ] {
            assert_eq!(parse_weekday(input), Some(day), "{input}");
            assert_eq!(parse_weekday(weekday_name(day)), Some(day));
        }
        for bad in ["someday", "", "8", "0", "周", "funday"] {
            assert_eq!(parse_weekday(bad), None, "{bad}");
        }
    }

    #[test]
    fn weeks_are_iso_weeks() {
        let date: NaiveDate = "2026-12-02".parse().unwrap();
        assert_eq!(iso_week(date), (2026, 49));
        assert_eq!(week_code(iso_week(date)), 202649);
        assert_eq!(week_label(iso_week(date)), "2026-W49");
        assert_eq!(week_start(date).to_string(), "2026-11-30");
        assert_eq!(day_in_week(date, Weekday::Sun).to_string(), "2026-12-06");
        // 2027-01-01 is a Friday in ISO week 53 of 2026.
        let new_year: NaiveDate = "2027-01-01".parse().unwrap();
        assert_eq!(iso_week(new_year), (2026, 53));
    }
}
