//! Q8/Q12: a circuit breaker. Consecutive failures open it; while open, calls are turned away at
//! once; after `reset_ms` one trial call decides whether it closes again.

use crate::demo::rng::SplitMix64;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::demo::params::ItemError;
use crate::demo::{Ctx, DemoSpec, Ended, LegacyDemo, ParamKind, ParamSpec, Params, VariantSpec};

pub struct CircuitBreakerDemo;

/// The longest a scripted call may wait before it starts, or take.
const MAX_SCRIPT_MS: u64 = 60_000;
/// Random calls arrive this far apart.
const RANDOM_GAP_MS: u64 = 100;

static SPEC: DemoSpec = DemoSpec {
    id: "circuit-breaker",
    title: "Circuit breaker",
    about: "Calls go through a breaker. `threshold` failures in a row open it; while open, calls \
            are rejected at once; `reset_ms` later one trial call runs, and its result closes \
            the breaker or opens it again.",
    variants: &[VariantSpec::single(
        "breaker",
        "closed / open / half-open breaker shared by every call",
    )],
    default_variants: &["breaker"],
    params: &[
        ParamSpec {
            name: "threshold",
            kind: ParamKind::Int { min: 1, max: 1000 },
            default: "3",
            help: "consecutive failures that open the breaker",
        },
        ParamSpec {
            name: "reset_ms",
            kind: ParamKind::Ms {
                min: 0,
                max: 60_000,
            },
            default: "1000",
            help: "how long the breaker stays open before it lets one trial call through",
        },
        ParamSpec {
            name: "calls",
            kind: ParamKind::TextList {
                max_len: 1000,
                item: check_call,
                syntax: "AT_MS:ok|fail or AT_MS:ok|fail:DURATION_MS",
            },
            default: "0:fail,100:fail,200:fail,300:ok,600:ok,1200:ok:100,1250:ok,1400:ok",
            help: "the scripted calls: when each starts, whether it succeeds, how long it takes",
        },
        ParamSpec {
            name: "failure_pct",
            kind: ParamKind::Int { min: 0, max: 100 },
            default: "0",
            help: "random mode only: the chance, in percent, that a call fails",
        },
        ParamSpec {
            name: "seed",
            kind: ParamKind::Int {
                min: 0,
                max: 4_294_967_295,
            },
            default: "1",
            help: "random mode only: the seed of the pseudo-random failures",
        },
        ParamSpec {
            name: "random_calls",
            kind: ParamKind::Int { min: 0, max: 1000 },
            default: "0",
            help: "if > 0, replace the script with this many random calls, one every 100 ms",
        },
    ],
    metrics: &[
        (
            "rejected",
            "calls the breaker turned away without running them",
        ),
        ("trials", "half-open trial calls"),
        ("opened", "times the breaker opened"),
    ],
    source: include_str!("circuit_breaker.rs"),
    source_file: file!(),
};

impl LegacyDemo for CircuitBreakerDemo {
    fn spec(&self) -> &'static DemoSpec {
        &SPEC
    }

    fn run(&self, ctx: Ctx, _variant: &'static str, params: Params) -> BoxFuture<'static, ()> {
        let threshold = u32::try_from(params.int("threshold")).unwrap_or(1).max(1);
        let reset = params.ms("reset_ms");
        let script = match params.count("random_calls") {
            0 => scripted_calls(params.text_list("calls")),
            n => random_calls(
                n,
                u64::try_from(params.int("failure_pct")).unwrap_or(0),
                u64::try_from(params.int("seed")).unwrap_or(0),
            ),
        };
        async move {
            let breaker = Arc::new(Mutex::new(Breaker::new(ctx.clone(), threshold, reset)));
            run_calls(&ctx, &breaker, script).await;
            let b = lock(&breaker);
            ctx.metric("rejected", b.rejected);
            ctx.metric("trials", b.trials);
            ctx.metric("opened", b.opened);
        }
        .boxed()
    }
}

/// The breaker is shared by tasks on one thread and no code panics while holding it; a poisoned
/// lock would still hold a consistent state, so keep using it.
fn lock(breaker: &Mutex<Breaker>) -> MutexGuard<'_, Breaker> {
    breaker.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The `calls` syntax, checked when the parameter is set.
fn check_call(item: &str) -> Result<(), ItemError> {
    parse_call(item)
        .map(|_| ())
        .map_err(|e| ItemError(e.into()))
}

fn parse_call(item: &str) -> Result<ScriptedCall, String> {
    let syntax = "write AT_MS:ok|fail or AT_MS:ok|fail:DURATION_MS";
    let parts: Vec<&str> = item.split(':').map(str::trim).collect();
    let (at, result, duration) = match parts.as_slice() {
        [at, result] => (*at, *result, "0"),
        [at, result, duration] => (*at, *result, *duration),
        _ => return Err(syntax.to_owned()),
    };
    let ms = |what: &str, text: &str| -> Result<u64, String> {
        let n: u64 = text
            .parse()
            .map_err(|_| format!("{what} `{text}` is not a whole number of ms ({syntax})"))?;
        if n > MAX_SCRIPT_MS {
            return Err(format!("{what} {n} ms is over {MAX_SCRIPT_MS} ms"));
        }
        Ok(n)
    };
    let ok = match result {
        "ok" => true,
        "fail" => false,
        other => return Err(format!("`{other}` is neither ok nor fail ({syntax})")),
    };
    Ok(ScriptedCall {
        at: Duration::from_millis(ms("start", at)?),
        ok,
        duration: Duration::from_millis(ms("duration", duration)?),
    })
}

