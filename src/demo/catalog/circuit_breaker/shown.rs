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

/// What the breaker lets a call do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Admit {
    /// An ordinary call while closed.
    Call,
    /// The single trial call of a half-open breaker.
    Trial,
    /// Turned away without running.
    Reject(&'static str),
}

pub struct Breaker {
    ctx: Ctx,
    state: State,
    threshold: u32,
    reset: Duration,
    pub rejected: u64,
    pub trials: u64,
    pub opened: u64,
}

impl Breaker {
    pub fn new(ctx: Ctx, threshold: u32, reset: Duration) -> Breaker {
        ctx.series("state", "closed");
        Breaker {
            ctx,
            state: State::Closed { failures: 0 },
            threshold,
            reset,
            rejected: 0,
            trials: 0,
            opened: 0,
        }
    }

    /// Decide, at `now`, whether a call may run. Time is read from tokio's monotonic clock, so
    /// "reset_ms after opening" cannot be fooled by the wall clock jumping.
    fn admit(&mut self, now: Instant) -> Admit {
        let admit = match self.state {
            State::Closed { .. } => Admit::Call,
            State::Open { since } if now.duration_since(since) >= self.reset => {
                // The first call after the reset period becomes the one trial.
                self.switch(State::HalfOpen);
                self.trials += 1;
                Admit::Trial
            }
            State::Open { .. } => Admit::Reject("breaker open"),
            State::HalfOpen => Admit::Reject("half-open: the trial call is still running"),
        };
        if let Admit::Reject(_) = admit {
            self.rejected += 1;
        }
        admit
    }

    /// Record how an admitted call ended.
    fn record(&mut self, admitted: Admit, ok: bool, now: Instant) {
        match (self.state, admitted) {
            (State::HalfOpen, Admit::Trial) if ok => self.switch(State::Closed { failures: 0 }),
            (State::HalfOpen, Admit::Trial) => self.open(now),
            (State::Closed { .. }, Admit::Call) if ok => self.state = State::Closed { failures: 0 },
            (State::Closed { failures }, Admit::Call) => {
                let failures = failures + 1;
                if failures >= self.threshold {
                    self.open(now);
                } else {
                    self.state = State::Closed { failures };
                }
            }
            // A call let in before the breaker last changed state: its result is stale.
            _ => {}
        }
    }

    fn open(&mut self, now: Instant) {
        self.opened += 1;
        self.switch(State::Open { since: now });
    }

    /// Every change of state shows on the timeline: the `state` series and a mark.
    fn switch(&mut self, to: State) {
        let from = state_name(self.state);
        self.state = to;
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
    let admitted = lock(&breaker).admit(Instant::now());
    if let Admit::Reject(why) = admitted {
        // Fail fast: the protected service never sees this call.
        return Ended::rejected(why);
    }
    if !script.duration.is_zero() {
        sleep(script.duration).await; // the protected service at work
    }
    lock(&breaker).record(admitted, script.ok, Instant::now());
    let trial = if admitted == Admit::Trial {
        "trial "
    } else {
        ""
    };
    if script.ok {
        Ended::ok(format!("{trial}call succeeded"))
    } else {
        Ended::error(format!("{trial}call failed"))
    }
}

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
