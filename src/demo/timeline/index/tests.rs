use super::*;
use crate::demo::timeline::{Mark, Outcome, TaskRecord, Wake};

fn task(
    id: TaskId,
    spawned: f64,
    finished: Option<f64>,
    polls: Vec<(f64, f64)>,
    line: Option<u32>,
) -> TaskRecord {
    TaskRecord {
        file: None,
        id,
        name: format!("task {id}"),
        parent: None,
        spawned_ms: spawned,
        finished_ms: finished,
        outcome: Outcome::Ok,
        detail: String::new(),
        polls,
        seqs: Vec::new(),
        line,
    }
}

/// `t` with the seqs the recorder gave it: its spawn's, each poll's, its finish's.
fn numbered(mut t: TaskRecord, spawn: u64, polls: &[u64], finish: Option<u64>) -> TaskRecord {
    assert_eq!(polls.len(), t.polls.len());
    assert_eq!(finish.is_some(), t.finished_ms.is_some());
    t.seqs = std::iter::once(spawn)
        .chain(polls.iter().copied())
        .chain(finish)
        .collect();
    t
}

fn mark(t_ms: f64, task: TaskId, line: Option<u32>) -> Mark {
    Mark {
        file: None,
        t_ms,
        task: Some(task),
        label: "m".into(),
        line,
        seq: 0,
    }
}

fn mark_at(seq: u64, t_ms: f64, task: TaskId, line: Option<u32>) -> Mark {
    Mark {
        seq,
        ..mark(t_ms, task, line)
    }
}

/// Two tasks spawned at line 5; task 1 marks at line 9 at 100 ms and finishes at 150 ms;
/// task 2 marks at line 9 at 200 ms and finishes there. Numbered as the recorder numbers a
/// current-thread run: each task's first poll after both spawns.
fn run() -> TimelineSnapshot {
    let polls_1 = vec![(0.0, 0.0), (100.0, 100.0), (150.0, 150.0)];
    let polls_2 = vec![(0.0, 0.0), (200.0, 200.0)];
    TimelineSnapshot {
        tasks: vec![
            numbered(
                task(1, 0.0, Some(150.0), polls_1, Some(5)),
                0,
                &[1, 4, 6],
                Some(7),
            ),
            numbered(
                task(2, 0.0, Some(200.0), polls_2, Some(5)),
                2,
                &[3, 8],
                Some(10),
            ),
        ],
        marks: vec![mark_at(5, 100.0, 1, Some(9)), mark_at(9, 200.0, 2, Some(9))],
        now_ms: 200.0,
        ..TimelineSnapshot::default()
    }
}

#[test]
fn events_read_in_time_order_and_at_one_instant_in_recorded_order() {
    let index = RunIndex::new(&run());
    let kinds: Vec<(f64, Option<TaskId>, EventKind, Option<u32>)> = index
        .events()
        .iter()
        .map(|e| (e.t_ms, e.task, e.kind, e.line))
        .collect();
    use EventKind::*;
    assert_eq!(
        kinds,
        [
            (0.0, Some(1), Spawn, Some(5)),
            (0.0, Some(1), Poll { nth: 0 }, Some(5)),
            (0.0, Some(2), Spawn, Some(5)),
            (0.0, Some(2), Poll { nth: 0 }, Some(5)),
            (100.0, Some(1), Poll { nth: 1 }, Some(5)),
            (100.0, Some(1), Mark { mark: 0 }, Some(9)),
            (150.0, Some(1), Poll { nth: 2 }, Some(9)),
            (150.0, Some(1), Finish, Some(9)),
            (200.0, Some(2), Poll { nth: 1 }, Some(5)),
            (200.0, Some(2), Mark { mark: 1 }, Some(9)),
            (200.0, Some(2), Finish, Some(9)),
        ]
    );
}

