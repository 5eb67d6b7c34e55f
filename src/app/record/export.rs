//! The study record's export: `/export` (the workbook Telegram sends) and `studybot
//! record` (an `.xlsx` or CSV files written beside their target, renamed into place).

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use tempfile::NamedTempFile;

use crate::app::record::Record;
use crate::app::{App, AppError, ChatContext};
use crate::messages::daily::errors::admin_only;
use crate::record::export::{
    ExportError, ExportFigures, ExportPeriod, RecordExport, SHEETS, Sheets,
};
use crate::reply::Reply;
use crate::schedule::local_date;
use crate::store::StoreError;

impl Record<'_> {
    /// `/export`: the chat's workbook, as (file name, bytes), or the reply explaining
    /// why not (not an admin, a store failure).
    pub fn export_workbook(
        &self,
        chat: &ChatContext,
        now: DateTime<Utc>,
    ) -> Result<(String, Vec<u8>), Reply> {
        if !chat.is_admin {
            return Err(admin_only("导出学习台账"));
        }
        let chat_id = chat.chat_id;
        let cannot = |error: &dyn std::fmt::Display| {
            tracing::error!(chat_id, %error, "cannot write the workbook");
            Reply::plain("暂时无法生成表格，请稍后再试。")
        };
        let period = self
            .app
            .export_period(chat_id, None, None, now)
            .map_err(|error| AppError::from(error).reply(chat_id))?;
        let roster = self
            .app
            .store()
            .members(chat_id)
            .map_err(|error| AppError::from(error).reply(chat_id))?;
        let title = self.app.chat_title(chat_id);
        let heading = format!(
            "{} 学习台账 {} 至 {}",
            title.clone().unwrap_or_else(|| chat_id.to_string()),
            period.from,
            period.to
        );
        let export = RecordExport::xlsx(period, roster, &heading).map_err(|e| cannot(&e))?;
        let bytes = match self.app.fill_export(chat_id, export) {
            Ok((workbook, _)) => workbook.into_bytes().map_err(|e| cannot(&e))?,
            Err(ExportFailure::Store(error)) => return Err(AppError::from(error).reply(chat_id)),
            Err(ExportFailure::Write(error)) => return Err(cannot(&error)),
        };
        let name = match title
            .as_deref()
            .map(file_name_part)
            .filter(|t| !t.is_empty())
        {
            Some(title) => format!("学习台账-{title}-{}.xlsx", period.to.format("%Y%m%d")),
            None => format!(
                "studybot-record-{}-{}.xlsx",
                chat_id.unsigned_abs(),
                period.to.format("%Y%m%d")
            ),
        };
        Ok((name, bytes))
    }

    /// `studybot record`: writes the chat's record as `output` says, each file complete
    /// or not at all: it is written beside its target and renamed over it once whole, so
    /// a failure (a full disk) leaves an earlier file of that name as it was. Refuses,
    /// writing nothing, a chat the store knows nothing of, a chat with no record at all,
    /// and `from` after `to`.
    pub fn write(
        &self,
        chat_id: i64,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        output: &RecordOutput,
        now: DateTime<Utc>,
    ) -> anyhow::Result<RecordWritten> {
        let chat = self.app.chat_label(chat_id);
        if !self.app.store().knows_chat(chat_id)? {
            let known: Vec<String> = self
                .app
                .store()
                .chats_with_members()?
                .into_iter()
                .take(10)
                .map(|id| self.app.chat_label(id))
                .collect();
            let hint = match known.is_empty() {
                true => "这个数据库里还没有任何群的学习记录。".to_string(),
                false => format!("有学习记录的群：{}。", known.join("、")),
            };
            anyhow::bail!(
                "没有找到群 {chat_id}：数据库里没有它的订阅、成员、打卡或答题记录，没有写任何文件。{hint}\n\
                 群号可在 /status 或日志的 chat_id 中找到，例如 --chat -1001234567890。"
            );
        }
        let zone = self.app.chat_zone(chat_id);
        let today = local_date(now, zone);
        match (from, to) {
            (Some(from), Some(to)) if from > to => anyhow::bail!(
                "--from {from} 晚于 --to {to}，没有写任何文件。请把开始日期写在前面，例如 --from {to} --to {from}。"
            ),
            (Some(from), None) if from > today => anyhow::bail!(
                "--from {from} 在今天（{today}，{}）之后，没有写任何文件。要导出以后的日期请同时给出 --to。",
                zone.name()
            ),
            _ => {}
        }
        let period = self.app.export_period(chat_id, from, to, now)?;
        let roster = self.app.store().members(chat_id)?;
        let nothing = || {
            anyhow::anyhow!(
                "{chat} 在 {} 至 {} 没有任何学习记录（没有成员、打卡或答题），没有写任何文件。",
                period.from,
                period.to
            )
        };
        let title = format!(
            "{} 学习台账 {} 至 {}",
            self.app
                .chat_title(chat_id)
                .unwrap_or_else(|| chat_id.to_string()),
            period.from,
            period.to
        );
        let (files, figures) = match output {
            RecordOutput::Workbook(path) | RecordOutput::Stdout(path) => {
                let export = RecordExport::xlsx(period, roster, &title)
                    .map_err(|e| cannot_write(path, &e))?;
                let (workbook, figures) = self.app.fill_export(chat_id, export)?;
                if figures.members == 0 {
                    return Err(nothing());
                }
                if matches!(output, RecordOutput::Stdout(_)) {
                    let mut stdout = Latched::new(BufWriter::new(std::io::stdout()));
                    workbook
                        .save(&mut stdout)
                        .map_err(|e| cannot_write(path, &e))?;
                    stdout.finish().map_err(|e| cannot_write(path, &e.into()))?;
                    (Vec::new(), figures)
                } else {
                    let mut file = temp_beside(path)?;
                    workbook
                        .save(&mut file)
                        .map_err(|e| cannot_write(path, &e))?;
                    complete(file, path)?
                        .persist(path)
                        .map_err(|e| cannot_write(path, &e.error.into()))?;
                    (vec![path.clone()], figures)
                }
            }
            RecordOutput::Csv(path) => {
                let paths = csv_paths(path);
                let files = [
                    temp_beside(&paths[0])?,
                    temp_beside(&paths[1])?,
                    temp_beside(&paths[2])?,
                    temp_beside(&paths[3])?,
                ];
                let export =
                    RecordExport::csv(period, roster, files).map_err(|e| cannot_write(path, &e))?;
                let (sheets, figures) = self.app.fill_export(chat_id, export)?;
                if figures.members == 0 {
                    return Err(nothing());
                }
                let files = sheets.finish().map_err(|e| cannot_write(path, &e))?;
                // Every file complete on disk before the first replaces its old version.
                let mut done = Vec::with_capacity(4);
                for (file, target) in files.into_iter().zip(&paths) {
                    done.push(complete(file, target)?);
                }
                for (file, target) in done.into_iter().zip(&paths) {
                    file.persist(target)
                        .map_err(|e| cannot_write(target, &e.error.into()))?;
                }
                (paths.to_vec(), figures)
            }
        };
        Ok(RecordWritten {
            files,
            chat,
            period,
            figures,
        })
    }
}

