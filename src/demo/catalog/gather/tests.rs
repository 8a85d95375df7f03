use super::{Gather, Variant};
use crate::demo::runner::{self, RequestError, RunError, RunRequest};
use crate::demo::testing::{self, run_virtual};
use crate::demo::{Clock, Demo, Outcome, Params};

#[test]
fn awaited_one_by_one_the_waits_add_up_and_joined_they_overlap() {
    let all = [Variant::Sequential, Variant::JoinAll, Variant::JoinSet];
    let report = run_virtual::<Gather>(&all, &["latencies_ms=100,300,200"]);
    let total = |v| testing::variant(&report, v).total_ms;
    // Halfway through the second request: one by one, one waits; joined, the first is done and
    // two still wait.
    let in_flight_at_150 =
        |v| testing::series_at(&testing::variant(&report, v).timeline, "in_flight", 150.0);
    assert_eq!(in_flight_at_150(Variant::Sequential), 1.0);
    assert_eq!(in_flight_at_150(Variant::JoinAll), 2.0);
    assert_eq!(in_flight_at_150(Variant::JoinSet), 2.0);
    assert_eq!(total(Variant::Sequential), 600.0);
    assert_eq!(total(Variant::JoinAll), 300.0);
    assert_eq!(total(Variant::JoinSet), 300.0);
    for (v, max) in [
        (Variant::Sequential, 1.0),
        (Variant::JoinAll, 3.0),
        (Variant::JoinSet, 3.0),
    ] {
        let r = testing::variant(&report, v);
        testing::clean(r);
        assert_eq!(testing::metric(&r.timeline, "max_in_flight"), max, "{v:?}");
        let request = testing::task(&r.timeline, "request 2");
        assert_eq!(request.outcome, Outcome::Ok);
        assert_eq!(request.detail, "300 ms");
    }
}

#[test]
fn marks_point_at_their_line_of_the_shown_file() {
    let report = run_virtual::<Gather>(&[Variant::JoinAll], &[]);
    let tl = &testing::variant(&report, Variant::JoinAll).timeline;
    assert_eq!(testing::mark_times(tl, "response"), [100.0, 200.0, 300.0]);
    let line = tl.marks[0].line.expect("made from the shown file") as usize;
    let shown = super::SPEC.source.lines().nth(line - 1).expect("a line");
    assert_eq!(shown.trim(), r#"ctx.mark("response");"#);
}

#[test]
fn an_unknown_variant_is_a_usage_error_not_another_variant() {
    assert_eq!(
        RunRequest::build("gather", &["fast".into()], &[], Clock::Virtual).unwrap_err(),
        RequestError::UnknownVariant {
            demo: "gather",
            variant: "fast".into(),
            known: vec!["sequential", "join-all", "join-set"],
        }
    );
    // A request built by hand, past `build`: the run of that variant fails, nothing else runs.
    let req = RunRequest {
        demo: &Gather,
        variants: vec!["fast"],
        params: Params::defaults(&super::SPEC),
        clock: Clock::Virtual,
        os_signals: false,
    };
    let report = runner::run_blocking(req).expect("the run starts");
    let r = &report.runs[0];
    assert!(matches!(
        r.error,
        Some(RunError::Request(RequestError::UnknownVariant { .. }))
    ));
    assert!(r.timeline.tasks.is_empty());
    assert!(
        Gather
            .check("fast", &Params::defaults(&super::SPEC))
            .is_err()
    );
}
