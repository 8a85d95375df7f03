//! The script screen of `asyncdojo trace SCRIPT`: the demo layout (the code beside the timeline)
//! with the script's runs, drawn live while it runs; the script's captured stdout and stderr in an
//! overlay (`o`); `r` re-runs it (re-reading its files), `s`/Esc/Ctrl-C stop it. Plain state and
//! `key(...) -> ScriptEffect`, like the rest of `app`: the terminal loop (`tui::script`) performs
//! the effects and feeds the handle's news back.
//!
//! A script can run from several files: the code pane shows one (`f` steps through them), and
//! the time cursor ↔ line link follows the shown file only (the lines of the other files are
//! taken out of the index the link reads).

use super::key::{Key, KeyCode};
use super::lesson_screen::CodeMarks;
use super::run_view::{RunStatus, RunView};
use super::{Action, Palette};
use crate::demo::RunError;
use crate::demo::run::Run;
use crate::demo::script::{ScriptEnd, ScriptOutput};
use crate::demo::source::Source;
use crate::demo::timeline::TimelineSnapshot;

/// Which pane has the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptFocus {
    Code,
    Timeline,
}

/// What a key asks of the terminal loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptEffect {
    None,
    /// Stop the script (its whole process group).
    Stop,
    /// Stop it if it runs, and start it again.
    Rerun,
    /// Leave (the loop stops a running script first).
    Quit,
}

/// One row of the script screen's keys: the status line and the README are made from it.
pub struct ScriptKey {
    pub label: &'static str,
    pub help: &'static str,
    /// Shown in the status line.
    pub in_status: bool,
}

/// Every key of the script screen.
pub static SCRIPT_KEYS: &[ScriptKey] = &[
    ScriptKey {
        label: "s/Esc/Ctrl-C",
        help: "stop the script: it and everything it started end (when it has ended: leave)",
        in_status: true,
    },
    ScriptKey {
        label: "r",
        help: "run the script again (after you edit it)",
        in_status: true,
    },
    ScriptKey {
        label: "o",
        help: "the script's own stdout and stderr (↑/↓ scroll; printed again when you leave)",
        in_status: true,
    },
    ScriptKey {
        label: "f",
        help: "show the next of the script's files",
        in_status: false,
    },
    ScriptKey {
        label: "Tab",
        help: "code ⇄ timeline",
        in_status: false,
    },
    ScriptKey {
        label: "←/→ z/x [/] v ↑/↓",
        help: "timeline: step events, zoom, pan, next run, scroll lanes (as in a lesson)",
        in_status: false,
    },
    ScriptKey {
        label: "T",
        help: "dark ⇄ light theme",
        in_status: false,
    },
    ScriptKey {
        label: "q",
        help: "leave (stopping the script)",
        in_status: true,
    },
];

/// The README's table of the script screen's keys.
pub fn keys_markdown() -> String {
    let mut out = String::from("| Key | What it does |\n| --- | --- |\n");
    for k in SCRIPT_KEYS {
        out.push_str(&format!("| `{}` | {} |\n", k.label, k.help));
    }
    out
}

#[derive(Debug)]
pub struct ScriptScreen {
    /// The script as named on the command line, and its arguments (sanitised).
    pub title: String,
    pub run: RunView,
    /// The runs as the script made them (every file's lines): `run` holds them with only the
    /// shown file's lines once they end.
    all_runs: Vec<Run>,
    pub output: ScriptOutput,
    pub show_output: bool,
    pub output_scroll: usize,
    pub focus: ScriptFocus,
    pub code_scroll: usize,
    /// Index of the shown file in the runs' sources.
    pub file: usize,
    pub message: Option<String>,
    pub palette: Palette,
    pub no_color: bool,
    /// How many times it was started (the status line says "run 2 of the script").
    pub started: u32,
}

