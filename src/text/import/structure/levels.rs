//! Stage 4: which markers mark the parts and which the points.

use super::*;

/// The marker kinds of the parts and of the points, from the markers present.
pub(super) fn levels(entries: &[String], body: &[Item]) -> Option<(Kind, Option<Kind>)> {
    let mut counts = [0usize; 6];
    let lines = entries
        .iter()
        .map(String::as_str)
        .chain(body.iter().filter_map(|item| match item {
            Item::Text(_, text) => Some(text.as_str()),
            _ => None,
        }));
    for line in lines {
        if let Some(marker) = line_marker(line)
            && marker.kind != Kind::Run
        {
            counts[marker.kind as usize] += 1;
        }
        counts[Kind::Run as usize] += run_markers(line).len();
    }
    let mut present = Kind::ALL.into_iter().filter(|&kind| {
        let needed = match kind {
            Kind::Arabic | Kind::Run => 2,
            _ => 1,
        };
        counts[kind as usize] >= needed
    });
    let parts = present.next()?;
    Some((parts, present.next()))
}
