//! The lesson screen: the text, the code, the timeline and the parameters, one of them focused.
//! Its keys move focus, scroll, switch the code shown, pick the demo and the clock, and ask for
//! runs; the timeline's and the parameters' own keys go to `RunView` and `DemoPanel`.

use super::lesson_text;
use super::params_panel::DemoPanel;
use super::run_view::{RunStatus, RunView};
use super::{Action, Pane};
use crate::demo::RunRequest;
use crate::lesson::{Language, Lesson};
use crate::markdown::MdLine;

/// What the code pane shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeView {
    Python,
    /// The lesson's Rust snippet.
    Rust,
    /// The running demo's own source: what you read is what runs.
    DemoSource,
}

#[derive(Debug)]
pub struct LessonView {
    pub index: usize,
    pub focus: Pane,
    pub text: Vec<MdLine>,
    pub text_scroll: usize,
    pub code_scroll: usize,
    pub code: CodeView,
    pub demo: Option<DemoPanel>,
    pub run: RunView,
}

/// What a lesson key asks of the app.
#[derive(Debug)]
pub enum LessonOutcome {
    None,
    /// Tell the user (a refused parameter value, the clock chosen, why a run cannot start).
    Message(String),
    /// Back to the browser, cancelling the run if one is going.
    Leave {
        cancel_run: bool,
    },
    CancelRun,
    /// Start this run; `note` names the variants left out.
    StartRun {
        request: RunRequest,
        note: Option<String>,
    },
}

impl LessonView {
    /// Lesson `index` opened: its text is rendered here, once.
    pub fn open(index: usize, lesson: &Lesson) -> LessonView {
        LessonView {
            index,
            focus: Pane::Text,
            text: lesson_text::build(lesson),
            text_scroll: 0,
            code_scroll: 0,
            code: CodeView::Python,
            demo: DemoPanel::for_lesson(lesson, 0),
            run: RunView::new(),
        }
    }

    pub fn update(&mut self, action: Action, lesson: &Lesson) -> LessonOutcome {
        match action {
            Action::Back => {
                return LessonOutcome::Leave {
                    cancel_run: self.run.status == RunStatus::Running,
                };
            }
            Action::NextPane => self.focus = cycle(self.focus, 1),
            Action::PrevPane => self.focus = cycle(self.focus, -1),
            Action::Click { pane, .. } => self.focus = pane,
            Action::ToggleLanguage => {
                self.code = match (self.code, self.demo.is_some()) {
                    (CodeView::Python, _) => CodeView::Rust,
                    (CodeView::Rust, true) => CodeView::DemoSource,
                    _ => CodeView::Python,
                };
                self.code_scroll = 0;
            }
            Action::Run | Action::Compare => return self.start_run(action == Action::Compare),
            Action::Cancel if self.run.status == RunStatus::Running => {
                return LessonOutcome::CancelRun;
            }
            Action::Cancel => {}
            Action::NextDemo => {
                if !lesson.demos.is_empty() && self.run.status != RunStatus::Running {
                    let next = self
                        .demo
                        .as_ref()
                        .map_or(0, |d| (d.index + 1) % lesson.demos.len());
                    self.demo = DemoPanel::for_lesson(lesson, next);
                    self.run = RunView::new();
                }
            }
            Action::ToggleClock => {
                if let Some(d) = &mut self.demo {
                    return LessonOutcome::Message(d.toggle_clock());
                }
            }
            Action::Scroll { pane, down } => {
                self.focus = pane;
                self.scroll(if down { 3 } else { -3 });
            }
            other => match self.focus {
                Pane::Text | Pane::Code | Pane::List | Pane::Practice => match other {
                    Action::Up => self.scroll(-1),
                    Action::Down => self.scroll(1),
                    Action::PageUp => self.scroll(-10),
                    Action::PageDown => self.scroll(10),
                    Action::Home => self.scroll(-100_000),
                    Action::End => self.scroll(100_000),
                    _ => {}
                },
                Pane::Timeline => self.run.update(other),
                Pane::Params => {
                    if let Some(msg) = self.demo.as_mut().and_then(|d| d.update(other)) {
                        return LessonOutcome::Message(msg);
                    }
                }
            },
        }
        LessonOutcome::None
    }

    fn start_run(&mut self, compare: bool) -> LessonOutcome {
        if self.run.status == RunStatus::Running {
            return LessonOutcome::Message("a run is already going: Esc cancels it".into());
        }
        let Some(d) = &self.demo else {
            return LessonOutcome::Message("this lesson has no demo".into());
        };
        match d.request(compare) {
            Ok((request, note)) => {
                self.run = RunView::running();
                self.focus = Pane::Timeline;
                LessonOutcome::StartRun { request, note }
            }
            Err(why) => LessonOutcome::Message(why),
        }
    }

    fn scroll(&mut self, delta: isize) {
        let apply = |x: usize| x.saturating_add_signed(delta);
        match self.focus {
            Pane::Code => self.code_scroll = apply(self.code_scroll),
            Pane::Timeline => self.run.lane_scroll = apply(self.run.lane_scroll),
            _ => self.text_scroll = apply(self.text_scroll).min(self.text.len().saturating_sub(1)),
        }
    }

    /// The code the pane shows, its language and a caption.
    pub fn code_text<'a>(&self, lesson: &'a Lesson) -> (&'a str, Language, String) {
        match self.code {
            CodeView::DemoSource => {
                if let Some(d) = &self.demo {
                    let spec = d.demo.spec();
                    return (
                        spec.source,
                        Language::Rust,
                        format!("Rust · the {} demo, as it runs", spec.id),
                    );
                }
                snippet(lesson, Language::Rust)
            }
            CodeView::Rust => snippet(lesson, Language::Rust),
            CodeView::Python => snippet(lesson, Language::Python),
        }
    }

    /// Lines of the demo source that the latest marks (at or before the cursor) point at.
    pub fn marked_lines(&self) -> Vec<u32> {
        if self.code != CodeView::DemoSource {
            return Vec::new();
        }
        let Some(snap) = self.run.snapshot() else {
            return Vec::new();
        };
        let until = self.run.cursor_ms.unwrap_or(f64::INFINITY);
        let Some(latest) = snap
            .marks
            .iter()
            .filter(|m| m.t_ms <= until + 1e-9 && m.line.is_some())
            .map(|m| m.t_ms)
            .reduce(f64::max)
        else {
            return Vec::new();
        };
        let mut lines: Vec<u32> = snap
            .marks
            .iter()
            .filter(|m| (m.t_ms - latest).abs() < 1e-9)
            .filter_map(|m| m.line)
            .collect();
        lines.sort_unstable();
        lines.dedup();
        lines
    }
}

fn snippet(lesson: &Lesson, language: Language) -> (&str, Language, String) {
    match lesson.snippet(language) {
        Some(s) => {
            let name = if language == Language::Python {
                "Python"
            } else {
                "Rust"
            };
            let caption = if s.title.is_empty() {
                name.to_owned()
            } else {
                format!("{name} · {}", crate::text::sanitize(&s.title))
            };
            (s.source.as_str(), language, caption)
        }
        None => ("", language, String::new()),
    }
}

/// The next (or previous) lesson pane, round the four.
fn cycle(p: Pane, step: isize) -> Pane {
    let order = Pane::LESSON_ORDER;
    let i = order.iter().position(|&x| x == p).unwrap_or(0) as isize;
    let n = order.len() as isize;
    order[((i + step) % n + n) as usize % order.len()]
}
