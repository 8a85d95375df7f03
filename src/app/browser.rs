//! The lesson browser: a selection in the filtered list, and the filter being typed.

use super::Action;
use crate::lesson::Lesson;

#[derive(Debug, Default)]
pub struct BrowserState {
    /// Index into the filtered list.
    pub selected: usize,
    pub filter: String,
    pub filtering: bool,
}

/// What a browser key asks of the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrowserOutcome {
    None,
    /// Open the selected lesson.
    Open,
}

/// Lesson indices that match `filter` (title, label, id or section), in guide order.
pub fn filtered(lessons: &[Lesson], filter: &str) -> Vec<usize> {
    let f = filter.to_lowercase();
    lessons
        .iter()
        .enumerate()
        .filter(|(_, l)| {
            // What a learner would type: a word of the title or question, the lesson's number,
            // a demo's name (`/gather`), or an API the lesson maps (`/semaphore`, `/wait_for`).
            f.is_empty()
                || l.title.to_lowercase().contains(&f)
                || l.question.to_lowercase().contains(&f)
                || l.label().to_lowercase() == f
                || l.id.0.contains(&f)
                || l.section.title().to_lowercase().contains(&f)
                || l.demos.iter().any(|d| d.demo.contains(&f))
                || l.mapping.iter().any(|m| {
                    m.asyncio.to_lowercase().contains(&f) || m.tokio.to_lowercase().contains(&f)
                })
        })
        .map(|(i, _)| i)
        .collect()
}

impl BrowserState {
    /// A key in the browser; `count` is how many lessons the filter lets through.
    pub fn update(&mut self, action: Action, count: usize) -> BrowserOutcome {
        let last = count.saturating_sub(1);
        if self.filtering {
            match action {
                Action::Char(c) => {
                    self.filter.push(c);
                    self.selected = 0;
                }
                Action::Backspace => {
                    self.filter.pop();
                    self.selected = 0;
                }
                Action::Back => {
                    self.filtering = false;
                    self.filter.clear();
                }
                Action::Open => {
                    self.filtering = false;
                    return BrowserOutcome::Open;
                }
                Action::Up => self.selected = self.selected.saturating_sub(1),
                Action::Down => self.selected = (self.selected + 1).min(last),
                _ => {}
            }
            return BrowserOutcome::None;
        }
        match action {
            Action::Up => self.selected = self.selected.saturating_sub(1),
            Action::Down => self.selected = (self.selected + 1).min(last),
            Action::PageUp => self.selected = self.selected.saturating_sub(10),
            Action::PageDown => self.selected = (self.selected + 10).min(last),
            Action::Home => self.selected = 0,
            Action::End => self.selected = last,
            Action::StartFilter => {
                self.filtering = true;
                self.filter.clear();
            }
            Action::Back if !self.filter.is_empty() => {
                self.filter.clear();
                self.selected = 0;
            }
            Action::Open | Action::Right => return BrowserOutcome::Open,
            Action::Scroll { down, .. } => {
                self.selected = if down {
                    (self.selected + 3).min(last)
                } else {
                    self.selected.saturating_sub(3)
                }
            }
            Action::Click { row: Some(r), .. } if r < count => {
                if self.selected == r {
                    return BrowserOutcome::Open;
                }
                self.selected = r;
            }
            _ => {}
        }
        BrowserOutcome::None
    }
}
