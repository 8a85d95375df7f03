//! The event under the time cursor in words, so stepping through a run reads like a story:
//! `request 2 finished at 200 ms: ok (200 ms)`, `call 3: closed -> open at 200 ms · line 110`,
//! `in_flight 3 → 2 at 100 ms`. A wake says why the task was not running: `request 2: waiting
//! since 0 ms at line 9; woken at 200 ms by the timer`, or, when it then sat in the ready queue,
//! `ticker: woken at 100 ms by the timer, polled at 400 ms: main held the thread at line 23`.
//! A pure function of the run, its index and the event.

use super::index::{Event, EventKind, RunIndex};
use super::wakes::{self, Holder};
use super::{Outcome, SeriesValue, TaskRecord, TimelineSnapshot, WakeCause, fmt_ms};

/// Polls shorter than this are instants (every poll on the virtual clock is one): no duration.
const INSTANT_MS: f64 = 0.05;

/// One sentence about `event` of `snap` (`index` is the run's).
pub fn narrate(snap: &TimelineSnapshot, index: &RunIndex, event: &Event) -> String {
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
            // Time in the ready queue, when it took any: the wake came before this instant.
            let queued = task
                .zip(event.task.and_then(|id| wakes::position(snap, id)))
                .and_then(|(_, p)| index.wakes().before_poll(p, nth as usize))
                .map(|w| event.t_ms - snap.wakes[w].t_ms)
                .filter(|d| *d >= INSTANT_MS)
                .map(|d| format!(", after {} in the ready queue", fmt_ms(d)))
                .unwrap_or_default();
            if nth == 0 {
                format!("{name} polled for the first time at {at}{busy}{queued}")
            } else {
                format!(
                    "{name} polled again at {at} (poll {}){busy}{queued}",
                    nth + 1
                )
            }
        }
        EventKind::Wake { wake } => match snap.wakes.get(wake as usize) {
            Some(w) => woken(snap, index, w),
            None => format!("{name} woken at {at}"),
        },
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

/// Why a task was not running, told at its wake: what it waited for (since when, where) when it
/// was polled at once; who woke it and who held the thread when it sat in the ready queue.
fn woken(snap: &TimelineSnapshot, index: &RunIndex, w: &super::Wake) -> String {
    let at = fmt_ms(w.t_ms);
    let Some((pos, gap)) = wakes::gap(snap, w) else {
        return format!("a task woken at {at}");
    };
    let task = &snap.tasks[pos];
    let name = &task.name;
    let next_poll = task.polls.get(gap).map(|p| p.0);
    let queued = next_poll.filter(|p| p - w.t_ms >= INSTANT_MS);
    let head = match w.cause {
        WakeCause::Spawn => format!("{name}: scheduled at {at} (spawned)"),
        _ => {
            let since = match gap.checked_sub(1) {
                Some(prev) => task.polls[prev].1,
                None => task.spawned_ms,
            };
            let waited = w.cause != WakeCause::SelfWake && w.t_ms - since >= INSTANT_MS;
            let waiting = if waited && queued.is_none() {
                format!(
                    "waiting since {}{}; ",
                    fmt_ms(since),
                    waiting_at(snap, index, pos, gap, since)
                )
            } else {
                String::new()
            };
            format!(
                "{name}: {waiting}woken at {at} {}",
                wakes::cause_words(snap, w)
            )
        }
    };
    match queued {
        Some(p) => {
            let held = index.lines().holders(snap, w.t_ms, p, pos);
            format!("{head}, polled at {}{}", fmt_ms(p), held_by(snap, &held))
        }
        None => head,
    }
}

