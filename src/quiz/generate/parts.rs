//! Questions from the part headings and point titles: which part a point belongs to,
//! the order of the parts, and pairs of a part and its second phrase.

use super::*;

/// Which part, order, and pairs: all from the part headings and point titles.
pub(super) fn part_questions(document: &Document, rng: &mut impl Rng, out: &mut Vec<Question>) {
    pub(super) fn title(section: &Section) -> &str {
        &section.title
    }
    pub(super) fn phrase(section: &Section) -> &str {
        &section.phrase
    }
    let parts: Vec<&Section> = document.parts().collect();
    let unique = |pick: fn(&Section) -> &str, value: &str| {
        parts.iter().filter(|p| pick(p) == value).count() == 1
    };
    let others = |pick: fn(&Section) -> &str, correct: &str, rng: &mut _| {
        let mut others: Vec<String> = parts
            .iter()
            .map(|p| pick(p).to_string())
            .filter(|o| o != correct && !o.is_empty())
            .collect();
        others.shuffle(rng);
        others
    };

    for part in &parts {
        let numeral = chinese_numeral(part.id.part);
        if !unique(title, &part.title) {
            continue;
        }
        for point in document.points(part.id.part) {
            let elsewhere = document
                .sections
                .iter()
                .filter(|s| s.id.is_point() && s.title == point.title)
                .count();
            if elsewhere != 1 {
                continue;
            }
            let others = others(title, &part.title, rng);
            let Some(options) = options(&part.title, &others, rng) else {
                continue;
            };
            let explanation = format!(
                "“{}”是第{numeral}部分“{}”的第{}点。",
                point.title,
                part.title,
                chinese_numeral(point.id.point)
            );
            let text = format!("“{}”{WHICH_PART_SUFFIX}", point.title);
            out.push(question(
                QuestionKind::WhichPart,
                point.id,
                text,
                options,
                &explanation,
            ));
        }
        let heading = if part.phrase.is_empty() {
            part.title.clone()
        } else {
            format!("{}，{}", part.title, part.phrase)
        };
        let others_titles = others(title, &part.title, rng);
        if let Some(options) = options(&part.title, &others_titles, rng) {
            let text = format!("全文共{}个部分，第{numeral}部分是？", parts.len());
            let explanation = format!("全文的第{numeral}部分是“{heading}”。");
            out.push(question(
                QuestionKind::Order,
                part.id,
                text,
                options,
                &explanation,
            ));
        }
        if part.phrase.is_empty() || !unique(phrase, &part.phrase) {
            continue;
        }
        let explanation = format!("第{numeral}部分的标题是“{heading}”。");
        let others_phrases = others(phrase, &part.phrase, rng);
        if let Some(options) = options(&part.phrase, &others_phrases, rng) {
            let text = format!("“{}”的下一句是？", part.title);
            out.push(question(
                QuestionKind::PairPhrase,
                part.id,
                text,
                options,
                &explanation,
            ));
        }
        let others_titles = others(title, &part.title, rng);
        if let Some(options) = options(&part.title, &others_titles, rng) {
            let text = format!("“{}”的上一句是？", part.phrase);
            out.push(question(
                QuestionKind::PairPart,
                part.id,
                text,
                options,
                &explanation,
            ));
        }
    }
}
