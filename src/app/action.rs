//! What can happen to the app (`Action`) and what it asks the edge to do in return (`Effect`).

use super::Pane;
use crate::demo::RunRequest;

/// Everything a key, the mouse, a timer or the edge can tell the app.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Quit,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
    Open,
    Back,
    NextPane,
    PrevPane,
    Run,
    Compare,
    Cancel,
    Increase,
    Decrease,
    ToggleVariant,
    NextDemo,
    ToggleLanguage,
    /// Lesson text ⇄ the code beside the timeline.
    ToggleLayout,
    ToggleClock,
    /// tokio → asyncio (the demo's twin) → both on one time axis.
    ToggleRuntime,
    /// Write the open lesson's model Python to a file in the current directory, to trace it.
    SaveModelPython,
    /// The first start's question answered: where demos run from now on.
    ChooseRuntime(crate::demo::asyncio::RunOn),
    ToggleHelp,
    ToggleTheme,
    ZoomIn,
    ZoomOut,
    PanLeft,
    PanRight,
    /// The time cursor one step back along the cause chain: to the wake that made the task under
    /// it run, then to what woke it.
    CauseBack,
    StartFilter,
    Char(char),
    Backspace,
    /// Mouse wheel over a pane.
    Scroll {
        pane: Pane,
        down: bool,
    },
    /// A click chose a pane (and, in the lesson list, a row).
    Click {
        pane: Pane,
        row: Option<usize>,
    },
    /// The running demo recorded something new: its runs so far.
    DemoProgress(Vec<crate::demo::run::Run>),
    /// The run ended: every run it made (both runtimes' interleaved when both ran).
    DemoFinished {
        runs: Vec<crate::demo::run::Run>,
        error: Option<crate::demo::RunError>,
    },
    /// The edge could not start the run the app asked for; the text says why.
    RunNotStarted(String),
    Resize,
    /// Practise the due queue (and a few new items).
    StartReview,
    /// A five-question mock interview.
    StartInterview,
    /// Quiz on the open lesson's items.
    StartQuiz,
    /// Time moved on: `at` is time since the app started (the interview's countdown), `now` the
    /// wall clock. The edge sends one before every key and every result it hands the app, so an
    /// answer is stamped when it is given, not when the app started.
    Tick {
        at: std::time::Duration,
        now: crate::progress::Moment,
    },
    /// A prediction's demo ran and was scored (or could not run).
    PredictScored {
        key: crate::practice::ItemKey,
        result: Result<crate::practice::PredictScore, String>,
    },
    /// A run practice asked for ended (or could not run): see `Effect::RunPractice`.
    PracticeRan {
        purpose: crate::practice::RunPurpose,
        result: Result<crate::practice::PracticeRun, String>,
    },
    /// Something the user should read in the status bar (a failed save, a start-up warning).
    Notify(String),
    /// tokio-console is being served at this address.
    ConsoleServing(String),
    /// The number of connected tokio-console clients changed.
    ConsoleClients(usize),
}

impl Action {
    /// News from the edge rather than the user's doing: applied even under the help overlay, and
    /// it leaves the status-bar message alone.
    pub fn is_news(&self) -> bool {
        matches!(
            self,
            Action::DemoProgress(_)
                | Action::DemoFinished { .. }
                | Action::RunNotStarted(_)
                | Action::PredictScored { .. }
                | Action::PracticeRan { .. }
                | Action::Notify(_)
                | Action::ConsoleServing(_)
                | Action::ConsoleClients(_)
        )
    }
}

/// What `update` asks the edge to do.
#[derive(Debug)]
#[must_use]
pub enum Effect {
    None,
    Quit,
    StartRun(RunRequest),
    CancelRun,
    /// Run the demo's asyncio twin on the learner's Python, and with `both` the tokio demo too
    /// (every variant of `request`; the twin runs `twin_variants`). The edge answers with
    /// `Action::TwinFinished`, or `Action::RunNotStarted` when there is no usable Python.
    StartTwin {
        request: RunRequest,
        twin_variants: Vec<&'static str>,
        both: bool,
    },
    /// Write `text` to a new file named like `name` in the current directory (never over an
    /// existing one); the edge says where in the status line.
    WriteFile {
        name: String,
        text: String,
    },
    /// Run a prediction's demo on the virtual clock and score what was typed; the edge answers
    /// with `Action::PredictScored`, then `Action::PracticeRan` with the run.
    ScorePredict {
        key: crate::practice::ItemKey,
        typed: String,
    },
    /// Run a demo for practice to show (a bug's evidence, an interview question's demo) to its
    /// end on `runtime` (asyncio: its twin, or tokio with a note when Python cannot run it), off
    /// the UI thread; the edge answers with `Action::PracticeRan`.
    RunPractice {
        purpose: crate::practice::RunPurpose,
        request: RunRequest,
        runtime: crate::demo::asyncio::Runtime,
    },
}
