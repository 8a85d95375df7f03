//! The practice screen in the app: starting a review, a lesson quiz or the mock interview,
//! routing keys and ticks to the session (`practice`), and keeping the model answer it may show
//! rendered once per lesson rather than per frame.

use super::practice::{self, PracticeEffect, PracticeView, QuizKey};
use super::{Action, App, Effect, Screen};
use crate::lesson::LessonId;
use crate::markdown::MdLine;

/// The model answer of the lesson practice is on, as rendered Markdown.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerText {
    pub lesson: LessonId,
    pub lines: Vec<MdLine>,
}

impl App {
    pub(super) fn start_review(&mut self) {
        let queue = crate::practice::review_queue(&self.lessons, &self.progress, &self.now, 10);
        let n = queue.len();
        let items = queue.into_iter().map(|e| e.key).collect();
        match practice::start_quiz(format!("Review · {n} item(s)"), items, &self.lessons) {
            Some(q) => self.enter_practice(PracticeView::Quiz(q)),
            None => {
                self.message =
                    Some("nothing to review: every item is answered and none is due".into())
            }
        }
    }

    pub(super) fn start_interview(&mut self) {
        let seed = self.elapsed.as_nanos() as u64 ^ self.now.at.timestamp() as u64;
        let i = practice::start_interview(&self.lessons, &self.progress, &self.now, seed);
        self.enter_practice(PracticeView::Interview(i));
    }

    pub(super) fn start_quiz(&mut self) {
        let Some(l) = self.current_lesson() else {
            return;
        };
        let items = l
            .quiz
            .iter()
            .map(|q| crate::practice::ItemKey::quiz(&l.id, &q.id))
            .collect();
        let title = format!("Quiz · {} {}", l.label(), crate::text::sanitize(&l.title));
        if let Some(q) = practice::start_quiz(title, items, &self.lessons) {
            self.enter_practice(PracticeView::Quiz(q));
        }
    }

    fn enter_practice(&mut self, view: PracticeView) {
        self.practice = Some(view);
        self.screen = Screen::Practice;
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

    pub(super) fn update_practice(&mut self, action: Action) -> Effect {
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

    /// The lesson whose model answer practice may show now: the current item's or question's.
    fn practice_lesson(&self) -> Option<&LessonId> {
        match self.practice.as_ref()? {
            PracticeView::Quiz(q) => q.items.get(q.index).map(|k| k.lesson()),
            PracticeView::Interview(i) => i.current().map(|q| &q.lesson),
            PracticeView::Summary(_) => None,
        }
    }

    /// Render the model answer when practice moves to another lesson; the pane only reads it.
    pub(super) fn refresh_answer(&mut self) {
        let Some(id) = self.practice_lesson() else {
            return;
        };
        if self.answer.as_ref().is_some_and(|a| &a.lesson == id) {
            return;
        }
        let Some(lesson) = self.lessons.iter().find(|l| &l.id == id) else {
            return;
        };
        self.answer = Some(AnswerText {
            lesson: lesson.id.clone(),
            lines: crate::markdown::render(&lesson.answer),
        });
    }

    /// The rendered model answer of `lesson`, if practice is on it.
    pub fn answer_lines(&self, lesson: &LessonId) -> &[MdLine] {
        self.answer
            .as_ref()
            .filter(|a| &a.lesson == lesson)
            .map_or(&[], |a| &a.lines)
    }
}
