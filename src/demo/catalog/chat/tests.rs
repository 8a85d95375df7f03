use super::{Chat, Variant};
use crate::demo::runner::VariantRun;
use crate::demo::testing::{self, clean, run_real};
use crate::demo::timeline::TimelineSnapshot;
use crate::demo::{Clock, Outcome};

/// Run on the harness; the run ended clean, its port is closed and every lane ended ok.
fn run(sets: &[&str]) -> VariantRun {
    let report = run_real::<Chat>(&[], sets);
    let r = testing::variant(&report, Variant::Broadcast).clone();
    clean(&r);
    port_closed(&r);
    for t in &r.timeline.tasks {
        assert_eq!(t.outcome, Outcome::Ok, "{}: {}", t.name, t.detail);
    }
    r
}

fn port_closed(r: &VariantRun) {
    let port = r.timeline.metrics["port"].as_u64().unwrap() as u16;
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "port {port} still open"
    );
}

/// A per-client count from a metric object; 0 when the client is not in it.
fn count(tl: &TimelineSnapshot, metric: &str, who: &str) -> u64 {
    tl.metrics[metric]
        .get(who)
        .and_then(|v| v.as_u64())
        .unwrap_or(0)
}

fn mark_time(tl: &TimelineSnapshot, label: &str) -> f64 {
    let found = testing::mark_times(tl, label);
    assert_eq!(found.len(), 1, "one `{label}` mark");
    found[0]
}

#[test]
fn the_slow_client_loses_and_is_told_the_others_get_everything() {
    let r = run(&[]);
    let tl = &r.timeline;
    // Fast clients: all 60, in order (each checks the order itself), nothing lost.
    for who in ["fast 1", "fast 2"] {
        assert_eq!(count(tl, "received", who), 60, "{who}");
        assert_eq!(count(tl, "lost", who), 0, "{who}");
        assert_eq!(count(tl, "lost_told", who), 0, "{who}");
    }
    // The slow client lost some; the server counted them and told it, exactly.
    let lost = count(tl, "lost", "slow");
    assert!(lost > 0, "the slow client lost nothing");
    assert_eq!(count(tl, "lost_told", "slow"), lost);
    assert_eq!(count(tl, "received", "slow") + lost, 60);
    let marked: u64 = tl
        .marks
        .iter()
        .filter_map(|m| m.label.strip_prefix("slow lagged: lost "))
        .map(|n| n.parse::<u64>().unwrap())
        .sum();
    assert_eq!(marked, lost);
    // The leaver left mid-stream, the server noticed, and the room went on without it.
    assert_eq!(count(tl, "received", "leaver"), 20);
    let leaves = mark_time(tl, "leaver leaves");
    let left = mark_time(tl, "leaver left");
    assert!(leaves <= left);
    assert!(left < mark_time(tl, "talker left"), "mid-stream");
    // The late client got the last 5 messages first, then the rest live, seamlessly.
    let seqs: Vec<u64> = serde_json::from_value(tl.metrics["history_seqs"].clone()).unwrap();
    assert_eq!(seqs.len(), 5);
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    // Joined once the talker had sent 30 (the server may not have read the very last yet).
    assert!(seqs[4] >= 25, "{seqs:?}");
    assert_eq!(count(tl, "received", "late"), 60 - seqs[4]);
}

/// Every connection is a reading task and its sender, the only writer to the socket; the slow
/// client's losses are its sender's.
#[test]
fn each_connection_has_one_sender_that_counts_the_losses() {
    let r = run(&[]);
    let tl = &r.timeline;
    let conns: Vec<_> = tl
        .tasks
        .iter()
        .filter(|t| t.name.starts_with("conn ") && !t.name.ends_with(" sender"))
        .collect();
    assert_eq!(conns.len(), 6);
    for conn in conns {
        let senders: Vec<_> = tl
            .tasks
            .iter()
            .filter(|t| t.parent == Some(conn.id))
            .map(|t| t.name.as_str())
            .collect();
        assert_eq!(senders, [format!("{} sender", conn.name)]);
    }
    let lost = count(tl, "lost", "slow");
    let slow = tl
        .tasks
        .iter()
        .find(|t| t.name.ends_with(" sender") && t.detail.starts_with("slow:"))
        .expect("the slow client's sender");
    assert!(
        slow.detail.ends_with(&format!(", {lost} lost")),
        "{}",
        slow.detail
    );
    for m in tl
        .marks
        .iter()
        .filter(|m| m.label.starts_with("slow lagged"))
    {
        assert_eq!(m.task, Some(slow.id), "{}", m.label);
    }
}

#[test]
fn with_room_to_fall_behind_the_slow_client_loses_nothing() {
    let r = run(&[
        "messages=30",
        "room_capacity=256",
        "slow_read_ms=2",
        "history=0",
    ]);
    let tl = &r.timeline;
    assert_eq!(count(tl, "received", "slow"), 30);
    assert_eq!(count(tl, "lost", "slow"), 0);
    assert_eq!(tl.metrics["history_seqs"], serde_json::json!([]));
}

#[test]
fn a_client_joining_after_the_end_gets_the_history_and_the_end() {
    let r = run(&[
        "messages=12",
        "late_join_after=12",
        "history=4",
        "leave_after=3",
        "slow_read_ms=0",
    ]);
    let tl = &r.timeline;
    assert_eq!(
        tl.metrics["history_seqs"],
        serde_json::json!([9, 10, 11, 12])
    );
    assert_eq!(count(tl, "received", "late"), 0);
    let late = testing::task(tl, "late");
    assert_eq!(late.detail, "0 received");
    assert_eq!(count(tl, "received", "leaver"), 3);
    assert_eq!(count(tl, "received", "fast 1"), 12);
}

#[test]
fn a_cancelled_run_closes_the_server() {
    let sets = ["messages=300", "send_every_ms=50"];
    let req = testing::request::<Chat>(&[], &sets, Clock::Real).unwrap();
    let r = &testing::cancelled_after(req, 300);
    port_closed(r);
}
