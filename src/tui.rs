//! The terminal edge: raw mode and the alternate screen, the event loop, key decoding, and the
//! effects the app asks for. The terminal is restored on quit, on error and on a panic of this
//! thread; a panic in a demo task never touches the screen (it is recorded in the demo's timeline
//! instead). The loop only reads the app's state and feeds it actions; whatever could block —
//! a demo run, scoring a prediction, writing progress — happens on another thread (`effects`).

mod effects;
mod saver;
mod script;

pub use script::run_script;

use std::collections::VecDeque;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

use crossterm::event::{
    self, DisableMouseCapture, EnableMouseCapture, Event, KeyEvent, KeyEventKind, KeyModifiers,
    MouseButton, MouseEventKind,
};
use crossterm::execute;

use crate::app::{Action, App, Effect, Key, KeyCode, Pane, keymap};
use crate::lesson::LessonSet;
use crate::ui;
use effects::{Effects, Step};

/// At most this many frames a second while a demo runs; none at all while idle.
const FRAME: Duration = Duration::from_millis(16);

/// What wakes the loop.
enum Incoming {
    Input(Event),
    /// Highlighting finished in the background: redraw with colours.
    Highlighted,
    /// News from a worker thread (a scored prediction, a failed save, console clients).
    Action(Action),
    InputClosed,
}

/// Restores the terminal when dropped, so an early return or `?` cannot skip it.
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = execute!(std::io::stdout(), DisableMouseCapture);
        ratatui::restore();
    }
}

/// What the terminal loop needs besides the lessons.
pub struct Options {
    pub console: Option<std::net::SocketAddr>,
    /// Where progress lives (`--data-dir`, `ASYNCDOJO_DATA`, or the platform's data directory).
    pub data_dir: Option<std::path::PathBuf>,
    /// Open straight into the review queue (`asyncdojo review`).
    pub review: bool,
}

pub fn run(set: LessonSet, options: Options) -> anyhow::Result<()> {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let opened = options.data_dir.map(crate::progress::Store::open);
    let mut app = App::new(set, no_color);
    let mut notes: Vec<String> = Vec::new();
    match &opened {
        Some(opened) => {
            notes.extend(opened.warnings.iter().map(ToString::to_string));
            if !opened.store.can_save() {
                notes.push(format!(
                    "{} is not writable: progress will not be saved",
                    opened.store.dir().display()
                ));
            }
            app = app.with_progress(opened.progress.clone(), crate::progress::Moment::now());
        }
        None => notes
            .push("no data directory found: progress will not be saved (use --data-dir)".into()),
    }
    // Its first item may ask for a run (the tasks a prediction can name): performed below, once
    // there is an edge to do it.
    let review = if options.review {
        app.update(Action::StartReview)
    } else {
        Effect::None
    };
    // No runtime preference saved yet: the lesson list asks how to watch the demos.
    let mut app = app.with_first_start_question();
    if !notes.is_empty() {
        notes.extend(app.message.clone());
        let _ = app.update(Action::Notify(notes.join(" · ")));
    }
    let (tx, rx) = mpsc::channel();
    let saver = match opened
        .map(|o| o.store)
        .filter(crate::progress::Store::can_save)
    {
        Some(store) => Some(saver::Saver::start(store, {
            let tx = tx.clone();
            move |err| {
                let _ = tx.send(Incoming::Action(Action::Notify(err)));
            }
        })?),
        None => None,
    };
    let mut effects = Effects::new(tx.clone(), saver, effects::score_prediction);
    if let Step::Then(next) = effects.perform(review, &app) {
        let _ = app.update(next);
    }
    let mut highlighting = Highlighting::start(tx.clone());
    // Before any demo runtime starts, so the console sees every demo task.
    if let Some(addr) = options.console {
        let notify = tx.clone();
        let on_clients = Box::new(move |n| {
            let _ = notify.send(Incoming::Action(Action::ConsoleClients(n)));
        });
        let _ = app.update(match crate::console::serve(addr, on_clients) {
            Ok(status) => Action::ConsoleServing(status.addr.to_string()),
            Err(err) => Action::Notify(format!("{err}; continuing without tokio-console")),
        });
    }

    let mut terminal = ratatui::init();
    let _guard = TerminalGuard;
    install_panic_hook();
    execute!(std::io::stdout(), EnableMouseCapture)?;
    spawn_input_thread(tx)?;
    let result = event_loop(
        &mut app,
        &mut terminal,
        &rx,
        &mut effects,
        &mut highlighting,
    );
    shut_down(&app, effects);
    result
}

