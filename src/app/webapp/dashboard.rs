//! The Mini App's dashboard (administrators): participation per day, `/roster`'s lines,
//! quiz accuracy per part and the most-missed questions, and the settings — read from each
//! member's check-in days and each question's tally, and kept per group until its records
//! change.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::Web;
use crate::app::App;
use crate::record::{RosterLine, weekday_name};
use crate::schedule::{format_time, local_date};
use crate::store::{StoreError, StoreResult, Version};
use crate::text::SectionId;

/// The longest period the dashboard draws, in days.
pub const MAX_CHART_DAYS: i64 = 90;

/// How many of the most-missed questions the dashboard lists.
const MOST_MISSED: usize = 10;

/// The dashboard's data (administrators).
#[derive(Debug, Clone, Serialize)]
pub struct DashboardView {
    /// The chat's local day.
    pub today: NaiveDate,
    /// The chat's time zone.
    pub zone: String,
    /// Members on the roster (those who left are not counted).
    pub members: usize,
    /// Check-ins per day, oldest first, `days` of them ending today.
    pub days: Vec<DayCount>,
    /// The same SVG chart of `days` the page shows (drawn here, see [`participation_svg`]).
    pub chart: String,
    /// `/roster`'s lines: who checked in today, then who did not.
    pub roster: Vec<DashboardMember>,
    /// Days of this week so far.
    pub week_days: usize,
    /// Quiz accuracy per part of the text.
    pub parts: Vec<PartAccuracy>,
    /// The questions answered wrong most often.
    pub missed: Vec<MissedQuestion>,
    /// The weekly report's setting, in words; `None` when off.
    pub weekly_report: Option<String>,
    /// The weekly test's setting, in words; `None` when off.
    pub weekly_test: Option<String>,
    /// This week's figures as the weekly report gives them.
    pub this_week: WeekFigures,
}

/// How many dashboards are kept at most (one per group and chart length); past it all
/// are dropped and computed again when next asked for.
const KEPT_DASHBOARDS: usize = 256;

/// What a kept view was computed at: the store's version of the chat, the chat's day and
/// the library (its address: an import replaces it).
type KeptAt = (Version, NaiveDate, usize);

/// A kept view and what it was computed at.
type Kept = (KeptAt, Arc<DashboardView>);

/// Dashboards computed since their group's records last changed, by (chat, chart days).
#[derive(Default)]
pub(in crate::app) struct DashboardCache {
    views: Mutex<HashMap<(i64, i64), Kept>>,
}

impl DashboardCache {
    /// The view kept for `key`, if it was computed at `at`.
    fn get(&self, key: (i64, i64), at: KeptAt) -> Option<Arc<DashboardView>> {
        let views = self.views.lock().unwrap_or_else(|p| p.into_inner());
        views
            .get(&key)
            .filter(|(kept_at, _)| *kept_at == at)
            .map(|(_, view)| view.clone())
    }

    /// Keeps `view`, computed at `at`, for `key`.
    fn keep(&self, key: (i64, i64), at: KeptAt, view: Arc<DashboardView>) {
        let mut views = self.views.lock().unwrap_or_else(|p| p.into_inner());
        if views.len() >= KEPT_DASHBOARDS && !views.contains_key(&key) {
            views.clear();
        }
        views.insert(key, (at, view));
    }
}

/// The weekly report's figures for the week so far.
#[derive(Debug, Clone, Serialize)]
pub struct WeekFigures {
    /// Members who checked in at least once.
    pub active: usize,
    /// Check-ins.
    pub check_ins: usize,
}

/// Check-ins on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DayCount {
    /// The local day.
    pub date: NaiveDate,
    /// Members who checked in for that day.
    pub count: usize,
}

/// One roster line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DashboardMember {
    /// The display name.
    pub name: String,
    /// Today's check-in time (`HH:MM`), if any.
    pub today_at: Option<String>,
    /// Days with a check-in this week.
    pub week_days: usize,
    /// Consecutive days.
    pub streak: u32,
    /// Check-in rate over the last 30 days (percent).
    pub rate: u32,
}

/// Quiz answers on one part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartAccuracy {
    /// The part's heading.
    pub part: String,
    /// Correct answers.
    pub correct: usize,
    /// All answers.
    pub total: usize,
}

/// A question the group keeps getting wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissedQuestion {
    /// The question as asked.
    pub question: String,
    /// Wrong answers.
    pub wrong: usize,
    /// All answers.
    pub total: usize,
}

