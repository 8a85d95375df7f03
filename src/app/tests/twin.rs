//! The runtime setting and asyncio twin runs, through `update` alone (the edge's part is in
//! `tui::tests`).

use super::app;
use crate::app::params_panel::{DemoPanel, RunOn};
use crate::app::{Action, App, Effect};
use crate::demo::asyncio::{self, Runtime};
use crate::demo::run::{Run, interleave};
use crate::demo::{Clock, Params, RunRequest};
use crate::lesson::Language;

fn runtime(a: &App) -> Option<RunOn> {
    a.lesson.as_ref()?.demo.as_ref().map(|d| d.runtime)
}

fn code(a: &App) -> (String, Language) {
    let v = a.lesson.as_ref().expect("a lesson is open");
    let (text, language, _) = v.code_text(&a.lessons[v.index]);
    (text.to_owned(), language)
}

/// Tokio timelines of gather's variants on the virtual clock: stand-ins for any run's data.
fn gather_runs(variants: &[&str]) -> Vec<Run> {
    let variants: Vec<String> = variants.iter().map(|v| v.to_string()).collect();
    let req = RunRequest::build("gather", &variants, &[], Clock::Virtual).expect("req");
    Run::from_report(
        crate::demo::runner::run_blocking(req).expect("run"),
        Runtime::Tokio,
    )
}

/// An empty tokio run of `demo`'s `variant`, for its labels.
fn gather_like(demo: &str, variant: &str) -> Run {
    let spec = crate::demo::find(demo).expect("demo").spec();
    let variant = spec.variant(variant).expect("variant").name;
    Run::of_demo(
        spec.id,
        variant,
        Runtime::Tokio,
        Clock::Virtual,
        Default::default(),
    )
}

/// The same timelines as the asyncio twin's runs.
fn on_asyncio(runs: Vec<Run>) -> Vec<Run> {
    runs.into_iter()
        .map(|r| r.as_made_by(Runtime::Asyncio))
        .collect()
}

fn panel(demo: &str, picked: &[&str]) -> DemoPanel {
    let demo = crate::demo::find(demo).expect("demo");
    let spec = demo.spec();
    DemoPanel {
        index: 0,
        demo,
        params: Params::defaults(spec),
        variants: spec
            .variants
            .iter()
            .map(|v| (v.name, picked.contains(&v.name)))
            .collect(),
        selected_param: 0,
        // The cursor on the first pick, as a lesson opens it.
        selected_variant: spec
            .variants
            .iter()
            .position(|v| picked.contains(&v.name))
            .unwrap_or(0),
        // Every variant runs on the real clock (multi-thread and a real pool need it).
        clock: Clock::Real,
        runtime: RunOn::Tokio,
    }
}

#[test]
fn a_cycles_the_runtime_tokio_asyncio_both_and_runs_the_twin() {
    let mut a = app();
    let _ = a.update(Action::Open);
    assert_eq!(runtime(&a), Some(RunOn::Tokio));
    let _ = a.update(Action::ToggleRuntime);
    assert_eq!(runtime(&a), Some(RunOn::Asyncio));
    assert!(
        a.message
            .as_deref()
            .is_some_and(|m| m.contains("gather.py"))
    );
    let _ = a.update(Action::ToggleRuntime);
    assert_eq!(runtime(&a), Some(RunOn::Both));
    let _ = a.update(Action::ToggleRuntime);
    assert_eq!(runtime(&a), Some(RunOn::Tokio));
    assert!(matches!(a.update(Action::Run), Effect::StartRun(_)));

    let mut a = app();
    let _ = a.update(Action::Open);
    let _ = a.update(Action::ToggleRuntime);
    let Effect::StartTwin {
        request,
        twin_variants,
        both,
    } = a.update(Action::Run)
    else {
        panic!("r on asyncio runs the twin");
    };
    assert!(!both);
    assert_eq!(twin_variants, ["sequential"]);
    assert_eq!(request.variants, ["sequential"]);
    // While the twin runs, the code pane already shows it.
    assert_eq!(
        code(&a),
        (
            asyncio::twin_source("gather").expect("twin").to_owned(),
            Language::Python
        )
    );
    // Esc cancels it, as any run.
    assert!(matches!(a.update(Action::Cancel), Effect::CancelRun));
}

