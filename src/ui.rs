//! Drawing: the top-level layout, one file per pane. Rendering reads the app state and never
//! changes it.

pub mod code_pane;
pub mod help;
pub mod lesson_list;
pub mod lesson_text;
pub mod params_pane;
pub mod practice_pane;
pub mod runtime_choice;
pub mod script_pane;
pub mod status_bar;
pub mod theme;
pub mod timeline_pane;

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};

use crate::app::{App, LessonLayout, Pane, Screen};
use theme::Theme;

/// Below this the layout cannot show a lesson usefully: say so instead.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;

/// From this width the demo layout puts the code beside the timeline; below, above it.
pub const DEMO_SIDE_BY_SIDE: u16 = 100;
/// The code pane's rows (borders included) when stacked above the timeline.
pub const DEMO_CODE_ROWS: u16 = 12;
/// The fewest rows the timeline gets under the stacked code; with less room the demo layout shows
/// one of the two, the focused one, rather than both too small to read.
pub const DEMO_TIMELINE_ROWS: u16 = 14;
/// The timeline's rows (borders included) kept under the focused code when the terminal is too
/// short for both at full size: enough for a few lanes, the axis and the narration.
pub const LANES_UNDER_CODE: u16 = 12;
/// The code's rows (borders included) above those lanes: eight lines of code.
pub const CODE_OVER_LANES: u16 = 10;

/// Where each pane was drawn, for mouse hit-testing. Computed from the area alone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PaneAreas {
    pub list: Rect,
    pub text: Rect,
    pub code: Rect,
    pub timeline: Rect,
    pub params: Rect,
    pub practice: Rect,
}

impl PaneAreas {
    /// Where `pane` was drawn (nothing for a pane drawn over the others).
    pub fn of(&self, pane: Pane) -> Rect {
        match pane {
            Pane::List => self.list,
            Pane::Text => self.text,
            Pane::Code => self.code,
            Pane::Timeline => self.timeline,
            Pane::Params => self.params,
            Pane::Practice => self.practice,
            Pane::RuntimeChoice => Rect::default(),
        }
    }

    pub fn pane_at(&self, x: u16, y: u16) -> Option<(Pane, Rect)> {
        let hit = |r: Rect| r.contains(ratatui::layout::Position { x, y });
        crate::app::panes::PANES
            .iter()
            .map(|row| (row.pane, self.of(row.pane)))
            .find(|(_, r)| r.width > 0 && hit(*r))
    }
}

pub fn layout(app: &App, area: Rect) -> PaneAreas {
    let [_, body, _] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);
    match (app.screen, &app.lesson) {
        (Screen::Lesson, Some(v)) if v.layout == LessonLayout::Demo => {
            // Code and timeline side by side at full height; stacked when too narrow for both,
            // the code keeping a dozen lines.
            let [code, timeline] = if body.width >= DEMO_SIDE_BY_SIDE {
                Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)])
                    .areas(body)
            } else if body.height >= DEMO_CODE_ROWS + DEMO_TIMELINE_ROWS {
                Layout::vertical([Constraint::Length(DEMO_CODE_ROWS), Constraint::Min(6)])
                    .areas(body)
            } else if v.focus == Pane::Code && body.height >= CODE_OVER_LANES + LANES_UNDER_CODE {
                // Too short for both at a useful size. The code has the focus, but a line picked
                // in it lights its events in the lanes: keep a few lanes in sight under it.
                Layout::vertical([
                    Constraint::Length(body.height - LANES_UNDER_CODE),
                    Constraint::Length(LANES_UNDER_CODE),
                ])
                .areas(body)
            } else if v.focus == Pane::Code {
                // Too small even for that: the focused one, whole; Tab swaps.
                [body, Rect::default()]
            } else {
                [Rect::default(), body]
            };
            PaneAreas {
                code,
                timeline,
                ..PaneAreas::default()
            }
        }
        (Screen::Lesson, Some(v)) => {
            // Side by side from 100 columns. Narrower, the text would get some 30 columns and
            // wrap code into fragments: the text alone, full width, while it has the focus; the
            // code, timeline and parameters, full width, while one of them has it.
            let [text, right] = if body.width >= DEMO_SIDE_BY_SIDE {
                Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)])
                    .areas(body)
            } else if v.focus == Pane::Text {
                [body, Rect::default()]
            } else {
                [Rect::default(), body]
            };
            if right.width == 0 {
                return PaneAreas {
                    text,
                    ..PaneAreas::default()
                };
            }
            let params_h = params_pane::ParamsPane::rows(v.demo.as_ref()) + 2;
            // The timeline is the point of a lesson screen: the code gets about a third.
            let [code, timeline, params] = Layout::vertical([
                Constraint::Percentage(34),
                Constraint::Min(6),
                Constraint::Length(params_h.min(body.height / 3).max(3)),
            ])
            .areas(right);
            PaneAreas {
                text,
                code,
                timeline,
                params,
                ..PaneAreas::default()
            }
        }
        (Screen::Practice, _) => PaneAreas {
            practice: body,
            ..PaneAreas::default()
        },
        _ => PaneAreas {
            list: body,
            ..PaneAreas::default()
        },
    }
}

