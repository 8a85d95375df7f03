//! One way in for every run: a start request (what to run, on which runtimes) gives one handle,
//! whatever runs behind it — a demo on tokio, its asyncio twin, or both side by side. The app
//! polls the handle for live runs and waits for the finished ones; the command line and practice
//! wait at once. A traced script is the third kind of handle ([`start_script`]).

use super::asyncio::{AsyncioError, Python, RunOn, Runtime, TwinRun};
use super::run::{Run, interleave};
use super::{Clock, DemoRun, RunError, RunRequest};

/// What to run and where.
#[derive(Debug, Clone)]
pub struct Start {
    /// The demo, its variants, parameters and clock.
    pub request: RunRequest,
    pub runtimes: RunOn,
    /// With `Both`: the variants the twin runs (those with an asyncio meaning); tokio runs them
    /// all. Empty: the request's own.
    pub twin_variants: Vec<&'static str>,
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("could not start the demo: {0}")]
    Tokio(std::io::Error),
    #[error(transparent)]
    Asyncio(#[from] AsyncioError),
}

/// A run going on.
pub trait RunHandle: Send {
    /// Its runs so far (a run still recording included, with no total yet).
    fn runs(&self) -> Vec<Run>;
    /// Goes up whenever [`runs`](RunHandle::runs) would show something new.
    fn version(&self) -> u64;
    fn is_finished(&self) -> bool;
    /// Stop it now; it still has to be waited for (or dropped, which waits).
    fn cancel(&self);
    /// Wait for the end.
    fn wait(self: Box<Self>) -> Finished;
    /// A traced script's output so far and how it ended; `None` for demos.
    fn script_output(&self) -> Option<super::script::ScriptOutput> {
        None
    }
    /// Goes up whenever [`script_output`](RunHandle::script_output) (or the runs) would show
    /// something new.
    fn output_version(&self) -> u64 {
        0
    }
}

/// How a run ended.
#[derive(Debug, Default)]
pub struct Finished {
    /// Every run it made, in the order they are compared.
    pub runs: Vec<Run>,
    /// The first run's error, if one failed.
    pub error: Option<RunError>,
    /// Why a runtime could not run at all (no usable Python): with both runtimes, the other's
    /// runs still come back.
    pub not_run: Option<String>,
    /// What the interpreter said on stderr when a twin's run failed (sanitised, its end).
    pub python_said: String,
    /// A traced script's output, notes and ending.
    pub script: Option<super::script::ScriptOutput>,
}

impl Finished {
    fn of(runs: Vec<Run>) -> Finished {
        let error = runs.iter().find_map(|r| r.error.clone());
        Finished {
            runs,
            error,
            ..Finished::default()
        }
    }
}

/// Start `start` with `python` for any twin. Nothing is left running on an error.
pub fn start(start: Start, python: &Python) -> Result<Box<dyn RunHandle>, StartError> {
    let Start {
        request,
        runtimes,
        twin_variants,
    } = start;
    let twin_request = |req: &RunRequest| RunRequest {
        variants: if twin_variants.is_empty() {
            req.variants.clone()
        } else {
            twin_variants.clone()
        },
        ..req.clone()
    };
    match runtimes {
        RunOn::Tokio => Ok(Box::new(TokioHandle::start(request)?)),
        RunOn::Asyncio => Ok(Box::new(TwinHandle::start(
            twin_request(&request),
            python.clone(),
        )?)),
        RunOn::Both => {
            let twin = TwinHandle::start(twin_request(&request), python.clone())?;
            let tokio = TokioHandle::start(request)?;
            Ok(Box::new(BothHandle { tokio, twin }))
        }
    }
}

/// Start tracing a learner's script: the same handle the app polls and the command line waits
/// for. Nothing is left running on an error.
pub fn start_script(
    start: super::script::ScriptStart,
    python: &Python,
) -> Result<Box<dyn RunHandle>, super::script::ScriptError> {
    Ok(Box::new(super::script::ScriptHandle::start(start, python)?))
}

/// Start and wait: for the command line, practice and tests. Both runtimes run one after the
/// other here (the twin first), so neither's real-clock times share the machine with the other's.
pub fn run_to_end(start_request: Start, python: &Python) -> Result<Finished, StartError> {
    if start_request.runtimes != RunOn::Both {
        return Ok(start(start_request, python)?.wait());
    }
    let twin = start(
        Start {
            runtimes: RunOn::Asyncio,
            ..start_request.clone()
        },
        python,
    )?
    .wait();
    let tokio = start(
        Start {
            runtimes: RunOn::Tokio,
            ..start_request
        },
        python,
    )?
    .wait();
    Ok(Finished {
        not_run: twin.not_run,
        python_said: twin.python_said,
        ..Finished::of(interleave(tokio.runs, twin.runs))
    })
}

/// A demo on tokio.
struct TokioHandle {
    demo: &'static str,
    clock: Clock,
    run: DemoRun,
}

impl TokioHandle {
    fn start(request: RunRequest) -> Result<TokioHandle, StartError> {
        let (demo, clock) = (request.demo.spec().id, request.clock);
        let run = DemoRun::start(request).map_err(StartError::Tokio)?;
        Ok(TokioHandle { demo, clock, run })
    }
}

impl RunHandle for TokioHandle {
    fn runs(&self) -> Vec<Run> {
        self.run
            .snapshots()
            .into_iter()
            .map(|(variant, snap)| {
                Run::of_demo(self.demo, variant, Runtime::Tokio, self.clock, snap)
            })
            .collect()
    }