#[test]
fn a_demo_without_a_twin_does_not_offer_the_runtime() {
    // Twins keep being added: any demo still without one will do, while there is one.
    let Some(demo) = crate::demo::ids()
        .into_iter()
        .find(|d| asyncio::twin(d).is_none())
    else {
        return;
    };
    let mut p = panel(demo, &[]);
    let said = p.toggle_runtime();
    assert!(said.contains("no asyncio twin"), "{said}");
    assert_eq!(p.runtime, RunOn::Tokio);
    let (mut req, _) = p.request(false).expect("request");
    assert_eq!(p.twin_plan(&mut req).expect("plan"), (None, None));
}

#[test]
fn variants_without_an_asyncio_meaning_are_skipped_on_asyncio_and_tokio_only_in_both() {
    let mut p = panel("event-loop", &["current-thread", "multi-thread"]);
    p.runtime = RunOn::Asyncio;
    let (mut req, _) = p.request(true).expect("request");
    let (plan, note) = p.twin_plan(&mut req).expect("plan");
    assert_eq!(plan, Some((vec!["current-thread"], false)));
    assert_eq!(req.variants, ["current-thread"]);
    assert!(note.is_some_and(|n| n.contains("skipped multi-thread")));

    p.runtime = RunOn::Both;
    let (mut req, _) = p.request(true).expect("request");
    let (plan, note) = p.twin_plan(&mut req).expect("plan");
    assert_eq!(plan, Some((vec!["current-thread"], true)));
    assert_eq!(req.variants, ["current-thread", "multi-thread"]);
    assert!(note.is_some_and(|n| n.contains("multi-thread runs on tokio only")));

    // Nothing left to run on asyncio: say so rather than run nothing.
    let mut p = panel("event-loop", &["multi-thread"]);
    p.runtime = RunOn::Asyncio;
    let (mut req, _) = p.request(false).expect("request");
    assert!(p.twin_plan(&mut req).is_err());
}

#[test]
fn a_finished_asyncio_run_makes_the_code_pane_show_the_twin() {
    let mut a = app();
    let _ = a.update(Action::Open);
    let rust = code(&a);
    let _ = a.update(Action::ToggleRuntime);
    let _ = a.update(Action::Run);
    let runs = on_asyncio(gather_runs(&["sequential"]));
    let _ = a.update(Action::DemoFinished { runs, error: None });
    let python = asyncio::twin_source("gather").expect("twin");
    assert_ne!(rust.0, python);
    assert_eq!(code(&a), (python.to_owned(), Language::Python));
    let v = a.lesson.as_ref().expect("lesson");
    assert!(v.linked(), "the twin's lines link to its run");
}

#[test]
fn both_draws_each_variant_on_tokio_and_asyncio_and_the_code_follows_the_cursor() {
    let mut a = app();
    let _ = a.update(Action::Open);
    let _ = a.update(Action::ToggleRuntime);
    let _ = a.update(Action::ToggleRuntime);
    let Effect::StartTwin {
        request,
        twin_variants,
        both,
    } = a.update(Action::Compare)
    else {
        panic!("c on both runs the twin and tokio");
    };
    assert!(both);
    assert_eq!(request.variants, ["sequential", "join-all"]);
    assert_eq!(twin_variants, request.variants);
    // Tokio shows until the cursor follows an asyncio group.
    assert_eq!(code(&a).1, Language::Rust);

    let tokio = gather_runs(&["sequential", "join-all"]);
    let runs = interleave(tokio.clone(), on_asyncio(tokio));
    let _ = a.update(Action::DemoFinished { runs, error: None });
    let v = a.lesson.as_ref().expect("lesson");
    let labels: Vec<&str> = v.run.groups().iter().map(|g| g.label).collect();
    assert_eq!(
        labels,
        [
            "sequential · tokio",
            "sequential (await each) · asyncio",
            "join-all · tokio",
            "join-all (gather) · asyncio"
        ]
    );
    assert_eq!(code(&a).1, Language::Rust);
    // `v` on the timeline: the cursor follows the asyncio group, and the code pane its twin.
    let _ = a.update(Action::ToggleVariant);
    assert_eq!(
        code(&a),
        (
            asyncio::twin_source("gather").expect("twin").to_owned(),
            Language::Python
        )
    );
    let _ = a.update(Action::ToggleVariant);
    assert_eq!(code(&a).1, Language::Rust);
}

