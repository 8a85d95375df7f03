//! The run document: what `asyncdojo run --json` prints and what the asyncio tracer writes (one
//! document per line, one run each, when asyncdojo runs a twin). One set of types writes it and
//! reads it; `docs/run-document.md` describes every field.
//!
//! Writing borrows the recorded runs (a 100,000-task run is not copied to be printed); reading owns
//! what it read. Reading is strict: a field the schema does not have is refused by name, a document
//! of another format version is refused before anything else is said about it, and a run whose ids,
//! parents or sequence numbers contradict each other is refused with the task it is about.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::asyncio::Runtime;
use super::run::Run;
use super::runner::{RunError, RunReport, VariantRun};
use super::timeline::{Mark, Parked, SeriesValue, TaskRecord, TimelineSnapshot, Wake};
use super::{Clock, Params};

/// The format this asyncdojo writes and reads. Format 1 is the document written before there was
/// a version: no `format_version`, and no sequence numbers. Format 2 added both, so the first
/// number a document can carry is 2. Format 3 added every run's `wakes` and `parks`.
pub const FORMAT_VERSION: u32 = 3;

/// Which runtime made the runs: one for all of them, or `both` (then each run names its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Runtimes {
    Tokio,
    Asyncio,
    Both,
}

impl Runtimes {
    pub fn name(self) -> &'static str {
        match self {
            Runtimes::Tokio => "tokio",
            Runtimes::Asyncio => "asyncio",
            Runtimes::Both => "both",
        }
    }
}

impl From<Runtime> for Runtimes {
    fn from(r: Runtime) -> Runtimes {
        match r {
            Runtime::Tokio => Runtimes::Tokio,
            Runtime::Asyncio => Runtimes::Asyncio,
        }
    }
}

/// A whole run document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document<'a> {
    pub format_version: u32,
    pub demo: Cow<'a, str>,
    pub clock: Clock,
    pub runtime: Runtimes,
    /// The parameters the runs used, by name.
    pub params: serde_json::Map<String, serde_json::Value>,
    /// Where the runs came from when it was not one of asyncdojo's demos: a traced script (then
    /// `demo` is the script's file name). Absent for demos.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<DocOrigin>,
    pub runs: Vec<RunEntry<'a>>,
}

/// A document's `origin`: the learner's program `asyncdojo trace` ran, and its arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocOrigin {
    pub script: String,
    #[serde(default)]
    pub args: Vec<String>,
    /// The user files the runs' `file` indices point into (index 0 is the script itself).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
}

/// One variant's run: its timeline's fields, its total and what went wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunEntry<'a> {
    pub variant: Cow<'a, str>,
    /// Set in a document of both runtimes, and by the tracer on every run it writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<Runtime>,
    pub total_ms: f64,
    pub tasks: Cow<'a, [TaskRecord]>,
    pub marks: Cow<'a, [Mark]>,
    pub series: Cow<'a, BTreeMap<String, Vec<(f64, SeriesValue)>>>,
    /// `series_seqs[name][i]` is the sequence number of `series[name][i]`.
    pub series_seqs: Cow<'a, BTreeMap<String, Vec<u64>>>,
    pub metrics: Cow<'a, BTreeMap<String, serde_json::Value>>,
    /// Every wake of a recorded task, in seq order.
    pub wakes: Cow<'a, [Wake]>,
    /// Where tasks were parked as polls ended (empty, and left out, when not recorded).
    #[serde(default, skip_serializing_if = "<[Parked]>::is_empty")]
    pub parks: Cow<'a, [Parked]>,
    pub now_ms: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Cow<'a, str>>,
}

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error(
        "a run document of format 1 (it has no `format_version`); this asyncdojo reads format \
         {FORMAT_VERSION}: write it again with this asyncdojo (`run --json`, or its tracer)"
    )]
    Unversioned,
    #[error(
        "a run document of format {found}; this asyncdojo reads format {FORMAT_VERSION}: write \
         it again with this asyncdojo (`run --json`, or its tracer)"
    )]
    Version { found: String },
    /// Not JSON, or JSON that does not fit the schema (an unknown field is named).
    #[error("{0}")]
    Schema(String),
    /// Fits the schema, but contradicts itself (a parent that does not exist, a sequence number
    /// out of order).
    #[error("{0}")]
    Contract(String),
}

