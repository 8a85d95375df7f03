//! Practice: a quiz item (choice, predict, spot the bug, recall), the mock interview with its
//! countdown, and the interview summary. Once an answer is in, the run that backs it is drawn
//! beside the text (wide terminals) or under it, by the timeline pane's own widget: a prediction's
//! run with the guess marked, a bug's buggy and fixed variants on one axis, an interview
//! question's demo.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};

use super::theme::Theme;
use crate::app::App;
use crate::app::practice::{ItemState, PracticeView, QuizSession, spot_code};
use crate::app::practice_screen::{ShownRun, ShownRunState};
use crate::demo::timeline::fmt_ms;
use crate::lesson::{Lesson, Measure};
use crate::practice::{Interview, Phase, Prediction, Summary};
use crate::text::sanitize;

mod evidence;
mod spot;

use evidence::{draw_run, run_caption, timeline_rows};
use spot::{compact_listing, spot_listing, spot_verdict};

pub struct PracticePane<'a> {
    pub app: &'a App,
    pub theme: &'a Theme,
}

/// Inner width from which the run goes beside the text rather than under it.
const SIDE_BY_SIDE_WIDTH: u16 = 140;

/// What the text side shows: all of it, and a shorter form for when that does not fit.
struct Page<'a> {
    title: String,
    lines: Vec<Line<'a>>,
    /// The essentials first, for a small terminal; `None`: the full text is all there is.
    compact: Option<Vec<Line<'a>>>,
}

