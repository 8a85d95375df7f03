//! The app's state and `update(Action) -> Effect`: no drawing, no I/O. The terminal loop (`tui`)
//! turns keys into actions, performs the effects (starting a demo run, scoring a prediction,
//! saving progress) off the UI thread and feeds results back as actions; `ui` draws the state.
//!
//! One module per concern, each with its own `update`: `browser` (the lesson list and filter),
//! `lesson_screen` (focus, scrolling, code view, asking for runs), `run_view` (the timeline's
//! cursor, zoom and pan), `params_panel` (parameters, variants, clock), `practice_screen` and
//! `practice` (quizzes, reviews, the mock interview). `App::update` routes an action to one of
//! them and applies what it asks for.

pub mod action;
pub mod browser;
pub mod key;
pub mod keymap;
pub mod lesson_screen;
pub mod lesson_text;
pub mod panes;
pub mod params_panel;
pub mod practice;
pub mod practice_screen;
pub mod run_view;
pub mod script_screen;

pub use action::{Action, Effect};
pub use browser::BrowserState;
pub use key::{Key, KeyCode};
pub use lesson_screen::{CodeMarks, CodeView, LessonLayout, LessonView};
pub use params_panel::DemoPanel;
pub use run_view::{RunStatus, RunView};

use browser::BrowserOutcome;
use lesson_screen::LessonOutcome;

use crate::demo::asyncio::RunOn;
use crate::lesson::{Lesson, LessonSet};

