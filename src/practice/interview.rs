//! The mock interview: N lesson questions, each with a countdown to answer out loud or in a notes
//! box, then the model answer, key points and demo, then a self-grade; a summary at the end.
//!
//! A pure state machine: [`Interview::update`] takes an [`InterviewAction`] and returns an
//! [`InterviewEffect`]. Time is never read here: every timed action carries `at`, the time since
//! any fixed origin the caller picks (an `Instant` at start-up, say), so tests drive the clock.

mod draw;

use std::time::Duration;

use crate::lesson::{DemoRef, Lesson, LessonId};
use crate::progress::{Grade, ItemKey, Moment, Progress};

pub use draw::{PickReason, Question, lesson_weight, pick_questions};

/// How an interview is drawn and timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InterviewConfig {
    /// How many questions (fewer if there are fewer lessons).
    pub questions: usize,
    /// The countdown per question; 0 means untimed.
    pub seconds_per_question: u32,
    /// Seeds the draw: the same seed, lessons and progress give the same questions.
    pub seed: u64,
}

impl Default for InterviewConfig {
    fn default() -> Self {
        InterviewConfig {
            questions: 5,
            seconds_per_question: 180,
            seed: 0,
        }
    }
}

/// Where the interview is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Phase {
    /// Before the current question's countdown starts.
    Ready,
    /// The countdown runs; the learner answers (out loud or in the notes).
    Answering {
        started: Duration,
    },
    /// Model answer, key points and demo are shown; waiting for a self-grade.
    Revealed {
        started: Duration,
        revealed: Duration,
        timed_out: bool,
    },
    Finished,
}

/// What the learner (or the timer) does.
#[derive(Debug, Clone, PartialEq)]
pub enum InterviewAction {
    /// Start the current question's countdown.
    Start {
        at: Duration,
    },
    /// Time passed: when the countdown is over, the answer is revealed.
    Tick {
        at: Duration,
    },
    /// Edit the notes (while answering or revealed).
    Type(char),
    Backspace,
    SetNotes(String),
    /// Done answering: show the model answer.
    Reveal {
        at: Duration,
    },
    /// Grade the revealed answer; moves to the next question, or finishes.
    Grade {
        grade: Grade,
        at: Duration,
    },
    /// Pass on the current question (no grade, nothing scheduled): before, while or after its
    /// answer is revealed.
    Skip {
        at: Duration,
    },
    /// End the interview now; the summary covers what was done.
    Quit {
        at: Duration,
    },
}

/// What the caller should do after an update.
#[derive(Debug, Clone, PartialEq)]
pub enum InterviewEffect {
    None,
    /// Show the model answer, key points and the lesson's demo.
    Revealed {
        lesson: LessonId,
        timed_out: bool,
    },
    /// Record this answer (see [`record_interview`](super::record::record_interview)) and save: nothing graded is lost if
    /// the process dies later. When it was the last question the interview is now finished.
    Graded(AnswerRecord),
    /// The interview ended (by `Quit`, or a `Skip` of the last question); see
    /// [`Interview::summary`].
    Finished,
}

/// One question as it went.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerRecord {
    /// 0-based position in the interview.
    pub index: usize,
    pub lesson: LessonId,
    /// `None`: skipped.
    pub grade: Option<Grade>,
    pub notes: String,
    /// From the countdown's start to the reveal (or the skip).
    pub answer_time: Duration,
    /// From the countdown's start to the grade (or the skip).
    pub total_time: Duration,
    /// The countdown ran out before the learner revealed.
    pub timed_out: bool,
}

impl AnswerRecord {
    pub fn key(&self) -> ItemKey {
        ItemKey::interview(&self.lesson)
    }
}

/// The end-of-interview summary.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Graded and skipped questions, in order.
    pub answers: Vec<AnswerRecord>,
    /// Questions never reached (the interview was quit).
    pub not_reached: Vec<LessonId>,
    /// Time spent on questions (countdown start to grade), summed.
    pub total_time: Duration,
    /// How many answers got each grade, in [`Grade::ALL`] order.
    pub grade_counts: [usize; 4],
}

