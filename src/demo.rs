//! Demos: small async programs that run on their own tokio runtime while a recorder watches every
//! task. This module holds what a demo declares (parameters, variants, clocks) and the registry;
//! `runner` runs them, `recorder` watches, `timeline` is the pure data the UI and CLI draw.

pub mod asyncio;
pub mod catalog;
pub mod ctx;
pub mod params;
pub mod recorder;
pub mod rng;
pub mod runner;
pub mod services;
pub mod source;
pub mod timeline;
pub mod trace;

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use serde::Serialize;

pub use ctx::{Ctx, Ended};
pub use params::{ParamKind, ParamSpec, ParamVal, Params};
pub use runner::{DemoRun, RunReport, RunRequest, VariantRun};
pub use timeline::{Outcome, TimelineSnapshot};

use crate::lesson::ParamValue;
use crate::lesson::validate::{DemoCatalog, RefProblem};

/// Which clock a run follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Clock {
    /// tokio's paused clock: the run finishes at once with exact, repeatable times.
    Virtual,
    /// The wall clock: for watching live, and for demos whose point is real blocking or I/O.
    Real,
}

impl Clock {
    pub fn name(self) -> &'static str {
        match self {
            Clock::Virtual => "virtual",
            Clock::Real => "real",
        }
    }
}

/// The runtime a variant runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Flavor {
    CurrentThread,
    /// Worker threads: the number comes from a parameter (see [`VariantSpec::workers_param`]).
    MultiThread,
}

/// One way of running a demo; variants of a demo run side by side on the same inputs.
#[derive(Debug)]
pub struct VariantSpec {
    pub name: &'static str,
    pub help: &'static str,
    pub clocks: &'static [Clock],
    pub flavor: Flavor,
    /// For multi-thread variants: the integer parameter giving the worker count.
    pub workers_param: Option<&'static str>,
}

impl VariantSpec {
    /// One thread, real clock only: variants that do real I/O or use real threads.
    pub const fn real(name: &'static str, help: &'static str) -> VariantSpec {
        VariantSpec {
            name,
            help,
            clocks: &[Clock::Real],
            flavor: Flavor::CurrentThread,
            workers_param: None,
        }
    }

    /// The usual variant: one thread, either clock.
    pub const fn single(name: &'static str, help: &'static str) -> VariantSpec {
        VariantSpec {
            name,
            help,
            clocks: &[Clock::Virtual, Clock::Real],
            flavor: Flavor::CurrentThread,
            workers_param: None,
        }
    }
}

/// Everything a demo declares about itself.
#[derive(Debug)]
pub struct DemoSpec {
    pub id: &'static str,
    pub title: &'static str,
    /// One or two sentences: what the demo shows.
    pub about: &'static str,
    pub variants: &'static [VariantSpec],
    /// Variants run when none is asked for.
    pub default_variants: &'static [&'static str],
    pub params: &'static [ParamSpec],
    /// Metrics every run reports, with what they mean.
    pub metrics: &'static [(&'static str, &'static str)],
    /// The demo's own source file; the lines between `// region:demo` and `// endregion:demo` are
    /// what lessons show, so what you read is what runs.
    pub source: &'static str,
}

impl DemoSpec {
    pub fn variant(&self, name: &str) -> Option<&VariantSpec> {
        self.variants.iter().find(|v| v.name == name)
    }

    pub fn param(&self, name: &str) -> Option<&ParamSpec> {
        self.params.iter().find(|p| p.name == name)
    }

    pub fn variant_names(&self) -> Vec<&'static str> {
        self.variants.iter().map(|v| v.name).collect()
    }

    /// The clocks at least one variant supports.
    pub fn clocks(&self) -> Vec<Clock> {
        let mut clocks: Vec<Clock> = Vec::new();
        for v in self.variants {
            for c in v.clocks {
                if !clocks.contains(c) {
                    clocks.push(*c);
                }
            }
        }
        clocks
    }
}

/// A demo: its declaration and the program it runs. `run` is the demo's main task; it spawns and
/// instruments its tasks through `ctx` so the recorder sees them.
pub trait Demo: Sync {
    fn spec(&self) -> &'static DemoSpec;
    fn run(&self, ctx: Ctx, variant: &'static str, params: Params) -> BoxFuture<'static, ()>;
}

impl std::fmt::Debug for dyn Demo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.spec().id)
    }
}

/// All demos, in the order `asyncdojo demos` lists them.
pub fn registry() -> &'static [&'static dyn Demo] {
    catalog::ALL
}

pub fn find(id: &str) -> Option<&'static dyn Demo> {
    registry().iter().copied().find(|d| d.spec().id == id)
}

pub fn ids() -> Vec<&'static str> {
    registry().iter().map(|d| d.spec().id).collect()
}

/// The registry checks lesson references against the demos' declarations.
pub struct Registry;

impl DemoCatalog for Registry {
    fn check_ref(
        &self,
        demo: &str,
        variants: &[String],
        params: &BTreeMap<String, ParamValue>,
    ) -> Vec<RefProblem> {
        let Some(d) = find(demo) else {
            return vec![RefProblem::UnknownDemo(format!(
                "unknown demo `{demo}` (demos: {})",
                ids().join(", ")
            ))];
        };
        let spec = d.spec();
        let mut problems = Vec::new();
        for (i, v) in variants.iter().enumerate() {
            if spec.variant(v).is_none() {
                problems.push(RefProblem::UnknownVariant(
                    i,
                    format!(
                        "demo `{demo}` has no variant `{v}` (variants: {})",
                        spec.variant_names().join(", ")
                    ),
                ));
            }
        }
        for (name, value) in params {
            if let Err(msg) = params::check_lesson_value(spec, name, value) {
                problems.push(RefProblem::BadParam(name.clone(), msg));
            }
        }
        problems
    }

    fn check_predictable(&self, demo: &str, variant: Option<&str>) -> Option<String> {
        let spec = find(demo)?.spec();
        let name = variant.or_else(|| spec.default_variants.first().copied())?;
        let v = spec.variant(name)?;
        (!v.clocks.contains(&Clock::Virtual)).then(|| {
            format!(
                "variant `{name}` of `{demo}` runs only on the real clock; predictions are scored \
                 on the virtual clock, so pick a variant that supports it"
            )
        })
    }
}
