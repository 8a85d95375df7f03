//! Practice: a quiz item (choice, predict, spot the bug, recall), the mock interview with its
//! countdown, and the interview summary. Once an answer is in, the run that backs it is drawn
//! beside the text (wide terminals) or under it, by the timeline pane's own widget: a prediction's
//! run with the guess marked, a bug's buggy and fixed variants on one axis, an interview
//! question's demo. A prediction also shows the code it runs, by the code pane's own widget: the
//! prompt and the answer box take the rows they need and the code what is left (beside them on a
//! very wide terminal); after the reveal it sits under the run, the lines the run points at marked.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};

use super::lesson_text::{md_line, md_spans};
use super::theme::Theme;
use crate::app::App;
use crate::app::practice::{
    Candidates, ItemState, PracticeView, QuizSession, QuizSummary, spot_code,
};
use crate::app::practice_screen::{ShownRun, ShownRunState};
use crate::lesson::{Lesson, Measure};
use crate::markdown::MdLine;
use crate::practice::RunPurpose;
use crate::practice::{Interview, Measured, Phase, PredictScore, Prediction, Summary, measure};
use crate::text::sanitize;

mod code;
mod evidence;
mod spot;

use code::draw_code;
use evidence::{draw_run, run_caption, timeline_rows};
use spot::{compact_listing, spot_listing, spot_verdict};

pub struct PracticePane<'a> {
    pub app: &'a App,
    pub theme: &'a Theme,
}

/// Inner width from which the run goes beside the text rather than under it.
const SIDE_BY_SIDE_WIDTH: u16 = 140;

/// Inner width from which a prediction's code goes beside its prompt: each half then holds an
/// 80-column line (the shown files are formatted to 100).
const CODE_BESIDE_WIDTH: u16 = 160;

/// Rows the code keeps when the screen has them: its caption and five lines.
const CODE_MIN_ROWS: u16 = 6;

/// Rows the code keeps beside a revealed run: its caption and three lines, the view on the first
/// line the run points at (at 80×24 the verdict and the lanes need the rest).
const REVEALED_CODE_MIN_ROWS: u16 = 4;

/// What the text side shows: all of it, and a shorter form for when that does not fit.
struct Page<'a> {
    title: String,
    lines: Vec<Line<'a>>,
    /// The essentials first, for a small terminal; `None`: the full text is all there is.
    compact: Option<Vec<Line<'a>>>,
    /// The line the view must show whatever the scroll (spot the bug's line cursor).
    keep: Option<usize>,
}

