//! Practice: a quiz item (choice, predict, spot the bug, recall), the mock interview with its
//! countdown, and the interview summary.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};

use super::theme::Theme;
use crate::app::App;
use crate::app::practice::{ItemState, PracticeView, QuizSession, spot_code};
use crate::lesson::Lesson;
use crate::practice::{Interview, Phase, Summary};
use crate::text::sanitize;

pub struct PracticePane<'a> {
    pub app: &'a App,
    pub theme: &'a Theme,
}

impl Widget for &PracticePane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let t = self.theme;
        let Some(view) = &self.app.practice else {
            return;
        };
        let (title, lines) = match view {
            PracticeView::Quiz(q) => quiz(q, self.app, t),
            PracticeView::Interview(i) => interview(i, self.app, t),
            PracticeView::Summary(s) => summary(s, &self.app.lessons, t),
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(t.border_focused)
            .title(Span::styled(format!(" {title} "), t.title));
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block)
            .render(area, buf);
    }
}

fn text(s: &str, style: Style) -> Line<'static> {
    Line::styled(sanitize(s).into_owned(), style)
}

/// Lesson prose (a question, a prompt, an explanation): one line per paragraph, its own line
/// breaks read as spaces (see [`crate::text::paragraphs`]).
fn prose(lines: &mut Vec<Line<'_>>, s: &str, style: Style) {
    lines.extend(
        crate::text::paragraphs(s)
            .into_iter()
            .map(|p| Line::styled(p, style)),
    );
}

fn quiz<'a>(q: &QuizSession, app: &'a App, t: &Theme) -> (String, Vec<Line<'a>>) {
    let lessons = &app.lessons;
    let title = format!("{} · {}/{}", q.title, q.index + 1, q.items.len());
    let Some((lesson, item)) = q.items.get(q.index).and_then(|k| k.resolve(lessons)) else {
        return (title, vec![text("this item no longer exists", t.dim)]);
    };
    let mut lines = vec![
        text(&format!("{} · {}", lesson.label(), lesson.title), t.dim),
        Line::default(),
    ];
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
            lines.push(Line::default());
            lines.push(Line::from(vec![
                Span::styled("your prediction: ", t.base),
                Span::styled(format!("{input}▏"), t.selected),
            ]));
            match result {
                None => {
                    lines.push(Line::default());
                    lines.push(text(
                        "type a number (ms) or a task name · Enter runs the demo and scores it · Space before typing skips",
                        t.dim,
                    ));
                }
                Some(Ok(score)) => {
                    lines.push(Line::default());
                    lines.push(text(
                        &format!("measured on the virtual clock: {}", score.measured),
                        t.strong,
                    ));
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
            if let Some(item) = item {
                prose(&mut lines, &item.prompt, t.strong);
            }
            lines.push(Line::default());
            let code = spot_code(lesson, item).unwrap_or("");
            for (i, l) in code.lines().enumerate() {
                let n = i as u32 + 1;
                let is_marked = marked.contains(&n);
                let verdict = result.as_ref().map(|r| {
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
                let style = if i == *cursor && result.is_none() {
                    t.selected
                } else if is_marked {
                    t.strong
                } else {
                    t.code
                };
                lines.push(text(&format!("{mark}{n:>3} {l}"), style));
            }
            lines.push(Line::default());
            match result {
                None => lines.push(text("↑/↓ move · Space marks a line · Enter checks", t.dim)),
                Some(r) => {
                    lines.push(text(
                        &format!(
                            "found {} of {} bug(s), {} false mark(s) · score {:.0}%  (✓ hit, ✗ false mark, ! missed)",
                            r.found,
                            r.found + r.missed,
                            r.false_marks.len(),
                            r.score * 100.0
                        ),
                        t.strong,
                    ));
                    for b in &r.bugs {
                        let lines_s: Vec<String> = b.lines.iter().map(u32::to_string).collect();
                        prose(
                            &mut lines,
                            &format!("line {}: {}", lines_s.join(", "), b.why),
                            t.base,
                        );
                    }
                    lines.push(text("Enter: next", t.dim));
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
    (title, lines)
}

fn interview<'a>(i: &Interview, app: &App, t: &Theme) -> (String, Vec<Line<'a>>) {
    let n = i.questions().len();
    let title = format!("Mock interview · question {}/{n}", (i.index() + 1).min(n));
    let Some(q) = i.current() else {
        return (title, vec![text("no question", t.dim)]);
    };
    let Some(lesson) = app.lessons.iter().find(|l| l.id == q.lesson) else {
        return (title, vec![text("this lesson no longer exists", t.dim)]);
    };
    let mut lines = vec![
        text(&format!("{} · {}", lesson.label(), lesson.title), t.dim),
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
            if let Some(d) = lesson.demos.first() {
                lines.push(text(
                    &format!("Demo: {} — open the lesson and press r to watch it", d.demo),
                    t.dim,
                ));
            }
            lines.push(Line::default());
            lines.push(text(
                "Grade yourself: 1 Again · 2 Hard · 3 Good · 4 Easy · Space skips",
                t.key,
            ));
        }
        Phase::Finished => lines.push(text("finished", t.dim)),
    }
    (title, lines)
}

fn summary<'a>(s: &Summary, lessons: &[Lesson], t: &Theme) -> (String, Vec<Line<'a>>) {
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
            .map_or(a.lesson.0.clone(), |l| format!("{} {}", l.label(), l.title));
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
    ("Interview summary".into(), lines)
}
