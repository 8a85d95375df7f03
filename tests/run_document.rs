//! The run document against its schema, `docs/run-document.md`: every twin's output read strictly,
//! an unknown field or another format version refused by name, tokio's documents read back as
//! written, the schema page's example and field list kept true, and the seqs: unique, numbered
//! alike by both runtimes, and the order an instant is read in.
//!
//! The tests that run a twin need Python 3.11 or later. Without one they print why and pass, unless
//! `CI` or `ASYNCDOJO_REQUIRE_PYTHON` is set: then they fail.

use std::collections::BTreeSet;
use std::process::Command;

use asyncdojo::demo::Clock;
use asyncdojo::demo::asyncio::{self, Mapping, Python, Runtime, Twin};
use asyncdojo::demo::document::{Document, FORMAT_VERSION, ReadError, Runtimes};
use asyncdojo::demo::runner::{self, RunRequest};
use asyncdojo::demo::timeline::TimelineSnapshot;
use asyncdojo::demo::timeline::index::{EventKind, RunIndex};

/// The interpreter the tests use (see `asyncio::for_tests`).
fn python() -> Option<&'static Python> {
    asyncio::for_tests()
}

fn request(demo: &str, variants: &[&str], clock: Clock) -> RunRequest {
    let variants: Vec<String> = variants.iter().map(|v| v.to_string()).collect();
    RunRequest::build(demo, &variants, &[], clock).unwrap()
}

/// The demo's default variants that its twin runs on the virtual clock.
fn twin_defaults_on_the_virtual_clock(twin: &Twin) -> Vec<&'static str> {
    let spec = asyncdojo::demo::find(twin.demo).unwrap().spec();
    spec.default_variants
        .iter()
        .copied()
        .filter(|v| twin.variant(v).is_some_and(|tv| tv.mapping.runs()))
        .filter(|v| {
            spec.variant(v)
                .is_some_and(|s| s.clocks.contains(&Clock::Virtual))
        })
        .collect()
}

/// Every seq of a run, each once: spawns, polls, finishes, marks, series points.
fn all_seqs(tl: &TimelineSnapshot) -> Vec<u64> {
    let mut seqs: Vec<u64> = tl.tasks.iter().flat_map(|t| t.seqs.clone()).collect();
    seqs.extend(tl.marks.iter().map(|m| m.seq));
    seqs.extend(tl.series_seqs.values().flatten());
    seqs
}

fn assert_unique(tl: &TimelineSnapshot, what: &str) {
    let seqs = all_seqs(tl);
    let distinct: BTreeSet<u64> = seqs.iter().copied().collect();
    assert_eq!(distinct.len(), seqs.len(), "{what}: a seq used twice");
}

// ---- the twins' output -----------------------------------------------------------------------

/// What a learner runs by hand (`python3 gather.py ARGS` with `dojo.py` beside it): its stdout.
fn run_by_hand(py: &Python, twin: &Twin, args: serde_json::Value) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dojo.py"), asyncio::tracer_source()).unwrap();
    std::fs::write(dir.path().join(twin.file), twin.source).unwrap();
    let out = Command::new(&py.program)
        .arg(twin.file)
        .arg(args.to_string())
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}: {}",
        twin.file,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Every twin's default variants on the virtual clock, both ways the tracer writes: the one
/// document printed by hand, and the one-run lines asyncdojo reads as it runs them. Both are
/// read by the strict reader; a field it does not know fails here.
#[test]
fn every_twin_writes_documents_the_strict_reader_accepts() {
    let Some(py) = python() else { return };
    let mut checked = 0;
    for twin in asyncio::twins() {
        let variants = twin_defaults_on_the_virtual_clock(twin);
        if variants.is_empty() {
            continue;
        }
        let text = run_by_hand(
            py,
            twin,
            serde_json::json!({ "clock": "virtual", "variants": variants }),
        );
        let doc = Document::from_json(&text)
            .unwrap_or_else(|e| panic!("{}: {e}\n{}", twin.file, &text[..text.len().min(2000)]));
        assert_eq!(doc.format_version, FORMAT_VERSION);
        assert_eq!(doc.runtime, Runtimes::Asyncio, "{}", twin.file);
        assert_eq!(doc.clock, Clock::Virtual, "{}", twin.file);
        let ran: Vec<&str> = doc.runs.iter().map(|r| &*r.variant).collect();
        assert_eq!(ran, variants, "{}", twin.file);
        for run in doc.runs {
            assert_eq!(run.runtime, Some(Runtime::Asyncio));
            assert_eq!(run.error, None, "{} {}", twin.file, run.variant);
            let what = format!("{} {}", twin.file, run.variant);
            assert_unique(&run.into_timeline(), &what);
        }
        // The lines asyncdojo reads go through the same reader: a line it refused would be the
        // run's error.
        let report = asyncio::run_twin(&request(twin.demo, &variants, Clock::Virtual), py).unwrap();
        assert!(
            report.succeeded(),
            "{}: {:?}",
            twin.file,
            report.report.runs
        );
        checked += 1;
    }
    assert!(
        checked >= 10,
        "only {checked} twins run on the virtual clock"
    );
}

