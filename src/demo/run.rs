//! A run as data: what ran (its origin and sources), on which runtime and clock, and what it
//! recorded. Every place that shows or compares runs — the timeline, compare, practice's evidence,
//! `run`'s text — takes a list of these; "both runtimes" is one list, interleaved in one place
//! ([`interleave`]).

use super::asyncio::Runtime;
use super::source::{self, Source};
use super::timeline::TimelineSnapshot;
use super::{Clock, RunError, VariantRun};

/// Where a run came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A variant of one of asyncdojo's demos.
    Demo {
        demo: &'static str,
        variant: &'static str,
    },
    /// A learner's own program run under the tracer (`asyncdojo trace SCRIPT -- ARGS`): one run
    /// per `asyncio.run` call, labelled `run 1`, `run 2`….
    Script {
        /// The script as the learner named it.
        path: String,
        args: Vec<String>,
    },
}

/// One recorded run.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// How it is named where runs are drawn together: `join-all`, `join-all (gather)` on asyncio,
    /// `join-all · asyncio` beside tokio, `bug · blocking` in practice.
    pub label: String,
    pub origin: Origin,
    pub runtime: Runtime,
    pub clock: Clock,
    /// The files that ran: what the code pane shows beside this run.
    pub sources: Vec<Source>,
    pub timeline: TimelineSnapshot,
    /// How long it took; `None` while it runs.
    pub total_ms: Option<f64>,
    /// Set when it could not start, failed or was cancelled.
    pub error: Option<RunError>,
}

impl Run {
    /// A variant of `demo` that `runtime` ran (or is running: `total_ms` is `None`).
    pub fn of_demo(
        demo: &'static str,
        variant: &'static str,
        runtime: Runtime,
        clock: Clock,
        timeline: TimelineSnapshot,
    ) -> Run {
        Run {
            label: label(demo, variant, runtime),
            origin: Origin::Demo { demo, variant },
            runtime,
            clock,
            sources: source::of_run(demo, runtime).cloned().into_iter().collect(),
            timeline,
            total_ms: None,
            error: None,
        }
    }

    /// A finished variant's run, with its ready queue derived from its wakes
    /// ([`TimelineSnapshot::add_ready_queue`]): every finished run of either runtime — the app's,
    /// `run`'s text and `--trace` — passes through here, so the derivation has one place.
    pub fn finished(demo: &'static str, runtime: Runtime, clock: Clock, v: VariantRun) -> Run {
        let mut timeline = v.timeline;
        timeline.add_ready_queue();
        Run {
            total_ms: Some(v.total_ms),
            error: v.error,
            ..Run::of_demo(demo, v.variant, runtime, clock, timeline)
        }
    }

    /// Every variant of a finished report, made by `runtime`.
    pub fn from_report(report: super::RunReport, runtime: Runtime) -> Vec<Run> {
        let (demo, clock) = (report.demo, report.clock);
        report
            .runs
            .into_iter()
            .map(|v| Run::finished(demo, runtime, clock, v))
            .collect()
    }

    /// The same run as if `runtime` had made it (its label and source follow): tests stand one
    /// runtime's timeline in for the other's.
    pub fn as_made_by(self, runtime: Runtime) -> Run {
        let Origin::Demo { demo, variant } = self.origin else {
            // A script only ever runs on asyncio: nothing to stand in for.
            return self;
        };
        Run {
            total_ms: self.total_ms,
            error: self.error,
            ..Run::of_demo(demo, variant, runtime, self.clock, self.timeline)
        }
    }

    /// A finished run drawn under `label` with a timeline made by hand (tests and benches that
    /// draw made-up timelines). Its origin stands in: gather's sequential variant on tokio.
    pub fn stand_in(label: &str, timeline: TimelineSnapshot, total_ms: f64) -> Run {
        Run {
            label: label.to_owned(),
            total_ms: Some(total_ms),
            ..Run::of_demo(
                "gather",
                "sequential",
                Runtime::Tokio,
                Clock::Virtual,
                timeline,
            )
        }
    }

    /// The demo variant it ran (a script's run has none: see [`Run::run_name`]).
    pub fn variant(&self) -> &'static str {
        match self.origin {
            Origin::Demo { variant, .. } => variant,
            Origin::Script { .. } => "",
        }
    }

    /// What the run document calls it: a demo's variant, a script's `run 2`.
    pub fn run_name(&self) -> &str {
        match self.origin {
            Origin::Demo { variant, .. } => variant,
            Origin::Script { .. } => &self.label,
        }
    }

    /// The traced script's path, for a script's run.
    pub fn script(&self) -> Option<&str> {
        match &self.origin {
            Origin::Script { path, .. } => Some(path),
            Origin::Demo { .. } => None,
        }
    }

    /// Its total, or how far it has got while running.
    pub fn span_ms(&self) -> f64 {
        self.total_ms.unwrap_or(self.timeline.now_ms)
    }

    /// The same run, labelled for a comparison of runtimes: `join-all · tokio`.
    pub fn beside_the_other_runtime(mut self) -> Run {
        self.label = format!("{} · {}", self.label, self.runtime.name());
        self
    }
}

