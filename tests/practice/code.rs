//! Practice shows the code a prediction runs: the variant's function in the demo's shown file, or
//! in its asyncio twin (see `app::practice::code` for the rule).

use super::*;
use asyncdojo::app::practice::code::{VariantCode, variant_code};
use asyncdojo::demo::asyncio::Runtime;

/// What the rule finds for every (demo, variant, runtime) a shipped predict item runs. `None`:
/// no function is the variant's, the whole file shows from the top.
const EXPECTED: &[(&str, &str, Runtime, Option<&str>)] = &[
    ("gather", "sequential", Runtime::Tokio, Some("sequential")),
    ("gather", "join-all", Runtime::Tokio, Some("join_all")),
    (
        "event-loop",
        "current-thread",
        Runtime::Tokio,
        Some("run_tasks"),
    ),
    ("lazy-futures", "lazy", Runtime::Tokio, Some("lazy")),
    (
        "spawn-vs-await",
        "await",
        Runtime::Tokio,
        Some("await_later"),
    ),
    ("spawn-vs-await", "spawn", Runtime::Tokio, Some("spawn")),
    (
        "spawn-vs-await",
        "abort",
        Runtime::Tokio,
        Some("spawn_then_abort"),
    ),
    ("semaphore", "fifo", Runtime::Tokio, Some("bounded")),
    (
        "gather-errors",
        "detached",
        Runtime::Tokio,
        Some("detached"),
    ),
    (
        "gather-errors",
        "try-join-all",
        Runtime::Tokio,
        Some("try_join_all"),
    ),
    (
        "gather-errors",
        "join-all",
        Runtime::Tokio,
        Some("join_all"),
    ),
    ("timeouts", "timeout", Runtime::Tokio, Some("with_timeout")),
    (
        "timeouts",
        "deadline-set",
        Runtime::Tokio,
        Some("one_deadline"),
    ),
    // The twin's `case "timeout":` calls each_with_limit (with with_timeout as its operation).
    (
        "timeouts",
        "timeout",
        Runtime::Asyncio,
        Some("each_with_limit"),
    ),
    (
        "select-loop",
        "recreated",
        Runtime::Tokio,
        Some("recreated"),
    ),
    ("select-loop", "pinned", Runtime::Tokio, Some("pinned")),
    (
        "circuit-breaker",
        "breaker",
        Runtime::Tokio,
        Some("Breaker"),
    ),
    (
        "rate-limiter",
        "sliding-window",
        Runtime::Tokio,
        Some("SlidingWindow"),
    ),
    (
        "rate-limiter",
        "token-bucket",
        Runtime::Tokio,
        Some("TokenBucket"),
    ),
    ("rate-limiter", "gcra", Runtime::Tokio, Some("Gcra")),
    (
        "scheduler",
        "fixed-rate",
        Runtime::Tokio,
        Some("fixed_rate"),
    ),
    (
        "scheduler",
        "fixed-delay",
        Runtime::Tokio,
        Some("fixed_delay"),
    ),
    (
        "retry-backoff",
        "exponential",
        Runtime::Tokio,
        Some("retry"),
    ),
    // `blocking` and `async-sleep` are arms of one `match how` in `blocker`, and the ticker the
    // items measure is the file's first function: the whole file, from the top.
    ("blocking", "blocking", Runtime::Tokio, None),
    ("blocking", "async-sleep", Runtime::Tokio, None),
    ("loop-lag", "monitor", Runtime::Tokio, Some("monitor")),
    (
        "spawn-vs-await",
        "abort",
        Runtime::Asyncio,
        Some("spawn_then_cancel"),
    ),
    (
        "gather-errors",
        "join-set-abort",
        Runtime::Tokio,
        Some("join_set_abort"),
    ),
    ("gather", "join-set", Runtime::Asyncio, Some("join_set")),
    (
        "spawn-vs-await",
        "await",
        Runtime::Asyncio,
        Some("await_later"),
    ),
    ("spawn-vs-await", "spawn", Runtime::Asyncio, Some("spawn")),
    // Both variants run the same program on pools of two sizes: main, which hands the jobs over.
    ("executor-pool", "starved", Runtime::Tokio, Some("main")),
    ("executor-pool", "starved", Runtime::Asyncio, Some("main")),
    // serve() dispatches on the variant: the request a variant runs.
    (
        "request-ids",
        "global",
        Runtime::Asyncio,
        Some("with_global"),
    ),
    (
        "request-ids",
        "executor",
        Runtime::Asyncio,
        Some("with_context_var"),
    ),
];

