//! The terminal edge: raw mode and the alternate screen, the event loop, and the effects the app
//! asks for (starting and cancelling demo runs). The terminal is restored on quit, on error and on
//! a panic of this thread; a panic in a demo task never touches the screen (it is recorded in the
//! demo's timeline instead).

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

use crossterm::event::{
    self, DisableMouseCapture, EnableMouseCapture, Event, KeyEventKind, MouseButton, MouseEventKind,
};
use crossterm::execute;

use crate::app::{Action, App, Effect, Pane, keymap};
use crate::demo::DemoRun;
use crate::lesson::LessonSet;
use crate::ui;

/// At most this many frames a second while a demo runs; none at all while idle.
const FRAME: Duration = Duration::from_millis(16);

enum Incoming {
    Input(Event),
    /// Highlighting finished in the background: redraw with colours.
    Highlighted,
    /// The number of connected tokio-console clients changed.
    ConsoleClients(usize),
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

pub fn run(set: LessonSet, console: Option<std::net::SocketAddr>) -> anyhow::Result<()> {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let mut app = App::new(set, no_color);
    let (tx, rx) = mpsc::channel();
    warm_highlighting(&app, tx.clone());
    // Before any demo runtime starts, so the console sees every demo task.
    if let Some(addr) = console {
        let notify = tx.clone();
        let on_clients = Box::new(move |n| {
            let _ = notify.send(Incoming::ConsoleClients(n));
        });
        match crate::console::serve(addr, on_clients) {
            Ok(status) => app.console = Some((status.addr.to_string(), 0)),
            Err(err) => app.message = Some(format!("{err}; continuing without tokio-console")),
        }
    }

    let mut terminal = ratatui::init();
    let _guard = TerminalGuard;
    install_panic_hook();
    execute!(std::io::stdout(), EnableMouseCapture)?;
    spawn_input_thread(tx)?;
    event_loop(&mut app, &mut terminal, &rx)
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

/// Highlight every snippet off the UI thread, once; the code pane shows plain text until then.
fn warm_highlighting(app: &App, tx: Sender<Incoming>) {
    let mut jobs: Vec<(String, crate::lesson::Language)> = Vec::new();
    for l in &app.lessons {
        for s in &l.code {
            jobs.push((s.source.clone(), s.language));
        }
    }
    for d in crate::demo::registry() {
        let (_, region) = crate::demo::source::region(d.spec().source);
        jobs.push((region.to_owned(), crate::lesson::Language::Rust));
    }
    let _ = std::thread::Builder::new()
        .name("highlight".into())
        .spawn(move || {
            for palette in [
                crate::highlight::Palette::Dark,
                crate::highlight::Palette::Light,
            ] {
                for (code, language) in &jobs {
                    crate::highlight::highlight(code, *language, palette);
                }
                let _ = tx.send(Incoming::Highlighted);
            }
        });
}

fn event_loop(
    app: &mut App,
    terminal: &mut ratatui::DefaultTerminal,
    rx: &Receiver<Incoming>,
) -> anyhow::Result<()> {
    let mut run: Option<DemoRun> = None;
    let mut seen_version = u64::MAX;
    let mut dirty = true;
    let mut areas = ui::PaneAreas::default();
    loop {
        if dirty {
            terminal.draw(|frame| {
                areas = ui::layout(app, frame.area());
                ui::render(app, frame);
            })?;
            dirty = false;
        }
        // Idle: block until something happens. Running: wake for the next frame.
        let incoming = if run.is_some() {
            match rx.recv_timeout(FRAME) {
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
        let mut actions = Vec::new();
        match incoming {
            Some(Incoming::Input(e)) => actions.extend(action_for_event(app, &e, &areas)),
            Some(Incoming::Highlighted) => dirty = true,
            Some(Incoming::ConsoleClients(n)) => {
                if let Some(c) = &mut app.console {
                    c.1 = n;
                }
                dirty = true;
            }
            Some(Incoming::InputClosed) => return Ok(()),
            None => {}
        }
        if let Some(r) = &run {
            if r.is_finished() {
                if let Some(done) = run.take() {
                    let report = done.wait();
                    let error = report.runs.iter().find_map(|v| v.error.clone());
                    let runs = report
                        .runs
                        .into_iter()
                        .map(|v| (v.variant, v.timeline, v.total_ms))
                        .collect();
                    actions.push(Action::DemoFinished { runs, error });
                }
            } else if r.version() != seen_version {
                seen_version = r.version();
                actions.push(Action::DemoProgress(r.snapshots()));
            }
        }
        for action in actions {
            if app.message.is_some() && !matches!(action, Action::DemoProgress(_)) {
                app.message = None;
            }
            dirty = true;
            match app.update(action) {
                Effect::None => {}
                Effect::Quit => return Ok(()),
                Effect::StartRun(req) => match DemoRun::start(req) {
                    Ok(r) => {
                        seen_version = u64::MAX;
                        run = Some(r);
                    }
                    Err(e) => app.message = Some(format!("could not start the demo: {e}")),
                },
                Effect::CancelRun => {
                    if let Some(r) = &run {
                        r.cancel();
                    }
                }
            }
        }
    }
}

fn action_for_event(app: &App, event: &Event, areas: &ui::PaneAreas) -> Option<Action> {
    match event {
        Event::Key(key) if key.kind != KeyEventKind::Release => {
            let filtering = app.browser.filtering && app.lesson.is_none();
            keymap::action_for(*key, app.focus(), filtering)
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
