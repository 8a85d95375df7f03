//! Keys → actions, as one table. The help overlay and the README's key table are generated from
//! it, so they cannot drift from what the keys do.

use super::key::{Key, KeyCode};
use super::{Action, Pane};

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Everywhere,
    List,
    Lesson,
    Text,
    Code,
    Timeline,
    Params,
    Practice,
    /// The question the first start asks over the lesson list: how to watch the demos.
    RuntimeChoice,
}

impl Scope {
    pub fn title(self) -> &'static str {
        match self {
            Scope::Everywhere => "Everywhere",
            Scope::List => "Lesson list",
            Scope::Lesson => "Lesson",
            Scope::Text => "Lesson text",
            Scope::Code => "Code",
            Scope::Timeline => "Timeline",
            Scope::Params => "Parameters",
            Scope::Practice => "Practice",
            Scope::RuntimeChoice => "First start",
        }
    }

    fn applies(self, pane: Pane) -> bool {
        let row = pane.row();
        match self {
            Scope::Everywhere => true,
            // Every pane of the lesson screen.
            Scope::Lesson => row.screen == super::Screen::Lesson,
            own => own == row.scope,
        }
    }
}

pub struct Binding {
    pub keys: &'static [KeyCode],
    /// How the keys are written in help ("↑/k").
    pub label: &'static str,
    pub scope: Scope,
    pub action: Action,
    pub help: &'static str,
    /// Shown in the status bar when its scope has focus.
    pub in_status: bool,
}

const fn bind(
    keys: &'static [KeyCode],
    label: &'static str,
    scope: Scope,
    action: Action,
    help: &'static str,
    in_status: bool,
) -> Binding {
    Binding {
        keys,
        label,
        scope,
        action,
        help,
        in_status,
    }
}

use crate::demo::asyncio::RunOn;
use KeyCode::{BackTab, Char, Down, End, Enter, Esc, Home, Left, PageDown, PageUp, Right, Tab, Up};