impl App {
    /// The days of `chat_id`'s export: `from..=to` (defaults: from the first record, to
    /// today, in the chat's zone).
    fn export_period(
        &self,
        chat_id: i64,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        now: DateTime<Utc>,
    ) -> Result<ExportPeriod, StoreError> {
        let zone = self.chat_zone(chat_id);
        let to = to.unwrap_or_else(|| local_date(now, zone));
        let from = match from {
            Some(from) => from,
            None => {
                // Check-ins sort by day and answers by instant: the first of each is the earliest.
                let check_in = self.store().first_check_in(chat_id)?.map(|c| c.date);
                let answer = self
                    .store()
                    .first_quiz_answer(chat_id)?
                    .map(|a| a.at.with_timezone(&zone).date_naive());
                check_in
                    .into_iter()
                    .chain(answer)
                    .min()
                    .unwrap_or(to - TimeDelta::days(6))
            }
        };
        Ok(ExportPeriod {
            zone,
            from: from.min(to),
            to,
        })
    }

    /// Reads the chat's record into `export` (check-ins day by day, then quiz answers,
    /// a page at a time) and returns its finished sheets.
    fn fill_export<S: Sheets>(
        &self,
        chat_id: i64,
        mut export: RecordExport<S>,
    ) -> Result<(S, ExportFigures), ExportFailure> {
        let period = export.period();
        self.store()
            .each_check_in(chat_id, period.from, period.to, |check_in| {
                export.check_in(&check_in);
                Ok::<_, ExportFailure>(())
            })?;
        self.store().each_quiz_answer(chat_id, |answer| {
            Ok::<_, ExportFailure>(export.answer(answer)?)
        })?;
        let figures = export.figures();
        Ok((export.finish()?, figures))
    }
}

