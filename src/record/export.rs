//! The export: the record of one chat as a workbook (xlsx) or as CSV files, written row
//! by row as the store is read. [`RecordExport`] takes the check-ins and then the quiz
//! answers in the store's order, keeps only small tallies (one mark per member and day,
//! counts per member and per day), writes each 测验 row as its answer comes, and the
//! other sheets at the end. The rows go to one [`Sheets`] trait, so the workbook
//! ([`XlsxSheets`]) and the CSV files ([`CsvSheets`]) hold the same cells.
//!
//! Sheets: 成员 (members), 学习记录 (one row per member, one column per day: ✓, 补 or
//! blank), 测验 (every quiz answer), 每周汇总 (one row per week, and a daily table with a
//! native Excel column chart of participation). Dates are in the chat's zone.
//!
//! In the workbook dates and times are real Excel dates (with a date format) and rates
//! real numbers (with a percentage format), so a spreadsheet can sort, sum and chart
//! them; the days of 学习记录 are headed with their full date (`2026-12-01`), unique over
//! any range. Names and questions stay string cells. In the CSV files, where a program
//! opening them would read a text beginning with `=`, `+`, `-`, `@`, a tab or a carriage
//! return as a formula, such a text is prefixed with `'` ([`neutralised`], OWASP's rule).
//!
//! Memory stays small whatever the size of the record (a year of 1,000 members is
//! 365,000 check-ins): the tallies are a byte per member and day, the workbook's large
//! sheets are in rust_xlsxwriter's low-memory mode (the row being written in memory, the
//! written rows in a temporary file, each distinct string once), and the CSV files are
//! written as they go.
//!
//! Longer than ~600 lines: one writer behind one trait, its sheets sharing the tallies.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike};
use chrono_tz::Tz;
use rust_xlsxwriter::{Chart, ChartType, DocProperties, Format, Workbook, XlsxError};

use crate::record::{CheckIn, Member, QuizAnswer, week_start};

/// The names of the sheets, in order.
pub const SHEETS: [&str; 4] = ["成员", "学习记录", "测验", "每周汇总"];

/// One of the four sheets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sheet {
    /// 成员: one row per member, with their figures.
    Members = 0,
    /// 学习记录: one row per member, one column per day.
    Record = 1,
    /// 测验: one row per quiz answer.
    Quiz = 2,
    /// 每周汇总: one row per week, and the daily table beside them.
    Weekly = 3,
}

impl Sheet {
    /// The sheets, in order.
    pub const ALL: [Self; 4] = [Self::Members, Self::Record, Self::Quiz, Self::Weekly];

    /// The sheet's (Chinese) name.
    pub fn name(self) -> &'static str {
        SHEETS[self as usize]
    }

    /// Column widths in characters, in order (the rest keep Excel's default).
    fn widths(self, days: usize) -> Vec<f64> {
        match self {
            Self::Members => vec![
                18.0, 14.0, 18.0, 12.0, 12.0, 10.0, 10.0, 10.0, 10.0, 10.0, 8.0,
            ],
            Self::Record => {
                let mut widths = vec![18.0, 14.0];
                widths.extend(std::iter::repeat_n(11.0, days));
                widths
            }
            Self::Quiz => vec![12.0, 10.0, 18.0, 14.0, 60.0, 8.0, 6.0],
            Self::Weekly => vec![10.0, 12.0, 12.0, 10.0, 10.0, 10.0, 10.0, 2.0, 12.0, 10.0],
        }
    }

    /// Whether the header row and first column stay in view when scrolling.
    fn frozen(self) -> bool {
        self != Self::Weekly
    }
}

/// A cell of the export.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    /// Text.
    Text(&'a str),
    /// A number.
    Number(f64),
    /// A rate as a fraction (0.25 is 25%): a number shown as a percentage.
    Percent(f64),
    /// A day.
    Date(NaiveDate),
    /// A day and a time of day (to the minute).
    DateTime(NaiveDateTime),
    /// A time of day.
    Time(NaiveTime),
    /// Nothing.
    Empty,
}

