//! `run --runtime asyncio|both`: a demo's asyncio twin on the learner's Python, alone or beside
//! the tokio run on one time axis; and what `demos` says about the twins.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::demo::asyncio::RunOn;
use crate::demo::asyncio::{self, AsyncioError, Mapping, Python, Runtime};
use crate::demo::document::{Document, Runtimes};
use crate::demo::engine::{self, Start, StartError};
use crate::demo::{Clock, RunRequest};

use super::ascii_timeline;

/// How to run and show the twin.
pub struct How {
    pub both: bool,
    pub python: Python,
    pub json: bool,
    /// Also write the run(s) in Chrome trace-event format.
    pub trace: Option<PathBuf>,
    pub width: usize,
}

pub fn run(
    demo: &str,
    variants: &[String],
    sets: &[String],
    clock: Clock,
    how: &How,
) -> anyhow::Result<ExitCode> {
    let mut request = match RunRequest::build(demo, variants, sets, clock) {
        Ok(req) => req,
        Err(msg) => {
            eprintln!("error: {}", crate::text::sanitize(&msg.to_string()));
            return Ok(ExitCode::from(2));
        }
    };
    // Headless: a real SIGINT/SIGTERM may trigger the graceful-shutdown demo's shutdown.
    request.os_signals = how.both;
    let (demo, params) = (request.demo.spec().id, request.params.clone());
    let start = Start {
        request,
        runtimes: if how.both {
            RunOn::Both
        } else {
            RunOn::Asyncio
        },
        twin_variants: Vec::new(),
    };
    let finished = match engine::run_to_end(start, &how.python) {
        Ok(finished) => finished,
        Err(StartError::Asyncio(
            err @ (AsyncioError::NoTwin { .. } | AsyncioError::NoTwinVariant { .. }),
        )) => {
            eprintln!("error: {}", crate::text::sanitize(&err.to_string()));
            return Ok(ExitCode::from(2));
        }
        Err(err) => {
            eprintln!("error: {}", crate::text::sanitize(&err.to_string()));
            return Ok(ExitCode::from(1));
        }
    };
    // No usable Python: one line; with `both` the tokio runs still show.
    if let Some(why) = &finished.not_run {
        eprintln!("error: {}", crate::text::sanitize(why));
        if !how.both {
            return Ok(ExitCode::from(1));
        }
    }
    let runs = &finished.runs;

    if let Some(path) = &how.trace {
        let doc = crate::demo::trace::runs_to_chrome_trace(demo, runs);
        std::fs::write(path, serde_json::to_vec(&doc)?)
            .map_err(|e| anyhow::anyhow!("cannot write the trace to {}: {e}", path.display()))?;
    }
    let mut out = std::io::stdout().lock();
    if how.json {
        // One runtime when only one ran (asked for alone, or the twin could not run beside
        // tokio); else both, each run saying which it is.
        let runtime = if !how.both || finished.not_run.is_some() {
            runs.first().map_or(Runtime::Asyncio, |r| r.runtime).into()
        } else {
            Runtimes::Both
        };
        let doc = Document::of_runs(demo, clock, &params, runtime, runs);
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    } else {
        if !how.both
            && let Some(twin) = asyncio::twin(demo)
        {
            writeln!(
                out,
                "asyncio twin twins/{} on {}",
                twin.file,
                how.python.describe()
            )?;
        }
        let heading = ascii_timeline::heading(demo, clock, &params);
        write!(
            out,
            "{}",
            ascii_timeline::render_runs(&heading, runs, how.width)
        )?;
    }
    drop(out);

    let mut failed = finished.not_run.is_some();
    for r in runs {
        if let Some(e) = &r.error {
            failed = true;
            eprintln!(
                "error: {} {}: {}",
                r.runtime.name(),
                r.variant(),
                crate::text::sanitize(&e.to_string())
            );
        }
    }
    if !finished.python_said.is_empty() {
        eprintln!("Python said:\n{}", finished.python_said);
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// What `demos --json` says about a demo's twin: `null` when it has none.
pub fn twin_json(demo: &str) -> serde_json::Value {
    let Some(twin) = asyncio::twin(demo) else {
        return serde_json::Value::Null;
    };
    let variants: Vec<serde_json::Value> = twin
        .variants
        .iter()
        .map(|v| match v.mapping {
            Mapping::Same { asyncio, .. } | Mapping::Analogue { asyncio, .. } => {
                serde_json::json!({
                    "name": v.name,
                    "mapping": v.mapping.kind(),
                    "asyncio": asyncio,
                })
            }
            Mapping::Missing { why } => serde_json::json!({
                "name": v.name,
                "mapping": v.mapping.kind(),
                "why": why,
            }),
        })
        .collect();
    serde_json::json!({
        "file": format!("twins/{}", twin.file),
        "variants": variants,
    })
}

/// The `demos` text line about a demo's twin.
pub fn print_twin(out: &mut impl Write, demo: &str) -> std::io::Result<()> {
    let Some(twin) = asyncio::twin(demo) else {
        return Ok(());
    };
    let runs: Vec<&str> = twin.runnable().map(|v| v.name).collect();
    write!(
        out,
        "  asyncio twin      twins/{} (--runtime asyncio|both): {}",
        twin.file,
        runs.join(", ")
    )?;
    let missing: Vec<&str> = twin
        .variants
        .iter()
        .filter(|v| !v.mapping.runs())
        .map(|v| v.name)
        .collect();
    if !missing.is_empty() {
        write!(out, "; no asyncio meaning: {}", missing.join(", "))?;
    }
    writeln!(out)
}
