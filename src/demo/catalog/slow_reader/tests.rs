use super::{SlowReader, Variant};
use crate::demo::Clock;
use crate::demo::runner::VariantRun;
use crate::demo::testing::{self, clean, metric, run_real};
use crate::demo::timeline::{Outcome, SeriesValue, TimelineSnapshot};

/// One variant on the real clock (the only one it has): clean, every lane ended ok, every byte
/// read.
fn run(variant: Variant, sets: &[&str]) -> VariantRun {
    let report = run_real::<SlowReader>(&[variant], sets);
    let r = testing::variant(&report, variant).clone();
    clean(&r);
    for t in &r.timeline.tasks {
        assert_eq!(t.outcome, Outcome::Ok, "{}: {}", t.name, t.detail);
    }
    r
}

fn buffered(tl: &TimelineSnapshot) -> Vec<f64> {
    tl.series["buffered_kb"]
        .iter()
        .map(|(_, v)| match v {
            SeriesValue::Num(n) => *n,
            SeriesValue::Text(t) => panic!("buffered_kb {t}"),
        })
        .collect()
}

#[test]
fn without_waiting_the_writer_is_done_at_once_and_the_buffer_holds_nearly_everything() {
    let r = run(Variant::NoDrain, &[]);
    let tl = &r.timeline;
    assert_eq!(metric(tl, "read_kb"), 32.0 * 16.0);
    // One poll: it never waited.
    assert_eq!(testing::task(tl, "writer").polls.len(), 1);
    assert_eq!(metric(tl, "writer_waits"), 0.0);
    // Every chunk went into memory before the socket writer could hand the kernel more than a
    // few: the buffer grew with each one, to almost the whole 512 KiB.
    let series = buffered(tl);
    let growth = &series[..=32];
    assert!(growth.windows(2).all(|w| w[1] >= w[0]), "{growth:?}");
    assert!(metric(tl, "max_buffered_kb") >= 512.0 - 64.0, "{series:?}");
    assert_eq!(series.last(), Some(&0.0), "emptied by the end");
    // The writer was done long before the reader was.
    let written = testing::mark_times(tl, "all written")[0];
    let ended = testing::mark_times(tl, "end of stream")[0];
    assert!(written * 4.0 < ended, "{written} vs {ended} ms");
    // The waiting happens in the socket writer, the writer's child, which ends the stream.
    let socket_writer = testing::task(tl, "socket writer");
    assert_eq!(socket_writer.parent, Some(testing::task(tl, "writer").id));
    assert!(socket_writer.polls.len() > 1);
}

#[test]
fn write_all_makes_the_writer_wait_and_holds_one_chunk_at_most() {
    let r = run(Variant::Drain, &[]);
    let tl = &r.timeline;
    assert_eq!(metric(tl, "read_kb"), 32.0 * 16.0);
    let writer = testing::task(tl, "writer");
    assert!(writer.polls.len() > 4, "{:?}", writer.polls);
    assert_eq!(metric(tl, "writer_waits"), (writer.polls.len() - 1) as f64);
    assert!(metric(tl, "max_buffered_kb") <= 16.0);
    assert!(tl.task("socket writer").is_none());
    // The writer kept pace with the reader: done in the last stretch of the run.
    let written = testing::mark_times(tl, "all written")[0];
    let ended = testing::mark_times(tl, "end of stream")[0];
    assert!(written * 2.0 > ended, "{written} vs {ended} ms");
}

#[test]
fn a_cancelled_run_ends_every_lane() {
    let sets = ["chunks=64", "read_every_ms=10"];
    let req = testing::request::<SlowReader>(&[Variant::Drain], &sets, Clock::Real).unwrap();
    testing::cancelled_after(req, 200);
}
