//! Running the interpreter on a twin: the tracer and the twin (built into the binary: nothing
//! from a lesson file is ever executed) go to the interpreter through its stdin, so no file is
//! written and none can be left behind however asyncdojo ends; a deadline; and nothing left
//! running afterwards.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::python::Python;
use super::{AsyncioError, bundle};

/// Keep this much of the interpreter's stderr (its end, where the traceback is).
const STDERR_KEEP: usize = 8 * 1024;

/// How long a twin asked to stop (its stdin closed) has to cancel its run and clean up after
/// itself before its process group is killed. The tracer gives itself a little less. Generous: on
/// a loaded machine a clean-up that is quick alone can take over a second, and a run killed in the
/// middle of it leaves its files behind. Only a twin stuck in a blocking call waits it out.
const STOP_GRACE: Duration = Duration::from_secs(3);

/// What to run.
pub(super) struct Launch<'a> {
    pub python: &'a Python,
    pub twin_file: &'a str,
    pub twin_source: &'a str,
    pub args: serde_json::Value,
    pub deadline: Duration,
}

/// How the interpreter's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ending {
    Exited(ExitStatus),
    /// Stopped at the deadline.
    Deadline(Duration),
    /// Stopped because the caller cancelled the run.
    Cancelled,
}

pub(super) struct Output {
    /// stdout, one JSON run per line.
    pub lines: Vec<String>,
    /// The end of stderr, sanitised for a terminal.
    pub stderr: String,
    pub ending: Ending,
}

/// Run the twin; `on_line` sees each line of stdout as it arrives.
pub(super) fn run(
    launch: &Launch<'_>,
    cancel: &AtomicBool,
    on_line: &mut dyn FnMut(&str),
) -> Result<Output, AsyncioError> {
    let tracer = bundle::tracer();
    let mut cmd = launch.python.command();
    cmd.arg("-c")
        .arg(bundle::BOOT)
        .arg(tracer.len().to_string())
        .arg(launch.twin_source.len().to_string())
        .arg(launch.twin_file)
        .arg(launch.args.to_string())
        // Carries the tracer and the twin, then is held open until the end: the tracer exits
        // when it sees this pipe close, so even a killed asyncdojo leaves no interpreter behind.
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // Its own process group, so the deadline can end everything it started.
        cmd.process_group(0);
    }
    let mut child = cmd.spawn().map_err(|e| launch.python.cannot_start(&e))?;
    // Dropping `hold_stdin` lets the writer close the pipe.
    let (hold_stdin, released) = mpsc::channel::<()>();
    if let Some(mut stdin) = child.stdin.take() {
        let twin = launch.twin_source.to_owned();
        std::thread::Builder::new()
            .name("twin-stdin".into())
            .spawn(move || {
                // On its own thread: a large twin fills the pipe until Python reads it. A Python
                // that refuses to start (one too old for `-I`) closes the pipe: nothing to do.
                let sent = stdin
                    .write_all(tracer.as_bytes())
                    .and_then(|()| stdin.write_all(twin.as_bytes()))
                    .and_then(|()| stdin.flush());
                if sent.is_ok() {
                    let _ = released.recv();
                }
            })
            .map_err(AsyncioError::Spawn)?;
    }
    let mut hold_stdin = Some(hold_stdin);
    let (line_tx, line_rx) = mpsc::channel::<String>();
    if let Some(stdout) = child.stdout.take() {
        std::thread::Builder::new()
            .name("twin-stdout".into())
            .spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if line_tx.send(line).is_err() {
                        break;
                    }
                }
            })
            .map_err(AsyncioError::Spawn)?;
    }
    let (err_tx, err_rx) = mpsc::channel::<Vec<u8>>();
    if let Some(mut stderr) = child.stderr.take() {
        std::thread::Builder::new()
            .name("twin-stderr".into())
            .spawn(move || {
                let mut kept = Vec::new();
                let mut buf = [0_u8; 4096];
                while let Ok(n) = stderr.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    kept.extend_from_slice(&buf[..n]);
                    if kept.len() > 2 * STDERR_KEEP {
                        kept.drain(..kept.len() - STDERR_KEEP);
                    }
                }
                let _ = err_tx.send(kept);
            })
            .map_err(AsyncioError::Spawn)?;
    }

    let started = Instant::now();
    let mut lines = Vec::new();
    let mut seen = |line: String, lines: &mut Vec<String>| {
        on_line(&line);
        lines.push(line);
    };
    let ending = loop {
        let stop_for = if cancel.load(Ordering::Relaxed) {
            Some(Ending::Cancelled)
        } else if started.elapsed() >= launch.deadline {
            Some(Ending::Deadline(launch.deadline))
        } else {
            None
        };
        if let Some(why) = stop_for {
            // Closing stdin asks the tracer to cancel the run: the twin's own clean-up runs
            // (its temporary directory is removed). Then whatever is left is killed.
            drop(hold_stdin.take());
            let until = Instant::now() + STOP_GRACE;
            while let Ok(line) =
                line_rx.recv_timeout(until.saturating_duration_since(Instant::now()))
            {
                seen(line, &mut lines);
            }
            // stdout closing is no sign the clean-up is done: the tracer points it at /dev/null
            // before it cancels the run. Wait for the process itself.
            exits_by(&mut child, until);
            crate::demo::process_group::kill(&mut child);
            break why;
        }
        let left = launch.deadline.saturating_sub(started.elapsed());
        match line_rx.recv_timeout(left.min(Duration::from_millis(20))) {
            Ok(line) => seen(line, &mut lines),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            // stdout closed: the interpreter is exiting.
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                break wait_until(
                    &mut child,
                    started + launch.deadline,
                    cancel,
                    launch.deadline,
                );
            }
        }
    };
    drop(hold_stdin);
    // Reap it (after a kill too), so no zombie is left.
    let status = child.wait().map_err(AsyncioError::Spawn)?;
    let ending = match ending {
        Ending::Exited(_) => Ending::Exited(status),
        other => other,
    };
    // The reader ends when the pipe closes; don't wait long for one a stray grandchild holds.
    let raw = err_rx
        .recv_timeout(Duration::from_millis(500))
        .unwrap_or_default();
    let stderr = tail(&String::from_utf8_lossy(&raw));
    Ok(Output {
        lines,
        stderr,
        ending,
    })
}

