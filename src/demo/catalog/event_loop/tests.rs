use super::{EventLoop, Variant};
use crate::demo::runner::RunReport;
use crate::demo::testing::{self, run_real, run_virtual};
use crate::demo::{Clock, Outcome};

/// Step `s` (1-based) of task `k` (1-based) starts its work on one thread, when every wait
/// is long enough for the other tasks' work to fit in it (wait >= (tasks - 1) * work).
fn check_staircase(report: &RunReport, tasks: usize, steps: usize, work: f64, wait: f64) -> f64 {
    let r = testing::variant(report, Variant::CurrentThread);
    testing::clean(r);
    let tl = &r.timeline;
    for k in 1..=tasks {
        let t = tl.task(&format!("task {k}")).unwrap();
        assert_eq!(t.outcome, Outcome::Ok);
        // Work polls: the ones that last (with work_ms > 0).
        let work_starts: Vec<f64> = t
            .polls
            .iter()
            .filter(|(a, b)| b - a > 1e-9)
            .map(|(a, _)| *a)
            .collect();
        let expected: Vec<f64> = (1..=steps)
            .map(|s| (k - 1) as f64 * work + (s - 1) as f64 * (work + wait))
            .collect();
        assert_eq!(work_starts, expected, "task {k}");
        let end = (k - 1) as f64 * work + steps as f64 * (work + wait);
        assert_eq!(t.finished_ms, Some(end), "task {k}");
    }
    assert_eq!(tl.metric("max_running"), Some(1.0));
    r.total_ms
}

#[test]
fn defaults_take_turns_on_one_thread() {
    let report = run_virtual::<EventLoop>(&[], &[]);
    assert_eq!(report.runs.len(), 1);
    let total = check_staircase(&report, 3, 3, 20.0, 50.0);
    // steps * (work + wait) + (tasks - 1) * work
    assert_eq!(total, 250.0);
    let tl = &report.runs[0].timeline;
    assert_eq!(tl.marks.len(), 9);
    // Never two tasks doing work at once.
    for t in tl.event_times() {
        let busy = tl
            .tasks
            .iter()
            .filter(|task| task.name.starts_with("task ") && task.is_running_at(t))
            .count();
        assert!(busy <= 1, "{busy} tasks running at {t}");
    }
}

#[test]
fn other_settings_keep_one_task_running() {
    let report = run_virtual::<EventLoop>(
        &[Variant::CurrentThread],
        &["tasks=4", "steps=2", "work_ms=10", "wait_ms=100"],
    );
    let total = check_staircase(&report, 4, 2, 10.0, 100.0);
    assert_eq!(total, 2.0 * 110.0 + 3.0 * 10.0);
}

#[test]
fn a_busy_thread_still_runs_one_task_at_a_time() {
    // The waits are too short for the others' work: tasks queue for the thread.
    let report = run_virtual::<EventLoop>(&[], &["tasks=5", "steps=4", "work_ms=30", "wait_ms=10"]);
    let r = &report.runs[0];
    assert_eq!(r.alive_after, 0);
    assert_eq!(r.timeline.metric("max_running"), Some(1.0));
    // The thread is never idle: all the work back to back, then the last task's last wait.
    assert_eq!(r.total_ms, 5.0 * 4.0 * 30.0 + 10.0);
}

#[test]
fn multi_thread_runs_tasks_at_once_on_the_real_clock() {
    let report = run_real::<EventLoop>(
        &[Variant::MultiThread],
        &[
            "tasks=3",
            "steps=2",
            "work_ms=60",
            "wait_ms=10",
            "workers=2",
        ],
    );
    let r = testing::variant(&report, Variant::MultiThread);
    assert_eq!(r.error, None);
    // Every task the demo started ran to its end: nothing leaked.
    for k in 1..=3 {
        let t = r.timeline.task(&format!("task {k}")).unwrap();
        assert_eq!(t.outcome, Outcome::Ok, "task {k}");
    }
    // The runner waits for workers to release finished tasks before counting.
    assert_eq!(r.alive_after, 0);
    // Only worker threads run tasks, and both of them do.
    assert_eq!(r.timeline.metric("max_running"), Some(2.0));
    // 6 work slices of 60 ms on 2 threads: about 180 ms, far from the 360 ms one thread takes.
    assert!(r.total_ms >= 175.0 && r.total_ms < 340.0, "{}", r.total_ms);
}

#[test]
fn multi_thread_is_real_clock_only() {
    let err = testing::request::<EventLoop>(&[Variant::MultiThread], &[], Clock::Virtual)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("does not run on the virtual clock"), "{err}");
}
