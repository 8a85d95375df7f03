//! "What you read is what runs": every lesson's model Python, saved with `asyncdojo show N --code
//! python` as a learner would, traced with `asyncdojo trace FILE`, gives each variant its twin
//! declares as one run named after it, with the same lanes, outcomes and times (and marks, on
//! the same lines of the saved file, series and metrics) as asyncdojo's own run of the twin.
//! The twins no lesson saves (their demos are a lesson's second or third) are saved as the code
//! pane shows them. Each test skips without Python (and fails under CI, see
//! `asyncio::for_tests`).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use asyncdojo::demo::Clock;
use asyncdojo::demo::asyncio::{self, Python, for_tests};
use asyncdojo::demo::document::Document;
use asyncdojo::demo::runner::RunRequest;
use asyncdojo::demo::timeline::{Outcome, SeriesValue, TimelineSnapshot};

fn asyncdojo(dir: &Path, python: &Python, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_asyncdojo"))
        .arg("--python")
        .arg(&python.program)
        .args(args)
        .env("NO_COLOR", "1")
        .current_dir(dir)
        .output()
        .expect("run asyncdojo")
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

/// One twin as a learner saves it: the file's text, and how many lines come before the twin's.
struct Saved {
    demo: &'static str,
    file: String,
    text: String,
    header_lines: u32,
}

/// Every twin, saved with `show ID --code python` by the first lesson whose model it is, else
/// as the code pane shows it.
fn saved_twins(dir: &Path, py: &Python) -> Vec<Saved> {
    let out = asyncdojo(dir, py, &["list", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lessons: serde_json::Value = serde_json::from_slice(&out.stdout).expect("list --json");
    let mut saved: BTreeMap<&'static str, Saved> = BTreeMap::new();
    for lesson in lessons.as_array().expect("a list of lessons") {
        let id = lesson["id"].as_str().expect("an id");
        let out = asyncdojo(dir, py, &["show", id, "--code", "python"]);
        assert!(out.status.success(), "{id}: {}", text(&out.stderr));
        let model = text(&out.stdout);
        let Some(twin) = asyncio::twins().iter().find(|t| model.ends_with(t.source)) else {
            panic!("{id}'s model Python is not a twin, header aside:\n{model}");
        };
        let header = &model[..model.len() - twin.source.len()];
        assert!(
            header.lines().all(|l| l.is_empty() || l.starts_with('#')),
            "{id}: only comments come before the twin:\n{header}"
        );
        let short = id.split('-').next().unwrap_or(id);
        assert!(
            header.contains(&format!("asyncdojo trace {short}.py")),
            "{id}: the header says how to run it:\n{header}"
        );
        let header_lines = header.lines().count() as u32;
        saved.entry(twin.demo).or_insert_with(|| Saved {
            demo: twin.demo,
            file: format!("{short}.py"),
            header_lines,
            text: model,
        });
    }
    for twin in asyncio::twins() {
        saved.entry(twin.demo).or_insert_with(|| Saved {
            demo: twin.demo,
            file: twin.file.to_owned(),
            text: twin.source.to_owned(),
            header_lines: 0,
        });
    }
    let saved: Vec<Saved> = saved.into_values().collect();
    for s in &saved {
        std::fs::write(dir.join(&s.file), &s.text).expect("write the saved model");
    }
    saved
}

/// A lane as the comparison sees it: asyncio's own names (`Task-7`) count alike, since they
/// number every Task the interpreter made before.
#[derive(Debug, PartialEq)]
struct Lane {
    name: String,
    parent: Option<String>,
    outcome: Outcome,
    spawned_ms: f64,
    finished_ms: Option<f64>,
}

#[derive(Debug, PartialEq)]
struct View {
    total_ms: f64,
    lanes: Vec<Lane>,
    /// (t_ms, task, label, line of the twin's source)
    marks: Vec<(f64, Option<String>, String, Option<u32>)>,
    series: BTreeMap<String, Vec<(f64, SeriesValue)>>,
    metrics: BTreeMap<String, serde_json::Value>,
    error: Option<String>,
}

fn lane_name(name: &str) -> String {
    match name.strip_prefix("Task-") {
        Some(n) if n.chars().all(|c| c.is_ascii_digit()) => "Task-*".into(),
        _ => name.to_owned(),
    }
}

/// `header_lines`: lines of the saved file before the twin's first, taken off marks' lines.
fn view(tl: &TimelineSnapshot, total_ms: f64, error: Option<String>, header_lines: u32) -> View {
    let name = |id: Option<u32>| {
        id.and_then(|id| tl.tasks.iter().find(|t| t.id == id))
            .map(|t| lane_name(&t.name))
    };
    View {
        total_ms,
        lanes: tl
            .tasks
            .iter()
            .map(|t| Lane {
                name: lane_name(&t.name),
                parent: name(t.parent),
                outcome: t.outcome,
                spawned_ms: t.spawned_ms,
                finished_ms: t.finished_ms,
            })
            .collect(),
        marks: tl
            .marks
            .iter()
            .map(|m| {
                assert_eq!(m.file, None, "a twin is one file");
                let line = m.line.map(|l| {
                    assert!(l > header_lines, "a mark on the header's line {l}");
                    l - header_lines
                });
                (m.t_ms, name(m.task), m.label.to_string(), line)
            })
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
        error,
    }
}

/// `trace FILE --clock CLOCK --json`: the document, or why not.
fn trace(dir: &Path, py: &Python, s: &Saved, clock: &str) -> Document<'static> {
    let out = asyncdojo(dir, py, &["trace", &s.file, "--clock", clock, "--json"]);
    let err = text(&out.stderr);
    assert!(
        out.status.success(),
        "{} ({}): trace failed:\n{err}",
        s.file,
        s.demo
    );
    let doc = Document::from_json(&text(&out.stdout)).expect("a run document");
    assert!(!err.contains("Traceback"), "{} ({}): {err}", s.file, s.demo);
    doc
}

/// The twin's variants, as its `dojo.run` declares them.
fn declared(demo: &str) -> Vec<&'static str> {
    asyncio::twin(demo)
        .expect("a twin")
        .runnable()
        .map(|v| v.name)
        .collect()
}

/// The variants of the twin that run on the virtual clock.
fn virtual_variants(demo: &str) -> Vec<String> {
    declared(demo)
        .into_iter()
        .map(str::to_owned)
        .filter(|v| RunRequest::build(demo, std::slice::from_ref(v), &[], Clock::Virtual).is_ok())
        .collect()
}

#[test]
fn every_saved_model_traces_on_the_virtual_clock_as_its_twin_runs() {
    let Some(py) = for_tests().cloned() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let saved = saved_twins(dir.path(), &py);
    assert_eq!(saved.len(), asyncio::twins().len());
    assert!(saved.iter().filter(|s| s.header_lines > 0).count() >= 20);
    let virtual_twins: Vec<&Saved> = saved
        .iter()
        .filter(|s| !virtual_variants(s.demo).is_empty())
        .collect();
    assert!(virtual_twins.len() >= 15, "{}", virtual_twins.len());
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = virtual_twins
            .chunks(virtual_twins.len().div_ceil(2))
            .map(|chunk| {
                let (dir, py) = (dir.path(), &py);
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|s| {
                            let variants = virtual_variants(s.demo);
                            let req =
                                RunRequest::build(s.demo, &variants, &[], Clock::Virtual).unwrap();
                            let twin = asyncio::run_twin(&req, py).expect("the twin runs");
                            (*s, trace(dir, py, s, "virtual"), twin)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a thread"))
            .collect()
    });
    let mut checked = 0;
    for (s, doc, twin) in results {
        let labels: Vec<&str> = doc.runs.iter().map(|r| r.variant.as_ref()).collect();
        assert_eq!(
            labels,
            declared(s.demo),
            "{}: one run per variant, named after it",
            s.demo
        );
        let runs = doc
            .runs
            .into_iter()
            .filter(|r| twin.report.runs.iter().any(|t| t.variant == r.variant));
        for (entry, twin_run) in runs.zip(&twin.report.runs) {
            let variant = entry.variant.to_string();
            assert_eq!(variant, twin_run.variant);
            let total_ms = entry.total_ms;
            let error = entry.error.as_ref().map(|e| e.to_string());
            let traced = view(&entry.into_timeline(), total_ms, error, s.header_lines);
            // As every finished run is shown (`Run::finished`): with its ready queue.
            let mut twin_timeline = twin_run.timeline.clone();
            twin_timeline.add_ready_queue();
            let expected = view(
                &twin_timeline,
                twin_run.total_ms,
                twin_run.error.as_ref().map(ToString::to_string),
                0,
            );
            assert_eq!(
                traced, expected,
                "{} ({}) variant {variant}: traced as saved vs the twin",
                s.file, s.demo
            );
            checked += 1;
        }
    }
    assert!(checked >= 30, "{checked} variants compared");
}

/// The lane's name without its number: `request 7` → `request`.
fn kind(name: &str) -> String {
    name.trim_end_matches(|c: char| c.is_ascii_digit() || c == ' ' || c == '-')
        .to_owned()
}

#[test]
fn the_models_of_real_clock_twins_trace_on_the_real_clock_as_their_twins_run() {
    // Real sockets and files: each run's exact times and, under load, a few outcomes (a gateway
    // shedding requests) vary from run to run, twin or traced. What must not vary: the runs,
    // the kinds of lane, the main lane's outcome, no error, and about the same length.
    let Some(py) = for_tests().cloned() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let saved = saved_twins(dir.path(), &py);
    let real_only: Vec<&Saved> = saved
        .iter()
        .filter(|s| virtual_variants(s.demo).is_empty())
        .collect();
    assert!(!real_only.is_empty());
    for s in real_only {
        let doc = trace(dir.path(), &py, s, "real");
        let variants: Vec<String> = declared(s.demo).iter().map(|v| v.to_string()).collect();
        let req = RunRequest::build(s.demo, &variants, &[], Clock::Real).unwrap();
        let twin = asyncio::run_twin(&req, &py).expect("the twin runs");
        let labels: Vec<&str> = doc.runs.iter().map(|r| r.variant.as_ref()).collect();
        assert_eq!(labels, declared(s.demo), "{}", s.demo);
        for (entry, twin_run) in doc.runs.iter().zip(&twin.report.runs) {
            let what = format!("{} ({}) variant {}", s.file, s.demo, entry.variant);
            assert_eq!(entry.error, None, "{what}");
            assert_eq!(twin_run.error, None, "{what}");
            let kinds = |names: Vec<&str>| {
                let mut k: Vec<String> = names.into_iter().map(kind).collect();
                k.sort();
                k.dedup();
                k
            };
            assert_eq!(
                kinds(entry.tasks.iter().map(|t| t.name.as_str()).collect()),
                kinds(
                    twin_run
                        .timeline
                        .tasks
                        .iter()
                        .map(|t| t.name.as_str())
                        .collect()
                ),
                "{what}"
            );
            assert_eq!(
                entry.tasks[0].outcome, twin_run.timeline.tasks[0].outcome,
                "{what}"
            );
            let (a, b) = (entry.total_ms, twin_run.total_ms);
            assert!(
                (a - b).abs() <= 0.5 * b + 250.0,
                "{what}: traced {a} ms, the twin {b} ms"
            );
        }
    }
}
