use super::{SemaphoreDemo, Variant};
use crate::demo::Outcome;
use crate::demo::testing::{self, run_virtual};

fn check(sets: &[&str], tasks: usize, permits: usize, work: f64) {
    let report = run_virtual::<SemaphoreDemo>(&[], sets);
    let r = testing::variant(&report, Variant::Fifo);
    testing::clean(r);
    let tl = &r.timeline;
    // ceil(tasks / permits) * work_ms
    assert_eq!(r.total_ms, tasks.div_ceil(permits) as f64 * work);
    assert_eq!(tl.metric("max_in_flight"), Some(tasks.min(permits) as f64));
    for k in 1..=tasks {
        let t = testing::task(tl, &format!("task {k}"));
        assert_eq!(t.spawned_ms, 0.0, "task {k}");
        assert_eq!(t.polls.first().map(|p| p.0), Some(0.0), "task {k}");
        assert_eq!(t.outcome, Outcome::Ok, "task {k}");
        // floor((k - 1) / permits) * work_ms
        let start = ((k - 1) / permits) as f64 * work;
        let acquired: Vec<f64> = tl
            .marks
            .iter()
            .filter(|m| m.task == Some(t.id) && m.label == "permit acquired")
            .map(|m| m.t_ms)
            .collect();
        assert_eq!(acquired, vec![start], "task {k}");
        assert_eq!(t.finished_ms, Some(start + work), "task {k}");
    }
    // Grants in task order: FIFO.
    let order: Vec<u32> = tl.marks.iter().filter_map(|m| m.task).collect();
    let mut sorted = order.clone();
    sorted.sort_unstable();
    assert_eq!(order, sorted);
    assert_eq!(order.len(), tasks);
}

#[test]
fn defaults() {
    check(&[], 8, 3, 100.0);
}

#[test]
fn other_settings() {
    check(&["tasks=10", "permits=4", "work_ms=250"], 10, 4, 250.0);
    check(&["tasks=2", "permits=5"], 2, 5, 100.0);
    check(&["tasks=6", "permits=1", "work_ms=30"], 6, 1, 30.0);
}