impl Document<'static> {
    /// Read a document: strictly, at this asyncdojo's format version, checked.
    pub fn from_json(text: &str) -> Result<Document<'static>, ReadError> {
        let doc = match serde_json::from_str::<Document<'static>>(text) {
            Ok(doc) => doc,
            // The version first: a document of another format fails the schema for that reason,
            // which is the one to name.
            Err(e) => return Err(version_problem(text).unwrap_or(ReadError::Schema(e.to_string()))),
        };
        doc.checked()
    }

    /// A document already parsed (inside another message, as the script tracer's channel sends
    /// them), checked as [`Document::from_json`] checks one: its version, then every run.
    pub fn checked(self) -> Result<Document<'static>, ReadError> {
        if self.format_version != FORMAT_VERSION {
            return Err(ReadError::Version {
                found: self.format_version.to_string(),
            });
        }
        for run in &self.runs {
            run.check()
                .map_err(|why| ReadError::Contract(format!("run `{}`: {why}", run.variant)))?;
        }
        Ok(self)
    }
}

/// What is wrong with the version of a document that did not parse, if that is what is wrong.
fn version_problem(text: &str) -> Option<ReadError> {
    #[derive(Deserialize)]
    struct Version {
        format_version: Option<serde_json::Value>,
    }
    let found = serde_json::from_str::<Version>(text).ok()?.format_version;
    match found {
        None => Some(ReadError::Unversioned),
        Some(v) if v.as_u64() == Some(u64::from(FORMAT_VERSION)) => None,
        Some(v) => Some(ReadError::Version {
            found: v.to_string(),
        }),
    }
}

impl<'a> Document<'a> {
    /// The document of a tokio run (`run --json`).
    pub fn of_report(report: &'a RunReport, runtime: Runtime) -> Document<'a> {
        Document {
            format_version: FORMAT_VERSION,
            demo: Cow::Borrowed(report.demo),
            clock: report.clock,
            runtime: runtime.into(),
            params: params_map(&report.params),
            origin: None,
            runs: report
                .runs
                .iter()
                .map(|r| RunEntry::of_variant_run(r, None))
                .collect(),
        }
    }

    /// The document of runs of one runtime, or of both (`runtime` is then `Both`, and each run
    /// says which it is).
    pub fn of_runs(
        demo: &'a str,
        clock: Clock,
        params: &Params,
        runtime: Runtimes,
        runs: &'a [Run],
    ) -> Document<'a> {
        let each = runtime == Runtimes::Both;
        Document {
            format_version: FORMAT_VERSION,
            demo: Cow::Borrowed(demo),
            clock,
            runtime,
            params: params_map(params),
            origin: None,
            runs: runs
                .iter()
                .map(|r| {
                    RunEntry::new(
                        r.run_name(),
                        each.then_some(r.runtime),
                        r.span_ms(),
                        &r.timeline,
                        r.error.as_ref(),
                    )
                })
                .collect(),
        }
    }
}

impl<'a> Document<'a> {
    /// The document of a traced script's runs (`trace --json`): `demo` is the script's file name,
    /// `origin` says which script, with which arguments, and the files its lines point into.
    pub fn of_script(
        name: &'a str,
        clock: Clock,
        origin: DocOrigin,
        runs: &'a [Run],
    ) -> Document<'a> {
        Document {
            format_version: FORMAT_VERSION,
            demo: Cow::Borrowed(name),
            clock,
            runtime: Runtimes::Asyncio,
            params: serde_json::Map::new(),
            origin: Some(origin),
            runs: runs
                .iter()
                .map(|r| {
                    RunEntry::new(
                        r.run_name(),
                        None,
                        r.span_ms(),
                        &r.timeline,
                        r.error.as_ref(),
                    )
                })
                .collect(),
        }
    }
}

fn params_map(params: &Params) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::to_value(params) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    }
}

