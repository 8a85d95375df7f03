//! A demo run as the timeline pane sees it, and the timeline's keys: the time cursor steps
//! through events, the window zooms and pans, ↑/↓ scroll lanes, PgUp/PgDn and `v` pick the group
//! the cursor follows.

use super::Action;
use crate::demo::RunError;
use crate::demo::asyncio::Runtime;
use crate::demo::run::Run;
use crate::demo::timeline::index::{Event, RunIndex};
use crate::demo::timeline::wakes::WakeIndex;
use crate::demo::timeline::{TimelineSnapshot, fmt_ms};

/// The wakes of a run that has none indexed yet.
static NO_WAKES: WakeIndex = WakeIndex::EMPTY;

/// One labelled run of the comparison: a variant (later, a variant on one runtime), its lanes and
/// its total once it finished.
#[derive(Debug, Clone, Copy)]
pub struct Group<'a> {
    pub label: &'a str,
    pub snap: &'a TimelineSnapshot,
    pub total_ms: Option<f64>,
    /// Its lanes' wakes, indexed once per snapshot.
    pub wakes: &'a WakeIndex,
}

impl Group<'_> {
    /// `join-all · 300 ms · max_in_flight 3`: the group's header row in the comparison.
    pub fn header(&self) -> String {
        let mut parts = vec![self.label.to_owned()];
        parts.push(match self.total_ms {
            Some(t) => fmt_ms(t),
            None => format!("{} so far", fmt_ms(self.snap.now_ms)),
        });
        for (name, v) in &self.snap.metrics {
            if crate::demo::timeline::wakes::unremarkable(name, v) {
                continue;
            }
            let v = match v.as_f64() {
                Some(n) => crate::demo::timeline::fmt_number(n),
                None => v.to_string(),
            };
            parts.push(format!("{name} {v}"));
        }
        crate::text::sanitize(&parts.join(" · ")).into_owned()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    Idle,
    Running,
    Finished,
    Cancelled,
}

/// A run as the timeline pane sees it.
#[derive(Debug)]
pub struct RunView {
    pub status: RunStatus,
    /// The runs shown together, in the order they ran (a comparison is a list of runs).
    pub runs: Vec<Run>,
    pub error: Option<String>,
    /// Which variant's lanes are shown.
    pub shown: usize,
    /// The time cursor, once the run has finished.
    pub cursor_ms: Option<f64>,
    /// The visible time window; `None` fits the whole run.
    pub window: Option<(f64, f64)>,
    pub lane_scroll: usize,
    /// Per finished run (same order as `runs`), its events indexed once for the cursor and the
    /// code link; empty while running.
    pub indexes: Vec<RunIndex>,
    /// The event of the shown run the cursor is on.
    pub event: Option<usize>,
    /// While running, per run, its wakes indexed as each snapshot arrives (a finished run's are
    /// in its `RunIndex`).
    pub live_wakes: Vec<WakeIndex>,
    /// The runtime asked for: before the first run arrives, the code pane shows its source.
    pub runtime: Runtime,
    /// Each numeric series' largest value over every run shown: one scale per measure, so an
    /// `in_flight` of 1 is drawn at one height in every variant. Kept as runs arrive, not per frame.
    pub series_max: std::collections::BTreeMap<String, f64>,
}

impl RunView {
    pub fn new() -> RunView {
        RunView {
            status: RunStatus::Idle,
            runs: Vec::new(),
            error: None,
            shown: 0,
            cursor_ms: None,
            window: None,
            lane_scroll: 0,
            indexes: Vec::new(),
            event: None,
            live_wakes: Vec::new(),
            runtime: Runtime::Tokio,
            series_max: Default::default(),
        }
    }

    /// The scale of every strip: see `series_max`.
    fn measure_series(&mut self) {
        self.series_max = series_max(self.runs.iter().map(|r| &r.timeline));
    }

    /// A run that has just been asked for.
    pub fn running() -> RunView {
        RunView {
            status: RunStatus::Running,
            ..RunView::new()
        }
    }

    /// A finished run: the cursor starts at zero, ready to scrub.
    pub fn finished(runs: Vec<Run>, error: Option<RunError>) -> RunView {
        let mut view = RunView::new();
        view.status = match error {
            Some(RunError::Cancelled) => RunStatus::Cancelled,
            _ => RunStatus::Finished,
        };
        if let Some(first) = runs.first() {
            view.runtime = first.runtime;
        }
        view.runs = runs;
        view.indexes = view
            .runs
            .iter()
            .map(|r| RunIndex::new(&r.timeline))
            .collect();
        view.measure_series();
        view.cursor_ms = Some(0.0);
        view.event = view.index().and_then(|i| i.at_or_after(0.0));
        view.error = error.map(|e| e.to_string());
        view
    }

