//! `asyncdojo trace SCRIPT [-- ARGS...]` headless: the learner's own program traced, printed as
//! the ASCII timeline `run` prints (in a pipe, or with `--text`), as the run document (`--json`),
//! or in Perfetto's format (`--trace FILE`). The script's own stdout and stderr are never mixed
//! with ours while it runs: they are printed after the timeline, under a heading that says what
//! they are (with `--json`, on stderr, so stdout stays one JSON document).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::demo::Clock;
use crate::demo::asyncio::Python;
use crate::demo::document::Document;
use crate::demo::engine::Finished;
use crate::demo::engine::RunHandle;
use crate::demo::script::{ScriptHandle, ScriptOutput, ScriptStart};

use super::ascii_timeline;

/// How to trace and show.
pub struct How {
    pub python: Python,
    pub clock: Clock,
    pub timeout: Duration,
    pub json: bool,
    pub trace: Option<PathBuf>,
    pub width: usize,
}

/// `--timeout SECONDS`: a positive number of seconds (fractions allowed).
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    match text.trim().parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s <= 7.0 * 24.0 * 3600.0 => {
            Ok(Duration::from_secs_f64(s))
        }
        _ => Err(format!(
            "`{text}` is not a number of seconds above 0 (e.g. 60, 2.5)"
        )),
    }
}

pub fn run(script: PathBuf, args: Vec<String>, how: &How) -> anyhow::Result<ExitCode> {
    let start = ScriptStart {
        clock: how.clock,
        timeout: how.timeout,
        ..ScriptStart::new(script, args)
    };
    let name = start.name();
    let handle = match ScriptHandle::start(start.clone(), &how.python) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: {}", crate::text::sanitize(&e.to_string()));
            return Ok(ExitCode::from(if e.is_usage() { 2 } else { 1 }));
        }
    };
    stop_on_ctrl_c(handle.stopper());
    let finished = Box::new(handle).wait();
    let output = finished.script.clone().unwrap_or_default();
    let runs = &finished.runs;
    if let Some(path) = &how.trace {
        let doc = crate::demo::trace::runs_to_chrome_trace(&name, runs);
        std::fs::write(path, serde_json::to_vec(&doc)?)
            .map_err(|e| anyhow::anyhow!("cannot write the trace to {}: {e}", path.display()))?;
    }
    let mut out = std::io::stdout().lock();
    if how.json {
        let doc = Document::of_script(&name, how.clock, start.origin(&output.files), runs);
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
        drop(out);
        print_output(&mut std::io::stderr().lock(), &output, "stderr")?;
    } else {
        let heading = heading(&start, how);
        write!(
            out,
            "{}",
            ascii_timeline::render_runs(&heading, runs, how.width)
        )?;
        if runs.is_empty() {
            writeln!(out, "\n(no asyncio run was recorded)")?;
        }
        print_output(&mut out, &output, "stdout")?;
        drop(out);
    }
    Ok(report_end(&finished, &output))
}

/// Ctrl-C reaches asyncdojo, not the script (it runs in a process group of its own): stop it as
/// `s` does in the app, so its whole group ends and what it did is still printed.
fn stop_on_ctrl_c(stop: impl Fn() + Send + 'static) {
    let _ = std::thread::Builder::new()
        .name("trace-ctrl-c".into())
        .spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .build()
            else {
                return;
            };
            if rt.block_on(tokio::signal::ctrl_c()).is_ok() {
                stop();
            }
        });
}

/// `trace prog.py --fast (real clock, python3 on PATH)`.
fn heading(start: &ScriptStart, how: &How) -> String {
    let mut words = vec![crate::text::sanitize(&start.path.display().to_string()).into_owned()];
    words.extend(
        start
            .args
            .iter()
            .map(|a| crate::text::sanitize(a).into_owned()),
    );
    format!(
        "trace {} ({} clock, {})",
        words.join(" "),
        how.clock.name(),
        how.python.describe()
    )
}

/// The script's own output, after the timeline: each stream under a heading naming it.
fn print_output(out: &mut impl Write, output: &ScriptOutput, on: &str) -> std::io::Result<()> {
    for (what, captured) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        if captured.is_empty() {
            continue;
        }
        writeln!(out, "\n── the script's {what} (printed here on {on}) ──")?;
        let text = captured.shown();
        write!(out, "{text}")?;
        if !text.ends_with('\n') {
            writeln!(out)?;
        }
    }
    Ok(())
}

/// Notes, the traceback and how the script ended, on stderr; the exit code: 0 when the script
/// exited with 0 and every run ended cleanly, else 1.
fn report_end(finished: &Finished, output: &ScriptOutput) -> ExitCode {
    let mut err = std::io::stderr().lock();
    for note in &output.notes {
        let _ = writeln!(err, "note: {note}");
    }
    if let Some(tb) = output.traceback() {
        let _ = writeln!(err, "\n── the uncaught exception ──\n{tb}");
    }
    let ok = output.end.ok();
    let _ = writeln!(
        err,
        "{}{}",
        if ok { "" } else { "error: " },
        output.end.describe()
    );
    if ok && finished.runs.iter().all(|r| r.error.is_none()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timeout_is_a_positive_number_of_seconds() {
        assert_eq!(parse_timeout("60"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_timeout("2.5"), Ok(Duration::from_millis(2500)));
        for bad in ["0", "-1", "nan", "inf", "soon", ""] {
            assert!(parse_timeout(bad).is_err(), "{bad}");
        }
    }
}
