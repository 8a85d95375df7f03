use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::time::{Instant, sleep, sleep_until};

use crate::demo::{Ctx, Ended};

/// One call of the script: when it starts, whether it succeeds, how long it takes.
#[derive(Debug, Clone, Copy)]
pub struct ScriptedCall {
    pub at: Duration,
    pub ok: bool,
    pub duration: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Calls go through; `failures` counts the failures in a row so far.
    Closed { failures: u32 },
    /// Calls are rejected until `reset` has passed since `since`.
    Open { since: Instant },
    /// One trial call is running; every other call is rejected until it ends.
    HalfOpen,
}

/// A call the breaker let in: the trial or an ordinary call, and the breaker's generation when
/// it was let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pass {
    trial: bool,
    generation: u64,
}

pub struct Breaker {
    ctx: Ctx,
    state: State,
    /// Bumped on every change of state: a result counts only in the generation its call was let
    /// in under.
    generation: u64,
    threshold: u32,
    reset: Duration,
    pub rejected: u64,
    pub trials: u64,
    pub opened: u64,
    pub stale: u64,
}

impl Breaker {
    pub fn new(ctx: Ctx, threshold: u32, reset: Duration) -> Breaker {
        ctx.series("state", "closed");
        Breaker {
            ctx,
            state: State::Closed { failures: 0 },
            generation: 0,
            threshold,
            reset,
            rejected: 0,
            trials: 0,
            opened: 0,
            stale: 0,
        }
    }

    /// Decide, at `now`, whether a call may run; `Err` says why not. Time is read from tokio's
    /// monotonic clock, so "reset_ms after opening" cannot be fooled by the wall clock jumping.
    fn admit(&mut self, now: Instant) -> Result<Pass, &'static str> {
        let trial = match self.state {
            State::Closed { .. } => false,
            State::Open { since } if now.duration_since(since) >= self.reset => {
                // The first call after the reset period becomes the one trial.
                self.switch(State::HalfOpen);
                self.trials += 1;
                true
            }
            State::Open { .. } => return Err(self.reject("breaker open")),
            State::HalfOpen => {
                return Err(self.reject("half-open: the trial call is still running"));
            }
        };
        Ok(Pass {
            trial,
            generation: self.generation,
        })
    }

    fn reject(&mut self, why: &'static str) -> &'static str {
        self.rejected += 1;
        why
    }

    /// Record how a call that was let in ended; `false` if its result was stale and ignored.
    fn record(&mut self, pass: Pass, ok: bool, now: Instant) -> bool {
        if pass.generation != self.generation {
            // The breaker changed state while the call ran: its result describes the backend as
            // it was, and must not move the breaker now (a late failure would reopen a freshly
            // closed breaker; a late success would close an open one).
            self.stale += 1;
            self.ctx.mark("stale result ignored");
            return false;
        }
        // Same generation, so the state is the one the call was let in under: closed, or
        // half-open with this call as its trial.
        match self.state {
            State::HalfOpen if ok => self.switch(State::Closed { failures: 0 }),
            State::HalfOpen => self.open(now),
            State::Closed { .. } if ok => self.state = State::Closed { failures: 0 },
            State::Closed { failures } => {
                let failures = failures + 1;
                if failures >= self.threshold {
                    self.open(now);
                } else {
                    self.state = State::Closed { failures };
                }
            }
            // No call is let in while open: reaching here would need a change of state, which
            // bumps the generation.
            State::Open { .. } => {}
        }
        true
    }

    fn open(&mut self, now: Instant) {
        self.opened += 1;
        self.switch(State::Open { since: now });
    }

    /// Every change of state starts a new generation and shows on the timeline: the `state`
    /// series and a mark.
    fn switch(&mut self, to: State) {
        let from = state_name(self.state);
        self.state = to;
        self.generation += 1;
        self.ctx.series("state", state_name(to));
        self.ctx.mark(format!("{from} -> {}", state_name(to)));
    }
}

fn state_name(state: State) -> &'static str {
    match state {
        State::Closed { .. } => "closed",
        State::Open { .. } => "open",
        State::HalfOpen => "half-open",
    }
}

/// The breaker is shared by tasks on one thread and no code panics while holding it; a poisoned
/// lock would still hold a consistent state, so keep using it.
pub fn lock(breaker: &Mutex<Breaker>) -> MutexGuard<'_, Breaker> {
    breaker.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One call through the breaker.
async fn call(breaker: Arc<Mutex<Breaker>>, script: ScriptedCall) -> Ended {
    let pass = match lock(&breaker).admit(Instant::now()) {
        Ok(pass) => pass,
        // Fail fast: the protected service never sees this call.
        Err(why) => return Ended::rejected(why),
    };
    if !script.duration.is_zero() {
        sleep(script.duration).await; // the protected service at work
    }
    let counted = lock(&breaker).record(pass, script.ok, Instant::now());
    let trial = if pass.trial { "trial " } else { "" };
    let result = if script.ok { "succeeded" } else { "failed" };
    let stale = if counted { "" } else { STALE_DETAIL };
    let detail = format!("{trial}call {result}{stale}");
    if script.ok {
        Ended::ok(detail)
    } else {
        Ended::error(detail)
    }
}

/// How a call whose result was ignored says so.
pub const STALE_DETAIL: &str = " (stale: the breaker changed state while it ran)";

/// Start each call at its time, as its own task, then wait for them all.
pub async fn run_calls(
    ctx: &Ctx,
    breaker: &Arc<Mutex<Breaker>>,
    mut script: Vec<(usize, ScriptedCall)>,
) {
    script.sort_by_key(|(k, c)| (c.at, *k));
    let start = Instant::now();
    let mut running = Vec::new();
    for (k, c) in script {
        sleep_until(start + c.at).await;
        running.push(ctx.spawn(format!("call {k}"), call(Arc::clone(breaker), c)));
    }
    for task in running {
        let _ = task.await;
    }
}
