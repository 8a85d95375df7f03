//! The event under the time cursor in words, so stepping through a run reads like a story:
//! `request 2 finished at 200 ms: ok (200 ms)`, `call 3: closed -> open at 200 ms · line 110`,
//! `in_flight 3 → 2 at 100 ms`. A pure function of the run and the event.

use super::index::{Event, EventKind};
use super::{Outcome, SeriesValue, TaskRecord, TimelineSnapshot, fmt_ms};

/// Polls shorter than this are instants (every poll on the virtual clock is one): no duration.
const INSTANT_MS: f64 = 0.05;

/// One sentence about `event` of `snap`.
pub fn narrate(snap: &TimelineSnapshot, event: &Event) -> String {
    let at = fmt_ms(event.t_ms);
    let task = event.task.and_then(|id| task_by_id(snap, id));
    let name = task.map_or("a task", |t| t.name.as_str());
    match event.kind {
        EventKind::Spawn => {
            let by = task
                .and_then(|t| t.parent)
                .and_then(|p| task_by_id(snap, p))
                .map(|p| format!(" by {}", p.name))
                .unwrap_or_default();
            format!("{name} spawned at {at}{by}{}", line(event.line))
        }
        EventKind::Poll { nth } => {
            let busy = task
                .and_then(|t| t.polls.get(nth as usize))
                .map(|(a, b)| b - a)
                .filter(|d| *d >= INSTANT_MS)
                .map(|d| format!(", busy {}", fmt_ms(d)))
                .unwrap_or_default();
            if nth == 0 {
                format!("{name} polled for the first time at {at}{busy}")
            } else {
                format!("{name} polled again at {at} (poll {}){busy}", nth + 1)
            }
        }
        EventKind::Mark { mark } => {
            let label = snap.marks.get(mark as usize).map_or("", |m| &*m.label);
            match task {
                Some(t) => format!("{}: {label} at {at}{}", t.name, line(event.line)),
                None => format!("{label} at {at}{}", line(event.line)),
            }
        }
        EventKind::Finish => {
            let outcome = task.map_or(Outcome::Running, |t| t.outcome);
            let detail = task
                .map(|t| t.detail.as_str())
                .filter(|d| !d.is_empty())
                .map(|d| format!(" ({d})"))
                .unwrap_or_default();
            format!("{name} finished at {at}: {}{detail}", outcome.name())
        }
        EventKind::Series { series, point } => {
            let Some((key, points)) = snap.series.iter().nth(series as usize) else {
                return format!("a series changed at {at}");
            };
            let point = point as usize;
            let now = points
                .get(point)
                .map_or(String::new(), |(_, v)| fmt_value(v));
            match point.checked_sub(1).and_then(|p| points.get(p)) {
                Some((_, before)) => format!("{key} {} → {now} at {at}", fmt_value(before)),
                None => format!("{key} = {now} at {at}"),
            }
        }
    }
}

/// A series value for people: whole numbers without a fraction, others to a tenth.
pub fn fmt_value(v: &SeriesValue) -> String {
    match v {
        SeriesValue::Num(n) if n.fract() == 0.0 => format!("{n}"),
        SeriesValue::Num(n) => format!("{n:.1}"),
        SeriesValue::Text(s) => s.clone(),
    }
}

fn task_by_id(snap: &TimelineSnapshot, id: super::TaskId) -> Option<&TaskRecord> {
    // Ids are positions + 1 in every recorded run; search only if a document broke that.
    snap.tasks
        .get((id as usize).wrapping_sub(1))
        .filter(|t| t.id == id)
        .or_else(|| snap.tasks.iter().find(|t| t.id == id))
}

