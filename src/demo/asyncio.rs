//! asyncio twins: for a demo, the same program written in Python's asyncio, run on the learner's
//! own `python3` (3.11 or later, standard library only) under a small tracer that records every
//! Task the way the recorder records tokio's. The result is the same run document, with the same
//! task names, marks, series and metrics, so the two runtimes can be drawn on one time axis and
//! compared field by field.
//!
//! The twins (`twins/<demo-id>.py`) and the tracer (the package `twins/dojo/`) are built into
//! the binary and handed to the interpreter through its stdin: nothing is written to disk, so
//! nothing can outlive a run, and no code from a lesson file is ever executed. On the virtual
//! clock the tracer's event loop jumps straight to the next timer, so a run is instant and exact
//! like tokio's paused clock; on the real clock it is the ordinary loop.
//!
//! ```no_run
//! use asyncdojo::demo::asyncio::{Python, run_twin};
//! use asyncdojo::demo::{Clock, RunRequest};
//!
//! let req = RunRequest::build("gather", &[], &[], Clock::Virtual).unwrap();
//! let twin = run_twin(&req, &Python::choose(None)).unwrap();
//! for (variant, timeline) in twin.snapshots() {
//!     println!("{variant}: {} tasks", timeline.tasks.len());
//! }
//! ```

mod bundle;
mod catalog;
mod child;
mod document;
mod python;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use catalog::ParamRead;
pub use python::{
    MIN_VERSION, PYTHON_ENV, Python, PythonInfo, PythonOrigin, for_tests, python_required,
};

use super::runner::{RunError, RunReport, RunRequest, VariantRun};
use super::timeline::TimelineSnapshot;
use super::{Clock, Demo};

/// Which runtime makes a run: tokio (the Rust demo) or asyncio (its twin on CPython). One enum
/// for every place that names one: a run, a predict item (`runtime:` in a lesson), practice.
/// [`RunOn`] is the other idea: which runtimes a request runs on, both included.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Runtime {
    /// The Rust demo on tokio (a prediction: on tokio's paused clock).
    #[default]
    Tokio,
    /// The demo's asyncio twin on CPython (a prediction: on the tracer's virtual clock).
    Asyncio,
}

impl Runtime {
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Tokio => "tokio",
            Runtime::Asyncio => "asyncio",
        }
    }
}

/// Where a lesson's demo runs: on tokio, on its asyncio twin, or on both on one time axis. The
/// app's runtime setting, and the learner's saved preference (a demo without a twin runs on tokio
/// whatever it says).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum RunOn {
    Tokio,
    Asyncio,
    Both,
}

impl RunOn {
    pub fn name(self) -> &'static str {
        match self {
            RunOn::Tokio => "tokio",
            RunOn::Asyncio => "asyncio",
            RunOn::Both => "both",
        }
    }
}

/// A demo's asyncio twin.
#[derive(Debug)]
pub struct Twin {
    /// The tokio demo it twins.
    pub demo: &'static str,
    /// Its file name under `twins/`.
    pub file: &'static str,
    /// The whole file: what the code pane shows; marks' `line`s are 1-based lines of it.
    pub source: &'static str,
    /// Every variant of the tokio demo, in the demo's order, with what it is in asyncio.
    pub variants: &'static [TwinVariant],
    /// An upper bound of one variant's real-clock run, in ms, from the run's parameters.
    run_bound: fn(&catalog::TwinParams<'_>) -> Result<f64, ParamRead>,
}

/// One variant of the tokio demo, seen from asyncio.
#[derive(Debug)]
pub struct TwinVariant {
    pub name: &'static str,
    pub mapping: Mapping,
}

/// What a tokio variant is in asyncio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapping {
    /// The same program in asyncio, using `asyncio`: on the virtual clock its run agrees with
    /// tokio's field by field (except the differences `twins/README.md` explains). `short` is the
    /// asyncio name a learner knows it by (`gather`, `wait_for`, `TaskGroup`): what an asyncio
    /// run calls the variant.
    Same {
        asyncio: &'static str,
        short: &'static str,
    },
    /// The nearest asyncio tool for the same job (tokio's blocking pool ↔ `asyncio.to_thread`).
    Analogue {
        asyncio: &'static str,
        short: &'static str,
    },
    /// No asyncio meaning: `why` says so.
    Missing { why: &'static str },
}

impl Mapping {
    /// `same`, `analogue`, `none`: for `demos --json`.
    pub fn kind(self) -> &'static str {
        match self {
            Mapping::Same { .. } => "same",
            Mapping::Analogue { .. } => "analogue",
            Mapping::Missing { .. } => "none",
        }
    }

