//! Metaphor cloze: a phrase the text puts in “ ” quotes blanked in its own sentence,
//! with the quote scanner and the pool of distractor phrases.

use super::*;

pub(super) struct Quoted<'a> {
    pub(super) section: &'a Section,
    pub(super) sentence: &'a str,
    /// Byte range of the phrase inside `sentence`, without the quotes.
    pub(super) range: std::ops::Range<usize>,
    /// Whether the sentence is whole (not cut by a gap), so it may be blanked.
    pub(super) usable: bool,
}

impl<'a> Quoted<'a> {
    pub(super) fn phrase(&self) -> &'a str {
        &self.sentence[self.range.clone()]
    }

    /// The sentence with this phrase replaced.
    pub(super) fn filled(&self, word: &str) -> String {
        format!(
            "{}{word}{}",
            &self.sentence[..self.range.start],
            &self.sentence[self.range.end..]
        )
    }

    /// Whether this sentence, with the phrase quoted at `place` in the blank, is the text
    /// around `place`: whether the text says it with that phrase too.
    ///
    /// The same as searching every paragraph for `self.filled(phrase)`: the blank lies
    /// between the sentence's own “ and ”, and a quoted phrase holds no quote mark, so
    /// wherever the filled sentence stands, its phrase is quoted there.
    pub(super) fn is_said_at(&self, place: &Quoting) -> bool {
        let (before, after) = (
            &self.sentence[..self.range.start],
            &self.sentence[self.range.end..],
        );
        place.paragraph[..place.range.start].ends_with(before)
            && place.paragraph[place.range.end..].starts_with(after)
    }

    /// Up to [`LEAD_CHARS`] ideographs before the quote group this phrase is in (for
    /// 领头雁 in 作为“一线指挥官”“领头雁”, that is 作为).
    pub(super) fn lead(&self) -> String {
        let mut before = &self.sentence[..self.range.start - '“'.len_utf8()];
        while let Some(rest) = before.strip_suffix('”') {
            match rest.rfind('“') {
                Some(open) => before = &rest[..open],
                None => break,
            }
        }
        let mut lead: Vec<char> = before
            .chars()
            .rev()
            .take_while(|c| is_ideograph(*c))
            .take(LEAD_CHARS)
            .collect();
        lead.reverse();
        lead.into_iter().collect()
    }
}

/// A place where a paragraph quotes a phrase: “phrase”, with no quote mark inside.
pub(super) struct Quoting<'a> {
    pub(super) paragraph: &'a str,
    /// Byte range of the phrase inside `paragraph`, without the quotes.
    pub(super) range: std::ops::Range<usize>,
}

/// Every place the paragraphs quote a phrase, by phrase: one pass over the text.
pub(super) fn quotings<'a>(bodies: &[&'a str]) -> HashMap<&'a str, Vec<Quoting<'a>>> {
    let mut places: HashMap<&str, Vec<Quoting>> = HashMap::new();
    for paragraph in bodies {
        for (open, _) in paragraph.match_indices('“') {
            let start = open + '“'.len_utf8();
            let Some(mark) = paragraph[start..].find(['“', '”']) else {
                break;
            };
            let end = start + mark;
            if paragraph[end..].starts_with('”') {
                let place = Quoting {
                    paragraph,
                    range: start..end,
                };
                places
                    .entry(&paragraph[start..end])
                    .or_default()
                    .push(place);
            }
        }
    }
    places
}

/// Splits a paragraph into sentences ending in 。！？ (with any closing quote after the
/// mark), each with whether it is terminated; a final unterminated piece was cut short.
pub(super) fn sentences(paragraph: &str) -> Vec<(&str, bool)> {
    // A whitespace-only tail is no sentence.
    crate::text::sentences::split(paragraph, crate::text::sentences::Rule::QUIZ)
        .into_iter()
        .filter(|(sentence, terminated)| *terminated || !sentence.trim().is_empty())
        .collect()
}

/// Byte ranges of the phrases inside “ ” in a sentence.
pub(super) fn quote_ranges(sentence: &str) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let mut rest = 0;
    while let Some(open) = sentence[rest..].find('“') {
        let start = rest + open + '“'.len_utf8();
        let Some(close) = sentence[start..].find('”') else {
            break;
        };
        let end = start + close;
        let inner = &sentence[start..end];
        if !inner.trim().is_empty()
            && !inner.contains('“')
            && inner.chars().count() <= MAX_QUOTE_CHARS
        {
            ranges.push(start..end);
        }
        rest = end + '”'.len_utf8();
    }
    ranges
}