/// Where and how `studybot record` writes (see [`RecordOutput::choose`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOutput {
    /// A workbook at this path.
    Workbook(PathBuf),
    /// The workbook on standard output (the path is `-`, for messages).
    Stdout(PathBuf),
    /// CSV files: one `<stem>-<sheet>.csv` per sheet beside this path.
    Csv(PathBuf),
}

impl RecordOutput {
    /// Reads `--out` and `--csv`: the format follows the file's extension (`.xlsx` a
    /// workbook, `.csv` CSV files); `--csv` with `.xlsx` is refused as contradictory, and
    /// a name with neither extension is refused without `--csv`. `-` is standard output,
    /// for the workbook only (CSV is four files), and never a terminal.
    pub fn choose(out: &Path, csv: bool, stdout_is_terminal: bool) -> Result<Self, String> {
        if out == Path::new("-") {
            return match (csv, stdout_is_terminal) {
                (true, _) => Err(
                    "--csv 会写四个文件（成员、学习记录、测验、每周汇总），不能写到标准输出（--out -）。\
                     请给出文件名，例如 --out 台账.csv。"
                        .into(),
                ),
                (false, true) => Err(
                    "--out - 把表格（二进制文件）写到标准输出，但标准输出是终端。\
                     请重定向到文件（--out - > 台账.xlsx），或写 --out 台账.xlsx。"
                        .into(),
                ),
                (false, false) => Ok(Self::Stdout(out.to_path_buf())),
            };
        }
        let extension = out.extension().map(|e| e.to_string_lossy().to_lowercase());
        match (extension.as_deref(), csv) {
            (Some("xlsx"), false) => Ok(Self::Workbook(out.to_path_buf())),
            (Some("xlsx"), true) => Err(format!(
                "--csv 与文件名 {} 不一致：要 CSV 文件请写 --out {}，要 Excel 表格请去掉 --csv。",
                out.display(),
                out.with_extension("csv").display()
            )),
            (Some("csv"), _) | (_, true) => Ok(Self::Csv(out.to_path_buf())),
            (_, false) => Err(format!(
                "不知道把 {} 写成什么格式：文件名应以 .xlsx（Excel 表格）或 .csv（CSV 文件）结尾。\
                 例如 --out 台账.xlsx。",
                out.display()
            )),
        }
    }
}

/// What `studybot record` wrote.
#[derive(Debug, Clone)]
pub struct RecordWritten {
    /// The files written (none for standard output).
    pub files: Vec<PathBuf>,
    /// The chat, as [`App::chat_label`] names it.
    pub chat: String,
    /// The days exported.
    pub period: ExportPeriod,
    /// Members, check-ins and answers exported.
    pub figures: ExportFigures,
}

