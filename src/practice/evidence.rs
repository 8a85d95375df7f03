//! Runs as evidence in practice: the run a prediction was scored against, a spot-the-bug
//! exercise's buggy and fixed variants side by side, and the demo of an interview question.
//!
//! Building the requests and shaping the finished runs for one time axis is plain data and lives
//! here; running them is blocking ([`run_shown`]), so the app asks its edge to do it on a worker.

use std::collections::BTreeMap;

use crate::demo::asyncio::RunOn;
use crate::demo::asyncio::{self, Mapping, Python, Runtime};
use crate::demo::engine::{self, Start, StartError};
use crate::demo::run::Run;
use crate::demo::timeline::TimelineSnapshot;
use crate::demo::{Clock, RunReport, RunRequest};
use crate::lesson::{BugHunt, DemoRef, Evidence, Language, LessonId, ParamValue, QuizItem};
use crate::progress::ItemKey;

use super::PracticeError;
pub use super::score::predict_runtime;
use super::score::{PredictScore, predict_request, run_predict, score_predict_item};

/// What a run in practice is for. Its result is shown only while practice is still there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunPurpose {
    /// The run a prediction was scored against.
    Predict(ItemKey),
    /// A spot-the-bug item's evidence: its exercise's buggy and fixed variants.
    Evidence(ItemKey),
    /// The demo of the interview's question `index` (its lesson's first demo).
    Interview { index: usize, lesson: LessonId },
    /// A "which finishes first" prediction's demo, run as the item is shown only to list the
    /// tasks it can name (see [`super::measure::task_names`]); never drawn, since its lanes would
    /// give the answer away.
    Candidates(ItemKey),
}

/// A finished run as practice shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct PracticeRun {
    pub demo: &'static str,
    pub clock: Clock,
    /// Each variant's run, in the order they ran.
    pub runs: Vec<Run>,
    /// The first variant's error, if one failed (what it recorded is still in `runs`).
    pub error: Option<String>,
    /// The runtime that made the runs.
    pub runtime: Runtime,
    /// Why it ran on another runtime than the one asked for (no usable Python for the twin).
    pub note: Option<String>,
}

impl PracticeRun {
    /// A finished report of `runtime`'s runs.
    pub fn from_report(report: RunReport, runtime: Runtime) -> PracticeRun {
        let error = report
            .runs
            .iter()
            .find_map(|r| r.error.as_ref().map(ToString::to_string));
        let (demo, clock) = (report.demo, report.clock);
        PracticeRun {
            demo,
            clock,
            runs: report
                .runs
                .into_iter()
                .map(|v| Run::finished(demo, runtime, clock, v))
                .collect(),
            error,
            runtime,
            note: None,
        }
    }

    /// Finished runs of `runtime`.
    pub fn from_runs(demo: &'static str, runs: Vec<Run>, runtime: Runtime) -> PracticeRun {
        PracticeRun {
            demo,
            clock: runs.first().map_or(Clock::Virtual, |r| r.clock),
            error: runs
                .iter()
                .find_map(|r| r.error.as_ref().map(ToString::to_string)),
            runs,
            runtime,
            note: None,
        }
    }

    /// The longest variant's total.
    pub fn span_ms(&self) -> f64 {
        self.runs.iter().map(Run::span_ms).fold(0.0, f64::max)
    }
}

/// A prediction's score and the run it was scored against.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredPrediction {
    pub score: PredictScore,
    pub run: PracticeRun,
}

/// Run a predict item's demo on the virtual clock and score `typed` against it. Blocking.
pub fn score_with_run(item: &QuizItem, typed: &str) -> Result<ScoredPrediction, PracticeError> {
    let demo = predict_request(item)?.demo.spec().id;
    let run = run_predict(item)?;
    let score = score_predict_item(item, typed, &run.measured)?;
    Ok(ScoredPrediction {
        score,
        run: PracticeRun::from_runs(demo, run.runs, predict_runtime(item)),
    })
}

/// `--set` arguments for lesson parameters.
fn sets(params: &BTreeMap<String, ParamValue>) -> Vec<String> {
    params.iter().map(|(k, v)| format!("{k}={v}")).collect()
}