impl<'a> RunEntry<'a> {
    /// A run's entry, borrowing its timeline.
    pub fn new(
        variant: &'a str,
        runtime: Option<Runtime>,
        total_ms: f64,
        timeline: &'a TimelineSnapshot,
        error: Option<&RunError>,
    ) -> RunEntry<'a> {
        RunEntry {
            variant: Cow::Borrowed(variant),
            runtime,
            total_ms,
            tasks: Cow::Borrowed(&timeline.tasks),
            marks: Cow::Borrowed(&timeline.marks),
            series: Cow::Borrowed(&timeline.series),
            series_seqs: Cow::Borrowed(&timeline.series_seqs),
            metrics: Cow::Borrowed(&timeline.metrics),
            wakes: Cow::Borrowed(&timeline.wakes),
            parks: Cow::Borrowed(&timeline.parks),
            now_ms: timeline.now_ms,
            error: error.map(|e| Cow::Owned(e.to_string())),
        }
    }

    pub fn of_variant_run(run: &'a VariantRun, runtime: Option<Runtime>) -> RunEntry<'a> {
        RunEntry::new(
            run.variant,
            runtime,
            run.total_ms,
            &run.timeline,
            run.error.as_ref(),
        )
    }

    /// The recorded timeline, moved out (a document read is owned: nothing is copied).
    pub fn into_timeline(self) -> TimelineSnapshot {
        TimelineSnapshot {
            tasks: self.tasks.into_owned(),
            marks: self.marks.into_owned(),
            series: self.series.into_owned(),
            series_seqs: self.series_seqs.into_owned(),
            metrics: self.metrics.into_owned(),
            wakes: self.wakes.into_owned(),
            parks: self.parks.into_owned(),
            now_ms: self.now_ms,
        }
    }

    /// What the schema cannot say: ids are 1, 2, 3… in order; parents and marks name tasks that
    /// exist; every event has its seq (a task's spawn, polls and finish; every series point); a
    /// task's seqs increase from its spawn through its polls to its finish, and the tasks' spawns,
    /// the marks and each series' points are listed in the order of their seqs.
    pub fn check(&self) -> Result<(), String> {
        let count = self.tasks.len() as u64;
        let known = |id: u32| id >= 1 && u64::from(id) <= count;
        let mut last_spawn = None;
        for (i, t) in self.tasks.iter().enumerate() {
            if u64::from(t.id) != i as u64 + 1 {
                return Err(format!("task ids out of order at `{}`", t.name));
            }
            if t.parent.is_some_and(|p| !known(p)) {
                return Err(format!("task `{}` has an unknown parent", t.name));
            }
            // Its spawn, each poll, and its finish when it has one.
            let events = 1 + t.polls.len() + usize::from(t.finished_ms.is_some());
            if t.seqs.len() != events {
                return Err(format!(
                    "task `{}` has {} seqs for {events} events (its spawn, {} polls{})",
                    t.name,
                    t.seqs.len(),
                    t.polls.len(),
                    if t.finished_ms.is_some() {
                        ", its finish"
                    } else {
                        ""
                    }
                ));
            }
            if !increasing(t.seqs.iter().copied()) {
                return Err(format!(
                    "task `{}`'s seqs do not increase from its spawn through its polls to its \
                     finish",
                    t.name
                ));
            }
            let spawned = t.seqs[0];
            if last_spawn.is_some_and(|s| s >= spawned) {
                return Err(format!(
                    "task `{}` was spawned (seq {spawned}) before the task listed before it",
                    t.name
                ));
            }
            last_spawn = Some(spawned);
        }
        if let Some(m) = self
            .marks
            .iter()
            .find(|m| m.task.is_some_and(|t| !known(t)))
        {
            return Err(format!("mark `{}` is on an unknown task", m.label));
        }
        if !increasing(self.marks.iter().map(|m| m.seq)) {
            return Err("the marks' seqs do not increase in the order they are listed".into());
        }
        if let Some(w) = self
            .wakes
            .iter()
            .find(|w| !known(w.task) || w.by.is_some_and(|b| !known(b)))
        {
            return Err(format!("the wake at seq {} names an unknown task", w.seq));
        }
        if !increasing(self.wakes.iter().map(|w| w.seq)) {
            return Err("the wakes' seqs do not increase in the order they are listed".into());
        }
        if let Some(p) = self.parks.iter().find(|p| !known(p.task)) {
            return Err(format!("the park at {} ms is on an unknown task", p.t_ms));
        }
        if !self.series.keys().eq(self.series_seqs.keys()) {
            return Err("series and series_seqs do not name the same series".into());
        }
        for (name, points) in self.series.iter() {
            let seqs = &self.series_seqs[name];
            if seqs.len() != points.len() {
                return Err(format!(
                    "series `{name}` has {} points and {} seqs",
                    points.len(),
                    seqs.len()
                ));
            }
            let in_order = points.windows(2).zip(seqs.windows(2)).all(|(p, s)| {
                match p[0].0.total_cmp(&p[1].0) {
                    std::cmp::Ordering::Less => true,
                    std::cmp::Ordering::Equal => s[0] < s[1],
                    std::cmp::Ordering::Greater => false,
                }
            });
            if !in_order {
                return Err(format!(
                    "series `{name}`'s points are not in time order (and, at one instant, in \
                     the order of their seqs)"
                ));
            }
        }
        Ok(())
    }
}

fn increasing(seqs: impl Iterator<Item = u64>) -> bool {
    let mut last = None;
    for s in seqs {
        if last.is_some_and(|l| l >= s) {
            return false;
        }
        last = Some(s);
    }
    true
}
