//! `asyncdojo trace SCRIPT`: a learner's own asyncio program, run unmodified on their Python under
//! the tracer, drawn like a demo's twin.
//!
//! Only the file the learner names is run, with their own rights, in their current directory,
//! with their arguments. The tracer (`twins/dojo/`, built into the binary) goes to the interpreter
//! through its stdin, as for a twin; the script's own stdout is forwarded by the tracer as
//! messages on the process's original stdout (the channel), so a script that prints JSON cannot
//! confuse asyncdojo, and nothing the script writes reaches the terminal while the app is up.
//!
//! Everything read from the channel is untrusted: lines and kept text are bounded, a line that
//! breaks the contract is refused with its line number, and every text that can reach the screen
//! (task names, details, labels, the script's output, notes, the traceback, the source files) is
//! stripped of control characters and escapes. The process runs in its own process group, which
//! is killed when the run is stopped, times out or ends: nothing it started is left running.
//!
//! The channel, one JSON object a line with exactly one key (`docs/run-document.md`):
//! `stdout` (a chunk of the script's stdout), `live` (the run in progress, a run document of one
//! run), `run` (a finished run), `files` (the user files the `file` indices point into), `note`
//! (one line about something the tracer cannot follow), `exit` (`{code, error}`, last).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::asyncio::{self, AsyncioError, Python, Runtime};
use super::document::{DocOrigin, Document, Runtimes};
use super::engine::{Finished, RunHandle};
use super::run::{Origin, Run};
use super::source::Source;
use super::timeline::TimelineSnapshot;
use super::{Clock, RunError};
use crate::lesson::Language;

/// A channel line longer than this is refused (the run document of a huge run is long, but the
/// tracer bounds what it records well below this).
pub const MAX_LINE: usize = 64 * 1024 * 1024;
/// The script's stdout kept (its end): what the app shows and what is printed after it.
pub const STDOUT_KEEP: usize = 1024 * 1024;
/// The script's stderr kept (its end, where a traceback is).
pub const STDERR_KEEP: usize = 256 * 1024;
/// Notes kept, and the length of each.
pub const MAX_NOTES: usize = 50;
pub const NOTE_KEEP: usize = 1000;
/// A traceback's length kept (its end).
pub const TRACEBACK_KEEP: usize = 64 * 1024;
/// User files the code pane can show, and the size of each read from disk.
pub const MAX_FILES: usize = 256;
pub const MAX_SOURCE: u64 = 4 * 1024 * 1024;
/// Finished runs kept (one per `asyncio.run` call); later ones are counted, not kept.
pub const MAX_RUNS: usize = 100;
/// The default `--timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a stopped script has to let its own clean-up run (stdin closed: the tracer cancels
/// the run) before its process group is killed.
const STOP_GRACE: Duration = Duration::from_millis(1500);

/// The `-c` program (`twins/dojo/_boot_script.py`): `BUNDLE_LEN SCRIPT_PATH ARGS_JSON` follow
/// it; stdin carries the tracer bundle, then stays open (the tracer exits when it closes).
pub const BOOT: &str = include_str!("../../twins/dojo/_boot_script.py");

/// What to trace.
#[derive(Debug, Clone)]
pub struct ScriptStart {
    /// The script as the learner named it.
    pub path: PathBuf,
    pub args: Vec<String>,
    pub clock: Clock,
    /// Stopped after this long (wall time), with a message saying so.
    pub timeout: Duration,
}