/// A request for `variants` of `demo` (empty: its defaults) on the virtual clock when every one of
/// them supports it: instant and exact. Otherwise on the real clock, leaving out any variant that
/// cannot run there.
fn request(
    demo: &str,
    variants: &[String],
    params: &BTreeMap<String, ParamValue>,
) -> Result<RunRequest, PracticeError> {
    let spec = crate::demo::find(demo)
        .ok_or_else(|| PracticeError::Demo(format!("no demo `{demo}`")))?
        .spec();
    let names: Vec<String> = if variants.is_empty() {
        spec.default_variants
            .iter()
            .map(|v| v.to_string())
            .collect()
    } else {
        variants.to_vec()
    };
    for name in &names {
        spec.parse_variant(name)
            .map_err(|e| PracticeError::Demo(e.to_string()))?;
    }
    let supports = |name: &String, clock: Clock| {
        spec.variant(name)
            .is_some_and(|v| v.clocks.contains(&clock))
    };
    let clock = if names.iter().all(|n| supports(n, Clock::Virtual)) {
        Clock::Virtual
    } else {
        Clock::Real
    };
    let runnable: Vec<String> = names.into_iter().filter(|n| supports(n, clock)).collect();
    if runnable.is_empty() {
        return Err(PracticeError::Demo(format!(
            "no variant of `{demo}` runs on one clock with the others"
        )));
    }
    RunRequest::build(demo, &runnable, &sets(params), clock)
        .map_err(|e| PracticeError::Demo(e.to_string()))
}

/// The run that backs an exercise's evidence: its buggy variant, then its fixed one.
pub fn evidence_request(evidence: &Evidence) -> Result<RunRequest, PracticeError> {
    request(
        &evidence.demo,
        &[evidence.buggy.clone(), evidence.fixed.clone()],
        &evidence.params,
    )
}

/// Where an exercise's evidence runs. A learner reading Python sees the bug on asyncio: when the
/// exercise's code is Python and the demo's twin runs both variants as the same program, on the
/// twin; otherwise (Rust code, no twin, a variant asyncio only has an analogue of) on tokio.
pub fn evidence_runtime(hunt: &BugHunt) -> Runtime {
    let Some(evidence) = &hunt.evidence else {
        return Runtime::Tokio;
    };
    let same = |variant: &str| {
        asyncio::twin(&evidence.demo)
            .and_then(|t| t.variant(variant))
            .is_some_and(|v| matches!(v.mapping, Mapping::Same { .. }))
    };
    if hunt.language == Language::Python && same(&evidence.buggy) && same(&evidence.fixed) {
        Runtime::Asyncio
    } else {
        Runtime::Tokio
    }
}

/// Where an interview reveal's demo runs: the guide's questions are about asyncio, so on the
/// demo's twin when it runs every variant asked for as the same program; else on tokio.
pub fn reveal_runtime(request: &RunRequest) -> Runtime {
    let Some(twin) = asyncio::twin(request.demo.spec().id) else {
        return Runtime::Tokio;
    };
    let variants: &[&str] = if request.variants.is_empty() {
        request.demo.spec().default_variants
    } else {
        &request.variants
    };
    let same = variants.iter().all(|v| {
        twin.variant(v)
            .is_some_and(|v| matches!(v.mapping, Mapping::Same { .. }))
    });
    if same {
        Runtime::Asyncio
    } else {
        Runtime::Tokio
    }
}

/// The run of a lesson's demo reference, as the interview's reveal shows it.
pub fn demo_request(demo: &DemoRef) -> Result<RunRequest, PracticeError> {
    request(&demo.demo, &demo.variants, &demo.params)
}

/// Run a request on tokio to the end and keep what practice shows. Blocking: a worker's job.
pub fn run_shown(req: RunRequest) -> Result<PracticeRun, PracticeError> {
    run_shown_with(req, Runtime::Tokio, &Python::chosen())
}

/// [`run_shown`] on `runtime`: on asyncio, the demo's twin on the learner's Python (found as the
/// app finds it). Without a Python that can run it the run is made on tokio and `note` says why:
/// the evidence is still shown, never an error. Blocking: a worker's job.
pub fn run_shown_on(req: RunRequest, runtime: Runtime) -> Result<PracticeRun, PracticeError> {
    run_shown_with(req, runtime, &Python::chosen())
}

