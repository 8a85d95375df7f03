use std::path::Path;
use std::time::Duration;

use super::{Config, Downloader, SPEC, Variant, run_in};
use crate::demo::recorder::Recorder;
use crate::demo::testing::{self, cancel_midway, clean, metric, ports_closed, run_real};
use crate::demo::timeline::TimelineSnapshot;
use crate::demo::{Clock, Ctx, DemoVariant, FromParams, Outcome, Params};

const SMALL: &[&str] = &[
    "files=6",
    "concurrency=3",
    "size_kb=64",
    "chunk_kb=8",
    "chunk_ms=5",
];

fn sets(extra: &[&'static str]) -> Vec<&'static str> {
    SMALL.iter().chain(extra).copied().collect()
}

fn strings(tl: &TimelineSnapshot, name: &str) -> Vec<String> {
    match tl.metrics.get(name) {
        Some(serde_json::Value::Array(v)) => v
            .iter()
            .filter_map(|s| s.as_str().map(str::to_owned))
            .collect(),
        other => panic!("{name}: {other:?}"),
    }
}

fn dir_of(tl: &TimelineSnapshot) -> String {
    tl.metrics
        .get("dir")
        .and_then(|d| d.as_str())
        .expect("dir metric")
        .to_owned()
}

/// The failed file is reported and absent, the others are on disk with the manifest's
/// sha256, and the directory is gone.
fn one_failure(tl: &TimelineSnapshot, failed_name: &str, why: &str) {
    assert_eq!(metric(tl, "files_ok"), 5.0);
    assert_eq!(metric(tl, "files_failed"), 1.0);
    assert_eq!(metric(tl, "verified_on_disk"), 5.0);
    assert_eq!(metric(tl, "bytes_written"), 5.0 * 64.0 * 1024.0);
    let failed = strings(tl, "failed");
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0].starts_with(&format!("{failed_name}: ")),
        "{failed:?}"
    );
    assert!(failed[0].contains(why), "{failed:?}");
    let left = strings(tl, "files_left");
    let expected: Vec<String> = (1..=6)
        .map(|n| format!("file-{n}.bin"))
        .filter(|n| n != failed_name)
        .collect();
    assert_eq!(left, expected, "only whole, verified files; no .part");
    let lane = testing::task(tl, failed_name);
    assert_eq!(lane.outcome, Outcome::Error);
    assert_eq!(metric(tl, "max_in_flight"), 3.0);
    assert_eq!(tl.metrics.get("dir_removed"), Some(&true.into()));
    assert!(!Path::new(&dir_of(tl)).exists());
    ports_closed(tl, "server_addr");
}

#[test]
fn a_cut_file_is_reported_and_leaves_nothing_behind() {
    let report = run_real::<Downloader>(&[], &sets(&[]));
    for r in &report.runs {
        clean(r);
        let tl = &r.timeline;
        one_failure(tl, "file-4.bin", "cut off after");
        let opened = metric(tl, "connections_opened");
        match Variant::parse(r.variant).expect("a declared variant") {
            Variant::SharedClient => {
                // The pool's connections are reused; the cut one is replaced.
                assert!((3.0..=4.0).contains(&opened), "{opened}");
            }
            Variant::ClientPerFile => {
                // The manifest's, then one per file.
                assert_eq!(opened, 7.0);
            }
        }
    }
}

#[test]
fn a_refused_or_corrupt_file_is_caught_too() {
    for (failure, why) in [("failure=status", "500"), ("failure=corrupt", "sha256")] {
        let report =
            run_real::<Downloader>(&[Variant::SharedClient], &sets(&[failure, "broken_file=2"]));
        let r = testing::variant(&report, Variant::SharedClient);
        clean(r);
        one_failure(&r.timeline, "file-2.bin", why);
    }
}

#[test]
fn without_a_broken_file_everything_is_kept_and_verified() {
    let report = run_real::<Downloader>(&[Variant::SharedClient], &sets(&["broken_file=0"]));
    let r = testing::variant(&report, Variant::SharedClient);
    clean(r);
    let tl = &r.timeline;
    assert_eq!(metric(tl, "files_ok"), 6.0);
    assert_eq!(metric(tl, "verified_on_disk"), 6.0);
    assert_eq!(strings(tl, "files_left").len(), 6);
    assert!(!Path::new(&dir_of(tl)).exists());
    // Every file's progress reached 100 %.
    for n in 1..=6 {
        let last = tl.series[&format!("progress file-{n}.bin")].last().cloned();
        assert_eq!(last.map(|p| p.1), Some(100usize.into()));
    }
}

#[test]
fn cancelling_mid_download_removes_the_directory() {
    let slow = [
        "size_kb=1024",
        "chunk_kb=16",
        "chunk_ms=100",
        "concurrency=2",
    ];
    let before = cancel_midway::<Downloader>(Variant::SharedClient, &slow, 600, "server_addr");
    let dir = dir_of(&before);
    // A create still running on the blocking pool removes the directory when it is done.
    let gone = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(10));
        !Path::new(&dir).exists()
    });
    assert!(gone, "{dir} is left behind");
}

#[test]
fn an_unwritable_temp_dir_ends_the_run_with_an_error() {
    let not_a_dir = tempfile::NamedTempFile::new().expect("a file");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let rec = rt.block_on(async { Recorder::new() });
    let ctx = Ctx::new(rec.clone(), Clock::Real, "downloader");
    let cfg = Config::from_params(&Params::defaults(&SPEC)).expect("the defaults read");
    let base = not_a_dir.path().to_owned();
    rt.block_on(run_in(ctx, Variant::SharedClient, cfg, base));
    let tl = rec.snapshot();
    let lane = testing::task(&tl, "downloads");
    assert_eq!(lane.outcome, Outcome::Error);
    assert!(
        lane.detail
            .starts_with("cannot create a temporary directory in"),
        "{}",
        lane.detail
    );
    // The run as a whole says why it failed (so `run` exits 1 and the app shows it).
    assert_eq!(
        rec.run_error().map(|e| e.to_string()),
        Some(lane.detail.clone())
    );
    ports_closed(&tl, "server_addr");
}
