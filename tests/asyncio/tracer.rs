//! The tracer on its own: steps, outcomes, warnings, deadlocks, runs by hand, the interpreter.

use super::*;

/// Run a Python program under the tracer, as asyncdojo does, and return its run document.
pub(super) fn trace(
    py: &Python,
    program: &str,
    args: serde_json::Value,
) -> (serde_json::Value, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dojo.py"), asyncio::tracer_source()).unwrap();
    let twin = dir.path().join("probe.py");
    std::fs::write(&twin, program).unwrap();
    let out = Command::new(&py.program)
        .args(["-I", "-S", "-B"])
        .arg(dir.path().join("dojo.py"))
        .arg(&twin)
        .arg(args.to_string())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (doc, stderr)
}

/// The first run of a document `trace` returned, read as asyncdojo reads it (strictly).
pub(super) fn timeline(doc: &serde_json::Value) -> asyncdojo::demo::TimelineSnapshot {
    let doc = asyncdojo::demo::document::Document::from_json(&doc.to_string())
        .unwrap_or_else(|e| panic!("{e}: {doc}"));
    doc.runs.into_iter().next().unwrap().into_timeline()
}

fn task<'a>(run: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    run["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no task {name} in {run}"))
}

const PROBE: &str = r#"
import asyncio
import dojo


async def awaits(n):
    for _ in range(n):
        await asyncio.sleep(0.01)
    return f"{n} awaits"


async def raises():
    await asyncio.sleep(0.005)
    raise ValueError("bad input")


async def sleeps():
    await asyncio.sleep(10)


async def slow():
    async with asyncio.timeout(0.02):
        await asyncio.sleep(1)


async def turned_away():
    raise dojo.Rejected("breaker open")


async def idle():
    await asyncio.sleep(0)


async def main(variant="probe", n=3):
    gauge = dojo.gauge("busy")
    steps = asyncio.create_task(awaits(n), name="awaits")
    doomed = asyncio.create_task(sleeps(), name="cancelled")
    failing = asyncio.create_task(raises(), name="raises")
    late = asyncio.create_task(slow(), name="times out")
    rejected = asyncio.create_task(turned_away(), name="rejected")
    await asyncio.sleep(0)
    doomed.cancel()
    await asyncio.wait([steps, doomed, failing, late, rejected])
    forgotten = idle()
    del forgotten
    with gauge:
        dojo.block(7)
    await dojo.lane("in place", awaits(1))
    dojo.mark("end")
    for t in (failing, late, rejected):
        t.exception()


if __name__ == "__main__":
    dojo.run(main)
"#;