/// ` at line 9 in asyncio.sleep`: where a task waited in gap `gap` (begun at `since`): where it
/// parked when the poll before ended, else its last line known then.
fn waiting_at(
    snap: &TimelineSnapshot,
    index: &RunIndex,
    pos: usize,
    gap: usize,
    since: f64,
) -> String {
    if gap > 0
        && let Some(park) = index.lines().park_at(snap, pos, since)
    {
        let within = park
            .within
            .as_deref()
            .map(|w| format!(" in {w}"))
            .unwrap_or_default();
        // A traced script's park in one of its modules: the line is not the shown file's.
        let file = match park.file {
            Some(f) if f > 0 => " of another of its files",
            _ => "",
        };
        return format!(" at line {}{file}{within}", park.line);
    }
    index
        .lines()
        .line_at(snap, pos, since)
        .map(|l| format!(" at line {l}"))
        .unwrap_or_default()
}

/// `: main held the thread at line 23`, `: a at line 3, b, c and 2 more held the thread`.
fn held_by(snap: &TimelineSnapshot, held: &[Holder]) -> String {
    match held {
        [] => return ": no recorded task ran meanwhile".to_owned(),
        [one] => {
            let line = one
                .line
                .map(|l| format!(" at line {l}"))
                .unwrap_or_default();
            return format!(": {} held the thread{line}", snap.tasks[one.pos].name);
        }
        _ => {}
    }
    let named: Vec<String> = held
        .iter()
        .take(wakes::NAMED_HOLDERS)
        .map(|h| {
            let line = h.line.map(|l| format!(" at line {l}")).unwrap_or_default();
            format!("{}{line}", snap.tasks[h.pos].name)
        })
        .collect();
    let who = match (named.as_slice(), held.len() - named.len()) {
        (all, 0) => {
            let (last, rest) = all.split_last().expect("two or more");
            format!("{} and {last}", rest.join(", "))
        }
        (all, more) => format!("{} and {more} more", all.join(", ")),
    };
    format!(": {who} held the thread")
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
        let index = RunIndex::new(snap);
        index
            .events()
            .iter()
            .map(|e| narrate(snap, &index, e))
            .collect()
    }

    fn sentence(snap: &TimelineSnapshot, kind: EventKind, task: Option<u32>) -> String {
        let index = RunIndex::new(snap);
        let e = index
            .events()
            .iter()
            .find(|e| e.kind == kind && e.task == task)
            .expect("the event");
        narrate(snap, &index, e)
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

    fn wake(
        seq: u64,
        t_ms: f64,
        task: u32,
        cause: WakeCause,
        by: Option<u32>,
    ) -> super::super::Wake {
        super::super::Wake {
            seq,
            t_ms,
            task,
            cause,
            by,
            line: None,
        }
    }

    /// `gather_like` with its wakes: main's second poll woken by request 2 (from line 12), request
    /// 2 spawned (polled at once) and woken at 200 ms by the timer, having parked at line 9.
    fn with_wakes() -> TimelineSnapshot {
        let mut snap = gather_like();
        snap.tasks[0].seqs = vec![0, 1, 11, 12];
        snap.tasks[1].seqs = vec![2, 4, 7, 10];
        snap.wakes = vec![
            wake(3, 0.0, 2, WakeCause::Spawn, None),
            wake(6, 200.0, 2, WakeCause::Timer, None),
            super::super::Wake {
                line: Some(12),
                ..wake(9, 200.0, 1, WakeCause::Task, Some(2))
            },
        ];
        snap.marks[0].seq = 8;
        snap.series_seqs = [("in_flight".to_owned(), vec![5, 13])].into();
        snap.parks = vec![super::super::Parked {
            file: None,
            task: 2,
            t_ms: 0.0,
            line: 9,
            within: None,
        }];
        snap
    }

    #[test]
    fn a_wake_after_a_wait_says_since_when_where_and_what_woke_it() {
        let snap = with_wakes();
        assert_eq!(
            sentence(&snap, EventKind::Wake { wake: 1 }, Some(2)),
            "request 2: waiting since 0 ms at line 9; woken at 200 ms by the timer"
        );
        assert_eq!(
            sentence(&snap, EventKind::Wake { wake: 2 }, Some(1)),
            "main: waiting since 0 ms; woken at 200 ms by request 2 at line 12"
        );
        assert_eq!(
            sentence(&snap, EventKind::Wake { wake: 0 }, Some(2)),
            "request 2: scheduled at 0 ms (spawned)"
        );
        // Without a park (tokio), the last line known: its spawn's.
        let mut tokio = with_wakes();
        tokio.parks.clear();
        assert_eq!(
            sentence(&tokio, EventKind::Wake { wake: 1 }, Some(2)),
            "request 2: waiting since 0 ms at line 27; woken at 200 ms by the timer"
        );
    }

    #[test]
    fn a_wake_then_a_wait_for_the_thread_says_who_held_it() {
        // The blocking demo: the ticker's timer fires at 100 ms while main holds the thread in
        // std::thread::sleep (marked at line 23) until 400 ms.
        let mut snap = with_wakes();
        snap.tasks[0].polls = vec![(0.0, 0.0), (100.0, 400.0)];
        snap.tasks[0].finished_ms = Some(400.0);
        snap.tasks[0].seqs = vec![0, 1, 5, 11];
        snap.tasks[1].name = "ticker".into();
        snap.tasks[1].polls = vec![(0.0, 0.0), (400.0, 400.0)];
        snap.tasks[1].finished_ms = Some(400.0);
        snap.tasks[1].seqs = vec![2, 4, 8, 10];
        snap.wakes = vec![
            wake(3, 0.0, 2, WakeCause::Spawn, None),
            wake(6, 100.0, 2, WakeCause::Timer, None),
        ];
        snap.marks = vec![Mark {
            file: None,
            t_ms: 100.0,
            task: Some(1),
            label: "sleep".into(),
            line: Some(23),
            seq: 7,
        }];
        snap.series.clear();
        snap.series_seqs.clear();
        assert_eq!(
            sentence(&snap, EventKind::Wake { wake: 1 }, Some(2)),
            "ticker: woken at 100 ms by the timer, polled at 400 ms: main held the thread at line 23"
        );
        assert_eq!(
            sentence(&snap, EventKind::Poll { nth: 1 }, Some(2)),
            "ticker polled again at 400 ms (poll 2), after 300 ms in the ready queue"
        );
    }

    #[test]
    fn several_holders_are_named_then_counted() {
        let mut snap = TimelineSnapshot::default();
        for (i, name) in ["a", "b", "c", "d", "e"].into_iter().enumerate() {
            snap.tasks.push(task(i as u32 + 1, name, Outcome::Ok, ""));
        }
        let holders = |n: usize| -> Vec<Holder> {
            (0..n)
                .map(|pos| Holder {
                    pos,
                    ms: 1.0,
                    line: (pos == 0).then_some(3),
                })
                .collect()
        };
        assert_eq!(
            held_by(&snap, &holders(2)),
            ": a at line 3 and b held the thread"
        );
        assert_eq!(
            held_by(&snap, &holders(3)),
            ": a at line 3, b and c held the thread"
        );
        assert_eq!(
            held_by(&snap, &holders(5)),
            ": a at line 3, b, c and 2 more held the thread"
        );
        assert_eq!(held_by(&snap, &[]), ": no recorded task ran meanwhile");
    }

    #[test]
    fn a_story_with_wakes_reads_each_wake_before_the_poll_it_caused() {
        assert_eq!(
            story(&with_wakes()),
            [
                "main spawned at 0 ms",
                "main polled for the first time at 0 ms",
                "request 2 spawned at 0 ms by main · line 27",
                "request 2: scheduled at 0 ms (spawned)",
                "request 2 polled for the first time at 0 ms",
                "in_flight = 1 at 0 ms",
                "request 2: waiting since 0 ms at line 9; woken at 200 ms by the timer",
                "request 2 polled again at 200 ms (poll 2), busy 3.5 ms",
                "request 2: response at 200 ms · line 11",
                "main: waiting since 0 ms; woken at 200 ms by request 2 at line 12",
                "request 2 finished at 200 ms: ok (200 ms)",
                "main polled again at 200 ms (poll 2), busy 3.5 ms",
                "main finished at 200 ms: ok",
                "in_flight 1 → 0 at 200 ms",
            ]
        );
    }
}
