//! The app's state and `update(Action) -> Effect`: no drawing, no I/O. The terminal loop (`tui`)
//! turns keys into actions, performs the effects (starting a demo run) and feeds results back as
//! actions; `ui` draws the state.

pub mod keymap;
pub mod practice;

use crate::demo::timeline::TimelineSnapshot;
use crate::demo::{self, Clock, Params, RunRequest};
use crate::lesson::{Language, Lesson, LessonSet};
use crate::markdown::{self, MdLine, TextStyle};

/// Everything a key, the mouse or a timer can ask for.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Quit,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
    Open,
    Back,
    NextPane,
    PrevPane,
    Run,
    Compare,
    Cancel,
    Increase,
    Decrease,
    ToggleVariant,
    NextDemo,
    ToggleLanguage,
    ToggleClock,
    ToggleHelp,
    ToggleTheme,
    ZoomIn,
    ZoomOut,
    PanLeft,
    PanRight,
    StartFilter,
    Char(char),
    Backspace,
    /// Mouse wheel over a pane.
    Scroll {
        pane: Pane,
        down: bool,
    },
    /// A click chose a pane (and, in the lesson list, a row).
    Click {
        pane: Pane,
        row: Option<usize>,
    },
    /// The running demo recorded something new.
    DemoProgress(Vec<(&'static str, TimelineSnapshot)>),
    /// The run ended.
    DemoFinished {
        runs: Vec<(&'static str, TimelineSnapshot, f64)>,
        error: Option<String>,
    },
    Resize,
    /// Practise the due queue (and a few new items).
    StartReview,
    /// A five-question mock interview.
    StartInterview,
    /// Quiz on the open lesson's items.
    StartQuiz,
    /// A second passed (the interview countdown); `at` is time since the app started.
    Tick {
        at: std::time::Duration,
    },
    /// A prediction's demo ran and was scored (or could not run).
    PredictScored {
        key: crate::practice::ItemKey,
        result: Result<crate::practice::PredictScore, String>,
    },
}

/// What `update` asks the edge to do.
#[derive(Debug)]
#[must_use]
pub enum Effect {
    None,
    Quit,
    StartRun(RunRequest),
    CancelRun,
    /// Run a prediction's demo on the virtual clock and score what was typed.
    ScorePredict {
        key: crate::practice::ItemKey,
        typed: String,
    },
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
}

impl Pane {
    const LESSON_ORDER: [Pane; 4] = [Pane::Text, Pane::Code, Pane::Timeline, Pane::Params];

    pub fn title(self) -> &'static str {
        match self {
            Pane::List => "Lessons",
            Pane::Practice => "Practice",
            Pane::Text => "Lesson",
            Pane::Code => "Code",
            Pane::Timeline => "Timeline",
            Pane::Params => "Parameters",
        }
    }
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Palette {
    Dark,
    Light,
}

#[derive(Debug, Default)]
pub struct BrowserState {
    /// Index into the filtered list.
    pub selected: usize,
    pub filter: String,
    pub filtering: bool,
}

/// The lesson's demo being set up or watched.
#[derive(Debug)]
pub struct DemoPanel {
    /// Which of the lesson's `demos` entries.
    pub index: usize,
    pub demo: &'static dyn demo::Demo,
    pub params: Params,
    /// Variant names, and whether each is picked for comparison.
    pub variants: Vec<(&'static str, bool)>,
    pub selected_param: usize,
    pub clock: Clock,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    Idle,
    Running,
    Finished,
    Cancelled,
}

/// A run as the timeline pane sees it.
#[derive(Debug)]
pub struct RunView {
    pub status: RunStatus,
    pub runs: Vec<(&'static str, TimelineSnapshot)>,
    pub totals: Vec<(&'static str, f64)>,
    pub error: Option<String>,
    /// Which variant's lanes are shown.
    pub shown: usize,
    /// The time cursor, once the run has finished.
    pub cursor_ms: Option<f64>,
    /// The visible time window; `None` fits the whole run.
    pub window: Option<(f64, f64)>,
    pub lane_scroll: usize,
}

impl RunView {
    fn new() -> RunView {
        RunView {
            status: RunStatus::Idle,
            runs: Vec::new(),
            totals: Vec::new(),
            error: None,
            shown: 0,
            cursor_ms: None,
            window: None,
            lane_scroll: 0,
        }
    }

    /// A finished run: the cursor starts at zero, ready to scrub.
    pub fn finished(
        runs: Vec<(&'static str, TimelineSnapshot, f64)>,
        error: Option<String>,
    ) -> RunView {
        let mut view = RunView::new();
        view.status = if error.as_deref() == Some("cancelled") {
            RunStatus::Cancelled
        } else {
            RunStatus::Finished
        };
        view.totals = runs.iter().map(|(n, _, t)| (*n, *t)).collect();
        view.runs = runs.into_iter().map(|(n, s, _)| (n, s)).collect();
        view.cursor_ms = Some(0.0);
        view.error = error;
        view
    }

    pub fn snapshot(&self) -> Option<&TimelineSnapshot> {
        self.runs.get(self.shown).map(|(_, s)| s)
    }

    /// The longest run: one scale for every variant.
    pub fn span_ms(&self) -> f64 {
        let longest = self
            .runs
            .iter()
            .map(|(_, s)| s.now_ms)
            .chain(self.totals.iter().map(|(_, t)| *t))
            .fold(0.0, f64::max);
        longest.max(1.0)
    }

    pub fn visible_window(&self) -> (f64, f64) {
        self.window.unwrap_or((0.0, self.span_ms()))
    }
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
    /// The last thing worth telling the user.
    pub message: Option<String>,
    /// tokio-console being served: the address and how many clients are connected.
    pub console: Option<(String, usize)>,
    pub progress: crate::progress::Progress,
    /// "Now" for scheduling: set by the edge at start, moved on by ticks.
    pub now: crate::progress::Moment,
    /// Time since the app started, as of the latest tick or key (the interview's clock).
    pub elapsed: std::time::Duration,
    /// Progress changed and should be saved (the edge saves and clears it).
    pub progress_dirty: bool,
    /// Per lesson (same order as `lessons`): its mark in the browser, and the due count.
    pub marks: Vec<(char, usize)>,
    pub practice: Option<practice::PracticeView>,
}

impl LessonView {
    /// The code the pane shows, its language and a caption.
    pub fn code_text<'a>(&self, lesson: &'a Lesson) -> (&'a str, Language, String) {
        match self.code {
            CodeView::DemoSource => {
                if let Some(d) = &self.demo {
                    let spec = d.demo.spec();
                    let (_, region) = crate::demo::source::region(spec.source);
                    return (
                        region,
                        Language::Rust,
                        format!("Rust · the {} demo, as it runs", spec.id),
                    );
                }
                self.snippet(lesson, Language::Rust)
            }
            CodeView::Rust => self.snippet(lesson, Language::Rust),
            CodeView::Python => self.snippet(lesson, Language::Python),
        }
    }

    fn snippet<'a>(&self, lesson: &'a Lesson, language: Language) -> (&'a str, Language, String) {
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
            progress_dirty: false,
            marks: Vec::new(),
            practice: None,
        }
        .with_marks()
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
        self.progress_dirty = true;
        self.refresh_marks();
    }

    /// Lesson indices that match the browser's filter, in guide order.
    pub fn filtered(&self) -> Vec<usize> {
        let f = self.browser.filter.to_lowercase();
        self.lessons
            .iter()
            .enumerate()
            .filter(|(_, l)| {
                f.is_empty()
                    || l.title.to_lowercase().contains(&f)
                    || l.label().to_lowercase() == f
                    || l.id.0.contains(&f)
                    || l.section.title().to_lowercase().contains(&f)
            })
            .map(|(i, _)| i)
            .collect()
    }

    pub fn focus(&self) -> Pane {
        match (self.screen, &self.lesson) {
            (Screen::Practice, _) => Pane::Practice,
            (Screen::Lesson, Some(v)) => v.focus,
            _ => Pane::List,
        }
    }

    /// Are keys text right now (the lesson filter, a prediction, interview notes)?
    pub fn takes_text(&self) -> bool {
        match self.screen {
            Screen::Practice => self.practice.as_ref().is_some_and(|p| p.takes_text()),
            Screen::Browser => self.browser.filtering,
            Screen::Lesson => false,
        }
    }

    /// Wake every second: the interview countdown is running.
    pub fn needs_ticks(&self) -> bool {
        self.screen == Screen::Practice && self.practice.as_ref().is_some_and(|p| p.needs_ticks())
    }

    pub fn current_lesson(&self) -> Option<&Lesson> {
        self.lesson.as_ref().map(|v| &self.lessons[v.index])
    }

    pub fn update(&mut self, action: Action) -> Effect {
        if self.show_help {
            // Any key closes the help; `?` and Esc are the documented ones.
            match action {
                Action::ToggleHelp | Action::Back | Action::Quit => self.show_help = false,
                Action::Down | Action::PageDown => self.help_scroll += 1,
                Action::Up | Action::PageUp => {
                    self.help_scroll = self.help_scroll.saturating_sub(1)
                }
                _ => {}
            }
            if !matches!(
                action,
                Action::DemoProgress(_) | Action::DemoFinished { .. } | Action::Resize
            ) {
                return Effect::None;
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
            Action::DemoProgress(runs) => {
                if let Some(v) = &mut self.lesson
                    && v.run.status == RunStatus::Running
                {
                    v.run.runs = runs;
                    v.run.shown = v.run.runs.len().saturating_sub(1);
                }
            }
            Action::DemoFinished { runs, error } => self.finish_run(runs, error),
            Action::Tick { at } => {
                self.elapsed = at;
                return self.update_practice(Action::Tick { at });
            }
            Action::StartReview => self.start_review(),
            Action::StartInterview => {
                let seed = self.elapsed.as_nanos() as u64 ^ self.now.at.timestamp() as u64;
                let i = practice::start_interview(&self.lessons, &self.progress, &self.now, seed);
                self.practice = Some(practice::PracticeView::Interview(i));
                self.screen = Screen::Practice;
            }
            Action::StartQuiz => {
                if let Some(l) = self.current_lesson() {
                    let items = l
                        .quiz
                        .iter()
                        .map(|q| crate::practice::ItemKey::quiz(&l.id, &q.id))
                        .collect();
                    let title = format!("Quiz · {} {}", l.label(), crate::text::sanitize(&l.title));
                    if let Some(q) = practice::start_quiz(title, items, &self.lessons) {
                        self.practice = Some(practice::PracticeView::Quiz(q));
                        self.screen = Screen::Practice;
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

    fn start_review(&mut self) {
        let queue = crate::practice::review_queue(&self.lessons, &self.progress, &self.now, 10);
        let n = queue.len();
        let items = queue.into_iter().map(|e| e.key).collect();
        match practice::start_quiz(format!("Review · {n} item(s)"), items, &self.lessons) {
            Some(q) => {
                self.practice = Some(practice::PracticeView::Quiz(q));
                self.screen = Screen::Practice;
            }
            None => {
                self.message =
                    Some("nothing to review: every item is answered and none is due".into())
            }
        }
    }

    /// Leave practice: back to the lesson if one is open, else the browser.
    fn close_practice(&mut self) {
        self.practice = None;
        self.screen = if self.lesson.is_some() {
            Screen::Lesson
        } else {
            Screen::Browser
        };
    }

    fn update_practice(&mut self, action: Action) -> Effect {
        use practice::{PracticeEffect, PracticeView, QuizKey};
        let Some(view) = self.practice.as_mut() else {
            self.close_practice();
            return Effect::None;
        };
        let revealed = match view {
            PracticeView::Quiz(q) => {
                matches!(q.state, practice::ItemState::Recall { revealed: true, .. })
            }
            PracticeView::Interview(i) => {
                matches!(i.phase(), crate::practice::Phase::Revealed { .. })
            }
            PracticeView::Summary(_) => false,
        };
        let key = match action {
            Action::Up => Some(QuizKey::Up),
            Action::Down => Some(QuizKey::Down),
            Action::Open => Some(QuizKey::Submit),
            Action::ToggleVariant => Some(QuizKey::Toggle),
            Action::Back => Some(QuizKey::Back),
            Action::Backspace => Some(QuizKey::Backspace),
            Action::Char(c) if revealed && ('1'..='4').contains(&c) => {
                let i = c as usize - '1' as usize;
                Some(QuizKey::Grade(crate::practice::Grade::ALL[i]))
            }
            Action::Char(c) => Some(QuizKey::Char(c)),
            _ => None,
        };
        let at = self.elapsed;
        let (effect, summary) = match (view, &action, key) {
            (PracticeView::Quiz(q), Action::PredictScored { key, result }, _) => (
                practice::predict_scored(q, key, result.clone(), &mut self.progress, &self.now),
                None,
            ),
            (PracticeView::Quiz(q), _, Some(k)) => (
                practice::quiz_key(q, k, &self.lessons, &mut self.progress, &self.now),
                None,
            ),
            (PracticeView::Interview(i), Action::Tick { at }, _) => {
                practice::interview_tick(i, *at, &mut self.progress, &self.now)
            }
            (PracticeView::Interview(i), _, Some(k)) => {
                practice::interview_key(i, k, at, &mut self.progress, &self.now)
            }
            (PracticeView::Summary(_), _, Some(QuizKey::Back | QuizKey::Submit)) => {
                (PracticeEffect::Close, None)
            }
            _ => (PracticeEffect::None, None),
        };
        if let Some(summary) = summary {
            self.practice = Some(PracticeView::Summary(summary));
        }
        match effect {
            PracticeEffect::None => Effect::None,
            PracticeEffect::Save => {
                self.progress_changed();
                Effect::None
            }
            PracticeEffect::ScorePredict { key, typed } => Effect::ScorePredict { key, typed },
            PracticeEffect::Close => {
                self.close_practice();
                Effect::None
            }
        }
    }

    fn update_browser(&mut self, action: Action) -> Effect {
        let count = self.filtered().len();
        let b = &mut self.browser;
        if b.filtering {
            match action {
                Action::Char(c) => {
                    b.filter.push(c);
                    b.selected = 0;
                }
                Action::Backspace => {
                    b.filter.pop();
                    b.selected = 0;
                }
                Action::Back => {
                    b.filtering = false;
                    b.filter.clear();
                }
                Action::Open => {
                    b.filtering = false;
                    return self.open_selected();
                }
                Action::Up => b.selected = b.selected.saturating_sub(1),
                Action::Down => b.selected = (b.selected + 1).min(count.saturating_sub(1)),
                _ => {}
            }
            return Effect::None;
        }
        match action {
            Action::Up => b.selected = b.selected.saturating_sub(1),
            Action::Down => b.selected = (b.selected + 1).min(count.saturating_sub(1)),
            Action::PageUp => b.selected = b.selected.saturating_sub(10),
            Action::PageDown => b.selected = (b.selected + 10).min(count.saturating_sub(1)),
            Action::Home => b.selected = 0,
            Action::End => b.selected = count.saturating_sub(1),
            Action::StartFilter => {
                b.filtering = true;
                b.filter.clear();
            }
            Action::Back if !b.filter.is_empty() => {
                b.filter.clear();
                b.selected = 0;
            }
            Action::Open | Action::Right => return self.open_selected(),
            Action::Scroll { down, .. } => {
                b.selected = if down {
                    (b.selected + 3).min(count.saturating_sub(1))
                } else {
                    b.selected.saturating_sub(3)
                }
            }
            Action::Click { row: Some(r), .. } if r < count => {
                if b.selected == r {
                    return self.open_selected();
                }
                b.selected = r;
            }
            _ => {}
        }
        Effect::None
    }

    fn open_selected(&mut self) -> Effect {
        let filtered = self.filtered();
        let Some(&index) = filtered.get(self.browser.selected) else {
            return Effect::None;
        };
        self.open_lesson(index);
        Effect::None
    }

    /// Open lesson `index` (its Markdown is rendered here, once).
    pub fn open_lesson(&mut self, index: usize) {
        let id = self.lessons[index].id.clone();
        self.progress.mark_read(&id, &self.now);
        self.progress_changed();
        let lesson = &self.lessons[index];
        let text = lesson_text(lesson);
        let demo = lesson.demos.first().and_then(|_| demo_panel(lesson, 0));
        self.lesson = Some(LessonView {
            index,
            focus: Pane::Text,
            text,
            text_scroll: 0,
            code_scroll: 0,
            code: CodeView::Python,
            demo,
            run: RunView::new(),
        });
        self.screen = Screen::Lesson;
    }

    fn update_lesson(&mut self, action: Action) -> Effect {
        let Some(v) = &mut self.lesson else {
            self.screen = Screen::Browser;
            return Effect::None;
        };
        match action {
            Action::Back => {
                let running = v.run.status == RunStatus::Running;
                self.lesson = None;
                self.screen = Screen::Browser;
                if running {
                    return Effect::CancelRun;
                }
            }
            Action::NextPane => v.focus = cycle(v.focus, 1),
            Action::PrevPane => v.focus = cycle(v.focus, -1),
            Action::Click { pane, .. } => v.focus = pane,
            Action::ToggleLanguage => {
                v.code = match (v.code, v.demo.is_some()) {
                    (CodeView::Python, _) => CodeView::Rust,
                    (CodeView::Rust, true) => CodeView::DemoSource,
                    _ => CodeView::Python,
                };
                v.code_scroll = 0;
            }
            Action::Run | Action::Compare => return self.start_run(action == Action::Compare),
            Action::Cancel => {
                if v.run.status == RunStatus::Running {
                    return Effect::CancelRun;
                }
            }
            Action::NextDemo => {
                let lesson = &self.lessons[v.index];
                if !lesson.demos.is_empty() && v.run.status != RunStatus::Running {
                    let next = v
                        .demo
                        .as_ref()
                        .map_or(0, |d| (d.index + 1) % lesson.demos.len());
                    v.demo = demo_panel(lesson, next);
                    v.run = RunView::new();
                }
            }
            Action::ToggleClock => {
                if let Some(d) = &mut v.demo {
                    d.clock = match d.clock {
                        Clock::Real => Clock::Virtual,
                        Clock::Virtual => Clock::Real,
                    };
                    self.message = Some(format!("clock: {}", d.clock.name()));
                }
            }
            Action::Scroll { pane, down } => {
                v.focus = pane;
                let delta = if down { 3 } else { -3 };
                scroll_pane(v, delta);
            }
            other => match v.focus {
                Pane::Text | Pane::Code | Pane::List | Pane::Practice => match other {
                    Action::Up => scroll_pane(v, -1),
                    Action::Down => scroll_pane(v, 1),
                    Action::PageUp => scroll_pane(v, -10),
                    Action::PageDown => scroll_pane(v, 10),
                    Action::Home => scroll_pane(v, -100_000),
                    Action::End => scroll_pane(v, 100_000),
                    _ => {}
                },
                Pane::Timeline => timeline_key(&mut v.run, other),
                Pane::Params => {
                    if let Some(d) = &mut v.demo
                        && let Some(msg) = params_key(d, other)
                    {
                        self.message = Some(msg);
                    }
                }
            },
        }
        Effect::None
    }

    fn start_run(&mut self, compare: bool) -> Effect {
        let Some(v) = &mut self.lesson else {
            return Effect::None;
        };
        if v.run.status == RunStatus::Running {
            self.message = Some("a run is already going: Esc cancels it".into());
            return Effect::None;
        }
        let Some(d) = &v.demo else {
            self.message = Some("this lesson has no demo".into());
            return Effect::None;
        };
        let spec = d.demo.spec();
        let mut variants: Vec<&'static str> = if compare {
            d.variants
                .iter()
                .filter(|(_, on)| *on)
                .map(|(n, _)| *n)
                .collect()
        } else {
            d.variants
                .iter()
                .find(|(_, on)| *on)
                .map(|(n, _)| vec![*n])
                .unwrap_or_default()
        };
        if compare && variants.len() < 2 {
            variants = spec.variants.iter().map(|v| v.name).collect();
        }
        if variants.is_empty() {
            variants = spec.default_variants.to_vec();
        }
        // A variant that cannot run on the chosen clock is left out, and we say so.
        let clock = d.clock;
        let (ok, skipped): (Vec<&'static str>, Vec<&'static str>) =
            variants.into_iter().partition(|name| {
                spec.variant(name)
                    .is_some_and(|v| v.clocks.contains(&clock))
            });
        if ok.is_empty() {
            self.message = Some(format!(
                "{} needs the other clock: press `t` to switch",
                skipped.join(", ")
            ));
            return Effect::None;
        }
        self.message = (!skipped.is_empty()).then(|| {
            format!(
                "skipped {} (not on the {} clock)",
                skipped.join(", "),
                clock.name()
            )
        });
        v.run = RunView::new();
        v.run.status = RunStatus::Running;
        v.focus = Pane::Timeline;
        let lesson_id = self.lessons[v.index].id.clone();
        self.progress
            .record_demo_run(&lesson_id, spec.id, &self.now);
        self.progress_dirty = true;
        Effect::StartRun(RunRequest {
            demo: d.demo,
            variants: ok,
            params: d.params.clone(),
            clock,
            os_signals: false,
        })
    }

    fn finish_run(
        &mut self,
        runs: Vec<(&'static str, TimelineSnapshot, f64)>,
        error: Option<String>,
    ) {
        let Some(v) = &mut self.lesson else { return };
        let lane_scroll = v.run.lane_scroll;
        v.run = RunView::finished(runs, error);
        v.run.lane_scroll = lane_scroll;
    }
}

/// The lesson as one scrollable text: question, answer, key points, mapping.
fn lesson_text(lesson: &Lesson) -> Vec<MdLine> {
    let mut out = vec![MdLine::plain(
        crate::text::sanitize(&lesson.question).into_owned(),
        TextStyle::Strong,
    )];
    out.push(MdLine::default());
    out.extend(markdown::render(&lesson.answer));
    out.push(MdLine::default());
    out.push(MdLine::plain("Key points", TextStyle::Heading));
    for p in &lesson.key_points {
        let mut l = MdLine::plain("• ", TextStyle::Bullet);
        l.indent = 2;
        l.runs.push(markdown::Run {
            style: TextStyle::Plain,
            text: crate::text::sanitize(p).into_owned(),
        });
        out.push(l);
    }
    out.push(MdLine::default());
    out.push(MdLine::plain("asyncio ↔ tokio", TextStyle::Heading));
    for row in &lesson.mapping {
        let mut l = MdLine::plain(
            crate::text::sanitize(&row.asyncio).into_owned(),
            TextStyle::Code,
        );
        l.indent = 2;
        l.runs.push(markdown::Run {
            style: TextStyle::Plain,
            text: "  ↔  ".into(),
        });
        l.runs.push(markdown::Run {
            style: TextStyle::Code,
            text: crate::text::sanitize(&row.tokio).into_owned(),
        });
        if !row.note.is_empty() {
            l.runs.push(markdown::Run {
                style: TextStyle::Emphasis,
                text: format!("  {}", crate::text::sanitize(&row.note)),
            });
        }
        out.push(l);
    }
    out
}

fn demo_panel(lesson: &Lesson, index: usize) -> Option<DemoPanel> {
    let r = lesson.demos.get(index)?;
    let demo = demo::find(&r.demo)?;
    let spec = demo.spec();
    // Validation checked these overrides; fall back to defaults rather than fail if not.
    let params = Params::defaults(spec)
        .with_lesson_values(spec, &r.params)
        .unwrap_or_else(|_| Params::defaults(spec));
    let picked: Vec<&str> = if r.variants.is_empty() {
        spec.default_variants.to_vec()
    } else {
        r.variants.iter().map(String::as_str).collect()
    };
    let variants = spec
        .variants
        .iter()
        .map(|v| (v.name, picked.contains(&v.name)))
        .collect();
    Some(DemoPanel {
        index,
        demo,
        params,
        variants,
        selected_param: 0,
        // Live by default: the point of the app is to watch it happen.
        clock: Clock::Real,
    })
}

fn cycle(p: Pane, step: isize) -> Pane {
    let order = Pane::LESSON_ORDER;
    let i = order.iter().position(|&x| x == p).unwrap_or(0) as isize;
    let n = order.len() as isize;
    order[((i + step) % n + n) as usize % order.len()]
}

fn scroll_pane(v: &mut LessonView, delta: isize) {
    let apply = |x: usize| x.saturating_add_signed(delta);
    match v.focus {
        Pane::Code => v.code_scroll = apply(v.code_scroll),
        Pane::Timeline => v.run.lane_scroll = apply(v.run.lane_scroll),
        _ => v.text_scroll = apply(v.text_scroll).min(v.text.len().saturating_sub(1)),
    }
}

/// Timeline keys: the cursor steps through events, the window zooms and pans.
fn timeline_key(run: &mut RunView, action: Action) {
    let Some(snap) = run.snapshot() else { return };
    let times = snap.event_times();
    let span = run.span_ms();
    let (w0, w1) = run.visible_window();
    let width = w1 - w0;
    match action {
        Action::Up => run.lane_scroll = run.lane_scroll.saturating_sub(1),
        Action::Down => run.lane_scroll += 1,
        Action::PageUp => run.shown = run.shown.saturating_sub(1),
        Action::PageDown => run.shown = (run.shown + 1).min(run.runs.len().saturating_sub(1)),
        Action::ToggleVariant => run.shown = (run.shown + 1) % run.runs.len().max(1),
        _ if run.status == RunStatus::Running => {}
        Action::Left | Action::Right => {
            let now = run.cursor_ms.unwrap_or(0.0);
            run.cursor_ms = Some(if action == Action::Right {
                times
                    .iter()
                    .copied()
                    .find(|&t| t > now + 1e-9)
                    .unwrap_or(span)
            } else {
                times
                    .iter()
                    .rev()
                    .copied()
                    .find(|&t| t < now - 1e-9)
                    .unwrap_or(0.0)
            });
        }
        Action::Home => run.cursor_ms = Some(0.0),
        Action::End => run.cursor_ms = Some(span),
        Action::ZoomIn => {
            let c = run.cursor_ms.unwrap_or((w0 + w1) / 2.0).clamp(w0, w1);
            let half = (width / 4.0).max(0.001);
            run.window = Some(clamp_window(c - half, c + half, span));
        }
        Action::ZoomOut => {
            let c = (w0 + w1) / 2.0;
            let w = (width * 2.0).min(span);
            run.window = if w >= span {
                None
            } else {
                Some(clamp_window(c - w / 2.0, c + w / 2.0, span))
            };
        }
        Action::PanLeft | Action::PanRight if run.window.is_some() => {
            let d = width / 4.0
                * if action == Action::PanRight {
                    1.0
                } else {
                    -1.0
                };
            run.window = Some(clamp_window(w0 + d, w1 + d, span));
        }
        _ => {}
    }
}

fn clamp_window(a: f64, b: f64, span: f64) -> (f64, f64) {
    let w = (b - a).min(span);
    let a = a.clamp(0.0, span - w);
    (a, a + w)
}

/// Parameter keys: ↑/↓ pick a parameter (and the variants after them), +/- change it.
fn params_key(d: &mut DemoPanel, action: Action) -> Option<String> {
    let spec = d.demo.spec();
    let rows = spec.params.len() + d.variants.len();
    match action {
        Action::Up => d.selected_param = d.selected_param.saturating_sub(1),
        Action::Down => d.selected_param = (d.selected_param + 1).min(rows.saturating_sub(1)),
        Action::Increase
        | Action::Decrease
        | Action::Right
        | Action::Left
        | Action::ToggleVariant => {
            let up = matches!(action, Action::Increase | Action::Right);
            if d.selected_param >= spec.params.len() {
                let i = d.selected_param - spec.params.len();
                if let Some(v) = d.variants.get_mut(i) {
                    v.1 = !v.1;
                }
                return None;
            }
            if action == Action::ToggleVariant {
                return None;
            }
            let p = &spec.params[d.selected_param];
            let next = step_param(p, d.params.get(p.name)?, up)?;
            if let Err(e) = d.params.set(spec, p.name, &next) {
                return Some(e);
            }
        }
        _ => {}
    }
    None
}

/// The next value of a parameter, as `--set` would write it.
fn step_param(p: &demo::ParamSpec, value: &demo::ParamVal, up: bool) -> Option<String> {
    use demo::{ParamKind, ParamVal};
    let nice = |n: u64| -> u64 {
        // Steps that keep values round: 1, 5, 10, 50, 100 ... depending on size.
        match n {
            0..10 => 1,
            10..50 => 5,
            50..200 => 10,
            200..1000 => 50,
            1000..5000 => 100,
            _ => 1000,
        }
    };
    Some(match (p.kind, value) {
        (ParamKind::Int { min, max }, ParamVal::Int(n)) => {
            (if up { n + 1 } else { n - 1 }).clamp(min, max).to_string()
        }
        (ParamKind::Ms { min, max }, ParamVal::Ms(n)) => {
            let s = nice(if up { *n } else { n.saturating_sub(1) });
            (if up { n + s } else { n.saturating_sub(s) })
                .clamp(min, max)
                .to_string()
        }
        (
            ParamKind::MsList {
                min_len, max_len, ..
            },
            ParamVal::MsList(v),
        ) => {
            let mut v = v.clone();
            if up && v.len() < max_len {
                v.push(v.last().copied().unwrap_or(100));
            } else if !up && v.len() > min_len {
                v.pop();
            }
            v.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
        }
        (ParamKind::Choice(options), ParamVal::Text(t)) => {
            let i = options.iter().position(|o| o == t).unwrap_or(0);
            let n = options.len();
            options[if up { (i + 1) % n } else { (i + n - 1) % n }].to_owned()
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
