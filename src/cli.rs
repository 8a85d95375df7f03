//! The command line: clap definitions and the headless commands.

pub mod ascii_timeline;
mod run_twin;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::lesson::validate::DemoCatalog;
use crate::lesson::{self, Lesson, LessonSet};

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
        runtime: RuntimeArg,
        /// The Python the asyncio twins run on (default: $ASYNCDOJO_PYTHON, else python3)
        #[arg(long, value_name = "PATH")]
        python: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RuntimeArg {
    Tokio,
    Asyncio,
    Both,
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
            python,
        } => {
            if cli.console {
                serve_console_headless(cli.console_addr);
            }
            if runtime != RuntimeArg::Tokio {
                let how = run_twin::How {
                    both: runtime == RuntimeArg::Both,
                    python: crate::demo::asyncio::Python::choose(python.as_deref()),
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
        Command::Show { lesson } => {
            let set = load(cli.lessons.as_deref(), catalog)?;
            report_problems(&set);
            let Some(found) = set.find(&lesson) else {
                eprintln!(
                    "error: no lesson named `{lesson}`; `asyncdojo list` shows the ids and numbers"
                );
                return Ok(ExitCode::from(2));
            };
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
            eprintln!("error: {err}");
            return Ok(ExitCode::from(1));
        }
    };
    let mut out = std::io::stdout().lock();
    let where_ = dir.map_or_else(
        || "built-in lessons".to_owned(),
        |d| d.display().to_string(),
    );
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

fn print_list(set: &LessonSet, out: &mut impl Write) -> std::io::Result<()> {
    let mut section = None;
    for l in &set.lessons {
        if section != Some(l.section) {
            if section.is_some() {
                writeln!(out)?;
            }
            writeln!(out, "{}", l.section.title())?;
            section = Some(l.section);
        }
        writeln!(
            out,
            "  {:<4} {:<28} {}",
            l.label(),
            l.id.0,
            crate::text::sanitize(&l.title)
        )?;
    }
    Ok(())
}

fn print_list_json(set: &LessonSet, out: &mut impl Write) -> anyhow::Result<()> {
    let rows: Vec<serde_json::Value> = set
        .lessons
        .iter()
        .map(|l| {
            serde_json::json!({
                "id": l.id,
                "label": l.label(),
                "kind": l.kind,
                "number": l.number,
                "section": l.section,
                "title": l.title,
                "demos": l.demos.iter().map(|d| d.demo.as_str()).collect::<Vec<_>>(),
                "quiz_items": l.quiz.len(),
            })
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &rows)?;
    writeln!(out)?;
    Ok(())
}

/// One lesson as readable text. Every piece of lesson text goes through `sanitize`, so even a
/// lesson loaded with `--lessons` cannot write escape sequences to the terminal.
pub fn print_lesson(l: &Lesson, styled: bool, out: &mut impl Write) -> std::io::Result<()> {
    use crate::text::sanitize as s;
    let heading = |out: &mut dyn Write, text: &str| -> std::io::Result<()> {
        if styled {
            writeln!(out, "\n\x1b[1;4m{text}\x1b[0m")
        } else {
            writeln!(out, "\n{text}\n{}", "-".repeat(text.chars().count()))
        }
    };
    let title = format!("{} · {}", l.label(), s(&l.title));
    if styled {
        writeln!(out, "\x1b[1m{title}\x1b[0m  ({})", l.section.title())?;
    } else {
        writeln!(
            out,
            "{title}\n{}\n({})",
            "=".repeat(title.chars().count()),
            l.section.title()
        )?;
    }
    heading(out, "Question")?;
    writeln!(out, "{}", s(l.question.trim_end()))?;
    heading(out, "Answer")?;
    writeln!(out, "{}", s(l.answer.trim_end()))?;
    heading(out, "Key points")?;
    for p in &l.key_points {
        writeln!(out, "- {}", s(p))?;
    }
    heading(out, "asyncio ↔ tokio")?;
    for row in &l.mapping {
        write!(out, "- {}  ↔  {}", s(&row.asyncio), s(&row.tokio))?;
        if row.note.is_empty() {
            writeln!(out)?;
        } else {
            writeln!(out, "  ({})", s(&row.note))?;
        }
    }
    for snippet in &l.code {
        let caption = if snippet.title.is_empty() {
            String::new()
        } else {
            format!(": {}", s(&snippet.title))
        };
        heading(out, &format!("Code ({}{caption})", snippet.language.name()))?;
        write_code(out, &snippet.source, snippet.language, styled)?;
    }
    if !l.demos.is_empty() {
        heading(out, "Demos")?;
        for d in &l.demos {
            let mut cmd = format!("asyncdojo run {}", d.demo);
            for v in &d.variants {
                cmd.push_str(&format!(" --variant {v}"));
            }
            for (k, v) in &d.params {
                cmd.push_str(&format!(" --set {k}={v}"));
            }
            writeln!(out, "- {}\n    {}", s(&d.caption), s(&cmd))?;
        }
    }
    for hunt in &l.spot_the_bug {
        let origin = match hunt.origin {
            lesson::BugOrigin::Guide => "from the interview guide: this code has bugs",
            lesson::BugOrigin::Original => "this code has bugs",
        };
        heading(out, &format!("Spot the bug: {} ({origin})", s(&hunt.title)))?;
        write_code(out, &hunt.code, hunt.language, styled)?;
        write_bugs_and_fix(out, hunt)?;
    }
    writeln!(
        out,
        "\n{} quiz item(s) and {} spot-the-bug exercise(s): practise them in the app.",
        l.quiz.len(),
        l.spot_the_bug.len()
    )?;
    Ok(())
}

/// The answer to a spot-the-bug exercise, after its code: `show` is read, not practised, so it
/// gives every bug (with the line numbers printed beside the code) and the fix.
fn write_bugs_and_fix(out: &mut dyn Write, hunt: &lesson::BugHunt) -> std::io::Result<()> {
    use crate::text::sanitize as s;
    writeln!(out, "\nBugs:")?;
    for bug in &hunt.bugs {
        let lines: Vec<String> = bug.lines.iter().map(u32::to_string).collect();
        let label = if lines.len() == 1 { "line" } else { "lines" };
        writeln!(
            out,
            "- {label} {}: {}",
            lines.join(", "),
            s(&bug.why.split_whitespace().collect::<Vec<_>>().join(" "))
        )?;
    }
    writeln!(out, "Fix: {}", s(hunt.fix.trim_end()))
}

fn write_code(
    out: &mut dyn Write,
    code: &str,
    language: lesson::Language,
    styled: bool,
) -> std::io::Result<()> {
    if styled {
        let lines = crate::highlight::highlight(code, language, crate::highlight::Palette::Dark);
        for (i, line) in crate::highlight::to_ansi(&lines).lines().enumerate() {
            writeln!(out, "\x1b[2m{:>3}\x1b[0m  {line}", i + 1)?;
        }
    } else {
        for (i, line) in code.lines().enumerate() {
            writeln!(out, "{:>3}  {}", i + 1, crate::text::sanitize(line))?;
        }
    }
    Ok(())
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

/// Without `--clock`: virtual when every variant asked for runs on it (exact and instant), else
/// real (the I/O demos, the blocking pool, a multi-threaded runtime).
fn natural_clock(demo: &str, variants: &[String]) -> crate::demo::Clock {
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

fn run_demo(
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
    let report = crate::demo::runner::run_blocking(req)?;
    if let Some(path) = trace {
        let doc = crate::demo::trace::to_chrome_trace(&report);
        std::fs::write(&path, serde_json::to_vec(&doc)?)
            .map_err(|e| anyhow::anyhow!("cannot write the trace to {}: {e}", path.display()))?;
    }
    let mut out = std::io::stdout().lock();
    if json {
        let doc = run_twin::WithRuntime {
            report: &report,
            runtime: crate::demo::asyncio::Runtime::Tokio,
        };
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
fn terminal_width() -> usize {
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

fn demos_json() -> serde_json::Value {
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

fn print_demos(out: &mut impl Write) -> std::io::Result<()> {
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
