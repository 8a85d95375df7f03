//! A key as the app understands it. The terminal edge (`tui`) turns its terminal library's key
//! events into these, so the keymap and the app never depend on how keys are read.

/// Which key, without modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyCode {
    Char(char),
    Enter,
    Esc,
    Tab,
    /// Shift-Tab.
    BackTab,
    Backspace,
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
    PageUp,
    PageDown,
}

/// A key press: the key and whether Ctrl was held (the only modifier a binding looks at;
/// Shift is already in the character, `R` vs `r`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

impl Key {
    pub const fn new(code: KeyCode) -> Key {
        Key { code, ctrl: false }
    }

    pub const fn ctrl(code: KeyCode) -> Key {
        Key { code, ctrl: true }
    }
}

impl From<KeyCode> for Key {
    fn from(code: KeyCode) -> Key {
        Key::new(code)
    }
}
