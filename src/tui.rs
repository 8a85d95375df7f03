//! The terminal edge: raw mode and the alternate screen, the event loop, and the effects the app
//! asks for (starting and cancelling demo runs). The terminal is restored on quit, on error and on
//! a panic of this thread; a panic in a demo task never touches the screen (it is recorded in the
//! demo's timeline instead).

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

use crossterm::event::{
    self, DisableMouseCapture, EnableMouseCapture, Event, KeyEvent, KeyEventKind, KeyModifiers,
    MouseButton, MouseEventKind,
};
use crossterm::execute;

use crate::app::{Action, App, Effect, Key, KeyCode, Pane, keymap};
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
    let store = options.data_dir.map(crate::progress::Store::open);
    let mut app = App::new(set, no_color);
    let mut notes: Vec<String> = Vec::new();
    match &store {
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
    if !notes.is_empty() {
        app.message = Some(notes.join(" · "));
    }
    let store = store.map(|o| o.store);
    let console = options.console;
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
    if options.review {
        let _ = app.update(Action::StartReview);
    }
    let result = event_loop(&mut app, &mut terminal, &rx, store.as_ref());
    save(&mut app, store.as_ref());
    result
}

/// Save progress if it changed; a failure is shown, never fatal.
fn save(app: &mut App, store: Option<&crate::progress::Store>) {
    if !app.progress_dirty {
        return;
    }
    app.progress_dirty = false;
    if let Some(store) = store
        && store.can_save()
        && let Err(err) = store.save(&app.progress)
    {
        app.message = Some(err.to_string());
    }
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
    store: Option<&crate::progress::Store>,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
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
        // Idle: block until something happens. Running: wake for the next frame; an interview
        // countdown: wake every second.
        let wake = if run.is_some() {
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
        let mut actions = std::collections::VecDeque::new();
        if app.needs_ticks() || app.screen == crate::app::Screen::Practice {
            actions.push_back(Action::Tick {
                at: started.elapsed(),
            });
        }
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
                    actions.push_back(Action::DemoFinished { runs, error });
                }
            } else if r.version() != seen_version {
                seen_version = r.version();
                actions.push_back(Action::DemoProgress(r.snapshots()));
            }
        }
        while let Some(action) = actions.pop_front() {
            if app.message.is_some()
                && !matches!(action, Action::DemoProgress(_) | Action::Tick { .. })
            {
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
                Effect::ScorePredict { key, typed } => {
                    actions.push_back(Action::PredictScored {
                        result: score_prediction(app, &key, &typed),
                        key,
                    });
                }
            }
        }
        save(app, store);
    }
}

/// Run a prediction's demo on the virtual clock (it finishes at once) and score the guess.
fn score_prediction(
    app: &App,
    key: &crate::practice::ItemKey,
    typed: &str,
) -> Result<crate::practice::PredictScore, String> {
    let Some((_, Some(item))) = key.resolve(&app.lessons) else {
        return Err("this quiz item no longer exists".into());
    };
    let run = crate::practice::run_predict(item).map_err(|e| e.to_string())?;
    crate::practice::score_predict_item(item, typed, &run.measured).map_err(|e| e.to_string())
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
mod tests {
    use super::*;

    #[test]
    fn terminal_keys_become_the_apps_keys() {
        use crossterm::event::KeyCode as Term;
        let key = |code, modifiers| key_from(&KeyEvent::new(code, modifiers));
        assert_eq!(
            key(Term::Char('c'), KeyModifiers::CONTROL),
            Some(Key::ctrl(KeyCode::Char('c')))
        );
        assert_eq!(
            key(Term::Char('R'), KeyModifiers::SHIFT),
            Some(Key::new(KeyCode::Char('R')))
        );
        assert_eq!(
            key(Term::BackTab, KeyModifiers::SHIFT),
            Some(Key::new(KeyCode::BackTab))
        );
        assert_eq!(key(Term::F(1), KeyModifiers::NONE), None);
    }
}
