//! The practice screen in the app: starting a review, a lesson quiz or the mock interview,
//! routing keys and ticks to the session (`practice`), keeping the model answer it may show
//! rendered once per lesson rather than per frame, and the run it shows as evidence: asked of the
//! edge, which runs it on a worker, and shaped for the timeline pane once, when it arrives. A
//! prediction also shows the code it runs (its variant's function, see `practice::code`), found
//! once per item, and after the reveal the lines its run's spawns and marks point at.

use super::practice::code::{VariantCode, variant_code};
use super::practice::{self, ItemState, PracticeEffect, PracticeView, QuizKey};
use super::{Action, App, Effect, RunView, Screen};
use crate::demo::Clock;
use crate::demo::asyncio::Runtime;
use crate::demo::run::Run;
use crate::lesson::{LessonId, Measure};
use crate::markdown::MdLine;
use crate::practice::evidence::mark_lane;
use crate::practice::{ItemKey, PracticeRun, Prediction, RunPurpose};

/// Rows PgUp/PgDn move the practice text, and rows a wheel step does: a page keeps a few rows of
/// context on the shortest screens (80×24).
const TEXT_PAGE: usize = 10;
const WHEEL_ROWS: usize = 3;
/// Lines a wheel step moves the code's cursor.
const WHEEL_LINES: u32 = 3;

/// A practice key from an action: the grades 1-4 only once an answer is revealed.
fn quiz_key(view: &PracticeView, action: &Action) -> Option<QuizKey> {
    let revealed = match view {
        PracticeView::Quiz(q) => {
            matches!(q.state, practice::ItemState::Recall { revealed: true, .. })
        }
        PracticeView::Interview(i) => {
            matches!(i.phase(), crate::practice::Phase::Revealed { .. })
        }
        PracticeView::Summary(_) | PracticeView::QuizDone(_) => false,
    };
    match *action {
        Action::Up => Some(QuizKey::Up),
        Action::Down => Some(QuizKey::Down),
        Action::Open => Some(QuizKey::Submit),
        Action::ToggleVariant => Some(QuizKey::Toggle),
        // `s` in practice (Cancel elsewhere: stop the running demo).
        Action::Cancel => Some(QuizKey::Skip),
        Action::Back => Some(QuizKey::Back),
        Action::Backspace => Some(QuizKey::Backspace),
        Action::Char(c) if revealed && ('1'..='4').contains(&c) => {
            let i = c as usize - '1' as usize;
            Some(QuizKey::Grade(crate::practice::Grade::ALL[i]))
        }
        Action::Char(c) => Some(QuizKey::Char(c)),
        _ => None,
    }
}

/// Practice's state: what is being practised and what goes with it on screen. Plain data, apart
/// from the rest of the app: `update_practice` and its helpers below change it.
#[derive(Debug, Default)]
pub struct PracticeState {
    pub view: Option<PracticeView>,
    /// The model answer practice is on, rendered once.
    pub answer: Option<AnswerText>,
    /// The run practice shows next to the current item or question.
    pub shown_run: Option<ShownRun>,
    /// Rows of the practice text scrolled past (PgUp/PgDn, or the wheel while no run is shown):
    /// a long model answer must be readable on a short terminal. Back to the top on each new
    /// item and each reveal; the pane stops at the last row.
    pub scroll: usize,
    /// The code the current prediction runs, while it is on screen.
    pub code: Option<ShownCode>,
    /// On a screen too short for an interview's model answer and its demo both, the demo is
    /// shown instead of the answer (Tab swaps). Back to the answer on each new question.
    pub demo_shown: bool,
}

/// The code a predict item runs, shown while the learner guesses: the source its runtime runs,
/// from its variant's function; after the reveal, the lines its run points at are marked.
#[derive(Debug, Clone, PartialEq)]
pub struct ShownCode {
    /// The item it is for.
    pub key: ItemKey,
    /// The runtime asked for: the item's, then the one that made its run.
    pub asked: Runtime,
    pub code: VariantCode,
    /// The code's line cursor (1-based): on the function's definition (the first line without
    /// one); ↑/↓ and the wheel move it until a run is shown, and the view follows it.
    pub cursor: u32,
    /// Once the run is shown: the lines of this source its tasks were spawned at and its marks
    /// were made at, in order (the events the run index attributes to a line).
    pub marked: Option<Vec<u32>>,
}