impl ScriptScreen {
    pub fn new(title: String, no_color: bool) -> ScriptScreen {
        ScriptScreen {
            title,
            run: RunView::running_on(crate::demo::asyncio::Runtime::Asyncio),
            all_runs: Vec::new(),
            output: ScriptOutput::default(),
            show_output: false,
            output_scroll: 0,
            focus: ScriptFocus::Timeline,
            code_scroll: 0,
            file: 0,
            message: None,
            palette: Palette::Dark,
            no_color,
            started: 1,
        }
    }

    pub fn is_running(&self) -> bool {
        self.run.status == RunStatus::Running
    }

    /// The script was started (again): a fresh timeline, the same file shown.
    pub fn restarted(&mut self) {
        self.run = RunView::running_on(crate::demo::asyncio::Runtime::Asyncio);
        self.all_runs.clear();
        self.output = ScriptOutput::default();
        self.output_scroll = 0;
        self.started += 1;
        self.message = Some(format!("running the script again (run {})", self.started));
    }

    /// It could not start: say why.
    pub fn not_started(&mut self, why: String) {
        self.run.finish(Vec::new(), None);
        self.message = Some(why);
    }

    /// News while it runs.
    pub fn progress(&mut self, runs: Vec<Run>, output: Option<ScriptOutput>) {
        self.all_runs.clone_from(&runs);
        self.run.progress(runs);
        if let Some(o) = output {
            self.output = o;
        }
    }

    /// It ended: the timeline can be scrubbed, the status line says how it ended.
    pub fn finished(&mut self, runs: Vec<Run>, error: Option<RunError>, output: ScriptOutput) {
        self.all_runs = runs;
        self.output = output;
        if self.file >= self.files() {
            self.file = 0;
        }
        let error = match error {
            // Stopped on request: the timeline is the finished one, the status line says so.
            Some(RunError::Cancelled) => None,
            e => e,
        };
        self.run.finish(self.runs_for_file(), error);
        let mut said = self.output.end.describe();
        if self.output.traceback().is_some() {
            said.push_str(" · o shows the traceback");
        } else if !self.output.stdout.is_empty() || !self.output.stderr.is_empty() {
            said.push_str(" · o shows its output");
        }
        if let Some(note) = self.output.notes.first() {
            said = format!("{said} · {note}");
        }
        self.message = Some(said);
    }

    /// Number of files the runs came from.
    pub fn files(&self) -> usize {
        self.all_runs.first().map_or(0, |r| r.sources.len())
    }

    /// The runs with only the shown file's lines: what the index behind the code link reads.
    fn runs_for_file(&self) -> Vec<Run> {
        let file = self.file as u32;
        self.all_runs
            .iter()
            .map(|r| Run {
                timeline: only_file(&r.timeline, file),
                ..r.clone()
            })
            .collect()
    }

    /// The shown source, if the runs named one yet.
    pub fn source(&self) -> Option<&Source> {
        self.run
            .shown_run()
            .or(self.all_runs.first())
            .and_then(|r| r.sources.get(self.file))
    }

    /// Does the code pane show the source the finished timeline links to?
    pub fn linked(&self) -> bool {
        self.source().is_some() && self.run.index().is_some()
    }

    /// What the code pane highlights for the time cursor.
    pub fn code_marks(&self) -> CodeMarks {
        let (Some(index), Some(i)) = (self.run.index(), self.run.event) else {
            return CodeMarks::default();
        };
        CodeMarks {
            event: index.event(i).and_then(|e| e.line),
            lanes: index.lanes_at(i),
        }
    }

