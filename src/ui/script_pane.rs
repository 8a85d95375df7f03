//! The script screen (`asyncdojo trace SCRIPT`): the demo layout — the script's code beside its
//! timeline — a status line saying how it runs or ended, and the output overlay (`o`). The code
//! and the lanes are the lesson screen's own widgets, so a script draws as a demo does (and costs
//! what a demo's frame costs: `benches/tui.rs` measures that).

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};

use super::code_pane::CodePane;
use super::theme::Theme;
use super::timeline_pane::TimelinePane;
use super::{DEMO_SIDE_BY_SIDE, MIN_HEIGHT, MIN_WIDTH};
use crate::app::script_screen::{ScriptFocus, ScriptScreen};
use crate::highlight;
use crate::lesson::Language;

fn palette(p: crate::app::Palette) -> highlight::Palette {
    match p {
        crate::app::Palette::Dark => highlight::Palette::Dark,
        crate::app::Palette::Light => highlight::Palette::Light,
    }
}

/// The highlight the code pane would use and the cache lacks (computed off the UI thread).
pub fn missing_highlight(s: &ScriptScreen) -> Option<highlight::Request> {
    if !Theme::new(s.palette, s.no_color).color {
        return None;
    }
    let source = s.source()?;
    let p = palette(s.palette);
    if source.text.is_empty() || highlight::cached(&source.text, source.language, p).is_some() {
        return None;
    }
    Some(highlight::Request::new(&source.text, source.language, p))
}

fn block(theme: &Theme, focused: bool, title: &str, area: Rect, buf: &mut Buffer) -> Rect {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(if focused {
            theme.border_focused
        } else {
            theme.border
        })
        .title(Span::styled(
            title.to_owned(),
            if focused { theme.title } else { theme.dim },
        ));
    let inner = block.inner(area);
    block.render(area, buf);
    inner
}

/// Everything onto `buf`: a pure function of the state and the area.
pub fn draw(s: &ScriptScreen, area: Rect, buf: &mut Buffer) {
    let theme = Theme::new(s.palette, s.no_color);
    buf.set_style(area, theme.base);
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        Paragraph::new(format!(
            "terminal too small: {}×{} (needs {MIN_WIDTH}×{MIN_HEIGHT}) · q quits",
            area.width, area.height
        ))
        .wrap(Wrap { trim: true })
        .render(area, buf);
        return;
    }
    let [title, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let state = if s.is_running() { "running" } else { "ended" };
    Paragraph::new(Line::styled(
        format!(" asyncdojo trace · {} · {state}", s.title),
        theme.title,
    ))
    .render(title, buf);

    let [code_area, timeline_area] = if body.width >= DEMO_SIDE_BY_SIDE {
        Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(body)
    } else {
        Layout::vertical([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(body)
    };

    let source = s.source();
    let code_title = match source {
        Some(src) if s.files() > 1 => format!(
            " Python · {} · file {}/{} (f next) ",
            src.file,
            s.file + 1,
            s.files()
        ),
        Some(src) => format!(" Python · {} ", src.file),
        None => " Python · waiting for the script's first task ".to_owned(),
    };
    let code_inner = block(
        &theme,
        s.focus == ScriptFocus::Code,
        &code_title,
        code_area,
        buf,
    );
    let marks = if s.linked() {
        s.code_marks()
    } else {
        Default::default()
    };
    let text = source.map_or("", |src| &*src.text);
    (&CodePane {
        code: text,
        language: source.map_or(Language::Python, |src| src.language),
        scroll: s.code_scroll,
        marks: &marks,
        marked: &[],
        cursor: None,
        follow: if s.focus == ScriptFocus::Code {
            None
        } else {
            marks.event.or(marks.lanes.first().map(|l| l.line))
        },
        theme: &theme,
    })
        .render(code_inner, buf);

    let runs = s.run.runs.len();
    let tl_title = if runs > 1 {
        format!(" Timeline · {runs} asyncio runs (v next) ")
    } else {
        " Timeline ".to_owned()
    };
    let tl_inner = block(
        &theme,
        s.focus == ScriptFocus::Timeline,
        &tl_title,
        timeline_area,
        buf,
    );
    (&TimelinePane {
        run: &s.run,
        narrate: true,
        line: None,
        theme: &theme,
    })
        .render(tl_inner, buf);

    let line = match &s.message {
        Some(m) => m.clone(),
        None => s.hints(),
    };
    Paragraph::new(Line::styled(
        format!(" {}", crate::text::sanitize(&line)),
        theme.status,
    ))
    .render(status, buf);

    if s.show_output {
        let over = body.inner(ratatui::layout::Margin::new(2, 1));
        Clear.render(over, buf);
        let inner = block(
            &theme,
            true,
            " The script's output · ↑/↓ scroll · o/Esc close ",
            over,
            buf,
        );
        let text = s.output_text();
        let lines: Vec<Line> = text
            .lines()
            .skip(s.output_scroll)
            .take(usize::from(inner.height))
            .map(|l| Line::raw(l.to_owned()))
            .collect();
        Paragraph::new(lines).style(theme.base).render(inner, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::script::{ScriptEnd, ScriptOutput};

    fn text(buf: &Buffer) -> String {
        let area = buf.area;
        (0..area.height)
            .map(|y| {
                (0..area.width)
                    .map(|x| buf[(x, y)].symbol().to_owned())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_overlay_draws_the_output_and_the_status_line_the_keys() {
        let mut s = ScriptScreen::new("prog.py".into(), true);
        let area = Rect::new(0, 0, 120, 30);
        let mut buf = Buffer::empty(area);
        draw(&s, area, &mut buf);
        let screen = text(&buf);
        assert!(
            screen.contains("asyncdojo trace · prog.py · running"),
            "{screen}"
        );
        assert!(
            screen.contains("o the script's own stdout and stderr"),
            "{screen}"
        );
        let out = ScriptOutput {
            end: ScriptEnd::Exited {
                code: 2,
                traceback: None,
            },
            ..ScriptOutput::default()
        };
        s.finished(Vec::new(), None, out);
        s.show_output = true;
        let mut buf = Buffer::empty(area);
        draw(&s, area, &mut buf);
        let screen = text(&buf);
        assert!(screen.contains("The script's output"), "{screen}");
        assert!(screen.contains("exited with code 2"), "{screen}");
    }
}