/// What the first start's answer means, said back.
fn starts_on(runtime: RunOn) -> &'static str {
    match runtime {
        RunOn::Asyncio => "demos start on asyncio: each demo's twin on your python3",
        RunOn::Tokio => "demos start on tokio",
        RunOn::Both => "demos start on tokio and asyncio, on one time axis",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Screen {
    Browser,
    Lesson,
    Practice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pane {
    List,
    Practice,
    Text,
    Code,
    Timeline,
    Params,
    /// The first start's question over the lesson list (how to watch the demos): it has the
    /// keys while it shows.
    RuntimeChoice,
}

impl Pane {
    /// Its row of the pane table.
    pub fn row(self) -> &'static panes::PaneRow {
        panes::row(self)
    }

    pub fn title(self) -> &'static str {
        self.row().title
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Palette {
    Dark,
    Light,
}

#[derive(Debug)]
pub struct App {
    pub lessons: Vec<Lesson>,
    /// Problems found while loading (shown once in the status bar).
    pub load_problems: usize,
    pub screen: Screen,
    pub browser: BrowserState,
    pub lesson: Option<LessonView>,
    pub show_help: bool,
    /// First line of the help overlay shown (it scrolls on a short terminal).
    pub help_scroll: usize,
    pub palette: Palette,
    pub no_color: bool,
    /// The last thing worth telling the user; the next thing the user does clears it.
    pub message: Option<String>,
    /// tokio-console being served: the address and how many clients are connected.
    pub console: Option<(String, usize)>,
    pub progress: crate::progress::Progress,
    /// "Now" for scheduling and for stamping answers: set by the edge at start and moved on by the
    /// tick it sends before every key and result.
    pub now: crate::progress::Moment,
    /// Time since the app started, as of the latest tick or key (the interview's clock).
    pub elapsed: std::time::Duration,
    /// Goes up whenever progress changes: the edge saves when it differs from what it saved.
    pub progress_version: u64,
    /// Per lesson (same order as `lessons`): its mark in the browser, and the due count.
    pub marks: Vec<(char, usize)>,
    /// Practice: a quiz, a review or a mock interview, and what it shows.
    pub practice: practice_screen::PracticeState,
    /// The lesson list asks how to watch the demos (no runtime preference is saved yet); see
    /// [`App::with_first_start_question`].
    pub asking_runtime: bool,
    /// Demos already said to run on tokio only although the preference is asyncio or both: said
    /// once a session each, not every time one is opened.
    pub told_tokio_only: Vec<&'static str>,
}

impl App {
    pub fn new(set: LessonSet, no_color: bool) -> App {
        let load_problems = set.problems.len();
        App {
            lessons: set.lessons,
            load_problems,
            screen: Screen::Browser,
            browser: BrowserState::default(),
            lesson: None,
            show_help: false,
            help_scroll: 0,
            palette: Palette::Dark,
            no_color,
            message: (load_problems > 0).then(|| {
                format!("{load_problems} lesson problem(s): run `asyncdojo check` to see them")
            }),
            console: None,
            progress: crate::progress::Progress::default(),
            now: crate::progress::Moment::utc(chrono::DateTime::UNIX_EPOCH),
            elapsed: std::time::Duration::ZERO,
            progress_version: 0,
            marks: Vec::new(),
            practice: practice_screen::PracticeState::default(),
            asking_runtime: false,
            told_tokio_only: Vec::new(),
        }
        .with_marks()
    }

    /// The first start, as the edge opens the app: with no runtime preference saved, the lesson
    /// list asks how to watch the demos (until it is answered; Esc asks again next start).
    pub fn with_first_start_question(mut self) -> App {
        self.asking_runtime = self.progress.preferences.runtime.is_none();
        self
    }

    /// Where a lesson's demos start: the saved preference, tokio until there is one.
    pub fn preferred_runtime(&self) -> RunOn {
        self.progress.preferences.runtime.unwrap_or(RunOn::Tokio)
    }

    /// Is the first start's question on screen?
    pub fn shows_runtime_question(&self) -> bool {
        self.asking_runtime && self.screen == Screen::Browser
    }

    /// Saved progress and the current time, from the edge.
    pub fn with_progress(
        mut self,
        progress: crate::progress::Progress,
        now: crate::progress::Moment,
    ) -> App {
        self.progress = progress;
        self.now = now;
        self.with_marks()
    }

    /// A message that held only while the run went is stale once it ends.
    fn run_ended(&mut self) {
        if self.message.as_deref() == Some(lesson_screen::RUN_GOING) {
            self.message = None;
        }
    }

    /// The wall clock moved on. Due counts depend on it, so the browser's marks are recomputed when
    /// a minute has turned (not on every key: a minute is finer than any review interval).
    fn set_now(&mut self, now: crate::progress::Moment) {
        let minute = |m: &crate::progress::Moment| m.at.timestamp().div_euclid(60);
        let turned = minute(&now) != minute(&self.now) || now.offset != self.now.offset;
        self.now = now;
        if turned {
            self.refresh_marks();
        }
    }

    fn with_marks(mut self) -> App {
        self.refresh_marks();
        self
    }

    /// Browser marks and due counts come from progress: recomputed when it changes, not per frame.
    fn refresh_marks(&mut self) {
        let stats = crate::practice::stats(&self.lessons, &self.progress, &self.now);
        self.marks = stats
            .lessons
            .iter()
            .map(|l| (l.mark.symbol(), l.due))
            .collect();
    }

    pub fn due_count(&self) -> usize {
        self.marks.iter().map(|(_, d)| d).sum()
    }

    fn progress_changed(&mut self) {
        self.progress_version += 1;
        self.refresh_marks();
    }

    /// Lesson indices that match the browser's filter, in guide order.
    pub fn filtered(&self) -> Vec<usize> {
        browser::filtered(&self.lessons, &self.browser.filter)
    }

    pub fn focus(&self) -> Pane {
        if self.shows_runtime_question() && !self.browser.filtering {
            return Pane::RuntimeChoice;
        }
        match (self.screen, &self.lesson) {
            (Screen::Practice, _) => Pane::Practice,
            (Screen::Lesson, Some(v)) => v.focus,
            _ => Pane::List,
        }
    }

    /// Are keys text right now (the lesson filter, a prediction, interview notes)?
    pub fn takes_text(&self) -> bool {
        match self.screen {
            Screen::Practice => self.practice.view.as_ref().is_some_and(|p| p.takes_text()),
            Screen::Browser => self.browser.filtering,
            Screen::Lesson => false,
        }
    }

    /// Wake every second: the interview countdown is running.
    pub fn needs_ticks(&self) -> bool {
        self.screen == Screen::Practice
            && self.practice.view.as_ref().is_some_and(|p| p.needs_ticks())
    }

    pub fn current_lesson(&self) -> Option<&Lesson> {
        self.lesson.as_ref().map(|v| &self.lessons[v.index])
    }

    pub fn update(&mut self, action: Action) -> Effect {
        if !action.is_news() && !matches!(action, Action::Tick { .. }) {
            self.message = None;
        }
        let effect = self.apply(action);
        self.refresh_practice();
        effect
    }

    fn apply(&mut self, action: Action) -> Effect {
        if self.show_help && !action.is_news() && action != Action::Resize {
            // `?` and Esc close the help; quitting still quits.
            match action {
                Action::Quit => return Effect::Quit,
                Action::ToggleHelp | Action::Back => self.show_help = false,
                Action::Down | Action::PageDown => self.help_scroll += 1,
                Action::Up | Action::PageUp => {
                    self.help_scroll = self.help_scroll.saturating_sub(1)
                }
                _ => {}
            }
            return Effect::None;
        }
        if self.shows_runtime_question() && !action.is_news() {
            match action {
                Action::ChooseRuntime(runtime) => {
                    self.asking_runtime = false;
                    self.set_preferred_runtime(runtime);
                    self.message = Some(format!(
                        "{} · `a` in a lesson switches, and that is remembered too",
                        starts_on(runtime)
                    ));
                    return Effect::None;
                }
                Action::Back => {
                    self.asking_runtime = false;
                    self.message = Some(
                        "demos start on tokio; you will be asked again next time · `a` in a \
                         lesson switches the runtime"
                            .into(),
                    );
                    return Effect::None;
                }
                // The question has the keys, but quitting, help, the theme, time and a resized
                // terminal go on as ever.
                Action::Quit
                | Action::ToggleHelp
                | Action::ToggleTheme
                | Action::Resize
                | Action::Tick { .. } => {}
                _ => return Effect::None,
            }
        }
        match action {
            Action::Quit => return Effect::Quit,
            Action::ToggleHelp => {
                self.show_help = true;
                self.help_scroll = 0;
            }
            Action::ToggleTheme => {
                self.palette = match self.palette {
                    Palette::Dark => Palette::Light,
                    Palette::Light => Palette::Dark,
                }
            }
            Action::Resize => {}
            Action::Notify(text) => self.message = Some(text),
            Action::ConsoleServing(addr) => self.console = Some((addr, 0)),
            Action::ConsoleClients(n) => {
                if let Some(c) = &mut self.console {
                    c.1 = n;
                }
            }
            Action::DemoProgress(runs) => {
                if let Some(v) = &mut self.lesson {
                    v.run.progress(runs);
                }
            }
            Action::DemoFinished { runs, error } => {
                if let Some(v) = &mut self.lesson {
                    v.run.finish(runs, error);
                }
                self.run_ended();
            }
            Action::RunNotStarted(why) => {
                if let Some(v) = &mut self.lesson
                    && v.run.status == RunStatus::Running
                {
                    v.run = RunView::new();
                }
                self.message = Some(why);
            }
            Action::Tick { at, now } => {
                self.elapsed = at;
                self.set_now(now);
                return self.update_practice(Action::Tick { at, now });
            }
            Action::StartReview => return self.start_review(),
            Action::StartInterview => self.start_interview(),
            Action::StartQuiz => return self.start_quiz(),
            Action::SaveModelPython if self.screen == Screen::Lesson => {
                if let Some(lesson) = self.current_lesson() {
                    match crate::demo::source::model_python(lesson) {
                        Some(model) => {
                            return Effect::WriteFile {
                                name: crate::demo::source::model_file_name(lesson),
                                text: model.text.to_string(),
                            };
                        }
                        None => self.message = Some("this lesson has no model Python".into()),
                    }
                }
            }
            other => {
                return match self.screen {
                    Screen::Browser => self.update_browser(other),
                    Screen::Lesson => self.update_lesson(other),
                    Screen::Practice => self.update_practice(other),
                };
            }
        }
        Effect::None
    }

    fn update_browser(&mut self, action: Action) -> Effect {
        let count = self.filtered().len();
        if self.browser.update(action, count) == BrowserOutcome::Open
            && let Some(&index) = self.filtered().get(self.browser.selected)
        {
            self.open_lesson(index);
        }
        Effect::None
    }

    /// Open lesson `index` (its Markdown is rendered here, once).
    pub fn open_lesson(&mut self, index: usize) {
        let id = self.lessons[index].id.clone();
        self.progress.mark_read(&id, &self.now);
        self.progress_changed();
        let preferred = self.preferred_runtime();
        self.lesson = Some(LessonView::open(index, &self.lessons[index], preferred));
        self.screen = Screen::Lesson;
        self.tell_tokio_only();
    }

    /// Keep `runtime` as where demos start, in the saved progress.
    fn set_preferred_runtime(&mut self, runtime: RunOn) {
        if self.progress.preferences.runtime != Some(runtime) {
            self.progress.preferences.runtime = Some(runtime);
            self.progress_version += 1;
        }
    }

    /// The demo shown runs on tokio although the preference says asyncio or both (it has no
    /// twin): say so, once a session per demo, beside whatever else there is to say.
    fn tell_tokio_only(&mut self) {
        let preferred = self.preferred_runtime();
        let Some(d) = self.lesson.as_ref().and_then(|v| v.demo.as_ref()) else {
            return;
        };
        let id = d.demo.spec().id;
        if self.told_tokio_only.contains(&id) {
            return;
        }
        if let Some(note) = d.tokio_only(preferred) {
            self.told_tokio_only.push(id);
            self.message = Some(match self.message.take() {
                Some(said) => format!("{said} · {note}"),
                None => note,
            });
        }
    }

    fn update_lesson(&mut self, action: Action) -> Effect {
        let preferred = self.preferred_runtime();
        let Some(v) = &mut self.lesson else {
            self.screen = Screen::Browser;
            return Effect::None;
        };
        match v.update(action, &self.lessons[v.index], preferred) {
            LessonOutcome::None => Effect::None,
            LessonOutcome::Message(text) => {
                self.message = Some(text);
                // `d` may have shown a demo without a twin.
                self.tell_tokio_only();
                Effect::None
            }
            LessonOutcome::RuntimeChosen { runtime, said } => {
                self.message = Some(said);
                self.set_preferred_runtime(runtime);
                Effect::None
            }
            LessonOutcome::Leave { cancel_run } => {
                self.lesson = None;
                self.screen = Screen::Browser;
                if cancel_run {
                    Effect::CancelRun
                } else {
                    Effect::None
                }
            }
            LessonOutcome::CancelRun => Effect::CancelRun,
            LessonOutcome::StartRun {
                request,
                note,
                twin,
            } => {
                self.message = note;
                let lesson_id = self.lessons[v.index].id.clone();
                self.progress
                    .record_demo_run(&lesson_id, request.demo.spec().id, &self.now);
                self.progress_version += 1;
                match twin {
                    None => Effect::StartRun(request),
                    Some((twin_variants, both)) => Effect::StartTwin {
                        request,
                        twin_variants,
                        both,
                    },
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
