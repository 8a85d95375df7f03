//! The run in Chrome's trace-event format, so `--trace FILE` opens in Perfetto or chrome://tracing.
//! One process per variant, one thread per task; polls are complete events, marks are instants,
//! numeric series are counters (the ready queue among them). Each wake followed by a poll is a
//! flow: an arrow from the waker's slice — the waking task's poll; for a self-wake the task's
//! own; for a spawn its parent's — or, for the timer, I/O and other threads, from an instant on a
//! track of their own, to the woken task's next poll.

use serde_json::{Value, json};

use super::RunReport;
use super::asyncio::Runtime;
use super::run::Run;
use super::timeline::wakes::{self, WakeIndex};
use super::timeline::{SeriesValue, TimelineSnapshot, WakeCause};

/// Tracks of the wakers that are not tasks, after every task's id.
const CAUSE_TRACKS: [(WakeCause, u64, &str, &str); 3] = [
    (WakeCause::Timer, 1_000_000_001, "timer", "timer fired"),
    (WakeCause::Io, 1_000_000_002, "I/O", "I/O ready"),
    (
        WakeCause::Thread,
        1_000_000_003,
        "other threads",
        "woken from a thread",
    ),
];

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
    let mut flow = 0u64;
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
        wake_flows(&run.timeline, pid, &mut flow, &mut events);
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

