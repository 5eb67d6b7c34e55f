use super::*;

/// The value of the numeral a heading starts with (for the importer's tests).
pub(crate) fn read_numeral(s: &str) -> Option<u32> {
    numeral(s).map(|(n, _)| n)
}

#[test]
fn numerals() {
    assert_eq!(numeral("一、"), Some((1, 3)));
    assert_eq!(numeral("十、"), Some((10, 3)));
    assert_eq!(numeral("十二、"), Some((12, 6)));
    assert_eq!(numeral("二十、"), Some((20, 6)));
    assert_eq!(numeral("二十一是"), Some((21, 9)));
    // A year reads as its first digit only; no marker follows it (二〇二四年).
    assert_eq!(numeral("二〇二四年"), Some((2, 3)));
    assert_eq!(numeral("是"), None);
}

#[test]
fn markers() {
    fn kind(line: &str) -> Option<(Kind, u32, &str)> {
        line_marker(line).map(|m| (m.kind, m.number, m.rest))
    }
    assert_eq!(
        kind("一、铸牢政治之魂"),
        Some((Kind::Enumerated, 1, "铸牢政治之魂"))
    );
    assert_eq!(
        kind("（三）加强党建"),
        Some((Kind::Parenthesised, 3, "加强党建"))
    );
    assert_eq!(
        kind("(十二) 加强党建"),
        Some((Kind::Parenthesised, 12, "加强党建"))
    );
    assert_eq!(
        kind("第二部分 工作回顾"),
        Some((Kind::Chapter, 2, "工作回顾"))
    );
    assert_eq!(kind("第三章　总则"), Some((Kind::Chapter, 3, "总则")));
    assert_eq!(kind("第一节 概述"), Some((Kind::Section, 1, "概述")));
    assert_eq!(kind("2．做好工作"), Some((Kind::Arabic, 2, "做好工作")));
    assert_eq!(kind("1.5亿元"), None);
    assert_eq!(kind("2024年"), None);
    assert_eq!(kind("一是以学立身"), Some((Kind::Run, 1, "以学立身")));
    assert_eq!(kind("第二，加强"), Some((Kind::Run, 2, "加强")));
    assert_eq!(kind("一是，"), None);
    assert_eq!(kind("同志们："), None);
}

#[test]
fn runs_start_sentences() {
    let text = "有力量。一是以学立身筑牢忠诚根基。忠诚不是喊出来的；二是不算。";
    let runs = run_markers(text);
    assert_eq!(runs.len(), 1);
    assert_eq!(&text[runs[0].2..runs[0].2 + 3], "以");
}

#[test]
fn occasions() {
    assert_eq!(
        occasion_in_title("习近平在中央经济工作会议上的讲话").as_deref(),
        Some("中央经济工作会议")
    );
    assert_eq!(occasion_in_title("政府工作报告"), None);
}

#[test]
fn titles() {
    assert_eq!(
        title_of("以学立身筑牢忠诚根基。忠诚不是"),
        ("以学立身筑牢忠诚根基".into(), "忠诚不是")
    );
    assert_eq!(
        title_of("因地制宜美环境,良好的人居环境是群众的期盼,也是发展的优势。改善"),
        (
            "因地制宜美环境".into(),
            "良好的人居环境是群众的期盼,也是发展的优势。改善"
        )
    );
    assert_eq!(
        part_title_and_phrase("铸牢政治之魂,把准前行方向"),
        ("铸牢政治之魂".into(), "把准前行方向".into())
    );
    assert_eq!(
        part_title_and_phrase("坚持党的领导"),
        ("坚持党的领导".into(), String::new())
    );
}

#[test]
fn wrapped_lines_are_joined_and_paragraphs_kept() {
    let found = structure(
        "标题\n同志们：\n今天我们在这里召开全市干部大会，主要任务\n是部署工作。\n\n一、第一部分\n正文一。\nEnglish\nwords here.\n",
        "x",
    )
    .unwrap();
    let opening = &found.sections[0];
    assert_eq!(
        opening.blocks,
        vec![
            Block::Paragraph("同志们：".into()),
            Block::Paragraph("今天我们在这里召开全市干部大会，主要任务是部署工作。".into())
        ]
    );
    assert_eq!(
        found.sections[1].blocks,
        vec![
            Block::Paragraph("正文一。".into()),
            Block::Paragraph("English words here.".into())
        ]
    );
}
