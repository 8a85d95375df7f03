//! The terminal loop of `asyncdojo trace SCRIPT`: the script screen drawn live while the script
//! runs (at most a frame each 16 ms, only when its runs or output changed), its keys, and the
//! effects they ask for — stop (the whole process group), re-run. The script's own stdout and
//! stderr never reach the terminal while the app is up (the tracer's channel carries stdout; the
//! handle captures stderr); they are printed once the terminal is restored.

use std::io::Write;
use std::process::ExitCode;
use std::sync::mpsc::{self, RecvTimeoutError};

use crossterm::event::{DisableMouseCapture, Event, KeyEventKind};
use crossterm::execute;

use super::{FRAME, Highlighting, Incoming, TerminalGuard};
use crate::app::script_screen::{ScriptEffect, ScriptScreen};
use crate::demo::asyncio::Python;
use crate::demo::engine::{self, RunHandle};
use crate::demo::script::{ScriptOutput, ScriptStart};

/// The script and its arguments, as the title names them.
fn title(start: &ScriptStart) -> String {
    let mut words = vec![start.path.display().to_string()];
    words.extend(start.args.iter().cloned());
    crate::text::sanitize(&words.join(" ")).into_owned()
}

/// Open the script screen on `start`; returns once the learner leaves, with nothing left
/// running. A script that cannot start (no such file, an old Python) is said before the
/// terminal is taken.
pub fn run_script(start: ScriptStart, python: Python) -> anyhow::Result<ExitCode> {
    let first = match engine::start_script(start.clone(), &python) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: {}", crate::text::sanitize(&e.to_string()));
            return Ok(ExitCode::from(if e.is_usage() { 2 } else { 1 }));
        }
    };
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let mut screen = ScriptScreen::new(title(&start), no_color);
    let (tx, rx) = mpsc::channel();
    let mut terminal = ratatui::init();
    let guard = TerminalGuard;
    super::install_panic_hook();
    // No mouse here: the overlay's text can then be selected with the terminal's own mouse.
    let _ = execute!(std::io::stdout(), DisableMouseCapture);
    super::spawn_input_thread(tx.clone())?;
    let mut highlighting = Highlighting::start(tx);
    let mut run: Option<Box<dyn RunHandle>> = Some(first);
    let result = script_loop(
        &mut screen,
        &mut terminal,
        &rx,
        &mut run,
        &start,
        &python,
        &mut highlighting,
    );
    // Nothing is left running, whatever ended the loop.
    if let Some(r) = run.take() {
        r.cancel();
        let f = r.wait();
        screen.finished(f.runs, f.error, f.script.unwrap_or_default());
    }
    drop(guard);
    print_after(&screen.output)?;
    result.map(|()| ExitCode::SUCCESS)
}

fn script_loop(
    screen: &mut ScriptScreen,
    terminal: &mut ratatui::DefaultTerminal,
    rx: &mpsc::Receiver<Incoming>,
    run: &mut Option<Box<dyn RunHandle>>,
    start: &ScriptStart,
    python: &Python,
    highlighting: &mut Highlighting,
) -> anyhow::Result<()> {
    let mut dirty = true;
    let (mut seen, mut seen_output) = (u64::MAX, u64::MAX);
    loop {
        if dirty {
            if let Some(request) = crate::ui::script_pane::missing_highlight(screen)
                && highlighting.asked.insert(request.key)
            {
                let _ = highlighting.jobs.send(request);
            }
            terminal.draw(|frame| {
                crate::ui::script_pane::draw(screen, frame.area(), frame.buffer_mut())
            })?;
            dirty = false;
        }
        let incoming = if run.is_some() {
            match rx.recv_timeout(FRAME) {
                Ok(m) => Some(m),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            }
        } else {
            match rx.recv() {
                Ok(m) => Some(m),
                Err(_) => return Ok(()),
            }
        };
        match incoming {
            Some(Incoming::Input(Event::Key(k))) if k.kind != KeyEventKind::Release => {
                let Some(key) = super::key_from(&k) else {
                    continue;
                };
                dirty = true;
                match screen.key(key) {
                    ScriptEffect::None => {}
                    ScriptEffect::Quit => return Ok(()),
                    ScriptEffect::Stop => {
                        if let Some(r) = run.as_ref() {
                            r.cancel();
                        }
                    }
                    ScriptEffect::Rerun => {
                        // The old run ends first (a server it ran frees its port), then the
                        // script starts again from its file as it is now.
                        if let Some(r) = run.take() {
                            r.cancel();
                            drop(r.wait());
                        }
                        match engine::start_script(start.clone(), python) {
                            Ok(h) => {
                                *run = Some(h);
                                (seen, seen_output) = (u64::MAX, u64::MAX);
                                screen.restarted();
                            }
                            Err(e) => screen.not_started(e.to_string()),
                        }
                    }
                }
            }
            Some(Incoming::Input(Event::Resize(..)) | Incoming::Highlighted) => dirty = true,
            Some(Incoming::InputClosed) => return Ok(()),
            Some(_) | None => {}
        }
        if let Some(r) = run.as_ref() {
            if r.is_finished() {
                if let Some(r) = run.take() {
                    let f = r.wait();
                    screen.finished(f.runs, f.error, f.script.unwrap_or_default());
                }
                dirty = true;
            } else if r.version() != seen {
                seen = r.version();
                seen_output = r.output_version();
                screen.progress(r.runs(), r.script_output());
                dirty = true;
            } else if r.output_version() != seen_output {
                // Only what it printed changed: the runs are not copied again.
                seen_output = r.output_version();
                if let Some(o) = r.script_output() {
                    screen.output = o;
                }
                dirty = true;
            }
        }
    }
}

/// Once the terminal is back: what the script wrote, and how it ended.
fn print_after(output: &ScriptOutput) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    for (what, c) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        if c.is_empty() {
            continue;
        }
        writeln!(out, "── the script's {what} ──")?;
        let text = c.shown();
        write!(out, "{text}")?;
        if !text.ends_with('\n') {
            writeln!(out)?;
        }
    }
    if let Some(tb) = output.traceback() {
        writeln!(out, "── the uncaught exception ──\n{tb}")?;
    }
    for note in &output.notes {
        writeln!(out, "note: {note}")?;
    }
    writeln!(out, "asyncdojo trace: {}", output.end.describe())?;
    out.flush()
}
