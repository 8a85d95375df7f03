//! The lesson as one scrollable text — question, answer, key points, the asyncio ↔ tokio map —
//! built once when the lesson opens, never per frame.

use crate::lesson::Lesson;
use crate::markdown::{self, MdLine, Run, TextStyle};
use crate::text::sanitize;

pub fn build(lesson: &Lesson) -> Vec<MdLine> {
    let mut out = vec![MdLine::plain(
        sanitize(&lesson.question).into_owned(),
        TextStyle::Strong,
    )];
    out.push(MdLine::default());
    out.extend(markdown::render(&lesson.answer));
    out.push(MdLine::default());
    out.push(MdLine::plain("Key points", TextStyle::Heading));
    for p in &lesson.key_points {
        let mut l = MdLine::plain("• ", TextStyle::Bullet);
        l.indent = 2;
        l.runs.push(Run {
            style: TextStyle::Plain,
            text: sanitize(p).into_owned(),
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
                text: format!("  {}", sanitize(&row.note)),
            });
        }
        out.push(l);
    }
    out
}
