//! Reads the paragraphs of a Word `.docx` file (a zip of XML parts), with Word's
//! automatic numbering rendered in front of each numbered paragraph.
//!
//! Automatic numbering (`一、`, `（一）`, `1.`) is not in the document's text: a
//! paragraph only says "numbering list 3, level 0", and `word/numbering.xml` says how
//! that level is counted and written (`chineseCounting`, `%1、`). Without it a report's
//! headings would lose their numbers, so the labels are rendered here exactly as Word
//! shows them. Numbering that comes from a paragraph style (`styles.xml`) is not read.

use std::collections::HashMap;
use std::io::{Cursor, Read};

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::{ImportError, LARGEST_PART};

/// The text of the document: one paragraph per line, a blank line between paragraphs
/// (so that the importer never joins two of Word's paragraphs).
pub fn text(bytes: &[u8]) -> Result<String, ImportError> {
    text_within(bytes, LARGEST_PART)
}

/// [`text`], with each part unpacking to at most `largest` bytes.
fn text_within(bytes: &[u8], largest: u64) -> Result<String, ImportError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|_| ImportError::Docx("文件不是有效的 zip 压缩包".into()))?;
    let document = read_part(&mut archive, "正文", "word/document.xml", largest)?
        .ok_or_else(|| ImportError::Docx("缺少正文 word/document.xml".into()))?;
    let numbering = match read_part(&mut archive, "编号定义", "word/numbering.xml", largest)? {
        Some(xml) => Numbering::parse(&xml)?,
        None => Numbering::default(),
    };
    paragraphs(&document, numbering)
}

/// One part of the archive, whole, or `None` if there is none. A part that unpacks to
/// more than `largest` ([`LARGEST_PART`]) refuses the whole file (`what` names it for the person
/// importing): what is cut off would be silently missing, and an XML cut mid-tag would
/// be misreported as broken. The size the archive declares is checked first (a bomb is
/// refused without unpacking it), and the unpacking stops one byte past the limit in
/// case the declared size lies.
fn read_part(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    what: &'static str,
    name: &'static str,
    largest: u64,
) -> Result<Option<String>, ImportError> {
    let file = match archive.by_name(name) {
        Ok(file) => file,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(_) => return Err(ImportError::Docx(format!("无法读取 {name}"))),
    };
    if file.size() > largest {
        return Err(ImportError::PartTooLarge(what, name));
    }
    let mut bytes = Vec::new();
    file.take(largest + 1)
        .read_to_end(&mut bytes)
        .map_err(|_| ImportError::Docx(format!("{name} 已损坏")))?;
    if bytes.len() as u64 > largest {
        return Err(ImportError::PartTooLarge(what, name));
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| ImportError::Docx(format!("{name} 不是 UTF-8 编码的 XML")))
}

fn broken(part: &str) -> ImportError {
    ImportError::Docx(format!("{part} 不是有效的 XML"))
}