pub fn render(app: &App, frame: &mut Frame) {
    draw(app, frame.area(), frame.buffer_mut());
}

/// Everything onto `buf`: a pure function of the state and the area.
pub fn draw(app: &App, area: Rect, buf: &mut Buffer) {
    let theme = Theme::new(app.palette, app.no_color);
    buf.set_style(area, theme.base);
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let msg = format!(
            "terminal too small: {}×{} (needs {MIN_WIDTH}×{MIN_HEIGHT}) · q quits",
            area.width, area.height
        );
        Paragraph::new(msg)
            .wrap(Wrap { trim: true })
            .style(theme.base)
            .render(area, buf);
        return;
    }
    let areas = layout(app, area);
    let title_area = Rect::new(area.x, area.y, area.width, 1);
    let status_area = Rect::new(area.x, area.bottom() - 1, area.width, 1);
    let title = match app
        .current_lesson()
        .filter(|_| app.screen != Screen::Practice)
    {
        Some(l) => format!(
            " asyncdojo · {} · {} — {}",
            l.label(),
            crate::text::sanitize(&l.title),
            l.section.title()
        ),
        None => format!(
            " asyncdojo · {} lessons · {} due for review · R reviews · I mock interview",
            app.lessons.len(),
            app.due_count()
        ),
    };
    Paragraph::new(Line::styled(title, theme.title)).render(title_area, buf);

    match (app.screen, &app.lesson) {
        (Screen::Lesson, Some(v)) => {
            let lesson = &app.lessons[v.index];
            let focus = v.focus;
            if areas.text.width > 0 {
                // Alone (too narrow for the text beside the rest), it says where the rest went.
                let title = if areas.code.width == 0 && areas.timeline.width == 0 {
                    format!(" {} · Tab code, timeline, parameters ", Pane::Text.title())
                } else {
                    format!(" {} ", Pane::Text.title())
                };
                let text_inner = pane_block(&theme, Pane::Text, focus, &title, areas.text, buf);
                (&lesson_text::LessonText {
                    lines: &v.text,
                    scroll: v.text_scroll,
                    theme: &theme,
                })
                    .render(text_inner, buf);
            }

            let (code, language, caption) = v.code_text(lesson);
            let code_title = match v.layout {
                LessonLayout::Lesson => format!(" {caption} · p switches "),
                // Alone (too short for both), it says where the timeline went.
                LessonLayout::Demo if areas.timeline.width == 0 => {
                    format!(" {caption} · Tab timeline · D lesson text ")
                }
                LessonLayout::Demo => format!(" {caption} · p switches · D lesson text "),
            };
            let code_inner = if areas.code.width > 0 {
                pane_block(&theme, Pane::Code, focus, &code_title, areas.code, buf)
            } else {
                Rect::default()
            };
            let marks = v.code_marks();
            let linked = v.linked();
            let cursor = v.code_line.filter(|_| linked && focus == Pane::Code);
            (&code_pane::CodePane {
                code,
                language,
                scroll: v.code_scroll,
                marks: &marks,
                marked: &[],
                cursor,
                // With the focus, the picked line; before one is picked, the line of the event
                // under the time cursor, which the code marks.
                follow: if focus == Pane::Code {
                    cursor.or(marks.event)
                } else {
                    marks.event.or(marks.lanes.first().map(|l| l.line))
                },
                theme: &theme,
            })
                .render(code_inner, buf);

            let demo_title = v.demo.as_ref().map_or(" Timeline ".to_owned(), |d| {
                // Alone (too short for both), it says where the code went.
                let code_hint = if v.layout == LessonLayout::Demo && areas.code.width == 0 {
                    " · Tab code"
                } else {
                    ""
                };
                demo_title(d.demo.spec().id, d.index, lesson.demos.len(), code_hint)
            });
            let tl_inner = if areas.timeline.width > 0 {
                pane_block(
                    &theme,
                    Pane::Timeline,
                    focus,
                    &demo_title,
                    areas.timeline,
                    buf,
                )
            } else {
                Rect::default()
            };
            // The caption states the lesson's point: it gets rows of its own, wrapped, above the
            // lanes (at most a quarter of the pane, so the lanes keep most of it).
            let caption = v
                .demo
                .as_ref()
                .map(|d| crate::text::one_line(&lesson.demos[d.index].caption))
                .unwrap_or_default();
            let tl_inner = caption_rows(&caption, tl_inner, &theme, buf);
            (&timeline_pane::TimelinePane {
                run: &v.run,
                narrate: true,
                line: cursor,
                theme: &theme,
            })
                .render(tl_inner, buf);

            if areas.params.width > 0 {
                let params_inner = pane_block(
                    &theme,
                    Pane::Params,
                    focus,
                    &format!(" {} ", Pane::Params.title()),
                    areas.params,
                    buf,
                );
                (&params_pane::ParamsPane {
                    demo: v.demo.as_ref(),
                    focused: focus == Pane::Params,
                    theme: &theme,
                })
                    .render(params_inner, buf);
            }
        }
        (Screen::Practice, _) => {
            (&practice_pane::PracticePane { app, theme: &theme }).render(areas.practice, buf)
        }
        _ => (&lesson_list::LessonList { app, theme: &theme }).render(areas.list, buf),
    }
    (&status_bar::StatusBar { app, theme: &theme }).render(status_area, buf);
    if let Some(msg) = app
        .message
        .as_deref()
        .filter(|m| status_bar::LongMessage::needed(m, area.width))
    {
        (&status_bar::LongMessage {
            text: msg,
            theme: &theme,
        })
            .render(status_area, buf);
    }
    if app.shows_runtime_question() {
        (&runtime_choice::RuntimeChoice { theme: &theme }).render(areas.list, buf);
    }
    if app.show_help {
        (&help::Help {
            theme: &theme,
            scroll: app.help_scroll,
        })
            .render(area, buf);
    }
}

