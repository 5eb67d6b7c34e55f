//! Keyword search over titles and bodies.
//!
//! Chinese has no spaces between words, so a term matches wherever its characters
//! appear in order (`网格` finds 治理网格, 网格长, …). Several terms separated by spaces
//! must all match. Title hits weigh more than body hits.

use std::borrow::Cow;

use super::{Document, SectionId};

/// The longest query we accept, in characters.
pub const MAX_QUERY_CHARS: usize = 50;
/// How many results a reply lists.
pub const MAX_RESULTS: usize = 10;

const TITLE_WEIGHT: usize = 10;
const SNIPPET_BEFORE: usize = 12;
const SNIPPET_AFTER: usize = 24;

/// One matching section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    /// The section that matched.
    pub id: SectionId,
    /// Higher is better: title hits count [`TITLE_WEIGHT`] each, body hits one each.
    pub score: usize,
    /// Text before the first hit (already shortened, with a leading `…` when cut).
    pub before: String,
    /// The matched term as it appears.
    pub hit: String,
    /// Text after the hit (shortened, with a trailing `…` when cut).
    pub after: String,
}

/// All hits for a query, best first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchResults {
    /// The terms searched for.
    pub terms: Vec<String>,
    /// The best hits, at most [`MAX_RESULTS`].
    pub hits: Vec<SearchHit>,
    /// How many sections matched in all.
    pub total: usize,
}

/// Searches the document for sections containing every term of `query`.
pub fn search(document: &Document, query: &str) -> SearchResults {
    let terms: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    if terms.is_empty() {
        return SearchResults {
            terms,
            hits: Vec::new(),
            total: 0,
        };
    }
    // Chinese queries have no letter case: then the text needs no lowercased copy, which
    // profiling showed to be most of a search's cost.
    let caseless = !terms
        .iter()
        .flat_map(|t| t.chars())
        .any(|c| c.is_lowercase() || c.is_uppercase());
    let mut hits: Vec<SearchHit> = document
        .sections
        .iter()
        .filter_map(|section| {
            let names = [
                fold(&section.title, caseless),
                fold(&section.phrase, caseless),
            ];
            // Each paragraph as written (for the snippet) and as matched.
            let paragraphs: Vec<(&str, Cow<'_, str>)> = section
                .paragraphs()
                .map(|p| (p, fold(p, caseless)))
                .collect();
            let mut score = 0;
            for term in &terms {
                let count = |text: &Cow<'_, str>| text.matches(term.as_str()).count();
                let in_title: usize = names.iter().map(count).sum();
                let in_body: usize = paragraphs.iter().map(|(_, p)| count(p)).sum();
                if in_title + in_body == 0 {
                    return None;
                }
                score += in_title * TITLE_WEIGHT + in_body;
            }
            let first = terms[0].as_str();
            let (before, hit, after) = paragraphs
                .iter()
                .find(|(_, folded)| folded.contains(first))
                .map(|(original, folded)| snippet(original, folded, first))
                .unwrap_or_default();
            Some(SearchHit {
                id: section.id,
                score,
                before,
                hit,
                after,
            })
        })
        .collect();
    // Stable sort keeps reading order among equal scores.
    hits.sort_by_key(|hit| std::cmp::Reverse(hit.score));
    let total = hits.len();
    hits.truncate(MAX_RESULTS);
    SearchResults { terms, hits, total }
}

/// The text to match against: as is for a caseless query, else lowercased.
fn fold(text: &str, caseless: bool) -> Cow<'_, str> {
    if caseless {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.to_lowercase())
    }
}

/// Cuts a window around the first occurrence of `term` (found in the lowercased
/// copy, taken from the original so case is kept).
fn snippet(original: &str, lowered: &str, term: &str) -> (String, String, String) {
    let chars: Vec<char> = original.chars().collect();
    let lowered_chars: Vec<char> = lowered.chars().collect();
    let term_chars: Vec<char> = term.chars().collect();
    // Lowercasing may change lengths for some scripts; fall back to no snippet then.
    if chars.len() != lowered_chars.len() {
        return (String::new(), String::new(), String::new());
    }
    let Some(start) = lowered_chars
        .windows(term_chars.len())
        .position(|w| w == term_chars.as_slice())
    else {
        return (String::new(), String::new(), String::new());
    };
    let end = start + term_chars.len();
    let from = start.saturating_sub(SNIPPET_BEFORE);
    let to = (end + SNIPPET_AFTER).min(chars.len());
    let mut before: String = chars[from..start].iter().collect();
    if from > 0 {
        before.insert(0, '…');
    }
    let mut after: String = chars[end..to].iter().collect();
    if to < chars.len() {
        after.push('…');
    }
    (before, chars[start..end].iter().collect(), after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::parse_document;

    fn speech() -> Document {
        parse_document("xzsj.md", include_str!("../../data/texts/xzsj.md")).unwrap()
    }

    fn ids(results: &SearchResults) -> Vec<String> {
        results.hits.iter().map(|hit| hit.id.to_string()).collect()
    }

    #[test]
    fn chinese_terms_match_without_spaces() {
        let results = search(&speech(), "网格");
        assert_eq!(ids(&results), vec!["3.2"]);
        let hit = &results.hits[0];
        assert_eq!(hit.hit, "网格");
        assert!(hit.before.chars().count() <= 13 && hit.after.chars().count() <= 25);
    }

    #[test]
    fn results_are_ranked_and_capped() {
        let results = search(&speech(), "要");
        assert!(results.total > MAX_RESULTS, "要 appears in most sections");
        assert_eq!(results.hits.len(), MAX_RESULTS);
        assert!(results.hits.windows(2).all(|w| w[0].score >= w[1].score));
        let results = search(&speech(), "群众");
        // Part 2 (站稳群众立场) has the only title hit and ranks first.
        assert_eq!(results.hits[0].id.to_string(), "2");
    }

    #[test]
    fn all_terms_must_match() {
        assert_eq!(ids(&search(&speech(), "网格 党员")), vec!["3.2"]);
        assert!(search(&speech(), "网格 火星").hits.is_empty());
        assert!(search(&speech(), "   ").hits.is_empty());
        assert!(search(&speech(), "🙂").hits.is_empty());
    }

    #[test]
    fn boilerplate_is_not_searchable() {
        for note in ["新文秘网", "省略", "正式会员", "未完", "收藏", "wm114"] {
            assert_eq!(search(&speech(), note).total, 0, "{note}");
        }
    }
}