    fn version(&self) -> u64 {
        self.run.version()
    }

    fn is_finished(&self) -> bool {
        self.run.is_finished()
    }

    fn cancel(&self) {
        self.run.cancel();
    }

    fn wait(self: Box<Self>) -> Finished {
        let (demo, clock) = (self.demo, self.clock);
        let report = self.run.wait();
        Finished::of(
            report
                .runs
                .into_iter()
                .map(|v| Run::finished(demo, Runtime::Tokio, clock, v))
                .collect(),
        )
    }
}

/// A demo's asyncio twin on the learner's Python.
struct TwinHandle {
    demo: &'static str,
    clock: Clock,
    twin: TwinRun,
}

impl TwinHandle {
    fn start(request: RunRequest, python: Python) -> Result<TwinHandle, StartError> {
        let (demo, clock) = (request.demo.spec().id, request.clock);
        let twin = TwinRun::start(request, python)?;
        Ok(TwinHandle { demo, clock, twin })
    }
}

impl RunHandle for TwinHandle {
    /// The variants finished so far: a twin reports a variant when it ends.
    fn runs(&self) -> Vec<Run> {
        self.twin
            .snapshots()
            .into_iter()
            .map(|(variant, snap)| {
                let total = snap.now_ms;
                Run {
                    total_ms: Some(total),
                    ..Run::of_demo(self.demo, variant, Runtime::Asyncio, self.clock, snap)
                }
            })
            .collect()
    }

    fn version(&self) -> u64 {
        self.twin.snapshots().len() as u64
    }

    fn is_finished(&self) -> bool {
        self.twin.is_finished()
    }

    fn cancel(&self) {
        self.twin.cancel();
    }

    fn wait(self: Box<Self>) -> Finished {
        let (demo, clock) = (self.demo, self.clock);
        match self.twin.wait() {
            Ok(t) => {
                let python_said = if t.succeeded() {
                    String::new()
                } else {
                    t.stderr
                };
                Finished {
                    python_said,
                    ..Finished::of(
                        t.report
                            .runs
                            .into_iter()
                            .map(|v| Run::finished(demo, Runtime::Asyncio, clock, v))
                            .collect(),
                    )
                }
            }
            Err(e) => Finished {
                not_run: Some(e.to_string()),
                ..Finished::default()
            },
        }
    }
}

/// Tokio and the twin side by side: one comparison, interleaved per variant.
struct BothHandle {
    tokio: TokioHandle,
    twin: TwinHandle,
}

impl RunHandle for BothHandle {
    fn runs(&self) -> Vec<Run> {
        interleave(self.tokio.runs(), self.twin.runs())
    }

    fn version(&self) -> u64 {
        // Both only grow: their sum changes whenever either has news.
        self.tokio.version().wrapping_add(self.twin.version())
    }

    fn is_finished(&self) -> bool {
        self.tokio.is_finished() && self.twin.is_finished()
    }

    fn cancel(&self) {
        self.tokio.cancel();
        self.twin.cancel();
    }

    fn wait(self: Box<Self>) -> Finished {
        let tokio = Box::new(self.tokio).wait();
        let twin = Box::new(self.twin).wait();
        let runs = interleave(tokio.runs, twin.runs);
        Finished {
            not_run: twin.not_run,
            python_said: twin.python_said,
            ..Finished::of(runs)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gather(runtimes: RunOn) -> Start {
        Start {
            request: RunRequest::build(
                "gather",
                &["sequential".into(), "join-all".into()],
                &[],
                Clock::Virtual,
            )
            .expect("request"),
            runtimes,
            twin_variants: Vec::new(),
        }
    }

    #[test]
    fn a_tokio_run_comes_back_as_runs_that_carry_their_source() {
        let done = run_to_end(gather(RunOn::Tokio), &Python::choose(None)).expect("runs");
        let labels: Vec<&str> = done.runs.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(labels, ["sequential", "join-all"]);
        assert_eq!(done.runs[0].total_ms, Some(600.0));
        assert_eq!(done.runs[1].total_ms, Some(300.0));
        assert!(done.runs.iter().all(|r| r.runtime == Runtime::Tokio));
        assert_eq!(
            done.runs[0].sources[0].file,
            "src/demo/catalog/gather/shown.rs"
        );
        assert_eq!(done.error, None);
        assert_eq!(done.not_run, None);
    }

    #[test]
    fn both_without_a_python_still_brings_tokio_and_says_why() {
        let missing = Python::choose(Some(std::path::Path::new("/nonexistent/python3")));
        let done = run_to_end(gather(RunOn::Both), &missing).expect("tokio runs");
        let labels: Vec<&str> = done.runs.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(
            labels,
            ["sequential", "join-all"],
            "nothing to compare with"
        );
        assert!(
            done.not_run
                .as_deref()
                .is_some_and(|why| why.contains("/nonexistent/python3")),
            "{:?}",
            done.not_run
        );
    }

    #[test]
    fn a_variant_without_an_asyncio_meaning_is_refused_before_anything_runs() {
        // Every demo has a twin; a variant with no asyncio meaning is refused the same way.
        let asked = Start {
            request: RunRequest::build("event-loop", &["multi-thread".into()], &[], Clock::Real)
                .expect("request"),
            runtimes: RunOn::Asyncio,
            twin_variants: Vec::new(),
        };
        let Err(StartError::Asyncio(AsyncioError::NoTwinVariant { .. })) =
            start(asked, &Python::choose(None))
        else {
            panic!("event-loop's multi-thread variant has no asyncio meaning");
        };
    }
}