/// At 100 ms, events recorded in another order than tasks' ids and kinds suggest: main (1), polled,
/// marks "cancel" before child 2 finishes and "all done" after it; child 3 had finished before
/// main was polled; a series point falls between.
fn one_instant() -> TimelineSnapshot {
    let at = 100.0;
    let mut snap = TimelineSnapshot {
        tasks: vec![
            numbered(task(1, 0.0, None, vec![(at, at)], None), 0, &[10], None),
            numbered(task(2, 0.0, Some(at), vec![], None), 1, &[], Some(12)),
            numbered(task(3, 0.0, Some(at), vec![], None), 2, &[], Some(9)),
        ],
        marks: vec![mark_at(11, at, 1, Some(7)), mark_at(15, at, 1, Some(8))],
        now_ms: at,
        ..TimelineSnapshot::default()
    };
    snap.series
        .insert("in_flight".into(), vec![(at, 0usize.into())]);
    snap.series_seqs.insert("in_flight".into(), vec![13]);
    snap
}

fn at_100_ms(snap: &TimelineSnapshot) -> Vec<(Option<TaskId>, EventKind)> {
    RunIndex::new(snap)
        .events()
        .iter()
        .filter(|e| e.t_ms == 100.0)
        .map(|e| (e.task, e.kind))
        .collect()
}

#[test]
fn events_at_one_instant_keep_the_order_they_were_recorded_in() {
    use EventKind::*;
    assert_eq!(
        at_100_ms(&one_instant()),
        [
            (Some(3), Finish),
            (Some(1), Poll { nth: 0 }),
            (Some(1), Mark { mark: 0 }),
            (Some(2), Finish),
            (
                None,
                Series {
                    series: 0,
                    point: 0
                }
            ),
            (Some(1), Mark { mark: 1 }),
        ]
    );
}

/// A timeline made by hand without seqs still reads in one order: each task's events together,
/// in id order, spawned, polled, marked, finished; then what belongs to no task.
#[test]
fn without_seqs_an_instant_reads_task_by_task() {
    let mut snap = one_instant();
    for t in &mut snap.tasks {
        t.seqs.clear();
    }
    for m in &mut snap.marks {
        m.seq = 0;
    }
    snap.series_seqs.clear();
    use EventKind::*;
    assert_eq!(
        at_100_ms(&snap),
        [
            (Some(1), Poll { nth: 0 }),
            (Some(1), Mark { mark: 0 }),
            (Some(1), Mark { mark: 1 }),
            (Some(2), Finish),
            (Some(3), Finish),
            (
                None,
                Series {
                    series: 0,
                    point: 0
                }
            ),
        ]
    );
}

#[test]
fn a_line_knows_its_events_and_steps_to_them() {
    let index = RunIndex::new(&run());
    assert_eq!(index.line_events(9), [5, 6, 7, 9, 10]);
    assert_eq!(index.line_events(42), [] as [u32; 0]);
    assert_eq!(index.next_on_line(9, None), Some(5));
    assert_eq!(index.next_on_line(9, Some(5)), Some(6));
    assert_eq!(index.next_on_line(9, Some(10)), None);
    assert_eq!(index.prev_on_line(9, Some(9)), Some(7));
    assert_eq!(index.prev_on_line(9, Some(5)), None);
    assert_eq!(index.prev_on_line(5, None), Some(8));
}

#[test]
fn lanes_stay_at_their_last_known_line_until_they_finish() {
    let index = RunIndex::new(&run());
    let at = |i| index.lanes_at(i);
    // After both spawns: two lanes at line 5.
    assert_eq!(
        at(3),
        [LaneLine {
            line: 5,
            count: 2,
            task: None
        }]
    );
    // Task 1 marked at line 9: one lane at each line, each named.
    assert_eq!(
        at(5),
        [
            LaneLine {
                line: 5,
                count: 1,
                task: Some(2)
            },
            LaneLine {
                line: 9,
                count: 1,
                task: Some(1)
            },
        ]
    );
    // Task 1 finished: it is nowhere.
    assert_eq!(
        at(7),
        [LaneLine {
            line: 5,
            count: 1,
            task: Some(2)
        }]
    );
    assert_eq!(at(10), []);
}

