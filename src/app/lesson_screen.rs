//! The lesson screen: the text, the code, the timeline and the parameters, one of them focused.
//! Its keys move focus, scroll, switch the code shown, pick the demo and the clock, and ask for
//! runs; the timeline's and the parameters' own keys go to `RunView` and `DemoPanel`.

use super::lesson_text;
use super::params_panel::{DemoPanel, RunOn};
use super::run_view::{RunStatus, RunView};
use super::{Action, Pane};
use crate::demo::RunRequest;
use crate::demo::asyncio::Runtime;
use crate::demo::source::{self, Source};
use crate::demo::timeline::index::LaneLine;
use crate::lesson::{Language, Lesson};
use crate::markdown::MdLine;

/// How the lesson screen is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LessonLayout {
    /// The lesson text beside the code, the timeline and the parameters.
    Lesson,
    /// The code that runs beside its timeline, both at full height: what a run switches to.
    Demo,
}

/// What the code pane highlights: the line of the event under the time cursor, and the lines
/// the run's lanes are at then (see `demo::timeline::index` for the attribution rule).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodeMarks {
    pub event: Option<u32>,
    pub lanes: Vec<LaneLine>,
}

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
    /// The code pane's line cursor (1-based), once the shown source is linked to a finished run.
    pub code_line: Option<u32>,
    pub layout: LessonLayout,
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
    /// `a` chose where the demo runs (it has a twin): the app keeps it as the preference.
    RuntimeChosen {
        runtime: super::params_panel::RunOn,
        said: String,
    },
    /// Start this run; `note` names the variants left out; `twin` asks for the asyncio twin.
    StartRun {
        request: RunRequest,
        note: Option<String>,
        twin: super::params_panel::TwinPlan,
    },
}

/// Said when a key needs the demo to be idle. It holds only while the run goes: the app clears
/// it when the run ends.
pub const RUN_GOING: &str = "a run is going: Esc or s stops it";

impl LessonView {
    /// Lesson `index` opened: its text is rendered here, once. Its demo starts on `preferred`.
    pub fn open(index: usize, lesson: &Lesson, preferred: RunOn) -> LessonView {
        LessonView {
            index,
            focus: Pane::Text,
            text: lesson_text::build(lesson),
            text_scroll: 0,
            code_scroll: 0,
            code: CodeView::Python,
            code_line: None,
            layout: LessonLayout::Lesson,
            demo: DemoPanel::for_lesson(lesson, 0, preferred),
            run: RunView::new(),
        }
    }

