//! The importer against the seed (the acceptance test) and the shapes real files take.

use std::path::PathBuf;

use super::*;
use crate::text::{Section, parse_document};

/// The sections without their data-file line numbers, for comparing.
fn shape(document: &Document) -> Vec<Section> {
    document
        .sections
        .iter()
        .map(|s| Section {
            line: 0,
            ..s.clone()
        })
        .collect()
}

fn import_text(text: &str) -> Imported {
    import(text.as_bytes(), FileKind::Text, "test.txt").unwrap()
}

/// Exports the data-file form and parses it back: the same sections.
fn round_trips(imported: &Imported) {
    let file = data_file(&imported.document, "test.txt");
    let parsed = parse_document("imported.md", &file).unwrap_or_else(|e| panic!("{e}\n{file}"));
    assert_eq!(shape(&parsed), shape(&imported.document), "{file}");
    assert_eq!(parsed.title, imported.document.title);
    assert_eq!(parsed.id, imported.document.id);
}

fn seed_path() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let path = root.join("../shared/seeds/000_f2cd3f3992885587.txt");
    path.exists().then_some(path)
}

#[test]
fn the_seed_imports_as_the_shipped_text() {
    let Some(path) = seed_path() else {
        eprintln!("skipped: ../shared/seeds/000_f2cd3f3992885587.txt is not beside the checkout");
        return;
    };
    let bytes = std::fs::read(&path).unwrap();
    let imported = import(&bytes, FileKind::Text, "000_f2cd3f3992885587.txt").unwrap();
    let shipped = parse_document("xzsj.md", include_str!("../../../data/texts/xzsj.md")).unwrap();
    let document = &imported.document;
    assert_eq!(document.title, shipped.title);
    assert_eq!(document.occasion, shipped.occasion);
    let (got, want) = (shape(document), shape(&shipped));
    for (got, want) in got.iter().zip(&want) {
        assert_eq!(got, want, "section {}", want.id);
    }
    assert_eq!(got.len(), want.len());
    // None of the page's debris, and every piece of it listed.
    let dropped: Vec<&str> = imported
        .report
        .dropped
        .iter()
        .map(|d| d.text.as_str())
        .collect();
    assert_eq!(dropped.len(), 4, "{dropped:?}");
    assert!(
        dropped[0] == "……" && dropped[1].contains("省略877字"),
        "{dropped:?}"
    );
    assert!(
        dropped[2].contains("未完") && dropped[3].starts_with("收藏《"),
        "{dropped:?}"
    );
    assert_eq!(imported.report.outline, Some((1, 21)));
    round_trips(&imported);
}

#[test]
fn a_report_with_parts_and_points() {
    let report = "\u{feff}政府工作报告\r\n——2024年3月5日在第十四届全国人民代表大会第二次会议上\r\n\r\n各位代表：\r\n\u{3000}\u{3000}现在，我代表国务院，向大会报告政府工作，请予审议。\r\n\
一、2023年工作回顾\r\n过去一年是全面贯彻党的二十大精神的开局之年。\r\n（一）经济总体回升向好。国内生产总值超过126万亿元，\r\n增长5.2%。\r\n\
（二）科技创新实现新突破。\r\n基础研究和原始创新不断加强。\r\n二、2024年经济社会发展总体要求和政策取向\r\n（一）总体要求\r\n坚持稳中求进工作总基调。\r\n";
    let imported = import_text(report);
    let d = &imported.document;
    assert_eq!(d.title, "政府工作报告");
    assert_eq!(
        d.occasion,
        "2024年3月5日在第十四届全国人民代表大会第二次会议上"
    );
    let heads: Vec<(String, &str, Completeness)> = d
        .sections
        .iter()
        .map(|s| (s.id.to_string(), s.title.as_str(), s.completeness))
        .collect();
    assert_eq!(
        heads,
        [
            ("0".to_string(), "开场", Completeness::Full),
            ("1".into(), "2023年工作回顾", Completeness::Full),
            ("1.1".into(), "经济总体回升向好", Completeness::Full),
            ("1.2".into(), "科技创新实现新突破", Completeness::Full),
            (
                "2".into(),
                "2024年经济社会发展总体要求和政策取向",
                Completeness::TitleOnly
            ),
            ("2.1".into(), "总体要求", Completeness::Full),
        ]
    );
    assert_eq!(
        d.section(SectionId::point(1, 1)).unwrap().blocks,
        [Block::Paragraph(
            "国内生产总值超过126万亿元，增长5.2%。".into()
        )]
    );
    assert_eq!(
        d.sections[0].blocks,
        [
            Block::Paragraph("各位代表：".into()),
            Block::Paragraph("现在，我代表国务院，向大会报告政府工作，请予审议。".into())
        ]
    );
    assert!(imported.report.dropped.is_empty());
    round_trips(&imported);
}