impl<'a> Page<'a> {
    fn new(title: String, lines: Vec<Line<'a>>) -> Page<'a> {
        Page {
            title,
            lines,
            compact: None,
            keep: None,
        }
    }

    /// The full text if it fits `area`, else without its blank lines, else the compact form.
    fn fitted(self, area: Rect) -> Vec<Line<'a>> {
        let fits = |lines: &[Line<'_>]| rows(lines, area.width) <= usize::from(area.height);
        if fits(&self.lines) {
            return self.lines;
        }
        let squeezed: Vec<Line<'a>> = self.lines.into_iter().filter(|l| l.width() > 0).collect();
        match self.compact {
            Some(compact) if !fits(&squeezed) => compact,
            _ => squeezed,
        }
    }
}

impl Widget for &PracticePane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let t = self.theme;
        let app = self.app;
        let Some(view) = &app.practice.view else {
            return;
        };
        let page = match view {
            PracticeView::Quiz(q) => quiz(q, app, t),
            PracticeView::Interview(i) => interview(i, app, t),
            PracticeView::Summary(s) => summary(s, &app.lessons, t),
            PracticeView::QuizDone(s) => quiz_done(s, t),
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(t.border_focused);
        let inner = block.inner(area);
        let title = page.title.clone();
        let mut code = None;
        // A line for what is put away to make room (see `one_of_answer_and_demo`).
        let mut put_away = None;
        let (text, text_area, run) = match (app.practice.shown_run.as_ref(), &app.practice.code) {
            (run, Some(shown)) => {
                let caption = run.map(|r| (r, run_caption(r, app, t)));
                let want = |width: u16| {
                    let count = |lines: Vec<Line<'_>>| {
                        u16::try_from(paragraph(lines).line_count(width)).unwrap_or(u16::MAX)
                    };
                    let squeezed = page.lines.iter().filter(|l| l.width() > 0).cloned();
                    Want {
                        full: count(page.lines.clone()),
                        squeezed: count(squeezed.collect()),
                    }
                };
                let areas = split_with_code(inner, want, caption);
                let text = scrolled(
                    page.fitted(areas.text),
                    areas.text,
                    app.practice.scroll,
                    None,
                );
                code = Some((shown, run.is_none(), areas.code));
                (text, areas.text, areas.run)
            }
            (None, None) => (
                scrolled(page.lines, inner, app.practice.scroll, page.keep),
                inner,
                None,
            ),
            (Some(run), None) if one_of_answer_and_demo(inner, run) => {
                // The one put away keeps a line saying Tab brings it back.
                let (swap, other) = match &run.state {
                    _ if app.practice.demo_shown => (
                        "Tab: back to the model answer · ",
                        "1-4 grade it".to_owned(),
                    ),
                    ShownRunState::Done { view, .. } => (
                        "Tab: the demo · ",
                        crate::ui::timeline_pane::totals(view).unwrap_or_default(),
                    ),
                    _ => ("Tab: the demo · ", run.demo.to_owned()),
                };
                let swap_line = Line::from(vec![
                    Span::styled(swap, t.key),
                    Span::styled(sanitize(&other).into_owned(), t.dim),
                ]);
                if app.practice.demo_shown {
                    let rest = Rect::new(inner.x, inner.y + 1, inner.width, inner.height - 1);
                    let (mut caption, essential) = run_caption(run, app, t);
                    if rows(&caption, rest.width) as u16 + timeline_rows(run) > rest.height {
                        caption.truncate(essential);
                    }
                    let swap_area = Rect { height: 1, ..inner };
                    let text = scrolled(vec![swap_line], swap_area, 0, None);
                    (text, swap_area, Some((run, caption, rest)))
                } else {
                    let text_area = Rect {
                        height: inner.height - 1,
                        ..inner
                    };
                    let swap_area = Rect::new(inner.x, text_area.bottom(), inner.width, 1);
                    put_away = Some((swap_line, swap_area));
                    let text =
                        scrolled(page.fitted(text_area), text_area, app.practice.scroll, None);
                    (text, text_area, None)
                }
            }
            (Some(run), None) => {
                let (text_area, run_area, caption) = split(inner, run, run_caption(run, app, t));
                let text = scrolled(page.fitted(text_area), text_area, app.practice.scroll, None);
                (text, text_area, Some((run, caption, run_area)))
            }
        };
        block
            .title(Span::styled(format!(" {title} "), t.title))
            .title(Span::styled(text.hint(), t.dim))
            .render(area, buf);
        text.paragraph.render(text_area, buf);
        if let Some((line, line_area)) = put_away {
            Paragraph::new(line).render(line_area, buf);
        }
        if let Some((run, caption, run_area)) = run {
            draw_run(run, caption, run_area, buf, t);
        }
        if let Some((shown, moving, code_area)) = code {
            draw_code(shown, moving, code_area, buf, t);
        }
    }
}

/// Where a prediction's text, run and code go.
struct CodeAreas<'r, 'a> {
    text: Rect,
    run: Option<(&'r ShownRun, Vec<Line<'a>>, Rect)>,
    code: Rect,
}

/// The rows a text takes at a width: all of it, and without its blank lines (see [`Page::fitted`]).
#[derive(Debug, Clone, Copy)]
struct Want {
    full: u16,
    squeezed: u16,
}