/// Every binding, most specific scope first (the first match wins).
pub static KEYMAP: &[Binding] = &[
    // Most learners come to prepare for async-Python interviews: asyncio is offered first.
    bind(
        &[Char('1')],
        "1",
        Scope::RuntimeChoice,
        Action::ChooseRuntime(RunOn::Asyncio),
        "asyncio (Python): each demo's twin on your python3 · recommended",
        true,
    ),
    bind(
        &[Char('2')],
        "2",
        Scope::RuntimeChoice,
        Action::ChooseRuntime(RunOn::Tokio),
        "tokio (Rust)",
        true,
    ),
    bind(
        &[Char('3')],
        "3",
        Scope::RuntimeChoice,
        Action::ChooseRuntime(RunOn::Both),
        "both, on one time axis",
        true,
    ),
    bind(
        &[Esc],
        "Esc",
        Scope::RuntimeChoice,
        Action::Back,
        "not now: ask again next time",
        true,
    ),
    bind(
        &[Enter],
        "Enter",
        Scope::Practice,
        Action::Open,
        "answer / reveal / next question (on the summary: back)",
        true,
    ),
    // Space, s and the digits mean different things per kind of item: the item's own hint line
    // says which apply, so the status bar does not promise them all everywhere.
    bind(
        &[Char(' ')],
        "Space",
        Scope::Practice,
        Action::ToggleVariant,
        "skip; spot the bug: mark a line; a prediction: skip only before typing",
        false,
    ),
    bind(
        &[Char('s')],
        "s",
        Scope::Practice,
        Action::Cancel,
        "skip the item or question (not while typing an answer)",
        false,
    ),
    bind(
        &[Char('1'), Char('2'), Char('3'), Char('4')],
        "1-4",
        Scope::Practice,
        Action::Char('1'),
        "pick an option · grade a model answer (interview or review): Again/Hard/Good/Easy",
        false,
    ),
    bind(
        &[Tab],
        "Tab",
        Scope::Practice,
        Action::NextPane,
        "interview reveal on a short screen: the model answer ⇄ its demo",
        false,
    ),
    bind(
        &[Char('R')],
        "R",
        Scope::List,
        Action::StartReview,
        "review what is due (and a few new items)",
        true,
    ),
    bind(
        &[Char('I')],
        "I",
        Scope::List,
        Action::StartInterview,
        "mock interview: 5 questions, 3 minutes each",
        true,
    ),
    bind(
        &[Char('Q')],
        "Q",
        Scope::Lesson,
        Action::StartQuiz,
        "quiz on this lesson",
        true,
    ),
    bind(
        &[Char('/')],
        "/",
        Scope::List,
        Action::StartFilter,
        "filter lessons by title, number or section",
        true,
    ),
    bind(
        &[Enter, Right, Char('l')],
        "Enter",
        Scope::List,
        Action::Open,
        "open the lesson",
        true,
    ),
    bind(
        &[Left, Char('h')],
        "←/h",
        Scope::Code,
        Action::Left,
        "↑/↓ pick a line; ← its previous event on the timeline",
        true,
    ),
    bind(
        &[Right, Char('l')],
        "→/l",
        Scope::Code,
        Action::Right,
        "the line's next event on the timeline",
        true,
    ),
    bind(
        &[Left, Char('h')],
        "←/h",
        Scope::Timeline,
        Action::Left,
        "time cursor to the previous event",
        true,
    ),
    bind(
        &[Right, Char('l')],
        "→/l",
        Scope::Timeline,
        Action::Right,
        "time cursor to the next event",
        true,
    ),
    bind(
        &[Home],
        "Home",
        Scope::Timeline,
        Action::Home,
        "time cursor to the start",
        false,
    ),
    bind(
        &[End],
        "End",
        Scope::Timeline,
        Action::End,
        "time cursor to the end",
        false,
    ),
    bind(
        &[Char('z')],
        "z",
        Scope::Timeline,
        Action::ZoomIn,
        "zoom in around the cursor",
        true,
    ),
    bind(
        &[Char('x')],
        "x",
        Scope::Timeline,
        Action::ZoomOut,
        "zoom out",
        true,
    ),
    bind(
        &[Char('['), Char('H')],
        "[",
        Scope::Timeline,
        Action::PanLeft,
        "pan the time axis left",
        false,
    ),
    bind(
        &[Char(']'), Char('L')],
        "]",
        Scope::Timeline,
        Action::PanRight,
        "pan the time axis right",
        false,
    ),
    bind(
        &[Char('w')],
        "w",
        Scope::Timeline,
        Action::CauseBack,
        "back along the cause chain: the wake that made this task run, then its waker",
        true,
    ),
    bind(
        &[Char('v'), Char(' ')],
        "v",
        Scope::Timeline,
        Action::ToggleVariant,
        "the cursor follows the next variant",
        true,
    ),
    bind(
        &[Char('+'), Char('='), Right, Char('l')],
        "+/→",
        Scope::Params,
        Action::Increase,
        "increase the parameter / next variant on the variants row",
        true,
    ),
    bind(
        &[Char('-'), Left, Char('h')],
        "-/←",
        Scope::Params,
        Action::Decrease,
        "decrease the parameter / previous variant",
        true,
    ),
    bind(
        &[Char(' ')],
        "Space",
        Scope::Params,
        Action::ToggleVariant,
        "tick or untick the highlighted variant",
        false,
    ),
    bind(
        &[Char('p')],
        "p",
        Scope::Lesson,
        Action::ToggleLanguage,
        "code: Python → Rust → the demo's own source",
        true,
    ),
    bind(
        &[Char('r')],
        "r",
        Scope::Lesson,
        Action::Run,
        "run the variant marked › (in the parameters)",
        true,
    ),
    bind(
        &[Char('c')],
        "c",
        Scope::Lesson,
        Action::Compare,
        "compare the ticked variants on one time axis",
        true,
    ),
    bind(
        &[Char('D')],
        "D",
        Scope::Lesson,
        Action::ToggleLayout,
        "lesson text ⇄ code beside the timeline",
        true,
    ),
    bind(
        &[Char('d')],
        "d",
        Scope::Lesson,
        Action::NextDemo,
        "the lesson's next demo",
        false,
    ),
    bind(
        &[Char('t')],
        "t",
        Scope::Lesson,
        Action::ToggleClock,
        "real ⇄ virtual clock",
        false,
    ),
    bind(
        &[Char('a')],
        "a",
        Scope::Lesson,
        Action::ToggleRuntime,
        "runtime: tokio → asyncio twin → both (demos with a twin; remembered)",
        false,
    ),
    bind(
        &[Char('W')],
        "W",
        Scope::Lesson,
        Action::SaveModelPython,
        "write the lesson's model Python to ./qNN.py, to run `asyncdojo trace` on",
        false,
    ),
    bind(
        &[Char('s')],
        "s",
        Scope::Lesson,
        Action::Cancel,
        "stop the running demo",
        false,
    ),
    bind(
        &[Tab],
        "Tab",
        Scope::Lesson,
        Action::NextPane,
        "next pane",
        true,
    ),
    bind(
        &[BackTab],
        "Shift-Tab",
        Scope::Lesson,
        Action::PrevPane,
        "previous pane",
        false,
    ),
    bind(
        &[Esc],
        "Esc",
        Scope::Everywhere,
        Action::Back,
        "back (a running demo: stop it first)",
        true,
    ),
    bind(
        &[Up, Char('k')],
        "↑/k",
        Scope::Everywhere,
        Action::Up,
        "up / scroll up",
        false,
    ),
    bind(
        &[Down, Char('j')],
        "↓/j",
        Scope::Everywhere,
        Action::Down,
        "down / scroll down",
        false,
    ),
    bind(
        &[PageUp],
        "PgUp",
        Scope::Everywhere,
        Action::PageUp,
        "page up (timeline: previous variant; practice text: up)",
        false,
    ),
    bind(
        &[PageDown],
        "PgDn",
        Scope::Everywhere,
        Action::PageDown,
        "page down (timeline: next variant; practice text: down)",
        false,
    ),
    bind(
        &[Home, Char('g')],
        "Home/g",
        Scope::Everywhere,
        Action::Home,
        "to the top",
        false,
    ),
    bind(
        &[End, Char('G')],
        "End/G",
        Scope::Everywhere,
        Action::End,
        "to the bottom",
        false,
    ),
    bind(
        &[Char('T')],
        "T",
        Scope::Everywhere,
        Action::ToggleTheme,
        "dark ⇄ light theme",
        false,
    ),
    bind(
        &[Char('?')],
        "?",
        Scope::Everywhere,
        Action::ToggleHelp,
        "this help",
        true,
    ),
    bind(
        &[Char('q')],
        "q",
        Scope::Everywhere,
        Action::Quit,
        "quit",
        true,
    ),
];

