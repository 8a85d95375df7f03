//! The effects the app asks for, performed so the UI thread never waits: a demo runs on its own
//! thread (the loop polls it once a frame), a prediction is scored on a worker that answers with
//! an action, and progress goes to the saver thread.

use std::sync::Arc;
use std::sync::mpsc::Sender;

use super::Incoming;
use super::saver::Saver;
use crate::app::run_view::{asyncio_label, runtime_label};
use crate::app::{Action, App, Effect};
use crate::demo::DemoRun;
use crate::demo::asyncio::{Python, Runtime, TwinRun};
use crate::lesson::QuizItem;
use crate::practice::{RunPurpose, ScoredPrediction};

/// Runs a prediction's demo and scores what was typed: blocking, so only ever called on a worker.
type Scorer = dyn Fn(&QuizItem, &str) -> Result<ScoredPrediction, String> + Send + Sync;

/// What the loop does after an effect.
#[derive(Debug)]
pub enum Step {
    Continue,
    /// Apply this action next (the effect's answer was known at once).
    Then(Action),
    Quit,
}

/// An asyncio twin running, with the tokio run beside it when both runtimes were asked for.
struct TwinJob {
    /// The demo it twins: its variants' asyncio names label the asyncio runs.
    demo: &'static str,
    twin: TwinRun,
    tokio: Option<DemoRun>,
    /// What was last sent as progress: the tokio run's version and the twin's finished variants.
    seen: (u64, usize),
}

impl TwinJob {
    fn is_finished(&self) -> bool {
        self.twin.is_finished() && self.tokio.as_ref().is_none_or(DemoRun::is_finished)
    }

    fn cancel(&self) {
        self.twin.cancel();
        if let Some(t) = &self.tokio {
            t.cancel();
        }
    }

    fn both(&self) -> bool {
        self.tokio.is_some()
    }

    /// The runs so far, labelled by runtime when both run, by their asyncio names always.
    fn snapshots(&self) -> Vec<(&'static str, crate::demo::timeline::TimelineSnapshot)> {
        let demo = self.demo;
        let twin = self.twin.snapshots();
        let Some(tokio) = &self.tokio else {
            return twin
                .into_iter()
                .map(|(variant, snap)| (asyncio_label(demo, variant), snap))
                .collect();
        };
        let mut runs = Vec::new();
        for (variant, snap) in tokio.snapshots() {
            runs.push((runtime_label(demo, variant, Runtime::Tokio), snap));
            if let Some((_, a)) = twin.iter().find(|(v, _)| *v == variant) {
                runs.push((runtime_label(demo, variant, Runtime::Asyncio), a.clone()));
            }
        }
        runs
    }

    /// The job ended: the finished runs (tokio then asyncio per variant when both ran), or why
    /// Python could not run, with whatever tokio ran.
    fn finish(self) -> (Action, Option<String>) {
        let (demo, both) = (self.demo, self.both());
        let tokio = self.tokio.map(DemoRun::wait);
        let twin = self.twin.wait();
        let mut runs = Vec::new();
        let mut runtimes = Vec::new();
        let mut error = None;
        let (twin, why) = match twin {
            Ok(t) => (Some(t.report), None),
            Err(e) => (None, Some(e.to_string())),
        };
        if !both {
            let Some(report) = twin else {
                let why = why.unwrap_or_default();
                return (Action::RunNotStarted(why), None);
            };
            for v in report.runs {
                error = error.or(v.error.clone());
                runs.push((asyncio_label(demo, v.variant), v.timeline, v.total_ms));
                runtimes.push(Runtime::Asyncio);
            }
        } else {
            for t in tokio.into_iter().flat_map(|r| r.runs) {
                error = error.or(t.error.clone());
                let variant = t.variant;
                runs.push((
                    runtime_label(demo, variant, Runtime::Tokio),
                    t.timeline,
                    t.total_ms,
                ));
                runtimes.push(Runtime::Tokio);
                if let Some(a) = twin.as_ref().and_then(|r| r.run(variant)) {
                    error = error.or(a.error.clone());
                    runs.push((
                        runtime_label(demo, variant, Runtime::Asyncio),
                        a.timeline.clone(),
                        a.total_ms,
                    ));
                    runtimes.push(Runtime::Asyncio);
                }
            }
        }
        let finished = Action::TwinFinished {
            runs,
            runtimes,
            error,
        };
        (finished, why)
    }
}

