//! Demos: small async programs that run on their own tokio runtime while a recorder watches every
//! task. This module holds what a demo declares (parameters, variants, clocks) and the registry;
//! `runner` runs them, `recorder` watches, `timeline` is the pure data the UI and CLI draw.
//!
//! Every demo has the same shape: `catalog/<demo>.rs` declares it (its [`DemoSpec`], its variants
//! with [`variants!`], its parameters with [`params!`]) and implements [`DemoProgram`], which
//! hands the typed variant and parameters to the code in `catalog/<demo>/shown.rs`: the whole
//! file the lessons show beside the timeline, so what you read is what runs.

pub mod asyncio;
pub mod catalog;
pub mod ctx;
pub mod document;
pub mod engine;
pub mod params;
mod process_group;
pub mod recorder;
pub mod rng;
pub mod run;
pub mod runner;
pub mod script;
pub mod services;
pub mod source;
#[cfg(test)]
pub(crate) mod testing;
pub mod timeline;
pub mod timer_deadlines;
pub mod trace;
pub mod variant;

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use serde::Serialize;

pub use crate::__demo_params as params;
pub use crate::__demo_variants as variants;
pub use ctx::{Ctx, Ended, SetupError};
pub use params::{FromParams, ParamError, ParamKind, ParamSpec, ParamVal, Params};
pub use runner::{DemoRun, RequestError, RunError, RunReport, RunRequest, VariantRun};
pub use timeline::{Outcome, TimelineSnapshot};
pub use variant::DemoVariant;

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
    /// The integer parameter giving the runtime's `max_blocking_threads`, when the variant sizes
    /// tokio's blocking pool (otherwise tokio's default).
    pub blocking_threads_param: Option<&'static str>,
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
            blocking_threads_param: None,
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
            blocking_threads_param: None,
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
    /// The code lessons show beside the timeline: the whole of the file that runs
    /// (`include_str!("<demo>/shown.rs")`), so what you read is what runs.
    pub source: &'static str,
    /// That file's path as `file!()` spells it (`src/demo/catalog/<demo>/shown.rs`): a mark made
    /// from this file carries its line, a mark made from anywhere else carries none.
    pub source_file: &'static str,
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

    /// The declared variant called `name`; an unknown name is a usage error naming the others.
    pub fn parse_variant(&self, name: &str) -> Result<&'static VariantSpec, RequestError> {
        self.variants
            .iter()
            .find(|v| v.name == name)
            .ok_or_else(|| RequestError::UnknownVariant {
                demo: self.id,
                variant: name.to_owned(),
                known: self.variant_names(),
            })
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

/// A demo as the registry, the runner and the app see it: its declaration, and a way to start it
/// by variant name. Demos implement [`DemoProgram`], which gives them this.
pub trait Demo: Sync {
    fn spec(&self) -> &'static DemoSpec;

    /// Turn the variant's name and the parameters into the demo's own types (once) and return its
    /// main task. An unknown name is an error, never another variant.
    fn start(
        &self,
        ctx: Ctx,
        variant: &str,
        params: &Params,
    ) -> Result<BoxFuture<'static, ()>, RequestError>;

    /// What [`start`](Demo::start) would refuse, without starting anything.
    fn check(&self, variant: &str, params: &Params) -> Result<(), RequestError>;
}

/// What each demo implements: its declaration, its typed variants and parameters, and its main
/// task. `run` spawns and instruments the demo's tasks through `ctx` so the recorder sees them.
pub trait DemoProgram: Sync + 'static {
    const SPEC: &'static DemoSpec;
    /// Declared with [`variants!`]; `SPEC.variants` is `Variant::SPECS`.
    type Variant: DemoVariant;
    /// Declared with [`params!`]; `SPEC.params` is `Config::PARAMS`.
    type Config: FromParams;

    fn run(ctx: Ctx, variant: Self::Variant, config: Self::Config) -> BoxFuture<'static, ()>;
}

fn parse<D: DemoProgram>(
    variant: &str,
    params: &Params,
) -> Result<(D::Variant, D::Config), RequestError> {
    let spec = D::SPEC;
    let v = D::Variant::parse(variant).ok_or_else(|| RequestError::UnknownVariant {
        demo: spec.id,
        variant: variant.to_owned(),
        known: spec.variant_names(),
    })?;
    Ok((v, D::Config::from_params(params)?))
}

impl<D: DemoProgram> Demo for D {
    fn spec(&self) -> &'static DemoSpec {
        D::SPEC
    }

    fn start(
        &self,
        ctx: Ctx,
        variant: &str,
        params: &Params,
    ) -> Result<BoxFuture<'static, ()>, RequestError> {
        let (variant, config) = parse::<D>(variant, params)?;
        Ok(D::run(ctx, variant, config))
    }

    fn check(&self, variant: &str, params: &Params) -> Result<(), RequestError> {
        parse::<D>(variant, params).map(|_| ())
    }
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
            return vec![RefProblem::UnknownDemo(
                RequestError::unknown_demo(demo).to_string(),
            )];
        };
        let spec = d.spec();
        let mut problems = Vec::new();
        for (i, v) in variants.iter().enumerate() {
            if let Err(e) = spec.parse_variant(v) {
                problems.push(RefProblem::UnknownVariant(i, e.to_string()));
            }
        }
        for (name, value) in params {
            match params::check_lesson_value(spec, name, value) {
                Ok(()) => {}
                // The location already names the parameter.
                Err(ParamError::Invalid { problem, .. }) => {
                    problems.push(RefProblem::BadParam(name.clone(), problem.to_string()));
                }
                Err(e) => problems.push(RefProblem::BadParam(name.clone(), e.to_string())),
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

    fn check_asyncio(&self, demo: &str, variant: Option<&str>) -> Option<String> {
        let spec = find(demo)?.spec();
        let name = variant.or_else(|| spec.default_variants.first().copied())?;
        let Some(twin) = asyncio::twin(demo) else {
            return Some(format!(
                "demo `{demo}` has no asyncio twin, so it cannot be scored on asyncio (twins: {})",
                asyncio::twins()
                    .iter()
                    .map(|t| t.demo)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        };
        match twin.variant(name).map(|v| v.mapping) {
            Some(asyncio::Mapping::Same { .. }) => None,
            _ => Some(format!(
                "variant `{name}` of `{demo}` is not the same program on asyncio; predictions on \
                 asyncio need a variant its twin runs as is"
            )),
        }
    }
}
