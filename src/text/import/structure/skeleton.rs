//! Stage 5: events (parts, points, paragraphs, gaps) and their placement into sections,
//! following the outline's skeleton when there is one. Just over 600 lines because it is
//! one concern, the pipeline's last stage: its event walk and placement read as one.

use super::*;

/// One entry of the outline block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Skeleton {
    pub(super) part: u32,
    pub(super) point: u32,
    pub(super) title: String,
    pub(super) phrase: String,
}

pub(super) fn skeleton(entries: &[String], parts: Kind, points: Option<Kind>) -> Vec<Skeleton> {
    let mut skeleton = Vec::new();
    let mut part = 0;
    for entry in entries {
        let Some(marker) = line_marker(entry) else {
            continue;
        };
        let (title, _) = title_of(marker.rest);
        let title = if title.is_empty() {
            marker.label.to_string()
        } else {
            title
        };
        if marker.kind == parts && marker.number > part {
            part = marker.number;
            let (title, phrase) = part_title_and_phrase(&title);
            skeleton.push(Skeleton {
                part,
                point: 0,
                title,
                phrase,
            });
        } else if Some(marker.kind) == points && part > 0 {
            skeleton.push(Skeleton {
                part,
                point: marker.number,
                title,
                phrase: String::new(),
            });
        }
    }
    skeleton
}

/// The title in a marker's text and the body text after it: the first sentence, cut at
/// its first comma when it is long.
pub(super) fn title_of(rest: &str) -> (String, &str) {
    let (sentence, after) = match rest.char_indices().find(|&(_, c)| is_terminator(c)) {
        Some((at, c)) => (&rest[..at], &rest[at + c.len_utf8()..]),
        None if rest.chars().count() <= LONGEST_HEADING => (rest, ""),
        None => ("", rest),
    };
    let sentence = sentence.trim();
    if sentence.chars().count() > LONGEST_TITLE
        && let Some((at, c)) = sentence
            .char_indices()
            .find(|&(_, c)| matches!(c, '，' | ',' | '；' | ';' | '：' | ':'))
        && sentence[..at].chars().count() >= 4
    {
        // The rest of the sentence stays in the text, verbatim from after the comma.
        let lead = rest.len() - rest.trim_start().len();
        let body = &rest[lead + at + c.len_utf8()..];
        return (sentence[..at].trim().to_string(), body.trim_start());
    }
    (
        sentence
            .trim_end_matches(|c: char| {
                is_punctuation(c) && !matches!(c, '）' | ')' | '》' | '”' | '’')
            })
            .to_string(),
        after.trim_start(),
    )
}

/// Splits a part's title into its principle and second phrase at a single comma or
/// space (`铸牢政治之魂,把准前行方向`).
pub(super) fn part_title_and_phrase(title: &str) -> (String, String) {
    let separators = |c: char| matches!(c, '，' | ',' | ' ' | '；' | ';');
    let pieces: Vec<&str> = title.split(separators).collect();
    if let [principle, phrase] = pieces.as_slice() {
        let length = |s: &str| s.chars().count();
        if (2..=16).contains(&length(principle)) && (2..=16).contains(&length(phrase)) {
            return (principle.to_string(), phrase.to_string());
        }
    }
    (title.to_string(), String::new())
}

/// What the body says, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Event {
    Part {
        number: u32,
        title: String,
        phrase: String,
        line: usize,
    },
    Point {
        number: u32,
        title: String,
        line: usize,
    },
    Paragraph(String),
    Gap,
}

/// Builds paragraphs and headings from the body's lines.
pub(super) struct Events {
    pub(super) events: Vec<Event>,
    pub(super) paragraph: String,
    pub(super) parts: Kind,
    pub(super) points: Option<Kind>,
    pub(super) last_part: u32,
    pub(super) last_point: u32,
}

pub(super) fn events(body: &[Item], parts: Kind, points: Option<Kind>) -> Vec<Event> {
    let mut state = Events {
        events: Vec::new(),
        paragraph: String::new(),
        parts,
        points,
        last_part: 0,
        last_point: 0,
    };
    let mut awaiting_title = false;
    for item in body {
        match item {
            Item::Blank => state.end_paragraph(),
            Item::Cut => {
                state.end_paragraph();
                awaiting_title = false;
                if state.events.last() != Some(&Event::Gap) {
                    state.events.push(Event::Gap);
                }
            }
            Item::Text(line, text) => {
                if awaiting_title {
                    awaiting_title = false;
                    if looks_like_title(text) && line_marker(text).is_none() {
                        state.retitle(text);
                        continue;
                    }
                }
                awaiting_title = state.line(*line, text);
                // A short line without a full stop is a name, a salutation or a heading
                // of its own, not the first half of a sentence broken by the page.
                if text.chars().next_back().is_some_and(ends_paragraph_char)
                    || (text.chars().count() <= SHORT_LINE
                        && !text
                            .chars()
                            .next_back()
                            .is_some_and(|c| c.is_ascii_alphanumeric()))
                    || ends_paragraph(&state.paragraph)
                {
                    state.end_paragraph();
                }
            }
        }
    }
    state.end_paragraph();
    state.events
}