/// The participation chart as an inline SVG, drawn on the server: the figures are
/// already here, an SVG of 90 bars is a few KB of markup, and it needs no chart
/// library in the page (the CSP allows no third-party script but Telegram's). Each
/// bar is a `<rect>` carrying `data-date` and `data-count`, so the browser test
/// compares the bars with the store.
pub fn participation_svg(days: &[DayCount], members: usize) -> String {
    let width = 320.0;
    let height = 120.0;
    let top = days
        .iter()
        .map(|d| d.count)
        .max()
        .unwrap_or(0)
        .max(members)
        .max(1) as f64;
    let step = width / days.len().max(1) as f64;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {h}\" class=\"chart\" role=\"img\" aria-label=\"每日学习人数\">",
        h = height + 14.0
    );
    for (i, day) in days.iter().enumerate() {
        let bar = (day.count as f64 / top * height).max(if day.count > 0 { 1.0 } else { 0.0 });
        svg.push_str(&format!(
            "<rect class=\"bar\" x=\"{x:.2}\" y=\"{y:.2}\" width=\"{w:.2}\" height=\"{bar:.2}\" data-date=\"{date}\" data-count=\"{count}\"><title>{date}：{count} 人</title></rect>",
            x = i as f64 * step + step * 0.1,
            y = height - bar,
            w = step * 0.8,
            date = day.date,
            count = day.count,
        ));
    }
    if let (Some(first), Some(last)) = (days.first(), days.last()) {
        svg.push_str(&format!(
            "<text x=\"0\" y=\"{y}\" class=\"axis\">{}</text><text x=\"{width}\" y=\"{y}\" text-anchor=\"end\" class=\"axis\">{}</text>",
            first.date.format("%m-%d"),
            last.date.format("%m-%d"),
            y = height + 12.0
        ));
    }
    svg.push_str("</svg>");
    svg
}

impl Web<'_> {
    /// The dashboard of `chat_id` at `now`, participation over the last `days` days
    /// (1 to [`MAX_CHART_DAYS`]). The roster is `/roster`'s, computed the same way. Kept
    /// until the group's records (or the texts) change or its day ends, so organisers
    /// looking again get it at once; any write keyed by the group computes it afresh.
    pub fn dashboard(
        &self,
        chat_id: i64,
        days: i64,
        now: DateTime<Utc>,
    ) -> Result<Arc<DashboardView>, StoreError> {
        let days = days.clamp(1, MAX_CHART_DAYS);
        // Read before the records: a write after this makes the kept view stale.
        let version = self.app.store().version(chat_id);
        let library = Arc::as_ptr(&self.app.library()) as usize;
        let zone = self.app.chat_zone(chat_id);
        let key = (chat_id, days);
        let at = (version, local_date(now, zone), library);
        let kept = &self.app.inner.dashboards;
        if let Some(view) = kept.get(key, at) {
            return Ok(view);
        }
        let view = Arc::new(self.compute_dashboard(chat_id, days, zone, now)?);
        kept.keep(key, at, view.clone());
        Ok(view)
    }

    fn compute_dashboard(
        &self,
        chat_id: i64,
        days: i64,
        zone: Tz,
        now: DateTime<Utc>,
    ) -> Result<DashboardView, StoreError> {
        let today = local_date(now, zone);
        // Every member's days, those who left too: the chart counts check-ins, as the
        // export's daily sheet does.
        let (roster, member_days) = self.app.roster_and_days(chat_id, None, now)?;
        let chart_from = today - TimeDelta::days(days - 1);
        let counts: Vec<DayCount> = (0..days)
            .map(|i| {
                let date = chart_from + TimeDelta::days(i);
                DayCount {
                    date,
                    count: member_days.values().filter(|d| d.contains(date)).count(),
                }
            })
            .collect();
        let monday = crate::record::week_start(today);
        let week_counts: Vec<usize> = member_days
            .values()
            .map(|d| d.count(monday, today))
            .filter(|n| *n > 0)
            .collect();
        let (parts, missed) = self.app.quiz_accuracy(chat_id)?;
        let on_roster = roster.done.len() + roster.missing.len();
        let line = |line: &RosterLine| DashboardMember {
            name: line.name.clone(),
            today_at: line.today_at.map(|t| t.format("%H:%M").to_string()),
            week_days: line.week_days,
            streak: line.streak,
            rate: line.rate,
        };
        let weekly_report = self.app.store().report_setting(chat_id)?.map(|setting| {
            format!(
                "每{} {}（{}）",
                weekday_name(setting.weekday),
                format_time(setting.time),
                zone.name()
            )
        });
        let weekly_test = self.app.store().weekly_test(chat_id)?.map(|test| {
            format!(
                "每{} {}（{}）",
                weekday_name(test.weekday()),
                format_time(test.time),
                test.zone
            )
        });
        Ok(DashboardView {
            today,
            zone: zone.name().to_string(),
            members: on_roster,
            chart: participation_svg(&counts, on_roster),
            days: counts,
            roster: roster
                .done
                .iter()
                .chain(&roster.missing)
                .map(line)
                .collect(),
            week_days: roster.week_days,
            parts,
            missed,
            weekly_report,
            weekly_test,
            this_week: WeekFigures {
                active: week_counts.len(),
                check_ins: week_counts.iter().sum(),
            },
        })
    }
}