#[test]
fn instants_step_over_every_event_that_shares_them() {
    let index = RunIndex::new(&run());
    assert_eq!(index.next_instant(0), Some(4));
    assert_eq!(index.next_instant(5), Some(6));
    assert_eq!(index.next_instant(9), None);
    assert_eq!(index.prev_instant(6), Some(4));
    assert_eq!(index.prev_instant(2), None);
    assert_eq!(index.at_or_after(120.0), Some(6));
    assert_eq!(index.at_or_after(999.0), Some(10));
}

#[test]
fn counts_at_an_instant_come_from_sorted_times() {
    let mut snap = run();
    snap.tasks[0].polls = vec![(0.0, 40.0)];
    let index = RunIndex::new(&snap);
    assert_eq!(index.alive_at(0.0), 2);
    assert_eq!(index.alive_at(150.0), 1, "task 1 ended at 150 ms");
    assert_eq!(index.running_at(10.0), 1);
    assert_eq!(index.running_at(40.0), 0, "polls are half-open");
    for t in [0.0, 10.0, 100.0, 150.0, 199.0, 200.0] {
        let slow = snap.tasks.iter().filter(|x| x.is_alive_at(t)).count();
        assert_eq!(index.alive_at(t), slow, "alive at {t}");
        let slow = snap.tasks.iter().filter(|x| x.is_running_at(t)).count();
        assert_eq!(index.running_at(t), slow, "running at {t}");
    }
}

#[test]
fn lane_positions_past_many_checkpoints_match_a_replay_from_the_start() {
    // 1,000 tasks, each spawned at line 3, marking at line 4 then 5 before finishing.
    let n = 1000u32;
    let mut snap = TimelineSnapshot::default();
    for id in 1..=n {
        let t0 = f64::from(id);
        snap.tasks
            .push(task(id, t0, Some(t0 + 700.0), vec![(t0, t0)], Some(3)));
        snap.marks.push(mark(t0 + 300.0, id, Some(4)));
        snap.marks.push(mark(t0 + 500.0, id, Some(5)));
    }
    let index = RunIndex::new(&snap);
    assert!(index.moves.len() > 10 * CHECKPOINT_EVERY);
    for i in (0..index.len()).step_by(97) {
        // The rule replayed from the first event, with no checkpoints.
        let mut pos = std::collections::BTreeMap::new();
        for e in &index.events()[..=i] {
            let Some(task) = e.task else { continue };
            match e.kind {
                EventKind::Spawn | EventKind::Mark { .. } => {
                    if let Some(l) = e.line {
                        pos.insert(task, l);
                    }
                }
                EventKind::Finish => {
                    pos.remove(&task);
                }
                _ => {}
            }
        }
        let mut expected = [0u32; 6];
        for l in pos.values() {
            expected[*l as usize] += 1;
        }
        let got: Vec<(u32, u32)> = index
            .lanes_at(i)
            .iter()
            .map(|l| (l.line, l.count))
            .collect();
        let want: Vec<(u32, u32)> = expected
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(l, c)| (l as u32, *c))
            .collect();
        assert_eq!(got, want, "after event {i}");
    }
}

fn wake_of(seq: u64, t_ms: f64, task: TaskId, cause: WakeCause, by: Option<TaskId>) -> Wake {
    Wake {
        seq,
        t_ms,
        task,
        cause,
        by,
        line: None,
    }
}

/// A permit handed over: main (in place) spawns a and b at line 5 (each woken by its spawn); at
/// 100 ms a's timer fires, a marks "release" at line 12 and wakes b from there, and both finish.
fn handover() -> TimelineSnapshot {
    TimelineSnapshot {
        tasks: vec![
            numbered(task(1, 0.0, None, vec![(0.0, 0.0)], None), 0, &[1], None),
            numbered(
                task(
                    2,
                    0.0,
                    Some(100.0),
                    vec![(0.0, 0.0), (100.0, 100.0)],
                    Some(5),
                ),
                2,
                &[6, 9],
                Some(12),
            ),
            numbered(
                task(
                    3,
                    0.0,
                    Some(100.0),
                    vec![(0.0, 0.0), (100.0, 100.0)],
                    Some(5),
                ),
                4,
                &[7, 13],
                Some(14),
            ),
        ],
        marks: vec![mark_at(10, 100.0, 2, Some(12))],
        wakes: vec![
            wake_of(3, 0.0, 2, WakeCause::Spawn, None),
            wake_of(5, 0.0, 3, WakeCause::Spawn, None),
            wake_of(8, 100.0, 2, WakeCause::Timer, None),
            Wake {
                line: Some(12),
                ..wake_of(11, 100.0, 3, WakeCause::Task, Some(2))
            },
        ],
        now_ms: 100.0,
        ..TimelineSnapshot::default()
    }
}