#[test]
fn a_truncated_copy_is_partial_with_a_gap() {
    let text = "关于加强基层治理的几点思考\n一、提高认识\n基层治理是基础。要把它摆在突出位置。\n二、抓好落实\n要建立清单，明确责任，做到\n全文共5000字，当前仅显示800字，请登录后查看全文\n";
    let imported = import_text(text);
    let d = &imported.document;
    let part2 = d.section(SectionId::part(2)).unwrap();
    assert_eq!(part2.completeness, Completeness::Partial);
    assert_eq!(
        part2.blocks,
        [
            Block::Paragraph("要建立清单，明确责任，做到".into()),
            Block::Gap
        ]
    );
    assert_eq!(
        d.section(SectionId::part(1)).unwrap().completeness,
        Completeness::Full
    );
    assert!(
        d.section(SectionId::OPENING).is_none(),
        "no opening text, no opening"
    );
    assert_eq!(imported.report.dropped.len(), 1);
    assert_eq!(imported.report.dropped[0].kind, DebrisKind::Cut);
    assert!(!d.note.is_empty());
    round_trips(&imported);
}

#[test]
fn a_chapter_study_note() {
    let text = "学习笔记\n\n第一章 总则\n\n一、学习的意义\n学习使人进步。\n\n二、学习的方法\n要读原文、悟原理。\n\n第二章\n实践要求\n1. 知行合一\n2. 学以致用\n";
    let imported = import_text(text);
    let d = &imported.document;
    assert_eq!(imported.report.levels.0, "第一部分/第一章");
    let titles: Vec<(String, &str)> = d
        .sections
        .iter()
        .map(|s| (s.id.to_string(), s.title.as_str()))
        .collect();
    assert_eq!(
        titles,
        [
            ("1".to_string(), "总则"),
            ("1.1".into(), "学习的意义"),
            ("1.2".into(), "学习的方法"),
            ("2".into(), "实践要求"),
        ]
    );
    // 1. lines are a level below the points: they stay text.
    assert_eq!(
        d.section(SectionId::part(2)).unwrap().blocks,
        [
            Block::Paragraph("1. 知行合一".into()),
            Block::Paragraph("2. 学以致用".into())
        ]
    );
    round_trips(&imported);
}

#[test]
fn a_gbk_file() {
    let text = "在全县干部大会上的讲话\r\n同志们：\r\n今天开个会。\r\n一、统一思想\r\n第一，提高站位。要看清形势。第二，保持定力。不折腾。\r\n二、狠抓落实\r\n要真抓实干。\r\n";
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
    assert!(!unmappable);
    let imported = import(&bytes, FileKind::Text, "讲话.txt").unwrap();
    let d = &imported.document;
    assert_eq!(imported.report.format, "GB18030/GBK");
    assert_eq!(d.title, "在全县干部大会上的讲话");
    assert_eq!(d.occasion, "全县干部大会");
    assert!(d.id.starts_with("text-"), "{}", d.id);
    assert_eq!(d.section(SectionId::point(1, 2)).unwrap().title, "保持定力");
    assert_eq!(
        d.section(SectionId::point(1, 1)).unwrap().blocks,
        [Block::Paragraph("要看清形势。".into())]
    );
    assert_eq!(d.section(SectionId::part(2)).unwrap().title, "狠抓落实");
    round_trips(&imported);
}

