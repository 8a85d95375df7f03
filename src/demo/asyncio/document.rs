//! Reading what the tracer writes: one run document per line (`docs/run-document.md`), holding
//! one run, read by the same types that write `run --json` ([`crate::demo::document`]) and turned
//! into a variant's run.

use crate::demo::document::{Document, Runtimes};
use crate::demo::runner::{RunError, VariantRun};

use super::Runtime;

/// One line of the tracer's output as a run of `variant`, one of `variants` (the names the run
/// document's variants get: the tokio demo's own). Errors say what was wrong with the line.
pub(super) fn parse_run(line: &str, variants: &[&'static str]) -> Result<VariantRun, String> {
    let doc = Document::from_json(line).map_err(|e| e.to_string())?;
    if doc.runtime != Runtimes::Asyncio {
        return Err(format!(
            "a document of runtime `{}` where `asyncio` was expected",
            doc.runtime.name()
        ));
    }
    let Ok([run]) = <[_; 1]>::try_from(doc.runs) else {
        return Err("a line holds one run, not several or none".into());
    };
    let Some(&variant) = variants.iter().find(|v| **v == run.variant) else {
        return Err(format!(
            "a run of variant `{}`, which was not asked for",
            run.variant
        ));
    };
    if let Some(other) = run.runtime.filter(|r| *r != Runtime::Asyncio) {
        return Err(format!(
            "a run of runtime `{}` where `asyncio` was expected",
            other.name()
        ));
    }
    let total_ms = run.total_ms;
    let error = run.error.clone().map(|reason| RunError::Twin {
        reason: reason.into_owned(),
    });
    Ok(VariantRun {
        variant,
        total_ms,
        timeline: run.into_timeline(),
        error,
        alive_after: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::timeline::{Outcome, SeriesValue};

    const LINE: &str = r#"{"format_version":3,"demo":"gather","clock":"virtual",
        "runtime":"asyncio","params":{"latencies_ms":[100]},"runs":[
        {"variant":"join-all","total_ms":300.0,"tasks":[
        {"id":1,"name":"main","parent":null,"spawned_ms":0.0,"finished_ms":300.0,
         "outcome":"ok","detail":"","polls":[[0.0,0.0],[300.0,300.0]],"seqs":[0,1,7,9]},
        {"id":2,"name":"request 1","parent":1,"spawned_ms":0.0,"finished_ms":100.0,
         "outcome":"timeout","detail":"late","polls":[],"seqs":[2,6]}],
        "marks":[{"t_ms":100.0,"task":2,"label":"response","line":12,"seq":5}],
        "series":{"in_flight":[[0.0,3.0],[100.0,2]],"state":[[0.0,"closed"]]},
        "series_seqs":{"in_flight":[4,10],"state":[11]},
        "metrics":{"max_in_flight":3},"now_ms":300.0,"runtime":"asyncio",
        "wakes":[[3,0.0,2,"spawn",null,null],[8,300.0,1,"task",2,9]]}]}"#;

    fn line() -> String {
        LINE.replace('\n', "")
    }

    #[test]
    fn a_line_becomes_a_variant_run() {
        let run = parse_run(&line(), &["sequential", "join-all"]).unwrap();
        assert_eq!(run.variant, "join-all");
        assert_eq!(run.total_ms, 300.0);
        let tl = &run.timeline;
        assert_eq!(tl.tasks[1].outcome, Outcome::Timeout);
        assert_eq!(tl.tasks[1].parent, Some(1));
        assert_eq!(tl.tasks[0].poll_seq(1), Some(7));
        assert_eq!(tl.tasks[1].finished_seq(), Some(6));
        assert_eq!(tl.marks[0].line, Some(12));
        assert_eq!(tl.marks[0].seq, 5);
        assert_eq!(tl.series["in_flight"][1], (100.0, SeriesValue::Num(2.0)));
        assert_eq!(tl.series_seqs["in_flight"], [4, 10]);
        assert_eq!(tl.series["state"][0].1, SeriesValue::Text("closed".into()));
        assert_eq!(tl.metric("max_in_flight"), Some(3.0));
        assert_eq!(tl.wakes[1].cause, crate::demo::timeline::WakeCause::Task);
        assert_eq!((tl.wakes[1].by, tl.wakes[1].line), (Some(2), Some(9)));
    }

    #[test]
    fn lines_that_break_the_contract_are_refused() {
        let line = line();
        let err = parse_run(&line, &["sequential"]).unwrap_err();
        assert!(err.contains("not asked for"), "{err}");
        let refused = |bad: String, says: &str| {
            let err = parse_run(&bad, &["join-all"]).expect_err(says);
            assert!(err.contains(says), "{says}: {err}");
        };
        refused(
            line.replace(r#""parent":1"#, r#""parent":7"#),
            "unknown parent",
        );
        refused(line.replace("\"timeout\"", "\"exploded\""), "exploded");
        refused(
            line.replace(r#""seq":5"#, r#""seq":5,"colour":"red""#),
            "colour",
        );
        // A finish numbered before the spawn, and a poll without its seq.
        refused(line.replace("[2,6]", "[2,1]"), "request 1");
        refused(line.replace("[0,1,7,9]", "[0,1,9]"), "3 seqs for 4 events");
        refused(
            line.replace(
                r#""runtime":"asyncio","params""#,
                r#""runtime":"tokio","params""#,
            ),
            "runtime",
        );
        refused(line.replace(r#""format_version":3,"#, ""), "format 1");
        refused(
            line.replace(r#""format_version":3"#, r#""format_version":4"#),
            "format 3",
        );
        refused(
            line.replace(r#""task",2,9]"#, r#""task",9,9]"#),
            "unknown task",
        );
        // A wake is a row of exactly six items.
        refused(
            line.replace(r#""task",2,9]"#, r#""task",2]"#),
            "a wake: [seq",
        );
        refused(
            line.replace(r#""task",2,9]"#, r#""task",2,9,1]"#),
            "invalid length 7",
        );
        refused(line.replace(r#""spawn""#, r#""magic""#), "magic");
        assert!(parse_run("not json", &["join-all"]).is_err());
    }
}