/// The action a key asks for in `pane`. `filtering` sends text keys to the lesson filter.
pub fn action_for(key: Key, pane: Pane, filtering: bool) -> Option<Action> {
    if key.ctrl && key.code == Char('c') {
        return Some(Action::Quit);
    }
    // Digits in practice pick an option or grade: the key itself is the answer.
    if pane == Pane::Practice
        && !filtering
        && let Char(c @ '1'..='9') = key.code
    {
        return Some(Action::Char(c));
    }
    if filtering {
        return match key.code {
            Char(c) => Some(Action::Char(c)),
            KeyCode::Backspace => Some(Action::Backspace),
            Esc => Some(Action::Back),
            Enter => Some(Action::Open),
            Up => Some(Action::Up),
            Down => Some(Action::Down),
            _ => None,
        };
    }
    KEYMAP
        .iter()
        .find(|b| b.scope.applies(pane) && b.keys.contains(&key.code))
        .map(|b| b.action.clone())
}

/// The bindings worth showing in the status bar for `pane`.
pub fn status_hints(pane: Pane) -> Vec<(&'static str, &'static str)> {
    let mut seen = Vec::new();
    for b in KEYMAP
        .iter()
        .filter(|b| b.in_status && b.scope.applies(pane))
    {
        if !seen.iter().any(|(l, _)| *l == b.label) {
            seen.push((b.label, short(b.help)));
        }
    }
    seen
}

/// The first words of a help text, for the status bar.
fn short(help: &'static str) -> &'static str {
    match help.find([':', '(', '/']) {
        Some(i) if i > 3 => help[..i].trim_end(),
        _ => help,
    }
}

/// The key table as Markdown: the README's copy is checked against this by a test.
pub fn markdown_table() -> String {
    let mut out = String::from("| keys | where | what |\n| --- | --- | --- |\n");
    for b in KEYMAP {
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            b.label,
            b.scope.title(),
            b.help
        ));
    }
    out
}

#[cfg(test)]
mod tests;