fn line(line: Option<u32>) -> String {
    line.map(|l| format!(" · line {l}")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::timeline::index::RunIndex;
    use crate::demo::timeline::{Mark, TaskRecord};

    fn task(id: u32, name: &str, outcome: Outcome, detail: &str) -> TaskRecord {
        TaskRecord {
            file: None,
            id,
            name: name.into(),
            parent: (id > 1).then_some(1),
            spawned_ms: 0.0,
            finished_ms: Some(200.0),
            outcome,
            detail: detail.into(),
            polls: vec![(0.0, 0.0), (200.0, 203.5)],
            seqs: Vec::new(),
            line: (id > 1).then_some(27),
        }
    }

    /// Every sentence the run's events read as, in cursor order.
    fn story(snap: &TimelineSnapshot) -> Vec<String> {
        RunIndex::new(snap)
            .events()
            .iter()
            .map(|e| narrate(snap, e))
            .collect()
    }

    fn sentence(snap: &TimelineSnapshot, kind: EventKind, task: Option<u32>) -> String {
        let index = RunIndex::new(snap);
        let e = index
            .events()
            .iter()
            .find(|e| e.kind == kind && e.task == task)
            .expect("the event");
        narrate(snap, e)
    }

    /// Numbered in the order the story reads: at 200 ms main polls request 2, which marks and
    /// finishes, then main finishes.
    fn gather_like() -> TimelineSnapshot {
        let numbered = |mut t: TaskRecord, spawn, polls: [u64; 2], finish| {
            t.seqs = [spawn, polls[0], polls[1], finish].to_vec();
            t
        };
        TimelineSnapshot {
            tasks: vec![
                numbered(task(1, "main", Outcome::Ok, ""), 0, [1, 5], 9),
                numbered(task(2, "request 2", Outcome::Ok, "200 ms"), 2, [3, 6], 8),
            ],
            marks: vec![Mark {
                file: None,
                t_ms: 200.0,
                task: Some(2),
                label: "response".into(),
                line: Some(11),
                seq: 7,
            }],
            series: [(
                "in_flight".to_owned(),
                vec![(0.0, 1usize.into()), (200.0, 0usize.into())],
            )]
            .into_iter()
            .collect(),
            series_seqs: [("in_flight".to_owned(), vec![4, 10])].into(),
            now_ms: 203.5,
            ..TimelineSnapshot::default()
        }
    }

    #[test]
    fn a_spawn_names_the_task_its_parent_and_its_line() {
        let snap = gather_like();
        assert_eq!(
            sentence(&snap, EventKind::Spawn, Some(2)),
            "request 2 spawned at 0 ms by main · line 27"
        );
        assert_eq!(
            sentence(&snap, EventKind::Spawn, Some(1)),
            "main spawned at 0 ms"
        );
    }

    #[test]
    fn a_poll_says_first_or_again_and_how_long_it_was_busy() {
        let snap = gather_like();
        assert_eq!(
            sentence(&snap, EventKind::Poll { nth: 0 }, Some(2)),
            "request 2 polled for the first time at 0 ms"
        );
        assert_eq!(
            sentence(&snap, EventKind::Poll { nth: 1 }, Some(2)),
            "request 2 polled again at 200 ms (poll 2), busy 3.5 ms"
        );
    }

    #[test]
    fn a_mark_is_its_task_its_label_and_its_line() {
        let mut snap = gather_like();
        assert_eq!(
            sentence(&snap, EventKind::Mark { mark: 0 }, Some(2)),
            "request 2: response at 200 ms · line 11"
        );
        snap.marks[0].task = None;
        snap.marks[0].line = None;
        assert_eq!(
            sentence(&snap, EventKind::Mark { mark: 0 }, None),
            "response at 200 ms"
        );
    }

    #[test]
    fn a_finish_says_each_outcome_and_the_detail() {
        let cases = [
            (
                Outcome::Ok,
                "200 ms",
                "request 2 finished at 200 ms: ok (200 ms)",
            ),
            (
                Outcome::Error,
                "HTTP 500",
                "request 2 finished at 200 ms: error (HTTP 500)",
            ),
            (
                Outcome::Timeout,
                "",
                "request 2 finished at 200 ms: timeout",
            ),
            (
                Outcome::Cancelled,
                "aborted",
                "request 2 finished at 200 ms: cancelled (aborted)",
            ),
            (
                Outcome::Rejected,
                "breaker open",
                "request 2 finished at 200 ms: rejected (breaker open)",
            ),
            (
                Outcome::Panicked,
                "boom",
                "request 2 finished at 200 ms: panicked (boom)",
            ),
        ];
        for (outcome, detail, expected) in cases {
            let mut snap = gather_like();
            snap.tasks[1].outcome = outcome;
            snap.tasks[1].detail = detail.into();
            assert_eq!(sentence(&snap, EventKind::Finish, Some(2)), expected);
        }
    }

    #[test]
    fn a_series_change_says_from_and_to() {
        let mut snap = gather_like();
        assert_eq!(
            sentence(
                &snap,
                EventKind::Series {
                    series: 0,
                    point: 0
                },
                None
            ),
            "in_flight = 1 at 0 ms"
        );
        assert_eq!(
            sentence(
                &snap,
                EventKind::Series {
                    series: 0,
                    point: 1
                },
                None
            ),
            "in_flight 1 → 0 at 200 ms"
        );
        snap.series.insert(
            "breaker".into(),
            vec![(0.0, "closed".into()), (200.0, "open".into())],
        );
        assert_eq!(
            sentence(
                &snap,
                EventKind::Series {
                    series: 0,
                    point: 1
                },
                None
            ),
            "breaker closed → open at 200 ms"
        );
    }

    #[test]
    fn stepping_through_a_run_reads_like_a_story() {
        assert_eq!(
            story(&gather_like()),
            [
                "main spawned at 0 ms",
                "main polled for the first time at 0 ms",
                "request 2 spawned at 0 ms by main · line 27",
                "request 2 polled for the first time at 0 ms",
                "in_flight = 1 at 0 ms",
                "main polled again at 200 ms (poll 2), busy 3.5 ms",
                "request 2 polled again at 200 ms (poll 2), busy 3.5 ms",
                "request 2: response at 200 ms · line 11",
                "request 2 finished at 200 ms: ok (200 ms)",
                "main finished at 200 ms: ok",
                "in_flight 1 → 0 at 200 ms",
            ]
        );
    }
}