/// A probe program under the tracer, whose document gets a field the schema does not have when
/// `colour` is true.
const PROBE: &str = r#"
import asyncio
import dojo
import dojo.core

COLOUR = __COLOUR__

_document = dojo.core.Recording.document


def document(self, *args):
    doc = _document(self, *args)
    if COLOUR:
        doc["tasks"][-1]["colour"] = "red"
    return doc


dojo.core.Recording.document = document


async def child():
    await asyncio.sleep(0.001)
    dojo.mark("done")


async def main(variant="probe"):
    await asyncio.create_task(child(), name="child")


if __name__ == "__main__":
    dojo.run(main)
"#;

fn trace_probe(py: &Python, colour: bool) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dojo.py"), asyncio::tracer_source()).unwrap();
    let probe = dir.path().join("probe.py");
    let source = PROBE.replace("__COLOUR__", if colour { "True" } else { "False" });
    std::fs::write(&probe, source).unwrap();
    let out = Command::new(&py.program)
        .args(["-I", "-S", "-B"])
        .arg(dir.path().join("dojo.py"))
        .arg(&probe)
        .arg("{}")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn an_unknown_field_in_a_twins_output_is_refused_by_name() {
    let Some(py) = python() else { return };
    // The same program without the field is read: the field is what is refused.
    Document::from_json(&trace_probe(py, false)).unwrap();
    let err = Document::from_json(&trace_probe(py, true)).unwrap_err();
    assert!(matches!(err, ReadError::Schema(_)), "{err:?}");
    assert!(err.to_string().contains("unknown field `colour`"), "{err}");
}

// ---- the reader, on tokio's documents ---------------------------------------------------------

/// `run --json` of gather on tokio, as a JSON value to bend.
fn gather_document() -> serde_json::Value {
    let report = runner::run_blocking(request("gather", &[], Clock::Virtual)).unwrap();
    serde_json::to_value(Document::of_report(&report, Runtime::Tokio)).unwrap()
}

fn refused(doc: &serde_json::Value) -> ReadError {
    Document::from_json(&doc.to_string()).unwrap_err()
}

#[test]
fn an_unknown_field_is_refused_by_name_at_every_level() {
    let doc = gather_document();
    Document::from_json(&doc.to_string()).unwrap();
    type Place = fn(&mut serde_json::Value) -> &mut serde_json::Value;
    let places: [(&str, Place); 4] = [
        ("the document", |d| d),
        ("a run", |d| &mut d["runs"][0]),
        ("a task", |d| &mut d["runs"][0]["tasks"][1]),
        ("a mark", |d| &mut d["runs"][0]["marks"][0]),
    ];
    for (place, at) in places {
        let mut bent = doc.clone();
        at(&mut bent)["colour"] = "red".into();
        let err = refused(&bent);
        assert!(
            err.to_string().contains("unknown field `colour`"),
            "{place}: {err}"
        );
    }
}

