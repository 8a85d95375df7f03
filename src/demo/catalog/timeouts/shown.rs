use std::time::Duration;

use tokio::task::JoinSet;

use crate::demo::{Ctx, Ended};

/// How each operation races its own time limit.
#[derive(Clone, Copy)]
pub enum Race {
    Timeout,
    Select,
}

#[derive(Default)]
pub struct Tally {
    pub completed: u64,
    pub timed_out: u64,
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
pub async fn each_with_limit(
    ctx: &Ctx,
    latencies: &[Duration],
    limit: Duration,
    race: Race,
) -> Tally {
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
pub async fn one_deadline(ctx: &Ctx, latencies: &[Duration], limit: Duration) -> Tally {
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