impl ScriptStart {
    pub fn new(path: impl Into<PathBuf>, args: Vec<String>) -> ScriptStart {
        ScriptStart {
            path: path.into(),
            args,
            clock: Clock::Real,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The script's file name: the run document's `demo`.
    pub fn name(&self) -> String {
        self.path.file_name().map_or_else(
            || self.path.display().to_string(),
            |n| n.to_string_lossy().into(),
        )
    }

    fn shown_path(&self) -> String {
        self.path.display().to_string()
    }

    /// The document's `origin`.
    pub fn origin(&self, files: &[String]) -> DocOrigin {
        DocOrigin {
            script: self.shown_path(),
            args: self.args.clone(),
            files: files.to_vec(),
        }
    }
}

/// Why a script could not start.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    #[error("no such file: {0} (asyncdojo trace runs the Python file you name)")]
    Missing(String),
    #[error("{0} is not a file (asyncdojo trace runs the Python file you name)")]
    NotAFile(String),
    #[error(
        "{python} is Python {found}; `asyncdojo trace` needs Python {}.{} or later: point \
         asyncdojo at a newer one with --python PATH or {}=PATH",
        asyncio::MIN_VERSION.0, asyncio::MIN_VERSION.1, asyncio::PYTHON_ENV
    )]
    PythonTooOld { python: String, found: String },
    #[error(transparent)]
    Python(AsyncioError),
    #[error("cannot start {python}: {err}")]
    Spawn {
        python: String,
        #[source]
        err: std::io::Error,
    },
}

impl ScriptError {
    /// A usage error (the file named is not there) rather than a failed run.
    pub fn is_usage(&self) -> bool {
        matches!(self, ScriptError::Missing(_) | ScriptError::NotAFile(_))
    }
}

fn python_problem(err: AsyncioError) -> ScriptError {
    match err {
        AsyncioError::PythonTooOld { python, found } => ScriptError::PythonTooOld { python, found },
        other => ScriptError::Python(other),
    }
}

/// Text kept from a stream: its end, at most `keep` bytes, and how much was left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captured {
    text: String,
    /// Bytes left out at the start.
    pub dropped: usize,
    keep: usize,
}

impl Captured {
    fn new(keep: usize) -> Captured {
        Captured {
            keep,
            ..Captured::default()
        }
    }

    fn push(&mut self, chunk: &str) {
        self.text.push_str(chunk);
        if self.text.len() > self.keep {
            let mut cut = self.text.len() - self.keep;
            while !self.text.is_char_boundary(cut) {
                cut += 1;
            }
            self.dropped += cut;
            self.text.drain(..cut);
        }
    }

    /// The kept text, safe for a terminal (escapes made visible).
    pub fn shown(&self) -> String {
        let mut out = String::new();
        if self.dropped > 0 {
            out.push_str(&format!(
                "[… {} bytes before this were not kept]\n",
                self.dropped
            ));
        }
        out.push_str(&crate::text::sanitize(&self.text.replace("\r\n", "\n")));
        out
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty() && self.dropped == 0
    }
}

/// How the script's process ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptEnd {
    /// Still running.
    Running,
    /// It exited: its code (SystemExit honoured) and an uncaught exception's traceback.
    Exited {
        code: i32,
        traceback: Option<String>,
    },
    /// The process ended without the tracer's last word: killed by a signal, `os._exit`, or a
    /// Python that could not run the tracer.
    Died { status: String },
    /// Stopped at `--timeout`.
    TimedOut(Duration),
    /// Stopped on request (`s`, Esc, Ctrl-C, leaving).
    Stopped,
    /// The channel broke the contract: the script was stopped; the reason names the line.
    Refused(String),
}

impl ScriptEnd {
    /// One line for the status bar and the command line.
    pub fn describe(&self) -> String {
        match self {
            ScriptEnd::Running => "running".into(),
            ScriptEnd::Exited { code: 0, .. } => "the script exited normally (code 0)".into(),
            ScriptEnd::Exited {
                code,
                traceback: Some(_),
            } => format!("the script raised an uncaught exception (exit code {code})"),
            ScriptEnd::Exited { code, .. } => format!("the script exited with code {code}"),
            ScriptEnd::Died { status } => format!("the script's process ended: {status}"),
            ScriptEnd::TimedOut(d) => format!(
                "the script did not finish within {} and was stopped, with everything it \
                 started (--timeout SECONDS to give it longer)",
                fmt_secs(*d)
            ),
            ScriptEnd::Stopped => "stopped: the script and everything it started ended".into(),
            ScriptEnd::Refused(why) => {
                format!("stopped: asyncdojo could not read the tracer's channel: {why}")
            }
        }
    }

