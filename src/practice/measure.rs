//! What a predict item measures, in the learner's words: its unit (milliseconds, a plain count,
//! or a task's name), what the number means (`metric:max_running` is "the most tasks running at
//! once"), and the tasks a "which finishes first" question can name.
//!
//! Lessons write measures as data (`total_ms`, `outcome:cancelled`, `metric:max_in_flight`); the
//! practice screen never shows those spellings.

use crate::demo::timeline::{TimelineSnapshot, fmt_ms, fmt_number};
use crate::lesson::Measure;

use super::PracticeError;

/// How a measured value is read and written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Milliseconds: the run's total, or a metric whose name ends `_ms`.
    Ms,
    /// A plain number: a count of outcomes, or any other metric.
    Count,
    /// A task's name: the first to finish.
    Task,
}

pub fn unit(measure: &Measure) -> Unit {
    match measure {
        Measure::TotalMs => Unit::Ms,
        Measure::FirstFinished => Unit::Task,
        Measure::OutcomeCount(_) => Unit::Count,
        Measure::Metric(name) if name.ends_with("_ms") => Unit::Ms,
        Measure::Metric(_) => Unit::Count,
    }
}

/// A measured (or predicted) number as the learner reads it: `1.2 s`, `300 ms`, `4`.
pub fn format_value(measure: &Measure, value: f64) -> String {
    match unit(measure) {
        Unit::Ms => fmt_ms(value),
        Unit::Count | Unit::Task => fmt_number(value),
    }
}

/// The metrics predict items ask about, in words. A metric not listed here reads as its name
/// with spaces ([`describe`]): a new one is understandable before it is added.
const METRIC_WORDS: &[(&str, &str)] = &[
    ("attempts", "the attempts made, the successful one included"),
    ("caller_returned_ms", "when the caller had its results"),
    ("completed", "how many completed"),
    ("items_lost", "the items lost"),
    ("last_grant_ms", "when the last request was granted"),
    ("max_in_flight", "the most in flight at once"),
    ("max_lag_ms", "the latest a wake-up came"),
    ("max_running", "the most tasks running at once"),
    (
        "max_sched_ms",
        "the longest a task sat scheduled (woken, not yet polled)",
    ),
    ("max_tick_gap_ms", "the longest gap between ticks"),
    ("median_sched_ms", "the median time from a wake to its poll"),
    (
        "never_awaited_polls",
        "how often the never-awaited future was polled",
    ),
    ("recurring_runs", "the runs of the recurring job"),
    ("rejected", "the calls rejected"),
    ("timed_out", "how many timed out"),
    ("trials", "the half-open trial calls"),
];

/// What `measure` is, in words: "the total time", "the most tasks running at once".
pub fn describe(measure: &Measure) -> String {
    match measure {
        Measure::TotalMs => "the total time".into(),
        Measure::FirstFinished => "the first task to finish".into(),
        Measure::OutcomeCount(outcome) => format!("the tasks that ended {}", words(outcome)),
        Measure::Metric(name) => METRIC_WORDS.iter().find(|(n, _)| n == name).map_or_else(
            || words(name.strip_suffix("_ms").unwrap_or(name)),
            |(_, w)| (*w).to_owned(),
        ),
    }
}

/// `max_running` → `max running`.
fn words(name: &str) -> String {
    name.split(['_', '-'])
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// What to type for `measure`, before the learner answers.
pub fn input_hint(measure: &Measure) -> &'static str {
    match unit(measure) {
        Unit::Ms => "a number of milliseconds (e.g. 1200, or 1.2s)",
        Unit::Count => "a number",
        Unit::Task => "a task's name, or its number",
    }
}

/// The tasks a "which finishes first" question can name: every task of the run but `main` (which
/// awaits the others), in the order they were spawned. Only names: nothing about when they end.
pub fn task_names(run: &TimelineSnapshot) -> Vec<String> {
    let mut tasks: Vec<_> = run.tasks.iter().filter(|t| t.name != "main").collect();
    tasks.sort_by(|a, b| a.spawned_ms.total_cmp(&b.spawned_ms).then(a.id.cmp(&b.id)));
    tasks.iter().map(|t| t.name.clone()).collect()
}