pub(super) fn ends_paragraph_char(c: char) -> bool {
    matches!(c, '）' | ')' | '》' | '】')
}

/// Whether a paragraph's text ends a paragraph at a line break (rather than being a
/// line broken mid-sentence).
pub(super) fn ends_paragraph(text: &str) -> bool {
    let mut chars = text.chars().rev();
    match chars.next() {
        None => false,
        Some('”' | '’' | '」' | '』') => chars
            .next()
            .is_some_and(|c| is_terminator(c) || matches!(c, '：' | ':' | '；' | ';' | '…')),
        Some(c) => is_terminator(c) || matches!(c, '：' | ':' | '；' | ';' | '…'),
    }
}

impl Events {
    pub(super) fn end_paragraph(&mut self) {
        let text = std::mem::take(&mut self.paragraph);
        // A paragraph cannot start with what the data file reads as markup; those
        // characters (a hashtag's #, a stray [gap]) are not the author's sentence.
        let mut text = text.trim();
        while let Some(rest) = ["#", "＃", "<!--", "[gap]", "-"]
            .iter()
            .find_map(|markup| text.strip_prefix(markup))
        {
            text = rest.trim_start();
        }
        if !text.is_empty() {
            self.events.push(Event::Paragraph(text.to_string()));
        }
    }

    pub(super) fn push_text(&mut self, text: &str) {
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        // Joined without a space, except between two words of a Latin-script language.
        if self
            .paragraph
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric())
            && text
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric())
        {
            self.paragraph.push(' ');
        }
        self.paragraph.push_str(text);
    }

    /// Gives the last heading a title from the line after it (`第一章` / `总则`).
    pub(super) fn retitle(&mut self, text: &str) {
        match self.events.last_mut() {
            Some(Event::Part { title, phrase, .. }) => {
                (*title, *phrase) = part_title_and_phrase(text);
            }
            Some(Event::Point { title, .. }) => *title = text.to_string(),
            _ => {}
        }
    }

    /// Handles one line; returns whether its heading still needs a title.
    pub(super) fn line(&mut self, line: usize, text: &str) -> bool {
        if let Some(marker) = line_marker(text)
            && marker.kind != Kind::Run
        {
            if marker.kind == self.parts && marker.number > self.last_part {
                self.end_paragraph();
                let (title, body) = title_of(marker.rest);
                let (title, phrase) = part_title_and_phrase(&title);
                self.last_part = marker.number;
                self.last_point = 0;
                let untitled = title.is_empty();
                self.events.push(Event::Part {
                    number: marker.number,
                    title: if untitled {
                        marker.label.to_string()
                    } else {
                        title
                    },
                    phrase,
                    line,
                });
                self.text(line, body);
                return untitled && body.is_empty();
            }
            if Some(marker.kind) == self.points
                && self.last_part > 0
                && marker.number > self.last_point
            {
                self.end_paragraph();
                let (title, body) = title_of(marker.rest);
                self.last_point = marker.number;
                let untitled = title.is_empty();
                self.events.push(Event::Point {
                    number: marker.number,
                    title: if untitled {
                        marker.label.to_string()
                    } else {
                        title
                    },
                    line,
                });
                self.text(line, body);
                return untitled && body.is_empty();
            }
        }
        self.text(line, text);
        false
    }

    /// Text, split at `一是…` runs when runs are a level.
    pub(super) fn text(&mut self, line: usize, text: &str) {
        let runs_are_parts = self.parts == Kind::Run;
        if !runs_are_parts && self.points != Some(Kind::Run) {
            self.push_text(text);
            return;
        }
        let mut from = 0;
        for (start, number, body) in run_markers(text) {
            if start < from {
                continue;
            }
            let last = if runs_are_parts {
                self.last_part
            } else {
                self.last_point
            };
            if number <= last || (!runs_are_parts && self.last_part == 0) {
                continue;
            }
            self.push_text(&text[from..start]);
            self.end_paragraph();
            let (title, rest) = title_of(&text[body..]);
            if title.is_empty() {
                from = start;
                continue;
            }
            if runs_are_parts {
                self.last_part = number;
                self.last_point = 0;
                self.events.push(Event::Part {
                    number,
                    title,
                    phrase: String::new(),
                    line,
                });
            } else {
                self.last_point = number;
                self.events.push(Event::Point {
                    number,
                    title,
                    line,
                });
            }
            from = text.len() - rest.len();
        }
        self.push_text(&text[from..]);
    }
}

