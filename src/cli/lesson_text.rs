//! Lessons as text: `list` (plain and JSON) and `show` (highlighted on a terminal, plain in a
//! pipe), with every exercise's bugs and fix.

use std::io::Write;

use crate::lesson::{self, Lesson, LessonSet};

pub(super) fn print_list(set: &LessonSet, out: &mut impl Write) -> std::io::Result<()> {
    let mut section = None;
    for l in &set.lessons {
        if section != Some(l.section) {
            if section.is_some() {
                writeln!(out)?;
            }
            writeln!(out, "{}", l.section.title())?;
            section = Some(l.section);
        }
        writeln!(
            out,
            "  {:<4} {:<28} {}",
            l.label(),
            l.id.0,
            crate::text::sanitize(&l.title)
        )?;
    }
    Ok(())
}

pub(super) fn print_list_json(set: &LessonSet, out: &mut impl Write) -> anyhow::Result<()> {
    let rows: Vec<serde_json::Value> = set
        .lessons
        .iter()
        .map(|l| {
            serde_json::json!({
                "id": l.id,
                "label": l.label(),
                "kind": l.kind,
                "number": l.number,
                "section": l.section,
                "title": l.title,
                "demos": l.demos.iter().map(|d| d.demo.as_str()).collect::<Vec<_>>(),
                "quiz_items": l.quiz.len(),
            })
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &rows)?;
    writeln!(out)?;
    Ok(())
}

/// One lesson as readable text. Every piece of lesson text goes through `sanitize`, so even a
/// lesson loaded with `--lessons` cannot write escape sequences to the terminal.
pub fn print_lesson(l: &Lesson, styled: bool, out: &mut impl Write) -> std::io::Result<()> {
    use crate::text::sanitize as s;
    let heading = |out: &mut dyn Write, text: &str| -> std::io::Result<()> {
        if styled {
            writeln!(out, "\n\x1b[1;4m{text}\x1b[0m")
        } else {
            writeln!(out, "\n{text}\n{}", "-".repeat(text.chars().count()))
        }
    };
    let title = format!("{} · {}", l.label(), s(&l.title));
    if styled {
        writeln!(out, "\x1b[1m{title}\x1b[0m  ({})", l.section.title())?;
    } else {
        writeln!(
            out,
            "{title}\n{}\n({})",
            "=".repeat(title.chars().count()),
            l.section.title()
        )?;
    }
    heading(out, "Question")?;
    writeln!(out, "{}", s(l.question.trim_end()))?;
    heading(out, "Answer")?;
    writeln!(out, "{}", s(l.answer.trim_end()))?;
    heading(out, "Key points")?;
    for p in &l.key_points {
        writeln!(out, "- {}", s(p))?;
    }
    heading(out, "asyncio ↔ tokio")?;
    for row in &l.mapping {
        write!(out, "- {}  ↔  {}", s(&row.asyncio), s(&row.tokio))?;
        if row.note.is_empty() {
            writeln!(out)?;
        } else {
            writeln!(out, "  ({})", s(&row.note))?;
        }
    }
    for snippet in &l.code {
        let caption = if snippet.title.is_empty() {
            String::new()
        } else {
            format!(": {}", s(&snippet.title))
        };
        heading(out, &format!("Code ({}{caption})", snippet.language.name()))?;
        write_code(out, &snippet.source, snippet.language, styled)?;
    }
    if !l.demos.is_empty() {
        heading(out, "Demos")?;
        for d in &l.demos {
            let mut cmd = format!("asyncdojo run {}", d.demo);
            for v in &d.variants {
                cmd.push_str(&format!(" --variant {v}"));
            }
            for (k, v) in &d.params {
                cmd.push_str(&format!(" --set {k}={v}"));
            }
            writeln!(out, "- {}\n    {}", s(&d.caption), s(&cmd))?;
        }
    }
    for hunt in &l.spot_the_bug {
        let origin = match hunt.origin {
            lesson::BugOrigin::Guide => "from the interview guide: this code has bugs",
            lesson::BugOrigin::Original => "this code has bugs",
        };
        heading(out, &format!("Spot the bug: {} ({origin})", s(&hunt.title)))?;
        write_code(out, &hunt.code, hunt.language, styled)?;
        write_bugs_and_fix(out, hunt)?;
    }
    writeln!(
        out,
        "\n{} quiz item(s) and {} spot-the-bug exercise(s): practise them in the app.",
        l.quiz.len(),
        l.spot_the_bug.len()
    )?;
    Ok(())
}

/// The answer to a spot-the-bug exercise, after its code: `show` is read, not practised, so it
/// gives every bug (with the line numbers printed beside the code) and the fix.
fn write_bugs_and_fix(out: &mut dyn Write, hunt: &lesson::BugHunt) -> std::io::Result<()> {
    use crate::text::sanitize as s;
    writeln!(out, "\nBugs:")?;
    for bug in &hunt.bugs {
        let lines: Vec<String> = bug.lines.iter().map(u32::to_string).collect();
        let label = if lines.len() == 1 { "line" } else { "lines" };
        writeln!(
            out,
            "- {label} {}: {}",
            lines.join(", "),
            s(&bug.why.split_whitespace().collect::<Vec<_>>().join(" "))
        )?;
    }
    writeln!(out, "Fix: {}", s(hunt.fix.trim_end()))
}

fn write_code(
    out: &mut dyn Write,
    code: &str,
    language: lesson::Language,
    styled: bool,
) -> std::io::Result<()> {
    if styled {
        let lines = crate::highlight::highlight(code, language, crate::highlight::Palette::Dark);
        for (i, line) in crate::highlight::to_ansi(&lines).lines().enumerate() {
            writeln!(out, "\x1b[2m{:>3}\x1b[0m  {line}", i + 1)?;
        }
    } else {
        for (i, line) in code.lines().enumerate() {
            writeln!(out, "{:>3}  {}", i + 1, crate::text::sanitize(line))?;
        }
    }
    Ok(())
}
