//! A spot-the-bug exercise's code listing with the learner's marks, and its verdict.

use ratatui::text::{Line, Span};

use super::{prose, text};
use crate::markdown::MdLine;
use crate::practice::SpotResult;
use crate::ui::lesson_text::md_spans;
use crate::ui::theme::Theme;

/// The exercise's code, a line each, with the learner's marks or, once checked, the verdict per
/// line; each with whether it carries a mark worth keeping in the compact form.
pub(super) fn spot_listing<'a>(
    code: &str,
    cursor: usize,
    marked: &std::collections::BTreeSet<u32>,
    result: Option<&SpotResult>,
    t: &Theme,
) -> Vec<(bool, Line<'a>)> {
    code.lines()
        .enumerate()
        .map(|(i, l)| {
            let n = i as u32 + 1;
            let is_marked = marked.contains(&n);
            let verdict = result.map(|r| {
                if r.hits.contains(&n) {
                    "✓"
                } else if r.false_marks.contains(&n) {
                    "✗"
                } else if r.bugs.iter().any(|b| b.lines.contains(&n)) {
                    "!"
                } else {
                    " "
                }
            });
            let mark = verdict.unwrap_or(if is_marked { "●" } else { " " });
            let style = if i == cursor && result.is_none() {
                t.selected
            } else if is_marked {
                t.strong
            } else {
                t.code
            };
            (mark != " ", text(&format!("{mark}{n:>3} {l}"), style))
        })
        .collect()
}

/// Only the listing's lines that carry a mark (a hit, a false mark, a missed bug), with `⋮`
/// between those that are not next to each other.
pub(super) fn compact_listing<'a>(listing: Vec<(bool, Line<'a>)>) -> Vec<Line<'a>> {
    let mut out = Vec::new();
    let mut last = None;
    for (i, (keep, line)) in listing.into_iter().enumerate() {
        if !keep {
            continue;
        }
        if last.is_some_and(|l: usize| l + 1 < i) {
            out.push(Line::raw("   ⋮"));
        }
        out.push(line);
        last = Some(i);
    }
    out
}

/// The checked answer: the score, each bug and why (rendered Markdown when the app has it, in
/// the exercise's order), and what comes next.
pub(super) fn spot_verdict<'a>(
    r: &SpotResult,
    whys: Option<&'a [Vec<MdLine>]>,
    t: &Theme,
) -> Vec<Line<'a>> {
    let mut lines = vec![text(
        &format!(
            "found {} of {} bug(s), {} false mark(s) · score {:.0}%  (✓ hit, ✗ false mark, ! missed)",
            r.found,
            r.found + r.missed,
            r.false_marks.len(),
            r.score * 100.0
        ),
        t.strong,
    )];
    for (n, b) in r.bugs.iter().enumerate() {
        let lines_s: Vec<String> = b.lines.iter().map(u32::to_string).collect();
        let at = format!("line {}: ", lines_s.join(", "));
        match whys.and_then(|w| w.get(n)) {
            Some(why) => {
                for (j, l) in why.iter().enumerate() {
                    let mut spans = Vec::new();
                    if j == 0 {
                        spans.push(Span::styled(at.clone(), t.base));
                    }
                    spans.extend(md_spans(l, t, t.base));
                    lines.push(Line::from(spans));
                }
            }
            None => prose(&mut lines, &format!("{at}{}", b.why), t.base),
        }
    }
    lines.push(text("Enter: next", t.dim));
    lines
}