    /// The output overlay's text: stdout, stderr, the traceback, the notes, how it ended.
    pub fn output_text(&self) -> String {
        let mut out = String::new();
        let o = &self.output;
        for (what, c) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
            out.push_str(&format!("── the script's {what} ──\n"));
            if c.is_empty() {
                out.push_str("(nothing)\n");
            } else {
                out.push_str(&c.shown());
                if !out.ends_with('\n') {
                    out.push('\n');
                }
            }
        }
        if let Some(tb) = o.traceback() {
            out.push_str("── the uncaught exception ──\n");
            out.push_str(tb);
            out.push('\n');
        }
        for note in &o.notes {
            out.push_str(&format!("note: {note}\n"));
        }
        if o.end != ScriptEnd::Running {
            out.push_str(&format!("── {} ──\n", o.end.describe()));
        }
        out
    }

    /// A key.
    pub fn key(&mut self, key: Key) -> ScriptEffect {
        self.message = None;
        let running = self.is_running();
        match (key.code, key.ctrl) {
            (KeyCode::Char('c'), true) | (KeyCode::Esc, false) | (KeyCode::Char('s'), false) => {
                if self.show_output && key.code == KeyCode::Esc {
                    self.show_output = false;
                    return ScriptEffect::None;
                }
                if running {
                    self.message = Some("stopping the script…".into());
                    return ScriptEffect::Stop;
                }
                if key.code == KeyCode::Char('s') {
                    self.message = Some("the script is not running: r runs it again".into());
                    return ScriptEffect::None;
                }
                return ScriptEffect::Quit;
            }
            (KeyCode::Char('q'), false) => return ScriptEffect::Quit,
            (KeyCode::Char('r'), false) => return ScriptEffect::Rerun,
            (KeyCode::Char('o'), false) => {
                self.show_output = !self.show_output;
                self.output_scroll = 0;
                return ScriptEffect::None;
            }
            (KeyCode::Char('T'), false) => {
                self.palette = match self.palette {
                    Palette::Dark => Palette::Light,
                    Palette::Light => Palette::Dark,
                };
                return ScriptEffect::None;
            }
            _ => {}
        }
        if self.show_output {
            let d: isize = match key.code {
                KeyCode::Up | KeyCode::Char('k') => -1,
                KeyCode::Down | KeyCode::Char('j') => 1,
                KeyCode::PageUp => -10,
                KeyCode::PageDown | KeyCode::Char(' ') => 10,
                KeyCode::Home | KeyCode::Char('g') => -1_000_000,
                KeyCode::End | KeyCode::Char('G') => 1_000_000,
                _ => 0,
            };
            let lines = self.output_text().lines().count();
            self.output_scroll = self
                .output_scroll
                .saturating_add_signed(d)
                .min(lines.saturating_sub(1));
            return ScriptEffect::None;
        }
        match key.code {
            KeyCode::Tab | KeyCode::BackTab => {
                self.focus = match self.focus {
                    ScriptFocus::Code => ScriptFocus::Timeline,
                    ScriptFocus::Timeline => ScriptFocus::Code,
                };
            }
            KeyCode::Char('f') => {
                let n = self.files();
                if n > 1 {
                    self.file = (self.file + 1) % n;
                    self.code_scroll = 0;
                    if !running {
                        // The link follows the shown file: its index is rebuilt for it.
                        let (lane_scroll, shown) = (self.run.lane_scroll, self.run.shown);
                        let error = self.run.error.take();
                        self.run.finish(self.runs_for_file(), None);
                        self.run.error = error;
                        self.run.lane_scroll = lane_scroll;
                        self.run.update(Action::Home);
                        self.run.shown = shown.min(self.run.runs.len().saturating_sub(1));
                    }
                }
                let name = self.source().map_or("", |s| s.file.as_str()).to_owned();
                self.message = Some(format!("file {}/{}: {name}", self.file + 1, n.max(1)));
            }
            _ if self.focus == ScriptFocus::Code => {
                let d: isize = match key.code {
                    KeyCode::Up | KeyCode::Char('k') => -1,
                    KeyCode::Down | KeyCode::Char('j') => 1,
                    KeyCode::PageUp => -10,
                    KeyCode::PageDown => 10,
                    KeyCode::Home | KeyCode::Char('g') => -1_000_000,
                    KeyCode::End | KeyCode::Char('G') => 1_000_000,
                    _ => 0,
                };
                let lines = self.source().map_or(1, Source::line_count);
                self.code_scroll = self
                    .code_scroll
                    .saturating_add_signed(d)
                    .min(lines.saturating_sub(1));
            }
            _ => {
                if let Some(action) = timeline_action(key) {
                    self.run.update(action);
                }
            }
        }
        ScriptEffect::None
    }

    /// The status line's key hints.
    pub fn hints(&self) -> String {
        let keys: Vec<String> = SCRIPT_KEYS
            .iter()
            .filter(|k| k.in_status)
            .map(|k| {
                let short = k.help.split([':', '(']).next().unwrap_or(k.help).trim();
                format!("{} {short}", k.label)
            })
            .collect();
        keys.join(" · ")
    }
}