/// The model answer side of a question: what the reveal shows.
#[derive(Debug, Clone, Copy)]
pub struct Reveal<'a> {
    pub question: &'a str,
    /// Markdown.
    pub answer: &'a str,
    pub key_points: &'a [String],
    /// The demo to run next to it, if the lesson has one.
    pub demo: Option<&'a DemoRef>,
}

impl<'a> Reveal<'a> {
    pub fn of(lesson: &'a Lesson) -> Reveal<'a> {
        Reveal {
            question: &lesson.question,
            answer: &lesson.answer,
            key_points: &lesson.key_points,
            demo: lesson.demos.first(),
        }
    }
}

/// A mock interview in progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Interview {
    config: InterviewConfig,
    questions: Vec<Question>,
    index: usize,
    phase: Phase,
    notes: String,
    answers: Vec<AnswerRecord>,
}

impl Interview {
    /// Draw an interview from `lessons`, weighted toward what is due or weak in `progress`.
    pub fn new(
        lessons: &[Lesson],
        progress: &Progress,
        now: &Moment,
        config: InterviewConfig,
    ) -> Interview {
        let questions = pick_questions(lessons, progress, now, config.questions, config.seed);
        Interview::with_questions(questions, config)
    }

    /// An interview over questions the caller chose.
    pub fn with_questions(questions: Vec<Question>, config: InterviewConfig) -> Interview {
        let phase = if questions.is_empty() {
            Phase::Finished
        } else {
            Phase::Ready
        };
        Interview {
            config,
            questions,
            index: 0,
            phase,
            notes: String::new(),
            answers: Vec::new(),
        }
    }

    pub fn config(&self) -> &InterviewConfig {
        &self.config
    }

    pub fn questions(&self) -> &[Question] {
        &self.questions
    }

    /// The current question's 0-based position.
    pub fn index(&self) -> usize {
        self.index
    }