/// Quitting still saves: the last change goes to the saver, which finishes writing.
fn shut_down(app: &App, mut effects: Effects) {
    effects.save_if_changed(app);
    effects.finish();
}

/// ratatui's hook restores the terminal and prints the panic. Keep that for this (the UI)
/// thread only: a demo's panic is caught by tokio and shown in its timeline, and must neither
/// tear the screen down nor print over it.
fn install_panic_hook() {
    let ui_thread = std::thread::current().id();
    let restore_and_report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == ui_thread {
            let _ = execute!(std::io::stdout(), DisableMouseCapture);
            restore_and_report(info);
        }
    }));
}

fn spawn_input_thread(tx: Sender<Incoming>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("input".into())
        .spawn(move || {
            loop {
                let msg = match event::read() {
                    Ok(e) => Incoming::Input(e),
                    Err(_) => Incoming::InputClosed,
                };
                let closed = matches!(msg, Incoming::InputClosed);
                if tx.send(msg).is_err() || closed {
                    break;
                }
            }
        })
        .map(|_| ())
}

/// Highlights the code pane's sources off the UI thread, each on its first use: the loop asks
/// for what the pane would show and the cache lacks, the thread computes it into the cache and
/// wakes the loop to redraw. Until then the pane is plain.
struct Highlighting {
    jobs: Sender<crate::highlight::Request>,
    /// Asked for already: not asked again while the thread works on it (nor ever, if the cache
    /// could not keep it).
    asked: std::collections::HashSet<crate::highlight::Key>,
}

impl Highlighting {
    fn start(tx: Sender<Incoming>) -> Highlighting {
        let (jobs, requests) = mpsc::channel::<crate::highlight::Request>();
        // Without the thread the requests go nowhere and the code stays plain; all else works.
        let _ = std::thread::Builder::new()
            .name("highlight".into())
            .spawn(move || {
                for request in requests {
                    request.run();
                    if tx.send(Incoming::Highlighted).is_err() {
                        break;
                    }
                }
            });
        Highlighting {
            jobs,
            asked: Default::default(),
        }
    }

    /// Ask for the code pane's highlight if `app`'s screen shows a source not highlighted yet.
    fn request_shown(&mut self, app: &App) {
        if let Some(request) = ui::code_pane::missing_highlight(app)
            && self.asked.insert(request.key)
        {
            let _ = self.jobs.send(request);
        }
    }
}

fn event_loop(
    app: &mut App,
    terminal: &mut ratatui::DefaultTerminal,
    rx: &Receiver<Incoming>,
    effects: &mut Effects,
    highlighting: &mut Highlighting,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let mut dirty = true;
    let mut areas = ui::PaneAreas::default();
    loop {
        if dirty {
            highlighting.request_shown(app);
            terminal.draw(|frame| {
                areas = ui::layout(app, frame.area());
                ui::render(app, frame);
            })?;
            dirty = false;
        }
        // Idle: block until something happens. Running: wake for the next frame; an interview
        // countdown: wake every second.
        let wake = if effects.running() {
            Some(FRAME)
        } else if app.needs_ticks() {
            Some(Duration::from_secs(1))
        } else {
            None
        };
        let incoming = if let Some(wake) = wake {
            match rx.recv_timeout(wake) {
                Ok(m) => Some(m),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            }
        } else {
            match rx.recv() {
                Ok(m) => Some(m),
                Err(_) => return Ok(()),
            }
        };
        let mut actions = VecDeque::new();
        if wants_tick(app, incoming.as_ref()) {
            actions.push_back(Action::Tick {
                at: started.elapsed(),
                now: crate::progress::Moment::now(),
            });
        }
        match incoming {
            Some(Incoming::Input(e)) => actions.extend(action_for_event(app, &e, &areas)),
            Some(Incoming::Highlighted) => dirty = true,
            Some(Incoming::Action(a)) => actions.push_back(a),
            Some(Incoming::InputClosed) => return Ok(()),
            None => {}
        }
        actions.extend(effects.poll_run());
        dirty |= !actions.is_empty();
        if dispatch(app, effects, actions) == Flow::Quit {
            return Ok(());
        }
    }
}