    /// Did the script succeed?
    pub fn ok(&self) -> bool {
        matches!(
            self,
            ScriptEnd::Exited {
                code: 0,
                traceback: None
            }
        )
    }
}

fn fmt_secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.1} s")
    }
}

/// What the script said and how it ended, beside its runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptOutput {
    pub stdout: Captured,
    pub stderr: Captured,
    /// The tracer's lines about what it could not follow, sanitised.
    pub notes: Vec<String>,
    /// The user files the runs point into (index 0: the script), as shown.
    pub files: Vec<String>,
    pub end: ScriptEnd,
}

impl Default for ScriptOutput {
    fn default() -> ScriptOutput {
        ScriptOutput {
            stdout: Captured::new(STDOUT_KEEP),
            stderr: Captured::new(STDERR_KEEP),
            notes: Vec::new(),
            files: Vec::new(),
            end: ScriptEnd::Running,
        }
    }
}

impl ScriptOutput {
    /// The traceback of an uncaught exception, if the script raised one.
    pub fn traceback(&self) -> Option<&str> {
        match &self.end {
            ScriptEnd::Exited { traceback, .. } => traceback.as_deref(),
            _ => None,
        }
    }

    fn note(&mut self, text: &str) {
        if self.notes.len() < MAX_NOTES {
            self.notes.push(one_line(text, NOTE_KEEP));
        } else if self.notes.len() == MAX_NOTES {
            self.notes.push(format!(
                "more than {MAX_NOTES} notes: the rest were not kept"
            ));
        }
    }
}

