//! The lesson's demo being set up: its parameters, the variants picked for comparison, the clock.
//! ↑/↓ pick a row (one per parameter, then the variants row), +/- (or ←/→) step a parameter or
//! move along the variants row, Space ticks the highlighted variant, Home/End the first/last row.

use super::Action;
use crate::demo::asyncio;
use crate::demo::{self, Clock, Params, RunRequest};
use crate::lesson::Lesson;

/// The lesson's demo being set up or watched.
#[derive(Debug)]
pub struct DemoPanel {
    /// Which of the lesson's `demos` entries.
    pub index: usize,
    pub demo: &'static dyn demo::Demo,
    pub params: Params,
    /// Variant names, and whether each is picked for comparison.
    pub variants: Vec<(&'static str, bool)>,
    /// The highlighted row: a parameter, or (at `params.len()`) the variants row.
    pub selected_param: usize,
    /// The highlighted variant on the variants row.
    pub selected_variant: usize,
    pub clock: Clock,
    /// Which runtime runs it: tokio, the demo's asyncio twin, or both side by side.
    pub runtime: RunOn,
}

/// The runtime setting: tokio → asyncio → both (only offered when the demo has a twin).
pub use crate::demo::asyncio::RunOn;

/// What the twin side of a run is: the variants the twin runs, and whether tokio runs beside it.
pub type TwinPlan = Option<(Vec<&'static str>, bool)>;

impl DemoPanel {
    /// The panel for the lesson's `index`th demo, with the lesson's parameter values and variants,
    /// set to run on `preferred` (tokio when the demo has no asyncio twin).
    pub fn for_lesson(lesson: &Lesson, index: usize, preferred: RunOn) -> Option<DemoPanel> {
        let r = lesson.demos.get(index)?;
        let demo = demo::find(&r.demo)?;
        let spec = demo.spec();
        // Validation checked these overrides; fall back to defaults rather than fail if not.
        let params = Params::defaults(spec)
            .with_lesson_values(spec, &r.params)
            .unwrap_or_else(|_| Params::defaults(spec));
        let picked: Vec<&str> = if r.variants.is_empty() {
            spec.default_variants.to_vec()
        } else {
            r.variants.iter().map(String::as_str).collect()
        };
        let variants: Vec<(&'static str, bool)> = spec
            .variants
            .iter()
            .map(|v| (v.name, picked.contains(&v.name)))
            .collect();
        // `r` runs the variant under the cursor: it starts on the lesson's first pick.
        let selected_variant = variants.iter().position(|v| v.1).unwrap_or(0);
        Some(DemoPanel {
            index,
            demo,
            params,
            variants,
            selected_param: 0,
            selected_variant,
            // Live by default: the point of the app is to watch it happen.
            clock: Clock::Real,
            runtime: if asyncio::twin(spec.id).is_some() {
                preferred
            } else {
                RunOn::Tokio
            },
        })
    }

    /// Why the demo runs on tokio although `preferred` says otherwise: it has no asyncio twin.
    pub fn tokio_only(&self, preferred: RunOn) -> Option<String> {
        let id = self.demo.spec().id;
        (preferred != RunOn::Tokio && asyncio::twin(id).is_none()).then(|| no_twin(id))
    }

    /// Is the variants row highlighted?
    pub fn on_variants_row(&self) -> bool {
        self.selected_param >= self.demo.spec().params.len()
    }

    /// The variant under the variants row's cursor: what `r` runs.
    pub fn highlighted_variant(&self) -> Option<&'static str> {
        self.variants.get(self.selected_variant).map(|v| v.0)
    }

    /// Parameter keys; a message when a value was refused.
    pub fn update(&mut self, action: Action) -> Option<String> {
        let spec = self.demo.spec();
        // The variants row is the last one.
        let last_row = spec.params.len();
        match action {
            Action::Up => self.selected_param = self.selected_param.saturating_sub(1),
            Action::Down => self.selected_param = (self.selected_param + 1).min(last_row),
            Action::Home => self.selected_param = 0,
            Action::End => self.selected_param = last_row,
            Action::ToggleVariant if self.on_variants_row() => {
                if let Some(v) = self.variants.get_mut(self.selected_variant) {
                    v.1 = !v.1;
                }
            }
            Action::Increase | Action::Right if self.on_variants_row() => {
                self.selected_variant =
                    (self.selected_variant + 1).min(self.variants.len().saturating_sub(1));
            }
            Action::Decrease | Action::Left if self.on_variants_row() => {
                self.selected_variant = self.selected_variant.saturating_sub(1);
            }
            Action::Increase | Action::Decrease | Action::Right | Action::Left => {
                let up = matches!(action, Action::Increase | Action::Right);
                let p = &spec.params[self.selected_param];
                let next = step_param(p, self.params.get(p.name)?, up)?;
                if let Err(e) = self.params.set(spec, p.name, &next) {
                    return Some(e.to_string());
                }
            }
            _ => {}
        }
        None
    }

    /// Real ⇄ virtual; says which clock is now chosen.
    pub fn toggle_clock(&mut self) -> String {
        self.clock = match self.clock {
            Clock::Real => Clock::Virtual,
            Clock::Virtual => Clock::Real,
        };
        format!("clock: {}", self.clock.name())
    }

    /// tokio → asyncio → both; says what is chosen, or that the demo has no twin.
    pub fn toggle_runtime(&mut self) -> String {
        let id = self.demo.spec().id;
        let Some(twin) = asyncio::twin(id) else {
            self.runtime = RunOn::Tokio;
            return no_twin(id);
        };
        self.runtime = match self.runtime {
            RunOn::Tokio => RunOn::Asyncio,
            RunOn::Asyncio => RunOn::Both,
            RunOn::Both => RunOn::Tokio,
        };
        match self.runtime {
            RunOn::Tokio => "runtime: tokio".into(),
            RunOn::Asyncio => format!("runtime: asyncio (twins/{} on your Python)", twin.file),
            RunOn::Both => format!(
                "runtime: both (tokio and twins/{} on one time axis)",
                twin.file
            ),
        }
    }

    /// The twin side of `request` for the chosen runtime, and a note naming the variants left
    /// out. With asyncio alone, variants without an asyncio meaning are dropped from `request`;
    /// with both, they run on tokio only.
    pub fn twin_plan(
        &self,
        request: &mut RunRequest,
    ) -> Result<(TwinPlan, Option<String>), String> {
        let twin = match (self.runtime, asyncio::twin(self.demo.spec().id)) {
            (RunOn::Tokio, _) | (_, None) => return Ok((None, None)),
            (_, Some(twin)) => twin,
        };
        let (runs, missing): (Vec<&'static str>, Vec<&'static str>) = request
            .variants
            .iter()
            .partition(|v| twin.variant(v).is_some_and(|t| t.mapping.runs()));
        if self.runtime == RunOn::Asyncio {
            if runs.is_empty() {
                return Err(format!(
                    "{} has no asyncio meaning: pick another variant, or press `a` for tokio",
                    missing.join(", ")
                ));
            }
            request.variants = runs.clone();
            let note = (!missing.is_empty())
                .then(|| format!("skipped {} (no asyncio meaning)", missing.join(", ")));
            return Ok((Some((runs, false)), note));
        }
        let note = (!missing.is_empty()).then(|| {
            format!(
                "{} runs on tokio only (no asyncio meaning)",
                missing.join(", ")
            )
        });
        if runs.is_empty() {
            return Ok((None, note));
        }
        Ok((Some((runs, true)), note))
    }

    /// The run to ask for. `r` (`compare` false) runs the variant under the variants row's
    /// cursor; `c` runs exactly the ticked ones. Variants that cannot run on the chosen clock are
    /// left out and named in the note; if none can, the error says to switch clocks.
    pub fn request(&self, compare: bool) -> Result<(RunRequest, Option<String>), String> {
        let spec = self.demo.spec();
        let ticked: Vec<&'static str> = self
            .variants
            .iter()
            .filter(|(_, on)| *on)
            .map(|(n, _)| *n)
            .collect();
        let variants = match (compare, self.highlighted_variant()) {
            (true, _) if ticked.is_empty() => {
                return Err(
                    "no variant is ticked: tick some on the parameters' variants row (Space)"
                        .into(),
                );
            }
            (true, _) => ticked,
            (false, Some(v)) => vec![v],
            (false, None) => spec.default_variants.to_vec(),
        };
        let clock = self.clock;
        let (ok, skipped): (Vec<&'static str>, Vec<&'static str>) =
            variants.into_iter().partition(|name| {
                spec.variant(name)
                    .is_some_and(|v| v.clocks.contains(&clock))
            });
        if ok.is_empty() {
            return Err(format!(
                "{} needs the other clock: press `t` to switch",
                skipped.join(", ")
            ));
        }
        let note = (!skipped.is_empty()).then(|| {
            format!(
                "skipped {} (not on the {} clock)",
                skipped.join(", "),
                clock.name()
            )
        });
        let request = RunRequest {
            demo: self.demo,
            variants: ok,
            params: self.params.clone(),
            clock,
            os_signals: false,
        };
        Ok((request, note))
    }
}

/// A demo without an asyncio twin, asked to run on asyncio.
fn no_twin(id: &str) -> String {
    format!("the {id} demo has no asyncio twin: it runs on tokio only")
}

/// The next value of a parameter, as `--set` would write it.
fn step_param(p: &demo::ParamSpec, value: &demo::ParamVal, up: bool) -> Option<String> {
    use demo::{ParamKind, ParamVal};
    let nice = |n: u64| -> u64 {
        // Steps that keep values round: 1, 5, 10, 50, 100 ... depending on size.
        match n {
            0..10 => 1,
            10..50 => 5,
            50..200 => 10,
            200..1000 => 50,
            1000..5000 => 100,
            _ => 1000,
        }
    };
    Some(match (p.kind, value) {
        (ParamKind::Int { min, max }, ParamVal::Int(n)) => {
            (if up { n + 1 } else { n - 1 }).clamp(min, max).to_string()
        }
        (ParamKind::Ms { min, max }, ParamVal::Ms(n)) => {
            let s = nice(if up { *n } else { n.saturating_sub(1) });
            (if up { n + s } else { n.saturating_sub(s) })
                .clamp(min, max)
                .to_string()
        }
        (
            ParamKind::MsList {
                min_len, max_len, ..
            },
            ParamVal::MsList(v),
        ) => {
            let mut v = v.clone();
            if up && v.len() < max_len {
                v.push(v.last().copied().unwrap_or(100));
            } else if !up && v.len() > min_len {
                v.pop();
            }
            v.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
        }
        (ParamKind::Choice(options), ParamVal::Text(t)) => {
            let i = options.iter().position(|o| o == t).unwrap_or(0);
            let n = options.len();
            options[if up { (i + 1) % n } else { (i + n - 1) % n }].to_owned()
        }
        _ => return None,
    })
}
