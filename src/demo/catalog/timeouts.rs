//! Q7/Q11/Q14: three ways to stop waiting for slow operations: timeout, select!, and one
//! deadline for a whole JoinSet.

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::demo::{Ctx, DemoSpec, Ended, LegacyDemo, ParamKind, ParamSpec, Params, VariantSpec};

pub struct Timeouts;

static SPEC: DemoSpec = DemoSpec {
    id: "timeouts",
    title: "Timeouts: timeout, select! and a deadline",
    about: "Operations run concurrently, each taking its latency. Those that answer within \
            timeout_ms complete; the others are dropped at the limit: ended as timed out by \
            timeout or select!, or aborted when the JoinSet's deadline passes.",
    variants: &[
        VariantSpec::single("timeout", "tokio::time::timeout around each operation"),
        VariantSpec::single(
            "select",
            "tokio::select! between each operation and a sleep",
        ),
        VariantSpec::single(
            "deadline-set",
            "all operations in a JoinSet with one deadline; the pending ones are aborted",
        ),
    ],
    default_variants: &["timeout", "select", "deadline-set"],
    params: &[
        ParamSpec {
            name: "latencies_ms",
            kind: ParamKind::MsList {
                min_len: 1,
                max_len: 1000,
                min: 0,
                max: 60_000,
            },
            default: "100,300,600",
            help: "how long each operation takes to answer, in order",
        },
        ParamSpec {
            name: "timeout_ms",
            kind: ParamKind::Ms {
                min: 0,
                max: 60_000,
            },
            default: "250",
            help: "how long to wait for each operation (the deadline, for deadline-set)",
        },
    ],
    metrics: &[
        ("completed", "operations that answered within timeout_ms"),
        (
            "timed_out",
            "operations stopped at the limit (timed out or aborted)",
        ),
    ],
    source: include_str!("timeouts.rs"),
    source_file: file!(),
};

impl LegacyDemo for Timeouts {
    fn spec(&self) -> &'static DemoSpec {
        &SPEC
    }

    fn run(&self, ctx: Ctx, variant: &'static str, params: Params) -> BoxFuture<'static, ()> {
        let latencies = params.ms_list("latencies_ms");
        let limit = params.ms("timeout_ms");
        async move {
            let tally = match variant {
                "timeout" => each_with_limit(&ctx, &latencies, limit, Race::Timeout).await,
                "select" => each_with_limit(&ctx, &latencies, limit, Race::Select).await,
                _ => one_deadline(&ctx, &latencies, limit).await,
            };
            ctx.metric("completed", tally.completed);
            ctx.metric("timed_out", tally.timed_out);
        }
        .boxed()
    }
}

/// How each operation races its own time limit.
#[derive(Clone, Copy)]
enum Race {
    Timeout,
    Select,
}

// region:demo
use std::time::Duration;

use tokio::task::JoinSet;

#[derive(Default)]
struct Tally {
    completed: u64,
    timed_out: u64,
}

/// One operation: it answers after `latency` (a timer stands in for the remote side).
async fn call(latency: Duration) {
    tokio::time::sleep(latency).await;
}

/// tokio::time::timeout: if the limit passes first, the call is dropped and we get Err(Elapsed).
async fn with_timeout(ctx: Ctx, latency: Duration, limit: Duration) -> Ended {
    match tokio::time::timeout(limit, call(latency)).await {
        Ok(()) => Ended::ok(format!("answered in {} ms", latency.as_millis())),
        Err(_elapsed) => {
            ctx.mark("timed out");
            Ended::timeout(format!("no answer within {} ms", limit.as_millis()))
        }
    }
}

/// The same race by hand: select! polls both futures and drops the one that loses.
async fn with_select(ctx: Ctx, latency: Duration, limit: Duration) -> Ended {
    tokio::select! {
        // biased: poll the call first, so one answering exactly at the limit counts as on time
        // (timeout does the same).
        biased;
        () = call(latency) => Ended::ok(format!("answered in {} ms", latency.as_millis())),
        () = tokio::time::sleep(limit) => {
            ctx.mark("timed out");
            Ended::timeout(format!("no answer within {} ms", limit.as_millis()))
        }
    }
}

/// Every operation is its own task with its own limit; main just collects them.
async fn each_with_limit(ctx: &Ctx, latencies: &[Duration], limit: Duration, race: Race) -> Tally {
    let mut set = JoinSet::new();
    for (i, &latency) in latencies.iter().enumerate() {
        let name = format!("op {}", i + 1);
        match race {
            Race::Timeout => {
                ctx.spawn_in(&mut set, name, with_timeout(ctx.clone(), latency, limit))
            }
            Race::Select => ctx.spawn_in(&mut set, name, with_select(ctx.clone(), latency, limit)),
        };
    }
    ctx.series("pending", set.len());
    let mut tally = Tally::default();
    while let Some(res) = set.join_next().await {
        match res {
            Ok(ended) if ended.is_ok() => tally.completed += 1,
            _ => tally.timed_out += 1,
        }
        ctx.series("pending", set.len());
    }
    tally
}