/// A prediction's screen. Before the reveal the text takes the rows it needs and the code what
/// is left, at least [`CODE_MIN_ROWS`] where there is room (beside the text from
/// [`CODE_BESIDE_WIDTH`]), a running run's line between them. After it the text keeps its
/// verdict whole where it can (squeezed, up to half the height), the code at least
/// [`REVEALED_CODE_MIN_ROWS`], and the run what it needs of the rest, its lanes scrolling when
/// that is not enough; on a wide screen the text and the run side by side, the code under both.
fn split_with_code<'r, 'a>(
    inner: Rect,
    want: impl Fn(u16) -> Want,
    run: Option<(&'r ShownRun, (Vec<Line<'a>>, usize))>,
) -> CodeAreas<'r, 'a> {
    let done = run
        .as_ref()
        .is_some_and(|(r, _)| matches!(r.state, ShownRunState::Done { .. }));
    let h = inner.height;
    match run {
        Some((run, (mut caption, essential))) if done => {
            let wide = inner.width >= SIDE_BY_SIDE_WIDTH;
            let text_w = if wide {
                (inner.width - 1) / 2
            } else {
                inner.width
            };
            let run_x = if wide { inner.x + text_w + 1 } else { inner.x };
            let run_w = inner.right() - run_x;
            let lanes = timeline_rows(run);
            let code_min = REVEALED_CODE_MIN_ROWS.min(h);
            let text = want(text_w);
            let run_want = |caption: &[Line<'_>]| rows(caption, run_w) as u16 + lanes;
            // The text's and the run's rows: beside each other they share a band.
            let (text_h, run_room) = if wide {
                let room = h - code_min;
                let text_h = if text.full <= room {
                    text.full
                } else {
                    text.squeezed.min(room)
                };
                (text_h, room)
            } else {
                let text_h = if text.full + run_want(&caption) + code_min <= h {
                    text.full
                } else {
                    text.squeezed.min(h / 2)
                };
                (text_h, h.saturating_sub(text_h + code_min))
            };
            if run_want(&caption) > run_room {
                caption.truncate(essential);
            }
            let run_h = run_want(&caption).min(run_room);
            let (run_y, code_y) = if wide {
                (inner.y, inner.y + text_h.max(run_h))
            } else {
                (inner.y + text_h, inner.y + text_h + run_h)
            };
            CodeAreas {
                text: Rect::new(inner.x, inner.y, text_w, text_h),
                run: Some((run, caption, Rect::new(run_x, run_y, run_w, run_h))),
                code: Rect::new(inner.x, code_y, inner.width, inner.bottom() - code_y),
            }
        }
        run => {
            let beside = inner.width >= CODE_BESIDE_WIDTH;
            let (left, code_side) = if beside {
                let text_w = (inner.width - 1) / 2;
                let code_x = inner.x + text_w + 1;
                (
                    Rect::new(inner.x, inner.y, text_w, h),
                    Some(Rect::new(code_x, inner.y, inner.right() - code_x, h)),
                )
            } else {
                (inner, None)
            };
            // A run on its way (or one that failed) is a line under the text.
            let caption = run.map(|(r, (caption, _))| (r, caption));
            let caption_h = caption
                .as_ref()
                .map_or(0, |(_, c)| rows(c, left.width) as u16)
                .min(left.height);
            let above = Rect {
                height: left.height - caption_h,
                ..left
            };
            let (text, code) = match code_side {
                Some(code) => (above, code),
                None => text_then_code(above, want(left.width).full),
            };
            let run = caption.map(|(r, c)| {
                let area = Rect::new(left.x, text.bottom(), left.width, caption_h);
                (r, c, area)
            });
            let code = match code_side {
                Some(code) => code,
                None => Rect {
                    y: code.y + caption_h,
                    ..code
                },
            };
            CodeAreas { text, run, code }
        }
    }
}

/// `area` cut in two: the text's rows at the top (`want`, giving way to [`CODE_MIN_ROWS`] of
/// code where the area has room for both), the code under it.
fn text_then_code(area: Rect, want: u16) -> (Rect, Rect) {
    let code_min = if area.height >= CODE_MIN_ROWS + 4 {
        CODE_MIN_ROWS
    } else {
        0
    };
    let text_h = want.min(area.height - code_min);
    (
        Rect {
            height: text_h,
            ..area
        },
        Rect {
            y: area.y + text_h,
            height: area.height - text_h,
            ..area
        },
    )
}

/// The practice text from the row it is scrolled to, and where it stands.
struct Scrolled<'a> {
    paragraph: Paragraph<'a>,
    /// Rows above the first one shown, and below the last.
    above: usize,
    below: usize,
}

impl Scrolled<'_> {
    /// What the title says when the text does not fit: which way there is more, and the key.
    fn hint(&self) -> String {
        match (self.above > 0, self.below > 0) {
            (false, false) => String::new(),
            (false, true) => format!(" PgDn: {} more rows ", self.below),
            (true, false) => " PgUp: back up ".to_owned(),
            (true, true) => format!(" PgUp/PgDn: {} more rows ", self.below),
        }
    }
}