    /// A run of `runtime` that has just been asked for.
    pub fn running_on(runtime: Runtime) -> RunView {
        RunView {
            runtime,
            ..RunView::running()
        }
    }

    /// The one runtime that made every run shown, if one did (`None` before any run shows, or
    /// when tokio and asyncio are compared).
    pub fn only_runtime(&self) -> Option<Runtime> {
        let first = self.runs.first()?.runtime;
        self.runs
            .iter()
            .all(|r| r.runtime == first)
            .then_some(first)
    }

    /// The runtime of the run the cursor follows (before any run shows, the one asked for).
    pub fn shown_runtime(&self) -> Runtime {
        self.shown_run().map_or(self.runtime, |r| r.runtime)
    }

    /// The run the cursor follows.
    pub fn shown_run(&self) -> Option<&Run> {
        self.runs.get(self.shown)
    }

    pub fn snapshot(&self) -> Option<&TimelineSnapshot> {
        self.shown_run().map(|r| &r.timeline)
    }

    /// The shown run's index, once it finished.
    pub fn index(&self) -> Option<&RunIndex> {
        self.indexes.get(self.shown)
    }

    /// The event under the cursor, in the shown run.
    pub fn cursor_event(&self) -> Option<&Event> {
        self.index()?.event(self.event?)
    }