impl ShownCode {
    fn new(key: ItemKey, asked: Runtime, code: VariantCode) -> ShownCode {
        ShownCode {
            key,
            asked,
            cursor: code.start_line(),
            code,
            marked: None,
        }
    }

    fn move_cursor(&mut self, down: bool, lines: u32) {
        let last = self.code.source.line_count().max(1) as u32;
        self.cursor = if down {
            self.cursor.saturating_add(lines).min(last)
        } else {
            self.cursor.saturating_sub(lines).max(1)
        };
    }
}

/// The lines of `source` a finished run's spawns and marks point at, in order, once each.
fn run_lines(view: &RunView, source: &crate::demo::source::Source) -> Vec<u32> {
    use crate::demo::timeline::index::EventKind;
    let last = source.line_count() as u32;
    let mut lines: Vec<u32> = view
        .index()
        .map(|index| index.events())
        .unwrap_or_default()
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Spawn | EventKind::Mark { .. }))
        .filter_map(|e| e.line)
        .filter(|l| (1..=last).contains(l))
        .collect();
    lines.sort_unstable();
    lines.dedup();
    lines
}

/// A run practice asked for, shown next to the item or question it is for, and only while that
/// one is on screen.
#[derive(Debug)]
pub struct ShownRun {
    pub purpose: RunPurpose,
    pub demo: &'static str,
    pub clock: Clock,
    /// The runtime it runs on: asked for, then the one that made it (tokio when Python could
    /// not run the twin).
    pub runtime: Runtime,
    pub state: ShownRunState,
}

#[derive(Debug)]
pub enum ShownRunState {
    /// On a worker; the edge answers with `Action::PracticeRan`.
    Running,
    Failed(String),
    /// Ready for the timeline pane. When several variants share its one axis, `tags` say which
    /// lanes are whose: (the tag before their names, the variant). `changed` lists, for a bug's
    /// evidence, the metrics the fix changes (`max_tick_gap_ms 500 → 100`): some bugs show in
    /// a count more than in the lanes.
    Done {
        /// Boxed: a run view is far larger than the other states.
        view: Box<RunView>,
        tags: Vec<(&'static str, &'static str)>,
        changed: Vec<String>,
    },
}

/// Lane tags of an interview demo's variants, in run order.
const VARIANT_TAGS: [&str; 6] = ["①", "②", "③", "④", "⑤", "⑥"];

/// The text practice shows, as rendered Markdown (backticks, bullets, bold, as the lesson pane
/// shows them): the lesson's question, model answer and key points, and the quiz item on screen.
/// Rendered when practice moves to another lesson or item, never per frame.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerText {
    pub lesson: LessonId,
    /// The model answer.
    pub lines: Vec<MdLine>,
    pub question: Vec<MdLine>,
    pub key_points: Vec<Vec<MdLine>>,
    /// The caption of the lesson's first demo: the one the interview reveal runs.
    pub demo_caption: Vec<MdLine>,
    pub item: Option<ItemText>,
}

/// A quiz item's text, rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemText {
    pub key: ItemKey,
    pub prompt: Vec<MdLine>,
    pub options: Vec<Vec<MdLine>>,
    pub explanation: Vec<MdLine>,
    /// Spot the bug: why each of the exercise's bugs is one, in its order.
    pub whys: Vec<Vec<MdLine>>,
    /// Spot the bug: the caption of the run that shows the bug (empty without one).
    pub evidence_caption: Vec<MdLine>,
}