/// One message of the channel.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
enum Message {
    Stdout(String),
    Live(Box<Document<'static>>),
    Run(Box<Document<'static>>),
    Files(Vec<String>),
    Note(String),
    Exit(Exit),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Exit {
    code: i32,
    #[serde(default)]
    error: Option<String>,
}

/// What the channel has told so far.
#[derive(Debug)]
struct State {
    start: ScriptStart,
    /// Where relative paths are shown from.
    here: Option<PathBuf>,
    sources: Vec<Source>,
    runs: Vec<Run>,
    /// Runs past `MAX_RUNS`, counted.
    runs_dropped: usize,
    live: Option<Run>,
    output: ScriptOutput,
    /// Lines of the channel read (the next line's number is this + 1).
    lines: u64,
    /// Set once the channel said `exit`.
    exited: bool,
    /// Goes up when the runs change (not for output alone: copying a 10,000-task run for each
    /// line a script prints would be waste).
    runs_version: u64,
}

impl State {
    fn new(start: ScriptStart) -> State {
        State {
            start,
            here: std::env::current_dir().ok(),
            sources: Vec::new(),
            runs: Vec::new(),
            runs_dropped: 0,
            live: None,
            output: ScriptOutput::default(),
            lines: 0,
            exited: false,
            runs_version: 0,
        }
    }

    /// Every run so far, the one in progress last.
    fn all_runs(&self) -> Vec<Run> {
        self.runs.iter().chain(&self.live).cloned().collect()
    }

    /// Take one line of the channel. `Err` names the line and what was wrong with it: the
    /// channel is then not to be trusted any further.
    fn take_line(&mut self, line: &[u8]) -> Result<(), String> {
        self.lines += 1;
        let n = self.lines;
        let at = |why: String| format!("line {n}: {why}");
        let text = std::str::from_utf8(line).map_err(|_| at("not UTF-8".into()))?;
        let text = text.trim_end_matches(['\r', '\n']);
        if text.trim().is_empty() {
            return Ok(());
        }
        if self.exited {
            return Err(at("a message after `exit`".into()));
        }
        let message: Message = match serde_json::from_str(text) {
            Ok(m) => m,
            Err(e) => return Err(at(explain(text, &e))),
        };
        match message {
            Message::Stdout(chunk) => self.output.stdout.push(&chunk),
            Message::Note(note) => self.output.note(&note),
            Message::Files(files) => self.files(files).map_err(at)?,
            Message::Live(doc) => {
                let run = self.run_of(*doc, false).map_err(at)?;
                self.live = Some(run);
                self.runs_version += 1;
            }
            Message::Run(doc) => {
                let run = self.run_of(*doc, true).map_err(at)?;
                self.live = None;
                self.runs_version += 1;
                if self.runs.len() < MAX_RUNS {
                    self.runs.push(run);
                } else {
                    if self.runs_dropped == 0 {
                        self.output.note(&format!(
                            "the script ran asyncio more than {MAX_RUNS} times: asyncdojo keeps \
                             the first {MAX_RUNS} runs"
                        ));
                    }
                    self.runs_dropped += 1;
                }
            }
            Message::Exit(Exit { code, error }) => {
                self.exited = true;
                self.output.end = ScriptEnd::Exited {
                    code,
                    traceback: error.map(|e| tail_text(&e, TRACEBACK_KEEP)),
                };
            }
        }
        Ok(())
    }

    /// The files the `file` indices point into: each read from disk (bounded), in order.
    fn files(&mut self, files: Vec<String>) -> Result<(), String> {
        if files.len() > MAX_FILES {
            return Err(format!(
                "{} files named; asyncdojo shows at most {MAX_FILES}",
                files.len()
            ));
        }
        if files.len() < self.output.files.len() {
            return Err("the list of files shrank".into());
        }
        for (i, path) in files.iter().enumerate() {
            if let Some(known) = self.sources.get(i) {
                if self.output.files.get(i) != Some(path) {
                    return Err(format!("file {i} was renamed (was {})", known.file));
                }
                continue;
            }
            let shown = self.shown(path);
            self.sources.push(read_source(Path::new(path), &shown));
            self.output.files.push(path.clone());
        }
        Ok(())
    }

    /// A path as the code pane names it: from the current directory when under it.
    fn shown(&self, path: &str) -> String {
        let p = Path::new(path);
        let rel = self
            .here
            .as_deref()
            .and_then(|h| p.strip_prefix(h).ok())
            .map_or_else(|| p.display().to_string(), |r| r.display().to_string());
        crate::text::sanitize(&rel).into_owned()
    }

    /// A run document of one run, checked and made safe to show.
    fn run_of(&self, doc: Document<'static>, finished: bool) -> Result<Run, String> {
        let doc = doc.checked().map_err(|e| e.to_string())?;
        if doc.runtime != Runtimes::Asyncio {
            return Err(format!(
                "a run of runtime `{}` where `asyncio` was expected",
                doc.runtime.name()
            ));
        }
        let Ok([entry]) = <[_; 1]>::try_from(doc.runs) else {
            return Err("a message holds one run, not several or none".into());
        };
        let label = one_line(&entry.variant, 80);
        let total_ms = entry.total_ms;
        let error = entry.error.as_deref().map(|e| RunError::Twin {
            reason: one_line(e, NOTE_KEEP),
        });
        let mut timeline = entry.into_timeline();
        self.check_files(&timeline)?;
        make_safe(&mut timeline);
        if finished {
            // As every finished run of a demo gets them (`Run::finished`).
            timeline.add_ready_queue();
        }
        Ok(Run {
            label,
            origin: Origin::Script {
                path: self.start.shown_path(),
                args: self.start.args.clone(),
            },
            runtime: Runtime::Asyncio,
            clock: self.start.clock,
            sources: self.sources.clone(),
            timeline,
            total_ms: finished.then_some(total_ms),
            error,
        })
    }

    /// Every `file` index names a file the channel has listed.
    fn check_files(&self, t: &TimelineSnapshot) -> Result<(), String> {
        let known = self.sources.len().max(1) as u32;
        let bad = t
            .tasks
            .iter()
            .map(|x| x.file)
            .chain(t.marks.iter().map(|m| m.file))
            .chain(t.parks.iter().map(|p| p.file))
            .flatten()
            .find(|&f| f >= known);
        match bad {
            Some(f) => Err(format!(
                "a line in file {f}, but only {known} file(s) were named"
            )),
            None => Ok(()),
        }
    }

    /// The run in progress when the process ended: kept, with why it stopped.
    fn close_live(&mut self, why: &ScriptEnd) {
        if let Some(mut run) = self.live.take() {
            self.runs_version += 1;
            run.total_ms = Some(run.timeline.now_ms);
            run.timeline.add_ready_queue();
            run.error = Some(match why {
                ScriptEnd::Stopped => RunError::Cancelled,
                other => RunError::Twin {
                    reason: other.describe(),
                },
            });
            if self.runs.len() < MAX_RUNS {
                self.runs.push(run);
            }
        }
    }
}

/// Why a line is not a message, said plainly; for a run document, what is wrong with it.
fn explain(text: &str, err: &serde_json::Error) -> String {
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(text) {
        let keys: Vec<&str> = map.keys().map(String::as_str).collect();
        match keys.as_slice() {
            [key @ ("live" | "run")] => {
                if let Err(e) = Document::from_json(&map[*key].to_string()) {
                    return format!("a `{key}` run document asyncdojo cannot read: {e}");
                }
            }
            [_] => {}
            _ => {
                return format!("a message has exactly one key, this one has {}", keys.len());
            }
        }
        return format!(
            "not a message asyncdojo knows: {}",
            one_line(&err.to_string(), 200)
        );
    }
    format!("not JSON: {}", one_line(&err.to_string(), 200))
}

/// Names, details, labels and places made safe for a terminal.
fn make_safe(t: &mut TimelineSnapshot) {
    fn fix(s: &mut String) {
        if let std::borrow::Cow::Owned(clean) = crate::text::sanitize(s) {
            *s = clean;
        }
    }
    for task in &mut t.tasks {
        fix(&mut task.name);
        fix(&mut task.detail);
    }
    for mark in &mut t.marks {
        if let std::borrow::Cow::Owned(clean) = crate::text::sanitize(&mark.label) {
            mark.label = clean.into();
        }
    }
    for park in &mut t.parks {
        if let Some(w) = &mut park.within {
            fix(w);
        }
    }
}

/// `text` on one line (line breaks as spaces), sanitised, at most `max` bytes.
fn one_line(text: &str, max: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    let clean = crate::text::sanitize(&flat).into_owned();
    if clean.len() <= max {
        return clean;
    }
    let mut cut = max;
    while !clean.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &clean[..cut])
}

/// The end of `text`, at most `keep` bytes (cut on a line), sanitised.
fn tail_text(text: &str, keep: usize) -> String {
    let text = text.trim_end();
    let cut = if text.len() > keep {
        let mut at = text.len() - keep;
        while !text.is_char_boundary(at) {
            at += 1;
        }
        let rest = &text[at..];
        rest.find('\n').map_or(rest, |i| &rest[i + 1..])
    } else {
        text
    };
    crate::text::sanitize(&cut.replace("\r\n", "\n")).into_owned()
}

/// A user file as the code pane shows it: read from disk, at most `MAX_SOURCE` bytes, escapes
/// made visible. One that cannot be read says so in its place (its lines then point nowhere).
fn read_source(path: &Path, shown: &str) -> Source {
    let text = match read_bounded(path) {
        Ok(text) => crate::text::sanitize(&text.replace("\r\n", "\n")).into_owned(),
        Err(why) => format!("# asyncdojo could not read {shown}: {why}\n"),
    };
    Source::new(shown, Language::Python, text)
}

fn read_bounded(path: &Path) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a file".into());
    }
    if meta.len() > MAX_SOURCE {
        return Err(format!(
            "{} bytes, more than the {} MiB asyncdojo shows",
            meta.len(),
            MAX_SOURCE / (1024 * 1024)
        ));
    }
    let mut bytes = Vec::new();
    file.take(MAX_SOURCE)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Reads one line of at most `MAX_LINE` bytes (without its newline); `Ok(None)` at the end.
/// A longer line is an error: what is read of it is dropped, nothing more is read.
fn read_line(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Option<()>> {
    buf.clear();
    loop {
        let available = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok((!buf.is_empty()).then_some(()));
        }
        let (used, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        let take = if done { used - 1 } else { used };
        if buf.len() + take > max {
            buf.clear();
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("a line longer than {} MiB", max / (1024 * 1024)),
            ));
        }
        buf.extend_from_slice(&available[..take]);
        reader.consume(used);
        if done {
            return Ok(Some(()));
        }
    }
}

