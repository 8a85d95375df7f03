//! `run --runtime asyncio|both`: a demo's asyncio twin on the learner's Python, alone or beside
//! the tokio run on one time axis; and what `demos` says about the twins.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;

use crate::demo::asyncio::{self, AsyncioError, Mapping, Python, Runtime};
use crate::demo::{Clock, Params, RunReport, RunRequest, VariantRun, runner};

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

/// A run document with its runtime at the top level (design notes: the run document).
#[derive(Serialize)]
pub struct WithRuntime<'a> {
    #[serde(flatten)]
    pub report: &'a RunReport,
    pub runtime: Runtime,
}

/// `--runtime both`: the runs of both runtimes, each saying which it is.
#[derive(Serialize)]
struct BothDocument<'a> {
    demo: &'static str,
    clock: Clock,
    /// `both`: each run names its own runtime.
    runtime: &'static str,
    params: &'a Params,
    runs: Vec<RunOf<'a>>,
}

#[derive(Serialize)]
struct RunOf<'a> {
    runtime: Runtime,
    #[serde(flatten)]
    run: &'a VariantRun,
}

pub fn run(
    demo: &str,
    variants: &[String],
    sets: &[String],
    clock: Clock,
    how: &How,
) -> anyhow::Result<ExitCode> {
    let mut req = match RunRequest::build(demo, variants, sets, clock) {
        Ok(req) => req,
        Err(msg) => {
            eprintln!("error: {}", crate::text::sanitize(&msg.to_string()));
            return Ok(ExitCode::from(2));
        }
    };
    let twin = match asyncio::run_twin(&req, &how.python) {
        Ok(twin) => Some(twin),
        Err(err @ (AsyncioError::NoTwin { .. } | AsyncioError::NoTwinVariant { .. })) => {
            eprintln!("error: {}", crate::text::sanitize(&err.to_string()));
            return Ok(ExitCode::from(2));
        }
        // No usable Python: say so in one line; with `both` the tokio run still shows.
        Err(err) if how.both => {
            eprintln!("error: {}", crate::text::sanitize(&err.to_string()));
            None
        }
        Err(err) => {
            eprintln!("error: {}", crate::text::sanitize(&err.to_string()));
            return Ok(ExitCode::from(1));
        }
    };
    let tokio = if how.both {
        req.os_signals = true;
        Some(runner::run_blocking(req)?)
    } else {
        None
    };

    if let Some(path) = &how.trace {
        let traced = match (&tokio, &twin) {
            (Some(tokio), Some(twin)) => Some(side_by_side(tokio, &twin.report)),
            (Some(tokio), None) => Some(tokio.clone()),
            (None, Some(twin)) => Some(twin.report.clone()),
            (None, None) => None,
        };
        if let Some(report) = traced {
            let doc = crate::demo::trace::to_chrome_trace(&report);
            std::fs::write(path, serde_json::to_vec(&doc)?).map_err(|e| {
                anyhow::anyhow!("cannot write the trace to {}: {e}", path.display())
            })?;
        }
    }
    let mut out = std::io::stdout().lock();
    match (&tokio, &twin) {
        (Some(tokio), Some(twin)) => {
            if how.json {
                serde_json::to_writer_pretty(&mut out, &both_document(tokio, &twin.report))?;
                writeln!(out)?;
            } else {
                write!(
                    out,
                    "{}",
                    ascii_timeline::render(&side_by_side(tokio, &twin.report), how.width)
                )?;
            }
        }
        (Some(tokio), None) => print_one(&mut out, tokio, Runtime::Tokio, how)?,
        (None, Some(twin)) => print_one(&mut out, &twin.report, Runtime::Asyncio, how)?,
        (None, None) => {}
    }
    drop(out);

    let mut failed = twin.is_none();
    for (runtime, report) in [
        (Runtime::Tokio, tokio.as_ref()),
        (Runtime::Asyncio, twin.as_ref().map(|t| &t.report)),
    ] {
        for r in report.into_iter().flat_map(|r| &r.runs) {
            if let Some(e) = &r.error {
                failed = true;
                eprintln!(
                    "error: {} {}: {}",
                    runtime.name(),
                    r.variant,
                    crate::text::sanitize(&e.to_string())
                );
            }
        }
    }
    if let Some(twin) = &twin
        && !twin.succeeded()
        && !twin.stderr.is_empty()
    {
        eprintln!("Python said:\n{}", twin.stderr);
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_one(
    out: &mut impl Write,
    report: &RunReport,
    runtime: Runtime,
    how: &How,
) -> anyhow::Result<()> {
    if how.json {
        serde_json::to_writer_pretty(&mut *out, &WithRuntime { report, runtime })?;
        writeln!(out)?;
    } else {
        if runtime == Runtime::Asyncio
            && let Some(twin) = asyncio::twin(report.demo)
        {
            writeln!(
                out,
                "asyncio twin twins/{} on {}",
                twin.file,
                how.python.describe()
            )?;
        }
        write!(out, "{}", ascii_timeline::render(report, how.width))?;
    }
    Ok(())
}

fn both_document<'a>(tokio: &'a RunReport, asyncio: &'a RunReport) -> BothDocument<'a> {
    let mut runs = Vec::new();
    for t in &tokio.runs {
        runs.push(RunOf {
            runtime: Runtime::Tokio,
            run: t,
        });
        if let Some(a) = asyncio.run(t.variant) {
            runs.push(RunOf {
                runtime: Runtime::Asyncio,
                run: a,
            });
        }
    }
    BothDocument {
        demo: tokio.demo,
        clock: tokio.clock,
        runtime: "both",
        params: &tokio.params,
        runs,
    }
}

/// One report holding each variant's tokio run and then its asyncio run, so the text timeline
/// draws them all on one time axis.
fn side_by_side(tokio: &RunReport, asyncio: &RunReport) -> RunReport {
    let mut runs = Vec::new();
    for t in &tokio.runs {
        runs.push(labelled(t, Runtime::Tokio));
        if let Some(a) = asyncio.run(t.variant) {
            runs.push(labelled(a, Runtime::Asyncio));
        }
    }
    RunReport {
        demo: tokio.demo,
        clock: tokio.clock,
        params: tokio.params.clone(),
        runs,
    }
}

fn labelled(run: &VariantRun, runtime: Runtime) -> VariantRun {
    // The renderer takes variant names as `&'static str`; this one-shot command leaks a label
    // per run (a few bytes) rather than change the renderer.
    let label: &'static str =
        Box::leak(format!("{} · {}", run.variant, runtime.name()).into_boxed_str());
    VariantRun {
        variant: label,
        ..run.clone()
    }
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
