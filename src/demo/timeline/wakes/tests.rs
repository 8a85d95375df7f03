use super::*;
use crate::demo::timeline::{Mark, Outcome, Parked, SeriesValue};

fn task(id: TaskId, name: &str, polls: Vec<(f64, f64)>, seqs: Vec<u64>) -> TaskRecord {
    TaskRecord {
        file: None,
        id,
        name: name.into(),
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

fn wake(seq: u64, t_ms: f64, task: TaskId, cause: WakeCause, by: Option<TaskId>) -> Wake {
    Wake {
        seq,
        t_ms,
        task,
        cause,
        by,
        line: None,
    }
}

/// The blocking demo in small, numbered as a recorder numbers it. At 0 ms main (in place) spawns
/// the ticker, whose spawn wakes it. At 100 ms the ticker's timer fires, and so does main's; main
/// is polled first and holds the thread until 400 ms (`std::thread::sleep`, marked at line 23).
/// At 400 ms the ticker runs, finishes, and wakes main (from line 12), which finishes.
fn blocking() -> TimelineSnapshot {
    TimelineSnapshot {
        tasks: vec![
            task(
                1,
                "main",
                vec![(0.0, 0.0), (100.0, 400.0), (400.0, 400.0)],
                vec![0, 1, 7, 12, 13],
            ),
            task(
                2,
                "ticker",
                vec![(0.0, 0.0), (400.0, 400.0)],
                vec![2, 4, 9, 10],
            ),
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
            Wake {
                line: Some(12),
                ..wake(11, 400.0, 1, WakeCause::Task, Some(2))
            },
        ],
        now_ms: 400.0,
        ..TimelineSnapshot::default()
    }
}

#[test]
fn each_poll_knows_the_wake_before_it() {
    let snap = blocking();
    let index = WakeIndex::new(&snap);
    // main: its first poll needed no wake (in place); the timer's made its second, the ticker's
    // its third.
    assert_eq!(index.before_poll(0, 0), None);
    assert_eq!(index.before_poll(0, 1), Some(2));
    assert_eq!(index.before_poll(0, 2), Some(3));
    assert_eq!(index.before_poll(1, 0), Some(0));
    assert_eq!(index.before_poll(1, 1), Some(1));
    assert_eq!(
        index.before_poll(1, 2),
        None,
        "its end: no wake after its last poll"
    );
    assert_eq!(index.before_poll(7, 0), None, "no such task");
}

#[test]
fn a_scheduled_interval_runs_from_the_wake_to_the_next_poll() {
    let snap = blocking();
    let s = scheduled(&snap, &WakeIndex::new(&snap));
    let got: Vec<(TaskId, f64, Option<f64>)> =
        s.iter().map(|s| (s.task, s.from_ms, s.ms())).collect();
    assert_eq!(
        got,
        [
            (2, 0.0, Some(0.0)),
            (2, 100.0, Some(300.0)),
            (1, 100.0, Some(0.0)),
            (1, 400.0, Some(0.0)),
        ]
    );
}

#[test]
fn the_ready_queue_counts_tasks_woken_and_not_yet_polled() {
    let mut snap = blocking();
    snap.add_ready_queue();
    let ready: Vec<(f64, f64)> = snap.series[READY]
        .iter()
        .map(|(t, v)| match v {
            SeriesValue::Num(n) => (*t, *n),
            SeriesValue::Text(_) => panic!("a count"),
        })
        .collect();
    // One point per instant: the count once its wakes and polls are done.
    assert_eq!(ready, [(100.0, 1.0), (400.0, 0.0)]);
    assert_eq!(snap.series_seqs[READY], [7, 12]);
    // The ticker sat 300 ms in the queue; the other three wakes were polled at once.
    assert_eq!(snap.metric(MAX_SCHED), Some(300.0));
    assert_eq!(snap.metric(MEDIAN_SCHED), Some(0.0));
    let once = snap.clone();
    snap.add_ready_queue();
    assert_eq!(snap, once, "adding it twice changes nothing");
}

#[test]
fn a_run_without_wakes_gets_no_ready_queue() {
    let mut snap = blocking();
    snap.wakes.clear();
    let before = snap.clone();
    snap.add_ready_queue();
    assert_eq!(snap, before);
}

#[test]
fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
    let at = |from_ms: f64, poll: f64| Scheduled {
        task: 1,
        wake: 0,
        from_ms,
        poll: Some((1, poll)),
    };
    let never_polled = Scheduled {
        poll: None,
        ..at(0.0, 0.0)
    };
    assert_eq!(
        sched_metrics(&[at(0.0, 10.0), at(5.0, 6.0), at(0.0, 3.0), never_polled]),
        Some((10.0, 3.0))
    );
    assert_eq!(
        sched_metrics(&[at(0.0, 1.0), at(0.0, 3.0)]),
        Some((3.0, 2.0))
    );
    assert_eq!(sched_metrics(&[never_polled]), None);
}

#[test]
fn a_task_woken_and_ended_before_its_next_poll_leaves_the_queue_at_its_end() {
    let mut snap = blocking();
    // Cancelled at 400 ms while scheduled: woken at 300, never polled again.
    snap.tasks[1].polls.truncate(1);
    snap.tasks[1].seqs = vec![2, 4, 10];
    snap.wakes[1] = wake(9, 300.0, 2, WakeCause::Thread, None);
    snap.wakes.sort_by_key(|w| w.seq);
    let index = WakeIndex::new(&snap);
    let ready: Vec<(f64, f64)> = ready_series(&snap, &index)
        .iter()
        .map(|&(t, _, n)| (t, n))
        .collect();
    assert_eq!(ready, [(300.0, 1.0), (400.0, 0.0)]);
    assert_eq!(scheduled(&snap, &index)[2].ms(), None);
}

#[test]
fn a_wake_of_a_task_with_no_lane_is_left_out() {
    let mut without = blocking();
    without.add_ready_queue();
    let mut snap = blocking();
    snap.wakes
        .push(wake(14, 400.0, 99, WakeCause::Thread, None));
    snap.add_ready_queue();
    assert_eq!(snap.series[READY], without.series[READY]);
}

#[test]
fn who_held_the_thread_and_at_which_line() {
    let snap = blocking();
    let lines = Lines::new(&snap);
    // While the ticker sat scheduled (100..400 ms), main was polled for all 300 ms, at line 23.
    let held = lines.holders(&snap, 100.0, 400.0, 1);
    assert_eq!(
        held,
        [Holder {
            pos: 0,
            ms: 300.0,
            line: Some(23)
        }]
    );
    assert!(
        lines.holders(&snap, 100.0, 400.0, 0).is_empty(),
        "not itself"
    );
    assert!(
        lines.holders(&snap, 10.0, 90.0, 1).is_empty(),
        "nobody ran then"
    );
}

#[test]
fn a_park_gives_the_line_a_task_waited_at() {
    let mut snap = blocking();
    snap.parks = vec![Parked {
        file: None,
        task: 2,
        t_ms: 0.0,
        line: 9,
        within: Some("asyncio.sleep".into()),
    }];
    let lines = Lines::new(&snap);
    assert_eq!(lines.park_at(&snap, 1, 0.0).map(|p| p.line), Some(9));
    assert_eq!(lines.park_at(&snap, 1, 400.0), None);
    assert_eq!(lines.park_at(&snap, 0, 0.0), None, "another task's");
    assert_eq!(lines.line_at(&snap, 0, 99.0), None);
    assert_eq!(lines.line_at(&snap, 0, 100.0), Some(23));
}