/// `text` as it can safely be a CSV cell: a text that a spreadsheet would read as a
/// formula (beginning with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading
/// `'`, which makes Excel, WPS and LibreOffice show it as text (OWASP's rule for CSV
/// injection). Any other text is unchanged.
pub fn neutralised(text: &str) -> Cow<'_, str> {
    match text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        true => Cow::Owned(format!("'{text}")),
        false => Cow::Borrowed(text),
    }
}

/// Why the export could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// rust_xlsxwriter failed (its temporary files, the zip).
    #[error("表格生成失败：{0}")]
    Xlsx(#[from] XlsxError),
    /// A file could not be written.
    #[error("{}", crate::record::export::io_cause(.0))]
    Io(#[from] std::io::Error),
}

/// An I/O failure in words an organiser can act on: 磁盘空间不足, 没有写入权限, 目录不存在,
/// or else the system's own description.
pub fn io_cause(error: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match error.kind() {
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => "磁盘空间不足".into(),
        ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => "没有写入权限".into(),
        ErrorKind::NotFound => "目录不存在".into(),
        ErrorKind::IsADirectory => "这是一个目录".into(),
        _ => match error.raw_os_error() {
            Some(code) => format!("系统错误 {code}：{error}"),
            None => error.to_string(),
        },
    }
}

/// Where the export's rows go: each sheet's rows in order, its header first.
pub trait Sheets {
    /// Appends a row to `sheet`.
    fn row(&mut self, sheet: Sheet, cells: &[Cell<'_>]) -> Result<(), ExportError>;
}

/// The days exported, in the chat's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportPeriod {
    /// The chat's zone: every date and time is shown in it.
    pub zone: Tz,
    /// The first day exported.
    pub from: NaiveDate,
    /// The last day exported (no day is exported when it is before `from`).
    pub to: NaiveDate,
}

impl ExportPeriod {
    /// How many days are exported.
    pub fn days(&self) -> usize {
        usize::try_from((self.to - self.from).num_days() + 1).unwrap_or(0)
    }

    /// The index of `date` among the days exported, if it is one of them.
    fn day(&self, date: NaiveDate) -> Option<usize> {
        (self.from..=self.to)
            .contains(&date)
            .then(|| (date - self.from).num_days() as usize)
    }

    fn date(&self, day: usize) -> NaiveDate {
        self.from + TimeDelta::days(day as i64)
    }
}

/// What an export holds: see [`RecordExport::figures`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExportFigures {
    /// Members with a row in 成员.
    pub members: usize,
    /// Check-ins in the period.
    pub check_ins: usize,
    /// Quiz answers in the period.
    pub answers: usize,
}

/// One chat's export being written. Give it every check-in ([`RecordExport::check_in`]),
/// then every quiz answer in the store's order ([`RecordExport::answer`]), then
/// [`RecordExport::finish`] it. Records outside the period are left out.
pub struct RecordExport<S: Sheets> {
    sheets: S,
    period: ExportPeriod,
    /// The chat's roster (including those who left).
    roster: Vec<Member>,
    /// Everyone with a record in the period, in the order first seen.
    people: Vec<Tally>,
    /// Where each user is in `people`.
    index: HashMap<u64, usize>,
    /// Each person's mark of each day: `people.len()` rows of `period.days()`.
    marks: Vec<Mark>,
    /// Each day's check-ins and answers.
    daily: Vec<DayTally>,
    /// Answers given in the same microsecond, waiting to be written in order.
    same_instant: Vec<QuizAnswer>,
}

/// A member's figures in the period.
#[derive(Debug, Default)]
struct Tally {
    user_id: u64,
    /// The latest name on a check-in, replaced by the latest on an answer (the roster's
    /// name wins over both).
    name: String,
    check_ins: usize,
    late: usize,
    answers: usize,
    right: usize,
    /// The first and last days with a check-in made or an answer given.
    first: Option<NaiveDate>,
    last: Option<NaiveDate>,
}

impl Tally {
    fn active(&mut self, date: NaiveDate) {
        self.first = Some(self.first.map_or(date, |d| d.min(date)));
        self.last = Some(self.last.map_or(date, |d| d.max(date)));
    }
}

/// What 学习记录 shows for a member and a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    None,
    OnTime,
    Late,
}