pub(super) fn quoted_phrases(document: &Document) -> Vec<Quoted<'_>> {
    let mut quoted = Vec::new();
    for section in &document.sections {
        let mut after_gap = false;
        for block in &section.blocks {
            let paragraph = match block {
                Block::Gap => {
                    after_gap = true;
                    continue;
                }
                Block::Paragraph(paragraph) => paragraph,
            };
            for (index, (sentence, terminated)) in sentences(paragraph).into_iter().enumerate() {
                // The first sentence after a gap may have lost its beginning.
                let usable = terminated && !(after_gap && index == 0);
                for range in quote_ranges(sentence) {
                    quoted.push(Quoted {
                        section,
                        sentence,
                        range,
                        usable,
                    });
                }
            }
            after_gap = false;
        }
    }
    quoted
}

/// Every phrase the text quotes right after `lead`, in any quote group (作为“一线指挥官”“领头雁”).
pub(super) fn framed_phrases<'a>(bodies: &[&'a str], lead: &str) -> HashSet<&'a str> {
    let mut phrases = HashSet::new();
    if lead.is_empty() {
        return phrases;
    }
    for body in bodies {
        for (index, _) in body.match_indices(lead) {
            phrases.extend(quote_group(&body[index + lead.len()..]));
        }
    }
    phrases
}

/// [`framed_phrases`] for each of `leads` (no entry for an empty one), in one pass over
/// the text instead of a search per lead-in: a lead-in frames the quote group right
/// after it, so only the characters before each “ need looking at.
pub(super) fn framed_by_lead<'a>(
    bodies: &[&'a str],
    leads: HashSet<String>,
) -> HashMap<String, HashSet<&'a str>> {
    // `match_indices` skips an occurrence overlapping the one before (作作作“甲” holds
    // 作作 once, not followed by “), which the pass would not: such lead-ins are searched.
    let (overlapping, plain): (Vec<String>, Vec<String>) = leads
        .into_iter()
        .filter(|lead| !lead.is_empty())
        .partition(|lead| {
            (lead.char_indices().skip(1)).any(|(at, _)| lead.starts_with(&lead[at..]))
        });
    let longest = plain.iter().map(|lead| lead.chars().count()).max();
    let mut framed: HashMap<String, HashSet<&str>> = plain
        .into_iter()
        .map(|lead| (lead, HashSet::new()))
        .collect();
    for body in bodies {
        for (open, _) in body.match_indices('“') {
            let before = &body[..open];
            for (start, _) in before.char_indices().rev().take(longest.unwrap_or(0)) {
                if let Some(phrases) = framed.get_mut(&before[start..]) {
                    phrases.extend(quote_group(&body[open..]));
                }
            }
        }
    }
    for lead in overlapping {
        let phrases = framed_phrases(bodies, &lead);
        framed.insert(lead, phrases);
    }
    framed
}

/// The phrases of the quote group `text` starts with (“一线指挥官”“领头雁” → both).
pub(super) fn quote_group(mut text: &str) -> impl Iterator<Item = &str> {
    std::iter::from_fn(move || {
        let inner = text.strip_prefix('“')?;
        let close = inner.find('”')?;
        text = &inner[close + '”'.len_utf8()..];
        Some(&inner[..close])
    })
}

/// The quoted phrases, each once in order of first use: the possible distractors.
pub(super) struct PhrasePool<'a> {
    pub(super) candidates: Vec<Candidate<'a>>,
    /// Each phrase's index in `candidates`.
    pub(super) index: HashMap<&'a str, usize>,
    /// The indices of the phrases that start with each character.
    pub(super) by_first: HashMap<char, Vec<usize>>,
}

/// A quoted phrase as a possible distractor, with what choosing it needs, found once.
pub(super) struct Candidate<'a> {
    pub(super) phrase: &'a str,
    pub(super) sort: PhraseSort,
    /// Its length in characters.
    pub(super) chars: usize,
    /// Every place the text quotes it.
    pub(super) places: Vec<Quoting<'a>>,
}