/// Rows kept in view below a line the view follows, where there are rows to show.
const FOLLOW_MARGIN: usize = 3;

/// `lines` wrapped to `area`, from row `want` (or the last row that still fills the area), moved
/// as little as it takes to show line `keep` with a few rows after it. The view follows without
/// changing the state: rendering never does.
fn scrolled(lines: Vec<Line<'_>>, area: Rect, want: usize, keep: Option<usize>) -> Scrolled<'_> {
    let room = usize::from(area.height);
    let want = match keep.filter(|&k| k < lines.len()) {
        Some(k) => {
            let top = paragraph(lines[..k].to_vec()).line_count(area.width);
            let bottom = top + paragraph(vec![lines[k].clone()]).line_count(area.width);
            let margin = FOLLOW_MARGIN.min(room.saturating_sub(bottom - top) / 2);
            // A line taller than the view shows from its top.
            want.max((bottom + margin).saturating_sub(room)).min(top)
        }
        None => want,
    };
    let paragraph = paragraph(lines);
    let rows = paragraph.line_count(area.width);
    let above = want.min(rows.saturating_sub(room));
    let below = rows.saturating_sub(above + room);
    Scrolled {
        paragraph: paragraph.scroll((u16::try_from(above).unwrap_or(u16::MAX), 0)),
        above,
        below,
    }
}

pub(super) fn paragraph(lines: Vec<Line<'_>>) -> Paragraph<'_> {
    Paragraph::new(lines).wrap(Wrap { trim: false })
}

/// Rows `lines` take wrapped at `width` (at least: word wrapping may need a few more).
pub(super) fn rows(lines: &[Line<'_>], width: u16) -> usize {
    let width = usize::from(width.max(1));
    lines.iter().map(|l| l.width().div_ceil(width).max(1)).sum()
}

/// Below this inner height an interview reveal (its run under the text, not beside it) shows
/// its model answer or its demo, one at a time: the two stacked left the answer a few rows.
const ANSWER_AND_DEMO_ROWS: u16 = 30;

/// Does the revealed interview question show its model answer and its demo one at a time?
fn one_of_answer_and_demo(inner: Rect, run: &ShownRun) -> bool {
    matches!(run.purpose, RunPurpose::Interview { .. })
        && inner.width < SIDE_BY_SIDE_WIDTH
        && (3..ANSWER_AND_DEMO_ROWS).contains(&inner.height)
}

/// Where the text and the run go, and how much of the caption shows. A finished run goes beside
/// the text on a wide terminal, else under it, taking what it needs but leaving the text at least
/// a third of the height (half for an interview's model answer); short of room, the lanes matter more than the sentence about them,
/// so only the caption's essential lines stay.
fn split<'a>(
    inner: Rect,
    run: &ShownRun,
    (mut caption, essential): (Vec<Line<'a>>, usize),
) -> (Rect, Rect, Vec<Line<'a>>) {
    let done = matches!(run.state, ShownRunState::Done { .. });
    let side = done && inner.width >= SIDE_BY_SIDE_WIDTH;
    let (run_x, run_w, room) = if side {
        let text_w = (inner.width - 1) / 2;
        let run_x = inner.x + text_w + 1;
        (run_x, inner.right() - run_x, inner.height)
    } else {
        // An interview's model answer is the point of its screen: it gets half (a third left it
        // four rows at 80×24). Elsewhere the run is the evidence, and the text a third.
        let share = if matches!(run.purpose, RunPurpose::Interview { .. }) {
            2
        } else {
            3
        };
        let text_min = (inner.height / share).max(6);
        (inner.x, inner.width, inner.height.saturating_sub(text_min))
    };
    let lanes = timeline_rows(run);
    if rows(&caption, run_w) as u16 + lanes > room {
        caption.truncate(essential);
    }
    let run_h = (rows(&caption, run_w) as u16 + lanes).min(room);
    if side {
        let text = Rect::new(inner.x, inner.y, run_x - 1 - inner.x, inner.height);
        return (text, Rect::new(run_x, inner.y, run_w, run_h), caption);
    }
    let text_h = inner.height - run_h;
    (
        Rect::new(inner.x, inner.y, inner.width, text_h),
        Rect::new(inner.x, inner.y + text_h, inner.width, run_h),
        caption,
    )
}

pub(super) fn text(s: &str, style: Style) -> Line<'static> {
    Line::styled(sanitize(s).into_owned(), style)
}

/// Lesson prose (a question, a prompt, an explanation): one line per paragraph, its own line
/// breaks read as spaces (see [`crate::text::paragraphs`]).
pub(super) fn prose(lines: &mut Vec<Line<'_>>, s: &str, style: Style) {
    lines.extend(
        crate::text::paragraphs(s)
            .into_iter()
            .map(|p| Line::styled(p, style)),
    );
}

/// Rendered Markdown (from the app's cache) over `base`, or `raw` as prose when it is not
/// rendered yet (a test may draw before any update).
pub(super) fn markdown<'a>(
    lines: &mut Vec<Line<'a>>,
    md: Option<&'a [MdLine]>,
    raw: &str,
    base: Style,
    t: &Theme,
) {
    match md {
        Some(md) => lines.extend(md.iter().map(|l| md_line(l, t, base))),
        None => prose(lines, raw, base),
    }
}

fn quiz<'a>(q: &QuizSession, app: &'a App, t: &Theme) -> Page<'a> {
    let lessons = &app.lessons;
    let title = format!("{} · {}/{}", q.title, q.index + 1, q.items.len());
    let Some(key) = q.items.get(q.index) else {
        return Page::new(title, vec![text("this item no longer exists", t.dim)]);
    };
    let Some((lesson, item)) = key.resolve(lessons) else {
        return Page::new(title, vec![text("this item no longer exists", t.dim)]);
    };
    let md = app.item_text(key);
    let mut lines = vec![
        text(
            &format!(
                "{} · {}",
                lesson.label(),
                crate::text::one_line(&lesson.title)
            ),
            t.dim,
        ),
        Line::default(),
    ];
    let mut compact = None;
    let mut keep = None;
    let prompt = |lines: &mut Vec<Line<'a>>, raw: &str| {
        markdown(lines, md.map(|m| m.prompt.as_slice()), raw, t.strong, t);
    };
    match (&q.state, item) {
        (ItemState::Choice { selected, result }, Some(item)) => {
            prompt(&mut lines, &item.prompt);
            lines.push(Line::default());
            let options = item.as_choice().map_or(&[][..], |c| c.options.as_slice());
            for (i, option) in options.iter().enumerate() {
                let marker = match result {
                    Some(r) if r.answer == i + 1 => "✓",
                    Some(r) if r.chosen == i + 1 => "✗",
                    _ if *selected == Some(i) => "›",
                    _ => " ",
                };
                let style = if *selected == Some(i) && result.is_none() {
                    t.selected
                } else {
                    t.base
                };
                let mut spans = vec![Span::styled(format!(" {marker} {}. ", i + 1), style)];
                match md.and_then(|m| m.options.get(i)) {
                    // An option is one line: its paragraphs run on.
                    Some(rendered) => {
                        for (j, l) in rendered.iter().enumerate() {
                            if j > 0 {
                                spans.push(Span::styled(" ", style));
                            }
                            spans.extend(md_spans(l, t, style));
                        }
                    }
                    None => spans.push(Span::styled(crate::text::one_line(option), style)),
                }
                lines.push(Line::from(spans));
            }
            lines.push(Line::default());
            if let Some(r) = result {
                let verdict = if r.correct {
                    ("Right.", t.ok)
                } else {
                    ("Not quite.", t.error)
                };
                lines.push(text(verdict.0, verdict.1));
                markdown(
                    &mut lines,
                    md.map(|m| m.explanation.as_slice()),
                    &r.explanation,
                    t.base,
                    t,
                );
                lines.push(Line::default());
                lines.push(text("Enter: next", t.dim));
            } else {
                lines.push(text(
                    &format!(
                        "1-{} or ↑/↓ choose · Enter answers · Space or s skips · Esc leaves",
                        options.len()
                    ),
                    t.dim,
                ));
            }
        }
        (
            ItemState::Predict {
                input,
                candidates,
                result,
            },
            Some(item),
        ) => {
            prompt(&mut lines, &item.prompt);
            let predict = item.as_predict();
            let measure = predict.map_or(Measure::TotalMs, |p| p.measure.clone());
            if result.is_none() {
                let demo = predict.map_or("", |p| p.demo.as_str());
                let variant = predict
                    .and_then(|p| p.variant.as_deref())
                    .map_or(String::new(), |v| format!(" --variant {v}"));
                let params: String = predict
                    .into_iter()
                    .flat_map(|p| &p.params)
                    .map(|(k, v)| format!(" --set {k}={v}"))
                    .collect();
                lines.push(text(&format!("demo: {demo}{variant}{params}"), t.code));
                match candidates {
                    Candidates::Listed(names) => lines.push(Line::from(vec![
                        Span::styled("the tasks: ", t.base),
                        Span::styled(sanitize(&names.join(" · ")).into_owned(), t.strong),
                    ])),
                    Candidates::Wanted | Candidates::Listing => {
                        lines.push(text("listing the tasks…", t.dim));
                    }
                    Candidates::Unneeded | Candidates::Unavailable(_) => {}
                }
            }
            lines.push(Line::default());
            match result {
                None => {
                    lines.push(Line::from(vec![
                        Span::styled("your prediction: ", t.base),
                        Span::styled(format!("{}▏", sanitize(input)), t.selected),
                    ]));
                    lines.push(Line::default());
                    lines.push(text(
                        &format!(
                            "type {} · Enter runs the demo and scores it · Space before typing skips · Esc leaves",
                            measure::input_hint(&measure)
                        ),
                        t.dim,
                    ));
                }
                Some(Ok(score)) => {
                    lines.extend(predict_verdict(score, &measure, t));
                    markdown(
                        &mut lines,
                        md.map(|m| m.explanation.as_slice()),
                        &item.explanation,
                        t.base,
                        t,
                    );
                    lines.push(Line::default());
                    lines.push(text("Enter: next", t.dim));
                }
                Some(Err(e)) => {
                    lines.push(Line::from(vec![
                        Span::styled("your prediction: ", t.base),
                        Span::styled(sanitize(input).into_owned(), t.strong),
                    ]));
                    lines.push(text(&format!("could not run the demo: {e}"), t.error));
                    lines.push(text("Nothing was recorded. Enter: next", t.dim));
                }
            }
        }
        (
            ItemState::Spot {
                cursor,
                marked,
                result,
            },
            item,
        ) => {
            let mut head = Vec::new();
            if let Some(item) = item {
                markdown(
                    &mut head,
                    md.map(|m| m.prompt.as_slice()),
                    &item.prompt,
                    t.strong,
                    t,
                );
            }
            lines.extend(head.iter().cloned());
            lines.push(Line::default());
            let code = spot_code(lesson, item).unwrap_or("");
            let listing = spot_listing(code, *cursor, marked, result.as_ref(), t);
            if result.is_none() && *cursor < listing.len() {
                keep = Some(lines.len() + cursor);
            }
            lines.extend(listing.iter().map(|(_, l)| l.clone()));
            lines.push(Line::default());
            match result {
                None => lines.push(text(
                    "↑/↓ move · Space marks a line · Enter checks · s skips · Esc leaves",
                    t.dim,
                )),
                Some(r) => {
                    let verdict = spot_verdict(r, md.map(|m| m.whys.as_slice()), t);
                    lines.extend(verdict.iter().cloned());
                    // Small terminal: the verdict first, then only the lines that carry a mark.
                    let mut short = head;
                    short.extend(verdict);
                    short.extend(compact_listing(listing));
                    compact = Some(short);
                }
            }
        }
        (ItemState::Recall { revealed, graded }, _) => {
            let text_md = app.lesson_text(&lesson.id);
            markdown(
                &mut lines,
                text_md.map(|a| a.question.as_slice()),
                &lesson.question,
                t.strong,
                t,
            );
            lines.push(Line::default());
            if *revealed {
                lines.extend(
                    app.answer_lines(&lesson.id)
                        .iter()
                        .map(|l| md_line(l, t, t.base)),
                );
                lines.push(Line::default());
                match graded {
                    None => lines.push(text(
                        "How well did you know it? 1 Again · 2 Hard · 3 Good · 4 Easy · Space or s skips",
                        t.key,
                    )),
                    Some(g) => lines.push(text(
                        &format!("graded {} · Enter: next", g.title()),
                        t.dim,
                    )),
                }
            } else {
                lines.push(text(
                    "Answer it out loud, then Enter shows the model answer. Space or s skips.",
                    t.dim,
                ));
            }
        }
        (_, None) => lines.push(text("this item no longer exists", t.dim)),
    }
    Page {
        title,
        lines,
        compact,
        keep,
    }
}

