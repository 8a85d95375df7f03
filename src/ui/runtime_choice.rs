//! The first start's question, over the lesson list: how to watch the demos. Its choices are the
//! keymap's bindings for the question, so the overlay, the help and the README say the same.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};

use super::theme::Theme;
use crate::app::keymap::{KEYMAP, Scope};

/// The question, as the overlay's title.
pub const QUESTION: &str = "How do you want to watch the demos?";

pub struct RuntimeChoice<'a> {
    pub theme: &'a Theme,
}

impl Widget for &RuntimeChoice<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let t = self.theme;
        let choices: Vec<_> = KEYMAP
            .iter()
            .filter(|b| b.scope == Scope::RuntimeChoice)
            .collect();
        let mut lines = vec![Line::styled(
            "Each demo is a Rust program on tokio; those with an asyncio twin (the same program \
             in Python) run on asyncio too. A demo without one runs on tokio.",
            t.dim,
        )];
        lines.push(Line::default());
        for b in &choices {
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<5}", b.label), t.key),
                Span::styled(b.help, t.base),
            ]));
        }
        lines.push(Line::default());
        lines.push(Line::styled(
            "Saved with your progress; press a in a lesson to switch at any time.",
            t.dim,
        ));
        let w = area.width.min(76);
        let inner_w = w.saturating_sub(2);
        let para = Paragraph::new(lines).wrap(Wrap { trim: false });
        let h = (para.line_count(inner_w) as u16 + 2).min(area.height);
        let popup = Rect::new(
            area.x + (area.width - w) / 2,
            area.y + (area.height - h) / 2,
            w,
            h,
        );
        Clear.render(popup, buf);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(t.border_focused)
            .title(Span::styled(format!(" {QUESTION} "), t.title));
        para.block(block).style(t.base).render(popup, buf);
    }
}

#[cfg(test)]
mod tests {
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;

    use crate::app::{Action, App};

    fn first_start() -> App {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/valid");
        let set = crate::lesson::load_dir(&dir, &crate::demo::Registry).expect("fixture lessons");
        App::new(set, true).with_first_start_question()
    }

    fn rows(app: &App, w: u16, h: u16) -> Vec<String> {
        let area = Rect::new(0, 0, w, h);
        let mut buf = Buffer::empty(area);
        crate::ui::draw(app, area, &mut buf);
        (0..h)
            .map(|y| (0..w).map(|x| buf[(x, y)].symbol()).collect())
            .collect()
    }

    #[test]
    fn the_question_shows_over_the_lesson_list_asyncio_first_until_answered() {
        let mut a = first_start();
        let screen = rows(&a, 80, 24);
        let text = screen.join("\n");
        assert!(text.contains(super::QUESTION), "{text}");
        let line = |what: &str| screen.iter().position(|r| r.contains(what));
        let asyncio = line("1    asyncio (Python)").expect("choice 1 is asyncio");
        let tokio = line("2    tokio (Rust)").expect("choice 2 is tokio");
        let both = line("3    both").expect("choice 3 is both");
        assert!(asyncio < tokio && tokio < both, "{text}");
        assert!(text.contains("Esc  not now: ask again next time"), "{text}");
        // The status bar offers its keys, not the lesson list's.
        let status = screen.last().expect("status row");
        assert!(status.contains("1 asyncio"), "{status}");
        assert!(!status.contains("open the lesson"), "{status}");

        let _ = a.update(Action::ChooseRuntime(crate::demo::asyncio::RunOn::Asyncio));
        let text = rows(&a, 80, 24).join("\n");
        assert!(!text.contains(super::QUESTION), "{text}");
    }
}