/// Does the app need the time before `incoming`? Before every key and every result (an answer is
/// stamped when it is given; a scored prediction arrives as a result), and on the countdown's
/// wake-ups; not for a frame of a running demo or a finished highlight, which change nothing
/// that is dated.
fn wants_tick(app: &App, incoming: Option<&Incoming>) -> bool {
    match incoming {
        Some(Incoming::Input(_) | Incoming::Action(_)) => true,
        Some(Incoming::Highlighted | Incoming::InputClosed) => false,
        None => app.needs_ticks(),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Flow {
    Continue,
    Quit,
}

/// Apply `actions` in order and hand each effect to `effects`; an effect's immediate answer
/// (a run that could not start) is applied in turn. Returns without waiting for any run.
fn dispatch(app: &mut App, effects: &mut Effects, mut actions: VecDeque<Action>) -> Flow {
    while let Some(action) = actions.pop_front() {
        match effects.perform(app.update(action), app) {
            Step::Continue => {}
            Step::Then(next) => actions.push_back(next),
            Step::Quit => return Flow::Quit,
        }
    }
    effects.save_if_changed(app);
    Flow::Continue
}

/// The app's key for a terminal key event; keys the app has no use for are `None`.
fn key_from(event: &KeyEvent) -> Option<Key> {
    use crossterm::event::KeyCode as Term;
    let code = match event.code {
        Term::Char(c) => KeyCode::Char(c),
        Term::Enter => KeyCode::Enter,
        Term::Esc => KeyCode::Esc,
        Term::Tab => KeyCode::Tab,
        Term::BackTab => KeyCode::BackTab,
        Term::Backspace => KeyCode::Backspace,
        Term::Up => KeyCode::Up,
        Term::Down => KeyCode::Down,
        Term::Left => KeyCode::Left,
        Term::Right => KeyCode::Right,
        Term::Home => KeyCode::Home,
        Term::End => KeyCode::End,
        Term::PageUp => KeyCode::PageUp,
        Term::PageDown => KeyCode::PageDown,
        _ => return None,
    };
    Some(Key {
        code,
        ctrl: event.modifiers.contains(KeyModifiers::CONTROL),
    })
}

fn action_for_event(app: &App, event: &Event, areas: &ui::PaneAreas) -> Option<Action> {
    match event {
        Event::Key(key) if key.kind != KeyEventKind::Release => {
            keymap::action_for(key_from(key)?, app.focus(), app.takes_text())
        }
        Event::Resize(_, _) => Some(Action::Resize),
        Event::Mouse(m) => {
            let (pane, rect) = areas.pane_at(m.column, m.row)?;
            match m.kind {
                MouseEventKind::ScrollDown => Some(Action::Scroll { pane, down: true }),
                MouseEventKind::ScrollUp => Some(Action::Scroll { pane, down: false }),
                MouseEventKind::Down(MouseButton::Left) => {
                    let row = if pane == Pane::List {
                        let inner = rect.inner(ratatui::layout::Margin::new(1, 1));
                        ui::lesson_list::row_at(app, inner, m.row)
                    } else {
                        None
                    };
                    Some(Action::Click { pane, row })
                }
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests;
