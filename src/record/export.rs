//! The export: the record of one chat as a workbook (xlsx) or as CSV files, written in
//! memory. Both come from one [`Sheet`] model, so they hold the same cells.
//!
//! Sheets: 成员 (members), 学习记录 (one row per member, one column per day: ✓, 补 or
//! blank), 测验 (every quiz answer), 每周汇总 (one row per week, and a daily table with a
//! native Excel column chart of participation). Dates are in the chat's zone.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate, TimeDelta};
use chrono_tz::Tz;
use rust_xlsxwriter::{Chart, ChartType, Format, Workbook, XlsxError};

use crate::record::{CheckIn, Member, QuizAnswer, percent, week_start};

/// A cell of the export.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text.
    Text(String),
    /// A number.
    Number(f64),
    /// Nothing.
    Empty,
}

impl Cell {
    fn text(text: impl Into<String>) -> Self {
        Self::Text(text.into())
    }

    fn as_csv(&self) -> String {
        match self {
            Self::Text(text) if text.contains([',', '"', '\n', '\r']) => {
                format!("\"{}\"", text.replace('"', "\"\""))
            }
            Self::Text(text) => text.clone(),
            Self::Number(number) => number.to_string(),
            Self::Empty => String::new(),
        }
    }
}

/// One sheet: a header row, data rows, column widths, and whether to freeze the header
/// and first column.
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    /// The sheet's (Chinese) name.
    pub name: &'static str,
    /// Rows, the header first.
    pub rows: Vec<Vec<Cell>>,
    /// Column widths in characters, in order (the rest keep Excel's default).
    pub widths: Vec<f64>,
    /// Whether the header row and first column stay in view when scrolling.
    pub freeze: bool,
}

/// What one chat's export holds.
#[derive(Debug, Clone)]
pub struct RecordData {
    /// The chat's zone: every date and time is shown in it.
    pub zone: Tz,
    /// The first day exported.
    pub from: NaiveDate,
    /// The last day exported.
    pub to: NaiveDate,
    /// The chat's members (including those who left).
    pub members: Vec<Member>,
    /// Check-ins for days in `from..=to`.
    pub check_ins: Vec<CheckIn>,
    /// Quiz answers given on days in `from..=to`.
    pub answers: Vec<QuizAnswer>,
}

/// The names of the sheets, in order.
pub const SHEETS: [&str; 4] = ["成员", "学习记录", "测验", "每周汇总"];

impl RecordData {
    /// The four sheets.
    pub fn sheets(&self) -> Vec<Sheet> {
        vec![
            self.members_sheet(),
            self.record_sheet(),
            self.quiz_sheet(),
            self.weekly_sheet(),
        ]
    }

    /// The workbook as xlsx bytes.
    pub fn xlsx(&self) -> Result<Vec<u8>, XlsxError> {
        let mut workbook = Workbook::new();
        let bold = Format::new().set_bold();
        for sheet in self.sheets() {
            let worksheet = workbook.add_worksheet();
            worksheet.set_name(sheet.name)?;
            for (r, row) in sheet.rows.iter().enumerate() {
                let r = r as u32;
                for (c, cell) in row.iter().enumerate() {
                    let c = c as u16;
                    match cell {
                        Cell::Text(text) if r == 0 => {
                            worksheet.write_string_with_format(r, c, text, &bold)?;
                        }
                        Cell::Text(text) => {
                            worksheet.write_string(r, c, text)?;
                        }
                        Cell::Number(number) => {
                            worksheet.write_number(r, c, *number)?;
                        }
                        Cell::Empty => {}
                    }
                }
            }
            for (c, width) in sheet.widths.iter().enumerate() {
                worksheet.set_column_width(c as u16, *width)?;
            }
            if sheet.freeze {
                worksheet.set_freeze_panes(1, 1)?;
            }
            if sheet.name == "每周汇总" {
                self.add_daily_chart(worksheet)?;
            }
        }
        workbook.save_to_buffer()
    }

    /// The same sheets as UTF-8 CSV files with a BOM (so that Excel on Chinese Windows
    /// reads them as UTF-8): `(sheet name, bytes)`.
    pub fn csv(&self) -> Vec<(&'static str, Vec<u8>)> {
        self.sheets()
            .into_iter()
            .map(|sheet| {
                let mut out = String::from("\u{FEFF}");
                for row in &sheet.rows {
                    let line: Vec<String> = row.iter().map(Cell::as_csv).collect();
                    out.push_str(&line.join(","));
                    out.push_str("\r\n");
                }
                (sheet.name, out.into_bytes())
            })
            .collect()
    }

    fn days(&self) -> Vec<NaiveDate> {
        self.from
            .iter_days()
            .take_while(|d| *d <= self.to)
            .collect()
    }

    /// Every member with a record, by user id: the roster's names, else the latest name
    /// seen on a check-in or answer.
    fn people(&self) -> BTreeMap<u64, String> {
        let mut people = BTreeMap::new();
        for check_in in &self.check_ins {
            people.insert(check_in.user_id, check_in.name.clone());
        }
        for answer in &self.answers {
            people.insert(answer.user_id, answer.name.clone());
        }
        for member in &self.members {
            people.insert(member.user_id, member.name.clone());
        }
        people
    }