/// stdout has closed: give the process until the deadline to exit.
fn wait_until(
    child: &mut Child,
    until: Instant,
    cancel: &AtomicBool,
    deadline: Duration,
) -> Ending {
    let mut pause = Duration::from_micros(200);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ending::Exited(status),
            Ok(None) => {}
            Err(_) => {
                crate::demo::process_group::kill(child);
                return Ending::Cancelled;
            }
        }
        if cancel.load(Ordering::Relaxed) {
            crate::demo::process_group::kill(child);
            return Ending::Cancelled;
        }
        if Instant::now() >= until {
            crate::demo::process_group::kill(child);
            return Ending::Deadline(deadline);
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(10));
    }
}

/// Waits until the process has exited or `until` has passed, whichever is first.
fn exits_by(child: &mut Child, until: Instant) {
    let mut pause = Duration::from_micros(200);
    while matches!(child.try_wait(), Ok(None)) && Instant::now() < until {
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(10));
    }
}

/// The last `STDERR_KEEP` bytes of `text` (cut on a line), sanitised.
fn tail(text: &str) -> String {
    let text = text.trim_end();
    let cut = if text.len() > STDERR_KEEP {
        let mut at = text.len() - STDERR_KEEP;
        while !text.is_char_boundary(at) {
            at += 1;
        }
        let rest = &text[at..];
        rest.find('\n').map_or(rest, |i| &rest[i + 1..])
    } else {
        text
    };
    crate::text::sanitize(cut).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stderr_keeps_its_end_and_is_sanitised() {
        let long = format!("{}\nlast line \x1b[31m\n", "x".repeat(3 * STDERR_KEEP));
        let t = tail(&long);
        assert!(t.len() <= STDERR_KEEP);
        assert!(t.ends_with("last line \\u{1b}[31m"), "{t}");
    }
}
