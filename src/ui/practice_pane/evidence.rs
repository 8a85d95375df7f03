//! A run drawn as evidence in practice: the timeline under its caption (the guess against what
//! was measured, or what the fix changes).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::{markdown, paragraph, rows, text};
use crate::app::App;
use crate::app::practice::{ItemState, PracticeView};
use crate::app::practice_screen::{ShownRun, ShownRunState};
use crate::demo::Clock;
use crate::demo::asyncio::Runtime;
use crate::demo::timeline::fmt_ms;
use crate::lesson::Measure;
use crate::practice::{Measured, Prediction, RunPurpose, measure};
use crate::text::sanitize;
use crate::ui::theme::Theme;
use crate::ui::timeline_pane::TimelinePane;

/// Rows the timeline needs to show every lane: a header, the lanes, the series strips the pane
/// draws (at most three) and the axis with its labels.
pub(super) fn timeline_rows(run: &ShownRun) -> u16 {
    match &run.state {
        ShownRunState::Done { view, .. } => crate::ui::timeline_pane::rows_wanted(view),
        _ => 0,
    }
}

pub(super) fn draw_run(
    run: &ShownRun,
    caption: Vec<Line<'_>>,
    area: Rect,
    buf: &mut Buffer,
    t: &Theme,
) {
    let caption_h = (rows(&caption, area.width) as u16).min(area.height);
    paragraph(caption).render(Rect::new(area.x, area.y, area.width, caption_h), buf);
    if let ShownRunState::Done { view, .. } = &run.state {
        let lanes = Rect::new(
            area.x,
            area.y + caption_h,
            area.width,
            area.height - caption_h,
        );
        (&TimelinePane {
            run: view,
            line: None,
            narrate: false,
            theme: t,
        })
            .render(lanes, buf);
    }
}

pub(super) fn clock_name(clock: Clock) -> &'static str {
    match clock {
        Clock::Virtual => "virtual clock",
        Clock::Real => "real clock (measured)",
    }
}

/// The lines over the run: what ran, for a prediction the guess against what was measured, for
/// a bug what the fix changes, and what to look at; with how many of them are essential (the
/// rest is prose that gives way on a small terminal).
pub(super) fn run_caption<'a>(run: &ShownRun, app: &'a App, t: &Theme) -> (Vec<Line<'a>>, usize) {
    let clock = clock_name(run.clock);
    // A run of the asyncio twin says so: it looks like a tokio run otherwise.
    let (demo, on) = match run.runtime {
        Runtime::Asyncio => (format!("{}'s asyncio twin", run.demo), " · asyncio"),
        Runtime::Tokio => (run.demo.to_owned(), ""),
    };
    let (tags, changed) = match &run.state {
        ShownRunState::Running => {
            let wait = if run.clock == Clock::Real {
                " (a few seconds at most)"
            } else {
                ""
            };
            let line = text(
                &format!("running {demo} on the {} clock…{wait}", run.clock.name()),
                t.dim,
            );
            return (vec![line], 1);
        }
        ShownRunState::Failed(e) => {
            let line = text(&format!("could not run {}: {e}", run.demo), t.error);
            return (vec![line], 1);
        }
        ShownRunState::Done { tags, changed, .. } => (tags, changed),
    };
    let legend: Vec<String> = tags.iter().map(|(tag, v)| format!("{tag} = {v}")).collect();
    let mut lines = Vec::new();
    let mut essential = 1;
    match &run.purpose {
        RunPurpose::Predict(_) => {
            let mut spans = vec![Span::styled(
                format!("The run · {}{on} · {clock}", run.demo),
                t.strong,
            )];
            if let Some(guess) = predict_guess(app) {
                spans.push(Span::styled(format!(" · {guess}"), t.base));
            }
            lines.push(Line::from(spans));
        }
        RunPurpose::Evidence(key) => {
            lines.push(text(
                &format!(
                    "Evidence · {}{on} · {clock} · lanes: {}",
                    run.demo,
                    legend.join(", ")
                ),
                t.strong,
            ));
            if !changed.is_empty() {
                lines.push(text(&format!("bug → fix: {}", changed.join(" · ")), t.base));
                essential = 2;
            }
            let caption = key
                .resolve(&app.lessons)
                .and_then(|(lesson, item)| crate::practice::score::exercise(lesson, item?).ok())
                .and_then(|hunt| hunt.evidence.as_ref())
                .map(|e| e.caption.as_str());
            if let Some(c) = caption {
                let md = app.item_text(key).map(|i| i.evidence_caption.as_slice());
                markdown(&mut lines, md, c, t.dim, t);
            }
        }
        // Never shown (see `RunPurpose::Candidates`).
        RunPurpose::Candidates(_) => {}
        RunPurpose::Interview { lesson, .. } => {
            let lanes = if legend.is_empty() {
                String::new()
            } else {
                format!(" · lanes: {}", legend.join(", "))
            };
            lines.push(text(
                &format!("Demo · {} · {clock}{lanes}", run.demo),
                t.heading,
            ));
            let demo = app
                .lessons
                .iter()
                .find(|l| &l.id == lesson)
                .and_then(|l| l.demos.first());
            if let Some(d) = demo {
                let md = app.lesson_text(lesson).map(|a| a.demo_caption.as_slice());
                markdown(&mut lines, md, &d.caption, t.dim, t);
            }
        }
    }
    (lines, essential)
}

/// "your guess ▲ 250 ms · measured 300 ms": the answered prediction against the run.
pub(super) fn predict_guess(app: &App) -> Option<String> {
    let Some(PracticeView::Quiz(q)) = &app.practice.view else {
        return None;
    };
    let ItemState::Predict {
        result: Some(Ok(score)),
        ..
    } = &q.state
    else {
        return None;
    };
    let (_, item) = q.items.get(q.index)?.resolve(&app.lessons)?;
    let measure = &item?.as_predict()?.measure;
    let measured = &score.measured;
    Some(match (measure, &score.predicted, measured) {
        (Measure::TotalMs, Prediction::Number(g), Measured::Number(m)) => {
            format!("your guess ▲ {} · measured {}", fmt_ms(*g), fmt_ms(*m))
        }
        (Measure::FirstFinished, Prediction::Name(g), _) => {
            format!(
                "your guess ▸ {} · first to finish: {}",
                sanitize(g),
                sanitize(&measured.to_string())
            )
        }
        (m, Prediction::Number(g), Measured::Number(v)) => format!(
            "your guess {} · measured {} ({})",
            measure::format_value(m, *g),
            measure::format_value(m, *v),
            measure::describe(m)
        ),
        (m, g, v) => format!(
            "your guess {} · measured {} ({})",
            sanitize(&g.to_string()),
            sanitize(&v.to_string()),
            measure::describe(m)
        ),
    })
}