#[test]
fn the_tracer_records_steps_outcomes_and_warnings() {
    let Some(py) = python() else { return };
    let _turn = exclusive();
    let n = 4;
    let (doc, stderr) = trace(py, PROBE, serde_json::json!({ "params": { "n": n } }));
    assert_eq!(doc["runtime"], "asyncio");
    let run = &doc["runs"][0];
    assert_eq!(run["runtime"], "asyncio");
    // A task that awaits N times is stepped N + 1 times.
    let awaits = task(run, "awaits");
    assert_eq!(awaits["polls"].as_array().unwrap().len(), n + 1);
    assert_eq!(awaits["outcome"], "ok");
    assert_eq!(awaits["detail"], "4 awaits");
    assert_eq!(awaits["parent"], task(run, "main")["id"]);
    assert_eq!(awaits["finished_ms"], 40.0);
    // The rest of the outcomes.
    assert_eq!(task(run, "raises")["outcome"], "error");
    assert_eq!(task(run, "raises")["detail"], "ValueError: bad input");
    assert_eq!(task(run, "raises")["finished_ms"], 5.0);
    assert_eq!(task(run, "times out")["outcome"], "timeout");
    assert_eq!(task(run, "times out")["finished_ms"], 20.0);
    assert_eq!(task(run, "rejected")["outcome"], "rejected");
    assert_eq!(task(run, "rejected")["detail"], "breaker open");
    assert_eq!(task(run, "cancelled")["outcome"], "cancelled");
    assert_eq!(task(run, "cancelled")["finished_ms"], 0.0);
    // The coroutine awaited in place has a lane because it asked for one; the never-awaited one
    // has none, and its warning is a mark, not text on stderr.
    assert_eq!(task(run, "in place")["polls"].as_array().unwrap().len(), 2);
    let names: Vec<&str> = run["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "main",
            "awaits",
            "cancelled",
            "raises",
            "times out",
            "rejected",
            "in place"
        ]
    );
    let marks = run["marks"].as_array().unwrap();
    let warning = marks
        .iter()
        .find(|m| m["label"] == "RuntimeWarning: coroutine 'idle' was never awaited")
        .expect("the warning is a mark");
    let line = warning["line"].as_u64().unwrap() as usize;
    assert!(
        PROBE
            .lines()
            .nth(line - 1)
            .unwrap()
            .contains("del forgotten")
    );
    assert!(!stderr.contains("never awaited"), "{stderr}");
    // dojo.block holds the thread: 7 ms pass inside one step; the gauge went 1 then 0.
    assert_eq!(
        run["series"]["busy"],
        serde_json::json!([[0.0, 0.0], [40.0, 1.0], [47.0, 0.0]])
    );
    // A mark names the line that made it.
    let end = marks.iter().find(|m| m["label"] == "end").unwrap();
    let line = end["line"].as_u64().unwrap() as usize;
    assert!(
        PROBE
            .lines()
            .nth(line - 1)
            .unwrap()
            .contains("dojo.mark(\"end\")")
    );
    assert_eq!(end["t_ms"], 57.0);
    assert_eq!(run["total_ms"], 57.0);
}

/// On the virtual clock a twin whose tasks all wait for something no one will do ends at once
/// with the reason, instead of hanging until its deadline.
#[test]
fn a_virtual_deadlock_fails_the_run_at_once() {
    let Some(py) = python() else { return };
    let program = "import asyncio\nimport dojo\n\n\nasync def main(variant='stuck'):\n    \
                   await asyncio.Event().wait()\n\n\nif __name__ == '__main__':\n    \
                   dojo.run(main)\n";
    let started = std::time::Instant::now();
    let (doc, _) = trace(py, program, serde_json::json!({}));
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let error = doc["runs"][0]["error"].as_str().unwrap();
    assert!(error.contains("deadlock"), "{error}");
    // main never finished: it is cancelled with whatever else was left.
    assert_eq!(task(&doc["runs"][0], "main")["outcome"], "cancelled");
}

#[test]
fn a_run_by_hand_uses_mains_defaults_and_prints_one_document() {
    let Some(py) = python() else { return };
    let _turn = exclusive();
    for twin in asyncio::twins() {
        let spec = asyncdojo::demo::find(twin.demo).unwrap().spec();
        let clock = if spec.clocks().contains(&Clock::Virtual) {
            "virtual"
        } else {
            "real"
        };
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("dojo.py"), asyncio::tracer_source()).unwrap();
        std::fs::write(dir.path().join(twin.file), twin.source).unwrap();
        // As a learner would: `python3 gather.py`, with dojo.py beside it.
        let out = Command::new(&py.program)
            .arg(twin.file)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let defaults = serde_json::to_value(asyncdojo::demo::Params::defaults(spec)).unwrap();
        assert_eq!(
            doc["params"], defaults,
            "{}: main's defaults are the demo's",
            twin.file
        );
        assert_eq!(
            doc["runs"][0]["variant"], spec.default_variants[0],
            "{}",
            twin.file
        );
        assert_eq!(doc["clock"], clock, "{}", twin.file);
        assert_eq!(
            doc["runs"][0]["error"],
            serde_json::Value::Null,
            "{}",
            twin.file
        );
    }
}