    /// A key on the lesson screen; `preferred` is where a newly shown demo starts.
    pub fn update(&mut self, action: Action, lesson: &Lesson, preferred: RunOn) -> LessonOutcome {
        match action {
            // Esc during a run only stops it, as `s` does; the next Esc leaves.
            Action::Back if self.run.status == RunStatus::Running => {
                return LessonOutcome::CancelRun;
            }
            Action::Back => return LessonOutcome::Leave { cancel_run: false },
            Action::NextPane => self.focus = cycle(self.layout, self.focus, 1),
            Action::PrevPane => self.focus = cycle(self.layout, self.focus, -1),
            Action::ToggleLayout => self.toggle_layout(),
            Action::Click { pane, .. } => self.focus = pane,
            Action::ToggleLanguage => {
                self.code = match (self.code, self.demo.is_some()) {
                    (CodeView::Python, _) => CodeView::Rust,
                    (CodeView::Rust, true) => CodeView::DemoSource,
                    _ => CodeView::Python,
                };
                self.code_scroll = 0;
                self.code_line = None;
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
                    self.demo = DemoPanel::for_lesson(lesson, next, preferred);
                    self.run = RunView::new();
                    if let Some(d) = &self.demo {
                        return LessonOutcome::Message(format!(
                            "demo {}/{}: {}",
                            next + 1,
                            lesson.demos.len(),
                            d.demo.spec().id
                        ));
                    }
                }
            }
            Action::ToggleRuntime => {
                if self.run.status == RunStatus::Running {
                    return LessonOutcome::Message(RUN_GOING.into());
                }
                if let Some(d) = &mut self.demo {
                    let said = d.toggle_runtime();
                    if crate::demo::asyncio::twin(d.demo.spec().id).is_none() {
                        return LessonOutcome::Message(said);
                    }
                    return LessonOutcome::RuntimeChosen {
                        runtime: d.runtime,
                        said,
                    };
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
            other if self.focus == Pane::Code && self.linked() => self.code_keys(other),
            other => match self.focus {
                Pane::Text | Pane::Code | Pane::List | Pane::Practice | Pane::RuntimeChoice => {
                    match other {
                        Action::Up => self.scroll(-1),
                        Action::Down => self.scroll(1),
                        Action::PageUp => self.scroll(-10),
                        Action::PageDown => self.scroll(10),
                        Action::Home => self.scroll(-100_000),
                        Action::End => self.scroll(100_000),
                        _ => {}
                    }
                }
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
            return LessonOutcome::Message(RUN_GOING.into());
        }
        let Some(d) = &self.demo else {
            return LessonOutcome::Message("this lesson has no demo".into());
        };
        let planned = d.request(compare).and_then(|(mut request, note)| {
            let (twin, twin_note) = d.twin_plan(&mut request)?;
            let note = match (note, twin_note) {
                (Some(a), Some(b)) => Some(format!("{a}; {b}")),
                (a, b) => a.or(b),
            };
            Ok((request, note, twin))
        });
        match planned {
            Ok((request, note, twin)) => {
                let runtime = match &twin {
                    Some((_, false)) => Runtime::Asyncio,
                    _ => Runtime::Tokio,
                };
                self.run = RunView::running_on(runtime);
                self.focus = Pane::Timeline;
                // What made the timeline is what the code pane shows, beside it.
                self.layout = LessonLayout::Demo;
                if self.code != CodeView::DemoSource {
                    self.code = CodeView::DemoSource;
                    self.code_scroll = 0;
                }
                self.code_line = None;
                LessonOutcome::StartRun {
                    request,
                    note,
                    twin,
                }
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

    /// The code the pane shows, its language and a caption: beside a demo, the source of the run
    /// being followed (see [`Self::run_source`]); else the lesson's snippet.
    pub fn code_text<'a>(&'a self, lesson: &'a Lesson) -> (&'a str, Language, String) {
        match self.code {
            CodeView::DemoSource => match self.followed_source() {
                Some((id, runtime, source)) => {
                    let caption = match runtime {
                        Runtime::Tokio => format!("Rust · {}, as it runs", source.short_name()),
                        Runtime::Asyncio => format!(
                            "Python · {}, the {id} demo's asyncio twin",
                            source.short_name()
                        ),
                    };
                    (&source.text, source.language, caption)
                }
                None => snippet(lesson, Language::Rust),
            },
            CodeView::Rust => snippet(lesson, Language::Rust),
            CodeView::Python => snippet(lesson, Language::Python),
        }
    }

    /// The source of the run the time cursor follows, as the run carries it (the demo's shown
    /// file for a tokio run, its twin for an asyncio run); before any run, the one the runtime
    /// asked for will run. `None` without a demo.
    pub fn run_source(&self) -> Option<&Source> {
        self.followed_source().map(|(_, _, source)| source)
    }

    fn followed_source(&self) -> Option<(&'static str, Runtime, &Source)> {
        let id = self.demo.as_ref()?.demo.spec().id;
        // A run carries the sources that ran: what the code pane shows beside it.
        if let Some(run) = self.run.shown_run()
            && let Some(ran) = run.sources.first()
        {
            return Some((id, run.runtime, ran));
        }
        let runtime = match self.run.status {
            RunStatus::Idle => Runtime::Tokio,
            _ => self.run.shown_runtime(),
        };
        match source::of_run(id, runtime) {
            Some(s) => Some((id, runtime, s)),
            // A run with no twin is a tokio run.
            None => source::shown(id).map(|s| (id, Runtime::Tokio, s)),
        }
    }

    /// Does the code pane show the source of the finished run on the timeline?
    pub fn linked(&self) -> bool {
        self.code == CodeView::DemoSource && self.demo.is_some() && self.run.index().is_some()
    }

    /// Lesson text ⇄ code beside the timeline; focus leaves a pane that is not shown.
    fn toggle_layout(&mut self) {
        self.layout = match self.layout {
            LessonLayout::Lesson => LessonLayout::Demo,
            LessonLayout::Demo => LessonLayout::Lesson,
        };
        match (self.layout, self.focus) {
            (LessonLayout::Demo, Pane::Text | Pane::Params) => self.focus = Pane::Timeline,
            (LessonLayout::Lesson, _) => self.focus = Pane::Text,
            _ => {}
        }
    }

    /// The code pane's keys on a linked source: ↑/↓ move the line cursor, ←/→ put the time
    /// cursor on the line's previous/next event.
    fn code_keys(&mut self, action: Action) {
        let lines = self.run_source().map_or(1, Source::line_count);
        let now = self
            .code_line
            .or_else(|| self.run.cursor_event().and_then(|e| e.line))
            .unwrap_or(self.code_scroll as u32 + 1);
        let moved = |d: i64| Some((i64::from(now) + d).clamp(1, lines.max(1) as i64) as u32);
        match action {
            Action::Up => self.code_line = moved(-1),
            Action::Down => self.code_line = moved(1),
            Action::PageUp => self.code_line = moved(-10),
            Action::PageDown => self.code_line = moved(10),
            Action::Home => self.code_line = moved(-(lines as i64)),
            Action::End => self.code_line = moved(lines as i64),
            Action::Left | Action::Right => {
                let line = now;
                self.code_line = Some(line);
                let Some(index) = self.run.index() else {
                    return;
                };
                let here = self.run.event;
                let to = if action == Action::Right {
                    index.next_on_line(line, here)
                } else {
                    index.prev_on_line(line, here)
                };
                if let Some(i) = to {
                    self.run.go_to_event(i);
                }
            }
            _ => {}
        }
    }

    /// What the code pane highlights for the time cursor, from the run's index (O(log n) plus
    /// the lines lanes are at): nothing unless it shows the linked source.
    pub fn code_marks(&self) -> CodeMarks {
        if !self.linked() {
            return CodeMarks::default();
        }
        let (Some(index), Some(i)) = (self.run.index(), self.run.event) else {
            return CodeMarks::default();
        };
        CodeMarks {
            event: index.event(i).and_then(|e| e.line),
            lanes: index.lanes_at(i),
        }
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

/// The next (or previous) pane the layout shows, round them.
fn cycle(layout: LessonLayout, p: Pane, step: isize) -> Pane {
    let order = super::panes::tab_order(layout);
    let i = order.iter().position(|&x| x == p).unwrap_or(0) as isize;
    let n = order.len() as isize;
    order[((i + step) % n + n) as usize % order.len()]
}