    pub fn current(&self) -> Option<&Question> {
        if self.phase == Phase::Finished {
            None
        } else {
            self.questions.get(self.index)
        }
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    pub fn notes(&self) -> &str {
        &self.notes
    }

    pub fn answers(&self) -> &[AnswerRecord] {
        &self.answers
    }

    pub fn is_finished(&self) -> bool {
        self.phase == Phase::Finished
    }

    fn limit(&self) -> Option<Duration> {
        (self.config.seconds_per_question > 0)
            .then(|| Duration::from_secs(u64::from(self.config.seconds_per_question)))
    }

    /// Time left on the countdown at `at`, while answering a timed question.
    pub fn remaining(&self, at: Duration) -> Option<Duration> {
        match self.phase {
            Phase::Answering { started } => self
                .limit()
                .map(|limit| limit.saturating_sub(at.saturating_sub(started))),
            _ => None,
        }
    }

    /// Apply an action. Actions that make no sense in the current phase are ignored (`None`).
    pub fn update(&mut self, action: InterviewAction) -> InterviewEffect {
        use InterviewAction as A;
        match (action, self.phase) {
            (_, Phase::Finished) => InterviewEffect::None,
            (A::Quit { at }, phase) => {
                if let Phase::Answering { started } | Phase::Revealed { started, .. } = phase {
                    // What was under way counts as skipped, so its time and notes are kept.
                    let (answer_time, timed_out) = match phase {
                        Phase::Revealed {
                            revealed,
                            timed_out,
                            ..
                        } => (revealed.saturating_sub(started), timed_out),
                        _ => (at.saturating_sub(started), false),
                    };
                    self.push_answer(None, answer_time, at.saturating_sub(started), timed_out);
                }
                self.phase = Phase::Finished;
                InterviewEffect::Finished
            }
            (A::Start { at }, Phase::Ready) => {
                self.phase = Phase::Answering { started: at };
                InterviewEffect::None
            }
            (A::Tick { at }, Phase::Answering { started }) => {
                match self.limit() {
                    Some(limit) if at.saturating_sub(started) >= limit => {
                        // The reveal happens when the time ran out, whenever the tick came.
                        self.reveal(started, started + limit, true)
                    }
                    _ => InterviewEffect::None,
                }
            }
            (A::Reveal { at }, Phase::Answering { started }) => {
                let at = match self.limit() {
                    Some(limit) => at.min(started + limit),
                    None => at,
                };
                let timed_out = self
                    .limit()
                    .is_some_and(|l| at.saturating_sub(started) >= l);
                self.reveal(started, at, timed_out)
            }
            (A::Type(c), Phase::Answering { .. } | Phase::Revealed { .. }) => {
                self.notes.push(c);
                InterviewEffect::None
            }
            (A::Backspace, Phase::Answering { .. } | Phase::Revealed { .. }) => {
                self.notes.pop();
                InterviewEffect::None
            }
            (A::SetNotes(text), Phase::Answering { .. } | Phase::Revealed { .. }) => {
                self.notes = text;
                InterviewEffect::None
            }
            (
                A::Grade { grade, at },
                Phase::Revealed {
                    started,
                    revealed,
                    timed_out,
                },
            ) => {
                let record = self.push_answer(
                    Some(grade),
                    revealed.saturating_sub(started),
                    at.saturating_sub(started),
                    timed_out,
                );
                self.advance();
                InterviewEffect::Graded(record)
            }
            (A::Skip { at }, phase) => {
                // Skipped before, during or after the reveal: no grade, the time is kept.
                let (answer_time, total_time, timed_out) = match phase {
                    Phase::Answering { started } => {
                        let spent = at.saturating_sub(started);
                        (spent, spent, false)
                    }
                    Phase::Revealed {
                        started,
                        revealed,
                        timed_out,
                    } => (
                        revealed.saturating_sub(started),
                        at.saturating_sub(started),
                        timed_out,
                    ),
                    _ => (Duration::ZERO, Duration::ZERO, false),
                };
                self.push_answer(None, answer_time, total_time, timed_out);
                self.advance();
                if self.is_finished() {
                    InterviewEffect::Finished
                } else {
                    InterviewEffect::None
                }
            }
            _ => InterviewEffect::None,
        }
    }

    fn reveal(&mut self, started: Duration, at: Duration, timed_out: bool) -> InterviewEffect {
        self.phase = Phase::Revealed {
            started,
            revealed: at,
            timed_out,
        };
        InterviewEffect::Revealed {
            lesson: self.questions[self.index].lesson.clone(),
            timed_out,
        }
    }

    fn push_answer(
        &mut self,
        grade: Option<Grade>,
        answer_time: Duration,
        total_time: Duration,
        timed_out: bool,
    ) -> AnswerRecord {
        let record = AnswerRecord {
            index: self.index,
            lesson: self.questions[self.index].lesson.clone(),
            grade,
            notes: std::mem::take(&mut self.notes),
            answer_time,
            total_time,
            timed_out,
        };
        self.answers.push(record.clone());
        record
    }

    fn advance(&mut self) {
        self.index += 1;
        self.phase = if self.index < self.questions.len() {
            Phase::Ready
        } else {
            Phase::Finished
        };
    }

    /// The summary so far (complete once [`is_finished`](Self::is_finished)).
    pub fn summary(&self) -> Summary {
        let mut grade_counts = [0; 4];
        for a in &self.answers {
            if let Some(g) = a.grade {
                grade_counts[g as usize] += 1;
            }
        }
        Summary {
            answers: self.answers.clone(),
            not_reached: self
                .questions
                .iter()
                .skip(self.answers.len())
                .map(|q| q.lesson.clone())
                .collect(),
            total_time: self.answers.iter().map(|a| a.total_time).sum(),
            grade_counts,
        }
    }
}