pub struct Effects {
    tx: Sender<Incoming>,
    run: Option<DemoRun>,
    twin: Option<TwinJob>,
    /// The run's version last sent to the app as progress.
    seen_version: u64,
    scorer: Arc<Scorer>,
    saver: Option<Saver>,
    /// The app's progress version last handed to the saver.
    saved_version: u64,
}

impl Effects {
    /// `saver` is `None` when progress cannot be saved; `scorer` is `score_prediction` outside
    /// tests.
    pub fn new(
        tx: Sender<Incoming>,
        saver: Option<Saver>,
        scorer: impl Fn(&QuizItem, &str) -> Result<ScoredPrediction, String> + Send + Sync + 'static,
    ) -> Effects {
        Effects {
            tx,
            run: None,
            twin: None,
            seen_version: u64::MAX,
            scorer: Arc::new(scorer),
            saver,
            saved_version: 0,
        }
    }

    /// A demo is running: the loop wakes every frame to show it.
    pub fn running(&self) -> bool {
        self.run.is_some() || self.twin.is_some()
    }

    /// A new run replaces whatever was running, which winds down off the UI thread.
    fn retire_running(&mut self) {
        if let Some(old) = self.run.take() {
            retire(old);
        }
        if let Some(old) = self.twin.take() {
            retire_twin(old);
        }
    }

    pub fn perform(&mut self, effect: Effect, app: &App) -> Step {
        match effect {
            Effect::None => Step::Continue,
            Effect::Quit => Step::Quit,
            Effect::StartTwin {
                request,
                twin_variants,
                both,
            } => {
                let demo = request.demo.spec().id;
                let twin_request = crate::demo::RunRequest {
                    variants: twin_variants,
                    ..request.clone()
                };
                // The interpreter is found and checked on the twin's own thread: a missing or
                // old Python comes back as the run's error, in words, when it ends.
                let twin = match TwinRun::start(twin_request, Python::choose(None)) {
                    Ok(twin) => twin,
                    Err(e) => return Step::Then(Action::RunNotStarted(e.to_string())),
                };
                let tokio = if both {
                    match DemoRun::start(request) {
                        Ok(run) => Some(run),
                        Err(e) => {
                            retire_twin(TwinJob {
                                demo,
                                twin,
                                tokio: None,
                                seen: (0, 0),
                            });
                            return Step::Then(Action::RunNotStarted(format!(
                                "could not start the demo: {e}"
                            )));
                        }
                    }
                } else {
                    None
                };
                self.retire_running();
                self.twin = Some(TwinJob {
                    demo,
                    twin,
                    tokio,
                    seen: (u64::MAX, usize::MAX),
                });
                Step::Continue
            }
            Effect::StartRun(req) => match DemoRun::start(req) {
                Ok(run) => {
                    self.retire_running();
                    self.run = Some(run);
                    self.seen_version = u64::MAX;
                    Step::Continue
                }
                Err(e) => Step::Then(Action::RunNotStarted(format!(
                    "could not start the demo: {e}"
                ))),
            },
            Effect::CancelRun => {
                if let Some(r) = &self.run {
                    r.cancel();
                }
                if let Some(t) = &self.twin {
                    t.cancel();
                }
                Step::Continue
            }
            Effect::ScorePredict { key, typed } => {
                let Some((_, Some(item))) = key.resolve(&app.lessons) else {
                    return Step::Then(Action::PredictScored {
                        key,
                        result: Err("this quiz item no longer exists".into()),
                    });
                };
                let item = item.clone();
                let (tx, scorer) = (self.tx.clone(), Arc::clone(&self.scorer));
                let answer_key = key.clone();
                let spawned = std::thread::Builder::new()
                    .name("score".into())
                    .spawn(move || {
                        let (result, run) = match scorer(&item, &typed) {
                            Ok(scored) => (Ok(scored.score), Some(scored.run)),
                            Err(e) => (Err(e), None),
                        };
                        let _ = tx.send(Incoming::Action(Action::PredictScored {
                            key: answer_key.clone(),
                            result,
                        }));
                        if let Some(run) = run {
                            let _ = tx.send(Incoming::Action(Action::PracticeRan {
                                purpose: RunPurpose::Predict(answer_key),
                                result: Ok(run),
                            }));
                        }
                    });
                match spawned {
                    Ok(_) => Step::Continue,
                    Err(e) => Step::Then(Action::PredictScored {
                        key,
                        result: Err(format!("could not start scoring: {e}")),
                    }),
                }
            }
            Effect::RunPractice {
                purpose,
                request,
                runtime,
            } => {
                let tx = self.tx.clone();
                let answer = purpose.clone();
                let spawned = std::thread::Builder::new()
                    .name("practice-run".into())
                    .spawn(move || {
                        let result = crate::practice::evidence::run_shown_on(request, runtime)
                            .map_err(|e| e.to_string());
                        let _ = tx.send(Incoming::Action(Action::PracticeRan {
                            purpose: answer,
                            result,
                        }));
                    });
                match spawned {
                    Ok(_) => Step::Continue,
                    Err(e) => Step::Then(Action::PracticeRan {
                        purpose,
                        result: Err(format!("could not start the run: {e}")),
                    }),
                }
            }
        }
    }

