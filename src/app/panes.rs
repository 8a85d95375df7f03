//! Every pane in one table, as the keymap is one table for keys: its title, the scope of its keys,
//! the screen it belongs to, and where Tab visits it in each lesson layout. The keymap, the Tab
//! order, the mouse and the drawn titles read it; nothing else lists panes.

use super::keymap::Scope;
use super::{LessonLayout, Pane, Screen};

/// One pane's facts.
#[derive(Debug)]
pub struct PaneRow {
    pub pane: Pane,
    pub title: &'static str,
    /// The scope of the keys that apply only to it.
    pub scope: Scope,
    pub screen: Screen,
    /// Its place in Tab's cycle in the lesson layout (text beside code, timeline, parameters).
    pub lesson_tab: Option<u8>,
    /// Its place in Tab's cycle in the demo layout (code beside the timeline).
    pub demo_tab: Option<u8>,
}

const fn row_of(
    pane: Pane,
    title: &'static str,
    scope: Scope,
    screen: Screen,
    lesson_tab: Option<u8>,
    demo_tab: Option<u8>,
) -> PaneRow {
    PaneRow {
        pane,
        title,
        scope,
        screen,
        lesson_tab,
        demo_tab,
    }
}

pub static PANES: &[PaneRow] = &[
    row_of(
        Pane::List,
        "Lessons",
        Scope::List,
        Screen::Browser,
        None,
        None,
    ),
    row_of(
        Pane::RuntimeChoice,
        "How to watch the demos",
        Scope::RuntimeChoice,
        Screen::Browser,
        None,
        None,
    ),
    row_of(
        Pane::Text,
        "Lesson",
        Scope::Text,
        Screen::Lesson,
        Some(0),
        None,
    ),
    row_of(
        Pane::Code,
        "Code",
        Scope::Code,
        Screen::Lesson,
        Some(1),
        Some(0),
    ),
    row_of(
        Pane::Timeline,
        "Timeline",
        Scope::Timeline,
        Screen::Lesson,
        Some(2),
        Some(1),
    ),
    row_of(
        Pane::Params,
        "Parameters",
        Scope::Params,
        Screen::Lesson,
        Some(3),
        None,
    ),
    row_of(
        Pane::Practice,
        "Practice",
        Scope::Practice,
        Screen::Practice,
        None,
        None,
    ),
];

/// `pane`'s row (every pane has one: a test checks the table covers them all).
pub fn row(pane: Pane) -> &'static PaneRow {
    PANES.iter().find(|r| r.pane == pane).unwrap_or(&PANES[0])
}

/// The panes Tab visits in `layout`, in order.
pub fn tab_order(layout: LessonLayout) -> Vec<Pane> {
    let place = |r: &PaneRow| match layout {
        LessonLayout::Lesson => r.lesson_tab,
        LessonLayout::Demo => r.demo_tab,
    };
    let mut panes: Vec<(u8, Pane)> = PANES
        .iter()
        .filter_map(|r| Some((place(r)?, r.pane)))
        .collect();
    panes.sort_unstable_by_key(|(place, _)| *place);
    panes.into_iter().map(|(_, p)| p).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pane_has_one_row_and_tab_visits_each_layout_s_panes_in_order() {
        let all = [
            Pane::List,
            Pane::Practice,
            Pane::Text,
            Pane::Code,
            Pane::Timeline,
            Pane::Params,
            Pane::RuntimeChoice,
        ];
        for pane in all {
            assert_eq!(
                PANES.iter().filter(|r| r.pane == pane).count(),
                1,
                "{pane:?}"
            );
        }
        assert_eq!(PANES.len(), all.len());
        assert_eq!(
            tab_order(LessonLayout::Lesson),
            [Pane::Text, Pane::Code, Pane::Timeline, Pane::Params]
        );
        assert_eq!(tab_order(LessonLayout::Demo), [Pane::Code, Pane::Timeline]);
    }
}