/// A flow per wake followed by a poll (see the module's docs), numbered from `flow` on.
fn wake_flows(snap: &TimelineSnapshot, pid: usize, flow: &mut u64, events: &mut Vec<Value>) {
    if snap.wakes.is_empty() {
        return;
    }
    let index = WakeIndex::new(snap);
    let mut named = [false; CAUSE_TRACKS.len()];
    for s in wakes::scheduled(snap, &index) {
        let Some((_, polled)) = s.poll else { continue };
        let w = &snap.wakes[s.wake];
        let parent = || {
            wakes::position(snap, w.task)
                .and_then(|p| snap.tasks[p].parent)
                .unwrap_or(w.task)
        };
        let tid = match w.cause {
            WakeCause::Task => u64::from(w.by.unwrap_or(w.task)),
            WakeCause::SelfWake => u64::from(w.task),
            WakeCause::Spawn => u64::from(parent()),
            cause => {
                let (k, &(_, tid, track, what)) = CAUSE_TRACKS
                    .iter()
                    .enumerate()
                    .find(|(_, c)| c.0 == cause)
                    .expect("every other cause has a track");
                if !named[k] {
                    named[k] = true;
                    events.push(json!({
                        "ph": "M", "pid": pid, "tid": tid, "name": "thread_name",
                        "args": { "name": track }
                    }));
                }
                events.push(json!({
                    "ph": "X", "pid": pid, "tid": tid, "name": what,
                    "ts": w.t_ms * 1000.0, "dur": 0.0,
                }));
                tid
            }
        };
        *flow += 1;
        let name = format!("wake ({})", w.cause.name());
        events.push(json!({
            "ph": "s", "id": *flow, "cat": "wake", "name": name, "bp": "e",
            "pid": pid, "tid": tid, "ts": w.t_ms * 1000.0,
        }));
        events.push(json!({
            "ph": "f", "id": *flow, "cat": "wake", "name": name, "bp": "e",
            "pid": pid, "tid": s.task, "ts": polled * 1000.0,
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::timeline::{Mark, Outcome, TaskRecord, Wake};
    use crate::demo::{Clock, runner::VariantRun};

    fn task(id: u32, polls: Vec<(f64, f64)>, seqs: Vec<u64>) -> TaskRecord {
        TaskRecord {
            file: None,
            id,
            name: format!("task {id}"),
            parent: (id > 1).then_some(1),
            spawned_ms: 0.0,
            finished_ms: Some(400.0),
            outcome: Outcome::Ok,
            detail: String::new(),
            polls,
            seqs,
            line: None,
        }
    }

    fn wake(seq: u64, t_ms: f64, task: u32, cause: WakeCause, by: Option<u32>) -> Wake {
        Wake {
            seq,
            t_ms,
            task,
            cause,
            by,
            line: None,
        }
    }

    /// Main spawns a ticker (spawn wake), both are woken by timers at 100 ms, main holds the
    /// thread until 400 ms, then the ticker wakes main.
    fn blocking() -> Run {
        let timeline = TimelineSnapshot {
            tasks: vec![
                task(
                    1,
                    vec![(0.0, 0.0), (100.0, 400.0), (400.0, 400.0)],
                    vec![0, 1, 7, 12, 13],
                ),
                task(2, vec![(0.0, 0.0), (400.0, 400.0)], vec![2, 4, 9, 10]),
            ],
            marks: vec![Mark {
                file: None,
                t_ms: 100.0,
                task: Some(1),
                label: "sleep".into(),
                line: Some(23),
                seq: 8,
            }],
            wakes: vec![
                wake(3, 0.0, 2, WakeCause::Spawn, None),
                wake(5, 100.0, 2, WakeCause::Timer, None),
                wake(6, 100.0, 1, WakeCause::Timer, None),
                wake(11, 400.0, 1, WakeCause::Task, Some(2)),
            ],
            now_ms: 400.0,
            ..TimelineSnapshot::default()
        };
        Run::finished(
            "blocking",
            Runtime::Tokio,
            Clock::Virtual,
            VariantRun {
                variant: "thread-sleep",
                total_ms: 400.0,
                timeline,
                error: None,
                alive_after: 0,
            },
        )
    }

    #[test]
    fn every_wake_is_a_flow_from_its_waker_to_the_poll_it_caused() {
        let text = serde_json::to_string(&runs_to_chrome_trace("blocking", &[blocking()]))
            .expect("a trace");
        let doc: Value = serde_json::from_str(&text).expect("it parses");
        let events = doc["traceEvents"].as_array().expect("events");
        let of = |ph: &str| -> Vec<(u64, u64, f64)> {
            let mut v: Vec<(u64, u64, f64)> = events
                .iter()
                .filter(|e| e["ph"] == ph)
                .map(|e| {
                    (
                        e["id"].as_u64().expect("an id"),
                        e["tid"].as_u64().expect("a track"),
                        e["ts"].as_f64().expect("a time"),
                    )
                })
                .collect();
            v.sort_by_key(|f| f.0);
            v
        };
        let timer = CAUSE_TRACKS[0].1;
        // (id, waker's track, when): main spawned the ticker, the timer woke both, the ticker
        // woke main.
        assert_eq!(
            of("s"),
            [
                (1, 1, 0.0),
                (2, timer, 100_000.0),
                (3, timer, 100_000.0),
                (4, 2, 400_000.0)
            ]
        );
        // (id, woken task's track, its next poll): the ticker sat until 400 ms.
        assert_eq!(
            of("f"),
            [
                (1, 2, 0.0),
                (2, 2, 400_000.0),
                (3, 1, 100_000.0),
                (4, 1, 400_000.0)
            ]
        );
        // The timer's track is named, and the ready queue is a counter.
        assert!(
            events
                .iter()
                .any(|e| e["ph"] == "M" && e["tid"] == timer && e["args"]["name"] == "timer")
        );
        assert!(
            events
                .iter()
                .any(|e| e["ph"] == "C" && e["name"] == "ready")
        );
    }

    #[test]
    fn a_run_without_wakes_has_no_flows() {
        let mut run = blocking();
        run.timeline.wakes.clear();
        let doc = runs_to_chrome_trace("blocking", &[run]);
        let flows = doc["traceEvents"]
            .as_array()
            .expect("events")
            .iter()
            .filter(|e| e["ph"] == "s" || e["ph"] == "f")
            .count();
        assert_eq!(flows, 0);
    }
}