/// [`run_shown_on`] with a given Python; through the engine, as every run.
pub fn run_shown_with(
    req: RunRequest,
    runtime: Runtime,
    python: &Python,
) -> Result<PracticeRun, PracticeError> {
    let demo = req.demo.spec().id;
    let start = |request: RunRequest, runtimes| Start {
        request,
        runtimes,
        twin_variants: Vec::new(),
    };
    let runtimes = match runtime {
        Runtime::Tokio => RunOn::Tokio,
        Runtime::Asyncio => RunOn::Asyncio,
    };
    let could_not = |e: StartError| PracticeError::Demo(format!("could not start the run: {e}"));
    let why = match engine::run_to_end(start(req.clone(), runtimes), python) {
        Ok(done) if done.not_run.is_none() => {
            return Ok(PracticeRun::from_runs(demo, done.runs, runtime));
        }
        Ok(done) => done.not_run.unwrap_or_default(),
        Err(e @ StartError::Tokio(_)) => return Err(could_not(e)),
        Err(e) => e.to_string(),
    };
    let tokio = engine::run_to_end(start(req, RunOn::Tokio), python).map_err(could_not)?;
    Ok(PracticeRun {
        note: Some(format!("ran on tokio, not asyncio: {why}")),
        ..PracticeRun::from_runs(demo, tokio.runs, Runtime::Tokio)
    })
}

/// `snap` with a two-column gutter before every lane name and `marker` in it on the lanes named
/// by `guess` (as a first-finished prediction names a task: see [`super::score::names_match`]).
pub fn mark_lane(snap: &TimelineSnapshot, guess: &str, marker: char) -> TimelineSnapshot {
    let mut out = snap.clone();
    for t in &mut out.tasks {
        let m = if super::score::names_match(guess, &t.name) {
            marker
        } else {
            ' '
        };
        t.name = format!("{m} {}", t.name);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::Outcome;
    use crate::demo::timeline::{Mark, SeriesValue, TaskRecord};

    fn snap(names: &[&str], now: f64) -> TimelineSnapshot {
        TimelineSnapshot {
            tasks: names
                .iter()
                .enumerate()
                .map(|(i, n)| TaskRecord {
                    file: None,
                    id: i as u32 + 1,
                    name: (*n).into(),
                    parent: (i > 0).then_some(1),
                    spawned_ms: 0.0,
                    finished_ms: Some(now),
                    outcome: Outcome::Ok,
                    detail: String::new(),
                    polls: vec![],
                    seqs: Vec::new(),
                    line: None,
                })
                .collect(),
            marks: vec![Mark {
                file: None,
                t_ms: now / 2.0,
                task: Some(2),
                label: "half".into(),
                line: Some(3),
                seq: 0,
            }],
            series: [("gap".to_owned(), vec![(0.0, SeriesValue::Num(1.0))])].into(),
            series_seqs: [("gap".to_owned(), vec![0])].into(),
            metrics: [("n".to_owned(), serde_json::json!(1))].into(),
            now_ms: now,
            ..TimelineSnapshot::default()
        }
    }

    #[test]
    fn the_named_lane_gets_the_marker_and_the_rest_a_blank_gutter() {
        let s = snap(&["request 1", "request 2", "request 3"], 300.0);
        let marked = mark_lane(&s, "2", '▸');
        let names: Vec<&str> = marked.tasks.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["  request 1", "▸ request 2", "  request 3"]);
    }

    #[test]
    fn evidence_runs_on_the_virtual_clock_unless_a_variant_needs_the_real_one() {
        let evidence = |buggy: &str, fixed: &str| Evidence {
            demo: "blocking".into(),
            buggy: buggy.into(),
            fixed: fixed.into(),
            params: [("ticks".to_owned(), ParamValue::Int(5))].into(),
            caption: "look".into(),
        };
        let req = evidence_request(&evidence("blocking", "async-sleep")).expect("request");
        assert_eq!(req.clock, Clock::Virtual);
        assert_eq!(req.variants, ["blocking", "async-sleep"]);
        let req = evidence_request(&evidence("blocking", "spawn-blocking")).expect("request");
        assert_eq!(
            req.clock,
            Clock::Real,
            "spawn-blocking runs only on the real clock"
        );
        assert!(evidence_request(&evidence("blocking", "nope")).is_err());
    }
}
