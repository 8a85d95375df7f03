use super::{HttpFanout, Variant};
use crate::demo::services::endpoints::fails;
use crate::demo::testing::{self, cancel_midway, clean, metric, ports_closed, run_real};
use crate::demo::{DemoVariant, Outcome};

const SETS: &[&str] = &[
    "requests=20",
    "limit=4",
    "latency_ms=40",
    "fail_pct=10",
    "seed=3",
];

#[test]
fn every_variant_counts_requests_connections_and_failures() {
    let report = run_real::<HttpFanout>(&[], SETS);
    assert_eq!(report.runs.len(), 4);
    let failing = (1..=20).filter(|&id| fails(3, id, 10)).count() as f64;
    assert!(failing > 0.0, "seed 3 fails some requests");
    for r in &report.runs {
        clean(r);
        let tl = &r.timeline;
        let v = r.variant;
        assert_eq!(metric(tl, "requests_ok"), 20.0 - failing, "{v}");
        assert_eq!(metric(tl, "requests_failed"), failing, "{v}");
        // Each request either opened a connection or reused one.
        let opened = metric(tl, "connections_opened");
        assert_eq!(opened + metric(tl, "connection_reuses"), 20.0, "{v}");
        let lanes: Vec<_> = tl
            .tasks
            .iter()
            .filter(|t| t.name.starts_with("request "))
            .collect();
        assert_eq!(lanes.len(), 20, "{v}");
        assert_eq!(
            lanes.iter().filter(|t| t.outcome == Outcome::Error).count() as f64,
            failing,
            "{v}"
        );
        let (max_in_flight, conns) = match Variant::parse(v).expect("a declared variant") {
            Variant::Sequential => (1.0, 1.0),
            Variant::JoinAll => (20.0, 20.0),
            Variant::Semaphore | Variant::BufferUnordered => (4.0, 4.0),
        };
        assert_eq!(metric(tl, "max_in_flight"), max_in_flight, "{v}");
        assert_eq!(opened, conns, "{v}: connections opened");
        // The server's connection count went back to zero: the pool's sockets are closed.
        let last = tl.series["server_connections"].last().map(|p| p.1.clone());
        assert_eq!(last, Some(0usize.into()), "{v}");
        ports_closed(tl, "server_addr");
    }
}

#[test]
fn buffer_unordered_creates_requests_only_when_a_slot_is_free() {
    let report = run_real::<HttpFanout>(&[Variant::Semaphore, Variant::BufferUnordered], SETS);
    let spawned = |variant: Variant| -> Vec<f64> {
        let tl = &testing::variant(&report, variant).timeline;
        tl.tasks
            .iter()
            .filter(|t| t.name.starts_with("request "))
            .map(|t| t.spawned_ms)
            .collect()
    };
    // The semaphore's 20 tasks all exist from the start, waiting for permits...
    let sem = spawned(Variant::Semaphore);
    assert!(sem.iter().all(|&t| t < sem[0] + 30.0), "{sem:?}");
    // ...the stream's requests are made four at a time, one latency apart (40 ms).
    let buf = spawned(Variant::BufferUnordered);
    assert!(buf[19] - buf[0] >= 4.0 * 40.0, "{buf:?}");
}

#[test]
fn cancelling_mid_run_closes_the_server_and_every_socket() {
    let sets = ["latency_ms=5000", "requests=50"];
    cancel_midway::<HttpFanout>(Variant::JoinAll, &sets, 400, "server_addr");
}

#[test]
fn marks_point_at_their_line_of_the_shown_file() {
    let sets = ["requests=3", "latency_ms=0", "fail_pct=0"];
    let report = run_real::<HttpFanout>(&[Variant::Sequential], &sets);
    let tl = &testing::variant(&report, Variant::Sequential).timeline;
    let mark = tl
        .marks
        .iter()
        .find(|m| m.label == "new connection 1")
        .expect("the first request opened a connection");
    let line = mark.line.expect("made from the shown file") as usize;
    let shown = super::SPEC.source.lines().nth(line - 1).expect("a line");
    assert_eq!(
        shown.trim(),
        r#"fan.ctx.mark(format!("new connection {}", c.conn));"#
    );
    // The server's own marks are not in the shown file.
    let listening = tl
        .marks
        .iter()
        .find(|m| m.label.starts_with("listening on"));
    assert_eq!(listening.map(|m| m.line), Some(None));
}