#[derive(Debug, Clone, Copy, Default)]
struct DayTally {
    check_ins: usize,
    answers: usize,
    right: usize,
}

impl RecordExport<XlsxSheets> {
    /// The export as a workbook titled `title`.
    pub fn xlsx(
        period: ExportPeriod,
        roster: Vec<Member>,
        title: &str,
    ) -> Result<Self, ExportError> {
        Self::new(XlsxSheets::new(period.days(), title)?, period, roster)
    }
}

impl<W: Write> RecordExport<CsvSheets<W>> {
    /// The export as four CSV files, in the order of [`SHEETS`].
    pub fn csv(
        period: ExportPeriod,
        roster: Vec<Member>,
        files: [W; 4],
    ) -> Result<Self, ExportError> {
        Self::new(CsvSheets::new(files)?, period, roster)
    }
}

impl<S: Sheets> RecordExport<S> {
    /// Starts the export into `sheets`: writes each sheet's header.
    pub fn new(
        mut sheets: S,
        period: ExportPeriod,
        roster: Vec<Member>,
    ) -> Result<Self, ExportError> {
        let days = period.days();
        sheets.row(
            Sheet::Members,
            &texts(&[
                "成员",
                "用户ID",
                "加入时间",
                "首次活动",
                "最近活动",
                "学习天数",
                "其中补学",
                "学习率",
                "答题数",
                "正确率",
                "状态",
            ]),
        )?;
        // The full date: over a range longer than a year, `12-01` would head two columns.
        let dates: Vec<String> = (0..days)
            .map(|day| period.date(day).format("%Y-%m-%d").to_string())
            .collect();
        let mut head = vec![Cell::Text("成员"), Cell::Text("用户ID")];
        head.extend(dates.iter().map(|d| Cell::Text(d)));
        sheets.row(Sheet::Record, &head)?;
        sheets.row(
            Sheet::Quiz,
            &texts(&["日期", "时间", "成员", "用户ID", "题目", "章节", "结果"]),
        )?;
        sheets.row(
            Sheet::Weekly,
            &texts(&[
                "周",
                "起",
                "止",
                "学习人次",
                "参与率",
                "答题数",
                "正确率",
                "",
                "日期",
                "学习人数",
            ]),
        )?;
        Ok(Self {
            sheets,
            period,
            roster,
            people: Vec::new(),
            index: HashMap::new(),
            marks: Vec::new(),
            daily: vec![DayTally::default(); days],
            same_instant: Vec::new(),
        })
    }

    /// The days exported.
    pub fn period(&self) -> ExportPeriod {
        self.period
    }

    /// What the export holds so far: members (with a record in the period, or on the
    /// roster), check-ins and answers in the period.
    pub fn figures(&self) -> ExportFigures {
        let listed = self
            .roster
            .iter()
            .filter(|m| !self.index.contains_key(&m.user_id))
            .count();
        ExportFigures {
            members: self.people.len() + listed,
            check_ins: self.daily.iter().map(|d| d.check_ins).sum(),
            answers: self.daily.iter().map(|d| d.answers).sum(),
        }
    }

    /// Counts a check-in (of any day: those outside the period are left out).
    pub fn check_in(&mut self, check_in: &CheckIn) {
        crate::progress::advance(1);
        let Some(day) = self.period.day(check_in.date) else {
            return;
        };
        let person = self.person(check_in.user_id, &check_in.name);
        let late = check_in.is_late();
        let days = self.period.days();
        self.marks[person * days + day] = if late { Mark::Late } else { Mark::OnTime };
        let tally = &mut self.people[person];
        tally.check_ins += 1;
        tally.late += usize::from(late);
        tally.active(check_in.done_on);
        self.daily[day].check_ins += 1;
    }