impl ItemText {
    fn of(key: &ItemKey, lessons: &[crate::lesson::Lesson]) -> Option<ItemText> {
        let (lesson, item) = key.resolve(lessons)?;
        let item = item?;
        let render = crate::markdown::render;
        let hunt = crate::practice::score::exercise(lesson, item).ok();
        let whys = hunt
            .map(|hunt| hunt.bugs.iter().map(|b| render(&b.why)).collect())
            .unwrap_or_default();
        let evidence_caption = hunt
            .and_then(|hunt| hunt.evidence.as_ref())
            .map(|e| render(&e.caption))
            .unwrap_or_default();
        Some(ItemText {
            key: key.clone(),
            prompt: render(&item.prompt),
            options: item
                .as_choice()
                .into_iter()
                .flat_map(|c| &c.options)
                .map(|o| render(o))
                .collect(),
            explanation: render(&item.explanation),
            whys,
            evidence_caption,
        })
    }
}

impl App {
    pub(super) fn start_review(&mut self) -> Effect {
        let queue = crate::practice::review_queue(&self.lessons, &self.progress, &self.now, 10);
        let n = queue.len();
        let items = queue.into_iter().map(|e| e.key).collect();
        match practice::start_quiz(format!("Review · {n} item(s)"), items, &self.lessons) {
            Some(q) => self.enter_practice(PracticeView::Quiz(q)),
            None => {
                self.message =
                    Some("nothing to review: every item is answered and none is due".into());
                Effect::None
            }
        }
    }

    pub(super) fn start_interview(&mut self) {
        let seed = self.elapsed.as_nanos() as u64 ^ self.now.at.timestamp() as u64;
        let i = practice::start_interview(&self.lessons, &self.progress, &self.now, seed);
        let _ = self.enter_practice(PracticeView::Interview(i));
    }

    pub(super) fn start_quiz(&mut self) -> Effect {
        let Some(l) = self.current_lesson() else {
            return Effect::None;
        };
        let items = l
            .quiz
            .iter()
            .map(|q| crate::practice::ItemKey::quiz(&l.id, &q.id))
            .collect();
        let title = format!("Quiz · {} {}", l.label(), crate::text::sanitize(&l.title));
        match practice::start_quiz(title, items, &self.lessons) {
            Some(q) => self.enter_practice(PracticeView::Quiz(q)),
            None => Effect::None,
        }
    }

    /// Show `view`; its first item may ask for a run (the tasks a prediction can name).
    fn enter_practice(&mut self, view: PracticeView) -> Effect {
        self.practice.view = Some(view);
        self.practice.scroll = 0;
        self.screen = Screen::Practice;
        self.ask_for_candidates()
    }

    /// A "which finishes first" item lists the tasks it can name before the learner answers: its
    /// demo runs on the virtual clock (instant, and the same run that will score the answer), on
    /// a worker. Asked once per item, by the update that shows it (or, should that update have
    /// asked for something else, the next one).
    fn ask_for_candidates(&mut self) -> Effect {
        let Some(PracticeView::Quiz(q)) = self.practice.view.as_mut() else {
            return Effect::None;
        };
        let ItemState::Predict {
            candidates: candidates @ practice::Candidates::Wanted,
            ..
        } = &mut q.state
        else {
            return Effect::None;
        };
        let Some(key) = q.items.get(q.index) else {
            return Effect::None;
        };
        let request = key
            .resolve(&self.lessons)
            .and_then(|(_, item)| item)
            .ok_or_else(|| "this quiz item no longer exists".to_owned())
            .and_then(|item| crate::practice::predict_request(item).map_err(|e| e.to_string()));
        match request {
            Ok(request) => {
                *candidates = practice::Candidates::Listing;
                Effect::RunPractice {
                    purpose: RunPurpose::Candidates(key.clone()),
                    request,
                    runtime: Runtime::Tokio,
                }
            }
            Err(e) => {
                *candidates = practice::Candidates::Unavailable(e);
                Effect::None
            }
        }
    }

    /// Leave practice: back to the lesson if one is open, else the browser.
    fn close_practice(&mut self) {
        self.practice.view = None;
        self.screen = if self.lesson.is_some() {
            Screen::Lesson
        } else {
            Screen::Browser
        };
    }