/// The value of an attribute by its local name (`w:val` → `val`).
fn attribute(element: &BytesStart<'_>, name: &[u8]) -> Option<String> {
    element
        .attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

/// One level of a numbering definition.
#[derive(Debug, Clone, Default)]
struct Level {
    start: u32,
    format: String,
    text: String,
}

/// `word/numbering.xml`: abstract definitions and the numbering instances using them.
#[derive(Debug, Clone, Default)]
struct Numbering {
    /// Abstract definition id → its levels by `ilvl`.
    abstracts: HashMap<String, HashMap<u8, Level>>,
    /// Instance id (`numId`) → abstract definition id and start overrides by level.
    instances: HashMap<String, (String, HashMap<u8, u32>)>,
}

impl Numbering {
    fn parse(xml: &str) -> Result<Self, ImportError> {
        let mut numbering = Self::default();
        let mut reader = Reader::from_str(xml);
        let mut abstract_id: Option<String> = None;
        let mut level: Option<u8> = None;
        let mut instance: Option<String> = None;
        let mut override_level: Option<u8> = None;
        loop {
            let event = reader.read_event().map_err(|_| broken("numbering.xml"))?;
            let (element, closes) = match &event {
                Event::Start(e) => (e.clone(), false),
                Event::Empty(e) => (e.clone(), true),
                Event::End(e) => {
                    match e.local_name().as_ref() {
                        b"abstractNum" => abstract_id = None,
                        b"lvl" => level = None,
                        b"num" => instance = None,
                        b"lvlOverride" => override_level = None,
                        _ => {}
                    }
                    continue;
                }
                Event::Eof => break,
                _ => continue,
            };
            let val = || attribute(&element, b"val");
            let ilvl = || attribute(&element, b"ilvl").and_then(|v| v.parse::<u8>().ok());
            match element.local_name().as_ref() {
                b"abstractNum" if !closes => abstract_id = attribute(&element, b"abstractNumId"),
                b"lvl" if !closes => level = ilvl(),
                b"num" if !closes => instance = attribute(&element, b"numId"),
                b"lvlOverride" if !closes => override_level = ilvl(),
                b"abstractNumId" => {
                    if let (Some(num), Some(target)) = (&instance, val()) {
                        numbering.instances.entry(num.clone()).or_default().0 = target;
                    }
                }
                b"startOverride" => {
                    if let (Some(num), Some(lvl), Some(start)) = (
                        &instance,
                        override_level,
                        val().and_then(|v| v.parse().ok()),
                    ) {
                        numbering
                            .instances
                            .entry(num.clone())
                            .or_default()
                            .1
                            .insert(lvl, start);
                    }
                }
                name @ (b"start" | b"numFmt" | b"lvlText") => {
                    let (Some(id), Some(lvl)) = (&abstract_id, level) else {
                        continue;
                    };
                    let entry = numbering
                        .abstracts
                        .entry(id.clone())
                        .or_default()
                        .entry(lvl)
                        .or_insert_with(|| Level {
                            start: 1,
                            ..Level::default()
                        });
                    let value = val().unwrap_or_default();
                    match name {
                        b"start" => entry.start = value.parse().unwrap_or(1),
                        b"numFmt" => entry.format = value,
                        _ => entry.text = value,
                    }
                }
                _ => {}
            }
        }
        Ok(numbering)
    }

    fn level(&self, num: &str, ilvl: u8) -> Option<(&Level, Option<u32>)> {
        let (abstract_id, overrides) = self.instances.get(num)?;
        let level = self.abstracts.get(abstract_id)?.get(&ilvl)?;
        Some((level, overrides.get(&ilvl).copied()))
    }
}

/// Counts numbered paragraphs and renders their labels.
#[derive(Debug, Default)]
struct Counters {
    /// numId → the current count at each level.
    counts: HashMap<String, [Option<u32>; 9]>,
}

impl Counters {
    fn label(&mut self, numbering: &Numbering, num: &str, ilvl: u8) -> String {
        let ilvl = ilvl.min(8);
        let Some((level, start_override)) = numbering.level(num, ilvl) else {
            return String::new();
        };
        let counts = self.counts.entry(num.to_string()).or_default();
        let index = usize::from(ilvl);
        counts[index] = Some(match counts[index] {
            Some(n) => n.saturating_add(1),
            None => start_override.unwrap_or(level.start),
        });
        for deeper in counts.iter_mut().skip(index + 1) {
            *deeper = None;
        }
        if matches!(level.format.as_str(), "bullet" | "none") {
            return String::new();
        }
        let mut label = level.text.clone();
        for (i, count) in counts.iter().enumerate().take(index + 1) {
            let placeholder = format!("%{}", i + 1);
            if !label.contains(&placeholder) {
                continue;
            }
            let format = numbering
                .level(num, i as u8)
                .map_or("decimal", |(l, _)| l.format.as_str());
            let start = numbering.level(num, i as u8).map_or(1, |(l, _)| l.start);
            label = label.replace(&placeholder, &render(count.unwrap_or(start), format));
        }
        label
    }
}

/// Writes a count the way Word's number format does.
fn render(n: u32, format: &str) -> String {
    const STEMS: [char; 10] = ['甲', '乙', '丙', '丁', '戊', '己', '庚', '辛', '壬', '癸'];
    match format {
        "chineseCounting"
        | "chineseCountingThousand"
        | "chineseLegalSimplified"
        | "ideographDigital"
        | "taiwaneseCounting"
        | "japaneseCounting"
            if (1..=999).contains(&n) =>
        {
            super::structure::chinese_number(n)
        }
        "ideographTraditional" if (1..=10).contains(&n) => STEMS[n as usize - 1].to_string(),
        "decimalEnclosedCircle" | "decimalEnclosedCircleChinese" if (1..=20).contains(&n) => {
            char::from_u32(0x2460 + n - 1).map_or(n.to_string(), String::from)
        }
        "upperLetter" | "lowerLetter" if (1..=26).contains(&n) => {
            let base = if format == "upperLetter" { b'A' } else { b'a' };
            char::from(base + (n - 1) as u8).to_string()
        }
        "decimalFullWidth" => n
            .to_string()
            .chars()
            .map(|c| char::from_u32(c as u32 - '0' as u32 + 0xff10).unwrap_or(c))
            .collect(),
        _ => n.to_string(),
    }
}

/// The paragraphs of `word/document.xml`.
fn paragraphs(xml: &str, numbering: Numbering) -> Result<String, ImportError> {
    let mut reader = Reader::from_str(xml);
    let mut counters = Counters::default();
    let mut out = String::new();
    let mut paragraph = String::new();
    let mut in_text = false;
    let mut num: Option<String> = None;
    let mut ilvl: u8 = 0;
    loop {
        match reader.read_event().map_err(|_| broken("document.xml"))? {
            Event::Start(e) => match e.local_name().as_ref() {
                b"p" => {
                    paragraph.clear();
                    num = None;
                    ilvl = 0;
                }
                b"t" => in_text = true,
                _ => {}
            },
            Event::Empty(e) => match e.local_name().as_ref() {
                b"numId" => num = attribute(&e, b"val"),
                b"ilvl" => {
                    ilvl = attribute(&e, b"val")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0)
                }
                b"tab" => paragraph.push(' '),
                b"br" | b"cr" => paragraph.push('\n'),
                b"p" => out.push_str("\n\n"),
                _ => {}
            },
            Event::Text(text) if in_text => {
                let text = text.unescape().map_err(|_| broken("document.xml"))?;
                paragraph.push_str(&text);
            }
            Event::End(e) => match e.local_name().as_ref() {
                b"t" => in_text = false,
                b"p" => {
                    let label = match num.as_deref() {
                        Some(id) if id != "0" => counters.label(&numbering, id, ilvl),
                        _ => String::new(),
                    };
                    out.push_str(&label);
                    out.push_str(&paragraph);
                    out.push_str("\n\n");
                    paragraph.clear();
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Write;

    use super::*;

    /// A `.docx` of three numbered parts with `padding` spaces of XML between the first
    /// and the second: the document part unpacks to more than that.
    pub(crate) fn padded(padding: usize) -> Vec<u8> {
        let document = format!(
            "<w:document xmlns:w=\"w\"><w:body>\
             <w:p><w:r><w:t>一、回顾</w:t></w:r></w:p><w:p><w:r><w:t>去年很好。</w:t></w:r></w:p>\
             <w:p><w:r><w:t xml:space=\"preserve\">{}二、任务</w:t></w:r></w:p>\
             <w:p><w:r><w:t>今年更好。</w:t></w:r></w:p>\
             <w:p><w:r><w:t>三、展望</w:t></w:r></w:p><w:p><w:r><w:t>明年更好。</w:t></w:r></w:p>\
             </w:body></w:document>",
            " ".repeat(padding)
        );
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(1))
            .large_file(true);
        zip.start_file("word/document.xml", options).unwrap();
        zip.write_all(document.as_bytes()).unwrap();
        zip.finish().unwrap().into_inner()
    }

    /// Builds a minimal `.docx`: `paragraphs` are `(numId, ilvl, text)`; numId 1 counts
    /// `一、` at level 0 and `（一）` at level 1, numId 2 is a bullet list.
    pub(crate) fn docx(paragraphs: &[(Option<u8>, u8, &str)]) -> Vec<u8> {
        let mut body = String::new();
        for (num, ilvl, text) in paragraphs {
            body.push_str("<w:p>");
            if let Some(num) = num {
                body.push_str(&format!(
                    "<w:pPr><w:numPr><w:ilvl w:val=\"{ilvl}\"/><w:numId w:val=\"{num}\"/></w:numPr></w:pPr>"
                ));
            }
            body.push_str(&format!(
                "<w:r><w:t xml:space=\"preserve\">{}</w:t></w:r></w:p>",
                text.replace('&', "&amp;").replace('<', "&lt;")
            ));
        }
        let document = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
             <w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>{body}</w:body></w:document>"
        );
        let numbering = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
            <w:numbering xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">\
            <w:abstractNum w:abstractNumId=\"0\">\
              <w:lvl w:ilvl=\"0\"><w:start w:val=\"1\"/><w:numFmt w:val=\"chineseCounting\"/><w:lvlText w:val=\"%1、\"/></w:lvl>\
              <w:lvl w:ilvl=\"1\"><w:start w:val=\"1\"/><w:numFmt w:val=\"chineseCounting\"/><w:lvlText w:val=\"（%2）\"/></w:lvl>\
            </w:abstractNum>\
            <w:abstractNum w:abstractNumId=\"1\">\
              <w:lvl w:ilvl=\"0\"><w:start w:val=\"1\"/><w:numFmt w:val=\"bullet\"/><w:lvlText w:val=\"•\"/></w:lvl>\
            </w:abstractNum>\
            <w:num w:numId=\"1\"><w:abstractNumId w:val=\"0\"/></w:num>\
            <w:num w:numId=\"2\"><w:abstractNumId w:val=\"1\"/></w:num>\
            </w:numbering>";
        let types = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
            <Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
            <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
            <Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>\
            </Types>";
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, content) in [
            ("[Content_Types].xml", types),
            ("word/document.xml", document.as_str()),
            ("word/numbering.xml", numbering),
        ] {
            zip.start_file(name, options).unwrap();
            zip.write_all(content.as_bytes()).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    #[test]
    fn automatic_numbering_is_rendered() {
        let bytes = docx(&[
            (None, 0, "工作报告"),
            (Some(1), 0, "过去一年的工作"),
            (Some(1), 1, "经济平稳运行"),
            (Some(1), 1, "民生持续改善"),
            (Some(2), 0, "一个要点"),
            (Some(1), 0, "今年的任务"),
            (Some(1), 1, "稳增长"),
        ]);
        let text = text(&bytes).unwrap();
        let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
        assert_eq!(
            lines,
            [
                "工作报告",
                "一、过去一年的工作",
                "（一）经济平稳运行",
                "（二）民生持续改善",
                "一个要点",
                "二、今年的任务",
                "（一）稳增长"
            ]
        );
    }

    #[test]
    fn a_part_past_the_cap_refuses_the_whole_file() {
        // The cap falls in the middle of the text of one `<w:t>`: once the document
        // was cut there, and imported as one part (or refused as broken XML).
        let file = padded(100_000);
        let whole = text_within(&file, 200_000).unwrap();
        assert!(whole.contains("三、展望"), "{whole}");
        assert_eq!(
            text_within(&file, 50_000),
            Err(ImportError::PartTooLarge("正文", "word/document.xml"))
        );
        assert_eq!(
            text_within(&file, 50_000).unwrap_err().to_string(),
            "正文（word/document.xml）解压后超过 64 MB，不像一篇讲话或报告：请只保留文字，另存为 .docx 或 .txt 后再导入。"
        );
    }

    #[test]
    fn malformed_files_are_refused() {
        assert!(matches!(
            text(b"PK\x03\x04 not really"),
            Err(ImportError::Docx(_))
        ));
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        zip.start_file("hello.txt", zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(b"hi").unwrap();
        let bytes = zip.finish().unwrap().into_inner();
        assert!(matches!(text(&bytes), Err(ImportError::Docx(m)) if m.contains("document.xml")));
    }
}
