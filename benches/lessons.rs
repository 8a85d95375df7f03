//! Loading and validating every shipped lesson (budget: under 5 ms median in a release build; and
//! the same from YAML alone, which is why start-up reads build-time JSON), and the demo engine's
//! budgets: recorder cost per poll, a 100,000-task gather on the virtual clock, serialising a
//! 10,000-task run; and refusing a lesson nested 10,000 levels deep.

use asyncdojo::demo::{Clock, Registry, RunRequest, runner};

fn main() {
    divan::main();
}

#[divan::bench]
fn load_and_validate_shipped_lessons() -> usize {
    asyncdojo::lesson::load_embedded(&Registry).lessons.len()
}

/// The shipped lessons parsed from their YAML text (the careful path, which directories and
/// `check` take), on two threads like the loader: what start-up would cost without the
/// build-time JSON. Kept next to the real load so the choice can be re-measured.
#[divan::bench]
fn load_shipped_from_yaml() -> usize {
    parse_all_on_two_threads(|name, text| {
        asyncdojo::lesson::parse_lesson(name, text.as_bytes(), &Registry).is_ok()
    })
}

fn parse_all_on_two_threads(parse: impl Fn(&str, &str) -> bool + Sync) -> usize {
    let files: Vec<(&str, &str)> = asyncdojo::lesson::load::embedded_files()
        .iter()
        .map(|f| (f.0, std::str::from_utf8(f.1).expect("utf-8")))
        .collect();
    let (a, b) = files.split_at(files.len() / 2);
    let count = |chunk: &[(&str, &str)]| chunk.iter().filter(|(n, t)| parse(n, t)).count();
    std::thread::scope(|s| {
        let other = s.spawn(|| count(b));
        count(a) + other.join().expect("thread")
    })
}

/// One recorded poll: what the instrumentation adds to every poll of every demo task.
#[divan::bench]
fn recorder_poll(bencher: divan::Bencher) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let _guard = rt.enter();
    let rec = asyncdojo::demo::recorder::Recorder::new();
    let id = rec.new_task("bench".into(), None);
    bencher.bench_local(|| {
        let start = tokio::time::Instant::now();
        rec.poll(id, start);
    });
}

#[divan::bench(sample_count = 10)]
fn gather_100k_tasks_virtual() -> usize {
    let list = vec!["5"; 100_000].join(",");
    let req = RunRequest::build(
        "gather",
        &["join-set".into()],
        &[format!("latencies_ms={list}")],
        Clock::Virtual,
    )
    .expect("valid request");
    runner::run_blocking(req).expect("run").runs[0]
        .timeline
        .tasks
        .len()
}

#[divan::bench(sample_count = 20)]
fn serialise_10k_task_run(bencher: divan::Bencher) {
    let list = vec!["5"; 10_000].join(",");
    let req = RunRequest::build(
        "gather",
        &["join-set".into()],
        &[format!("latencies_ms={list}")],
        Clock::Virtual,
    )
    .expect("valid request");
    let report = runner::run_blocking(req).expect("run");
    bencher.bench(|| serde_json::to_vec(&report).expect("serialise").len());
}

#[divan::bench]
fn parts_yaml_value() -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir("lessons").expect("lessons") {
        let p = entry.expect("entry").path();
        if p.extension().is_some_and(|e| e == "yaml") {
            let text = std::fs::read_to_string(&p).expect("read");
            let v: yaml_serde::Value = yaml_serde::from_str(&text).expect("parse");
            n += v.as_mapping().map_or(0, |m| m.len());
        }
    }
    n
}

#[divan::bench]
fn parts_span_index() -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir("lessons").expect("lessons") {
        let p = entry.expect("entry").path();
        if p.extension().is_some_and(|e| e == "yaml") {
            let text = std::fs::read_to_string(&p).expect("read");
            n += asyncdojo::lesson::spans::SpanIndex::build(&text)
                .first_alias
                .is_some() as usize;
        }
    }
    n
}

/// A hostile lesson nested 10,000 levels deep is refused (budget: 100 ms).
#[divan::bench(sample_count = 20)]
fn refuse_10k_deep_nesting(bencher: divan::Bencher) {
    let deep = format!("a: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
    bencher.bench_local(|| {
        asyncdojo::lesson::parse_lesson("deep.yaml", deep.as_bytes(), &Registry)
            .expect_err("refused")
            .len()
    });
}
