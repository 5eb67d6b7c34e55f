//! Keyword search over titles and bodies.
//!
//! Chinese has no spaces between words, so a term matches wherever its characters
//! appear in order (`网格` finds 治理网格, 网格长, …). Several terms separated by spaces
//! must all match. Title hits weigh more than body hits.

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
    let mut hits: Vec<SearchHit> = document
        .sections
        .iter()
        .filter_map(|section| {
            let title = format!("{} {}", section.title, section.phrase).to_lowercase();
            let paragraphs: Vec<String> = section.paragraphs().map(str::to_lowercase).collect();
            let mut score = 0;
            for term in &terms {
                let in_title = title.matches(term.as_str()).count();
                let in_body: usize = paragraphs.iter().map(|p| p.matches(term.as_str()).count()).sum();
                if in_title + in_body == 0 {
                    return None;
                }
                score += in_title * TITLE_WEIGHT + in_body;
            }
            let first = &terms[0];
            let original: Vec<&str> = section.paragraphs().collect();
            let (before, hit, after) = paragraphs
                .iter()
                .position(|p| p.contains(first.as_str()))
                .map(|i| snippet(original[i], &paragraphs[i], first))
                .unwrap_or_else(|| (String::new(), String::new(), String::new()));
            Some(SearchHit { id: section.id, score, before, hit, after })
        })
        .collect();
    if terms.is_empty() {
        hits.clear();
    }
    // Stable sort keeps reading order among equal scores.
    hits.sort_by_key(|hit| std::cmp::Reverse(hit.score));
    let total = hits.len();
    hits.truncate(MAX_RESULTS);
    SearchResults { terms, hits, total }
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
    let Some(start) = lowered_chars.windows(term_chars.len()).position(|w| w == term_chars.as_slice()) else {
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
