//! Predict, then run: every shipped prediction measured on the virtual clock and scored.

use super::*;

#[test]
fn every_predict_item_measures_its_answer_on_the_virtual_clock_and_scores_it() {
    let mut checked = 0;
    for l in lessons() {
        for q in l.quiz.iter().filter(|q| q.kind() == QuizKind::Predict) {
            let run = run_predict(q).unwrap_or_else(|e| panic!("{}/{}: {e}", l.id, q.id));
            let expected = expected_answer(q).unwrap();
            // The lesson's answer typed as the prediction scores full marks against the run.
            let typed = match &expected {
                Measured::Number(n) => format!("{n}"),
                Measured::Name(s) => s.clone(),
            };
            let s = score_predict_item(q, &typed, &run.measured).unwrap();
            assert!(s.within_tolerance, "{}/{}: {s:?}", l.id, q.id);
            assert_eq!(s.score, 1.0, "{}/{}", l.id, q.id);
            assert_eq!(s.tolerance_pct, tolerance_pct(q));
            assert_eq!(
                QuizOutcome::Predict(s).grade(),
                Grade::Good,
                "{}/{}",
                l.id,
                q.id
            );
            // A wild guess scores nothing.
            let wild = match &run.measured {
                Measured::Number(n) => format!("{}", n * 3.0 + 10.0),
                Measured::Name(_) => "no such task".to_owned(),
            };
            let s = score_predict_item(q, &wild, &run.measured).unwrap();
            assert_eq!(s.score, 0.0, "{}/{}: {s:?}", l.id, q.id);
            // The run is repeatable: the virtual clock measures the same thing again.
            assert_eq!(run_predict(q).unwrap().measured, run.measured);
            checked += 1;
        }
    }
    assert!(checked >= 19, "only {checked} predict items");
}

#[test]
fn a_prediction_is_scored_by_how_far_off_it_is() {
    let ls = lessons();
    let q = item(lesson(&ls, "q01-sync-vs-async"), "concurrent-total");
    assert_eq!(tolerance_pct(q), DEFAULT_TOLERANCE_PCT);
    let run = run_predict(q).unwrap();
    assert_eq!(run.measured, Measured::Number(200.0));
    assert_eq!(run.runs[0].variant(), "join-all");
    let score = |typed: &str| score_predict_item(q, typed, &run.measured).unwrap();

    for exact in ["200", "200ms", "0.2s", " 200 "] {
        assert_eq!(score(exact).score, 1.0, "{exact}");
    }
    // Within 10%: counts.
    assert!(score("215").within_tolerance);
    assert_eq!(score("180").score, 1.0);
    // 15% off: halfway down the slope (0 at 30%), a Hard.
    let s = score("230");
    assert!(!s.within_tolerance);
    assert!((s.score - 0.75).abs() < 1e-9, "{s:?}");
    assert!((s.error_pct.unwrap() - 15.0).abs() < 1e-9);
    assert_eq!(Grade::from_score(s.score), Grade::Hard);
    // 30% and beyond: Again. Predicting the sequential total (the classic mistake) scores 0.
    assert_eq!(score("260").score, 0.0);
    assert_eq!(score("400").score, 0.0);
    assert_eq!(Grade::from_score(score("400").score), Grade::Again);

    assert!(matches!(
        score_predict_item(q, "soon", &run.measured),
        Err(PracticeError::BadPrediction(_))
    ));
    assert!(score_predict_item(q, "  ", &run.measured).is_err());
}

#[test]
fn first_finished_predictions_match_names_leniently() {
    let ls = lessons();
    let q = item(lesson(&ls, "q01-sync-vs-async"), "first-done");
    let run = run_predict(q).unwrap();
    assert_eq!(run.measured, Measured::Name("request 2".into()));
    for typed in ["request 2", "Request  2", "2", "02"] {
        let s = score_predict_item(q, typed, &run.measured).unwrap();
        assert_eq!(s.score, 1.0, "{typed}");
    }
    for typed in ["request 1", "1", "request", "12"] {
        let s = score_predict_item(q, typed, &run.measured).unwrap();
        assert_eq!(s.score, 0.0, "{typed}");
    }
}

#[test]
fn counts_and_metrics_are_predicted_too() {
    let ls = lessons();
    // A metric (a small count): off by one on 6 is 17% off.
    let q = item(lesson(&ls, "c3-task-scheduler"), "fixed-rate-runs");
    let run = run_predict(q).unwrap();
    assert_eq!(run.measured, Measured::Number(6.0));
    assert_eq!(
        score_predict_item(q, "6", &run.measured).unwrap().score,
        1.0
    );
    let s = score_predict_item(q, "5", &run.measured).unwrap();
    assert!(s.score > 0.5 && s.score < 0.9, "{s:?}");
    assert_eq!(
        score_predict_item(q, "3", &run.measured).unwrap().score,
        0.0
    );
}

#[test]
fn pure_prediction_scoring_edges() {
    let n = |v: f64| Prediction::Number(v);
    // A measured 0: only 0 (or within half a unit) counts; 1 is 100% off.
    assert_eq!(
        score_prediction(&n(0.0), &Measured::Number(0.0), 10).score,
        1.0
    );
    assert_eq!(
        score_prediction(&n(1.0), &Measured::Number(0.0), 10).score,
        0.0
    );
    // Tolerance 0: whole-number answers still count exactly despite float noise.
    assert_eq!(
        score_prediction(&n(300.0), &Measured::Number(300.0001), 0).score,
        1.0
    );
    // A custom tolerance widens the band.
    let s = score_prediction(&n(1250.0), &Measured::Number(1000.0), 25);
    assert!(s.within_tolerance);
    assert!(!score_prediction(&n(1250.0), &Measured::Number(1000.0), 10).within_tolerance);
    // Kinds that do not match score 0.
    assert_eq!(
        score_prediction(&n(2.0), &Measured::Name("request 2".into()), 10).score,
        0.0
    );
    assert_eq!(
        score_prediction(
            &Prediction::Name("200".into()),
            &Measured::Number(200.0),
            10
        )
        .score,
        0.0
    );
    // Parsing.
    use asyncdojo::lesson::Measure;
    assert_eq!(
        Prediction::parse(&Measure::TotalMs, "1,400").unwrap(),
        n(1400.0)
    );
    assert_eq!(
        Prediction::parse(&Measure::TotalMs, "1.4s").unwrap(),
        n(1400.0)
    );
    assert_eq!(
        Prediction::parse(&Measure::Metric("x".into()), "1_000").unwrap(),
        n(1000.0)
    );
    assert!(Prediction::parse(&Measure::Metric("x".into()), "1s").is_err());
    assert_eq!(
        Prediction::parse(&Measure::FirstFinished, " job 3 ").unwrap(),
        Prediction::Name("job 3".into())
    );
}