/// The script, numbered in list order ("call 1" is the first item).
fn scripted_calls(items: &[String]) -> Vec<(usize, ScriptedCall)> {
    items
        .iter()
        .enumerate()
        // Items were checked when the parameter was set; one that still fails is skipped.
        .filter_map(|(i, item)| parse_call(item).ok().map(|c| (i + 1, c)))
        .collect()
}

/// `n` instant calls, one every 100 ms, each failing with probability `failure_pct` %.
fn random_calls(n: usize, failure_pct: u64, seed: u64) -> Vec<(usize, ScriptedCall)> {
    let mut rng = SplitMix64(seed);
    (0..n)
        .map(|i| {
            let call = ScriptedCall {
                at: Duration::from_millis(RANDOM_GAP_MS * i as u64),
                ok: rng.next_u64() % 100 >= failure_pct,
                duration: Duration::ZERO,
            };
            (i + 1, call)
        })
        .collect()
}

// region:demo
use std::time::Duration;

use tokio::time::{Instant, sleep, sleep_until};

/// One call of the script: when it starts, whether it succeeds, how long it takes.
#[derive(Debug, Clone, Copy)]
struct ScriptedCall {
    at: Duration,
    ok: bool,
    duration: Duration,
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

struct Breaker {
    ctx: Ctx,
    state: State,
    threshold: u32,
    reset: Duration,
    rejected: u64,
    trials: u64,
    opened: u64,
}

impl Breaker {
    fn new(ctx: Ctx, threshold: u32, reset: Duration) -> Breaker {
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
async fn run_calls(
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
// endregion:demo

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::runner::{RunRequest, run_blocking};
    use crate::demo::timeline::{Outcome, SeriesValue};
    use crate::demo::{Clock, VariantRun};

    fn run(sets: &[&str]) -> VariantRun {
        let sets: Vec<String> = sets.iter().map(|s| (*s).to_owned()).collect();
        let req = RunRequest::build("circuit-breaker", &[], &sets, Clock::Virtual).unwrap();
        let report = run_blocking(req).unwrap();
        let run = report.run("breaker").unwrap().clone();
        assert_eq!(run.error, None);
        assert_eq!(run.alive_after, 0);
        run
    }

    fn outcome(run: &VariantRun, k: usize) -> (Outcome, f64, f64) {
        let t = run.timeline.task(&format!("call {k}")).unwrap();
        (t.outcome, t.spawned_ms, t.finished_ms.unwrap())
    }

    fn transitions(run: &VariantRun) -> Vec<(f64, String)> {
        run.timeline
            .marks
            .iter()
            .map(|m| (m.t_ms, m.label.clone()))
            .collect()
    }

    fn states(run: &VariantRun) -> Vec<(f64, String)> {
        run.timeline.series["state"]
            .iter()
            .map(|(t, v)| match v {
                SeriesValue::Text(s) => (*t, s.clone()),
                SeriesValue::Num(n) => (*t, n.to_string()),
            })
            .collect()
    }

    #[test]
    fn default_script_opens_rejects_trials_and_closes() {
        let run = run(&[]);
        use Outcome::*;
        let expected = [
            (Error, 0.0, 0.0),
            (Error, 100.0, 100.0),
            (Error, 200.0, 200.0),
            (Rejected, 300.0, 300.0),
            (Rejected, 600.0, 600.0),
            (Ok, 1200.0, 1300.0),
            (Rejected, 1250.0, 1250.0),
            (Ok, 1400.0, 1400.0),
        ];
        for (k, e) in expected.iter().enumerate() {
            assert_eq!(outcome(&run, k + 1), *e, "call {}", k + 1);
        }
        assert_eq!(
            transitions(&run),
            vec![
                (200.0, "closed -> open".to_owned()),
                (1200.0, "open -> half-open".to_owned()),
                (1300.0, "half-open -> closed".to_owned()),
            ]
        );
        assert_eq!(
            states(&run),
            vec![
                (0.0, "closed".to_owned()),
                (200.0, "open".to_owned()),
                (1200.0, "half-open".to_owned()),
                (1300.0, "closed".to_owned()),
            ]
        );
        assert_eq!(run.timeline.metric("rejected"), Some(3.0));
        assert_eq!(run.timeline.metric("trials"), Some(1.0));
        assert_eq!(run.timeline.metric("opened"), Some(1.0));
        assert_eq!(run.total_ms, 1400.0);
        assert_eq!(
            run.timeline.task("call 7").unwrap().detail,
            "half-open: the trial call is still running"
        );
        assert_eq!(run.timeline.task("call 4").unwrap().detail, "breaker open");
    }

    #[test]
    fn failed_trial_opens_again_for_another_reset() {
        let run = run(&[
            "threshold=2",
            "reset_ms=500",
            "calls=0:fail,10:ok,20:fail,30:fail:20,100:ok,550:fail:50,560:ok,1000:ok,1050:ok,1100:ok",
        ]);
        use Outcome::*;
        // A success in between resets the count: the breaker opens when call 4 ends at 50.
        // Call 6 is the trial at 550 and fails at 600: open again until 1100.
        let expected = [
            (Error, 0.0, 0.0),
            (Ok, 10.0, 10.0),
            (Error, 20.0, 20.0),
            (Error, 30.0, 50.0),
            (Rejected, 100.0, 100.0),
            (Error, 550.0, 600.0),
            (Rejected, 560.0, 560.0),
            (Rejected, 1000.0, 1000.0),
            (Rejected, 1050.0, 1050.0),
            (Ok, 1100.0, 1100.0),
        ];
        for (k, e) in expected.iter().enumerate() {
            assert_eq!(outcome(&run, k + 1), *e, "call {}", k + 1);
        }
        assert_eq!(
            transitions(&run),
            vec![
                (50.0, "closed -> open".to_owned()),
                (550.0, "open -> half-open".to_owned()),
                (600.0, "half-open -> open".to_owned()),
                (1100.0, "open -> half-open".to_owned()),
                (1100.0, "half-open -> closed".to_owned()),
            ]
        );
        assert_eq!(run.timeline.metric("rejected"), Some(4.0));
        assert_eq!(run.timeline.metric("trials"), Some(2.0));
        assert_eq!(run.timeline.metric("opened"), Some(2.0));
    }

    #[test]
    fn calls_start_at_their_time_whatever_the_list_order() {
        let run = run(&["calls=300:ok,0:ok:50"]);
        assert_eq!(outcome(&run, 1), (Outcome::Ok, 300.0, 300.0));
        assert_eq!(outcome(&run, 2), (Outcome::Ok, 0.0, 50.0));
        assert_eq!(run.timeline.metric("rejected"), Some(0.0));
    }

    #[test]
    fn random_calls_follow_the_seeded_failures() {
        let (n, pct, seed) = (40_usize, 50_u64, 9_u64);
        let run = run(&[
            "random_calls=40",
            "failure_pct=50",
            "seed=9",
            "threshold=2",
            "reset_ms=300",
        ]);
        // Replay the breaker by hand on the same pseudo-random script.
        let mut rng = SplitMix64(seed);
        let mut failures = 0;
        let mut open_since: Option<u64> = None;
        let (mut rejected, mut trials) = (0, 0);
        for i in 0..n {
            let t = RANDOM_GAP_MS * i as u64;
            let ok = rng.next_u64() % 100 >= pct;
            let expected = match open_since {
                Some(since) if t - since < 300 => {
                    rejected += 1;
                    Outcome::Rejected
                }
                Some(_) => {
                    trials += 1;
                    open_since = if ok { None } else { Some(t) };
                    failures = 0;
                    if ok { Outcome::Ok } else { Outcome::Error }
                }
                None => {
                    failures = if ok { 0 } else { failures + 1 };
                    if failures >= 2 {
                        open_since = Some(t);
                        failures = 0;
                    }
                    if ok { Outcome::Ok } else { Outcome::Error }
                }
            };
            let (got, at, _) = outcome(&run, i + 1);
            assert_eq!((got, at), (expected, t as f64), "call {}", i + 1);
        }
        assert!(
            trials > 0 && rejected > 0,
            "the seed should exercise the breaker"
        );
        assert_eq!(run.timeline.metric("rejected"), Some(rejected as f64));
        assert_eq!(run.timeline.metric("trials"), Some(trials as f64));
    }

    #[test]
    fn no_failures_never_open() {
        let run = run(&["random_calls=20", "failure_pct=0"]);
        assert_eq!(run.timeline.count(Outcome::Ok), 21); // 20 calls + main
        assert_eq!(run.timeline.metric("opened"), Some(0.0));
        assert_eq!(run.total_ms, 1900.0);
    }

    #[test]
    fn the_call_syntax_is_checked() {
        assert!(check_call("0:ok").is_ok());
        assert!(check_call("10:fail:5").is_ok());
        assert!(
            check_call("10:maybe")
                .unwrap_err()
                .to_string()
                .contains("neither ok nor fail")
        );
        assert!(
            check_call("x:ok")
                .unwrap_err()
                .to_string()
                .contains("not a whole number")
        );
        assert!(check_call("0:ok:1:2").is_err());
        assert!(
            check_call("70000:ok")
                .unwrap_err()
                .to_string()
                .contains("over")
        );
        let sets = vec!["calls=0:ok,1:nope".to_owned()];
        assert!(RunRequest::build("circuit-breaker", &[], &sets, Clock::Virtual).is_err());
    }
}