    /// Every run as a labelled group, in the order they ran.
    pub fn groups(&self) -> Vec<Group<'_>> {
        self.runs
            .iter()
            .enumerate()
            .map(|(i, r)| Group {
                label: &r.label,
                snap: &r.timeline,
                total_ms: r.total_ms,
                wakes: self
                    .indexes
                    .get(i)
                    .map(RunIndex::wakes)
                    .or(self.live_wakes.get(i))
                    .unwrap_or(&NO_WAKES),
            })
            .collect()
    }

    /// Put the cursor on event `i` of the shown run.
    /// A zoomed window pans to keep the cursor in view, as an editor scrolls to its caret.
    pub fn go_to_event(&mut self, i: usize) {
        if let Some(e) = self.index().and_then(|x| x.event(i)) {
            let t = e.t_ms;
            self.cursor_ms = Some(t);
            self.event = Some(i);
            if let Some((w0, w1)) = self.window
                && !(w0..=w1).contains(&t)
            {
                let half = (w1 - w0) / 2.0;
                self.window = Some(clamp_window(t - half, t + half, self.span_ms()));
            }
        }
    }

    /// Another group: the cursor lands on that group's latest event at or before its time (never
    /// one after it), and moves to that event's instant, so the narration tells what is under
    /// the cursor.
    fn show(&mut self, group: usize) {
        self.shown = group;
        let at = self.cursor_ms.unwrap_or(0.0);
        match self.index().and_then(|x| x.at_or_before(at)) {
            Some(i) => self.go_to_event(i),
            None => self.event = None,
        }
    }

    /// After the window moved: a cursor it left behind is brought to the nearest event inside
    /// it, so the narration never tells of an instant off screen.
    fn keep_cursor_in_window(&mut self) {
        let (w0, w1) = self.visible_window();
        let Some(c) = self.cursor_ms else { return };
        let landing = if c < w0 {
            self.index().and_then(|x| x.at_or_after(w0))
        } else if c > w1 {
            self.index().and_then(|x| x.at_or_before(w1))
        } else {
            return;
        };
        let inside = |i: usize| {
            self.index()
                .and_then(|x| x.event(i))
                .is_some_and(|e| (w0..=w1).contains(&e.t_ms))
        };
        match landing {
            Some(i) if inside(i) => self.go_to_event(i),
            // No event in the window: the cursor stays on its edge, telling nothing.
            _ => {
                self.cursor_ms = Some(c.clamp(w0, w1));
                self.event = None;
            }
        }
    }

    /// The longest run: one scale for every variant.
    pub fn span_ms(&self) -> f64 {
        let longest = self
            .runs
            .iter()
            .flat_map(|r| [r.timeline.now_ms, r.total_ms.unwrap_or(0.0)])
            .fold(0.0, f64::max);
        longest.max(1.0)
    }

    pub fn visible_window(&self) -> (f64, f64) {
        self.window.unwrap_or((0.0, self.span_ms()))
    }

    /// New snapshots of the run in progress: the latest variant's lanes show.
    pub fn progress(&mut self, runs: Vec<Run>) {
        if self.status == RunStatus::Running {
            self.runs = runs;
            self.shown = self.runs.len().saturating_sub(1);
            self.live_wakes = self
                .runs
                .iter()
                .map(|r| WakeIndex::new(&r.timeline))
                .collect();
            self.measure_series();
        }
    }

    /// The run ended; the lanes stay scrolled where they were.
    pub fn finish(&mut self, runs: Vec<Run>, error: Option<RunError>) {
        let (lane_scroll, runtime) = (self.lane_scroll, self.runtime);
        *self = RunView::finished(runs, error);
        self.lane_scroll = lane_scroll;
        if self.runs.is_empty() {
            self.runtime = runtime;
        }
    }

    /// Timeline keys: the cursor steps through events, the window zooms and pans.
    pub fn update(&mut self, action: Action) {
        if self.snapshot().is_none() {
            return;
        }
        let span = self.span_ms();
        let (w0, w1) = self.visible_window();
        let width = w1 - w0;
        match action {
            Action::Up => self.lane_scroll = self.lane_scroll.saturating_sub(1),
            Action::Down => self.lane_scroll += 1,
            Action::PageUp if self.status == RunStatus::Running => {
                self.shown = self.shown.saturating_sub(1)
            }
            Action::PageDown if self.status == RunStatus::Running => {
                self.shown = (self.shown + 1).min(self.runs.len().saturating_sub(1))
            }
            Action::PageUp => self.show(self.shown.saturating_sub(1)),
            Action::PageDown => self.show((self.shown + 1).min(self.runs.len().saturating_sub(1))),
            Action::ToggleVariant if self.status == RunStatus::Running => {
                self.shown = (self.shown + 1) % self.runs.len().max(1)
            }
            Action::ToggleVariant => self.show((self.shown + 1) % self.runs.len().max(1)),
            _ if self.status == RunStatus::Running => {}
            // One event a step, so the narration reads every thing that happened in order.
            // The cursor is always on an event's instant: what the narration tells is under it.
            Action::Right => match self.event {
                Some(i) if i + 1 < self.index().map_or(0, RunIndex::len) => self.go_to_event(i + 1),
                Some(_) => {}
                None => {
                    let at = self.cursor_ms.unwrap_or(0.0);
                    if let Some(i) = self.index().and_then(|x| x.at_or_after(at)) {
                        self.go_to_event(i);
                    }
                }
            },
            Action::Left => match self.event {
                Some(i) if i > 0 => self.go_to_event(i - 1),
                Some(_) => {}
                None => {
                    let at = self.cursor_ms.unwrap_or(0.0);
                    if let Some(i) = self.index().and_then(|x| x.at_or_before(at)) {
                        self.go_to_event(i);
                    }
                }
            },
            // One step back along the cause chain: to the wake that made this task run, and
            // from a wake to what caused it.
            Action::CauseBack => {
                let cause = self
                    .event
                    .zip(self.index())
                    .zip(self.snapshot())
                    .and_then(|((i, x), snap)| x.cause_of(snap, i));
                if let Some(j) = cause {
                    self.go_to_event(j);
                }
            }
            Action::Home => self.go_to_event(0),
            Action::End => {
                if let Some(last) = self.index().and_then(|x| x.len().checked_sub(1)) {
                    self.go_to_event(last);
                }
            }
            Action::ZoomIn => {
                let c = self.cursor_ms.unwrap_or((w0 + w1) / 2.0).clamp(w0, w1);
                let half = (width / 4.0).max(0.001);
                self.window = Some(clamp_window(c - half, c + half, span));
                self.keep_cursor_in_window();
            }
            Action::ZoomOut => {
                let c = (w0 + w1) / 2.0;
                let w = (width * 2.0).min(span);
                self.window = if w >= span {
                    None
                } else {
                    Some(clamp_window(c - w / 2.0, c + w / 2.0, span))
                };
                self.keep_cursor_in_window();
            }
            Action::PanLeft | Action::PanRight if self.window.is_some() => {
                let d = width / 4.0
                    * if action == Action::PanRight {
                        1.0
                    } else {
                        -1.0
                    };
                self.window = Some(clamp_window(w0 + d, w1 + d, span));
                self.keep_cursor_in_window();
            }
            _ => {}
        }
    }
}

impl Default for RunView {
    fn default() -> RunView {
        RunView::new()
    }
}

/// The largest value of each numeric series over `snaps` (a text series has none).
pub fn series_max<'a>(
    snaps: impl IntoIterator<Item = &'a TimelineSnapshot>,
) -> std::collections::BTreeMap<String, f64> {
    let mut out = std::collections::BTreeMap::new();
    for snap in snaps {
        for (name, points) in &snap.series {
            let max = points
                .iter()
                .filter_map(|(_, v)| match v {
                    crate::demo::timeline::SeriesValue::Num(n) => Some(*n),
                    crate::demo::timeline::SeriesValue::Text(_) => None,
                })
                .reduce(f64::max);
            if let Some(max) = max {
                let known = out.entry(name.clone()).or_insert(max);
                *known = f64::max(*known, max);
            }
        }
    }
    out
}

/// The window `[a, b]` moved (not shrunk) to lie inside `[0, span]`.
fn clamp_window(a: f64, b: f64, span: f64) -> (f64, f64) {
    let w = (b - a).min(span);
    let a = a.clamp(0.0, span - w);
    (a, a + w)
}
