//! The command line: clap definitions and the headless commands.

pub mod ascii_timeline;
mod demo_commands;
mod lesson_text;
mod run_twin;
mod trace;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::lesson::validate::DemoCatalog;
use crate::lesson::{self, LessonSet};

use demo_commands::{demos_json, natural_clock, print_demos, run_demo, terminal_width};
pub use lesson_text::print_lesson;
use lesson_text::{print_list, print_list_json};

#[derive(Debug, Parser)]
#[command(
    name = "asyncdojo",
    version,
    about = "Learn async programming by watching it run",
    long_about = "Learn async programming by watching it run.\n\n\
        Sixteen interview questions and three code challenges on async Python, each with live \
        demos on an embedded tokio runtime drawn as per-task timelines.\n\n\
        Run without a command to open the app."
)]
pub struct Cli {
    /// Load lessons from this directory instead of the set built into the binary
    #[arg(long, global = true, value_name = "DIR")]
    pub lessons: Option<PathBuf>,

    /// Serve the tokio-console protocol so `tokio-console` can watch the demos' tasks
    #[arg(long, global = true)]
    pub console: bool,

    /// Where progress is kept (default: $ASYNCDOJO_DATA, else the platform's data directory)
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// The Python the asyncio twins and traced scripts run on, in the app, practice, `run` and
    /// `trace` (default:
    /// $ASYNCDOJO_PYTHON, else python3); a relative path is from the current directory
    #[arg(long, global = true, value_name = "PATH")]
    pub python: Option<PathBuf>,

    /// Where to serve tokio-console (loopback only)
    #[arg(long, global = true, value_name = "ADDR", default_value = crate::console::DEFAULT_ADDR)]
    pub console_addr: std::net::SocketAddr,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the lessons in the guide's order
    List {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Show one lesson as text (highlighted on a terminal, plain in a pipe)
    Show {
        /// Lesson id (q05-concurrent-http) or number (5, q5, c1)
        lesson: String,
        /// Print only the lesson's model code, to save and trace: `show 5 --code python > q05.py`
        /// (python: the asyncio program its demo runs)
        #[arg(long, value_enum, value_name = "LANGUAGE")]
        code: Option<CodeArg>,
    },
    /// Show progress: lessons read, quiz results, what is due, streaks
    Stats,
    /// Work through the items due for review (opens the app on the review queue)
    Review,
    /// Validate lesson files; print every problem as FILE:LINE:COL: field: message
    Check {
        /// Directory to check (default: the lessons built into the binary)
        dir: Option<PathBuf>,
    },
    /// List the demos with their parameters, defaults, ranges, variants and clocks
    Demos {
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Run a demo headless and print its timeline
    Run {
        /// Demo id (see `asyncdojo demos`)
        demo: String,
        /// Variant to run; repeat to compare several side by side (default: the demo's own choice)
        #[arg(long = "variant", value_name = "V")]
        variants: Vec<String>,
        /// Set a parameter, e.g. --set latencies_ms=100,200,300 (repeatable)
        #[arg(long = "set", value_name = "NAME=VALUE")]
        sets: Vec<String>,
        /// virtual: tokio's paused clock, exact and instant; real: the wall clock
        /// (default: virtual where every chosen variant supports it, else real)
        #[arg(long, value_enum)]
        clock: Option<ClockArg>,
        /// Print the run document as JSON instead of a timeline
        #[arg(long)]
        json: bool,
        /// Also write the run in Chrome trace-event format (opens in Perfetto)
        #[arg(long, value_name = "FILE")]
        trace: Option<PathBuf>,
        /// Width of the text timeline in columns (default: the terminal's, or 100)
        #[arg(long, value_name = "COLUMNS")]
        width: Option<usize>,
        /// tokio: the Rust demo; asyncio: its Python twin on python3 (3.11+); both: each variant
        /// on both, on one time axis
        #[arg(long, value_enum, default_value = "tokio")]
        runtime: crate::demo::asyncio::RunOn,
    },
    /// Trace your own asyncio program: run SCRIPT on your Python and draw its tasks
    #[command(
        long_about = "Trace your own asyncio program: run SCRIPT on your Python (3.11+) \
        under asyncdojo's tracer and draw every task's life beside your code.\n\n\
        Only the file you name is run, unmodified, with your own rights, in the current \
        directory, with the ARGS after `--`. On a terminal it opens the app (o: the script's \
        output, r: re-run, s/Esc: stop); in a pipe or with --text it prints the timeline. The \
        script's own stdout and stderr are printed after the timeline, never mixed with it."
    )]
    Trace {
        /// The Python file to run
        script: PathBuf,
        /// Arguments for the script, after `--`
        #[arg(last = true, value_name = "ARGS")]
        args: Vec<String>,
        /// Print the run document as JSON (the script's output then goes to stderr)
        #[arg(long)]
        json: bool,
        /// Also write the runs in Chrome trace-event format (opens in Perfetto); prints the text
        /// timeline rather than opening the app
        #[arg(long, value_name = "FILE")]
        trace: Option<PathBuf>,
        /// real: the wall clock (default); virtual: timers jump, exact and instant
        #[arg(long, value_enum, default_value = "real")]
        clock: ClockArg,
        /// Print the text timeline even on a terminal (the default in a pipe)
        #[arg(long)]
        text: bool,
        /// Stop the script, and everything it started, after this many seconds
        #[arg(long, value_name = "SECONDS", default_value = "60", value_parser = trace::parse_timeout)]
        timeout: std::time::Duration,
        /// Width of the text timeline in columns (default: the terminal's, or 100)
        #[arg(long, value_name = "COLUMNS")]
        width: Option<usize>,
    },
}