    fn members_sheet(&self) -> Sheet {
        let mut rows = vec![header(&[
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
        ])];
        let total_days = self.days().len();
        for (user_id, name) in self.people() {
            let member = self.members.iter().find(|m| m.user_id == user_id);
            let check_ins: Vec<&CheckIn> = self
                .check_ins
                .iter()
                .filter(|c| c.user_id == user_id)
                .collect();
            let answers: Vec<&QuizAnswer> = self
                .answers
                .iter()
                .filter(|a| a.user_id == user_id)
                .collect();
            let activity: BTreeSet<NaiveDate> = check_ins
                .iter()
                .map(|c| c.done_on)
                .chain(
                    answers
                        .iter()
                        .map(|a| a.at.with_timezone(&self.zone).date_naive()),
                )
                .collect();
            let date_cell = |date: Option<&NaiveDate>| {
                date.map_or(Cell::Empty, |d| {
                    Cell::text(d.format("%Y-%m-%d").to_string())
                })
            };
            let right = answers.iter().filter(|a| a.correct).count();
            rows.push(vec![
                Cell::text(name),
                Cell::text(user_id.to_string()),
                member.map_or(Cell::Empty, |m| {
                    Cell::text(
                        m.joined
                            .with_timezone(&self.zone)
                            .format("%Y-%m-%d %H:%M")
                            .to_string(),
                    )
                }),
                date_cell(activity.first()),
                date_cell(activity.last()),
                Cell::Number(check_ins.len() as f64),
                Cell::Number(check_ins.iter().filter(|c| c.is_late()).count() as f64),
                Cell::text(format!("{}%", percent(check_ins.len(), total_days))),
                Cell::Number(answers.len() as f64),
                match answers.len() {
                    0 => Cell::Empty,
                    n => Cell::text(format!("{}%", percent(right, n))),
                },
                Cell::text(match member {
                    Some(m) if m.left => "已退出",
                    _ => "在册",
                }),
            ]);
        }
        Sheet {
            name: SHEETS[0],
            rows,
            widths: vec![
                18.0, 14.0, 18.0, 12.0, 12.0, 10.0, 10.0, 10.0, 10.0, 10.0, 8.0,
            ],
            freeze: true,
        }
    }

    fn record_sheet(&self) -> Sheet {
        let days = self.days();
        let mut head = vec![Cell::text("成员"), Cell::text("用户ID")];
        head.extend(
            days.iter()
                .map(|d| Cell::text(d.format("%m-%d").to_string())),
        );
        let mut marks: BTreeMap<(u64, NaiveDate), bool> = BTreeMap::new();
        for check_in in &self.check_ins {
            marks.insert((check_in.user_id, check_in.date), check_in.is_late());
        }
        let mut rows = vec![head];
        for (user_id, name) in self.people() {
            let mut row = vec![Cell::text(name), Cell::text(user_id.to_string())];
            row.extend(days.iter().map(|day| match marks.get(&(user_id, *day)) {
                Some(false) => Cell::text("✓"),
                Some(true) => Cell::text("补"),
                None => Cell::Empty,
            }));
            rows.push(row);
        }
        let mut widths = vec![18.0, 14.0];
        widths.extend(days.iter().map(|_| 6.0));
        Sheet {
            name: SHEETS[1],
            rows,
            widths,
            freeze: true,
        }
    }

    fn quiz_sheet(&self) -> Sheet {
        let mut rows = vec![header(&[
            "日期", "时间", "成员", "用户ID", "题目", "章节", "结果",
        ])];
        let mut answers: Vec<&QuizAnswer> = self.answers.iter().collect();
        answers.sort_by_key(|a| (a.at, a.user_id));
        for answer in answers {
            let local = answer.at.with_timezone(&self.zone);
            rows.push(vec![
                Cell::text(local.format("%Y-%m-%d").to_string()),
                Cell::text(local.format("%H:%M:%S").to_string()),
                Cell::text(answer.name.clone()),
                Cell::text(answer.user_id.to_string()),
                Cell::text(answer.question.clone()),
                Cell::text(answer.section.to_string()),
                Cell::text(if answer.correct { "对" } else { "错" }),
            ]);
        }
        Sheet {
            name: SHEETS[2],
            rows,
            widths: vec![12.0, 10.0, 18.0, 14.0, 60.0, 8.0, 6.0],
            freeze: true,
        }
    }

