//! The keymap's table against what a user sees: per-pane meanings, text entry, the README.

use super::*;

fn key(code: KeyCode) -> Key {
    Key::new(code)
}

#[test]
fn the_same_key_means_what_its_pane_says() {
    let cases = [
        (Char('l'), Pane::List, Some(Action::Open)),
        (Char('l'), Pane::Timeline, Some(Action::Right)),
        (Char('l'), Pane::Params, Some(Action::Increase)),
        (Char('+'), Pane::Params, Some(Action::Increase)),
        (Char('-'), Pane::Params, Some(Action::Decrease)),
        (Char('r'), Pane::Text, Some(Action::Run)),
        (Char('r'), Pane::List, None),
        (Char('q'), Pane::Code, Some(Action::Quit)),
        (Char('?'), Pane::List, Some(Action::ToggleHelp)),
        (Tab, Pane::Code, Some(Action::NextPane)),
        (Esc, Pane::Timeline, Some(Action::Back)),
        (Char('j'), Pane::Text, Some(Action::Down)),
        (Char('z'), Pane::Timeline, Some(Action::ZoomIn)),
        (Char('z'), Pane::Code, None),
        (Char('w'), Pane::Timeline, Some(Action::CauseBack)),
        (Char('w'), Pane::Code, None),
    ];
    for (code, pane, expected) in cases {
        assert_eq!(
            action_for(key(code), pane, false),
            expected,
            "{code:?} in {pane:?}"
        );
    }
}

#[test]
fn filtering_takes_text_keys() {
    assert_eq!(
        action_for(key(Char('q')), Pane::List, true),
        Some(Action::Char('q'))
    );
    assert_eq!(action_for(key(Esc), Pane::List, true), Some(Action::Back));
    let ctrl_c = Key::ctrl(Char('c'));
    assert_eq!(action_for(ctrl_c, Pane::List, true), Some(Action::Quit));
}

#[test]
fn the_readme_key_table_is_the_keymap() {
    let readme = include_str!("../../../README.md");
    assert!(
        readme.contains(&markdown_table()),
        "README.md's key table is out of date; paste this in:\n{}",
        markdown_table()
    );
}

#[test]
fn the_keymap_does_not_know_the_terminal_library() {
    // Key decoding belongs at the terminal edge (`tui`); the keymap speaks `app::Key`.
    let sources = [
        ("app/keymap.rs", include_str!("../keymap.rs")),
        ("app/key.rs", include_str!("../key.rs")),
        ("app/action.rs", include_str!("../action.rs")),
    ];
    let library = ["cross", "term"].concat();
    for (path, source) in sources {
        assert!(
            !source.contains(&library),
            "{path} mentions the terminal library"
        );
    }
}
