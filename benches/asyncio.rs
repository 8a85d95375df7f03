//! The asyncio twins' costs, against the issue's budgets:
//!
//! - `gather_end_to_end_*`: `asyncdojo run gather --runtime asyncio --json` as a learner runs
//!   it, interpreter start included (budget: median ≤ 150 ms). Once with `python3` as found on
//!   PATH (a pyenv shim adds its own start-up), once with the interpreter it resolves to.
//! - `gather_10k_virtual`: a 10,000-task gather on the virtual clock through `run_twin`
//!   (budget: ≤ 1.5 s).
//! - Before the table, the tracer's overhead per step: the same asyncio program (100 tasks ×
//!   1,000 awaits) timed inside one interpreter untraced and traced, median of 7 each, the
//!   tracer recording every step's poll, wake and park and writing the document (budget: ≤ 2 µs
//!   per step, wakes and parks included; issue #19).
//!
//!     cargo bench --bench asyncio
//!
//! Needs Python 3.11+ (`ASYNCDOJO_PYTHON` or python3); without it the bench says so and stops.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use asyncdojo::demo::asyncio::{self, Python};
use asyncdojo::demo::{Clock, RunRequest};

fn main() {
    let Some((python, exe)) = interpreter() else {
        eprintln!("no usable Python 3.11+: set ASYNCDOJO_PYTHON or put python3 on PATH");
        return;
    };
    tracer_overhead(python, exe);
    script_tracer_budget(exe);
    divan::main();
}

/// The chosen Python and the executable it resolves to.
fn interpreter() -> Option<(&'static Python, &'static PathBuf)> {
    static FOUND: OnceLock<Option<(Python, PathBuf)>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            let py = Python::choose(None);
            match py.probe() {
                Ok(info) => Some((py, info.executable)),
                Err(e) => {
                    eprintln!("{e}");
                    None
                }
            }
        })
        .as_ref()
        .map(|(p, e)| (p, e))
}

fn end_to_end(python: &std::path::Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_asyncdojo"))
        .args([
            "run",
            "gather",
            "--runtime",
            "asyncio",
            "--json",
            "--python",
        ])
        .arg(python)
        .output()
        .expect("asyncdojo runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `python3` as the learner's PATH has it.
#[divan::bench(sample_count = 30, sample_size = 1)]
fn gather_end_to_end_python3_on_path() {
    let (py, _) = interpreter().expect("checked in main");
    end_to_end(&py.program);
}

/// The interpreter itself (`sys.executable`), as `--python` or ASYNCDOJO_PYTHON would name it.
#[divan::bench(sample_count = 30, sample_size = 1)]
fn gather_end_to_end_resolved_interpreter() {
    let (_, exe) = interpreter().expect("checked in main");
    end_to_end(exe);
}

#[divan::bench(sample_count = 7, sample_size = 1)]
fn gather_10k_virtual(bencher: divan::Bencher) {
    let (_, exe) = interpreter().expect("checked in main");
    let python = Python::choose(Some(exe));
    let latencies: Vec<String> = (0..10_000).map(|i| (100 + i % 900).to_string()).collect();
    let sets = [format!("latencies_ms={}", latencies.join(","))];
    let req = RunRequest::build("gather", &["join-set".into()], &sets, Clock::Virtual)
        .expect("valid request");
    bencher.bench(|| {
        let twin = asyncio::run_twin(&req, &python).expect("runs");
        assert!(twin.succeeded(), "{}", twin.stderr);
        assert_eq!(twin.report.runs[0].timeline.tasks.len(), 10_001);
    });
}

/// The same program untraced and traced in one interpreter; prints the overhead per step.
const OVERHEAD: &str = r#"
import asyncio, json, statistics, sys, time
sys.path.insert(0, sys.argv[1])
import dojo

TASKS, AWAITS = 100, 1000


async def worker():
    for _ in range(AWAITS):
        await asyncio.sleep(0)


async def main(variant="bench"):
    async with asyncio.TaskGroup() as tg:
        for i in range(TASKS):
            tg.create_task(worker(), name=f"worker {i}")


def untraced():
    loop = asyncio.SelectorEventLoop()
    started = time.perf_counter()
    loop.run_until_complete(main())
    took = time.perf_counter() - started
    loop.close()
    return took


def traced():
    started = time.perf_counter()
    doc = dojo.core.trace(lambda: main("bench"), virtual=False,
                          program_files=frozenset((__file__,)), variant="bench")
    took = time.perf_counter() - started
    return took, sum(len(t["polls"]) for t in doc["tasks"]), len(doc["wakes"])


plain, with_tracer, steps, wakes = [], [], 0, 0
for _ in range(7):
    plain.append(untraced())
    took, steps, wakes = traced()
    with_tracer.append(took)
print(json.dumps({"untraced": statistics.median(plain), "traced": statistics.median(with_tracer),
                  "steps": steps, "wakes": wakes}))
"#;

fn tracer_overhead(python: &Python, exe: &PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("dojo.py"), asyncio::tracer_source()).expect("write dojo.py");
    let script = dir.path().join("overhead.py");
    std::fs::write(&script, OVERHEAD).expect("write the script");
    let out = Command::new(exe)
        .args(["-I", "-S", "-B"])
        .arg(&script)
        .arg(dir.path())
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let (plain, traced) = (
        r["untraced"].as_f64().unwrap_or(0.0),
        r["traced"].as_f64().unwrap_or(0.0),
    );
    let steps = r["steps"].as_f64().unwrap_or(1.0);
    println!(
        "tracer overhead: {:.2} µs per step, its wake and park included ({} steps, {} wakes: \
         untraced {:.1} ms, traced {:.1} ms, medians of 7) on {}",
        (traced - plain) / steps * 1e6,
        steps,
        r["wakes"],
        plain * 1e3,
        traced * 1e3,
        python.describe(),
    );
}

/// `asyncdojo trace`'s budget (issue #20): `benches/script_tracer.py` runs a plain program of
/// 2,000 workers × 10 awaits (a semaphore, a bounded queue) untraced and traced on the real
/// clock, side by side, with the bundle asyncdojo sends (budgets: wall time ≤ 2×, ≤ 2 µs per
/// step, peak memory ≤ 100 MB).
fn script_tracer_budget(exe: &PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let bundle = dir.path().join("dojo.py");
    std::fs::write(&bundle, asyncio::tracer_source()).expect("write dojo.py");
    let bench = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/script_tracer.py");
    let out = Command::new(exe)
        .arg("-B")
        .arg(&bench)
        .env("ASYNCDOJO_TRACER_BUNDLE", &bundle)
        .output()
        .expect("python runs");
    let r: serde_json::Value = match serde_json::from_slice(&out.stdout) {
        Ok(r) => r,
        Err(e) => {
            println!(
                "script tracer budget: no result ({e}): {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return;
        }
    };
    let f = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
    println!(
        "script tracer (2,000 workers × 10 awaits, real clock, medians of {}): wall {:.0} ms          traced vs {:.0} ms untraced = {:.2}× (budget 2×); {:.2} µs per step over {} steps          (budget 2); peak {:.0} MB (budget 100){}",
        f("rounds"),
        f("traced_wall_s") * 1e3,
        f("untraced_wall_s") * 1e3,
        f("wall_ratio"),
        f("us_per_step"),
        f("steps"),
        f("traced_peak_mb"),
        if r["within_budget"].as_bool() == Some(true) {
            ""
        } else {
            "  OVER BUDGET"
        },
    );
}
