//! The lesson as one scrollable text — question, answer, key points, the asyncio ↔ tokio map —
//! built once when the lesson opens, never per frame.

use crate::lesson::Lesson;
use crate::markdown::{self, MdLine, Run, TextStyle};
use crate::text::{one_line, paragraphs, sanitize};

pub fn build(lesson: &Lesson) -> Vec<MdLine> {
    let mut out: Vec<MdLine> = paragraphs(&lesson.question)
        .into_iter()
        .map(|p| MdLine::plain(p, TextStyle::Strong))
        .collect();
    out.push(MdLine::default());
    out.extend(markdown::render(&lesson.answer));
    out.push(MdLine::default());
    out.push(MdLine::plain("Key points", TextStyle::Heading));
    for p in &lesson.key_points {
        let mut l = MdLine::plain("• ", TextStyle::Bullet);
        l.indent = 2;
        l.runs.push(Run {
            style: TextStyle::Plain,
            text: one_line(p),
        });
        out.push(l);
    }
    out.push(MdLine::default());
    out.push(MdLine::plain("asyncio ↔ tokio", TextStyle::Heading));
    for row in &lesson.mapping {
        let mut l = MdLine::plain(sanitize(&row.asyncio).into_owned(), TextStyle::Code);
        l.indent = 2;
        l.runs.push(Run {
            style: TextStyle::Plain,
            text: "  ↔  ".into(),
        });
        l.runs.push(Run {
            style: TextStyle::Code,
            text: sanitize(&row.tokio).into_owned(),
        });
        if !row.note.is_empty() {
            l.runs.push(Run {
                style: TextStyle::Emphasis,
                text: format!("  {}", one_line(&row.note)),
            });
        }
        out.push(l);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_multi_line_question_keeps_the_space_at_its_line_break() {
        let set = crate::lesson::load_embedded(&crate::demo::Registry);
        let c1 = set
            .lessons
            .iter()
            .find(|l| l.is_named_by("c1"))
            .expect("C1 ships");
        assert!(
            c1.question.contains("and that\nstays"),
            "the YAML breaks the line"
        );
        let text: String = super::build(c1).iter().map(|l| l.text()).collect();
        assert!(text.contains("and that stays correct"), "{text}");
    }
}