impl<'a> Page<'a> {
    fn new(title: String, lines: Vec<Line<'a>>) -> Page<'a> {
        Page {
            title,
            lines,
            compact: None,
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
        let Some(view) = &app.practice else {
            return;
        };
        let page = match view {
            PracticeView::Quiz(q) => quiz(q, app, t),
            PracticeView::Interview(i) => interview(i, app, t),
            PracticeView::Summary(s) => summary(s, &app.lessons, t),
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(t.border_focused);
        let inner = block.inner(area);
        let title = page.title.clone();
        let (text, text_area, run) = match app.practice_run.as_ref() {
            None => (
                scrolled(page.lines, inner, app.practice_scroll),
                inner,
                None,
            ),
            Some(run) => {
                let (text_area, run_area, caption) = split(inner, run, run_caption(run, app, t));
                let text = scrolled(page.fitted(text_area), text_area, app.practice_scroll);
                (text, text_area, Some((run, caption, run_area)))
            }
        };
        block
            .title(Span::styled(format!(" {title} "), t.title))
            .title(Span::styled(text.hint(), t.dim))
            .render(area, buf);
        text.paragraph.render(text_area, buf);
        if let Some((run, caption, run_area)) = run {
            draw_run(run, caption, run_area, buf, t);
        }
    }
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

/// `lines` wrapped to `area`, from row `want` (or the last row that still fills the area).
fn scrolled(lines: Vec<Line<'_>>, area: Rect, want: usize) -> Scrolled<'_> {
    let paragraph = paragraph(lines);
    let rows = paragraph.line_count(area.width);
    let room = usize::from(area.height);
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

/// Where the text and the run go, and how much of the caption shows. A finished run goes beside
/// the text on a wide terminal, else under it, taking what it needs but leaving the text at least
/// a third of the height; short of room, the lanes matter more than the sentence about them,
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
        let text_min = (inner.height / 3).max(6);
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

fn quiz<'a>(q: &QuizSession, app: &'a App, t: &Theme) -> Page<'a> {
    let lessons = &app.lessons;
    let title = format!("{} · {}/{}", q.title, q.index + 1, q.items.len());
    let Some((lesson, item)) = q.items.get(q.index).and_then(|k| k.resolve(lessons)) else {
        return Page::new(title, vec![text("this item no longer exists", t.dim)]);
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
    let mut compact = None;
    match (&q.state, item) {
        (ItemState::Choice { selected, result }, Some(item)) => {
            prose(&mut lines, &item.prompt, t.strong);
            lines.push(Line::default());
            for (i, option) in item
                .as_choice()
                .into_iter()
                .flat_map(|c| &c.options)
                .enumerate()
            {
                let marker = match result {
                    Some(r) if r.answer == i + 1 => "✓",
                    Some(r) if r.chosen == i + 1 => "✗",
                    _ if *selected == i => "›",
                    _ => " ",
                };
                let style = if *selected == i && result.is_none() {
                    t.selected
                } else {
                    t.base
                };
                lines.push(text(
                    &format!(" {marker} {}. {}", i + 1, crate::text::one_line(option)),
                    style,
                ));
            }
            if let Some(r) = result {
                lines.push(Line::default());
                let verdict = if r.correct {
                    ("Right.", t.ok)
                } else {
                    ("Not quite.", t.error)
                };
                lines.push(text(verdict.0, verdict.1));
                prose(&mut lines, &r.explanation, t.base);
                lines.push(Line::default());
                lines.push(text("Enter: next", t.dim));
            } else {
                lines.push(Line::default());
                lines.push(text(
                    "↑/↓ or 1-9 choose · Enter answers · Space skips · Esc leaves",
                    t.dim,
                ));
            }
        }
        (ItemState::Predict { input, result }, Some(item)) => {
            prose(&mut lines, &item.prompt, t.strong);
            let predict = item.as_predict();
            let time = predict.is_some_and(|p| p.measure == Measure::TotalMs);
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
            }
            lines.push(Line::default());
            let number = |n: f64| if time { fmt_ms(n) } else { format!("{n}") };
            match result {
                None => {
                    lines.push(Line::from(vec![
                        Span::styled("your prediction: ", t.base),
                        Span::styled(format!("{input}▏"), t.selected),
                    ]));
                    lines.push(Line::default());
                    lines.push(text(
                        "type a number (ms) or a task name · Enter runs the demo and scores it · Space before typing skips",
                        t.dim,
                    ));
                }
                Some(Ok(score)) => {
                    let (predicted, measured) = match (&score.predicted, &score.measured) {
                        (Prediction::Number(p), crate::practice::Measured::Number(m)) => {
                            (number(*p), number(*m))
                        }
                        (p, m) => (p.to_string(), m.to_string()),
                    };
                    lines.push(Line::from(vec![
                        Span::styled("your prediction: ", t.base),
                        Span::styled(sanitize(&predicted).into_owned(), t.strong),
                        Span::styled(" · measured on the virtual clock: ", t.base),
                        Span::styled(sanitize(&measured).into_owned(), t.strong),
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
                    lines.push(text(
                        &verdict,
                        if score.within_tolerance {
                            t.ok
                        } else {
                            t.error
                        },
                    ));
                    prose(&mut lines, &item.explanation, t.base);
                    lines.push(Line::default());
                    lines.push(text("Enter: next", t.dim));
                }
                Some(Err(e)) => {
                    lines.push(Line::from(vec![
                        Span::styled("your prediction: ", t.base),
                        Span::styled(sanitize(input).into_owned(), t.strong),
                    ]));
                    lines.push(text(&format!("could not run the demo: {e}"), t.error));
                    lines.push(text("Enter: next", t.dim));
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
                prose(&mut head, &item.prompt, t.strong);
            }
            lines.extend(head.iter().cloned());
            lines.push(Line::default());
            let code = spot_code(lesson, item).unwrap_or("");
            let listing = spot_listing(code, *cursor, marked, result.as_ref(), t);
            lines.extend(listing.iter().map(|(_, l)| l.clone()));
            lines.push(Line::default());
            match result {
                None => lines.push(text("↑/↓ move · Space marks a line · Enter checks", t.dim)),
                Some(r) => {
                    let verdict = spot_verdict(r, t);
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
            prose(&mut lines, &lesson.question, t.strong);
            lines.push(Line::default());
            if *revealed {
                for l in app.answer_lines(&lesson.id) {
                    lines.push(text(&l.text(), t.base));
                }
                match graded {
                    None => lines.push(text(
                        "How well did you know it? 1 Again · 2 Hard · 3 Good · 4 Easy",
                        t.key,
                    )),
                    Some(g) => lines.push(text(&format!("graded {g:?} · Enter: next"), t.dim)),
                }
            } else {
                lines.push(text(
                    "Answer it out loud, then Enter shows the model answer. Space skips.",
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
    }
}

fn interview<'a>(i: &Interview, app: &App, t: &Theme) -> Page<'a> {
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
    prose(&mut lines, &lesson.question, t.heading);
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
                lines.push(text(&format!("⏱ {}:{:02} left", s / 60, s % 60), t.key));
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
            for l in app.answer_lines(&lesson.id) {
                lines.push(text(&l.text(), t.base));
            }
            lines.push(text("Key points", t.heading));
            for p in &lesson.key_points {
                lines.push(text(&format!("• {}", crate::text::one_line(p)), t.base));
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