    pub fn runs(self) -> bool {
        !matches!(self, Mapping::Missing { .. })
    }

    /// The asyncio name of the variant (`gather`), if it has an asyncio meaning.
    pub fn short(self) -> Option<&'static str> {
        match self {
            Mapping::Same { short, .. } | Mapping::Analogue { short, .. } => Some(short),
            Mapping::Missing { .. } => None,
        }
    }
}

impl Twin {
    pub fn variant(&self, name: &str) -> Option<&TwinVariant> {
        self.variants.iter().find(|v| v.name == name)
    }

    /// The variants that run on asyncio.
    pub fn runnable(&self) -> impl Iterator<Item = &TwinVariant> {
        self.variants.iter().filter(|v| v.mapping.runs())
    }

    /// 1-based lines of the source holding `dojo.mark(` calls: the lines marks can point at.
    pub fn mark_lines(&self) -> Vec<u32> {
        self.source
            .lines()
            .enumerate()
            .filter(|(_, l)| l.contains("dojo.mark("))
            .map(|(i, _)| i as u32 + 1)
            .collect()
    }
}

/// Every twin, in the order of the demo registry.
pub fn twins() -> &'static [Twin] {
    catalog::TWINS
}

/// The twin of demo `demo_id`, if it has one.
pub fn twin(demo_id: &str) -> Option<&'static Twin> {
    catalog::TWINS.iter().find(|t| t.demo == demo_id)
}

/// `join-all (gather)`: variant `variant` of demo `demo_id` as an asyncio run names it, with the
/// asyncio name its twin gives it; the bare variant when it has none.
pub fn variant_label(demo_id: &str, variant: &str) -> String {
    match twin(demo_id)
        .and_then(|t| t.variant(variant))
        .and_then(|v| v.mapping.short())
    {
        Some(short) if short != variant => format!("{variant} ({short})"),
        _ => variant.to_owned(),
    }
}

/// The Python the code pane shows for demo `demo_id` when asyncio is running.
pub fn twin_source(demo_id: &str) -> Option<&'static str> {
    twin(demo_id).map(|t| t.source)
}

/// The tracer as one file, `dojo.py`: the package `twins/dojo/` with its modules held as text.
/// Beside a twin, `python3 gather.py` imports it as the package; `python3 dojo.py TWIN ARGS`
/// runs a twin file under it.
pub fn tracer_source() -> &'static str {
    bundle::tracer()
}

/// How long a virtual-clock run may take before it is taken for hung: virtual runs are instant
/// unless they are huge (100,000 tasks take seconds).
pub const VIRTUAL_DEADLINE: Duration = Duration::from_secs(60);

/// Added to a real-clock run's declared length: interpreter start-up, a loaded machine.
pub const REAL_MARGIN: Duration = Duration::from_secs(5);

