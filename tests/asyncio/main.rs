//! The asyncio twins against the tokio demos, and the tracer on its own: one file per theme,
//! shared helpers here.
//!
//! Every test here needs Python 3.11 or later. Without one a test prints why and passes, unless
//! `CI` or `ASYNCDOJO_REQUIRE_PYTHON` is set (CI sets it): then it fails, so CI never passes
//! without having run them.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use asyncdojo::demo::Clock;
use asyncdojo::demo::asyncio::{self, Mapping, Python, TwinReport};
use asyncdojo::demo::runner::{self, RunReport, RunRequest, VariantRun};
use asyncdojo::demo::timeline::{Outcome, SeriesValue};

/// The interpreter the tests use (see `asyncio::for_tests`).
fn python() -> Option<&'static Python> {
    asyncdojo::demo::asyncio::for_tests()
}

fn sets(s: &[&str]) -> Vec<String> {
    s.iter().map(|s| s.to_string()).collect()
}

fn request(demo: &str, variants: &[&str], set: &[&str], clock: Clock) -> RunRequest {
    let variants: Vec<String> = variants.iter().map(|v| v.to_string()).collect();
    RunRequest::build(demo, &variants, &sets(set), clock).unwrap()
}

/// The same request on both runtimes.
fn both(
    py: &Python,
    demo: &str,
    variants: &[&str],
    set: &[&str],
    clock: Clock,
) -> (RunReport, TwinReport) {
    let req = request(demo, variants, set, clock);
    let twin = asyncio::run_twin(&req, py).unwrap();
    let tokio = runner::run_blocking(req).unwrap();
    for r in &twin.report.runs {
        assert_eq!(
            r.error, None,
            "{demo} {} on asyncio failed; Python said:\n{}",
            r.variant, twin.stderr
        );
    }
    (tokio, twin)
}

/// A task as conformance sees it: everything but ids and polls.
#[derive(Debug, PartialEq)]
struct TaskView {
    name: String,
    parent: Option<String>,
    outcome: Outcome,
    spawned_ms: f64,
    finished_ms: Option<f64>,
}

#[derive(Debug, PartialEq)]
struct View {
    total_ms: f64,
    tasks: Vec<TaskView>,
    /// (t_ms, task, label)
    marks: Vec<(f64, Option<String>, String)>,
    series: BTreeMap<String, Vec<(f64, SeriesValue)>>,
    /// Numbers compared as numbers (3 and 3.0 are the same metric).
    metrics: BTreeMap<String, serde_json::Value>,
    error: Option<String>,
}

fn view(run: &VariantRun) -> View {
    let tl = &run.timeline;
    let name = |id: Option<u32>| {
        id.and_then(|id| tl.tasks.iter().find(|t| t.id == id))
            .map(|t| t.name.clone())
    };
    View {
        total_ms: run.total_ms,
        tasks: tl
            .tasks
            .iter()
            .map(|t| TaskView {
                name: t.name.clone(),
                parent: name(t.parent),
                outcome: t.outcome,
                spawned_ms: t.spawned_ms,
                finished_ms: t.finished_ms,
            })
            .collect(),
        marks: tl
            .marks
            .iter()
            .map(|m| (m.t_ms, name(m.task), m.label.to_string()))
            .collect(),
        series: tl.series.clone(),
        metrics: tl
            .metrics
            .iter()
            .map(|(k, v)| {
                let v = v
                    .as_f64()
                    .map_or_else(|| v.clone(), |n| serde_json::json!(n));
                (k.clone(), v)
            })
            .collect(),
        error: run.error.as_ref().map(ToString::to_string),
    }
}

/// The variants that are the same program on both runtimes and run on the virtual clock.
fn shared_variants(demo: &str) -> Vec<&'static str> {
    let twin = asyncio::twin(demo).unwrap();
    let spec = asyncdojo::demo::find(demo).unwrap().spec();
    twin.variants
        .iter()
        .filter(|v| matches!(v.mapping, Mapping::Same { .. }))
        .filter(|v| {
            spec.variant(v.name)
                .is_some_and(|s| s.clocks.contains(&Clock::Virtual))
        })
        .map(|v| v.name)
        .collect()
}

/// On the virtual clock, every shared variant agrees exactly with tokio for every parameter set.
fn conforms(demo: &str, param_sets: &[&[&str]]) {
    let Some(py) = python() else { return };
    let _turn = exclusive();
    let variants = shared_variants(demo);
    assert!(!variants.is_empty(), "{demo} shares no variant");
    for set in param_sets {
        let (tokio, twin) = both(py, demo, &variants, set, Clock::Virtual);
        for v in &variants {
            let t = view(tokio.run(v).unwrap());
            let a = view(twin.report.run(v).unwrap());
            assert_eq!(t.error, None, "{demo} {v} {set:?} on tokio");
            assert_eq!(a, t, "{demo} {v} {set:?}: asyncio (left) vs tokio (right)");
        }
    }
}

mod conformance;
mod differences;
mod real_clock;
mod tracer;
mod wakes;

/// Real-clock runs measure time, so the tests that run them take turns: one Python at a time.
static REAL_CLOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn exclusive() -> std::sync::MutexGuard<'static, ()> {
    REAL_CLOCK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