    /// A key or a result for practice: runs coming back, scrolling, then the view's own step,
    /// then what that step asks for.
    pub(super) fn update_practice(&mut self, action: Action) -> Effect {
        let Some(view) = self.practice.view.as_ref() else {
            self.close_practice();
            return Effect::None;
        };
        let key = quiz_key(view, &action);
        if let Action::PracticeRan { purpose, result } = action {
            self.practice_run_came_back(purpose, result);
            return Effect::None;
        }
        if self.scroll_practice(&action) {
            return Effect::None;
        }
        if action == Action::NextPane {
            self.practice.demo_shown = !self.practice.demo_shown
                && self
                    .practice
                    .shown_run
                    .as_ref()
                    .is_some_and(|r| matches!(r.purpose, RunPurpose::Interview { .. }));
            return Effect::None;
        }
        // A new item or a reveal starts at the top of its text.
        if matches!(
            key,
            Some(QuizKey::Submit | QuizKey::Grade(_) | QuizKey::Back)
        ) {
            self.practice.scroll = 0;
        }
        let effect = self.step_practice_view(&action, key);
        // A prediction that could not be scored brings no run: stop waiting for one.
        if let Action::PredictScored {
            key,
            result: Err(_),
        } = &action
            && self
                .practice
                .shown_run
                .as_ref()
                .is_some_and(|r| r.purpose == RunPurpose::Predict(key.clone()))
        {
            self.practice.shown_run = None;
        }
        self.apply_practice_effect(effect)
    }

    /// A run practice asked for came back: a "which finishes first" item's task list, or a run
    /// to show.
    fn practice_run_came_back(&mut self, purpose: RunPurpose, result: Result<PracticeRun, String>) {
        match (purpose, self.practice.view.as_mut()) {
            (RunPurpose::Candidates(key), Some(PracticeView::Quiz(q))) => {
                let names = result.map(|run| {
                    run.runs
                        .first()
                        .map(|r| crate::practice::measure::task_names(&r.timeline))
                        .unwrap_or_default()
                });
                practice::candidates_listed(q, &key, names);
            }
            (RunPurpose::Candidates(_), _) => {}
            (purpose, _) => self.practice_ran(purpose, result),
        }
    }

    /// PgUp/PgDn and the wheel move the text; once a run is shown the answer is in, so ↑/↓
    /// (and the wheel) scroll its lanes, as the timeline says when some do not fit. Says
    /// whether `action` was a scroll.
    fn scroll_practice(&mut self, action: &Action) -> bool {
        // Until a run is shown, ↑/↓ and the wheel move through the code the prediction runs.
        if self.practice.shown_run.is_none()
            && let Some(code) = self.practice.code.as_mut()
        {
            match action {
                Action::Up | Action::Down => {
                    code.move_cursor(*action == Action::Down, 1);
                    return true;
                }
                Action::Scroll { down, .. } => {
                    code.move_cursor(*down, WHEEL_LINES);
                    return true;
                }
                _ => {}
            }
        }
        match action {
            Action::PageUp => {
                self.practice.scroll = self.practice.scroll.saturating_sub(TEXT_PAGE);
                return true;
            }
            Action::PageDown => {
                self.practice.scroll += TEXT_PAGE;
                return true;
            }
            Action::Scroll { down, .. } if self.practice.shown_run.is_none() => {
                self.practice.scroll = if *down {
                    self.practice.scroll + WHEEL_ROWS
                } else {
                    self.practice.scroll.saturating_sub(WHEEL_ROWS)
                };
                return true;
            }
            _ => {}
        }
        if let Some(ShownRun {
            state: ShownRunState::Done { view, .. },
            ..
        }) = self.practice.shown_run.as_mut()
        {
            let lanes = match action {
                Action::Up | Action::Scroll { down: false, .. } => Some(Action::Up),
                Action::Down | Action::Scroll { down: true, .. } => Some(Action::Down),
                _ => None,
            };
            if let Some(step) = lanes {
                view.update(step);
                return true;
            }
        }
        false
    }