/// Why an asyncio run could not happen.
#[derive(Debug, thiserror::Error)]
pub enum AsyncioError {
    #[error("demo `{demo}` has no asyncio twin (twins: {})", twin_ids())]
    NoTwin { demo: String },
    #[error("variant `{variant}` of `{demo}` has no asyncio twin: {why}")]
    NoTwinVariant {
        demo: String,
        variant: String,
        why: String,
    },
    #[error(
        "no Python found: {python} cannot be run; the asyncio twins need Python {}.{} or later: \
         install it, or point asyncdojo at one with --python PATH or {PYTHON_ENV}=PATH",
        MIN_VERSION.0, MIN_VERSION.1
    )]
    PythonNotFound { python: String },
    #[error(
        "{python} is Python {found}; the asyncio twins need Python {}.{} or later: point \
         asyncdojo at a newer one with --python PATH or {PYTHON_ENV}=PATH",
        MIN_VERSION.0, MIN_VERSION.1
    )]
    PythonTooOld { python: String, found: String },
    #[error(
        "{python} does not work as Python ({reason}): point asyncdojo at a Python {}.{} or later \
         with --python PATH or {PYTHON_ENV}=PATH",
        MIN_VERSION.0, MIN_VERSION.1
    )]
    PythonBroken { python: String, reason: String },
    #[error("{0} (a bug in asyncdojo: please report it)")]
    Params(#[from] ParamRead),
    #[error("cannot watch the Python process: {0}")]
    Spawn(#[source] std::io::Error),
}

fn twin_ids() -> String {
    twins()
        .iter()
        .map(|t| t.demo)
        .collect::<Vec<_>>()
        .join(", ")
}

/// An asyncio run: the run document's data, and what the interpreter said on stderr (sanitised,
/// its last 8 KB), which matters when a run failed.
#[derive(Debug, Clone)]
pub struct TwinReport {
    pub report: RunReport,
    pub stderr: String,
}

impl TwinReport {
    /// Each variant's timeline, in the order they ran.
    pub fn snapshots(&self) -> Vec<(&'static str, TimelineSnapshot)> {
        self.report
            .runs
            .iter()
            .map(|r| (r.variant, r.timeline.clone()))
            .collect()
    }

    /// Did every variant run to its end?
    pub fn succeeded(&self) -> bool {
        self.report.runs.iter().all(|r| r.error.is_none())
    }
}

/// Run the asyncio twin of `req` (its demo, variants, parameters and clock) on `python`, and
/// wait for it. `Err` means nothing could run (no twin, no usable Python); a run that failed or
/// hung (killed at its deadline) comes back as a report whose runs carry the error.
pub fn run_twin(req: &RunRequest, python: &Python) -> Result<TwinReport, AsyncioError> {
    run_with(req, python, &AtomicBool::new(false), &mut |_| {})
}

/// A twin running on its own thread, for the app: cancel it at any time; the finished variants
/// can be drawn while the others run. Dropping it cancels the run.
pub struct TwinRun {
    cancel: Arc<AtomicBool>,
    done: Arc<Mutex<Vec<VariantRun>>>,
    thread: Option<JoinHandle<Result<TwinReport, AsyncioError>>>,
}

impl TwinRun {
    /// Check the request, then start the interpreter on a new thread.
    pub fn start(req: RunRequest, python: Python) -> Result<TwinRun, AsyncioError> {
        plan(&req)?;
        let cancel = Arc::new(AtomicBool::new(false));
        let done = Arc::new(Mutex::new(Vec::new()));
        let thread = std::thread::Builder::new()
            .name(format!("twin-{}", req.demo.spec().id))
            .spawn({
                let cancel = Arc::clone(&cancel);
                let done = Arc::clone(&done);
                let variants = requested(&req);
                move || {
                    run_with(&req, &python, &cancel, &mut |line| {
                        if let Ok(run) = document::parse_run(line, &variants)
                            && let Ok(mut d) = done.lock()
                        {
                            d.push(run);
                        }
                    })
                }
            })
            .map_err(AsyncioError::Spawn)?;
        Ok(TwinRun {
            cancel,
            done,
            thread: Some(thread),
        })
    }

    /// Stop the interpreter (and anything it started) now.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// The variants finished so far.
    pub fn snapshots(&self) -> Vec<(&'static str, TimelineSnapshot)> {
        self.done
            .lock()
            .map(|d| d.iter().map(|r| (r.variant, r.timeline.clone())).collect())
            .unwrap_or_default()
    }

    /// Wait for the run to end.
    pub fn wait(mut self) -> Result<TwinReport, AsyncioError> {
        let thread = self.thread.take().expect("a TwinRun is waited for once");
        match thread.join() {
            Ok(result) => result,
            Err(p) => panic!(
                "twin runner thread failed: {}",
                super::ctx::panic_message(&*p)
            ),
        }
    }
}

impl Drop for TwinRun {
    fn drop(&mut self) {
        self.cancel();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn requested(req: &RunRequest) -> Vec<&'static str> {
    if req.variants.is_empty() {
        req.demo.spec().default_variants.to_vec()
    } else {
        req.variants.clone()
    }
}

/// The twin and variants `req` asks for, if asyncio can run them all.
fn plan(req: &RunRequest) -> Result<(&'static Twin, Vec<&'static str>), AsyncioError> {
    let demo: &dyn Demo = req.demo;
    let id = demo.spec().id;
    let twin = twin(id).ok_or_else(|| AsyncioError::NoTwin { demo: id.into() })?;
    let variants = requested(req);
    for v in &variants {
        match twin.variant(v).map(|tv| tv.mapping) {
            Some(Mapping::Missing { why }) => {
                return Err(AsyncioError::NoTwinVariant {
                    demo: id.into(),
                    variant: (*v).into(),
                    why: why.into(),
                });
            }
            None => {
                return Err(AsyncioError::NoTwinVariant {
                    demo: id.into(),
                    variant: (*v).into(),
                    why: "the twin does not know it".into(),
                });
            }
            Some(_) => {}
        }
    }
    Ok((twin, variants))
}

fn run_with(
    req: &RunRequest,
    python: &Python,
    cancel: &AtomicBool,
    on_line: &mut dyn FnMut(&str),
) -> Result<TwinReport, AsyncioError> {
    let (twin, variants) = plan(req)?;
    // Checked on every clock, so a wrong table entry fails the first run of its twin.
    let real_bound = twin.real_run_bound(&req.params, variants.len())?;
    let deadline = match req.clock {
        Clock::Virtual => VIRTUAL_DEADLINE,
        Clock::Real => real_bound + REAL_MARGIN,
    };
    let params = serde_json::to_value(&req.params).unwrap_or_default();
    let args = serde_json::json!({
        "demo": twin.demo,
        "variants": variants,
        "params": params,
        "clock": req.clock.name(),
        "lines": true,
        "watch_stdin": true,
        // Every parameter of the demo is given: one the twin takes but is not given is a name
        // that differs between the two, an error rather than a silent default.
        "strict": true,
    });
    let launch = child::Launch {
        python,
        twin_file: twin.file,
        twin_source: twin.source,
        args,
        deadline,
    };
    let out = child::run(&launch, cancel, on_line)?;
    if out.lines.is_empty() {
        if let Some(found) = too_old(&out.stderr) {
            return Err(AsyncioError::PythonTooOld {
                python: python.describe(),
                found,
            });
        }
        // Refused before running a line of ours (Python 2 does not know `-I`): not a Python
        // the twins can use. A traceback means ours ran and failed, and a line from the harness
        // means it refused the arguments: that is the run's error.
        if let child::Ending::Exited(status) = out.ending
            && !status.success()
            && !out.stderr.contains("Traceback")
            && !out.stderr.lines().any(|l| l.starts_with(HARNESS_SAYS))
        {
            return Err(AsyncioError::PythonBroken {
                python: python.describe(),
                reason: first_line(&out.stderr).unwrap_or_else(|| status.to_string()),
            });
        }
    }
    let mut runs: Vec<VariantRun> = Vec::new();
    let mut unreadable = None;
    for line in &out.lines {
        match document::parse_run(line, &variants) {
            Ok(run) => runs.push(run),
            Err(why) => {
                unreadable.get_or_insert(why);
            }
        }
    }
    let twin_failed = |reason: String| RunError::Twin { reason };
    let why_missing = match out.ending {
        child::Ending::Deadline(d) => twin_failed(format!(
            "the asyncio twin did not finish within {} s and was stopped",
            d.as_secs()
        )),
        child::Ending::Cancelled => RunError::Cancelled,
        child::Ending::Exited(status) => twin_failed(match (&unreadable, last_line(&out.stderr)) {
            (Some(why), _) => format!("the twin wrote a run asyncdojo cannot read: {why}"),
            (None, Some(line)) if !status.success() => {
                format!("Python stopped ({status}): {line}")
            }
            _ if !status.success() => format!("Python stopped ({status})"),
            _ => "the twin wrote no run for this variant".to_owned(),
        }),
    };
    let runs = variants
        .iter()
        .map(|v| match runs.iter().position(|r| r.variant == *v) {
            Some(i) => runs.swap_remove(i),
            None => VariantRun {
                variant: v,
                total_ms: 0.0,
                timeline: TimelineSnapshot::default(),
                error: Some(why_missing.clone()),
                alive_after: 0,
            },
        })
        .collect();
    Ok(TwinReport {
        report: RunReport {
            demo: req.demo.spec().id,
            clock: req.clock,
            params: req.params.clone(),
            runs,
        },
        stderr: out.stderr,
    })
}

/// How the twin harness starts a line saying why it refused to run (an unknown variant or
/// parameter), before exiting with status 2.
const HARNESS_SAYS: &str = "dojo: ";

/// The tracer's version check writes `ASYNCDOJO_PYTHON_TOO_OLD <version>` before anything else.
fn too_old(stderr: &str) -> Option<String> {
    stderr.lines().find_map(|l| {
        l.strip_prefix("ASYNCDOJO_PYTHON_TOO_OLD ")
            .map(|v| v.trim().to_owned())
    })
}

fn first_line(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_owned)
}

fn last_line(text: &str) -> Option<&str> {
    text.lines().map(str::trim).rfind(|l| !l.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_twin_twins_a_demo_and_names_all_its_variants() {
        for twin in twins() {
            let demo = crate::demo::find(twin.demo)
                .unwrap_or_else(|| panic!("twin {} names no demo", twin.demo));
            let spec = demo.spec();
            let names: Vec<&str> = twin.variants.iter().map(|v| v.name).collect();
            assert_eq!(names, spec.variant_names(), "{}", twin.demo);
            // Each twin declares the variants it runs (the harness refuses any other); twins of
            // real-clock-only demos default to the real clock when run by hand.
            let names: Vec<String> = twin.runnable().map(|v| format!("\"{}\"", v.name)).collect();
            let variants = match names.as_slice() {
                [one] => format!("({one},)"),
                many => format!("({})", many.join(", ")),
            };
            let clock = if spec.clocks().contains(&Clock::Virtual) {
                ""
            } else {
                ", clock=\"real\""
            };
            // A demo that sizes tokio's blocking pool times it on the virtual clock; its twin
            // asks the tracer to time the default executor's jobs the same way.
            let threads = if spec
                .variants
                .iter()
                .any(|v| v.blocking_threads_param.is_some())
            {
                ", time_threads=True"
            } else {
                ""
            };
            let run_line = format!("    dojo.run(main, variants={variants}{clock}{threads})\n");
            assert!(
                twin.source.ends_with(&run_line),
                "{} does not end with {run_line}",
                twin.file
            );
            assert_eq!(twin.file, format!("{}.py", twin.demo));
        }
    }

    #[test]
    fn an_old_python_is_recognised_by_the_tracers_first_line() {
        assert_eq!(
            too_old("ASYNCDOJO_PYTHON_TOO_OLD 3.9.2\nthe asyncio twins need..."),
            Some("3.9.2".into())
        );
        assert_eq!(too_old("Traceback..."), None);
    }

    /// A Python to test with (see [`for_tests`]).
    fn test_python() -> Option<Python> {
        for_tests().cloned()
    }

    #[test]
    fn a_hung_twin_is_killed_at_its_deadline_with_nothing_left_running() {
        let Some(py) = test_python() else { return };
        // Listens on loopback, starts a helper process, says where both are, then hangs.
        let source = r#"
import socket, subprocess, sys, time
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen()
helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
print(listener.getsockname()[1], helper.pid, file=sys.__stdout__, flush=True)
sys.stderr.write("stuck \x1b[31m here\n")
sys.stderr.flush()
time.sleep(60)
"#;
        let launch = child::Launch {
            python: &py,
            twin_file: "hang.py",
            twin_source: source,
            args: serde_json::json!({ "watch_stdin": true }),
            deadline: Duration::from_millis(1500),
        };
        let started = std::time::Instant::now();
        let out = child::run(&launch, &AtomicBool::new(false), &mut |_| {}).unwrap();
        assert_eq!(out.ending, child::Ending::Deadline(launch.deadline));
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert!(
            out.stderr.contains("stuck \\u{1b}[31m here"),
            "{}",
            out.stderr
        );
        let line = out.lines.first().expect("the twin said where it listens");
        let mut parts = line.split_whitespace();
        let port: u16 = parts.next().unwrap().parse().unwrap();
        let helper: u32 = parts.next().unwrap().parse().unwrap();
        // The listener went with the process.
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
        // So did the helper it started (its process group was killed); give init a moment to
        // reap it.
        let gone = (0..100).any(|_| {
            let alive = std::process::Command::new("kill")
                .args(["-0", &helper.to_string()])
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if alive {
                std::thread::sleep(Duration::from_millis(20));
            }
            !alive
        });
        assert!(gone, "helper process {helper} survived");
    }

    #[test]
    fn a_cancelled_twin_stops_at_once() {
        let Some(py) = test_python() else { return };
        let launch = child::Launch {
            python: &py,
            twin_file: "hang.py",
            twin_source: "import time\ntime.sleep(60)\n",
            args: serde_json::json!({}),
            deadline: Duration::from_secs(60),
        };
        let cancel = Arc::new(AtomicBool::new(false));
        let stopper = {
            let cancel = Arc::clone(&cancel);
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(300));
                cancel.store(true, Ordering::Relaxed);
            })
        };
        let started = std::time::Instant::now();
        let out = child::run(&launch, &cancel, &mut |_| {}).unwrap();
        stopper.join().unwrap();
        assert_eq!(out.ending, child::Ending::Cancelled);
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    /// A cancelled run is asked to stop before it is killed: the twin's run is cancelled, so its
    /// own clean-up (a `TemporaryDirectory`) runs. (A kill at once left the directory behind.)
    #[test]
    fn a_cancelled_twin_cleans_up_after_itself() {
        let Some(py) = test_python() else { return };
        let parent = tempfile::tempdir().unwrap();
        let source = r#"
import asyncio
import tempfile

import dojo


async def main(variant="v", parent=""):
    with tempfile.TemporaryDirectory(dir=parent):
        await asyncio.sleep(60)


if __name__ == "__main__":
    dojo.run(main, clock="real")
"#;
        let launch = child::Launch {
            python: &py,
            twin_file: "cleans-up.py",
            twin_source: source,
            args: serde_json::json!({
                "params": { "parent": parent.path() },
                "lines": true,
                "watch_stdin": true,
            }),
            deadline: Duration::from_secs(60),
        };
        let cancel = Arc::new(AtomicBool::new(false));
        let stopper = {
            let cancel = Arc::clone(&cancel);
            let parent = parent.path().to_owned();
            std::thread::spawn(move || {
                let made = (0..1000).any(|_| {
                    std::thread::sleep(Duration::from_millis(10));
                    std::fs::read_dir(&parent).is_ok_and(|mut d| d.next().is_some())
                });
                cancel.store(true, Ordering::Relaxed);
                made
            })
        };
        let started = std::time::Instant::now();
        let out = child::run(&launch, &cancel, &mut |_| {}).unwrap();
        assert!(stopper.join().unwrap(), "the twin made its directory");
        assert_eq!(out.ending, child::Ending::Cancelled);
        assert!(started.elapsed() < Duration::from_secs(10));
        let left: Vec<_> = std::fs::read_dir(parent.path()).unwrap().collect();
        assert!(left.is_empty(), "left behind: {left:?}");
    }

    #[test]
    fn mark_lines_point_at_dojo_mark_calls() {
        let gather = twin("gather").unwrap();
        let lines = gather.mark_lines();
        assert_eq!(lines.len(), 1);
        let text = gather.source.lines().nth(lines[0] as usize - 1).unwrap();
        assert!(text.contains("dojo.mark(\"response\")"), "{text}");
    }
}
