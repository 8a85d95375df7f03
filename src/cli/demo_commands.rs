//! The demo commands: `demos` (plain and JSON) and `run` on tokio, its clock and its width.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use super::{ClockArg, ascii_timeline, run_twin};

/// Without `--clock`: virtual when every variant asked for runs on it (exact and instant), else
/// real (the I/O demos, the blocking pool, a multi-threaded runtime).
pub(super) fn natural_clock(demo: &str, variants: &[String]) -> crate::demo::Clock {
    use crate::demo::Clock;
    let Some(d) = crate::demo::find(demo) else {
        return Clock::Virtual;
    };
    let spec = d.spec();
    let names: Vec<&str> = if variants.is_empty() {
        spec.default_variants.to_vec()
    } else {
        variants.iter().map(String::as_str).collect()
    };
    let all_virtual = names.iter().all(|n| {
        spec.variant(n)
            .is_none_or(|v| v.clocks.contains(&Clock::Virtual))
    });
    if all_virtual {
        Clock::Virtual
    } else {
        Clock::Real
    }
}

pub(super) fn run_demo(
    demo: &str,
    variants: &[String],
    sets: &[String],
    clock: Option<ClockArg>,
    json: bool,
    trace: Option<PathBuf>,
    width: Option<usize>,
) -> anyhow::Result<ExitCode> {
    let clock = clock.map_or_else(|| natural_clock(demo, variants), crate::demo::Clock::from);
    let mut req = match crate::demo::RunRequest::build(demo, variants, sets, clock) {
        Ok(req) => req,
        Err(e) => {
            eprintln!("error: {}", crate::text::sanitize(&e.to_string()));
            return Ok(ExitCode::from(2));
        }
    };
    // Headless: a real SIGINT/SIGTERM may trigger the graceful-shutdown demo's shutdown.
    req.os_signals = true;
    let mut report = crate::demo::runner::run_blocking(req)?;
    // The JSON document is written from the report, not from `Run`s: it gets the ready queue
    // here, as every `Run::finished` does.
    for v in &mut report.runs {
        v.timeline.add_ready_queue();
    }
    if let Some(path) = trace {
        let doc = crate::demo::trace::to_chrome_trace(&report);
        std::fs::write(&path, serde_json::to_vec(&doc)?)
            .map_err(|e| anyhow::anyhow!("cannot write the trace to {}: {e}", path.display()))?;
    }
    let mut out = std::io::stdout().lock();
    if json {
        let doc = crate::demo::document::Document::of_report(
            &report,
            crate::demo::asyncio::Runtime::Tokio,
        );
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    } else {
        let width = width.unwrap_or_else(terminal_width).clamp(40, 400);
        write!(out, "{}", ascii_timeline::render(&report, width))?;
    }
    let failed: Vec<String> = report
        .runs
        .iter()
        .filter_map(|r| r.error.as_ref().map(|e| format!("{}: {e}", r.variant)))
        .collect();
    if failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        for f in failed {
            eprintln!("error: {}", crate::text::sanitize(&f));
        }
        Ok(ExitCode::from(1))
    }
}

/// The terminal's width when printing to one, else `$COLUMNS`, else 100.
pub(super) fn terminal_width() -> usize {
    let terminal = std::io::stdout()
        .is_terminal()
        .then(crossterm::terminal::size)
        .and_then(Result::ok)
        .map(|(w, _)| usize::from(w))
        .filter(|&w| w > 0);
    terminal
        .or_else(|| std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()))
        .unwrap_or(100)
}

pub(super) fn demos_json() -> serde_json::Value {
    use crate::demo::params::describe;
    let demos: Vec<serde_json::Value> = crate::demo::registry()
        .iter()
        .map(|d| {
            let s = d.spec();
            serde_json::json!({
                "id": s.id,
                "title": s.title,
                "about": s.about,
                "clocks": s.clocks().iter().map(|c| c.name()).collect::<Vec<_>>(),
                "default_variants": s.default_variants,
                "variants": s.variants.iter().map(|v| serde_json::json!({
                    "name": v.name,
                    "help": v.help,
                    "clocks": v.clocks.iter().map(|c| c.name()).collect::<Vec<_>>(),
                    "flavor": v.flavor,
                })).collect::<Vec<_>>(),
                "params": s.params.iter().map(|p| serde_json::json!({
                    "name": p.name,
                    "default": p.default,
                    "range": describe(&p.kind),
                    "help": p.help,
                })).collect::<Vec<_>>(),
                "metrics": s.metrics.iter().map(|(k, v)| serde_json::json!({"name": k, "help": v})).collect::<Vec<_>>(),
                "asyncio_twin": run_twin::twin_json(s.id),
            })
        })
        .collect();
    serde_json::Value::Array(demos)
}

pub(super) fn print_demos(out: &mut impl Write) -> std::io::Result<()> {
    use crate::demo::params::describe;
    writeln!(
        out,
        "Every parameter is bounded, so every run is bounded in time and memory.\n\
         Run one with: asyncdojo run <demo> [--variant V]... [--set NAME=VALUE]... [--clock virtual|real]"
    )?;
    for d in crate::demo::registry() {
        let s = d.spec();
        writeln!(out, "\n{} — {}", s.id, s.title)?;
        writeln!(
            out,
            "  {}",
            s.about.split_whitespace().collect::<Vec<_>>().join(" ")
        )?;
        for v in s.variants {
            let clocks: Vec<&str> = v.clocks.iter().map(|c| c.name()).collect();
            let default = if s.default_variants.contains(&v.name) {
                ", default"
            } else {
                ""
            };
            writeln!(
                out,
                "  variant {:<16} {} ({} clock{default})",
                v.name,
                v.help,
                clocks.join("/")
            )?;
        }
        for p in s.params {
            writeln!(
                out,
                "  --set {:<18} {} [default {}; {}]",
                p.name,
                p.help,
                p.default,
                describe(&p.kind)
            )?;
        }
        for (m, help) in s.metrics {
            writeln!(out, "  metric {m:<17} {help}")?;
        }
        run_twin::print_twin(out, s.id)?;
    }
    Ok(())
}