    /// Counts a quiz answer and writes its 测验 row. Answers come in the store's order:
    /// by instant to the microsecond, then by user.
    pub fn answer(&mut self, answer: QuizAnswer) -> Result<(), ExportError> {
        let date = answer.at.with_timezone(&self.period.zone).date_naive();
        let Some(day) = self.period.day(date) else {
            return Ok(());
        };
        let person = self.person(answer.user_id, &answer.name);
        let tally = &mut self.people[person];
        tally.answers += 1;
        tally.right += usize::from(answer.correct);
        tally.active(date);
        self.daily[day].answers += 1;
        self.daily[day].right += usize::from(answer.correct);
        // 测验 is ordered by the exact instant: within one microsecond the store orders
        // by user, so such answers wait until the microsecond is over.
        let micros = answer.at.timestamp_micros();
        if self
            .same_instant
            .first()
            .is_some_and(|first| first.at.timestamp_micros() != micros)
        {
            self.write_answers()?;
        }
        self.same_instant.push(answer);
        Ok(())
    }

    /// Writes 成员, 学习记录 and 每周汇总 and returns the sheets, complete.
    pub fn finish(mut self) -> Result<S, ExportError> {
        self.write_answers()?;
        // Everyone on the roster has a row, under the roster's name.
        let roster = std::mem::take(&mut self.roster);
        for member in &roster {
            self.person(member.user_id, &member.name);
        }
        self.roster = roster;
        let mut order: Vec<usize> = (0..self.people.len()).collect();
        order.sort_unstable_by_key(|&person| self.people[person].user_id);
        self.write_members(&order)?;
        self.write_record(&order)?;
        self.write_weekly()?;
        Ok(self.sheets)
    }

    /// The index of the user in `people` (added if new); `name` becomes their name.
    fn person(&mut self, user_id: u64, name: &str) -> usize {
        let person = *self.index.entry(user_id).or_insert_with(|| {
            self.people.push(Tally {
                user_id,
                ..Tally::default()
            });
            self.marks
                .extend(std::iter::repeat_n(Mark::None, self.period.days()));
            self.people.len() - 1
        });
        if self.people[person].name != name {
            self.people[person].name = name.to_string();
        }
        person
    }

    fn write_answers(&mut self) -> Result<(), ExportError> {
        let mut answers = std::mem::take(&mut self.same_instant);
        answers.sort_by_key(|a| (a.at, a.user_id));
        for answer in answers.drain(..) {
            let local = answer.at.with_timezone(&self.period.zone).naive_local();
            // To the second: Excel's times are fractions of a day.
            let time = local.time().with_nanosecond(0).unwrap_or(local.time());
            let user = answer.user_id.to_string();
            let section = answer.section.to_string();
            self.sheets.row(
                Sheet::Quiz,
                &[
                    Cell::Date(local.date()),
                    Cell::Time(time),
                    Cell::Text(&answer.name),
                    Cell::Text(&user),
                    Cell::Text(&answer.question),
                    Cell::Text(&section),
                    Cell::Text(if answer.correct { "对" } else { "错" }),
                ],
            )?;
        }
        // The buffer is kept for the next microsecond's answers.
        self.same_instant = answers;
        Ok(())
    }

    fn write_members(&mut self, order: &[usize]) -> Result<(), ExportError> {
        let total_days = self.period.days();
        let zone = self.period.zone;
        for &person in order {
            let tally = &self.people[person];
            let member = self.roster.iter().find(|m| m.user_id == tally.user_id);
            let user = tally.user_id.to_string();
            let joined = member.map(|m| {
                let local = m.joined.with_timezone(&zone).naive_local();
                // To the minute, as shown.
                local
                    .with_second(0)
                    .and_then(|t| t.with_nanosecond(0))
                    .unwrap_or(local)
            });
            self.sheets.row(
                Sheet::Members,
                &[
                    Cell::Text(&tally.name),
                    Cell::Text(&user),
                    joined.map_or(Cell::Empty, Cell::DateTime),
                    tally.first.map_or(Cell::Empty, Cell::Date),
                    tally.last.map_or(Cell::Empty, Cell::Date),
                    Cell::Number(tally.check_ins as f64),
                    Cell::Number(tally.late as f64),
                    Cell::Percent(fraction(tally.check_ins, total_days)),
                    Cell::Number(tally.answers as f64),
                    match tally.answers {
                        0 => Cell::Empty,
                        answers => Cell::Percent(fraction(tally.right, answers)),
                    },
                    Cell::Text(match member {
                        Some(m) if m.left => "已退出",
                        _ => "在册",
                    }),
                ],
            )?;
        }
        Ok(())
    }

