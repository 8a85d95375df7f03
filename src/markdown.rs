//! Lesson Markdown turned into styled lines, once, when a lesson opens. pulldown-cmark parses;
//! the output is plain data with semantic styles, so the UI maps it to colours per theme and this
//! module knows nothing about the terminal.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// What a run of text is, not how it looks: the theme decides that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextStyle {
    Plain,
    Strong,
    Emphasis,
    StrongEmphasis,
    Code,
    Heading,
    CodeBlock,
    Bullet,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub style: TextStyle,
    pub text: String,
}

/// One line as rendered (before wrapping); `indent` is how far wrapped continuation lines hang.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MdLine {
    pub runs: Vec<Run>,
    pub indent: u16,
}

impl MdLine {
    pub fn plain(text: impl Into<String>, style: TextStyle) -> MdLine {
        MdLine {
            runs: vec![Run {
                style,
                text: text.into(),
            }],
            indent: 0,
        }
    }

    pub fn text(&self) -> String {
        self.runs.iter().map(|r| r.text.as_str()).collect()
    }
}

#[cfg(test)]
thread_local! {
    /// How many times this thread rendered Markdown: tests check a frame renders none.
    pub static RENDERS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Parse `source`; every piece of text is sanitised, so no control character reaches a terminal.
pub fn render(source: &str) -> Vec<MdLine> {
    #[cfg(test)]
    RENDERS.with(|n| n.set(n.get() + 1));
    let mut out: Vec<MdLine> = Vec::new();
    let mut line = MdLine::default();
    let mut strong = 0u32;
    let mut emphasis = 0u32;
    let mut in_code_block = false;
    let mut in_heading = false;
    let mut lists: Vec<Option<u64>> = Vec::new();

    let style =
        |strong: u32, emphasis: u32, heading: bool| match (heading, strong > 0, emphasis > 0) {
            (true, _, _) => TextStyle::Heading,
            (_, true, true) => TextStyle::StrongEmphasis,
            (_, true, false) => TextStyle::Strong,
            (_, false, true) => TextStyle::Emphasis,
            _ => TextStyle::Plain,
        };
    let flush = |out: &mut Vec<MdLine>, line: &mut MdLine| {
        if !line.runs.is_empty() {
            out.push(std::mem::take(line));
        }
    };
    let blank = |out: &mut Vec<MdLine>| {
        if out.last().is_some_and(|l| !l.runs.is_empty()) {
            out.push(MdLine::default());
        }
    };

    for event in Parser::new_ext(source, Options::ENABLE_STRIKETHROUGH) {
        match event {
            Event::Start(Tag::Heading { .. }) => {
                flush(&mut out, &mut line);
                blank(&mut out);
                in_heading = true;
            }
            Event::End(TagEnd::Heading(_)) => {
                flush(&mut out, &mut line);
                in_heading = false;
            }
            Event::Start(Tag::Paragraph) if lists.is_empty() => blank(&mut out),
            Event::End(TagEnd::Paragraph) => flush(&mut out, &mut line),
            Event::Start(Tag::List(start)) => {
                flush(&mut out, &mut line);
                if lists.is_empty() {
                    blank(&mut out);
                }
                lists.push(start);
            }
            Event::End(TagEnd::List(_)) => {
                flush(&mut out, &mut line);
                lists.pop();
            }
            Event::Start(Tag::Item) => {
                flush(&mut out, &mut line);
                let depth = lists.len().saturating_sub(1);
                let marker = match lists.last_mut() {
                    Some(Some(n)) => {
                        let m = format!("{n}. ");
                        *n += 1;
                        m
                    }
                    _ => "• ".to_owned(),
                };
                let pad = "  ".repeat(depth);
                line.indent = (pad.len() + marker.chars().count()) as u16;
                line.runs.push(Run {
                    style: TextStyle::Bullet,
                    text: format!("{pad}{marker}"),
                });
            }
            Event::End(TagEnd::Item) => flush(&mut out, &mut line),
            Event::Start(Tag::CodeBlock(_)) => {
                flush(&mut out, &mut line);
                blank(&mut out);
                in_code_block = true;
            }
            Event::End(TagEnd::CodeBlock) => {
                in_code_block = false;
                out.push(MdLine::default());
            }
            Event::Start(Tag::Strong) => strong += 1,
            Event::End(TagEnd::Strong) => strong = strong.saturating_sub(1),
            Event::Start(Tag::Emphasis) => emphasis += 1,
            Event::End(TagEnd::Emphasis) => emphasis = emphasis.saturating_sub(1),
            Event::Text(text) => {
                let text = crate::text::sanitize(&text).into_owned();
                if in_code_block {
                    for l in text.lines() {
                        out.push(MdLine::plain(format!("  {l}"), TextStyle::CodeBlock));
                    }
                } else {
                    line.runs.push(Run {
                        style: style(strong, emphasis, in_heading),
                        text,
                    });
                }
            }
            Event::Code(code) => line.runs.push(Run {
                style: TextStyle::Code,
                text: crate::text::sanitize(&code).into_owned(),
            }),
            Event::SoftBreak => line.runs.push(Run {
                style: TextStyle::Plain,
                text: " ".into(),
            }),
            Event::HardBreak => flush(&mut out, &mut line),
            // Lessons have no HTML; if one does, show it as text rather than interpret it.
            Event::Html(html) | Event::InlineHtml(html) => line.runs.push(Run {
                style: TextStyle::Plain,
                text: crate::text::sanitize(&html).into_owned(),
            }),
            _ => {}
        }
    }
    flush(&mut out, &mut line);
    while out.first().is_some_and(|l| l.runs.is_empty()) {
        out.remove(0);
    }
    while out.last().is_some_and(|l| l.runs.is_empty()) {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_lists_emphasis_and_code() {
        let md = "First **bold** and `code`.\n\n- one *it*\n- two\n\n```python\nx = 1\n```\n";
        let lines = render(md);
        let texts: Vec<String> = lines.iter().map(MdLine::text).collect();
        assert_eq!(
            texts,
            [
                "First bold and code.",
                "",
                "• one it",
                "• two",
                "",
                "  x = 1"
            ]
        );
        assert_eq!(lines[0].runs[1].style, TextStyle::Strong);
        assert_eq!(lines[0].runs[3].style, TextStyle::Code);
        assert_eq!(lines[2].runs[2].style, TextStyle::Emphasis);
        assert_eq!(lines[2].indent, 2);
        assert_eq!(lines[5].runs[0].style, TextStyle::CodeBlock);
    }

    #[test]
    fn control_characters_never_survive() {
        let lines = render("red \u{1b}[31m text");
        assert!(!lines.iter().any(|l| l.text().contains('\u{1b}')));
    }
}