    fn weekly_sheet(&self) -> Sheet {
        let members = self.people().len();
        let mut rows = vec![header(&[
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
        ])];
        let mut weeks: Vec<NaiveDate> = Vec::new();
        for day in self.days() {
            let monday = week_start(day);
            if weeks.last() != Some(&monday) {
                weeks.push(monday);
            }
        }
        for monday in &weeks {
            let from = (*monday).max(self.from);
            let to = (*monday + TimeDelta::days(6)).min(self.to);
            let in_week = |d: NaiveDate| (from..=to).contains(&d);
            let check_ins = self.check_ins.iter().filter(|c| in_week(c.date)).count();
            let answers: Vec<&QuizAnswer> = self
                .answers
                .iter()
                .filter(|a| in_week(a.at.with_timezone(&self.zone).date_naive()))
                .collect();
            let days = (to - from).num_days() as usize + 1;
            let week = monday.iso_week();
            rows.push(vec![
                Cell::text(format!("{}-W{:02}", week.year(), week.week())),
                Cell::text(from.format("%Y-%m-%d").to_string()),
                Cell::text(to.format("%Y-%m-%d").to_string()),
                Cell::Number(check_ins as f64),
                Cell::text(format!("{}%", percent(check_ins, members * days))),
                Cell::Number(answers.len() as f64),
                match answers.len() {
                    0 => Cell::Empty,
                    n => Cell::text(format!(
                        "{}%",
                        percent(answers.iter().filter(|a| a.correct).count(), n)
                    )),
                },
            ]);
        }
        // The daily table beside the weekly rows feeds the chart.
        for (n, day) in self.days().into_iter().enumerate() {
            let count = self.check_ins.iter().filter(|c| c.date == day).count();
            let row = n + 1;
            while rows.len() <= row {
                rows.push(Vec::new());
            }
            let cells = &mut rows[row];
            cells.resize(8, Cell::Empty);
            cells.push(Cell::text(day.format("%Y-%m-%d").to_string()));
            cells.push(Cell::Number(count as f64));
        }
        Sheet {
            name: SHEETS[3],
            rows,
            widths: vec![10.0, 12.0, 12.0, 10.0, 10.0, 10.0, 10.0, 2.0, 12.0, 10.0],
            freeze: false,
        }
    }

    /// A native column chart of the daily table (columns I and J of 每周汇总).
    fn add_daily_chart(&self, worksheet: &mut rust_xlsxwriter::Worksheet) -> Result<(), XlsxError> {
        let last = self.days().len() as u32;
        if last == 0 {
            return Ok(());
        }
        let mut chart = Chart::new(ChartType::Column);
        chart
            .add_series()
            .set_name("每日学习人数")
            .set_categories((SHEETS[3], 1, 8, last, 8))
            .set_values((SHEETS[3], 1, 9, last, 9));
        chart.title().set_name("每日学习人数");
        chart.legend().set_hidden();
        worksheet.insert_chart(1, 11, &chart)?;
        Ok(())
    }
}

fn header(names: &[&str]) -> Vec<Cell> {
    names.iter().map(|name| Cell::text(*name)).collect()
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::text::SectionId;

    fn data() -> RecordData {
        let at: DateTime<Utc> = "2026-11-23T01:00:00Z".parse().unwrap();
        let from: NaiveDate = "2026-11-23".parse().unwrap();
        let check_in = |user: u64, day: i64, late: i64| CheckIn {
            chat_id: -1,
            user_id: user,
            name: format!("成员{user}"),
            document: "xzsj".into(),
            section: SectionId::OPENING,
            date: from + TimeDelta::days(day),
            done_on: from + TimeDelta::days(day + late),
            at,
        };
        RecordData {
            zone: chrono_tz::Asia::Shanghai,
            from,
            to: from + TimeDelta::days(9),
            members: vec![Member {
                user_id: 1,
                name: "张三, \"组长\"".into(),
                joined: at,
                left: false,
            }],
            check_ins: vec![check_in(1, 0, 0), check_in(2, 1, 3)],
            answers: vec![QuizAnswer {
                chat_id: -1,
                user_id: 2,
                name: "成员2".into(),
                question: "第一问".into(),
                section: "2.2".parse().unwrap(),
                principle: 2,
                correct: true,
                at,
            }],
        }
    }

    #[test]
    fn the_record_sheet_marks_days_and_late_check_ins() {
        let sheets = data().sheets();
        let record = &sheets[1];
        assert_eq!(record.rows[0].len(), 12, "name, id and ten days");
        assert_eq!(record.rows[1][2], Cell::text("✓"));
        assert_eq!(record.rows[2][3], Cell::text("补"));
        assert_eq!(sheets[2].rows.len(), 2, "one answer");
        assert_eq!(sheets[3].rows[1][0], Cell::text("2026-W48"));
    }

    #[test]
    fn csv_has_a_bom_and_quotes_commas() {
        let files = data().csv();
        assert_eq!(
            files.iter().map(|(name, _)| *name).collect::<Vec<_>>(),
            SHEETS
        );
        let members = String::from_utf8(files[0].1.clone()).unwrap();
        assert!(members.starts_with("\u{FEFF}成员,用户ID"), "{members}");
        assert!(members.contains("\"张三, \"\"组长\"\"\""), "{members}");
    }

    #[test]
    fn the_workbook_is_written() {
        let bytes = data().xlsx().unwrap();
        assert!(bytes.starts_with(b"PK"), "a zip file");
    }
}
