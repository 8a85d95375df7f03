//! What serving tokio-console costs a demo run: a `gather` of 10,000 tasks (join-set, virtual
//! clock) timed without the console layer, then with it installed, in the same process. Medians
//! of 15 runs each; the ratio is the figure to read on a noisy machine.

use std::time::{Duration, Instant};

use asyncdojo::demo::{Clock, RunRequest, runner};

fn gather_10k() -> Duration {
    let list = vec!["5"; 10_000].join(",");
    let req = RunRequest::build(
        "gather",
        &["join-set".into()],
        &[format!("latencies_ms={list}")],
        Clock::Virtual,
    )
    .expect("valid request");
    let started = Instant::now();
    let report = runner::run_blocking(req).expect("run");
    assert_eq!(report.runs[0].timeline.tasks.len(), 10_001);
    started.elapsed()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes --bench; a filter that names something else skips us.
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with('-') && !"console".contains(a.as_str()))
    {
        return;
    }
    let _ = gather_10k(); // warm-up
    let without = median((0..15).map(|_| gather_10k()).collect());
    match asyncdojo::console::serve("127.0.0.1:0".parse().expect("addr"), Box::new(|_| {})) {
        Ok(status) => {
            let with = median((0..15).map(|_| gather_10k()).collect());
            println!(
                "gather of 10,000 tasks: {:.1} ms without the console layer, {:.1} ms with it \
                 (served on {}): ×{:.2}",
                without.as_secs_f64() * 1000.0,
                with.as_secs_f64() * 1000.0,
                status.addr,
                with.as_secs_f64() / without.as_secs_f64()
            );
        }
        Err(err) => println!(
            "gather of 10,000 tasks: {:.1} ms; console not measured: {err}",
            without.as_secs_f64() * 1000.0
        ),
    }
}