#[test]
fn a_document_of_another_format_version_is_refused_by_its_version() {
    let doc = gather_document();
    let mut unversioned = doc.clone();
    unversioned
        .as_object_mut()
        .unwrap()
        .remove("format_version");
    let err = refused(&unversioned);
    assert_eq!(err, ReadError::Unversioned);
    assert!(err.to_string().contains("format 1"), "{err}");

    let mut newer = doc.clone();
    newer["format_version"] = (FORMAT_VERSION + 1).into();
    let err = refused(&newer);
    assert!(
        err.to_string()
            .contains(&format!("format {}", FORMAT_VERSION + 1)),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains(&format!("reads format {FORMAT_VERSION}")),
        "{err}"
    );

    // A real format-1 document (no version, no seqs) is named as one, not refused for the seqs
    // it lacks.
    let mut old = unversioned;
    for run in old["runs"].as_array_mut().unwrap() {
        let run = run.as_object_mut().unwrap();
        run.remove("series_seqs");
        for task in run["tasks"].as_array_mut().unwrap() {
            task.as_object_mut().unwrap().remove("seqs");
        }
        for mark in run["marks"].as_array_mut().unwrap() {
            mark.as_object_mut().unwrap().remove("seq");
        }
    }
    assert_eq!(refused(&old), ReadError::Unversioned);
}

#[test]
fn a_run_that_contradicts_its_seqs_is_refused_naming_the_task() {
    let mut doc = gather_document();
    let task = &mut doc["runs"][0]["tasks"][1];
    let name = task["name"].as_str().unwrap().to_owned();
    let seqs = task["seqs"].as_array_mut().unwrap();
    seqs.reverse();
    let err = refused(&doc);
    assert!(matches!(err, ReadError::Contract(_)), "{err:?}");
    assert!(err.to_string().contains(&name), "{err}");
}

/// Every demo's default variants that run on the virtual clock, written and read back: the same
/// document, and every seq used once.
#[test]
fn every_tokio_document_reads_back_as_it_was_written() {
    for demo in asyncdojo::demo::registry() {
        let spec = demo.spec();
        let virtual_ = spec.default_variants.iter().all(|v| {
            spec.variant(v)
                .is_some_and(|s| s.clocks.contains(&Clock::Virtual))
        });
        if !virtual_ {
            continue;
        }
        let report = runner::run_blocking(request(spec.id, &[], Clock::Virtual)).unwrap();
        let doc = Document::of_report(&report, Runtime::Tokio);
        let text = serde_json::to_string(&doc).unwrap();
        let back = Document::from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", spec.id));
        assert_eq!(back, doc, "{}", spec.id);
        for run in &report.runs {
            assert_unique(&run.timeline, &format!("{} {}", spec.id, run.variant));
        }
    }
}

#[test]
fn run_json_prints_a_document_the_reader_accepts() {
    let out = Command::new(env!("CARGO_BIN_EXE_asyncdojo"))
        .args(["run", "retry-backoff", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = Document::from_json(std::str::from_utf8(&out.stdout).unwrap()).unwrap();
    assert_eq!(doc.runtime, Runtimes::Tokio);
    let Some(py) = python() else { return };
    let out = Command::new(env!("CARGO_BIN_EXE_asyncdojo"))
        .args([
            "run",
            "retry-backoff",
            "--runtime",
            "both",
            "--json",
            "--python",
        ])
        .arg(&py.program)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = Document::from_json(std::str::from_utf8(&out.stdout).unwrap()).unwrap();
    assert_eq!(doc.runtime, Runtimes::Both);
    let runtimes: Vec<Option<Runtime>> = doc.runs.iter().map(|r| r.runtime).collect();
    assert_eq!(runtimes, [Some(Runtime::Tokio), Some(Runtime::Asyncio)]);
}

// ---- the schema page --------------------------------------------------------------------------

const SCHEMA: &str = include_str!("../docs/run-document.md");

/// The page's example is a document the reader accepts.
#[test]
fn the_schema_pages_example_is_a_valid_document() {
    let start = SCHEMA.find("```json\n").expect("an example") + "```json\n".len();
    let end = start + SCHEMA[start..].find("```").expect("its end");
    let doc = Document::from_json(&SCHEMA[start..end]).unwrap();
    assert_eq!(doc.format_version, FORMAT_VERSION);
}

/// Every field a document can carry (every key of a real one that is not a name of a parameter,
/// series or metric) is in the page's tables.
#[test]
fn the_schema_page_lists_every_field() {
    fn keys(v: &serde_json::Value, under_names: bool, out: &mut BTreeSet<String>) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    if !under_names {
                        out.insert(k.clone());
                    }
                    let names =
                        matches!(k.as_str(), "params" | "series" | "series_seqs" | "metrics");
                    keys(v, names, out);
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| keys(i, false, out)),
            _ => {}
        }
    }
    let report = runner::run_blocking(request("circuit-breaker", &[], Clock::Virtual)).unwrap();
    let mut doc = serde_json::to_value(Document::of_report(&report, Runtime::Tokio)).unwrap();
    // The optional fields, so they are found too.
    doc["runs"][0]["runtime"] = "tokio".into();
    doc["runs"][0]["error"] = "cancelled".into();
    let mut found = BTreeSet::new();
    keys(&doc, false, &mut found);
    assert!(
        found.contains("line") && found.contains("seqs"),
        "{found:?}"
    );
    let missing: Vec<&String> = found
        .iter()
        .filter(|k| !SCHEMA.contains(&format!("| `{k}` |")))
        .collect();
    assert!(
        missing.is_empty(),
        "not in docs/run-document.md: {missing:?}"
    );
}

