//! Reading a console line as the answer to a poll: the quiz ([`super::quiz`]) and the
//! review ([`super::review`]) read answers alike.

use crate::reply::Reply;

/// The option a line picks among `options` numbered from 1, as a 0-based index; anything
/// else gets the reply that asks again (the quiz and the review read answers alike).
pub(crate) fn option_index(line: &str, options: usize) -> Result<usize, Reply> {
    line.trim()
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=options).contains(n))
        .map(|n| n - 1)
        .ok_or_else(|| crate::quiz::messages::console_reask(options))
}