    /// The view's own step: a quiz or review item, the interview, or a summary's way out.
    fn step_practice_view(&mut self, action: &Action, key: Option<QuizKey>) -> PracticeEffect {
        let at = self.elapsed;
        let Some(view) = self.practice.view.as_mut() else {
            return PracticeEffect::None;
        };
        let (effect, summary) = match (view, action, key) {
            (PracticeView::Quiz(q), Action::PredictScored { key, result }, _) => (
                practice::predict_scored(q, key, result.clone(), &mut self.progress, &self.now),
                None,
            ),
            (PracticeView::Quiz(q), _, Some(k)) => (
                practice::quiz_key(q, k, &self.lessons, &mut self.progress, &self.now),
                None,
            ),
            (PracticeView::Interview(i), Action::Tick { at, .. }, _) => {
                practice::interview_tick(i, *at, &self.lessons, &mut self.progress, &self.now)
            }
            (PracticeView::Interview(i), _, Some(k)) => {
                practice::interview_key(i, k, at, &self.lessons, &mut self.progress, &self.now)
            }
            (
                PracticeView::Summary(_) | PracticeView::QuizDone(_),
                _,
                Some(QuizKey::Back | QuizKey::Submit),
            ) => (PracticeEffect::Close, None),
            _ => (PracticeEffect::None, None),
        };
        if let Some(summary) = summary {
            self.practice.view = Some(PracticeView::Summary(summary));
        }
        effect
    }

    /// What a practice step asked for: save, say, score, run, finish or close.
    fn apply_practice_effect(&mut self, effect: PracticeEffect) -> Effect {
        match effect {
            PracticeEffect::None => self.ask_for_candidates(),
            PracticeEffect::Save => {
                self.progress_changed();
                Effect::None
            }
            PracticeEffect::Message(text) => {
                self.message = Some(text);
                Effect::None
            }
            PracticeEffect::Finished => {
                if let Some(PracticeView::Quiz(q)) = &self.practice.view {
                    let summary =
                        practice::quiz_summary(q, &self.lessons, &self.progress, &self.now);
                    self.practice.view = Some(PracticeView::QuizDone(summary));
                    self.practice.scroll = 0;
                }
                Effect::None
            }
            PracticeEffect::ScorePredict { key, typed } => {
                let item = key.resolve(&self.lessons).and_then(|(_, item)| item);
                let demo = item
                    .and_then(|i| i.as_predict())
                    .and_then(|p| crate::demo::find(&p.demo))
                    .map_or("demo", |d| d.spec().id);
                let runtime =
                    item.map_or(Runtime::Tokio, crate::practice::evidence::predict_runtime);
                self.practice.shown_run = Some(ShownRun {
                    purpose: RunPurpose::Predict(key.clone()),
                    demo,
                    clock: Clock::Virtual,
                    runtime,
                    state: ShownRunState::Running,
                });
                Effect::ScorePredict { key, typed }
            }
            PracticeEffect::Run {
                purpose,
                request,
                runtime,
                save,
            } => {
                if save {
                    self.progress_changed();
                }
                self.practice.shown_run = Some(ShownRun {
                    purpose: purpose.clone(),
                    demo: request.demo.spec().id,
                    clock: request.clock,
                    runtime,
                    state: ShownRunState::Running,
                });
                Effect::RunPractice {
                    purpose,
                    request,
                    runtime,
                }
            }
            PracticeEffect::Close => {
                self.close_practice();
                Effect::None
            }
        }
    }

    /// A run came back. Kept only if practice still shows what it was for, shaped for the
    /// timeline pane here, once.
    fn practice_ran(&mut self, purpose: RunPurpose, result: Result<PracticeRun, String>) {
        let Some(shown) = self
            .practice
            .shown_run
            .as_mut()
            .filter(|r| r.purpose == purpose)
        else {
            return;
        };
        shown.state = match result {
            Err(e) => ShownRunState::Failed(e),
            Ok(run) => {
                shown.demo = run.demo;
                shown.clock = run.clock;
                shown.runtime = run.runtime;
                // Asked for asyncio, made on tokio: say why (the evidence still shows).
                if let Some(note) = &run.note {
                    self.message = Some(note.clone());
                }
                let guess = match (&purpose, &self.practice.view) {
                    (RunPurpose::Predict(key), Some(PracticeView::Quiz(q))) => {
                        let measure = key
                            .resolve(&self.lessons)
                            .and_then(|(_, item)| item?.as_predict())
                            .map(|p| p.measure.clone());
                        match (&q.state, measure) {
                            (
                                ItemState::Predict {
                                    result: Some(Ok(score)),
                                    ..
                                },
                                Some(m),
                            ) => Some((m, score.predicted.clone())),
                            _ => None,
                        }
                    }
                    _ => None,
                };
                shown_run(&purpose, run, guess)
            }
        };
    }