/// A traced script going on: the third kind of [`RunHandle`], beside a demo on tokio and its
/// twin. A thread owns the process; the handle shares what the channel said.
pub struct ScriptHandle {
    state: Arc<Mutex<State>>,
    version: Arc<AtomicU64>,
    cancel: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for ScriptHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptHandle").finish_non_exhaustive()
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // A panic while holding it leaves plain data behind: still worth showing.
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl ScriptHandle {
    /// Check the file and the interpreter, then start the script on a thread of its own.
    pub fn start(start: ScriptStart, python: &Python) -> Result<ScriptHandle, ScriptError> {
        let shown = start.shown_path();
        let meta =
            std::fs::metadata(&start.path).map_err(|_| ScriptError::Missing(shown.clone()))?;
        if !meta.is_file() {
            return Err(ScriptError::NotAFile(shown));
        }
        python.probe().map_err(python_problem)?;
        let args = serde_json::json!({
            "args": start.args,
            "clock": start.clock.name(),
            "live_ms": 200,
        });
        let tracer = asyncio::tracer_source();
        let mut cmd = Command::new(&python.program);
        // No `-I`: the script may need its own sys.path and site-packages. `-B`: no bytecode
        // files written beside it.
        cmd.arg("-B")
            .arg("-c")
            .arg(BOOT)
            .arg(tracer.len().to_string())
            // As the learner wrote it: `sys.argv[0]` is what `python3 SCRIPT` would give (the
            // interpreter runs in the same directory).
            .arg(&start.path)
            .arg(args.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            // Its own process group: stopping it ends everything it started.
            cmd.process_group(0);
        }
        let mut child = cmd.spawn().map_err(|err| ScriptError::Spawn {
            python: python.describe(),
            err,
        })?;
        let state = Arc::new(Mutex::new(State::new(start.clone())));
        let version = Arc::new(AtomicU64::new(0));
        let cancel = Arc::new(AtomicBool::new(false));
        let spawned = std::thread::Builder::new()
            .name("trace-script".into())
            .spawn({
                let (state, version, cancel) = (
                    Arc::clone(&state),
                    Arc::clone(&version),
                    Arc::clone(&cancel),
                );
                let python = python.describe();
                move || supervise(&mut child, &start, &python, &state, &version, &cancel)
            });
        let thread = match spawned {
            Ok(t) => t,
            Err(err) => {
                return Err(ScriptError::Spawn {
                    python: python.describe(),
                    err,
                });
            }
        };
        Ok(ScriptHandle {
            state,
            version,
            cancel,
            thread: Some(thread),
        })
    }

    /// A way to stop the script from elsewhere (a signal handler's thread), as `cancel` does.
    pub fn stopper(&self) -> impl Fn() + Send + Sync + 'static {
        let cancel = Arc::clone(&self.cancel);
        move || cancel.store(true, Ordering::Relaxed)
    }