#[test]
fn a_docx_with_automatic_numbering() {
    let bytes = docx::tests::docx(&[
        (None, 0, "关于乡村振兴的调研报告"),
        (None, 0, "今年以来，我们开展了专题调研。"),
        (Some(1), 0, "基本情况"),
        (Some(1), 1, "产业发展"),
        (None, 0, "特色产业不断壮大。"),
        (Some(1), 1, "人才队伍"),
        (None, 0, "人才短板依然突出"),
        (Some(1), 0, "对策建议"),
        (None, 0, "要久久为功。"),
    ]);
    let imported = import(
        &bytes,
        FileKind::from_name("调研报告.DOCX"),
        "调研报告.docx",
    )
    .unwrap();
    let d = &imported.document;
    assert_eq!(imported.report.format, "docx");
    assert_eq!(d.title, "关于乡村振兴的调研报告");
    let titles: Vec<(String, &str)> = d
        .sections
        .iter()
        .map(|s| (s.id.to_string(), s.title.as_str()))
        .collect();
    assert_eq!(
        titles,
        [
            ("0".to_string(), "开场"),
            ("1".into(), "基本情况"),
            ("1.1".into(), "产业发展"),
            ("1.2".into(), "人才队伍"),
            ("2".into(), "对策建议"),
        ]
    );
    // Word's paragraphs stay paragraphs, even without a full stop.
    assert_eq!(
        d.section(SectionId::point(1, 2)).unwrap().blocks,
        [Block::Paragraph("人才短板依然突出".into())]
    );
    round_trips(&imported);
}

#[test]
fn a_news_page_keeps_only_the_speech() {
    let page = "新华网\n首页 | 时政 | 国际 | 财经 | 评论\n当前位置：首页 > 时政\n\
在全省经济工作会议上的讲话\n2024-12-20 10:30:00　来源：新华社\n\
新华社记者 张三 摄\n同志们：\n这次会议的任务是部署明年工作。\n\
一、明年工作的总体要求\n要坚持稳中求进。\n（一）稳增长\n稳住经济大盘。\n（二）促改革\n深化重点领域改革。\n\
二、重点任务\n抓好以下工作。\n【我要纠错】 责任编辑：李四\n扫一扫在手机打开当前页\n相关稿件\n\
·习近平主持召开会议\n京ICP备05070218号 版权所有 新华网\n";
    let imported = import_text(page);
    let d = &imported.document;
    assert_eq!(d.title, "在全省经济工作会议上的讲话");
    let text: String = d
        .sections
        .iter()
        .flat_map(|s| s.paragraphs().map(str::to_string).collect::<Vec<_>>())
        .collect();
    for debris in [
        "新华网",
        "来源",
        "记者",
        "纠错",
        "扫一扫",
        "相关稿件",
        "ICP",
        "首页",
    ] {
        assert!(!text.contains(debris), "{debris} in {text}");
    }
    assert_eq!(d.section(SectionId::point(1, 2)).unwrap().title, "促改革");
    assert_eq!(
        d.section(SectionId::part(2)).unwrap().blocks,
        [Block::Paragraph("抓好以下工作。".into())]
    );
    assert!(
        imported.report.dropped.len() >= 9,
        "{:?}",
        imported.report.dropped
    );
    assert!(
        d.sections
            .iter()
            .all(|s| s.completeness == Completeness::Full)
    );
    round_trips(&imported);
}

#[test]
fn bad_files_are_refused_with_their_reason() {
    let error =
        |bytes: &[u8], name: &str| import(bytes, FileKind::from_name(name), name).unwrap_err();
    assert_eq!(error(b"", "a.txt"), ImportError::Empty);
    assert_eq!(error(b" \n\r\n ", "a.txt"), ImportError::Empty);
    assert_eq!(
        error(&[0x7f, b'E', b'L', b'F', 0, 1, 2], "a.txt"),
        ImportError::Binary
    );
    assert_eq!(
        error(b"%PDF-1.7 ...", "a.pdf"),
        ImportError::Unsupported("PDF 文件")
    );
    assert!(matches!(
        error(b"not a zip", "a.docx"),
        ImportError::Docx(_)
    ));
    assert_eq!(
        error("只是一段话，没有任何标题。\n第二段话。".as_bytes(), "a.txt"),
        ImportError::NoStructure
    );
    let huge = "一、标题\n".to_string() + &"很长的文字。".repeat(200_000);
    assert_eq!(
        error(huge.as_bytes(), "a.txt"),
        ImportError::TextTooLong(1_200_005)
    );
    for e in [
        ImportError::Empty,
        ImportError::Binary,
        ImportError::NoStructure,
    ] {
        assert!(
            e.to_string()
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
        );
    }
}