    fn write_record(&mut self, order: &[usize]) -> Result<(), ExportError> {
        let days = self.period.days();
        for &person in order {
            let tally = &self.people[person];
            let user = tally.user_id.to_string();
            let mut row = Vec::with_capacity(days + 2);
            row.push(Cell::Text(&tally.name));
            row.push(Cell::Text(&user));
            row.extend(self.marks[person * days..(person + 1) * days].iter().map(
                |mark| match mark {
                    Mark::OnTime => Cell::Text("✓"),
                    Mark::Late => Cell::Text("补"),
                    Mark::None => Cell::Empty,
                },
            ));
            self.sheets.row(Sheet::Record, &row)?;
        }
        Ok(())
    }

    fn write_weekly(&mut self) -> Result<(), ExportError> {
        let members = self.people.len();
        let period = self.period;
        let mut weeks: Vec<NaiveDate> = Vec::new();
        for day in 0..period.days() {
            let monday = week_start(period.date(day));
            if weeks.last() != Some(&monday) {
                weeks.push(monday);
            }
        }
        // One row per week, and beside them the daily table that feeds the chart.
        for day in 0..period.days() {
            let week = weeks.get(day).map(|monday| {
                let from = (*monday).max(period.from);
                let to = (*monday + TimeDelta::days(6)).min(period.to);
                let days = &self.daily[(from - period.from).num_days() as usize
                    ..=(to - period.from).num_days() as usize];
                let check_ins: usize = days.iter().map(|d| d.check_ins).sum();
                let answers: usize = days.iter().map(|d| d.answers).sum();
                let right: usize = days.iter().map(|d| d.right).sum();
                (
                    crate::calendar::week_label(crate::calendar::iso_week(*monday)),
                    from,
                    to,
                    check_ins,
                    fraction(check_ins, members * days.len()),
                    answers,
                    (answers > 0).then(|| fraction(right, answers)),
                )
            });
            let date = Cell::Date(period.date(day));
            let count = Cell::Number(self.daily[day].check_ins as f64);
            let row = match &week {
                Some((name, from, to, check_ins, rate, answers, accuracy)) => [
                    Cell::Text(name),
                    Cell::Date(*from),
                    Cell::Date(*to),
                    Cell::Number(*check_ins as f64),
                    Cell::Percent(*rate),
                    Cell::Number(*answers as f64),
                    accuracy.map_or(Cell::Empty, Cell::Percent),
                    Cell::Empty,
                    date,
                    count,
                ],
                None => [
                    Cell::Empty,
                    Cell::Empty,
                    Cell::Empty,
                    Cell::Empty,
                    Cell::Empty,
                    Cell::Empty,
                    Cell::Empty,
                    Cell::Empty,
                    date,
                    count,
                ],
            };
            self.sheets.row(Sheet::Weekly, &row)?;
        }
        Ok(())
    }
}

/// The workbook: 成员, 学习记录 and 测验 in low-memory mode, each laid out (widths,
/// frozen header and names, the daily chart) before its first row.
pub struct XlsxSheets {
    workbook: Workbook,
    /// The next row of each sheet.
    rows: [u32; 4],
    bold: Format,
    percent: Format,
    date: Format,
    date_time: Format,
    time: Format,
}

