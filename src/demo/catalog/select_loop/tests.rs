use super::{SelectLoop, Variant};
use crate::demo::Outcome;
use crate::demo::testing::{self, run_virtual};

const ALL: [Variant; 3] = [Variant::Recreated, Variant::Pinned, Variant::BufferOutside];

/// Items (1-based) with a tick strictly between their two halves, for item_ms < every_ms.
fn torn(items: u64, every: u64, item: u64, tick: u64) -> Vec<u64> {
    let end = (items - 1) * every + item;
    let ticks: Vec<u64> = (1..).map(|j| j * tick).take_while(|&t| t <= end).collect();
    (0..items)
        .filter(|k| {
            let (first, rest) = (k * every, k * every + item);
            ticks.iter().any(|&t| first < t && t < rest)
        })
        .map(|k| k + 1)
        .collect()
}

fn check(sets: &[&str], (items, every, item, tick): (u64, u64, u64, u64)) {
    let report = run_virtual::<SelectLoop>(&ALL, sets);
    let lost_items = torn(items, every, item, tick);
    let end = ((items - 1) * every + item) as f64;
    let ticks = (end as u64 / tick) as f64;
    for variant in ALL {
        let r = testing::variant(&report, variant);
        testing::clean(r);
        let tl = &r.timeline;
        assert_eq!(r.total_ms, end, "{variant:?}");
        let sender = testing::task(tl, "sender");
        assert_eq!(sender.outcome, Outcome::Ok, "{variant:?}");
        assert_eq!(sender.finished_ms, Some(end), "{variant:?}");
        assert_eq!(testing::task(tl, "reader").finished_ms, Some(end));
        let metric = |name| testing::metric(tl, name);
        assert_eq!(metric("items_sent"), items as f64, "{variant:?}");
        assert_eq!(metric("ticks"), ticks, "{variant:?}");
        let lost = match variant {
            Variant::Recreated => lost_items.len(),
            Variant::Pinned | Variant::BufferOutside => 0,
        };
        assert_eq!(metric("items_lost"), lost as f64, "{variant:?}");
        assert_eq!(metric("items_received"), (items as usize - lost) as f64);
        // Each loss is marked when the tick drops the half item, and the rest of that item
        // is thrown away when it arrives, item_ms after the item started.
        let expected_losses: Vec<f64> = match variant {
            Variant::Recreated => lost_items
                .iter()
                .map(|k| {
                    let first = (k - 1) * every;
                    ((first / tick + 1) * tick) as f64
                })
                .collect(),
            Variant::Pinned | Variant::BufferOutside => vec![],
        };
        assert_eq!(
            testing::mark_times(tl, "item lost with the dropped future"),
            expected_losses,
            "{variant:?}"
        );
        let fragments: Vec<f64> = match variant {
            Variant::Recreated => lost_items
                .iter()
                .map(|k| ((k - 1) * every + item) as f64)
                .collect(),
            Variant::Pinned | Variant::BufferOutside => vec![],
        };
        assert_eq!(
            testing::mark_times(tl, "fragment discarded"),
            fragments,
            "{variant:?}"
        );
    }
}

#[test]
fn defaults() {
    // Ticks at 120, 240, 360 and 480 ms: the first two land inside items 2 and 3.
    assert_eq!(torn(6, 100, 50, 120), [2, 3]);
    check(&[], (6, 100, 50, 120));
}

#[test]
fn other_settings() {
    // Ticks at 130, 260, …, 910: inside items 2, 6 and 10.
    assert_eq!(torn(10, 100, 40, 130), [2, 6, 10]);
    check(
        &["items=10", "every_ms=100", "item_ms=40", "tick_ms=130"],
        (10, 100, 40, 130),
    );
    // The ticker never fires before the last item is in.
    check(&["items=3", "tick_ms=1000"], (3, 100, 50, 1000));
    // Both halves at once: there is no "between" for a tick to land in.
    check(&["item_ms=0", "tick_ms=70"], (6, 100, 0, 70));
}

#[test]
fn several_ticks_inside_one_item_lose_it_once() {
    // Ticks every 30 ms, items 80 ms long: two ticks inside each item, one loss each.
    let report = run_virtual::<SelectLoop>(
        &[Variant::Recreated],
        &["items=4", "item_ms=80", "tick_ms=30"],
    );
    let r = testing::variant(&report, Variant::Recreated);
    testing::clean(r);
    assert_eq!(testing::metric(&r.timeline, "items_lost"), 4.0);
    assert_eq!(testing::metric(&r.timeline, "items_received"), 0.0);
}

#[test]
fn the_loss_is_marked_on_its_line_of_the_shown_file() {
    let report = run_virtual::<SelectLoop>(&[Variant::Recreated], &[]);
    let tl = &testing::variant(&report, Variant::Recreated).timeline;
    let label = "item lost with the dropped future";
    let mark = tl.marks.iter().find(|m| m.label == label).expect("a loss");
    assert_eq!(mark.task, Some(testing::task(tl, "reader").id));
    let line = mark.line.expect("made from the shown file") as usize;
    let shown = super::SPEC.source.lines().nth(line - 1).expect("a line");
    assert!(shown.trim().starts_with("self.ctx.mark("), "{shown}");
}
