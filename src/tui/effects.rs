//! The effects the app asks for, performed so the UI thread never waits: a demo runs on its own
//! thread (the loop polls it once a frame), a prediction is scored on a worker that answers with
//! an action, and progress goes to the saver thread.

use std::sync::Arc;
use std::sync::mpsc::Sender;

use super::Incoming;
use super::saver::Saver;
use crate::app::{Action, App, Effect};
use crate::demo::asyncio::Python;
use crate::demo::asyncio::RunOn;
use crate::demo::engine::{self, RunHandle, Start};
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

pub struct Effects {
    tx: Sender<Incoming>,
    /// The run going on, whatever runs it (tokio, the twin, both).
    run: Option<Box<dyn RunHandle>>,
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
            seen_version: u64::MAX,
            scorer: Arc::new(scorer),
            saver,
            saved_version: 0,
        }
    }

    /// A demo is running: the loop wakes every frame to show it.
    pub fn running(&self) -> bool {
        self.run.is_some()
    }

    /// A new run replaces whatever was running, which winds down off the UI thread.
    fn retire_running(&mut self) {
        if let Some(old) = self.run.take() {
            retire(old);
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
            } => self.start(Start {
                request,
                runtimes: if both { RunOn::Both } else { RunOn::Asyncio },
                twin_variants,
            }),
            Effect::StartRun(request) => self.start(Start {
                request,
                runtimes: RunOn::Tokio,
                twin_variants: Vec::new(),
            }),
            Effect::WriteFile { name, text } => Step::Then(Action::Notify(
                match write_new(std::path::Path::new("."), &name, &text) {
                    Ok(path) => format!(
                        "wrote the lesson's model Python to {}: `asyncdojo trace {}` runs it",
                        path.display(),
                        path.file_name()
                            .map_or(name.clone().into(), |n| n.to_string_lossy())
                    ),
                    Err(e) => format!("could not write {name} in the current directory: {e}"),
                },
            )),
            Effect::CancelRun => {
                if let Some(r) = &self.run {
                    r.cancel();
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

    /// Start a run through the engine; it replaces whatever was running. The interpreter is
    /// found and checked on the twin's own thread: a missing or old Python comes back when the
    /// run ends, in words.
    fn start(&mut self, start: Start) -> Step {
        match engine::start(start, &Python::chosen()) {
            Ok(run) => {
                self.retire_running();
                self.run = Some(run);
                self.seen_version = u64::MAX;
                Step::Continue
            }
            Err(e) => Step::Then(Action::RunNotStarted(e.to_string())),
        }
    }

    /// What the running demo has to show: new runs, or its end.
    pub fn poll_run(&mut self) -> Option<Action> {
        let r = self.run.as_ref()?;
        if r.is_finished() {
            // Finished: waiting returns at once.
            let finished = self.run.take()?.wait();
            return Some(match finished.not_run {
                // Nothing ran: say why instead of drawing nothing.
                Some(why) if finished.runs.is_empty() => Action::RunNotStarted(why),
                not_run => {
                    // With both, tokio's runs still show; why Python did not run goes to the
                    // status line.
                    if let Some(why) = not_run {
                        let _ = self.tx.send(Incoming::Action(Action::Notify(why)));
                    }
                    Action::DemoFinished {
                        runs: finished.runs,
                        error: finished.error,
                    }
                }
            });
        }
        let version = r.version();
        if version == self.seen_version {
            return None;
        }
        self.seen_version = version;
        Some(Action::DemoProgress(r.runs()))
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

/// Cancel a run and let it wind down off the UI thread (dropping a run joins its thread, a demo
/// that blocks its thread on purpose may take a while, and a twin waits for the interpreter it
/// kills).
fn retire(run: Box<dyn RunHandle>) {
    run.cancel();
    if run.is_finished() {
        return;
    }
    let _ = std::thread::Builder::new()
        .name("retire-run".into())
        .spawn(move || drop(run));
}

/// Write `text` to `dir/name`, or `name-1`, `name-2`… when that exists: a learner's edited copy
/// is never overwritten. The path written, absolute where it can be.
pub fn write_new(
    dir: &std::path::Path,
    name: &str,
    text: &str,
) -> std::io::Result<std::path::PathBuf> {
    use std::io::Write;
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    for n in 0..100 {
        let file = match (n, ext) {
            (0, _) => name.to_owned(),
            (_, "") => format!("{stem}-{n}"),
            _ => format!("{stem}-{n}.{ext}"),
        };
        let path = dir.join(&file);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                f.write_all(text.as_bytes())?;
                return Ok(std::path::absolute(&path).unwrap_or(path));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        format!("{name} and 99 numbered copies already exist"),
    ))
}

/// Run a prediction's demo on the virtual clock and score the guess; the run comes back too.
pub fn score_prediction(item: &QuizItem, typed: &str) -> Result<ScoredPrediction, String> {
    crate::practice::evidence::score_with_run(item, typed).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::Registry;

    #[test]
    fn w_on_a_lesson_writes_its_model_python_and_never_over_a_learners_copy() {
        let mut app = App::new(crate::lesson::load_embedded(&Registry), true);
        let q05 = app
            .lessons
            .iter()
            .position(|l| l.id.0.starts_with("q05"))
            .expect("q05");
        app.open_lesson(q05);
        let Effect::WriteFile { name, text } = app.update(Action::SaveModelPython) else {
            panic!("w asks to write the file");
        };
        assert_eq!(name, "q05.py");
        // How to run it, then the twin exactly as the lesson shows it.
        let twin = crate::demo::asyncio::twin_source("http-fanout").expect("twin");
        let header = text
            .strip_suffix(twin)
            .expect("the twin, unchanged, after the header");
        assert!(header.starts_with("# Lesson Q5's model Python"), "{header}");
        assert!(header.contains("asyncdojo trace q05.py"), "{header}");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("q05.py"), "# my edits\n").unwrap();
        let written = write_new(dir.path(), &name, &text).unwrap();
        assert_eq!(written.file_name().unwrap(), "q05-1.py");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("q05.py")).unwrap(),
            "# my edits\n",
            "the learner's copy is kept"
        );
        assert_eq!(std::fs::read_to_string(&written).unwrap(), text);
    }
}