#[test]
fn every_twin_mark_line_is_a_dojo_mark_call() {
    let Some(py) = python() else { return };
    let _turn = exclusive();
    for twin in asyncio::twins() {
        let spec = asyncdojo::demo::find(twin.demo).unwrap().spec();
        let clock = if spec.clocks().contains(&Clock::Virtual) {
            Clock::Virtual
        } else {
            Clock::Real
        };
        let variants: Vec<&str> = super::real_clock::shared_variants_on(twin.demo, clock);
        let report = asyncio::run_twin(&request(twin.demo, &variants, &[], clock), py).unwrap();
        assert!(report.succeeded(), "{}: {}", twin.file, report.stderr);
        let lines = twin.mark_lines();
        for run in &report.report.runs {
            for m in &run.timeline.marks {
                if m.label.starts_with("RuntimeWarning") {
                    continue;
                }
                let line = m
                    .line
                    .unwrap_or_else(|| panic!("{}: `{}` has no line", twin.file, m.label));
                assert!(
                    lines.contains(&line),
                    "{}: `{}` at line {line}",
                    twin.file,
                    m.label
                );
            }
        }
    }
}

#[test]
fn the_command_line_runs_both_runtimes_into_one_document() {
    let Some(py) = python() else { return };
    let _turn = exclusive();
    let out = Command::new(env!("CARGO_BIN_EXE_asyncdojo"))
        .args(["run", "gather", "--runtime", "both", "--json", "--python"])
        .arg(&py.program)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["runtime"], "both");
    let runs: Vec<(String, String)> = doc["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["variant"].as_str().unwrap().into(),
                r["runtime"].as_str().unwrap().into(),
            )
        })
        .collect();
    let pairs: Vec<(&str, &str)> = runs.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(
        pairs,
        [
            ("sequential", "tokio"),
            ("sequential", "asyncio"),
            ("join-all", "tokio"),
            ("join-all", "asyncio")
        ]
    );
    for r in doc["runs"].as_array().unwrap() {
        assert_eq!(
            r["total_ms"],
            if r["variant"] == "sequential" {
                600.0
            } else {
                300.0
            }
        );
    }
}

/// Every Python on this machine older than 3.11 that the tests can find (pyenv's, here), and
/// Python 2, gets one line naming what was found.
#[test]
fn an_old_python_is_named_in_one_line() {
    let Some(root) = std::env::var_os("PYENV_ROOT").or_else(|| {
        std::env::var_os("HOME").map(|h| Path::new(&h).join(".pyenv").into_os_string())
    }) else {
        return;
    };
    let versions = Path::new(&root).join("versions");
    let Ok(entries) = std::fs::read_dir(&versions) else {
        return;
    };
    for entry in entries.flatten() {
        let version = entry.file_name().to_string_lossy().into_owned();
        let old = version.starts_with("2.")
            || ["3.6", "3.7", "3.8", "3.9", "3.10"]
                .iter()
                .any(|v| version.starts_with(&format!("{v}.")));
        let python = entry.path().join("bin").join("python");
        if !old || !python.exists() {
            continue;
        }
        let out = Command::new(env!("CARGO_BIN_EXE_asyncdojo"))
            .args(["run", "gather", "--runtime", "asyncio", "--python"])
            .arg(&python)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{version}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{version}: {stderr}");
        assert!(stderr.contains(&*python.to_string_lossy()), "{stderr}");
        assert!(
            stderr.contains("--python PATH or ASYNCDOJO_PYTHON"),
            "{stderr}"
        );
        if !version.starts_with("2.") {
            assert!(stderr.contains(&format!("is Python {version}")), "{stderr}");
        }
    }
}

#[test]
fn resolving_points_at_the_interpreter_itself() {
    let Some(py) = python() else { return };
    let (resolved, info) = py.resolve().unwrap();
    assert_eq!(resolved.program, info.executable);
    assert_eq!(resolved.origin, py.origin);
    assert_eq!(resolved.probe().unwrap().version, info.version);
}

#[test]
fn a_python_that_cannot_run_is_one_clear_line_and_tokio_still_runs() {
    let missing = Path::new("/nonexistent/python3");
    let out = Command::new(env!("CARGO_BIN_EXE_asyncdojo"))
        .args(["run", "gather", "--runtime", "both", "--python"])
        .arg(missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("/nonexistent/python3"), "{stderr}");
    assert!(
        stderr.contains("--python PATH or ASYNCDOJO_PYTHON"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("── join-all ──"), "tokio ran: {stdout}");
}