/// A section being assembled, numbered as in the source.
#[derive(Debug, Clone)]
pub(super) struct Raw {
    pub(super) part: u32,
    pub(super) point: u32,
    pub(super) title: String,
    pub(super) phrase: String,
    pub(super) blocks: Vec<Block>,
    pub(super) line: usize,
}

/// Places the events into sections, following the outline's skeleton when there is one.
pub(super) fn place(events: Vec<Event>, skeleton: &[Skeleton]) -> Vec<Raw> {
    let mut raws = vec![Raw {
        part: 0,
        point: 0,
        title: "开场".to_string(),
        phrase: String::new(),
        blocks: Vec::new(),
        line: 0,
    }];
    let mut next = 0; // skeleton entries before `next` are placed
    let mut part = 0;
    for event in events {
        let (number, point, title, phrase, line) = match event {
            Event::Paragraph(text) => {
                raws.last_mut()
                    .expect("the opening")
                    .blocks
                    .push(Block::Paragraph(text));
                continue;
            }
            Event::Gap => {
                let blocks = &mut raws.last_mut().expect("the opening").blocks;
                if blocks.last() != Some(&Block::Gap) {
                    blocks.push(Block::Gap);
                }
                continue;
            }
            Event::Part {
                number,
                title,
                phrase,
                line,
            } => (number, 0, title, phrase, line),
            Event::Point {
                number,
                title,
                line,
            } => (part, number, title, String::new(), line),
        };
        let rest = skeleton.get(next..).unwrap_or_default();
        let target = if point == 0 {
            rest.iter().position(|s| s.point == 0 && s.part == number)
        } else {
            let wanted = plain(&title);
            rest.iter()
                .position(|s| s.point > 0 && titles_match(&wanted, &plain(&s.title)))
                .or_else(|| rest.iter().position(|s| s.part == part && s.point == point))
        };
        let Some(target) = target.map(|t| t + next) else {
            if point == 0 {
                part = number;
            }
            // A point the outline lacks comes after the outline's points numbered
            // before it (`（三）` after the listed `（二）`).
            while let Some(entry) = skeleton.get(next)
                && point > 0
                && entry.part == part
                && entry.point > 0
                && entry.point < point
            {
                raws.push(Raw::title_only(entry));
                next += 1;
            }
            raws.push(Raw {
                part: if point == 0 { number } else { part },
                point,
                title,
                phrase,
                blocks: Vec::new(),
                line,
            });
            continue;
        };
        // Text after a gap, just before a heading further on, belongs to the section
        // before that heading: the gap swallowed what lay between.
        let mut orphans = Vec::new();
        if target > next {
            let blocks = &mut raws.last_mut().expect("the opening").blocks;
            if let Some(gap) = blocks.iter().rposition(|b| *b == Block::Gap)
                && gap + 1 < blocks.len()
            {
                orphans = blocks.split_off(gap + 1);
            }
        }
        for entry in &skeleton[next..target] {
            raws.push(Raw::title_only(entry));
        }
        if !orphans.is_empty() {
            let before = raws.last_mut().expect("a skipped entry");
            before.blocks.push(Block::Gap);
            before.blocks.extend(orphans);
        }
        let entry = &skeleton[target];
        // The outline's split (`扛起发展之责 | 激活基层动能`) serves a body heading that
        // has the same words without the separator.
        let same_unsplit = point == 0
            && phrase.is_empty()
            && !entry.phrase.is_empty()
            && plain(&title) == plain(&format!("{}{}", entry.title, entry.phrase));
        let (title, phrase) = if same_unsplit || title.is_empty() {
            (entry.title.clone(), entry.phrase.clone())
        } else {
            (title, phrase)
        };
        part = entry.part;
        raws.push(Raw {
            part: entry.part,
            point: entry.point,
            title,
            phrase,
            blocks: Vec::new(),
            line,
        });
        next = target + 1;
    }
    for entry in skeleton.get(next..).unwrap_or_default() {
        raws.push(Raw::title_only(entry));
    }
    raws
}

