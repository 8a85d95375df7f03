//! The run in Chrome's trace-event format, so `--trace FILE` opens in Perfetto or chrome://tracing.
//! One process per variant, one thread per task; polls are complete events, marks are instants,
//! numeric series are counters.

use serde_json::{Value, json};

use super::RunReport;
use super::asyncio::Runtime;
use super::run::Run;
use super::timeline::SeriesValue;

pub fn to_chrome_trace(report: &RunReport) -> Value {
    let runs: Vec<Run> = report
        .runs
        .iter()
        .map(|v| Run::finished(report.demo, Runtime::Tokio, report.clock, v.clone()))
        .collect();
    runs_to_chrome_trace(report.demo, &runs)
}

/// Runs (of one runtime or both), a process each, named by their labels.
pub fn runs_to_chrome_trace(demo: &str, runs: &[Run]) -> Value {
    let mut events = Vec::new();
    for (pid, run) in runs.iter().enumerate() {
        let pid = pid + 1;
        events.push(json!({
            "ph": "M", "pid": pid, "name": "process_name",
            "args": { "name": format!("{demo} / {}", run.label) }
        }));
        for task in &run.timeline.tasks {
            events.push(json!({
                "ph": "M", "pid": pid, "tid": task.id, "name": "thread_name",
                "args": { "name": task.name }
            }));
            for &(start, end) in &task.polls {
                events.push(json!({
                    "ph": "X", "pid": pid, "tid": task.id, "name": "poll",
                    "ts": start * 1000.0, "dur": (end - start) * 1000.0,
                }));
            }
            if let Some(end) = task.finished_ms {
                events.push(json!({
                    "ph": "i", "s": "t", "pid": pid, "tid": task.id,
                    "name": format!("{}: {}", task.outcome.name(), task.detail),
                    "ts": end * 1000.0,
                }));
            }
        }
        for mark in &run.timeline.marks {
            events.push(json!({
                "ph": "i", "s": if mark.task.is_some() { "t" } else { "p" },
                "pid": pid, "tid": mark.task.unwrap_or(0),
                "name": mark.label, "ts": mark.t_ms * 1000.0,
            }));
        }
        for (name, points) in &run.timeline.series {
            for (t, v) in points {
                if let SeriesValue::Num(n) = v {
                    events.push(json!({
                        "ph": "C", "pid": pid, "name": name, "ts": t * 1000.0,
                        "args": { name.as_str(): n }
                    }));
                }
            }
        }
    }
    json!({ "traceEvents": events, "displayTimeUnit": "ms" })
}