impl XlsxSheets {
    /// A workbook for `days` days, titled `title` (its document properties: what Excel
    /// shows under 信息 and what a file index finds).
    pub fn new(days: usize, title: &str) -> Result<Self, ExportError> {
        let mut workbook = Workbook::new();
        workbook.set_properties(&DocProperties::new().set_title(title));
        for sheet in Sheet::ALL {
            // 每周汇总 has a row per day whatever the size of the group; kept in memory,
            // its chart carries the cached values of the daily table, as Excel's do.
            let worksheet = match sheet {
                Sheet::Weekly => workbook.add_worksheet(),
                _ => workbook.add_worksheet_with_low_memory()?,
            };
            worksheet.set_name(sheet.name())?;
            for (c, width) in sheet.widths(days).into_iter().enumerate() {
                worksheet.set_column_width(c as u16, width)?;
            }
            if sheet.frozen() {
                worksheet.set_freeze_panes(1, 1)?;
            }
            if sheet == Sheet::Weekly && days > 0 {
                worksheet.insert_chart(1, 11, &daily_chart(days as u32))?;
            }
        }
        Ok(Self {
            workbook,
            rows: [0; 4],
            bold: Format::new().set_bold(),
            percent: Format::new().set_num_format("0%"),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            date_time: Format::new().set_num_format("yyyy-mm-dd hh:mm"),
            time: Format::new().set_num_format("hh:mm:ss"),
        })
    }

    /// Writes the workbook to `writer`.
    pub fn save(mut self, writer: impl Write + Send) -> Result<(), ExportError> {
        Ok(self.workbook.save_to_writer(writer)?)
    }

    /// The workbook as xlsx bytes.
    pub fn into_bytes(mut self) -> Result<Vec<u8>, ExportError> {
        Ok(self.workbook.save_to_buffer()?)
    }
}

impl Sheets for XlsxSheets {
    fn row(&mut self, sheet: Sheet, cells: &[Cell<'_>]) -> Result<(), ExportError> {
        let r = self.rows[sheet as usize];
        self.rows[sheet as usize] += 1;
        let worksheet = self.workbook.worksheet_from_index(sheet as usize)?;
        for (c, cell) in cells.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(text) if r == 0 => {
                    worksheet.write_string_with_format(r, c, *text, &self.bold)?;
                }
                Cell::Text(text) => {
                    worksheet.write_string(r, c, *text)?;
                }
                Cell::Number(number) => {
                    worksheet.write_number(r, c, *number)?;
                }
                Cell::Percent(rate) => {
                    worksheet.write_number_with_format(r, c, *rate, &self.percent)?;
                }
                Cell::Date(date) => {
                    worksheet.write_datetime_with_format(r, c, date, &self.date)?;
                }
                Cell::DateTime(at) => {
                    worksheet.write_datetime_with_format(r, c, at, &self.date_time)?;
                }
                Cell::Time(time) => {
                    worksheet.write_datetime_with_format(r, c, time, &self.time)?;
                }
                Cell::Empty => {}
            }
        }
        Ok(())
    }
}

/// A native column chart of the daily table (columns I and J of 每周汇总).
fn daily_chart(last: u32) -> Chart {
    let name = Sheet::Weekly.name();
    let mut chart = Chart::new(ChartType::Column);
    chart
        .add_series()
        .set_name("每日学习人数")
        .set_categories((name, 1, 8, last, 8))
        .set_values((name, 1, 9, last, 9));
    chart.title().set_name("每日学习人数");
    chart.legend().set_hidden();
    chart
}

/// The four sheets as UTF-8 CSV with a BOM (so that Excel on Chinese Windows reads them
/// as UTF-8), one writer each, in the order of [`SHEETS`].
pub struct CsvSheets<W: Write> {
    files: [W; 4],
}

impl<W: Write> CsvSheets<W> {
    /// Starts each file with the BOM.
    pub fn new(mut files: [W; 4]) -> Result<Self, ExportError> {
        for file in &mut files {
            file.write_all("\u{FEFF}".as_bytes())?;
        }
        Ok(Self { files })
    }

    /// Flushes the files and gives them back.
    pub fn finish(mut self) -> Result<[W; 4], ExportError> {
        for file in &mut self.files {
            file.flush()?;
        }
        Ok(self.files)
    }
}