impl App {
    fn quiz_accuracy(&self, chat_id: i64) -> StoreResult<(Vec<PartAccuracy>, Vec<MissedQuestion>)> {
        let document = self.chat_document(chat_id, None);
        let mut parts: BTreeMap<u8, (usize, usize)> = BTreeMap::new();
        let mut questions: HashMap<String, (usize, usize)> = HashMap::new();
        // One tally per question, kept with the answers: never a pass over every answer.
        for tally in self.store().quiz_tallies(chat_id)? {
            let (correct, total) = (tally.correct as usize, tally.total as usize);
            let part = parts.entry(tally.part).or_default();
            part.0 += correct;
            part.1 += total;
            let question = questions.entry(tally.question).or_default();
            question.0 += total - correct.min(total);
            question.1 += total;
        }
        let parts = parts
            .into_iter()
            .map(|(part, (correct, total))| PartAccuracy {
                part: document
                    .section(SectionId::part(part))
                    .filter(|_| part > 0)
                    .map_or_else(|| "开场".to_string(), |s| s.heading()),
                correct,
                total,
            })
            .collect();
        let mut missed: Vec<MissedQuestion> = questions
            .into_iter()
            .filter(|(_, (wrong, _))| *wrong > 0)
            .map(|(question, (wrong, total))| MissedQuestion {
                question,
                wrong,
                total,
            })
            .collect();
        missed.sort_by(|a, b| {
            b.wrong
                .cmp(&a.wrong)
                .then(b.total.cmp(&a.total))
                .then(a.question.cmp(&b.question))
        });
        missed.truncate(MOST_MISSED);
        Ok((parts, missed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::library::Library;
    use crate::app::record::Presser;
    use crate::config::Config;
    use crate::record::CheckInButton;
    use crate::store::Store;
    use crate::text::parse_document;

    const GROUP: i64 = -100;

    #[test]
    fn a_dashboard_is_kept_until_the_groups_records_or_its_day_change() {
        let store = Store::in_memory();
        let document =
            parse_document("xzsj.md", include_str!("../../../data/texts/xzsj.md")).unwrap();
        let (library, _) = Library::from_documents(vec![(document, 1)], &store).unwrap();
        let app = App::new(library, store, Config::default());
        let now: DateTime<Utc> = "2026-11-30T02:00:00Z".parse().unwrap();
        let first = app.web().dashboard(GROUP, 30, now).unwrap();
        assert!(first.roster.is_empty());
        let again = app.web().dashboard(GROUP, 30, now).unwrap();
        assert!(
            Arc::ptr_eq(&first, &again),
            "nothing changed: the same view"
        );
        // Another group's check-in leaves it; this group's computes it afresh.
        let (document, section, date) = app.todays_section(GROUP, now).unwrap().unwrap();
        let press = |chat_id: i64| {
            let button = CheckInButton {
                document: document.clone(),
                section,
                chat_id,
                date,
            };
            let presser = Presser {
                message_chat: chat_id,
                user_id: 7,
                name: "Mia".into(),
            };
            app.record().check_in(&button, &presser, now)
        };
        press(-200);
        let other = app.web().dashboard(GROUP, 30, now).unwrap();
        assert!(Arc::ptr_eq(&first, &other), "another group's record");
        press(GROUP);
        let after = app.web().dashboard(GROUP, 30, now).unwrap();
        assert_eq!(after.roster.len(), 1, "the check-in is on it");
        assert_eq!(after.days.last().unwrap().count, 1);
        let next_day = app
            .web()
            .dashboard(GROUP, 30, now + TimeDelta::days(1))
            .unwrap();
        assert!(!Arc::ptr_eq(&after, &next_day), "a new day");
        assert_eq!(next_day.roster[0].today_at, None);
        let longer = app.web().dashboard(GROUP, 90, now).unwrap();
        assert_eq!(longer.days.len(), 90, "each chart length its own");
    }
}