#[test]
fn slugs_are_short_ascii() {
    assert_eq!(slug("Report 2024 (final)", "x"), "report-2024-final");
    assert_eq!(slug("000_f2cd3f3992885587", "x"), "000_f2cd3f3992885587");
    assert!(slug("政府工作报告", "x").starts_with("text-"));
    assert!(slug(&"a".repeat(100), "x").len() <= 24);
}

#[test]
fn sentence_lines_rejoin_exactly() {
    for text in [
        "甲。乙！丙？丁",
        "他说：“好。”然后走了。",
        "A. B。 C",
        "结尾。",
    ] {
        assert_eq!(sentence_lines(text).concat(), text);
        assert!(sentence_lines(text).iter().all(|l| l.trim() == *l));
    }
}

#[test]
fn markup_in_the_input_cannot_break_the_data_file() {
    let imported = import_text(
        "标题\n#两会#\n一、甲|乙\n正文。\n[gap]\n<!-- 注释 -->\n二、丙\n要点是“#一”。\n",
    );
    let d = &imported.document;
    assert_eq!(d.section(SectionId::part(1)).unwrap().title, "甲｜乙");
    assert_eq!(
        d.section(SectionId::part(1)).unwrap().blocks,
        [Block::Paragraph("正文。".into())]
    );
    assert_eq!(
        imported.report.dropped.len(),
        3,
        "{:?}",
        imported.report.dropped
    );
    round_trips(&imported);
}

#[test]
fn an_outline_without_a_heading_line_and_a_speakers_name() {
    let text = "2024年3月5日\n政府工作报告\n——在人民代表大会上\n国务院总理 李强\n\n一、工作回顾\n（一）经济\n（二）民生\n二、今年任务\n\n各位代表：\n现在我作报告。\n一、工作回顾\n过去一年很不平凡。\n（一）经济\n经济回升向好。\n（三）生态\n生态更美。\n二、今年任务\n要稳中求进。\n";
    let imported = import_text(text);
    let d = &imported.document;
    assert_eq!(d.title, "政府工作报告");
    assert_eq!(imported.report.outline, Some((6, 9)));
    assert_eq!(
        d.sections[0].blocks,
        [
            Block::Paragraph("2024年3月5日".into()),
            Block::Paragraph("国务院总理 李强".into()),
            Block::Paragraph("各位代表：".into()),
            Block::Paragraph("现在我作报告。".into()),
        ]
    );
    let heads: Vec<(String, &str, Completeness)> = d
        .sections
        .iter()
        .map(|s| (s.id.to_string(), s.title.as_str(), s.completeness))
        .collect();
    assert_eq!(
        heads,
        [
            ("0".to_string(), "开场", Completeness::Full),
            ("1".into(), "工作回顾", Completeness::Full),
            ("1.1".into(), "经济", Completeness::Full),
            ("1.2".into(), "民生", Completeness::TitleOnly),
            ("1.3".into(), "生态", Completeness::Full),
            ("2".into(), "今年任务", Completeness::Full),
        ]
    );
    round_trips(&imported);
}

#[test]
fn markdown_headings_and_data_files() {
    let imported = import_text(
        "# 学习笔记\n\n## 一、学习的意义\n学习使人进步。\n\n**二、学习的方法**\n要读原文。\n",
    );
    let d = &imported.document;
    assert_eq!(d.title, "学习笔记");
    assert_eq!(d.section(SectionId::part(1)).unwrap().title, "学习的意义");
    assert_eq!(d.section(SectionId::part(2)).unwrap().title, "学习的方法");
    // The data-file form imports as itself.
    let file = data_file(d, "notes.md");
    let again = import(file.as_bytes(), FileKind::Text, "notes.md").unwrap();
    assert_eq!(shape(&again.document), shape(d));
    assert_eq!(again.document.title, d.title);
}