    /// What the running demo has to show: new snapshots, or its end.
    pub fn poll_run(&mut self) -> Option<Action> {
        if self.twin.is_some() {
            return self.poll_twin();
        }
        let r = self.run.as_ref()?;
        if r.is_finished() {
            // Finished: joining its thread returns at once.
            let report = self.run.take()?.wait();
            let error = report.runs.iter().find_map(|v| v.error.clone());
            let runs = report
                .runs
                .into_iter()
                .map(|v| (v.variant, v.timeline, v.total_ms))
                .collect();
            return Some(Action::DemoFinished { runs, error });
        }
        let version = r.version();
        if version == self.seen_version {
            return None;
        }
        self.seen_version = version;
        Some(Action::DemoProgress(r.snapshots()))
    }

    /// What the twin (and tokio beside it) has to show: finished variants so far, or the end.
    fn poll_twin(&mut self) -> Option<Action> {
        let job = self.twin.as_mut()?;
        if job.is_finished() {
            let (finished, why) = self.twin.take()?.finish();
            // With both, tokio's runs still show; why Python did not run goes to the status line.
            if let Some(why) = why {
                let _ = self.tx.send(Incoming::Action(Action::Notify(why)));
            }
            return Some(finished);
        }
        let seen = (
            job.tokio.as_ref().map_or(0, DemoRun::version),
            job.twin.snapshots().len(),
        );
        if seen == job.seen {
            return None;
        }
        job.seen = seen;
        Some(Action::DemoProgress(job.snapshots()))
    }

    /// Hand changed progress to the saver (which writes the latest on its own thread).
    pub fn save_if_changed(&mut self, app: &App) {
        if app.progress_version == self.saved_version {
            return;
        }
        self.saved_version = app.progress_version;
        if let Some(saver) = &self.saver {
            saver.save(app.progress.clone());
        }
    }

    /// Quitting: every save handed over is written; a run still going is cancelled and left to
    /// end on its own thread rather than held up.
    pub fn finish(mut self) {
        if let Some(saver) = self.saver.take() {
            saver.finish();
        }
        self.retire_running();
    }
}

/// Cancel a twin job and let it wind down off the UI thread (dropping a `TwinRun` waits for the
/// interpreter it kills).
fn retire_twin(job: TwinJob) {
    job.cancel();
    if job.is_finished() {
        return;
    }
    let _ = std::thread::Builder::new()
        .name("retire-twin".into())
        .spawn(move || drop(job));
}

/// Cancel a run and let it wind down off the UI thread (dropping a `DemoRun` joins its thread,
/// and a demo that blocks its thread on purpose may take a while).
fn retire(run: DemoRun) {
    run.cancel();
    if run.is_finished() {
        return;
    }
    let _ = std::thread::Builder::new()
        .name("retire-run".into())
        .spawn(move || drop(run));
}

/// Run a prediction's demo on the virtual clock and score the guess; the run comes back too.
pub fn score_prediction(item: &QuizItem, typed: &str) -> Result<ScoredPrediction, String> {
    crate::practice::evidence::score_with_run(item, typed).map_err(|e| e.to_string())
}