/// The timeline pane's title: the demo, which of the lesson's demos it is (`d` steps), and where
/// the code went (if it did).
fn demo_title(demo: &str, index: usize, demos: usize, code_hint: &str) -> String {
    if demos > 1 {
        format!(" {demo} · demo {}/{demos} (d next){code_hint} ", index + 1)
    } else {
        format!(" {demo}{code_hint} ")
    }
}

/// Draw `caption` wrapped at the top of `area` and return what is left below it. It takes at
/// most a quarter of the rows (at least one); a caption longer than that ends in `…`.
fn caption_rows(caption: &str, area: Rect, theme: &Theme, buf: &mut Buffer) -> Rect {
    // A timeline kept small (under the focused code) keeps its rows for lanes.
    if caption.is_empty() || area.height < 12 || area.width < 8 {
        return area;
    }
    let text = crate::text::sanitize(caption);
    let para = Paragraph::new(text.as_ref()).wrap(Wrap { trim: true });
    let wanted = para.line_count(area.width) as u16;
    let rows = wanted.clamp(1, (area.height / 4).max(1));
    let shown = Rect {
        height: rows,
        ..area
    };
    para.style(theme.emphasis).render(shown, buf);
    if wanted > rows {
        let end = (shown.right() - 1, shown.bottom() - 1);
        buf[end].set_symbol("…");
    }
    Rect {
        y: area.y + rows,
        height: area.height - rows,
        ..area
    }
}