impl Raw {
    pub(super) fn title_only(entry: &Skeleton) -> Self {
        Self {
            part: entry.part,
            point: entry.point,
            title: entry.title.clone(),
            phrase: entry.phrase.clone(),
            blocks: Vec::new(),
            line: 0,
        }
    }
}

/// A title without spaces and punctuation, for comparing.
pub(super) fn plain(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && !is_punctuation(*c))
        .collect()
}

pub(super) fn titles_match(a: &str, b: &str) -> bool {
    !a.is_empty()
        && !b.is_empty()
        && (a == b
            || (a.chars().count() >= 4
                && b.chars().count() >= 4
                && (a.starts_with(b) || b.starts_with(a))))
}

/// Numbers the sections, splits principles in parallel with their siblings, and marks
/// each section's completeness.
pub(super) fn finish(
    mut raws: Vec<Raw>,
    warnings: &mut Vec<String>,
) -> Result<Vec<Section>, ImportError> {
    parallel_phrases(&mut raws);
    let mut sections = Vec::new();
    let mut part = 0u8;
    let mut point = 0u8;
    let mut expected_part = 1;
    for raw in raws {
        let id = if raw.part == 0 {
            if !raw.blocks.iter().any(|b| matches!(b, Block::Paragraph(_))) {
                if raw.blocks.contains(&Block::Gap) {
                    warnings.push("开场部分只有截断提示，没有正文，已省略".to_string());
                }
                continue;
            }
            SectionId::OPENING
        } else if raw.point == 0 {
            if raw.part != expected_part {
                warnings.push(format!(
                    "原文第{}部分之前的编号不连续，已按顺序重新编号",
                    chinese_number(raw.part.min(999))
                ));
            }
            expected_part = raw.part + 1;
            if usize::from(part) >= MOST_SECTIONS {
                return Err(too_many(&raw, "部分"));
            }
            part += 1;
            point = 0;
            SectionId::part(part)
        } else {
            if usize::from(point) >= MOST_SECTIONS {
                return Err(too_many(&raw, "要点"));
            }
            point += 1;
            SectionId::point(part, point)
        };
        let mut blocks = raw.blocks;
        while blocks.first() == Some(&Block::Gap) && blocks.len() == 1 {
            blocks.clear();
        }
        let has_text = blocks.iter().any(|b| matches!(b, Block::Paragraph(_)));
        let completeness = match (has_text, blocks.contains(&Block::Gap)) {
            (false, _) => {
                blocks.clear();
                Completeness::TitleOnly
            }
            (true, true) => Completeness::Partial,
            (true, false) => Completeness::Full,
        };
        // `|` separates a principle from its phrase in the data file.
        let title = raw.title.replace('|', "｜");
        let phrase = raw.phrase.replace('|', "｜");
        sections.push(Section {
            id,
            title,
            phrase: if id.is_part() { phrase } else { String::new() },
            completeness,
            blocks,
            line: raw.line,
        });
    }
    Ok(sections)
}

/// The refusal of the 100th part or point: its line and heading.
pub(super) fn too_many(raw: &Raw, what: &'static str) -> ImportError {
    ImportError::TooManySections {
        line: raw.line,
        heading: raw.title.chars().take(LONGEST_TITLE).collect(),
        what,
    }
}

/// A principle written without a separator (`恪守清廉之本树立良好形象`) is split where its
/// siblings split (`铸牢政治之魂 | 把准前行方向`: six and six characters).
pub(super) fn parallel_phrases(raws: &mut [Raw]) {
    let shapes: Vec<(usize, usize)> = raws
        .iter()
        .filter(|r| r.part > 0 && r.point == 0 && !r.phrase.is_empty())
        .map(|r| (r.title.chars().count(), r.phrase.chars().count()))
        .collect();
    let Some(&shape) = shapes.first() else {
        return;
    };
    if shapes.len() < 2 || shapes.iter().any(|&s| s != shape) {
        return;
    }
    for raw in raws
        .iter_mut()
        .filter(|r| r.part > 0 && r.point == 0 && r.phrase.is_empty())
    {
        if raw.title.chars().count() == shape.0 + shape.1 && plain(&raw.title) == raw.title {
            let at = raw
                .title
                .char_indices()
                .nth(shape.0)
                .map_or(raw.title.len(), |(at, _)| at);
            raw.phrase = raw.title.split_off(at);
        }
    }
}