/// A scored prediction: what was guessed against what was measured, in the measure's unit, and
/// whether it counts. A task's name is right or wrong; a number is within the tolerance or not,
/// with a score.
fn predict_verdict<'a>(score: &PredictScore, measure: &Measure, t: &Theme) -> Vec<Line<'a>> {
    let mut lines = Vec::new();
    match (&score.predicted, &score.measured) {
        (Prediction::Number(p), Measured::Number(m)) => {
            let what = match measure {
                Measure::TotalMs => String::new(),
                other => format!(" ({})", measure::describe(other)),
            };
            lines.push(Line::from(vec![
                Span::styled("your prediction: ", t.base),
                Span::styled(measure::format_value(measure, *p), t.strong),
                Span::styled(" · measured on the virtual clock: ", t.base),
                Span::styled(measure::format_value(measure, *m), t.strong),
                Span::styled(what, t.base),
            ]));
            let verdict = if score.within_tolerance {
                format!(
                    "Within {}%: right. Score {:.0}%.",
                    score.tolerance_pct,
                    score.score * 100.0
                )
            } else {
                let off = score
                    .error_pct
                    .map_or(String::new(), |e| format!(" ({e:.0}% off)"));
                format!(
                    "Outside {}%{off}. Score {:.0}%.",
                    score.tolerance_pct,
                    score.score * 100.0
                )
            };
            let style = if score.within_tolerance {
                t.ok
            } else {
                t.error
            };
            lines.push(text(&verdict, style));
        }
        (predicted, measured) => {
            lines.push(Line::from(vec![
                Span::styled("your prediction: ", t.base),
                Span::styled(sanitize(&predicted.to_string()).into_owned(), t.strong),
            ]));
            let first = sanitize(&measured.to_string()).into_owned();
            let verdict = if score.within_tolerance {
                (format!("Right: {first} finished first."), t.ok)
            } else {
                (format!("Not this time: {first} finished first."), t.error)
            };
            lines.push(text(&verdict.0, verdict.1));
        }
    }
    lines
}