/// The timeline pane's first line for `a`'s run.
fn timeline_header(a: &App) -> String {
    use ratatui::widgets::Widget;
    let v = a.lesson.as_ref().expect("lesson");
    let theme = crate::ui::theme::Theme::new(crate::app::Palette::Dark, true);
    let area = ratatui::layout::Rect::new(0, 0, 120, 20);
    let mut buf = ratatui::buffer::Buffer::empty(area);
    (&crate::ui::timeline_pane::TimelinePane {
        run: &v.run,
        line: None,
        narrate: false,
        theme: &theme,
    })
        .render(area, &mut buf);
    (0..area.width).map(|x| buf[(x, 0)].symbol()).collect()
}

#[test]
fn an_asyncio_run_says_asyncio_in_its_header_and_names_variants_as_asyncio_does() {
    let mut a = app();
    let _ = a.update(Action::Open);
    let _ = a.update(Action::ToggleRuntime);
    let _ = a.update(Action::Compare);
    // As the edge labels an asyncio run's groups.
    let runs = on_asyncio(gather_runs(&["sequential", "join-all"]));
    let _ = a.update(Action::DemoFinished { runs, error: None });
    let header = timeline_header(&a);
    assert!(
        header.starts_with(
            "asyncio: sequential (await each) 600 ms · join-all (gather) 300 ms  finished  "
        ),
        "{header}"
    );

    // The same lanes from tokio say nothing of asyncio.
    let mut a = app();
    let _ = a.update(Action::Open);
    let _ = a.update(Action::Compare);
    let _ = a.update(Action::DemoFinished {
        runs: gather_runs(&["sequential", "join-all"]),
        error: None,
    });
    let header = timeline_header(&a);
    assert!(
        header.starts_with("sequential 600 ms · join-all 300 ms  finished  "),
        "{header}"
    );
}

#[test]
fn asyncio_names_come_from_the_twin_table() {
    assert_eq!(
        asyncio::variant_label("gather", "join-all"),
        "join-all (gather)"
    );
    assert_eq!(
        asyncio::variant_label("gather", "join-set"),
        "join-set (TaskGroup)"
    );
    assert_eq!(
        asyncio::variant_label("timeouts", "select"),
        "select (wait_for)"
    );
    // A name asyncio shares is not repeated; a variant without an asyncio meaning keeps its own.
    assert_eq!(asyncio::variant_label("spawn-vs-await", "await"), "await");
    assert_eq!(
        asyncio::variant_label("event-loop", "multi-thread"),
        "multi-thread"
    );
    let select = gather_like("timeouts", "select");
    let both = interleave(
        vec![select.clone()],
        vec![select.as_made_by(Runtime::Asyncio)],
    );
    let labels: Vec<&str> = both.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(labels, ["select · tokio", "select (wait_for) · asyncio"]);
    // Every variant asyncio runs has a short asyncio name.
    for twin in asyncio::twins() {
        for v in twin.runnable() {
            let short = v.mapping.short().unwrap_or_default();
            assert!(
                !short.is_empty() && short.len() <= 24,
                "{}/{}: {short:?}",
                twin.demo,
                v.name
            );
        }
    }
}