/// A variant's label on `runtime`: its name, and on asyncio also asyncio's name for it where it
/// has one (`join-all (gather)`).
fn label(demo: &str, variant: &str, runtime: Runtime) -> String {
    match runtime {
        Runtime::Tokio => variant.to_owned(),
        Runtime::Asyncio => super::asyncio::variant_label(demo, variant),
    }
}

/// Runs of both runtimes as one comparison: per variant in tokio's order, the tokio run, then the
/// asyncio run of the same variant, each labelled with its runtime. An asyncio run of a variant
/// tokio did not run is left out (both ran from one request); a variant with no asyncio meaning
/// shows on tokio alone. With no asyncio run at all there is no comparison: tokio's runs keep
/// their own labels.
pub fn interleave(tokio: Vec<Run>, asyncio: Vec<Run>) -> Vec<Run> {
    // Nothing to compare with (the twin could not run): tokio's runs as they are.
    if asyncio.is_empty() {
        return tokio;
    }
    let mut asyncio: Vec<Option<Run>> = asyncio.into_iter().map(Some).collect();
    let mut out = Vec::with_capacity(tokio.len() + asyncio.len());
    for t in tokio {
        let twin = asyncio
            .iter_mut()
            .find(|a| a.as_ref().is_some_and(|a| a.variant() == t.variant()))
            .and_then(Option::take);
        out.push(t.beside_the_other_runtime());
        if let Some(a) = twin {
            out.push(a.beside_the_other_runtime());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(variant: &'static str, runtime: Runtime) -> Run {
        Run::of_demo(
            "gather",
            variant,
            runtime,
            Clock::Virtual,
            TimelineSnapshot::default(),
        )
    }

    #[test]
    fn both_runtimes_interleave_per_variant_in_tokio_order() {
        let tokio = vec![
            run("sequential", Runtime::Tokio),
            run("join-all", Runtime::Tokio),
        ];
        let asyncio = vec![
            run("join-all", Runtime::Asyncio),
            run("sequential", Runtime::Asyncio),
        ];
        let labels: Vec<String> = interleave(tokio, asyncio)
            .into_iter()
            .map(|r| r.label)
            .collect();
        assert_eq!(
            labels,
            [
                "sequential · tokio",
                "sequential (await each) · asyncio",
                "join-all · tokio",
                "join-all (gather) · asyncio"
            ]
        );
    }

    #[test]
    fn a_run_carries_the_source_that_ran() {
        let t = run("join-all", Runtime::Tokio);
        let a = run("join-all", Runtime::Asyncio);
        assert_eq!(t.sources[0].file, "src/demo/catalog/gather/shown.rs");
        assert_eq!(a.sources[0].file, "twins/gather.py");
        assert_eq!(a.label, "join-all (gather)");
    }

    #[test]
    fn a_finished_run_of_either_runtime_gets_its_ready_queue() {
        use crate::demo::timeline::{Outcome, TaskRecord, Wake, WakeCause};
        let timeline = TimelineSnapshot {
            tasks: vec![TaskRecord {
                file: None,
                id: 1,
                name: "ticker".into(),
                parent: None,
                spawned_ms: 0.0,
                finished_ms: Some(400.0),
                outcome: Outcome::Ok,
                detail: String::new(),
                polls: vec![(0.0, 0.0), (400.0, 400.0)],
                seqs: vec![0, 1, 3, 4],
                line: None,
            }],
            wakes: vec![Wake {
                seq: 2,
                t_ms: 100.0,
                task: 1,
                cause: WakeCause::Timer,
                by: None,
                line: None,
            }],
            now_ms: 400.0,
            ..TimelineSnapshot::default()
        };
        for runtime in [Runtime::Tokio, Runtime::Asyncio] {
            let v = VariantRun {
                variant: "join-all",
                total_ms: 400.0,
                timeline: timeline.clone(),
                error: None,
                alive_after: 0,
            };
            let run = Run::finished("gather", runtime, Clock::Virtual, v);
            assert_eq!(run.timeline.metric("max_sched_ms"), Some(300.0));
            assert_eq!(run.timeline.metric("median_sched_ms"), Some(300.0));
            assert_eq!(run.timeline.series["ready"].len(), 2);
        }
    }
}