fn interview<'a>(i: &Interview, app: &'a App, t: &Theme) -> Page<'a> {
    let n = i.questions().len();
    let title = format!("Mock interview · question {}/{n}", (i.index() + 1).min(n));
    let Some(q) = i.current() else {
        return Page::new(title, vec![text("no question", t.dim)]);
    };
    let Some(lesson) = app.lessons.iter().find(|l| l.id == q.lesson) else {
        return Page::new(title, vec![text("this lesson no longer exists", t.dim)]);
    };
    let mut lines = vec![
        text(
            &format!(
                "{} · {}",
                lesson.label(),
                crate::text::one_line(&lesson.title)
            ),
            t.dim,
        ),
        Line::default(),
    ];
    let md = app.lesson_text(&lesson.id);
    markdown(
        &mut lines,
        md.map(|a| a.question.as_slice()),
        &lesson.question,
        t.heading,
        t,
    );
    lines.push(Line::default());
    match i.phase() {
        Phase::Ready => {
            let secs = i.config().seconds_per_question;
            lines.push(text(
                &format!("Enter starts your {}:{:02} countdown. Answer out loud or type notes; Space skips.", secs / 60, secs % 60),
                t.base,
            ));
        }
        Phase::Answering { .. } => {
            if let Some(left) = i.remaining(app.elapsed) {
                let s = left.as_secs();
                let countdown =
                    format!("{} {}:{:02} left", super::theme::COUNTDOWN, s / 60, s % 60);
                lines.push(text(&countdown, t.key));
            }
            lines.push(Line::from(vec![
                Span::styled("notes: ", t.dim),
                Span::styled(format!("{}▏", sanitize(i.notes())), t.base),
            ]));
            lines.push(Line::default());
            lines.push(text(
                "Enter: done, show the model answer · Esc ends the interview",
                t.dim,
            ));
        }
        Phase::Revealed { timed_out, .. } => {
            // The grading keys first: on a small terminal the model answer runs off the bottom.
            lines.push(text(
                "Grade yourself: 1 Again · 2 Hard · 3 Good · 4 Easy · Space skips",
                t.key,
            ));
            if timed_out {
                lines.push(text("Time's up.", t.error));
            }
            if !i.notes().is_empty() {
                lines.push(text(&format!("your notes: {}", i.notes()), t.dim));
            }
            lines.push(text("Model answer", t.heading));
            lines.extend(
                app.answer_lines(&lesson.id)
                    .iter()
                    .map(|l| md_line(l, t, t.base)),
            );
            lines.push(text("Key points", t.heading));
            for (n, p) in lesson.key_points.iter().enumerate() {
                let mut spans = vec![Span::styled("• ", t.base)];
                match md.and_then(|a| a.key_points.get(n)) {
                    Some(rendered) => {
                        for (j, l) in rendered.iter().enumerate() {
                            if j > 0 {
                                spans.push(Span::styled(" ", t.base));
                            }
                            spans.extend(md_spans(l, t, t.base));
                        }
                    }
                    None => spans.push(Span::styled(crate::text::one_line(p), t.base)),
                }
                lines.push(Line::from(spans));
            }
        }
        Phase::Finished => lines.push(text("finished", t.dim)),
    }
    Page::new(title, lines)
}