/// The timeline's keys, as a lesson's timeline has them.
fn timeline_action(key: Key) -> Option<Action> {
    Some(match key.code {
        KeyCode::Left | KeyCode::Char('h') => Action::Left,
        KeyCode::Right | KeyCode::Char('l') => Action::Right,
        KeyCode::Up | KeyCode::Char('k') => Action::Up,
        KeyCode::Down | KeyCode::Char('j') => Action::Down,
        KeyCode::Home | KeyCode::Char('g') => Action::Home,
        KeyCode::End | KeyCode::Char('G') => Action::End,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::PageDown => Action::PageDown,
        KeyCode::Char('z') => Action::ZoomIn,
        KeyCode::Char('x') => Action::ZoomOut,
        KeyCode::Char('[') | KeyCode::Char('H') => Action::PanLeft,
        KeyCode::Char(']') | KeyCode::Char('L') => Action::PanRight,
        KeyCode::Char('v') | KeyCode::Char(' ') => Action::ToggleVariant,
        _ => return None,
    })
}

/// `t` with the lines of every file but `file` taken out (absent `file` means file 0).
fn only_file(t: &TimelineSnapshot, file: u32) -> TimelineSnapshot {
    let here = |f: Option<u32>| f.unwrap_or(0) == file;
    let mut out = t.clone();
    for task in &mut out.tasks {
        if !here(task.file) {
            task.line = None;
        }
    }
    for mark in &mut out.marks {
        if !here(mark.file) {
            mark.line = None;
        }
    }
    out.parks.retain(|p| here(p.file));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::run::Origin;
    use crate::demo::timeline::{Outcome, Parked, TaskRecord};
    use crate::lesson::Language;

    fn task(id: u32, line: u32, file: Option<u32>) -> TaskRecord {
        TaskRecord {
            id,
            name: format!("t{id}"),
            parent: None,
            spawned_ms: 0.0,
            finished_ms: Some(10.0),
            outcome: Outcome::Ok,
            detail: String::new(),
            polls: vec![(0.0, 1.0)],
            seqs: vec![],
            line: Some(line),
            file,
        }
    }

    fn script_run() -> Run {
        let timeline = TimelineSnapshot {
            tasks: vec![task(1, 3, None), task(2, 7, Some(1))],
            parks: vec![
                Parked {
                    task: 1,
                    t_ms: 1.0,
                    line: 4,
                    within: None,
                    file: None,
                },
                Parked {
                    task: 2,
                    t_ms: 1.0,
                    line: 9,
                    within: Some("in asyncio.sleep".into()),
                    file: Some(1),
                },
            ],
            now_ms: 10.0,
            ..TimelineSnapshot::default()
        };
        Run {
            label: "run 1".into(),
            origin: Origin::Script {
                path: "main.py".into(),
                args: vec![],
            },
            runtime: crate::demo::asyncio::Runtime::Asyncio,
            clock: crate::demo::Clock::Virtual,
            sources: vec![
                Source::new("main.py", Language::Python, "a\n".repeat(12)),
                Source::new("lib.py", Language::Python, "b\n".repeat(12)),
            ],
            timeline,
            total_ms: Some(10.0),
            error: None,
        }
    }

    #[test]
    fn the_code_link_follows_the_shown_file_only() {
        let t = script_run().timeline;
        let main = only_file(&t, 0);
        assert_eq!(main.tasks[0].line, Some(3));
        assert_eq!(main.tasks[1].line, None, "lib.py's line is not main.py's");
        assert_eq!(main.parks.len(), 1);
        let lib = only_file(&t, 1);
        assert_eq!(lib.tasks[0].line, None);
        assert_eq!(lib.tasks[1].line, Some(7));
        assert_eq!(lib.parks[0].line, 9);
    }

    #[test]
    fn stop_rerun_output_and_leaving_are_keys() {
        let mut s = ScriptScreen::new("main.py".into(), true);
        assert!(s.is_running());
        assert_eq!(s.key(Key::new(KeyCode::Char('s'))), ScriptEffect::Stop);
        assert_eq!(s.key(Key::ctrl(KeyCode::Char('c'))), ScriptEffect::Stop);
        assert_eq!(s.key(Key::new(KeyCode::Esc)), ScriptEffect::Stop);
        assert_eq!(s.key(Key::new(KeyCode::Char('r'))), ScriptEffect::Rerun);
        let out = ScriptOutput {
            end: ScriptEnd::Stopped,
            ..ScriptOutput::default()
        };
        s.finished(vec![script_run()], Some(RunError::Cancelled), out);
        assert!(!s.is_running());
        assert!(
            s.message.as_deref().unwrap().contains("stopped"),
            "{:?}",
            s.message
        );
        // The output overlay takes Esc first; then Esc leaves.
        assert_eq!(s.key(Key::new(KeyCode::Char('o'))), ScriptEffect::None);
        assert!(s.show_output);
        assert_eq!(s.key(Key::new(KeyCode::Esc)), ScriptEffect::None);
        assert!(!s.show_output);
        assert_eq!(s.key(Key::new(KeyCode::Esc)), ScriptEffect::Quit);
        assert_eq!(s.key(Key::new(KeyCode::Char('q'))), ScriptEffect::Quit);
    }

    #[test]
    fn f_shows_the_next_file_and_links_it() {
        let mut s = ScriptScreen::new("main.py".into(), true);
        s.finished(vec![script_run()], None, ScriptOutput::default());
        assert_eq!(s.source().unwrap().file, "main.py");
        s.key(Key::new(KeyCode::Char('f')));
        assert_eq!(s.source().unwrap().file, "lib.py");
        assert_eq!(s.run.runs[0].timeline.tasks[1].line, Some(7));
        assert_eq!(s.run.runs[0].timeline.tasks[0].line, None);
        assert!(s.linked());
        s.key(Key::new(KeyCode::Char('f')));
        assert_eq!(s.source().unwrap().file, "main.py");
    }

    #[test]
    fn the_overlay_shows_output_traceback_and_end() {
        let mut s = ScriptScreen::new("main.py".into(), true);
        let out = ScriptOutput {
            end: ScriptEnd::Exited {
                code: 1,
                traceback: Some("Traceback (most recent call last):\nValueError: boom".into()),
            },
            ..ScriptOutput::default()
        };
        s.finished(vec![script_run()], None, out);
        let text = s.output_text();
        assert!(text.contains("ValueError: boom"), "{text}");
        assert!(text.contains("exit code 1"), "{text}");
        assert!(
            s.message
                .as_deref()
                .unwrap()
                .contains("o shows the traceback")
        );
    }

    #[test]
    fn every_key_in_the_status_line_is_in_the_table() {
        let s = ScriptScreen::new("main.py".into(), true);
        let hints = s.hints();
        for k in SCRIPT_KEYS.iter().filter(|k| k.in_status) {
            assert!(hints.contains(k.label), "{hints}");
        }
        assert!(keys_markdown().contains("| `o` |"));
        let readme = include_str!("../../README.md");
        assert!(
            readme.contains(&keys_markdown()),
            "README.md's trace keys are out of date; paste this in:\n{}",
            keys_markdown()
        );
    }
}