impl RecordWritten {
    /// One line for the operator: the chat, the days and what was exported.
    pub fn summary(&self) -> String {
        format!(
            "{}，{} 至 {}：{} 位成员，{} 次打卡，{} 次答题",
            self.chat,
            self.period.from,
            self.period.to,
            self.figures.members,
            self.figures.check_ins,
            self.figures.answers
        )
    }
}

/// The CSV files of `out`: `<stem>-<sheet>.csv` beside it, in the order of [`SHEETS`].
pub fn csv_paths(out: &Path) -> [PathBuf; 4] {
    let stem = out
        .file_stem()
        .map_or_else(|| "record".into(), |s| s.to_string_lossy().into_owned());
    SHEETS.map(|sheet| out.with_file_name(format!("{stem}-{sheet}.csv")))
}

/// The one message of a failed write: the file and the cause, in Chinese.
fn cannot_write(path: &Path, error: &ExportError) -> anyhow::Error {
    anyhow::anyhow!("无法写入 {}：{error}", path.display())
}

/// A new temporary file in `target`'s directory (so that renaming it over `target` is
/// atomic), buffered, its first write error kept for [`complete`].
fn temp_beside(target: &Path) -> anyhow::Result<Latched<BufWriter<NamedTempFile>>> {
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let file = tempfile::Builder::new()
        .prefix(".studybot-record-")
        .suffix(".part")
        .tempfile_in(dir)
        .map_err(|e| cannot_write(target, &e.into()))?;
    Ok(Latched::new(BufWriter::new(file)))
}

/// Flushes a file of [`temp_beside`] and makes it durable, ready to be renamed over
/// `target`; the first write error, if any, names `target`.
fn complete(
    file: Latched<BufWriter<NamedTempFile>>,
    target: &Path,
) -> anyhow::Result<NamedTempFile> {
    let failed = |e: std::io::Error| cannot_write(target, &e.into());
    let buffered = file.into_result().map_err(failed)?;
    let file = buffered.into_inner().map_err(|e| failed(e.into_error()))?;
    file.as_file().sync_all().map_err(failed)?;
    Ok(file)
}

/// A writer that keeps its first error and then accepts (and drops) everything: the zip
/// writer inside rust_xlsxwriter, on an error, would try to finish the archive in its
/// `Drop` and print its own failure to stderr; this way it finishes quietly and the
/// error is reported once, by [`Latched::into_result`].
struct Latched<W: Write> {
    inner: W,
    error: Option<std::io::Error>,
}

impl<W: Write> Latched<W> {
    fn new(inner: W) -> Self {
        Self { inner, error: None }
    }

    /// Flushes and gives back the writer, or the first error.
    fn into_result(mut self) -> std::io::Result<W> {
        self.flush()?;
        match self.error {
            Some(error) => Err(error),
            None => Ok(self.inner),
        }
    }

    /// [`Latched::into_result`], for a writer that is not kept.
    fn finish(self) -> std::io::Result<()> {
        self.into_result().map(drop)
    }
}

impl<W: Write> Write for Latched<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.error.is_none()
            && let Err(error) = self.inner.write_all(buf)
        {
            self.error = Some(error);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.error.is_none()
            && let Err(error) = self.inner.flush()
        {
            self.error = Some(error);
        }
        Ok(())
    }
}

/// A chat title as part of a file name: without path separators, characters Windows
/// refuses, or control characters, at most 40 characters.
fn file_name_part(title: &str) -> String {
    title
        .chars()
        .filter(|c| {
            !c.is_control() && !matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|')
        })
        .take(40)
        .collect::<String>()
        .trim()
        .trim_matches('.')
        .to_string()
}

/// Why the export stopped: the store could not be read, or the sheets not written.
#[derive(Debug, thiserror::Error)]
enum ExportFailure {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Write(#[from] ExportError),
}