// ---- seqs --------------------------------------------------------------------------------------

/// One event of a run: its seq, what it was, the task (or series) it was about, and a mark's
/// label.
type Numbered = (u64, &'static str, String, String);

/// A run's events in seq order.
fn numbered(tl: &TimelineSnapshot) -> Vec<Numbered> {
    let name = |id: Option<u32>| {
        id.and_then(|id| tl.tasks.get(id as usize - 1))
            .map_or_else(String::new, |t| t.name.clone())
    };
    let mut events = Vec::new();
    for t in &tl.tasks {
        let event = |seq: Option<u64>, what| (seq.unwrap(), what, t.name.clone(), String::new());
        events.push(event(t.spawned_seq(), "spawn"));
        for nth in 0..t.polls.len() {
            events.push(event(t.poll_seq(nth), "poll"));
        }
        if t.finished_ms.is_some() {
            events.push(event(t.finished_seq(), "finish"));
        }
    }
    for m in &tl.marks {
        events.push((m.seq, "mark", name(m.task), m.label.to_string()));
    }
    for (series, seqs) in &tl.series_seqs {
        events.extend(
            seqs.iter()
                .map(|&s| (s, "series", series.clone(), String::new())),
        );
    }
    for w in &tl.wakes {
        events.push((w.seq, "wake", name(Some(w.task)), w.cause.name().to_owned()));
    }
    events.sort();
    events
}

/// What happened, in order, without the numbers. Finishes that follow one another are put in
/// name order: a TaskGroup keeps its tasks in a set and cancels them in the set's order, which
/// follows their addresses in memory, not their spawn order (twins/README.md).
fn order(events: &[Numbered], polls: bool) -> Vec<(&'static str, &str)> {
    let mut order: Vec<(&'static str, &str)> = events
        .iter()
        // Python warns of a coroutine never awaited; tokio has nothing to warn of
        // (twins/README.md).
        .filter(|e| !e.3.starts_with("RuntimeWarning"))
        .filter(|e| polls || (e.1 != "poll" && e.1 != "wake"))
        .map(|e| (e.1, e.2.as_str()))
        .collect();
    for run in order.chunk_by_mut(|a, b| a.0 == "finish" && b.0 == "finish") {
        run.sort();
    }
    order
}

/// For every twin's variants that are the same program on both runtimes (default parameters,
/// virtual clock): spawns, marks, finishes and series points happen in the same order on both;
/// and where everything, polls included, happens in the same order, every seq is the same. Where
/// asyncio polls more (gather's Tasks, a TaskGroup), the numbers legitimately drift apart and
/// only the order is compared.
#[test]
fn both_runtimes_number_the_same_program_alike() {
    let Some(py) = python() else { return };
    let mut same_numbers = Vec::new();
    let mut asyncio_wakes = false;
    for twin in asyncio::twins() {
        let spec = asyncdojo::demo::find(twin.demo).unwrap().spec();
        let variants: Vec<&str> = twin
            .variants
            .iter()
            .filter(|v| matches!(v.mapping, Mapping::Same { .. }))
            .filter(|v| {
                spec.variant(v.name)
                    .is_some_and(|s| s.clocks.contains(&Clock::Virtual))
            })
            .map(|v| v.name)
            .collect();
        if variants.is_empty() {
            continue;
        }
        let req = request(twin.demo, &variants, Clock::Virtual);
        let a = asyncio::run_twin(&req, py).unwrap();
        let t = runner::run_blocking(req).unwrap();
        for v in &variants {
            let tokio = numbered(&t.run(v).unwrap().timeline);
            let asyncio = numbered(&a.report.run(v).unwrap().timeline);
            asyncio_wakes |= asyncio.iter().any(|e| e.1 == "wake");
            assert_eq!(
                order(&asyncio, false),
                order(&tokio, false),
                "{} {v}: the order of events, asyncio (left) vs tokio (right)",
                twin.demo
            );
            let labels = |e: &[Numbered]| e.iter().map(|e| e.3.clone()).collect::<Vec<_>>();
            if order(&asyncio, true) == order(&tokio, true) && labels(&asyncio) == labels(&tokio) {
                assert_eq!(
                    asyncio, tokio,
                    "{} {v}: seqs, asyncio (left) vs tokio (right)",
                    twin.demo
                );
                same_numbers.push(format!("{} {v}", twin.demo));
            }
        }
    }
    // Not vacuous: these happen alike on both runtimes, polls and wakes included (a timer due
    // while the thread is held dated alike on both: blocking). Not timeouts timeout: asyncio's
    // `as_completed` wakes main through a done-callback a loop turn later (twins/README.md).
    assert!(asyncio_wakes, "the tracer recorded no wakes");
    for expected in [
        "gather sequential",
        "circuit-breaker breaker",
        "spawn-vs-await spawn",
        "blocking blocking",
    ] {
        assert!(
            same_numbers.iter().any(|s| s == expected),
            "{expected} not numbered alike: {same_numbers:?}"
        );
    }
}

/// retry-backoff at 0 ms: `attempt 1` fails (finishes), then the caller marks its backoff. By task
/// id the caller (2) comes before the attempt (3), which is how the index used to read it; the
/// seqs say what happened, on both runtimes.
fn backoff_follows_the_failed_attempt(tl: &TimelineSnapshot, runtime: &str) {
    let index = RunIndex::new(tl);
    let at_zero: Vec<String> = index
        .events()
        .iter()
        .filter(|e| e.t_ms == 0.0)
        .filter_map(|e| match e.kind {
            EventKind::Finish => Some(format!(
                "{} finished",
                tl.tasks[e.task.unwrap() as usize - 1].name
            )),
            EventKind::Mark { mark } => Some(tl.marks[mark as usize].label.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(
        at_zero,
        ["attempt 1", "attempt 1 finished", "backoff 27 ms"],
        "{runtime}"
    );
    // Without its seqs the same instant reads task by task: the backoff before the failure.
    let mut unnumbered = tl.clone();
    unnumbered.tasks.iter_mut().for_each(|t| t.seqs.clear());
    unnumbered.marks.iter_mut().for_each(|m| m.seq = 0);
    unnumbered.series_seqs.clear();
    let index = RunIndex::new(&unnumbered);
    let kinds: Vec<EventKind> = index
        .events()
        .iter()
        .filter(|e| e.t_ms == 0.0)
        .map(|e| e.kind)
        .filter(|k| matches!(k, EventKind::Finish | EventKind::Mark { .. }))
        .collect();
    assert_eq!(
        kinds,
        [
            EventKind::Mark { mark: 0 },
            EventKind::Mark { mark: 1 },
            EventKind::Finish
        ],
        "{runtime}"
    );
}

#[test]
fn an_instant_reads_in_the_order_it_happened_on_both_runtimes() {
    let req = request("retry-backoff", &["exponential"], Clock::Virtual);
    let tokio = runner::run_blocking(req.clone()).unwrap();
    backoff_follows_the_failed_attempt(&tokio.runs[0].timeline, "tokio");
    let Some(py) = python() else { return };
    let twin = asyncio::run_twin(&req, py).unwrap();
    assert!(twin.succeeded(), "{}", twin.stderr);
    backoff_follows_the_failed_attempt(&twin.report.runs[0].timeline, "asyncio");
}

/// The README says which format `run --json` writes: the format this asyncdojo writes, and the
/// parts a reader looks for in it.
#[test]
fn the_readme_names_the_format_version_it_writes() {
    let readme = include_str!("../README.md");
    let said = format!("`format_version` ({FORMAT_VERSION})");
    assert!(readme.contains(&said), "README.md should say {said}");
    assert!(
        readme.contains("(wakes and parks)"),
        "README.md names the wakes and parks"
    );
}