/// One deadline for the whole set: collect what answers in time, then abort the rest.
async fn one_deadline(ctx: &Ctx, latencies: &[Duration], limit: Duration) -> Tally {
    let mut set = JoinSet::new();
    for (i, &latency) in latencies.iter().enumerate() {
        let op = async move {
            call(latency).await;
            Ended::ok(format!("answered in {} ms", latency.as_millis()))
        };
        ctx.spawn_in(&mut set, format!("op {}", i + 1), op);
    }
    ctx.series("pending", set.len());
    let mut tally = Tally::default();
    let deadline = tokio::time::sleep(limit);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            biased;
            res = set.join_next() => match res {
                Some(_) => tally.completed += 1,
                None => break, // every operation answered before the deadline
            },
            () = &mut deadline => {
                // Operations answering at the deadline itself are on time: let them finish.
                tokio::task::yield_now().await;
                while set.try_join_next().is_some() {
                    tally.completed += 1;
                }
                ctx.mark("deadline: abort the rest");
                // Each aborted task's future is dropped at its await: it ends "cancelled".
                set.abort_all();
                while let Some(res) = set.join_next().await {
                    match res {
                        Err(e) if e.is_cancelled() => tally.timed_out += 1,
                        _ => tally.completed += 1,
                    }
                }
                break;
            }
        }
        ctx.series("pending", set.len());
    }
    ctx.series("pending", set.len());
    tally
}
// endregion:demo

#[cfg(test)]
mod tests {
    use crate::demo::runner::{self, RunReport, RunRequest};
    use crate::demo::{Clock, Outcome};

    fn run(sets: &[&str]) -> RunReport {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        let req = RunRequest::build("timeouts", &[], &sets, Clock::Virtual).unwrap();
        runner::run_blocking(req).unwrap()
    }

    fn check(sets: &[&str], latencies: &[f64], limit: f64) {
        let report = run(sets);
        assert_eq!(report.runs.len(), 3);
        let completed = latencies.iter().filter(|&&l| l <= limit).count();
        let timed_out = latencies.len() - completed;
        let max = latencies.iter().copied().fold(0.0, f64::max);
        for (variant, late) in [
            ("timeout", Outcome::Timeout),
            ("select", Outcome::Timeout),
            ("deadline-set", Outcome::Cancelled),
        ] {
            let r = report.run(variant).unwrap();
            assert_eq!(r.alive_after, 0, "{variant}");
            assert_eq!(r.error, None, "{variant}");
            let tl = &r.timeline;
            assert_eq!(r.total_ms, max.min(limit), "{variant}");
            assert_eq!(tl.metric("completed"), Some(completed as f64), "{variant}");
            assert_eq!(tl.metric("timed_out"), Some(timed_out as f64), "{variant}");
            assert_eq!(tl.count(late), timed_out, "{variant}");
            // main plus every operation that answered
            assert_eq!(tl.count(Outcome::Ok), completed + 1, "{variant}");
            for (i, &latency) in latencies.iter().enumerate() {
                let op = tl.task(&format!("op {}", i + 1)).unwrap();
                assert_eq!(op.spawned_ms, 0.0, "{variant} op {}", i + 1);
                if latency <= limit {
                    assert_eq!(op.outcome, Outcome::Ok, "{variant} op {}", i + 1);
                    assert_eq!(op.finished_ms, Some(latency), "{variant} op {}", i + 1);
                } else {
                    assert_eq!(op.outcome, late, "{variant} op {}", i + 1);
                    assert_eq!(op.finished_ms, Some(limit), "{variant} op {}", i + 1);
                }
            }
        }
    }

    #[test]
    fn defaults() {
        check(&[], &[100.0, 300.0, 600.0], 250.0);
    }

    #[test]
    fn other_settings() {
        // All in time: the total is the slowest operation.
        check(
            &["latencies_ms=50,20,80", "timeout_ms=100"],
            &[50.0, 20.0, 80.0],
            100.0,
        );
        // Exactly at the limit counts as on time, in every variant.
        check(
            &["latencies_ms=250,100,400,250", "timeout_ms=250"],
            &[250.0, 100.0, 400.0, 250.0],
            250.0,
        );
        // Nothing in time.
        check(
            &["latencies_ms=500,700", "timeout_ms=0"],
            &[500.0, 700.0],
            0.0,
        );
    }
}