/// Every shipped predict item with the code it shows.
fn shown_codes() -> Vec<(String, VariantCode)> {
    let mut all = Vec::new();
    for l in lessons() {
        for q in l.quiz.iter().filter(|q| q.kind() == QuizKind::Predict) {
            let p = q.as_predict().expect("a predict item");
            let code = variant_code(p, p.runtime)
                .unwrap_or_else(|| panic!("{}/{}: no code for {}", l.id, q.id, p.demo));
            all.push((format!("{}/{}", l.id, q.id), code));
        }
    }
    assert!(all.len() >= 19, "only {} predict items", all.len());
    all
}

#[test]
fn every_predict_item_shows_its_variants_function() {
    for (item, code) in shown_codes() {
        let expected = EXPECTED
            .iter()
            .find(|(d, v, r, _)| *d == code.demo && *v == code.variant && *r == code.runtime)
            .unwrap_or_else(|| {
                panic!(
                    "{item}: {} {} on {:?} is new: add what it should show to EXPECTED",
                    code.demo, code.variant, code.runtime
                )
            })
            .3;
        let found = code.function.as_ref().map(|f| f.name.as_str());
        assert_eq!(found, expected, "{item}");
        let lines: Vec<&str> = code.source.text.lines().collect();
        match &code.function {
            Some(f) => {
                // The span is the definition: its line names it, from its comments to its end.
                let def = lines[f.line as usize - 1];
                assert!(
                    def.contains(&format!("fn {}", f.name))
                        || def.contains(&format!("def {}", f.name))
                        || def.contains(&format!("struct {}", f.name)),
                    "{item}: line {} is `{def}`",
                    f.line
                );
                assert!(f.first <= f.line && f.line < f.last, "{item}: {f:?}");
                assert!(f.last as usize <= lines.len(), "{item}: {f:?}");
                let end = lines[f.last as usize - 1].trim();
                let python = code.source.file.ends_with(".py");
                assert!(
                    python || end == "}",
                    "{item}: a Rust item ends at its brace, not `{end}`"
                );
                assert_eq!(code.first_line(), f.first);
                assert_eq!(code.start_line(), f.line);
            }
            None => {
                assert_eq!(code.first_line(), 1, "{item}: the whole file, from the top");
                assert_eq!(code.start_line(), 1, "{item}");
            }
        }
    }
}

#[test]
fn the_code_is_the_file_that_runs_the_items_runtime() {
    for (item, code) in shown_codes() {
        let expected = match code.runtime {
            Runtime::Tokio => asyncdojo::demo::source::shown(code.demo),
            Runtime::Asyncio => asyncdojo::demo::source::twin(code.demo),
        };
        assert_eq!(Some(code.source), expected, "{item}");
        match code.runtime {
            Runtime::Asyncio => assert!(code.source.file.starts_with("twins/"), "{item}"),
            Runtime::Tokio => assert!(code.source.file.ends_with("/shown.rs"), "{item}"),
        }
    }
    // The asyncio item is shown its twin.
    let ls = lessons();
    let q = item(lesson(&ls, "q07-timeouts"), "exactly-on-time-asyncio");
    let p = q.as_predict().expect("predict");
    assert_eq!(p.runtime, Runtime::Asyncio);
    let code = variant_code(p, p.runtime).expect("code");
    assert_eq!(code.source.file, "twins/timeouts.py");
}

#[test]
fn an_asyncio_prediction_shows_python_for_every_demo() {
    // Every demo has a twin now: an item scored on asyncio always shows the twin's Python.
    let ls = lessons();
    let q = item(lesson(&ls, "q01-sync-vs-async"), "sequential-total");
    for demo in asyncdojo::demo::ids() {
        let mut p = q.as_predict().expect("predict").clone();
        p.demo = demo.into();
        p.variant = None;
        let code = variant_code(&p, Runtime::Asyncio).expect("code");
        assert_eq!(code.runtime, Runtime::Asyncio, "{demo}");
        assert!(
            code.source.file.starts_with("twins/"),
            "{demo}: {}",
            code.source.file
        );
    }
}