    /// The lesson whose model answer practice may show now: the current item's or question's.
    fn practice_lesson(&self) -> Option<&LessonId> {
        match self.practice.view.as_ref()? {
            PracticeView::Quiz(q) => q.items.get(q.index).map(|k| k.lesson()),
            PracticeView::Interview(i) => i.current().map(|q| &q.lesson),
            PracticeView::Summary(_) | PracticeView::QuizDone(_) => None,
        }
    }

    /// Is `purpose` what practice shows now: the current item, or the revealed question?
    fn run_is_current(&self, purpose: &RunPurpose) -> bool {
        match (self.practice.view.as_ref(), purpose) {
            (Some(PracticeView::Quiz(q)), RunPurpose::Predict(k) | RunPurpose::Evidence(k)) => {
                q.items.get(q.index) == Some(k)
            }
            (Some(PracticeView::Interview(i)), RunPurpose::Interview { index, .. }) => {
                i.index() == *index && matches!(i.phase(), crate::practice::Phase::Revealed { .. })
            }
            _ => false,
        }
    }

    /// After every update: a run for an item or question no longer shown is dropped, and the
    /// model answer is rendered when practice moves to another lesson; the pane only reads them.
    pub(super) fn refresh_practice(&mut self) {
        if self
            .practice
            .shown_run
            .as_ref()
            .is_some_and(|r| !self.run_is_current(&r.purpose))
        {
            self.practice.shown_run = None;
        }
        // The next question opens on its model answer.
        if self.practice.shown_run.is_none() {
            self.practice.demo_shown = false;
        }
        self.refresh_answer();
        self.refresh_code();
    }

    /// The code of the prediction on screen: found when the item is shown (again if its run came
    /// from another runtime than asked: asyncio asked, Python missing), its lines marked once
    /// its run is shown.
    fn refresh_code(&mut self) {
        let item = match &self.practice.view {
            Some(PracticeView::Quiz(q)) => q.items.get(q.index).and_then(|key| {
                let (_, item) = key.resolve(&self.lessons)?;
                Some((key, item?.as_predict()?))
            }),
            _ => None,
        };
        let Some((key, predict)) = item else {
            self.practice.code = None;
            return;
        };
        let run = self
            .practice
            .shown_run
            .as_ref()
            .filter(|r| r.purpose == RunPurpose::Predict(key.clone()));
        let done = run.and_then(|r| match &r.state {
            ShownRunState::Done { view, .. } => Some((r.runtime, view)),
            _ => None,
        });
        let asked = done.map_or(predict.runtime, |(runtime, _)| runtime);
        let current = self
            .practice
            .code
            .as_ref()
            .is_some_and(|c| &c.key == key && c.asked == asked);
        if !current {
            self.practice.code =
                variant_code(predict, asked).map(|code| ShownCode::new(key.clone(), asked, code));
        }
        if let (Some(code), Some((_, view))) = (self.practice.code.as_mut(), done)
            && code.marked.is_none()
        {
            code.marked = Some(run_lines(view, code.code.source));
        }
    }

    fn refresh_answer(&mut self) {
        let Some(id) = self.practice_lesson() else {
            return;
        };
        if self
            .practice
            .answer
            .as_ref()
            .is_none_or(|a| &a.lesson != id)
        {
            let Some(lesson) = self.lessons.iter().find(|l| &l.id == id) else {
                return;
            };
            let render = crate::markdown::render;
            self.practice.answer = Some(AnswerText {
                lesson: lesson.id.clone(),
                lines: render(&lesson.answer),
                question: render(&lesson.question),
                key_points: lesson.key_points.iter().map(|p| render(p)).collect(),
                demo_caption: lesson
                    .demos
                    .first()
                    .map(|d| render(&d.caption))
                    .unwrap_or_default(),
                item: None,
            });
        }
        let key = match &self.practice.view {
            Some(PracticeView::Quiz(q)) => q.items.get(q.index).cloned(),
            _ => None,
        };
        let Some(answer) = self.practice.answer.as_mut() else {
            return;
        };
        if answer.item.as_ref().map(|i| &i.key) != key.as_ref() {
            answer.item = key.and_then(|k| ItemText::of(&k, &self.lessons));
        }
    }

