//! The pure data of a recorded run: what the UI draws and the run document serialises. Nothing
//! here knows how it was recorded or how it will be drawn.

use std::collections::BTreeMap;

use serde::Serialize;

/// How a task ended (or `Running` while it has not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Ok,
    Error,
    Timeout,
    Cancelled,
    Rejected,
    Panicked,
    Running,
}

impl Outcome {
    pub const ALL: [Outcome; 7] = [
        Outcome::Ok,
        Outcome::Error,
        Outcome::Timeout,
        Outcome::Cancelled,
        Outcome::Rejected,
        Outcome::Panicked,
        Outcome::Running,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Error => "error",
            Outcome::Timeout => "timeout",
            Outcome::Cancelled => "cancelled",
            Outcome::Rejected => "rejected",
            Outcome::Panicked => "panicked",
            Outcome::Running => "running",
        }
    }

    pub fn parse(name: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.name() == name)
    }
}

/// Task ids are small integers, in spawn order, starting at 1.
pub type TaskId = u32;

/// One task's life.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskRecord {
    pub id: TaskId,
    pub name: String,
    pub parent: Option<TaskId>,
    pub spawned_ms: f64,
    pub finished_ms: Option<f64>,
    pub outcome: Outcome,
    pub detail: String,
    /// Intervals during which the task was being polled; the gaps are time spent waiting.
    pub polls: Vec<(f64, f64)>,
}

impl TaskRecord {
    /// Was the task being polled at `t_ms`?
    pub fn is_running_at(&self, t_ms: f64) -> bool {
        self.polls.iter().any(|&(a, b)| a <= t_ms && t_ms < b)
    }

    pub fn is_alive_at(&self, t_ms: f64) -> bool {
        self.spawned_ms <= t_ms && self.finished_ms.is_none_or(|f| t_ms < f)
    }
}

/// A labelled instant: a state change, a permit acquired, a grant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mark {
    pub t_ms: f64,
    pub task: Option<TaskId>,
    pub label: String,
    /// 1-based line in the demo's shown source region, where the mark was made.
    pub line: Option<u32>,
}

/// A value of a series: a count, or a state name (breaker state).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum SeriesValue {
    Num(f64),
    Text(String),
}

impl From<f64> for SeriesValue {
    fn from(v: f64) -> Self {
        SeriesValue::Num(v)
    }
}

impl From<usize> for SeriesValue {
    fn from(v: usize) -> Self {
        SeriesValue::Num(v as f64)
    }
}

impl From<&str> for SeriesValue {
    fn from(v: &str) -> Self {
        SeriesValue::Text(v.to_owned())
    }
}

/// An immutable picture of a run so far: the UI and CLI read these, never the live recorder.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TimelineSnapshot {
    pub tasks: Vec<TaskRecord>,
    pub marks: Vec<Mark>,
    /// Step functions over time: each point holds until the next.
    pub series: BTreeMap<String, Vec<(f64, SeriesValue)>>,
    pub metrics: BTreeMap<String, serde_json::Value>,
    /// The latest instant anything was recorded at.
    pub now_ms: f64,
}

impl TimelineSnapshot {
    pub fn task(&self, name: &str) -> Option<&TaskRecord> {
        self.tasks.iter().find(|t| t.name == name)
    }

    /// Tasks that ended with `outcome`.
    pub fn count(&self, outcome: Outcome) -> usize {
        self.tasks.iter().filter(|t| t.outcome == outcome).count()
    }

    /// The task that finished first (earliest `finished_ms`, then lowest id).
    pub fn first_finished(&self) -> Option<&TaskRecord> {
        self.tasks
            .iter()
            .filter_map(|t| t.finished_ms.map(|f| (f, t)))
            .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.id.cmp(&b.1.id)))
            .map(|(_, t)| t)
    }

    pub fn metric(&self, name: &str) -> Option<f64> {
        self.metrics.get(name).and_then(serde_json::Value::as_f64)
    }

    /// The value of a series at `t_ms`, if it had one by then.
    pub fn series_at(&self, name: &str, t_ms: f64) -> Option<&SeriesValue> {
        let points = self.series.get(name)?;
        let idx = points.partition_point(|(t, _)| *t <= t_ms);
        idx.checked_sub(1).map(|i| &points[i].1)
    }

    /// Every instant something happened, sorted and deduplicated: where the time cursor stops.
    pub fn event_times(&self) -> Vec<f64> {
        let mut times: Vec<f64> = Vec::new();
        for t in &self.tasks {
            times.push(t.spawned_ms);
            times.extend(t.finished_ms);
        }
        times.extend(self.marks.iter().map(|m| m.t_ms));
        times.sort_by(f64::total_cmp);
        times.dedup();
        times
    }
}