#[test]
fn an_edited_data_file_is_refused_for_what_check_names() {
    let d =
        import_text("工作报告\n一、回顾\n去年很好。\n二、任务\n今年更好。\n三、展望\n明年更好。\n")
            .document;
    let file = data_file(&d, "r.txt");
    let wrong_count = file.replace("parts: 3", "parts: 4");
    let expected = parse_document("r.md", &wrong_count).unwrap_err();
    assert_eq!(
        import(wrong_count.as_bytes(), FileKind::Text, "r.md").unwrap_err(),
        ImportError::DataFile(expected.clone())
    );
    assert!(expected.to_string().starts_with("r.md:"), "{expected}");
    let bad_id = file.replace(&format!("id: {}", d.id), "id: 报告");
    let error = import(bad_id.as_bytes(), FileKind::Text, "r.md").unwrap_err();
    assert!(error.to_string().contains("r.md:3: id must be"), "{error}");
}

#[test]
fn numbering_past_ninety_nine_is_read_and_refused_by_its_heading() {
    use super::structure::chinese_number;
    for n in [1, 9, 10, 12, 20, 99, 100, 101, 110, 120, 123, 999] {
        assert_eq!(
            super::structure::tests::read_numeral(&format!("{}、", chinese_number(n))),
            Some(n),
            "{}",
            chinese_number(n)
        );
    }
    let list = |label: &dyn Fn(u32) -> String| {
        let mut text = "清单\n".to_string();
        for n in 1..=101 {
            text.push_str(&format!("{}标题{n}\n第{n}条的内容。\n", label(n)));
        }
        text
    };
    for text in [
        list(&|n| format!("{}、", chinese_number(n))),
        list(&|n| format!("{n}. ")),
    ] {
        let error = import(text.as_bytes(), FileKind::Text, "list.txt").unwrap_err();
        assert_eq!(
            error,
            ImportError::TooManySections {
                line: 200,
                heading: "标题100".into(),
                what: "部分"
            },
            "{}",
            &text[..40]
        );
        assert!(
            error
                .to_string()
                .starts_with("第 200 行的“标题100”是第 100 个部分")
        );
    }
}

#[test]
fn invisible_characters_never_make_a_title() {
    let imported = import_text(
        "\u{202e}\u{200f}\n工作\u{202e}报告\n一、\u{202e}\u{2066}\n去年很好。\n二、任务\u{200e}\n今年更好。\n",
    );
    let d = &imported.document;
    assert_eq!(d.title, "工作报告");
    for section in &d.sections {
        assert!(
            !section.title.is_empty() && !section.title.chars().any(is_invisible),
            "{:?}",
            section.title
        );
    }
    // A heading of invisible characters only: its marker is its title.
    assert_eq!(d.section(SectionId::part(1)).unwrap().title, "一、");
    assert_eq!(d.section(SectionId::part(2)).unwrap().title, "任务");
    // A data file whose title is made of them only is refused as `check` would.
    let file = data_file(d, "r.txt").replace("title: 工作报告", "title: \u{202e}\u{200b}");
    assert!(matches!(
        import(file.as_bytes(), FileKind::Text, "r.md"),
        Err(ImportError::DataFile(e)) if e.message == "title is empty"
    ));
}

#[test]
fn a_gbk_text_too_long_is_measured_in_characters() {
    let text = "一、标题\n".to_string() + &"字".repeat(LONGEST_TEXT);
    let (gbk, _, _) = encoding_rs::GBK.encode(&text);
    let error = import(&gbk, FileKind::Text, "a.txt").unwrap_err();
    assert_eq!(error, ImportError::TextTooLong(LONGEST_TEXT + 5));
    assert!(
        error
            .to_string()
            .starts_with("文字有 1,000,005 字，超过 1,000,000 字的上限"),
        "{error}"
    );
}

#[test]
fn reads_stop_one_byte_past_the_limit() {
    let endless = std::io::repeat(b'a');
    assert_eq!(
        read_limited(endless, None).unwrap(),
        Err(ImportError::FileTooLarge(None))
    );
    let small = read_limited(&b"abc"[..], Some(3)).unwrap().unwrap();
    assert_eq!(small, b"abc");
    assert!(
        ImportError::FileTooLarge(Some(31 << 20))
            .to_string()
            .starts_with("文件有 31.0 MB，超过 20 MB 的上限")
    );
}
