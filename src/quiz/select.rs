//! Choosing questions: the questions of one quiz, and the daily question.

use std::collections::{BTreeMap, HashSet, VecDeque};

use rand::Rng;
use rand::seq::{IndexedRandom, SliceRandom};

use super::Question;
use crate::text::SectionId;

/// Picks `n` distinct questions (fewer if the bank is smaller), covering different
/// parts where possible: parts take turns (the opening address, part 0,
/// comes last in each turn) and within a part an unused section is preferred.
/// The options of each picked question are shuffled.
pub fn pick(questions: &[Question], n: usize, rng: &mut impl Rng) -> Vec<Question> {
    let mut order: Vec<usize> = (0..questions.len()).collect();
    order.shuffle(rng);
    let mut groups: BTreeMap<u8, VecDeque<usize>> = BTreeMap::new();
    for index in order {
        groups
            .entry(questions[index].part)
            .or_default()
            .push_back(index);
    }
    let mut parts: Vec<u8> = groups.keys().copied().filter(|p| *p != 0).collect();
    parts.shuffle(rng);
    if groups.contains_key(&0) {
        parts.push(0);
    }
    let mut chosen: Vec<usize> = Vec::new();
    let mut texts: HashSet<&str> = HashSet::new();
    let mut sections: HashSet<SectionId> = HashSet::new();
    while chosen.len() < n && groups.values().any(|group| !group.is_empty()) {
        for part in &parts {
            if chosen.len() == n {
                break;
            }
            let Some(group) = groups.get_mut(part) else {
                continue;
            };
            group.retain(|index| !texts.contains(questions[*index].text.as_str()));
            let position = group
                .iter()
                .position(|index| !sections.contains(&questions[*index].section))
                .or(if group.is_empty() { None } else { Some(0) });
            let Some(index) = position.and_then(|position| group.remove(position)) else {
                continue;
            };
            texts.insert(&questions[index].text);
            sections.insert(questions[index].section);
            chosen.push(index);
        }
    }
    chosen
        .into_iter()
        .map(|index| {
            let mut question = questions[index].clone();
            question.shuffle_options(rng);
            question
        })
        .collect()
}

/// The daily question after reading `section`: one about that section when the bank
/// has one, else one from its part (the opening counts as part 0), else none.
/// Its options are shuffled.
pub fn for_section(
    questions: &[Question],
    section: SectionId,
    rng: &mut impl Rng,
) -> Option<Question> {
    let about: Vec<&Question> = questions.iter().filter(|q| q.section == section).collect();
    let candidates = if about.is_empty() {
        questions
            .iter()
            .filter(|q| q.part == section.part)
            .collect()
    } else {
        about
    };
    let mut question = (*candidates.choose(rng)?).clone();
    question.shuffle_options(rng);
    Some(question)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;
    use crate::quiz::generate;
    use crate::text::parse_document;

    fn bank() -> Vec<Question> {
        let document = parse_document("xzsj.md", include_str!("../../data/texts/xzsj.md")).unwrap();
        generate(&document, &mut StdRng::seed_from_u64(0))
    }

    #[test]
    fn picks_cover_different_principles() {
        let bank = bank();
        for seed in 0..50 {
            let mut rng = StdRng::seed_from_u64(seed);
            let picked = pick(&bank, 5, &mut rng);
            assert_eq!(picked.len(), 5);
            let parts: HashSet<u8> = picked.iter().map(|q| q.part).collect();
            assert_eq!(parts, HashSet::from([1, 2, 3, 4, 5]), "seed {seed}");
            let ten = pick(&bank, 10, &mut rng);
            let texts: HashSet<&str> = ten.iter().map(|q| q.text.as_str()).collect();
            assert_eq!(texts.len(), 10);
            let sections: HashSet<SectionId> = ten.iter().map(|q| q.section).collect();
            assert_eq!(
                sections.len(),
                10,
                "seed {seed}: sections repeat while others are unused"
            );
        }
    }

    #[test]
    fn small_banks_and_zero() {
        let bank = bank();
        let mut rng = StdRng::seed_from_u64(1);
        assert!(pick(&bank, 0, &mut rng).is_empty());
        assert!(pick(&[], 5, &mut rng).is_empty());
        assert_eq!(pick(&bank[..3], 10, &mut rng).len(), 3);
        assert_eq!(pick(&bank, 10_000, &mut rng).len(), bank.len());
    }

    #[test]
    fn picking_is_deterministic_per_seed() {
        let bank = bank();
        let a = pick(&bank, 5, &mut StdRng::seed_from_u64(9));
        let b = pick(&bank, 5, &mut StdRng::seed_from_u64(9));
        assert_eq!(a, b);
    }

    #[test]
    fn daily_question_follows_the_section() {
        let bank = bank();
        let mut rng = StdRng::seed_from_u64(2);
        for _ in 0..20 {
            assert_eq!(
                for_section(&bank, SectionId::point(2, 2), &mut rng)
                    .unwrap()
                    .section,
                SectionId::point(2, 2)
            );
            assert_eq!(
                for_section(&bank, SectionId::OPENING, &mut rng)
                    .unwrap()
                    .part,
                0
            );
        }
        // A bank without questions on 5.2 falls back to part 5.
        let without: Vec<Question> = bank
            .iter()
            .filter(|q| q.section != SectionId::point(5, 2))
            .cloned()
            .collect();
        assert_eq!(
            for_section(&without, SectionId::point(5, 2), &mut rng)
                .unwrap()
                .part,
            5
        );
        assert_eq!(
            for_section(&without, SectionId::point(9, 1), &mut rng),
            None
        );
    }
}
