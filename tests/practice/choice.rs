//! Multiple choice: the chosen option against the answer, every shipped item.

use super::*;

#[test]
fn choice_right_and_wrong_with_the_explanation() {
    let ls = lessons();
    let q = item(lesson(&ls, "q01-sync-vs-async"), "parallel-or-not");
    let right = q.choice_answer().unwrap();
    let r = score_choice(q, right).unwrap();
    assert!(r.correct);
    assert_eq!(r.score(), 1.0);
    assert_eq!(r.explanation, q.explanation);
    assert_eq!(QuizOutcome::Choice(r).grade(), Grade::Good);

    let wrong = if right == 1 { 2 } else { 1 };
    let r = score_choice(q, wrong).unwrap();
    assert!(!r.correct);
    assert_eq!((r.chosen, r.answer), (wrong, right));
    assert!(
        !r.explanation.is_empty(),
        "the explanation shows after any answer"
    );
    assert_eq!(QuizOutcome::Choice(r).grade(), Grade::Again);

    let options = q.as_choice().unwrap().options.len();
    assert_eq!(
        score_choice(q, 0),
        Err(PracticeError::NoSuchOption { chosen: 0, options })
    );
    assert!(score_choice(q, options + 1).is_err());
    let predict = item(lesson(&ls, "q01-sync-vs-async"), "concurrent-total");
    assert!(matches!(
        score_choice(predict, 1),
        Err(PracticeError::WrongKind { .. })
    ));
}

#[test]
fn every_choice_item_scores_its_own_answer_right() {
    for l in lessons() {
        for q in l.quiz.iter().filter(|q| q.kind() == QuizKind::Choice) {
            let r = score_choice(q, q.choice_answer().unwrap()).unwrap();
            assert!(r.correct, "{}/{}", l.id, q.id);
        }
    }
}
