//! Reading what the tracer writes: one run of the design notes' run document per line, checked
//! and turned into the same timeline types the tokio runs fill.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::demo::runner::{RunError, VariantRun};
use crate::demo::timeline::{Mark, Outcome, SeriesValue, TaskRecord, TimelineSnapshot};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunLine {
    variant: String,
    total_ms: f64,
    tasks: Vec<TaskLine>,
    marks: Vec<MarkLine>,
    series: BTreeMap<String, Vec<(f64, SeriesLine)>>,
    metrics: BTreeMap<String, serde_json::Value>,
    now_ms: f64,
    #[serde(default)]
    error: Option<String>,
    runtime: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskLine {
    id: u32,
    name: String,
    parent: Option<u32>,
    spawned_ms: f64,
    finished_ms: Option<f64>,
    outcome: Outcome,
    detail: String,
    polls: Vec<(f64, f64)>,
    /// The twin's line that created the task, when the tracer can attribute it.
    #[serde(default)]
    line: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MarkLine {
    t_ms: f64,
    task: Option<u32>,
    label: String,
    line: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum SeriesLine {
    Num(f64),
    Text(String),
}

/// One line of the tracer's output as a run of `variant`, one of `variants` (the names the run
/// document's variants get: the tokio demo's own). Errors say what was wrong with the line.
pub(super) fn parse_run(line: &str, variants: &[&'static str]) -> Result<VariantRun, String> {
    let run: RunLine = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let Some(&variant) = variants.iter().find(|v| **v == run.variant) else {
        return Err(format!(
            "a run of variant `{}`, which was not asked for",
            run.variant
        ));
    };
    if run.runtime != "asyncio" {
        return Err(format!(
            "runtime `{}` where `asyncio` was expected",
            run.runtime
        ));
    }
    let count = run.tasks.len() as u32;
    for (i, t) in run.tasks.iter().enumerate() {
        if t.id != i as u32 + 1 {
            return Err(format!("task ids out of order at `{}`", t.name));
        }
        if t.parent.is_some_and(|p| p == 0 || p > count) {
            return Err(format!("task `{}` has an unknown parent", t.name));
        }
    }
    if run
        .marks
        .iter()
        .any(|m| m.task.is_some_and(|t| t == 0 || t > count))
    {
        return Err("a mark on an unknown task".into());
    }
    let timeline = TimelineSnapshot {
        tasks: run
            .tasks
            .into_iter()
            .map(|t| TaskRecord {
                id: t.id,
                name: t.name,
                parent: t.parent,
                spawned_ms: t.spawned_ms,
                finished_ms: t.finished_ms,
                outcome: t.outcome,
                detail: t.detail,
                polls: t.polls,
                line: t.line,
            })
            .collect(),
        marks: run
            .marks
            .into_iter()
            .map(|m| Mark {
                t_ms: m.t_ms,
                task: m.task,
                label: m.label.into(),
                line: m.line,
            })
            .collect(),
        series: run
            .series
            .into_iter()
            .map(|(name, points)| {
                let points = points
                    .into_iter()
                    .map(|(t, v)| {
                        let v = match v {
                            SeriesLine::Num(n) => SeriesValue::Num(n),
                            SeriesLine::Text(s) => SeriesValue::Text(s),
                        };
                        (t, v)
                    })
                    .collect();
                (name, points)
            })
            .collect(),
        metrics: run.metrics,
        now_ms: run.now_ms,
    };
    Ok(VariantRun {
        variant,
        total_ms: run.total_ms,
        timeline,
        error: run.error.map(|reason| RunError::Twin { reason }),
        alive_after: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"{"variant":"join-all","total_ms":300.0,"tasks":[
        {"id":1,"name":"main","parent":null,"spawned_ms":0.0,"finished_ms":300.0,"outcome":"ok",
         "detail":"","polls":[[0.0,0.0],[300.0,300.0]]},
        {"id":2,"name":"request 1","parent":1,"spawned_ms":0.0,"finished_ms":100.0,
         "outcome":"timeout","detail":"late","polls":[]}],
        "marks":[{"t_ms":100.0,"task":2,"label":"response","line":12}],
        "series":{"in_flight":[[0.0,3.0],[100.0,2]],"state":[[0.0,"closed"]]},
        "metrics":{"max_in_flight":3},"now_ms":300.0,"runtime":"asyncio"}"#;

    #[test]
    fn a_line_becomes_a_variant_run() {
        let run = parse_run(&LINE.replace('\n', ""), &["sequential", "join-all"]).unwrap();
        assert_eq!(run.variant, "join-all");
        assert_eq!(run.total_ms, 300.0);
        let tl = &run.timeline;
        assert_eq!(tl.tasks[1].outcome, Outcome::Timeout);
        assert_eq!(tl.tasks[1].parent, Some(1));
        assert_eq!(tl.marks[0].line, Some(12));
        assert_eq!(tl.series["in_flight"][1], (100.0, SeriesValue::Num(2.0)));
        assert_eq!(tl.series["state"][0].1, SeriesValue::Text("closed".into()));
        assert_eq!(tl.metric("max_in_flight"), Some(3.0));
    }

    #[test]
    fn lines_that_break_the_contract_are_refused() {
        let line = LINE.replace('\n', "");
        let err = parse_run(&line, &["sequential"]).unwrap_err();
        assert!(err.contains("not asked for"), "{err}");
        let bad_parent = line.replace(r#""parent":1"#, r#""parent":7"#);
        assert!(parse_run(&bad_parent, &["join-all"]).is_err());
        let bad_outcome = line.replace("\"timeout\"", "\"exploded\"");
        assert!(parse_run(&bad_outcome, &["join-all"]).is_err());
        assert!(parse_run("not json", &["join-all"]).is_err());
    }
}