#[test]
fn wakes_are_events_in_their_place_at_the_wakers_line() {
    let index = RunIndex::new(&handover());
    let kinds: Vec<(Option<TaskId>, EventKind)> =
        index.events().iter().map(|e| (e.task, e.kind)).collect();
    use EventKind::*;
    assert_eq!(
        kinds,
        [
            (Some(1), Spawn),
            (Some(1), Poll { nth: 0 }),
            (Some(2), Spawn),
            (Some(2), Wake { wake: 0 }),
            (Some(3), Spawn),
            (Some(3), Wake { wake: 1 }),
            (Some(2), Poll { nth: 0 }),
            (Some(3), Poll { nth: 0 }),
            (Some(2), Wake { wake: 2 }),
            (Some(2), Poll { nth: 1 }),
            (Some(2), Mark { mark: 0 }),
            (Some(3), Wake { wake: 3 }),
            (Some(2), Finish),
            (Some(3), Poll { nth: 1 }),
            (Some(3), Finish),
        ]
    );
    // The release, the wake it made and a's finish are at line 12; the wake moves no lane.
    assert_eq!(index.line_events(12), [10, 11, 12]);
    let at_12 = |i| {
        index
            .lanes_at(i)
            .iter()
            .find(|l| l.line == 12)
            .map(|l| l.count)
    };
    assert_eq!(at_12(11), Some(1), "a alone: b is still at line 5");
}

#[test]
fn the_cause_chain_goes_back_from_a_poll_to_its_wake_to_its_waker() {
    let snap = handover();
    let index = RunIndex::new(&snap);
    let mut chain = Vec::new();
    let mut at = 13; // b polled again at 100 ms
    while let Some(cause) = index.cause_of(&snap, at) {
        chain.push(cause);
        at = cause;
    }
    // b's wake (11) ← a's release mark (10) ← a's poll, woken by the timer (8) ← where a began
    // to wait: its first poll (6) ← its spawn wake (3) ← its spawn (2), which has no recorded
    // cause.
    assert_eq!(chain, [11, 10, 8, 6, 3, 2]);
    assert_eq!(
        index.cause_of(&snap, 1),
        None,
        "main's first poll needed no wake"
    );
    let mut no_wakes = snap.clone();
    no_wakes.wakes.clear();
    let index = RunIndex::new(&no_wakes);
    assert_eq!(
        index.cause_of(&no_wakes, 9),
        None,
        "no wakes recorded, no cause"
    );
}

#[test]
fn a_lane_not_yet_polled_nor_woken_has_not_started() {
    let mut snap = handover();
    // A future made in place at 0 ms and first polled at 50 ms, by its parent: no wake.
    snap.tasks.push(numbered(
        task(4, 0.0, Some(60.0), vec![(50.0, 50.0)], None),
        15,
        &[16],
        Some(17),
    ));
    let index = RunIndex::new(&snap);
    assert_eq!(index.not_started_at(0.0), 1);
    assert_eq!(index.not_started_at(49.9), 1);
    assert_eq!(index.not_started_at(50.0), 0);
    // Spawned tasks are scheduled by their spawn's wake: they never count as not started.
    snap.tasks.pop();
    assert_eq!(RunIndex::new(&snap).not_started_at(0.0), 0);
}

#[test]
fn a_wake_of_a_task_with_no_lane_is_no_event() {
    let mut snap = handover();
    snap.wakes
        .push(wake_of(15, 100.0, 99, WakeCause::Thread, None));
    assert_eq!(RunIndex::new(&snap).len(), 15);
}