fn summary<'a>(s: &Summary, lessons: &[Lesson], t: &Theme) -> Page<'a> {
    let mut lines = Vec::new();
    let total = s.total_time.as_secs();
    lines.push(text(
        &format!(
            "{} answered in {}:{:02}",
            s.answers.len(),
            total / 60,
            total % 60
        ),
        t.strong,
    ));
    lines.push(Line::default());
    for a in &s.answers {
        let label = lessons
            .iter()
            .find(|l| l.id == a.lesson)
            .map_or(a.lesson.0.clone(), |l| {
                format!("{} {}", l.label(), crate::text::one_line(&l.title))
            });
        let secs = a.total_time.as_secs();
        let grade = a.grade.map_or("skipped".to_owned(), |g| format!("{g:?}"));
        lines.push(text(
            &format!("{grade:<8} {}:{:02}  {label}", secs / 60, secs % 60),
            t.base,
        ));
    }
    for id in &s.not_reached {
        lines.push(text(&format!("not reached  {id}"), t.dim));
    }
    lines.push(Line::default());
    lines.push(text(
        "Graded questions come back for review when they are due. Enter or Esc: back",
        t.dim,
    ));
    Page::new("Interview summary".into(), lines)
}

/// A quiz's or review's end: how it went, and when practice is due again.
fn quiz_done<'a>(s: &QuizSummary, t: &Theme) -> Page<'a> {
    let mut lines = vec![
        text(
            &format!("{} of {} item(s) answered", s.answered(), s.items),
            t.strong,
        ),
        Line::default(),
    ];
    let mut counts = vec![
        format!("✓ {} right", s.right),
        format!("~ {} partly", s.partly),
        format!("✗ {} wrong", s.wrong),
        format!("{} skipped", s.skipped),
    ];
    if s.unscored > 0 {
        counts.push(format!(
            "{} not scored (the demo could not run)",
            s.unscored
        ));
    }
    if s.not_reached > 0 {
        counts.push(format!("{} not reached", s.not_reached));
    }
    lines.push(text(&counts.join(" · "), t.base));
    if let Some(avg) = s.average {
        lines.push(text(&format!("average score {:.0}%", avg * 100.0), t.base));
    }
    lines.push(Line::default());
    let due = match s.due_now {
        0 => "Nothing is due for review now".to_owned(),
        1 => "1 item is due for review now (R in the lesson list reviews it)".to_owned(),
        n => format!("{n} items are due for review now (R in the lesson list reviews them)"),
    };
    lines.push(text(&due, t.base));
    let next = match s.next_due {
        Some(day) => {
            let days = (day - s.today).num_days();
            let when = match days {
                1 => "tomorrow".to_owned(),
                n => format!("in {n} days"),
            };
            format!(
                "The next item falls due {when}, {}.",
                day.format("%a %-d %b")
            )
        }
        None => "Nothing else is scheduled yet.".to_owned(),
    };
    lines.push(text(&next, t.base));
    lines.push(Line::default());
    lines.push(text("Enter or Esc: back", t.dim));
    Page::new(format!("{} · done", s.title), lines)
}