fn pane_block(
    theme: &Theme,
    pane: Pane,
    focus: Pane,
    title: &str,
    area: Rect,
    buf: &mut Buffer,
) -> Rect {
    let focused = pane == focus;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Action;

    fn fixture_app() -> App {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/valid");
        App::new(
            crate::lesson::load_dir(&dir, &crate::demo::Registry).expect("fixture lessons"),
            true,
        )
    }

    fn frame(app: &App) -> String {
        let area = Rect::new(0, 0, 100, 40);
        let mut buf = Buffer::empty(area);
        draw(app, area, &mut buf);
        buf.content().iter().map(|c| c.symbol()).collect()
    }

    #[test]
    fn the_practice_pane_renders_the_model_answer_once_not_per_frame() {
        let renders = || crate::markdown::RENDERS.with(std::cell::Cell::get);
        let mut a = fixture_app();
        let _ = a.update(Action::StartInterview);
        let _ = a.update(Action::Open);
        let _ = a.update(Action::Open);
        assert!(
            matches!(
                &a.practice.view,
                Some(crate::app::practice::PracticeView::Interview(i))
                    if matches!(i.phase(), crate::practice::Phase::Revealed { .. })
            ),
            "the model answer is showing"
        );
        let before = renders();
        let first = frame(&a);
        for _ in 0..5 {
            let _ = frame(&a);
        }
        assert_eq!(renders(), before, "a frame renders no Markdown");
        let answer = crate::markdown::render(&a.lessons[0].answer);
        let opening: String = answer[0].text().chars().take(24).collect();
        assert!(
            first.contains(&opening),
            "the pane shows the answer ({opening:?})"
        );
    }

    #[test]
    fn the_caption_has_rows_of_its_own_and_is_read_whole() {
        let caption = "The sequential run takes the sum of the latencies; the concurrent one \
                       takes the longest, because every request waits at the same time.";
        let area = Rect::new(0, 0, 40, 24);
        let mut buf = Buffer::empty(area);
        let theme = Theme::new(crate::app::Palette::Dark, true);
        let rest = caption_rows(caption, area, &theme, &mut buf);
        let text: String = (0..rest.y)
            .map(|y| {
                let row: String = (0..40).map(|x| buf[(x, y)].symbol().to_owned()).collect();
                row.trim().to_owned()
            })
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(text, caption, "wrapped over {} rows, nothing cut", rest.y);
        assert_eq!(rest.height, 24 - rest.y, "the lanes get the rest");
        assert_eq!(
            super::demo_title("gather", 1, 4, ""),
            " gather · demo 2/4 (d next) "
        );
    }

    #[test]
    fn a_long_message_is_read_whole_at_80_columns() {
        let mut a = fixture_app();
        let where_to =
            "/home/learner/.local/share/asyncdojo/progress.corrupt-2026-12-07T02-33-33.json";
        let _ = a.update(Action::Notify(format!(
            "progress.json could not be read (expected value at line 1 column 1): it was moved \
             aside to {where_to} and a fresh one started"
        )));
        let area = Rect::new(0, 0, 80, 24);
        let mut buf = Buffer::empty(area);
        draw(&a, area, &mut buf);
        let screen: String = (0..24)
            .map(|y| {
                let row: String = (0..80).map(|x| buf[(x, y)].symbol().to_owned()).collect();
                row.trim_matches(|c| c == ' ' || c == '│').to_owned()
            })
            .collect::<Vec<_>>()
            .join(" ");
        assert!(screen.contains("a fresh one started"), "{screen}");
        assert!(
            screen.contains("progress.corrupt-2026-12-07T02-33-33.json"),
            "{screen}"
        );
        let status: String = (0..80).map(|x| buf[(x, 23)].symbol().to_owned()).collect();
        assert!(status.trim_end().ends_with("q quit"), "{status}");
    }
}