    /// What the script said so far, and how it ended (`Running` until it has).
    pub fn output(&self) -> ScriptOutput {
        lock(&self.state).output.clone()
    }
}

impl RunHandle for ScriptHandle {
    fn runs(&self) -> Vec<Run> {
        lock(&self.state).all_runs()
    }

    fn version(&self) -> u64 {
        lock(&self.state).runs_version
    }

    fn output_version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    fn script_output(&self) -> Option<ScriptOutput> {
        Some(self.output())
    }

    fn wait(mut self: Box<Self>) -> Finished {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let s = lock(&self.state);
        let runs = s.runs.clone();
        let output = s.output.clone();
        drop(s);
        let error = match &output.end {
            ScriptEnd::Stopped => Some(RunError::Cancelled),
            ScriptEnd::TimedOut(_) | ScriptEnd::Refused(_) | ScriptEnd::Died { .. } => {
                Some(RunError::Twin {
                    reason: output.end.describe(),
                })
            }
            _ => runs.iter().find_map(|r| r.error.clone()),
        };
        Finished {
            runs,
            error,
            script: Some(output),
            ..Finished::default()
        }
    }
}

impl Drop for ScriptHandle {
    fn drop(&mut self) {
        self.cancel();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The thread that owns the process: feeds it the tracer, reads the channel and stderr, and
/// ends it (stopped, timed out, or done), its whole process group with it.
fn supervise(
    child: &mut Child,
    start: &ScriptStart,
    python: &str,
    state: &Mutex<State>,
    version: &AtomicU64,
    cancel: &AtomicBool,
) {
    let bump = || version.fetch_add(1, Ordering::AcqRel);
    let (hold_stdin, released) = std::sync::mpsc::channel::<()>();
    if let Some(mut stdin) = child.stdin.take() {
        let tracer = asyncio::tracer_source();
        let _ = std::thread::Builder::new()
            .name("trace-stdin".into())
            .spawn(move || {
                // Then held open until the script is to stop: the tracer exits when it closes.
                if stdin
                    .write_all(tracer.as_bytes())
                    .and_then(|()| stdin.flush())
                    .is_ok()
                {
                    let _ = released.recv();
                }
            });
    }
    let mut hold_stdin = Some(hold_stdin);

    // The channel is read on its own thread; lines come here in order.
    let (line_tx, line_rx) = std::sync::mpsc::sync_channel::<Result<Vec<u8>, String>>(64);
    if let Some(stdout) = child.stdout.take() {
        let _ = std::thread::Builder::new()
            .name("trace-channel".into())
            .spawn(move || {
                let mut reader = BufReader::with_capacity(1 << 16, stdout);
                let mut buf = Vec::new();
                loop {
                    let sent = match read_line(&mut reader, &mut buf, MAX_LINE) {
                        Ok(Some(())) => line_tx.send(Ok(std::mem::take(&mut buf))),
                        Ok(None) => break,
                        Err(e) => {
                            let _ = line_tx.send(Err(e.to_string()));
                            break;
                        }
                    };
                    if sent.is_err() {
                        break;
                    }
                }
            });
    }
    let stderr_done = child.stderr.take().map(|mut stderr| {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let state_for_err = StderrSink::new();
        let sink = state_for_err.clone();
        let _ = std::thread::Builder::new()
            .name("trace-stderr".into())
            .spawn(move || {
                let mut buf = [0_u8; 8192];
                while let Ok(n) = stderr.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    sink.push(&buf[..n]);
                }
                let _ = tx.send(());
            });
        (state_for_err, rx)
    });
    let sync_stderr = |state: &Mutex<State>| {
        if let Some((sink, _)) = &stderr_done
            && let Some(text) = sink.take()
        {
            lock(state).output.stderr.push(&text);
            bump();
        }
    };

    let started = Instant::now();
    let ending: ScriptEnd = loop {
        let stop = if cancel.load(Ordering::Relaxed) {
            Some(ScriptEnd::Stopped)
        } else if started.elapsed() >= start.timeout {
            Some(ScriptEnd::TimedOut(start.timeout))
        } else {
            None
        };
        if let Some(why) = stop {
            stop_now(child, &mut hold_stdin);
            break why;
        }
        sync_stderr(state);
        let left = start.timeout.saturating_sub(started.elapsed());
        match line_rx.recv_timeout(left.min(Duration::from_millis(20))) {
            Ok(Ok(line)) => {
                let taken = lock(state).take_line(&line);
                bump();
                if let Err(why) = taken {
                    stop_now(child, &mut hold_stdin);
                    break ScriptEnd::Refused(why);
                }
            }
            Ok(Err(why)) => {
                let n = lock(state).lines + 1;
                stop_now(child, &mut hold_stdin);
                break ScriptEnd::Refused(format!("line {n}: {why}"));
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                // The channel closed: the process is ending. Give it until the deadline.
                break match exit_by(child, started + start.timeout, cancel) {
                    Some(status) => ScriptEnd::Died {
                        status: describe_status(status),
                    },
                    None if cancel.load(Ordering::Relaxed) => {
                        stop_now(child, &mut hold_stdin);
                        ScriptEnd::Stopped
                    }
                    None => {
                        stop_now(child, &mut hold_stdin);
                        ScriptEnd::TimedOut(start.timeout)
                    }
                };
            }
        }
    };
    drop(hold_stdin);
    // Whatever it left behind in its group goes with it; then reap.
    crate::demo::process_group::kill(child);
    let _ = child.wait();
    if let Some((_, done)) = &stderr_done {
        // A grandchild holding stderr open was killed with the group: this is quick.
        let _ = done.recv_timeout(Duration::from_millis(500));
    }
    sync_stderr(state);
    let mut s = lock(state);
    // The tracer's `exit` is the script's own word on how it ended, even when asyncdojo was
    // stopping it meanwhile.
    if !s.exited {
        s.output.end = ending;
        // Died before the tracer said anything: an old Python says why on stderr.
        if let ScriptEnd::Died { .. } = s.output.end
            && let Some(found) = too_old(&s.output.stderr.text)
        {
            s.output.end = ScriptEnd::Died {
                status: format!(
                    "{python} is Python {found}; `asyncdojo trace` needs Python {}.{} or later",
                    asyncio::MIN_VERSION.0,
                    asyncio::MIN_VERSION.1
                ),
            };
        }
    }
    let end = s.output.end.clone();
    s.close_live(&end);
    drop(s);
    bump();
}

fn describe_status(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return format!("killed by signal {sig}");
        }
    }
    match status.code() {
        Some(code) => format!("exit code {code}, without the tracer's last word (see stderr)"),
        None => status.to_string(),
    }
}