impl<'a> PhrasePool<'a> {
    pub(super) fn new(quoted: &[Quoted<'a>], bodies: &[&'a str]) -> Self {
        let mut places = quotings(bodies);
        let mut pool = Self {
            candidates: Vec::new(),
            index: HashMap::new(),
            by_first: HashMap::new(),
        };
        for quote in quoted {
            let phrase = quote.phrase();
            if pool.index.contains_key(phrase) {
                continue;
            }
            let index = pool.candidates.len();
            pool.index.insert(phrase, index);
            if let Some(first) = phrase.chars().next() {
                pool.by_first.entry(first).or_default().push(index);
            }
            pool.candidates.push(Candidate {
                phrase,
                sort: sort_of(phrase),
                chars: phrase.chars().count(),
                places: places.remove(phrase).unwrap_or_default(),
            });
        }
        pool
    }

    /// Marks every phrase that `sentence` contains, in one pass over the sentence.
    pub(super) fn mark_contained(&self, sentence: &str, marks: &mut [bool]) {
        for (at, first) in sentence.char_indices() {
            for &index in self.by_first.get(&first).into_iter().flatten() {
                if sentence[at..].starts_with(self.candidates[index].phrase) {
                    marks[index] = true;
                }
            }
        }
    }
}

/// The sort of a quoted phrase, for choosing distractors that look alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PhraseSort {
    Role,
    List,
    Other,
}

pub(super) fn sort_of(phrase: &str) -> PhraseSort {
    if phrase.contains('、') {
        PhraseSort::List
    } else if phrase
        .chars()
        .last()
        .is_some_and(|c| ROLE_ENDINGS.contains(c))
    {
        PhraseSort::Role
    } else {
        PhraseSort::Other
    }
}

/// Metaphor cloze: 乡镇(街道)是国家治理的“____” → 最后一公里.
///
/// Every check on a distractor is indexed (the phrases by first character, the places
/// each phrase is quoted, the lead-ins in one pass), so a blank costs one pass over the
/// phrases and their places, not searches of the whole text for each phrase.
pub(super) fn metaphor_cloze(document: &Document, rng: &mut impl Rng, out: &mut Vec<Question>) {
    let quoted = quoted_phrases(document);
    let bodies: Vec<&str> = document
        .sections
        .iter()
        .flat_map(Section::paragraphs)
        .collect();
    let pool = PhrasePool::new(&quoted, &bodies);
    let leads = quoted.iter().filter(|q| q.usable).map(Quoted::lead);
    let framed_by = framed_by_lead(&bodies, leads.collect());
    // The phrases that may not be a distractor for the blank at hand.
    let mut ruled_out = vec![false; pool.candidates.len()];
    for quote in quoted.iter().filter(|q| q.usable) {
        let answer = quote.phrase();
        // If the answer shows elsewhere in its sentence, the blank would give it away.
        if quote.sentence.matches(answer).count() != 1 {
            continue;
        }
        ruled_out.fill(false);
        // So would any phrase in the sentence (the answer among them) as an option.
        pool.mark_contained(quote.sentence, &mut ruled_out);
        // Phrases the text also says after the same lead-in would make true answers too.
        for phrase in framed_by.get(&quote.lead()).into_iter().flatten() {
            if let Some(&index) = pool.index.get(phrase) {
                ruled_out[index] = true;
            }
        }
        // So would a phrase whose filled-in sentence is in the text.
        let mut candidates: Vec<&Candidate> = (pool.candidates.iter().zip(&ruled_out))
            .filter(|&(candidate, &ruled)| {
                !ruled && !candidate.places.iter().any(|place| quote.is_said_at(place))
            })
            .map(|(candidate, _)| candidate)
            .collect();
        candidates.shuffle(rng);
        let length = answer.chars().count();
        let sort = sort_of(answer);
        // Stable: among equally good candidates the shuffled order decides.
        candidates.sort_by_key(|c| (c.sort != sort, c.chars.abs_diff(length) > 1));
        let distractors: Vec<String> = candidates
            .iter()
            .take(OPTIONS - 1)
            .map(|c| c.phrase.to_string())
            .collect();
        let Some(options) = options(answer, &distractors, rng) else {
            continue;
        };
        let text = format!("{METAPHOR_PROMPT}{}", quote.filled(BLANK));
        if utf16_len(&text) > POLL_QUESTION {
            continue;
        }
        let section = quote.section.id;
        let mut explanation = format!("原文：{}", quote.sentence);
        if utf16_len(&cite(&explanation, section)) > POLL_EXPLANATION {
            explanation = format!("原文此处是“{answer}”。");
        }
        out.push(question(
            QuestionKind::MetaphorCloze,
            section,
            text,
            options,
            &explanation,
        ));
    }
}