/// `show --code LANGUAGE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CodeArg {
    Python,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ClockArg {
    Virtual,
    Real,
}

impl From<ClockArg> for crate::demo::Clock {
    fn from(c: ClockArg) -> Self {
        match c {
            ClockArg::Virtual => crate::demo::Clock::Virtual,
            ClockArg::Real => crate::demo::Clock::Real,
        }
    }
}

/// Runs a headless command. Exit codes: 0 success, 1 the thing asked for failed, 2 usage errors.
pub fn run(mut cli: Cli, catalog: &(dyn DemoCatalog + Sync)) -> anyhow::Result<ExitCode> {
    // Once, before anything runs a twin: every part of the process uses this interpreter.
    let python = crate::demo::asyncio::Python::choose_for_process(cli.python.as_deref()).clone();
    let Some(command) = cli.command.take() else {
        // Bare `asyncdojo` is the app on a terminal; in a pipe, the lesson list.
        if std::io::stdout().is_terminal() && std::io::stdin().is_terminal() {
            let set = load(cli.lessons.as_deref(), catalog)?;
            crate::tui::run(set, tui_options(&cli, false))?;
            return Ok(ExitCode::SUCCESS);
        }
        return run(
            Cli {
                command: Some(Command::List { json: false }),
                ..cli
            },
            catalog,
        );
    };
    match command {
        Command::Stats => {
            let set = load(cli.lessons.as_deref(), catalog)?;
            let opened = open_progress(cli.data_dir.as_deref());
            let now = crate::progress::Moment::now();
            let stats = crate::practice::stats(&set.lessons, &opened.progress, &now);
            write!(std::io::stdout().lock(), "{stats}")?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Review => {
            let set = load(cli.lessons.as_deref(), catalog)?;
            if std::io::stdout().is_terminal() && std::io::stdin().is_terminal() {
                crate::tui::run(set, tui_options(&cli, true))?;
                return Ok(ExitCode::SUCCESS);
            }
            // In a pipe: the queue itself, so scripts can see what is due.
            let opened = open_progress(cli.data_dir.as_deref());
            let now = crate::progress::Moment::now();
            let queue = crate::practice::review_queue(&set.lessons, &opened.progress, &now, 10);
            let mut out = std::io::stdout().lock();
            for entry in &queue {
                writeln!(out, "{:?}\t{}", entry.reason, entry.key)?;
            }
            writeln!(
                out,
                "{} item(s) to review; run `asyncdojo review` in a terminal to start",
                queue.len()
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demos { json } => {
            let mut out = std::io::stdout().lock();
            if json {
                serde_json::to_writer_pretty(&mut out, &demos_json())?;
                writeln!(out)?;
            } else {
                print_demos(&mut out)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Run {
            demo,
            variants,
            sets,
            clock,
            json,
            trace,
            width,
            runtime,
        } => {
            if cli.console {
                serve_console_headless(cli.console_addr);
            }
            if runtime != crate::demo::asyncio::RunOn::Tokio {
                let how = run_twin::How {
                    both: runtime == crate::demo::asyncio::RunOn::Both,
                    python,
                    json,
                    trace,
                    width: width.unwrap_or_else(terminal_width).clamp(40, 400),
                };
                let clock =
                    clock.map_or_else(|| natural_clock(&demo, &variants), crate::demo::Clock::from);
                return run_twin::run(&demo, &variants, &sets, clock, &how);
            }
            run_demo(&demo, &variants, &sets, clock, json, trace, width)
        }
        Command::Check { dir } => check(dir.or(cli.lessons), catalog),
        Command::List { json } => {
            let set = load(cli.lessons.as_deref(), catalog)?;
            report_problems(&set);
            let mut out = std::io::stdout().lock();
            if json {
                print_list_json(&set, &mut out)?;
            } else {
                print_list(&set, &mut out)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Trace {
            script,
            args,
            json,
            trace,
            clock,
            text,
            timeout,
            width,
        } => {
            let clock = crate::demo::Clock::from(clock);
            let on_terminal = std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
            if on_terminal && !json && !text && trace.is_none() {
                let start = crate::demo::script::ScriptStart {
                    clock,
                    timeout,
                    ..crate::demo::script::ScriptStart::new(script, args)
                };
                return crate::tui::run_script(start, python);
            }
            let how = trace::How {
                python,
                clock,
                timeout,
                json,
                trace,
                width: width.unwrap_or_else(terminal_width).clamp(40, 400),
            };
            trace::run(script, args, &how)
        }
        Command::Show { lesson, code } => {
            let set = load(cli.lessons.as_deref(), catalog)?;
            report_problems(&set);
            let Some(found) = set.find(&lesson) else {
                eprintln!(
                    "error: no lesson named `{}`; `asyncdojo list` shows the ids and numbers",
                    crate::text::sanitize(&lesson)
                );
                return Ok(ExitCode::from(2));
            };
            if code == Some(CodeArg::Python) {
                let Some(model) = crate::demo::source::model_python(found) else {
                    eprintln!(
                        "error: lesson {} has no model Python to save",
                        found.label()
                    );
                    return Ok(ExitCode::from(1));
                };
                std::io::stdout().lock().write_all(model.text.as_bytes())?;
                return Ok(ExitCode::SUCCESS);
            }
            let styled = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            let mut out = std::io::stdout().lock();
            print_lesson(found, styled, &mut out)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn tui_options(cli: &Cli, review: bool) -> crate::tui::Options {
    crate::tui::Options {
        console: cli.console.then_some(cli.console_addr),
        data_dir: crate::progress::resolve_data_dir(cli.data_dir.as_deref()),
        review,
    }
}

/// Saved progress for the headless commands; warnings (a file set aside) go to stderr.
fn open_progress(flag: Option<&std::path::Path>) -> crate::progress::Opened {
    let Some(dir) = crate::progress::resolve_data_dir(flag) else {
        eprintln!("warning: no data directory found; showing empty progress (use --data-dir)");
        return crate::progress::Store::open(std::env::temp_dir().join("asyncdojo-no-data-dir"));
    };
    let opened = crate::progress::Store::open(dir);
    for w in &opened.warnings {
        eprintln!("warning: {w}");
    }
    opened
}

fn load(
    dir: Option<&std::path::Path>,
    catalog: &(dyn DemoCatalog + Sync),
) -> anyhow::Result<LessonSet> {
    match dir {
        Some(dir) => Ok(lesson::load_dir(dir, catalog)?),
        None => Ok(lesson::load_embedded(catalog)),
    }
}

/// A bad file never hides the good ones: say what was left out, on stderr, and go on.
fn report_problems(set: &LessonSet) {
    if set.problems.is_empty() {
        return;
    }
    for p in &set.problems {
        eprintln!("{}", crate::text::sanitize(&p.to_string()));
    }
    eprintln!(
        "warning: {} problem(s); lessons with problems were left out (`asyncdojo check` lists them)",
        set.problems.len()
    );
}

fn check(dir: Option<PathBuf>, catalog: &(dyn DemoCatalog + Sync)) -> anyhow::Result<ExitCode> {
    let set = match load(dir.as_deref(), catalog) {
        Ok(set) => set,
        Err(err) => {
            // With its cause (the OS error), once.
            eprintln!("error: {err:#}");
            return Ok(ExitCode::from(1));
        }
    };
    let mut out = std::io::stdout().lock();
    let where_ = dir.as_ref().map_or_else(
        || "built-in lessons".to_owned(),
        |d| d.display().to_string(),
    );
    // Not problems: what the snippet tests leave out, and why (lessons/README.md, "Running
    // snippets"). Printed first so the last line is always the verdict.
    for note in lesson::run_notes(&set, dir.as_deref()) {
        let line = format!(
            "{}:{}:{}: info: {}: {}",
            note.file, note.line, note.col, note.path, note.message
        );
        writeln!(out, "{}", crate::text::sanitize(&line))?;
    }
    let syntax_only: usize = set
        .lessons
        .iter()
        .map(lesson::run::unrun_spot_the_bug)
        .sum();
    if syntax_only > 0 {
        writeln!(
            out,
            "info: {syntax_only} Python spot-the-bug snippets are syntax-checked, not run: they are \
             buggy on purpose (`run.expect` runs one to show the failure it teaches)"
        )?;
    }
    if set.problems.is_empty() {
        let items: usize = set.lessons.iter().map(|l| l.quiz.len()).sum();
        writeln!(
            out,
            "ok: {} lessons, {} quiz items in {where_}, no problems",
            set.lessons.len(),
            items
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    for p in &set.problems {
        writeln!(out, "{}", crate::text::sanitize(&p.to_string()))?;
    }
    let bad_files: std::collections::BTreeSet<&str> =
        set.problems.iter().map(|p| p.file.as_str()).collect();
    writeln!(
        out,
        "{} problem(s) in {} of {} file(s) in {where_}",
        set.problems.len(),
        bad_files.len(),
        set.files
    )?;
    Ok(ExitCode::from(1))
}

/// `run --console`: serve, say where on stderr, and carry on without it if that fails.
fn serve_console_headless(addr: std::net::SocketAddr) {
    match crate::console::serve(addr, Box::new(|_| {})) {
        Ok(status) => eprintln!(
            "serving tokio-console on {} — run `tokio-console http://{}` in another terminal",
            status.addr, status.addr
        ),
        Err(err) => eprintln!("warning: {err}; running without tokio-console"),
    }
}