    /// The rendered model answer of `lesson`, if practice is on it.
    pub fn answer_lines(&self, lesson: &LessonId) -> &[MdLine] {
        self.lesson_text(lesson).map_or(&[], |a| &a.lines)
    }

    /// The rendered text of `lesson`, if practice is on it.
    pub fn lesson_text(&self, lesson: &LessonId) -> Option<&AnswerText> {
        self.practice
            .answer
            .as_ref()
            .filter(|a| &a.lesson == lesson)
    }

    /// The rendered text of quiz item `key`, if it is the one on screen.
    pub fn item_text(&self, key: &ItemKey) -> Option<&ItemText> {
        self.practice
            .answer
            .as_ref()
            .and_then(|a| a.item.as_ref())
            .filter(|i| &i.key == key)
    }
}

/// A finished run shaped for the timeline pane: a prediction's run with the guess marked (the
/// time cursor at a guessed total, the marker on a guessed lane), a bug's buggy and fixed
/// variants on one axis, an interview demo's variants on one axis.
fn shown_run(
    purpose: &RunPurpose,
    run: PracticeRun,
    guess: Option<(Measure, Prediction)>,
) -> ShownRunState {
    let error = run.error.clone();
    let changed = match (purpose, run.runs.as_slice()) {
        (RunPurpose::Evidence(_), [bug, fix, ..]) => changed_metrics(&bug.timeline, &fix.timeline),
        _ => Vec::new(),
    };
    let span = run.span_ms();
    let runtime = run.runtime;
    let tags: Vec<(&'static str, &'static str)> = match purpose {
        RunPurpose::Evidence(_) => ["bug", "fix"]
            .into_iter()
            .zip(run.runs.iter().map(Run::variant))
            .collect(),
        _ if run.runs.len() > 1 => VARIANT_TAGS
            .into_iter()
            .zip(run.runs.iter().map(Run::variant))
            .collect(),
        _ => Vec::new(),
    };
    let mut runs = run.runs;
    // Several runs as groups on one axis, as `c` compares them, each labelled with its part
    // (`bug · blocking`, `① · await`); their strips on one scale per measure.
    for ((tag, _), r) in tags.iter().zip(runs.iter_mut()) {
        r.label = format!("{tag} · {}", r.label);
    }
    if let (Some((Measure::FirstFinished, Prediction::Name(guessed))), [first]) =
        (&guess, runs.as_mut_slice())
    {
        first.timeline = mark_lane(&first.timeline, guessed, '▸');
    }
    let mut view = RunView::finished(runs, None);
    view.error = error;
    // Its header says when asyncio made it.
    view.runtime = runtime;
    // The time cursor marks a guessed total on the axis (and what ran at that instant); nothing
    // else has a time to point at.
    view.cursor_ms = match guess {
        Some((Measure::TotalMs, Prediction::Number(ms))) if ms >= 0.0 => {
            if ms > span {
                view.window = Some((0.0, ms));
            }
            Some(ms)
        }
        _ => None,
    };
    ShownRunState::Done {
        view: Box::new(view),
        tags,
        changed,
    }
}

/// The numeric metrics both runs report and the second changes, at most three, in name order.
fn changed_metrics(
    bug: &crate::demo::timeline::TimelineSnapshot,
    fix: &crate::demo::timeline::TimelineSnapshot,
) -> Vec<String> {
    use crate::demo::timeline::fmt_number;
    bug.metrics
        .keys()
        .filter_map(|name| {
            let (b, f) = (bug.metric(name)?, fix.metric(name)?);
            (fmt_number(b) != fmt_number(f))
                .then(|| format!("{name} {} → {}", fmt_number(b), fmt_number(f)))
        })
        .take(3)
        .collect()
}