fn normalise(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The number a name ends with (`request 2` → 2).
fn trailing_number(name: &str) -> Option<u64> {
    name.rsplit(|c: char| !c.is_ascii_digit())
        .next()
        .filter(|d| !d.is_empty())
        .and_then(|d| d.parse().ok())
}

/// `a, b or c`.
pub fn either(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// The candidate the learner means by `typed`: its whole name (case and spacing aside), a number
/// (the one in a name, `2` for `request 2`, or else the candidate's place in the list, from 1), or
/// the start of exactly one name. A number that could mean two different tasks, a start shared by
/// several, or text that names none is an error saying which tasks there are: the learner tries
/// again, nothing is scored.
pub fn pick_task<'a>(typed: &str, candidates: &'a [String]) -> Result<&'a str, PracticeError> {
    let t = normalise(typed);
    if t.is_empty() {
        return Err(PracticeError::BadPrediction(format!(
            "type the task that finishes first: {}",
            either(candidates)
        )));
    }
    if let Some(c) = candidates.iter().find(|c| normalise(c) == t) {
        return Ok(c);
    }
    let ambiguous = |matches: Vec<&String>| {
        let names: Vec<String> = matches.into_iter().cloned().collect();
        PracticeError::BadPrediction(format!(
            "`{}` could be {}: type more of the name",
            typed.trim(),
            either(&names)
        ))
    };
    if let Ok(n) = t.parse::<u64>() {
        let by_name = candidates
            .iter()
            .find(|c| trailing_number(c) == Some(n))
            .map(String::as_str);
        let by_place = usize::try_from(n)
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| candidates.get(i))
            .map(String::as_str);
        return match (by_name, by_place) {
            (Some(a), Some(b)) if a != b => Err(PracticeError::BadPrediction(format!(
                "`{n}` could be {a} (by its name) or {b} (number {n} in the list): type the name"
            ))),
            (Some(c), _) | (None, Some(c)) => Ok(c),
            (None, None) => Err(none_of(typed, candidates)),
        };
    }
    let starting: Vec<&String> = candidates
        .iter()
        .filter(|c| normalise(c).starts_with(&t))
        .collect();
    match starting.as_slice() {
        [one] => Ok(one),
        [] => Err(none_of(typed, candidates)),
        _ => Err(ambiguous(starting)),
    }
}

fn none_of(typed: &str, candidates: &[String]) -> PracticeError {
    PracticeError::BadPrediction(format!(
        "`{}` is none of the tasks: type {}, or its number",
        typed.trim(),
        either(candidates)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_task_is_named_by_its_name_number_or_an_unambiguous_start() {
        let c = names(&["request 1", "request 2", "request 3"]);
        for typed in ["request 2", " Request  2 ", "2", "02", "request 2"] {
            assert_eq!(pick_task(typed, &c).ok(), Some("request 2"), "{typed}");
        }
        let err = |typed: &str| match pick_task(typed, &c) {
            Err(e) => e.to_string(),
            Ok(t) => panic!("`{typed}` picked {t}"),
        };
        // The 100 ms request is not a task's name: the answer lists the tasks.
        assert_eq!(
            err("100"),
            "`100` is none of the tasks: type request 1, request 2 or request 3, or its number"
        );
        assert!(err("request").contains("could be request 1, request 2 or request 3"));
        assert!(err("worker").contains("none of the tasks"));
    }

    #[test]
    fn a_number_that_means_two_tasks_asks_for_the_name() {
        let c = names(&["worker 0", "worker 1", "worker 2"]);
        assert_eq!(pick_task("0", &c).ok(), Some("worker 0"));
        assert_eq!(pick_task("3", &c).ok(), Some("worker 2"), "third listed");
        assert!(
            pick_task("1", &c).is_err(),
            "worker 1, or the first listed?"
        );
        let plain = names(&["alpha", "beta"]);
        assert_eq!(pick_task("2", &plain).ok(), Some("beta"));
        assert_eq!(pick_task("b", &plain).ok(), Some("beta"));
    }

    #[test]
    fn measures_read_in_their_units_and_in_words() {
        let metric = |m: &str| Measure::Metric(m.into());
        assert_eq!(format_value(&Measure::TotalMs, 300.0), "300 ms");
        assert_eq!(format_value(&metric("max_lag_ms"), 120.0), "120 ms");
        assert_eq!(format_value(&metric("max_running"), 1.0), "1");
        assert_eq!(
            format_value(&Measure::OutcomeCount("cancelled".into()), 2.0),
            "2"
        );
        assert_eq!(
            describe(&metric("max_running")),
            "the most tasks running at once"
        );
        assert_eq!(describe(&metric("queue_depth_peak")), "queue depth peak");
        assert_eq!(describe(&metric("first_byte_ms")), "first byte");
        assert_eq!(
            describe(&Measure::OutcomeCount("cancelled".into())),
            "the tasks that ended cancelled"
        );
    }
}