impl<W: Write> Sheets for CsvSheets<W> {
    fn row(&mut self, sheet: Sheet, cells: &[Cell<'_>]) -> Result<(), ExportError> {
        let file = &mut self.files[sheet as usize];
        for (c, cell) in cells.iter().enumerate() {
            if c > 0 {
                file.write_all(b",")?;
            }
            match cell {
                Cell::Text(text) => {
                    let text = neutralised(text);
                    match text.contains([',', '"', '\n', '\r']) {
                        true => write!(file, "\"{}\"", text.replace('"', "\"\""))?,
                        false => file.write_all(text.as_bytes())?,
                    }
                }
                Cell::Number(number) => write!(file, "{number}")?,
                Cell::Percent(rate) => write!(file, "{}%", (rate * 100.0).round())?,
                Cell::Date(date) => write!(file, "{}", date.format("%Y-%m-%d"))?,
                Cell::DateTime(at) => write!(file, "{}", at.format("%Y-%m-%d %H:%M"))?,
                Cell::Time(time) => write!(file, "{}", time.format("%H:%M:%S"))?,
                Cell::Empty => {}
            }
        }
        file.write_all(b"\r\n")?;
        Ok(())
    }
}

/// `part / whole`, 0 for an empty `whole`.
fn fraction(part: usize, whole: usize) -> f64 {
    match whole {
        0 => 0.0,
        whole => part as f64 / whole as f64,
    }
}

fn texts<'a>(names: &[&'a str]) -> Vec<Cell<'a>> {
    names.iter().map(|name| Cell::Text(name)).collect()
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::text::SectionId;

    /// The rows of each sheet, as text.
    #[derive(Default)]
    struct Collected([Vec<Vec<String>>; 4]);

    impl Sheets for Collected {
        fn row(&mut self, sheet: Sheet, cells: &[Cell<'_>]) -> Result<(), ExportError> {
            let row = cells
                .iter()
                .map(|cell| match cell {
                    Cell::Text(text) => text.to_string(),
                    Cell::Number(number) => format!("#{number}"),
                    Cell::Percent(rate) => format!("{:.3}", rate),
                    Cell::Date(date) => date.to_string(),
                    Cell::DateTime(at) => at.to_string(),
                    Cell::Time(time) => time.to_string(),
                    Cell::Empty => String::new(),
                })
                .collect();
            self.0[sheet as usize].push(row);
            Ok(())
        }
    }

    fn at() -> DateTime<Utc> {
        "2026-11-23T01:00:00Z".parse().unwrap()
    }

    fn period() -> ExportPeriod {
        let from: NaiveDate = "2026-11-23".parse().unwrap();
        ExportPeriod {
            zone: chrono_tz::Asia::Shanghai,
            from,
            to: from + TimeDelta::days(9),
        }
    }

    fn check_in(user: u64, day: i64, late: i64) -> CheckIn {
        let from = period().from;
        CheckIn {
            chat_id: -1,
            user_id: user,
            name: format!("成员{user}"),
            document: "xzsj".into(),
            section: SectionId::OPENING,
            date: from + TimeDelta::days(day),
            done_on: from + TimeDelta::days(day + late),
            at: at(),
        }
    }

    fn answer(user: u64, at: DateTime<Utc>, correct: bool) -> QuizAnswer {
        QuizAnswer {
            chat_id: -1,
            user_id: user,
            name: format!("成员{user}"),
            question: "第一问".into(),
            section: "2.2".parse().unwrap(),
            part: 2,
            correct,
            at,
        }
    }

    fn roster() -> Vec<Member> {
        vec![Member {
            user_id: 1,
            name: "张三, \"组长\"".into(),
            joined: at(),
            left: false,
        }]
    }

    /// Feeds two check-ins (one late) and one answer.
    fn fill<S: Sheets>(mut export: RecordExport<S>) -> S {
        export.check_in(&check_in(1, 0, 0));
        export.check_in(&check_in(2, 1, 3));
        // Outside the period: left out.
        export.check_in(&check_in(2, 20, 0));
        export.answer(answer(2, at(), true)).unwrap();
        export.finish().unwrap()
    }

    #[test]
    fn the_sheets_mark_days_count_members_and_weeks() {
        let export = RecordExport::new(Collected::default(), period(), roster()).unwrap();
        let [members, record, quiz, weekly] = fill(export).0;
        assert_eq!(record[0].len(), 12, "name, id and ten days");
        assert_eq!(record[0][2], "2026-11-23", "days headed with their year");
        assert_eq!(record[1][2], "✓");
        assert_eq!(record[2][3], "补");
        assert_eq!(members[1][0], "张三, \"组长\"", "the roster's name");
        assert_eq!(
            members[2],
            [
                "成员2",
                "2",
                "",
                "2026-11-23",
                "2026-11-27",
                "#1",
                "#1",
                "0.100",
                "#1",
                "1.000",
                "在册"
            ]
        );
        assert_eq!(quiz.len(), 2, "one answer");
        assert_eq!(weekly.len(), 11, "a header and the ten days");
        assert_eq!(weekly[1][0], "2026-W48");
        assert_eq!(weekly[1][3], "#2");
        assert_eq!(weekly[1][4], "0.143", "2 check-ins of 2 members × 7 days");
        assert_eq!(weekly[2][0], "2026-W49");
        assert_eq!(weekly[3][..8], ["", "", "", "", "", "", "", ""]);
        assert_eq!(weekly[3][8..], ["2026-11-25", "#0"]);
    }

    #[test]
    fn answers_of_one_microsecond_are_in_order_of_their_instant() {
        let export = RecordExport::new(Collected::default(), period(), roster()).unwrap();
        let mut export = export;
        let later = at() + TimeDelta::nanoseconds(500);
        // The store's order: the same microsecond, then by user.
        export.answer(answer(1, later, true)).unwrap();
        export.answer(answer(2, at(), false)).unwrap();
        export
            .answer(answer(1, at() + TimeDelta::seconds(1), true))
            .unwrap();
        let quiz = &export.finish().unwrap().0[Sheet::Quiz as usize];
        let users: Vec<&str> = quiz[1..].iter().map(|row| row[3].as_str()).collect();
        assert_eq!(users, ["2", "1", "1"]);
    }

    #[test]
    fn csv_has_a_bom_and_quotes_commas() {
        let export = RecordExport::csv(period(), roster(), Default::default()).unwrap();
        let files: [Vec<u8>; 4] = fill(export).finish().unwrap();
        let members = String::from_utf8(files[0].clone()).unwrap();
        assert!(members.starts_with("\u{FEFF}成员,用户ID"), "{members}");
        assert!(members.contains("\"张三, \"\"组长\"\"\""), "{members}");
        assert!(members.contains(",1,1,10%,1,100%,在册\r\n"), "{members}");
    }

    #[test]
    fn the_workbook_is_written() {
        let export = RecordExport::xlsx(period(), roster(), "学习小组 学习台账").unwrap();
        let bytes = fill(export).into_bytes().unwrap();
        assert!(bytes.starts_with(b"PK"), "a zip file");
    }

    #[test]
    fn texts_read_as_formulas_are_neutralised() {
        for (text, safe) in [
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "'=HYPERLINK(\"http://x\",\"y\")",
            ),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-1+1", "'-1+1"),
            ("@SUM(1)", "'@SUM(1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("张三", "张三"),
            ("a=1", "a=1"),
            ("", ""),
        ] {
            assert_eq!(neutralised(text), safe, "{text:?}");
        }
    }

    #[test]
    fn csv_neutralises_formulas_and_writes_rates_and_dates_as_text() {
        let roster = vec![Member {
            user_id: 1,
            name: "=HYPERLINK(\"http://evil\",\"x\")".into(),
            joined: at(),
            left: false,
        }];
        let export = RecordExport::csv(period(), roster, Default::default()).unwrap();
        let files: [Vec<u8>; 4] = fill(export).finish().unwrap();
        let members = String::from_utf8(files[0].clone()).unwrap();
        assert!(
            members.contains("\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\",1,2026-11-23 09:00,"),
            "{members}"
        );
        let record = String::from_utf8(files[1].clone()).unwrap();
        assert!(record.contains("'=HYPERLINK"), "{record}");
        assert!(!record.contains(",=HYPERLINK") && !record.contains("\"=HYPERLINK"));
    }
}