fn too_old(stderr: &str) -> Option<String> {
    stderr.lines().find_map(|l| {
        l.strip_prefix("ASYNCDOJO_PYTHON_TOO_OLD ")
            .map(|v| v.trim().to_owned())
    })
}

/// stderr bytes gathered on the reader thread, handed over as text.
#[derive(Clone)]
struct StderrSink(Arc<Mutex<Vec<u8>>>);

impl StderrSink {
    fn new() -> StderrSink {
        StderrSink(Arc::new(Mutex::new(Vec::new())))
    }

    fn push(&self, bytes: &[u8]) {
        let mut b = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        b.extend_from_slice(bytes);
        // Only the end is kept anyway: never hold much more than that.
        if b.len() > 2 * STDERR_KEEP {
            let cut = b.len() - STDERR_KEEP;
            b.drain(..cut);
        }
    }

    /// What arrived since the last call, up to a whole UTF-8 character.
    fn take(&self) -> Option<String> {
        let mut b = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if b.is_empty() {
            return None;
        }
        let whole = match std::str::from_utf8(&b) {
            Ok(_) => b.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => b.len(),
        };
        if whole == 0 {
            return None;
        }
        let text = String::from_utf8_lossy(&b[..whole]).into_owned();
        b.drain(..whole);
        Some(text)
    }
}

/// Ask the script to stop (stdin closed: the tracer cancels the run, so its clean-up runs), give
/// it a moment, then kill its process group.
fn stop_now(child: &mut Child, hold_stdin: &mut Option<std::sync::mpsc::Sender<()>>) {
    drop(hold_stdin.take());
    let until = Instant::now() + STOP_GRACE;
    let mut pause = Duration::from_millis(1);
    while matches!(child.try_wait(), Ok(None)) && Instant::now() < until {
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
    crate::demo::process_group::kill(child);
}

/// Wait for the process to exit until `until`; `None` if it has not (or the run was cancelled).
fn exit_by(child: &mut Child, until: Instant, cancel: &AtomicBool) -> Option<ExitStatus> {
    let mut pause = Duration::from_micros(200);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) => {}
            Err(_) => return None,
        }
        if cancel.load(Ordering::Relaxed) || Instant::now() >= until {
            return None;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(10));
    }
}

#[cfg(test)]
mod tests;
